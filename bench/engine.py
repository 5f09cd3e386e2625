"""The contraction engine on one tree: qtn against quimb's engine, time split, roofline.

For the Sycamore m = 10 amplitude (or ``--grid RxC --depth D``) one cotengra
HyperOptimizer tree is found, then, in alternating rounds (median of ``--repeat``):

* ``qtn``             qtn's engine (layout-aware lowering, permute kernel, BLAS), its
                      buffer pool let go just before (so it faults fresh pages in, as a
                      process's first call does);
* ``qtn-warm``        the same, right after an untimed run of its own (the pool warm, as
                      a user's repeated calls find it);
* ``quimb@qtn-tree``  quimb's engine (``tensor_contract``, i.e. cotengra) on the same
                      network and the same tree;
* ``matmul``          NumPy complex64 2048^3, the reference rate under the same load.

qtn's time is split into permute / GEMM / other (an instrumented run of the same
plan: per step the permutes of both operands, the GEMM, the rest), with the bytes
the permutes moved and the plan's roofline bound at this machine's measured rates.
It also times the permute candidates (qtn's C kernel, NumPy's copy, TBLIS'
``transpose_add``) on the permutes the plan still has, and TBLIS' transpose-free
contraction (``pytblis.contract``) against permute + GEMM on the big steps.

Run it pinned to one core with one BLAS thread, as the issue's figures are::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 \\
        taskset -c 1 python bench/engine.py
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import cirq
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import amplitudes as amp  # noqa: E402  (bench/amplitudes.py: cases, quimb on qtn's tree)
from amp_timing import release_unless_qtn  # noqa: E402
import common  # noqa: E402

import qtn  # noqa: E402
from qtn import permute, planning, strided  # noqa: E402
from qtn.planning import plan_from_path  # noqa: E402
from qtn.strided import how_it_runs  # noqa: E402
from qtn import buffers  # noqa: E402
from qtn.execute import StepTimes, run_slice, upload_inputs  # noqa: E402
from qtn.io import read_circuit  # noqa: E402
from qtn.roofline import bound, measure_rates  # noqa: E402


def first_call_pool_stats(case: "amp.QtnCase", backend: object) -> dict[str, float]:
    """The buffer pool's counters over one run with no buffers kept (a first call)."""
    qtn.release_buffers()
    buffers.reset_stats()
    case.run(backend)
    return buffers.pool_stats()


def split_run(net, plan, backend) -> dict:
    """One instrumented contraction, as ``case.run`` runs it (the same buffer pool): seconds in
    permutes, GEMMs and the rest; bytes permuted."""
    times = StepTimes()
    key = object()
    pool = buffers.pool_for(key, max(backend.memory_budget(), plan.peak_bytes), plan.peak_bytes) if getattr(backend, "accepts_out", False) else None
    t_start = time.perf_counter()
    try:
        for s in range(plan.n_slices):
            run_slice(net, plan, backend, s, None, pool, times)
    finally:
        buffers.drop(key)
    total = time.perf_counter() - t_start
    return {"total_s": total, "permute_s": times.permute_s, "gemm_s": times.gemm_s,
            "other_s": total - times.permute_s - times.gemm_s,
            "permute_bytes": times.permute_bytes, "strided_view_bytes": times.strided_view_bytes}


