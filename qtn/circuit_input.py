"""The circuits qtn's entry points accept, as one ``cirq.Circuit`` and qubit order.

A ``cirq.Circuit`` passes as is; a circuit read from a file (:mod:`qtn.io`) brings its
declared qubit order, used when ``qubit_order`` is ``None`` or
``cirq.QubitOrder.DEFAULT`` (so ``qtn.Simulator`` follows it too); a Qiskit
``QuantumCircuit`` is converted (:mod:`qtn.qiskit.convert`) and, by default, ordered so
that indices and bitstrings follow Qiskit's little-endian convention.
"""

from __future__ import annotations

from typing import Any

import cirq

from .io.layout import declared_order


def as_cirq_circuit(circuit: Any, qubit_order: Any = None) -> tuple[Any, Any]:
    """``(cirq circuit, qubit order)`` for any circuit an entry point takes.

    Args:
        circuit: a ``cirq.AbstractCircuit`` or a Qiskit ``QuantumCircuit``; anything
            else passes through for the entry point to reject.
        qubit_order: as the entry point got it. ``None`` and ``cirq.QubitOrder.DEFAULT``
            (``qtn.Simulator``'s default) mean the circuit's own order: declared, or
            Qiskit's, else Cirq's sorted one. Qiskit ``Qubit`` objects in a list stand
            for their Cirq qubits.

    Raises:
        ValueError: a Qiskit circuit qtn cannot convert (see :func:`qtn.qiskit.to_cirq`).
    """
    from .qiskit.convert import is_quantum_circuit

    if is_quantum_circuit(circuit):
        from .qiskit.convert import qubit_map, to_cirq

        converted, order = to_cirq(circuit)
        if qubit_order is None or qubit_order is cirq.QubitOrder.DEFAULT:
            return converted, order
        if isinstance(qubit_order, cirq.QubitOrder):
            return converted, qubit_order
        qmap = qubit_map(circuit)
        return converted, [qmap.get(q, q) if not isinstance(q, cirq.Qid) else q for q in qubit_order]
    if (qubit_order is None or qubit_order is cirq.QubitOrder.DEFAULT) and isinstance(circuit, cirq.AbstractCircuit):
        # DEFAULT is what qtn.Simulator's methods receive when the caller names no order:
        # a read file's declaration wins there too; a circuit that records none keeps Cirq's
        declared = declared_order(circuit)
        return circuit, declared if declared is not None else qubit_order
    return circuit, qubit_order
