"""Batched GEMMs on strided views (qtn.strided) and the lowering that prices them (issue 10).

Against np.einsum / NumPy references on random and hand-picked operands, random
networks on every backend, and grid-circuit state vectors against Cirq.
"""

from __future__ import annotations

import cirq
import numpy as np
import pytest

import qtn
from qtn import layout, strided
from qtn.execute import contract
from qtn.planning import plan_from_path
from qtn.strided import StridedOperand

from helpers import einsum_reference, reference_state, tolerance
from test_engine_speed import _random_network, _random_path


def _c(rng, *shape, dtype=np.complex64):
    return (rng.normal(size=shape) + 1j * rng.normal(size=shape)).astype(dtype)


@pytest.fixture
def numpy_backend(monkeypatch):
    # both roles as batches of views, small inner runs
    monkeypatch.setattr(strided, "SIDES", ("a", "b"))
    monkeypatch.setattr(strided, "MIN_INNER", 8)
    return qtn.get_backend("numpy")


@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
@pytest.mark.parametrize("inner_last", [True, False])
def test_a_with_summed_labels_in_the_middle(numpy_backend, dtype, inner_last):
    rng = np.random.default_rng(1)
    # A stored (m1, k, m2) [m2 last: per m1 a column-major (m2, k), BLAS' T form] or
    # (m2, m1, k) [k last: a stack of row-major (m2, k) views, which is permuted]
    x = _c(rng, 64, 32, 48, dtype=dtype) if inner_last else _c(rng, 48, 64, 32, dtype=dtype)
    perm = (0, 2, 1) if inner_last else (1, 0, 2)
    want_a = np.transpose(x, perm).reshape(-1, 32)
    t = _c(rng, 32, 24, dtype=dtype)
    a = numpy_backend.transpose_reshape(x, perm, want_a.shape)
    if inner_last:
        assert isinstance(a, StridedOperand) and np.shares_memory(a.base, x)
    else:
        assert isinstance(a, np.ndarray) and not np.shares_memory(a, x)
    tol = 50 * tolerance(dtype)
    np.testing.assert_allclose(numpy_backend.matmul(a, t), np.einsum("mk,kn->mn", want_a, t), rtol=tol, atol=tol)
    out = np.full((want_a.shape[0], 24), np.nan, dtype)
    assert numpy_backend.matmul(a, t, out=out) is out
    np.testing.assert_allclose(out, want_a @ t, rtol=tol, atol=tol)
    np.testing.assert_array_equal(numpy_backend.to_host(a), want_a)  # reads as the matrix asked for


