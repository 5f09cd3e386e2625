"""FPGA board profiles, GEMM tile sizing and the modelled board time of a plan.

A board profile (``fpga/boards/<name>.toml``, shipped as ``qtn/data/boards``) lists the
on-chip memory blocks, DSPs, kernel clock, off-chip memory and PCIe link of one card,
each number with its source. From it this module derives

* the compute array: how many complex multiply-adds (CMACs) the DSPs sustain per cycle;
* the GEMM tiles (:func:`gemm_tiles`): the output tile stays on chip while A and B
  panels stream through double buffers, sized like gemm_hls's
  ``optimal_memory_tile_size`` to maximize arithmetic intensity within whole memory
  blocks;
* :func:`on_chip_budget_bytes`: how big an intermediate may be if it must live on chip.

The modelled board time of a plan is in :mod:`qtn.fpga.board_time`.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.resources
import math
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

# --- model constants (assumptions, stated once) ------------------------------------

#: Fraction of DSPs a device-wide kernel can use and still close timing (the shell,
#: address generators and routing congestion take the rest).
DSP_UTILIZATION = 0.8
#: Fraction of each memory-block kind left to the tile buffers (the platform shell,
#: FIFOs and memory-port width converters take the rest).
ON_CHIP_UTILIZATION = 0.8
#: Output tiles a PE interleaves so that one accumulator is updated every
#: ``ACC_INTERLEAVE`` cycles: more than the latency of a pipelined fp adder, so the
#: accumulation loop still runs at II=1 (the gemm_hls trick).
ACC_INTERLEAVE = 8
#: Bytes of one row of an A panel we want per burst (8 beats of a 512-bit AXI port);
#: sets TILE_K = BURST_BYTES / itemsize unless the budget forces it lower.
BURST_BYTES = 512
#: Cycles to fill and drain the PE pipeline once per tile pass (fp multiply + add
#: latency plus operand fan-out registers).
PASS_OVERHEAD_CYCLES = 32
#: Largest tile edge considered (keeps the search bounded; no board reaches it).
MAX_TILE = 8192

MEMORY_KINDS = ("bram36", "uram", "m20k", "ebr")
OFF_CHIP_KINDS = ("ddr4", "hbm2", "ddr3")
VENDORS = ("xilinx", "intel", "lattice")

_TOP_FIELDS = {
    "name", "description", "vendor", "device", "kernel_clock_mhz", "dsp_count",
    "dsp_per_real_mac", "on_chip", "off_chip", "pcie",
}


# --- profiles -----------------------------------------------------------------------

@dataclass(frozen=True)
class MemoryBlocks:
    """One kind of on-chip memory block in its widest configuration."""

    kind: str
    count: int
    width_bits: int
    depth: int

    @property
    def block_bytes(self) -> int:
        """Bytes one block holds (width x depth, parity bits included)."""
        return self.width_bits * self.depth // 8

    @property
    def total_bytes(self) -> int:
        return self.count * self.block_bytes


@dataclass(frozen=True)
class OffChipMemory:
    """The card's DRAM: kind (``ddr4`` / ``hbm2``), size and peak bandwidth."""

    kind: str
    size_bytes: int
    bandwidth_bytes_per_s: float


@dataclass(frozen=True)
class PcieLink:
    """The host link; ``bandwidth_bytes_per_s`` is per direction."""

    generation: int
    lanes: int
    bandwidth_bytes_per_s: float


@dataclass(frozen=True)
class Board:
    """One FPGA card, as read from its TOML profile."""

    name: str
    description: str
    vendor: str
    device: str
    kernel_clock_hz: float
    dsp_count: int
    dsp_per_real_mac_fp32: int
    dsp_per_real_mac_fp64: int
    on_chip: tuple[MemoryBlocks, ...]
    off_chip: OffChipMemory
    pcie: PcieLink
    source: str = ""

    @property
    def on_chip_bytes(self) -> int:
        """Total bytes of all on-chip memory blocks."""
        return sum(m.total_bytes for m in self.on_chip)

    def dsp_per_complex_mac(self, dtype: Any = np.complex64) -> int:
        """DSPs of one complex multiply-add: 4 real multiplies, each with its add."""
        dt = _complex_dtype(dtype)
        return 4 * (self.dsp_per_real_mac_fp32 if dt == np.complex64 else self.dsp_per_real_mac_fp64)

    def scaled_on_chip(self, factor: float) -> "Board":
        """This board with every block count scaled by ``factor`` (for what-if sizing)."""
        blocks = tuple(dataclasses.replace(m, count=max(1, int(m.count * factor))) for m in self.on_chip)
        return dataclasses.replace(self, on_chip=blocks, name=f"{self.name}x{factor:g}")


