"""Expectation values against Cirq: random circuits and Pauli sums, sweeps, lightcones on
60-1000 qubits with analytic or locally simulated answers, measurements, bad input."""

from __future__ import annotations

import cirq
import networkx as nx
import numpy as np
import pytest
import sympy

import qtn
from qtn.lightcone import lightcone
from qtn.expectation import expectation_circuit

from helpers import reference_state, tolerance

_Q = cirq.LineQubit
PAULIS = (cirq.X, cirq.Y, cirq.Z)


def random_pauli_sum(qubits, n_terms: int, rng: np.random.Generator, complex_coefficients: bool = False):
    terms = []
    for _ in range(n_terms):
        k = int(rng.integers(1, 4))
        chosen = rng.choice(len(qubits), size=k, replace=False)
        c = rng.normal() + (1j * rng.normal() if complex_coefficients else 0)
        terms.append(c * cirq.PauliString({qubits[i]: PAULIS[int(rng.integers(3))] for i in chosen}))
    return sum(terms[1:], cirq.PauliSum.from_pauli_strings(terms[0]))


def exact(circuit, observables, qubits, resolver=None) -> np.ndarray:
    """<psi|O|psi> with complex coefficients kept, from Cirq's state vector."""
    psi = reference_state(circuit, qubits, resolver)
    index = {q: i for i, q in enumerate(qubits)}
    return np.array([sum(term.coefficient * term.with_coefficient(1).expectation_from_state_vector(psi, index)
                         for term in cirq.PauliSum.wrap(obs)) for obs in observables])


def random_circuit(n, depth, seed):
    body = cirq.testing.random_circuit(_Q.range(n), depth, 0.9, random_state=seed)
    return cirq.Circuit(cirq.ry(0.3 + 0.2 * i)(q) for i, q in enumerate(_Q.range(n))) + body


@pytest.mark.parametrize("seed", range(8))
def test_pauli_sums_on_random_circuits(seed):
    rng = np.random.default_rng(seed)
    n = 3 + seed % 6
    circuit = random_circuit(n, 4 + 2 * seed, seed)
    qubits = sorted(circuit.all_qubits())
    observables = [random_pauli_sum(qubits, 6, rng, complex_coefficients=seed % 2 == 1) for _ in range(3)]
    got = qtn.expectation(circuit, observables, dtype=np.complex128)
    assert got.shape == (3,) and got.dtype == np.complex128
    np.testing.assert_allclose(got, exact(circuit, observables, qubits), atol=1e-9)
    if seed % 2 == 0:  # real coefficients: Cirq's own method agrees
        ref = cirq.Simulator(dtype=np.complex128).simulate_expectation_values(circuit, observables)
        np.testing.assert_allclose(got, ref, atol=1e-9)


def test_terms_sharing_qubits_and_identity_terms():
    q = _Q.range(3)
    circuit = random_circuit(3, 6, 11)
    # X0X1, Y0Y1, Z0Z1 share their qubits (one density matrix); 0.5 is an identity term
    obs = [cirq.X(q[0]) * cirq.X(q[1]) + cirq.Y(q[0]) * cirq.Y(q[1]) - 2 * cirq.Z(q[0]) * cirq.Z(q[1]) + 0.5,
           cirq.PauliSum.wrap(1.5), 3 * cirq.Z(q[2])]
    got = qtn.expectation(circuit, obs, dtype=np.complex128)
    np.testing.assert_allclose(got, exact(circuit, obs, q), atol=1e-10)


def test_complex_coefficient_is_kept():
    q = _Q.range(2)
    circuit = cirq.Circuit(cirq.H(q[0]), cirq.CNOT(q[0], q[1]))
    got = qtn.Simulator(dtype=np.complex128).simulate_expectation_values(
        circuit, [2j * cirq.X(q[0]) * cirq.X(q[1]), (1 - 1j) * cirq.Z(q[0]) * cirq.Z(q[1])])
    np.testing.assert_allclose(got, [2j, 1 - 1j], atol=1e-12)


