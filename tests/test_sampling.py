"""Exact sampling against Cirq: every method, measurement keys, seeds, sweeps, 50+ qubits.

Statistical checks are chi-square goodness-of-fit tests against the exact
distribution (from ``cirq.final_state_vector``), with fixed seeds, rejecting at
p < 1e-3; a correct sampler fails one of them about once per thousand seeds.
"""

from __future__ import annotations

import cirq
import numpy as np
import pytest
import sympy
from scipy import stats

import qtn
from qtn.options import RunOptions
from qtn.sampling import choose_method, draw_bits, measured_circuit, run_records

ALPHA = 1e-3
_Q = cirq.LineQubit


def chi2_pvalue(samples: np.ndarray, probs: np.ndarray) -> float:
    """p-value of integer samples against ``probs``; bins expecting < 5 counts are pooled."""
    counts = np.bincount(samples, minlength=len(probs)).astype(float)
    assert counts[probs < 1e-12].sum() == 0, "a sample fell where the probability is zero"
    expected = probs * len(samples)
    small = expected < 5
    obs = np.append(counts[~small], counts[small].sum())
    exp = np.append(expected[~small], expected[small].sum())
    keep = exp > 0
    return float(stats.chisquare(obs[keep], exp[keep] * obs[keep].sum() / exp[keep].sum()).pvalue)


def as_ints(bits: np.ndarray) -> np.ndarray:
    return bits.astype(np.int64) @ (1 << np.arange(bits.shape[1] - 1, -1, -1))


def exact_marginal(circuit: cirq.Circuit, measured: list[cirq.Qid]) -> np.ndarray:
    """Probabilities of the measured qubits' values (big-endian in ``measured`` order)."""
    qubits = sorted(circuit.all_qubits())
    psi = cirq.final_state_vector(cirq.drop_terminal_measurements(circuit), qubit_order=qubits, dtype=np.complex128)
    p = (np.abs(psi) ** 2).reshape((2,) * len(qubits))
    keep = [qubits.index(q) for q in measured]
    p = p.sum(axis=tuple(a for a in range(len(qubits)) if a not in keep))
    return p.transpose(np.argsort(np.argsort(keep))).reshape(-1)


def random_circuit(n: int, depth: int, seed: int, measured: list[int]) -> cirq.Circuit:
    domain = {cirq.H: 1, cirq.T: 1, cirq.rx(0.7): 1, cirq.ry(1.3): 1, cirq.CZ: 2, cirq.CNOT: 2,
              cirq.FSimGate(0.5, 0.3): 2, cirq.CCZ: 3}
    body = cirq.testing.random_circuit(_Q.range(n), depth, 0.9, gate_domain=domain, random_state=seed)
    q = _Q.range(n)
    return cirq.Circuit(cirq.H.on_each(*q)) + body + cirq.Circuit(cirq.measure(*[q[i] for i in measured], key="m"))


METHOD_CASES = [
    ("state_vector", None),
    ("marginal", 1),
    ("marginal", 3),
    ("gate_by_gate", 2),
    ("gate_by_gate", 4),
]


@pytest.mark.parametrize("method,group", METHOD_CASES)
@pytest.mark.parametrize("seed", [0, 1])
def test_every_method_draws_the_exact_distribution(method, group, seed):
    measured = [0, 2, 3, 5, 6]
    circuit = random_circuit(7, 8, seed, measured)
    probs = exact_marginal(circuit, [_Q(i) for i in measured])
    opts = RunOptions.from_keywords(dict(dtype=np.complex128))
    mc = measured_circuit(circuit, None, None, None, opts.dtype)
    bits = draw_bits(mc, 3000, np.random.RandomState(100 + seed), opts, method, group)
    assert bits.shape == (3000, 5)
    assert chi2_pvalue(as_ints(bits), probs) > ALPHA


def test_marginal_method_with_doubled_steps():
    # a deep circuit on 9 qubits, groups of 2: the early marginals trace out up to 7
    # qubits through doubled networks (the single-layer shortcut is switched off here)
    circuit = random_circuit(9, 10, 4, list(range(9)))
    probs = exact_marginal(circuit, _Q.range(9))
    opts = RunOptions.from_keywords(dict(dtype=np.complex128))
    mc = measured_circuit(circuit, None, None, None, opts.dtype)
    import qtn.sampling as sampling

    limit = sampling.MAX_SINGLE_LAYER_OPEN
    sampling.MAX_SINGLE_LAYER_OPEN = 0
    try:
        bits = draw_bits(mc, 3000, np.random.RandomState(7), opts, "marginal", 2)
    finally:
        sampling.MAX_SINGLE_LAYER_OPEN = limit
    assert chi2_pvalue(as_ints(bits), probs) > ALPHA


