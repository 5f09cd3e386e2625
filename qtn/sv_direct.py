"""The Schrödinger order run straight on one host array: fused blocks applied in place of a path.

The Schrödinger plan (:mod:`qtn.statevector`) is a contraction path like any other, so
every backend runs it through :func:`qtn.execute.contract`. On the NumPy backend in
this process (serial, no checkpoint) the same fused blocks are applied here instead,
to one array of ``2**n`` amplitudes: a dense block is one transposed copy and one GEMM
(none of the copy where its qubits already lead or trail), a diagonal block one
in-place broadcast product. The axis permutations are worked out once per compiled
circuit (:func:`program`), so a run is a few NumPy calls per block and nothing else;
the generic path spends tens of microseconds of bookkeeping per step, which is most of
what a circuit of a few hundred gates on a dozen qubits costs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from .blas_threads import one_blas_thread
from .compiler import CompiledCircuit
from .fusion import DEFAULT_FUSE_QUBITS, fused_blocks
from .initial_state import InitialState
from .statevector import start_state
from .sv_native import native_program, run_native
from . import svgate

# how a block is applied (see Program.ops)
_DIAG, _LEAD, _TAIL, _MOVE = range(4)


@dataclass(frozen=True)
class Program:
    """The blocks of a compiled circuit as array operations on a ``(2,) * n`` state.

    Attributes:
        n: qubits.
        ops: ``(kind, data, perm)`` per block: ``_DIAG`` multiplies by ``data`` (broadcast
            over the state's axes); ``_LEAD`` / ``_TAIL`` multiply the matrix ``data`` into
            the leading / trailing axes as they lie; ``_MOVE`` first moves the axes ``perm``
            to the front (a copy). The block's outputs then lead, in its order.
        final: ``final[p]``: the state's axis holding qubit ``p`` after the last block.
    """

    n: int
    ops: tuple[tuple[int, np.ndarray, "tuple[int, ...] | None"], ...]
    final: tuple[int, ...]


def program(cc: CompiledCircuit, fuse_qubits: int = DEFAULT_FUSE_QUBITS) -> Program:
    """The :class:`Program` of ``cc`` fused to ``fuse_qubits`` (built once per compiled circuit and width)."""
    memo = cc.__dict__.setdefault("_direct", {})
    found = memo.get(fuse_qubits)
    if found is None:
        found = memo[fuse_qubits] = _build(cc, fuse_qubits)
    return found


def _build(cc: CompiledCircuit, fuse_qubits: int) -> Program:
    blocks, data = fused_blocks(cc, fuse_qubits)
    n = len(cc.qubits)
    axes = list(range(n))  # axes[p]: the state's axis that holds qubit p now
    ops = []
    for block, tensor in zip(blocks, data):
        phys = [axes[p] for p in block.positions]
        k = len(phys)
        if block.diagonal:
            shape = [1] * n
            for a in phys:
                shape[a] = 2
            view = np.ascontiguousarray(np.transpose(tensor, np.argsort(phys))).reshape(shape)
            ops.append((_DIAG, view, None))
            continue
        mat = np.ascontiguousarray(tensor.reshape(2**k, 2**k))
        if phys == list(range(n - k, n)):  # trailing in order: state (L, K) @ mat.T, layout kept
            ops.append((_TAIL, np.ascontiguousarray(mat.T), None))
            continue
        rest = [a for a in range(n) if a not in set(phys)]
        ops.append((_LEAD, mat, None) if phys == list(range(k)) else (_MOVE, mat, tuple(phys + rest)))
        moved = {old: k + i for i, old in enumerate(rest)}
        axes = [moved.get(a, -1) for a in axes]
        for j, p in enumerate(block.positions):
            axes[p] = j
    return Program(n, tuple(ops), tuple(axes))


#: Up to this many amplitudes a run keeps BLAS to one thread: its GEMMs are too small for
#: a second thread to pay, and on a loaded machine a BLAS thread waiting for a core made
#: a 16 x 16 by 16 x 4096 complex64 GEMM 30x slower (measured here, load 5 on 2 cores).
ONE_THREAD_AMPLITUDES = 1 << 18


def run(prog: Program, dtype: Any, initial: "InitialState | None" = None) -> np.ndarray:
    """The state ``C|initial>`` as an array of shape ``(2,) * n``, axis ``p`` for qubit ``p``
    (a view; the global phase not applied)."""
    with one_blas_thread(2**prog.n <= ONE_THREAD_AMPLITUDES):
        return _run(prog, dtype, initial)


def _run(prog: Program, dtype: Any, initial: "InitialState | None") -> np.ndarray:
    n = prog.n
    state = start_state(initial, n, dtype)
    full = (2,) * n
    for kind, data, perm in prog.ops:
        if kind == _DIAG:
            state = state.reshape(full)
            state *= data
        elif kind == _TAIL:
            state = state.reshape(-1, data.shape[0]) @ data
        elif kind == _LEAD:
            state = data @ state.reshape(data.shape[0], -1)
        else:
            state = data @ state.reshape(full).transpose(perm).reshape(data.shape[0], -1)
    return state.reshape(full).transpose(prog.final)


def native_ok(cc: CompiledCircuit) -> bool:
    """Whether :mod:`qtn.sv_native` can run ``cc``: the kernels load and take its dtype."""
    return np.dtype(cc.dtype) in (np.complex64, np.complex128) and svgate.available()


def contract_direct(cc: CompiledCircuit, open_positions: Sequence[int], bits: Sequence[int] | None,
                    initial: "InitialState | None", fuse_qubits: int = DEFAULT_FUSE_QUBITS,
                    use_native: bool | None = None) -> np.ndarray:
    """What the Schrödinger network of :func:`qtn.statevector.schrodinger_network` contracts
    to: ``C|initial>`` with ``open_positions`` open (in that order) and every other qubit
    ``p`` closed by ``<bits[p]|`` (0 without ``bits``), global phase included.

    The in-place kernels of :mod:`qtn.sv_native` run it where they load (``use_native``
    None or True; False forces the NumPy path), else the copy + GEMM blocks here."""
    native = use_native is not False and native_ok(cc)
    if native:
        state = run_native(native_program(cc), initial)
    else:
        state = run(program(cc, fuse_qubits), cc.dtype, initial)
    open_set = set(open_positions)
    whole = True  # still the whole fresh array run_native made
    if len(open_set) < len(cc.qubits):
        index = tuple(slice(None) if p in open_set else (bits[p] if bits is not None else 0)
                      for p in range(len(cc.qubits)))
        state = state[index]
        whole = False
    kept = sorted(open_set)  # the axes left, ascending by position
    order = [kept.index(p) for p in open_positions]
    if order != list(range(len(order))):
        state = state.transpose(order)
        whole = False
    # run_native's array is this call's own: a copy would only cost a pass over fresh memory
    # (else a copy: ascontiguousarray would make a 0-d array 1-d, and run's is a view)
    result = state if native and whole else np.array(state, order="C")
    if cc.phase != 1:
        result *= cc.phase
    return result