def test_every_backend(backend):
    circuit = random_circuit(6, 8, 3)
    qubits = sorted(circuit.all_qubits())
    obs = [random_pauli_sum(qubits, 5, np.random.default_rng(1))]
    for dtype in (np.complex64, np.complex128):
        got = qtn.expectation(circuit, obs, backend=backend, dtype=dtype)
        np.testing.assert_allclose(got, exact(circuit, obs, qubits), atol=10 * tolerance(dtype))


theta = sympy.Symbol("theta")
phi = sympy.Symbol("phi")


@pytest.mark.parametrize(
    "sweep",
    [
        cirq.Linspace(theta, 0.1, 1.5, 3) * cirq.Points(phi, [0.4]),
        cirq.Zip(cirq.Points(theta, [0.3, 0.9]), cirq.Points(phi, [0.5, -0.6])),
        cirq.Product(cirq.Points(theta, [0.3, 0.9]), cirq.Linspace(phi, 0.2, 0.8, 2)),
        [{theta: 0.2, phi: 0.4}, cirq.ParamResolver({theta: -0.7, phi: 1.5})],
        {theta: 0.25, phi: 0.75},
    ],
    ids=["linspace_points", "zip", "product", "list", "single"],
)
def test_sweeps_match_cirq_and_reuse_plans(sweep):
    q = _Q.range(4)
    circuit = cirq.Circuit(cirq.H.on_each(*q), cirq.rx(theta)(q[0]), cirq.CZ(q[0], q[1]) ** phi,
                           cirq.FSimGate(theta, phi)(q[2], q[3]), cirq.CNOT(q[1], q[2]), cirq.ry(phi)(q[3]))
    obs = [cirq.X(q[0]) * cirq.Z(q[1]), cirq.Y(q[2]) + 0.5 * cirq.Z(q[3]) * cirq.X(q[1])]
    cache = qtn.PlanCache()
    sim = qtn.Simulator(dtype=np.complex128, plan_cache=cache)
    sim.simulate_expectation_values(circuit, obs, {theta: 1.1, phi: 0.3})  # plans for this structure
    before = cache.info()["misses"]
    results = sim.simulate_expectation_values_sweep(circuit, obs, sweep)
    assert cache.info()["misses"] == before  # no sweep point searched
    ref = cirq.Simulator(dtype=np.complex128).simulate_expectation_values_sweep(circuit, obs, sweep)
    np.testing.assert_allclose(np.array(results), np.array(ref), atol=1e-9)


def test_initial_state_and_qubit_order():
    q = _Q.range(3)
    circuit = cirq.Circuit(cirq.H(q[0]), cirq.CNOT(q[0], q[1]), cirq.ry(0.4)(q[2]))
    obs = [cirq.Z(q[0]), cirq.Z(q[1]) * cirq.Z(q[2]), cirq.X(q[0]) * cirq.X(q[1])]
    order = [q[2], q[0], q[1]]
    for initial in (0, 0b101, 7):
        got = qtn.Simulator(dtype=np.complex128).simulate_expectation_values(
            circuit, obs, qubit_order=order, initial_state=initial)
        ref = cirq.Simulator(dtype=np.complex128).simulate_expectation_values(
            circuit, obs, qubit_order=order, initial_state=initial)
        np.testing.assert_allclose(got, ref, atol=1e-10)
    # an observable may act on an idle qubit named in qubit_order: <0|Z|0> = 1
    idle = cirq.NamedQubit("idle")
    assert qtn.expectation(circuit, cirq.Z(idle), qubit_order=order + [idle])[0] == pytest.approx(1)


def ghz(n):
    q = _Q.range(n)
    return cirq.Circuit(cirq.H(q[0]), [cirq.CNOT(q[i], q[i + 1]) for i in range(n - 1)]), q


