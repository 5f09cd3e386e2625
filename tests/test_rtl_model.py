"""The bit-exact Python model of the RTL number format and datapath, against NumPy."""

import numpy as np
import pytest

from qtn.fpga import formats
from qtn.fpga.card_model import CardModel
from qtn.fpga.descriptors import GemmDesc, PermuteDesc, copy_dims, pack_all, permute_descs

FMT = formats.BfpFormat(18, 54)


def _rand(rng, shape, scale=1.0):
    return scale * (rng.normal(size=shape) + 1j * rng.normal(size=shape))


@pytest.mark.parametrize("mw", [8, 12, 18, 24])
def test_encode_decode_within_one_rounding(mw):
    fmt = formats.BfpFormat(mw, min(63, 2 * mw + 14))
    rng = np.random.default_rng(mw)
    x = np.concatenate([_rand(rng, 500, 10.0 ** rng.uniform(-30, 30)) for _ in range(4)] + [np.array([0, 1, -1j, 2**-40])])
    y = formats.decode(fmt, formats.encode(fmt, x))
    mag = np.maximum(np.abs(x.real), np.abs(x.imag))
    assert np.all(np.abs(y - x) <= np.sqrt(2) * fmt.unit_roundoff * mag)
    assert y[-4] == 0 and y[-3] == 1 and y[-2] == -1j and y[-1] == 2**-40


def test_encode_rejects_non_finite():
    with pytest.raises(ValueError, match="NaN or infinite"):
        formats.encode(FMT, np.array([1.0, np.nan]))
    with pytest.raises(ValueError, match="mantissa_bits"):
        formats.BfpFormat(30, 63)


@pytest.mark.parametrize("shape", [(1, 1, 1, 1), (1, 3, 1, 2), (2, 5, 7, 3), (3, 2, 40, 9)])
def test_gemm_words_within_stated_error_of_numpy(shape):
    batch, m, k, n = shape
    rng = np.random.default_rng(sum(shape))
    a = _rand(rng, (batch, m, k))
    a[..., 0] *= 1e-6  # rows with a wide dynamic range
    b = _rand(rng, (batch, k, n), 3.0)
    wa, wb = formats.encode(FMT, a), formats.encode(FMT, np.swapaxes(b, 1, 2).copy())
    xa = formats.row_exponents(FMT, wa.ravel(), k).reshape(batch, m)
    xb = formats.row_exponents(FMT, wb.ravel(), k).reshape(batch, n)
    c = formats.decode(FMT, formats.gemm_words(FMT, wa, xa, wb, xb))
    exact = a @ b
    err = np.abs(c - exact)
    assert np.all(err <= formats.gemm_error_bound(FMT, a, b))
    assert err.max() < 1e-3 * np.abs(exact).max()


def test_normalize_rounds_half_up_and_carries():
    fmt = formats.BfpFormat(4, 12)  # mantissas up to 7
    words = formats.normalize(fmt, np.array([15, 14, 0, -15]), np.array([0, 1, 0, 0]), np.array([0, 0, 5, 0]))
    re, im, exp = formats.unpack(fmt, words)
    # 15 -> 7.5 rounds to 8 (> 7): carries to one more shift, 15/4 = 3.75 -> 4
    assert (re[0], exp[0]) == (4, 2)
    assert (re[1], im[1], exp[1]) == (7, 1, 1)      # 14/2 = 7, 1/2 = 0.5 -> 1
    assert (re[2], exp[2]) == (0, formats.EMIN)     # zero keeps the minimum exponent
    assert (re[3], exp[3]) == (-7, 1)               # -15/2 = -7.5 rounds half up to -7


def test_card_model_permute_matches_numpy_transpose():
    rng = np.random.default_rng(7)
    x = _rand(rng, (2, 3, 4, 5))
    model = CardModel(FMT, 1024, 64)
    model.mem[:x.size] = formats.encode(FMT, x).ravel()
    order = (2, 0, 3, 1)
    sizes, strides = copy_dims(x.shape, order)
    model.run(permute_descs(0, False, 0, 200, 0, 6, sizes, strides))
    got = formats.decode(FMT, model.mem[200:200 + x.size])
    want = formats.decode(FMT, formats.encode(FMT, x.transpose(order))).ravel()
    np.testing.assert_array_equal(got, want)
    exps = formats.unpack(FMT, model.mem[200:200 + x.size])[2].reshape(-1, 6).max(axis=1)
    np.testing.assert_array_equal(model.xmem[:x.size // 6], exps)


def test_descriptor_fields_are_checked():
    with pytest.raises(ValueError, match="does not fit 32 bits"):
        GemmDesc(0, False, 1, 2**32, 1, 1, 0, 0, 0, 0, 0).words()
    with pytest.raises(ValueError, match="tag"):
        pack_all([PermuteDesc(1, False, 0, 0, 0, 1, (1,), (0,))])
    with pytest.raises(ValueError, match="exponent group"):
        permute_descs(0, False, 0, 0, 0, 3, [4], [1])


def test_permute_issue_cycles_against_a_word_by_word_count():
    # the bank-conflict price, fast paths included, against counting each chunk's
    # source banks word by word
    import itertools

    from qtn.fpga import board_time
    from qtn.fpga.descriptors import PermuteDesc

    rng = np.random.default_rng(17)
    for _ in range(300):
        ndim = int(rng.integers(1, 4))
        sizes = tuple(int(x) for x in rng.integers(1, 9, ndim))
        strides = tuple(int(x) for x in rng.integers(0, 20, ndim))
        lanes = int(rng.choice([1, 2, 3, 4, 8]))
        d = PermuteDesc(0, False, int(rng.integers(0, 50)), 0, 0, 1, sizes, strides)
        addrs = [d.src + sum(i * s for i, s in zip(idx, strides))
                 for idx in itertools.product(*(range(n) for n in sizes))]
        want = 0
        for start in range(0, len(addrs), lanes):
            banks = [a % lanes for a in addrs[start:start + lanes]]
            want += max(banks.count(b) for b in set(banks))
        assert board_time.permute_issue_cycles(d, lanes) == want, (sizes, strides, lanes)
