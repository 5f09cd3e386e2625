"""Permuting (transposing) complex tensors on the host: a multi-core C kernel run from a plan.

``permute(a, perm)`` returns ``a.transpose(perm)`` as a new C-contiguous array. The plan
(:func:`plan`, cached per shape, strides and item size, so a repeated permute costs only
the ctypes call) merges axes that stay neighbours and picks one of the kernel's paths:

* ``lines``: a run of >= 64 bytes contiguous on both sides is copied whole (``memcpy``);
* ``tile``: T input-contiguous x T output-contiguous units of 8, 16 or 32 bytes (T * unit
  = one cache line) are transposed in AVX-512 registers, in blocks of such tiles; the runs
  may span several short axes (tables of offsets), as in tensors of qubit axes;
* ``gather``: otherwise (the output's short last axis is part of the input's run, odd
  sizes), output lines are gathered through a table of offsets.

Outputs of >= 64 MiB starting on a cache line are written with streaming stores. The loop
nest's iterations are shared among threads (OpenMP, dynamic chunks). Measured in
``bench/permute_plan.py`` and ``bench/engine.py``. Where no C compiler works, NumPy's copy
is used (``kernel()`` says which).
"""

from __future__ import annotations

import ctypes
import functools
import math
from typing import Sequence

import numpy as np

from . import native
from .buffers import aligned_bytes
from .host import usable_cores

_threads: int | None = None
#: Below this many elements NumPy's copy is as fast (no thread start-up, no ctypes call).
SMALL_ELEMENTS = 1 << 14
#: Below this many elements one thread does the permute (threads cost more than they save).
THREADED_ELEMENTS = 1 << 20


def set_num_threads(n: int | None) -> None:
    """Threads of the permute kernel (None: the cores this process may use).

    Raises:
        ValueError: ``n`` is not a positive int.
    """
    global _threads
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        raise ValueError(f"permute threads must be a positive int or None, got {n!r}")
    _threads = n


def thread_setting() -> int | None:
    """What :func:`set_num_threads` last set (None: the default), to restore it later."""
    return _threads


def num_threads() -> int:
    """Threads the kernel (and the state-vector kernels) run on: one in a forked child
    (:func:`qtn.native.openmp_threads`)."""
    return native.openmp_threads(_threads if _threads is not None else usable_cores())


def _lib():
    lib = native.load("permute")
    if lib is not None and not getattr(lib, "_qtn_typed", False):
        lib.qtn_permute.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int]
        lib.qtn_permute.restype = ctypes.c_int
        lib._qtn_typed = True
    return lib


def kernel() -> str:
    """``"c"`` when the compiled kernel is in use, else ``"numpy"`` (and why)."""
    return "c" if _lib() is not None else f"numpy ({native.build_error('permute')})"


def merged_axes(shape: Sequence[int], strides: Sequence[int]) -> tuple[list[int], list[int]]:
    """Drop size-1 axes and merge neighbours ``d, d+1`` with ``stride[d] == stride[d+1] * shape[d+1]``.

    Returns dims and strides (in elements) of an equivalent view with fewest axes.
    """
    dims: list[int] = []
    st: list[int] = []
    for d, s in zip(shape, strides):
        if d == 1:
            continue
        if dims and st[-1] == s * d:
            dims[-1] *= d
            st[-1] = s
        else:
            dims.append(d)
            st.append(s)
    return dims, st


#: The kernel's paths (PATH_* in permute.c).
LINES, TILE, GATHER = 0, 1, 2
PATH_NAMES = {LINES: "lines", TILE: "tile", GATHER: "gather"}
_HEADER = 8  # words before the loop nest in a plan (P_HEADER in permute.c)
_MAX_LOOP = 64  # MAXLOOP in permute.c
#: A run contiguous in both input and output at least this long (bytes, a cache line) is
#: copied whole; a shorter one becomes the unit of a tile.
LINE_BYTES = 64
#: Longer whole runs are cut to this, so that a permute of a few huge blocks still spreads over threads.
MAX_LINE_BYTES = 1 << 15
#: A tile block reads runs of up to this many bytes of input and writes runs of up to this many of output.
BLOCK_BYTES = 2048
#: The gathered-line path gathers output lines of at least this many bytes.
GATHER_BYTES = 1024
#: ... and at most this many, where an axis splits (the table has one word per qword of line).
GATHER_MAX_BYTES = 1 << 14
#: ... and runs up to this many of them, whose input sits nearest, one after the other.
GATHER_REUSE = 64


