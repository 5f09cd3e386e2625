"""Wide custom gates (a benchmark suite's controlled 11-qubit unitaries): their values
against Cirq, their cache keys, and simplification that leaves big merges to the planner."""

from __future__ import annotations

import cirq
import numpy as np
import pytest

import qtn
from qtn.compiler import gate_key
from qtn.network import MERGE_WORK_LIMIT, Network

from helpers import einsum_reference, reference_state


def _wide_circuit(n: int, width: int, seed: int) -> cirq.Circuit:
    """Random one- and two-qubit gates around a random ``width``-qubit unitary on
    shuffled qubits, the unitary repeated (same matrix, other qubits) and controlled."""
    rng = np.random.default_rng(seed)
    q = cirq.LineQubit.range(n)
    u = cirq.MatrixGate(cirq.testing.random_unitary(2**width, random_state=seed))
    on = [q[i] for i in rng.permutation(n)[:width]]
    again = [q[i] for i in rng.permutation(n)[:width]]
    free = [x for x in q if x not in on]
    ops = list(cirq.testing.random_circuit(q, 4, 0.8, random_state=seed).all_operations())
    ops += [u.on(*on), cirq.H(q[0]), u.on(*again)]
    if free:
        ops.append(u.on(*on).controlled_by(free[0]))
    ops += list(cirq.testing.random_circuit(q, 3, 0.8, random_state=seed + 1).all_operations())
    return cirq.Circuit(ops)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
def test_wide_gates_state_vector_matches_cirq(seed, dtype):
    circuit = _wide_circuit(9, 6 + seed % 2, seed)
    qubits = sorted(circuit.all_qubits())
    psi = qtn.state_vector(circuit, qubit_order=qubits, dtype=dtype, plan_cache=False)
    ref = reference_state(circuit, qubits)
    tol = 2e-4 if dtype == np.complex64 else 1e-9
    np.testing.assert_allclose(psi, ref, atol=tol)


@pytest.mark.parametrize("seed", range(3))
def test_wide_gates_amplitudes_by_tensor_network_match_cirq(seed):
    circuit = _wide_circuit(10, 6, seed)
    qubits = sorted(circuit.all_qubits())
    ref = reference_state(circuit, qubits)
    bits = [0, 5, 1023, int(np.argmax(abs(ref)))]
    for optimize in ("greedy", "hyper"):
        amps = qtn.amplitudes(circuit, bits, qubit_order=qubits, dtype=np.complex128, optimize=optimize,
                              plan_cache=False, search_time=1)
        np.testing.assert_allclose(amps, ref[bits], atol=1e-9)


def test_matrix_gate_key_is_by_value():
    m = cirq.testing.random_unitary(16, random_state=1)
    q = cirq.LineQubit.range(6)
    a, b = cirq.MatrixGate(m.copy()), cirq.MatrixGate(m.copy())
    other = cirq.MatrixGate(cirq.testing.random_unitary(16, random_state=2))
    assert gate_key(a.on(*q[:4])) == gate_key(b.on(*q[2:])) != gate_key(other.on(*q[:4]))
    assert hash(gate_key(a.on(*q[:4]))) == hash(gate_key(b.on(*q[2:])))
    # the same matrix on qudits of another shape is another gate
    assert gate_key(a.on(*q[:4])) != gate_key(cirq.MatrixGate(m.copy(), qid_shape=(4, 4)).on(*cirq.LineQid.range(2, dimension=4)))
    ctrl = gate_key(a.on(*q[:4]).controlled_by(q[5]))
    assert ctrl == gate_key(b.on(*q[1:5]).controlled_by(q[0])) != gate_key(other.on(*q[:4]).controlled_by(q[5]))


def _wide_network(rng, width: int) -> Network:
    """One ``width``-axis tensor, a vector on each of its labels but three (left open),
    and a few two-axis tensors on random pairs (labels held by three tensors)."""
    arrays = [rng.normal(size=(2,) * width) + 1j * rng.normal(size=(2,) * width)]
    indices = [tuple(range(width))]
    output = tuple(int(x) for x in rng.choice(width, size=3, replace=False))
    for label in range(width):
        if label not in output:
            arrays.append(rng.normal(size=2) + 1j * rng.normal(size=2))
            indices.append((label,))
    for _ in range(3):
        arrays.append(rng.normal(size=(2, 2)) + 1j * rng.normal(size=(2, 2)))
        indices.append(tuple(int(x) for x in rng.choice(width, size=2, replace=False)))
    return Network(arrays, indices, output)


@pytest.mark.parametrize("seed", range(6))
def test_simplify_with_wide_tensors_keeps_the_value(seed):
    rng = np.random.default_rng(seed)
    width = 21 if seed % 2 else 12  # 2^21 > MERGE_WORK_LIMIT: those merges are left alone
    net = _wide_network(rng, width)
    simple = net.simplified()
    if 2**width > MERGE_WORK_LIMIT:  # nothing merged into the wide tensor
        assert any(len(ix) == width for ix in simple.indices)
    else:  # everything merged into it
        assert simple.num_tensors == 1 and len(simple.indices[0]) == 3
    np.testing.assert_allclose(einsum_reference(simple), einsum_reference(net), rtol=1e-9, atol=1e-9)


def test_repeated_custom_gates_are_built_once():
    from qtn.compiler import DIGEST_ELEMENTS, compile_circuit

    q = cirq.LineQubit.range(9)
    small = cirq.testing.random_unitary(4, random_state=3)
    big = cirq.MatrixGate(cirq.testing.random_unitary(2**8, random_state=4))
    assert big._matrix.size > DIGEST_ELEMENTS
    circuit = cirq.Circuit(cirq.MatrixGate(small.copy()).on(q[0], q[1]), cirq.MatrixGate(small.copy()).on(q[4], q[2]),
                           big.on(*q[:8]), big.on(*q[1:]))
    cc = compile_circuit(circuit, q)
    data = [piece.data for op in cc.ops for piece in op.pieces]
    assert data[0] is data[1] and data[2] is data[3]  # equal small matrices by value, the big one by object
    np.testing.assert_allclose(qtn.state_vector(circuit, qubit_order=q, dtype=np.complex128, plan_cache=False),
                               reference_state(circuit, q), atol=1e-9)