def test_ghz_correlators_on_60_qubits(backend):
    circuit, q = ghz(60)
    obs = [cirq.Z(q[0]) * cirq.Z(q[59]), cirq.Z(q[17]) * cirq.Z(q[42]), cirq.Z(q[30]),
           cirq.PauliString({qq: cirq.X for qq in q}), cirq.PauliString({qq: cirq.X for qq in q[:59]})]
    got = qtn.expectation(circuit, obs, backend=backend)
    np.testing.assert_allclose(got, [1, 1, 0, 1, 0], atol=1e-5)


def test_product_state_on_200_qubits():
    q = _Q.range(200)
    angles = np.linspace(0.05, 3.0, 200)
    circuit = cirq.Circuit(cirq.ry(a)(qq) for a, qq in zip(angles, q))
    obs = [cirq.Z(q[i]) for i in range(0, 200, 37)] + [cirq.X(q[i]) * cirq.X(q[i + 1]) for i in (3, 150)]
    want = [np.cos(angles[i]) for i in range(0, 200, 37)] + [np.sin(angles[i]) * np.sin(angles[i + 1]) for i in (3, 150)]
    np.testing.assert_allclose(qtn.expectation(circuit, obs, dtype=np.complex128), want, atol=1e-12)


def qaoa(n: int, p: int, seed: int = 0):
    graph = nx.random_regular_graph(3, n, seed=seed)
    q = _Q.range(n)
    rng = np.random.default_rng(seed)
    circuit = cirq.Circuit(cirq.H.on_each(*q))
    for _ in range(p):
        gamma, beta = rng.uniform(0.1, 1.5, 2)
        circuit.append(cirq.ZZPowGate(exponent=gamma)(q[i], q[j]) for i, j in graph.edges)
        circuit.append(cirq.rx(beta).on_each(*q))
    return circuit, graph, q


def test_qaoa_lightcones_on_1000_qubits_match_local_simulation():
    circuit, graph, q = qaoa(1000, 1)
    edges = list(graph.edges)[::97]
    obs = [cirq.Z(q[i]) * cirq.Z(q[j]) for i, j in edges]
    got = qtn.expectation(circuit, obs, dtype=np.complex128)
    cc = expectation_circuit(circuit, None, None, None, False, np.complex128)
    for (i, j), value in zip(edges, got):
        # Cirq simulates only the qubits of the lightcone: at p=1, the edge and its neighbours
        ops = lightcone(cc, [i, j], [i, j])
        region = sorted({cc.qubits[p] for k in ops for p in cc.ops[k].positions})
        assert len(region) <= 6
        local = cirq.Circuit(op for op in circuit.all_operations() if set(op.qubits) <= set(region))
        ref = cirq.Simulator(dtype=np.complex128).simulate_expectation_values(local, cirq.Z(q[i]) * cirq.Z(q[j]))
        assert value == pytest.approx(ref[0], abs=1e-10)


def test_qaoa_energy_matches_qsim_style_reference():
    circuit, graph, q = qaoa(16, 2, seed=3)
    energy = sum(cirq.Z(q[i]) * cirq.Z(q[j]) for i, j in graph.edges)
    ref = cirq.Simulator(dtype=np.complex128).simulate_expectation_values(circuit, energy)
    np.testing.assert_allclose(qtn.expectation(circuit, energy, dtype=np.complex128), ref, atol=1e-9)


def test_diagonal_gates_after_the_last_mixer_cancel():
    # ZZ gates commute with a Z observable, so only the Rx layer and what feeds it matter
    circuit, graph, q = qaoa(12, 1)
    i, j = next(iter(graph.edges))
    cc = expectation_circuit(circuit, None, None, None, False, np.complex64)
    ops = lightcone(cc, [i, j], [i, j])
    assert len(ops) <= 2 + 5 + 6  # two Rx, five ZZ on the edge's qubits, six H
    tail = circuit + cirq.Circuit(cirq.ZZPowGate(exponent=0.3)(q[a], q[b]) for a, b in graph.edges)
    obs = cirq.Z(q[i]) * cirq.Z(q[j])
    np.testing.assert_allclose(qtn.expectation(tail, obs, dtype=np.complex128),
                               cirq.Simulator(dtype=np.complex128).simulate_expectation_values(tail, obs), atol=1e-10)


