"""Doubled (bra-ket) tensor networks and lightcones.

A quantity like ``<psi|P|psi>``, a marginal ``p(x_S)`` or ``tr(P rho)`` for a noisy
circuit is one network holding the circuit twice: the ket ``C|0>`` and the bra
(its complex conjugate). A noise channel is one superoperator tensor joining the
ket and bra wires of its qubits, so a noisy circuit is a density-matrix network.

Only the backward lightcone of the observed qubits matters: an operation none of
whose qubits can still influence them meets its own inverse (``U^dagger U = 1``, or
``sum_k K_k^dagger K_k = 1`` for a trace-preserving channel) and is dropped before
the network is built, so a local observable of a shallow 1000-qubit circuit costs
what its lightcone costs.

Circuits are converted once (:func:`compile_ops`) into per-operation tensors; the
networks of many observables, marginals or samples are then assembled from those
tensors without touching Cirq again. Ket wires carry labels ``0, 1, ...``; the bra
copy of ket label ``l`` is ``~l`` (``-l - 1``).
"""

from __future__ import annotations

import bisect
import heapq
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Sequence

import cirq
import numpy as np

from .circuits import ChannelTensor, _unitary_tensors, gate_key
from .network import Network

_UNITARY, _DIAGONAL, _CHANNEL, _DIAGONAL_CHANNEL = range(4)
_BASIS = (np.array([1.0, 0.0]), np.array([0.0, 1.0]))


@dataclass(frozen=True)
class Piece:
    """One tensor of an operation on qubit ``positions``.

    ``kind`` is unitary (axes: outputs, inputs), diagonal (one axis per qubit),
    channel (ket out, bra out, ket in, bra in) or diagonal channel (ket, bra);
    ``conj`` is the bra's copy of a unitary or diagonal tensor.
    """

    positions: tuple[int, ...]
    kind: int
    data: np.ndarray
    conj: np.ndarray | None


@dataclass(frozen=True)
class CompiledOp:
    """One circuit operation as tensors, with what lightcones need to know of it."""

    positions: tuple[int, ...]
    pieces: tuple[Piece, ...]
    trace_preserving: bool
    diagonal: bool  # every piece diagonal in the computational basis (and trace preserving)


@dataclass(frozen=True)
class CompiledCircuit:
    """A resolved circuit as per-operation tensors, ready for lightcone networks.

    Attributes:
        qubits: the qubits in result order; positions index this tuple.
        ops: the operations that act (identities are left out), in circuit order.
        on_qubit: for each position, the indices of the ops acting on it, ascending.
        noisy: whether some op is a channel (then only doubled networks are valid).
        dtype: the complex dtype of every tensor.
        non_trace_preserving: indices of the ops that do not preserve the trace.
    """

    qubits: tuple[cirq.Qid, ...]
    ops: tuple[CompiledOp, ...]
    on_qubit: tuple[tuple[int, ...], ...]
    noisy: bool
    dtype: np.dtype
    non_trace_preserving: tuple[int, ...] = ()

    @property
    def position(self) -> dict[cirq.Qid, int]:
        return {q: p for p, q in enumerate(self.qubits)}


def compile_ops(ops: Iterable[cirq.Operation], qubits: Sequence[cirq.Qid], dtype: Any = np.complex64) -> CompiledCircuit:
    """Turn resolved operations (no measurements) into tensors, once per circuit.

    Args:
        ops: operations in circuit order, symbols resolved, measurements removed.
        qubits: result order; every op's qubits must be among them.
        dtype: complex dtype of the tensors.

    Raises:
        ValueError: an op is a measurement, acts on qudits, has neither a unitary, a
            channel nor a decomposition, or touches a qubit outside ``qubits``.
    """
    dtype = np.dtype(dtype)
    position = {q: p for p, q in enumerate(qubits)}
    # gate -> (pieces with positions relative to op.qubits, trace preserving)
    cache: dict[Any, tuple[tuple[Piece, ...], bool]] = {}
    compiled: list[CompiledOp] = []
    for op in ops:
        key = gate_key(op)
        entry = cache.get(key) if key is not None else None
        if entry is None:
            entry = _template(op, dtype)
            if key is not None:
                cache[key] = entry
        template, tp = entry
        if not template:
            continue  # an identity (or a global phase, which cancels between ket and bra)
        missing = [q for q in op.qubits if q not in position]
        if missing:
            raise ValueError(f"operation {op} acts on qubit {missing[0]}, which is not in the qubit order")
        pos = [position[q] for q in op.qubits]
        pieces = tuple(Piece(tuple(pos[r] for r in t.positions), t.kind, t.data, t.conj) for t in template)
        diagonal = tp and all(t.kind in (_DIAGONAL, _DIAGONAL_CHANNEL) for t in pieces)
        compiled.append(CompiledOp(tuple(pos), pieces, tp, diagonal))
    on_qubit: list[list[int]] = [[] for _ in qubits]
    for i, cop in enumerate(compiled):
        for p in cop.positions:
            on_qubit[p].append(i)
    noisy = any(t.kind >= _CHANNEL for cop in compiled for t in cop.pieces)
    non_tp = tuple(i for i, cop in enumerate(compiled) if not cop.trace_preserving)
    return CompiledCircuit(tuple(qubits), tuple(compiled), tuple(map(tuple, on_qubit)), noisy, dtype, non_tp)


