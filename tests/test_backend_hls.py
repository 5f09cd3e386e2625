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
    assert backend.stats()["host_permute_bytes"] == t.nbytes  # one permutation that moved data
    backend.transpose_reshape(t, (0, 1), (2, 12))  # a reshape moves nothing
    assert backend.stats()["host_permute_bytes"] == t.nbytes
    backend.reset_stats()
    assert all(v == 0 for v in backend.stats().values())


def test_padding_to_port_words_is_counted_as_host_layout(backend):
    backend.reset_stats()
    whole = np.ones((3, 8), np.complex64), np.ones((8, 16), np.complex64)  # k, n whole 512-bit words
    backend.matmul(*whole)
    assert backend.stats()["host_permute_bytes"] == 0
    out = backend.matmul(np.ones((3, 5), np.complex64), np.ones((5, 7), np.complex64))
    np.testing.assert_array_equal(out, np.full((3, 7), 5, np.complex64))
    # padded copies of A (3 x 8), B (8 x 8) and C (3 x 8)
    assert backend.stats()["host_permute_bytes"] == 8 * (3 * 8 + 8 * 8 + 3 * 8)


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


def _build_and_run_bench(tmp_path: Path, config_text: str, kernel_text: str | None = None,
                         flags: tuple[str, ...] = ("-O2",)) -> subprocess.CompletedProcess:
    shutil.copy(HLS_DIR / "test_cgemm.cpp", tmp_path / "test_cgemm.cpp")
    (tmp_path / "cgemm.cpp").write_text(kernel_text or (HLS_DIR / "cgemm.cpp").read_text())
    (tmp_path / "config.h").write_text(config_text)
    exe = tmp_path / "test_cgemm"
    build = subprocess.run(
        ["g++", *flags, "-std=c++17", "-Wall", "-Wno-unknown-pragmas", "-Wno-unused-label",
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
    wrong = kernel.replace("const T re = x.re * y.re - x.im * y.im;", "const T re = x.re * y.re + x.im * y.im;")
    assert wrong != kernel
    run = _build_and_run_bench(tmp_path, _small_config(), wrong)
    assert run.returncode != 0 and "MISMATCH" in run.stdout


def test_cpp_test_bench_is_clean_under_sanitizers(tmp_path):
    """No undefined behaviour or out-of-bounds access in the C simulation (UBSan, ASan)."""
    run = _build_and_run_bench(tmp_path, _small_config(),
                               flags=("-O1", "-g", "-fsanitize=undefined,address", "-fno-sanitize-recover=all"))
    assert run.returncode == 0, run.stdout + run.stderr
    assert "all cases passed" in run.stdout and "runtime error" not in run.stderr


KERNEL = (HLS_DIR / "cgemm.cpp").read_text()


def _function(name: str) -> str:
    """The text of one member function of cgemm.cpp (up to the next blank line at its indent)."""
    start = KERNEL.index(f" {name}(")
    return KERNEL[start : KERNEL.index("\n\n", start)]


def test_ports_are_512_bit_words_read_unconditionally():
    import re

    for entry in ("qtn_cgemm_c64", "qtn_cgemm_c128"):
        signature = KERNEL[KERNEL.index(f"void {entry}("): KERNEL.index("{", KERNEL.index(f"void {entry}("))]
        assert signature.count("qtn::wide<") == 3, signature  # A, B and C are bus words
    assert "sizeof(wide<float>) == 64" in KERNEL
    for fn in ("read_a", "read_b", "write_c"):
        body = _function(fn)
        assert not re.search(r"\bif\s*\(|\?", body), f"{fn} has a conditional access: no burst inference"
        assert "PIPELINE II = 1" in body


def test_one_dataflow_region_holds_load_compute_store():
    body = _function("run")
    region = body[body.index("#pragma HLS DATAFLOW"):]
    calls = [c for c in ("read_a(", "read_b(", "compute(", "write_c(") if c in region]
    assert calls == ["read_a(", "read_b(", "compute(", "write_c("]
    # nothing else: no serial load before or store after the region
    assert "load_" not in body and "store_" not in body


def test_padding_is_sized_to_the_gemm():
    # panels are unpacked for the GEMM's own rows / columns, never to a whole interleave group
    for fn in ("unpack_a", "unpack_b"):
        body = _function(fn)
        assert "ILV" not in body and "PN * ILV" not in body
    assert "r < mt" in _function("unpack_a") and "w < nt / CPW" in _function("unpack_b")


def test_operand_fan_out_is_bounded():
    body = _function("mac")
    pe = body[body.index("pe_m:"):]
    # the unrolled PE array reads only the registered copies, each shared by FANOUT PEs
    assert "a[ib]" not in pe and "b[jb]" not in pe
    assert "a_copy[pi][pj / FANOUT]" in pe and "b_copy[pj][pi / FANOUT]" in pe
    assert "constexpr int FANOUT = 4;" in KERNEL


def test_no_pointer_into_the_accumulators():
    # (&acc[...].re)[q + 1] indexed past a struct member: UB, and not synthesizable
    assert "&acc" not in KERNEL and "__restrict" not in KERNEL


@pytest.mark.parametrize("name", ["u280", "u250"])
def test_every_buffer_is_bound_to_the_kind_it_was_sized_for(name):
    from qtn.fpga.hls_config import HLS_IMPL

    text = boards.hls_config_text(name)
    for p, dtype in (("QTN_C64", np.complex64), ("QTN_C128", np.complex128)):
        t = boards.gemm_tiles(name, dtype)
        for buf, kind in zip(("ACC", "A", "B"), t.storage):
            assert f"#define {p}_{buf}_IMPL {HLS_IMPL[kind]}" in text
    assert boards.gemm_tiles("u280", np.complex64).storage[0] == "uram"  # 5,120 BRAM36 otherwise
    for var, impl in (("acc", "ACC"), ("a_ping", "A"), ("a_pong", "A"), ("b_ping", "B"), ("b_pong", "B")):
        assert f"BIND_STORAGE variable = {var} type = ram_2p impl = P##_{impl}_IMPL" in KERNEL


def test_per_kind_static_asserts_fail_when_a_kind_is_short(tmp_path):
    """The u280 tiles against a U280 with half its URAM: the URAM check must fire, and
    only it (BRAM and DSPs still suffice)."""
    board = boards.load_board("u280")
    uram = [m for m in board.on_chip if m.kind == "uram"][0]
    short = dataclasses.replace(board, on_chip=tuple(dataclasses.replace(m, count=m.count // 2) if m is uram else m
                                                     for m in board.on_chip))
    text = boards.hls_config_text(short, c64=boards.gemm_tiles(board, np.complex64),
                                  c128=boards.gemm_tiles(board, np.complex128))
    with pytest.raises(HLSBuildError) as err:
        build_library(text, label="short", root=tmp_path)
    msg = str(err.value)
    assert "buffers bound to uram need more blocks than its usable share" in msg
    assert "bram36 need more" not in msg and "DSPs" not in msg
    # the real board passes the same checks
    build_library(boards.hls_config_text(board), label="u280", root=tmp_path)


def test_both_kernels_do_not_fit_one_xclbin_so_the_readme_links_each_alone():
    from qtn.fpga.hls_config import kernels_fit_together

    for name in ("u280", "u250"):
        assert not kernels_fit_together(name, ["complex64", "complex128"])
        assert kernels_fit_together(name, ["complex64"]) and kernels_fit_together(name, ["complex128"])
    readme = (REPO / "fpga" / "README.md").read_text()
    links = [ln for ln in readme.splitlines() if ln.strip().startswith("v++ -l")]
    assert links and all(ln.count(".xo") == 1 for ln in links), links
