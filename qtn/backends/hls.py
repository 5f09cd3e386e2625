"""The HLS backend: the FPGA GEMM kernel (``fpga/hls/cgemm.cpp``) in C simulation.

The kernel is the C++ that Vitis HLS would synthesize for a board; here g++ builds it
into a shared library with that board's ``config.h`` (tile sizes from
:func:`qtn.fpga.boards.gemm_tiles`) and ctypes calls it. Arrays stay in host memory, so
"device" transfers are copies, counted in :meth:`HLSBackend.stats` as if they crossed
PCIe. Times measured here are CPU times of the simulation, not board times; for those
see :func:`qtn.fpga.board_time.modelled_time`.
"""

from __future__ import annotations

import ctypes
import hashlib
import importlib.resources
import os
import platform
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Sequence

import numpy as np

from ..fpga import boards
from .base import Backend, BackendUnavailableError
from ..host import cache_dir

#: Flags of the C-simulation build (warnings the HLS coding style triggers are silenced).
CXXFLAGS = ("-O3", "-march=native", "-std=c++17", "-shared", "-fPIC", "-Wno-unknown-pragmas", "-Wno-unused-label")
LIBRARY_NAME = "libqtn_cgemm.so"
DEFAULT_BOARD = "u280"

_INT_MAX = 2**31 - 1
#: Bytes of one kernel port word (512-bit AXI): rows of k and n are padded to whole words.
WORD_BYTES = 64
_load_lock = threading.Lock()
# The kernel's tile buffers are static arrays, so one call at a time per loaded library
# (backends of one board share the library: dlopen returns the same handle).
_call_locks: dict[str, threading.Lock] = {}


class HLSBuildError(RuntimeError):
    """g++ failed to build the C-simulation kernel; the message carries its stderr."""


def kernel_source() -> str:
    """The text of ``cgemm.cpp`` shipped in ``qtn/data/hls``."""
    return (importlib.resources.files("qtn") / "data" / "hls" / "cgemm.cpp").read_text()


def cache_root() -> Path:
    """Per-user build cache: ``$QTN_CACHE_DIR/hls`` or ``$XDG_CACHE_HOME/qtn/hls``
    (``~/.cache/qtn/hls``). Never inside the package, which may be read-only."""
    return cache_dir("hls")


def find_compiler() -> str | None:
    """Path of the C++ compiler to use (``$CXX`` if set, else ``g++``), or None."""
    return shutil.which(os.environ.get("CXX", "g++"))


def _cpu_tag() -> str:
    # -march=native code must not be reused on another CPU sharing the cache dir
    try:
        with open("/proc/cpuinfo") as f:
            lines = [ln.strip() for ln in f if ln.startswith(("model name", "flags"))]
        return "\n".join(lines[:1] + [ln for ln in lines if ln.startswith("flags")][:1])
    except OSError:
        return platform.processor() or platform.machine()