def _template(op: cirq.Operation, dtype: np.dtype) -> tuple[tuple[Piece, ...], bool]:
    """The pieces of ``op`` with positions indexing ``op.qubits``, and whether it preserves the trace."""
    rel = {q: r for r, q in enumerate(op.qubits)}
    pieces = []
    tp = True
    for t in _unitary_tensors(op, allow_channels=True):
        if not t.qubits:
            continue  # a global phase: it cancels between ket and bra
        if any(q not in rel for q in t.qubits):
            raise ValueError(f"operation {op} decomposes onto qubits it does not act on; qtn cannot simulate that")
        r = tuple(rel[q] for q in t.qubits)
        data = np.ascontiguousarray(t.data, dtype=dtype)
        if isinstance(t, ChannelTensor):
            tp = tp and t.trace_preserving
            pieces.append(Piece(r, _DIAGONAL_CHANNEL if t.diagonal else _CHANNEL, data, None))
        else:
            pieces.append(Piece(r, _DIAGONAL if t.diagonal else _UNITARY, data, data.conj()))
    return tuple(pieces), tp


def lightcone(cc: CompiledCircuit, observed: Iterable[int], diagonal_ends: Iterable[int] = ()) -> list[int]:
    """Indices (ascending) of the ops that a doubled network observing ``observed`` needs.

    Ops are decided from the last to the first. An op is left out when it commutes
    with every later op kept on its qubits: it can then be moved to the end, where it
    meets its mirror image (``U^dagger U = 1``, or ``sum_k K_k^dagger K_k = 1`` for a
    channel) on traced qubits. So an op none of whose qubits is observed or feeds a
    kept op is left out, and so is a diagonal op (CZ, ZZ, Rz, a dephasing channel)
    whose qubits meet only diagonal kept ops and diagonal ends afterwards.

    Args:
        cc: the compiled circuit.
        observed: positions whose ends are observed (not simply traced).
        diagonal_ends: those of ``observed`` whose end is diagonal in the computational
            basis (a Z or identity observable, a projector, an open diagonal); the
            others (X, Y, an open density matrix) commute with nothing.

    Ops that do not preserve the trace never cancel and are kept with their own lightcones.
    """
    n = len(cc.ops)
    diagonal_ends = set(diagonal_ends)
    last: dict[int, int] = {}  # position -> index of its latest kept op (n: observed)
    nondiag: dict[int, int] = {}  # position -> index of its latest kept non-diagonal op (-1: none)
    heap: list[int] = []

    def enter(p: int, below: int) -> None:
        last[p] = below
        ops_p = cc.on_qubit[p]
        for i in ops_p[: bisect.bisect_left(ops_p, below)]:
            heapq.heappush(heap, -i)

    for p in observed:
        if p not in last:
            enter(p, n)
            nondiag[p] = -1 if p in diagonal_ends else n
    heap.extend(-i for i in cc.non_trace_preserving)
    heapq.heapify(heap)
    chosen: list[int] = []
    previous = None
    while heap:
        i = -heapq.heappop(heap)
        if i == previous:
            continue
        previous = i
        op = cc.ops[i]
        if op.trace_preserving:
            bounds = nondiag if op.diagonal else last
            if not any(i < bounds.get(p, -1) for p in op.positions):
                continue
        chosen.append(i)
        for p in op.positions:
            if p not in last:
                enter(p, i)
            if not op.diagonal and nondiag.get(p, -1) < i:
                nondiag[p] = i
    chosen.reverse()
    return chosen


