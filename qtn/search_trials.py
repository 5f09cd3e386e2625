"""The trials of qtn's hyper search, registered with cotengra as hyper methods.

Each trial builds a raw tree with a pathfinder (a seeded greedy, or a kahypar
partitioning), refines it by subtree reconfiguration, and slices it only when it is
over the memory target *and* could still beat the best tree found so far: slicing
never lowers a tree's cost (every slice repeats the work outside the sliced indices),
so a refined tree that already costs more than the best is left unsliced and never
chosen. Refining before slicing is the cheap order: reconfiguration shrinks a raw
tree's width by several powers of two, after which most trees need no slicing at all
(measured on the 30-qubit grid circuit of depth 14: slicing raw greedy trees inside
every trial, cotengra's order, took 5.5 of 8.6 s of search under cProfile).

The search that runs the trials (:func:`qtn.path_search.hyper_search`) is told of
every finished tree through :func:`trial_context`.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from .search_seed import seeded_greedy_trial

#: Real flops one written intermediate element is worth when the search compares trees:
#: writing it (and reading it back, permuted) runs at memory speed, not GEMM speed.
#: Measured here on the 32-qubit QFT amplitude (bench/amp_qft.py): flops alone picked a
#: tree of 4.5e10 flops, 352 MB peak, 5.3 s; with writes at 256 flops each the search ran
#: on (its stop rule sees the memory time too) to one of 3.7e10 flops, 67 MB, 1.6 s.
WRITE_FLOPS = 256.0

#: cotengra's objective equal to :func:`tree_cost` up to a factor: cotengra counts
#: multiply-adds (8 real flops each), so 256 real flops per element is 32 multiply-adds.
OBJECTIVE = f"combo-{WRITE_FLOPS / 8:g}"

#: Subtree reconfiguration of the quick trials (subtree 4: ~0.05 s on 400 tensors here) ...
QUICK_RECONF = {"subtree_size": 4, "maxiter": "auto", "maxiter_auto_cap": 128}
#: ... and of the thorough ones (cotengra's default subtree 8: ~0.5 s on the same network).
FULL_RECONF: dict = {}


def tree_flops(tree) -> float:
    """Real flops of a cotengra tree, all slices (cotengra counts multiply-adds)."""
    return 8.0 * float(tree.total_flops())


def tree_cost(tree) -> float:
    """What a search minimises: real flops plus ``WRITE_FLOPS`` per intermediate element
    written, all slices (a flops-only score misses memory-bound trees of many hyperedges)."""
    return tree_flops(tree) + WRITE_FLOPS * float(tree.total_write())


@dataclass
class TrialContext:
    """What a trial needs from the search that runs it.

    Attributes:
        target: the most elements any intermediate may hold.
        best_cost: the cost of the best tree within ``target`` found so far.
        offer: called with every finished tree and the name of its method.
        pruned: trials left unsliced because they could not beat the best (for tests
            and reports).
    """

    target: int
    best_cost: float = math.inf
    offer: Callable[[Any, str], None] = lambda tree, method: None
    pruned: int = field(default=0)


_CONTEXT: contextvars.ContextVar[TrialContext | None] = contextvars.ContextVar("qtn_trial_context", default=None)


@contextlib.contextmanager
def trial_context(ctx: TrialContext) -> Iterator[TrialContext]:
    """Run the trials inside with ``ctx`` (one per search; a thread gets its own)."""
    token = _CONTEXT.set(ctx)
    try:
        yield ctx
    finally:
        _CONTEXT.reset(token)


def refine(tree, ctx: TrialContext | None, reconf: dict | None, method: str):
    """Reconfigure ``tree`` in place, then slice it to ``ctx.target`` if it is over and
    could still win; offer it to the search. Returns the tree."""
    if reconf is not None:
        tree.subtree_reconfigure_(minimize=OBJECTIVE, **reconf)
    if ctx is not None and tree.max_size() > ctx.target:
        if tree_cost(tree) < ctx.best_cost:
            tree.slice_(target_size=ctx.target, allow_outer=False)
            if reconf is not None:  # recover some of the slicing overhead
                tree.subtree_reconfigure_(minimize=OBJECTIVE, **reconf)
        else:
            ctx.pruned += 1
    if ctx is not None:
        ctx.offer(tree, method)
    return tree


def kahypar_trial(inputs, output, size_dict, **params):
    """A tree from cotengra's kahypar partition tree builder. With two parts at every
    level (:data:`BISECTION_CONSTANTS`) it takes about 0.2 s on 400 tensors here,
    against several seconds for cotengra's default space of up to 16 parts, and gave
    as good a first tree on every circuit measured (grids, Sycamore, QFT)."""
    from cotengra.pathfinders.path_kahypar import kahypar_to_tree

    return kahypar_to_tree.trial_fn(inputs, output, size_dict, **params)


def _refined(raw: Callable, reconf: dict | None, method: str) -> Callable:
    def trial(inputs, output, size_dict, **params):
        return refine(raw(inputs, output, size_dict, **params), _CONTEXT.get(), reconf, method)

    return trial


#: The search space of the bisection trials (cotengra's kahypar space, two parts only).
BISECTION_SPACE = {
    "random_strength": {"type": "FLOAT_EXP", "min": 0.01, "max": 1.0},
    "weight_edges": {"type": "STRING", "options": ["const", "log"]},
    "cutoff": {"type": "INT", "min": 10, "max": 40},
    "imbalance": {"type": "FLOAT", "min": 0.01, "max": 0.3},
    "objective": {"type": "STRING", "options": ["cut", "km1"]},
}
BISECTION_CONSTANTS = {"parts": 2, "parts_decay": 0.0, "mode": "recursive", "fix_output_nodes": ""}
#: The first tree of every search: one bisection at settings that were best or near it
#: on every circuit measured (imbalance 0.05, cutoff 10).
FIRST_BISECTION = {"random_strength": 0.01, "weight_edges": "log", "cutoff": 10, "imbalance": 0.05,
                   "objective": "cut", **BISECTION_CONSTANTS}


@functools.cache
def register_trials() -> None:
    """Register qtn's trial methods with cotengra (once):

    ``qtn-bisect`` and ``qtn-random-greedy-r4`` (quick reconfiguration), ``qtn-greedy-full``
    and ``qtn-kahypar-full`` (cotengra's full greedy and kahypar spaces, full
    reconfiguration)."""
    import cotengra.pathfinders.path_kahypar  # noqa: F401 - registers cotengra's kahypar space
    from cotengra.hyperoptimizers.hyper import _HYPER_SEARCH_SPACE, register_hyper_function

    greedy_space = {"random_strength": {"type": "FLOAT_EXP", "min": 0.001, "max": 1.0},
                    "temperature": {"type": "FLOAT_EXP", "min": 0.001, "max": 1.0},
                    "costmod": {"type": "FLOAT", "min": 0.1, "max": 4.0}}
    register_hyper_function("qtn-bisect", _refined(kahypar_trial, QUICK_RECONF, "bisect"),
                            space=BISECTION_SPACE, constants=BISECTION_CONSTANTS)
    register_hyper_function("qtn-random-greedy-r4", _refined(seeded_greedy_trial, QUICK_RECONF, "random-greedy"),
                            space={"temperature": {"type": "FLOAT_EXP", "min": 0.001, "max": 0.1},
                                   "costmod": {"type": "FLOAT", "min": 0.5, "max": 3.0}},
                            constants={"random_strength": 0.0})
    register_hyper_function("qtn-greedy-full", _refined(seeded_greedy_trial, FULL_RECONF, "greedy"),
                            space=greedy_space)
    register_hyper_function("qtn-kahypar-full", _refined(kahypar_trial, FULL_RECONF, "kahypar"),
                            space=dict(_HYPER_SEARCH_SPACE["kahypar"]))
