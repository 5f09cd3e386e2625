"""Facts about this user and process that several modules need: where per-user caches
live and how many cores this process may use. One copy, so every cache honours the
same environment variables and every pool sizes itself the same way."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir(sub: str) -> Path:
    """``$QTN_CACHE_DIR/<sub>``, else ``$XDG_CACHE_HOME/qtn/<sub>`` (``~/.cache/qtn/<sub>``).

    Never inside the package, which may be read-only. Empty variables count as unset.
    (The plan cache's own ``$QTN_PLAN_CACHE`` is read by :mod:`qtn.plan_cache`.)
    """
    if os.environ.get("QTN_CACHE_DIR"):
        return Path(os.environ["QTN_CACHE_DIR"]) / sub
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "qtn" / sub


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity, not the machine's count), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)
