"""complex64 GEMMs of skinny shapes on the host: a C kernel that streams the big operand once.

``C = A @ B`` with either A small (``m, k <= MAX_SMALL``) and B long (``n`` large), or
the mirrored shape, A long (``m`` large) and B small (``k, n <= MAX_SMALL``). Such
products sit near the machine balance (10-16 flop/byte), where OpenBLAS reaches a
fraction of its large-matmul rate; the kernel (``qtn/data/native/skinny.c``) keeps a
4 x 16 block of C in registers over the whole k loop and reads the long operand once.
B may also be a batch of row-major views (a :class:`~qtn.strided.StridedOperand` split
on its columns), each view's columns written straight into the product.

:func:`matmul` returns None where the shape is not one the kernel was measured faster
on (``bench/skinny_gemm.py``), or where no C compiler works: the caller then uses
``np.matmul``.
"""

from __future__ import annotations

import ctypes
import os

import numpy as np

from . import blas_threads, native
from .host import usable_cores

#: m and k (or k and n, mirrored) at most this: the small operand fits in L1.
MAX_SMALL = 64
#: The long side at least this many elements ((64, 64) x (64, 2^16) measured 0.8x np.matmul, bench/skinny_gemm.py).
MIN_LONG = 1 << 17
#: B transposed (stored ``(n, k)``): the long side at least this, and k a multiple of 4
#: (the panel is transposed in 4 x 4 register blocks), for the kernel to beat np.matmul
#: (1.03-2.75x at n >= 2^20, 0.75-1.32x at 2^18; bench/skinny_gemm.py,
#: skinny_gemm-20261203T150235Z.json). k = 5 measured 0.9x in the A/B that set this rule and
#: 1.1-1.7x in that sweep: left on np.matmul until more runs agree.
MIN_LONG_TRANSPOSED = 1 << 20
#: Streaming stores for C (no read of each line before it is written), on by default.
STREAM = os.environ.get("QTN_SKINNY_STREAM", "1") != "0"
#: Prefetch distance for the rows of B, in complex columns (0: none).
PREFETCH = int(os.environ.get("QTN_SKINNY_PREFETCH", "0"))

_i64 = ctypes.c_int64


def _lib():
    lib = native.load("skinny")
    if lib is not None and not getattr(lib, "_qtn_typed", False):
        lib.qtn_cgemm.argtypes = [ctypes.c_void_p, _i64, _i64, _i64, _i64, ctypes.c_void_p,
                                  ctypes.POINTER(_i64), _i64, _i64, _i64, _i64, ctypes.c_void_p, _i64,
                                  ctypes.c_int, ctypes.c_int, _i64]
        lib.qtn_cgemm.restype = ctypes.c_int
        lib.qtn_cgemm_vectorized.restype = ctypes.c_int
        lib._qtn_typed = True
    return lib


def kernel() -> str:
    """``"avx512"`` or ``"c"`` (portable loops) when the compiled kernel is in use, else
    ``"numpy"`` (and why)."""
    lib = _lib()
    if lib is None:
        return f"numpy ({native.build_error('skinny')})"
    return "avx512" if lib.qtn_cgemm_vectorized() else "c"


def num_threads() -> int:
    """Threads of the kernel: the cores this process may use, no more than BLAS may use
    inside a :func:`qtn.blas_threads.blas_limited` block, one in a forked child."""
    limit = blas_threads.current_limit()
    cores = usable_cores()
    return native.openmp_threads(min(cores, limit) if limit is not None else cores)


def shape_class(m: int, k: int, n: int) -> str | None:
    """``"wide"`` (A small, n long), ``"tall"`` (B small, m long) or None: the shapes
    :func:`matmul` runs."""
    if m <= MAX_SMALL and k <= MAX_SMALL and n >= MIN_LONG:
        return "wide"
    if k <= MAX_SMALL and n <= MAX_SMALL and m >= MIN_LONG:
        return "tall"
    return None


def faster_transposed(m: int, k: int, n: int) -> bool:
    """Whether the kernel measured faster than np.matmul on this wide shape with B
    transposed (B^T row-major, as the lowering often hands B over)."""
    return shape_class(m, k, n) == "wide" and n >= MIN_LONG_TRANSPOSED and k % 4 == 0


def _unit_rows(x: np.ndarray) -> bool:
    # element strides whole, columns of unit stride (rows may be padded)
    return x.strides[1] == x.itemsize and x.strides[0] % x.itemsize == 0 and x.strides[0] >= 0


