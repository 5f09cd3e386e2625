"""qtn.Simulator against cirq.Simulator where circuits measure (issue 11): ``simulate``
collapses and records, expectation values average over outcomes, Cirq's error words.

Statistical checks are two-sample chi-square tests (qtn's seeded draws against
``cirq.Simulator().run`` samples), rejecting at p < 1e-3, and 5-standard-error
bounds on means (about 6e-7 false alarms each); seeds are fixed, so every test is
deterministic.
"""

from __future__ import annotations

import cirq
import numpy as np
import pytest
from scipy import stats

import qtn

ALPHA = 1e-3
QUBITS = {
    "line": cirq.LineQubit.range(3),
    "grid": [cirq.GridQubit(2, 3), cirq.GridQubit(2, 4), cirq.GridQubit(3, 3)],
    "named": [cirq.NamedQubit("a"), cirq.NamedQubit("b"), cirq.NamedQubit("c")],
}


def measured_circuits(q):
    return {
        "terminal": cirq.Circuit(cirq.H(q[0]), cirq.CNOT(q[0], q[1]), cirq.ry(1.1)(q[2]),
                                 cirq.measure(q[0], q[1], key="m"),
                                 cirq.measure(q[2], key="c", invert_mask=(True,))),
        # mid-circuit, classical control, a repeated key, a list invert_mask (as cirq 1.7 keeps it)
        "mid": cirq.Circuit(cirq.H(q[0]), cirq.measure(q[0], key="x"), cirq.X(q[1]).with_classical_controls("x"),
                            cirq.H(q[0]), cirq.ry(0.7)(q[2]), cirq.measure(q[0], key="x"), cirq.CNOT(q[1], q[2]),
                            cirq.measure(q[1], q[2], key="y", invert_mask=[True]), cirq.H(q[2]),
                            cirq.rx(0.9)(q[1])),
        "sub_circuit": cirq.Circuit(cirq.H(q[0]), cirq.CircuitOperation(cirq.FrozenCircuit(
            cirq.measure(q[0], key="s"), cirq.X(q[2]).with_classical_controls("s"))), cirq.ry(0.5)(q[1]),
            cirq.measure(q[1], key="t")),
    }


def _outcome(measurements: dict) -> tuple:
    return tuple((k, tuple(int(b) for b in measurements[k])) for k in sorted(measurements))


def _cirq_outcomes(circuit, n: int, seed: int) -> tuple[list[tuple], dict[tuple, np.ndarray]]:
    """Cirq's (outcome, final state) over seeds."""
    outcomes, states = [], {}
    for s in range(n):
        r = cirq.Simulator(seed=seed + s, dtype=np.complex128).simulate(circuit)
        o = _outcome(r.measurements)
        outcomes.append(o)
        states.setdefault(o, r.final_state_vector)
    return outcomes, states


def _two_sample_pvalue(a: list, b: list) -> float:
    labels = sorted(set(a) | set(b))
    table = np.array([[a.count(x) for x in labels], [b.count(x) for x in labels]])
    if table.shape[1] == 1:
        return 1.0
    return float(stats.chi2_contingency(table).pvalue)


@pytest.mark.parametrize("name, kind", [("terminal", "grid"), ("mid", "line"), ("mid", "named"),
                                        ("sub_circuit", "grid")])
def test_simulate_collapses_and_records_as_cirq(name, kind):
    circuit = measured_circuits(QUBITS[kind])[name]
    ref_outcomes, ref_states = _cirq_outcomes(circuit, 300, seed=1000)
    sim = qtn.Simulator(seed=3, dtype=np.complex128)
    results = sim.simulate_sweep(circuit, [cirq.ParamResolver({})] * 150)
    outcomes = [_outcome(r.measurements) for r in results]
    assert _two_sample_pvalue(outcomes, ref_outcomes) > ALPHA
    for r, o in zip(results, outcomes):
        assert o in ref_states, f"outcome {o} never seen from Cirq"
        assert set(r.measurements) == {k for k, _ in o}
        assert all(v.dtype == np.uint8 for v in r.measurements.values())  # as Cirq's
        # the collapsed state given the records is Cirq's (up to a global phase)
        assert abs(np.vdot(ref_states[o], r.final_state_vector)) == pytest.approx(1, abs=1e-9)
        assert r.qubit_map == dict(zip(sorted(circuit.all_qubits()), range(3)))


def test_compute_amplitudes_collapses_as_cirq():
    q = QUBITS["line"]
    circuit = cirq.Circuit(cirq.H(q[0]), cirq.CNOT(q[0], q[1]), cirq.measure(q[0], key="m"), cirq.H(q[2]))
    for seed in range(6):
        amps = np.array(qtn.Simulator(seed=seed, dtype=np.complex128).compute_amplitudes(circuit, range(8)))
        branch = 0 if abs(amps[0]) > 0.5 else 1
        ref = np.zeros(8, dtype=complex)
        ref[[0b000 | branch * 0b110, 0b001 | branch * 0b110]] = 2**-0.5
        np.testing.assert_allclose(amps, ref, atol=1e-12)


