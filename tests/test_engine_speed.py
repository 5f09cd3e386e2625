"""The fast paths of the engine against independent references (issue 10).

Layout-aware lowering and the permute kernel against np.einsum / NumPy's transpose,
the Schrödinger order and gate fusion against cirq.Simulator, slicing-budget
refusal and the dense-gate guard, the roofline figures.
"""

from __future__ import annotations

import cirq
import numpy as np
import pytest

import qtn
from qtn import layout, permute
from qtn.compiler import compile_circuit
from qtn.execute import contract
from qtn.fusion import block_tensor, gates_of, group
from qtn.network import Network
from qtn.planning import plan_from_path
from qtn.roofline import ASSUMED, bound
from qtn.statevector import schrodinger_network

from helpers import einsum_reference


def _random_network(rng, n_tensors=7, n_labels=14):
    """Random tensors of 3-6 axes (sizes 1-3) over shared labels, with hyperedges, some labels open."""
    sizes = {i: int(rng.integers(1, 4)) for i in range(n_labels)}
    indices = []
    for _ in range(n_tensors):
        k = int(rng.integers(3, 7))
        indices.append(tuple(int(i) for i in rng.choice(n_labels, size=k, replace=False)))
    used = sorted({i for ix in indices for i in ix})
    output = tuple(int(i) for i in rng.choice(used, size=min(3, len(used)), replace=False))
    for label in used:  # a closed label needs two holders (else it is summed before planning)
        holders = [t for t, ix in enumerate(indices) if label in ix]
        if len(holders) == 1 and label not in output:
            other = (holders[0] + 1 + int(rng.integers(n_tensors - 1))) % n_tensors
            indices[other] = indices[other] + (label,)
    arrays = [(rng.normal(size=[sizes[i] for i in ix]) + 1j * rng.normal(size=[sizes[i] for i in ix]))
              .astype(np.complex128) for ix in indices]
    return Network(arrays, indices, output)


def _random_path(rng, n):
    alive, path, nxt = list(range(n)), [], n
    while len(alive) > 1:
        i, j = sorted(rng.choice(len(alive), size=2, replace=False))
        path.append((alive[i], alive[j]))
        del alive[j], alive[i]
        alive.append(nxt)
        nxt += 1
    return path


@pytest.mark.parametrize("seed", range(12))
def test_layout_aware_lowering_matches_einsum(seed, backend, monkeypatch):
    monkeypatch.setattr(layout, "SMALL_STEP_ELEMENTS", 0)  # search layouts on every step
    rng = np.random.default_rng(seed)
    net = _random_network(rng).canonical()
    plan = plan_from_path(net, _random_path(rng, net.num_tensors), (), memory_budget=1 << 30)
    got = contract(net, plan, backend)
    np.testing.assert_allclose(got, einsum_reference(net), atol=1e-9)


def test_layout_lowering_moves_fewer_elements_than_plain_lowering():
    # a chain where the plain lowering must transpose the big operand at every step
    rng = np.random.default_rng(3)
    inputs = [tuple(range(12))] + [(i, 12 + i) for i in range(0, 12, 3)]
    sizes = {i: 2 for i in range(24)}
    path, cur = [], 0
    for t in range(1, len(inputs)):
        path.append((cur, t))
        cur = len(inputs) + t - 1
    output = tuple(sorted(set(range(24)) - {0, 3, 6, 9}))
    steps, _ = layout.lower_path(inputs, path, output, sizes)
    moved = sum(2 ** len(inputs[s.left] if s.left < len(inputs) else ()) * s.lowered.a_moves for s in steps)
    assert not any(s.lowered.a_moves and s.lowered.b_moves for s in steps)
    assert moved == 0 or moved < 2**12  # the 4096-element stem is never copied
    del rng


@pytest.mark.parametrize("shape_perm", [((4, 5, 6), (2, 0, 1)), ((2,) * 14, tuple(range(13, -1, -1))),
                                        ((2,) * 16, tuple(range(4, 16)) + (0, 1, 2, 3)),
                                        ((8, 3, 64, 5), (1, 3, 0, 2))])
