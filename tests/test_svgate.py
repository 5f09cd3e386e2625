"""The in-place state-vector kernels (qtn/data/native/svgate.c, compiled here like
permute.c) against np.einsum, and the direct run on them (qtn.sv_native, with the
commuting fusion of qtn.fusion) against cirq.Simulator: random matrices, random bit
placements with controls high and low, complex64 and complex128, both qubit orders."""

import cirq
import numpy as np
import pytest

import qtn
from qtn import compiler, fusion, statevector, svgate
from qtn.sv_direct import contract_direct
from qtn.sv_native import native_program, predicted_seconds, run_native

LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _einsum_dense(state, n, targets, matrix):
    """``matrix`` on bits ``targets`` of a flat state, by np.einsum (bit b is axis n-1-b)."""
    k = len(targets)
    axes = [n - 1 - b for b in targets]
    ins = list(LETTERS[:n])
    outs = list(ins)
    new = LETTERS[n:n + k]
    for a, letter in zip(axes, new):
        outs[a] = letter
    spec = f"{''.join(new)}{''.join(ins[a] for a in axes)},{''.join(ins)}->{''.join(outs)}"
    return np.einsum(spec, matrix.reshape((2,) * (2 * k)), state.reshape((2,) * n)).reshape(-1)


def _bits_of(index, bits):
    return np.stack([(index >> b) & 1 for b in bits]) if bits else np.zeros((0, index.size), int)


@pytest.fixture(scope="module")
def kernel():
    if not svgate.available():
        pytest.skip(f"no C compiler: {qtn.native.build_error('svgate')}")


@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
def test_dense_kernel_matches_einsum_with_and_without_controls(kernel, dtype):
    rng = np.random.default_rng(0 if dtype == np.complex64 else 1)
    tol = 2e-4 if dtype == np.complex64 else 1e-11
    for n, k, nc in [(1, 1, 0), (3, 3, 0), (5, 2, 3), (9, 4, 2), (10, 5, 1), (12, 6, 0), (15, 1, 4), (16, 3, 2)]:
        bits = [int(b) for b in rng.permutation(n)]
        if n >= 9:  # a target on the lowest bit and a control on the highest, the hard placements
            bits = [0] + [b for b in bits if b not in (0, n - 1)][:k - 1] + [n - 1] + \
                [b for b in bits if b not in (0, n - 1)][k - 1:]
        targets, controls = bits[:k], bits[k:k + nc]
        values = [int(v) for v in rng.integers(0, 2, len(controls))]
        state = (rng.standard_normal(2**n) + 1j * rng.standard_normal(2**n)).astype(dtype)
        m = rng.standard_normal((2 ** len(targets),) * 2) + 1j * rng.standard_normal((2 ** len(targets),) * 2)
        want = _einsum_dense(state.astype(np.complex128), n, targets, m)
        if controls:
            index = np.arange(2**n)
            on = np.all(_bits_of(index, controls) == np.array(values)[:, None], axis=0)
            want = np.where(on, want, state)
        got = state.copy()
        svgate.apply_dense(got, targets, m, controls, values)
        np.testing.assert_allclose(got, want, atol=tol * np.abs(want).max(), err_msg=f"{n=} {targets=} {controls=}")


@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
def test_diagonal_kernel_matches_a_gathered_table(kernel, dtype):
    rng = np.random.default_rng(2)
    for n, bits in [(1, [0]), (6, []), (8, [0, 1, 2]), (11, [3, 10, 0]), (14, list(range(14))), (18, [17, 5, 6, 7])]:
        state = (rng.standard_normal(2**n) + 1j * rng.standard_normal(2**n)).astype(dtype)
        table = rng.standard_normal(2 ** len(bits)) + 1j * rng.standard_normal(2 ** len(bits))
        index = np.arange(2**n)
        j = sum(_bits_of(index, [b])[0] << t for t, b in enumerate(sorted(bits))) if bits else np.zeros(2**n, int)
        got = state.copy()
        svgate.apply_diagonal(got, bits, table)
        np.testing.assert_allclose(got, state * table.astype(dtype)[j], rtol=1e-5 if dtype == np.complex64 else 1e-12)