def _write_atomic(path: Path, data: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        f.write(data)
    os.replace(tmp, path)


def build_library(config_text: str, label: str = "custom", compiler: str | None = None,
                  root: Path | None = None) -> Path:
    """Build (or reuse) the C-simulation library for one ``config.h``.

    The build directory is ``<root>/<label>-<hash>`` where the hash covers the kernel
    source, the config, the compiler, its flags and the CPU; a finished library there
    is reused. g++ writes to a temporary file that is renamed into place, so concurrent
    builders never load a half-written library.

    Args:
        config_text: the text of ``config.h`` (see :func:`qtn.fpga.boards.hls_config_text`).
        label: readable prefix of the build directory (e.g. the board name).
        compiler: C++ compiler; default :func:`find_compiler`.
        root: cache root; default :func:`cache_root`.

    Returns:
        The path of the shared library.

    Raises:
        BackendUnavailableError: no C++ compiler.
        HLSBuildError: the compiler failed; the message includes its stderr.
    """
    compiler = compiler or find_compiler()
    if compiler is None:
        raise BackendUnavailableError("the hls backend needs g++ (or $CXX) on PATH to build its C-simulation kernel; none found")
    source = kernel_source()
    try:
        version = subprocess.run([compiler, "-dumpfullversion", "-dumpversion"], capture_output=True,
                                 text=True, timeout=60).stdout.strip()
    except (OSError, subprocess.SubprocessError) as err:
        raise BackendUnavailableError(f"the hls backend cannot run the C++ compiler {compiler}: {err}") from err
    digest = hashlib.sha256("\0".join([source, config_text, compiler, version, " ".join(CXXFLAGS), _cpu_tag()])
                            .encode()).hexdigest()[:16]
    build_dir = (root or cache_root()) / f"{label}-{digest}"
    lib = build_dir / LIBRARY_NAME
    if lib.exists():
        return lib
    try:
        build_dir.mkdir(parents=True, exist_ok=True)
        # cgemm.cpp includes "config.h" from its own directory: both go side by side.
        _write_atomic(build_dir / "config.h", config_text)
        _write_atomic(build_dir / "cgemm.cpp", source)
    except OSError as err:
        raise HLSBuildError(f"cannot write the HLS build directory {build_dir}: {err} "
                            "(set QTN_CACHE_DIR or XDG_CACHE_HOME to a writable folder)") from err
    fd, tmp = tempfile.mkstemp(dir=build_dir, prefix=f".{LIBRARY_NAME}.", suffix=".tmp")
    os.close(fd)
    try:
        proc = subprocess.run([compiler, *CXXFLAGS, str(build_dir / "cgemm.cpp"), "-o", tmp],
                              capture_output=True, text=True, timeout=600)
        if proc.returncode != 0:
            raise HLSBuildError(f"building the HLS C-simulation kernel in {build_dir} failed "
                                f"({compiler} exit {proc.returncode}):\n{proc.stderr.strip()}")
        os.replace(tmp, lib)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return lib


class HLSBackend(Backend):
    """The board GEMM kernel in C simulation (host memory, g++-built, via ctypes).

    Args:
        board: board name (default ``"u280"``) whose tiles configure the kernel;
            ``get_backend("hls:u250")`` passes ``"u250"``.
        cache_dir: where to build; default :func:`cache_root`.

    Raises:
        ValueError: unknown board (the message lists the valid ones).
        BackendUnavailableError: no C++ compiler on PATH.
    """

    def __init__(self, board: str = DEFAULT_BOARD, cache_dir: "str | os.PathLike[str] | None" = None) -> None:
        self.board = boards.load_board(board)
        self.name = f"hls:{self.board.name}"
        self.compiler = find_compiler()
        if self.compiler is None:
            raise BackendUnavailableError("the hls backend needs g++ (or $CXX) on PATH to build its C-simulation kernel; none found")
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self._lib: ctypes.CDLL | None = None
        self._call_lock = threading.Lock()
        self.reset_stats()

    # -- library ------------------------------------------------------------------
    def library_path(self) -> Path:
        """Build (once) and return the path of this board's kernel library."""
        return build_library(boards.hls_config_text(self.board), label=self.board.name,
                             compiler=self.compiler, root=self.cache_dir)

    def _kernel(self, dtype: np.dtype):
        if self._lib is None:
            with _load_lock:
                if self._lib is None:
                    path = str(self.library_path())
                    lib = ctypes.CDLL(path)
                    self._call_lock = _call_locks.setdefault(path, threading.Lock())
                    for fn, ptr in (("qtn_cgemm_c64", ctypes.c_float), ("qtn_cgemm_c128", ctypes.c_double)):
                        f = getattr(lib, fn)
                        f.argtypes = [ctypes.POINTER(ptr)] * 3 + [ctypes.c_int] * 4  # 64-byte aligned words
                        f.restype = None
                    self._lib = lib
        if dtype == np.complex64:
            return self._lib.qtn_cgemm_c64, ctypes.c_float
        return self._lib.qtn_cgemm_c128, ctypes.c_double

    # -- Backend interface --------------------------------------------------------
    def memory_budget(self) -> int:
        """The board's off-chip memory size: intermediates live in DDR4/HBM."""
        return self.board.off_chip.size_bytes

    def to_device(self, a: np.ndarray) -> np.ndarray:
        out = np.array(a, copy=True, order="C")
        self._stats["bytes_to_device"] += out.nbytes
        return out

    def to_host(self, a: np.ndarray) -> np.ndarray:
        out = np.array(a, copy=True, order="C")
        self._stats["bytes_to_host"] += out.nbytes
        return out

    def transpose_reshape(self, a: np.ndarray, perm: Sequence[int], shape: Sequence[int]) -> np.ndarray:
        """``a.transpose(perm).reshape(shape)``, done by the host (the kernel has no
        permute yet): the bytes of every permutation that moves data are counted in
        ``host_permute_bytes``; on a board each would cross PCIe down and back up."""
        if tuple(perm) != tuple(range(a.ndim)):
            a = a.transpose(perm)
        out = np.asarray(a.reshape(shape), order="C")  # keeps 0-d arrays 0-d
        if not np.shares_memory(out, a):
            self._stats["host_permute_bytes"] += out.nbytes
        return out

    def matmul(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """``(..., m, k) @ (..., k, n)`` on the C-simulation kernel.

        Raises:
            TypeError: an operand that is not complex64 / complex128.
            ValueError: shapes that do not multiply, or a dimension over 2**31 - 1.
        """
        a, b = np.asarray(a), np.asarray(b)
        for name, x in (("a", a), ("b", b)):
            if x.dtype not in (np.complex64, np.complex128):
                raise TypeError(f"hls matmul takes complex64 or complex128 operands; {name} is {x.dtype}")
            if x.ndim < 2:
                raise ValueError(f"hls matmul needs operands with at least 2 dims; {name} has shape {x.shape}")
        dtype = np.result_type(a.dtype, b.dtype)
        m, k = a.shape[-2:]
        k2, n = b.shape[-2:]
        if k != k2:
            raise ValueError(f"hls matmul: inner dimensions differ: {a.shape} @ {b.shape}")
        lead = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        batch = int(np.prod(lead, dtype=np.int64))
        if max(batch, m, k, n) > _INT_MAX:
            raise ValueError(f"hls matmul: a dimension of {a.shape} @ {b.shape} exceeds the kernel's int range")
        cpw = WORD_BYTES // np.dtype(dtype).itemsize  # complex numbers per port word
        kp, n_pad = -(-k // cpw) * cpw, -(-n // cpw) * cpw
        out = np.empty((batch, m, n), dtype=dtype)
        if out.size:
            # the kernel reads whole 512-bit words: rows of k and n padded with zeros,
            # 64-byte aligned (the host lays the operands out; counted as permute bytes)
            a3 = _aligned_zeros((batch, m, kp), dtype)
            b3 = _aligned_zeros((batch, kp, n_pad), dtype)
            a3[:, :, :k] = np.broadcast_to(a, lead + (m, k)).reshape(batch, m, k)
            b3[:, :k, :n] = np.broadcast_to(b, lead + (k, n)).reshape(batch, k, n)
            c3 = _aligned_zeros((batch, m, n_pad), dtype)
            kernel, ctype = self._kernel(dtype)
            ptr = ctypes.POINTER(ctype)
            with self._call_lock:
                kernel(a3.ctypes.data_as(ptr), b3.ctypes.data_as(ptr), c3.ctypes.data_as(ptr), batch, m, kp, n_pad)
            out[...] = c3[:, :, :n]
            if (kp, n_pad) != (k, n):
                self._stats["host_permute_bytes"] += a3.nbytes + b3.nbytes + c3.nbytes
            self._stats["gemm_calls"] += 1
            self._stats["flops"] += 8 * batch * m * k * n
        return out.reshape(lead + (m, n))

    def stats(self) -> dict[str, int]:
        """``bytes_to_device`` / ``bytes_to_host`` (copies that would cross PCIe),
        ``host_permute_bytes`` (tensors the host re-lays out between steps:
        permutations, and operands padded to whole 512-bit words; on a board each
        would go to the host and back, until the device permutes), ``gemm_calls`` and
        ``flops`` (8 per complex multiply-add)."""
        return dict(self._stats)

    def reset_stats(self) -> None:
        self._stats = {"bytes_to_device": 0, "bytes_to_host": 0, "host_permute_bytes": 0, "gemm_calls": 0, "flops": 0}


def _aligned_zeros(shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """A zeroed C-contiguous array whose data starts on a 64-byte (port word) boundary."""
    nbytes = int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
    raw = np.zeros(nbytes + WORD_BYTES, np.uint8)
    start = -raw.ctypes.data % WORD_BYTES
    return raw[start : start + nbytes].view(dtype).reshape(shape)
