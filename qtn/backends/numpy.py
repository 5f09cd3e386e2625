"""The NumPy backend: the host CPU through NumPy's BLAS."""

from __future__ import annotations

import os
from typing import Sequence

import numpy as np

from ..permute import permute
from .. import skinny_gemm, strided
from ..strided import StridedOperand, batched_matmul, blas_ready, split
from .base import Backend


def _physical_memory_bytes() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 8 << 30


def _skinny(a, b, out: np.ndarray | None) -> np.ndarray | None:
    """``a @ b`` by :mod:`qtn.skinny_gemm` where it measured faster than ``np.matmul``: a
    small A times a long row-major B, a long B stored transposed (where
    :func:`skinny_gemm.faster_transposed`), or a long B as a batch of views; None otherwise
    (nothing written)."""
    if isinstance(b, StridedOperand):
        if isinstance(a, StridedOperand) or skinny_gemm.shape_class(a.shape[0], a.shape[1], b.shape[1]) != "wide":
            return None
        if not isinstance(a, np.ndarray) or a.dtype != np.complex64 or b.dtype != np.complex64:
            return None
        split_b = b.batched("b") if "b" in strided.SIDES else None
        return skinny_gemm.matmul_views(a, split_b[1], out) if split_b is not None else None
    if isinstance(a, StridedOperand) or not isinstance(b, np.ndarray) or b.ndim != 2 or a.ndim != 2:
        return None
    # only the wide class (the mirrored, tall shape measured no faster than np.matmul), a
    # transposed B where the kernel measured faster (bench/skinny_gemm.py)
    m, k, n = a.shape[0], a.shape[1], b.shape[1]
    if skinny_gemm.shape_class(m, k, n) != "wide":
        return None
    if b.strides[-1] != b.itemsize and not skinny_gemm.faster_transposed(m, k, n):
        return None
    return skinny_gemm.matmul(a, b, out)


class NumpyBackend(Backend):
    """Runs every GEMM with ``np.matmul`` on host memory (skinny complex64 shapes with
    :mod:`qtn.skinny_gemm`'s kernel, where it measured faster)."""

    name = "numpy"
    #: ``matmul`` and ``transpose_reshape`` write into a caller's buffer (``out=``), so
    #: ``qtn.execute`` can reuse a slice's buffers (``qtn.buffers``) across steps and slices.
    #: Such a backend also takes ``side=`` ("a"/"b") on ``transpose_reshape``.
    accepts_out = True

    def memory_budget(self) -> int:
        # A contraction keeps a few intermediates of the largest size alive at once
        # (two operands, the result, and their transposed copies), so one eighth of RAM.
        return _physical_memory_bytes() // 8

    def to_device(self, a: np.ndarray) -> np.ndarray:
        return np.asarray(a)

    def to_host(self, a: np.ndarray) -> np.ndarray:
        return np.asarray(a, order="C")  # (ascontiguousarray would make 0-d arrays 1-d)

    def matmul(self, a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """``a @ b``; into ``out`` (C-contiguous, the product's shape and dtype) when given.
        A :class:`~qtn.strided.StridedOperand` runs as a batch of GEMMs on its views."""
        product = _skinny(a, b, out)
        if product is not None:
            return product
        if isinstance(a, StridedOperand) or isinstance(b, StridedOperand):
            product = batched_matmul(a, b, out)
            if product is not None:
                return product
            a, b = np.asarray(a), np.asarray(b)
        if a.shape[-1] == 1 and a.ndim >= 2 and b.ndim >= 2:
            # k = 1 (a diagonal gate's hyperedge): a scaling or a batch of outer products,
            # one broadcast product instead of a stack of rank-1 GEMMs (a stack of
            # 16384 128 x 1 x 8 products: 36 ms against matmul's 54 ms, measured here)
            return np.multiply(a, b, out=out)
        return np.matmul(a, b, out=out)

    def transpose_reshape(self, a: np.ndarray, perm: Sequence[int], shape: Sequence[int],
                          out: np.ndarray | None = None, side: str | None = None) -> np.ndarray:
        """As :meth:`Backend.transpose_reshape`. A matrix (or stack) that BLAS reads as it
        is -- a transposed one included -- is handed on as a view and ``out`` is ignored;
        so is a matrix that is a batch of such views (a :class:`~qtn.strided.StridedOperand`,
        which :meth:`matmul` runs as batched GEMMs and ``np.asarray`` permutes); anything
        else is copied by the blocked permute kernel, into ``out`` (C-contiguous,
        of ``shape``) when given. ``side`` (``"a"``/``"b"``: the operand's place in the
        product) limits the batch of views to the split that side can use, so an operand
        that only splits for the other side is copied into ``out`` (the pool's buffer)."""
        view = a.transpose(perm) if tuple(perm) != tuple(range(a.ndim)) else a
        try:
            reshaped = view.reshape(shape, copy=False)
        except ValueError:  # not expressible as a view: the data must move
            reshaped = None
        if reshaped is not None and blas_ready(reshaped):
            return reshaped
        if len(shape) == 2 and a.size >= strided.MIN_ELEMENTS and a.dtype.kind == "c" and any(
                split(a, perm, shape, s) is not None for s in strided.SIDES if side in (None, s)):
            # the summed labels sit between kept ones: matmul runs it as a batch of views
            return StridedOperand(a, perm, shape)
        if out is not None:
            permute(a, perm, out=out)
            return out  # the caller's buffer itself: the pool tells copies from views by identity
        return permute(a, perm).reshape(shape)
