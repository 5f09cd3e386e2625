"""The Schrödinger order: fused gate blocks applied to the state one after another.

Where the state vector fits, applying the circuit's gates to it in sequence (fused
into blocks of a few qubits, :mod:`qtn.fusion`) is often cheaper than any
tensor-network order, above all for deep narrow circuits. This module writes that
order as a contraction path over a network of the blocks, so the same lowering,
executor and backends run it and its cost is counted like any plan's:

* a qubit's ``|initial>`` vector is contracted into the first block on it;
* the state grows as blocks on new qubits join it (a product with no shared wire);
* a qubit closed by ``<b|`` is projected right after its last block, so an amplitude
  never holds more of the state than its open and still active qubits.

:func:`choose_plan` compares this order with the tensor-network plan by their
roofline bound and returns the cheaper, with the figures of both in
``Plan.alternatives``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from collections import OrderedDict
from typing import Any, Callable, Sequence

import numpy as np

from .compiler import BASIS, CompiledCircuit
from .fusion import DEFAULT_FUSE_QUBITS, fused_blocks
from .initial_state import InitialState
from .network import Network
from .plan_cache import PlanCache
from .planning import Plan, plan_from_path
from .roofline import ASSUMED, Rates, bound
#: The state vector, a product and a permuted copy live at once.
STATE_COPIES = 3


def fits(n_qubits: int, itemsize: int, budget: int) -> bool:
    """Whether a state vector of ``n_qubits`` (with its working copies) fits ``budget`` bytes."""
    return n_qubits <= 34 and STATE_COPIES * (2**n_qubits) * itemsize <= budget


def start_vectors(initial: "InitialState | None", n: int, dtype: Any) -> list[np.ndarray]:
    """Each qubit's starting vector (``|0>`` unless ``initial`` says otherwise).

    Raises:
        ValueError: ``initial`` has a block of several qubits (an entangled start is not a
            product of per-qubit vectors; the tensor-network plan handles it).
    """
    vectors = [np.asarray(BASIS[0], dtype=dtype)] * n
    for positions, tensor in initial.blocks if initial is not None else ():
        if len(positions) != 1:
            raise ValueError("the Schrödinger order starts from a product state, one vector per qubit")
        vectors[positions[0]] = np.asarray(tensor, dtype=dtype).reshape(2)
    return vectors


def start_state(initial: "InitialState | None", n: int, dtype: Any) -> np.ndarray:
    """The starting state, flat and contiguous (``|0...0>`` unless ``initial`` says otherwise)."""
    if initial is None or not initial.blocks:
        state = np.zeros(2**n, dtype=dtype)
        state[0] = 1
        return state
    state = np.ones((), dtype=dtype)
    for v in start_vectors(initial, n, dtype):
        state = np.multiply.outer(state, v)
    return np.ascontiguousarray(state).reshape(-1)


def schrodinger_network(
    cc: CompiledCircuit,
    open_positions: Sequence[int],
    bits: Sequence[int] | None,
    initial: "InitialState | None" = None,
    fuse_qubits: int = DEFAULT_FUSE_QUBITS,
    max_diagonal: int | None = None,
) -> tuple[Network, list[tuple[int, int]]]:
    """The fused network of ``C|initial>`` with ``open_positions`` open (in that order) and
    every other qubit closed by ``<bits[p]|``, and its Schrödinger contraction path.

    Returns:
        The network (labels canonical) and the SSA path that applies the blocks in order.
    """
    n = len(cc.qubits)
    dtype = cc.dtype
    basis = [np.asarray(v, dtype=dtype) for v in BASIS]
    starts = start_vectors(initial, n, dtype)
    open_set = set(open_positions)
    blocks, block_data = fused_blocks(cc, fuse_qubits, max_diagonal)
    arrays: list[np.ndarray] = []
    indices: list[tuple[int, ...]] = []
    wire = list(range(n))
    next_label = n
    for p in range(n):
        arrays.append(starts[p])
        indices.append((wire[p],))
    last_block = {}
    for b, block in enumerate(blocks):
        for p in block.positions:
            last_block[p] = b
    n_tensors = n
    state_ref = None  # the state so far: ("in", tensor) or ("ssa", step)
    touched: set[int] = set()

    def add(array: np.ndarray, ix: tuple[int, ...]) -> int:
        nonlocal n_tensors
        arrays.append(np.asarray(array, dtype=dtype))
        indices.append(ix)
        n_tensors += 1
        return n_tensors - 1

    # steps refer to tensors symbolically: SSA ids need the number of inputs, known at the end
    steps: list[tuple[str, tuple, tuple]] = []

    def join(first, second):
        """The product of two tensors (either may be None: nothing yet)."""
        if first is None:
            return second
        steps.append(("pair", first, second))
        return ("ssa", len(steps) - 1)

    def project(ref, p):
        """``ref`` with qubit ``p`` closed by its ``<b|``."""
        return join(ref, ("in", add(basis[bits[p] if bits is not None else 0], (wire[p],))))
    for b, block in enumerate(blocks):
        data = block_data[b]
        if block.diagonal:
            ix = tuple(wire[p] for p in block.positions)
        else:
            new = tuple(range(next_label, next_label + len(block.positions)))
            next_label += len(new)
            ix = new + tuple(wire[p] for p in block.positions)
            for p, lab in zip(block.positions, new):
                wire[p] = lab
        t = add(data, ix)
        operand = ("in", t)
        for p in block.positions:
            if p not in touched:
                touched.add(p)
                operand = join(operand, ("in", p))
        state_ref = join(state_ref, operand)
        for p in block.positions:
            if last_block[p] == b and p not in open_set:
                state_ref = project(state_ref, p)
    # qubits no block touches: their |initial> vector is open or meets its <b| directly
    for p in range(n):
        if p in touched:
            continue
        ref = ("in", p) if p in open_set else project(("in", p), p)
        state_ref = join(state_ref, ref)
    n_inputs = len(arrays)

    def ssa(ref) -> int:
        return ref[1] if ref[0] == "in" else n_inputs + ref[1]

    path = [(ssa(a), ssa(b)) for _, a, b in steps]
    output = tuple(wire[p] for p in open_positions)
    net = Network(arrays, indices, output, cc.phase).canonical()
    return net, path


def schrodinger_plan(
    cc: CompiledCircuit,
    open_positions: Sequence[int],
    bits: Sequence[int] | None,
    memory_budget: int,
    initial: "InitialState | None" = None,
    fuse_qubits: int = DEFAULT_FUSE_QUBITS,
    cache: PlanCache | None = None,
    max_diagonal: int | None = None,
) -> tuple[Network, Plan]:
    """The network and plan of the Schrödinger order (``Plan.method`` ``"schrodinger(fused<=F)"``,
    or ``"schrodinger(fused<=F, diagonals<=D)"`` with ``max_diagonal``: the blocks of
    :func:`qtn.fusion.group_commuting`), the plan kept in ``cache`` by the network's structure."""
    net, path = schrodinger_network(cc, open_positions, bits, initial, fuse_qubits, max_diagonal)
    key = "schrodinger-" + hashlib.sha1(repr((net.structure_key(), memory_budget, fuse_qubits,
                                              max_diagonal)).encode()).hexdigest()
    plan = None if cache is None else cache.get(key, net)
    if plan is None:
        method = f"schrodinger(fused<={fuse_qubits}" + ("" if max_diagonal is None else f", diagonals<={max_diagonal}")
        plan = plan_from_path(net, path, (), memory_budget=memory_budget, method=method + ")")
        if cache is not None:
            cache.put(key, plan)
    return net, plan


