"""The OpenCL backend against NumPy: GEMMs at awkward sizes, permutations, transfers.

Runs on the first OpenCL device whose compiler builds the kernels. Where no device
can (none installed, or e.g. a PoCL whose LLVM predates the host CPU) the tests
skip with the backend's reason, unless QTN_REQUIRE_ALL_BACKENDS=1 makes that fail.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pyopencl")

from qtn.backends import BackendUnavailableError, get_backend  # noqa: E402
from qtn.backends import opencl, opencl_tiles  # noqa: E402
from qtn.backends.opencl_tiles import kernel_macros  # noqa: E402

DTYPES = [np.complex64, np.complex128]
REPO = Path(__file__).resolve().parents[1]

# Small, non-square tiles so that several tiles and every edge case appear at small
# sizes: one pass per tile (GPU style), and several passes of a smaller work-group
# with explicit vectors: C accumulated panel by panel in global memory, or held in
# local memory (C_LOCAL) by a 2-work-item group and by one work-item (PoCL style).
SMALL_TILES = {"TILE_M": 16, "TILE_N": 8, "TILE_K": 4, "WPT_M": 2, "WPT_N": 2}
PASSES_TILES = {"TILE_M": 12, "TILE_N": 16, "TILE_K": 8, "WPT_M": 3, "WPT_N": 8, "VW": 4, "WG_M": 2, "WG_N": 1}
C_LOCAL_TILES = {**PASSES_TILES, "C_LOCAL": 1}
ONE_ITEM_TILES = {**PASSES_TILES, "TILE_N": 32, "WG_M": 1, "C_LOCAL": 1}


@pytest.fixture(scope="module")
def be() -> opencl.OpenCLBackend:
    try:
        return get_backend("opencl")
    except BackendUnavailableError as err:
        if os.environ.get("QTN_REQUIRE_ALL_BACKENDS") == "1":
            raise
        pytest.skip(f"no OpenCL device here can build the kernels: {err}")


@pytest.fixture(scope="module")
def device_index(be: opencl.OpenCLBackend) -> int:
    import pyopencl as cl

    return [d.int_ptr for d in opencl._all_devices(cl)].index(be.device.int_ptr)


@pytest.fixture(scope="module", params=[SMALL_TILES, PASSES_TILES, C_LOCAL_TILES, ONE_ITEM_TILES],
                ids=["one-pass", "passes", "c-local", "one-item-c-local"])
def small(request, be: opencl.OpenCLBackend, device_index: int) -> opencl.OpenCLBackend:
    return opencl.OpenCLBackend(str(device_index), tiles=request.param)


@pytest.fixture(params=DTYPES, ids=["c64", "c128"])
def dtype(request, be: opencl.OpenCLBackend) -> np.dtype:
    if request.param == np.complex128 and not be.device.double_fp_config:
        pytest.skip(f"{be.name} reports no fp64 (cl_khr_fp64), so complex128 cannot run there")
    return np.dtype(request.param)


def crandn(rng: np.random.Generator, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)


def assert_gemm_close(c: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
    """Frobenius error within a few ulps times sqrt(k) of the result's norm."""
    ref = np.matmul(a.astype(np.complex128), b.astype(np.complex128))
    assert c.shape == ref.shape and c.dtype == a.dtype
    k = a.shape[-1]
    eps = np.finfo(a.dtype).eps
    err = np.linalg.norm(c - ref)
    assert err <= 16 * eps * np.sqrt(k) * np.linalg.norm(ref) + np.finfo(a.dtype).tiny, (err, np.linalg.norm(ref))


