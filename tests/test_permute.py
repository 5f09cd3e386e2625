"""The permute kernel (qtn/permute.py, qtn/data/native/permute.c) against NumPy, bit for bit:
every path (whole lines, register tiles of 8-, 16- and 32-byte units, gathered lines), both
complex dtypes, non-contiguous inputs, sizes around the thresholds, threads, streaming
stores, the scalar build without AVX-512, and the aligned buffers of the pool."""

import ctypes
import importlib.resources
import shutil
import subprocess

import numpy as np
import pytest

from qtn import buffers, permute

DTYPES = [np.complex64, np.complex128]


def _random(rng, shape, dtype):
    return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)


def _check(a, perm, **kw):
    want = np.ascontiguousarray(a.transpose(perm))
    got = permute.permute(a, perm, **kw)
    assert got.flags.c_contiguous and got.shape == want.shape
    assert got.tobytes() == want.tobytes()  # bitwise, NaN payloads and signed zeros included
    return got


def _path(a, perm):
    v = a.transpose(perm)
    p = permute.plan(v.shape, v.strides, a.itemsize)
    return p.path if p is not None else None


@pytest.mark.parametrize("seed", range(40))
@pytest.mark.parametrize("dtype", DTYPES)
def test_random_shapes_and_perms(seed, dtype):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 9))
    shape = [int(x) for x in rng.choice([1, 2, 3, 4, 5, 8, 16, 32], size=n)]
    while np.prod(shape) < permute.SMALL_ELEMENTS:
        k = int(rng.integers(n))
        shape[k] *= 2
    while np.prod(shape) > 1 << 21:
        k = int(np.argmax(shape))
        shape[k] //= 2
    a = _random(rng, tuple(shape), dtype)
    _check(a, tuple(int(p) for p in rng.permutation(n)))


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("dtype", DTYPES)
def test_qubit_tensors(seed, dtype):
    rng = np.random.default_rng(100 + seed)
    n = int(rng.integers(14, 20))
    a = _random(rng, (2,) * n, dtype)
    _check(a, tuple(int(p) for p in rng.permutation(n)))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", [
    ((64, 32, 16), (1, 0, 2), "lines"),          # a long contiguous run moves whole
    ((128, 256), (1, 0), "tile"),                 # plain transpose: 8x8 / 4x4 register tiles
    ((64, 64, 2), (1, 0, 2), "tile"),             # pairs stay together: 16-byte (complex64) units
    ((64, 64, 4), (1, 0, 2), None),               # 32-byte units (complex64) or whole lines (complex128)
    ((2, 4096, 2), (2, 1, 0), "gather"),          # short output axis overlapping the input's run
    ((3, 5, 7, 11, 13), (4, 2, 0, 3, 1), None),   # odd sizes: whatever path, exact
])
def test_each_path(dtype, case):
    shape, perm, path = case
    a = _random(np.random.default_rng(1), shape, dtype)
    if path is not None:
        assert _path(a, perm) == path
    _check(a, perm)


@pytest.mark.parametrize("dtype", DTYPES)
def test_non_contiguous_inputs(dtype):
    rng = np.random.default_rng(2)
    base = _random(rng, (6, 40, 3, 128), dtype)
    views = [base[:, ::2], base[..., 1:97], base[::-1, :, :, ::-1], base[:, 3:37, 1],
             base.transpose(3, 0, 2, 1)[::3], np.broadcast_to(base[:1, :, :1], (8, 40, 4, 128))]
    for v in views:
        for perm in ([1, 0, *range(2, v.ndim)], list(range(v.ndim))[::-1]):
            _check(v, tuple(perm))


@pytest.mark.parametrize("dtype", DTYPES)
def test_sizes_around_thresholds(dtype):
    rng = np.random.default_rng(3)
    for total in (permute.SMALL_ELEMENTS // 2, permute.SMALL_ELEMENTS, permute.THREADED_ELEMENTS // 2,
                  permute.THREADED_ELEMENTS, 2 * permute.THREADED_ELEMENTS):
        n = total.bit_length() - 1
        a = _random(rng, (2,) * n, dtype)
        for threads in (1, 2, 3):
            permute.set_num_threads(threads)
            try:
                _check(a, tuple(int(p) for p in rng.permutation(n)))
            finally:
                permute.set_num_threads(None)
    # whole runs just over and under a line: 7 or 8 complex64, 3 or 4 complex128
    for run in (3, 4, 7, 8, 9):
        a = _random(rng, (64, 64, run), dtype)
        _check(a, (1, 0, 2))


