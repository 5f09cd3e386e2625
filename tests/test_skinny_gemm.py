"""qtn.skinny_gemm's kernel and its dispatch in NumpyBackend.matmul, against np.einsum in complex128."""

import numpy as np
import pytest

import qtn
from qtn import skinny_gemm
from qtn.strided import StridedOperand

rng = np.random.default_rng(7)


def rand(*shape):
    return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(np.complex64)


def ref(a, b):
    return np.einsum("ik,kj->ij", a.astype(np.complex128), b.astype(np.complex128))


def close(c, r, k):
    # float32 sums of k products: relative error a few ulps times sqrt(k)
    assert np.abs(c - r).max() <= 1e-6 * np.sqrt(k) * 8 * np.abs(r).max()


@pytest.mark.parametrize("m,k,n", [(1, 1, 1 << 17), (5, 3, 131101), (4, 4, 1 << 17), (7, 33, 131111),
                                   (32, 32, 1 << 17), (64, 64, 131073), (13, 16, 1 << 17),
                                   (3, 24, 131075), (6, 23, 131075)])  # k = 24: B packed, 23: not
def test_wide(m, k, n):
    a, b = rand(m, k), rand(k, n)
    close(skinny_gemm.matmul(a, b), ref(a, b), k)
    close(skinny_gemm.matmul(a, np.ascontiguousarray(b.T).T), ref(a, b), k)  # B transposed


@pytest.mark.parametrize("k,pad", [(4, 3), (5, 1), (8, 0), (3, 2)])
def test_transposed_b_with_padded_rows(k, pad):
    # B^T stored (n, k + pad): its rows contiguous, pad elements apart from the next one
    n = 131077
    store = rand(n, k + pad)
    b = store[:, :k].T
    a = rand(6, k)
    close(skinny_gemm.matmul(a, b), ref(a, np.ascontiguousarray(b)), k)


@pytest.mark.parametrize("m,k,n", [(131101, 16, 16), (1 << 17, 7, 13), (131073, 64, 64), (1 << 17, 1, 3)])
def test_tall(m, k, n):
    a, b = rand(m, k), rand(k, n)
    close(skinny_gemm.matmul(a, b), ref(a, b), k)


def test_views_and_out():
    base = rand(16, 32, 4, 2049)
    views = base.transpose(0, 2, 1, 3)
    a = rand(9, 32)
    out = np.full((9, 16 * 4 * 2049), 5, np.complex64)
    assert skinny_gemm.matmul_views(a, views, out=out) is out
    close(out, np.einsum("ik,abkj->iabj", a.astype(complex), views.astype(complex)).reshape(9, -1), 32)


def test_not_taken_and_bad_out():
    assert skinny_gemm.matmul(rand(100, 100), rand(100, 1 << 16)) is None
    assert skinny_gemm.matmul(rand(4, 4).astype(np.complex128), rand(4, 1 << 16)) is None
    with pytest.raises(ValueError, match="out must be"):
        skinny_gemm.matmul(rand(4, 4), rand(4, 1 << 17), out=np.empty((4, 5), np.complex64))


def test_backend_dispatch():
    backend = qtn.get_backend("numpy")
    a, b = rand(16, 16), rand(16, 1 << 17)
    out = np.empty((16, 1 << 17), np.complex64)
    assert backend.matmul(a, b, out=out) is out
    close(out, ref(a, b), 16)
    # B as a batch of views (stored (n1, k, n2)): the StridedOperand path
    base = rand(4, 16, 1 << 16)
    sb = StridedOperand(base, (1, 0, 2), (16, 4 << 16))
    close(backend.matmul(a, sb), ref(a, base.transpose(1, 0, 2).reshape(16, -1)), 16)
    t = rand(1 << 17, 16)
    close(backend.matmul(t, a), ref(t, a), 16)


@pytest.mark.parametrize("k, taken", [(4, True), (5, False)])
def test_backend_dispatches_transposed_b_where_faster(monkeypatch, k, taken):
    calls = []
    real = skinny_gemm.matmul
    monkeypatch.setattr(skinny_gemm, "matmul", lambda *args, **kw: calls.append(1) or real(*args, **kw))
    a, bt = rand(4, k), rand(skinny_gemm.MIN_LONG_TRANSPOSED, k)
    out = np.empty((4, bt.shape[0]), np.complex64)
    assert qtn.get_backend("numpy").matmul(a, bt.T, out=out) is out
    close(out, ref(a, bt.T), k)
    assert bool(calls) == taken