def state_bytes(n_qubits: int, itemsize: int) -> int:
    """Bytes of one state vector."""
    return (2**n_qubits) * itemsize


_choices: "OrderedDict[tuple, tuple]" = OrderedDict()  # (id sv, id tn) -> (sv, tn, chosen)


def with_alternatives(plan: Plan, figures: Sequence[tuple[str, float]], others: Sequence[Plan] = (),
                      roofline=None) -> Plan:
    """``plan`` recording its roofline bound and the bound of every candidate it was
    chosen from; the same object for the same candidates, so a cached plan stays one
    object call after call."""
    # the figures by repr: a NaN figure (a candidate not planned) must still match itself
    key = (id(plan), *map(id, others), repr(figures), repr(None if roofline is None else roofline.seconds))
    found = _choices.get(key)
    if found is not None:
        return found[-1]
    chosen = dataclasses.replace(plan, alternatives=tuple((name, float(sec)) for name, sec in figures),
                                 roofline=roofline)
    _choices[key] = (plan, *others, chosen)  # holding the candidates keeps their ids unique
    while len(_choices) > 256:
        _choices.popitem(last=False)
    return chosen



#: Seconds of Python per step of the generic contraction (``qtn.execute``): 34 us
#: measured here for the Schrödinger steps of a 12-qubit Grover circuit (load 1.3).
GENERIC_STEP_SECONDS = 30e-6
#: ... and per block applied by :mod:`qtn.sv_direct` (a few NumPy calls).
DIRECT_BLOCK_SECONDS = 5e-6
#: Seconds per tensor of :meth:`qtn.network.Network.simplified` where it merges the
#: whole network (10-16 us measured here on QFT amplitude networks of 114-490 tensors).
MERGE_SECONDS = 30e-6


