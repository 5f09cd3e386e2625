"""Declared qubits a ``cirq.Circuit`` would otherwise lose: idle ones, and their order.

A QASM file declares its qubits; a ``cirq.Circuit`` only knows the qubits its
operations touch, and orders them by name. A reader keeps the declaration by adding an
identity on each qubit that needs it, tagged with the qubit's place; qtn's entry points
read the tags (:func:`declared_order`) and use that order by default. An identity
changes no state and costs nothing to contract, and Cirq's simulators accept it.
"""

from __future__ import annotations

from typing import Sequence

import cirq

#: The tag of a declared qubit's identity, followed by the qubit's place (0, 1, ...).
TAG_PREFIX = "qtn:declared-qubit "


def with_declared_qubits(circuit: cirq.Circuit, qubits: Sequence[cirq.Qid]) -> cirq.Circuit:
    """``circuit`` with every qubit of ``qubits`` in it, in that order.

    Idle qubits get a tagged identity; when ``qubits`` is not in Cirq's sorted order, every
    qubit does, so :func:`declared_order` can give the order back.
    """
    used = circuit.all_qubits()
    in_order = list(qubits) == sorted(qubits)
    marked = [cirq.I(q).with_tags(f"{TAG_PREFIX}{i}") for i, q in enumerate(qubits)
              if not in_order or q not in used]
    return cirq.Circuit(cirq.Moment(marked)) + circuit if marked else circuit


def declared_order(circuit: cirq.AbstractCircuit) -> list[cirq.Qid] | None:
    """The declaration order :func:`with_declared_qubits` recorded, or ``None`` when the
    circuit records none (or not for all of its qubits)."""
    place: dict[cirq.Qid, int] = {}
    for op in circuit.all_operations():
        for tag in op.tags:
            if isinstance(tag, str) and tag.startswith(TAG_PREFIX) and len(op.qubits) == 1:
                place.setdefault(op.qubits[0], int(tag[len(TAG_PREFIX):]))
    if not place or set(place) != set(circuit.all_qubits()):
        return None
    return sorted(place, key=place.__getitem__)
