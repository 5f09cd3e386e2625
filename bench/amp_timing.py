"""Timing helpers of bench/amplitudes.py: repeated and interleaved runs, the NumPy matmul reference."""

from __future__ import annotations

import argparse
import importlib
import math
import os
import random
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import cirq
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402  (bench/common.py)

#: A timed run longer than this is not repeated (its first run is the measurement).
LONG_RUN_S = 30.0

# ----------------------------------------------------------------------------- timing


#: Runs faster than this get at least ``CHEAP_REPEAT`` timed runs (noise is cheap to beat there).
CHEAP_RUN_S = 1.0
CHEAP_REPEAT = 5


def rounds_for(first: float, repeat: int) -> int:
    """Timed runs after a warm-up of ``first`` seconds: none past ``LONG_RUN_S``, more when cheap."""
    if first > LONG_RUN_S or repeat <= 0:
        return 0
    return max(repeat, CHEAP_REPEAT) if first < CHEAP_RUN_S else repeat


def measure(fn: Callable[[], Any], repeat: int) -> tuple[Any, float, int]:
    """Run ``fn`` once (warm-up, and its value), then time more runs; the median.

    A warm-up longer than ``LONG_RUN_S`` is taken as the single measurement.
    Returns (value, median seconds, number of timed runs).
    """
    t0 = time.perf_counter()
    value = fn()
    first = time.perf_counter() - t0
    rounds = rounds_for(first, repeat)
    if rounds == 0:
        return value, first, 1
    med, _ = common.median_time(fn, repeat=rounds, warmup=0)
    return value, med, rounds


def release_unless_qtn(name: str) -> None:
    """``before`` for :func:`interleaved`: qtn keeps a run's buffers for its next run
    (``qtn.buffers``); any other engine (name not starting with "qtn") gets those pages back
    first, rather than touching fresh ones. The matmul reference (96 MB) is left out."""
    if not name.startswith("qtn") and name != "matmul":
        import qtn

        qtn.release_buffers()


def interleaved(fns: dict[str, Callable[[], Any]], repeat: int,
                before: Callable[[str], Any] | None = None) -> dict[str, tuple[Any, float, int]]:
    """Like :func:`measure` for several functions, timed in alternating rounds so that a
    change in machine load falls on all of them alike. Each round after the first runs
    them in a new (seeded) order, so no function always runs right after the same other.
    ``before(name)``, when given, runs (untimed) before each run of ``name``: e.g. to let go
    of memory one engine keeps between its runs, so that the next engine may reuse those
    pages instead of touching fresh ones (which on this VM costs several times more)."""
    values, times = {}, {name: [] for name in fns}
    for name, fn in fns.items():  # warm-up round, which also yields the values
        if before is not None:
            before(name)
        t0 = time.perf_counter()
        values[name] = fn()
        times[name].append(time.perf_counter() - t0)
    warmups = [t[0] for t in times.values()]
    # more rounds when a whole round is cheap; none past LONG_RUN_S for any one function
    rounds = 0 if max(warmups, default=0) > LONG_RUN_S else rounds_for(sum(warmups) / 2, repeat)
    if rounds:
        times = {name: [] for name in fns}
        order = list(fns)
        shuffle = random.Random(0).shuffle  # the same orders in every run
        for _ in range(rounds):
            for name in order:
                if before is not None:
                    before(name)
                times[name].append(common.median_time(fns[name], repeat=1, warmup=0)[0])
            shuffle(order)
    return {name: (values[name], statistics.median(times[name]), len(times[name])) for name in fns}


class Matmul:
    """NumPy complex64 ``n x n @ n x n``, the machine's reference rate (8 real flops per MAC)."""

    def __init__(self, n: int) -> None:
        rng = np.random.default_rng(0)
        self.n = n
        self.a = (rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n))).astype(np.complex64)
        self.b = (rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n))).astype(np.complex64)
        self.flops = 8.0 * n**3

    def __call__(self) -> None:
        np.matmul(self.a, self.b)

    def rate(self, repeat: int = 5) -> tuple[float, float]:
        """(median seconds, GFLOP/s)."""
        sec, _ = common.median_time(self, repeat=repeat, warmup=1)
        return sec, self.flops / sec / 1e9


def mem_available() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


