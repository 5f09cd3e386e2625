"""Preparing Cirq circuits: symbols resolved, qubit order, noise models, deferred measurements.

What comes out goes to :mod:`qtn.compiler`, which turns the operations into tensors.
"""

from __future__ import annotations

from typing import Any, Iterable

import cirq
import numpy as np



def normalize_qubit_order(qubit_order: Any) -> Any:
    """``qubit_order`` read once: a ``cirq.QubitOrder`` as is, any other iterable as a
    tuple (an iterator such as ``reversed([a, b])`` is consumed here, once per call,
    so every later use sees the same qubits)."""
    if qubit_order is None or isinstance(qubit_order, cirq.QubitOrder):
        return qubit_order
    if isinstance(qubit_order, (str, bytes)) or not isinstance(qubit_order, Iterable):
        return qubit_order  # resolve_qubit_order names the bad value
    return tuple(qubit_order)


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
        # Cirq's words (cirq.sim.simulator.check_all_resolved), then which symbols
        unresolved = [op for moment in circuit for op in moment if cirq.is_parameterized(op)]
        names = sorted(cirq.parameter_names(circuit))
        raise ValueError(
            f"Circuit contains ops whose symbols were not specified in parameter sweep. Ops: {unresolved} "
            f"(unresolved symbol(s) {', '.join(names)}; pass param_resolver= with a number for each)"
        )
    return _tuple_masks(circuit)


def _tuple_masks(circuit: cirq.AbstractCircuit) -> cirq.AbstractCircuit:
    """The circuit with every measurement's ``invert_mask`` a tuple: cirq 1.7 keeps a
    list as given, which makes the gate unhashable (and measurement deferral fail)."""
    def listed(op: cirq.Operation) -> bool:
        if type(op) is cirq.ControlledOperation:  # never a measurement; its .gate is built anew per access
            return False
        gate = op.gate
        return isinstance(gate, cirq.MeasurementGate) and not isinstance(gate.invert_mask, tuple)

    def fix(op: cirq.Operation) -> cirq.Operation:
        if not listed(op):
            return op
        gate = op.gate
        return cirq.MeasurementGate(
            gate.num_qubits(), gate.mkey, tuple(gate.invert_mask), cirq.qid_shape(gate), gate.confusion_map
        ).on(*op.qubits).with_tags(*op.tags)

    def any_listed(c: cirq.AbstractCircuit) -> bool:
        for op in c.all_operations():
            if listed(op) or (isinstance(op.untagged, cirq.CircuitOperation) and any_listed(op.untagged.circuit)):
                return True
        return False

    if not any_listed(circuit):
        return circuit
    return cirq.map_operations(circuit, lambda op, _: fix(op), deep=True)


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


def dephased_measurements(circuit: cirq.AbstractCircuit) -> tuple[list[cirq.Operation], list[cirq.Qid]]:
    """The circuit's operations with every measurement replaced by complete dephasing of
    its qubits in the computational basis: the exact average over measurement outcomes
    (what expectation values of a measured circuit mean in qtn, terminal and
    mid-circuit measurements alike).

    Classical control, sub-circuits and measurements other than ``MeasurementGate``
    first go through :func:`defer_to_terminal` (the ancillas it adds hold the outcomes,
    so tracing them dephases the measured qubits); otherwise each measurement is
    dephased where it stands.

    Returns:
        The operations in order, and the ancilla qubits a deferral added (sorted).
    """
    ops = list(circuit.all_operations())
    ancillas: list[cirq.Qid] = []
    if needs_deferral(ops):
        ops, ancillas = defer_to_terminal(circuit)
    return dephased_in_place(ops), ancillas


def needs_deferral(ops: Iterable[cirq.Operation]) -> bool:
    """Whether :func:`dephased_measurements` must defer the measurements first (classical
    control, sub-circuits, measurements other than ``MeasurementGate``) rather than
    dephase each where it stands."""
    return any(op.classical_controls or isinstance(op.untagged, cirq.CircuitOperation)
               or (cirq.is_measurement(op) and not isinstance(op.gate, cirq.MeasurementGate)) for op in ops)


def dephased_in_place(ops: Iterable[cirq.Operation]) -> list[cirq.Operation]:
    """``ops`` with each ``MeasurementGate`` replaced by :data:`DEPHASE` on its qubits."""
    out: list[cirq.Operation] = []
    for op in ops:
        if isinstance(op.gate, cirq.MeasurementGate):
            out += [DEPHASE.on(q) for q in op.qubits]
        else:
            out.append(op)
    return out


def noisy_moments(circuit: cirq.AbstractCircuit, noise: Any) -> list[list[cirq.Operation]]:
    """Per moment of a resolved circuit, its operations followed by what the noise model
    adds for that moment (the model's k-th ``OP_TREE``), over all the circuit's qubits
    as :func:`apply_noise` adds it: so moment prefixes are prefixes of the noisy circuit.

    Raises:
        TypeError: ``noise`` is not noise-model-like.
    """
    model = as_noise_model(noise)
    if model is cirq.NO_NOISE or not len(circuit):
        return [list(moment.operations) for moment in circuit]
    trees = list(model.noisy_moments(circuit, sorted(circuit.all_qubits())))
    if len(trees) != len(circuit):
        raise ValueError(f"noise model {model!r} gave {len(trees)} OP_TREEs for {len(circuit)} moments; "
                         "NoiseModel.noisy_moments must give one per moment")
    return [list(cirq.flatten_to_ops(tree)) for tree in trees]


#: Complete dephasing of a qubit: Kraus operators |0><0| and |1><1|.
DEPHASE = cirq.phase_damp(1.0)


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
