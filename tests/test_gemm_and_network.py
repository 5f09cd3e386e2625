"""Lowering to GEMMs and network simplification, against np.einsum / opt_einsum."""

from __future__ import annotations

import itertools

import cirq
import numpy as np
import pytest

import qtn
from qtn.circuits import resolve_qubit_order
from qtn.compiler import compile_ops
from qtn.ket import open_network
from qtn.gemm import lower_pair
from qtn.network import Network

from helpers import einsum_reference


def _random_pair(rng):
    labels = list(range(9))
    rng.shuffle(labels)
    sizes = {i: int(rng.integers(1, 4)) for i in labels}
    a = list(rng.choice(labels, size=rng.integers(0, 6), replace=False))
    b = list(rng.choice(labels, size=rng.integers(0, 6), replace=False))
    shared = set(a) & set(b)
    # shared labels are kept (batch) or summed; private ones are always kept
    keep = {i for i in set(a) ^ set(b)} | {i for i in shared if rng.random() < 0.4}
    return a, b, keep, sizes


@pytest.mark.parametrize("seed", range(60))
def test_lower_pair_matches_einsum(seed, backend):
    rng = np.random.default_rng(seed)
    a_idx, b_idx, keep, sizes = _random_pair(rng)
    A = (rng.normal(size=[sizes[i] for i in a_idx]) + 1j * rng.normal(size=[sizes[i] for i in a_idx])).astype(np.complex128)
    B = (rng.normal(size=[sizes[i] for i in b_idx]) + 1j * rng.normal(size=[sizes[i] for i in b_idx])).astype(np.complex128)
    low = lower_pair(a_idx, b_idx, keep, sizes)
    assert set(low.out) == keep
    a = backend.transpose_reshape(backend.to_device(A), low.a_perm, low.a_shape)
    b = backend.transpose_reshape(backend.to_device(B), low.b_perm, low.b_shape)
    got = backend.to_host(backend.transpose_reshape(backend.matmul(a, b), tuple(range(len(low.a_shape))), low.out_shape))
    ref = np.einsum(A, a_idx, B, b_idx, list(low.out))
    np.testing.assert_allclose(got.reshape(low.out_shape), ref, atol=1e-10)
    assert low.gemm.flops == 8 * np.prod([sizes[i] for i in set(a_idx) | set(b_idx)], dtype=np.int64)


def test_lower_pair_rejects_unsummed_private_index():
    with pytest.raises(ValueError, match="one operand only"):
        lower_pair([0, 1], [1, 2], keep={2}, size_dict={0: 2, 1: 2, 2: 2})


@pytest.mark.parametrize("seed", range(15))
def test_simplify_preserves_value(seed):
    circuit = cirq.testing.random_circuit(6, 12, 0.9, random_state=seed)
    qubits = resolve_qubit_order(circuit)
    ct = compile_ops(circuit.all_operations(), qubits, np.complex128, channels=False)
    for open_positions in ([], [0, 3], list(range(len(qubits)))):
        net = open_network(ct, open_positions, [seed % 2] * len(qubits))
        simple = net.simplified()
        assert simple.num_tensors <= net.num_tensors
        assert max((len(ix) for ix in simple.indices), default=0) <= max(len(ix) for ix in net.indices)
        np.testing.assert_allclose(einsum_reference(simple), einsum_reference(net), atol=1e-10)


def test_structure_key_ignores_values_and_label_names():
    x = np.ones((2, 2), np.complex64)
    n1 = Network([x, x], [(5, 7), (7, 9)], (5, 9))
    n2 = Network([2 * x, 3 * x], [(0, 1), (1, 2)], (0, 2))
    n3 = Network([x, x], [(0, 1), (1, 2)], (2, 0))
    assert n1.structure_key() == n2.structure_key() != n3.structure_key()
    assert n1.canonical().indices == [(0, 1), (1, 2)]


def test_network_rejects_inconsistent_input():
    x = np.ones((2, 3))
    with pytest.raises(ValueError, match="dimension"):
        Network([x, x], [(0, 1), (1, 2)]).size_dict
    with pytest.raises(ValueError, match="repeat"):
        Network([np.ones((2, 2))], [(0, 0)])
    with pytest.raises(ValueError, match="labelled with"):
        Network([x], [(0,)])


def test_diagonal_gates_add_no_wires():
    q = cirq.LineQubit.range(4)
    circuit = cirq.Circuit(cirq.CZ(q[0], q[1]), cirq.CZ(q[1], q[2]) ** 0.3, cirq.rz(0.2)(q[3]), cirq.T(q[0]))
    net = open_network(compile_ops(circuit.all_operations(), q, channels=False), range(4))
    assert net.output == (0, 1, 2, 3)  # no gate moved a qubit to a new label
    assert sorted(a.ndim for a in net.arrays) == [1, 1, 1, 1, 1, 1, 2, 2]  # 4 kets, 4 diagonals


def test_every_pairwise_product_of_the_plan_is_one_gemm():
    circuit = cirq.testing.random_circuit(8, 12, 0.9, random_state=7)
    p = qtn.plan(circuit)
    assert len(p.steps) == p.n_inputs - 1
    assert all(len(s.lowered.a_shape) in (2, 3) for s in p.steps)
    # the SSA path uses every tensor exactly once
    used = list(itertools.chain.from_iterable((s.left, s.right) for s in p.steps))
    assert sorted(used) == list(range(p.n_inputs + len(p.steps) - 1))
