"""The backend interface and the registry of backends.

A backend owns one device. The host side (``qtn.gemm`` / ``qtn.execute``) decides
every permutation and shape; a backend only moves arrays, permutes/reshapes them
and multiplies them. Tensors stay on the device between consecutive steps and come
back to the host once per slice.
"""

from __future__ import annotations

import abc
import importlib
import functools
import json
import os
import platform
import threading
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

#: A device array: whatever the backend uses (``np.ndarray``, ``pyopencl.array.Array``, ...).
Array = Any


class BackendUnavailableError(RuntimeError):
    """A backend exists but cannot start here (no OpenCL platform, no compiler, ...)."""


class Backend(abc.ABC):
    """One device that can run the matrix multiplies of a contraction.

    Subclasses implement the five abstract methods below. Every method must accept
    ``complex64`` and ``complex128`` arrays (a backend without fp64 raises
    ``TypeError`` for ``complex128`` with a message saying so).

    The device's facts live here too, never in a module constant elsewhere:
    :meth:`memory_budget`, :meth:`flop_rate` (measured once per machine and backend
    by a short GEMM probe, cached on disk) and :meth:`tile_config`.
    """

    #: Registry name, e.g. ``"numpy"`` or ``"opencl:pthread-AMD EPYC"``.
    name: str = "abstract"

    @abc.abstractmethod
    def memory_budget(self) -> int:
        """Bytes that one intermediate tensor may take on this device."""

    @abc.abstractmethod
    def to_device(self, a: np.ndarray) -> Array:
        """Copy a host array to the device (keeps shape and dtype)."""

    @abc.abstractmethod
    def to_host(self, a: Array) -> np.ndarray:
        """Copy a device array back to a C-contiguous host ``np.ndarray``."""

    @abc.abstractmethod
    def matmul(self, a: Array, b: Array) -> Array:
        """``(..., m, k) @ (..., k, n) -> (..., m, n)``; leading batch dims must match."""

    @abc.abstractmethod
    def transpose_reshape(self, a: Array, perm: Sequence[int], shape: Sequence[int]) -> Array:
        """``a.transpose(perm).reshape(shape)``, laid out C-contiguously in that shape.

        ``perm`` may be the identity, in which case only the shape changes. The result
        may share memory with ``a`` (a view, where no data has to move): qtn never
        writes into a device array after it is made, so callers must not either.
        """

    def flop_rate(self, dtype: Any = np.complex64) -> float:
        """Real flop/s this device reaches on a GEMM of ``dtype`` (8 per complex multiply-add).

        Measured once per machine and backend by :func:`measure_flop_rate` and kept
        on disk (``$XDG_CACHE_HOME/qtn/hardware/flop_rates.json``, beside the plan
        cache); it decides how long a path search is worth, chunk sizes and
        progress bars. The one time it measures, the probe's own GEMM shows in
        :meth:`stats` like any other.
        """
        dtype = np.dtype(dtype)
        key = f"{type(self).__module__}.{type(self).__qualname__}:{self.name}|{dtype}|{machine_id()}"

        def measure() -> float:
            try:
                return measure_flop_rate(self, dtype)
            except TypeError:  # a device without fp64: its complex64 rate bounds the search
                return measure_flop_rate(self, np.complex64)

        return _rates.get(key, measure)

    def tile_config(self, dtype: Any = np.complex64) -> dict[str, int]:
        """The GEMM tile sizes the device runs with (empty where it has none of its own)."""
        return {}

    def synchronize(self) -> None:  # pragma: no cover - trivial default
        """Block until queued device work is done (for timing). Default: no-op."""

    def stats(self) -> dict[str, int]:
        """Counters a backend keeps (e.g. host<->device bytes). Default: none."""
        return {}

    def reset_stats(self) -> None:
        """Zero the counters of :meth:`stats`. Default: no-op."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


# name -> "module:factory". Modules are imported only when a backend is asked for,
# so ``import qtn`` never imports pyopencl.
_REGISTRY: dict[str, str] = {
    "numpy": "qtn.backends.numpy:NumpyBackend",
    "opencl": "qtn.backends.opencl:OpenCLBackend",
    "hls": "qtn.backends.hls:HLSBackend",
    "rtl": "qtn.backends.rtl:make_rtl_backend",
}

_INSTANCES: dict[str, Backend] = {}


def available_backends() -> list[str]:
    """Registered backend names (whether or not they can start on this machine)."""
    return sorted(_REGISTRY)


def _load_factory(spec: str) -> Callable[..., Backend]:
    module_name, attr = spec.split(":")
    return getattr(importlib.import_module(module_name), attr)


def get_backend(name: "str | Backend | None" = None) -> Backend:
    """Return the backend object for ``name``.

    Args:
        name: ``"numpy"`` (default), ``"opencl"``, ``"opencl:<device name or index>"``,
            ``"hls"`` or ``"hls:<board>"``, or a :class:`Backend` instance (returned as is).

    Returns:
        A started backend; instances are cached by name, so kernels are compiled once.

    Raises:
        TypeError: ``name`` is neither a string nor a Backend.
        ValueError: unknown name; the message lists the valid ones.
        BackendUnavailableError: the backend cannot start here; the message says why
            and lists the backends that can.
    """
    if name is None:
        name = "numpy"
    if isinstance(name, Backend):
        return name
    if not isinstance(name, str):
        raise TypeError(f"backend must be a name (str) or a qtn Backend, not {type(name).__name__}")
    key = name.strip()
    if key in _INSTANCES:
        return _INSTANCES[key]
    base, _, option = key.partition(":")
    base = base.lower()
    if base not in _REGISTRY:
        raise ValueError(
            f"unknown backend {name!r}; valid: {', '.join(available_backends())} "
            "(with an optional ':<device>' for opencl, ':<board>' for hls and rtl)"
        )
    factory = _load_factory(_REGISTRY[base])
    try:
        backend = factory(option) if option else factory()
    except BackendUnavailableError as err:
        # only backends already started are named: starting the others here would
        # compile kernels or probe devices inside an error path
        started = sorted({k.partition(":")[0] for k in _INSTANCES} | {"numpy"})
        raise BackendUnavailableError(f"{err} (backends that start here: {', '.join(started)})") from err
    _INSTANCES[key] = backend
    return backend


@functools.cache
def machine_id() -> str:
    """This machine's CPU model and core count (what a measured rate depends on)."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            model = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), model)
    except OSError:
        pass
    return f"{model} x{os.cpu_count()}"


