"""``simulate_moment_expectation_values`` against qsimcirq and cirq (issue 11), and
``qubit_order`` iterators read once in every entry point."""

from __future__ import annotations

import cirq
import numpy as np
import pytest
import sympy

import qtn

QUBITS = {
    "line": cirq.LineQubit.range(4),
    "grid": cirq.GridQubit.rect(2, 2, 1, 1),
    "named": [cirq.NamedQubit(n) for n in ("w", "x", "y", "z")],
}


def _circuit(q, t=None) -> cirq.Circuit:
    angle = 0.37 if t is None else t
    return cirq.Circuit(
        cirq.Moment(cirq.H.on_each(*q)),
        cirq.Moment(cirq.CZ(q[0], q[1]), cirq.rx(angle)(q[2])),
        cirq.Moment(cirq.FSimGate(0.4, 0.2)(q[1], q[2]), cirq.ry(0.9)(q[3])),
        cirq.Moment(cirq.CNOT(q[2], q[3]), cirq.T(q[0])),
        cirq.Moment(cirq.ISWAP(q[0], q[3]) ** 0.5),
    )


def _observables(q):
    return [cirq.Z(q[0]), cirq.X(q[1]) * cirq.Y(q[2]), 0.5 * cirq.Z(q[3]) - 2 * cirq.X(q[0]) * cirq.Z(q[2])]


def _cirq_moment_values(circuit, indexed, resolver=None, sim=None, qubit_order=cirq.QubitOrder.DEFAULT):
    """Cirq's values after each named moment: simulate the prefix, with every qubit kept."""
    sim = sim or cirq.Simulator(dtype=np.complex128)
    out = []
    for m, obs in sorted(indexed.items()):
        prefix = circuit[: m + 1] + cirq.Circuit(cirq.I.on_each(*circuit.all_qubits()))
        out.append(sim.simulate_expectation_values(prefix, obs, param_resolver=resolver, qubit_order=qubit_order))
    return out


@pytest.mark.parametrize("kind", sorted(QUBITS))
def test_moment_values_match_qsimcirq_and_cirq(kind):
    q = QUBITS[kind]
    circuit = _circuit(q)
    obs = _observables(q)
    sim = qtn.Simulator(dtype=np.complex128)
    indexed = {4: obs[2], 0: [obs[0], obs[1]], 2: obs}
    got = sim.simulate_moment_expectation_values(circuit, indexed, {})
    ref = _cirq_moment_values(circuit, {m: o if isinstance(o, list) else [o] for m, o in indexed.items()})
    assert [len(v) for v in got] == [2, 3, 1]  # ascending moments, one value per observable
    for g, r in zip(got, ref):
        np.testing.assert_allclose(g, r, atol=1e-10)
    every = sim.simulate_moment_expectation_values(circuit, obs, {})
    single = sim.simulate_moment_expectation_values(circuit, obs[1], {})
    assert len(every) == len(single) == len(circuit)
    np.testing.assert_allclose([v[1] for v in every], [v[0] for v in single], atol=1e-12)
    qsimcirq = pytest.importorskip("qsimcirq")
    qsim = qsimcirq.QSimSimulator()
    for ours, theirs in ((got, qsim.simulate_moment_expectation_values(circuit, indexed, cirq.ParamResolver({}))),
                         (every, qsim.simulate_moment_expectation_values(circuit, obs, cirq.ParamResolver({})))):
        assert len(ours) == len(theirs)
        for g, r in zip(ours, theirs):
            np.testing.assert_allclose(g, r, atol=2e-5)  # qsim works in complex64


def test_moment_values_sweep_initial_state_and_qubit_order():
    q = QUBITS["grid"]
    t = sympy.Symbol("t")
    circuit = _circuit(q, t)
    obs = _observables(q)
    sweep = cirq.Linspace("t", -1.0, 2.0, 3)
    sim = qtn.Simulator(dtype=np.complex128)
    order = q[::-1]
    got = sim.simulate_moment_expectation_values_sweep(circuit, {1: obs, 3: obs[0]}, sweep, qubit_order=iter(order),
                                                       initial_state=0b0110)
    assert len(got) == 3
    for values, resolver in zip(got, cirq.to_resolvers(sweep)):
        prep = cirq.Circuit(cirq.X(order[1]), cirq.X(order[2]))  # 0b0110 over the reversed order
        ref = _cirq_moment_values(prep + circuit, {2: obs, 4: [obs[0]]}, resolver)
        for g, r in zip(values, ref):
            np.testing.assert_allclose(g, r, atol=1e-10)


def test_noisy_moment_values_match_the_density_matrix():
    q = QUBITS["line"]
    circuit = _circuit(q)
    noise = cirq.ConstantQubitNoiseModel(cirq.amplitude_damp(0.1))
    obs = _observables(q)
    got = qtn.Simulator(noise=noise, dtype=np.complex128).simulate_moment_expectation_values(circuit, obs, {})
    dm = cirq.DensityMatrixSimulator(noise=noise, dtype=np.complex128)
    for m, values in enumerate(got):  # the noise model acts on each prefix as on the whole circuit
        np.testing.assert_allclose(values, dm.simulate_expectation_values(circuit[: m + 1], obs), atol=1e-10)


