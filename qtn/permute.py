"""Permuting (transposing) complex tensors on the host: a blocked multi-core C kernel.

``permute(a, perm)`` returns ``a.transpose(perm)`` as a new C-contiguous array. Axes
that stay neighbours are merged first, so a permute that moves long contiguous blocks
becomes a loop of ``memcpy``; the others walk the source's contiguous axis and the
destination's in 16 x 16 tiles. Outer iterations are shared among threads (OpenMP).
Measured against NumPy's copy and TBLIS' tensor add in ``bench/engine.py``. Where no
C compiler works, NumPy's copy is used (``kernel()`` says which).
"""

from __future__ import annotations

import ctypes
import math
from typing import Sequence

import numpy as np

from . import native
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
        i64p = ctypes.POINTER(ctypes.c_int64)
        for fn in (lib.qtn_permute8, lib.qtn_permute16):
            fn.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int, i64p, i64p, ctypes.c_int]
            fn.restype = ctypes.c_int
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


#: Axes longer than this are split so that the kernel's tiles stay small (a few KiB).
TILE_AXIS = 32


def tile_axes(dims: list[int], strides: list[int]) -> tuple[list[int], list[int]]:
    """Split long axes into (outer, ``TILE_AXIS``) pairs, so that the kernel can tile them;
    a long last axis of stride 1 (a run of ``memcpy``) stays whole."""
    if dims and strides[-1] == 1 and dims[-1] >= 8:
        return dims, strides
    out_d: list[int] = []
    out_s: list[int] = []
    for d, s in zip(dims, strides):
        pieces: list[tuple[int, int]] = []  # (length, stride), innermost first
        while d > 2 * TILE_AXIS and math.gcd(d, TILE_AXIS) > 1:
            piece = math.gcd(d, TILE_AXIS)
            pieces.append((piece, s))
            d, s = d // piece, s * piece
        pieces.append((d, s))
        for length, stride in reversed(pieces):
            out_d.append(length)
            out_s.append(stride)
    return out_d, out_s


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
        out = np.empty(view.shape, dtype=a.dtype)
    elif out.dtype != a.dtype or out.size != a.size or not out.flags.c_contiguous:
        raise ValueError(f"out must be a C-contiguous {a.dtype} array of {a.size} elements")
    else:
        out = out.reshape(view.shape)
    lib = _lib() if a.dtype.itemsize in (8, 16) and a.size >= SMALL_ELEMENTS else None
    if lib is None or view.flags.c_contiguous:
        np.copyto(out, view)
        return out
    item = a.dtype.itemsize
    if any(s % item for s in view.strides):
        np.copyto(out, view)
        return out
    dims, strides = tile_axes(*merged_axes(view.shape, [s // item for s in view.strides]))
    if len(dims) > 64 or 1 not in strides:  # not a permuted contiguous array: let NumPy do it
        np.copyto(out, view)
        return out
    d = (ctypes.c_int64 * len(dims))(*dims)
    s = (ctypes.c_int64 * len(dims))(*strides)
    fn = lib.qtn_permute8 if item == 8 else lib.qtn_permute16
    threads = num_threads() if a.size >= THREADED_ELEMENTS else 1
    if fn(view.ctypes.data, out.ctypes.data, len(dims), d, s, threads) != 0:
        raise MemoryError("the permute kernel could not allocate its offset tables")
    return out
