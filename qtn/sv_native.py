"""The direct Schrödinger run on the in-place kernels of :mod:`qtn.svgate`.

Where the kernels load, :mod:`qtn.sv_direct` runs a circuit here. The gate list is
first rewritten (:mod:`qtn.sv_rewrite`): leading one-qubit gates go into the product
start state, SWAPs (also decomposed ones) become relabellings of the state's slots
(slot ``s`` at index bit ``n - 1 - s``). A dense block is one in-place pass on its
bits, a diagonal block one elementwise pass, and where SWAPs moved qubits one
permutation pass at the end writes the state in qubit order. Diagonal gates are
fused into wide diagonal blocks (:func:`qtn.fusion.group_commuting`): a QFT's
controlled phases on one qubit are one pass, where dense fusion cut them into several
dense blocks.
"""

from __future__ import annotations

import ctypes
import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import svgate
from .permute import permute
from .compiler import CompiledCircuit
from .blas_threads import one_blas_thread
from .fusion import block_tensors, fused_blocks, gates_of, grouping
from .initial_state import InitialState
from .statevector import start_vectors
from .sv_rewrite import rewrite

#: Widest dense block. Measured on the 2-core AVX-512 Xeon (bench.lock held, 2^20
#: complex64 amplitudes, both threads, load 2): 0.5 ms a pass for 1-3 qubits, 1.5 ms
#: for 4, 2.6 ms for 5. In one alternating run (load 3.4) 3 beat 4 on QFT-20 (69 vs
#: 81 ms), VQE-20 (72 vs 78) and the adder-20 (37 vs 54), and tied on Grover-12 and QPE-16.
NATIVE_DENSE_QUBITS = 3
#: Widest diagonal block: its table (``2**q`` entries, 512 KiB at 16 qubits in
#: complex64) stays in the L2 cache while the pass streams the state. On QFT-20 (same
#: machine, lock held, load 2): 42 blocks at 15 qubits (run 35.6 ms predicted, 38.8
#: measured), 40 at 16 (34.0), 37 at 20 (32.3 measured), but the tables took 10-18 ms
#: to build at 15-16 qubits and 67-71 ms at 20, a first call's time.
NATIVE_DIAGONAL_QUBITS = 16

_DENSE, _DIAG, _NUMPY = range(3)


@dataclass(frozen=True)
class NativeProgram:
    """The blocks of a compiled circuit as kernel calls on a flat ``2**n`` state.

    Attributes:
        n: qubits.
        dtype: the element type the tables are stored in.
        ops: ``(kind, args)`` per block: ``_DENSE``: (k, target bits as a ctypes array,
            matrix); ``_DIAG``: (bit mask, table); ``_NUMPY``: (axes, matrix) for a dense
            block wider than the kernel takes (applied with ``np.tensordot``).
        start: per qubit, the matrix of its leading one-qubit gates (None: none).
        scale: a scalar the start state is multiplied by (phases of relabelled SWAPs).
        final_axes: the final permutation of the state's axes, ``final_axes[q]`` the axis
            (slot) holding qubit ``q`` (None: no permutation).
    """

    n: int
    dtype: np.dtype
    ops: tuple
    start: tuple = ()
    scale: complex = 1.0
    final_axes: "tuple[int, ...] | None" = None
    default_start: "tuple | None" = None  # start_parts of the |0...0> start


def native_program(cc: CompiledCircuit, dtype: Any = None, dense_qubits: int = NATIVE_DENSE_QUBITS,
                   diagonal_qubits: int = NATIVE_DIAGONAL_QUBITS) -> NativeProgram:
    """The :class:`NativeProgram` of ``cc`` (built once per compiled circuit, widths and dtype)."""
    dtype = np.dtype(cc.dtype if dtype is None else dtype)
    memo = cc.__dict__.setdefault("_native", {})
    key = (dense_qubits, diagonal_qubits, dtype)
    found = memo.get(key)
    if found is None:
        found = memo[key] = _build(cc, dtype, dense_qubits, diagonal_qubits)
    return found


