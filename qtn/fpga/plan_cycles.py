"""Cycles of a circuit's contraction on the RTL array: modelled for the whole plan,
Verilated for the whole plan when it is small enough, else for a stated sample of its
GEMMs (each with its operand permutes, on its own: the array's cycle counts do not
depend on the data). Used by ``qtn fpga``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import board_time, boards, synth
from .descriptors import GemmDesc, card_extent
from .rtl_array import array_for_board
from .rtl_sim import ArrayConfig, VerilatedCard

#: Plans of at most this many modelled cycles are Verilated whole.
MAX_SIMULATED_CYCLES = 2_000_000


@dataclass
class PlanCycles:
    """Modelled and simulated cycles of one plan on one array (see :func:`plan_cycles`)."""

    board: str
    array: ArrayConfig
    gemms: int
    modelled_cycles: int
    simulated_cycles: int | None
    simulated_scope: str
    modelled_of_simulated: int | None
    useful_macs: int
    fmax_mhz: float | None
    clock_mhz: float
    resources: dict[str, Any] | None
    label: str
    gemm_rel_errors: list[float] = field(default_factory=list)

    @property
    def relative_error(self) -> float | None:
        if not self.simulated_cycles:
            return None
        return (self.modelled_of_simulated - self.simulated_cycles) / self.simulated_cycles

    @property
    def utilization(self) -> float:
        pes = self.array.pe_m * self.array.pe_n
        return self.useful_macs / (self.modelled_cycles * pes) if self.modelled_cycles else 0.0

    @property
    def board_time_s(self) -> float:
        return self.modelled_cycles / (self.clock_mhz * 1e6)

    def as_dict(self) -> dict[str, Any]:
        return {
            "board": self.board, "array": f"{self.array.pe_m}x{self.array.pe_n}", "perm_lanes": self.array.lanes,
            "mantissa_bits": self.array.fmt.mantissa_bits, "gemms": self.gemms,
            "simulated_cycles": self.simulated_cycles, "simulated_scope": self.simulated_scope,
            "modelled_cycles": self.modelled_cycles, "modelled_cycles_of_simulated": self.modelled_of_simulated,
            "relative_error": self.relative_error,
            "max_gemm_relative_error": max((abs(e) for e in self.gemm_rel_errors), default=None),
            "fmax_mhz": self.fmax_mhz, "clock_mhz": self.clock_mhz, "resources": self.resources,
            "board_time_s": self.board_time_s, "label": self.label, "utilization": self.utilization,
        }


def _descriptor_runs(circuit: Any, config: ArrayConfig, **kwargs: Any) -> list[list[Any]]:
    import qtn
    from ..backends.rtl import RTLBackend

    be = RTLBackend(config, engine="model")
    be.keep_runs = True
    qtn.amplitudes(circuit, bitstrings=[0], backend=be, **kwargs)
    return [descs for descs, _ in be.runs]


def plan_cycles(circuit: Any, board: str, config: ArrayConfig | None = None, sample: int = 8,
                max_simulated_cycles: int = MAX_SIMULATED_CYCLES, **kwargs: Any) -> PlanCycles:
    """Model (and Verilate, whole or sampled) the amplitude contraction of ``circuit``.

    Args:
        circuit: a ``cirq.Circuit``.
        board: board profile name; its array is :func:`array_for_board` unless ``config``.
        config: override the array (e.g. a 2 x 2 for a quick simulation).
        sample: GEMMs Verilated when the plan is too long to simulate whole.
        max_simulated_cycles: the longest plan (modelled cycles) Verilated whole.
        kwargs: passed to ``qtn.amplitudes`` (``max_memory``, ``optimize``, ...).
    """
    prof = boards.load_board(board)
    config = config or array_for_board(prof)
    runs = _descriptor_runs(circuit, config, **kwargs)
    pm, pn = config.pe_m, config.pe_n
    models = [board_time.rtl_cycles(descs, pm, pn, config.lanes) for descs in runs]
    modelled = sum(m.cycles for m in models)
    macs = sum(m.useful_macs for m in models)
    n_gemms = sum(len(m.gemm_cycles) for m in models)
    # the simulated card holds every word any descriptor reads or writes (sources too)
    extents = [card_extent(descs) for descs in runs if descs]
    mem = max((e[0] for e in extents), default=1)
    xmem = max((e[1] for e in extents), default=1)
    errors: list[float] = []
    if modelled <= max_simulated_cycles:
        card = VerilatedCard(config, mem, xmem)
        simulated = 0
        for descs, model in zip(runs, models):
            res = card.run(descs)
            simulated += res.cycles
            tags = [i for i, d in enumerate(descs) if isinstance(d, GemmDesc)]
            sim = np.diff([0] + [int(res.done[t]) for t in tags])
            errors += list((np.array(model.gemm_cycles) - sim) / sim)
        scope, modelled_of_sim = f"whole plan ({len(runs)} run(s))", modelled
    else:
        card = VerilatedCard(config, mem, xmem)
        flat = [descs for descs in runs]
        segments = []
        for descs in flat:
            start = 0
            for i, d in enumerate(descs):
                if isinstance(d, GemmDesc):
                    segments.append(descs[start:i + 1])
                    start = i + 1
        picks = np.unique(np.linspace(0, len(segments) - 1, min(sample, len(segments))).astype(int))
        simulated = modelled_of_sim = 0
        for p in picks:
            seg = [_retag(d, j) for j, d in enumerate(segments[p])]
            res = card.run(seg)
            mod = board_time.rtl_cycles(seg, pm, pn, config.lanes)
            simulated += res.cycles
            modelled_of_sim += mod.cycles
            errors.append((mod.cycles - res.cycles) / res.cycles)
        scope = f"sample of {len(picks)} of {len(segments)} GEMMs (each with its permutes, Verilated on its own)"
    fmax, resources, clock, label = synthesized_clock(board, config)
    return PlanCycles(board, config, n_gemms, modelled, simulated, scope, modelled_of_sim, macs, fmax, clock,
                      resources, label, errors)


def synthesized_clock(board: str, config: ArrayConfig) -> tuple[float | None, dict[str, Any] | None, float, str]:
    """(Fmax, resources, clock, label) for ``config`` on ``board``: the last synthesis
    run's nextpnr Fmax and resources only if it placed and routed this very array size
    (``PE_M x PE_N``); otherwise the profile's assumed clock, labelled as such."""
    prof = boards.load_board(board)
    last = synth.last_synthesis(board) or {}
    arr = last.get("array") or {}
    same = isinstance(arr, dict) and (arr.get("PE_M"), arr.get("PE_N")) == (config.pe_m, config.pe_n)
    if isinstance(arr, str):  # Alveo rows store "MxN"
        same = arr == f"{config.pe_m}x{config.pe_n}"
    fmax = (last.get("pnr") or {}).get("fmax_mhz") if same else None
    resources = ((last.get("pnr") or {}).get("utilization") or last.get("estimate")) if same else None
    if fmax:
        return fmax, resources, fmax, (f"modelled cycles (calibrated against Verilator, error above) at nextpnr Fmax "
                                       f"{fmax:.1f} MHz of this {config.pe_m}x{config.pe_n} array; not run on a board")
    clock = prof.kernel_clock_hz / 1e6
    why = "" if same or not last else (f" (the last synthesis was of a {arr.get('PE_M') if isinstance(arr, dict) else arr}"
                                       f"{'x' + str(arr.get('PE_N')) if isinstance(arr, dict) else ''} array, "
                                       "not this one)")
    return None, resources, clock, (f"cycles modelled (calibrated against Verilator) at the profile's assumed {clock:g} "
                                    f"MHz clock{why} - modelled, not measured")


def _retag(d: Any, tag: int) -> Any:
    import dataclasses

    return dataclasses.replace(d, tag=tag)
