"""Moment prefixes and trajectory steps share one compiled program: each op is compiled
once (not once per prefix), and the values still match Cirq's."""

from __future__ import annotations

import cirq
import numpy as np
import pytest

import qtn
from qtn import compiler


@pytest.fixture
def template_calls(monkeypatch):
    """How many times an op's tensors are built (``compiler._template``)."""
    calls = []
    real = compiler._template
    monkeypatch.setattr(compiler, "_template", lambda op, *a: calls.append(op) or real(op, *a))
    return calls


def _twenty_moments(q):
    rng = np.random.default_rng(4)
    moments = []
    for d in range(20):
        if d % 2:
            moments.append(cirq.Moment(cirq.CZ(q[i], q[i + 1]) for i in range((d // 2) % 2, len(q) - 1, 2)))
        else:
            moments.append(cirq.Moment(cirq.rx(a)(qb) for a, qb in zip(rng.uniform(-3, 3, len(q)), q)))
    return cirq.Circuit(moments)


def test_twenty_moment_values_compile_each_op_once(template_calls):
    q = cirq.LineQubit.range(4)
    circuit = _twenty_moments(q)
    obs = [cirq.Z(q[0]), cirq.X(q[1]) * cirq.Y(q[2]), 0.5 * cirq.Z(q[3]) - cirq.X(q[0]) * cirq.Z(q[2])]
    got = qtn.Simulator(dtype=np.complex128).simulate_moment_expectation_values(circuit, obs, {})
    # each op at most once (equal gates share one template); a prefix each would be ~10x this
    assert len(template_calls) <= len(list(circuit.all_operations()))
    ref = cirq.Simulator(dtype=np.complex128)
    for m, values in enumerate(got):
        prefix = circuit[: m + 1] + cirq.Circuit(cirq.I.on_each(*q))
        np.testing.assert_allclose(values, ref.simulate_expectation_values(prefix, obs), atol=1e-9)


def test_noise_reaches_qubits_that_act_only_later():
    # b is idle until the last moment: the noise model still acts on it after every
    # moment, as in Cirq's moment steps (and qsimcirq), which apply it to the whole circuit
    a, b = cirq.LineQubit.range(2)
    circuit = cirq.Circuit(cirq.Moment(cirq.X(a)), cirq.Moment(cirq.H(a)), cirq.Moment(cirq.ry(0.3)(a)),
                           cirq.Moment(cirq.CNOT(a, b)))
    noise = cirq.ConstantQubitNoiseModel(cirq.bit_flip(0.2))
    obs = [cirq.PauliSum.wrap(o) for o in (cirq.Z(a), cirq.Z(b), cirq.X(a) * cirq.Z(b))]
    got = qtn.Simulator(noise=noise, dtype=np.complex128).simulate_moment_expectation_values(circuit, obs, {})
    steps = cirq.DensityMatrixSimulator(noise=noise, dtype=np.complex128).simulate_moment_steps(circuit)
    ref = [[o.expectation_from_density_matrix(s.density_matrix(), {a: 0, b: 1}) for o in obs] for s in steps]
    assert len(got) == len(ref) == 4
    np.testing.assert_allclose(got, ref, atol=1e-9)
    assert abs(got[0][1] - 0.6) < 1e-9  # one bit flip of b after moment 0: <Z> = 1 - 2 * 0.2


def test_lightcone_trajectory_compiles_each_op_once(template_calls, monkeypatch):
    q = cirq.LineQubit.range(4)
    circuit = _twenty_moments(q)[:8]
    noise = cirq.ConstantQubitNoiseModel(cirq.amplitude_damp(0.2))
    vector = qtn.Simulator(seed=3, noise=noise, dtype=np.complex128).simulate(circuit).final_state_vector
    monkeypatch.setattr(qtn.trajectories, "VECTOR_QUBITS", 0)  # branch probabilities from lightcones
    template_calls.clear()
    amps = qtn.Simulator(seed=3, noise=noise, dtype=np.complex128).compute_amplitudes(circuit, range(16))
    np.testing.assert_allclose(amps, vector, atol=1e-9)  # one seed, one trajectory, either way
    # 32 damping steps over ~50 ops: once for the lightcones and once for the amplitudes,
    # where compiling each step's prefix would be hundreds
    n_ops = len(list(circuit.all_operations())) + 8 * len(q)
    assert len(template_calls) <= 2 * n_ops
