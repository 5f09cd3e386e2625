"""Contraction plans: an order of pairwise contractions under a memory budget.

A :class:`Plan` is computed from a network's *structure* only (labels, shapes, dtype),
so it is cached and reused when only the values change (other parameters, another
bitstring). Path search: cotengra's greedy optimizer first; when its contraction
would take more than a moment, :func:`qtn.path_search.hyper_search` (a kahypar
bisection, then hyper-optimized trials of increasing cost, each refined by subtree
reconfiguration and sliced only when over the budget and still promising) searches
for at most as long as the best contraction found would take to run at the backend's
measured flop rate (``Backend.flop_rate``), checked before every trial, capped by
``search_time``. The randomized searches are seeded (``plan_seed``), so a circuit
plans the same way in every process; plans are kept in a :class:`qtn.PlanCache`.

With a :class:`MemoryLimit` on the *peak* bytes of one slice (what a device or a
worker thread really holds), a plan whose peak is over it is sliced further until
it fits, or refused with the figures, before anything is allocated.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Mapping, Sequence

from opt_einsum import get_symbol
from opt_einsum.parser import _einsum_symbols_base as _BASE_SYMBOLS

from .gemm import GemmSpec, lower_groups
from .layout import lower_path
from .network import Network
from .path_search import hyper_search, tree_flops
from .search_seed import seeded
from .steps import PackedSteps, Step
from .plan_cache import PlanCache

#: Below this many flops the greedy path is used as is.
GREEDY_ENOUGH_FLOPS = 1e9
DEFAULT_SEARCH_TIME = 30.0
#: A budget whose slicing multiplies the work by more than this is refused ...
MAX_SLICING_OVERHEAD = 10.0
#: ... naming the smallest budget that keeps the overhead under this.
GOOD_SLICING_OVERHEAD = 2.0
#: More slices than this is refused as a budget no useful slicing can meet.
MAX_SLICES = 2**32


@dataclass(frozen=True)
class MemoryLimit:
    """Bytes one slice may hold at once (its ``peak_bytes``), and where the bound comes from.

    Attributes:
        bytes: the bound.
        source: for messages, e.g. ``"max_memory"`` or ``"Dask worker tcp://…: memory_limit …"``.
    """

    bytes: int
    source: str

    def __post_init__(self) -> None:
        if isinstance(self.bytes, bool) or not isinstance(self.bytes, int):
            raise TypeError(f"a memory limit must be an int number of bytes, not {type(self.bytes).__name__}")
        if self.bytes <= 0:
            raise ValueError(f"a memory limit must be a positive number of bytes, got {self.bytes}")


@dataclass(frozen=True)
class Plan:
    """How to contract a network: order, slicing, and what it costs.

    Labels are the network's canonical labels (``Network.canonical``).

    Attributes:
        inputs: labels of every input tensor after slicing (sliced labels removed).
        output: labels of the result, in order.
        size_dict: dimension of every label (sliced ones included).
        sliced: labels fixed per slice; the result is the sum over all their values.
        steps: the pairwise contractions of one slice.
        final_perm: permutation from the last step's labels to ``output``.
        flops: real floating-point operations of the whole contraction, all slices
            (8 per complex multiply-add).
        largest_intermediate_bytes: the largest tensor any step produces (one slice).
        peak_bytes: the most bytes live at once in one slice: inputs not yet used,
            intermediates, and the permuted copies of a step's operands.
        memory_budget: the bound on every intermediate this plan was made under.
        n_slices: number of slices.
        search_seconds: time spent finding the plan.
        method: which optimizer produced the order.
        itemsize: bytes per element (8 for complex64).
        board_time: for a plan made for an FPGA board, its modelled (not measured)
            time there (a ``qtn.fpga.board_time.BoardTime``); otherwise None.
        peak_limit: the bound on ``peak_bytes`` the plan was sliced to meet, or None.
        source: where this plan object came from: ``"search"``, ``"disk"`` (the
            plan cache's files) or ``"checkpoint"``.
    """

    inputs: tuple[tuple[int, ...], ...]
    output: tuple[int, ...]
    size_dict: Mapping[int, int]
    sliced: tuple[int, ...]
    steps: "tuple[Step, ...] | PackedSteps"
    final_perm: tuple[int, ...]
    flops: int
    largest_intermediate_bytes: int
    peak_bytes: int
    memory_budget: int
    n_slices: int
    search_seconds: float
    method: str
    itemsize: int
    tree: Any = field(default=None, compare=False, repr=False)
    board_time: Any = field(default=None, compare=False)
    peak_limit: int | None = None
    source: str = field(default="search", compare=False)
    #: (method, bound seconds) of every candidate the plan was chosen from (``qtn.statevector``)
    alternatives: tuple = field(default=(), compare=False)
    #: the roofline bound on the backend it was chosen for (a ``qtn.roofline.Bound``), or None
    roofline: Any = field(default=None, compare=False)

    @property
    def ssa_path(self) -> list[tuple[int, int]]:
        """The contraction order as SSA pairs (inputs ``0..n-1``, step ``s`` makes ``n + s``)."""
        return [(s.left, s.right) for s in self.steps]

    def replace_board_time(self, board_time: Any) -> "Plan":
        """This plan with its modelled board time (see ``qtn.plan(board=...)``)."""
        return replace(self, board_time=board_time)

    def with_source(self, source: str, search_seconds: float | None = None) -> "Plan":
        """This plan marked as coming from ``source`` (keeping the seconds its search took)."""
        seconds = self.search_seconds if search_seconds is None else search_seconds
        return replace(self, source=source, search_seconds=seconds)

    @property
    def width(self) -> float:
        """log2 of the largest intermediate's element count (cotengra's 'width')."""
        return math.log2(max(1, self.largest_intermediate_bytes // self.itemsize))

    @property
    def gemms(self) -> list[GemmSpec]:
        """The GEMM of every step of one slice."""
        return [s.lowered.gemm for s in self.steps]

    @property
    def n_inputs(self) -> int:
        return len(self.inputs)

    def report(self) -> str:
        """A few lines for a person: cost, memory, slicing, search."""
        lines = [
            f"contraction of {self.n_inputs} tensors in {len(self.steps)} GEMM steps ({self.method})",
            f"  flops              {self.flops:.3e} (real, all slices)",
            f"  width              {self.width:.1f} (log2 elements of the largest intermediate)",
            f"  largest tensor     {_fmt_bytes(self.largest_intermediate_bytes)}",
            f"  peak memory        {_fmt_bytes(self.peak_bytes)} per slice",
            f"  memory budget      {_fmt_bytes(self.memory_budget)}"
            + ("" if self.peak_limit is None else f" (peak limit {_fmt_bytes(self.peak_limit)})"),
            f"  slices             {self.n_slices} (sliced indices: {len(self.sliced)})",
            f"  search time        {self.search_seconds:.3f} s"
            + ("" if self.source == "search" else f" (plan read from the {self.source})"),
        ]
        if self.roofline is not None:
            lines.append(f"  roofline bound     {self.roofline.report()}")
        for name, seconds in self.alternatives:
            lines.append(f"  candidate          {name}: roofline bound {seconds:.3g} s")
        if self.board_time is not None:
            lines.append(f"  board              {self.board_time.report()}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.report()


def _fmt_bytes(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.2f} {unit}"
        n /= 1024
    raise AssertionError  # unreachable


def check_peak(peak_bytes: int, largest_bytes: int, limit: MemoryLimit, n_slices: int | None = None) -> None:
    """Refuse a plan whose slice peak is over ``limit``, with the figures and a way out.

    The one refusal of an over-limit peak: ``plan_network`` calls it when no further
    slicing fits, ``qtn.execute.contract`` before anything is allocated.

    Raises:
        ValueError: ``peak_bytes > limit.bytes``.
    """
    if peak_bytes <= limit.bytes:
        return
    head = f"one slice of this contraction needs {peak_bytes} bytes at its peak (largest intermediate {largest_bytes} bytes"
    where = f"the limit of {limit.bytes} bytes ({limit.source})"
    if n_slices is None:  # a plan made under another limit: slicing it further may fit
        raise ValueError(f"{head}), over {where}; plan with max_memory={limit.bytes} to slice it further, "
                         f"or allow at least {peak_bytes} bytes")
    raise ValueError(f"{head}, {n_slices} slices) and no further slicing fits it under {where}; a limit of at "
                     f"least {peak_bytes} bytes would work (max_memory={peak_bytes} locally, or workers with that "
                     "much memory per thread)")


def check_optimize(optimize: Any) -> None:
    """Raise ValueError for an ``optimize`` string other than ``"greedy"`` / ``"hyper"``."""
    if isinstance(optimize, str) and optimize not in ("greedy", "hyper"):
        raise ValueError(f"optimize must be None, 'greedy', 'hyper' or a cotengra optimizer, not {optimize!r}")


def plan_key(network: Network, memory_budget: int, optimize: Any, search_time: float | None,
             peak_limit: MemoryLimit | None, seed: int) -> str:
    """The cache key of a plan: the network's structure and every option the search depends on."""
    parts = (network.structure_key(), memory_budget, optimize, search_time,
             None if peak_limit is None else peak_limit.bytes, seed)
    return hashlib.sha1(repr(parts).encode()).hexdigest()