def test_sampling_on_every_backend(backend):
    circuit = random_circuit(5, 6, 3, [0, 1, 2, 3, 4])
    probs = exact_marginal(circuit, _Q.range(5))
    sim = qtn.Simulator(backend=backend, seed=11, sampling="gate_by_gate", group_size=3)
    result = sim.run(circuit, repetitions=1000)
    assert chi2_pvalue(as_ints(result.measurements["m"]), probs) > ALPHA


def test_auto_method_choice():
    opts = RunOptions.from_keywords(dict())
    small = measured_circuit(random_circuit(6, 5, 0, [0, 1]), None, None, None, opts.dtype)
    assert choose_method(small.compiled, small.measured, opts)[0] == "state_vector"
    q = _Q.range(60)
    ghz = cirq.Circuit(cirq.H(q[0]), [cirq.CNOT(q[i], q[i + 1]) for i in range(59)], cirq.measure(*q, key="m"))
    big = measured_circuit(ghz, None, None, None, opts.dtype)
    assert choose_method(big.compiled, big.measured, opts) == ("marginal", 8)
    grid = cirq.experiments.random_rotations_between_grid_interaction_layers_circuit(
        cirq.GridQubit.rect(5, 5), depth=8, seed=0)
    grid.append(cirq.measure(*sorted(grid.all_qubits()), key="m"))
    deep = measured_circuit(grid, None, None, None, opts.dtype)
    assert choose_method(deep.compiled, deep.measured, opts)[0] == "gate_by_gate"
    with pytest.raises(ValueError, match="state_vector, marginal"):
        choose_method(small.compiled, small.measured, opts, "fastest")
    with pytest.raises(ValueError, match="group_size"):
        choose_method(small.compiled, small.measured, opts, "marginal", 40)


def test_keys_invert_mask_and_qubit_order_of_a_key():
    q = _Q.range(4)
    circuit = cirq.Circuit(
        cirq.X(q[0]), cirq.X(q[3]), cirq.H(q[1]), cirq.CNOT(q[1], q[2]),
        cirq.measure(q[3], q[0], key="a", invert_mask=(False, True)),
        cirq.measure(q[2], q[1], key="b"),
    )
    result = qtn.sample(circuit, 200, seed=1)
    assert set(result.records) == {"a", "b"}
    np.testing.assert_array_equal(result.measurements["a"], np.tile([1, 0], (200, 1)))
    b = result.measurements["b"]
    np.testing.assert_array_equal(b[:, 0], b[:, 1])  # a Bell pair
    assert 0 < b[:, 0].sum() < 200
    ref = cirq.Simulator(seed=1).run(circuit, repetitions=10)
    assert result.measurements["a"].dtype == ref.measurements["a"].dtype
    assert result.records["b"].shape == (200, 1, 2)


def test_repeated_keys_and_mid_circuit_measurement():
    q = _Q.range(2)
    circuit = cirq.Circuit(
        cirq.H(q[0]), cirq.measure(q[0], key="m"),
        cirq.X(q[0]), cirq.measure(q[0], key="m"),
        cirq.X(q[1]).with_classical_controls("m"),  # the last instance of m
        cirq.measure(q[1], key="c"),
    )
    result = qtn.Simulator(seed=5).run(circuit, repetitions=400)
    m = result.records["m"]
    assert m.shape == (400, 2, 1)
    np.testing.assert_array_equal(m[:, 0, 0], 1 - m[:, 1, 0])  # the X between them flips it
    np.testing.assert_array_equal(result.records["c"][:, 0, 0], m[:, 1, 0])
    assert stats.binomtest(int(m[:, 0, 0].sum()), 400).pvalue > ALPHA
    ref = cirq.Simulator(seed=5).run(circuit, repetitions=5)
    assert {k: v.shape[1:] for k, v in ref.records.items()} == {k: v.shape[1:] for k, v in result.records.items()}


def test_mid_circuit_measurement_collapses_the_state():
    q = _Q.range(3)
    # measuring q0 mid-circuit decoheres it: the second H no longer undoes the first
    circuit = cirq.Circuit(cirq.H(q[0]), cirq.measure(q[0], key="mid"), cirq.H(q[0]),
                           cirq.CNOT(q[0], q[1]), cirq.measure(q[0], q[1], key="end"))
    result = qtn.sample(circuit, 2000, seed=3)
    end = as_ints(result.measurements["end"])
    assert chi2_pvalue(end, np.array([0.5, 0, 0, 0.5])) > ALPHA


