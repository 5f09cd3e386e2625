"""qtn.Simulator against cirq.Simulator / cirq.DensityMatrixSimulator: noisy trajectories
and initial states (issue 11), on LineQubit, GridQubit and NamedQubit.

Statistical checks: a trajectory's state is random, so the average of ``|psi><psi|``
over N seeded trajectories is compared with the density matrix through every Pauli
expectation value: each must lie within 5 standard errors (the sample standard
deviation over sqrt(N); about 6e-7 false alarms per value by the central limit
theorem), and a value with no spread must be exact. Seeds are fixed, so the tests
are deterministic.
"""

from __future__ import annotations

import functools
import itertools
import operator

import cirq
import numpy as np
import pytest
import sympy

import qtn

QUBITS = {
    "line": cirq.LineQubit.range(3),
    "grid": [cirq.GridQubit(0, 0), cirq.GridQubit(0, 1), cirq.GridQubit(1, 0)],
    "named": [cirq.NamedQubit("alice"), cirq.NamedQubit("bob"), cirq.NamedQubit("carol")],
}


def _random_channel(seed: int) -> cirq.KrausChannel:
    u = cirq.testing.random_unitary(4, random_state=seed)  # K_k = (<k| x 1) U (1 x |0>): CPTP
    return cirq.KrausChannel([u[k * 2:(k + 1) * 2, 0::2] for k in range(2)])


def channels(q):
    return {
        "amplitude_damp": [cirq.amplitude_damp(0.4)(q[0]), cirq.amplitude_damp(0.25)(q[2])],
        "generalized_amplitude_damp": [cirq.generalized_amplitude_damp(0.3, 0.25)(q[1])],
        "reset": [cirq.reset(q[1])],
        "kraus_channel": [_random_channel(3)(q[2]), _random_channel(4)(q[0])],
        "depolarize_2q": [cirq.depolarize(0.3, n_qubits=2)(q[0], q[1])],
        "asymmetric_depolarize": [cirq.asymmetric_depolarize(0.1, 0.15, 0.2)(q[1])],
        "mixed_unitary": [cirq.MixedUnitaryChannel([(0.3, cirq.unitary(cirq.H)),
                                                    (0.7, cirq.unitary(cirq.S))])(q[0])],
    }


def noisy_circuit(q, channel_ops) -> cirq.Circuit:
    prep = cirq.Circuit(cirq.ry(0.7)(q[0]), cirq.rx(1.1)(q[1]), cirq.H(q[2]), cirq.CNOT(q[0], q[1]))
    tail = cirq.Circuit(cirq.CZ(q[1], q[2]), cirq.ry(0.4)(q[2]), cirq.CNOT(q[2], q[0]), cirq.rx(0.3)(q[1]))
    return prep + cirq.Circuit(channel_ops) + tail + cirq.Circuit(channel_ops)


def paulis(n: int) -> list[np.ndarray]:
    single = [np.eye(2), cirq.unitary(cirq.X), cirq.unitary(cirq.Y), cirq.unitary(cirq.Z)]
    out = []
    for combo in itertools.product(single, repeat=n):
        m = np.ones((1, 1))
        for s in combo:
            m = np.kron(m, s)
        out.append(m)
    return out


def assert_trajectories_converge(vectors: np.ndarray, rho: np.ndarray) -> None:
    """Every Pauli value of the trajectories' average within 5 standard errors of ``tr(P rho)``."""
    n_traj, dim = vectors.shape
    for p in paulis(int(np.log2(dim))):
        values = np.real(np.einsum("ti,ij,tj->t", vectors.conj(), p, vectors))
        exact = float(np.real(np.trace(p @ rho)))
        spread = values.std(ddof=1) / np.sqrt(n_traj)
        assert abs(values.mean() - exact) <= max(5 * spread, 1e-6), (values.mean(), exact, spread)


@pytest.mark.parametrize("name, kind", [(name, sorted(QUBITS)[k % 3])  # each qubit type in turn
                                        for k, name in enumerate(sorted(channels(QUBITS["line"])))])
def test_trajectories_average_to_the_density_matrix(name, kind):
    q = QUBITS[kind]
    circuit = noisy_circuit(q, channels(q)[name])
    rho = cirq.DensityMatrixSimulator(dtype=np.complex128).simulate(circuit, qubit_order=q).final_density_matrix
    sim = qtn.Simulator(seed=11, dtype=np.complex128)
    results = sim.simulate_sweep(circuit, [cirq.ParamResolver({})] * 160, qubit_order=q)
    vectors = np.array([r.final_state_vector for r in results])
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-10)  # pure, normalised
    assert_trajectories_converge(vectors, rho)


