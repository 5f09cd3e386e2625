"""The modelled (never measured) time of a plan's GEMMs on an FPGA board.

A roofline-style estimate from the board profile and the GEMM tiles of
:mod:`qtn.fpga.boards`: compute cycles of the PE array at the kernel clock, off-chip panel
traffic at the memory's peak bandwidth, and host transfers over PCIe. Every figure
it reports says "modelled".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable, Protocol

import numpy as np

from .boards import PASS_OVERHEAD_CYCLES, Board, _complex_dtype, gemm_tiles, load_board

class _GemmLike(Protocol):
    batch: int
    m: int
    k: int
    n: int


def _format_seconds(seconds: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds * 1e9:.3g} ns"


@dataclass(frozen=True)
class BoardTime:
    """A modelled (not measured) time of a plan on one board; seconds are totals over
    all slices. ``total_s`` is the sum over GEMMs of ``max(compute, off-chip)`` (the
    kernel overlaps panel transfers with compute) plus PCIe (host transfers do not
    overlap the kernel), so it is at least ``pcie_s`` and at most
    ``compute_s + offchip_s + pcie_s``."""

    board: str
    dtype: str
    compute_s: float
    offchip_s: float
    pcie_s: float
    total_s: float
    tile_passes: int
    n_slices: int
    flops: int
    host_permute_s: float = 0.0

    def report(self) -> str:
        """One line that says the figure is modelled."""
        return (
            f"modelled {self.board} time: {_format_seconds(self.total_s)} "
            f"(compute {_format_seconds(self.compute_s)}, off-chip {_format_seconds(self.offchip_s)}, "
            f"PCIe {_format_seconds(self.pcie_s)} (host permutes {_format_seconds(self.host_permute_s)}); "
            f"{self.tile_passes} tile passes, "
            f"{self.n_slices} slice(s), {self.dtype}) - not measured"
        )

    def __str__(self) -> str:
        return self.report()


def _nonneg_int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{what} must be a non-negative integer, got {value!r}")
    return int(value)


def hls_gemm_cycles(batch: int, m: int, k: int, n: int, tiles: Any) -> tuple[int, int]:
    """(compute cycles, tile passes) of one GEMM in the HLS kernel's schedule: rows
    padded to ``pe_m``, columns to ``pe_n * interleave``, ``PASS_OVERHEAD_CYCLES`` per
    tile pass."""
    passes = batch * -(-m // tiles.tile_m) * -(-n // tiles.tile_n) * -(-k // tiles.tile_k)
    col_block = tiles.pe_n * tiles.interleave
    cycles = batch * -(-m // tiles.pe_m) * (-(-n // col_block) * tiles.interleave) * k
    return cycles + passes * PASS_OVERHEAD_CYCLES, passes


def opencl_gemm_cycles(batch: int, m: int, k: int, n: int, tiles: Any) -> tuple[int, int]:
    """(compute cycles, tile passes) of one GEMM in the OpenCL kernel ``cgemm.cl`` built
    with a board's macros (the Intel boards): the PE array's cycles as in
    :func:`hls_gemm_cycles`, plus the staging of every tile pass. The kernel is one
    work-item whose loops run one after another, so it copies each K panel's A and B
    tiles into local memory, ``(tile_m + tile_n) * tile_k`` elements at one per cycle
    (rows past the GEMM's edge are zero-filled, so whole tiles), before their
    multiply-adds start: not overlapped with them."""
    cycles, passes = hls_gemm_cycles(batch, m, k, n, tiles)
    return cycles + passes * (tiles.tile_m + tiles.tile_n) * tiles.tile_k, passes


def opencl_offchip_elements(batch: int, m: int, k: int, n: int, tiles: Any) -> int:
    """Off-chip elements one GEMM moves in the OpenCL kernel with a board's macros
    (``C_LOCAL`` 0): A re-read once per column of output tiles, B once per row of output
    tiles, and C read and written once per K panel, since each pass adds its panel's
    contribution to C in global memory (the first panel only writes): ``2 * panels - 1``
    times ``m * n``."""
    panels = -(-k // tiles.tile_k)
    return batch * (m * k * -(-n // tiles.tile_n) + k * n * -(-m // tiles.tile_m) + (2 * panels - 1) * m * n)


def runs_opencl_kernel(board: Board) -> bool:
    """Whether the board runs the OpenCL kernel (Intel's SDK) rather than the HLS one."""
    return board.vendor == "intel"


def hls_schedule_utilization(gemms: Iterable[_GemmLike], board: "Board | str", dtype: Any = np.complex64) -> float:
    """Useful complex MACs per PE cycle of the HLS kernel's schedule (modelled) on ``board``."""
    tiles = gemm_tiles(board, dtype)
    macs = cycles = 0
    for g in gemms:
        macs += g.batch * g.m * g.k * g.n
        cycles += hls_gemm_cycles(g.batch, g.m, g.k, g.n, tiles)[0]
    return macs / (cycles * tiles.pe_m * tiles.pe_n) if cycles else 0.0


def modelled_time(
    gemms: Iterable[_GemmLike],
    n_slices: int,
    host_bytes_in: int,
    host_bytes_out: int,
    board: "Board | str",
    dtype: Any = np.complex64,
    host_permute_bytes: int = 0,
) -> BoardTime:
    """Model the board time of a sliced plan.

    Per GEMM ``(batch, m, k, n)`` of one slice, with the tiles of :func:`gemm_tiles`:

    * compute: the PE array does one ``pe_m x pe_n`` block of CMACs per cycle; rows
      are padded to ``pe_m`` and columns to ``pe_n * ACC_INTERLEAVE`` (padding waste of
      partial tiles), ``k`` is not padded; each tile pass (one output tile times one
      K panel) adds ``PASS_OVERHEAD_CYCLES``. Cycles run at the kernel clock. On the
      Intel boards (the OpenCL kernel) each tile pass also stages its A and B tiles
      first (:func:`opencl_gemm_cycles`).
    * off-chip: A is re-read once per column of output tiles, B once per row of output
      tiles, C written once (HLS kernel: the output tile stays on chip) or, on the
      Intel boards, read and written once per K panel (:func:`opencl_offchip_elements`),
      at the off-chip peak bandwidth.
    * the two overlap (``max``) within a GEMM; GEMMs run one after another.

    PCIe moves ``host_bytes_in`` to and ``host_bytes_out`` from the card once per slice
    at the link's per-direction bandwidth, not overlapped with the kernel. The ``hls``
    kernel has no permute: every operand it permutes goes to the host and back, so
    ``host_permute_bytes`` (see :func:`host_permute_bytes`) cross PCIe both ways per
    slice, also not overlapped. Kernel launch latency is not modelled.

    Args:
        gemms: the GEMMs of ONE slice; anything with ``batch, m, k, n`` attributes
            (e.g. :class:`qtn.gemm.GemmSpec`).
        n_slices: how many slices run (each repeats the GEMMs and the PCIe traffic).
        host_bytes_in: bytes copied host -> card per slice.
        host_bytes_out: bytes copied card -> host per slice.
        board: a :class:`Board` or board name.
        dtype: ``complex64`` (default) or ``complex128``.
        host_permute_bytes: bytes of operands permuted on the host per slice.

    Returns:
        The :class:`BoardTime` (totals over all slices).

    Raises:
        ValueError: a negative or non-integer size, slice count or byte count.
        TypeError: a dtype other than complex64 / complex128.
    """
    if not isinstance(board, Board):
        board = load_board(board)
    dt = _complex_dtype(dtype)
    tiles = gemm_tiles(board, dt)
    n_slices = _nonneg_int(n_slices, "n_slices")
    bytes_in = _nonneg_int(host_bytes_in, "host_bytes_in")
    bytes_out = _nonneg_int(host_bytes_out, "host_bytes_out")
    permute_bytes = _nonneg_int(host_permute_bytes, "host_permute_bytes")
    compute = offchip = overlapped = 0.0
    passes = flops = 0
    opencl = runs_opencl_kernel(board)
    for g in gemms:
        batch, m, k, n = (_nonneg_int(getattr(g, f), f"GEMM {f}") for f in ("batch", "m", "k", "n"))
        if opencl:
            cycles, g_passes = opencl_gemm_cycles(batch, m, k, n, tiles)
            moved = dt.itemsize * opencl_offchip_elements(batch, m, k, n, tiles)
        else:
            cycles, g_passes = hls_gemm_cycles(batch, m, k, n, tiles)
            moved = dt.itemsize * batch * (
                m * k * -(-n // tiles.tile_n) + k * n * -(-m // tiles.tile_m) + m * n
            )
        c_s = cycles / board.kernel_clock_hz
        o_s = moved / board.off_chip.bandwidth_bytes_per_s
        compute += c_s
        offchip += o_s
        overlapped += max(c_s, o_s)
        passes += g_passes
        flops += 8 * batch * m * k * n
    permute = 2 * permute_bytes / board.pcie.bandwidth_bytes_per_s
    pcie = (bytes_in + bytes_out) / board.pcie.bandwidth_bytes_per_s + permute
    return BoardTime(
        board=board.name,
        dtype=dt.name,
        compute_s=n_slices * compute,
        offchip_s=n_slices * offchip,
        pcie_s=n_slices * pcie,
        total_s=n_slices * (overlapped + pcie),
        tile_passes=n_slices * passes,
        n_slices=n_slices,
        flops=n_slices * flops,
        host_permute_s=n_slices * permute,
    )


def host_permute_bytes(steps: Iterable[Any], itemsize: int) -> int:
    """Bytes per slice the ``hls`` backend permutes on the host: every step operand
    whose permutation is not the identity (``steps``: objects with ``lowered.a_perm``,
    ``a_shape``, ``b_perm``, ``b_shape``, e.g. ``Plan.steps``)."""
    total = 0
    for step in steps:
        low = step.lowered
        for perm, shape in ((low.a_perm, low.a_shape), (low.b_perm, low.b_shape)):
            if tuple(perm) != tuple(range(len(perm))):
                total += int(np.prod(shape)) * itemsize
    return total


# --- the RTL array's cycle model (calibrated against Verilator) -------------------------

#: Cycle of the first dispatch after the harness starts pushing descriptors.
RTL_FIRST_DISPATCH = 2
#: Cycles between one descriptor's last issue cycle and the next dispatch.
RTL_DISPATCH_CYCLES = 1
#: Extra cycles a descriptor with ``wait`` set waits after the last write before it.
RTL_WAIT_CYCLES = 2
#: Cycles from a permute's last issue to its last write (read latency + write stage).
RTL_PERMUTE_LATENCY = 1


def rtl_gemm_latency(pe_m: int, pe_n: int) -> int:
    """Cycles from a GEMM's last k-beat to its last write: read (1), align (1), PE input,
    product and accumulate registers (3) and the row skew (pe_m - 1), then pe_n drain
    columns, the normalize/write stage and the done flag."""
    return pe_m + pe_n + 3


@dataclass(frozen=True)
class RtlCycles:
    """Cycle-model figures of one descriptor stream on a ``pe_m x pe_n`` array.

    Attributes:
        cycles: total cycles until the card is idle.
        done: per descriptor, the modelled cycle of its last write.
        gemm_cycles: per GEMM, cycles from the previous GEMM's last write (or the start)
            to its own, i.e. the GEMM with its operand permutes and stalls.
        useful_macs: complex MACs the GEMMs need (no padding).
        pe_cycles: ``cycles * pe_m * pe_n``.
    """

    cycles: int
    done: tuple[int, ...]
    gemm_cycles: tuple[int, ...]
    useful_macs: int
    pe_cycles: int

    @property
    def utilization(self) -> float:
        """Useful MACs per PE cycle."""
        return self.useful_macs / self.pe_cycles if self.pe_cycles else 0.0


def permute_issue_cycles(d: Any, lanes: int) -> int:
    """Issue cycles of one PERMUTE on ``lanes`` lanes over ``lanes`` word-interleaved
    banks: the dst words go in chunks of ``lanes``; a chunk takes as many cycles as the
    most loaded bank among its source words (one read per bank per cycle)."""
    if lanes == 1 or d.total == 0:
        return d.total
    sizes, strides = list(d.sizes), list(d.strides)
    if sizes and sizes[-1] % lanes == 0 and math.gcd(strides[-1], lanes) == 1:
        # every chunk lies in one innermost run whose source words step by a stride
        # prime to the bank count: all in different banks, one cycle a chunk
        return d.total // lanes
    # banks only (addresses mod lanes, small ints), so a 2^25-word permute stays cheap
    dtype = np.int16 if lanes < 2**14 else np.int64
    bank = np.full((), d.src % lanes, dtype=dtype)
    for size, stride in zip(sizes, strides):
        bank = (bank[..., None] + (np.arange(size, dtype=np.int64) * stride % lanes).astype(dtype)) % lanes
    bank = bank.ravel()
    chunks = -(-d.total // lanes)
    padded = np.full(chunks * lanes, -1, dtype=dtype)  # the last chunk's missing words: no bank
    padded[: d.total] = bank
    rows = padded.reshape(chunks, lanes)
    most = np.zeros(chunks, dtype=np.int64)
    for b in range(lanes):
        np.maximum(most, np.count_nonzero(rows == b, axis=1), out=most)
    return int(most.sum())


def rtl_cycles(descs: Iterable[Any], pe_m: int, pe_n: int, lanes: int | None = None) -> RtlCycles:
    """Model the cycles of a descriptor stream (``qtn.fpga.descriptors``) on the RTL array.

    Every cost the RTL has is priced: a GEMM issues ``batch * ceil(m/pe_m) * ceil(n/pe_n)``
    tiles (padding of partial tiles), each ``max(k, pe_m, pe_n)`` cycles (one k-beat per
    cycle; a tile shorter than the array stalls so that its drain, one column per cycle,
    overlaps the next tile's fill); fill and drain of the last tile
    (:func:`rtl_gemm_latency`); a permute moves ``lanes`` elements per cycle less its
    bank conflicts (:func:`permute_issue_cycles`); every descriptor costs a dispatch
    cycle on its unit, a permute without ``wait`` runs while the GEMM unit is busy (and
    the reverse), and a ``wait`` holds a descriptor until all earlier writes are done.

    Args:
        descs: GEMM and PERMUTE descriptors, in queue order.
        pe_m, pe_n: the PE grid.
        lanes: permute lanes = card-memory banks (default ``pe_n``, as
            :class:`qtn.fpga.rtl_sim.ArrayConfig`).

    Returns:
        The :class:`RtlCycles`.
    """
    from .descriptors import GemmDesc

    lanes = lanes or pe_n
    # the GEMM unit and the PERMUTE unit issue independently, one dispatch per cycle in
    # queue order; a `wait` holds a descriptor until every earlier write is done
    free = {"gemm": RTL_FIRST_DISPATCH, "permute": RTL_FIRST_DISPATCH}
    prev_start = RTL_FIRST_DISPATCH - 1
    last_write = 0
    done: list[int] = []
    gemm_cycles: list[int] = []
    prev_gemm = 0
    macs = 0
    for d in descs:
        unit = "gemm" if isinstance(d, GemmDesc) else "permute"
        start = max(free[unit], prev_start + 1)
        if d.wait:
            start = max(start, last_write + RTL_WAIT_CYCLES)
        prev_start = start
        if isinstance(d, GemmDesc):
            tiles = d.batch * -(-d.m // pe_m) * -(-d.n // pe_n)
            issue = tiles * max(d.k, pe_m, pe_n)
            # the last tile's stall cycles after its k-th beat delay the next dispatch only
            end = start + issue - max(d.k, pe_m, pe_n) + d.k + rtl_gemm_latency(pe_m, pe_n)
            gemm_cycles.append(end - prev_gemm)
            prev_gemm = end
            macs += d.batch * d.m * d.k * d.n
        else:
            issue = permute_issue_cycles(d, lanes)
            end = start + issue + RTL_PERMUTE_LATENCY
        free[unit] = start + issue + RTL_DISPATCH_CYCLES
        last_write = max(last_write, end)
        done.append(end)
    cycles = last_write + 1 if done else 0
    return RtlCycles(cycles, tuple(done), tuple(gemm_cycles), macs, cycles * pe_m * pe_n)