def test_kernel_arguments_are_checked(kernel):
    state = np.zeros(8, np.complex64)
    with pytest.raises(ValueError, match="distinct"):
        svgate.apply_dense(state, [0, 0], np.eye(4))
    with pytest.raises(ValueError, match="distinct"):
        svgate.apply_dense(state, [3], np.eye(2))
    with pytest.raises(ValueError, match="matrix must be"):
        svgate.apply_dense(state, [0, 1], np.eye(2))
    with pytest.raises(ValueError, match="control_values"):
        svgate.apply_dense(state, [0], np.eye(2), [1], [2])
    with pytest.raises(TypeError, match="complex64 or complex128"):
        svgate.apply_dense(np.zeros(8), [0], np.eye(2))
    with pytest.raises(ValueError, match="power of two"):
        svgate.apply_diagonal(np.zeros(6, np.complex64), [0], np.ones(2))
    with pytest.raises(ValueError, match="entries"):
        svgate.apply_diagonal(state, [0, 2], np.ones(2))
    with pytest.raises(ValueError, match="power of two"):
        svgate.apply_dense(np.zeros(0, np.complex64), [0], np.eye(2))
    with pytest.raises(TypeError, match="targets must be a sequence of int"):
        svgate.apply_dense(state, [0.0], np.eye(2))
    with pytest.raises(TypeError, match="controls must be a sequence of int"):
        svgate.apply_dense(state, [0], np.eye(2), [1.5])
    with pytest.raises(TypeError, match="bits must be a sequence of int"):
        svgate.apply_diagonal(state, [0.0], np.ones(2))


def _circuit(n, depth, seed, controlled=True):
    """Random one- and two-qubit gates, controlled phases (a QFT-like run of diagonals)
    and, with ``controlled``, gates with several controls on high and low qubits."""
    rng = np.random.default_rng(seed)
    q = cirq.LineQubit.range(n)
    ops = []
    for _ in range(depth):
        a, b, c = (q[int(i)] for i in rng.choice(n, 3, replace=False))
        pick = int(rng.integers(0, 7))
        if pick == 0:
            ops.append(cirq.PhasedXPowGate(phase_exponent=rng.uniform(), exponent=rng.uniform()).on(a))
        elif pick == 1:
            ops.append(cirq.CZPowGate(exponent=rng.uniform()).on(a, b))
        elif pick == 2:
            ops += [cirq.CZPowGate(exponent=rng.uniform()).on(a, x) for x in q if x != a]
        elif pick == 3:
            ops.append(cirq.FSimGate(rng.uniform(), rng.uniform()).on(a, b))
        elif pick == 4:
            ops.append(cirq.rz(rng.uniform(0, 6)).on(a))
        elif pick == 5 and controlled:
            ops.append(cirq.X(a).controlled_by(b, c, control_values=[int(rng.integers(0, 2)), 1]))
        else:
            ops.append(cirq.H(a))
    return cirq.Circuit(ops)


@pytest.mark.parametrize("n,seed", [(3, 0), (7, 1), (11, 2), (16, 3)])
@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
def test_native_run_matches_cirq_in_both_qubit_orders(kernel, n, seed, dtype):
    c = _circuit(n, 40 + 3 * n, seed)
    q = sorted(c.all_qubits())
    for order in (q, q[::-1]):
        ref = cirq.Simulator(dtype=np.complex128).simulate(c, qubit_order=order).final_state_vector
        cc = compiler.compile_circuit(c, order, dtype=dtype)
        for dense, diag in [(4, 15), (2, 3), (5, 12)]:
            got = run_native(native_program(cc, None, dense, diag)) * cc.phase
            np.testing.assert_allclose(got.reshape(-1), ref, atol=3e-5 if dtype == np.complex64 else 1e-10)
        # the NumPy path (where no compiler works) gives the same state
        np.testing.assert_allclose(contract_direct(cc, range(n), None, None, use_native=False).reshape(-1), ref,
                                   atol=3e-5 if dtype == np.complex64 else 1e-10)


def test_commuting_fusion_keeps_a_qft_row_of_phases_in_one_diagonal():
    n = 12
    q = cirq.LineQubit.range(n)
    c = cirq.Circuit(cirq.decompose(cirq.qft(*q, without_reverse=True)))
    gates = fusion.gates_of(compiler.compile_circuit(c, q))
    blocks = fusion.group_commuting(gates, 4, 12)
    diagonal = [b for b in blocks if b.diagonal]
    assert max(len(b.positions) for b in diagonal) >= 8  # a row's phases, not cut at 4 qubits
    assert len(blocks) < len(fusion.group(gates, 4))
    covered = sorted(g for b in blocks for g in b.members)
    assert covered == list(range(len(gates)))  # every gate once


