"""Every common Cirq gate, every qubit type, qubit orders and sweeps, against cirq.Simulator."""

from __future__ import annotations

import cirq
import numpy as np
import pytest
import sympy

import qtn
from helpers import reference_state, tolerance

a, b, c = cirq.LineQubit.range(3)

GATES = {
    "paulis": [cirq.X(a), cirq.Y(b), cirq.Z(c)],
    "h_s_t": [cirq.H(a), cirq.S(b), cirq.T(c), cirq.S(a) ** -1, cirq.T(b) ** -1],
    "rotations": [cirq.rx(0.3)(a), cirq.ry(1.2)(b), cirq.rz(-0.8)(c)],
    "powgates_global_shift": [
        cirq.XPowGate(exponent=0.3, global_shift=-0.5)(a),
        cirq.YPowGate(exponent=1.7, global_shift=0.25)(b),
        cirq.ZPowGate(exponent=-0.4, global_shift=0.1)(c),
        cirq.HPowGate(exponent=0.5)(a),
    ],
    "two_qubit": [cirq.CZ(a, b), cirq.CNOT(b, c), cirq.SWAP(a, c), cirq.ISWAP(a, b)],
    "two_qubit_powers": [cirq.CZ(a, b) ** 0.3, cirq.CNOT(b, c) ** 0.7, cirq.SWAP(a, c) ** 0.5, cirq.ISWAP(a, b) ** -0.25],
    "xx_yy_zz": [cirq.XX(a, b) ** 0.2, cirq.YY(b, c) ** 0.3, cirq.ZZ(a, c) ** 0.4],
    "fsim": [cirq.FSimGate(theta=0.7, phi=0.3)(a, b), cirq.FSimGate(np.pi / 2, np.pi / 6)(b, c)],
    "phased": [
        cirq.PhasedXPowGate(phase_exponent=0.25, exponent=0.5)(a),
        cirq.PhasedXZGate(x_exponent=0.3, z_exponent=0.2, axis_phase_exponent=0.6)(b),
        cirq.PhasedISwapPowGate(phase_exponent=0.1, exponent=0.4)(b, c),
    ],
    "three_qubit": [cirq.CCZ(a, b, c), cirq.CCX(a, b, c), cirq.CSWAP(a, b, c), cirq.CCZ(a, b, c) ** 0.5],
    "matrix_gate": [cirq.MatrixGate(cirq.testing.random_unitary(4, random_state=3))(a, c)],
    "controlled": [cirq.ControlledGate(cirq.rx(0.4))(a, b), cirq.ry(0.9).controlled(2)(a, b, c),
                   cirq.X(c).controlled_by(a, control_values=[0])],
    "identity_and_global_phase": [cirq.I(a), cirq.IdentityGate(2)(b, c), cirq.global_phase_operation(1j),
                                  cirq.GlobalPhaseGate(np.exp(0.3j)).on()],
    "qft": [cirq.qft(a, b, c)],
    "decomposed_only": [cirq.QuantumFourierTransformGate(3)(a, b, c)],
    "circuit_operation": [cirq.CircuitOperation(cirq.FrozenCircuit(cirq.H(a), cirq.CNOT(a, b)), repetitions=3)],
}


def _prep():
    # a generic start state: every gate acts on a non-trivial superposition
    return cirq.Circuit(cirq.ry(0.3 + 0.4 * i)(q) for i, q in enumerate((a, b, c)))


@pytest.mark.parametrize("name", sorted(GATES))
def test_gate_family(name, backend):
    circuit = _prep() + cirq.Circuit(GATES[name]) + cirq.Circuit(cirq.H.on_each(a, b, c), GATES[name])
    qubits = [a, b, c]
    ref = reference_state(circuit, qubits)
    got = qtn.amplitudes(circuit, range(8), qubit_order=qubits, backend=backend, dtype=np.complex128)
    np.testing.assert_allclose(got, ref, atol=tolerance(np.complex128))


@pytest.mark.parametrize(
    "qubits",
    [
        cirq.LineQubit.range(4),
        cirq.GridQubit.rect(2, 2),
        [cirq.NamedQubit(n) for n in ("alice", "bob", "carol", "dave")],
        [cirq.LineQubit(3), cirq.GridQubit(0, 0), cirq.NamedQubit("z"), cirq.LineQubit(-1)],
    ],
    ids=["line", "grid", "named", "mixed"],
)
def test_qubit_types_and_orders(qubits):
    circuit = cirq.testing.random_circuit(qubits, 8, 0.9, random_state=11)
    circuit = cirq.Circuit(cirq.H.on_each(*qubits)) + circuit
    for order in (None, list(reversed(qubits)), qubits[1:] + qubits[:1], cirq.QubitOrder.explicit(qubits[::-1])):
        ref = reference_state(circuit, order)
        got = qtn.state_vector(circuit, qubit_order=order, dtype=np.complex128)
        np.testing.assert_allclose(got, ref, atol=1e-10)