def plan_network(
    network: Network,
    *,
    memory_budget: int,
    optimize: "str | Any | None" = None,
    search_time: float | None = None,
    progress: bool = False,
    peak_limit: MemoryLimit | None = None,
    cache: PlanCache | None = None,
    seed: int = 0,
    flop_rate: "float | Rates | Callable[[], float | Rates] | None" = None,
) -> Plan:
    """Find (or fetch from ``cache``) a plan for a canonical network.

    Args:
        network: a network in canonical form (``Network.canonical()``).
        memory_budget: bytes any intermediate may take; the plan slices to meet it.
        optimize: ``None`` (automatic), ``"greedy"``, ``"hyper"``, or a cotengra
            optimizer object (not cached).
        search_time: most seconds a hyper search may take (default 30).
        progress: show cotengra's progress bar during a hyper search.
        peak_limit: bound on the bytes one slice holds at once (``Plan.peak_bytes``);
            the plan is sliced further until its peak fits.
        cache: where plans are looked up and kept (None: search every time).
        seed: seed of cotengra's randomized search (part of the cache key).
        flop_rate: the measured rates of the device the plan is for, a
            ``qtn.roofline.Rates`` (``qtn.roofline.measure_rates(backend)``) or a bare
            flop rate (real flop/s, ``Backend.flop_rate()``): a search stops once it
            has taken as long as the best contraction found is predicted to take
            there (``qtn.path_search.predictor``; not part of the cache key).
            Default: the NumPy backend's rates, i.e. this host's CPUs. A callable is
            asked only when the plan is not in ``cache``.

    Raises:
        ValueError: the budget or peak limit is below what any slicing can reach (the
            message gives the figures), or ``optimize`` is not understood.
        TypeError: ``memory_budget`` is not a positive int.
    """
    if isinstance(memory_budget, bool) or not isinstance(memory_budget, int):
        raise TypeError(f"max_memory must be an int number of bytes, not {type(memory_budget).__name__}")
    if memory_budget <= 0:
        raise ValueError(f"max_memory must be positive, got {memory_budget}")
    if peak_limit is not None and not isinstance(peak_limit, MemoryLimit):
        raise TypeError(f"peak_limit must be a qtn.planning.MemoryLimit, not {type(peak_limit).__name__}")
    check_optimize(optimize)
    itemsize = network.arrays[0].dtype.itemsize if network.arrays else 8
    key = None
    if cache is not None and (optimize is None or isinstance(optimize, str)):
        key = plan_key(network, memory_budget, optimize, search_time, peak_limit, seed)
        found = cache.get(key, network)
        if found is not None:
            return found
    # the rate only after the lookup: a cached plan needs none
    if flop_rate is None:
        from .roofline import measure_rates

        flop_rate = measure_rates("numpy", network.arrays[0].dtype if network.arrays else "complex64")
    elif callable(flop_rate):
        flop_rate = flop_rate()
    search = dict(optimize=optimize, search_time=search_time, progress=progress, flop_rate=flop_rate)
    with seeded(seed):
        if peak_limit is None or peak_limit.bytes >= memory_budget:
            plan = _search(network, memory_budget, itemsize, **search)
        else:
            # the peak bounds every intermediate too, so search under it from the start
            try:
                plan = _search(network, peak_limit.bytes, itemsize, **search)
            except ValueError as err:
                raise ValueError(f"{err} (the budget here is the peak limit: {peak_limit.source})") from err
        if peak_limit is not None:
            if plan.peak_bytes > peak_limit.bytes:
                plan = _fit_peak(network, plan, peak_limit)
            plan = replace(plan, peak_limit=peak_limit.bytes, memory_budget=memory_budget)
    if key is not None:
        cache.put(key, plan)
    return plan


