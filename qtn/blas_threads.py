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


@contextlib.contextmanager
def one_blas_thread(active: bool = True) -> Iterator[None]:
    """BLAS limited to one thread inside the block (when ``active``), put back after."""
    if not active:
        yield
        return
    libs = _blas_libs()
    before = [lib.num_threads for lib in libs]
    for lib in libs:
        lib.set_num_threads(1)
    try:
        yield
    finally:
        for lib, k in zip(libs, before):
            lib.set_num_threads(k)
