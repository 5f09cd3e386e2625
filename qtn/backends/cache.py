"""The per-user cache folder of the backends (kernel builds, tuned tiles)."""

from __future__ import annotations

import os
from pathlib import Path


def cache_root(sub: str) -> Path:
    """``$QTN_CACHE_DIR/<sub>`` or ``$XDG_CACHE_HOME/qtn/<sub>`` (``~/.cache/qtn/<sub>``).

    Never inside the package, which may be read-only.
    """
    if os.environ.get("QTN_CACHE_DIR"):
        return Path(os.environ["QTN_CACHE_DIR"]) / sub
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "qtn" / sub