def test_moment_values_of_a_60_qubit_circuit_are_local():
    q = cirq.LineQubit.range(60)
    layers = [cirq.Moment(cirq.ry(0.3 + 0.01 * i)(qb) for i, qb in enumerate(q))]
    for d in range(4):
        layers.append(cirq.Moment(cirq.CZ(q[i], q[i + 1]) for i in range(d % 2, 59, 2)))
        layers.append(cirq.Moment(cirq.rx(0.5 + 0.02 * d)(qb) for qb in q))
    circuit = cirq.Circuit(layers)
    obs = [cirq.Z(q[30]), cirq.X(q[10]) * cirq.X(q[11])]
    got = qtn.Simulator(dtype=np.complex128).simulate_moment_expectation_values(circuit, obs, {})
    # four CZ layers widen a lightcone by 4 each side: 10, 11 -> 6..15 and 30 -> 26..34
    window = q[4:18]
    for m, values in enumerate(got):
        prefix = circuit[: m + 1]
        near = cirq.Circuit(op for op in prefix.all_operations() if set(op.qubits) <= set(window))
        ref = cirq.Simulator(dtype=np.complex128).simulate_expectation_values(
            near + cirq.Circuit(cirq.I.on_each(*window)), [obs[1]])
        np.testing.assert_allclose(values[1], ref[0], atol=1e-8)
        shifted = q[24:37]
        near = cirq.Circuit(op for op in prefix.all_operations() if set(op.qubits) <= set(shifted))
        ref = cirq.Simulator(dtype=np.complex128).simulate_expectation_values(
            near + cirq.Circuit(cirq.I.on_each(*shifted)), [obs[0]])
        np.testing.assert_allclose(values[0], ref[0], atol=1e-8)


def test_bad_indexed_observables():
    q = QUBITS["line"]
    sim = qtn.Simulator()
    with pytest.raises(ValueError, match="moment 9"):
        sim.simulate_moment_expectation_values(_circuit(q), {9: cirq.Z(q[0])}, {})
    with pytest.raises(TypeError, match="not a moment index"):
        sim.simulate_moment_expectation_values(_circuit(q), {"0": cirq.Z(q[0])}, {})
    with pytest.raises(TypeError, match="qtn takes cirq.PauliSum"):
        sim.simulate_moment_expectation_values(_circuit(q), {0: cirq.H(q[0])}, {})


def test_qubit_order_iterators_are_read_once_everywhere():
    a, b = cirq.LineQubit.range(2)
    circuit = cirq.Circuit(cirq.H(a), cirq.CNOT(a, b), cirq.ry(0.4)(b))
    measured = circuit + cirq.Circuit(cirq.measure(a, b, key="m"))
    ref = cirq.final_state_vector(circuit, qubit_order=[b, a], dtype=np.complex128)
    obs = [cirq.Z(a), cirq.X(b)]
    sim = qtn.Simulator(dtype=np.complex128)
    ev_ref = cirq.Simulator().simulate_expectation_values(circuit, obs, qubit_order=[b, a], initial_state=1)
    np.testing.assert_allclose(sim.simulate(circuit, qubit_order=reversed([a, b])).final_state_vector, ref,
                               atol=1e-12)
    np.testing.assert_allclose(sim.compute_amplitudes(circuit, [0, 1, 2, 3], qubit_order=reversed([a, b])), ref,
                               atol=1e-12)
    np.testing.assert_allclose(sim.simulate_expectation_values(circuit, obs, qubit_order=reversed([a, b]),
                                                               initial_state=1), ev_ref, atol=1e-6)
    np.testing.assert_allclose(qtn.expectation(circuit, obs, qubit_order=reversed([a, b]), initial_state=1),
                               ev_ref, atol=1e-6)
    np.testing.assert_allclose(qtn.state_vector(circuit, qubit_order=reversed([a, b])), ref, atol=1e-6)
    np.testing.assert_allclose(qtn.amplitudes(circuit, [1, 2], qubit_order=reversed([a, b])), ref[[1, 2]],
                               atol=1e-6)
    np.testing.assert_allclose(qtn.compile(circuit, qubit_order=reversed([a, b])).state_vector(), ref, atol=1e-6)
    assert qtn.plan(circuit, qubit_order=reversed([a, b])).method  # planned, not refused
    assert qtn.sample(measured, 5, qubit_order=reversed([a, b])).measurements["m"].shape == (5, 2)
    moments = sim.simulate_moment_expectation_values(circuit, obs, {}, qubit_order=reversed([a, b]),
                                                     initial_state=1)
    np.testing.assert_allclose(moments[-1], ev_ref, atol=1e-6)


def test_moment_values_keep_qubits_that_act_only_later():
    # c starts in |1>; b acts only in moment 1: the prefix of moment 0 still has all three
    a, b, c = cirq.LineQubit.range(3)
    circuit = cirq.Circuit(cirq.Moment(cirq.I(a), cirq.I(c)), cirq.Moment(cirq.X(b)))
    got = qtn.Simulator().simulate_moment_expectation_values(
        circuit, {0: [cirq.Z(c), cirq.Z(b)], 1: [cirq.Z(b)]}, initial_state=1)
    ref = cirq.Simulator(dtype=np.complex128)
    expected = [[ref.simulate_expectation_values(circuit[:m + 1], obs, qubit_order=[a, b, c], initial_state=1)
                 for m, obs in ((0, [cirq.Z(c), cirq.Z(b)]),)][0],
                ref.simulate_expectation_values(circuit, [cirq.Z(b)], qubit_order=[a, b, c], initial_state=1)]
    np.testing.assert_allclose(np.array(got[0]), np.array(expected[0]), atol=1e-6)
    np.testing.assert_allclose(np.array(got[1]), np.array(expected[1]), atol=1e-6)
