"""Seeded path search: cotengra 0.8 takes no seed for its hyper-optimizer and slicer,
and its greedy trials seed their Rust pathfinder from the OS. These make one search
repeatable (``plan_seed``): the same circuit and options give the same plan in every
process."""

from __future__ import annotations

import contextlib
import random
from typing import Iterator

import numpy as np


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Seed the generators cotengra draws from (``random``, NumPy's global one) for one
    search, and put their states back afterwards. cotengra 0.8 takes no seed for its
    hyper-optimizer and slicer and uses these module-level generators instead."""
    py_state, np_state = random.getstate(), np.random.get_state()
    random.seed(seed)
    np.random.seed(seed)
    try:
        yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)


def seeded_greedy_trial(inputs, output, size_dict, random_strength=0.0, temperature=0.0, costmod=1.0):
    """cotengra's greedy trial with the seed of its Rust greedy drawn from ``random``
    (seeded by :func:`seeded`); cotengra's own trial leaves it to the OS."""
    from cotengra.core import ContractionTree, jitter_dict
    from cotengra.pathfinders.path_basic import get_optimize_greedy

    sizes = jitter_dict(size_dict, random_strength) if random_strength != 0.0 else size_dict
    ssa_path = get_optimize_greedy()(inputs, output, sizes, temperature=temperature, costmod=costmod,
                                     seed=random.randrange(2**31), use_ssa=True)
    return ContractionTree.from_path(inputs, output, size_dict, ssa_path=ssa_path)
