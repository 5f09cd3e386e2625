"""Noisy circuits as density-matrix networks, against cirq.DensityMatrixSimulator.

Every channel and noise model, expectation values (exact) and samples (chi-square
against the density matrix's diagonal, rejecting at p < 1e-3 with fixed seeds).
"""

from __future__ import annotations

import cirq
import numpy as np
import pytest
from scipy import stats

import qtn
from qtn.lightcone import lightcone
from qtn.expectation import expectation_circuit

from test_sampling import ALPHA, as_ints, chi2_pvalue

_Q = cirq.LineQubit
q = _Q.range(3)


def _random_channel(seed: int) -> cirq.KrausChannel:
    # a CPTP map from a random isometry: K_k = (<k| x 1) U (1 x |0>)
    u = cirq.testing.random_unitary(4, random_state=seed)
    return cirq.KrausChannel([u[k * 2:(k + 1) * 2, 0::2] for k in range(2)])


CHANNELS = {
    "depolarize": [cirq.depolarize(0.15)(q[0]), cirq.depolarize(0.1)(q[2])],
    "depolarize_2q": [cirq.depolarize(0.2, n_qubits=2)(q[0], q[1])],
    "asymmetric_depolarize": [cirq.asymmetric_depolarize(0.1, 0.05, 0.2)(q[1])],
    "bit_flip": [cirq.bit_flip(0.2)(q[0]), cirq.bit_flip(0.1)(q[1])],
    "phase_flip": [cirq.phase_flip(0.3)(q[1])],
    "amplitude_damp": [cirq.amplitude_damp(0.4)(q[0]), cirq.amplitude_damp(0.2)(q[2])],
    "generalized_amplitude_damp": [cirq.generalized_amplitude_damp(0.3, 0.25)(q[1])],
    "phase_damp": [cirq.phase_damp(0.5)(q[0]), cirq.phase_damp(0.3)(q[1])],
    "reset": [cirq.reset(q[1])],
    "kraus_channel": [_random_channel(3)(q[2]), _random_channel(4)(q[0])],
    "mixed_unitary": [cirq.MixedUnitaryChannel([(0.3, cirq.unitary(cirq.H)), (0.7, cirq.unitary(cirq.S))])(q[0])],
}


def noisy_circuit(channel_ops) -> cirq.Circuit:
    prep = cirq.Circuit(cirq.ry(0.7)(q[0]), cirq.rx(1.1)(q[1]), cirq.H(q[2]), cirq.CNOT(q[0], q[1]))
    tail = cirq.Circuit(cirq.CZ(q[1], q[2]), cirq.ry(0.4)(q[2]), cirq.CNOT(q[2], q[0]), cirq.rx(0.3)(q[1]))
    return prep + cirq.Circuit(channel_ops) + tail + cirq.Circuit(channel_ops)


OBSERVABLES = [cirq.Z(q[0]), cirq.X(q[1]), cirq.Y(q[2]) * cirq.Z(q[0]), cirq.X(q[0]) * cirq.Y(q[1]) * cirq.Z(q[2]),
               cirq.Z(q[0]) * cirq.Z(q[1]) + 0.5 * cirq.X(q[2])]


def density_matrix(circuit, noise=None) -> np.ndarray:
    sim = cirq.DensityMatrixSimulator(dtype=np.complex128, noise=noise)
    return sim.simulate(cirq.drop_terminal_measurements(circuit), qubit_order=q).final_density_matrix


@pytest.mark.parametrize("name", sorted(CHANNELS))
def test_each_channel_expectation_matches_density_matrix(name):
    circuit = noisy_circuit(CHANNELS[name])
    got = qtn.expectation(circuit, OBSERVABLES, dtype=np.complex128)
    ref = cirq.DensityMatrixSimulator(dtype=np.complex128).simulate_expectation_values(circuit, OBSERVABLES)
    np.testing.assert_allclose(got, ref, atol=1e-8)


@pytest.mark.parametrize("name", sorted(CHANNELS))
def test_each_channel_samples_match_density_matrix(name):
    circuit = noisy_circuit(CHANNELS[name]) + cirq.Circuit(cirq.measure(*q, key="m"))
    probs = np.real(np.diagonal(density_matrix(circuit)))
    bits = qtn.sample(circuit, 2000, seed=7).measurements["m"]
    assert chi2_pvalue(as_ints(bits), probs) > ALPHA


