"""The HLS backend (C simulation of fpga/hls/cgemm.cpp) and its C++ test bench."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from qtn.fpga import boards
from qtn.backends import BackendUnavailableError, get_backend
from qtn.backends import hls as hls_mod
from qtn.backends.hls import HLSBackend, HLSBuildError, build_library

REPO = Path(__file__).resolve().parents[1]
HLS_DIR = REPO / "fpga" / "hls"

pytestmark = pytest.mark.skipif(shutil.which("g++") is None, reason="the hls backend needs g++")


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("qtn-hls-cache")


@pytest.fixture(scope="module")
def backend(cache) -> HLSBackend:
    return HLSBackend("u280", cache_dir=cache)


def _random(shape, dtype, rng):
    return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)


def _shapes(dtype) -> list[tuple[int, ...]]:
    """(batch, m, k, n) at awkward sizes around this dtype's u280 tiles."""
    t = boards.gemm_tiles("u280", dtype)
    tm, tn, tk = t.tile_m, t.tile_n, t.tile_k
    return [
        (1, 1, 1, 1),
        (1, 5, 1, 7),                    # k = 1
        (1, tm - 1, 3, 4), (1, tm + 1, 3, 4), (1, 2 * tm + 1, 2, 3),
        (1, 4, tk - 1, 5), (1, 4, tk + 1, 5), (1, 3, 2 * tk + 1, 4),
        (1, 3, 2, tn - 1), (1, 3, 2, tn + 1), (1, 2, 2, 2 * tn + 1),
        (1, t.pe_m + 1, tk + 1, t.pe_n * t.interleave + 1),
        (1, 3, 17, 40),                  # non-square
        (4, 9, 33, 21),                  # batched
        (3, 1, 1, 1),
    ]


@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
def test_matmul_matches_numpy_at_awkward_shapes(backend, dtype):
    rng = np.random.default_rng(7)
    eps = np.finfo(dtype).eps
    for batch, m, k, n in _shapes(dtype):
        a_shape = (batch, m, k) if batch > 1 else (m, k)
        b_shape = (batch, k, n) if batch > 1 else (k, n)
        a, b = _random(a_shape, dtype, rng), _random(b_shape, dtype, rng)
        out = backend.matmul(backend.to_device(a), backend.to_device(b))
        ref = np.matmul(a.astype(np.complex128), b.astype(np.complex128))
        assert out.dtype == dtype and out.shape == ref.shape, (batch, m, k, n)
        tol = 16 * eps * (k + 1) * np.abs(a).max() * np.abs(b).max()
        err = np.abs(out - ref).max()
        assert err <= tol, f"{np.dtype(dtype).name} batch={batch} m={m} k={k} n={n}: err {err:.3g} > {tol:.3g}"


def test_matmul_broadcasts_leading_dims_and_promotes(backend):
    rng = np.random.default_rng(3)
    a = _random((2, 3, 5, 4), np.complex64, rng)
    b = _random((3, 4, 6), np.complex128, rng)
    out = backend.matmul(a, b)
    assert out.dtype == np.complex128 and out.shape == (2, 3, 5, 6)
    np.testing.assert_allclose(out, np.matmul(a, b), rtol=1e-10, atol=1e-10)


def test_matmul_with_k_zero_gives_zeros(backend):
    a = np.zeros((3, 0), np.complex64)
    b = np.zeros((0, 4), np.complex64)
    out = backend.matmul(a, b)
    assert out.shape == (3, 4) and not out.any()


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_matmul_rejects_non_complex(backend, dtype):
    a = np.ones((2, 2), dtype)
    with pytest.raises(TypeError, match="complex64 or complex128"):
        backend.matmul(a, a)


def test_matmul_rejects_mismatched_inner_dims(backend):
    with pytest.raises(ValueError, match="inner"):
        backend.matmul(np.ones((2, 3), np.complex64), np.ones((4, 2), np.complex64))


def test_transfers_are_counted_and_transpose_reshape_is_numpy(backend):
    backend.reset_stats()
    a = np.arange(24, dtype=np.complex64).reshape(2, 3, 4)
    d = backend.to_device(a)
    assert d is not a and np.shares_memory(d, a) is False
    t = backend.transpose_reshape(d, (2, 0, 1), (4, 6))
    np.testing.assert_array_equal(t, a.transpose(2, 0, 1).reshape(4, 6))
    assert t.flags.c_contiguous
    h = backend.to_host(t)
    assert backend.stats()["bytes_to_device"] == a.nbytes
    assert backend.stats()["bytes_to_host"] == h.nbytes
    backend.reset_stats()
    assert backend.stats()["bytes_to_device"] == 0 and backend.stats()["bytes_to_host"] == 0


