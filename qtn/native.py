"""Small C kernels of the host engine, compiled at first use and cached per machine.

The sources ship in ``qtn/data/native``; ``cc`` (``$CC``) builds each into a shared
library under ``$QTN_CACHE_DIR/native`` (default ``~/.cache/qtn/native``), keyed by a
hash of the source, compiler, flags and CPU, and ctypes loads it. Where no compiler
works, :func:`load` returns None and callers use their NumPy path.
"""

from __future__ import annotations

import ctypes
import hashlib
import importlib.resources
import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

from .host import cache_dir

CFLAGS = ("-O3", "-march=native", "-fopenmp", "-shared", "-fPIC", "-std=c11")

_lock = threading.Lock()
_loaded: dict[str, "ctypes.CDLL | None"] = {}
_errors: dict[str, str] = {}


def _cpu_flags() -> str:
    # -march=native code must not be reused on another CPU sharing the cache folder
    try:
        with open("/proc/cpuinfo") as f:
            return next((ln for ln in f if ln.startswith("flags")), "")
    except OSError:
        return ""


def _build(name: str) -> Path:
    compiler = shutil.which(os.environ.get("CC", "cc"))
    if compiler is None:
        raise OSError("no C compiler (cc or $CC) on PATH")
    source = (importlib.resources.files("qtn") / "data" / "native" / f"{name}.c").read_text()
    digest = hashlib.sha256("\0".join([source, compiler, " ".join(CFLAGS), _cpu_flags()]).encode()).hexdigest()[:16]
    folder = cache_dir("native") / f"{name}-{digest}"
    lib = folder / f"lib{name}.so"
    if lib.exists():
        return lib
    folder.mkdir(parents=True, exist_ok=True)
    src = folder / f"{name}.c"
    src.write_text(source)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".lib{name}.", suffix=".so")
    os.close(fd)
    try:
        proc = subprocess.run([compiler, *CFLAGS, str(src), "-o", tmp], capture_output=True, text=True, timeout=300)
        if proc.returncode != 0:
            raise OSError(f"{compiler} failed on {src}:\n{proc.stderr.strip()}")
        os.replace(tmp, lib)  # concurrent builders never load a half-written library
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return lib


_forked = False  # whether this process is a fork of one that may have started OpenMP threads


def _note_fork() -> None:
    global _forked
    _forked = True


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_note_fork)


def openmp_threads(wanted: int) -> int:
    """How many OpenMP threads a kernel may start: ``wanted``, or 1 in a forked child
    (GNU OpenMP's thread pool does not survive ``fork``: a child of a process that ran
    a parallel loop hangs in its first one, e.g. a ``multiprocessing`` worker)."""
    return 1 if _forked else wanted


def load(name: str) -> "ctypes.CDLL | None":
    """The compiled library of ``qtn/data/native/<name>.c``, or None where it cannot be built
    (the reason is in :func:`build_error`)."""
    with _lock:
        if name not in _loaded:
            # idle OpenMP threads must sleep, not spin: they would take the cores from BLAS
            os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
            try:
                _loaded[name] = ctypes.CDLL(str(_build(name)))
            except (OSError, subprocess.SubprocessError) as err:
                _loaded[name], _errors[name] = None, str(err)
        return _loaded[name]


def build_error(name: str) -> str | None:
    """Why :func:`load` returned None for ``name`` (None if it loaded or was not tried)."""
    return _errors.get(name)