def run_gemm(backend: opencl.OpenCLBackend, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return backend.to_host(backend.matmul(backend.to_device(a), backend.to_device(b)))


def sizes(cfg: dict[str, int], case: tuple) -> tuple[int, int, int]:
    """(m, k, n) from ``(mult, add)`` pairs of the tile sizes, or from plain ints."""
    out = []
    for value, tile in zip(case, (cfg["TILE_M"], cfg["TILE_K"], cfg["TILE_N"])):
        out.append(value if isinstance(value, int) else value[0] * tile + value[1])
    return tuple(out)


T_MINUS, T, T_PLUS, T2_PLUS = (1, -1), (1, 0), (1, 1), (2, 1)
GEMM_CASES = [
    (1, 1, 1),
    (1, 37, 45),  # m = 1
    (45, 37, 1),  # n = 1
    (45, 1, 37),  # k = 1
    (T_MINUS, T_MINUS, T_MINUS),
    (T, T, T),
    (T_PLUS, T_PLUS, T_PLUS),
    (T2_PLUS, T2_PLUS, T2_PLUS),
    (T_PLUS, T2_PLUS, T_MINUS),
    (T2_PLUS, T_MINUS, 1),
    (300, 70, 130),  # non-square
    (4096, 8, 2),  # tall-skinny
    (2, 8, 1000),  # short-wide
]


@pytest.mark.parametrize("case", GEMM_CASES, ids=str)
def test_matmul_awkward_shapes(be, dtype, case):
    m, k, n = sizes(be.tile_config(dtype), case)
    rng = np.random.default_rng(m * 1_000_003 + k * 1009 + n)
    a, b = crandn(rng, (m, k), dtype), crandn(rng, (k, n), dtype)
    assert_gemm_close(run_gemm(be, a, b), a, b)


@pytest.mark.parametrize("case", GEMM_CASES[:11], ids=str)
def test_matmul_small_tiles(small, dtype, case):
    m, k, n = sizes(small.tile_config(dtype), case)
    rng = np.random.default_rng(7 + m + k + n)
    a, b = crandn(rng, (m, k), dtype), crandn(rng, (k, n), dtype)
    assert_gemm_close(run_gemm(small, a, b), a, b)


@pytest.mark.parametrize("batch", [1, 3, 7])
def test_matmul_batched(be, small, dtype, batch):
    rng = np.random.default_rng(batch)
    a, b = crandn(rng, (batch, 19, 33), dtype), crandn(rng, (batch, 33, 17), dtype)
    for backend in (be, small):
        assert_gemm_close(run_gemm(backend, a, b), a, b)


def test_matmul_broadcasts_side_without_batch(be, dtype):
    rng = np.random.default_rng(11)
    a2, b3 = crandn(rng, (5, 6), dtype), crandn(rng, (4, 6, 3), dtype)
    a3, b2 = crandn(rng, (2, 3, 5, 6), dtype), crandn(rng, (6, 3), dtype)
    assert_gemm_close(run_gemm(be, a2, b3), a2, b3)
    assert_gemm_close(run_gemm(be, a3, b2), a3, b2)


def test_skinny_products_get_small_tiles(be, small):
    c64 = np.dtype(np.complex64)
    big = be.tile_config(c64)
    assert be._gemm_config(c64, 4096, 8, 2, 1) != big
    assert be._gemm_config(c64, 16, 16, 16, 1024) != big
    assert be._gemm_config(c64, 1024, 1024, 1024, 1) == big
    # given tiles are always used as given
    assert small._gemm_config(c64, 4096, 8, 2, 1) == small.tile_config(c64)


def test_matmul_empty_and_k0(be):
    a, b = np.ones((3, 0), np.complex64), np.ones((0, 4), np.complex64)
    np.testing.assert_array_equal(run_gemm(be, a, b), np.zeros((3, 4), np.complex64))
    assert run_gemm(be, np.ones((0, 2), np.complex64), np.ones((2, 5), np.complex64)).shape == (0, 5)


def test_matmul_rejects_bad_operands(be):
    a = be.to_device(np.ones((2, 3), np.complex64))
    with pytest.raises(ValueError, match="inner dims"):
        be.matmul(a, a)
    with pytest.raises(TypeError, match="to_device"):
        be.matmul(np.ones((2, 3), np.complex64), a)
    with pytest.raises(TypeError, match="complex64 or complex128"):
        be.to_device(np.ones(3, np.float32))
    if be.device.double_fp_config:
        with pytest.raises(TypeError, match="dtype"):
            be.matmul(a, be.to_device(np.ones((3, 2), np.complex128)))
    with pytest.raises(ValueError, match="batch dims"):
        be.matmul(be.to_device(np.ones((2, 2, 3), np.complex64)), be.to_device(np.ones((3, 3, 2), np.complex64)))


@pytest.mark.parametrize("ndim", range(1, 9))
def test_transpose_reshape_random(be, dtype, ndim):
    rng = np.random.default_rng(100 + ndim)
    for _ in range(4):
        shape = tuple(int(s) for s in rng.integers(1, 5, ndim))
        x = crandn(rng, shape, dtype)
        perm = tuple(int(p) for p in rng.permutation(ndim))
        out_shape = (-1,) if ndim % 2 else tuple(x.transpose(perm).shape)
        got = be.to_host(be.transpose_reshape(be.to_device(x), perm, out_shape))
        np.testing.assert_array_equal(got, x.transpose(perm).reshape(out_shape))


def test_transpose_reshape_many_dims_and_rows(be):
    # 18 dims of size 2 (more than one permute work-item's rows), reversed
    x = crandn(np.random.default_rng(3), (2,) * 18, np.dtype(np.complex64))
    perm = tuple(range(17, -1, -1))
    got = be.to_host(be.transpose_reshape(be.to_device(x), perm, (512, 512)))
    np.testing.assert_array_equal(got, x.transpose(perm).reshape(512, 512))


def test_reshape_without_copy_shares_buffer(be):
    d = be.to_device(np.arange(24, dtype=np.complex64).reshape(2, 1, 3, 4))
    assert be.transpose_reshape(d, (0, 1, 2, 3), (6, 4)).buffer is d.buffer
    # moving only a size-1 dim moves no data either
    view = be.transpose_reshape(d, (1, 0, 2, 3), (1, 2, 3, 4))
    assert view.buffer is d.buffer
    np.testing.assert_array_equal(be.to_host(view), np.arange(24).reshape(1, 2, 3, 4))
    with pytest.raises(ValueError, match="permutation"):
        be.transpose_reshape(d, (0, 0, 1, 2), (24,))
    with pytest.raises(ValueError, match="reshape"):
        be.transpose_reshape(d, (0, 1, 2, 3), (5, 5))


@pytest.mark.parametrize("shape", [(), (0,), (1,), (7,), (3, 0, 2), (5, 3, 2)], ids=str)
def test_round_trip(be, dtype, shape):
    x = crandn(np.random.default_rng(5), shape, dtype)
    back = be.to_host(be.to_device(x))
    assert back.dtype == x.dtype and back.shape == x.shape and back.flags.c_contiguous
    np.testing.assert_array_equal(back, x)


def test_launches_split_into_blocks(be, small, monkeypatch):
    monkeypatch.setattr(opencl, "_MAX_GROUPS", 2)  # so that small products need several launches
    rng = np.random.default_rng(13)
    c64 = np.dtype(np.complex64)
    a, b = crandn(rng, (5, 70, 9), c64), crandn(rng, (5, 9, 20), c64)
    assert_gemm_close(run_gemm(small, a, b), a, b)  # 5 row-tiles x 5 batch entries
    a, b = crandn(rng, (300, 9), c64), crandn(rng, (9, 3), c64)
    assert_gemm_close(run_gemm(be, a, b), a, b)


def test_permute_empty(be):
    d = be.to_device(np.ones((3, 0, 2), np.complex64))
    assert be.to_host(be.transpose_reshape(d, (2, 0, 1), (2, 3, 0))).shape == (2, 3, 0)


def test_round_trip_non_contiguous(be):
    x = crandn(np.random.default_rng(6), (4, 6), np.dtype(np.complex64)).T
    np.testing.assert_array_equal(be.to_host(be.to_device(x)), x)


def test_byte_counters(be):
    x = np.ones((8, 16), np.complex64)
    be.reset_stats()
    assert be.stats() == {"bytes_to_device": 0, "bytes_to_host": 0}
    d = be.to_device(x)
    be.to_host(d)
    be.to_host(d)
    assert be.stats() == {"bytes_to_device": x.nbytes, "bytes_to_host": 2 * x.nbytes}
    be.reset_stats()
    assert be.stats() == {"bytes_to_device": 0, "bytes_to_host": 0}


def test_intermediates_stay_on_device(be):
    rng = np.random.default_rng(9)
    a, b, c = (crandn(rng, s, np.dtype(np.complex64)) for s in [(6, 8), (8, 10), (5, 6)])
    da, db, dc = be.to_device(a), be.to_device(b), be.to_device(c)
    be.reset_stats()
    ab = be.matmul(da, db)  # (6, 10)
    abt = be.transpose_reshape(be.transpose_reshape(ab, (1, 0), (10, 6)), (0, 1), (10, 6))
    out = be.matmul(be.transpose_reshape(dc, (0, 1), (5, 6)), be.transpose_reshape(abt, (1, 0), (6, 10)))
    be.synchronize()
    assert be.stats() == {"bytes_to_device": 0, "bytes_to_host": 0}
    host = be.to_host(out)
    assert be.stats()["bytes_to_host"] == host.nbytes
    assert_gemm_close(host, c, a @ b)


def test_build_error_carries_build_log(be, device_index):
    bad = {"TILE_M": 64, "TILE_N": 64, "TILE_K": 0, "WPT_M": 4, "WPT_N": 4}
    with pytest.raises(ValueError, match="TILE_K must be positive"):
        opencl.OpenCLBackend(str(device_index), tiles=bad)
    import pyopencl as cl

    # the kernel's own checks guard hand-made -D sets (the aoc commands)
    flags = [f"-D{k}={v}" for k, v in bad.items()]
    with pytest.raises(opencl.KernelBuildError, match="must be positive integers") as info:
        opencl._build(cl, be._context, opencl._kernel_source(), flags)
    assert "build log" in str(info.value)
    with pytest.raises(opencl.KernelBuildError, match="undeclared_thing"):
        opencl._build(cl, be._context, "__kernel void f(__global int *x) { x[0] = undeclared_thing; }", [])


def test_macro_set_is_complete_and_validated():
    full = kernel_macros({"TILE_M": 32, "TILE_N": 64, "TILE_K": 8, "WPT_M": 4, "WPT_N": 4, "ACC_INTERLEAVE": 2})
    assert list(full) == list(opencl_tiles.KERNEL_MACROS) and (full["WG_M"], full["WG_N"]) == (8, 8)
    with pytest.raises(ValueError, match="reads no macro PE_M"):
        kernel_macros({"TILE_M": 32, "TILE_N": 32, "TILE_K": 8, "WPT_M": 4, "WPT_N": 4, "PE_M": 4})
    with pytest.raises(ValueError, match="lack WPT_N"):
        kernel_macros({"TILE_M": 32, "TILE_N": 32, "TILE_K": 8, "WPT_M": 4})
    with pytest.raises(ValueError, match="TILE_N of WG_N"):
        kernel_macros({"TILE_M": 32, "TILE_N": 40, "TILE_K": 8, "WPT_M": 4, "WPT_N": 4, "ACC_INTERLEAVE": 8, "WG_N": 1})
    with pytest.raises(ValueError, match="VW"):
        kernel_macros({"TILE_M": 32, "TILE_N": 32, "TILE_K": 8, "WPT_M": 4, "WPT_N": 6, "VW": 4})
    with pytest.raises(TypeError, match="WPT_M"):
        kernel_macros({"TILE_M": 32, "TILE_N": 32, "TILE_K": 8, "WPT_M": 4.0, "WPT_N": 4})


def _configurable_macros() -> set[str]:
    """Macros the kernel takes from -D: each has a default (#ifndef) or a required check (!defined)."""
    import re

    src = opencl._kernel_source()
    return set(re.findall(r"#ifndef (\w+)", src)) | set(re.findall(r"!defined\((\w+)\)", src))


def test_every_macro_passed_is_read_and_every_macro_read_is_passed():
    host_set = {"REAL", "MAX_DIMS", "PERMUTE_ROWS"}  # passed by _kernels for every build
    assert _configurable_macros() == set(opencl_tiles.KERNEL_MACROS) | host_set


README = (REPO / "fpga" / "README.md").read_text()


@pytest.mark.parametrize("board", ["arria10_gx1150", "stratix10_gx2800"])
def test_readme_aoc_flags_compile_on_pocl(be, board):
    """The README's exact DEFS line, for each Intel board, builds cgemm.cl here."""
    import re

    import pyopencl as cl

    (line,) = [ln for ln in README.splitlines() if ln.startswith("DEFS=$(python -c")]
    code = re.match(r'DEFS=\$\(python -c "(.*)"\)$', line).group(1).replace("arria10_gx1150", board)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO,
                         env={**os.environ, "PYTHONPATH": str(REPO)})
    assert out.returncode == 0, out.stderr
    flags = out.stdout.split()
    names = {f[2:].split("=")[0] for f in flags}
    assert names == set(opencl_tiles.KERNEL_MACROS)
    program = opencl._build(cl, be._context, opencl._kernel_source(), flags)
    assert "cgemm" in program.kernel_names