#: The probe stops growing the GEMM once one product takes this long.
PROBE_SECONDS = 0.02


def measure_flop_rate(backend: Backend, dtype: Any = np.complex64, max_n: int = 1024) -> float:
    """Real flop/s of ``backend`` on square GEMMs: the size doubles from 256 until one
    product takes ``PROBE_SECONDS`` (or ``max_n``); the best of three runs is kept, so
    a stall of a shared machine does not stick as the device's rate."""
    dtype = np.dtype(dtype)
    rng = np.random.default_rng(0)
    n, best = 256, 0.0
    while True:
        a = backend.to_device((rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n))).astype(dtype))
        seconds = []
        for _ in range(3):
            t0 = time.perf_counter()
            backend.to_host(backend.matmul(a, a))
            seconds.append(time.perf_counter() - t0)
        best = 8.0 * n**3 / max(min(seconds), 1e-9)
        if min(seconds) >= PROBE_SECONDS or n >= max_n:
            return best
        n *= 2


class _RateCache:
    """Measured rates in memory and in one JSON file (rewritten atomically).

    Each rate is stored with the machine's load per core when it was measured. One
    measured on a busy machine (over :data:`QUIET_LOAD` per core) is measured again by
    a later process that finds the machine quiet, and the higher figure kept: a probe
    that shared its cores once must not stand for the machine for good.
    """

    #: Load average per core under which a measurement counts as quiet.
    QUIET_LOAD = 0.5
    _LOADS = "__load_per_core__"  # the file's entry of the loads, by rate key

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rates: dict[str, float] | None = None
        self._loads: dict[str, float] = {}

    def _path(self):
        from ..host import cache_dir

        moved = os.environ.get("QTN_PLAN_CACHE", "")
        if moved and moved.lower() not in ("off", "0", "none"):  # beside a plan cache moved elsewhere (tests do)
            return Path(os.environ["QTN_PLAN_CACHE"]) / "hardware" / "flop_rates.json"
        return cache_dir("hardware") / "flop_rates.json"

    def _load(self) -> None:
        try:
            loaded = json.loads(self._path().read_text())
            loads = loaded.pop(self._LOADS, {})
            self._rates = {k: float(v) for k, v in loaded.items() if float(v) > 0}
            self._loads = {k: float(v) for k, v in loads.items()}
        except (OSError, ValueError, TypeError, AttributeError):
            self._rates, self._loads = {}, {}  # none yet, or a corrupt file: measure again

    def get(self, key: str, measure: Callable[[], float]) -> float:
        with self._lock:
            if self._rates is None:
                self._load()
            if key in self._rates:
                # a rate without a recorded load (an older file) is taken as measured quietly;
                # the load is read only for one measured on a busy machine
                if self._loads.get(key, 0.0) <= self.QUIET_LOAD or _load_per_core() > self.QUIET_LOAD:
                    return self._rates[key]
        load = _load_per_core()
        rate = float(measure())
        with self._lock:
            rate = max(rate, self._rates.get(key, 0.0))
            self._rates[key] = rate
            self._loads[key] = load
            try:
                from ..plan_cache import write_atomic

                text = json.dumps({**self._rates, self._LOADS: self._loads}, indent=1, sort_keys=True)
                write_atomic(self._path(), text)
            except OSError:
                pass  # an unwritable cache only costs a probe per process
        return rate


def _load_per_core() -> float:
    try:
        return os.getloadavg()[0] / max(1, len(os.sched_getaffinity(0)))
    except (OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 0.0


_rates = _RateCache()
