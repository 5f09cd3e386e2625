"""Cirq circuits to tensor networks.

Every operation becomes a tensor through ``cirq.unitary`` (decomposing where an op
has no unitary of its own). Wires are labelled by ints: each qubit starts on a label
closed by ``|0>``; a non-diagonal gate moves its qubits to fresh labels, a diagonal
gate (CZ, Rz, CPhase, ...) stores only its diagonal on the qubits' current labels, so
it adds no new wire (these labels become hyperedges). The last label of each qubit is
either closed by ``<b|`` (an amplitude) or left open (state vector, batch of amplitudes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

import cirq
import numpy as np

from .network import Network

_ZERO = np.array([1.0, 0.0])
_ONE = np.array([0.0, 1.0])



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


@dataclass(frozen=True)
class GateTensor:
    """One gate as a tensor: ``data`` on ``qubits`` (all outputs first, then all inputs),
    or only the diagonal (one axis per qubit) when ``diagonal``."""

    qubits: tuple[cirq.Qid, ...]
    data: np.ndarray
    diagonal: bool


@dataclass(frozen=True)
class ChannelTensor:
    """A noise channel as its superoperator ``sum_k K_k (x) conj(K_k)`` on ``qubits``.

    ``data`` has axes (ket outputs, bra outputs, ket inputs, bra inputs), one per qubit
    each; when every Kraus operator is diagonal only the diagonal is kept, with axes
    (ket, bra). ``trace_preserving`` says whether ``sum_k K_k^dagger K_k = 1``, which
    lets a channel outside a lightcone be dropped.
    """

    qubits: tuple[cirq.Qid, ...]
    data: np.ndarray
    diagonal: bool
    trace_preserving: bool


def channel_tensor(qubits: Sequence[cirq.Qid], kraus: Sequence[np.ndarray]) -> ChannelTensor:
    """The :class:`ChannelTensor` of Kraus operators acting on ``qubits``."""
    n = len(qubits)
    ks = np.asarray(kraus, dtype=np.complex128).reshape(-1, 2**n, 2**n)
    tp = np.allclose(np.einsum("kab,kac->bc", ks.conj(), ks), np.eye(2**n), atol=1e-8)
    diagonals = np.einsum("kaa->ka", ks)
    if all(np.array_equal(k, np.diag(d)) for k, d in zip(ks, diagonals)):
        data = np.einsum("ka,kb->ab", diagonals, diagonals.conj()).reshape((2,) * (2 * n))
        return ChannelTensor(tuple(qubits), data, True, tp)
    data = np.einsum("kab,kcd->acbd", ks, ks.conj()).reshape((2,) * (4 * n))
    return ChannelTensor(tuple(qubits), data, False, tp)


def _unitary_tensors(
    op: cirq.Operation, depth: int = 0, allow_channels: bool = False
) -> "list[GateTensor | ChannelTensor]":
    # allow_channels: noise becomes ChannelTensors (density-matrix networks) instead of an error
    if depth > 50:
        raise ValueError(f"operation {op} decomposes without end")
    shape = cirq.qid_shape(op)
    if any(d != 2 for d in shape):
        raise ValueError(f"operation {op} acts on a {max(shape)}-level qudit; qtn simulates qubits only")
    if cirq.is_measurement(op):
        raise ValueError(
            f"operation {op} is a measurement; amplitudes and state vectors need a unitary circuit "
            "(remove it, e.g. with cirq.drop_terminal_measurements, or sample instead)"
        )
    u = cirq.unitary(op, None)
    if u is not None:
        n = len(op.qubits)
        if n == 0:
            return [GateTensor((), u.reshape(()), True)]
        d = np.diagonal(u)
        if np.array_equal(u, np.diag(d)):
            if np.array_equal(d, np.ones_like(d)):
                return []  # the identity: nothing to contract
            return [GateTensor(tuple(op.qubits), d.reshape((2,) * n), True)]
        return [GateTensor(tuple(op.qubits), u.reshape((2,) * (2 * n)), False)]
    if cirq.has_kraus(op) or cirq.has_mixture(op):
        if not allow_channels:
            raise ValueError(
                f"operation {op} is a noise channel, not a unitary; amplitudes of noisy circuits are not defined"
            )
        kraus = cirq.kraus(op, None)
        if kraus is not None:
            return [channel_tensor(op.qubits, kraus)]
    parts = cirq.decompose_once(op, default=None)
    if parts is None:
        raise ValueError(f"operation {op} has no unitary and no decomposition qtn can use")
    return [t for part in parts for t in _unitary_tensors(part, depth + 1, allow_channels)]


def gate_key(op: cirq.Operation) -> Any:
    """A key under which an op's tensors can be cached and reused for equal gates on
    other qubits, or None where the op has no hashable gate."""
    if op.gate is None:
        return None
    key = (op.gate, len(op.qubits))
    try:
        hash(key)
    except TypeError:
        return None
    return key


@dataclass
class CircuitTensors:
    """A circuit's gates as tensors on integer wire labels, before its ends are closed.

    Attributes:
        qubits: qubits in result order.
        start: first label of each qubit (closed by ``|0>``).
        end: last label of each qubit (closed by ``<b|`` or left open).
        arrays, indices: the gate tensors.
        scalar: product of global phases.
    """

    qubits: list[cirq.Qid]
    start: list[int]
    end: list[int]
    arrays: list[np.ndarray]
    indices: list[tuple[int, ...]]
    scalar: complex


def circuit_tensors(
    circuit: cirq.AbstractCircuit, qubits: Sequence[cirq.Qid], dtype: "np.dtype | type" = np.complex64
) -> CircuitTensors:
    """Turn every operation of a resolved circuit into a tensor.

    Args:
        circuit: a circuit without symbols (see :func:`resolve_circuit`).
        qubits: result order of the qubits (see :func:`resolve_qubit_order`).
        dtype: complex dtype of the arrays.

    Raises:
        ValueError: an operation is a measurement, a channel, acts on qudits, or has
            neither a unitary nor a decomposition.
    """
    position = {q: p for p, q in enumerate(qubits)}
    wire = list(range(len(qubits)))
    start = list(wire)
    next_label = len(qubits)
    arrays: list[np.ndarray] = []
    indices: list[tuple[int, ...]] = []
    scalar = 1.0 + 0j
    cache: dict[Any, list[GateTensor]] = {}
    for op in circuit.all_operations():
        key = gate_key(op)
        tensors = cache.get(key) if key is not None else None
        if tensors is None:
            tensors = _unitary_tensors(op)
            if key is not None and all(t.qubits == tuple(op.qubits) for t in tensors):
                cache[key] = tensors
        if key is not None and tensors is cache.get(key):
            tensors = [GateTensor(tuple(op.qubits), t.data, t.diagonal) for t in tensors]
        for t in tensors:
            if not t.qubits:
                scalar *= complex(t.data)
                continue
            pos = [position[q] for q in t.qubits]
            if t.diagonal:
                ix = tuple(wire[p] for p in pos)
            else:
                new = list(range(next_label, next_label + len(pos)))
                next_label += len(pos)
                ix = tuple(new) + tuple(wire[p] for p in pos)
                for p, lab in zip(pos, new):
                    wire[p] = lab
            arrays.append(t.data.astype(dtype, copy=False))
            indices.append(ix)
    return CircuitTensors(list(qubits), start, list(wire), arrays, indices, scalar)


def _with_ends(
    ct: CircuitTensors, fixed: Mapping[int, int], open_positions: Sequence[int], dtype, initial: Sequence[int] | None
) -> Network:
    initial = initial or [0] * len(ct.start)
    arrays = [np.asarray(_ONE if bit else _ZERO, dtype=dtype) for bit in initial] + list(ct.arrays)
    indices = [(s,) for s in ct.start] + list(ct.indices)
    for p, bit in fixed.items():
        arrays.append(np.asarray(_ONE if bit else _ZERO, dtype=dtype))
        indices.append((ct.end[p],))
    return Network(arrays, indices, tuple(ct.end[p] for p in open_positions), ct.scalar)


def open_network(
    ct: CircuitTensors,
    open_positions: Sequence[int] = (),
    bits: Sequence[int] | None = None,
    dtype=np.complex64,
    initial: Sequence[int] | None = None,
) -> Network:
    """The network of ``C|initial>`` (default ``|0...0>``) with the qubits at
    ``open_positions`` left open (in that order) and every other qubit ``p`` closed by
    ``<bits[p]|``. With no open positions it is the amplitude ``<bits|C|initial>``.
    Bits are in the order of ``ct.qubits``."""
    open_set = set(open_positions)
    fixed = {p: (bits[p] if bits is not None else 0) for p in range(len(ct.qubits)) if p not in open_set}
    return _with_ends(ct, fixed, open_positions, dtype, initial)


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
