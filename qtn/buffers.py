"""Reused host buffers for a slice's intermediates: a small pool per worker thread.

Every slice of a plan runs the same steps with the same shapes, so the buffers one
slice frees are exactly those the next one needs. Taking them from a pool instead of
``np.empty`` means a large intermediate is not ``mmap``-ed, page-faulted and zeroed
by the kernel again for every step of every slice (glibc hands blocks over its mmap
threshold straight back to the system, and Dask's nanny lowers that threshold).

A pool is keyed by byte size and bounded: the bytes it holds, in use and free, stay under
its ``limit`` (the most one slice may hold), evicting the least recently freed buffers
first. A free buffer up to twice as large may serve a smaller request while the bytes so
left idle in use fit ``limit - peak`` (the run's own peak), so the pool stays under its
limit. Each thread has its own pool (threads of one process never share a buffer); a pool serves one run (``key``) at a time, and passes its free buffers on to
that thread's next run (held memory stays under the new run's limit).

Between runs the free buffers stay for :data:`KEEP_SECONDS` (then a timer lets them go,
as does :func:`release` at once). Memory a process has touched before is cheap to reuse;
fresh pages cost a fault and zeroing each (1.74 GB on a first Sycamore m = 10 contraction), and on
a virtual machine whose balloon hands freed pages back to the host, several times that:
measured here, the same contraction took 1.2 s or 2.0-3.7 s depending on which pages it
got, and a stable 1.0 s with its buffers kept.

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
#: A free buffer serves an intermediate of at least 1 / MAX_OVERSIZE of its size (the rest of
#: it idles meanwhile; on Sycamore m = 10 a larger ratio saved no more pages).
MAX_OVERSIZE = 2
#: Whether :func:`pool_for` hands out pools (False: every intermediate is a fresh array).
ENABLED = os.environ.get("QTN_BUFFER_POOL", "1").strip().lower() not in ("0", "false", "no", "off")


def _keep_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"QTN_BUFFER_KEEP_S must be a number of seconds, not {text!r}") from None
    if not value >= 0:
        raise ValueError(f"QTN_BUFFER_KEEP_S must be >= 0 seconds, not {text!r}")
    return value


#: Seconds the free buffers of a finished run stay for this process's next run
#: (``QTN_BUFFER_KEEP_S``; 0: let go when each run ends).
KEEP_SECONDS = _keep_seconds(os.environ.get("QTN_BUFFER_KEEP_S", "30"))

_pools: dict[int, "BufferPool"] = {}  # thread ident -> that thread's pool
_pools_lock = threading.Lock()
_STAT_KEYS = ("hits", "misses", "fresh_bytes", "reused_bytes", "alloc_seconds")
_retired: dict[str, float] = dict.fromkeys(_STAT_KEYS, 0)  # the counters of pools let go
_IDLE = object()  # the key of a pool whose run has ended (its free buffers wait for the next run)
_timer: threading.Timer | None = None  # lets idle pools go KEEP_SECONDS after their run ended
_timer_due = 0.0  # when it fires (time.monotonic())


#: Buffers start at a multiple of this many bytes: a cache line, so that the permute kernel's
#: 64-byte rows are whole lines and it may use streaming stores (NumPy aligns to 16 only).
ALIGN = 64


def aligned_bytes(nbytes: int) -> np.ndarray:
    """``nbytes`` fresh uint8 starting at a multiple of :data:`ALIGN` bytes. A view through a
    memoryview, so that walking ``.base`` from any view of it (:func:`_pooled`) stops here, at
    the pooled buffer's own size, not at the larger block under it."""
    block = np.empty(nbytes + ALIGN, dtype=np.uint8)
    offset = (-block.ctypes.data) % ALIGN
    return np.frombuffer(memoryview(block), dtype=np.uint8, count=nbytes, offset=offset)


def _pooled(array: np.ndarray) -> np.ndarray:
    """The buffer from :meth:`BufferPool.take` that ``array`` is a view of."""
    raw = array
    while isinstance(raw.base, np.ndarray):
        raw = raw.base
    return raw


