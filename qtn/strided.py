"""Operands whose permute the numpy backend folds into the GEMM: batched GEMMs on strided views.

An operand stored as ``(m1, k, m2)`` -- the summed labels in the middle -- is no
matrix, but for each ``m1`` it is the matrix ``(m2, k)`` (BLAS' transposed form). So
``A @ B`` runs as one ``np.matmul`` over a leading batch of views, each writing its
rows of the product, and the operand's data never moves. For B, ``(n1, k, n2)`` alike,
the product's columns of each ``n1`` written through a strided view of the output.

:class:`StridedOperand` is what :meth:`NumpyBackend.transpose_reshape` returns for
such an operand; it reads as the permuted array wherever NumPy asks for one
(``np.asarray``), so a caller that is not ``matmul`` still sees the matrix it asked for.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .permute import merged_axes, permute

#: A batch of views is used only when each view's matrix has at least this many rows
#: (A) or columns (B) on the kept side: below, a call per tiny matrix costs as much as
#: the permute saves (measured, one core: B (16, 2^21) stored (n1, k, n2) with M = 16,
#: n2 = 16 as slow as permute + GEMM, n2 >= 64 within 1.2x of a plain view and 1.4-1.6x
#: faster than permute + GEMM).
MIN_INNER = 64
#: The operand roles run as batches of views. A (``(m1, k, m2)``, BLAS' transposed form
#: per view) measured no faster than permute + GEMM (0.9-1.2x) on the stem shapes of
#: Sycamore (m = 2^21, k = 16-32, n = 32-64), so only B is.
SIDES = ("b",)
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
        if len(c_dims) != 1 or not r_dims:
            return None
        lead, lead_st = r_dims[:-1], r_st[:-1]
        mat, mat_st = (r_dims[-1], c_dims[0]), (r_st[-1], c_st[0])
    else:
        if len(r_dims) != 1 or not c_dims:
            return None
        lead, lead_st = c_dims[:-1], c_st[:-1]
        mat, mat_st = (r_dims[0], c_dims[-1]), (r_st[0], c_st[-1])
    inner = mat[0] if side == "a" else mat[1]
    if not lead or inner < MIN_INNER or not _blasable(mat, mat_st):
        return None
    arr = np.lib.stride_tricks.as_strided(view, shape=tuple(lead) + mat,
                                          strides=tuple(s * item for s in lead_st + list(mat_st)), writeable=False)
    return tuple(lead), arr


def _blasable(mat: tuple[int, int], st: tuple[int, int]) -> bool:
    # rows of unit stride only: NumPy runs a stack of transposed (column-major) matrices
    # in its own loop, not BLAS (measured 12-18x slower than the same stack row-major)
    r, c = mat
    s0, s1 = st
    return s1 == 1 and s0 >= c


def batched_matmul(a, b, out: np.ndarray | None) -> np.ndarray | None:
    """``a @ b`` for 2-D operands of which at least one is a :class:`StridedOperand`,
    as one ``np.matmul`` over the leading views; None where neither splits (the caller
    then permutes)."""
    sa = a.batched("a") if isinstance(a, StridedOperand) and "a" in SIDES else None
    sb = b.batched("b") if isinstance(b, StridedOperand) and "b" in SIDES else None
    if sa is None and sb is None:
        return None
    if isinstance(a, StridedOperand) and sa is None:
        a = a.materialize()
    if isinstance(b, StridedOperand) and sb is None:
        b = b.materialize()
    m, k = a.shape
    n = b.shape[1]
    la, av = sa if sa is not None else ((), a)
    lb, bv = sb if sb is not None else ((), b)
    p, q = len(la), len(lb)
    m2, n2 = av.shape[-2], bv.shape[-1]
    if out is None:
        out = np.empty((m, n), dtype=np.result_type(a.dtype, b.dtype))
    # the product (m, n) = (la, m2, lb, n2) C-contiguous; the GEMMs write (la, lb, m2, n2)
    target = out.reshape(la + (m2,) + lb + (n2,))
    axes = list(range(p)) + list(range(p + 1, p + 1 + q)) + [p, p + 1 + q]
    target = target.transpose(axes)
    if not p:
        # B alone: one GEMM per view, each into its columns of the product (NumPy's
        # matmul into a strided ``out`` stack measured 2x slower than this loop)
        for j in np.ndindex(*lb):
            np.matmul(av, bv[j], out=target[j])
        return out
    av = np.expand_dims(av, tuple(range(p, p + q))) if q else av  # broadcast over B's views
    bv = np.expand_dims(bv, tuple(range(p))) if p else bv
    np.matmul(av, bv, out=target)
    return out


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