def test_b_and_both_sides(numpy_backend):
    rng = np.random.default_rng(2)
    y = _c(rng, 32, 16, 128)  # B stored (n1, k, n2)
    b = numpy_backend.transpose_reshape(y, (1, 0, 2), (16, 32 * 128))
    assert isinstance(b, StridedOperand)
    want_b = np.transpose(y, (1, 0, 2)).reshape(16, -1)
    s = _c(rng, 12, 16)
    np.testing.assert_allclose(numpy_backend.matmul(s, b), np.einsum("mk,kn->mn", s, want_b), rtol=1e-4, atol=1e-4)
    x = _c(rng, 64, 16, 64)  # A stored (m1, k, m2): per m1 a column-major (m2, k)
    a = numpy_backend.transpose_reshape(x, (0, 2, 1), (64 * 64, 16))
    assert isinstance(a, StridedOperand)
    want_a = np.transpose(x, (0, 2, 1)).reshape(-1, 16)
    for left, right in ((a, b), (a, want_b), (want_a, b)):  # both split: the larger keeps its views
        np.testing.assert_allclose(numpy_backend.matmul(left, right), np.einsum("mk,kn->mn", want_a, want_b),
                                   rtol=1e-4, atol=1e-4)
    # an operand that splits only as A, used as B: permuted, still right
    r = _c(rng, 3, 64 * 64)
    np.testing.assert_allclose(numpy_backend.matmul(r, a), np.einsum("mk,kn->mn", r, want_a), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
@pytest.mark.parametrize("seed", range(6))
def test_random_strided_forms_against_einsum(numpy_backend, dtype, seed, monkeypatch):
    # a random tensor of 2..6 axes of random sizes, the labels split at random into m (or n)
    # and k in random orders: every split that the numpy backend hands on as views must
    # multiply as np.einsum does, as A and as B; odd seeds loop over the views on Python
    # threads (what a busy machine gets), even ones on this thread
    monkeypatch.setattr(strided, "BUSY_LOAD_PER_CORE", -1.0 if seed % 2 else float("inf"))
    monkeypatch.setattr(strided, "MIN_ELEMENTS", 0)
    monkeypatch.setattr(strided, "MIN_INNER", 2)
    rng = np.random.default_rng(40 + seed)
    tol = 50 * tolerance(dtype)
    hits = {"a": 0, "b": 0}
    for _ in range(40):
        nd = int(rng.integers(2, 7))
        shape = tuple(int(d) for d in rng.integers(1, 9, size=nd))
        x = _c(rng, *shape, dtype=dtype)
        cut = int(rng.integers(1, nd))
        if rng.random() < 0.5 and nd >= 3:
            # half the time one of the forms: a run of storage axes summed, the axes after it
            # kept last in storage order, those before it in a random order
            i = int(rng.integers(1, nd - 1))
            j = int(rng.integers(i + 1, nd))
            before = [int(t) for t in rng.permutation(i)]
            order = tuple(before + list(range(j, nd)) + list(range(i, j)))
            cut = nd - (j - i)
        else:
            order = tuple(int(t) for t in rng.permutation(nd))
        for role in ("a", "b"):
            kept, summed = order[:cut], order[cut:]
            perm = kept + summed if role == "a" else summed + kept
            rows = int(np.prod([shape[i] for i in perm[:cut if role == "a" else nd - cut]]))
            mat_shape = (rows, x.size // rows)
            op = numpy_backend.transpose_reshape(x, perm, mat_shape, side=role)
            hits[role] += isinstance(op, StridedOperand)
            want = np.transpose(x, perm).reshape(mat_shape)
            other = _c(rng, mat_shape[1], 5, dtype=dtype) if role == "a" else _c(rng, 5, mat_shape[0], dtype=dtype)
            got = numpy_backend.matmul(op, other) if role == "a" else numpy_backend.matmul(other, op)
            ref = np.einsum("mk,kn->mn", want, other) if role == "a" else np.einsum("mk,kn->mn", other, want)
            np.testing.assert_allclose(got, ref, rtol=tol, atol=tol)
    assert hits["a"] >= 3 and hits["b"] >= 3  # both strided forms were exercised, not only permutes


def test_strided_form_cases():
    dims = {i: 16 for i in range(6)}
    # storage (0, 1 | 2, 3 | 4, 5): k = (2, 3) in the middle, inner (4, 5) last -> batch of T-form matrices
    assert layout.strided_form((0, 1, 2, 3, 4, 5), (0, 1, 4, 5), (2, 3), dims)
    # k split in two runs: no
    assert not layout.strided_form((0, 2, 1, 3, 4, 5), (0, 1, 4, 5), (2, 3), dims)
    # neither k nor the inner run ends the storage: no unit stride
    assert not layout.strided_form((0, 1, 2, 3, 4, 5), (4, 5, 0, 1), (2, 3), dims)
    # k last: a stack of column-major (k, n2) for B / row-major (m2, k) for A: not a form
    assert not layout.strided_form((0, 1, 2, 3, 4, 5), (2, 3, 0, 1), (4, 5), dims)
    # A stored (m1, k, m2): the same storage rule; at most max_views views
    assert layout.strided_form((0, 1, 2, 3, 4, 5), (0, 1, 4, 5), (2, 3), dims, max_views=256)
    assert not layout.strided_form((0, 1, 2, 3, 4, 5), (0, 1, 4, 5), (2, 3), dims, max_views=255)
    # B stored (n1, k, n2) = ((2, 3), (0, 1), (4, 5)): a batch over n1 of row-major (k, n2)
    assert layout.strided_form((2, 3, 0, 1, 4, 5), (2, 3, 4, 5), (0, 1), dims)
    # inner run too short
    small = {i: 2 for i in range(6)}
    assert not layout.strided_form((0, 1, 2, 3, 4, 5), (0, 1, 2, 5), (3, 4), {**small, 5: 2})


@pytest.mark.parametrize("sides", [("b",), ("a", "b")])
@pytest.mark.parametrize("seed", range(5))
def test_random_networks_with_strided_operands(seed, sides, backend, monkeypatch):
    # every operand large enough for the strided path, every step searched
    monkeypatch.setattr(strided, "MIN_ELEMENTS", 0)
    monkeypatch.setattr(strided, "MIN_INNER", 1)
    monkeypatch.setattr(strided, "SIDES", sides)
    monkeypatch.setattr(layout, "SMALL_STEP_ELEMENTS", 0)
    rng = np.random.default_rng(100 + seed)
    net = _random_network(rng, n_tensors=8, n_labels=16).canonical()
    plan = plan_from_path(net, _random_path(rng, net.num_tensors), (), memory_budget=1 << 30)
    np.testing.assert_allclose(contract(net, plan, backend), einsum_reference(net), atol=1e-9)


def test_random_networks_take_the_strided_path(monkeypatch):
    monkeypatch.setattr(strided, "MIN_ELEMENTS", 0)
    monkeypatch.setattr(strided, "MIN_INNER", 1)
    monkeypatch.setattr(layout, "SMALL_STEP_ELEMENTS", 0)
    made = []
    real = strided.batched_matmul

    def counting(a, b, out):
        product = real(a, b, out)
        if product is not None:  # which side ran as views (the larger where both split)
            sa = isinstance(a, StridedOperand) and a.batched("a") is not None
            sb = isinstance(b, StridedOperand) and b.batched("b") is not None
            made.append("a" if sa and (not sb or a.size >= b.size) else "b")
        return product

    monkeypatch.setattr("qtn.backends.numpy.batched_matmul", counting)
    be = qtn.get_backend("numpy")
    for seed in range(16):
        rng = np.random.default_rng(100 + seed)
        net = _random_network(rng, n_tensors=8, n_labels=16).canonical()
        plan = plan_from_path(net, _random_path(rng, net.num_tensors), (), memory_budget=1 << 30)
        contract(net, plan, be)
    # the test above exercises both kinds of views, not only permutes
    assert made.count("a") >= 1 and made.count("b") >= 1 and len(made) >= 3, made


@pytest.mark.parametrize("seed", range(2))
def test_grid_state_vector_with_strided_operands_matches_cirq(seed, monkeypatch):
    monkeypatch.setattr(strided, "MIN_ELEMENTS", 1 << 6)
    monkeypatch.setattr(strided, "MIN_INNER", 2)
    monkeypatch.setattr(layout, "SMALL_STEP_ELEMENTS", 1 << 6)
    qubits = cirq.GridQubit.rect(3, 4)
    circuit = cirq.experiments.random_rotations_between_grid_interaction_layers_circuit(qubits, 8, seed=seed)
    got = qtn.state_vector(circuit, backend="numpy", plan_cache=False)
    np.testing.assert_allclose(got, reference_state(circuit), atol=1e-5)


def test_an_a_operand_that_only_splits_for_b_is_copied_into_the_callers_buffer():
    # summed labels between kept ones suit a B operand's batch of views, not an A's:
    # as A it must land in the pool's buffer (else it is allocated outside the pool)
    be = qtn.get_backend("numpy")
    x = (np.random.default_rng(3).standard_normal((32, 16, 128)) * (1 + 1j)).astype(np.complex64)
    buf = np.empty((16, 4096), np.complex64)
    a = be.transpose_reshape(x, (1, 0, 2), (16, 4096), out=buf, side="a")
    assert a is buf
    np.testing.assert_array_equal(a, np.transpose(x, (1, 0, 2)).reshape(16, 4096))
