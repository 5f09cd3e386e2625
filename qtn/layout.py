"""Layout-aware lowering: the axis order of every intermediate chosen for the step that consumes it.

A step ``C = A @ B`` needs its operands grouped as ``(batch, m, k)`` and
``(batch, k, n)``. An operand stored as ``batch + m + k`` *or* ``batch + k + m`` (for
B: ``batch + k + n`` or ``batch + n + k``) needs no data move: the second form is a
transposed matrix, which BLAS reads as it is (NumPy hands it a transposed view). So
an operand is permuted only when its storage is not of one of these forms.

The step decides the order of its product: within each group (batch, m, n) any order
its operands give for free, and either ``batch + m + n`` or ``batch + n + m`` (the
product ``(B^T A^T)`` costs the same). :func:`lower_path` picks, step by step, the
orders that minimise the elements permuted in this step plus those its product will
need permuted in the step that consumes it (one step of look-ahead; the partner there
counts when its layout is already known). Steps on small tensors take the plain
lowering: their permutes cost nothing worth a search.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product
from math import prod
from typing import Mapping, Sequence

from . import strided
from .gemm import LoweredStep, lower_groups

Labels = tuple[int, ...]
#: Steps whose operands and product together hold fewer elements than this keep the plain lowering.
SMALL_STEP_ELEMENTS = 1 << 12
#: A transposed operand runs a little slower in BLAS than a plain one (measured 0-30 %
#: on skinny shapes); this fraction of its elements is charged to break ties.
TRANSPOSED_CHARGE = 0.05


#: Fraction of an operand's elements charged when it runs as a batch of GEMMs on views
#: (measured 0.5-1.0x the time of permute + GEMM on the numpy backend: slower BLAS
#: calls on small matrices, but no data moved). Other backends permute it. A's views
#: (column-major, BLAS' transposed form) measured 1.0-1.8x the time of the same data as
#: B's on small k (steps 34, 49, 131 of the Sycamore m = 10 tree) and are charged the
#: same all the same: any higher charge (0.2-0.8 tried) loses the layouts in which that
#: tree's 2^26 and 2^25 operands of steps 73 and 81 run as B's views (the search is
#: greedy over a few candidate orders per step; see docs/design.md).
STRIDED_CHARGE = 0.1

#: ... plus this many elements per view: each is a GEMM call of its own (~3 us of Python
#: and BLAS set-up, measured: B (32, 2^21) as 4096 views of (32, 512) 251 ms against
#: 237 ms for the GEMM alone; the time the permute kernel moves ~1500 elements in).
VIEW_CHARGE = 256

#: Expected later permutes of a product whose labels are not in the order they are
#: summed, as a fraction of its size times the fraction of label pairs out of order.
DISORDER_CHARGE = 0.5


def _disorder(order: Labels, death: Mapping[int, int]) -> float:
    """Fraction of label pairs of ``order`` where the one summed sooner comes first."""
    d = [death.get(i, 1 << 30) for i in order]
    pairs = len(d) * (len(d) - 1) // 2
    if not pairs:
        return 0.0
    bad = sum(1 for i in range(len(d)) for j in range(i + 1, len(d)) if d[i] < d[j])
    return bad / pairs


@dataclass(frozen=True)
class PathStep:
    """One lowered step: SSA ids of the operand in the role of A (``left``) and of B."""

    left: int
    right: int
    lowered: LoweredStep


def _sub(order: Sequence[int], members: "set[int] | frozenset[int]") -> Labels:
    return tuple(i for i in order if i in members)


def operand_cost(storage: Labels, batch: Labels, inner: Labels, k: Labels, size: int,
                 dims: Mapping[int, int] | None = None, b_role: bool = False) -> float:
    """Elements moved to bring an operand into ``batch + inner + k`` (or ``batch + k + inner``).

    With ``dims`` (the label sizes), an unbatched operand whose summed labels are one
    run of its storage and whose kept labels end the storage in a run of at least
    :data:`qtn.strided.MIN_INNER` elements (:func:`strided_form`) is charged
    :data:`STRIDED_CHARGE` of its size: the numpy backend runs it as GEMMs on views,
    moving nothing -- as B (``b_role``, called with ``inner`` = its summed labels and
    ``k`` = its kept ones; stored ``(n1, k, n2)``) or as A (stored ``(m1, k, m2)``),
    plus :data:`VIEW_CHARGE` per view (at most :data:`qtn.strided.MAX_VIEWS` of them)."""
    if storage == batch + inner + k:
        return 0.0
    if storage == batch + k + inner:
        return TRANSPOSED_CHARGE * size
    if dims is not None and not batch and size >= strided.MIN_ELEMENTS and ("b" if b_role else "a") in strided.SIDES:
        views = strided_views(storage, k, inner, dims) if b_role else strided_views(storage, inner, k, dims)
        if views is not None and views <= strided.MAX_VIEWS:
            return min(float(size), STRIDED_CHARGE * size + VIEW_CHARGE * views)
    return float(size)


def _runs(storage: Labels, order: Labels) -> list[Labels]:
    """``order`` cut into its runs of consecutive storage positions (in order)."""
    pos = {x: p for p, x in enumerate(storage)}
    runs: list[list[int]] = []
    for x in order:
        if runs and pos[x] == pos[runs[-1][-1]] + 1:
            runs[-1].append(x)
        else:
            runs.append([x])
    return [tuple(r) for r in runs]


def strided_form(storage: Labels, inner: Labels, k: Labels, dims: Mapping[int, int],
                 max_views: int | None = None) -> bool:
    """Whether an operand stored as ``storage`` is, for the group orders ``inner`` (kept)
    and ``k`` (summed), a batch of matrices on ``k`` and the last run of ``inner``: ``k``
    one storage run, the last run of ``inner`` at least :data:`qtn.strided.MIN_INNER`
    elements and ending the storage (unit stride), the outer runs of ``inner`` (the
    views; at most ``max_views`` of them) before it. As B each view is the row-major
    ``(k, n2)``, as A the column-major ``(m2, k)`` (see :func:`qtn.strided.split`)."""
    views = strided_views(storage, inner, k, dims)
    return views is not None and (max_views is None or views <= max_views)


def strided_views(storage: Labels, inner: Labels, k: Labels, dims: Mapping[int, int]) -> int | None:
    """The number of views of :func:`strided_form` (None where it is no such form)."""
    if not k or not inner:
        return None
    k_runs, i_runs = _runs(storage, k), _runs(storage, inner)
    if len(k_runs) != 1 or len(i_runs) < 2:
        return None
    last = i_runs[-1]
    inner_last = prod(dims[x] for x in last)
    if inner_last < strided.MIN_INNER or storage[-1] != last[-1]:  # unit stride (see qtn.strided._blasable)
        return None
    return prod(dims[x] for x in inner) // inner_last


def _consumer_cost(order: Labels, size: int, batch: frozenset, k: frozenset,
                   partner: Labels | None, partner_size: int, dims: Mapping[int, int]) -> float:
    """Least elements moved at the consuming step if this operand is stored as ``order``
    (the partner's cost counted when its layout is known)."""
    mine_r = _sub(order, set(order) - batch - k)
    best = float("inf")
    choices_b = {_sub(order, batch)} | ({_sub(partner, batch)} if partner is not None else set())
    choices_k = {_sub(order, k)} | ({_sub(partner, k)} if partner is not None else set())
    for bt, kk in product(choices_b, choices_k):
        # this operand in either role at the consumer: as B it may be a batch of views
        cost = min(operand_cost(order, bt, mine_r, kk, size, dims), operand_cost(order, bt, kk, mine_r, size, dims, True))
        if partner is not None:
            cost += operand_cost(partner, bt, _sub(partner, set(partner) - batch - k), kk, partner_size, dims)
        best = min(best, cost)
    return best


def lower_path(
    inputs: Sequence[Labels],
    ssa_path: Sequence[tuple[int, int]],
    output: Labels,
    size_dict: Mapping[int, int],
) -> tuple[list[PathStep], Labels]:
    """Lower every step of a contraction path, choosing the layouts of intermediates.

    Args:
        inputs: labels of the input tensors in storage order.
        ssa_path: pairs of SSA ids (inputs ``0..n-1``, step ``s`` makes ``n + s``).
        output: labels of the result, in order.
        size_dict: dimension of every label.

    Returns:
        The lowered steps (operands possibly swapped: ``left`` is the GEMM's A) and the
        labels of the last product in storage order.
    """
    n_in = len(inputs)
    label_sets = [frozenset(ix) for ix in inputs]
    out_set = frozenset(output)
    # pass 1 (sets only): what each step keeps, and who consumes each tensor
    holders: dict[int, int] = {}
    for ix in inputs:
        for i in ix:
            holders[i] = holders.get(i, 0) + 1
    keeps: list[frozenset] = []
    consumer: dict[int, int] = {}
    death: dict[int, int] = {i: len(ssa_path) for i in out_set}  # step that sums each label
    for s, (x, y) in enumerate(ssa_path):
        a, b = label_sets[x], label_sets[y]
        keep = frozenset(i for i in a | b if holders[i] - (i in a) - (i in b) > 0 or i in out_set)
        for i in a | b:
            holders[i] -= (i in a) + (i in b)
        new = (a ^ b) | (a & b & keep)
        for i in new:
            holders[i] += 1
        keeps.append(keep)
        for i in (a & b) - keep:
            death[i] = s
        label_sets.append(frozenset(new))
        consumer[x] = consumer[y] = s

    def size_of(ls) -> int:
        return prod(size_dict[i] for i in ls)

    # pass 2: the layouts, as a beam search over the steps: the BEAM cheapest sets of
    # choices so far (elements moved, plus the expected cost at the consumer of every
    # product not yet consumed) are carried on, so that a step may take a layout that
    # costs more now for one that its later steps can read as it is
    beams: list[_Beam] = [_Beam(0.0, {}, {}, None)]
    for s, (x, y) in enumerate(ssa_path):
        a_set, b_set, keep = label_sets[x], label_sets[y], keeps[s]
        batch_set = a_set & b_set & keep
        k_set = (a_set & b_set) - keep
        m_set, n_set = a_set - b_set, b_set - a_set
        out_size = size_of(label_sets[n_in + s])
        a_size, b_size = size_of(a_set), size_of(b_set)
        small = a_size + b_size + out_size < SMALL_STEP_ELEMENTS
        wide = max(a_size, b_size, out_size) >= BEAM_ELEMENTS
        if not wide:
            beams = beams[:1]  # (sorted: the cheapest) a narrow step carries one layout on
        grown: list[_Beam] = []
        for beam in beams:
            view = _Labels(inputs, beam.live)
            a_idx, b_idx = view[x], view[y]
            if small:
                plain = (_sub(a_idx, batch_set), _sub(a_idx, m_set), _sub(a_idx, k_set), _sub(b_idx, n_set))
                cands = [(0.0, 0.0, (plain, False))]
            else:
                cands = _best_layouts(s, x, y, a_idx, b_idx, batch_set, k_set, m_set, n_set, a_size, b_size,
                                      out_size, n_in, view, label_sets, keeps, consumer, ssa_path, output, size_of,
                                      death, size_dict, BEAM if wide else 1)
            for here, ahead, ((bt, m, k, n), swap) in cands:
                if swap:  # the product is (batch, n, m): B^T A^T, i.e. y in the role of A
                    step = PathStep(y, x, lower_groups(b_idx, a_idx, bt, n, k, m, size_dict))
                else:
                    step = PathStep(x, y, lower_groups(a_idx, b_idx, bt, m, k, n, size_dict))
                pending = {t: c for t, c in beam.pending.items() if t != x and t != y}
                if ahead:
                    pending[n_in + s] = ahead
                live = {t: ls for t, ls in beam.live.items() if t != x and t != y}
                live[n_in + s] = step.lowered.out
                grown.append(_Beam(beam.cost + here, pending, live, (beam.trail, step)))
        grown.sort(key=lambda b: b.score)
        beams, seen = [], set()
        for b in grown:  # distinct states only (the same layouts reached twice count once)
            key = (round(b.score, 6), b.live[n_in + s])
            if key not in seen:
                seen.add(key)
                beams.append(b)
            if len(beams) == BEAM:
                break
    best = min(beams, key=lambda b: b.score)
    steps: list[PathStep] = []
    trail = best.trail
    while trail is not None:
        trail, step = trail
        steps.append(step)
    steps.reverse()
    if steps:
        return steps, steps[-1].lowered.out
    return steps, (tuple(inputs[-1]) if inputs else ())  # no step: the one input is the result


#: Layout choices carried through the steps by :func:`lower_path`'s beam search ...
BEAM = 4
#: ... on steps with an operand or product of at least this many elements (on smaller
#: ones a permute costs less than the search: one layout is carried on).
BEAM_ELEMENTS = 1 << 20


@dataclass
class _Beam:
    cost: float  # elements moved so far (with the charges)
    pending: dict  # product id -> expected elements moved where it is consumed
    live: dict  # product id -> its labels in storage order, for products not yet consumed
    trail: "tuple | None"  # (earlier trail, PathStep): the steps so far, shared between beams

    @property
    def score(self) -> float:
        return self.cost + sum(self.pending.values())


class _Labels:
    """Storage labels of SSA id ``i`` in one beam: an input's, or a live product's
    (``i in view`` says whether its layout is known yet)."""

    def __init__(self, inputs, live) -> None:
        self.inputs, self.live = inputs, live

    def __getitem__(self, i: int) -> Labels:
        return tuple(self.inputs[i]) if i < len(self.inputs) else self.live[i]

    def __contains__(self, i: int) -> bool:
        return i < len(self.inputs) or i in self.live


def _best_layouts(s, x, y, a_idx, b_idx, batch_set, k_set, m_set, n_set, a_size, b_size, out_size, n_in,
                  labels, label_sets, keeps, consumer, ssa_path, output, size_of, death, dims, top):
    """The ``top`` group orders and orientations of one step with the least elements
    moved here and expected at the consumer of its product: ``(here, ahead, choice)``."""
    me = n_in + s
    t = consumer.get(me)
    desired: list[Labels] = []
    if t is None:
        desired.append(tuple(output))
        look = None
    else:
        cx, cy = ssa_path[t]
        partner_id = cy if cx == me else cx
        mine = label_sets[me]
        pset = label_sets[partner_id]
        c_batch = mine & pset & keeps[t]
        c_k = (mine & pset) - keeps[t]
        partner = labels[partner_id] if partner_id in labels else None  # known layout?
        rest = mine - c_batch - c_k
        both = tuple(dict.fromkeys(a_idx + b_idx))  # the operands' labels, each once
        ref = partner if partner is not None else both
        r_order = _sub(both, rest)
        desired.append(_sub(ref, c_batch) + r_order + _sub(ref, c_k))
        desired.append(_sub(ref, c_batch) + _sub(ref, c_k) + r_order)
        look = (frozenset(c_batch), frozenset(c_k), partner, size_of(pset) if partner is not None else 0)
    # labels summed soonest last: a stem that keeps this order finds the labels of its
    # next steps at its end (several steps of look-ahead for the price of a sort)
    by_death = tuple(sorted(dict.fromkeys(a_idx + b_idx), key=lambda i: -death.get(i, len(ssa_path))))
    desired.append(by_death)
    # and the mirror image: kept labels summed soonest first, so that a product
    # ``m + n`` has the labels its next steps sum on both sides of the seam, one run
    # a batch of strided GEMMs can read (qtn.strided)
    desired.append(tuple(reversed(by_death)))
    bts = {_sub(a_idx, batch_set), _sub(b_idx, batch_set)} | {_sub(d, batch_set) for d in desired}
    ks = {_sub(a_idx, k_set), _sub(b_idx, k_set)}
    ms = {_sub(a_idx, m_set)} | {_sub(d, m_set) for d in desired}
    ns = {_sub(b_idx, n_set)} | {_sub(d, n_set) for d in desired}
    kept: list[tuple[float, float, float, tuple]] = []  # (total, here, ahead, choice), cheapest first
    bound = float("inf")  # the cost of the top-th choice so far
    aheads: dict[Labels, float] = {}
    for bt, k in product(bts, ks):
        for m in ms:
            for n in ns:
                for swap in (False, True):
                    if swap:  # y is A, x is B (a batch of views there)
                        here = operand_cost(b_idx, bt, n, k, b_size, dims) + \
                            operand_cost(a_idx, bt, k, m, a_size, dims, True)
                    else:
                        here = operand_cost(a_idx, bt, m, k, a_size, dims) + \
                            operand_cost(b_idx, bt, k, n, b_size, dims, True)
                    if here >= bound:
                        continue
                    order = bt + (n + m if swap else m + n)
                    ahead = aheads.get(order)
                    if ahead is None:  # (the same order comes from every k order)
                        if look is None:
                            ahead = 0.0 if order == tuple(output) else float(out_size)
                        else:
                            ahead = _consumer_cost(order, out_size, *look, dims)
                            ahead += DISORDER_CHARGE * out_size * _disorder(order, death)
                        aheads[order] = ahead
                    if here + ahead < bound:
                        kept.append((here + ahead, here, ahead, ((bt, m, k, n), swap)))
                        kept.sort(key=lambda c: c[0])
                        del kept[top:]
                        if len(kept) == top:
                            bound = kept[-1][0]
    return [(here, ahead, choice) for _, here, ahead, choice in kept]