def _search(network: Network, budget: int, itemsize: int, *, optimize, search_time, progress,
            flop_rate) -> Plan:
    import cotengra as ctg

    t0 = time.perf_counter()
    sizes = network.size_dict
    inputs = [tuple(ix) for ix in network.indices]
    output = tuple(network.output)
    target = budget // itemsize
    out_elems = math.prod(sizes[o] for o in output)
    if out_elems > target:
        raise ValueError(
            f"the result alone takes {out_elems * itemsize} bytes, over the memory budget of {budget} bytes; "
            f"raise max_memory to at least {out_elems * itemsize} or leave fewer qubits open"
        )
    largest_input = max((math.prod(sizes[i] for i in ix) for ix in inputs), default=1)
    if largest_input > target:
        raise ValueError(
            f"an input tensor takes {largest_input * itemsize} bytes, over the memory budget of {budget} bytes; "
            f"a max_memory of at least {largest_input * itemsize} bytes is needed"
        )

    if len(inputs) <= 1:
        return _build(network, None, (), budget, itemsize, time.perf_counter() - t0, "trivial")

    # cotengra's Rust pathfinders (cotengrust) take one-character labels
    inputs = [tuple(map(_symbol, ix)) for ix in inputs]
    output = tuple(map(_symbol, output))
    sizes = {_symbol(label): d for label, d in sizes.items()}
    if optimize is None or optimize == "greedy":
        tree = ctg.array_contract_tree(inputs, output, sizes, optimize="greedy", canonicalize=False)
        method = "greedy"
    else:
        tree = None
        method = ""
    want_hyper = optimize == "hyper" or not isinstance(optimize, (str, type(None)))
    if optimize is None and tree_flops(tree) > GREEDY_ENOUGH_FLOPS:
        want_hyper = True
    if want_hyper:
        cap = DEFAULT_SEARCH_TIME if search_time is None else float(search_time)
        tree, method = hyper_search(ctg, inputs, output, sizes, target, optimize, cap, progress, t0, tree, flop_rate)

    # the unsliced cost the slicing overhead is measured against
    reference = tree if not tree.sliced_inds else \
        ctg.array_contract_tree(inputs, output, sizes, optimize="greedy", canonicalize=False)
    if tree.max_size() > target:
        tree = tree.slice_and_reconfigure(target_size=target, allow_outer=False)
        method += "+sliced"
    if tree.sliced_inds and tree_flops(tree) > MAX_SLICING_OVERHEAD * tree_flops(reference):
        _refuse_overhead(tree, reference, budget, itemsize)
    if tree.max_size() > target:
        need = int(tree.max_size()) * itemsize
        raise ValueError(
            f"no slicing found that fits the memory budget of {budget} bytes: the largest intermediate "
            f"still takes {need} bytes after slicing {len(tree.sliced_inds)} indices; "
            f"a max_memory of at least {need} bytes would work"
        )
    if tree.nslices > MAX_SLICES:
        raise ValueError(
            f"meeting the memory budget of {budget} bytes takes {tree.nslices:.3g} slices (more than "
            f"{MAX_SLICES}); raise max_memory (a max_memory of at least {budget * 64} bytes would "
            "cut the slices by ~64x)"
        )
    return _build(network, tree, sliced_labels(tree), budget, itemsize, time.perf_counter() - t0, method)


