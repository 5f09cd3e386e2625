"""The modelled (never measured) time of a plan's GEMMs on an FPGA board.

A roofline-style estimate from the board profile and the GEMM tiles of
:mod:`qtn.fpga.boards`: compute cycles of the PE array at the kernel clock, off-chip panel
traffic at the memory's peak bandwidth, and host transfers over PCIe. Every figure
it reports says "modelled".
"""

from __future__ import annotations

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

    def report(self) -> str:
        """One line that says the figure is modelled."""
        return (
            f"modelled {self.board} time: {_format_seconds(self.total_s)} "
            f"(compute {_format_seconds(self.compute_s)}, off-chip {_format_seconds(self.offchip_s)}, "
            f"PCIe {_format_seconds(self.pcie_s)}; {self.tile_passes} tile passes, "
            f"{self.n_slices} slice(s), {self.dtype}) - not measured"
        )

    def __str__(self) -> str:
        return self.report()


def _nonneg_int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{what} must be a non-negative integer, got {value!r}")
    return int(value)


def modelled_time(
    gemms: Iterable[_GemmLike],
    n_slices: int,
    host_bytes_in: int,
    host_bytes_out: int,
    board: "Board | str",
    dtype: Any = np.complex64,
) -> BoardTime:
    """Model the board time of a sliced plan.

    Per GEMM ``(batch, m, k, n)`` of one slice, with the tiles of :func:`gemm_tiles`:

    * compute: the PE array does one ``pe_m x pe_n`` block of CMACs per cycle; rows
      are padded to ``pe_m`` and columns to ``pe_n * ACC_INTERLEAVE`` (padding waste of
      partial tiles), ``k`` is not padded; each tile pass (one output tile times one
      K panel) adds ``PASS_OVERHEAD_CYCLES``. Cycles run at the kernel clock.
    * off-chip: A is re-read once per column of output tiles, B once per row of output
      tiles, C written once, at the off-chip peak bandwidth.
    * the two overlap (``max``) within a GEMM; GEMMs run one after another.

    PCIe moves ``host_bytes_in`` to and ``host_bytes_out`` from the card once per slice
    at the link's per-direction bandwidth, not overlapped with the kernel. Kernel
    launch latency is not modelled.

    Args:
        gemms: the GEMMs of ONE slice; anything with ``batch, m, k, n`` attributes
            (e.g. :class:`qtn.gemm.GemmSpec`).
        n_slices: how many slices run (each repeats the GEMMs and the PCIe traffic).
        host_bytes_in: bytes copied host -> card per slice.
        host_bytes_out: bytes copied card -> host per slice.
        board: a :class:`Board` or board name.
        dtype: ``complex64`` (default) or ``complex128``.

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
    col_block = tiles.pe_n * tiles.interleave
    compute = offchip = overlapped = 0.0
    passes = flops = 0
    for g in gemms:
        batch, m, k, n = (_nonneg_int(getattr(g, f), f"GEMM {f}") for f in ("batch", "m", "k", "n"))
        g_passes = batch * -(-m // tiles.tile_m) * -(-n // tiles.tile_n) * -(-k // tiles.tile_k)
        cycles = batch * -(-m // tiles.pe_m) * (-(-n // col_block) * tiles.interleave) * k
        cycles += g_passes * PASS_OVERHEAD_CYCLES
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
    pcie = (bytes_in + bytes_out) / board.pcie.bandwidth_bytes_per_s
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
    )
