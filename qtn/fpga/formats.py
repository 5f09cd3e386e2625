"""The block-floating-point number format of the RTL array, bit-exact.

One card-memory word holds one complex element: ``{exp[EW], im[MW], re[MW]}`` in the
low bits of a 64-bit word, value ``(re + i*im) * 2**exp``; mantissas are signed
two's-complement with ``|m| <= 2**(MW-1) - 1``; a zero has ``exp = EMIN``.

The GEMM shifts every mantissa of an A row (B column) to the row's shared exponent
(the largest exponent of the row, found by the permute that laid the row out), rounding
half up; multiplies mantissas exactly; accumulates in ``AW`` bits; and normalizes each
sum back to one word. These functions are the model the RTL (``fpga/rtl/qtn_core.sv``)
is compared with, bit for bit; they are also the encoder/decoder of host transfers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Exponent bits of a word (signed).
EXP_BITS = 16
EMIN = -(1 << (EXP_BITS - 1))
EMAX = (1 << (EXP_BITS - 1)) - 1


@dataclass(frozen=True)
class BfpFormat:
    """Mantissa and accumulator widths of one array build.

    Attributes:
        mantissa_bits: signed mantissa width MW (18 fits an ECP5 MULT18X18D).
        acc_bits: signed accumulator width AW of the PEs.
    """

    mantissa_bits: int = 18
    acc_bits: int = 54

    def __post_init__(self) -> None:
        mw, aw = self.mantissa_bits, self.acc_bits
        if not isinstance(mw, int) or not 4 <= mw <= 24:
            raise ValueError(f"mantissa_bits must be an int in 4..24 (a word is 64 bits), got {mw!r}")
        if not isinstance(aw, int) or not 2 * mw + 2 <= aw <= 63:
            raise ValueError(f"acc_bits must be an int in {2 * mw + 2}..63 for mantissa_bits={mw}, got {aw!r}")

    @property
    def max_mantissa(self) -> int:
        return (1 << (self.mantissa_bits - 1)) - 1

    @property
    def max_k(self) -> int:
        """Longest reduction whose sum cannot overflow the accumulator."""
        return 1 << (self.acc_bits - 1 - (2 * self.mantissa_bits - 1) - 1)

    @property
    def unit_roundoff(self) -> float:
        """Relative error bound of one rounding to MW bits (half an ulp of the top bit)."""
        return 2.0 ** -(self.mantissa_bits - 1)


def gemm_error_bound(fmt: BfpFormat, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The format's stated bound on ``|C - A @ B|`` for C computed from complex128
    ``a (..., m, k)`` and ``b (..., k, n)`` encoded to words: per element
    ``12 k u max|A_i.| max|B_.j|`` with ``u = 2**-(MW-1)`` and ``max`` over real and
    imaginary parts of the row / column (encoding, alignment to the shared exponent and
    the final normalization each round by at most ``u`` of the row / column maximum)."""
    amax = np.maximum(np.abs(a.real), np.abs(a.imag)).max(axis=-1)
    bmax = np.maximum(np.abs(b.real), np.abs(b.imag)).max(axis=-2)
    k = a.shape[-1]
    return 12 * k * fmt.unit_roundoff * amax[..., :, None] * bmax[..., None, :]


# --- words ------------------------------------------------------------------------------

def pack(fmt: BfpFormat, re: np.ndarray, im: np.ndarray, exp: np.ndarray) -> np.ndarray:
    """Mantissas and exponents -> 64-bit words (as ``uint64``)."""
    mw = fmt.mantissa_bits
    mask = np.uint64((1 << mw) - 1)
    r = re.astype(np.int64).astype(np.uint64) & mask
    i = im.astype(np.int64).astype(np.uint64) & mask
    e = exp.astype(np.int64).astype(np.uint64) & np.uint64((1 << EXP_BITS) - 1)
    return r | (i << np.uint64(mw)) | (e << np.uint64(2 * mw))


def _signed(bits: np.ndarray, width: int) -> np.ndarray:
    v = bits.astype(np.int64)
    return np.where(v >= (1 << (width - 1)), v - (1 << width), v)