def test_noise_model_trajectories_and_seeded_repeats():
    q = QUBITS["grid"]
    circuit = noisy_circuit(q, [])
    noise = cirq.ConstantQubitNoiseModel(cirq.amplitude_damp(0.2))
    rho = cirq.DensityMatrixSimulator(noise=noise, dtype=np.complex128).simulate(circuit).final_density_matrix
    vectors = np.array([r.final_state_vector for r in qtn.Simulator(noise=noise, seed=5, dtype=np.complex128)
                        .simulate_sweep(circuit, [cirq.ParamResolver({})] * 160)])
    assert_trajectories_converge(vectors, rho)
    again = qtn.Simulator(noise=noise, seed=5, dtype=np.complex128).simulate(circuit).final_state_vector
    np.testing.assert_allclose(again, vectors[0], atol=1e-12)  # the seed repeats the trajectory


@pytest.mark.parametrize("name", ["amplitude_damp", "kraus_channel", "depolarize_2q"])
def test_lightcone_and_vector_trajectories_draw_alike(name, monkeypatch):
    # branch probabilities from lightcone networks (past VECTOR_QUBITS, forced here) and
    # from the state vector are the same, so one seed draws one trajectory through either
    q = QUBITS["named"]
    circuit = noisy_circuit(q, channels(q)[name])
    seeds = range(4)
    vectors = [qtn.Simulator(seed=s, dtype=np.complex128).simulate(circuit, qubit_order=q).final_state_vector
               for s in seeds]
    monkeypatch.setattr(qtn.trajectories, "VECTOR_QUBITS", 0)
    for seed, vector in zip(seeds, vectors):
        sim = qtn.Simulator(seed=seed, dtype=np.complex128)
        np.testing.assert_allclose(sim.simulate(circuit, qubit_order=q).final_state_vector, vector, atol=1e-9)
        amps = qtn.Simulator(seed=seed, dtype=np.complex128).compute_amplitudes(circuit, range(8), qubit_order=q)
        np.testing.assert_allclose(amps, vector, atol=1e-9)


def test_a_single_unitary_kraus_operator_is_that_unitary():
    q = QUBITS["line"]
    trigger = cirq.KrausChannel([np.eye(2)])  # an identity "noise trigger"
    flip = cirq.KrausChannel([cirq.unitary(cirq.Y)])
    circuit = cirq.Circuit(cirq.H(q[0]), trigger(q[1]), flip(q[2]), cirq.CNOT(q[0], q[1]))
    ref = cirq.final_state_vector(circuit.map_operations(lambda op: cirq.MatrixGate(cirq.kraus(op)[0]).on(*op.qubits)
                                                         if isinstance(op.gate, cirq.KrausChannel) else op),
                                  qubit_order=q, dtype=np.complex128)
    for seed in range(3):  # no randomness: every seed gives Cirq's unitary answer
        got = qtn.Simulator(seed=seed, dtype=np.complex128).simulate(circuit, qubit_order=q).final_state_vector
        np.testing.assert_allclose(got, ref, atol=1e-12)
    amps = qtn.Simulator(dtype=np.complex128).compute_amplitudes(circuit, range(8), qubit_order=q)
    np.testing.assert_allclose(amps, ref, atol=1e-12)


def test_trajectory_amplitudes_past_state_vector_sizes():
    # 40 qubits, amplitude damping on the first 4: branch probabilities from lightcone
    # networks. The state is (first 4 qubits) x (36 qubits of H then CZ pairs, whose
    # |0...0> amplitude is 2**-18), so one seed draws the trajectory simulate draws on 4.
    q = cirq.LineQubit.range(40)
    def build(qs):
        return cirq.Circuit(cirq.H.on_each(*qs), [cirq.CZ(qs[i], qs[i + 1]) for i in range(0, len(qs) - 1, 2)],
                            cirq.amplitude_damp(0.3).on_each(*qs[:4]), cirq.H.on_each(*qs[:4]))
    for seed in range(2):
        got = qtn.Simulator(seed=seed, dtype=np.complex128).compute_amplitudes(build(q), [0, 1 << 36])
        part = qtn.Simulator(seed=seed, dtype=np.complex128).simulate(build(q[:4])).final_state_vector
        np.testing.assert_allclose(got, [part[0] * 2.0**-18, part[1] * 2.0**-18], atol=1e-12)


# --- initial states --------------------------------------------------------------------------