def _boards_dir() -> Any:
    return importlib.resources.files("qtn") / "data" / "boards"


def available_boards() -> list[str]:
    """Names of the board profiles shipped with qtn."""
    return sorted(p.name[: -len(".toml")] for p in _boards_dir().iterdir() if p.name.endswith(".toml"))


def load_board(name_or_path: "str | os.PathLike[str]") -> Board:
    """Read a board profile by name (``"u280"``) or from a TOML file path.

    Args:
        name_or_path: a shipped board name (see :func:`available_boards`) or the path
            of a ``.toml`` profile.

    Returns:
        The validated :class:`Board`.

    Raises:
        ValueError: unknown board name (the message lists the valid ones), or a profile
            with a missing, mistyped or impossible field (the message names the file and
            the field).
    """
    if isinstance(name_or_path, Board):
        return name_or_path
    text_name = os.fspath(name_or_path)
    if text_name.endswith(".toml") or os.sep in text_name:
        path = Path(text_name)
        try:
            data = path.read_bytes()
        except OSError as err:
            raise ValueError(f"cannot read board profile {path}: {err}") from err
        return _parse_profile(data, str(path))
    key = text_name.strip().lower()
    valid = available_boards()
    if key not in valid:
        raise ValueError(f"unknown board {text_name!r}; valid: {', '.join(valid)} (or a path to a .toml profile)")
    return _load_shipped(key)


@functools.lru_cache(maxsize=None)
def _load_shipped(name: str) -> Board:
    res = _boards_dir() / f"{name}.toml"
    return _parse_profile(res.read_bytes(), f"{name}.toml")


class _Fields:
    """Typed reads from one TOML table, with errors naming file and field."""

    def __init__(self, table: Mapping[str, Any], where: str, prefix: str = "") -> None:
        self.table, self.where, self.prefix = table, where, prefix

    def fail(self, key: str, why: str) -> ValueError:
        return ValueError(f"board profile {self.where}: field '{self.prefix}{key}' {why}")

    def get(self, key: str) -> Any:
        if key not in self.table:
            raise self.fail(key, "is missing")
        return self.table[key]

    def string(self, key: str, choices: Sequence[str] | None = None, optional: bool = False) -> str:
        if optional and key not in self.table:
            return ""
        value = self.get(key)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, f"must be a non-empty string, got {value!r}")
        if choices is not None and value not in choices:
            raise self.fail(key, f"must be one of {', '.join(choices)}, got {value!r}")
        return value

    def integer(self, key: str, maximum: int | None = None) -> int:
        return int(self.number(key, maximum, integer=True))

    def number(self, key: str, maximum: float | None = None, integer: bool = False) -> float:
        value = self.get(key)
        kinds = (int,) if integer else (int, float)
        if isinstance(value, bool) or not isinstance(value, kinds):
            raise self.fail(key, f"must be {'an integer' if integer else 'a number'}, got {type(value).__name__} {value!r}")
        if not math.isfinite(value) or value <= 0:
            raise self.fail(key, f"must be > 0, got {value}")
        if maximum is not None and value > maximum:
            raise self.fail(key, f"must be <= {maximum}, got {value}")
        return value if integer else float(value)

    def table_of(self, key: str) -> "_Fields":
        value = self.get(key)
        if not isinstance(value, dict):
            raise self.fail(key, f"must be a table, got {type(value).__name__}")
        return _Fields(value, self.where, f"{self.prefix}{key}.")


