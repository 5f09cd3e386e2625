"""The rewritten gate list of the native run (qtn.sv_rewrite), against Cirq and Qiskit."""

import cirq
import numpy as np
import pytest
import qiskit
from qiskit.quantum_info import Statevector

import qtn
from qtn import compiler, svgate
from qtn.fusion import gates_of
from qtn.initial_state import InitialState
from qtn.sv_direct import contract_direct
from qtn.sv_native import native_program, run_native
from qtn.sv_rewrite import rewrite


@pytest.fixture
def kernel():
    if not svgate.available():
        pytest.skip("no C compiler for the svgate kernels")


def _swap_circuit(n, depth, seed, decompose):
    """Random rotations, CZ phases and SWAPs (as gates, or as cirq decomposes them into
    CZs and rotations, with rotations on the pair in between)."""
    rng = np.random.default_rng(seed)
    q = cirq.LineQubit.range(n)
    ops = [cirq.PhasedXPowGate(phase_exponent=rng.uniform(), exponent=rng.uniform()).on(x) for x in q[::2]]
    for _ in range(depth):
        a, b, c = (q[int(i)] for i in rng.choice(n, 3, replace=False))
        pick = int(rng.integers(0, 6))
        if pick == 0:
            ops.append(cirq.PhasedXPowGate(phase_exponent=rng.uniform(), exponent=rng.uniform()).on(a))
        elif pick == 1:
            ops.append(cirq.CZPowGate(exponent=rng.uniform()).on(a, b))
        elif pick == 2:
            ops.append(cirq.CCX(a, b, c))
        elif pick == 3:
            ops.append(cirq.rz(rng.uniform(0, 6)).on(a))
        else:
            swap = [cirq.SWAP(a, b)]
            ops += cirq.decompose(swap) if decompose else swap
            if rng.uniform() < 0.5:
                ops.append(cirq.ry(rng.uniform(0, 6)).on(b))
    return cirq.Circuit(ops)


@pytest.mark.parametrize("n,seed", [(3, 0), (5, 1), (9, 2), (14, 3)])
@pytest.mark.parametrize("decompose", [False, True])
@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
def test_native_run_with_swaps_matches_cirq(kernel, n, seed, decompose, dtype, monkeypatch):
    from qtn import sv_native

    # search for SWAPs on these small states too (by default only from 2^15 amplitudes)
    monkeypatch.setattr(sv_native, "SWAP_SEARCH_SECONDS", 0.0)
    c = _swap_circuit(n, 10 + 3 * n, seed, decompose)
    q = sorted(c.all_qubits())
    ref = cirq.Simulator(dtype=np.complex128).simulate(c, qubit_order=q).final_state_vector
    cc = compiler.compile_circuit(c, q, dtype=dtype)
    prog = native_program(cc)
    got = run_native(prog).reshape(-1) * cc.phase
    np.testing.assert_allclose(got, ref, atol=3e-5 if dtype == np.complex64 else 1e-10)
    if n > 2 and seed:  # some SWAP was relabelled (a permutation at the end)
        assert prog.final_axes is not None


def test_a_decomposed_swap_costs_no_pass_and_leading_gates_fold_into_the_start(kernel):
    q = cirq.LineQubit.range(4)
    c = cirq.Circuit(cirq.H.on_each(*q), cirq.rx(0.3).on(q[1]), cirq.decompose(cirq.SWAP(q[0], q[3])),
                     cirq.decompose(cirq.SWAP(q[1], q[2])))
    cc = compiler.compile_circuit(c, q)
    rw = rewrite(gates_of(cc), 4, cc.dtype)
    assert rw.final == (3, 2, 1, 0)
    assert all(m is not None for m in rw.start)
    # what is left of the SWAPs is one-qubit gates at most (no two-qubit gate applied)
    assert all(len(g.positions) <= 1 for g in rw.gates)
    got = run_native(native_program(cc)).reshape(-1) * cc.phase
    np.testing.assert_allclose(got, cirq.final_state_vector(c, qubit_order=q), atol=3e-6)


def test_a_product_start_state_goes_through_the_folded_gates(kernel):
    rng = np.random.default_rng(7)
    n = 6
    q = cirq.LineQubit.range(n)
    c = _swap_circuit(n, 25, 4, decompose=True)
    vectors = [(rng.normal(size=2) + 1j * rng.normal(size=2)) for _ in range(n)]
    vectors = [v / np.linalg.norm(v) for v in vectors]
    start = vectors[0]
    for v in vectors[1:]:
        start = np.kron(start, v)
    ref = cirq.final_state_vector(c, initial_state=start.astype(np.complex64), qubit_order=q, dtype=np.complex128)
    cc = compiler.compile_circuit(c, q, dtype=np.complex128)
    initial = InitialState(tuple(((p,), vectors[p]) for p in range(n)))
    got = contract_direct(cc, range(n), None, initial)
    np.testing.assert_allclose(got.reshape(-1), ref, atol=1e-6)


def test_qiskit_circuit_with_swaps_matches_statevector(kernel):
    rng = np.random.default_rng(11)
    qc = qiskit.QuantumCircuit(7)
    for _ in range(40):
        a, b = (int(x) for x in rng.choice(7, 2, replace=False))
        pick = int(rng.integers(0, 4))
        if pick == 0:
            qc.swap(a, b)
        elif pick == 1:
            qc.cx(a, b)
        elif pick == 2:
            qc.u(*rng.uniform(0, 6, 3), a)
        else:
            qc.cp(rng.uniform(0, 6), a, b)
    ref = Statevector(qc).data  # qtn answers a Qiskit circuit in Qiskit's own bit order
    got = qtn.state_vector(qc, plan_cache=qtn.PlanCache())
    np.testing.assert_allclose(got, ref, atol=3e-5)