def test_terminal_measurements_need_permission():
    q = _Q.range(2)
    circuit = cirq.Circuit(cirq.H(q[0]), cirq.CNOT(q[0], q[1]), cirq.measure(*q, key="m"))
    with pytest.raises(ValueError, match="permit_terminal_measurements=True"):
        qtn.expectation(circuit, cirq.Z(q[0]) * cirq.Z(q[1]))
    with pytest.raises(ValueError, match="permit_terminal_measurements=True"):
        qtn.Simulator().simulate_expectation_values(circuit, cirq.X(q[0]))
    # measured qubits are dephased (Cirq collapses them: <XX> is 0 on either outcome)
    obs = [cirq.Z(q[0]) * cirq.Z(q[1]), cirq.X(q[0]) * cirq.X(q[1])]
    got = qtn.expectation(circuit, obs, permit_terminal_measurements=True)
    ref = cirq.Simulator(seed=1).simulate_expectation_values(circuit, obs, permit_terminal_measurements=True)
    np.testing.assert_allclose(got, [1, 0], atol=1e-6)
    np.testing.assert_allclose(got, ref, atol=1e-6)


def test_mid_circuit_measurement_gives_the_ensemble_average():
    # Cirq's simulators draw one outcome per call; qtn averages over outcomes, which is
    # the density matrix of the circuit with its measurements deferred
    q = _Q.range(2)
    circuit = cirq.Circuit(cirq.H(q[0]), cirq.ry(0.4)(q[1]), cirq.measure(q[0], key="a"), cirq.H(q[0]),
                           cirq.X(q[1]).with_classical_controls("a"), cirq.H(q[1]))
    obs = [cirq.Z(q[0]), cirq.X(q[1]), cirq.Z(q[0]) * cirq.X(q[1]), cirq.Z(q[1])]
    got = qtn.expectation(circuit, obs, permit_terminal_measurements=True, dtype=np.complex128)
    deferred = cirq.drop_terminal_measurements(cirq.defer_measurements(circuit))
    ref = cirq.DensityMatrixSimulator(dtype=np.complex128).simulate_expectation_values(deferred, obs)
    np.testing.assert_allclose(got, ref, atol=1e-10)
    # one outcome would give <X1> = +-cos(0.4); their average is 0
    np.testing.assert_allclose(got[[1, 3]], [0, np.sin(0.4)], atol=1e-10)


def test_bad_inputs():
    q = _Q.range(2)
    circuit = cirq.Circuit(cirq.H(q[0]), cirq.CNOT(q[0], q[1]))
    with pytest.raises(ValueError, match="acts on qubit q\\(5\\), which is not a qubit of the circuit"):
        qtn.expectation(circuit, cirq.Z(q[0]) * cirq.Z(_Q(5)))
    with pytest.raises(TypeError, match="qtn takes cirq.PauliSum"):
        qtn.expectation(circuit, cirq.H(q[0]))
    with pytest.raises(TypeError, match="qtn takes cirq.PauliSum"):
        qtn.expectation(circuit, [cirq.Z(q[0]), "Z0"])
    with pytest.raises(ValueError, match="observables is empty"):
        qtn.expectation(circuit, [])
    with pytest.raises(ValueError, match="theta"):
        qtn.expectation(cirq.Circuit(cirq.rx(theta)(q[0])), cirq.Z(q[0]))
    with pytest.raises(ValueError, match="initial_state vector has norm 0"):
        qtn.Simulator().simulate_expectation_values(circuit, cirq.Z(q[0]), initial_state=np.zeros(4))
    with pytest.raises(TypeError, match="noise"):
        qtn.expectation(circuit, cirq.Z(q[0]), noise="depolarize")
