"""Reused host buffers for a slice's intermediates: a small pool per worker thread.

Every slice of a plan runs the same steps with the same shapes, so the buffers one
slice frees are exactly those the next one needs. Taking them from a pool instead of
``np.empty`` means a large intermediate is not ``mmap``-ed, page-faulted and zeroed
by the kernel again for every step of every slice (glibc hands blocks over its mmap
threshold straight back to the system, and Dask's nanny lowers that threshold).

A pool is keyed by exact byte size and bounded: the bytes it holds, in use and free,
stay under its ``limit`` (the peak one slice may hold), evicting the least recently
freed buffers first. Each thread has its own pool (threads of one process never share
a buffer); a pool serves one run (``key``) at a time. A worker thread's pool passes its
free buffers on to that thread's next run (held memory stays under the new run's
limit); :func:`drop` at the end of a run in this process lets them go, so a caller's
process holds nothing after a contraction.

Set ``QTN_BUFFER_POOL=0`` in the environment (or :data:`ENABLED` to False) to allocate
afresh for every intermediate, e.g. to measure what the pool saves.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections import OrderedDict
from typing import Any

import numpy as np

#: Smaller buffers are not pooled: glibc serves them from its heap without new pages
#: (its default mmap threshold is 128 KiB), and at that size a pool's bookkeeping costs
#: more than the allocation it saves.
MIN_BYTES = 128 << 10
#: Whether :func:`pool_for` hands out pools (False: every intermediate is a fresh array).
ENABLED = os.environ.get("QTN_BUFFER_POOL", "1").strip().lower() not in ("0", "false", "no", "off")

_pools: dict[int, "BufferPool"] = {}  # thread ident -> that thread's pool
_pools_lock = threading.Lock()
_STAT_KEYS = ("hits", "misses", "fresh_bytes", "reused_bytes", "alloc_seconds")
_retired: dict[str, float] = dict.fromkeys(_STAT_KEYS, 0)  # the counters of pools let go


class BufferPool:
    """Raw byte buffers reused by size, for one thread.

    Attributes:
        key: the run the pool belongs to.
        limit: most bytes the pool holds, in use and free together.
        stats: ``hits`` / ``misses`` (buffers reused / allocated), ``fresh_bytes``,
            ``reused_bytes``, ``alloc_seconds`` (time in ``np.empty`` for misses).
    """

    def __init__(self, key: Any, limit: int) -> None:
        self.key = key
        self.limit = int(limit)
        self._free: OrderedDict[int, list[np.ndarray]] = OrderedDict()  # nbytes -> buffers, LRU first
        self._free_bytes = 0
        self._used_bytes = 0
        self.stats: dict[str, float] = dict.fromkeys(_STAT_KEYS, 0)

    @property
    def held_bytes(self) -> int:
        """Bytes in use plus bytes kept free."""
        return self._used_bytes + self._free_bytes

    def take(self, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
        """A C-contiguous array of ``shape`` and ``dtype`` (contents undefined); give it back
        with :meth:`give` once nothing reads it any more."""
        dtype = np.dtype(dtype)
        nbytes = math.prod(shape) * dtype.itemsize
        if nbytes == 0:
            return np.empty(shape, dtype)
        free = self._free.get(nbytes)
        if free:
            raw = free.pop()
            if not free:
                del self._free[nbytes]
            self._free_bytes -= nbytes
            self.stats["hits"] += 1
            self.stats["reused_bytes"] += nbytes
        else:
            self._evict(nbytes)
            t0 = time.perf_counter()
            raw = np.empty(nbytes, dtype=np.uint8)
            self.stats["alloc_seconds"] += time.perf_counter() - t0
            self.stats["misses"] += 1
            self.stats["fresh_bytes"] += nbytes
        self._used_bytes += nbytes
        return raw.view(dtype).reshape(shape)

    def give(self, array: np.ndarray) -> None:
        """Return a buffer from :meth:`take` (or any view of it) to the pool."""
        raw = array
        while raw.base is not None:
            raw = raw.base
        nbytes = int(raw.nbytes)
        if nbytes == 0:
            return
        self._used_bytes = max(0, self._used_bytes - nbytes)
        if self.held_bytes + nbytes > self.limit:  # keeping it would pass the limit: let it go
            self._evict(nbytes)
            if self.held_bytes + nbytes > self.limit:
                return
        self._free.setdefault(nbytes, []).append(raw)
        self._free.move_to_end(nbytes)
        self._free_bytes += nbytes

    def detach(self, array: np.ndarray) -> None:
        """Stop counting a buffer from :meth:`take` that leaves the pool for good (a result)."""
        raw = array
        while raw.base is not None:
            raw = raw.base
        self._used_bytes = max(0, self._used_bytes - int(raw.nbytes))

    def _evict(self, incoming: int) -> None:
        """Free least recently returned buffers until ``incoming`` more bytes fit the limit."""
        while self._free and self.held_bytes + incoming > self.limit:
            nbytes, buffers = next(iter(self._free.items()))
            buffers.pop()
            self._free_bytes -= nbytes
            if not buffers:
                del self._free[nbytes]

    def rekey(self, key: Any, limit: int) -> None:
        """Hand the pool to run ``key``: its free buffers stay (down to ``limit``); buffers the
        last run still held (it raised mid-slice) are no longer counted."""
        self.key = key
        self.limit = int(limit)
        self._used_bytes = 0
        self._evict(0)

    def clear(self) -> None:
        """Let every free buffer go."""
        self._free.clear()
        self._free_bytes = 0


def pool_for(key: Any, limit: int) -> BufferPool | None:
    """This thread's pool for run ``key`` (a new one when the thread last ran another run);
    None when pooling is off (:data:`ENABLED`)."""
    if not ENABLED:
        return None
    ident = threading.get_ident()
    with _pools_lock:
        pool = _pools.get(ident)
        if pool is None:
            pool = _pools[ident] = BufferPool(key, limit)
        elif pool.key != key:
            # a worker thread's next run: the free buffers of its last one (a run of the same
            # plan needs the same sizes) serve it up to the new limit, instead of being freed
            # and page-faulted in again by the new run's first slice
            pool.rekey(key, limit)
        else:
            pool.limit = max(pool.limit, int(limit))
    return pool


def drop(key: Any) -> None:
    """Let go of every pool of run ``key`` in this process (its buffers are freed once unused)."""
    with _pools_lock:
        for ident in [i for i, p in _pools.items() if p.key == key]:
            _retire(_pools.pop(ident))


def _retire(pool: BufferPool) -> None:
    for k in _STAT_KEYS:
        _retired[k] += pool.stats[k]


def reset_stats() -> None:
    """Zero the counters of :func:`pool_stats`."""
    with _pools_lock:
        _retired.update(dict.fromkeys(_STAT_KEYS, 0))
        for pool in _pools.values():
            pool.stats = dict.fromkeys(_STAT_KEYS, 0)


def pool_stats() -> dict[str, float]:
    """The summed :attr:`BufferPool.stats` of this process's pools, live and let go (for benchmarks)."""
    with _pools_lock:
        total = dict(_retired)
        for pool in _pools.values():
            for k in _STAT_KEYS:
                total[k] += pool.stats[k]
    return total