class BufferPool:
    """Raw byte buffers reused by size, for one thread.

    Attributes:
        key: the run the pool belongs to.
        limit: most bytes the pool holds, in use and free together.
        spare: most bytes that larger buffers serving smaller requests may leave idle
            while in use (``limit`` less the run's peak; 0: exact sizes only).
        stats: ``hits`` / ``misses`` (buffers reused / allocated), ``fresh_bytes``,
            ``reused_bytes``, ``alloc_seconds`` (time in ``np.empty`` for misses).
    """

    def __init__(self, key: Any, limit: int, spare: int = 0) -> None:
        self.key = key
        self.limit = int(limit)
        self.spare = max(0, int(spare))
        self._idle: dict[int, int] = {}  # id of an in-use buffer larger than its request -> bytes it leaves idle
        self._idle_bytes = 0
        self.idle_since = 0.0  # time.monotonic() when its run ended (key is _IDLE)
        self.thread = threading.get_ident()  # the thread it serves
        self._free: OrderedDict[int, list[np.ndarray]] = OrderedDict()  # nbytes -> buffers, LRU first
        self._free_bytes = 0
        self._used_bytes = 0
        self.stats: dict[str, float] = dict.fromkeys(_STAT_KEYS, 0)

    @property
    def held_bytes(self) -> int:
        """Bytes in use plus bytes kept free."""
        return self._used_bytes + self._free_bytes

    def take(self, shape: tuple[int, ...], dtype: Any, exact: bool = False) -> np.ndarray:
        """A C-contiguous array of ``shape`` and ``dtype`` (contents undefined); give it back
        with :meth:`give` once nothing reads it any more. ``exact``: from a buffer of just
        its size (one that leaves the pool as a result should not pin a larger one)."""
        dtype = np.dtype(dtype)
        nbytes = math.prod(shape) * dtype.itemsize
        if nbytes == 0:
            return np.empty(shape, dtype)
        size = self._fitting(nbytes, exact)
        if size:
            free = self._free[size]
            raw = free.pop()
            if not free:
                del self._free[size]
            self._free_bytes -= size
            self.stats["hits"] += 1
            self.stats["reused_bytes"] += nbytes
        else:
            self._evict(nbytes)
            t0 = time.perf_counter()
            raw = aligned_bytes(nbytes)
            self.stats["alloc_seconds"] += time.perf_counter() - t0
            self.stats["misses"] += 1
            self.stats["fresh_bytes"] += nbytes
        self._used_bytes += raw.nbytes
        if raw.nbytes > nbytes:
            self._idle[id(raw)] = raw.nbytes - nbytes
            self._idle_bytes += raw.nbytes - nbytes
        return raw[:nbytes].view(dtype).reshape(shape)

    def _fitting(self, nbytes: int, exact: bool) -> int:
        """The size of the free buffers that serve ``nbytes``: that size itself, else (not
        ``exact``) the smallest free one up to :data:`MAX_OVERSIZE` times larger whose idle
        rest fits :attr:`spare`; 0 for none. A larger buffer serving a smaller intermediate lets
        a plan touch fewer pages: the Sycamore m = 10 contraction, whose intermediates peak at
        1.07 GB, took 2.41 GB of fresh buffers by exact size and 1.74 GB this way (measured; not
        every plan gains: some take more fresh bytes on a first slice)."""
        if nbytes in self._free:
            return nbytes
        if exact:
            return 0
        room = self.spare - self._idle_bytes
        larger = [size for size in self._free if nbytes < size <= MAX_OVERSIZE * nbytes and size - nbytes <= room]
        return min(larger, default=0)

    def _settle(self, raw: np.ndarray) -> None:
        """Stop counting what an in-use buffer leaves idle (it is given back or detached)."""
        self._idle_bytes -= self._idle.pop(id(raw), 0)

    def give(self, array: np.ndarray) -> None:
        """Return a buffer from :meth:`take` (or any view of it) to the pool."""
        raw = _pooled(array)
        nbytes = int(raw.nbytes)
        if nbytes == 0:
            return
        self._settle(raw)
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
        raw = _pooled(array)
        self._settle(raw)
        self._used_bytes = max(0, self._used_bytes - int(raw.nbytes))

    def _evict(self, incoming: int) -> None:
        """Free least recently returned buffers until ``incoming`` more bytes fit the limit."""
        while self._free and self.held_bytes + incoming > self.limit:
            nbytes, buffers = next(iter(self._free.items()))
            buffers.pop()
            self._free_bytes -= nbytes
            if not buffers:
                del self._free[nbytes]

    def rekey(self, key: Any, limit: int, spare: int = 0) -> None:
        """Hand the pool to run ``key``: its free buffers stay (down to ``limit``); buffers the
        last run still held (it raised mid-slice) are no longer counted."""
        self.key = key
        self.limit = int(limit)
        self.spare = max(0, int(spare))
        self._used_bytes = 0
        self._idle.clear()
        self._idle_bytes = 0
        self._evict(0)

    def clear(self) -> None:
        """Let every free buffer go."""
        self._free.clear()
        self._free_bytes = 0