def _build(cc: CompiledCircuit, dtype: np.dtype, dense_qubits: int, diagonal_qubits: int) -> NativeProgram:
    n = len(cc.qubits)
    # a SWAP found saves about three passes over the state; searching a segment for one
    # costs ~30 us of Python (162 ms of a 12-qubit walk's 0.49 s first call), so search
    # only where those passes cost more
    rw = rewrite(gates_of(cc), n, dtype, swaps=3 * PASS_SECONDS * 2**n > SWAP_SEARCH_SECONDS)
    if rw.final == tuple(range(n)) and rw.scale == 1 and all(m is None for m in rw.start):
        # nothing rewritten: the compiled circuit's own fused blocks, which its
        # Schrödinger plan shares (built once, under one BLAS thread)
        blocks, data = fused_blocks(cc, dense_qubits, diagonal_qubits)
    else:
        blocks = grouping(rw.gates, dense_qubits, diagonal_qubits)  # by fusion.group_commuting
        with one_blas_thread():  # thousands of tiny products
            data = block_tensors(rw.gates, blocks)
    ops = []
    for block, tensor in zip(blocks, data):
        k = len(block.positions)
        if block.diagonal:
            # table index bit t is the t-th lowest bit of the mask, i.e. positions read
            # from the last: the C-order table over ascending positions is that already
            mask = sum(1 << (n - 1 - p) for p in block.positions)
            ops.append((_DIAG, (mask, np.ascontiguousarray(tensor, dtype=dtype).reshape(-1))))
        elif k <= svgate.MAX_DENSE:
            bits = (ctypes.c_int * k)(*(n - 1 - p for p in block.positions))
            ops.append((_DENSE, (k, bits, np.ascontiguousarray(tensor.reshape(2**k, 2**k), dtype=dtype))))
        else:
            ops.append((_NUMPY, (tuple(block.positions), np.asarray(tensor, dtype=dtype))))
    final_axes = None if rw.final == tuple(range(n)) else rw.final
    prog = NativeProgram(n, dtype, tuple(ops), rw.start, rw.scale, final_axes)
    # the |0...0> start worked out once: a repeated call only writes it
    return dataclasses.replace(prog, default_start=start_parts(_start_vectors(prog, None), dtype)) if n else prog


#: Seconds per amplitude of one pass, complex64 on both threads (measured with
#: bench.lock held on the 2-core AVX-512 Xeon, 2^20 amplitudes, load 2): a dense block
#: of k qubits about 0.45 + 0.06 * 2^k ns (0.5 ms for k = 1, 1.4 ms for 4), a diagonal 0.6 ns.
PASS_SECONDS = 0.45e-9
DENSE_TERM_SECONDS = 0.06e-9
DIAGONAL_SECONDS = 0.6e-9
#: ... the final bit permutation (measured there: about 1 ms for 2^20 complex64, load 1)
PERMUTE_SECONDS = 1e-9
#: ... and per kernel call (ctypes and the loop in :func:`run_native`).
CALL_SECONDS = 3e-6
#: Seconds one two-qubit segment's SWAP search costs (:func:`qtn.sv_rewrite.rewrite`,
#: measured: 3,492 searches in 0.15 s on a 12-qubit walk): above 2^15 amplitudes the
#: passes a SWAP saves cost more.
SWAP_SEARCH_SECONDS = 40e-6


def predicted_seconds(prog: NativeProgram) -> float:
    """A run's time as the figures above predict (twice as long in complex128 or on one thread)."""
    amps = 2.0**prog.n
    scale = (2 if prog.dtype == np.complex128 else 1) * (2 if svgate._threads(prog.n) == 1 else 1)
    total = 0.0
    for kind, args in prog.ops:
        if kind == _DIAG:
            total += amps * DIAGONAL_SECONDS * scale
        else:
            k = args[0] if kind == _DENSE else len(args[0])
            total += amps * (PASS_SECONDS + DENSE_TERM_SECONDS * 2**k) * scale
    if prog.final_axes is not None:
        total += amps * PERMUTE_SECONDS * scale
    return total + CALL_SECONDS * len(prog.ops)


