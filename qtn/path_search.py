"""The hyper-optimized path search and when it stops.

A search may spend as long as the best contraction found so far is predicted to take
(:func:`predictor`: the tree's roofline at the backend's measured rates, per GEMM
shape class and memory bandwidth, ``qtn.roofline.measure_rates``), or ``cap``
seconds: past that, searching costs more than any better tree can save, and plan +
contraction stays within about twice the best the search could have done. The rule
is checked before every trial, not after a round of them, and a trial is started
only when the trials of its stage so far say it ends within the budget; so where the
greedy tree's contraction is quicker than one trial, it is kept without searching.
Importing the pathfinders (the first search of a process) does not count.

Stages, cheapest trial first (:mod:`qtn.search_trials`):

0. one kahypar bisection with fixed settings (~0.2 s on 400 tensors): on every circuit
   measured its tree was within ~2x of what long searches found, so it bounds the
   budget of everything after it at once;
1. hyper-optimized bisections and random-greedy trials, both with quick subtree
   reconfiguration (~0.05-0.3 s a trial);
2. cotengra's full kahypar and greedy spaces with full reconfiguration (~0.5-4 s a
   trial), for the large circuits whose contraction is worth it.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from .search_trials import (FIRST_BISECTION, OBJECTIVE, QUICK_RECONF, TrialContext, kahypar_trial, refine,
                            register_trials, trial_context, tree_cost, tree_flops)

__all__ = ["hyper_search", "predicted_seconds", "predictor", "tree_seconds", "tree_cost", "tree_flops", "Budget",
           "Stage", "STAGES"]

#: The share of ``Backend.flop_rate`` (a large square GEMM) a whole contraction reaches,
#: for a search handed that rate alone (:func:`predictor`): its GEMMs are skinny or
#: batched and it permutes between them. Measured here (before the strided views): a
#: 30-qubit grid circuit of depth 14 contracted at 25 GFLOP/s against 152 GFLOP/s
#: (16 %, load 3.7 on 2 cores); Sycamore m = 10 at 28 % (issue 10).
ACHIEVED_FRACTION = 0.2


def predicted_seconds(flops: float, flop_rate: float) -> float:
    """How long a contraction of ``flops`` takes at ``flop_rate`` (a square GEMM's rate),
    where only that rate is known: what a search may spend before it costs more than it
    can save."""
    return flops / (ACHIEVED_FRACTION * flop_rate)


def predictor(rate) -> Callable[[Any], float]:
    """Seconds a tree's contraction is predicted to take: from its roofline at measured
    ``rate`` (a ``qtn.roofline.Rates``: per GEMM shape class and memory bandwidth), or,
    for a bare flop rate (float), from :func:`predicted_seconds` of its :func:`tree_cost`."""
    if isinstance(rate, (int, float)):
        return lambda tree: predicted_seconds(tree_cost(tree), float(rate))
    return lambda tree: tree_seconds(tree, rate) / ROOFLINE_SHARE


#: What share of its roofline (:func:`tree_seconds`) a contraction reaches. Measured
#: here (2-core Xeon, numpy backend, bench/plan_search.py --contract 3, load ~1.7,
#: plan_search-20261202T061633Z.json and -061748Z.json): the fastest of three
#: contractions took 0.9-2.2x the roofline on the 25/30-qubit grids, Sycamore m=10 and
#: QFT-32 (eight plans); the tree's bound was within 3 % of the lowered plan's.
ROOFLINE_SHARE = 0.5


def tree_seconds(tree, rates) -> float:
    """The roofline of a cotengra tree at measured ``rates`` (a ``qtn.roofline.Rates``):
    per pairwise contraction, ``max(flops / GEMM rate of its shape class, bytes of both
    operands and the product / bandwidth)``, summed over contractions and slices
    (complex64: 8 bytes an element). Permutes are left out: the layout is chosen later."""
    from .roofline import shape_class
    from .gemm import GemmSpec

    sizes = tree.size_dict
    total = 0.0
    for node, left, right in tree.traverse():
        out, a, b = tree.get_legs(node), tree.get_legs(left), tree.get_legs(right)
        batch = m = k = n = 1
        for ix in set(a) | set(b):
            d = sizes[ix]
            in_a, in_b, kept = ix in a, ix in b, ix in out
            if in_a and in_b:
                if kept:
                    batch *= d
                else:
                    k *= d
            elif kept:
                if in_a:
                    m *= d
                else:
                    n *= d
            else:  # summed inside one operand: part of its read, not of the GEMM's shape
                k *= d
        flops = 8.0 * batch * m * k * n
        spec = GemmSpec(batch, m, k, n)
        elements = float(tree.get_size(left) + tree.get_size(right) + tree.get_size(node))
        total += max(flops / rates.gemm[shape_class(spec)], 8.0 * elements / rates.bandwidth)
    return total * tree.nslices


@dataclass(frozen=True)
class Stage:
    """One stage of the search: cotengra hyper methods (:mod:`qtn.search_trials`), the
    most trials it runs, and the optimizer library that picks their settings."""

    name: str
    methods: tuple[str, ...]
    trials: int
    optlib: str


STAGES = (
    Stage("hyper(bisect,random-greedy)", ("qtn-bisect", "qtn-random-greedy-r4"), 128, "cmaes"),
    Stage("hyper(kahypar,greedy)", ("qtn-greedy-full", "qtn-kahypar-full"), 1024, "optuna"),
)


@dataclass
class Budget:
    """The stop rule: the search may run until ``min(cap, predicted)`` seconds after
    ``t0`` (by ``clock``), ``predicted`` being the best tree's predicted contraction
    time (:func:`predictor`; inf while there is none); a trial may start only if its
    stage's mean trial time so far (before its first: the mean of all trials so far)
    fits in what is left.

    Attributes:
        t0: when the search started (the greedy tree's time counts).
        cap: the most seconds, whatever the prediction (``search_time``).
        clock: seconds, e.g. ``time.perf_counter`` (tests pass a model of time).
    """

    t0: float
    cap: float
    clock: Callable[[], float] = time.perf_counter
    _durations: dict[str, list[float]] = field(default_factory=dict)

    def seconds(self, predicted: float) -> float:
        """The budget when the best tree's contraction is predicted to take ``predicted`` seconds."""
        return min(self.cap, predicted)

    def elapsed(self) -> float:
        return self.clock() - self.t0

    def allows(self, stage: str, predicted: float) -> bool:
        """Whether a trial of ``stage`` may start now."""
        # a stage not yet seen is expected to take as long as the trials before it
        seen = self._durations.get(stage) or [t for ts in self._durations.values() for t in ts]
        expected = sum(seen) / len(seen) if seen else 0.0
        return self.elapsed() + expected < self.seconds(predicted)

    def record(self, stage: str, seconds: float) -> None:
        """Note how long one trial of ``stage`` took."""
        self._durations.setdefault(stage, []).append(seconds)


class _Best:
    """The best tree within the target so far (the trials offer theirs here)."""

    def __init__(self, target: int, tree: Any, method: str, predict: Callable[[Any], float]) -> None:
        self.target, self.predict = target, predict
        self.tree, self.method, self.cost = None, method, math.inf
        self.seconds = math.inf  # the best tree's predicted contraction time
        self.fallback, self.fallback_method, self.fallback_cost = None, method, math.inf  # cheapest over target
        self.context = TrialContext(target, offer=self.offer)
        if tree is not None:
            self.offer(tree, method)

    def offer(self, tree: Any, method: str) -> None:
        cost = tree_cost(tree)
        if tree.max_size() > self.target:  # competes only if nothing fits, sliced by the caller
            if cost < self.fallback_cost:
                self.fallback, self.fallback_method, self.fallback_cost = tree, method, cost
            return
        if cost < self.cost:
            self.tree, self.method, self.cost = tree, method, cost
            self.context.best_cost = cost
            self.seconds = self.predict(tree)


def hyper_search(ctg, inputs, output, sizes, target: int, optimize, cap: float, progress: bool, t0: float, greedy_tree,
                 rate, clock: Callable[[], float] = time.perf_counter,
                 stages: tuple[Stage, ...] = STAGES) -> tuple[Any, str]:
    """The best tree found (within ``target`` elements per intermediate when any is) and
    the method that found it, searching under :class:`Budget` (see the module doc).

    ``greedy_tree`` (or None) competes from the start; when every tree found is over
    ``target``, the cheapest one is returned for the caller to slice. ``optimize`` is
    ``None``, ``"hyper"`` or a cotengra optimizer (then its own search runs instead).
    ``rate``: the backend's measured rates (``qtn.roofline.Rates``) or flop rate (float),
    see :func:`predictor`.
    """
    if not (isinstance(optimize, str) or optimize is None):
        return optimize.search(inputs, output, sizes), "custom"
    # importing the pathfinders and samplers (first search of a process) is not search
    imported = clock()
    register_trials()
    _import_samplers(stages)
    budget = Budget(t0 + clock() - imported, cap, clock)
    best = _Best(target, greedy_tree, "greedy", predictor(rate))
    bar = _progress_bar(progress)
    seed = random.randrange(2**31)  # from the seeded generator: the samplers' own seeds
    with trial_context(best.context):
        if budget.allows("first", best.seconds):
            start = clock()
            refine(kahypar_trial(inputs, output, sizes, **FIRST_BISECTION), best.context, QUICK_RECONF, "bisect")
            budget.record("first", clock() - start)
            _tick(bar, best)
        for stage in stages:
            opts = {"sampler_opts": {"seed": seed}} if stage.optlib == "optuna" else {"seed": seed}
            opt = ctg.HyperOptimizer(methods=list(stage.methods), minimize=OBJECTIVE, max_repeats=1, parallel=False,
                                     slicing_opts=None, reconf_opts=None, optlib=stage.optlib, optlib_opts=opts,
                                     progbar=False)
            for _ in range(stage.trials):
                if not budget.allows(stage.name, best.seconds):
                    return _finish(bar, best, greedy_tree)
                start = clock()
                opt.search(inputs, output, sizes)  # one trial: it offers its tree to ``best``
                budget.record(stage.name, clock() - start)
                _tick(bar, best)
    return _finish(bar, best, greedy_tree)


def _import_samplers(stages: tuple[Stage, ...]) -> None:
    import importlib

    for lib in {stage.optlib for stage in stages} & {"cmaes", "optuna"}:
        try:
            importlib.import_module(lib)
        except ImportError:  # cotengra says so when the stage starts
            pass


def _finish(bar, best: _Best, greedy_tree):
    if bar is not None:
        bar.close()
    # nothing within the target: the cheapest tree, for the caller to slice
    tree, method = (best.tree, best.method) if best.tree is not None else (best.fallback, best.fallback_method)
    if tree is None:
        return greedy_tree, "greedy"
    return tree, method if method == "greedy" else f"hyper({method})"


def _progress_bar(progress: bool):
    if not progress:
        return None
    import tqdm

    return tqdm.tqdm(desc="path search", unit="trial")


def _tick(bar, best: _Best) -> None:
    if bar is not None:
        bar.update(1)
        bar.set_postfix_str(f"best {best.cost:.3g} ({best.method})", refresh=False)
