"""The backend interface and the registry of backends.

A backend owns one device. The host side (``qtn.gemm`` / ``qtn.execute``) decides
every permutation and shape; a backend only moves arrays, permutes/reshapes them
and multiplies them. Tensors stay on the device between consecutive steps and come
back to the host once per slice.
"""

from __future__ import annotations

import abc
import importlib
from typing import Any, Callable, Sequence

import numpy as np

#: A device array: whatever the backend uses (``np.ndarray``, ``pyopencl.array.Array``, ...).
Array = Any


class BackendUnavailableError(RuntimeError):
    """A backend exists but cannot start here (no OpenCL platform, no compiler, ...)."""


class Backend(abc.ABC):
    """One device that can run the matrix multiplies of a contraction.

    Subclasses implement the five methods below. Every method must accept
    ``complex64`` and ``complex128`` arrays (a backend without fp64 raises
    ``TypeError`` for ``complex128`` with a message saying so).
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
        """``a.transpose(perm).reshape(shape)`` as a new C-contiguous device array.

        ``perm`` may be the identity, in which case only the shape changes.
        """

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
        usable = [b for b in available_backends() if b != base and _can_start(b)]
        raise BackendUnavailableError(f"{err} (backends that start here: {', '.join(usable) or 'none'})") from err
    _INSTANCES[key] = backend
    return backend


def _can_start(name: str) -> bool:
    try:
        get_backend(name)
    except Exception:
        return False
    return True