BOARDS = ["arria10_gx1150", "stratix10_gx2800", "u250", "u280"]


@pytest.mark.parametrize("board", BOARDS)
def test_board_tiles_run_against_numpy(be, device_index, dtype, board):
    from qtn.fpga.boards import gemm_tiles

    backend = opencl.OpenCLBackend(str(device_index), board=board)
    t = gemm_tiles(board, dtype)
    cfg = backend.tile_config(dtype)
    assert cfg == kernel_macros(t.opencl_macros())  # the board's exact set, nothing else
    assert (cfg["WPT_M"], cfg["WPT_N"], cfg["ACC_INTERLEAVE"]) == (t.pe_m, t.pe_n, t.interleave)
    rng = np.random.default_rng(14)
    for m, k, n in [(70, 20, 33), (t.tile_m + 1, t.tile_k + 1, 3), (5, t.tile_k - 1, t.tile_n + 1)]:
        a, b = crandn(rng, (m, k), dtype), crandn(rng, (k, n), dtype)
        assert_gemm_close(run_gemm(backend, a, b), a, b)


def test_board_tiles_come_from_qtn_boards(be, device_index, monkeypatch):
    import types

    monkeypatch.setitem(sys.modules, "qtn.fpga.boards", types.SimpleNamespace())
    with pytest.raises(BackendUnavailableError, match="gemm_tiles"):
        opencl.OpenCLBackend(str(device_index), board="u280")