def _circuit(q) -> cirq.Circuit:
    return cirq.Circuit(cirq.H(q[0]), cirq.CNOT(q[0], q[1]), cirq.ry(0.3)(q[2]), cirq.CZ(q[1], q[2]),
                        cirq.rx(0.8)(q[0]))


def _initial_states(q):
    rng = np.random.default_rng(4)
    v = rng.normal(size=8) + 1j * rng.normal(size=8)
    v /= np.linalg.norm(v)
    real = rng.normal(size=8)
    real /= np.linalg.norm(real)
    product = cirq.KET_PLUS(q[0]) * cirq.KET_ONE(q[1]) * cirq.KET_MINUS_IMAG(q[2])
    return {"int": 5, "complex128": v, "complex64": v.astype(np.complex64), "float64": real,
            "float32": real.astype(np.float32), "list": list(real), "product": product}


def _as_vector(initial, order) -> np.ndarray | int:
    if isinstance(initial, cirq.ProductState):  # qtn places each factor on its qubit, in any order
        return cirq.kron(*[initial.states[qb].state_vector() for qb in order]).reshape(-1)
    if isinstance(initial, int):
        return initial
    v = np.asarray(initial, dtype=np.complex128)
    return v / np.linalg.norm(v)  # (qtn normalises a vector within its precision too)


@pytest.mark.parametrize("kind", sorted(QUBITS))
@pytest.mark.parametrize("name", sorted(_initial_states(QUBITS["line"])))
def test_initial_state_in_simulate_sweeps_and_expectation_values(name, kind):
    q = QUBITS[kind]
    initial = _initial_states(q)[name]
    t = sympy.Symbol("t")
    circuit = _circuit(q) + cirq.Circuit(cirq.rz(t)(q[1]))
    sweep = cirq.Linspace("t", 0.0, 1.5, 3)
    obs = [cirq.Z(q[0]) * cirq.X(q[1]), cirq.Y(q[2]) + 0.5 * cirq.Z(q[1])]
    sim = qtn.Simulator(dtype=np.complex128)
    for order in (q, q[::-1]):
        ref_sim = cirq.Simulator(dtype=np.complex128)
        start = _as_vector(initial, order)
        got = sim.simulate_sweep(circuit, sweep, qubit_order=order, initial_state=initial)
        ref = ref_sim.simulate_sweep(circuit, sweep, qubit_order=order, initial_state=start)
        for g, r in zip(got, ref):
            np.testing.assert_allclose(g.final_state_vector, r.final_state_vector, atol=1e-6)
        ev = sim.simulate_expectation_values_sweep(circuit, obs, sweep, qubit_order=order, initial_state=initial)
        ev_ref = ref_sim.simulate_expectation_values_sweep(circuit, obs, sweep, qubit_order=order,
                                                           initial_state=start)
        np.testing.assert_allclose(ev, ev_ref, atol=1e-6)
    got = qtn.expectation(circuit, obs, qubit_order=q, initial_state=initial, param_resolver={"t": 0.4},
                          dtype=np.complex128)
    ref = cirq.Simulator(dtype=np.complex128).simulate_expectation_values(
        circuit, obs, qubit_order=q, initial_state=_as_vector(initial, q), param_resolver={"t": 0.4})
    np.testing.assert_allclose(got, ref, atol=1e-6)


def test_initial_state_with_noise_and_measurements():
    q = QUBITS["named"]
    initial = _initial_states(q)["complex128"]
    circuit = noisy_circuit(q, channels(q)["amplitude_damp"])
    rho0 = np.outer(initial, initial.conj())
    rho = cirq.DensityMatrixSimulator(dtype=np.complex128).simulate(
        circuit, qubit_order=q, initial_state=rho0).final_density_matrix
    results = qtn.Simulator(seed=2, dtype=np.complex128).simulate_sweep(
        circuit, [cirq.ParamResolver({})] * 160, qubit_order=q, initial_state=initial)
    assert_trajectories_converge(np.array([r.final_state_vector for r in results]), rho)
    obs = [cirq.Z(q[0]), cirq.X(q[1]) * cirq.Y(q[2])]
    got = qtn.Simulator(dtype=np.complex128).simulate_expectation_values(circuit, obs, qubit_order=q,
                                                                         initial_state=initial)
    np.testing.assert_allclose(got, [np.trace(o.matrix(q) @ rho) for o in obs], atol=1e-8)


