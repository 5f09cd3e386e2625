"""The engine: plan and contract one network under a :class:`qtn.RunOptions`.

Everything a contraction needs is decided here, once: the network is simplified
and put in canonical form, the executor resolved, the peak limit of one slice
computed (:func:`qtn.executors.task_limit`, the one formula), the checkpoint slot
taken, the plan fetched from the options' plan cache or searched (seeded, with the
backend's measured flop rate), and the plan run (:func:`qtn.execute.contract`).
Every entry point (amplitudes, state vectors, sampling, expectation values, the
Simulator, ``qtn.compile``) contracts through :func:`plan_and_contract`.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Any, Callable, Union

import numpy as np

from .checkpoint import Checkpoint
from .execute import contract
from .backends.numpy import NumpyBackend
from .executors import Runner, SerialRunner, resolve, task_limit
from .network import Network, components
from .options import RunOptions
from .plan_cache import PlanCache
from .planning import MemoryLimit, Plan, plan_network
from .roofline import measure_rates
from .statevector import NOT_PLANNED_YET, choose_plan, fits, tn_planning_seconds
from .sv_direct import contract_direct, native_ok
from .sv_native import NATIVE_DENSE_QUBITS, NATIVE_DIAGONAL_QUBITS, native_program, predicted_seconds

#: Choices remembered per compiled circuit (one per open qubits, bits and options).
_CHOICES_PER_CIRCUIT = 8
#: A choice that left the tensor network unplanned plans it once the direct runs have
#: taken this fraction of the planning estimate (:func:`qtn.statevector.tn_planning_seconds`,
#: 150 us a tensor where 49-245 us were measured on most circuits): at half the price a
#: repeated call costs at most 3x the better choice in all, and a circuit whose one run
#: is about that estimate (VQE-20: 32 ms run, 56 ms estimate, its network 6 ms) reaches
#: the faster plan on its second call, not its third.
PLAN_AFTER = 0.5


def peak_limit(opts: RunOptions, runner: Runner | None = None) -> MemoryLimit:
    """What one slice may hold at its peak where ``opts`` runs it (see :func:`qtn.executors.task_limit`)."""
    return task_limit(opts.backend, resolve(opts.executor) if runner is None else runner, opts.max_memory)


def plan_for(network: Network, opts: RunOptions, limit: MemoryLimit | None = None) -> Plan:
    """The plan of a simplified, canonical network under ``opts`` (from the plan cache when it is there).

    Raises:
        ValueError: a memory budget or peak limit no slicing can meet (with the figures).
    """
    return plan_network(network, memory_budget=opts.max_memory, optimize=opts.optimize,
                        search_time=opts.search_time, progress=opts.progress,
                        peak_limit=peak_limit(opts) if limit is None else limit, cache=opts.plan_cache,
                        seed=opts.plan_seed, flop_rate=lambda: measure_rates(opts.backend, opts.dtype))


NetworkLike = Union[Network, Callable[[], Network]]


def _built(network: NetworkLike) -> Network:
    """The network, built now when it was passed as a function that builds it."""
    return network if isinstance(network, Network) else network()


def choose(network: NetworkLike, opts: RunOptions, limit: MemoryLimit, circuit: tuple | None,
           plan_network_anyway: bool = False) -> tuple[Network, Plan]:
    """The simplified canonical network and its plan; with ``circuit`` =
    ``(compiled circuit, open positions, bits, initial)`` and the automatic planner, the
    cheaper (by roofline bound) of the tensor-network plan and the Schrödinger order
    (``network`` may be a function that builds it: a Schrödinger run needs none;
    ``plan_network_anyway``: see :func:`qtn.statevector.choose_plan`)."""
    if circuit is None or opts.optimize is not None:
        net = _built(network).simplified().canonical()
        return net, plan_for(net, opts, limit)
    cc, open_positions, bits, initial = circuit

    simplified: list[Network] = []

    def simple_network() -> Network:
        # simplified only when asked for (once): merging a deep narrow circuit's tensors
        # is itself a contraction, which the Schrödinger order makes unnecessary
        if not simplified:
            simplified.append(_built(network).simplified().canonical())
        return simplified[0]

    def tensor_network(optimize):
        net = simple_network()
        return net, plan_for(net, opts.replace(optimize=optimize), limit)

    budget = min(opts.max_memory, limit.bytes)
    direct = isinstance(opts.backend, NumpyBackend) and opts.executor is None
    direct_s = widths = None
    if direct and not cc.noisy and native_ok(cc) and fits(len(cc.qubits), cc.dtype.itemsize, budget):
        direct_s = predicted_seconds(native_program(cc))
        widths = (NATIVE_DENSE_QUBITS, NATIVE_DIAGONAL_QUBITS)
    return choose_plan(cc, open_positions, bits, budget, tensor_network, initial,
                       rates=measure_rates(opts.backend, opts.dtype), cache=opts.plan_cache, direct=direct,
                       direct_seconds=direct_s, plan_network_anyway=plan_network_anyway,
                       direct_widths=widths, tn_tensors=lambda: simple_network().num_tensors)


class _RecordingCache:
    """A plan cache that notes every plan it hands out or takes, so that a remembered
    choice can later check that each plan it rests on is still in the cache."""

    def __init__(self, cache: PlanCache) -> None:
        self.cache = cache
        self.used: list[tuple[str, Plan]] = []

    def get(self, key: str, network: Network) -> "Plan | None":
        plan = self.cache.get(key, network)
        if plan is not None:
            self.used.append((key, plan))
        return plan

    def put(self, key: str, plan: Plan) -> None:
        self.cache.put(key, plan)
        self.used.append((key, plan))


def _remembered_choice(network: NetworkLike, opts: RunOptions, limit: MemoryLimit,
                       circuit: tuple) -> tuple[Network, Plan, list | None]:
    """:func:`choose`, remembered on the compiled circuit while the plans it rests on stay
    in ``opts.plan_cache``: a repeated call skips building the Schrödinger network,
    simplifying the tensor network and both cache lookups (clearing the cache forgets it).

    Also returns ``[seconds spent in direct runs, seconds after which to plan the tensor
    network]`` for a choice that left the network unplanned (the caller adds to the
    first; once it reaches the second, the choice is made again with the network
    planned), else None.
    """
    cc, open_positions, bits, initial = circuit
    cache = opts.plan_cache
    if cache is None or initial is not None or not isinstance(cache, PlanCache):
        return (*choose(network, opts, limit, circuit), None)
    key = (id(cache), tuple(open_positions), None if bits is None else tuple(bits), opts.max_memory, limit.bytes,
           type(opts.backend), opts.backend.name, opts.dtype, opts.search_time, opts.plan_seed,
           opts.executor is None)
    memo = cc.__dict__.setdefault("_choices", OrderedDict())
    found = memo.get(key)
    anyway = False
    if found is not None:
        used, net, plan, spent = found
        if all(cache.peek(k) is p for k, p in used):
            if spent is None or spent[0] < spent[1]:
                return net, plan, spent
            anyway = True  # the runs have cost what planning the network would: plan it now
    recorder = _RecordingCache(cache)
    net, plan = choose(network, opts.replace(plan_cache=recorder), limit, circuit, plan_network_anyway=anyway)
    unplanned = any(name == NOT_PLANNED_YET for name, _ in plan.alternatives)
    spent = [0.0, PLAN_AFTER * tn_planning_seconds(cc)] if unplanned else None
    # a direct Schrödinger run needs no network: keep none alive for it (with an executor
    # the plan runs through qtn.execute, which needs it)
    direct = opts.executor is None and direct_ok(plan, opts, None)
    memo[key] = (tuple(recorder.used), None if direct else net, plan, spent)
    while len(memo) > _CHOICES_PER_CIRCUIT:
        memo.popitem(last=False)
    return net, plan, spent


def direct_ok(plan: Plan, opts: RunOptions, runner: "Runner | None") -> bool:
    """Whether ``plan`` runs as :mod:`qtn.sv_direct` applies it: a Schrödinger plan on the
    NumPy backend, in this process, one slice."""
    return (plan.method.startswith("schrodinger") and plan.n_slices == 1 and isinstance(opts.backend, NumpyBackend)
            and (runner is None or isinstance(runner, SerialRunner)))


def plan_and_contract(network: NetworkLike, opts: RunOptions, circuit: tuple | None = None) -> tuple[np.ndarray, Plan]:
    """Simplify, plan and contract a network; the result in ``opts.dtype`` and its plan.

    ``network`` may be a function that builds it, called only when a tensor network is
    planned or contracted (with ``circuit``, a Schrödinger run needs none).

    Every intermediate fits ``opts.max_memory`` and one slice's peak fits
    :func:`peak_limit`; a plan over it is sliced further before anything is
    allocated. A checkpointed contraction takes the next slot of the checkpoint and
    reuses the plan it was first run with. ``circuit`` makes the Schrödinger order a
    candidate (see :func:`choose`).
    """
    runner = resolve(opts.executor)
    limit = peak_limit(opts, runner)
    slot = opts.checkpoint.next_slot() if isinstance(opts.checkpoint, Checkpoint) else opts.checkpoint
    if slot is None and circuit is not None and opts.optimize is None:
        net, plan, spent = _remembered_choice(network, opts, limit, circuit)
        if direct_ok(plan, opts, runner):
            cc, open_positions, bits, initial = circuit
            start = time.perf_counter()
            result = contract_direct(cc, open_positions, bits, initial).astype(opts.dtype, copy=False)
            if spent is not None:
                spent[0] += time.perf_counter() - start
            return result, plan
    elif slot is None:
        net, plan = choose(network, opts, limit, circuit)
    else:  # a checkpoint keeps the tensor-network plan it was first run with
        net = _built(network).simplified().canonical()
        plan = slot.saved_plan(net, opts.max_memory, limit.bytes) or plan_for(net, opts, limit)
    result = contract(net, plan, opts.backend, progress=opts.progress, executor=runner, checkpoint=slot,
                      memory_limit=limit)
    return result.astype(opts.dtype, copy=False), plan


def contract_value(opts: RunOptions) -> Callable[[Network], np.ndarray]:
    """A function contracting one network under ``opts`` (for :func:`contract_components`)."""
    return lambda net: plan_and_contract(net, opts)[0]


def contract_components(
    net: Network, contract: Callable[[Network], np.ndarray], dtype: Any, constant: bool = True
) -> np.ndarray:
    """Contract ``net`` one connected component at a time and join the parts by outer product.

    A disconnected network would otherwise contract a component down to a scalar in
    the middle of a plan; component by component, each part gets its own cached plan.

    Args:
        net: the network.
        contract: contracts one connected network (e.g. :func:`contract_value`).
        dtype: the complex dtype of the result.
        constant: whether to contract components that hold no output label; when
            False they are left out, which scales the result by a constant (fine for
            probabilities that are normalised afterwards).
    """
    parts = []
    for comp in components(net):
        if comp.output or constant:
            simple = comp.simplified()
            # a network that simplifies to a number needs no plan (and keeps its precision)
            value = contract(simple) if simple.arrays else np.asarray(simple.scalar, dtype=dtype)
            parts.append((np.asarray(value), comp.output))
    if not parts:
        return np.asarray(net.scalar)
    if len(parts) == 1 and parts[0][1] == net.output:
        return parts[0][0] * net.scalar
    letters = {lab: k for k, lab in enumerate(net.output)}
    operands: list = []
    for result, labels in parts:
        operands += [result, [letters[lab] for lab in labels]]
    return np.einsum(*operands, [letters[lab] for lab in net.output]) * net.scalar
