"""The roofline bound of a plan: how fast it could run on a backend at best.

Per step, ``max(flops / GEMM rate of the step's shape class, bytes / memory bandwidth)``,
summed over steps and slices. Bytes are what a step must stream: both operands read,
the product written, and a read and a write of every operand the lowering has to
permute. Rates are measured once per machine and backend by :func:`measure_rates`
(a GEMM of each shape class and a large copy, kept on disk), or are the assumed
figures of :data:`ASSUMED` (labelled as such).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Mapping

import numpy as np

from .gemm import GemmSpec
from . import strided

#: Shape classes by the smallest of m, k, n (a GEMM's rate falls with it).
CLASSES = ("large", "skinny", "thin")


def shape_class(spec: GemmSpec) -> str:
    """``"large"`` (min(m, k, n) >= 128), ``"skinny"`` (>= 8) or ``"thin"``."""
    smallest = min(spec.m, spec.k, spec.n)
    return "large" if smallest >= 128 else "skinny" if smallest >= 8 else "thin"


@dataclass(frozen=True)
class Rates:
    """GEMM rate per shape class (real flop/s), memory bandwidth (bytes/s), and where they come from."""

    gemm: Mapping[str, float]
    bandwidth: float
    source: str


#: Figures of a small 2-core machine, for when nothing was measured (labelled "assumed").
ASSUMED = Rates({"large": 5e10, "skinny": 3e10, "thin": 5e9}, 5e9, "assumed")


@dataclass(frozen=True)
class Bound:
    """A plan's roofline bound.

    Attributes:
        seconds: the bound (all slices).
        compute_seconds: the steps where arithmetic bounds, summed.
        memory_seconds: the steps where memory traffic bounds, summed.
        permute_bytes: bytes the permutes move (read + write), all slices.
        rates: the rates used.
    """

    seconds: float
    compute_seconds: float
    memory_seconds: float
    permute_bytes: int
    rates: Rates

    def report(self) -> str:
        return (f"{self.seconds:.3g} s ({self.rates.source} rates: compute-bound steps {self.compute_seconds:.3g} s, "
                f"memory-bound {self.memory_seconds:.3g} s; permutes move {self.permute_bytes / 1e9:.3g} GB)")


def bound(plan, rates: Rates = ASSUMED, host_views: bool = True) -> Bound:
    """The roofline bound of ``plan`` (a :class:`qtn.planning.Plan`) at ``rates``.

    With ``host_views`` (the numpy backend), an operand the backend reads as a view
    or as a batch of strided views (:func:`qtn.strided.how_it_runs`) moves nothing;
    otherwise every operand the lowering marks as moving is permuted.
    """
    compute = memory = 0.0
    moved = 0
    item = plan.itemsize
    labels = [tuple(ix) for ix in plan.inputs]
    for step in plan.steps:
        low = step.lowered
        g = low.gemm
        a, b, c = g.batch * g.m * g.k, g.batch * g.k * g.n, g.batch * g.m * g.n
        a_moves, b_moves = low.a_moves, low.b_moves
        if host_views:  # (small operands: the lowering's flag, their moves cost nothing)
            if a_moves and a >= strided.MIN_ELEMENTS:
                a_moves = _moves(plan, labels[step.left], low.a_perm, low.a_shape, item)
            if b_moves and b >= strided.MIN_ELEMENTS:
                b_moves = _moves(plan, labels[step.right], low.b_perm, low.b_shape, item)
        labels.append(tuple(low.out))
        perm = 2 * ((a if a_moves else 0) + (b if b_moves else 0))
        traffic = item * (a + b + c + perm)
        moved += item * perm
        t_flops = g.flops / rates.gemm[shape_class(g)]
        t_bytes = traffic / rates.bandwidth
        if t_flops >= t_bytes:
            compute += t_flops
        else:
            memory += t_bytes
    n = plan.n_slices
    return Bound((compute + memory) * n, compute * n, memory * n, moved * n, rates)


def _moves(plan, labels, perm, shape, item) -> bool:
    return strided.how_it_runs(tuple(plan.size_dict[i] for i in labels), perm, shape, item) == "move"


#: (m, k, n) of the GEMM timed for the skinny and thin classes (the large class is
#: ``Backend.flop_rate``'s square probe).
_PROBES = {"skinny": (1 << 15, 32, 32), "thin": (1 << 17, 4, 4)}


def measure_rates(backend=None, dtype=np.complex64) -> Rates:
    """GEMM rate per shape class and memory bandwidth of ``backend`` (default NumPy).

    Measured once per machine and backend and kept on disk beside
    ``Backend.flop_rate``'s figure (best of three runs each; a fraction of a second
    the first time).
    """
    from .backends.base import _rates, get_backend, machine_id

    be = get_backend(backend)
    dtype = np.dtype(dtype)
    prefix = f"{type(be).__module__}.{type(be).__qualname__}:{be.name}|{dtype}|{machine_id()}"
    gemm = {"large": be.flop_rate(dtype)}
    for cls, shape in _PROBES.items():
        gemm[cls] = _rates.get(f"{prefix}|gemm-{cls}", lambda shape=shape: _gemm_rate(be, dtype, shape))
    bandwidth = _rates.get(f"host-copy-bandwidth|{machine_id()}", _copy_bandwidth)
    return Rates(gemm, bandwidth, f"measured on {be.name}")


def _gemm_rate(be, dtype, shape) -> float:
    m, k, n = shape
    rng = np.random.default_rng(0)
    a = be.to_device((rng.standard_normal((m, k)) + 1j * rng.standard_normal((m, k))).astype(dtype))
    b = be.to_device((rng.standard_normal((k, n)) + 1j * rng.standard_normal((k, n))).astype(dtype))
    if getattr(be, "accepts_out", False):  # into one touched buffer, as a contraction's pool has it
        out = np.empty((m, n), dtype)
        return 8.0 * m * k * n / _best_of(lambda: be.matmul(a, b, out=out))
    return 8.0 * m * k * n / _best_of(lambda: be.to_host(be.matmul(a, b)))


def _copy_bandwidth() -> float:
    """Bytes/s of a large host copy (read + write), past every cache."""
    src = np.ones(1 << 23, dtype=np.complex64)  # 64 MiB
    dst = np.empty_like(src)
    return 2 * src.nbytes / _best_of(lambda: np.copyto(dst, src))


def _best_of(fn, runs: int = 3) -> float:
    fn()
    best = float("inf")
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return max(best, 1e-9)