@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
def test_permute_kernel_matches_numpy(shape_perm, dtype):
    shape, perm = shape_perm
    rng = np.random.default_rng(0)
    a = (rng.normal(size=shape) + 1j * rng.normal(size=shape)).astype(dtype)
    for threads in (1, 2):
        permute.set_num_threads(threads)
        got = permute.permute(a, perm)
        assert got.flags.c_contiguous
        np.testing.assert_array_equal(got, np.transpose(a, perm))
    permute.set_num_threads(None)


@pytest.mark.parametrize("seed", range(6))
def test_permute_kernel_random_permutations(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(14, 18))
    a = (rng.normal(size=2**n) + 1j * rng.normal(size=2**n)).astype(np.complex64).reshape((2,) * n)
    perm = tuple(int(p) for p in rng.permutation(n))
    np.testing.assert_array_equal(permute.permute(a, perm), np.transpose(a, perm))


def test_permute_kernel_is_compiled_here():
    assert permute.kernel() == "c"


def _textbook_circuit(n, seed):
    q = cirq.LineQubit.range(n)
    c = cirq.testing.random_circuit(q, 12, 0.9, random_state=seed)
    c += cirq.Circuit(cirq.CZ(q[0], q[n - 1]), cirq.ZPowGate(exponent=0.3)(q[1]), cirq.CCX(q[0], q[1], q[2]))
    return c


@pytest.mark.parametrize("seed", range(4))
def test_fused_blocks_are_the_circuit_unitary(seed):
    circuit = _textbook_circuit(5, seed)
    cc = compile_circuit(circuit, cirq.LineQubit.range(5), None, np.complex128)
    gates = gates_of(cc)
    blocks = group(gates, 3)
    assert all(len(b.positions) <= 3 for b in blocks) and len(blocks) < len(gates)
    # blocks applied in order give cirq's unitary
    u = np.eye(32, dtype=complex).reshape((2,) * 10)
    for b in blocks:
        t = block_tensor(gates, b)
        f = len(b.positions)
        if b.diagonal:
            t = np.einsum(t.reshape(-1), [0], np.eye(2**f), [0, 1], [0, 1]).reshape((2,) * (2 * f))
        labels = list(range(10))
        g = [10 + j for j in range(f)] + list(b.positions)
        out = list(labels)
        for j, p in enumerate(b.positions):
            out[p] = 10 + j
        u = np.einsum(t, g, u, labels, out)
    np.testing.assert_allclose(u.reshape(32, 32), cirq.unitary(circuit), atol=1e-10)