def _parse_profile(data: bytes, where: str) -> Board:
    try:
        raw = tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"board profile {where}: not valid TOML: {err}") from err
    unknown = sorted(set(raw) - _TOP_FIELDS)
    if unknown:
        raise ValueError(f"board profile {where}: unknown field(s) {', '.join(unknown)}; known: {', '.join(sorted(_TOP_FIELDS))}")
    top = _Fields(raw, where)
    macs = top.table_of("dsp_per_real_mac")
    on_chip_t = top.table_of("on_chip")
    if not on_chip_t.table:
        raise top.fail("on_chip", f"must list at least one memory kind ({', '.join(MEMORY_KINDS)})")
    blocks = []
    for kind in on_chip_t.table:
        if kind not in MEMORY_KINDS:
            raise on_chip_t.fail(kind, f"is an unknown memory kind; known: {', '.join(MEMORY_KINDS)}")
        mem = on_chip_t.table_of(kind)
        blocks.append(MemoryBlocks(kind, mem.integer("count"), mem.integer("width_bits", 512), mem.integer("depth")))
    off = top.table_of("off_chip")
    pcie = top.table_of("pcie")
    return Board(
        name=top.string("name"),
        description=top.string("description", optional=True),
        vendor=top.string("vendor", VENDORS),
        device=top.string("device", optional=True),
        # no FPGA fabric kernel runs above ~1 GHz: a bigger number is a unit mistake
        kernel_clock_hz=top.number("kernel_clock_mhz", 1000.0) * 1e6,
        dsp_count=top.integer("dsp_count"),
        dsp_per_real_mac_fp32=macs.integer("fp32", 64),
        dsp_per_real_mac_fp64=macs.integer("fp64", 64),
        on_chip=tuple(blocks),
        off_chip=OffChipMemory(
            kind=off.string("kind", OFF_CHIP_KINDS),
            size_bytes=int(off.number("size_gib") * (1 << 30)),
            bandwidth_bytes_per_s=off.number("bandwidth_gbs", 10_000.0) * 1e9,
        ),
        pcie=PcieLink(
            generation=pcie.integer("generation", 7),
            lanes=pcie.integer("lanes", 32),
            bandwidth_bytes_per_s=pcie.number("bandwidth_gbs", 1_000.0) * 1e9,
        ),
        source=where,
    )


# --- tile sizing --------------------------------------------------------------------

def _complex_dtype(dtype: Any) -> np.dtype:
    dt = np.dtype(dtype)
    if dt not in (np.complex64, np.complex128):
        raise TypeError(f"FPGA GEMM tiles exist for complex64 and complex128 only, not {dt}")
    return dt


@dataclass(frozen=True)
class GemmTiles:
    """Tile and compute-array sizes of the board GEMM kernel for one dtype.

    The ``pe_m x pe_n`` array of complex multiply-adders updates one
    ``pe_m x pe_n`` block of the ``tile_m x tile_n`` output tile per cycle; the output
    tile stays on chip while ``tile_m x tile_k`` A and ``tile_k x tile_n`` B panels
    stream through double buffers. ``bytes_used`` counts whole memory blocks.
    """

    board: str
    dtype: str
    tile_m: int
    tile_n: int
    tile_k: int
    pe_m: int
    pe_n: int
    interleave: int
    bytes_used: int
    data_bytes: int
    #: memory kind of the accumulator, A-panel and B-panel buffers (as sized)
    storage: tuple[str, str, str] = ("", "", "")

    @property
    def dsps(self) -> int:
        """DSPs of the PE array (4 real multiply-adds per complex MAC)."""
        return self.pe_m * self.pe_n * load_board(self.board).dsp_per_complex_mac(self.dtype)

    @property
    def macs_per_cycle(self) -> int:
        return self.pe_m * self.pe_n

    @property
    def intensity(self) -> float:
        """Complex MACs per off-chip byte once K is long (A and B panels re-read per tile)."""
        itemsize = np.dtype(self.dtype).itemsize
        return self.tile_m * self.tile_n / ((self.tile_m + self.tile_n) * itemsize)

    def opencl_macros(self) -> dict[str, int]:
        """The complete ``-D`` set of ``fpga/kernels/cgemm.cl`` for this board.

        One work-item per work-group (the single-work-item style Intel's FPGA compiler
        pipelines): its unrolled WPT_M x WPT_N multiply-adds are the PE array, and it
        cycles through ACC_INTERLEAVE PE blocks per k step, so each accumulator is
        updated every ACC_INTERLEAVE cycles. C_LOCAL 0: C is read and written once per
        K panel in global memory (priced by :mod:`qtn.fpga.board_time`); holding the
        output tile in local memory as well would not leave PoCL, which the tests run
        these tiles on, enough local memory for the larger boards. Every key is one the
        kernel reads.
        """
        return {
            "TILE_M": self.tile_m,
            "TILE_N": self.tile_n,
            "TILE_K": self.tile_k,
            "WPT_M": self.pe_m,
            "WPT_N": self.pe_n,
            "ACC_INTERLEAVE": self.interleave,
            "VW": 1,
            "WG_M": 1,
            "WG_N": 1,
            "C_LOCAL": 0,
        }

    def macros(self) -> dict[str, int]:
        """The tile macros of the HLS config header (``QTN_C64_TILE_M``, ...)."""
        return {
            "TILE_M": self.tile_m,
            "TILE_N": self.tile_n,
            "TILE_K": self.tile_k,
            "PE_M": self.pe_m,
            "PE_N": self.pe_n,
            "ACC_INTERLEAVE": self.interleave,
        }


