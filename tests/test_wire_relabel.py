"""SWAPs as wire relabels and fixed ends sliced into their hyperedges, against cirq.Simulator
and np.einsum: amplitudes, open networks, expectation values (doubled networks), both dtypes."""

from __future__ import annotations

import cirq
import numpy as np
import pytest

import qtn
from qtn.compiler import compile_circuit, wire_permutation
from qtn.generators import qft
from qtn.ket import fix_ends, open_network


def _einsum(net) -> np.ndarray:
    """The network contracted by one np.einsum (the reference: no plan, no lowering)."""
    labels = sorted({i for ix in net.indices for i in ix}, key=lambda x: (x < 0, abs(x)))
    letter = {lab: k for k, lab in enumerate(labels)}
    operands: list = []
    for a, ix in zip(net.arrays, net.indices):
        operands += [np.asarray(a, np.complex128), [letter[i] for i in ix]]
    return np.einsum(*operands, [letter[o] for o in net.output], optimize=True) * net.scalar


def _swappy_circuit(n: int, seed: int) -> cirq.Circuit:
    """Random layers of rotations, CZ powers, SWAPs and a 3-qubit wire cycle, ending in diagonal gates."""
    rng = np.random.default_rng(seed)
    q = cirq.LineQubit.range(n)
    c = cirq.Circuit()
    for layer in range(4):
        c.append(cirq.ry(float(rng.uniform(0, 3))).on(x) for x in q)
        a, b = (int(v) for v in rng.choice(n, 2, replace=False))
        c.append(cirq.SWAP(q[a], q[b]))
        c.append(cirq.CZ(q[i], q[i + 1]) ** float(rng.uniform(0.1, 0.9)) for i in range(layer % 2, n - 1, 2))
        trio = [q[int(v)] for v in rng.choice(n, 3, replace=False)]
        c.append(cirq.QubitPermutationGate([1, 2, 0]).on(*trio))
    c.append(cirq.CZ(q[i], q[i + 1]) ** 0.3 for i in range(n - 1))  # every wire ends in a hyperedge
    c.append(cirq.SWAP(q[0], q[n - 1]))
    return c


def test_wire_permutation_finds_swaps_and_cycles_only():
    assert wire_permutation(cirq.unitary(cirq.SWAP).reshape((2,) * 4)) == (1, 0)
    # cirq: qubit i moves to position permutation[i]; output 0 then carries input 2
    assert wire_permutation(cirq.unitary(cirq.QubitPermutationGate([1, 2, 0])).reshape((2,) * 6)) == (2, 0, 1)
    for gate in (cirq.CNOT, cirq.ISWAP, cirq.SWAP**0.5, cirq.IdentityGate(2), cirq.CZ):
        assert wire_permutation(cirq.unitary(gate).reshape((2,) * 4)) is None
    assert wire_permutation(-cirq.unitary(cirq.SWAP).reshape((2,) * 4)) is None  # a phase is no relabel


@pytest.mark.parametrize("dtype,atol", [(np.complex64, 2e-5), (np.complex128, 1e-10)])
@pytest.mark.parametrize("seed", [0, 1])
def test_relabelled_network_matches_cirq(seed, dtype, atol):
    n = 7
    c = _swappy_circuit(n, seed)
    q = sorted(c.all_qubits())
    want = cirq.Simulator(dtype=np.complex128).simulate(c, qubit_order=q).final_state_vector
    cc = compile_circuit(c, q, None, dtype)
    # open network: no tensor for any SWAP or cycle
    net = open_network(cc, range(n))
    gates = sum(1 for op in cc.ops for p in op.pieces if p.wires is None)
    assert len(net.arrays) == n + gates
    np.testing.assert_allclose(_einsum(net).reshape(-1), want, atol=atol)
    # closed on bitstrings: the fixed ends sliced into every tensor of the hyperedge
    rng = np.random.default_rng(seed)
    bits = [int(b) for b in rng.integers(0, 2**n, 4)]
    for b in bits:
        closed = open_network(cc, (), [(b >> (n - 1 - p)) & 1 for p in range(n)])
        assert not closed.output
        assert len(closed.arrays) == len(net.arrays)
        np.testing.assert_allclose(_einsum(closed), want[b], atol=atol)
    got = qtn.amplitudes(c, bits, qubit_order=q, dtype=dtype, plan_cache=None)
    np.testing.assert_allclose(got, want[bits], atol=atol)
    one = qtn.amplitudes(c, bits[:1], qubit_order=q, dtype=dtype, plan_cache=None)  # unbatched path
    np.testing.assert_allclose(one, want[bits[:1]], atol=atol)