def test_memory_budget_is_the_boards_off_chip_memory(backend):
    assert backend.memory_budget() == 8 << 30  # U280: 8 GB HBM2


def test_registry_names_and_default_board():
    be = get_backend("hls:u250")
    assert isinstance(be, HLSBackend) and be.board.name == "u250" and be.name == "hls:u250"
    assert HLSBackend().board.name == "u280"
    with pytest.raises(ValueError) as err:
        get_backend("hls:no-such-board")
    assert "u280" in str(err.value) and "stratix10_gx2800" in str(err.value)


def test_missing_compiler_is_backend_unavailable(monkeypatch):
    monkeypatch.setenv("CXX", "qtn-no-such-compiler")
    with pytest.raises(BackendUnavailableError, match="g\\+\\+"):
        HLSBackend("u280")


def test_cache_is_per_user_not_in_the_package(monkeypatch, tmp_path):
    monkeypatch.delenv("QTN_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert hls_mod.cache_root() == tmp_path / "qtn" / "hls"
    package = Path(hls_mod.__file__).resolve().parents[1]
    assert package not in hls_mod.cache_root().resolve().parents


def test_library_is_built_once_and_reused(backend, cache):
    path = backend.library_path()
    assert path.exists() and cache in path.parents and path.parent.name.startswith("u280-")
    mtime = path.stat().st_mtime_ns
    assert backend.library_path() == path and path.stat().st_mtime_ns == mtime
    assert not list(path.parent.glob("*.tmp"))


def test_compile_error_surfaces_gxx_message(tmp_path):
    board = boards.load_board("u280")
    bad = dataclasses.replace(boards.gemm_tiles(board), tile_m=12)
    config = boards.hls_config_text(board, c64=bad)
    with pytest.raises(HLSBuildError) as err:
        build_library(config, label="broken", root=tmp_path)
    msg = str(err.value)
    assert "static assert" in msg and "QTN_C64: TILE_M must be a multiple of 8" in msg
    assert not list(tmp_path.rglob("*.so"))


# --- the C++ test bench --------------------------------------------------------------

def _small_config() -> str:
    """Tiny tiles, so the bench's awkward sizes cross many tile edges quickly."""
    board = boards.load_board("u280")
    c64 = dataclasses.replace(boards.gemm_tiles(board, np.complex64), tile_m=16, tile_n=64, tile_k=8,
                              pe_m=4, pe_n=4, bytes_used=0)
    c128 = dataclasses.replace(boards.gemm_tiles(board, np.complex128), tile_m=8, tile_n=32, tile_k=4,
                               pe_m=2, pe_n=4, bytes_used=0)
    return boards.hls_config_text(board, c64=c64, c128=c128)


def _build_and_run_bench(tmp_path: Path, config_text: str, kernel_text: str | None = None) -> subprocess.CompletedProcess:
    shutil.copy(HLS_DIR / "test_cgemm.cpp", tmp_path / "test_cgemm.cpp")
    (tmp_path / "cgemm.cpp").write_text(kernel_text or (HLS_DIR / "cgemm.cpp").read_text())
    (tmp_path / "config.h").write_text(config_text)
    exe = tmp_path / "test_cgemm"
    build = subprocess.run(
        ["g++", "-O2", "-std=c++17", "-Wall", "-Wno-unknown-pragmas", "-Wno-unused-label",
         str(tmp_path / "test_cgemm.cpp"), "-o", str(exe)],
        capture_output=True, text=True, timeout=300,
    )
    assert build.returncode == 0, build.stderr
    return subprocess.run([str(exe)], capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("config", ["u280", "u250", "small"])
def test_cpp_test_bench_passes(tmp_path, config):
    text = _small_config() if config == "small" else boards.hls_config_text(config)
    run = _build_and_run_bench(tmp_path, text)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "all cases passed" in run.stdout


def test_cpp_test_bench_catches_a_wrong_kernel(tmp_path):
    kernel = (HLS_DIR / "cgemm.cpp").read_text()
    wrong = kernel.replace("row[q] += ar * br - ai * bi;", "row[q] += ar * br + ai * bi;")
    assert wrong != kernel
    run = _build_and_run_bench(tmp_path, _small_config(), wrong)
    assert run.returncode != 0 and "MISMATCH" in run.stdout
