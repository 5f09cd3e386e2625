"""50-100 qubit circuits with analytic answers; slicing; the plan cache."""

from __future__ import annotations

import cirq
import numpy as np
import pytest

import qtn
from helpers import reference_state


def ghz(n: int) -> cirq.Circuit:
    q = cirq.LineQubit.range(n)
    return cirq.Circuit(cirq.H(q[0]), (cirq.CNOT(q[i], q[i + 1]) for i in range(n - 1)))


@pytest.mark.parametrize("n", [50, 100])
def test_ghz_amplitudes(n, backend):
    ones = (1 << n) - 1
    got = qtn.amplitudes(ghz(n), [0, ones, 1, 1 << (n - 1), ones - 1], backend=backend)
    np.testing.assert_allclose(got, [2**-0.5, 2**-0.5, 0, 0, 0], atol=1e-6)


def test_product_state_60_qubits():
    n = 60
    q = cirq.LineQubit.range(n)
    angles = np.linspace(0.1, 2.9, n)
    circuit = cirq.Circuit(cirq.ry(t)(qq) for t, qq in zip(angles, q))
    rng = np.random.default_rng(0)
    for _ in range(3):
        bits = rng.integers(0, 2, n)
        expected = np.prod([np.sin(t / 2) if b else np.cos(t / 2) for t, b in zip(angles, bits)])
        got = qtn.amplitudes(circuit, [bits], dtype=np.complex128)[0]
        assert got == pytest.approx(expected, rel=1e-10)


def test_ghz_on_a_grid_of_64_qubits_with_hyper_search():
    q = cirq.GridQubit.rect(8, 8)
    # a GHZ state grown as a tree over the grid: depth ~ 15, then undone on one half
    circuit = cirq.Circuit(cirq.H(q[0]))
    for i in range(1, 64):
        parent = q[i - 8] if i >= 8 else q[i - 1]
        circuit.append(cirq.CNOT(parent, q[i]))
    got = qtn.amplitudes(circuit, [0, 2**64 - 1, 2**63], optimize="hyper", search_time=2)
    np.testing.assert_allclose(got, [2**-0.5, 2**-0.5, 0], atol=1e-6)


def _grid_circuit(rows=3, cols=4, depth=8, seed=1):
    qubits = cirq.GridQubit.rect(rows, cols)
    return cirq.experiments.random_rotations_between_grid_interaction_layers_circuit(qubits, depth=depth, seed=seed)


def test_sliced_equals_unsliced(backend):
    circuit = _grid_circuit()
    # tensor-network plans (the automatic planner takes the Schrödinger order for this amplitude)
    unsliced = qtn.plan(circuit, optimize="greedy")
    assert unsliced.n_slices == 1
    budget = unsliced.largest_intermediate_bytes // 4
    sliced = qtn.plan(circuit, max_memory=budget, optimize="greedy")
    assert sliced.n_slices > 1
    assert sliced.largest_intermediate_bytes <= budget
    assert sliced.memory_budget == budget
    bits = [0, 77, 4095]
    ref = reference_state(circuit)[bits]
    full = qtn.amplitudes(circuit, bits, backend=backend, dtype=np.complex128)
    part = qtn.amplitudes(circuit, bits, backend=backend, dtype=np.complex128, max_memory=budget)
    np.testing.assert_allclose(full, ref, atol=1e-10)
    np.testing.assert_allclose(part, ref, atol=1e-10)


def test_plan_fields_are_consistent():
    circuit = _grid_circuit(3, 3, 10)
    p = qtn.plan(circuit, max_memory=2**12)
    assert p.flops == sum(g.flops for g in p.gemms) * p.n_slices
    assert p.largest_intermediate_bytes <= p.memory_budget == 2**12
    assert p.peak_bytes >= p.largest_intermediate_bytes
    assert p.n_slices == 2 ** len(p.sliced)
    assert p.search_seconds >= 0
    text = p.report()
    for word in ("flops", "width", "slices", "peak memory", "search time"):
        assert word in text


def test_plan_cache_hit_on_second_call_with_other_values():
    circuit = _grid_circuit(seed=5)
    other = _grid_circuit(seed=6)  # same structure, other single-qubit rotations
    cache = qtn.PlanCache()
    first = qtn.plan(circuit, plan_cache=cache)
    assert first.source == "search" and cache.info()["misses"] == 1
    qtn.amplitudes(circuit, [1234], plan_cache=cache)  # another bitstring: same structure
    assert qtn.plan(other, plan_cache=cache) is first  # other values: no new search
    assert cache.info()["misses"] == 1


def test_batch_of_bitstrings_uses_one_open_contraction():
    circuit = _grid_circuit(seed=2)
    ref = reference_state(circuit)
    bits = [0b101010101010, 0b101010101011, 0b101010101110, 0b101010101111]  # 2 qubits differ
    cache = qtn.PlanCache()
    got = qtn.amplitudes(circuit, bits, dtype=np.complex128, plan_cache=cache)
    np.testing.assert_allclose(got, ref[bits], atol=1e-10)
    assert cache.info()["misses"] == 1 and cache.info()["hits"] == 0  # one plan, one contraction for the batch


def test_many_scattered_bitstrings():
    circuit = _grid_circuit(seed=3)
    ref = reference_state(circuit)
    bits = list(np.random.default_rng(1).integers(0, 4096, size=40))
    np.testing.assert_allclose(qtn.amplitudes(circuit, bits, dtype=np.complex128), ref[bits], atol=1e-10)