def pool_for(key: Any, limit: int, peak: int | None = None) -> BufferPool | None:
    """This thread's pool for run ``key`` (a new one when the thread last ran another run);
    None when pooling is off (:data:`ENABLED`). ``peak``: the most the run's live arrays hold
    at once; what ``limit`` leaves above it, larger buffers may leave idle serving smaller
    requests (None: exact sizes only)."""
    if not ENABLED:
        return None
    spare = 0 if peak is None else max(0, int(limit) - int(peak))
    ident = threading.get_ident()
    with _pools_lock:
        pool = _pools.get(ident)
        if pool is None:
            pool = _pools[ident] = BufferPool(key, limit, spare)
        elif pool.key != key:
            # the thread's next run: the free buffers of its last one (a run of the same
            # plan needs the same sizes) serve it up to the new limit, instead of being freed
            # and page-faulted in again by the new run's first slice
            pool.rekey(key, limit, spare)
        else:
            pool.limit = max(pool.limit, int(limit))
            pool.spare = max(pool.spare, spare)
    return pool


def drop(key: Any) -> None:
    """End run ``key`` in this process: its pools' free buffers wait :data:`KEEP_SECONDS` for
    the next run (0: they are let go now, once unused)."""
    global _timer
    now = time.monotonic()
    with _pools_lock:
        for ident, pool in list(_pools.items()):
            if pool.key is _IDLE or pool.key != key:
                continue
            if KEEP_SECONDS <= 0:
                _retire(_pools.pop(ident))
            else:
                pool.rekey(_IDLE, pool.limit, pool.spare)  # buffers the run still held are not counted
                pool.idle_since = now
        # a thread that has ended runs nothing more: its buffers go now (a caller making a new
        # thread pool per run would otherwise pile up one pool per thread it ever had)
        alive = {t.ident for t in threading.enumerate()}
        _release_idle(lambda pool, alive=alive: pool.thread not in alive)
        if KEEP_SECONDS > 0:
            _start_timer(now + KEEP_SECONDS)


def _start_timer(due: float) -> None:
    """Have the idle pools looked at by ``due`` (monotonic time); a timer already due by then stays."""
    global _timer, _timer_due
    if _timer is not None and _timer_due <= due + 0.01:
        return
    if _timer is not None:
        _timer.cancel()
    _timer, _timer_due = threading.Timer(max(0.0, due - time.monotonic()), _release_expired), due
    _timer.daemon = True  # never keeps the interpreter alive
    _timer.start()


def _release_expired() -> None:
    global _timer
    with _pools_lock:
        if _timer is not threading.current_thread():
            return  # replaced by a sooner one
        _timer = None
        now = time.monotonic()
        _release_idle(lambda pool: now - pool.idle_since >= KEEP_SECONDS * 0.99)
        later = [p.idle_since for p in _pools.values() if p.key is _IDLE]
        if later:  # a run ended since the timer started: its buffers get their full time
            _start_timer(min(later) + KEEP_SECONDS)


def _release_idle(expired) -> int:
    freed = 0
    for ident, pool in list(_pools.items()):
        if pool.key is _IDLE and expired(pool):
            freed += pool.held_bytes
            pool.clear()
            _retire(_pools.pop(ident))
    return freed


def release() -> int:
    """Let go now of the buffers kept from finished runs (see :data:`KEEP_SECONDS`); the
    number of bytes let go. Runs in progress keep theirs."""
    with _pools_lock:
        return _release_idle(lambda pool: True)


def held_bytes() -> int:
    """Bytes this process's pools hold, for runs in progress and kept from finished ones."""
    with _pools_lock:
        return sum(p.held_bytes for p in _pools.values())


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
