"""The hyper-optimized path search and what it minimises: cotengra's hyper-optimizer in
two stages, stopped once it has run as long as the best contraction found would take
(:func:`predicted_seconds`); trees compared by :func:`tree_cost` (flops plus written
elements), reported in :func:`tree_flops`."""

from __future__ import annotations

import math
import random
import time

from .search_seed import register_seeded_trials


def hyper_search(ctg, inputs, output, sizes, target, needs_slicing, optimize, cap, progress, t0, greedy_tree,
           flop_rate):
    """Hyper-optimize in rounds until the search has taken as long as the best
    contraction found would take to run (:func:`predicted_seconds` of its :func:`tree_cost` at ``flop_rate``),
    or ``cap`` seconds.

    Two stages: cheap random-greedy trials with small subtree reconfiguration (enough
    for circuits of ~30 qubits, found in about a second), then, while the best
    contraction still outweighs the search, kahypar and greedy trials with full
    reconfiguration (what 53-qubit circuits need).
    """
    if not (isinstance(optimize, str) or optimize is None):
        return optimize.search(inputs, output, sizes), "custom"
    # slice inside every trial only when the budget bites: slicing trees that
    # already fit would cost flops for nothing.
    slicing = {"target_size": target, "allow_outer": False} if needs_slicing else None
    register_seeded_trials()
    seed = random.randrange(2**31)  # from the seeded generator: the samplers' own seeds
    stages = [
        ("hyper(random-greedy)", 8, 16, dict(methods=["qtn-random-greedy"], optlib="cmaes", optlib_opts={"seed": seed},
                                           reconf_opts={"subtree_size": 4, "maxiter": "auto",
                                                        "maxiter_auto_cap": 128})),
        ("hyper(kahypar,greedy)", 4, 256, dict(methods=["qtn-greedy", "kahypar"], optlib="optuna",
                                             optlib_opts={"sampler_opts": {"seed": seed}}, reconf_opts={})),
    ]
    best, method = greedy_tree, "greedy"
    if best is not None and best.max_size() > target:
        best = None  # a greedy tree over budget competes only after slicing, at the end
    best_cost = tree_cost(best) if best is not None else math.inf
    for name, per_round, rounds, settings in stages:
        opt = ctg.HyperOptimizer(minimize="combo", max_repeats=per_round, parallel=False,
                                 slicing_opts=slicing, progbar=progress, **settings)
        for _ in range(rounds):
            tree = opt.search(inputs, output, sizes)
            cost = tree_cost(tree)
            if cost < best_cost:
                best, method, best_cost = tree, name, cost
            elapsed = time.perf_counter() - t0
            if elapsed > cap or elapsed > predicted_seconds(best_cost, flop_rate):
                return best, method
    return best, method


#: The share of ``Backend.flop_rate`` (a large square GEMM) a whole contraction reaches:
#: its GEMMs are skinny or batched and it permutes between them. Measured here: a
#: 30-qubit grid circuit of depth 14 contracted at 25 GFLOP/s against 152 GFLOP/s
#: (16 %, load 3.7 on 2 cores); Sycamore m = 10 at 28 % (issue 10).
ACHIEVED_FRACTION = 0.2


def predicted_seconds(flops: float, flop_rate: float) -> float:
    """How long a contraction of ``flops`` takes at ``flop_rate`` (a square GEMM's rate):
    what a search may spend before it costs more than it can save."""
    return flops / (ACHIEVED_FRACTION * flop_rate)


def tree_flops(tree) -> float:
    """Real flops of a cotengra tree, all slices (cotengra counts multiply-adds)."""
    return 8.0 * float(tree.total_flops())


#: Real flops one written intermediate element is worth when the search compares trees:
#: writing it (and reading it back, permuted) runs at memory speed, not GEMM speed.
#: Measured here on the 32-qubit QFT amplitude (bench/amp_qft.py): flops alone picked a
#: tree of 4.5e10 flops, 352 MB peak, 5.3 s; with writes at 256 flops each the search ran
#: on (its stop rule sees the memory time too) to one of 3.7e10 flops, 67 MB, 1.6 s.
WRITE_FLOPS = 256.0


def tree_cost(tree) -> float:
    """What a search minimises: real flops plus ``WRITE_FLOPS`` per intermediate element
    written, all slices (a flops-only score misses memory-bound trees of many hyperedges)."""
    return tree_flops(tree) + WRITE_FLOPS * float(tree.total_write())