def permute_candidates(net, plan, limit: int = 6) -> list[dict]:
    """The plan's largest remaining permutes, timed with qtn's kernel, NumPy and TBLIS."""
    try:
        import pytblis
    except ImportError:
        pytblis = None
    rng = np.random.default_rng(0)
    labels = [tuple(ix) for ix in plan.inputs]
    jobs = []
    for step in plan.steps:
        low = step.lowered
        for ssa, perm, shape in ((step.left, low.a_perm, low.a_shape), (step.right, low.b_perm, low.b_shape)):
            if how_it_runs(tuple(plan.size_dict[i] for i in labels[ssa]), perm, shape) == "move":
                jobs.append((2 ** len(labels[ssa]), len(labels[ssa]), perm))
        labels.append(low.out)
    jobs.sort(reverse=True)
    rows = []
    for size, ndim, perm in jobs[:limit]:
        a = rng.standard_normal(size).astype(np.complex64).reshape((2,) * ndim)
        row = {"elements": size, "perm": list(perm)}
        row["qtn_kernel_s"] = common.median_time(lambda: permute.permute(a, perm), repeat=3)[0]
        pool = buffers.BufferPool(object(), 2 * a.nbytes)  # into a reused buffer, as the engine's steps run
        out = pool.take((size,), a.dtype)
        row["qtn_kernel_pool_s"] = common.median_time(lambda: permute.permute(a, perm, out=out), repeat=3)[0]
        row["kernel_pool_GBps"] = 2 * a.nbytes / row["qtn_kernel_pool_s"] / 1e9
        del out, pool
        row["numpy_s"] = common.median_time(lambda: np.ascontiguousarray(a.transpose(perm)), repeat=3)[0]
        dst = np.empty_like(a)  # the machine's copy rate on the same bytes (written pages reused)
        row["copyto_s"] = common.median_time(lambda: np.copyto(dst, a), repeat=3)[0]
        row["kernel_GBps"] = 2 * a.nbytes / row["qtn_kernel_s"] / 1e9  # read + write
        row["copyto_GBps"] = 2 * a.nbytes / row["copyto_s"] / 1e9
        if pytblis is not None:
            letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"[:ndim]
            sub = letters + "->" + "".join(letters[p] for p in perm)
            row["tblis_s"] = common.median_time(lambda: pytblis.transpose_add(sub, a), repeat=3)[0]
        rows.append(row)
        print(f"  permute 2^{ndim}: qtn kernel {row['qtn_kernel_s'] * 1e3:.1f} ms ({row['kernel_GBps']:.1f} GB/s; "
              f"into a pool buffer {row['qtn_kernel_pool_s'] * 1e3:.1f} ms, {row['kernel_pool_GBps']:.1f} GB/s), "
              f"np.copyto {row['copyto_s'] * 1e3:.1f} ms ({row['copyto_GBps']:.1f} GB/s), numpy {row['numpy_s'] * 1e3:.1f} ms"
              + (f", tblis {row['tblis_s'] * 1e3:.1f} ms" if "tblis_s" in row else ""))
    return rows


def gemm_bound(plan, peak_flops: float) -> dict:
    """The tree's own limit: per step max(flops / ``peak_flops``, bytes / copy bandwidth), the
    bytes of A, B and C each once (no permutes), the bandwidth np.copyto's (read + write)
    on 2^26 complex64 here; with each step's arithmetic intensity against the balance point."""
    src = np.ones(1 << 26, np.complex64)
    dst = np.empty_like(src)
    bw = 2 * src.nbytes / common.median_time(lambda: np.copyto(dst, src), repeat=5)[0]
    del src, dst
    rows, total, mem = [], 0.0, 0.0
    for s, step in enumerate(plan.steps):
        g = step.lowered.gemm
        nbytes = plan.itemsize * g.batch * (g.m * g.k + g.k * g.n + g.m * g.n)
        t = max(g.flops / peak_flops, nbytes / bw)
        total += t
        mem += t if nbytes / bw > g.flops / peak_flops else 0.0
        rows.append({"step": s, "m": g.m, "k": g.k, "n": g.n, "batch": g.batch, "flops": g.flops,
                     "intensity_flop_per_byte": g.flops / nbytes, "bound_s": t})
    rows.sort(key=lambda r: -r["bound_s"])
    rng = np.random.default_rng(0)
    for r in rows[:8]:  # BLAS alone on the shape: contiguous operands, an output already written once
        if r["batch"] != 1:
            continue
        a = rng.standard_normal((r["m"], r["k"])).astype(np.complex64)
        b = rng.standard_normal((r["k"], r["n"])).astype(np.complex64)
        c = np.empty((r["m"], r["n"]), np.complex64)
        r["blas_gflops"] = r["flops"] / common.median_time(lambda: np.matmul(a, b, out=c), repeat=3)[0] / 1e9
        del a, b, c
    return {"copy_bandwidth_Bps": bw, "peak_flops": peak_flops, "balance_flop_per_byte": peak_flops / bw,
            "bound_s": total, "memory_bound_steps_s": mem, "bound_matmul_fraction": plan.flops / total / peak_flops,
            "largest_steps": rows[:12]}


