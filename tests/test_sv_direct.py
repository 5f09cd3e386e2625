"""The Schrödinger order applied directly (qtn.sv_direct) and the memos of repeated calls:
compiled circuits, fused blocks and plan choices kept, and forgotten when they must be."""

import cirq
import numpy as np
import pytest

import qtn
from qtn import compiler
from qtn.initial_state import InitialState
from qtn.sv_direct import contract_direct


def _random(n, depth, seed):
    return cirq.testing.random_circuit(qubits=n, n_moments=depth, op_density=0.9, random_state=seed)


@pytest.mark.parametrize("seed", range(4))
def test_direct_state_amplitudes_and_open_qubits_match_cirq(seed):
    c = _random(6, 25, seed)
    q = sorted(c.all_qubits())
    ref = cirq.final_state_vector(c, qubit_order=q, dtype=np.complex128).reshape((2,) * len(q))
    cc = compiler.compile_circuit(c, q)
    np.testing.assert_allclose(contract_direct(cc, range(len(q)), None, None), ref, atol=2e-5)
    bits = [int(b) for b in np.random.default_rng(seed).integers(0, 2, len(q))]
    np.testing.assert_allclose(contract_direct(cc, [], bits, None), ref[tuple(bits)], atol=2e-5)
    # qubits 4 and 1 open, in that order; the others closed on their bits
    index = tuple(slice(None) if p in (1, 4) else bits[p] for p in range(len(q)))
    np.testing.assert_allclose(contract_direct(cc, [4, 1], bits, None), ref[index].T, atol=2e-5)


def test_direct_run_from_a_product_start_matches_cirq():
    c = _random(5, 20, 7)
    q = sorted(c.all_qubits())
    rng = np.random.default_rng(3)
    vecs = [v / np.linalg.norm(v) for v in rng.standard_normal((5, 2)) + 1j * rng.standard_normal((5, 2))]
    start = vecs[0]
    for v in vecs[1:]:
        start = np.kron(start, v)
    ref = cirq.final_state_vector(c, qubit_order=q, initial_state=start.astype(np.complex64), dtype=np.complex128)
    initial = InitialState(tuple(((p,), vecs[p]) for p in range(5)))
    got = contract_direct(compiler.compile_circuit(c, q), range(5), None, initial)
    np.testing.assert_allclose(got.reshape(-1), ref, atol=2e-5)


def test_repeated_call_reuses_and_a_changed_circuit_is_recompiled():
    q = cirq.LineQubit.range(4)
    c = cirq.Circuit(cirq.H.on_each(*q), cirq.CNOT(q[0], q[1]), cirq.CZ(q[2], q[3]))
    cache = qtn.PlanCache()
    first = qtn.state_vector(c, plan_cache=cache)
    assert compiler.compile_circuit(c, None) is compiler.compile_circuit(c, None)
    hits = cache.info()["hits"]
    np.testing.assert_allclose(qtn.state_vector(c, plan_cache=cache), first)
    assert cache.info()["hits"] > hits  # the remembered choice counts its plans as hits
    c.append(cirq.X(q[3]))  # mutating the circuit must not hit the old compiled form
    np.testing.assert_allclose(qtn.state_vector(c, plan_cache=cache), cirq.final_state_vector(c, dtype=np.complex64),
                               atol=1e-6)


def test_cleared_cache_forgets_remembered_choices():
    c = _random(5, 15, 2)
    cache = qtn.PlanCache()
    qtn.state_vector(c, plan_cache=cache)
    cache.clear()
    qtn.state_vector(c, plan_cache=cache)
    assert cache.info()["misses"] > 0 and cache.info()["size"] > 0  # planned again, not served from the memo


def test_parameter_values_key_the_compiled_circuit():
    import sympy

    q = cirq.LineQubit.range(2)
    t = sympy.Symbol("t")
    c = cirq.Circuit(cirq.rx(t).on(q[0]), cirq.CNOT(*q))
    for value in (0.3, 1.1, 0.3):
        ref = cirq.final_state_vector(cirq.resolve_parameters(c, {t: value}), dtype=np.complex64)
        np.testing.assert_allclose(qtn.state_vector(c, param_resolver={t: value}), ref, atol=1e-6)
