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


def gates_of(cc: CompiledCircuit) -> tuple[Gate, ...]:
    """Every tensor of a unitary compiled circuit, in circuit order (listed once per
    compiled circuit: its fused blocks and its native program both start from it).

    Raises:
        ValueError: the circuit holds noise channels (it has no state vector).
    """
    found = cc.__dict__.get("_gates")  # a frozen dataclass still has a __dict__
    if found is not None:
        return found
    gates = []
    for op in cc.ops:
        for piece in op.pieces:
            if piece.kind not in (UNITARY, DIAGONAL):
                raise ValueError("a circuit with noise channels has no state vector; use a doubled network")
            gates.append(Gate(piece.positions, piece.kind == DIAGONAL, piece.data))
    found = cc.__dict__["_gates"] = tuple(gates)
    return found


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


#: How many of the latest blocks :func:`group_commuting` looks through for a gate.
WINDOW = 48


def group_commuting(gates: Sequence[Gate], max_dense: int, max_diagonal: int) -> list[Block]:
    """Greedy fusion that also moves a gate back past the blocks it commutes with.

    A gate may join any of the latest :data:`WINDOW` blocks from the last block it does
    not commute with on: the last block on its qubits, or for a diagonal gate the last
    block with a non-diagonal gate on them (diagonals commute). Among those it joins the block that
    gains the fewest qubits (then the latest) within the width: ``max_dense`` for a
    dense result, ``max_diagonal`` for a diagonal one. So one-qubit gates on separate
    qubits share a dense block, and the controlled phases of a QFT row (and any phases
    among them) one wide diagonal.
    """
    blocks: list[list] = []  # [positions set, members, diagonal]
    last: dict[int, int] = {}  # qubit -> last block on it
    last_dense: dict[int, int] = {}  # qubit -> last non-diagonal block on it
    for g, gate in enumerate(gates):
        qubits = set(gate.positions)
        fences = last_dense if gate.diagonal else last
        fence = -1
        for p in qubits:  # the max over the gate's qubits (a loop: tens of thousands of gates)
            f = fences.get(p, -1)
            if f > fence:
                fence = f
        best, best_grow = None, 0
        one = gate.positions[0] if len(qubits) == 1 else None  # most gates: no set per block tried
        for b in range(len(blocks) - 1, max(fence - 1, len(blocks) - WINDOW - 1, -1), -1):
            pos, _, diag = blocks[b]
            grow = (one not in pos) if one is not None else len(qubits.difference(pos))
            if len(pos) + grow > (max_diagonal if diag and gate.diagonal else max_dense):
                continue
            # the fewest qubits gained, then the latest block (b only falls: ties keep the first found)
            if best is None or grow < best_grow:
                best, best_grow = b, grow
                if grow == 0:
                    break  # nothing grows: the latest such block is as good as any
        if best is None:
            blocks.append([qubits, [g], gate.diagonal])
            best = len(blocks) - 1
        else:
            blocks[best][0].update(qubits)
            blocks[best][1].append(g)
            blocks[best][2] = blocks[best][2] and gate.diagonal
        for p in qubits:  # last[p] = max(last[p], best), and last_dense alike
            if last.get(p, -1) < best:
                last[p] = best
            # only a non-diagonal gate on p stops diagonals on p from moving back:
            # a diagonal commutes with a block whose gates on its qubits are diagonal
            if not gate.diagonal and last_dense.get(p, -1) < best:
                last_dense[p] = best
    return [Block(tuple(sorted(b[0])), tuple(b[1]), b[2]) for b in blocks]


_cache: "OrderedDict[tuple, list[Block]]" = OrderedDict()
_lock = threading.Lock()


def grouping(gates: Sequence[Gate], max_qubits: int, max_diagonal: int | None = None) -> list[Block]:
    """:func:`group` of ``gates`` (:func:`group_commuting` with ``max_diagonal``), cached
    by their structure (qubits and diagonality)."""
    key = (tuple((g.positions, g.diagonal) for g in gates), max_qubits, max_diagonal)
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    blocks = group(gates, max_qubits) if max_diagonal is None else group_commuting(gates, max_qubits, max_diagonal)
    with _lock:
        _cache[key] = blocks
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return blocks


def fused_blocks(cc: CompiledCircuit, max_qubits: int,
                 max_diagonal: int | None = None) -> "tuple[list[Block], list[np.ndarray]]":
    """The blocks of ``cc`` fused to ``max_qubits`` (with ``max_diagonal``, by
    :func:`group_commuting`) and each block's tensor (:func:`block_tensor`), computed once per
    compiled circuit and widths: every bitstring, candidate plan and run of the same
    compiled circuit shares them."""
    memo = cc.__dict__.setdefault("_fused", {})  # a frozen dataclass still has a __dict__
    key = max_qubits if max_diagonal is None else (max_qubits, max_diagonal)
    found = memo.get(key)
    if found is None:
        gates = gates_of(cc)
        blocks = grouping(gates, max_qubits, max_diagonal)
        with one_blas_thread():  # thousands of tiny products
            found = memo[key] = (blocks, block_tensors(gates, blocks))
    return found


