"""Sliced contraction on Dask: the Sycamore m = 10 amplitude, serial against 2 workers.

One amplitude (bitstring 0, complex64) of the 53-qubit Sycamore circuit of depth
m = 10 is planned without a memory bound (qtn's hyper search, then cotengra's subtree
reconfiguration), and in exactly 16, 32 or 64 slices: the fewest flops of that order
sliced by cotengra's ``SliceFinder`` and reconfigured, of ``slice_and_reconfigure``,
and of a hyper search whose every trial is sliced before it is scored. The plan's
``max_memory`` is its largest intermediate: the small budget that forces this
slicing (the unsliced contraction needs 512 MiB or more). For each plan it measures,
with wall-clock timers:

* serial: ``qtn.execute.contract`` in this process;
* Dask: the same call with ``executor=`` a ``LocalCluster`` of 2 worker processes of
  1 thread each, started once; a warm-up run of 2 slices first imports qtn and starts
  the backend on both workers;
* processes: the same call with ``executor=`` a ``ProcessPoolExecutor`` of 2 spawned
  processes (no Dask, default allocator): the control that shows what two processes
  get out of this machine at that moment.

All run with one BLAS/OpenMP thread: ``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS``
and ``MKL_NUM_THREADS`` are set to 1 before NumPy loads here and in the workers' start
environment (``distributed.nanny.pre-spawn-environ``), and the BLAS thread counts of
this process and of every worker are read back with threadpoolctl and recorded.

The workers' allocator is set like this process's: Dask's nanny starts workers with
``MALLOC_TRIM_THRESHOLD_=65536``, which also turns off glibc's adaptive mmap
threshold, so every intermediate over 128 KiB is a fresh ``mmap`` and its pages fault
in again; that alone made slices ~2x slower in a worker than here. The workers get
``MALLOC_MMAP_THRESHOLD_=33554432`` and ``MALLOC_TRIM_THRESHOLD_=67108864`` (glibc's
adaptive values after it has seen a 32 MiB block) instead. ``--dask-malloc`` keeps
Dask's setting, to measure the difference. The machine's other load is recorded too
(``os.getloadavg`` before and after): on a shared machine it is part of the result.

Also reported: the slicing overhead, the flops of the sliced plan over the fewest
flops of an unsliced plan found (the searched one, or the sliced order run unsliced),
and over the same order unsliced; the bytes sent to the workers (the pickled network
and plan, scattered once to each worker, plus each task's pickled arguments); and a
projection of the run onto N machines from the measured per-slice time. The
projection is a model, not a measurement, and says so.

Usage::

    python bench/scaling.py            # 16, 32 and 64 slices, 3 timed runs each (~10 min on 2 cores)
    python bench/scaling.py --quick    # the 32-slice plan, one timed run each, 10 s searches (~1-2 min)
"""

from __future__ import annotations

import os

# one BLAS thread in this process and (inherited) in the workers: set before NumPy loads
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import concurrent.futures as cf  # noqa: E402
import dataclasses  # noqa: E402
import logging  # noqa: E402
import math  # noqa: E402
import multiprocessing  # noqa: E402
import pickle  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402  (bench/common.py, next to this script)

import qtn  # noqa: E402
from qtn.compiler import compile_circuit as prepare  # noqa: E402
from qtn.ket import open_network  # noqa: E402
from qtn.execute import Chunk, SliceJob, contract  # noqa: E402
from qtn.io import read_circuit  # noqa: E402
from qtn.planning import Plan, plan_from_path, plan_network, sliced_labels  # noqa: E402

SYCAMORE = Path("/work/shared/circuits/circuit_n53_m10_s0_e0_pABCDCDAB.qsim")
WORKERS = 2
TARGET_SPEEDUP = 1.6
TARGET_OVERHEAD = 1.5
#: machines of the projection (each running one 1-thread worker, as measured)
PROJECT_MACHINES = (1, 2, 4, 8, 16, 32, 64)
ONE_THREAD = {"OMP_NUM_THREADS": 1, "OPENBLAS_NUM_THREADS": 1, "MKL_NUM_THREADS": 1}
#: glibc's adaptive allocator settings once it has seen a 32 MiB block (see the docstring)
WORKER_MALLOC = {"MALLOC_MMAP_THRESHOLD_": 33554432, "MALLOC_TRIM_THRESHOLD_": 67108864}
DASK_MALLOC = {"MALLOC_TRIM_THRESHOLD_": 65536}


def blas_threads() -> list[int]:
    from threadpoolctl import threadpool_info

    return [int(i["num_threads"]) for i in threadpool_info() if i.get("user_api") == "blas"]