@dataclass(frozen=True)
class Ends:
    """How each observed qubit's wires end in a doubled network; every other qubit is traced.

    Attributes:
        operators: position -> 2x2 matrix placed between bra and ket (``<psi|M|psi>``).
        fixed: position -> bit; the qubit is projected on ``|bit>`` (a marginal).
        diagonal: positions left open with ket and bra joined: the result holds the
            diagonal of the reduced density matrix (probabilities), in this order.
        matrix: positions left open on both sides: the reduced density matrix, with
            axes ket legs then bra legs, each in this order.
    """

    operators: Mapping[int, np.ndarray] = field(default_factory=dict)
    fixed: Mapping[int, int] = field(default_factory=dict)
    diagonal: Sequence[int] = ()
    matrix: Sequence[int] = ()

    def positions(self) -> set[int]:
        return set(self.operators) | set(self.fixed) | set(self.diagonal) | set(self.matrix)


def doubled_network(
    cc: CompiledCircuit, op_indices: Sequence[int], ends: Ends, initial: Sequence[int] | None = None
) -> Network:
    """The network ``tr(E rho)`` of the ops ``op_indices`` acting on ``|initial>`` (default ``|0...0>``).

    ``E`` is given by ``ends``; qubits touched by the ops but not named there are
    traced out. Only the qubits of the ops and of ``ends`` appear at all: any other
    qubit contributes ``<0|0> = 1``.
    """
    operators, fixed = ends.operators, ends.fixed
    dtype = cc.dtype
    region = sorted({p for i in op_indices for p in cc.ops[i].positions} | ends.positions())
    basis = [np.asarray(v, dtype=dtype) for v in _BASIS]
    arrays: list[np.ndarray] = []
    indices: list[tuple[int, ...]] = []
    ket: dict[int, int] = {}
    for label, p in enumerate(region):
        ket[p] = label
        v = basis[initial[p] if initial is not None else 0]
        arrays += [v, v]
        indices += [(label,), (~label,)]
    nxt = len(region)
    for i in op_indices:
        for t in cc.ops[i].pieces:
            old = tuple(ket[p] for p in t.positions)
            if t.kind == _DIAGONAL:
                arrays += [t.data, t.conj]
                indices += [old, tuple(~o for o in old)]
                continue
            if t.kind == _DIAGONAL_CHANNEL:
                arrays.append(t.data)
                indices.append(old + tuple(~o for o in old))
                continue
            new = tuple(range(nxt, nxt + len(old)))
            nxt += len(old)
            for p, lab in zip(t.positions, new):
                ket[p] = lab
            if t.kind == _UNITARY:
                arrays += [t.data, t.conj]
                indices += [new + old, tuple(~n for n in new) + tuple(~o for o in old)]
            else:
                arrays.append(t.data)
                indices.append(new + tuple(~n for n in new) + old + tuple(~o for o in old))
    rename: dict[int, int] = {}
    for p in region:
        lab = ket[p]
        if p in fixed:
            v = basis[fixed[p]]
            arrays += [v, v]
            indices += [(lab,), (~lab,)]
        elif p in operators:
            m = np.asarray(operators[p], dtype=dtype)
            if not np.count_nonzero(m - np.diag(np.diagonal(m))):
                rename[~lab] = lab  # a diagonal operator sits on the joined wire
                arrays.append(np.ascontiguousarray(np.diagonal(m)))
                indices.append((lab,))
            else:
                arrays.append(m)  # m[bra, ket]
                indices.append((~lab, lab))
        elif p not in ends.matrix:
            rename[~lab] = lab  # traced, or an open diagonal
    if rename:
        indices = [tuple(rename.get(i, i) for i in ix) for ix in indices]
        for t, ix in enumerate(indices):
            if len(set(ix)) < len(ix):  # a channel whose ket and bra outputs were joined
                arrays[t], indices[t] = _diagonal_of(arrays[t], ix)
    output = tuple(ket[p] for p in ends.diagonal)
    output += tuple(ket[p] for p in ends.matrix) + tuple(~ket[p] for p in ends.matrix)
    return Network(arrays, indices, output)