def _check_out(out: np.ndarray | None, m: int, n: int) -> np.ndarray:
    if out is None:
        return np.empty((m, n), np.complex64)
    if out.dtype != np.complex64 or out.shape != (m, n) or not out.flags.c_contiguous:
        raise ValueError(f"out must be a C-contiguous complex64 array of shape {(m, n)}, "
                         f"got {out.dtype} {out.shape} (C-contiguous: {out.flags.c_contiguous})")
    return out


def _run(lib, a: np.ndarray, m: int, k: int, b_ptr: int, offsets: np.ndarray, ldb: int, bcol: int, n2: int,
         out: np.ndarray) -> np.ndarray:
    item = a.itemsize
    offs = np.ascontiguousarray(offsets, dtype=np.int64)
    rc = lib.qtn_cgemm(a.ctypes.data, a.strides[0] // item, a.strides[1] // item, m, k, b_ptr,
                       offs.ctypes.data_as(ctypes.POINTER(_i64)), len(offs), ldb, bcol, n2,
                       out.ctypes.data, out.shape[1], num_threads(), 1 if STREAM else 0, PREFETCH)
    if rc != 0:
        raise MemoryError("the skinny GEMM kernel could not allocate its packing buffer")
    return out


def _operand_ok(x: np.ndarray) -> bool:
    return isinstance(x, np.ndarray) and x.ndim == 2 and x.dtype == np.complex64 and all(
        s % x.itemsize == 0 for s in x.strides)


def matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray | None:
    """``a @ b`` by the kernel for 2-D complex64 operands of a :func:`shape_class`, into
    ``out`` when given (C-contiguous, complex64, ``(m, n)``); None (nothing written)
    for any other operands, or where the kernel cannot be built.

    The long operand must have unit-stride rows (C-contiguous, or with padded rows); B
    long may also be the transpose of a C-contiguous ``(n, k)`` array. The small one may
    have any strides.

    Raises:
        ValueError: ``out`` does not fit the product.
    """
    if not (_operand_ok(a) and _operand_ok(b)) or a.shape[1] != b.shape[0]:
        return None
    m, k = a.shape
    n = b.shape[1]
    cls = shape_class(m, k, n)
    if cls is None:
        return None
    item = a.itemsize
    if cls == "wide":
        if _unit_rows(b):
            ldb, bcol = b.strides[0] // item, 1
        elif b.strides[0] == item and b.strides[1] >= k * item:
            ldb, bcol = 1, b.strides[1] // item  # B^T row-major (n, k): packed per tile
        else:
            return None
    else:
        if not _unit_rows(a):
            return None
        if not _unit_rows(b):
            b = np.ascontiguousarray(b)  # small: a copy of at most 32 KiB
        ldb, bcol = b.strides[0] // item, 1
    lib = _lib()
    if lib is None:
        return None
    out = _check_out(out, m, n)
    return _run(lib, a, m, k, b.ctypes.data, np.zeros(1, np.int64), ldb, bcol, n, out)


def matmul_views(a: np.ndarray, views: np.ndarray, out: np.ndarray | None = None) -> np.ndarray | None:
    """``a @ B`` where B's columns are a batch of row-major views: ``views`` of shape
    ``lead + (k, n2)`` (rows of unit stride, as :meth:`StridedOperand.batched` gives for
    side ``"b"``) is B = the views side by side, ``(k, prod(lead) * n2)``, lead in C
    order. Into ``out`` when given; None where the kernel does not run this shape.

    Raises:
        ValueError: ``out`` does not fit the product.
    """
    if not (isinstance(a, np.ndarray) and _operand_ok(a) and isinstance(views, np.ndarray)
            and views.dtype == np.complex64 and views.ndim >= 2):
        return None
    k, n2 = views.shape[-2:]
    m = a.shape[0]
    lead = views.shape[:-2]
    count = int(np.prod(lead, dtype=np.int64))
    n = count * n2
    item = views.itemsize
    if a.shape[1] != k or shape_class(m, k, n) != "wide" or views.strides[-1] != item or any(
            s % item or s < 0 for s in views.strides):
        return None
    lib = _lib()
    if lib is None:
        return None
    # element offset of every view (lead in C order) from views' first element
    offsets = np.zeros(1, np.int64)
    for d, s in zip(lead, views.strides[:-2]):
        offsets = (offsets[:, None] + np.arange(d, dtype=np.int64)[None, :] * (s // item)).ravel()
    out = _check_out(out, m, n)
    return _run(lib, a, m, k, views.ctypes.data, offsets, views.strides[-2] // item, 1, n2, out)