def test_product_state_on_300_qubits_scales_like_zero():
    q = cirq.GridQubit.rect(3, 100)
    rng = np.random.default_rng(0)
    factors = [cirq.KET_PLUS, cirq.KET_MINUS, cirq.KET_ZERO, cirq.KET_ONE, cirq.KET_IMAG]
    product = functools.reduce(operator.mul, [factors[k](qb) for k, qb in
                                              zip(rng.integers(0, len(factors), size=len(q)), q)])
    circuit = cirq.Circuit(cirq.H.on_each(*q[:10]), [cirq.CNOT(q[i], q[i + 1]) for i in range(0, 9)])
    observable = cirq.Z(q[5]) * cirq.Z(q[6]) + cirq.X(q[200])
    got = qtn.Simulator(dtype=np.complex128).simulate_expectation_values(circuit, observable, qubit_order=q,
                                                                         initial_state=product)
    local = q[:10] + [q[200]]
    small = cirq.ProductState({qb: product.states[qb] for qb in local})
    ref = cirq.Simulator(dtype=np.complex128).simulate_expectation_values(
        circuit + cirq.Circuit(cirq.I(q[200])), observable, qubit_order=local,
        initial_state=cirq.kron(*[small.states[qb].state_vector() for qb in local]).reshape(-1))
    np.testing.assert_allclose(got, ref, atol=1e-9)


@pytest.mark.parametrize("bad, error, match", [
    (np.ones(4) / 2, ValueError, "has 4 amplitudes"),
    (np.ones(8), ValueError, "norm"),
    (8, ValueError, "out of range"),
    ("0101", TypeError, "initial_state must be"),
    (True, TypeError, "bool"),
    (np.ones(8, dtype=bool), TypeError, "dtype bool"),
])
def test_bad_initial_states(bad, error, match):
    q = QUBITS["line"]
    with pytest.raises(error, match=match):
        qtn.Simulator().simulate(_circuit(q), initial_state=bad)
    with pytest.raises(error, match=match):
        qtn.Simulator().simulate_expectation_values(_circuit(q), cirq.Z(q[0]), initial_state=bad)


def test_product_state_must_name_every_qubit():
    q = QUBITS["grid"]
    with pytest.raises(ValueError, match="misses qubit"):
        qtn.Simulator().simulate(_circuit(q), initial_state=cirq.KET_ONE(q[0]) * cirq.KET_ONE(q[1]))
    extra = cirq.KET_ONE(q[0]) * cirq.KET_ONE(q[1]) * cirq.KET_ONE(q[2]) * cirq.KET_ONE(cirq.GridQubit(5, 5))
    with pytest.raises(ValueError, match="not simulated"):
        qtn.Simulator().simulate(_circuit(q), initial_state=extra)


def test_noisy_sweep_draws_trajectories_per_point():
    q = QUBITS["line"]
    t = sympy.Symbol("t")  # (Cirq's channels take no symbols: the sweep turns a gate before them)
    circuit = cirq.Circuit(cirq.rx(t)(q[0])) + noisy_circuit(q, [cirq.amplitude_damp(0.5)(q[0]),
                                                                 cirq.depolarize(0.1)(q[2])])
    points = [0.4, 2.5]
    sweep = cirq.Points("t", points * 120)  # 120 trajectories at each point
    results = qtn.Simulator(seed=21, dtype=np.complex128).simulate_sweep(circuit, sweep, qubit_order=q)
    dm = cirq.DensityMatrixSimulator(dtype=np.complex128)
    for k, g in enumerate(points):
        assert all(r.params["t"] == g for r in results[k::2])
        rho = dm.simulate(circuit, {"t": g}, qubit_order=q).final_density_matrix
        assert_trajectories_converge(np.array([r.final_state_vector for r in results[k::2]]), rho)


def test_initial_states_match_qsimcirq():
    qsimcirq = pytest.importorskip("qsimcirq")
    q = QUBITS["grid"]
    circuit = _circuit(q)
    v = _initial_states(q)["complex64"]  # qsimcirq takes complex64 vectors only
    for initial in (6, v):
        ours = qtn.Simulator().simulate(circuit, qubit_order=q, initial_state=initial).final_state_vector
        theirs = qsimcirq.QSimSimulator().simulate(circuit, qubit_order=q, initial_state=initial).final_state_vector
        np.testing.assert_allclose(ours, theirs, atol=2e-5)
        obs = [cirq.Z(q[0]) * cirq.X(q[2]), cirq.Y(q[1])]
        ours = qtn.Simulator().simulate_expectation_values(circuit, obs, qubit_order=q, initial_state=initial)
        theirs = qsimcirq.QSimSimulator().simulate_expectation_values(circuit, obs, qubit_order=q,
                                                                     initial_state=initial)
        np.testing.assert_allclose(ours, theirs, atol=2e-5)
