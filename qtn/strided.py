"""Operands whose permute the numpy backend folds into the GEMM: GEMMs on strided views.

An operand whose summed labels are one run between kept ones is no matrix, but a
batch of matrices that BLAS reads as they are:

* B stored ``(n1, k, n2)``: for each ``n1`` the row-major matrix ``(k, n2)``; its GEMM
  writes the product's columns of that ``n1`` (a strided view of the output).
* A stored ``(m1, k, m2)``: for each ``m1`` the *column-major* matrix ``(m2, k)`` (BLAS'
  transposed form); its GEMM writes the product's rows of that ``m1``, a contiguous
  block. NumPy runs a stack of column-major matrices in its own loop, not BLAS, so
  these run as one 2-D ``np.matmul`` per view (2-D transposed views do go to BLAS).

The product is ``(m1, m2, n)`` in the first case's role mirrored: with both forms the
layout search (:mod:`qtn.layout`) may put a big operand's kept labels before or after
the small one's without moving the big one.

:class:`StridedOperand` is what :meth:`NumpyBackend.transpose_reshape` returns for
such an operand; it reads as the permuted array wherever NumPy asks for one
(``np.asarray``), so a caller that is not ``matmul`` still sees the matrix it asked for.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from math import prod
from typing import Callable, Sequence

import numpy as np

from . import blas_threads
from .permute import merged_axes, permute

#: A batch of views is used only when each view's matrix has at least this many rows
#: (A) or columns (B) on the kept side: below, a call per tiny matrix costs as much as
#: the permute saves (measured, one core: B (16, 2^21) stored (n1, k, n2) with M = 16,
#: n2 = 16 as slow as permute + GEMM, n2 >= 64 within 1.2x of a plain view and 1.4-1.6x
#: faster than permute + GEMM).
MIN_INNER = 64
#: The operand roles run as batches of views. A ``(m1, k, m2)`` as a loop of 2-D GEMMs
#: on column-major views measured about as fast as permute + GEMM on its steps of the
#: Sycamore m = 10 tree (bench/engine_steps.py: 0.9-1.0x at load 3, up to 1.3x slower
#: at load 2); what it buys is freedom of layout: a stem step's product may put the
#: small operand's labels last as well as first without moving the big one, which is
#: what lets that tree's 2^26- and 2^25-element B operands of steps 73 and 81 run as views.
SIDES = ("a", "b")
#: Each view is a GEMM call of its own (from Python): an operand of more views is permuted
#: (the layout prices every view, qtn.layout.VIEW_CHARGE; a cap of 2^12 or 2^13 loses
#: the Sycamore m = 10 layouts in which steps 73 and 81 run as views).
MAX_VIEWS = 1 << 14
#: Operands smaller than this are permuted (a copy of a few KiB costs nothing).
MIN_ELEMENTS = 1 << 16


class StridedOperand:
    """``base.transpose(perm).reshape(shape)`` (2-D), left as a view for ``matmul``.

    Attributes:
        base: the stored array.
        perm: the permutation of its axes.
        shape: the logical matrix shape ``(rows, cols)``.
    """

    def __init__(self, base: np.ndarray, perm: Sequence[int], shape: Sequence[int]) -> None:
        self.base = base
        self.perm = tuple(perm)
        self.shape = tuple(int(x) for x in shape)
        self.dtype = base.dtype
        self.ndim = len(self.shape)
        self.size = base.size
        self.nbytes = base.nbytes
        self.itemsize = base.itemsize

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        out = permute(self.base, self.perm).reshape(self.shape)
        return out if dtype is None else out.astype(dtype, copy=False)

    def materialize(self) -> np.ndarray:
        return np.asarray(self)

    def batched(self, side: str) -> tuple[tuple[int, ...], np.ndarray] | None:
        """``(lead, view)``: the operand as a strided array ``lead + (inner, cols)`` (A,
        ``side="a"``: the rows split) or ``lead + (rows, inner)`` (B, ``"b"``: the columns
        split), each matrix readable by BLAS; None where no such split exists."""
        return split(self.base, self.perm, self.shape, side)


def split(base: np.ndarray, perm: Sequence[int], shape: Sequence[int], side: str):
    """See :meth:`StridedOperand.batched`."""
    view = base.transpose(perm)
    rows, cols = shape
    item = base.itemsize
    dims = list(view.shape)
    strides = [s // item for s in view.strides]
    j, acc = 0, 1  # view axes [0, j) are the matrix rows
    while j < len(dims) and acc < rows:
        acc *= dims[j]
        j += 1
    if acc != rows:
        return None
    r_dims, r_st = merged_axes(dims[:j], strides[:j])
    c_dims, c_st = merged_axes(dims[j:], strides[j:])
    if side == "a":
        # k one run; the rows of each view the last run of m, of unit stride (column-major)
        if len(c_dims) != 1 or not r_dims or r_st[-1] != 1:
            return None
        lead, lead_st = r_dims[:-1], r_st[:-1]
        mat, mat_st = (r_dims[-1], c_dims[0]), (r_st[-1], c_st[0])
    else:
        if len(r_dims) != 1 or not c_dims:
            return None
        lead, lead_st = c_dims[:-1], c_st[:-1]
        mat, mat_st = (r_dims[0], c_dims[-1]), (r_st[0], c_st[-1])
    inner = mat[0] if side == "a" else mat[1]
    if not lead or prod(lead) > MAX_VIEWS or inner < MIN_INNER or not _blasable(mat, mat_st, side):
        return None
    arr = np.lib.stride_tricks.as_strided(view, shape=tuple(lead) + mat,
                                          strides=tuple(s * item for s in lead_st + list(mat_st)), writeable=False)
    return tuple(lead), arr


def _blasable(mat: tuple[int, int], st: tuple[int, int], side: str) -> bool:
    # B: rows of unit stride (one np.matmul over the stack goes to BLAS); A: columns of
    # unit stride, each view then a 2-D transposed matrix (a GEMM call per view)
    r, c = mat
    s0, s1 = st
    if side == "a":
        return s0 == 1 and s1 >= r
    return s1 == 1 and s0 >= c


def batched_matmul(a, b, out: np.ndarray | None) -> np.ndarray | None:
    """``a @ b`` for 2-D operands of which at least one is a :class:`StridedOperand`,
    as one GEMM per view of the one that splits (the larger where both do; the other is
    permuted); None where neither splits (the caller then permutes)."""
    sa = a.batched("a") if isinstance(a, StridedOperand) and "a" in SIDES else None
    sb = b.batched("b") if isinstance(b, StridedOperand) and "b" in SIDES else None
    if sa is not None and sb is not None:
        # both split: the larger keeps its views, the other is permuted
        if a.size >= b.size:
            sb = None
        else:
            sa = None
    if sa is None and sb is None:
        return None
    if isinstance(a, StridedOperand) and sa is None:
        a = a.materialize()
    if isinstance(b, StridedOperand) and sb is None:
        b = b.materialize()
    m, k = a.shape
    n = b.shape[1]
    if out is None:
        out = np.empty((m, n), dtype=np.result_type(a.dtype, b.dtype))
    if sa is not None:
        # A alone: per view a 2-D GEMM (column-major A: BLAS' transposed form) into a
        # contiguous block of the product's rows
        la, av = sa
        target = out.reshape(la + (av.shape[-2], n))
        _for_views(list(np.ndindex(*la)), lambda i: np.matmul(av[i], b, out=target[i]))
        return out
    # B alone: one GEMM per view, each into its columns of the product (NumPy's matmul
    # into a strided ``out`` stack measured 2x slower than this loop); the product
    # (m, n) = (m, lb, n2) C-contiguous, the GEMMs write (lb, m, n2)
    lb, bv = sb
    target = out.reshape((m,) + lb + (bv.shape[-1],))
    target = target.transpose(tuple(range(1, len(lb) + 1)) + (0, len(lb) + 1))
    _for_views(list(np.ndindex(*lb)), lambda j: np.matmul(a, bv[j], out=target[j]))
    return out


_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


#: Load average above which the view loop runs on Python threads of one BLAS thread
#: each, as a share of the cores BLAS uses: measured on the Sycamore m = 10 tree, one
#: loop of BLAS calls on both cores took 1.19 s against 1.41 s threaded on a quiet
#: machine (load < 1), and 7.4 s against 3.2 s at load ~3 (other jobs on the cores).
BUSY_LOAD_PER_CORE = 1.25


def _machine_busy(cores: int) -> bool:
    """Whether other work is likely waiting for the cores (the 1-minute load average,
    this process's own threads included, is past :data:`BUSY_LOAD_PER_CORE` per core)."""
    try:
        return os.getloadavg()[0] > BUSY_LOAD_PER_CORE * cores
    except OSError:  # no load average on this platform
        return False


def _for_views(views: list, gemm: Callable[[tuple], object]) -> None:
    """``gemm(v)`` for every view: on a busy machine, with BLAS on ``w > 1`` threads and at least ``2 w`` views,
    on ``w`` Python threads of one BLAS thread each, every thread a contiguous share of
    the views (NumPy lets go of the GIL in BLAS). Each view's GEMM is small, and
    OpenBLAS' threads meet at the end of every call: on a loaded machine a thread that
    waits for a core stalls each call (step 27 of the Sycamore m = 10 tree, 256 views of
    (64, 16) x (16, 256): 97 ms planned against 27 ms permuted at load 4 on 2 cores)."""
    global _pool
    width = max((lib.num_threads for lib in blas_threads._blas_libs()), default=1)
    workers = min(width, len(views) // 2) if _machine_busy(width) else 1
    if workers <= 1:
        for v in views:
            gemm(v)
        return
    with _pool_lock:
        if _pool is None or _pool._max_workers < workers:
            _pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="qtn-views")
        pool = _pool
    cut = [len(views) * w // workers for w in range(workers + 1)]

    def share(w: int) -> None:
        for v in views[cut[w]:cut[w + 1]]:
            gemm(v)

    with blas_threads.one_blas_thread():
        for f in [pool.submit(share, w) for w in range(workers)]:
            f.result()


def blas_ready(a: np.ndarray) -> bool:
    """C-contiguous, a matrix with one unit stride (BLAS' N or T form), or a stack of
    matrices with rows of unit stride (NumPy loops over a stack of T-form matrices
    itself, without BLAS: measured 12-18x slower)."""
    if a.flags.c_contiguous:
        return True
    if a.ndim < 2:
        return False
    s0, s1 = a.strides[-2:]
    item = a.itemsize
    rows, cols = a.shape[-2:]
    if s1 == item and s0 >= cols * item:
        return True
    return a.ndim == 2 and s0 == item and s1 >= rows * item


def how_it_runs(shape: Sequence[int], perm: Sequence[int], target: Sequence[int], itemsize: int = 8) -> str:
    """How the numpy backend runs ``transpose_reshape`` of a C-contiguous array of ``shape``:
    ``"view"`` (BLAS reads it as it is), ``"strided"`` (a batch of views, see
    :class:`StridedOperand`; for the side that splits) or ``"move"`` (the permute kernel).
    Decided on the strides alone: no array of that size is made."""
    strides = [itemsize] * len(shape)
    for d in range(len(shape) - 2, -1, -1):
        strides[d] = strides[d + 1] * shape[d + 1]
    dtype = np.complex64 if itemsize == 8 else np.complex128
    a = np.lib.stride_tricks.as_strided(np.zeros(1, dtype), shape=tuple(shape), strides=tuple(strides), writeable=False)
    view = a.transpose(perm)
    try:
        if blas_ready(view.reshape(target, copy=False)):
            return "view"
    except ValueError:
        pass
    if len(target) == 2 and a.size >= MIN_ELEMENTS and any(split(a, perm, target, s) is not None for s in SIDES):
        return "strided"
    return "move"