def tblis_steps(net, plan, backend, min_elements: int = 1 << 20) -> dict:
    """TBLIS' transpose-free contraction against permute + GEMM on the steps with a big operand."""
    try:
        import pytblis
    except ImportError as err:
        return {"skipped": f"pytblis not importable ({err})"}
    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    tensors = upload_inputs(net, plan, backend, 0)
    labels = [tuple(ix) for ix in plan.inputs]
    ours = theirs = 0.0
    wins = 0
    for step in plan.steps:
        low = step.lowered
        x, y = tensors[step.left], tensors[step.right]
        t0 = time.perf_counter()
        product = backend.matmul(backend.transpose_reshape(x, low.a_perm, low.a_shape),
                                 backend.transpose_reshape(y, low.b_perm, low.b_shape)).reshape(low.out_shape)
        t1 = time.perf_counter()
        if max(x.size, y.size) >= min_elements:
            names: dict = {}
            sym = lambda ls: "".join(letters[names.setdefault(i, len(names))] for i in ls)  # noqa: E731
            sub = f"{sym(labels[step.left])},{sym(labels[step.right])}->{sym(low.out)}"
            t2 = time.perf_counter()
            pytblis.contract(sub, x, y)
            t3 = time.perf_counter()
            ours += t1 - t0
            theirs += t3 - t2
            wins += (t3 - t2) < (t1 - t0)
        tensors[step.left] = tensors[step.right] = None
        tensors.append(product)
        labels.append(low.out)
    return {"permute_gemm_s": ours, "tblis_s": theirs, "steps_tblis_faster": wins}


ROOT = Path(__file__).resolve().parent.parent