def _refuse_overhead(tree, reference, budget: int, itemsize: int) -> None:
    """Refuse a budget whose slicing multiplies the work by more than ``MAX_SLICING_OVERHEAD``,
    naming the smallest budget (a power of two) that keeps the overhead under ``GOOD_SLICING_OVERHEAD``."""
    overhead = tree_flops(tree) / tree_flops(reference)
    base = tree_flops(reference)
    # binary search over power-of-two budgets with cotengra's quick slicer (no
    # reconfiguration): its overhead bounds the reconfigured one's, so the figure is safe
    low = max(1, int(math.log2(max(1, budget // itemsize))))
    high = max(low, int(math.ceil(math.log2(max(2.0, float(reference.max_size()))))))
    while low < high:
        mid = (low + high) // 2
        quick = reference.slice(target_size=2**mid) if reference.max_size() > 2**mid else reference
        if tree_flops(quick) < GOOD_SLICING_OVERHEAD * base:
            high = mid
        else:
            low = mid + 1
    good = 2**high * itemsize
    hint = f"; a max_memory of at least {good} bytes keeps the overhead under {GOOD_SLICING_OVERHEAD:g}x"
    raise ValueError(
        f"meeting the memory budget of {budget} bytes takes {tree.nslices:.3g} slices that multiply the work "
        f"{overhead:.3g}x ({tree_flops(tree):.3g} flops against {base:.3g} unsliced), more than the "
        f"{MAX_SLICING_OVERHEAD:g}x qtn accepts{hint}")


def sliced_labels(tree) -> tuple[int, ...]:
    """The network labels a cotengra tree slices (it holds them as symbols)."""
    return tuple(_label_of_symbol(symbol) for symbol in tree.sliced_inds)


#: ``opt_einsum.get_symbol(i)`` is ``chr(i + 140)`` up to here and would give surrogates
#: (U+D800..U+DFFF, which cotengrust cannot take) for the next 140 labels.
_SURROGATE_LABEL = 0xD800 - 140


def _symbol(label: int) -> str:
    """A one-character cotengra label for an int label, never a surrogate."""
    return get_symbol(label) if label < _SURROGATE_LABEL else chr(label + 140 + 2048)


def _label_of_symbol(symbol: str) -> int:
    """Inverse of :func:`_symbol` for the labels qtn uses (ints >= 0)."""
    code = ord(symbol)
    if code >= 0xE000:  # past the surrogates
        return code - 2048 - 140
    if code >= 192:  # get_symbol(i) = chr(i + 140) for 52 <= i < _SURROGATE_LABEL
        return code - 140
    return _BASE_SYMBOLS.index(symbol)


def _fit_peak(network: Network, plan: Plan, limit: MemoryLimit) -> Plan:
    """Slice ``plan`` further, halving the bound on its largest intermediate, until the
    peak of one slice fits ``limit``; refuse with the figures when no slicing gets there."""
    t0 = time.perf_counter()
    sizes = network.size_dict
    # slicing never cuts the output, so intermediates cannot shrink below it
    floor = max(1, math.prod(sizes[o] for o in network.output))
    best, tree = plan, plan.tree
    target = plan.largest_intermediate_bytes // plan.itemsize
    while tree is not None and best.peak_bytes > limit.bytes and target > floor:
        target = max(floor, target // 2)
        tree = tree.slice_and_reconfigure(target_size=target, allow_outer=False)
        if tree.nslices > MAX_SLICES:
            break
        seconds = plan.search_seconds + time.perf_counter() - t0
        candidate = _build(network, tree, sliced_labels(tree), target * plan.itemsize, plan.itemsize,
                           seconds, plan.method.removesuffix("+peak") + "+peak")
        if candidate.peak_bytes < best.peak_bytes:
            best = candidate
    check_peak(best.peak_bytes, best.largest_intermediate_bytes, limit, best.n_slices)
    return best


def plan_from_path(
    network: Network,
    ssa_path: Sequence[tuple[int, int]],
    sliced: Sequence[int],
    *,
    memory_budget: int,
    peak_limit: int | None = None,
    method: str = "given path",
    layout: bool | None = None,
) -> Plan:
    """The plan of a known contraction order (e.g. the one a checkpoint was run with).

    Args:
        network: the canonical network.
        ssa_path: pairs of SSA ids (inputs ``0..n-1``, step ``s`` makes ``n + s``), as ``Plan.steps``.
        sliced: the sliced labels.
        memory_budget: recorded as ``Plan.memory_budget`` (not searched under).
        peak_limit: recorded as ``Plan.peak_limit``.
        method: recorded as ``Plan.method``.
        layout: choose the intermediates' layouts (:func:`qtn.layout.lower_path`); default:
            yes, except for a Schrödinger order (``method`` ``"schrodinger..."``), lowered
            plainly (:func:`plain_lowering`).

    Raises:
        ValueError: the path or sliced labels do not fit the network.
    """
    n = network.num_tensors
    used: set[int] = set()
    pairs = [tuple(p) for p in ssa_path]
    for step, pair in enumerate(pairs):
        if len(pair) != 2 or any(not isinstance(t, int) or not 0 <= t < n + step or t in used for t in pair) \
                or pair[0] == pair[1]:
            raise ValueError(f"contraction path step {step} {pair} does not fit a network of {n} tensors")
        used.update(pair)
    if n > 0 and len(pairs) != n - 1:
        raise ValueError(f"a contraction path of {len(pairs)} steps does not fit a network of {n} tensors")
    sizes = network.size_dict
    bad = [i for i in sliced if i not in sizes or i in network.output]
    if bad:
        raise ValueError(f"sliced labels {bad} are not inner labels of the network")
    itemsize = network.arrays[0].dtype.itemsize if network.arrays else 8
    if layout is None:
        layout = not method.startswith("schrodinger")
    plan = _build(network, None, tuple(sliced), memory_budget, itemsize, 0.0, method, ssa_path=pairs, layout=layout)
    return replace(plan, peak_limit=peak_limit)


def plain_lowering(inputs: Sequence[tuple[int, ...]], ssa_path: Sequence[tuple[int, int]],
                   output: Sequence[int], sizes: Mapping[int, int]) -> tuple[list[Step], tuple[int, ...]]:
    """Every step lowered in its operands' storage order (as :func:`qtn.gemm.lower_pair`
    lowers it), without :func:`qtn.layout.lower_path`'s layout search: linear in the path,
    for the Schrödinger order, whose thousands of steps each multiply a small block into
    the state (so ``lower_pair``'s work is done inline here: a long circuit's first call
    spends its Python on these steps)."""
    holders: dict[int, int] = {}
    for ix in inputs:
        for i in ix:
            holders[i] = holders.get(i, 0) + 1
    out_set = set(output)
    labels = [tuple(ix) for ix in inputs]
    steps: list[Step] = []
    for x, y in ssa_path:
        a, b = labels[x], labels[y]
        for i in a:
            holders[i] -= 1
        for i in b:
            holders[i] -= 1
        a_set, b_set = set(a), set(b)
        if len(a_set) != len(a) or len(b_set) != len(b):
            raise ValueError(f"operand repeats an index: {tuple(a)} / {tuple(b)}")
        # lower_pair's groups: batch/k/m in A's order, n in B's; a label is kept while
        # another tensor or the output holds it
        batch, k, m = [], [], []
        for i in a:
            if i in b_set:
                (batch if holders[i] > 0 or i in out_set else k).append(i)
            else:
                m.append(i)
        n = [i for i in b if i not in a_set]
        for i in m + n:
            if holders[i] <= 0 and i not in out_set:
                raise ValueError(f"index {i!r} appears in one operand only and is not kept; sum it out first")
        low = lower_groups(a, b, batch, m, k, n, sizes)
        for i in low.out:
            holders[i] = holders.get(i, 0) + 1
        labels.append(low.out)
        steps.append(Step(x, y, low))
    final = labels[-1] if steps else (labels[0] if labels else ())
    return steps, tuple(final)


def _build(network: Network, tree, sliced: Sequence[int], budget: int, itemsize: int, seconds: float, method: str,
           ssa_path: Sequence[tuple[int, int]] | None = None, layout: bool = True) -> Plan:
    sizes = network.size_dict
    sliced_set = set(sliced)
    inputs = tuple(tuple(i for i in ix if i not in sliced_set) for ix in network.indices)
    output = tuple(network.output)
    n_slices = math.prod(sizes[i] for i in sliced)
    if ssa_path is None:
        ssa_path = tree.get_ssa_path() if tree is not None else []

    if layout:
        lowered_steps, final = lower_path(inputs, ssa_path, output, sizes)
    else:
        lowered_steps, final = plain_lowering(inputs, ssa_path, output, sizes)
    live_bytes = {t: math.prod(sizes[i] for i in ix) * itemsize for t, ix in enumerate(inputs)}
    steps: list[Step] = []
    largest = max(live_bytes.values(), default=itemsize)
    peak = current = sum(live_bytes.values())  # current: bytes live now, kept as a running total
    flops = 0
    for n_done, ps in enumerate(lowered_steps):
        lowered, left, right = ps.lowered, ps.left, ps.right
        out_bytes = math.prod(lowered.out_shape) * itemsize
        # the permuted copies of both operands plus the product exist at once
        peak = max(peak, current + live_bytes[left] + live_bytes[right] + out_bytes)
        current += out_bytes - live_bytes.pop(left) - live_bytes.pop(right)
        live_bytes[len(inputs) + n_done] = out_bytes
        largest = max(largest, out_bytes)
        flops += lowered.gemm.flops
        steps.append(Step(left, right, lowered))
    if sorted(final) != sorted(output):
        raise AssertionError(f"plan ends with labels {final}, expected {output}")
    return Plan(
        inputs=inputs,
        output=output,
        size_dict=dict(sizes),
        sliced=tuple(sliced),
        # a Schrödinger order's thousands of steps are packed (see PackedSteps)
        steps=tuple(steps) if layout else PackedSteps(steps),
        final_perm=tuple(final.index(o) for o in output),
        flops=flops * n_slices,
        largest_intermediate_bytes=largest,
        peak_bytes=peak,
        memory_budget=budget,
        n_slices=n_slices,
        search_seconds=seconds,
        method=method,
        itemsize=itemsize,
        tree=tree,
    )