def block_tensors(gates: Sequence[Gate], blocks: Sequence[Block]) -> list[np.ndarray]:
    """:func:`block_tensor` of every block, each distinct block computed once: a long
    circuit repeats its blocks (a Grover iteration, a walk step), and a block's tensor
    is a function of its positions and its gates' positions, kinds and data (the same
    data object for equal gates: the compiler caches their tensors). Repeats share one array."""
    made: dict[tuple, np.ndarray] = {}
    out = []
    for b in blocks:
        # the data by id: ``gates`` holds every array while this runs, so no id is reused
        key = (b.positions, b.diagonal,
               tuple([(gates[g].positions, gates[g].diagonal, id(gates[g].data)) for g in b.members]))
        t = made.get(key)
        if t is None:
            t = made[key] = block_tensor(gates, b)
        out.append(t)
    return out


def block_tensor(gates: Sequence[Gate], block: Block) -> np.ndarray:
    """The block's tensor: axes (outputs, inputs) per position of ``block.positions``, or
    the diagonal (one axis per position) for a diagonal block."""
    f = len(block.positions)
    axis = {p: a for a, p in enumerate(block.positions)}
    dtype = np.result_type(*(gates[g].data for g in block.members))
    if len(block.members) == 1:
        # a gate alone (often a wide one): its own tensor with the axes in block order;
        # a product with the identity would cost a 2^f-square matrix multiply
        gate = gates[block.members[0]]
        order = [gate.positions.index(p) for p in block.positions]
        if gate.diagonal:  # a block of one diagonal gate is diagonal
            return np.ascontiguousarray(np.transpose(gate.data, order))
        else:
            return np.ascontiguousarray(np.transpose(gate.data, order + [len(order) + o for o in order]))
    if block.diagonal:
        return _diagonal_table(gates, block, axis, dtype)
    size = 2**f
    t = np.eye(size, dtype=dtype).reshape((2,) * f + (size,))  # output axes, then all inputs as one
    for g in block.members:
        gate, data = gates[g], gates[g].data
        ax = [axis[p] for p in gate.positions]
        k = len(ax)
        if gate.diagonal:
            diag = _broadcast_diag(data, ax, f)
            t = t * diag.reshape(diag.shape + (1,))  # scales the output axes
            continue
        # new[out_ax...] = sum_in G[out, in] t[in ...]: the gate's axes moved to the front,
        # one matrix product, moved back (tensordot + moveaxis cost ~3x more in Python)
        perm = ax + [a for a in range(f) if a not in ax]
        front = t.transpose(perm + [f]).reshape(2**k, -1)
        moved = (data.reshape(2**k, 2**k) @ front).reshape((2,) * f + (size,))
        t = moved.transpose(_inverse(perm) + [f])
    return np.ascontiguousarray(t).reshape((2,) * (2 * f))


def _diagonal_table(gates: Sequence[Gate], block: Block, axis: dict[int, int], dtype) -> np.ndarray:
    """A diagonal block's table, grown one axis at a time: a gate is multiplied in when
    its last axis joins, on a table of that many axes only (a wide diagonal of many
    two-qubit gates costs about two passes over the final table, not one per gate)."""
    f = len(block.positions)
    if f == 0:  # scalars only
        return np.prod([gates[g].data for g in block.members], axis=0).astype(dtype)
    if len(block.members) <= 3:  # a few products on the whole table cost less than growing it
        d = np.ones((2,) * f, dtype=dtype)
        for g in block.members:
            d = d * _broadcast_diag(gates[g].data, [axis[p] for p in gates[g].positions], f)
        return d
    by_last: list[list[int]] = [[] for _ in range(f)]
    for g in block.members:
        ax = [axis[p] for p in gates[g].positions]
        by_last[max(ax, default=0)].append(g)
    d = np.ones((), dtype=dtype)
    for a in range(f):
        d = np.repeat(d[..., None], 2, axis=-1)
        for g in by_last[a]:
            d *= _broadcast_diag(gates[g].data, [axis[p] for p in gates[g].positions], a + 1)
    return d


def _inverse(perm: Sequence[int]) -> list[int]:
    """The inverse permutation (``np.argsort(perm)`` for a permutation, as a list, cheaper)."""
    inv = [0] * len(perm)
    for i, p in enumerate(perm):
        inv[p] = i
    return inv


def _broadcast_diag(d: np.ndarray, axes: Sequence[int], f: int) -> np.ndarray:
    """A diagonal on ``axes`` of an f-axis block, as an array broadcastable to (2,)*f."""
    order = sorted(range(len(axes)), key=axes.__getitem__)  # np.argsort, without its call overhead
    d = np.transpose(d, order)
    shape = [1] * f
    for a in axes:
        shape[a] = 2
    return d.reshape(shape)