def _pe_arrays(board: Board, dt: np.dtype) -> list[tuple[int, int]]:
    """Compute-array shapes the DSPs allow, largest first: pe_m a power of two,
    pe_m <= pe_n <= 2 pe_m (near-square keeps operand fan-out short), pe_n a multiple
    of 4 (or below 4)."""
    cmacs = int(board.dsp_count * DSP_UTILIZATION) // board.dsp_per_complex_mac(dt)
    if cmacs < 1:
        raise ValueError(f"board {board.name}: {board.dsp_count} DSPs cannot hold one complex {dt} multiply-add")
    shapes = []
    pe_m = 1
    while pe_m * pe_m <= cmacs:
        for pe_n in range(pe_m, min(2 * pe_m, cmacs // pe_m) + 1):
            if pe_n < 4 or pe_n % 4 == 0:
                shapes.append((pe_m, pe_n))
        pe_m *= 2
    return sorted(shapes, key=lambda s: (-s[0] * s[1], s[1] - s[0]))


def _blocks(banks: int, depth: int, word_bits: int, mem: MemoryBlocks) -> int:
    """Whole blocks for ``banks`` independent buffers of ``depth`` words each."""
    return banks * math.ceil(word_bits / mem.width_bits) * math.ceil(depth / mem.depth)


def _fit(buffers: Sequence[tuple[int, int]], word_bits: int, board: Board) -> tuple[int, tuple[str, ...]] | None:
    """(fewest occupied bytes, memory kind of each buffer) placing each (banks, depth)
    buffer in one memory kind, or None when no placement fits the usable blocks."""
    kinds = board.on_chip
    usable = [usable_blocks(m) for m in kinds]
    best: tuple[int, tuple[str, ...]] | None = None
    for choice in _assignments(len(buffers), len(kinds)):
        used = [0] * len(kinds)
        for (banks, depth), k in zip(buffers, choice):
            used[k] += _blocks(banks, depth, word_bits, kinds[k])
        if all(u <= cap for u, cap in zip(used, usable)):
            total = sum(u * m.block_bytes for u, m in zip(used, kinds))
            if best is None or total < best[0]:
                best = (total, tuple(kinds[k].kind for k in choice))
    return best


def usable_blocks(mem: MemoryBlocks) -> int:
    """Blocks of one kind the tile buffers may take (``ON_CHIP_UTILIZATION`` of them)."""
    return int(mem.count * ON_CHIP_UTILIZATION)


@functools.lru_cache(maxsize=None)
def _assignments(n_buffers: int, n_kinds: int) -> tuple[tuple[int, ...], ...]:
    if n_buffers == 0:
        return ((),)
    return tuple((k,) + rest for k in range(n_kinds) for rest in _assignments(n_buffers - 1, n_kinds))


def _tile_buffers(tm: int, tn: int, tk: int, pe_m: int, pe_n: int) -> list[tuple[int, int]]:
    # C: one accumulator bank per PE; A / B: one bank per PE row / column, ping and pong
    # as separate banks so a panel loads while the other is read.
    return [
        (pe_m * pe_n, (tm // pe_m) * (tn // pe_n)),
        (2 * pe_m, (tm // pe_m) * tk),
        (2 * pe_n, tk * (tn // pe_n)),
    ]


def gemm_tiles(board: "Board | str", dtype: Any = np.complex64) -> GemmTiles:
    """Size the board GEMM kernel's tiles for ``dtype``.

    The compute array takes ``DSP_UTILIZATION`` of the DSPs at 4 real multiply-adds per
    complex MAC (DSPs per real multiply-add from the profile: 5 DSP48E2 for fp32 on
    Xilinx, 1 hard-FP DSP on Intel), shrunk while the memory blocks cannot give every
    PE its accumulator bank. TILE_K is the burst-friendly
    ``BURST_BYTES / itemsize`` (halved while nothing fits). Over TILE_M (a multiple of
    8 and pe_m) and TILE_N (a multiple of 8 and ``pe_n * ACC_INTERLEAVE``), the tile
    pair with the highest arithmetic intensity ``tm*tn / (tm+tn)`` whose buffers fit
    the usable whole blocks wins; ties go to the larger, then squarer tile.

    Args:
        board: a :class:`Board` or a board name.
        dtype: ``complex64`` (default) or ``complex128``.

    Returns:
        The :class:`GemmTiles`.

    Raises:
        TypeError: a dtype other than complex64 / complex128.
        ValueError: the board cannot hold even the smallest tile.
    """
    if not isinstance(board, Board):
        board = load_board(board)
    return _gemm_tiles(board, _complex_dtype(dtype).str)


@functools.lru_cache(maxsize=256)
def _gemm_tiles(board: Board, dtype_str: str) -> GemmTiles:
    dt = np.dtype(dtype_str)
    # Every PE needs its own accumulator bank: when the blocks cannot feed the array
    # the DSPs allow, a smaller array is the honest design.
    for pe_m, pe_n in _pe_arrays(board, dt):
        tk = max(4, BURST_BYTES // dt.itemsize)
        while tk >= 4:
            found = _best_tile(board, dt, pe_m, pe_n, tk)
            if found is not None:
                tm, tn, used, storage = found
                data = (tm * tn + 2 * tm * tk + 2 * tk * tn) * dt.itemsize
                return GemmTiles(board.name, dt.name, tm, tn, tk, pe_m, pe_n, ACC_INTERLEAVE, used, data, storage)
            tk //= 2
    raise ValueError(f"board {board.name}: on-chip memory cannot hold even a 1x1 compute array's {dt} tiles")


def _best_tile(board: Board, dt: np.dtype, pe_m: int, pe_n: int, tk: int) -> tuple[int, int, int, tuple] | None:
    """(tile_m, tile_n, bytes_used, storage kinds) of highest intensity for one array and TILE_K."""
    word_bits = dt.itemsize * 8
    step_m = math.lcm(8, pe_m)
    step_n = math.lcm(8, pe_n * ACC_INTERLEAVE)
    best: tuple[tuple[float, int, int], int, int, int, tuple] | None = None
    for tm in range(step_m, MAX_TILE + 1, step_m):
        if _fit(_tile_buffers(tm, step_n, tk, pe_m, pe_n), word_bits, board) is None:
            break  # a taller tile only needs more blocks
        lo, hi = 1, MAX_TILE // step_n  # largest feasible tn = lo * step_n
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if _fit(_tile_buffers(tm, mid * step_n, tk, pe_m, pe_n), word_bits, board) is None:
                hi = mid - 1
            else:
                lo = mid
        tn = lo * step_n
        fit = _fit(_tile_buffers(tm, tn, tk, pe_m, pe_n), word_bits, board)
        assert fit is not None
        key = (tm * tn / (tm + tn), tm * tn, -abs(tm - tn))
        if best is None or key > best[0]:
            best = (key, tm, tn, fit[0], fit[1])
    return None if best is None else best[1:]


def on_chip_budget_bytes(board: "Board | str", dtype: Any = np.complex64) -> int:
    """Bytes one intermediate may take if every tensor of a step must live on chip.

    A step keeps its two operands and its result on chip at once, so one intermediate
    gets a third of the usable blocks, counted in whole ``dtype`` words per block row
    (a 64-bit complex64 word takes one 72-bit BRAM/URAM row, or two 40-bit M20K blocks).

    Args:
        board: a :class:`Board` or a board name.
        dtype: ``complex64`` (default) or ``complex128``.

    Returns:
        The budget in bytes (used by ``plan(..., on_chip=True)``).
    """
    if not isinstance(board, Board):
        board = load_board(board)
    dt = _complex_dtype(dtype)
    word_bits = dt.itemsize * 8
    words = 0
    for mem in board.on_chip:
        usable = usable_blocks(mem)
        if mem.width_bits >= word_bits:
            words += usable * mem.depth * (mem.width_bits // word_bits)
        else:
            words += usable // math.ceil(word_bits / mem.width_bits) * mem.depth
    return words * dt.itemsize // 3


# --- HLS config header (qtn/fpga/hls_config.py; re-exported here) ------------------

from .hls_config import hls_config_text, write_hls_config  # noqa: E402  (needs the names above)