def test_confusion_map_of_a_terminal_measurement():
    q = _Q(0)
    confusion = np.array([[1.0, 0.0], [0.3, 0.7]])
    circuit = cirq.Circuit(cirq.X(q), cirq.measure(q, key="m", confusion_map={(0,): confusion}))
    bits = qtn.sample(circuit, 2000, seed=4).measurements["m"][:, 0]
    assert stats.binomtest(int(bits.sum()), 2000, 0.7).pvalue > ALPHA


def test_seed_reproduces_samples():
    circuit = random_circuit(6, 6, 2, [0, 1, 2, 3, 4, 5])
    a = qtn.Simulator(seed=42).run(circuit, repetitions=50).measurements["m"]
    b = qtn.Simulator(seed=42).run(circuit, repetitions=50).measurements["m"]
    c = qtn.Simulator(seed=43).run(circuit, repetitions=50).measurements["m"]
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    sim = qtn.Simulator(seed=np.random.RandomState(9))
    first, second = sim.run(circuit, repetitions=50), sim.run(circuit, repetitions=50)
    assert not np.array_equal(first.measurements["m"], second.measurements["m"])  # one stream, like Cirq
    np.testing.assert_array_equal(qtn.sample(circuit, 30, seed=1).measurements["m"],
                                  qtn.sample(circuit, 30, seed=1).measurements["m"])


theta = sympy.Symbol("theta")
phi = sympy.Symbol("phi")


def _flip_circuit(symbols) -> cirq.Circuit:
    q = _Q.range(2)
    # rx(pi) flips for sure, rx(0) never does: outcomes are deterministic at those values
    angles = [s if s in symbols else 0.0 for s in (theta, phi)]
    return cirq.Circuit(cirq.rx(angles[0])(q[0]), cirq.rx(angles[1])(q[1]), cirq.measure(*q, key="m"))


@pytest.mark.parametrize(
    "sweep",
    [
        cirq.Linspace(theta, 0, np.pi, 2),
        cirq.Points(theta, [np.pi, 0, np.pi]),
        cirq.Zip(cirq.Points(theta, [0, np.pi]), cirq.Points(phi, [np.pi, 0])),
        cirq.Product(cirq.Points(theta, [0, np.pi]), cirq.Points(phi, [0, np.pi])),
        [{theta: np.pi, phi: 0}, cirq.ParamResolver({theta: 0, phi: np.pi})],
        {theta: np.pi, phi: np.pi},
    ],
    ids=["linspace", "points", "zip", "product", "list", "single"],
)
def test_every_sweep_type(sweep):
    resolvers = list(cirq.to_resolvers(sweep))
    symbols = {sympy.Symbol(str(k)) for k in resolvers[0].param_dict}
    circuit = _flip_circuit(symbols)
    results = qtn.Simulator(seed=0).run_sweep(circuit, sweep, repetitions=20)
    assert len(results) == len(resolvers)
    for resolver, result in zip(resolvers, results):
        assert result.params == resolver
        want = [round(float(resolver.value_of(s)) / np.pi) if s in symbols else 0 for s in (theta, phi)]
        np.testing.assert_array_equal(result.measurements["m"], np.tile(want, (20, 1)))


@pytest.mark.parametrize("method", ["state_vector", "marginal", "gate_by_gate"])
def test_sweep_points_reuse_plans(method):
    q = _Q.range(4)
    circuit = cirq.Circuit(cirq.H.on_each(*q), cirq.rx(theta)(q[0]), cirq.CZ(q[0], q[1]) ** phi,
                           cirq.FSimGate(theta, phi)(q[2], q[3]), cirq.CNOT(q[1], q[2]), cirq.measure(*q, key="m"))
    cache = qtn.PlanCache()
    sim = qtn.Simulator(seed=0, sampling=method, group_size=2, plan_cache=cache)
    sim.run(circuit, {theta: 0.3, phi: 0.4}, repetitions=20)
    before = cache.info()
    sim.run_sweep(circuit, cirq.Linspace(theta, 0.2, 1.2, 3) * cirq.Points(phi, [0.6, 0.8]), repetitions=20)
    after = cache.info()
    assert after["misses"] == before["misses"]
    assert after["hits"] > before["hits"]


def test_ghz_on_60_qubits():
    q = _Q.range(60)
    circuit = cirq.Circuit(cirq.H(q[0]), [cirq.CNOT(q[i], q[i + 1]) for i in range(59)], cirq.measure(*q, key="m"))
    bits = qtn.sample(circuit, 200, seed=2).measurements["m"]
    assert bits.shape == (200, 60)
    assert np.all(bits == bits[:, :1])  # all equal within a sample
    assert stats.binomtest(int(bits[:, 0].sum()), 200).pvalue > ALPHA