def test_configurations_the_device_cannot_run_are_refused(be, device_index):
    dev = be.device
    # the configuration that crashed PoCL: 2048 work-items x 16x16 accumulators each
    crash = {"TILE_M": 1024, "TILE_N": 512, "TILE_K": 4, "WPT_M": 16, "WPT_N": 16}
    if opencl_tiles.is_pocl(dev):
        with pytest.raises(ValueError, match="stack"):
            opencl.OpenCLBackend(str(device_index), tiles=crash)
    side = int(np.sqrt(dev.local_mem_size / 8)) + 64  # complex64: 8 * side * (side + 8) bytes
    with pytest.raises(ValueError, match="local memory"):
        opencl.OpenCLBackend(str(device_index), tiles={"TILE_M": side, "TILE_N": 8, "TILE_K": side, "WPT_M": side,
                                                        "WPT_N": 8, "WG_M": 1, "WG_N": 1})


def test_missing_wpt_is_chosen_to_fit(be, device_index):
    backend = opencl.OpenCLBackend(str(device_index), tiles={"TILE_M": 256, "TILE_N": 256, "TILE_K": 8})
    cfg = backend.tile_config()
    assert (cfg["TILE_M"] // cfg["WPT_M"]) * (cfg["TILE_N"] // cfg["WPT_N"]) <= be.device.max_work_group_size
    rng = np.random.default_rng(12)
    a, b = crandn(rng, (257, 9), np.dtype(np.complex64)), crandn(rng, (9, 300), np.dtype(np.complex64))
    assert_gemm_close(run_gemm(backend, a, b), a, b)


def test_unknown_device_lists_devices(be):
    with pytest.raises(BackendUnavailableError) as info:
        get_backend("opencl:nonexistent")
    assert "OpenCL devices:" in str(info.value) and be.device.name.strip() in str(info.value)
    with pytest.raises(BackendUnavailableError, match="no OpenCL device 999"):
        get_backend("opencl:999")


def test_select_by_index_and_name(be, device_index):
    by_index = get_backend(f"opencl:{device_index}")
    assert by_index.device.int_ptr == be.device.int_ptr
    assert by_index.name == f"opencl:{be.device.name.strip()}"
    by_name = get_backend(f"opencl:{be.device.name.strip().upper()}")
    assert by_name.device.name == be.device.name
    if device_index == 0:
        assert get_backend("opencl:0").device.int_ptr == be.device.int_ptr


def test_memory_budget_fits_one_buffer(be):
    assert 0 < be.memory_budget() <= be.device.max_mem_alloc_size
    # small operands, a 512 GiB product: refused before anything is allocated
    col, row = be.to_device(np.ones((2**18, 1), np.complex64)), be.to_device(np.ones((1, 2**18), np.complex64))
    with pytest.raises(ValueError, match="largest buffer"):
        be.matmul(col, row)


@pytest.mark.timeout(120)
def test_installed_wheel_ships_kernel_source(tmp_path):
    """A non-editable install finds cgemm.cl through importlib.resources."""
    src = tmp_path / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "build")
    shutil.copytree(REPO / "qtn", src / "qtn", symlinks=True, ignore=ignore)
    shutil.copytree(REPO / "fpga", src / "fpga", ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        if (REPO / name).exists():
            shutil.copy(REPO / name, src / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    # no build isolation: no network, and the venv's setuptools follows the symlink
    wheels = tmp_path / "w"
    subprocess.run([*pip, "wheel", str(src), "-w", str(wheels), "--no-deps", "--no-build-isolation"], check=True)
    (wheel,) = wheels.glob("qtn-*.whl")
    target = tmp_path / "site"
    subprocess.run([*pip, "install", "--no-deps", "--target", str(target), str(wheel)], check=True)
    probe = (
        "import importlib.resources as r, qtn.backends.opencl as o; "
        "f = r.files('qtn') / 'data' / 'kernels' / 'cgemm.cl'; "
        "print(o.__file__); print('void cgemm(' in o._kernel_source() and f.is_file())"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    out = subprocess.run([sys.executable, "-c", probe], env=env, cwd=tmp_path, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    where, ok = out.stdout.split()
    assert where.startswith(str(target)) and ok == "True", out.stdout


# --- per-device tile tuning ----------------------------------------------------------

TUNE_CANDIDATES = [
    {"TILE_M": 16, "TILE_N": 8, "TILE_K": 4, "WPT_M": 2, "WPT_N": 2},
    {"TILE_M": 8, "TILE_N": 8, "TILE_K": 8, "WPT_M": 2, "WPT_N": 2},
]


def test_tiles_are_tuned_once_per_device_and_cached(be, device_index, monkeypatch, tmp_path):
    monkeypatch.setenv("QTN_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("QTN_OPENCL_TUNE", raising=False)
    monkeypatch.setattr(opencl_tiles, "candidates", lambda *a, small=False: [dict(c) for c in TUNE_CANDIDATES])
    monkeypatch.setattr(opencl_tiles, "tuning_size", lambda kind: 64)
    timed = []
    real = opencl.OpenCLBackend._time_config

    def time_config(self, cfg, dtype, n):
        timed.append(dict(cfg))
        return real(self, cfg, dtype, n) * (10.0 if cfg == TUNE_CANDIDATES[0] else 1.0)  # the second must win

    monkeypatch.setattr(opencl.OpenCLBackend, "_time_config", time_config)
    first = opencl.OpenCLBackend(str(device_index))
    assert timed == TUNE_CANDIDATES
    assert first.tile_config()["TILE_K"] == 8
    (cache_file,) = (tmp_path / "opencl").glob("tiles.json")
    (entry,) = json.loads(cache_file.read_text()).values()
    assert entry["macros"] == TUNE_CANDIDATES[1] and len(entry["gflops"]) == 2
    # a second backend on the device reads the cache and times nothing
    timed.clear()
    again = opencl.OpenCLBackend(str(device_index))
    assert timed == [] and again.tile_config() == first.tile_config()
    rng = np.random.default_rng(21)
    a, b = crandn(rng, (33, 17), np.dtype(np.complex64)), crandn(rng, (17, 9), np.dtype(np.complex64))
    assert_gemm_close(run_gemm(again, a, b), a, b)
    # QTN_OPENCL_TUNE=0: the first candidate without a search; force: search again
    monkeypatch.setenv("QTN_OPENCL_TUNE", "0")
    assert opencl.OpenCLBackend(str(device_index)).tile_config()["TILE_K"] == 4 and timed == []
    monkeypatch.setenv("QTN_OPENCL_TUNE", "force")
    opencl.OpenCLBackend(str(device_index))
    assert timed == TUNE_CANDIDATES


def test_candidates_fit_this_device(be):
    for dtype in (np.dtype(np.complex64), np.dtype(np.complex128)):
        found = opencl_tiles.candidates(opencl._kind(be._cl, be.device), be.device, dtype)
        assert found and all(be._fits(c, dtype) for c in found)