def start_parts(vectors: list, dtype: Any) -> tuple:
    """What the flat product of per-qubit vectors (qubit 0 the most significant) is made
    from: ``("basis", index, value)`` for a basis state times a scalar, else
    ``("outer", first half, second half)`` (one outer product writes it)."""
    n = len(vectors)
    nonzero = [np.flatnonzero(v) for v in vectors]
    if all(len(z) == 1 for z in nonzero):
        index = sum(int(z[0]) << (n - 1 - p) for p, z in enumerate(nonzero))
        return "basis", index, np.prod([v[z[0]] for v, z in zip(vectors, nonzero)]).astype(dtype)
    halves = []
    for part in (vectors[: n // 2], vectors[n // 2:]):
        h = np.ones(1, dtype=dtype)
        for v in part:
            h = np.multiply.outer(h, v).reshape(-1)
        halves.append(h)
    return "outer", halves[0], halves[1]


def product_state(parts: tuple, n: int, dtype: Any) -> np.ndarray:
    """A fresh flat state from :func:`start_parts` (a basis state: calloc's pages stay lazy)."""
    if parts[0] == "basis":
        state = np.zeros(2**n, dtype=dtype)
        state[parts[1]] = parts[2]
        return state
    return np.multiply.outer(parts[1], parts[2]).reshape(-1)


def _start_vectors(prog: NativeProgram, initial: "InitialState | None") -> list:
    """The start vectors with the folded gates and the scale applied."""
    n, dtype = prog.n, prog.dtype
    vectors = start_vectors(initial, n, dtype)
    for q, m in enumerate(prog.start):
        if m is not None:
            vectors[q] = (m @ vectors[q]).astype(dtype)
    if prog.scale != 1 and n:
        vectors[0] = vectors[0] * dtype.type(prog.scale)
    return vectors


def run_native(prog: NativeProgram, initial: "InitialState | None" = None) -> np.ndarray:
    """The state ``C|initial>`` as a fresh ``(2,) * n`` array, axis ``p`` for qubit ``p``
    (the global phase not applied)."""
    n, dtype = prog.n, prog.dtype
    if n == 0:
        state = np.full(1, prog.scale, dtype=dtype)
    elif initial is None or not initial.blocks:
        state = product_state(prog.default_start, n, dtype)
    else:
        state = product_state(start_parts(_start_vectors(prog, initial), dtype), n, dtype)
    lib = svgate._lib()
    dense = lib.qtn_dense_f if dtype == np.complex64 else lib.qtn_dense_d
    diag = lib.qtn_diag_f if dtype == np.complex64 else lib.qtn_diag_d
    threads = svgate._threads(n)
    ptr = state.ctypes.data
    for kind, args in prog.ops:
        if kind == _DENSE:
            k, bits, mat = args
            rc = dense(ptr, n, k, bits, mat.ctypes.data, 0, 0, threads)
        elif kind == _DIAG:
            mask, table = args
            rc = diag(ptr, n, mask, table.ctypes.data, threads)
        else:
            axes, t = args
            k = len(axes)
            full = state.reshape((2,) * n)
            moved = np.tensordot(t, full, axes=(list(range(k, 2 * k)), list(axes)))
            state[:] = np.moveaxis(moved, list(range(k)), list(axes)).reshape(-1)
            rc = 0
        if rc != 0:
            raise RuntimeError(f"svgate kernel failed (code {rc}) on a {n}-qubit state")
    if prog.final_axes is not None:  # axis q of the result from the slot holding qubit q
        return permute(state.reshape((2,) * n), prog.final_axes)
    return state.reshape((2,) * n)
