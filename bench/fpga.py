"""FPGA benchmark of the RTL systolic array (fpga/rtl): synthesis, place-and-route and
bitstream with open tools, the cycle model against Verilator on real plans, PE
utilization of a 25-qubit plan, a precision study of the block-floating-point format,
and a side-by-side table. Nothing here runs on a physical board; every figure says
where it comes from: "cycle-simulated (Verilator)", "synthesized (yosys counts)",
"placed and routed (nextpnr timing)", "modelled" or "published".

Usage: python bench/fpga.py [--sections synth,xilinx,calib,util,precision] [--quick]
(make fpga-bench installs the tools and runs all sections).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import cirq
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine_info, print_machine, write_results  # noqa: E402

import qtn  # noqa: E402
from qtn.backends.rtl import RTLBackend  # noqa: E402
from qtn.fpga import board_time, boards, formats, synth  # noqa: E402
from qtn.fpga.descriptors import GemmDesc  # noqa: E402
from qtn.fpga.rtl_array import array_for_board  # noqa: E402
from qtn.fpga.rtl_sim import ArrayConfig, find_verilator  # noqa: E402

BUILD = Path(__file__).resolve().parent.parent / "build" / "fpga-bench"
#: Alveo fabric totals not in the board profiles (LUT, FF), from the data sheets.
ALVEO_FABRIC = {
    "u250": {"LUT": 1_728_000, "FF": 3_456_000, "source": "DS962 Alveo U200/U250 data sheet"},
    "u280": {"LUT": 1_304_000, "FF": 2_607_000, "source": "DS963 Alveo U280 data sheet"},
}
#: Published reference points (not re-measured here).
GEMM_HLS_GFLOPS = 301.0   # de Fine Licht et al., FPGA'20, fp32 on a VCU1525
LEVENTAL = "Levental 2021 (arXiv:2108.06831): 4x4 Chisel systolic array, Verilator cycle simulation"


def grid(rows: int, cols: int, depth: int, seed: int = 0) -> cirq.Circuit:
    q = cirq.GridQubit.rect(rows, cols)
    return cirq.experiments.random_rotations_between_grid_interaction_layers_circuit(q, depth=depth, seed=seed)


from qtn.generators import ghz, qft  # noqa: E402  (QFT after H and T layers: not a product state)


# --- synthesis -------------------------------------------------------------------------

def section_synth(out: dict[str, Any], quick: bool) -> None:
    board = boards.load_board("ecp5_85f")
    cfg = array_for_board(board)
    params = {"PE_M": cfg.pe_m, "PE_N": cfg.pe_n, "MW": cfg.fmt.mantissa_bits, "AW": cfg.fmt.acc_bits}
    work = BUILD / "ecp5"
    print(f"ECP5: synth_ecp5 of the {cfg.pe_m}x{cfg.pe_n} array ...", flush=True)
    syn = synth.synthesize("ecp5", "qtn_ecp5_top", params, work)
    print(f"  yosys cells: {syn['cells']}  ({syn['seconds']} s)")
    pnr = synth.place_and_route_ecp5(syn["netlist"], work, freq_mhz=board.kernel_clock_hz / 1e6)
    print(f"  nextpnr Fmax {pnr['fmax_mhz']:.1f} MHz at target {pnr['target_mhz']} MHz "
          f"(timing {'met' if pnr['timing_met'] else 'NOT met'}), bitstream {pnr['bitstream_bytes']} bytes")
    result = {"board": "ecp5_85f", "device": board.device, "array": params, "synthesis": syn, "pnr": pnr,
              "tools": {t: synth.version(t) for t in ("yosys", "nextpnr-ecp5")},
              "label": "synthesized (yosys counts), placed and routed (nextpnr timing); not run on a board"}
    synth.save_synthesis("ecp5_85f", result)
    out["ecp5"] = result


def section_xilinx(out: dict[str, Any], quick: bool) -> None:
    """synth_xilinx of a small array; per-PE counts scaled to the size each board gets."""
    pe = 2 if quick else 4
    params = {"PE_M": pe, "PE_N": pe, "MW": 18, "AW": 54}
    print(f"Alveo: synth_xilinx -family xcup of a {pe}x{pe} array ...", flush=True)
    syn = synth.synthesize("xcup", "qtn_ecp5_top", params, BUILD / "xcup")
    cells = syn["cells"]
    kinds = {"DSP48E2": ["DSP48E2"], "LUT": [k for k in cells if k.startswith("LUT")],
             "FF": [k for k in cells if k.startswith("FD")], "BRAM": ["RAMB36E2", "RAMB18E2"], "URAM": ["URAM288"]}
    measured = {kind: sum(cells.get(c, 0) for c in names) for kind, names in kinds.items()}
    print(f"  yosys counts for {pe}x{pe}: {measured}")
    per_pe = {k: v / (pe * pe) for k, v in measured.items()}
    rows = {}
    for name in ("u250", "u280"):
        b = boards.load_board(name)
        cfg = array_for_board(b)
        n = cfg.pe_m * cfg.pe_n
        totals = {"DSP48E2": b.dsp_count, "LUT": ALVEO_FABRIC[name]["LUT"], "FF": ALVEO_FABRIC[name]["FF"],
                  "BRAM": next((m.count for m in b.on_chip if m.kind == "bram36"), 0),
                  "URAM": next((m.count for m in b.on_chip if m.kind == "uram"), 0)}
        est = {k: round(per_pe[k] * n) for k in per_pe}
        rows[name] = {"board": name, "array": f"{cfg.pe_m}x{cfg.pe_n}", "estimate": est, "device_totals": totals,
                      "fraction": {k: (est[k] / totals[k] if totals[k] else None) for k in est},
                      "clock_mhz_assumed": b.kernel_clock_hz / 1e6, "totals_source": ALVEO_FABRIC[name]["source"]}
        print(f"  {name} {cfg.pe_m}x{cfg.pe_n}: " + ", ".join(f"{k} {est[k]}/{totals[k]}" for k in est)
              + f"; clock {b.kernel_clock_hz / 1e6:g} MHz is the profile's assumption (no Xilinx place-and-route here)")
    for name, row in rows.items():
        synth.save_synthesis(name, {**row, "pnr": None, "label": "yosys synth_xilinx counts scaled per PE; clock assumed"})
    out["xilinx"] = {"synthesized_array": params, "synthesis": syn, "per_pe": per_pe, "boards": rows,
                     "tools": {"yosys": synth.version("yosys")},
                     "label": f"synthesized (yosys synth_xilinx counts) at {pe}x{pe}, scaled linearly per PE "
                              "to each board's array (extrapolated, not synthesized at that size); clock assumed"}


# --- cycles ----------------------------------------------------------------------------

def _gemm_cycle_errors(be: RTLBackend) -> tuple[list[float], list[int], list[int]]:
    errs, sim_all, mod_all = [], [], []
    for descs, run in be.runs:
        model = board_time.rtl_cycles(descs, be.config.pe_m, be.config.pe_n, be.config.lanes)
        tags = [i for i, d in enumerate(descs) if isinstance(d, GemmDesc)]
        sim = np.diff([0] + [int(run.done[t]) for t in tags])
        errs += list((np.array(model.gemm_cycles) - sim) / sim)
        sim_all.append(run.cycles)
        mod_all.append(model.cycles)
    return errs, sim_all, mod_all


def section_calib(out: dict[str, Any], quick: bool) -> None:
    cfg = array_for_board("ecp5_85f")
    # GHZ as a state vector: its single amplitudes simplify to a scalar without any GEMM
    plans = {"grid 3x4 depth 10 (12 q)": grid(3, 4, 10), "grid 4x4 depth 10 (16 q)": grid(4, 4, 10),
             "QFT-12": qft(12), "GHZ-12 state vector": ghz(12)}
    if not quick:
        plans["grid 4x5 depth 14 (20 q)"] = grid(4, 5, 14)
    rows = {}
    for name, circuit in plans.items():
        be = RTLBackend(cfg)
        be.keep_runs = True
        t0 = time.perf_counter()
        if "state vector" in name:
            amps = qtn.state_vector(circuit, backend=be, dtype=np.complex128)
            ref = cirq.final_state_vector(circuit, qubit_order=sorted(circuit.all_qubits()))
        else:
            amps = qtn.amplitudes(circuit, bitstrings=[0, 1], backend=be, dtype=np.complex128)
            ref = cirq.final_state_vector(circuit, qubit_order=sorted(circuit.all_qubits()))[[0, 1]] \
                if len(circuit.all_qubits()) <= 20 else None
        wall = time.perf_counter() - t0
        errs, sim, mod = _gemm_cycle_errors(be)
        st = be.stats()
        rows[name] = {
            "gemms": st["gemms"], "descriptors": st["descriptors"], "simulated_cycles": int(sum(sim)),
            "modelled_cycles": int(sum(mod)), "plan_rel_error": (sum(mod) - sum(sim)) / max(1, sum(sim)),
            "gemm_rel_error_max": float(np.max(np.abs(errs))) if errs else None, "utilization": st["utilization"],
            "median_gemm_mkn": [int(np.median([getattr(d, f) for descs, _ in be.runs for d in descs
                                                if isinstance(d, GemmDesc)])) for f in ("m", "k", "n")],
            "amp_error_vs_cirq": None if ref is None else float(np.max(np.abs(np.asarray(amps) - ref))),
            "verilator_wall_s": round(wall, 2),
        }
        r = rows[name]
        print(f"  {name}: {r['gemms']} GEMMs, cycles simulated {r['simulated_cycles']} / modelled "
              f"{r['modelled_cycles']} ({100 * r['plan_rel_error']:+.2f} %), worst GEMM "
              f"{100 * (r['gemm_rel_error_max'] or 0):.2f} %, median (m, k, n) {r['median_gemm_mkn']}, utilization {100 * r['utilization']:.1f} %, "
              f"|amp - Cirq| {r['amp_error_vs_cirq']}", flush=True)
    out["calibration"] = {"array": f"{cfg.pe_m}x{cfg.pe_n}", "plans": rows,
                          "label": "cycle-simulated (Verilator) vs modelled (qtn.fpga.board_time.rtl_cycles)"}


def _verilate_plan(circuit: cirq.Circuit, cfg: ArrayConfig, mem_words: int) -> tuple[dict[str, Any], list[Any]]:
    be = RTLBackend(cfg, mem_words=mem_words)
    be.keep_runs = True
    t0 = time.perf_counter()
    qtn.amplitudes(circuit, bitstrings=[0], backend=be)
    errs, s, m = _gemm_cycle_errors(be)
    row = {"array": f"{cfg.pe_m}x{cfg.pe_n}", "perm_lanes": cfg.lanes, "simulated_cycles": int(sum(s)),
           "modelled_cycles": int(sum(m)), "plan_rel_error": (sum(m) - sum(s)) / sum(s),
           "utilization": be.stats()["utilization"], "gemm_rel_error_max": float(np.max(np.abs(errs))),
           "verilator_wall_s": round(time.perf_counter() - t0, 1),
           "label": "cycle-simulated (Verilator), every word checked against the bit-exact model"}
    return row, [d for run in be.runs for d in run[0]]


def section_util(out: dict[str, Any], quick: bool) -> None:
    """PE utilization of a 25-qubit plan streamed back to back: the permute unit one
    element wide (PL = 1, the unit before the wide one) and PL = pe_n wide, on the same
    descriptors, for the card memory the rtl backend has by default (the plan is sliced
    to fit it) and for a card memory that holds the unsliced plan. The ECP5 array is
    also Verilated whole at both widths (not in --quick)."""
    from qtn.fpga.plan_cycles import synthesized_clock

    circuit = grid(5, 5, 12) if not quick else grid(4, 5, 12)
    plan = qtn.plan(circuit)
    cases = {"default card memory (4 Mi words, sliced)": 1 << 22, "16 Mi-word card memory (unsliced)": 1 << 24}
    result: dict[str, Any] = {"circuit": f"{len(circuit.all_qubits())}-qubit grid depth 12", "plan_gemms": len(plan.gemms),
                              "flops": plan.flops, "cases": {},
                              "hls_schedule_utilization_qtn_plan": {name: board_time.hls_schedule_utilization(plan.gemms, name)
                                                                    for name in ("u280", "ecp5_85f")},
                              "rtl_label": "modelled cycles (qtn.fpga.board_time.rtl_cycles, calibrated against Verilator)",
                              "hls_label": "modelled (HLS kernel's schedule from qtn.fpga.board_time.hls_gemm_cycles)"}
    for case, words in cases.items():
        model_be = RTLBackend(engine="model", mem_words=words)
        model_be.keep_runs = True
        qtn.amplitudes(circuit, bitstrings=[0], backend=model_be)
        descs = [d for run in model_be.runs for d in run[0]]
        gemms = [d for d in descs if isinstance(d, GemmDesc)]
        rows = {}
        for name in ("ecp5_85f", "u280"):
            cfg = array_for_board(name)
            fmax, _, clock, label = synthesized_clock(name, cfg)
            for lanes in (1, cfg.lanes):
                cyc = board_time.rtl_cycles(descs, cfg.pe_m, cfg.pe_n, lanes)
                rows[f"{name} PL={lanes}"] = {
                    "board": name, "array": f"{cfg.pe_m}x{cfg.pe_n}", "perm_lanes": lanes,
                    "modelled_cycles": cyc.cycles, "utilization": cyc.utilization, "clock_mhz": clock,
                    "fmax_mhz": fmax, "board_time_s": cyc.cycles / (clock * 1e6),
                    "peak_gflops": 8 * cfg.pe_m * cfg.pe_n * clock / 1e3,
                    "achieved_gflops": 8 * cyc.useful_macs / (cyc.cycles / (clock * 1e6)) / 1e9, "label": label}
        hls = {name: board_time.hls_schedule_utilization(gemms, name) for name in ("u280", "ecp5_85f")}
        sims = {}
        if not quick:
            base = array_for_board("ecp5_85f")
            for lanes in (1, base.lanes):
                row, sim_descs = _verilate_plan(circuit, ArrayConfig(base.pe_m, base.pe_n, base.fmt, lanes), words)
                row["same_descriptors_as_model_rows"] = sim_descs == descs
                sims[f"ecp5_85f PL={lanes}"] = row
        result["cases"][case] = {"gemms": len(gemms), "runs": len(model_be.runs), "rtl": rows,
                                 "rtl_verilated_ecp5": sims, "hls_schedule_utilization_same_gemms": hls}
        print(f"  {result['circuit']}, {case}: {len(gemms)} GEMMs in {len(model_be.runs)} runs; RTL utilization "
              + ", ".join(f"{k} {100 * v['utilization']:.1f} %" for k, v in rows.items())
              + "; Verilated " + ", ".join(f"{k} {100 * v['utilization']:.1f} % ({v['simulated_cycles']} cycles, model "
                                          f"{100 * v['plan_rel_error']:+.2f} %, worst GEMM {100 * v['gemm_rel_error_max']:.2f} %)"
                                          for k, v in sims.items())
              + "; HLS schedule (same GEMMs) " + ", ".join(f"{k} {100 * v:.1f} %" for k, v in hls.items()), flush=True)
    out["utilization"] = result


def section_precision(out: dict[str, Any], quick: bool) -> None:
    circuits = {"grid 4x5 depth 14 (20 q)": grid(4, 5, 14), "QFT-20": qft(20),
                "53-qubit grid depth 4": grid(6, 9, 4)}
    if quick:
        circuits = {"grid 3x4 depth 8": grid(3, 4, 8), "QFT-10": qft(10)}
    widths = [12, 16, 18, 24]
    bits = [0, 1, 2, 3, 5, 8, 13, 21]
    rows: dict[str, dict[int, float]] = {}
    for name, circuit in circuits.items():
        ref = np.asarray(qtn.amplitudes(circuit, bitstrings=bits, dtype=np.complex128))
        rows[name] = {}
        for w in widths:
            be = RTLBackend(ArrayConfig(4, 4, formats.BfpFormat(w, min(63, 2 * w + 15))), engine="model")
            got = np.asarray(qtn.amplitudes(circuit, bitstrings=bits, backend=be, dtype=np.complex128))
            rows[name][w] = float(np.linalg.norm(got - ref) / np.linalg.norm(ref))
        print(f"  {name}: " + ", ".join(f"{w} bits {e:.2e}" for w, e in rows[name].items()), flush=True)
    need = {name: next((w for w in widths if e[w] < 1e-3), None) for name, e in rows.items()}
    out["precision"] = {"widths": widths, "relative_error": rows, "width_for_1e-3": need,
                        "label": "bit-exact model of the RTL datapath vs complex128 NumPy (relative 2-norm over "
                                 f"{len(bits)} amplitudes)"}
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(5, 3.5))
        for name, e in rows.items():
            ax.semilogy(widths, [e[w] for w in widths], "o-", label=name)
        ax.axhline(1e-3, color="gray", ls="--", lw=0.8)
        ax.set_xlabel("mantissa bits")
        ax.set_ylabel("relative amplitude error")
        ax.set_title("RTL block floating point vs complex128")
        ax.legend(fontsize=7)
        fig.tight_layout()
        path = Path(__file__).resolve().parent / "plots" / "fpga_precision.png"
        fig.savefig(path, dpi=120)
        out["precision"]["plot"] = str(path.relative_to(path.parent.parent))
    except ImportError:
        pass


def side_by_side(out: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for case, c in out.get("utilization", {}).get("cases", {}).items():
        for name, r in c["rtl"].items():
            rows.append({"design": f"qtn RTL {r['array']} on {name}, {case}", "peak_gflops": r["peak_gflops"],
                         "achieved_gflops": r["achieved_gflops"], "clock_mhz": r["clock_mhz"],
                         "label": r["label"] + "; BFP-18 flops (8 per complex MAC), 25-qubit plan"})
    rows.append({"design": "gemm_hls (de Fine Licht et al., FPGA'20), VCU1525", "peak_gflops": None,
                 "achieved_gflops": GEMM_HLS_GFLOPS, "clock_mhz": None,
                 "label": "published, fp32, large dense GEMM on hardware"})
    rows.append({"design": LEVENTAL, "peak_gflops": None, "achieved_gflops": None, "clock_mhz": None,
                 "label": "published; cycle simulation only, no clock or GFLOP/s reported that we restate"})
    for r in rows:
        pk = "-" if r["peak_gflops"] is None else f"{r['peak_gflops']:.1f}"
        ac = "-" if r["achieved_gflops"] is None else f"{r['achieved_gflops']:.2f}"
        print(f"  {r['design']:<60} peak {pk:>8}  achieved {ac:>8}  [{r['label']}]")
    return rows


SECTIONS = {"synth": section_synth, "xilinx": section_xilinx, "calib": section_calib, "util": section_util,
            "precision": section_precision}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sections", default=",".join(SECTIONS))
    ap.add_argument("--quick", action="store_true", help="small sizes (smoke test)")
    args = ap.parse_args()
    info = machine_info()
    print_machine(info)
    print("note: the machine is shared with other jobs; nothing here runs on a physical FPGA board")
    verilator = find_verilator()
    out: dict[str, Any] = {"machine": info, "verilator": verilator, "sections": args.sections, "quick": args.quick,
                           "command": " ".join(sys.argv)}
    for name in args.sections.split(","):
        print(f"[{name}]", flush=True)
        t0 = time.perf_counter()
        SECTIONS[name](out, args.quick)
        out.setdefault("seconds", {})[name] = round(time.perf_counter() - t0, 1)
    if "utilization" in out:
        print("[side by side]")
        out["side_by_side"] = side_by_side(out)
    print(f"results: {write_results('fpga', out)}")


if __name__ == "__main__":
    main()
