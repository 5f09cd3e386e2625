"""One BLAS thread for a stretch of tiny matrix products.

OpenBLAS runs even a 16 x 16 by 16 x 4096 product on all its threads; on a loaded
machine a thread that waits for a core makes every such product many times slower
(30x measured here, load 5 on 2 cores). Code that runs thousands of tiny products in
a row (building fused gate blocks, applying them to a small state) runs them on one.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Iterator

_libs: list = []  # threadpoolctl controllers of the loaded BLAS libraries, found once
_lock = threading.Lock()


def _blas_libs() -> list:
    with _lock:
        if not _libs:
            try:
                from threadpoolctl import ThreadpoolController

                _libs.append([lib for lib in ThreadpoolController().lib_controllers if lib.user_api == "blas"])
            except Exception:  # noqa: BLE001 - no threadpoolctl, or a library it cannot drive
                _libs.append([])
        return _libs[0]


_requests: list[int] = []  # BLAS thread counts asked for by the blocks open now, in any thread
_saved: list[int] = []  # the counts before the first of them
_state_lock = threading.Lock()


@contextlib.contextmanager
def blas_limited(n: int) -> Iterator[None]:
    """BLAS on at most ``n`` threads inside the block, for every thread of the process.

    Blocks open in several threads at once may close in any order: the first to open
    saves the settings, the tightest open one applies, the last to close puts the saved
    ones back. (Nested save-and-restore per block, threadpoolctl's way, restores in
    the wrong order when blocks of two threads overlap, which can leave BLAS on one
    thread for the rest of the process.)
    """
    global _saved
    libs = _blas_libs()
    with _state_lock:
        if not _requests:
            _saved = [lib.num_threads for lib in libs]
        _requests.append(n)
        for lib in libs:
            lib.set_num_threads(min(_requests))
    try:
        yield
    finally:
        with _state_lock:
            _requests.remove(n)
            for lib, k in zip(libs, _saved):
                lib.set_num_threads(min(_requests) if _requests else k)


@contextlib.contextmanager
def one_blas_thread(active: bool = True) -> Iterator[None]:
    """BLAS limited to one thread inside the block (when ``active``), put back after
    (see :func:`blas_limited`)."""
    if not active:
        yield
        return
    with blas_limited(1):
        yield


def current_limit() -> int | None:
    """The BLAS thread count the open :func:`blas_limited` blocks ask for (the tightest),
    or None outside any: native kernels that stand in for BLAS take the same limit."""
    with _state_lock:
        return min(_requests) if _requests else None
