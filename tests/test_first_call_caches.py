"""The first call's shortcuts on long circuits: power gates keyed by their exact
parameters, pieces placed once per (gate, qubits), repeated fused blocks computed once.
Each is checked against Cirq's unitaries and simulator."""

from __future__ import annotations

import cirq
import numpy as np

import qtn
from qtn import compiler, fusion


def _compiled(circuit: cirq.Circuit, qubits) -> compiler.CompiledCircuit:
    return compiler.compile_ops(circuit.all_operations(), qubits, np.complex128, channels=False)


def _dense(piece: compiler.Piece) -> np.ndarray:
    """A one-qubit piece as its 2x2 matrix (a diagonal piece stores its diagonal)."""
    return np.diag(piece.data) if piece.kind == compiler.DIAGONAL else piece.data.reshape(2, 2)


def test_power_gates_equal_by_period_get_their_own_unitary():
    # Cirq calls Z**0.25 and Z**2.25 equal (the exponent's period); their unitaries differ
    # in rounding only, and each op gets its own, exactly as Cirq computes it
    q = cirq.LineQubit.range(2)
    gates = [cirq.Z**0.25, cirq.Z**2.25, cirq.rx(0.3), cirq.rx(0.3 + 2e-16), cirq.X**0.5]
    assert gates[0] == gates[1]
    cc = _compiled(cirq.Circuit(g.on(q[0]) for g in gates), q)
    for op, gate in zip(cc.ops, gates):
        (piece,) = op.pieces
        np.testing.assert_array_equal(_dense(piece), cirq.unitary(gate))


def test_equal_gates_share_pieces_per_qubits():
    q = cirq.LineQubit.range(3)
    layer = [cirq.rx(0.7).on(q[0]), cirq.CZ(q[0], q[1]), (cirq.X**0.5).on(q[2]), cirq.rx(0.7).on(q[1])]
    ops = compiler.compile_ops(layer * 3, q, np.complex128, channels=False).ops
    assert [op.positions for op in ops] == [(0,), (0, 1), (2,), (1,)] * 3
    for i in range(4):
        assert ops[i].pieces is ops[i + 4].pieces is ops[i + 8].pieces  # placed once
    assert ops[0].pieces is not ops[3].pieces  # same gate, other qubit: its own positions
    assert ops[0].pieces[0].data is ops[3].pieces[0].data  # ... and the same tensor
    assert ops[3].pieces[0].positions == (1,)


def _repeated_circuit(n: int, layers: int, seed: int) -> cirq.Circuit:
    rng = np.random.default_rng(seed)
    q = cirq.LineQubit.range(n)
    layer = []
    for _ in range(3 * n):
        a, b = rng.choice(n, 2, replace=False)
        kind = rng.integers(4)
        if kind == 0:
            layer.append(cirq.rx(float(rng.uniform(0, 6))).on(q[a]))
        elif kind == 1:
            layer.append(cirq.CZPowGate(exponent=float(rng.uniform(0, 2))).on(q[a], q[b]))
        elif kind == 2:
            layer.append(cirq.CNOT(q[a], q[b]))
        else:
            layer.append(cirq.H(q[a]))
    return cirq.Circuit(layer * layers)


def test_repeated_blocks_computed_once_match_each_block():
    cc = _compiled(_repeated_circuit(6, 5, seed=3), cirq.LineQubit.range(6))
    gates = fusion.gates_of(cc)
    blocks = fusion.group_commuting(gates, 3, 8)
    made = fusion.block_tensors(gates, blocks)
    assert len(made) == len(blocks)
    for b, t in zip(blocks, made):
        np.testing.assert_array_equal(t, fusion.block_tensor(gates, b))
        # and each is the product of its gates, as Cirq multiplies them
        q = [cirq.LineQubit(p) for p in b.positions]
        ops = []
        for g in b.members:
            gate = gates[g]
            k = len(gate.positions)
            mat = np.diag(gate.data.reshape(-1)) if gate.diagonal else gate.data.reshape(2**k, 2**k)
            ops.append(cirq.MatrixGate(mat).on(*(cirq.LineQubit(p) for p in gate.positions)))
        want = cirq.Circuit(ops).unitary(qubit_order=q)
        got = np.diag(t.reshape(-1)) if b.diagonal else t.reshape(2 ** len(q), 2 ** len(q))
        np.testing.assert_allclose(got, want, atol=1e-12)
    assert len({id(t) for t in made}) < len(blocks)  # the repeats share one array


def test_repeated_circuit_state_vector_matches_cirq():
    for seed in range(3):
        circuit = _repeated_circuit(7, 6, seed)
        order = cirq.LineQubit.range(7)
        want = cirq.Simulator(dtype=np.complex128).simulate(circuit, qubit_order=order).final_state_vector
        got = qtn.state_vector(circuit, qubit_order=order, dtype=np.complex128, plan_cache=qtn.PlanCache())
        np.testing.assert_allclose(got, want, atol=1e-10)
