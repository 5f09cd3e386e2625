"""Bad input: each a ValueError/TypeError naming the culprit, raised before large allocations."""

from __future__ import annotations

import tracemalloc

import cirq
import numpy as np
import pytest
import sympy

import qtn

q = cirq.LineQubit.range(3)
BELL = cirq.Circuit(cirq.H(q[0]), cirq.CNOT(q[0], q[1]), cirq.X(q[2]))


class NoUnitaryGate(cirq.Gate):
    def _num_qubits_(self):
        return 1

    def __str__(self):
        return "Mystery"


def test_op_without_unitary_or_decomposition():
    with pytest.raises(ValueError, match="Mystery.*no unitary and no decomposition"):
        qtn.amplitudes(cirq.Circuit(NoUnitaryGate()(q[0])), [0])


def test_qudit_operation():
    qt = cirq.LineQid(0, dimension=3)
    with pytest.raises(ValueError, match="3-level qudit"):
        qtn.amplitudes(cirq.Circuit(cirq.MatrixGate(np.eye(3), qid_shape=(3,))(qt)), [0])


def test_measurement_and_noise_are_refused_not_dropped():
    with pytest.raises(ValueError, match="measurement"):
        qtn.amplitudes(BELL + cirq.Circuit(cirq.measure(*q)), [0])
    with pytest.raises(ValueError, match="noise channel"):
        qtn.amplitudes(BELL + cirq.Circuit(cirq.depolarize(0.1)(q[0])), [0])


def test_unresolved_symbol_is_named():
    t = sympy.Symbol("theta_7")
    with pytest.raises(ValueError, match="theta_7"):
        qtn.amplitudes(cirq.Circuit(cirq.rx(t)(q[0])), [0])
    with pytest.raises(ValueError, match="theta_7"):
        qtn.Simulator().compute_amplitudes(cirq.Circuit(cirq.rx(t)(q[0])), [0])


@pytest.mark.parametrize(
    "bitstring,error,match",
    [
        (-1, ValueError, "-1 is out of range"),
        (8, ValueError, "8 is out of range"),
        (2**80, ValueError, "out of range"),
        ("01", ValueError, "must be 3 characters"),
        ("012", ValueError, "must be 3 characters"),
        ([0, 1], ValueError, "length 2, expected 3"),
        ([0, 2, 1], ValueError, "holds 2"),
        (1.0, TypeError, "float"),
        (True, TypeError, "bool"),
    ],
)
def test_bad_bitstrings(bitstring, error, match):
    with pytest.raises(error, match=match):
        qtn.amplitudes(BELL, [bitstring])


def test_bitstrings_must_be_a_sequence():
    with pytest.raises(TypeError, match="sequence of bitstrings"):
        qtn.amplitudes(BELL, 3)


def test_bad_qubit_orders():
    with pytest.raises(ValueError, match="misses qubit.*q\\(2\\)"):
        qtn.amplitudes(BELL, [0], qubit_order=q[:2])
    with pytest.raises(ValueError, match="repeats qubit q\\(1\\)"):
        qtn.amplitudes(BELL, [0], qubit_order=[q[0], q[1], q[1], q[2]])
    with pytest.raises(TypeError, match="not a cirq qubit"):
        qtn.amplitudes(BELL, [0], qubit_order=["a", "b", "c"])


def test_bad_options():
    with pytest.raises(ValueError, match="unknown backend 'cuda'.*numpy"):
        qtn.amplitudes(BELL, [0], backend="cuda")
    with pytest.raises(TypeError, match="dtype"):
        qtn.amplitudes(BELL, [0], dtype=np.float32)
    with pytest.raises(ValueError, match="max_memory must be a positive"):
        qtn.amplitudes(BELL, [0], max_memory=0)
    with pytest.raises(TypeError, match="max_memory must be an int"):
        qtn.amplitudes(BELL, [0], max_memory=1e9)
    with pytest.raises(ValueError, match="optimize"):
        qtn.amplitudes(BELL, [0], optimize="fastest")
    with pytest.raises(TypeError, match="cirq.Circuit"):
        qtn.amplitudes("H 0", [0])


def test_budget_no_slicing_can_meet_is_refused_before_allocating():
    qubits = cirq.GridQubit.rect(4, 5)
    circuit = cirq.experiments.random_rotations_between_grid_interaction_layers_circuit(qubits, depth=10, seed=0)
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match="max_memory of at least"):
            qtn.amplitudes(circuit, [0], max_memory=16)
        with pytest.raises(ValueError, match="the result alone takes 8388608 bytes"):
            qtn.state_vector(circuit, max_memory=2**20)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 64 * 2**20  # nothing near a state vector was allocated


def test_state_vector_too_many_qubits_points_to_amplitudes():
    q = cirq.LineQubit.range(40)
    with pytest.raises(ValueError, match="use qtn.amplitudes"):
        qtn.state_vector(cirq.Circuit(cirq.H.on_each(*q)))
