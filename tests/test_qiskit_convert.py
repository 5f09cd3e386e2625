"""Qiskit QuantumCircuits wherever a cirq.Circuit goes: bitstrings in and results out in
Qiskit's little-endian order, against Qiskit's Statevector."""

from __future__ import annotations

import cirq
import numpy as np
import pytest

import qtn

pytest.importorskip("qiskit")
from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister  # noqa: E402
from qiskit.circuit import Parameter  # noqa: E402
from qiskit.circuit.random import random_circuit  # noqa: E402
from qiskit.quantum_info import SparsePauliOp, Statevector  # noqa: E402

from qtn.qiskit import qiskit_order, to_cirq  # noqa: E402


def _two_register_circuit() -> QuantumCircuit:
    a, b = QuantumRegister(2, "b"), QuantumRegister(2, "a")  # declared b first: not alphabetical
    qc = QuantumCircuit(a, b)
    qc.x(a[1])
    qc.h(b[0])
    qc.cry(0.8, b[0], b[1])
    qc.global_phase = -1.1
    return qc


def test_names_order_and_state_are_qiskits():
    qc = _two_register_circuit()
    circuit, order = to_cirq(qc)
    assert [str(q) for q in order] == ["a_1", "a_0", "b_1", "b_0"]
    np.testing.assert_allclose(qtn.state_vector(qc), Statevector(qc).data, atol=2e-6)
    np.testing.assert_allclose(qtn.state_vector(circuit), Statevector(qc).data, atol=2e-6)  # order travels along


def test_bitstrings_in_are_qiskits():
    qc = _two_register_circuit()
    sv = Statevector(qc)
    labels = ["0110", "0010", "1110", "0000"]  # Qiskit's labels: qubit 0 rightmost
    np.testing.assert_allclose(qtn.amplitudes(qc, labels), [sv[int(s, 2)] for s in labels], atol=2e-6)


def test_random_circuits_with_every_gate_kind():
    for seed in range(6):
        qc = random_circuit(5, 5, max_operands=4, seed=seed)
        np.testing.assert_allclose(qtn.state_vector(qc, dtype=np.complex128), Statevector(qc).data, atol=1e-9)


def test_sample_counts_out_and_simulator():
    q, c = QuantumRegister(3, "q"), ClassicalRegister(3, "c")
    qc = QuantumCircuit(q, c)
    qc.x(0)
    qc.x(2)
    qc.measure(q, c)
    result = qtn.sample(qc, 5, seed=1)
    # one key per clbit, as Cirq's importer names them; c_0 holds qubit 0
    assert {k: int(v[:, 0].sum()) for k, v in result.measurements.items()} == {"c_0": 5, "c_1": 0, "c_2": 5}
    sim = qtn.Simulator()
    assert sim.run(qc, repetitions=3).measurements["c_2"].tolist() == [[1]] * 3
    state = sim.simulate(qc.remove_final_measurements(inplace=False)).final_state_vector
    np.testing.assert_allclose(state, Statevector(qc.remove_final_measurements(inplace=False)).data, atol=2e-6)


def test_expectation_of_a_quantum_circuit():
    qc = random_circuit(4, 4, max_operands=2, seed=9)
    order = qiskit_order(qc)
    obs = cirq.Z(order[-1]) * cirq.X(order[0]) + 0.5 * cirq.Y(order[1])  # Z on qubit 0, X on 3, Y on 2
    ref = Statevector(qc).expectation_value(SparsePauliOp(["XIIZ", "IYII"], [1, 0.5]))
    assert qtn.expectation(qc, [obs])[0] == pytest.approx(ref, abs=2e-5)


def test_if_test_and_reset_sample_like_qiskit():
    q, c = QuantumRegister(2, "q"), ClassicalRegister(1, "c")
    qc = QuantumCircuit(q, c)
    qc.x(0)
    qc.measure(0, 0)
    with qc.if_test((c, 1)):
        qc.x(1)
    qc.reset(0)
    qc.measure(1, 0)
    result = qtn.sample(qc, 10, seed=3)
    assert result.records["c_0"][:, -1, 0].tolist() == [1] * 10


def test_unbound_parameters_and_unsupported_instructions_are_named():
    qc = QuantumCircuit(1)
    qc.rx(Parameter("theta"), 0)
    with pytest.raises(ValueError, match="unbound parameter.*theta.*assign_parameters"):
        qtn.amplitudes(qc, ["0"])
    loop = QuantumCircuit(1, 1)
    with loop.for_loop(range(2)):
        loop.x(0)
    with pytest.raises(ValueError, match="'for_loop' is not supported"):
        qtn.sample(loop, 1)


def test_if_test_on_an_unmeasured_bit_reads_zero():
    q, c = QuantumRegister(1, "q"), ClassicalRegister(2, "c")
    qc = QuantumCircuit(q, c)
    with qc.if_test((c, 0)):  # nothing measured yet: c == 0 holds, as in Qiskit
        qc.x(0)
    qc.measure(0, 1)
    assert qtn.sample(qc, 4, seed=1).measurements["c_1"].ravel().tolist() == [1] * 4