def sliced_plans(net: qtn.network.Network, base: Plan, n_slices: int, search_time: float) -> tuple[Plan, Plan]:
    """The plan of fewest flops in exactly ``n_slices`` slices found, and its order unsliced.

    Candidates: ``base``'s order with the ``n_slices`` indices cotengra's ``SliceFinder``
    picks, then a subtree reconfiguration; the same order through ``slice_and_reconfigure``
    (if it lands on ``n_slices``); and a hyper search whose every trial is sliced into
    ``n_slices`` before it is scored (``search_time`` seconds).
    """
    import cotengra as ctg

    found = base.tree.slice(target_slices=n_slices, allow_outer=False, max_repeats=32)
    found.subtree_reconfigure_(minimize="flops")  # the sliced labels stay; the order around them improves
    candidates = [found]
    interleaved = base.tree.slice_and_reconfigure(target_size=base.tree.max_size() // n_slices, allow_outer=False)
    if interleaved.nslices == n_slices:
        candidates.append(interleaved)
    opt = ctg.HyperOptimizer(methods=["kahypar", "greedy"], minimize="flops", max_time=search_time,
                             max_repeats=10**6, parallel=False, reconf_opts={},
                             slicing_opts={"target_slices": n_slices, "allow_outer": False})
    searched = opt.search([tuple(ix) for ix in net.indices], tuple(net.output), net.size_dict)
    if searched.nslices == n_slices:
        candidates.append(searched)
    plans = [plan_from_path(net, t.get_ssa_path(), sliced_labels(t),
                            memory_budget=int(t.max_size()) * base.itemsize, method="sliced") for t in candidates]
    sliced = min(plans, key=lambda p: p.flops)
    same = plan_from_path(net, [(s.left, s.right) for s in sliced.steps], (), memory_budget=2**40,
                          method="the sliced order, unsliced")
    return sliced, same


def unsliced_plan(net: qtn.network.Network, search_time: float) -> Plan:
    """qtn's hyper search without a memory bound, then cotengra's subtree reconfiguration."""
    searched = plan_network(net, memory_budget=2**40, optimize="hyper", search_time=search_time)
    tree = searched.tree.subtree_reconfigure(minimize="flops")
    reconf = plan_from_path(net, tree.get_ssa_path(), (), memory_budget=2**40, method=f"{searched.method}+reconf")
    best = min((searched, reconf), key=lambda p: p.flops)
    return dataclasses.replace(best, tree=searched.tree if best is searched else tree)


def timed(fn, repeat: int) -> tuple[Any, float, list[float]]:
    """(value of the first run, median seconds, all times) of ``repeat`` runs."""
    times, value = [], None
    for i in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
        value = out if i == 0 else value
    return value, sorted(times)[len(times) // 2], times


def payload_bytes(net, plan: Plan, n_tasks: int) -> dict[str, int]:
    """What the Dask run sends: the pickled job once per worker, and each task's arguments."""
    job = SliceJob(net, dataclasses.replace(plan, tree=None), "numpy", None)
    job_bytes = len(pickle.dumps(job, protocol=5))
    task_bytes = len(pickle.dumps((Chunk(0, plan.n_slices), "qtn-run_chunk-0123456789ab-0"), protocol=5))
    return {"job_bytes": job_bytes, "scattered_bytes": job_bytes * WORKERS, "task_bytes": task_bytes,
            "tasks": n_tasks, "total_bytes": job_bytes * WORKERS + task_bytes * n_tasks}


def projection(per_slice: float, n_slices: int, overhead_s: float) -> list[dict[str, Any]]:
    """Modelled wall time on N one-worker machines: waves of slices at the serial per-slice
    time measured here (each machine has its core to itself), plus the Dask overhead
    measured here (scheduling, scatter, sums, imbalance), taken as fixed. Network latency
    between real machines, and a scheduler with many workers, add to it."""
    rows = []
    for n in PROJECT_MACHINES:
        waves = math.ceil(n_slices / n)
        rows.append({"machines": n, "modelled_s": waves * per_slice + overhead_s,
                     "speedup_vs_1": (n_slices * per_slice) / (waves * per_slice + overhead_s),
                     "busy_fraction": n_slices / (waves * n)})
    return rows


def run(args: argparse.Namespace) -> int:
    import dask
    import distributed

    info = common.machine_info()
    common.print_machine(info)
    load_before = os.getloadavg()
    print(f"load average before: {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}")
    print(f"BLAS threads here: {blas_threads()}")

    circuit = read_circuit(SYCAMORE)
    ct = prepare(circuit, None, None, np.dtype(np.complex64))
    net = open_network(ct, (), [0] * len(ct.qubits)).simplified().canonical()
    t0 = time.perf_counter()
    base = unsliced_plan(net, args.search_time)
    print(f"unsliced plan ({time.perf_counter() - t0:.1f} s search): {base.flops:.3e} flops, largest "
          f"{base.largest_intermediate_bytes / 2**20:.0f} MiB, peak {base.peak_bytes / 2**20:.0f} MiB")
    assert base.n_slices == 1

    worker_env = {**ONE_THREAD, **(DASK_MALLOC if args.dask_malloc else WORKER_MALLOC)}
    print(f"worker environment: {worker_env}")
    with dask.config.set({"distributed.nanny.pre-spawn-environ": worker_env}):
        cluster = distributed.LocalCluster(n_workers=WORKERS, threads_per_worker=1, processes=True,
                                           dashboard_address=":0", silence_logs=logging.ERROR)
    client = distributed.Client(cluster)
    rows: list[dict[str, Any]] = []
    try:
        worker_blas = client.run(blas_threads)
        print(f"BLAS threads in the workers: {worker_blas}; "
              f"MALLOC_TRIM_THRESHOLD_ there: {set(client.run(os.environ.get, 'MALLOC_TRIM_THRESHOLD_').values())}")
        backend = qtn.get_backend("numpy")
        for n_slices in args.slices:
            plan, same = sliced_plans(net, base, n_slices, args.search_time)
            best_unsliced = min(base.flops, same.flops)
            overhead, overhead_same = plan.flops / best_unsliced, plan.flops / same.flops
            print(f"\n{plan.n_slices} slices, max_memory = {plan.memory_budget / 2**20:.1f} MiB: "
                  f"{plan.flops:.3e} flops; "
                  f"slicing overhead {overhead:.3f}x over the best unsliced plan ({best_unsliced:.3e} flops), "
                  f"{overhead_same:.3f}x over the same order unsliced; peak {plan.peak_bytes / 2**20:.1f} MiB")
            serial, t_serial, serial_times = timed(lambda: contract(net, plan, backend), args.repeat)
            print(f"  serial:           {t_serial:7.2f} s  ({plan.n_slices} slices, "
                  f"{t_serial / plan.n_slices:.3f} s per slice)  {serial}")
            with cf.ProcessPoolExecutor(WORKERS, mp_context=multiprocessing.get_context("spawn")) as pool:
                contract(net, plan, backend, executor=pool, slices=range(2))  # warm-up: imports in the processes
                _, t_procs, procs_times = timed(lambda: contract(net, plan, backend, executor=pool), args.repeat)
            print(f"  {WORKERS} processes:      {t_procs:7.2f} s  (speed-up {t_serial / t_procs:.2f}x; "
                  "ProcessPoolExecutor, the machine's own parallel capacity now)")
            contract(net, plan, backend, executor=client, slices=range(2))  # warm-up: imports on the workers
            chunks: list[int] = []
            with distributed.get_task_stream(client) as stream:
                spread, t_dask, dask_times = timed(
                    lambda: contract(net, plan, backend, executor=client,
                                     callback=lambda p: chunks.append(len(p.chunk))),
                    args.repeat)
            # seconds the workers spent contracting (the chunk tasks, not the sums)
            computing = sum(ss["stop"] - ss["start"] for task in stream.data if "run_chunk" in str(task["key"])
                            for ss in task["startstops"] if ss["action"] == "compute") / args.repeat
            n_tasks = len(chunks) // args.repeat
            sent = payload_bytes(net, plan, n_tasks)
            speedup = t_serial / t_dask
            rel = abs(complex(spread) - complex(serial)) / abs(complex(serial))
            per_slice, worker_slice = t_serial / plan.n_slices, computing / plan.n_slices
            # wall time the workers' compute spread over both does not explain: scheduling, scatter,
            # sums, the last wave's imbalance
            fixed = max(0.0, t_dask - computing / WORKERS)
            print(f"  {WORKERS} Dask workers:   {t_dask:7.2f} s  (speed-up {speedup:.2f}x; {n_tasks} tasks; "
                  f"|dask - serial| / |serial| = {rel:.1e})")
            print(f"  inside the workers a slice took {worker_slice:.3f} s ({worker_slice / per_slice:.2f}x the serial "
                  f"slice: two workers share this machine's cores and memory bandwidth, with whatever else runs); "
                  f"the rest, {fixed:.2f} s, is Dask's (scheduling, scatter, sums, imbalance)")
            print(f"  sent to workers:  {sent['scattered_bytes'] / 2**10:.1f} KiB scattered "
                  f"({sent['job_bytes'] / 2**10:.1f} KiB network+plan x {WORKERS} workers) "
                  f"+ {n_tasks} x {sent['task_bytes']} B task arguments")
            rows.append({
                "max_memory": plan.memory_budget, "n_slices": plan.n_slices, "sliced_flops": plan.flops,
                "unsliced_flops": best_unsliced, "same_order_unsliced_flops": same.flops,
                "slicing_overhead": overhead, "slicing_overhead_same_order": overhead_same,
                "peak_bytes": plan.peak_bytes, "serial_s": t_serial, "serial_times": serial_times,
                "dask_s": t_dask, "dask_times": dask_times, "speedup": speedup, "per_slice_s": per_slice,
                "processes_s": t_procs, "processes_times": procs_times, "processes_speedup": t_serial / t_procs,
                "worker_compute_s": computing, "worker_per_slice_s": worker_slice,
                "dask_fixed_overhead_s": fixed, "rel_diff": rel, **sent,
                "projection": projection(per_slice, plan.n_slices, fixed),
            })
    finally:
        client.close()
        cluster.close()

    load_after = os.getloadavg()
    print(f"\nload average after: {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}")
    targets = []
    main_row = next((r for r in rows if r["n_slices"] == 32), None)
    targets.append({
        "name": f"speed-up of {WORKERS} workers over serial, 32 slices", "target": f">= {TARGET_SPEEDUP}",
        "value": None if main_row is None else main_row["speedup"],
        "passed": None if main_row is None else main_row["speedup"] >= TARGET_SPEEDUP,
        "detail": "no plan of exactly 32 slices" if main_row is None else
        f"{main_row['serial_s']:.2f} s serial / {main_row['dask_s']:.2f} s on Dask"})
    worst = max(rows, key=lambda r: r["slicing_overhead"])
    targets.append({"name": "slicing overhead (sliced flops / unsliced flops)", "target": f"<= {TARGET_OVERHEAD}",
                    "value": worst["slicing_overhead"], "passed": worst["slicing_overhead"] <= TARGET_OVERHEAD,
                    "detail": f"worst of {', '.join(str(r['n_slices']) for r in rows)} slices"})
    print("\ntargets:")
    for t in targets:
        verdict = {True: "PASS", False: "MISS", None: "SKIP"}[t["passed"]]
        value = "-" if t["value"] is None else f"{t['value']:.3f}"
        print(f"  {verdict}  {t['name']}: {value} (target {t['target']}; {t['detail']})")
    for r in rows:
        print(f"\nprojection (modelled, not measured) for {r['n_slices']} slices of {r['per_slice_s']:.3f} s "
              f"each (measured serially here) plus {r['dask_fixed_overhead_s']:.2f} s Dask overhead (measured here); "
              f"beyond {r['n_slices']} machines only more slices help, at their overhead:")
        for p in r["projection"]:
            print(f"  {p['machines']:3d} machines: {p['modelled_s']:7.2f} s  ({p['speedup_vs_1']:.1f}x, "
                  f"{p['busy_fraction']:.0%} of worker time busy)")
    common.write_results("scaling", {
        "settings": {"quick": args.quick, "repeat": args.repeat, "slices": args.slices, "workers": WORKERS,
                     "threads_per_worker": 1, "worker_env": worker_env, "search_time": args.search_time,
                     "circuit": str(SYCAMORE),
                     "blas_threads_here": blas_threads(), "blas_threads_workers": worker_blas,
                     "load_before": load_before, "load_after": load_after},
        "unsliced": {"flops": base.flops, "largest_bytes": base.largest_intermediate_bytes,
                     "peak_bytes": base.peak_bytes, "method": base.method},
        "rows": [{k: v for k, v in r.items() if k != "projection"} for r in rows],
        "projection": {str(r["n_slices"]): r["projection"] for r in rows},
        "targets": targets,
    })
    return 0


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="the 32-slice plan only, one timed run each")
    p.add_argument("--repeat", type=int, help="timed runs (median reported); default 3, 1 with --quick")
    p.add_argument("--search-time", type=float, help="seconds of each path search (default 20, 10 with --quick)")
    p.add_argument("--dask-malloc", action="store_true", help="keep Dask's MALLOC_TRIM_THRESHOLD_=65536 in the workers")
    args = p.parse_args(argv)
    args.slices = [32] if args.quick else [16, 32, 64]
    if args.repeat is None:
        args.repeat = 1 if args.quick else 3
    if args.search_time is None:
        args.search_time = 10.0 if args.quick else 20.0
    return args


if __name__ == "__main__":
    sys.exit(run(parse_args()))
