"""Preparing Cirq circuits: symbols resolved, qubit order, noise models, deferred measurements.

What comes out goes to :mod:`qtn.compiler`, which turns the operations into tensors.
"""

from __future__ import annotations

from typing import Any, Iterable

import cirq
import numpy as np



def resolve_qubit_order(circuit: cirq.AbstractCircuit, qubit_order: Any = None) -> list[cirq.Qid]:
    """The qubits of ``circuit`` in result order (Cirq's rules; default: sorted).

    Raises:
        ValueError: an explicit order misses a qubit of the circuit or repeats one.
        TypeError: ``qubit_order`` is neither a QubitOrder nor a sequence of qubits.
    """
    if qubit_order is None:
        qubit_order = cirq.QubitOrder.DEFAULT
    if isinstance(qubit_order, cirq.QubitOrder):
        return list(qubit_order.order_for(circuit.all_qubits()))
    if isinstance(qubit_order, (str, bytes)) or not isinstance(qubit_order, Iterable):
        raise TypeError(f"qubit_order must be a cirq.QubitOrder or a sequence of qubits, not {qubit_order!r}")
    order = list(qubit_order)
    bad = [q for q in order if not isinstance(q, cirq.Qid)]
    if bad:
        raise TypeError(f"qubit_order holds {bad[0]!r}, which is not a cirq qubit (cirq.Qid)")
    seen: set[cirq.Qid] = set()
    repeated = [q for q in order if q in seen or seen.add(q)]
    if repeated:
        raise ValueError(f"qubit_order repeats qubit {repeated[0]}")
    missing = sorted(circuit.all_qubits() - seen)
    if missing:
        raise ValueError(f"qubit_order misses qubit(s) {', '.join(map(str, missing))} of the circuit")
    return order


def resolve_circuit(circuit: Any, resolver: "cirq.ParamResolverOrSimilarType" = None) -> cirq.AbstractCircuit:
    """Check the circuit type and substitute parameters.

    Raises:
        TypeError: ``circuit`` is not a ``cirq.AbstractCircuit``.
        ValueError: a symbol is left unresolved.
    """
    if not isinstance(circuit, cirq.AbstractCircuit):
        raise TypeError(f"expected a cirq.Circuit, got {type(circuit).__name__}")
    if resolver is not None:
        circuit = cirq.resolve_parameters(circuit, resolver)
    if cirq.is_parameterized(circuit):
        names = sorted(cirq.parameter_names(circuit))
        raise ValueError(
            f"circuit has unresolved symbol(s) {', '.join(names)}; pass param_resolver= with a value for each"
        )
    return circuit


def as_noise_model(noise: Any) -> cirq.NoiseModel:
    """``cirq.NoiseModel.from_noise_model_like`` with qtn's error message.

    Raises:
        TypeError: ``noise`` is not noise-model-like.
    """
    try:
        return cirq.NoiseModel.from_noise_model_like(noise)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"noise must be None, a cirq.NoiseModel, or a single-qubit gate or channel (applied to every "
            f"qubit after every moment), not {noise!r}"
        ) from err


def apply_noise(circuit: cirq.AbstractCircuit, noise: Any) -> cirq.AbstractCircuit:
    """The circuit with a noise model applied as ``cirq.DensityMatrixSimulator`` applies it.

    Args:
        circuit: a resolved circuit.
        noise: a ``cirq.NoiseModel`` or anything ``cirq.NoiseModel.from_noise_model_like``
            accepts (a channel, a gate, ``None`` for no noise).

    Raises:
        TypeError: ``noise`` is not noise-model-like.
    """
    model = as_noise_model(noise)
    if model is cirq.NO_NOISE or not len(circuit):
        return circuit
    return cirq.Circuit(model.noisy_moments(circuit, sorted(circuit.all_qubits())))


def defer_to_terminal(circuit: cirq.AbstractCircuit) -> tuple[list[cirq.Operation], list[cirq.Qid]]:
    """The circuit's operations with every measurement a terminal ``cirq.MeasurementGate``.

    A circuit whose measurements are already terminal and plain is returned as is.
    Otherwise (mid-circuit measurements, classical control, measurements that are
    not a ``MeasurementGate``, sub-circuits) ``cirq.defer_measurements`` copies each
    measured qubit onto a fresh ancilla with a CNOT, turns classical control into
    quantum control, and measures the ancillas at the end, which gives the same
    distribution of results. Then *every* measurement is deferred, terminal ones
    included, so instances of a repeated key stay in time order.

    Returns:
        The operations in order, and the ancilla qubits the deferral added (sorted).
    """
    ops = list(circuit.all_operations())
    simple = (
        not any(isinstance(op.untagged, cirq.CircuitOperation) for op in ops)
        and all(isinstance(op.gate, cirq.MeasurementGate) for op in ops if cirq.is_measurement(op))
        and not any(op.classical_controls for op in ops)
        and circuit.are_all_measurements_terminal()
    )
    if simple:
        return ops, []
    circuit = cirq.unroll_circuit_op(cirq.Circuit(circuit), deep=True, tags_to_check=None)
    measured = sorted({q for op in circuit.all_operations() if cirq.is_measurement(op) for q in op.qubits})
    # an identity after the measurements makes them non-terminal, so all are deferred
    deferred = cirq.defer_measurements(circuit + cirq.Moment(cirq.I.on_each(*measured)))
    return list(deferred.all_operations()), sorted(deferred.all_qubits() - circuit.all_qubits())