def test_repeated_calls_plan_the_network_once_they_have_cost_as_much(kernel, monkeypatch):
    c = _circuit(10, 60, 5, controlled=False)
    q = sorted(c.all_qubits())
    cc = compiler.compile_circuit(c, q)
    # planning a network "costs" a little more than one run is predicted to take: the
    # first call leaves it unplanned, and once the runs have taken that long a call plans it
    run_s = predicted_seconds(native_program(cc))
    monkeypatch.setattr(statevector, "TRIVIAL_SECONDS", 0.0)
    monkeypatch.setattr(statevector, "PLAN_SECONDS_PER_GATE", 1.1 * run_s / sum(len(o.pieces) for o in cc.ops))
    cache = qtn.PlanCache()
    ref = cirq.final_state_vector(c, qubit_order=q, dtype=np.complex128)
    unplanned = []
    for _ in range(500):
        np.testing.assert_allclose(qtn.state_vector(c, qubit_order=q, plan_cache=cache), ref, atol=3e-5)
        (_, _, plan, spent), = cc.__dict__["_choices"].values()
        unplanned.append(any(name == statevector.NOT_PLANNED_YET for name, _ in plan.alternatives))
        if not unplanned[-1]:
            break
    assert unplanned[0] and not unplanned[-1], unplanned[:3]
    assert spent is None  # planned once: no more accounting


def _full(n, positions, tensor, diagonal):
    """A gate or block tensor as a 2^n matrix (qubit p is axis p, big-endian)."""
    k = len(positions)
    rest = [p for p in range(n) if p not in positions]
    if diagonal:
        t = np.diag(tensor.reshape(-1)).reshape((2,) * (2 * k))
    else:
        t = tensor
    u = np.einsum(t.reshape(2**k, 2**k), [0, 1], np.eye(2 ** len(rest)), [2, 3], [0, 2, 1, 3]).reshape(2**n, 2**n)
    order = list(positions) + rest  # u's axes: positions first
    u = u.reshape((2,) * (2 * n))
    inv = list(np.argsort(order))
    return u.transpose(inv + [n + a for a in inv]).reshape(2**n, 2**n)


@pytest.mark.parametrize("seed", range(12))
def test_commuting_fusion_product_equals_the_circuit(seed):
    rng = np.random.default_rng(seed)
    n = 5
    gates = []
    for _ in range(30):
        k = int(rng.integers(1, 4))
        pos = tuple(int(p) for p in rng.choice(n, k, replace=False))
        if rng.uniform() < 0.5:
            gates.append(fusion.Gate(pos, True, np.exp(1j * rng.uniform(0, 6, (2,) * k))))
        else:
            m = np.linalg.qr(rng.standard_normal((2**k, 2**k)) + 1j * rng.standard_normal((2**k, 2**k)))[0]
            gates.append(fusion.Gate(pos, False, m.reshape((2,) * (2 * k))))
    want = np.eye(2**n)
    for g in gates:
        want = _full(n, g.positions, g.data, g.diagonal) @ want
    for dense, diag in [(2, 2), (3, 5), (4, 4)]:
        got = np.eye(2**n)
        for b in fusion.group_commuting(gates, dense, diag):
            widest = max(len(gates[g].positions) for g in b.members)  # a wider gate is a block alone
            assert len(b.positions) <= max(diag if b.diagonal else dense, widest)
            got = _full(n, b.positions, fusion.block_tensor(gates, b), b.diagonal) @ got
        np.testing.assert_allclose(got, want, atol=1e-10)


def test_without_a_compiler_the_numpy_path_runs(monkeypatch):
    # svgate as it is where no C compiler works (native.load returned None)
    monkeypatch.setattr(svgate, "_lib", lambda: None)
    assert not svgate.available()
    c = _circuit(9, 50, 8)
    q = sorted(c.all_qubits())
    ref = cirq.final_state_vector(c, qubit_order=q, dtype=np.complex128)
    np.testing.assert_allclose(qtn.state_vector(c, qubit_order=q, plan_cache=qtn.PlanCache()), ref, atol=3e-5)
    with pytest.raises(RuntimeError, match="not built"):
        svgate.apply_diagonal(np.ones(4, np.complex64), [0], np.ones(2))


def test_forked_workers_run_the_threaded_kernels(tmp_path):
    """A forked child of a process that ran a threaded kernel pass (16 qubits) computes
    its own state vectors (GNU OpenMP's pool does not survive fork: it used to hang)."""
    import subprocess
    import sys
    import textwrap

    script = tmp_path / "fork.py"
    script.write_text(textwrap.dedent("""
        import multiprocessing as mp
        import cirq, numpy as np, qtn

        def err(seed):
            c = cirq.testing.random_circuit(16, 5, 0.9, random_state=seed)
            q = sorted(c.all_qubits())
            ref = cirq.final_state_vector(c, qubit_order=q, dtype=np.complex128)
            return float(np.abs(qtn.state_vector(c, qubit_order=q, dtype=np.complex128) - ref).max())

        if __name__ == "__main__":
            assert err(0) < 1e-9
            with mp.get_context("fork").Pool(2) as pool:
                print(max(pool.map(err, [1, 2])))
    """))
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert float(proc.stdout.split()[-1]) < 1e-9