def _merge_seconds(cc: CompiledCircuit) -> float:
    """What simplifying the single-layer network of ``cc`` costs."""
    return MERGE_SECONDS * network_tensors(cc)


def _blocks(sv: Plan) -> int:
    """Blocks of a Schrödinger plan: each adds its tensor in one step (joins and projections are more steps)."""
    return len(sv.steps)


#: Below this bound (seconds) the Schrödinger order is taken without planning a
#: tensor network at all: simplifying and planning one would take longer.
TRIVIAL_SECONDS = 0.005
#: Seconds a tensor-network plan takes per gate of the circuit at the least: greedy
#: planning (simplify, greedy path, lowering) measured here (load 1.5) at 49 us a gate
#: for VQE-20, 115 us for QPE-16, 245 us for walk-11, 1.4 ms for QFT-20 (sliced). Where
#: the state vector costs less than planning the alternative would, the Schrödinger
#: order is taken without planning one; repeated calls plan it once their runs have
#: taken that long (rent until the rent reaches the price: at most twice the better
#: choice's time, whichever it is).
PLAN_SECONDS_PER_GATE = 150e-6
#: The second figure's name where the tensor network was left unplanned for now.
NOT_PLANNED_YET = "tensor network (not planned yet: the state vector costs less than planning one)"


def network_tensors(cc: CompiledCircuit) -> int:
    """Tensors of the single-layer network of ``cc``: its gate tensors and one start per
    qubit (a wire permutation has no tensor)."""
    return len(cc.qubits) + sum(1 for op in cc.ops for p in op.pieces if p.wires is None)


def tn_planning_seconds(cc: CompiledCircuit) -> float:
    """About how long planning a tensor network of ``cc`` takes (:data:`PLAN_SECONDS_PER_GATE`
    per tensor)."""
    return network_tensors(cc) * PLAN_SECONDS_PER_GATE


#: Below this bound (seconds) the Schrödinger order is compared with the greedy
#: tensor-network order only: a hyper search would cost more than it could save.
CHEAP_SECONDS = 1.0