# --- expectation values of measured circuits ---------------------------------------------------


def test_terminal_measurements_collapse_before_the_observable():
    # the case: Cirq and qsimcirq give -1 (<Z(a)> = -1; b collapses, so <X(b)> = 0)
    a, b = cirq.LineQubit.range(2)
    circuit = cirq.Circuit(cirq.X(a), cirq.H(b), cirq.measure(a, b))
    obs = cirq.Z(a) + 3 * cirq.X(b)
    got = qtn.Simulator().simulate_expectation_values(circuit, obs, permit_terminal_measurements=True)
    ref = cirq.Simulator(seed=0).simulate_expectation_values(circuit, obs, permit_terminal_measurements=True)
    np.testing.assert_allclose(got, [-1], atol=1e-6)
    np.testing.assert_allclose(got, ref, atol=1e-6)
    qsimcirq = pytest.importorskip("qsimcirq")
    qsim = qsimcirq.QSimSimulator().simulate_expectation_values(circuit, obs, permit_terminal_measurements=True)
    np.testing.assert_allclose(got, qsim, atol=1e-6)


@pytest.mark.parametrize("kind", sorted(QUBITS))
def test_measured_expectation_is_the_mean_of_cirqs_draws(kind):
    q = QUBITS[kind]
    circuit = cirq.Circuit(cirq.ry(0.9)(q[0]), cirq.CNOT(q[0], q[1]), cirq.measure(q[0], key="x"),
                           cirq.rx(0.6)(q[0]), cirq.Z(q[2]).with_classical_controls("x"), cirq.H(q[2]),
                           cirq.ry(0.4)(q[1]), cirq.measure(q[1], key="y"))
    obs = [cirq.Z(q[0]), cirq.X(q[1]), cirq.X(q[2]), cirq.Z(q[0]) * cirq.Y(q[1]) + 0.5 * cirq.Z(q[2])]
    got = np.array(qtn.Simulator(dtype=np.complex128).simulate_expectation_values(
        circuit, obs, permit_terminal_measurements=True))
    # exact: Cirq's deferral of every measurement (identities after them, or cirq keeps
    # terminal ones in place), ancillas traced by its density-matrix simulator
    deferred = cirq.drop_terminal_measurements(cirq.defer_measurements(circuit + cirq.Moment(cirq.I.on_each(*q))))
    exact = cirq.DensityMatrixSimulator(dtype=np.complex128).simulate_expectation_values(
        deferred, obs, qubit_order=list(q) + sorted(deferred.all_qubits() - set(q)))
    np.testing.assert_allclose(got, exact, atol=1e-10)
    # statistical: the mean of Cirq's per-call values over seeds
    draws = np.array([cirq.Simulator(seed=s, dtype=np.complex128).simulate_expectation_values(
        circuit, obs, permit_terminal_measurements=True) for s in range(300)]).real
    spread = draws.std(axis=0, ddof=1) / np.sqrt(len(draws))
    assert np.all(np.abs(draws.mean(axis=0) - got.real) <= np.maximum(5 * spread, 1e-9))


def test_an_unrelated_mid_circuit_measurement_changes_nothing():
    a, b, c = cirq.LineQubit.range(3)
    base = cirq.Circuit(cirq.H(a), cirq.CNOT(a, b), cirq.ry(0.3)(b), cirq.H(c), cirq.measure(a, b, key="t"))
    extra = base[:1] + cirq.Circuit(cirq.measure(c, key="u"), cirq.H(c)) + base[1:]
    obs = [cirq.Z(a) * cirq.Z(b), cirq.X(a), cirq.Z(b) + 2 * cirq.Y(a)]
    sim = qtn.Simulator(dtype=np.complex128)
    one = sim.simulate_expectation_values(base, obs, permit_terminal_measurements=True)
    two = sim.simulate_expectation_values(extra, obs, permit_terminal_measurements=True)
    np.testing.assert_allclose(one, two, atol=1e-12)


# --- Cirq's errors, word for word ------------------------------------------------------------------


def _cirq_error(call) -> str:
    with pytest.raises(ValueError) as info:
        call()
    return str(info.value)


