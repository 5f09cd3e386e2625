"""The NumPy backend: the host CPU through NumPy's BLAS."""

from __future__ import annotations

import os
from typing import Sequence

import numpy as np

from .base import Backend


def _physical_memory_bytes() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 8 << 30


class NumpyBackend(Backend):
    """Runs every GEMM with ``np.matmul`` on host memory."""

    name = "numpy"
    #: ``matmul`` and ``transpose_reshape`` write into a caller's buffer (``out=``), so
    #: ``qtn.execute`` can reuse a slice's buffers (``qtn.buffers``) across steps and slices.
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
        """``a @ b``; into ``out`` (C-contiguous, the product's shape and dtype) when given."""
        return np.matmul(a, b, out=out)

    def transpose_reshape(self, a: np.ndarray, perm: Sequence[int], shape: Sequence[int],
                          out: np.ndarray | None = None) -> np.ndarray:
        """As :meth:`Backend.transpose_reshape`; a copy that is needed goes into ``out``
        (C-contiguous, of ``shape``) when given, and ``out`` is returned. A view needs no copy
        and ignores ``out``."""
        if tuple(perm) != tuple(range(a.ndim)):
            a = a.transpose(perm)
        if a.flags.c_contiguous:
            return a.reshape(shape)  # a view
        if out is not None:
            np.copyto(out.reshape(a.shape), a)
            return out
        return np.ascontiguousarray(a).reshape(shape)
