"""Gate fusion: neighbouring gates merged into blocks of a few qubits.

Deep narrow circuits (thousands of one- and two-qubit gates on ten or twenty qubits)
cost more in per-step overhead than in arithmetic. :func:`fuse` merges gates, in
circuit order, into blocks acting on at most ``max_qubits`` qubits (the greedy rule
of qsim's fuser): a gate joins the latest block on its qubits when every other block
on those qubits comes before it and the union stays within the width; otherwise it
opens a new block. A block of diagonal gates only stays diagonal. The grouping
depends on the circuit's structure only, so it is cached; the block matrices are
recomputed from the values on every call.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .blas_threads import one_blas_thread
from .compiler import DIAGONAL, UNITARY, CompiledCircuit

#: Widest block: applying a 4-qubit block to a state is 32 flops per byte moved, about
#: the balance of one core's GEMM rate and memory bandwidth here.
DEFAULT_FUSE_QUBITS = 4
_CACHE_SIZE = 64


@dataclass(frozen=True)
class Gate:
    """One tensor of a compiled circuit: the qubit positions it acts on, whether it is
    stored as its diagonal, and its data (axes: outputs then inputs, or the diagonal)."""

    positions: tuple[int, ...]
    diagonal: bool
    data: np.ndarray


@dataclass(frozen=True)
class Block:
    """Gates ``members`` (indices into :func:`gates_of`) fused on ``positions``."""

    positions: tuple[int, ...]
    members: tuple[int, ...]
    diagonal: bool


def gates_of(cc: CompiledCircuit) -> list[Gate]:
    """Every tensor of a unitary compiled circuit, in circuit order.

    Raises:
        ValueError: the circuit holds noise channels (it has no state vector).
    """
    gates = []
    for op in cc.ops:
        for piece in op.pieces:
            if piece.kind not in (UNITARY, DIAGONAL):
                raise ValueError("a circuit with noise channels has no state vector; use a doubled network")
            gates.append(Gate(piece.positions, piece.kind == DIAGONAL, piece.data))
    return gates


def group(gates: Sequence[Gate], max_qubits: int) -> list[Block]:
    """Greedy fusion of gates into blocks of at most ``max_qubits`` qubits (a wider gate is a block alone)."""
    blocks: list[list] = []  # [positions set, members, diagonal]
    last: dict[int, int] = {}  # qubit -> index of the last block on it
    for g, gate in enumerate(gates):
        owners = {last[p] for p in gate.positions if p in last}
        target = max(owners) if owners else None
        if target is not None and len(blocks[target][0] | set(gate.positions)) <= max_qubits:
            blocks[target][0].update(gate.positions)
            blocks[target][1].append(g)
            blocks[target][2] = blocks[target][2] and gate.diagonal
        else:
            blocks.append([set(gate.positions), [g], gate.diagonal])
            target = len(blocks) - 1
        for p in gate.positions:
            last[p] = target
    return [Block(tuple(sorted(b[0])), tuple(b[1]), b[2]) for b in blocks]


_cache: "OrderedDict[tuple, list[Block]]" = OrderedDict()
_lock = threading.Lock()


def grouping(gates: Sequence[Gate], max_qubits: int) -> list[Block]:
    """:func:`group` of ``gates``, cached by their structure (qubits and diagonality)."""
    key = (tuple((g.positions, g.diagonal) for g in gates), max_qubits)
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    blocks = group(gates, max_qubits)
    with _lock:
        _cache[key] = blocks
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return blocks


def fused_blocks(cc: CompiledCircuit, max_qubits: int) -> "tuple[list[Block], list[np.ndarray]]":
    """The blocks of ``cc`` fused to ``max_qubits`` and each block's tensor
    (:func:`block_tensor`), computed once per compiled circuit and width: every
    bitstring, candidate plan and run of the same compiled circuit shares them."""
    memo = cc.__dict__.setdefault("_fused", {})  # a frozen dataclass still has a __dict__
    found = memo.get(max_qubits)
    if found is None:
        gates = gates_of(cc)
        blocks = grouping(gates, max_qubits)
        with one_blas_thread():  # thousands of tiny products
            found = memo[max_qubits] = (blocks, [block_tensor(gates, b) for b in blocks])
    return found


def block_tensor(gates: Sequence[Gate], block: Block) -> np.ndarray:
    """The block's tensor: axes (outputs, inputs) per position of ``block.positions``, or
    the diagonal (one axis per position) for a diagonal block."""
    f = len(block.positions)
    axis = {p: a for a, p in enumerate(block.positions)}
    dtype = np.result_type(*(gates[g].data for g in block.members))
    if block.diagonal:
        d = np.ones((2,) * f, dtype=dtype)
        for g in block.members:
            gate = gates[g]
            d = d * _broadcast_diag(gate.data, [axis[p] for p in gate.positions], f)
        return d
    if len(block.members) == 1 and not gates[block.members[0]].diagonal:
        # a gate alone (often a wide one): its own tensor, axes put in block order; a
        # product with the identity would cost a 2^f-square matrix multiply
        gate = gates[block.members[0]]
        order = [gate.positions.index(p) for p in block.positions]
        k = len(order)
        return np.ascontiguousarray(np.transpose(gate.data, order + [k + o for o in order]))
    t = np.eye(2**f, dtype=dtype).reshape((2,) * (2 * f))
    for g in block.members:
        gate, data = gates[g], gates[g].data
        ax = [axis[p] for p in gate.positions]
        k = len(ax)
        if gate.diagonal:
            diag = _broadcast_diag(data, ax, f)
            t = t * diag.reshape(diag.shape + (1,) * f)  # scales the output axes
            continue
        # new[out_ax...] = sum_in G[out, in] t[in ...]: tensordot puts G's outputs first,
        # moveaxis puts them back (einsum took ~10x longer on these small tensors)
        t = np.moveaxis(np.tensordot(data, t, axes=(list(range(k, 2 * k)), ax)), list(range(k)), ax)
    return t


def _broadcast_diag(d: np.ndarray, axes: Sequence[int], f: int) -> np.ndarray:
    """A diagonal on ``axes`` of an f-axis block, as an array broadcastable to (2,)*f."""
    order = np.argsort(axes)
    d = np.transpose(d, order)
    shape = [1] * f
    for a in axes:
        shape[a] = 2
    return d.reshape(shape)
