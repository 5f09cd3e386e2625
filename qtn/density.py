"""Doubled (bra-ket) and density-matrix networks of a compiled circuit.

A quantity like ``<psi|P|psi>``, a marginal ``p(x_S)`` or ``tr(P rho)`` for a noisy
circuit is one network holding the circuit twice: the ket ``C|0>`` and the bra
(its complex conjugate). A noise channel is one superoperator tensor joining the
ket and bra wires of its qubits, so a noisy circuit is a density-matrix network.
Ket wires carry labels ``0, 1, ...``; the bra copy of ket label ``l`` is ``~l``
(``-l - 1``). Which ops to include comes from :func:`qtn.lightcone.lightcone`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np

from .compiler import BASIS, DIAGONAL, DIAGONAL_CHANNEL, UNITARY, CompiledCircuit, wire_walk
from .initial_state import InitialState
from .network import Network


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
    cc: CompiledCircuit, op_indices: Sequence[int], ends: Ends, initial: InitialState | None = None
) -> Network:
    """The network ``tr(E rho)`` of the ops ``op_indices`` acting on ``|initial>`` (default ``|0...0>``).

    ``E`` is given by ``ends``; qubits touched by the ops but not named there are
    traced out. Only the qubits of the ops and of ``ends`` appear at all: any other
    qubit contributes ``<0|0> = 1``.
    """
    operators, fixed = ends.operators, ends.fixed
    dtype = cc.dtype
    region = sorted({p for i in op_indices for p in cc.ops[i].positions} | ends.positions())
    if initial is not None:
        region = initial.widen(region)
    basis = [np.asarray(v, dtype=dtype) for v in BASIS]
    arrays: list[np.ndarray] = []
    indices: list[tuple[int, ...]] = []
    start = initial or InitialState(())
    labels = {p: k for k, p in enumerate(region)}
    for data, ix in start.tensors(region, labels, dtype):
        arrays.append(data)
        indices.append(ix)
    for data, ix in start.tensors(region, labels, dtype, conj=True):
        arrays.append(data)
        indices.append(tuple(~i for i in ix))
    walk, ket = wire_walk(cc, op_indices, region)
    for t, old, new in walk:
        if t.kind == DIAGONAL:
            arrays += [t.data, t.conj]
            indices += [old, tuple(~o for o in old)]
        elif t.kind == DIAGONAL_CHANNEL:
            arrays.append(t.data)
            indices.append(old + tuple(~o for o in old))
        elif t.kind == UNITARY:
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


def _diagonal_of(array: np.ndarray, labels: tuple[int, ...]) -> tuple[np.ndarray, tuple[int, ...]]:
    """The tensor with each repeated label kept once (its diagonal over those axes)."""
    unique = tuple(dict.fromkeys(labels))
    letters = {lab: k for k, lab in enumerate(unique)}
    data = np.einsum(array, [letters[i] for i in labels], list(range(len(unique))))
    return np.ascontiguousarray(data), unique
