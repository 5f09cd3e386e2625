"""The hand-written qsim reference (tests/references.py) against analytic values, so that a
slip in transcribing qsim's gate table cannot hide behind a matching slip in qtn."""

from __future__ import annotations

import math

import numpy as np
import pytest

from references import QSIM_GATES, qsim_amplitudes

X = np.array([[0, 1], [1, 0]])
Y = np.array([[0, -1j], [1j, 0]])
Z = np.diag([1, -1])


def rotation(axis: np.ndarray, angle: float) -> np.ndarray:
    """exp(-i angle/2 axis) for a Pauli-like axis (axis @ axis = 1)."""
    return math.cos(angle / 2) * np.eye(2) - 1j * math.sin(angle / 2) * axis


def gate(name: str, *params: float) -> np.ndarray:
    return QSIM_GATES[name][2](*params)


@pytest.mark.parametrize("name", sorted(QSIM_GATES))
def test_every_gate_is_unitary_of_its_size(name):
    k, n_params, _ = QSIM_GATES[name]
    u = gate(name, *np.linspace(-2.3, 5.1, n_params))
    assert u.shape == (2**k, 2**k)
    np.testing.assert_allclose(u @ u.conj().T, np.eye(2**k), atol=1e-12)


@pytest.mark.parametrize("phi", [0.7, -2.9, 8.1])
def test_parametrized_gates_against_closed_forms(phi):
    np.testing.assert_allclose(gate("rx", phi), rotation(X, phi), atol=1e-12)
    np.testing.assert_allclose(gate("ry", phi), rotation(Y, phi), atol=1e-12)
    np.testing.assert_allclose(gate("rz", phi), rotation(Z, phi), atol=1e-12)
    np.testing.assert_allclose(gate("rxy", 0.0, phi), gate("rx", phi), atol=1e-12)
    np.testing.assert_allclose(gate("rxy", math.pi / 2, phi), gate("ry", phi), atol=1e-12)
    theta = 0.4 * phi
    np.testing.assert_allclose(gate("rxy", theta, phi), rotation(math.cos(theta) * X + math.sin(theta) * Y, phi),
                               atol=1e-12)
    np.testing.assert_allclose(gate("cp", phi), np.diag([1, 1, 1, np.exp(-1j * phi)]), atol=1e-12)
    c, s = math.cos(theta), math.sin(theta)
    fs = gate("fs", theta, phi)
    np.testing.assert_allclose([fs[1, 1], fs[1, 2], fs[2, 1], fs[2, 2], fs[3, 3]],
                               [c, -1j * s, -1j * s, c, np.exp(-1j * phi)], atol=1e-12)
    assert np.count_nonzero(np.abs(fs) > 1e-15) <= 6 and fs[0, 0] == 1


def test_fixed_gates_against_rotations_and_powers():
    phase = np.exp(1j * math.pi / 4)  # qsim's square roots carry e^{iπ/4} over the rotations
    np.testing.assert_allclose(gate("x_1_2"), phase * rotation(X, math.pi / 2), atol=1e-12)
    np.testing.assert_allclose(gate("y_1_2"), phase * rotation(Y, math.pi / 2), atol=1e-12)
    np.testing.assert_allclose(gate("hz_1_2"), phase * rotation((X + Y) / math.sqrt(2), math.pi / 2), atol=1e-12)
    np.testing.assert_allclose(gate("t") @ gate("t"), gate("s"), atol=1e-12)
    np.testing.assert_allclose(gate("s") @ gate("s"), gate("z"), atol=1e-12)
    np.testing.assert_allclose(gate("h") @ gate("z") @ gate("h"), gate("x"), atol=1e-12)
    np.testing.assert_allclose(gate("is"), gate("fs", -math.pi / 2, 0.0), atol=1e-12)
    np.testing.assert_allclose(gate("cz"), gate("cp", math.pi), atol=1e-12)


def test_index_order_controls_and_phase():
    # qsim: qubit k is bit k of the amplitude index; cnot's first qubit is the control
    assert np.flatnonzero(qsim_amplitudes("3\n0 x 0\n")).tolist() == [1]
    assert np.flatnonzero(qsim_amplitudes("3\n0 x 2\n1 cnot 2 0\n")).tolist() == [5]
    assert np.flatnonzero(qsim_amplitudes("3\n0 x 0\n1 cnot 1 0\n")).tolist() == [1]
    assert np.flatnonzero(qsim_amplitudes("3\n0 x 1\n0 x 2\n1 c 1 2 x 0\n")).tolist() == [7]
    assert np.flatnonzero(qsim_amplitudes("3\n0 x 1\n1 c 1 2 x 0\n")).tolist() == [2]
    np.testing.assert_allclose(qsim_amplitudes("1\n0 p 0.3\n"), [np.exp(0.3j), 0], atol=1e-15)
    state = qsim_amplitudes("2\n0 h 0\n0 h 1\n1 cp 1 0 0.7\n")
    np.testing.assert_allclose(state, 0.5 * np.array([1, 1, 1, np.exp(-0.7j)]), atol=1e-12)


def test_refuses_what_it_does_not_simulate():
    with pytest.raises(ValueError, match="'m'"):
        qsim_amplitudes("2\n0 h 0\n1 m 0 1\n")
    with pytest.raises(ValueError, match="time order"):
        qsim_amplitudes("2\n1 h 0\n0 x 0\n")
