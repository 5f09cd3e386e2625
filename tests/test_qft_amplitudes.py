"""QFT amplitudes (diagonal-gate hyperedges) against cirq.Simulator, sliced and unsliced,
and the NumPy backend's broadcast path for k = 1 products."""

from __future__ import annotations

import cirq
import numpy as np
import pytest

import qtn
from qtn.backends.base import get_backend
from qtn.generators import qft


@pytest.mark.parametrize("shapes", [((9, 7, 1), (9, 1, 5)), ((7, 1), (4, 1, 3)), ((4, 6, 1), (1, 3)),
                                    ((2, 3, 5, 1), (2, 3, 1, 4)), ((3, 1, 1), (3, 1, 1))])
def test_k1_products_match_matmul(shapes):
    rng = np.random.default_rng(len(shapes[0]))
    a, b = ((rng.standard_normal(s) + 1j * rng.standard_normal(s)).astype(np.complex64) for s in shapes)
    want = np.matmul(a, b)
    be = get_backend("numpy")
    np.testing.assert_allclose(be.matmul(a, b), want, rtol=1e-6, atol=1e-6)
    out = np.empty(want.shape, np.complex64)
    assert be.matmul(a, b, out=out) is out
    np.testing.assert_allclose(out, want, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("backend", ["numpy", "opencl"])
@pytest.mark.parametrize("n,max_memory", [(12, None), (16, None), (14, 2**13)])
def test_qft_amplitudes_match_cirq(n, max_memory, backend):
    c = qft(n)
    qubits = sorted(c.all_qubits())
    want = cirq.Simulator(dtype=np.complex128).simulate(c, qubit_order=qubits).final_state_vector
    rng = np.random.default_rng(n)
    bits = [int(b) for b in rng.integers(0, 2**n, 3)]
    got = qtn.amplitudes(c, bits, qubit_order=qubits, backend=backend, max_memory=max_memory, plan_cache=None)
    np.testing.assert_allclose(got, want[bits], atol=2e-5)
    # (the QFT's amplitude network falls apart into scalars: slicing is tested with a
    # network that stays hard, in tests/test_wire_relabel.py)


def test_random_circuit_hyper_plan_matches_cirq():
    q = cirq.LineQubit.range(10)
    c = cirq.testing.random_circuit(q, n_moments=20, op_density=0.9, random_state=3)
    want = cirq.Simulator(dtype=np.complex128).simulate(c, qubit_order=q).final_state_vector
    bits = [0, 5, 777, 1023]
    for max_memory in (None, 2**10):
        got = qtn.amplitudes(c, bits, qubit_order=q, optimize="hyper", max_memory=max_memory, plan_cache=None)
        np.testing.assert_allclose(got, want[bits], atol=2e-5)
