"""The RTL backend: every GEMM and permute of a contraction on the Verilated systolic
array (``fpga/rtl``), cycle by cycle.

Arrays live in the card memory of the simulated card as block-floating-point words
(:mod:`qtn.fpga.formats`). ``transpose_reshape`` only records a view; ``matmul`` turns
its operands into on-card PERMUTE descriptors (A laid out as rows of k, B transposed to
rows of k, one shared exponent per row) and one GEMM descriptor. Descriptors queue up
and stream through the RTL back to back, with no host step, when a result is read
(``to_host``); each flush also runs the bit-exact model (:mod:`qtn.fpga.card_model`) and
raises if one word differs. :meth:`RTLBackend.stats` reports simulated cycles (total and
per GEMM) and the bytes moved. Nothing runs on a physical board.
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from ..fpga import formats
from ..fpga.card_model import CardModel
from ..fpga.descriptors import Descriptor, GemmDesc, copy_dims, permute_descs
from ..fpga.rtl_sim import ArrayConfig, VerilatedCard
from .base import Backend

DEFAULT_MEM_WORDS = 1 << 22
DEFAULT_XMEM_WORDS = 1 << 20


class _Allocator:
    """First-fit allocator of word ranges (freed ranges are merged)."""

    def __init__(self, size: int, what: str) -> None:
        self.free = [(0, size)]
        self.what = what

    def alloc(self, n: int) -> int:
        n = max(1, n)
        for i, (start, size) in enumerate(self.free):
            if size >= n:
                self.free[i] = (start + n, size - n)
                if self.free[i][1] == 0:
                    del self.free[i]
                return start
        raise MemoryError(f"the simulated card's {self.what} is full (asked for {n} words); "
                          "pass mem_words= to RTLBackend or plan with a smaller max_memory")

    def release(self, start: int, n: int) -> None:
        self.free.append((start, max(1, n)))
        self.free.sort()
        merged = [self.free[0]]
        for s, z in self.free[1:]:
            ps, pz = merged[-1]
            if ps + pz == s:
                merged[-1] = (ps, pz + z)
            else:
                merged.append((s, z))
        self.free = merged


class RtlTensor:
    """A C-contiguous tensor in card memory."""

    def __init__(self, backend: "RTLBackend", shape: tuple[int, ...], dtype: np.dtype) -> None:
        self.shape = shape
        self.dtype = dtype
        self.size = math.prod(shape)
        self.addr = backend._mem.alloc(self.size)
        weakref.finalize(self, backend._mem.release, self.addr, self.size)


@dataclass
class RtlView:
    """``base.transpose(perm).reshape(shape)``, not yet materialized."""

    base: RtlTensor
    perm: tuple[int, ...]
    shape: tuple[int, ...]

    @property
    def dtype(self) -> np.dtype:
        return self.base.dtype


@dataclass
class _Counters:
    cycles: int = 0
    gemm_cycles: list = field(default_factory=list)
    descriptors: int = 0
    gemms: int = 0
    permutes: int = 0
    macs: int = 0
    bytes_to_device: int = 0
    bytes_to_host: int = 0
    card_bytes_read: int = 0
    card_bytes_written: int = 0
    runs: int = 0


class RTLBackend(Backend):
    """The Verilated RTL array (``engine="verilator"``) checked word for word against
    the bit-exact model; ``engine="model"`` runs the model alone (no cycles).

    Args:
        config: PE grid and number format (default 2 x 2, 18-bit mantissas).
        mem_words: card-memory words (one per complex element).
        xmem_words: row-exponent memory words.
        engine: ``"verilator"`` (default) or ``"model"``.
        name: registry name.
    """

    def __init__(self, config: ArrayConfig | None = None, mem_words: int = DEFAULT_MEM_WORDS,
                 xmem_words: int = DEFAULT_XMEM_WORDS, engine: str = "verilator", name: str = "rtl") -> None:
        if engine not in ("verilator", "model"):
            raise ValueError(f"engine must be 'verilator' or 'model', not {engine!r}")
        self.config = config or ArrayConfig()
        self.fmt = self.config.fmt
        self.name = name
        self.engine = engine
        self.model = CardModel(self.fmt, mem_words, xmem_words)
        self.card = VerilatedCard(self.config, mem_words, xmem_words) if engine == "verilator" else None
        self._mem = _Allocator(mem_words, "card memory")
        self._xmem_words = xmem_words
        self._pending: list[Descriptor] = []
        self._keep: list[Any] = []          # tensors the pending descriptors use
        self._dirty: list[tuple[int, int]] = []  # word ranges written since the last wait
        self._xnext = 0
        self._gemm_tags: list[int] = []
        self._c = _Counters()
        #: every flush's (descriptors, RunResult or None) when True (for benchmarks)
        self.keep_runs = False
        self.runs: list[tuple[list[Descriptor], Any]] = []
        self.last_run: tuple[list[Descriptor], Any] | None = None

    # --- Backend interface ------------------------------------------------------------
    def memory_budget(self) -> int:
        # a step holds its two operands, their on-card copies and the result: one sixth
        return (len(self.model.mem) // 6) * 8

    def to_device(self, a: np.ndarray) -> RtlTensor:
        arr = np.asarray(a)
        if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
            raise TypeError(f"the rtl backend takes numeric arrays, not {arr.dtype}")
        dtype = np.result_type(arr.dtype, np.complex64)
        t = RtlTensor(self, tuple(arr.shape), dtype)
        words = formats.encode(self.fmt, arr).ravel()
        for mem in self._mems():
            mem[t.addr:t.addr + t.size] = words
        self._c.bytes_to_device += 8 * t.size
        return t

    def to_host(self, a: "RtlTensor | RtlView") -> np.ndarray:
        t = self._materialize(a)
        self.flush()
        src = self.card.mem if self.card is not None else self.model.mem
        words = np.array(src[t.addr:t.addr + t.size])
        self._c.bytes_to_host += 8 * t.size
        return formats.decode(self.fmt, words).astype(t.dtype).reshape(t.shape)

    def transpose_reshape(self, a: "RtlTensor | RtlView", perm: Sequence[int], shape: Sequence[int]) -> RtlView:
        base = self._materialize(a)
        perm = tuple(int(p) for p in perm)
        shape = tuple(int(x) for x in shape)
        if sorted(perm) != list(range(len(base.shape))) or math.prod(shape) != base.size:
            raise ValueError(f"transpose_reshape: perm {perm} / shape {shape} do not fit a tensor of shape {base.shape}")
        return RtlView(base, perm, shape)

    def matmul(self, a: "RtlTensor | RtlView", b: "RtlTensor | RtlView") -> RtlView:
        va, vb = self._as_view(a), self._as_view(b)
        if len(va.shape) != len(vb.shape) or len(va.shape) not in (2, 3) or va.shape[-1] != vb.shape[-2] \
                or va.shape[:-2] != vb.shape[:-2]:
            raise ValueError(f"matmul: shapes {va.shape} and {vb.shape} are not (batch?, m, k) @ (batch?, k, n)")
        batch = va.shape[0] if len(va.shape) == 3 else 1
        m, k = va.shape[-2:]
        n = vb.shape[-1]
        if k > self.fmt.max_k:
            raise ValueError(f"k = {k} exceeds the {self.fmt.acc_bits}-bit accumulator (max {self.fmt.max_k})")
        dtype = np.result_type(va.dtype, vb.dtype)
        # both operands' row exponents (one per row of k) must come from one exponent
        # memory fill: a flush between A's and B's permute would restart the allocator
        # under A's exponents, which the GEMM still reads
        if self._xnext + batch * (m + n) > self._xmem_words:
            self.flush()
        # A as (batch, m, k) rows; B as (batch, n, k) rows: its view's axes regrouped.
        # An operand that needs no `wait` is queued first, so that its permute overlaps
        # the GEMM still running (the other one waits for that GEMM's result)
        b_order = self._transposed_order(vb, batch, k, n)
        if self._needs_wait(va.base) and not self._needs_wait(vb.base):
            b_tmp, b_x = self._permute_rows(vb.base, b_order, batch * k * n, k)
            a_tmp, a_x = self._permute_rows(va.base, list(va.perm), batch * m * k, k)
        else:
            a_tmp, a_x = self._permute_rows(va.base, list(va.perm), batch * m * k, k)
            b_tmp, b_x = self._permute_rows(vb.base, b_order, batch * k * n, k)
        out = RtlTensor(self, (batch, m, n), dtype)
        tag = len(self._pending)
        self._pending.append(GemmDesc(tag, True, batch, m, k, n, a_tmp.addr, a_x, b_tmp.addr, b_x, out.addr))
        self._dirty = [(out.addr, out.size)]
        self._keep += [out]
        self._gemm_tags.append(tag)
        self._c.macs += batch * m * k * n
        shape = (batch, m, n) if len(va.shape) == 3 else (m, n)
        return RtlView(out, (0, 1, 2), shape) if len(shape) == 3 else RtlView(self._reshaped(out, shape), (0, 1), shape)

    def synchronize(self) -> None:
        self.flush()

    def stats(self) -> dict[str, Any]:
        c = self._c
        pes = self.config.pe_m * self.config.pe_n
        return {
            "cycles": c.cycles, "gemm_cycles": list(c.gemm_cycles), "descriptors": c.descriptors,
            "gemms": c.gemms, "permutes": c.permutes, "macs": c.macs,
            "utilization": c.macs / (c.cycles * pes) if c.cycles else 0.0,
            "bytes_to_device": c.bytes_to_device, "bytes_to_host": c.bytes_to_host,
            "card_bytes_read": c.card_bytes_read, "card_bytes_written": c.card_bytes_written,
            "runs": c.runs, "pe_m": self.config.pe_m, "pe_n": self.config.pe_n, "perm_lanes": self.config.lanes,
            "mantissa_bits": self.fmt.mantissa_bits,
        }

    def reset_stats(self) -> None:
        self._c = _Counters()

    # --- descriptors --------------------------------------------------------------------
    def flush(self) -> None:
        """Run the queued descriptors on the Verilated array and the model; compare."""
        if not self._pending:
            return
        descs = self._pending
        self.model.run(descs)
        c = self._c
        c.descriptors += len(descs)
        c.gemms += len(self._gemm_tags)
        c.permutes += len(descs) - len(self._gemm_tags)
        if self.card is not None:
            result = self.card.run(descs)
            if not (np.array_equal(self.card.mem, self.model.mem) and np.array_equal(self.card.xmem, self.model.xmem)):
                bad = np.flatnonzero(self.card.mem != self.model.mem)[:5]
                raise RuntimeError(f"the Verilated array differs from the bit-exact model at card words {bad.tolist()}")
            c.cycles += result.cycles
            prev = 0
            for tag in self._gemm_tags:
                c.gemm_cycles.append(int(result.done[tag]) - prev)
                prev = int(result.done[tag])
            c.card_bytes_read += 8 * result.mem_reads
            c.card_bytes_written += 8 * result.mem_writes
        else:
            result = None
        self.last_run = (descs, result)
        if self.keep_runs:
            self.runs.append(self.last_run)
        c.runs += 1
        self._pending, self._keep, self._gemm_tags, self._dirty = [], [], [], []
        self._xnext = 0

    def _mems(self) -> list[np.ndarray]:
        return [self.model.mem] + ([self.card.mem] if self.card is not None else [])

    def _xalloc(self, n: int) -> int:
        if self._xnext + n > self._xmem_words:
            self.flush()
            if n > self._xmem_words:
                raise MemoryError(f"{n} row exponents exceed the simulated card's {self._xmem_words}-word exponent memory")
        x = self._xnext
        self._xnext += n
        return x

    def _permute_rows(self, src: RtlTensor, order: list[int], total: int, group: int) -> tuple[RtlTensor, int]:
        """Queue the on-card copy of ``src`` in axis ``order`` with one exponent per ``group``."""
        sizes, strides = copy_dims(src.shape, order)
        tmp = RtlTensor(self, (total,), src.dtype)
        x = self._xalloc(total // group)
        wait = self._needs_wait(src)
        if wait:
            self._dirty = []
        descs = permute_descs(len(self._pending), wait, src.addr, tmp.addr, x, group, sizes, strides)
        self._pending += descs
        self._dirty.append((tmp.addr, tmp.size))
        self._keep += [src, tmp]
        return tmp, x

    def _needs_wait(self, src: RtlTensor) -> bool:
        """Whether reading ``src`` must wait for writes queued since the last wait."""
        return any(src.addr < a + n and a < src.addr + src.size for a, n in self._dirty)

    def _materialize(self, a: "RtlTensor | RtlView") -> RtlTensor:
        if isinstance(a, RtlTensor):
            return a
        if a.perm == tuple(range(len(a.perm))):
            return self._reshaped(a.base, a.shape)
        tmp, _ = self._permute_rows(a.base, list(a.perm), a.base.size, a.base.size)
        return self._reshaped(tmp, a.shape)

    def _reshaped(self, t: RtlTensor, shape: Sequence[int]) -> RtlTensor:
        """The same words under another shape (no copy)."""
        alias = RtlTensor.__new__(RtlTensor)
        alias.shape, alias.dtype, alias.size, alias.addr = tuple(shape), t.dtype, t.size, t.addr
        alias._owner = t  # keeps the words allocated while the alias lives
        return alias

    def _as_view(self, x: "RtlTensor | RtlView") -> RtlView:
        if isinstance(x, RtlView):
            return x
        return RtlView(x, tuple(range(len(x.shape))), x.shape)

    @staticmethod
    def _transposed_order(v: RtlView, batch: int, k: int, n: int) -> list[int]:
        """Source axes of ``v`` (a (batch?, k, n) view) in (batch, n, k) order."""
        groups: list[list[int]] = [[], [], []]
        targets = [batch, k, n] if len(v.shape) == 3 else [1, k, n]
        g, prod = 0, 1
        for axis in v.perm:
            size = v.base.shape[axis]
            while g < 2 and prod == targets[g] and size > 1:
                g, prod = g + 1, 1
            groups[g].append(axis)
            prod *= size
        if [math.prod(v.base.shape[a] for a in grp) for grp in groups] != targets:
            raise ValueError(f"cannot regroup a view of shape {v.base.shape} (perm {v.perm}) as {tuple(targets)}")
        return groups[0] + groups[2] + groups[1]


def make_rtl_backend(board: str = "") -> RTLBackend:
    """Registry factory: ``"rtl"`` is a 2 x 2 array; ``"rtl:<board>"`` the array sized to
    that board's multipliers (:func:`qtn.fpga.rtl_array.array_for_board`)."""
    if not board:
        return RTLBackend(name="rtl")
    from ..fpga.rtl_array import array_for_board

    return RTLBackend(array_for_board(board), name=f"rtl:{board}")