@pytest.mark.parametrize("n", [4, 9, 12])
def test_schrodinger_state_vector_and_amplitudes_match_cirq(n, backend):
    circuit = _textbook_circuit(n, n)
    qubits = cirq.LineQubit.range(n)
    ref = cirq.Simulator(dtype=np.complex128).simulate(circuit, qubit_order=qubits).final_state_vector
    cc = compile_circuit(circuit, qubits, None, np.complex128)
    net, path = schrodinger_network(cc, list(range(n)), None)
    plan = plan_from_path(net, path, (), memory_budget=1 << 30, method="schrodinger")
    np.testing.assert_allclose(contract(net, plan, backend).reshape(-1), ref, atol=1e-9)
    bits = [0, 1] * (n // 2) + [1] * (n % 2)
    net, path = schrodinger_network(cc, [], bits)
    plan = plan_from_path(net, path, (), memory_budget=1 << 30, method="schrodinger")
    index = int("".join(map(str, bits)), 2)
    np.testing.assert_allclose(contract(net, plan, backend).reshape(()), ref[index], atol=1e-9)


def test_deep_narrow_circuit_takes_the_schrodinger_order():
    q = cirq.LineQubit.range(8)
    circuit = cirq.testing.random_circuit(q, 200, 0.9, random_state=1)
    plan = qtn.plan(circuit, open_qubits=q)
    assert plan.method.startswith("schrodinger")
    assert "schrodinger" in plan.report() and "roofline bound" in plan.report()
    got = qtn.state_vector(circuit, qubit_order=q)
    ref = cirq.Simulator(dtype=np.complex64).simulate(circuit, qubit_order=q).final_state_vector
    np.testing.assert_allclose(got, ref, atol=2e-5)


def test_schrodinger_plan_steps_are_packed_out_of_the_collectors_sight():
    """A cached Schrödinger plan's thousands of steps must not each be an object the cycle
    collector walks (full collections then pause later calls); read back, they are the
    steps plain lowering makes, and they survive pickling (plans go to Dask workers)."""
    import gc
    import pickle

    from qtn.planning import PackedSteps, plain_lowering

    n = 8
    circuit = cirq.testing.random_circuit(cirq.LineQubit.range(n), 80, 0.9, random_state=3)
    cc = compile_circuit(circuit, cirq.LineQubit.range(n), None, np.complex64)
    net, path = schrodinger_network(cc, list(range(n)), None)
    plan = plan_from_path(net, path, (), memory_budget=1 << 30, method="schrodinger")
    assert isinstance(plan.steps, PackedSteps) and len(plan.steps) == len(path) > 20
    sizes = net.size_dict
    expected, _ = plain_lowering(tuple(tuple(ix) for ix in net.indices), path, tuple(net.output), sizes)
    assert list(plan.steps) == expected and plan.steps[3] == expected[3] and plan.steps[-2:] == tuple(expected[-2:])
    gc.collect()
    gc.collect()  # a tuple is untracked once the collector finds all it holds untracked
    assert not any(gc.is_tracked(row) for row in plan.steps._rows)
    again = pickle.loads(pickle.dumps(plan))
    assert again.steps == plan.steps and again == plan


def test_a_wide_custom_gate_without_decomposition_is_refused_clearly():
    class Wide(cirq.Gate):
        def _num_qubits_(self):
            return 16

        def _unitary_(self):  # would be 64 GiB: must never be called
            raise AssertionError("qtn built the dense matrix of a 16-qubit gate")

    with pytest.raises(ValueError, match="16 qubits and has no decomposition"):
        qtn.state_vector(cirq.Circuit(Wide().on(*cirq.LineQubit.range(16))))


def test_a_wide_gate_with_a_decomposition_is_decomposed():
    q = cirq.LineQubit.range(9)
    circuit = cirq.Circuit(cirq.H.on_each(*q), cirq.qft(*q), cirq.X(q[2]))
    ref = cirq.final_state_vector(circuit, qubit_order=q)
    np.testing.assert_allclose(qtn.state_vector(circuit, qubit_order=q), ref, atol=2e-5)


def test_a_budget_whose_slicing_multiplies_the_work_is_refused_with_figures():
    q = cirq.GridQubit.rect(4, 4)
    circuit = cirq.experiments.random_rotations_between_grid_interaction_layers_circuit(q, depth=12, seed=1)
    with pytest.raises(ValueError, match=r"multiply the work .*x .*a max_memory of at least (\d+) bytes") as err:
        qtn.plan(circuit, max_memory=64, optimize="greedy")
    good = int(err.value.args[0].rsplit("at least ", 1)[1].split()[0])
    plan = qtn.plan(circuit, max_memory=good, optimize="greedy")  # the suggested budget is accepted
    assert plan.largest_intermediate_bytes <= good


def test_roofline_bound_counts_every_step():
    q = cirq.LineQubit.range(6)
    plan = qtn.plan(cirq.testing.random_circuit(q, 10, 0.9, random_state=2), optimize="greedy")
    b = bound(plan, ASSUMED)
    assert b.seconds == pytest.approx(b.compute_seconds + b.memory_seconds)
    assert b.seconds >= plan.flops / max(ASSUMED.gemm.values())


@pytest.mark.parametrize("make", [
    lambda q: cirq.X(q[7]).controlled_by(*q[:7], control_values=[1, 0, 1, 1, 0, 1, 1]),
    lambda q: cirq.H(q[0]).controlled_by(*q[1:]),
    lambda q: cirq.MatrixGate(cirq.testing.random_unitary(4, random_state=1)).on(q[0], q[5])
    .controlled_by(*q[1:5], *q[6:]),
    lambda q: cirq.Z(q[7]).controlled_by(*q[:7]),
])
def test_wide_controlled_gates_as_a_diagonal_between_basis_changes(make):
    q = cirq.LineQubit.range(8)
    circuit = cirq.Circuit(cirq.H.on_each(*q), cirq.rx(0.3).on_each(*q), make(q))
    ref = cirq.final_state_vector(circuit, qubit_order=q, dtype=np.complex128)
    np.testing.assert_allclose(qtn.state_vector(circuit, qubit_order=q, dtype=np.complex128), ref, atol=1e-10)