class PermutePlan:
    """A permute as the C kernel runs it: the int64 words it reads (kept alive here) and their address.

    Attributes:
        path: ``"lines"``, ``"tile"`` or ``"gather"``.
        loop: the loop nest (dims, input byte strides, output byte strides), outermost first.
        words: the plan as passed to ``qtn_permute``.
    """

    def __init__(self, path: int, unit: int, w: int, aligned: bool, total: int,
                 loop: list[tuple[int, int, int]], table: Sequence[int], tb: int = 0) -> None:
        self.path = PATH_NAMES[path]
        self.loop = loop
        head = [path, unit, len(loop), w, int(aligned), total, tb, 0]
        assert len(head) == _HEADER
        cols = [d for d, _, _ in loop] + [i for _, i, _ in loop] + [o for _, _, o in loop]
        self.words = np.array(head + cols + list(table), dtype=np.int64)
        self.address = self.words.ctypes.data

    def __repr__(self) -> str:
        return f"PermutePlan({self.path}, loop={self.loop})"


def _offsets(axes: Sequence[tuple[int, int]]) -> np.ndarray:
    """Offsets of every index of ``axes`` ((dim, stride) pairs, innermost first), the innermost varying fastest."""
    off = np.zeros(1, dtype=np.int64)
    for d, s in axes:
        off = (np.arange(d, dtype=np.int64)[:, None] * s + off[None, :]).ravel()
    return off


def _merge_loop(loop: list[list[int]]) -> list[tuple[int, int, int]]:
    """Merge neighbours of the loop nest that step together on both sides (a shallower odometer)."""
    out: list[list[int]] = []
    for d, i, o in loop:
        if out and out[-1][1] == i * d and out[-1][2] == o * d:
            out[-1] = [out[-1][0] * d, i, o]
        else:
            out.append([d, i, o])
    return [tuple(x) for x in out]