def test_errors_as_cirq_words_them():
    a, b = cirq.LineQubit.range(2)
    terminal = cirq.Circuit(cirq.H(a), cirq.measure(a))
    for sim in (cirq.Simulator(), qtn.Simulator()):
        message = _cirq_error(lambda: sim.simulate_expectation_values(terminal, cirq.Z(a)))
        assert message == _cirq_error(lambda: cirq.Simulator().simulate_expectation_values(terminal, cirq.Z(a)))
    # a mid-circuit measurement is not refused (Cirq refuses only terminal ones)
    mid = cirq.Circuit(cirq.H(a), cirq.measure(a), cirq.H(a))
    assert qtn.Simulator().simulate_expectation_values(mid, cirq.X(a)) == pytest.approx([0], abs=1e-6)

    repeated = cirq.Circuit(cirq.measure(a, key="m"), cirq.measure(a, b, key="m"))
    cirq_words = _cirq_error(lambda: cirq.Simulator().simulate(repeated))
    assert _cirq_error(lambda: qtn.Simulator().simulate(repeated)) == cirq_words
    assert _cirq_error(lambda: qtn.Simulator().run(repeated)).startswith(cirq_words)

    t = __import__("sympy").Symbol("t")
    symbolic = cirq.Circuit(cirq.X(a) ** t, cirq.measure(a))
    for resolver in map(cirq.ParamResolver, ({}, {"t": "u"}, {"t": __import__("sympy").Symbol("u") + 1})):
        words = _cirq_error(lambda: cirq.Simulator().simulate(symbolic, param_resolver=resolver))
        for call in (lambda: qtn.Simulator().simulate(symbolic, param_resolver=resolver),
                     lambda: qtn.Simulator().run(symbolic, param_resolver=resolver),
                     lambda: qtn.Simulator().compute_amplitudes(symbolic[:1], [0], param_resolver=resolver)):
            assert _cirq_error(call).startswith(words.split(" Ops:")[0])


def test_run_with_a_list_invert_mask_and_mid_circuit_measurements():
    # cirq 1.7 keeps invert_mask=[True] as a list (an unhashable gate); deferring it used to crash
    q = QUBITS["grid"]
    circuit = measured_circuits(q)["mid"] + cirq.Circuit(cirq.measure(*q, key="z", invert_mask=[False, True]))
    ours = qtn.Simulator(seed=4).run(circuit, repetitions=600)
    ref = cirq.Simulator(seed=4).run(circuit, repetitions=600)
    for key in ("x", "y", "z"):
        assert _two_sample_pvalue([tuple(r) for r in ours.records[key].reshape(600, -1)],
                                  [tuple(r) for r in ref.records[key].reshape(600, -1)]) > ALPHA


def test_simulate_applies_a_confusion_map_then_the_invert_mask():
    a, b = cirq.LineQubit.range(2)
    confusion = {(0,): np.array([[0.7, 0.3], [0.1, 0.9]])}
    gate = cirq.MeasurementGate(2, key="m", invert_mask=(True, False), confusion_map=confusion)
    circuit = cirq.Circuit(cirq.ry(1.2)(a), cirq.X(b), gate.on(a, b))
    ref = [_outcome(cirq.Simulator(seed=s).simulate(circuit).measurements) for s in range(400)]
    results = qtn.Simulator(seed=9).simulate_sweep(circuit, [cirq.ParamResolver({})] * 300)
    got = [_outcome(r.measurements) for r in results]
    assert _two_sample_pvalue(got, ref) > ALPHA
    for r in results:  # the state collapses to the measured bits, not the confused record
        assert abs(r.final_state_vector[0b01]) == pytest.approx(1, abs=1e-6) or \
            abs(r.final_state_vector[0b11]) == pytest.approx(1, abs=1e-6)


def test_pauli_measurements_in_simulate_and_expectation_values():
    a, b = QUBITS["named"][:2]
    circuit = cirq.Circuit(cirq.ry(0.8)(a), cirq.CNOT(a, b),
                           cirq.measure_single_paulistring(cirq.X(a) * cirq.X(b), key="p"), cirq.H(b))
    ref_outcomes, ref_states = _cirq_outcomes(circuit, 200, seed=50)
    results = qtn.Simulator(seed=8, dtype=np.complex128).simulate_sweep(circuit, [cirq.ParamResolver({})] * 100)
    outcomes = [_outcome(r.measurements) for r in results]
    assert _two_sample_pvalue(outcomes, ref_outcomes) > ALPHA
    for r, o in zip(results, outcomes):
        assert abs(np.vdot(ref_states[o], r.final_state_vector)) == pytest.approx(1, abs=1e-9)
    obs = [cirq.X(a) * cirq.Z(b), cirq.Z(a) * cirq.X(b), cirq.Y(a) * cirq.Y(b)]
    got = qtn.Simulator(dtype=np.complex128).simulate_expectation_values(circuit, obs,
                                                                         permit_terminal_measurements=True)
    draws = np.array([cirq.Simulator(seed=s, dtype=np.complex128).simulate_expectation_values(
        circuit, obs, permit_terminal_measurements=True) for s in range(300)]).real
    spread = draws.std(axis=0, ddof=1) / np.sqrt(len(draws))
    assert np.all(np.abs(draws.mean(axis=0) - np.real(got)) <= np.maximum(5 * spread, 1e-9))
