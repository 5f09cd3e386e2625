"""In-place gate kernels on a flat state vector (``qtn/data/native/svgate.c``).

Bit ``b`` of an amplitude's index holds one qubit (the caller chooses which). A dense
``2**k x 2**k`` block is applied on its target bits, optionally only where control bits
have given values, and a diagonal over any set of bits is one pass; neither copies the
state. :func:`available` is False where no C compiler works; callers then use NumPy.
"""

from __future__ import annotations

import ctypes
import operator
from typing import Any, Sequence

import numpy as np

from . import native
from .permute import num_threads

#: The widest dense block the kernel takes.
MAX_DENSE = 6
#: Below this many amplitudes a pass runs on one thread (starting threads costs more).
THREADED_AMPLITUDES = 1 << 15


def _lib():
    lib = native.load("svgate")
    if lib is not None and not getattr(lib, "_qtn_typed", False):
        u64, ip = ctypes.c_uint64, ctypes.POINTER(ctypes.c_int)
        for fn in (lib.qtn_dense_f, lib.qtn_dense_d):
            fn.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ip, ctypes.c_void_p, u64, u64, ctypes.c_int]
            fn.restype = ctypes.c_int
        for fn in (lib.qtn_diag_f, lib.qtn_diag_d):
            fn.argtypes = [ctypes.c_void_p, ctypes.c_int, u64, ctypes.c_void_p, ctypes.c_int]
            fn.restype = ctypes.c_int
        lib._qtn_typed = True
    return lib


def available() -> bool:
    """Whether the compiled kernels load (else :func:`native.build_error` says why)."""
    return _lib() is not None


def _check_state(state: np.ndarray) -> int:
    if not isinstance(state, np.ndarray) or state.dtype not in (np.complex64, np.complex128):
        raise TypeError(f"state must be a complex64 or complex128 NumPy array, not {getattr(state, 'dtype', type(state))}")
    if not state.flags.c_contiguous or not state.flags.writeable:
        raise ValueError("state must be C-contiguous and writeable (the kernels work in place)")
    n = state.size.bit_length() - 1
    if state.size < 1 or state.size != 1 << n:
        raise ValueError(f"state has {state.size} amplitudes, not a power of two")
    return n


def _bit_list(name: str, bits: Sequence[int]) -> list[int]:
    """``bits`` as ints, or a TypeError naming the argument."""
    try:
        return [operator.index(b) for b in bits]
    except TypeError:
        raise TypeError(f"{name} must be a sequence of int bit positions, got {bits!r}") from None


def _ready(state: np.ndarray) -> tuple[Any, int]:
    """The loaded kernels and the qubit count of a state they can take."""
    lib = _lib()
    if lib is None:
        raise RuntimeError(f"svgate kernel not built: {native.build_error('svgate')}")
    return lib, _check_state(state)


def _threads(n: int) -> int:
    return num_threads() if (1 << n) >= THREADED_AMPLITUDES else 1


def apply_dense(state: np.ndarray, targets: Sequence[int], matrix: np.ndarray,
                controls: Sequence[int] = (), control_values: Sequence[int] | None = None) -> None:
    """``state`` (flat, ``2**n``) times ``matrix`` on bits ``targets`` (``targets[0]`` the
    matrix index's most significant bit), only where bit ``controls[i]`` is
    ``control_values[i]`` (default 1), in place.

    Raises:
        TypeError / ValueError: a state, matrix or bit list the kernel cannot take.
        RuntimeError: the kernel is not available.
    """
    lib, n = _ready(state)
    targets, controls = _bit_list("targets", targets), _bit_list("controls", controls)
    k = len(targets)
    if not 1 <= k <= MAX_DENSE:
        raise ValueError(f"a dense block acts on 1 to {MAX_DENSE} bits, not {k}")
    values = [1] * len(controls) if control_values is None else list(control_values)
    bits = list(targets) + list(controls)
    if len(values) != len(controls) or any(v not in (0, 1) for v in values):
        raise ValueError("control_values must give 0 or 1 for each control")
    if len(set(bits)) != len(bits) or any(not 0 <= b < n for b in bits):
        raise ValueError(f"targets and controls must be distinct bits in 0..{n - 1}, got {targets} and {controls}")
    mat = np.ascontiguousarray(matrix, dtype=state.dtype)
    if mat.shape != (1 << k, 1 << k):
        raise ValueError(f"matrix must be {1 << k} x {1 << k} for {k} targets, not {mat.shape}")
    cmask = sum(1 << b for b in controls)
    cval = sum(v << b for v, b in zip(values, controls))
    fn = lib.qtn_dense_f if state.dtype == np.complex64 else lib.qtn_dense_d
    tb = (ctypes.c_int * k)(*targets)
    rc = fn(state.ctypes.data, n, k, tb, mat.ctypes.data, cmask, cval, _threads(n))
    if rc != 0:
        raise ValueError(f"svgate dense kernel refused its arguments (code {rc})")


def apply_diagonal(state: np.ndarray, bits: Sequence[int], table: np.ndarray) -> None:
    """``state`` (flat) times the diagonal ``table`` over ``bits``, in place: amplitude
    ``i`` is multiplied by ``table[j]``, where bit ``t`` of ``j`` is bit ``sorted(bits)[t]`` of ``i``.

    Raises:
        TypeError / ValueError: a state, table or bit list the kernel cannot take.
        RuntimeError: the kernel is not available.
    """
    lib, n = _ready(state)
    bits = _bit_list("bits", bits)
    if len(set(bits)) != len(bits) or any(not 0 <= b < n for b in bits):
        raise ValueError(f"bits must be distinct in 0..{n - 1}, got {bits}")
    tab = np.ascontiguousarray(table, dtype=state.dtype).reshape(-1)
    if tab.size != 1 << len(bits):
        raise ValueError(f"table must have {1 << len(bits)} entries for {len(bits)} bits, not {tab.size}")
    fn = lib.qtn_diag_f if state.dtype == np.complex64 else lib.qtn_diag_d
    rc = fn(state.ctypes.data, n, sum(1 << b for b in bits), tab.ctypes.data, _threads(n))
    if rc != 0:
        raise ValueError(f"svgate diagonal kernel refused its arguments (code {rc})")

