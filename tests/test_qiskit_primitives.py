"""qtn.qiskit.SamplerV2 / EstimatorV2 against Qiskit's StatevectorSampler (statistically)
and StatevectorEstimator (exactly), and past state-vector sizes where only qtn answers."""

from __future__ import annotations

import numpy as np
import pytest

qiskit = pytest.importorskip("qiskit")
from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister  # noqa: E402
from qiskit.circuit import Parameter  # noqa: E402
from qiskit.circuit.random import random_circuit  # noqa: E402
from qiskit.primitives import BaseEstimatorV2, BaseSamplerV2, StatevectorEstimator, StatevectorSampler  # noqa: E402
from qiskit.quantum_info import SparsePauliOp, Statevector  # noqa: E402
from scipy.stats import chi2  # noqa: E402

from qiskit_corpus import ghz  # noqa: E402
from qtn.qiskit import EstimatorV2, SamplerV2  # noqa: E402


def _two_registers() -> QuantumCircuit:
    q = QuantumRegister(3, "q")
    a, b = ClassicalRegister(2, "alpha"), ClassicalRegister(1, "beta")
    qc = QuantumCircuit(q, a, b)
    qc.h(0)
    qc.ry(0.9, 1)
    qc.cx(0, 2)
    qc.rx(1.7, 2)
    qc.measure([0, 1], a)
    qc.measure([2], b)
    return qc


def test_primitives_are_qiskits_v2_base_classes():
    assert isinstance(SamplerV2(), BaseSamplerV2) and isinstance(EstimatorV2(), BaseEstimatorV2)


def test_sampler_distribution_matches_statevector_chi_square():
    """Pearson chi-square of qtn's counts against Statevector's exact probabilities; the
    test fails with probability 1e-4 when qtn samples the right distribution."""
    qc = _two_registers()
    shots = 4000
    result = SamplerV2(seed=11).run([qc], shots=shots).result()[0]
    assert result.data.alpha.num_shots == shots and result.data.alpha.num_bits == 2
    assert result.data.beta.num_bits == 1
    joined = result.join_data()  # Qiskit's bitstrings: 'beta alpha', each little-endian
    counts = joined.get_counts()
    probs = Statevector(qc.remove_final_measurements(inplace=False)).probabilities_dict()
    # Statevector keys are 'q2 q1 q0' = 'beta alpha1 alpha0'
    keys = sorted(probs)
    observed = np.array([counts.get(k, 0) for k in keys])
    expected = shots * np.array([probs[k] for k in keys])
    assert sum(counts.values()) == shots and set(counts) <= set(keys)
    stat = ((observed - expected) ** 2 / expected).sum()
    assert stat < chi2.ppf(1 - 1e-4, df=len(keys) - 1), (counts, probs)
    # and StatevectorSampler's own counts pass the same test (same shape of result)
    ref = StatevectorSampler(seed=11).run([qc], shots=shots).result()[0].join_data().get_counts()
    assert set(ref) <= set(keys)


def test_sampler_parameter_sweep_and_deterministic_outcomes():
    theta = Parameter("t")
    qc = QuantumCircuit(2)
    qc.rx(theta, 0)
    qc.cx(0, 1)
    qc.measure_all()
    result = SamplerV2(seed=3).run([(qc, [[0.0], [np.pi]])], shots=50).result()[0]
    assert result.data.meas.shape == (2,)
    assert result.data.meas.get_counts(0) == {"00": 50} and result.data.meas.get_counts(1) == {"11": 50}


def _estimator_cases():
    rng = np.random.default_rng(5)
    for n, depth, seed in ((3, 4, 1), (4, 5, 2), (5, 3, 3)):
        qc = random_circuit(n, depth, max_operands=2, seed=seed)
        labels = ["".join(rng.choice(list("IXYZ"), n)) for _ in range(4)]
        yield qc, SparsePauliOp(labels, rng.normal(size=4))