def lowering_at(rev: str):
    """``lower_path`` of ``qtn/layout.py`` as it was at git revision ``rev`` (the before of an A/B)."""
    import subprocess
    import types

    src = subprocess.run(["git", "show", f"{rev}:qtn/layout.py"], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout
    src = src.replace("from .gemm import", "from qtn.gemm import").replace("from . import strided", "from qtn import strided")
    mod = types.ModuleType(f"qtn_layout_{rev}")
    sys.modules[mod.__name__] = mod  # (its dataclasses look their module up)
    exec(compile(src, f"{rev}:qtn/layout.py", "exec"), mod.__dict__)
    return mod.lower_path


class WithSides:
    """Run a function with the numpy backend's strided views on ``sides`` only (and no view limit):
    ``("b",)`` is the engine as it was before A operands ran as views."""

    def __init__(self, fn, sides: tuple[str, ...]) -> None:
        self.fn, self.sides = fn, sides

    def __call__(self):
        keep = strided.SIDES, strided.MAX_VIEWS
        strided.SIDES, strided.MAX_VIEWS = self.sides, 1 << 62
        try:
            return self.fn()
        finally:
            strided.SIDES, strided.MAX_VIEWS = keep


class NoStridedViews:
    """Run a function with the numpy backend's batched strided views off (every such operand permuted)."""

    def __init__(self, fn) -> None:
        self.fn = fn

    def __call__(self):
        keep = strided.MIN_INNER
        strided.MIN_INNER = 1 << 62
        try:
            return self.fn()
        finally:
            strided.MIN_INNER = keep


def case_from_tree_file(circuit, path: Path, search_repeats: int):
    """The case of ``circuit`` on the tree saved in ``path`` (found and saved there when missing),
    so that a before and an after run contract along one tree."""
    import json

    import cotengra as ctg

    if not path.exists():
        case = amp.qtn_case(circuit, 0, amp.hyper(search_repeats))
        path.write_text(json.dumps({"ssa_path": [list(p) for p in case.plan.tree.get_ssa_path()],
                                    "sliced": list(case.plan.sliced)}))
        return case
    saved = json.loads(path.read_text())
    ref = amp.qtn_case(circuit, 0, "greedy")  # the same network; its plan is replaced
    net = ref.net
    plan = plan_from_path(net, [tuple(p) for p in saved["ssa_path"]], saved["sliced"],
                          memory_budget=ref.plan.memory_budget)
    sym = ctg.get_symbol
    tree = ctg.ContractionTree.from_path([tuple(sym(i) for i in ix) for ix in net.indices],
                                         tuple(sym(o) for o in net.output),
                                         {sym(i): d for i, d in net.size_dict.items()},
                                         ssa_path=[tuple(p) for p in saved["ssa_path"]])
    from dataclasses import replace
    return amp.QtnCase(net, replace(plan, tree=tree), ref.plan_s)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--grid", help="RxC grid circuit instead of Sycamore m=10")
    p.add_argument("--depth", type=int, default=12)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--search-repeats", type=int, default=16)
    p.add_argument("--no-write", action="store_true")
    p.add_argument("--tree-file", type=Path, help="contract along the tree saved here (found and saved if missing)")
    p.add_argument("--baseline", metavar="REV", help="also time the lowering of git revision REV, without "
                   "strided views (the before of an A/B, same tree, same rounds)")
    p.add_argument("--baseline-sides", metavar="SIDES", help="run the baseline with strided views on these "
                   "operand roles (e.g. 'b': B's views only) instead of none")
    args = p.parse_args(argv)
    info = common.machine_info()
    common.print_machine(info)
    try:
        from threadpoolctl import threadpool_info
        pools = [{k: d.get(k) for k in ("internal_api", "num_threads", "architecture")} for d in threadpool_info()]
    except ImportError:
        pools = "threadpoolctl not installed"
    load0 = os.getloadavg()[0]
    print(f"thread pools: {pools}; affinity {sorted(os.sched_getaffinity(0))}; load average {load0:.2f}")
    if args.grid:
        r, c = map(int, args.grid.split("x"))
        circuit = cirq.experiments.random_rotations_between_grid_interaction_layers_circuit(
            cirq.GridQubit.rect(r, c), args.depth, seed=0)
        name = f"grid{args.grid}-d{args.depth}"
    else:
        circuit, name = read_circuit(amp.SYCAMORE), "sycamore-m10"
    permute.set_num_threads(len(os.sched_getaffinity(0)))
    if args.tree_file:
        case = case_from_tree_file(circuit, args.tree_file, args.search_repeats)
    else:
        case = amp.qtn_case(circuit, 0, amp.hyper(args.search_repeats))
    plan, net = case.plan, case.net
    backend = qtn.get_backend("numpy")
    rates = measure_rates(backend)
    roof = bound(plan, rates)
    print(f"{name}: {plan.flops:.3g} flops, width {plan.width:.1f}, {plan.n_slices} slice(s); "
          f"roofline {roof.report()}")
    fns = {"qtn": lambda: case.run(backend), "matmul": amp.Matmul(2048),
           "qtn-no-strided": NoStridedViews(lambda: case.run(backend))}  # the same plan, every operand permuted
    base_plan = None
    if args.baseline:
        real = planning.lower_path
        planning.lower_path = lowering_at(args.baseline)
        try:
            base_plan = plan_from_path(net, plan.tree.get_ssa_path(), plan.sliced, memory_budget=plan.memory_budget)
        finally:
            planning.lower_path = real
        base_case = amp.QtnCase(net, base_plan, 0.0)
        wrap = (lambda f: WithSides(f, tuple(args.baseline_sides.split(",")))) if args.baseline_sides else NoStridedViews
        fns[f"qtn@{args.baseline}"] = wrap(lambda: base_case.run(backend))
    try:
        fns["quimb@qtn-tree"] = amp.quimb_on_qtn_tree(case)
    except ImportError as err:
        print(f"  skip quimb: {err}")
    # "qtn" has its buffer pool let go just before, and so faults fresh pages in: a first
    # call. "qtn-warm" runs right after an untimed run of its own, on the pool a user's
    # repeated calls find. (quimb gets qtn's pages back before each of its rounds.)
    fns["qtn-warm"] = fns["qtn"]

    def before(name: str) -> None:
        release_unless_qtn(name)
        if name == "qtn":
            qtn.release_buffers()
        elif name == "qtn-warm":
            case.run(backend)

    timed = amp.interleaved(fns, args.repeat, before=before)
    mm = fns["matmul"].flops / timed["matmul"][1]
    splits = [split_run(net, plan, backend) for _ in range(max(1, args.repeat))]
    split = {k: statistics.median(s[k] for s in splits) for k in splits[0]}
    base = None
    if base_plan is not None:
        b_splits = [wrap(lambda: split_run(net, base_plan, backend))() for _ in range(max(1, args.repeat))]
        b_split = {k: statistics.median(s[k] for s in b_splits) for k in b_splits[0]}
        b_s = timed[f"qtn@{args.baseline}"][1]
        base = {"rev": args.baseline, "sides": args.baseline_sides or "none", "qtn_s": b_s, "matmul_fraction": plan.flops / b_s / mm, "split": b_split,
                "permute_fraction": b_split["permute_s"] / b_split["total_s"],
                "roofline_s": bound(base_plan, rates, host_views=False).seconds}
    q_s = timed["qtn"][1]
    result = {
        "circuit": name, "flops": plan.flops, "width": plan.width, "n_slices": plan.n_slices,
        "qtn_s": q_s, "qtn_gflops": plan.flops / q_s / 1e9, "matmul_gflops": mm / 1e9,
        "matmul_fraction": plan.flops / q_s / mm, "split": split,
        "permute_fraction": split["permute_s"] / split["total_s"],
        "roofline_s": roof.seconds, "roofline_fraction": roof.seconds / q_s,
        "rates": {"gemm": dict(rates.gemm), "bandwidth": rates.bandwidth, "source": rates.source},
        "gemm_gflops": plan.flops / split["gemm_s"] / 1e9,
        "tree_file": str(args.tree_file) if args.tree_file else None,
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "first_call_pool": first_call_pool_stats(case, backend),
    }
    warm_s = timed["qtn-warm"][1]
    result.update(qtn_warm_s=warm_s, matmul_fraction_warm=plan.flops / warm_s / mm)
    result["qtn_no_strided_s"] = timed["qtn-no-strided"][1]
    print(f"  the same plan with strided views off: {result['qtn_no_strided_s']:.3f} s")
    if base is not None:
        result["baseline"] = base
        print(f"  baseline (lowering at {base['rev']}, strided views on {base['sides']}, same tree and rounds): "
              f"{base['qtn_s']:.3f} s = "
              f"{100 * base['matmul_fraction']:.0f} % of matmul; split permute {base['split']['permute_s']:.3f} s "
              f"({100 * base['permute_fraction']:.0f} %), GEMM {base['split']['gemm_s']:.3f} s, moved "
              f"{base['split']['permute_bytes'] / 1e9:.2f} GB; roofline {base['roofline_s']:.3f} s")
    print(f"  qtn, first call (its pool let go) {q_s:.3f} s = {result['qtn_gflops']:.1f} GFLOP/s = {100 * result['matmul_fraction']:.0f} % of "
          f"NumPy matmul ({mm / 1e9:.1f} GFLOP/s, same rounds); roofline bound {roof.seconds:.3f} s "
          f"({100 * result['roofline_fraction']:.0f} % of achieved)")
    print(f"  qtn on a warm buffer pool (right after a run of its own) {warm_s:.3f} s = "
          f"{100 * result['matmul_fraction_warm']:.0f} % of NumPy matmul")
    print(f"  split (instrumented run): permute {split['permute_s']:.3f} s ({100 * result['permute_fraction']:.0f} %), "
          f"GEMM {split['gemm_s']:.3f} s, other {split['other_s']:.3f} s; permutes moved "
          f"{split['permute_bytes'] / 1e9:.2f} GB, {split['strided_view_bytes'] / 1e9:.2f} GB read as strided views; "
          f"GEMM rate {result['gemm_gflops']:.1f} GFLOP/s")
    if "quimb@qtn-tree" in timed:
        qu = timed["quimb@qtn-tree"][1]
        result["quimb_same_tree_s"] = qu
        result["qtn_over_quimb"] = q_s / qu
        print(f"  quimb's engine on the same tree {qu:.3f} s: qtn / quimb = {q_s / qu:.2f} (target <= 0.67)")
        a_q, a_u = complex(timed["qtn"][0]), complex(timed["quimb@qtn-tree"][0])
        result["amplitude_rel_diff"] = abs(a_q - a_u) / abs(a_u)
    result["gemm_bound"] = gb = gemm_bound(plan, mm)
    print(f"  the tree's GEMM-only bound (per step max(flops / matmul rate, A+B+C bytes / np.copyto's "
          f"{gb['copy_bandwidth_Bps'] / 1e9:.1f} GB/s)): {gb['bound_s']:.3f} s = {100 * gb['bound_matmul_fraction']:.0f} % of "
          f"matmul; balance {gb['balance_flop_per_byte']:.1f} flop/B; memory-bound steps {gb['memory_bound_steps_s']:.3f} s")
    for r in gb["largest_steps"][:8]:
        print(f"    step {r['step']}: m{r['m']} k{r['k']} n{r['n']}, {r['intensity_flop_per_byte']:.1f} flop/B, bound "
              f"{r['bound_s'] * 1e3:.1f} ms; BLAS alone {r.get('blas_gflops', 0):.0f} GFLOP/s")
    print("permute candidates on the plan's largest remaining permutes:")
    result["permute_candidates"] = permute_candidates(net, plan)
    result["tblis_contract"] = tblis_steps(net, plan, backend)
    print(f"  TBLIS transpose-free contraction on the big steps: {result['tblis_contract']}")
    result["load_average"] = {"start": load0, "end": os.getloadavg()[0]}
    result["note"] = "measured on a 2-core machine shared with other jobs; see load_average"
    if not args.no_write:
        print(f"results: {common.write_results('engine', {'machine': info, 'pools': pools, **result})}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
