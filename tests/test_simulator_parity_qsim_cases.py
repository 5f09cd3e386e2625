"""The scenarios qsimcirq's own test suite checks its simulator with (its
``qsimcirq_tests/qsimcirq_test.py``), run on qtn.Simulator with the same expected
answers: moment expectation values, a "noise trigger" (an identity channel that only
switches qsim to trajectories), intermediate measurements, and trajectories of
mixtures and channels landing on the states their Kraus operators give.
"""

from __future__ import annotations

import cirq
import numpy as np
import pytest
import sympy

import qtn

MODES = ["noiseless", "noisy"]


class NoiseTrigger(cirq.Gate):
    """An identity channel without a unitary, its one Kraus operator given flattened
    (as qsimcirq's tests define it)."""

    def _num_qubits_(self) -> int:
        return 1

    def _kraus_(self):
        return (np.asarray([1, 0, 0, 1]),)


def _maybe_noisy(circuit: cirq.Circuit, mode: str, qubit) -> cirq.Circuit:
    return circuit + cirq.Circuit(NoiseTrigger().on(qubit)) if mode == "noisy" else circuit


@pytest.mark.parametrize("mode", MODES)
def test_rabi_oscillation_moment_by_moment(mode):
    q0 = cirq.LineQubit(0)
    circuit = _maybe_noisy(cirq.Circuit(*[cirq.X(q0) ** 0.05 for _ in range(20)]), mode, q0)
    values = qtn.Simulator().simulate_moment_expectation_values(circuit, cirq.Z(q0), {})
    np.testing.assert_allclose([v[0].real for v in values[:20]], np.cos(np.pi * np.arange(1, 21) / 20), atol=1e-6)


@pytest.mark.parametrize("mode", MODES)
def test_observables_after_chosen_moments(mode):
    q0, q1 = cirq.LineQubit.range(2)
    circuit = _maybe_noisy(cirq.Circuit(cirq.Moment(cirq.X(q0), cirq.H(q1)), cirq.Moment(cirq.H(q0), cirq.Z(q1)),
                                        cirq.Moment(cirq.Z(q0), cirq.H(q1)), cirq.Moment(cirq.H(q0), cirq.X(q1))),
                           mode, q0)
    chosen = {0: cirq.Z(q0), 1: [cirq.X(q0), cirq.Z(q1)], 3: [cirq.Z(q0), cirq.Z(q1)]}
    values = qtn.Simulator().simulate_moment_expectation_values(circuit, chosen, {})
    for got, want in zip(values, [[-1], [-1, 0], [1, 1]], strict=True):
        np.testing.assert_allclose(got, want, atol=1e-6)


@pytest.mark.parametrize("mode", MODES)
def test_expectation_value_sweep_matches_cirq(mode):
    a, b = cirq.GridQubit(0, 0), cirq.GridQubit(0, 1)
    x_exp, h_exp = sympy.Symbol("x_exp"), sympy.Symbol("h_exp")
    circuit = _maybe_noisy(cirq.Circuit(cirq.X(a) ** x_exp, cirq.H(b), cirq.H(a) ** h_exp, cirq.H(b) ** h_exp),
                           mode, a)
    params = [{x_exp: x, h_exp: h} for h in (0, 1) for x in (0, 1)]
    psums = [cirq.Z(a) + 3 * cirq.X(b), cirq.X(a) - 3 * cirq.Z(b)]
    got = qtn.Simulator().simulate_expectation_values_sweep(circuit, psums, params)
    ref = cirq.Simulator().simulate_expectation_values_sweep(circuit, psums, params)
    assert cirq.approx_eq(got, ref, atol=1e-6)


@pytest.mark.parametrize("mode", MODES)
def test_intermediate_measurements_run_as_cirq(mode):
    a, b = cirq.GridQubit(0, 0), cirq.GridQubit(0, 1)
    circuit = _maybe_noisy(cirq.Circuit(
        cirq.X(a), cirq.CX(a, b), cirq.measure(a, b, key="m1"), cirq.CZ(a, b), cirq.measure(a, b, key="m2"),
        cirq.X(a), cirq.CX(a, b), cirq.measure(a, b, key="m3"), cirq.H(a), cirq.H(b)), mode, a)
    assert qtn.Simulator().run(circuit, repetitions=20) == cirq.Simulator().run(circuit, repetitions=20)
    got = qtn.Simulator(seed=1).simulate(circuit).measurements  # deterministic records, in simulate too
    ref = cirq.Simulator(seed=2).simulate(circuit).measurements
    assert {k: v.tolist() for k, v in got.items()} == {k: v.tolist() for k, v in ref.items()}
    assert {k: v.tolist() for k, v in got.items()} == {"m1": [1, 1], "m2": [1, 1], "m3": [0, 1]}


def _branch_states(circuit: cirq.Circuit, noisy_ops: list[cirq.Operation], qubits) -> list[np.ndarray]:
    """The normalised state of every choice of one Kraus operator per channel."""
    states = [cirq.final_state_vector(circuit, qubit_order=qubits, dtype=np.complex128)]
    for op in noisy_ops:
        position = qubits.index(op.qubits[0])
        nxt = []
        for psi in states:
            for k in cirq.kraus(op):
                out = np.moveaxis(np.tensordot(k, psi.reshape((2,) * len(qubits)), axes=([1], [position])), 0,
                                  position).reshape(-1)
                if np.linalg.norm(out) > 1e-12:
                    nxt.append(out / np.linalg.norm(out))
        states = nxt
    return states


@pytest.mark.parametrize("channels", [(cirq.phase_flip(p=0.4), cirq.bit_flip(p=0.6)),
                                      (cirq.amplitude_damp(gamma=0.5), cirq.generalized_amplitude_damp(0.4, 0.6))])
def test_every_trajectory_is_a_branch_and_every_branch_is_drawn(channels):
    q0, q1 = cirq.LineQubit.range(2)
    unitary = cirq.Circuit(cirq.X(q0) ** 0.5, cirq.X(q1) ** 0.5)
    noisy_ops = [channels[0].on(q0), channels[1].on(q1)]
    branches = _branch_states(unitary, noisy_ops, [q0, q1])
    sim = qtn.Simulator(seed=1, dtype=np.complex128)
    counts = [0] * len(branches)
    for _ in range(200):
        psi = sim.simulate(unitary + cirq.Circuit(noisy_ops), qubit_order=[q0, q1]).final_state_vector
        hits = [i for i, b in enumerate(branches) if cirq.allclose_up_to_global_phase(psi, b, atol=1e-8)]
        assert hits, "a trajectory that is no branch of the channels"
        counts[hits[0]] += 1
    assert all(c > 0 for c in counts)


def test_empty_circuit_and_empty_moment():
    assert qtn.Simulator().simulate(cirq.Circuit()).final_state_vector.shape == (1,)
    q = cirq.LineQubit(0)
    np.testing.assert_allclose(qtn.Simulator().simulate(cirq.Circuit(cirq.Moment(), cirq.X(q))).final_state_vector,
                               [0, 1])