@pytest.mark.parametrize("case", list(_estimator_cases()), ids=lambda c: f"{c[0].num_qubits}q")
def test_estimator_matches_statevector_estimator(case):
    qc, obs = case
    ours = EstimatorV2().run([(qc, [obs, obs.simplify() * 2])]).result()[0].data
    ref = StatevectorEstimator().run([(qc, [obs, obs.simplify() * 2])]).result()[0].data
    np.testing.assert_allclose(ours.evs, ref.evs, atol=2e-5)
    assert np.all(ours.stds == 0)


def test_estimator_parameter_broadcast():
    a, b = Parameter("a"), Parameter("b")
    qc = QuantumCircuit(2)
    qc.ry(a, 0)
    qc.crx(b, 0, 1)
    values = np.random.default_rng(1).uniform(-4, 4, (3, 2))
    obs = [[SparsePauliOp("ZI")], [SparsePauliOp("XX")], [SparsePauliOp("IZ", 0.5)]]  # shape (3, 1)
    ours = EstimatorV2().run([(qc, obs, values)]).result()[0].data.evs
    ref = StatevectorEstimator().run([(qc, obs, values)]).result()[0].data.evs
    assert ours.shape == ref.shape == (3, 3)
    np.testing.assert_allclose(ours, ref, atol=2e-5)


def test_estimator_and_sampler_past_state_vector_sizes():
    """A 56-qubit GHZ state with a rotated end: 2^56 amplitudes (1 EiB) rule out
    Statevector; the analytic answers are the reference."""
    n = 56
    qc = ghz(n)
    qc.ry(0.3, n - 1)
    obs = [SparsePauliOp("Z" * n), SparsePauliOp("I" * (n - 2) + "ZZ"), SparsePauliOp("X" + "I" * (n - 1))]
    evs = EstimatorV2().run([(qc, obs)]).result()[0].data.evs
    # <Z...Z> = cos 0.3 (both GHZ branches give it, n - 1 odd); <Z0 Z1> = 1; <X_last>: the branches cancel
    np.testing.assert_allclose(evs, [np.cos(0.3), 1.0, 0.0], atol=2e-5)
    sampled = ghz(n)
    sampled.measure_all()
    counts = SamplerV2(seed=7).run([sampled], shots=200).result()[0].data.meas.get_counts()
    assert set(counts) == {"0" * n, "1" * n}
    # both outcomes: a binomial(200, 1/2) below 60 has probability < 1e-8
    assert min(counts.values()) > 60


def test_estimator_converts_each_bound_circuit_once(monkeypatch):
    """Three parameter sets times four observables: three conversions, not twelve, and
    the values still Qiskit's."""
    from qtn.qiskit import primitives

    calls = []
    real = primitives.to_cirq
    monkeypatch.setattr(primitives, "to_cirq", lambda qc: calls.append(qc) or real(qc))
    a = Parameter("a")
    qc = QuantumCircuit(3)
    qc.ry(a, 0)
    qc.cx(0, 1)
    qc.rx(0.4, 2)
    qc.cz(1, 2)
    values = [[0.3], [1.1], [-2.0]]
    obs = [[SparsePauliOp(s)] for s in ("ZII", "IXZ", "YYI", "ZZZ")]  # shape (4, 1) x values (3,) -> (4, 3)
    ours = EstimatorV2().run([(qc, obs, values)]).result()[0].data.evs
    ref = StatevectorEstimator().run([(qc, obs, values)]).result()[0].data.evs
    assert ours.shape == ref.shape == (4, 3)
    np.testing.assert_allclose(ours, ref, atol=2e-5)
    assert len(calls) == 3


def test_estimator_zero_dimensional_pub():
    # one observable, no parameters: the broadcast shape is (), the commonest pub
    qc = random_circuit(3, 4, seed=11)
    ours = EstimatorV2().run([(qc, "XZY")]).result()[0].data
    ref = StatevectorEstimator().run([(qc, "XZY")]).result()[0].data
    assert ours.evs.shape == ref.evs.shape == ()
    np.testing.assert_allclose(ours.evs, ref.evs, atol=2e-5)