def test_qubit_order_may_add_idle_qubits():
    q = cirq.LineQubit.range(3)
    circuit = cirq.Circuit(cirq.H(q[1]))
    order = [q[2], q[1], q[0], cirq.NamedQubit("idle")]
    ref = reference_state(circuit, order)
    np.testing.assert_allclose(qtn.state_vector(circuit, qubit_order=order), ref, atol=1e-6)


def test_bitstring_forms_agree():
    q = cirq.LineQubit.range(3)
    circuit = cirq.Circuit(cirq.H.on_each(*q), cirq.T(q[0]), cirq.CZ(q[0], q[2]), cirq.rx(0.3)(q[1]))
    ref = reference_state(circuit)
    got = qtn.amplitudes(circuit, [5, "101", (1, 0, 1), np.int64(5), np.array([1, 0, 1])], dtype=np.complex128)
    np.testing.assert_allclose(got, np.full(5, ref[5]), atol=1e-12)


def test_big_endian_convention():
    q = cirq.LineQubit.range(3)
    circuit = cirq.Circuit(cirq.X(q[0]))  # |100> is index 4 in Cirq's big-endian order
    np.testing.assert_allclose(qtn.amplitudes(circuit, [4, 1], qubit_order=q), [1, 0])


theta = sympy.Symbol("theta")
phi = sympy.Symbol("phi")


def _param_circuit():
    q = cirq.LineQubit.range(4)
    return cirq.Circuit(
        cirq.H.on_each(*q),
        cirq.rx(theta)(q[0]),
        cirq.CZ(q[0], q[1]) ** phi,
        cirq.FSimGate(theta, phi)(q[2], q[3]),
        cirq.ry(2 * theta + 0.1)(q[1]),
        cirq.CNOT(q[1], q[2]),
    )


@pytest.mark.parametrize(
    "sweep",
    [
        cirq.Linspace(theta, 0.1, 1.3, 4) * cirq.Points(phi, [0.2, 0.9]),
        cirq.Zip(cirq.Points(theta, [0.3, 0.4]), cirq.Points(phi, [0.5, 0.6])),
        [{theta: 0.2, phi: 0.4}, cirq.ParamResolver({theta: -0.7, phi: 1.5})],
        {theta: 0.25, phi: 0.75},
    ],
    ids=["product", "zip", "list", "single"],
)
def test_sweeps_with_simulator(sweep, backend):
    circuit = _param_circuit()
    sim = qtn.Simulator(backend=backend, dtype=np.complex128)
    bitstrings = [0, 3, 9, 15]
    results = sim.compute_amplitudes_sweep(circuit, bitstrings, sweep)
    resolvers = list(cirq.to_resolvers(sweep))
    assert len(results) == len(resolvers)
    for resolver, got in zip(resolvers, results):
        ref = reference_state(circuit, resolver=resolver)
        np.testing.assert_allclose(got, ref[bitstrings], atol=1e-10)


def test_sweep_points_reuse_one_plan():
    circuit = _param_circuit()
    cache = qtn.PlanCache()  # in memory, of this test only
    sim = qtn.Simulator(plan_cache=cache)
    sim.compute_amplitudes_sweep(circuit, [5], cirq.Linspace(theta, 0.1, 1.0, 5) * cirq.Points(phi, [0.3]))
    info = cache.info()
    assert info["misses"] == 1 and info["hits"] == 4  # one search, four sweep points served from it


def test_simulate_final_state_and_initial_state():
    circuit = cirq.testing.random_circuit(5, 10, 0.8, random_state=4)
    qubits = sorted(circuit.all_qubits())
    sim = qtn.Simulator(dtype=np.complex128)
    result = sim.simulate(circuit, qubit_order=qubits, initial_state=3)
    ref = cirq.Simulator(dtype=np.complex128).simulate(circuit, qubit_order=qubits, initial_state=3)
    np.testing.assert_allclose(result.final_state_vector, ref.final_state_vector, atol=1e-10)
    assert result.qubit_map == ref.qubit_map


def test_simulator_is_a_cirq_simulator():
    sim = qtn.Simulator()
    assert isinstance(sim, cirq.SimulatesAmplitudes)
    assert isinstance(sim, cirq.SimulatesFinalState)
    q = cirq.LineQubit.range(2)
    circuit = cirq.Circuit(cirq.H(q[0]), cirq.CNOT(*q))
    np.testing.assert_allclose(sim.compute_amplitudes(circuit, [0, 1, 2, 3]), [2**-0.5, 0, 0, 2**-0.5], atol=1e-6)