@pytest.mark.parametrize("dtype", DTYPES)
def test_streaming_stores_into_aligned_and_unaligned_outputs(dtype):
    # >= 64 MiB of output: streaming stores where the output starts on a cache line
    rng = np.random.default_rng(4)
    n = (64 << 20).bit_length() - 1 - (np.dtype(dtype).itemsize.bit_length() - 1)
    a = _random(rng, (2,) * n, dtype)
    raw = np.empty(a.nbytes + 128, np.uint8)
    for shift in (0, 16):  # aligned (streams) and 16-byte aligned (must not)
        off = (-raw.ctypes.data) % 64 + shift
        out = raw[off:off + a.nbytes].view(dtype)
        for perm in ((n - 1, *range(1, n - 1), 0), tuple(range(n - 2)) + (n - 1, n - 2)):
            _check(a, perm, out=out)


def test_plans_are_cached():
    a = np.zeros((64, 256, 2), np.complex64)
    v = a.transpose(1, 0, 2)
    assert permute.plan(v.shape, v.strides, 8) is permute.plan(v.shape, v.strides, 8)


def test_scalar_build_without_avx512(tmp_path):
    compiler = shutil.which("cc")
    if compiler is None:
        pytest.skip("no C compiler")
    src = importlib.resources.files("qtn") / "data" / "native" / "permute.c"  # as qtn.native builds it
    lib_path = tmp_path / "libpermute_scalar.so"
    proc = subprocess.run([compiler, "-O2", "-mno-avx512f", "-fopenmp", "-shared", "-fPIC", "-std=c11",
                           str(src), "-o", str(lib_path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    lib = ctypes.CDLL(str(lib_path))
    lib.qtn_permute.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int]
    lib.qtn_permute.restype = ctypes.c_int
    rng = np.random.default_rng(5)
    seen = set()
    cases = [((64, 32, 16), (1, 0, 2)), ((128, 256), (1, 0)), ((64, 64, 2), (1, 0, 2)),
             ((64, 64, 4), (1, 0, 2)), ((2, 4096, 2), (2, 1, 0))]
    cases += [((2,) * 15, tuple(int(p) for p in rng.permutation(15))) for _ in range(6)]
    for dtype in DTYPES:
        for shape, perm in cases:
            a = _random(rng, shape, dtype)
            v = a.transpose(perm)
            p = permute.plan(v.shape, v.strides, a.itemsize)
            seen.add(p.path)
            out = np.empty(v.shape, dtype)
            for threads in (1, 2):
                out[...] = 0
                assert lib.qtn_permute(v.ctypes.data, out.ctypes.data, p.address, threads) == 0
                assert out.tobytes() == np.ascontiguousarray(v).tobytes()
    assert seen == {"lines", "tile", "gather"}


def test_pool_buffers_are_64_byte_aligned_and_reused():
    pool = buffers.BufferPool(object(), 1 << 30)
    for shape in [(1 << 15,), (3, 1 << 14), (1 << 17,)]:
        a = pool.take(shape, np.complex64)
        assert a.ctypes.data % 64 == 0 and a.shape == shape and a.flags.c_contiguous and a.flags.writeable
        a[...] = 1
        addr = a.ctypes.data
        pool.give(a.reshape(-1)[::2])  # a view of it goes back as the whole buffer
        b = pool.take(shape, np.complex64)
        assert b.ctypes.data == addr and pool.stats["hits"] >= 1
        pool.detach(b)
    assert pool.held_bytes == 0


@pytest.mark.parametrize("dtype", [np.float64, np.int64])
def test_other_8_byte_dtypes_move_as_bytes(dtype):
    a = np.arange(1 << 16).astype(dtype).reshape((16, 64, 64))
    for perm in ((2, 1, 0), (1, 0, 2), (0, 2, 1)):
        _check(a, perm)


@pytest.mark.parametrize("dtype", DTYPES)
def test_long_gathered_lines_are_cut(dtype):
    a = _random(np.random.default_rng(6), (6000, 3), dtype)  # output's last axis 6000 long, input stride 3
    assert _path(a, (1, 0)) == "gather"
    v = a.transpose(1, 0)
    assert permute.plan(v.shape, v.strides, a.itemsize).words.size < 6000
    _check(a, (1, 0))
    b = _random(np.random.default_rng(7), (4099, 5), dtype)  # a prime axis: one long line, still exact
    _check(b, (1, 0))