def _take_run(axes: list[list[int]], t: int, unit: int, side: int, tag: str, start: int = 1,
              extend: bool = False) -> int:
    """Tag (splitting one where needed) the axes whose strides on ``side`` (1 input, 2 output)
    are ``unit * start, unit * start * d0, ...`` until they hold ``t`` units: a run of ``t``
    contiguous units there. Returns the run's length: 0 where no such run exists or it would
    take an axis tagged already; with ``extend``, as far as it gets (``start`` at least)."""
    run = start
    while run < t:
        need = t // run
        k = next((k for k, ax in enumerate(axes) if ax[side] == run * unit and ax[0] > 1), None)
        if k is None or axes[k][3] or (not extend and t % run):
            return run if extend else 0
        d, i, o, _ = axes[k]
        f = d if d <= need else _divisor_at_most(d, need)
        if not extend and (need % f or f < need and d > need):
            return 0
        if f == 1:
            return run
        if f < d:  # split: the inner part joins the run
            axes[k:k + 1] = [[d // f, i * f, o * f, ""], [f, i, o, tag]]
        else:
            axes[k][3] = tag
        run *= f
    return run


def _divisor_at_most(d: int, cap: int) -> int:
    return next(p for p in range(min(d, cap), 0, -1) if d % p == 0)


@functools.lru_cache(maxsize=4096)
def plan(shape: tuple[int, ...], strides: tuple[int, ...], itemsize: int) -> PermutePlan | None:
    """The kernel's plan for copying the view of ``shape`` and byte ``strides`` (each a multiple of
    ``itemsize``) into a C-contiguous array; None where the kernel does not apply (too many axes).
    Cached: the contraction engine permutes the same shapes in every slice."""
    dims, st = merged_axes(shape, [s // itemsize for s in strides])
    if not dims:
        return None
    ost = [1] * len(dims)
    for k in range(len(dims) - 2, -1, -1):
        ost[k] = ost[k + 1] * dims[k + 1]
    axes = [[d, s * itemsize, o * itemsize, ""] for d, s, o in zip(dims, st, ost)]
    total = math.prod(dims) * itemsize
    last = axes[-1]
    if last[1] == itemsize and last[0] * itemsize >= LINE_BYTES:  # (1) whole contiguous runs
        if last[0] * itemsize > MAX_LINE_BYTES:
            p = _divisor_at_most(last[0], MAX_LINE_BYTES // itemsize)
            if p * itemsize >= LINE_BYTES:
                axes[-1:] = [[last[0] // p, p * itemsize, p * itemsize, ""], [p, itemsize, itemsize, ""]]
        line = axes[-1][0] * itemsize
        loop = _merge_loop([ax[:3] for ax in axes[:-1]])
        if len(loop) <= _MAX_LOOP:
            return PermutePlan(LINES, line, 0, line % 64 == 0, total, loop, ())
        return None
    # (2) tiles: a run contiguous on both sides (shorter than a line) is the unit
    unit, rest = itemsize, [list(ax) for ax in axes]
    if last[1] == itemsize:
        unit, rest = last[0] * itemsize, rest[:-1]
    if unit in (8, 16, 32) and rest:
        t = 64 // unit
        if _take_run(rest, t, unit, 1, "a") and _take_run(rest, t, unit, 2, "b"):
            # then longer runs on both sides, as far as the axes allow (multiples of t: whole register tiles)
            cap = BLOCK_BYTES // unit
            ta = _take_run(rest, cap, unit, 1, "a", t, extend=True)
            tb = _take_run(rest, cap, unit, 2, "b", t, extend=True)
            a_axes = sorted((ax for ax in rest if ax[3] == "a"), key=lambda ax: ax[1])
            b_axes = sorted((ax for ax in rest if ax[3] == "b"), key=lambda ax: ax[2])
            a_out = _offsets([(ax[0], ax[2]) for ax in a_axes])  # where each input-contiguous unit goes
            b_in = _offsets([(ax[0], ax[1]) for ax in b_axes])  # where each output-contiguous unit comes from
            loop = _merge_loop([ax[:3] for ax in rest if not ax[3]])
            if len(loop) <= _MAX_LOOP and ta % t == 0 and tb % t == 0:
                return PermutePlan(TILE, unit, ta, True, total, loop, [*a_out.tolist(), *b_in.tolist()], tb)
            return None
    # (3) gathered lines: the trailing output axes, element by element through a table
    k = len(axes)
    line_bytes = itemsize
    while k > 0 and line_bytes < GATHER_BYTES:
        k -= 1
        d, i, o, _ = axes[k]
        p = _divisor_at_most(d, max(1, GATHER_MAX_BYTES // line_bytes))
        if d * line_bytes > GATHER_MAX_BYTES and p > 1:  # a long axis: only its inner part (a table of bounded size)
            axes[k:k + 1] = [[d // p, i * p, o * p, ""], [p, i, o, ""]]
            k += 1
            d = p
        line_bytes *= d
    off = _offsets([(ax[0], ax[1]) for ax in reversed(axes[k:])])
    if itemsize == 16:  # the kernel gathers qwords: two per complex128
        off = np.stack([off, off + 8], axis=1).ravel()
    elif itemsize != 8:
        return None
    # innermost, the loop axes that fill in or extend (stride <= span) the input the line
    # reads: successive lines then gather from the cache lines the last ones brought in, and
    # the input is read in runs (output lines are whole runs anyway)
    outer = [ax[:3] for ax in axes[:k]]
    inner: list[list[int]] = []
    span = itemsize + sum((ax[0] - 1) * abs(ax[1]) for ax in axes[k:])  # bytes the line reaches
    for ax in sorted(outer, key=lambda ax: abs(ax[1])):
        if abs(ax[1]) > span or math.prod(x[0] for x in inner) * ax[0] > GATHER_REUSE:
            break
        inner.append(ax)
        span += (ax[0] - 1) * abs(ax[1])
    loop = _merge_loop([ax for ax in outer if ax not in inner] + inner[::-1])
    if len(loop) > _MAX_LOOP:
        return None
    return PermutePlan(GATHER, itemsize, len(off), len(off) % 8 == 0, total, loop, off.tolist())


def _empty_aligned(shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """An uninitialised C-contiguous array starting on a cache line (NumPy aligns to 16 bytes):
    the kernel's tiles then write whole lines, and big outputs may take streaming stores."""
    return aligned_bytes(math.prod(shape) * dtype.itemsize).view(dtype).reshape(shape)


def permute(a: np.ndarray, perm: Sequence[int], out: np.ndarray | None = None) -> np.ndarray:
    """``a.transpose(perm)`` as a new C-contiguous array (``out``, reshaped, when given).

    Args:
        a: an array (any layout; complex64/complex128 use the C kernel).
        perm: a permutation of ``range(a.ndim)``.
        out: a C-contiguous array of ``a.size`` elements of ``a.dtype`` to write into.

    Raises:
        ValueError: ``perm`` is not a permutation of the axes.
    """
    if sorted(perm) != list(range(a.ndim)):
        raise ValueError(f"perm {tuple(perm)} is not a permutation of the {a.ndim} axes")
    view = a.transpose(perm)
    if out is None:
        out = _empty_aligned(view.shape, a.dtype) if a.size >= SMALL_ELEMENTS else np.empty(view.shape, a.dtype)
    elif out.dtype != a.dtype or out.size != a.size or not out.flags.c_contiguous:
        raise ValueError(f"out must be a C-contiguous {a.dtype} array of {a.size} elements")
    else:
        out = out.reshape(view.shape)
    item = a.dtype.itemsize
    lib = _lib() if item in (8, 16) and a.size >= SMALL_ELEMENTS else None  # (bytes: any 8- or 16-byte dtype)
    if lib is None or view.flags.c_contiguous or any(s % item for s in view.strides):
        np.copyto(out, view)
        return out
    p = plan(view.shape, view.strides, item)
    if p is None:
        np.copyto(out, view)
        return out
    threads = num_threads() if a.size >= THREADED_ELEMENTS else 1
    if lib.qtn_permute(view.ctypes.data, out.ctypes.data, p.address, threads) != 0:
        raise RuntimeError(f"the permute kernel refused its plan {p!r}")
    return out