def unpack(fmt: BfpFormat, words: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """64-bit words -> (re, im, exp) as ``int64`` arrays."""
    mw = fmt.mantissa_bits
    w = np.asarray(words, dtype=np.uint64)
    mask = np.uint64((1 << mw) - 1)
    re = _signed(w & mask, mw)
    im = _signed((w >> np.uint64(mw)) & mask, mw)
    exp = _signed((w >> np.uint64(2 * mw)) & np.uint64((1 << EXP_BITS) - 1), EXP_BITS)
    return re, im, exp


def encode(fmt: BfpFormat, values: np.ndarray) -> np.ndarray:
    """Complex values -> words, each element with its own exponent, rounded to nearest.

    Raises:
        ValueError: a non-finite value, or one beyond the exponent range.
    """
    v = np.asarray(values, dtype=np.complex128).ravel()
    if not np.all(np.isfinite(v)):
        raise ValueError("the rtl backend cannot encode NaN or infinite values")
    mag = np.maximum(np.abs(v.real), np.abs(v.imag))
    _, top = np.frexp(mag)                      # mag = f * 2**top, 0.5 <= f < 1
    exp = top.astype(np.int64) - (fmt.mantissa_bits - 1)
    re = np.rint(np.ldexp(v.real, -exp)).astype(np.int64)
    im = np.rint(np.ldexp(v.imag, -exp)).astype(np.int64)
    over = (np.abs(re) > fmt.max_mantissa) | (np.abs(im) > fmt.max_mantissa)
    if np.any(over):  # rounding carried into a new top bit
        exp = exp + over
        re = np.where(over, np.rint(np.ldexp(v.real, -exp)).astype(np.int64), re)
        im = np.where(over, np.rint(np.ldexp(v.imag, -exp)).astype(np.int64), im)
    zero = mag == 0
    exp = np.where(zero, EMIN, exp)
    if np.any(exp[~zero] <= EMIN) or np.any(exp > EMAX):
        raise ValueError(f"a value is outside the {EXP_BITS}-bit exponent range of the rtl format")
    return pack(fmt, re, im, exp).reshape(np.shape(values))


def decode(fmt: BfpFormat, words: np.ndarray) -> np.ndarray:
    """Words -> complex128 (exact: MW <= 24 bits fit a double)."""
    re, im, exp = unpack(fmt, words)
    e = np.where(exp == EMIN, 0, exp)
    return np.ldexp(re.astype(np.float64), e) + 1j * np.ldexp(im.astype(np.float64), e)


# --- datapath -------------------------------------------------------------------------

def shift_round(v: np.ndarray, s: np.ndarray) -> np.ndarray:
    """``round_half_up(v / 2**s)`` for ``s >= 0`` (``s == 0``: ``v``), as the RTL does it."""
    s = np.asarray(s, dtype=np.int64)
    half = np.where(s > 0, np.left_shift(np.int64(1), np.maximum(s - 1, 0)), 0)
    return np.right_shift(v + half, s)


def align(fmt: BfpFormat, mant: np.ndarray, exp: np.ndarray, shared: np.ndarray) -> np.ndarray:
    """Shift mantissas with exponent ``exp`` to the block exponent ``shared >= exp``."""
    s = np.clip(shared - exp, 0, fmt.mantissa_bits)
    return shift_round(mant, s)


def normalize(fmt: BfpFormat, acc_re: np.ndarray, acc_im: np.ndarray, xsum: np.ndarray) -> np.ndarray:
    """Accumulators with exponent ``xsum`` -> words (the drain's normalizer)."""
    mw = fmt.mantissa_bits
    mag = np.abs(acc_re) | np.abs(acc_im)
    length = np.zeros(mag.shape, dtype=np.int64)
    nz = mag > 0
    length[nz] = np.floor(np.log2(mag[nz].astype(np.float64))).astype(np.int64) + 1
    # log2 of a float may round up near powers of two: fix the bit length exactly
    length = np.where(nz & (np.left_shift(np.int64(1), np.maximum(length - 1, 0)) > mag), length - 1, length)
    length = np.where(nz & (np.left_shift(np.int64(1), np.minimum(length, 62)) <= mag), length + 1, length)
    sh = np.maximum(length - (mw - 1), 0)
    r = shift_round(acc_re, sh)
    i = shift_round(acc_im, sh)
    over = (np.abs(r) > fmt.max_mantissa) | (np.abs(i) > fmt.max_mantissa)
    sh = sh + over
    r = np.where(over, shift_round(acc_re, sh), r)
    i = np.where(over, shift_round(acc_im, sh), i)
    e = xsum + sh
    e = np.where(mag == 0, EMIN, np.clip(e, EMIN + 1, EMAX))
    return pack(fmt, r, i, e)


def row_exponents(fmt: BfpFormat, words: np.ndarray, group: int) -> np.ndarray:
    """Largest exponent of every ``group`` consecutive words (what a permute writes)."""
    _, _, exp = unpack(fmt, words)
    return exp.reshape(-1, group).max(axis=1)


def gemm_words(fmt: BfpFormat, a: np.ndarray, xa: np.ndarray, b: np.ndarray, xb: np.ndarray) -> np.ndarray:
    """The array's GEMM on words: ``a (batch, m, k)``, ``b (batch, n, k)`` with row
    exponents ``xa (batch, m)``, ``xb (batch, n)`` -> words ``(batch, m, n)``."""
    are, aim, aexp = unpack(fmt, a)
    bre, bim, bexp = unpack(fmt, b)
    are, aim = align(fmt, are, aexp, xa[..., None]), align(fmt, aim, aexp, xa[..., None])
    bre, bim = align(fmt, bre, bexp, xb[..., None]), align(fmt, bim, bexp, xb[..., None])
    if a.shape[-1] > fmt.max_k:
        raise ValueError(f"k = {a.shape[-1]} exceeds the {fmt.acc_bits}-bit accumulator's max_k = {fmt.max_k}")
    bt = lambda x: np.swapaxes(x, -1, -2)  # noqa: E731 - (batch, k, n)
    # int64 matmul is exact: |products| < 2**(2MW-2), k * that < 2**(AW-1) <= 2**62
    acc_re = np.matmul(are, bt(bre)) - np.matmul(aim, bt(bim))
    acc_im = np.matmul(are, bt(bim)) + np.matmul(aim, bt(bre))
    xsum = xa[..., :, None].astype(np.int64) + xb[..., None, :].astype(np.int64)
    return normalize(fmt, acc_re, acc_im, xsum)