def test_noise_model_on_simulator_expectation_and_sample(backend):
    model = cirq.ConstantQubitNoiseModel(cirq.depolarize(0.05))
    circuit = noisy_circuit([])
    sim = qtn.Simulator(noise=model, dtype=np.complex128, backend=backend, seed=3)
    ref = cirq.DensityMatrixSimulator(noise=model, dtype=np.complex128).simulate_expectation_values(circuit, OBSERVABLES)
    np.testing.assert_allclose(sim.simulate_expectation_values(circuit, OBSERVABLES), ref, atol=1e-8)
    np.testing.assert_allclose(qtn.expectation(circuit, OBSERVABLES, noise=model, backend=backend,
                                               dtype=np.complex128), ref, atol=1e-8)
    measured = circuit + cirq.Circuit(cirq.measure(*q, key="m"))
    probs = np.real(np.diagonal(density_matrix(measured, model)))
    bits = sim.run(measured, repetitions=1500).measurements["m"]
    assert chi2_pvalue(as_ints(bits), probs) > ALPHA


def test_noise_like_values_are_accepted():
    circuit = noisy_circuit([])
    want = cirq.DensityMatrixSimulator(noise=cirq.bit_flip(0.1), dtype=np.complex128).simulate_expectation_values(
        circuit, OBSERVABLES)
    np.testing.assert_allclose(qtn.expectation(circuit, OBSERVABLES, noise=cirq.bit_flip(0.1), dtype=np.complex128),
                               want, atol=1e-8)


def test_noisy_mid_circuit_measurement_and_classical_control():
    a, b = _Q.range(2)
    circuit = cirq.Circuit(cirq.H(a), cirq.depolarize(0.2)(a), cirq.measure(a, key="a"),
                           cirq.X(b).with_classical_controls("a"), cirq.bit_flip(0.1)(b), cirq.measure(b, key="b"))
    result = qtn.sample(circuit, 3000, seed=2)
    pairs = 2 * result.measurements["a"][:, 0] + result.measurements["b"][:, 0]
    assert chi2_pvalue(pairs, np.array([0.45, 0.05, 0.05, 0.45])) > ALPHA


def test_amplitude_damping_on_40_qubits_is_local():
    n = 40
    qs = _Q.range(n)
    angles = np.linspace(0.1, 3.0, n)
    gammas = np.linspace(0.05, 0.6, n)
    circuit = cirq.Circuit([cirq.ry(t)(x) for t, x in zip(angles, qs)],
                           [cirq.amplitude_damp(g)(x) for g, x in zip(gammas, qs)])
    obs = [cirq.Z(qs[i]) for i in range(0, n, 7)]
    want = [1 - 2 * (1 - gammas[i]) * np.sin(angles[i] / 2) ** 2 for i in range(0, n, 7)]
    np.testing.assert_allclose(qtn.expectation(circuit, obs, dtype=np.complex128), want, atol=1e-12)
    cc = expectation_circuit(circuit, None, None, None, False, np.complex64)
    assert len(lightcone(cc, [3], [3])) == 2  # its ry and its channel; 78 others cancel


def test_bit_flipped_ghz_on_30_qubits():
    n, p = 30, 0.1
    qs = _Q.range(n)
    circuit = cirq.Circuit(cirq.H(qs[0]), [cirq.CNOT(qs[i], qs[i + 1]) for i in range(n - 1)],
                           cirq.bit_flip(p).on_each(*qs))
    np.testing.assert_allclose(qtn.expectation(circuit, [cirq.Z(qs[0]) * cirq.Z(qs[29]), cirq.Z(qs[5])],
                                               dtype=np.complex128), [(1 - 2 * p) ** 2, 0], atol=1e-12)
    bits = qtn.sample(circuit + cirq.Circuit(cirq.measure(*qs, key="m")), 300, seed=6).measurements["m"]
    differ = int((bits[:, 0] != bits[:, 29]).sum())
    assert stats.binomtest(differ, 300, 2 * p * (1 - p)).pvalue > ALPHA
    assert stats.binomtest(int(bits[:, 0].sum()), 300).pvalue > ALPHA


def test_amplitudes_of_noisy_circuits_are_refused_and_pure_samplers_refuse_noise():
    # (qtn.Simulator's simulate / compute_amplitudes draw a trajectory: test_simulator_parity.py)
    circuit = noisy_circuit(CHANNELS["depolarize"])
    with pytest.raises(ValueError, match="noise channel"):
        qtn.amplitudes(circuit, [0])
    with pytest.raises(ValueError, match="noise channel"):
        qtn.state_vector(circuit)
    with pytest.raises(ValueError, match="no state vector"):
        qtn.Simulator(sampling="state_vector").run(circuit + cirq.Circuit(cirq.measure(q[0])))
    with pytest.raises(ValueError, match="pure circuit"):
        qtn.Simulator(sampling="gate_by_gate").run(circuit + cirq.Circuit(cirq.measure(q[0])))
    with pytest.raises(TypeError, match="noise must be"):
        qtn.Simulator(noise="depolarize")