@pytest.mark.parametrize("dtype,atol", [(np.complex64, 2e-5), (np.complex128, 1e-10)])
def test_expectation_through_swaps_matches_cirq(dtype, atol):
    c = _swappy_circuit(6, 2)
    q = sorted(c.all_qubits())
    obs = [cirq.Z(q[0]) * cirq.Z(q[5]), cirq.X(q[1]), cirq.Y(q[2]) * cirq.X(q[3]) + 0.5 * cirq.Z(q[4])]
    psi = cirq.Simulator(dtype=np.complex128).simulate(c, qubit_order=q).final_state_vector
    want = [o.expectation_from_state_vector(psi, {x: i for i, x in enumerate(q)}) for o in
            (cirq.PauliSum.wrap(o) for o in obs)]
    got = qtn.expectation(c, obs, qubit_order=q, dtype=dtype, plan_cache=None)
    np.testing.assert_allclose(got, want, atol=atol)


def test_fix_ends_slices_every_holder():
    rng = np.random.default_rng(5)
    a = rng.standard_normal((2, 3, 2)) + 1j * rng.standard_normal((2, 3, 2))
    d = rng.standard_normal(2) + 0j
    e = rng.standard_normal((2, 2)) + 0j
    arrays, indices = [a, d, e], [(0, 1, 2), (2,), (2, 0)]
    # reference: the basis vector <1| on label 2 as a tensor of its own
    want = np.einsum("abc,c,ca,c->b", a, d, e, np.eye(2)[1])
    fix_ends(arrays, indices, {2: 1})
    assert indices == [(0, 1), (), (0,)]
    assert arrays[1].shape == () and arrays[1] == d[1]
    np.testing.assert_allclose(np.einsum("ab,,a->b", *arrays), want)


def test_qft_amplitude_network_falls_apart():
    """Every QFT wire ends in controlled phases (hyperedges) after the SWAPs: with the ends
    sliced and the SWAPs relabelled, the amplitude is a product of per-qubit scalars."""
    n = 20
    c = qft(n)
    q = sorted(c.all_qubits())
    cc = compile_circuit(c, q, None, np.complex64)
    keys = {open_network(cc, (), [(b >> (n - 1 - p)) & 1 for p in range(n)]).structure_key() for b in (0, 5, 2**n - 1)}
    assert len(keys) == 1  # one structure (one plan) for every bitstring
    plan = qtn.plan(c, qubit_order=q, plan_cache=None)
    assert plan.flops == 0 and not plan.steps


def test_qft_then_hadamards_sliced_matches_cirq():
    """A layer of H after the QFT keeps its wires' hyperedges open to the end: the network
    stays hard (a dense web of controlled phases) and is sliced under a small budget."""
    n = 14
    c = qft(n)
    q = sorted(c.all_qubits())
    c.append(cirq.H.on_each(q))
    want = cirq.Simulator(dtype=np.complex128).simulate(c, qubit_order=q).final_state_vector
    bits = [int(b) for b in np.random.default_rng(3).integers(0, 2**n, 3)]
    got = qtn.amplitudes(c, bits, qubit_order=q, max_memory=2**13, plan_cache=None)
    np.testing.assert_allclose(got, want[bits], atol=2e-5)
    plan = qtn.plan(c, qubit_order=q, max_memory=2**13, plan_cache=None)
    assert plan.n_slices > 1  # the budget does slice it