@pytest.mark.parametrize("method", ["marginal", "gate_by_gate"])
def test_sample_function_takes_the_method(method):
    q = _Q.range(40)
    circuit = cirq.Circuit(cirq.H(q[0]), [cirq.CNOT(q[i], q[i + 1]) for i in range(39)], cirq.measure(*q, key="m"))
    bits = qtn.sample(circuit, 60, seed=3, sampling=method, group_size=4).measurements["m"]
    assert np.all(bits == bits[:, :1])
    with pytest.raises(ValueError, match="sampling"):
        qtn.sample(circuit, 1, sampling="fastest")


def test_product_state_on_64_qubits_gate_by_gate_and_marginal():
    q = cirq.GridQubit.rect(8, 8)
    angles = np.linspace(0.2, 2.9, 64)
    circuit = cirq.Circuit(cirq.ry(t)(qq) for t, qq in zip(angles, q))
    circuit.append(cirq.measure(*q, key="m"))
    p1 = np.sin(angles / 2) ** 2
    for method in ("marginal", "gate_by_gate"):
        bits = qtn.Simulator(seed=8, sampling=method).run(circuit, repetitions=300).measurements["m"]
        z = (bits.sum(axis=0) - 300 * p1) / np.sqrt(300 * p1 * (1 - p1))
        assert np.abs(z).max() < 4.5  # each qubit's frequency; all 64 together fail rarely


@pytest.mark.parametrize("method", ["marginal", "gate_by_gate"])
def test_36_qubit_brickwork_matches_exact_marginals_of_a_window(method):
    # a 1-D brickwork of depth 4 on 36 qubits (past the state-vector method): qubits
    # 16..21 depend only on 8..29, whose state vector Cirq computes; qtn samples all
    # 36 and reads 16..21
    n = 36
    q = _Q.range(n)
    rng = np.random.default_rng(0)
    circuit = cirq.Circuit(cirq.H.on_each(*q))
    for layer in range(4):
        circuit.append(cirq.ry(a)(qq) for a, qq in zip(rng.uniform(0, 3, n), q))
        circuit.append(cirq.CZ(q[i], q[i + 1]) for i in range(layer % 2, n - 1, 2))
    window = q[16:22]
    measured = cirq.Circuit(circuit, cirq.measure(*q, key="m"))
    sim = qtn.Simulator(seed=5, sampling=method, group_size=8)
    bits = sim.run(measured, repetitions=600).measurements["m"][:, 16:22]
    local = cirq.Circuit(op for op in circuit.all_operations() if all(8 <= qq.x <= 29 for qq in op.qubits))
    probs = exact_marginal(local, list(window))
    assert chi2_pvalue(as_ints(bits), probs) > ALPHA


def test_bad_inputs():
    q = _Q.range(2)
    with pytest.raises(ValueError, match="no measurements to sample"):
        qtn.sample(cirq.Circuit(cirq.H(q[0])))
    with pytest.raises(ValueError, match="theta"):
        qtn.sample(cirq.Circuit(cirq.rx(theta)(q[0]), cirq.measure(q[0])))
    with pytest.raises(ValueError, match="repetitions"):
        qtn.sample(cirq.Circuit(cirq.measure(q[0])), -1)
    with pytest.raises(TypeError, match="cirq.Circuit"):
        qtn.sample("measure q0")
    with pytest.raises(TypeError, match="noise"):
        qtn.sample(cirq.Circuit(cirq.measure(q[0])), noise=0.1)
    with pytest.raises(ValueError, match="sampling method must be one of"):
        qtn.Simulator(sampling="fastest")
    with pytest.raises(ValueError, match="group_size must be an int from 1 to 16"):
        qtn.Simulator(group_size=0)
    with pytest.raises(ValueError, match="3-level qudit"):
        qtn.sample(cirq.Circuit(cirq.measure(cirq.LineQid(0, dimension=3))))
    with pytest.raises(ValueError, match="no measurements to sample"):
        qtn.Simulator().run(cirq.Circuit(cirq.H(q[0])))


def test_zero_repetitions():
    q = _Q.range(2)
    result = qtn.sample(cirq.Circuit(cirq.H(q[0]), cirq.measure(*q, key="k")), 0)
    assert result.records["k"].shape == (0, 1, 2)


def test_run_records_match_cirq_layout():
    circuit = random_circuit(4, 4, 9, [3, 1])
    opts = RunOptions.from_keywords(dict())
    mc = measured_circuit(circuit, None, None, None, opts.dtype)
    records = run_records(mc, 7, np.random.RandomState(0), opts)
    assert records["m"].shape == (7, 1, 2) and records["m"].dtype == np.int8