def choose_plan(
    cc: CompiledCircuit,
    open_positions: Sequence[int],
    bits: Sequence[int] | None,
    memory_budget: int,
    tn_plan: "Callable[[str | None], tuple[Network, Plan]]",
    initial: "InitialState | None" = None,
    rates: Rates = ASSUMED,
    cache: PlanCache | None = None,
    direct: bool = False,
    direct_seconds: float | None = None,
    plan_network_anyway: bool = False,
    direct_widths: "tuple[int, int] | None" = None,
    tn_tensors: "Callable[[], int] | None" = None,
) -> tuple[Network, Plan]:
    """The cheaper (by roofline bound) of the tensor-network plan and the Schrödinger order.

    Args:
        cc, open_positions, bits, initial: the network, as for :func:`schrodinger_network`.
        memory_budget: bytes an intermediate may take; the state vector must fit it.
        tn_plan: makes the tensor-network network and plan, given an ``optimize`` value
            (``"greedy"``, or None for the automatic search).
        rates: the machine's rates for the bound.
        cache: where the Schrödinger plan is kept.
        direct: whether a Schrödinger plan would run as :mod:`qtn.sv_direct` applies it
            (the NumPy backend in this process), which costs less per block.
        direct_seconds: the predicted time of that direct run, where it is known
            (:func:`qtn.sv_native.predicted_seconds`); used in place of the bound.
        direct_widths: (dense, diagonal) block widths of that direct run; the
            Schrödinger plan is then made of the same blocks.
        plan_network_anyway: plan the tensor network even where the state vector costs
            less than planning it (:func:`tn_planning_seconds`): a caller that has spent
            that long on repeated runs asks for it (see :mod:`qtn.engine`).
        tn_tensors: simplifies the tensor network (once, for ``tn_plan`` to reuse) and
            says how many tensors are left to order; where simplifying costs less than
            the state vector, what is left decides whether planning would (a QFT
            amplitude's network merges into scalars in milliseconds).

    Returns:
        The network to contract and its plan; ``plan.alternatives`` holds both bounds.
    """
    entangled_start = initial is not None and any(len(positions) > 1 for positions, _ in initial.blocks)
    if cc.noisy or entangled_start or not fits(len(cc.qubits), cc.dtype.itemsize, memory_budget):
        tn_net, tn = tn_plan(None)
        return tn_net, with_alternatives(tn, [], roofline=bound(tn, rates))
    # a direct run on the kernels has its own blocks: the plan is made of those (one fusion, not two)
    widths = {} if not (direct and direct_widths) else dict(fuse_qubits=direct_widths[0], max_diagonal=direct_widths[1])
    sv_net, sv = schrodinger_plan(cc, open_positions, bits, memory_budget, initial, cache=cache, **widths)
    sv_bound = bound(sv, rates)
    # the bound leaves out what each step costs in Python: thousands of small steps add up
    sv_s = sv_bound.seconds + _blocks(sv) * (DIRECT_BLOCK_SECONDS if direct else GENERIC_STEP_SECONDS)
    if direct and direct_seconds is not None:
        sv_s = direct_seconds
    if sv_s < TRIVIAL_SECONDS:
        figures = [(sv.method, sv_s), ("tensor network (not planned: the state vector is cheap)", float("nan"))]
        return sv_net, with_alternatives(sv, figures, roofline=sv_bound)
    if not plan_network_anyway and sv_s < tn_planning_seconds(cc):
        merge_s = _merge_seconds(cc)
        left = None if tn_tensors is None or sv_s < merge_s else tn_tensors()
        if left is None or sv_s < merge_s + left * PLAN_SECONDS_PER_GATE:
            figures = [(sv.method, sv_s), (NOT_PLANNED_YET, float("nan"))]
            return sv_net, with_alternatives(sv, figures, roofline=sv_bound)
    tn_net, tn = tn_plan("greedy" if sv_s < CHEAP_SECONDS else None)
    tn_bound = bound(tn, rates)
    # a network that simplification merged into scalars was contracted by those merges
    # (np.einsum, unplanned, not in the bound; run again for every bitstring): charged per
    # tensor merged. Each merge is of small tensors (a merge never raises the rank).
    tn_s = tn_bound.seconds + len(tn.steps) * GENERIC_STEP_SECONDS if tn.steps else _merge_seconds(cc)
    figures = [(sv.method + " (bound + per-step overhead)", sv_s),
               (f"tensor network ({tn.method}) (bound + per-step overhead)", tn_s)]
    if sv_s < tn_s:
        return sv_net, with_alternatives(sv, figures, [tn], roofline=sv_bound)
    return tn_net, with_alternatives(tn, figures, [sv], roofline=tn_bound)