def ket_network(
    cc: CompiledCircuit,
    op_indices: Sequence[int],
    fixed: Mapping[int, int],
    open_positions: Sequence[int],
    initial: Sequence[int] | None = None,
) -> Network:
    """The single-layer network of ``<fixed| U |initial>`` with ``open_positions`` left open.

    ``U`` is the product of the ops ``op_indices``; every qubit they touch must be
    either fixed or open. Only valid for circuits without channels.
    """
    if cc.noisy:
        raise ValueError("a circuit with noise channels has no state vector; use a doubled network")
    dtype = cc.dtype
    region = sorted({p for i in op_indices for p in cc.ops[i].positions} | set(fixed) | set(open_positions))
    loose = [p for p in region if p not in fixed and p not in set(open_positions)]
    if loose:
        raise ValueError(f"qubit {cc.qubits[loose[0]]} is neither fixed nor open in a ket network")
    basis = [np.asarray(v, dtype=dtype) for v in _BASIS]
    arrays: list[np.ndarray] = []
    indices: list[tuple[int, ...]] = []
    ket: dict[int, int] = {}
    for label, p in enumerate(region):
        ket[p] = label
        arrays.append(basis[initial[p] if initial is not None else 0])
        indices.append((label,))
    nxt = len(region)
    for i in op_indices:
        for t in cc.ops[i].pieces:
            old = tuple(ket[p] for p in t.positions)
            if t.kind == _DIAGONAL:
                arrays.append(t.data)
                indices.append(old)
                continue
            new = tuple(range(nxt, nxt + len(old)))
            nxt += len(old)
            for p, lab in zip(t.positions, new):
                ket[p] = lab
            arrays.append(t.data)
            indices.append(new + old)
    for p, bit in fixed.items():
        arrays.append(basis[bit])
        indices.append((ket[p],))
    return Network(arrays, indices, tuple(ket[p] for p in open_positions))


def _diagonal_of(array: np.ndarray, labels: tuple[int, ...]) -> tuple[np.ndarray, tuple[int, ...]]:
    """The tensor with each repeated label kept once (its diagonal over those axes)."""
    unique = tuple(dict.fromkeys(labels))
    letters = {lab: k for k, lab in enumerate(unique)}
    data = np.einsum(array, [letters[i] for i in labels], list(range(len(unique))))
    return np.ascontiguousarray(data), unique


def components(net: Network) -> list[Network]:
    """The connected components of a network (tensors linked by shared labels), each
    with the output labels it holds (in the network's order) and scalar 1."""
    parent = list(range(len(net.arrays)))

    def find(t: int) -> int:
        while parent[t] != t:
            parent[t] = parent[parent[t]]
            t = parent[t]
        return t

    owner: dict[int, int] = {}
    for t, ix in enumerate(net.indices):
        for lab in ix:
            if lab in owner:
                parent[find(t)] = find(owner[lab])
            else:
                owner[lab] = t
    groups: dict[int, list[int]] = {}
    for t in range(len(net.arrays)):
        groups.setdefault(find(t), []).append(t)
    out = []
    for members in groups.values():
        labels = {lab for t in members for lab in net.indices[t]}
        out.append(Network([net.arrays[t] for t in members], [net.indices[t] for t in members],
                           tuple(o for o in net.output if o in labels)))
    return out


def contract_components(
    net: Network, contract: Callable[[Network], np.ndarray], dtype: Any, constant: bool = True
) -> np.ndarray:
    """Contract ``net`` one connected component at a time and join the parts by outer product.

    A disconnected network would otherwise contract a component down to a scalar in
    the middle of a plan; component by component, each part gets its own cached plan.

    Args:
        net: the network.
        contract: contracts one connected network (e.g. ``qtn.api.plan_and_contract``).
        dtype: the complex dtype of the result.
        constant: whether to contract components that hold no output label; when
            False they are left out, which scales the result by a constant (fine for
            probabilities that are normalised afterwards).
    """
    parts = []
    for comp in components(net):
        if comp.output or constant:
            simple = comp.simplified()
            # a network that simplifies to a number needs no plan (and keeps its precision)
            value = contract(simple) if simple.arrays else np.asarray(simple.scalar, dtype=dtype)
            parts.append((np.asarray(value), comp.output))
    if not parts:
        return np.asarray(net.scalar)
    if len(parts) == 1 and parts[0][1] == net.output:
        return parts[0][0] * net.scalar
    letters = {lab: k for k, lab in enumerate(net.output)}
    operands: list = []
    for result, labels in parts:
        operands += [result, [letters[lab] for lab in labels]]
    return np.einsum(*operands, [letters[lab] for lab in net.output]) * net.scalar
