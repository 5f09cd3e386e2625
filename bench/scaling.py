"""Slices out of the box: serial on one core, a plain process pool and a qtn-made Dask cluster, side by side.

Each case is one sliced amplitude (bitstring 0, complex64) contracted with
``qtn.execute.contract`` three ways, as a new user would call it:

* serial: this process with one BLAS thread (threadpoolctl), i.e. one core; also once
  with the buffer pool off (``qtn.buffers.ENABLED = False``) to measure what reusing
  buffers saves;
* a plain ``concurrent.futures.ProcessPoolExecutor(2)`` made by the user (no
  initializer, default start method and allocator): qtn sends the payload once per
  process and limits each process's BLAS threads to its share;
* Dask: ``qtn.executors.local_cluster(2)`` (2 one-thread worker processes, started
  once, with qtn's worker environment).

Cases: Sycamore m = 10 (``/work/shared/circuits``) with the greedy path under
``max_memory = 2**22`` complex64 elements (32 slices, the issue's case), the same
circuit in 4 slices with 64 MiB intermediates (a hyper-searched order sliced by
and a 20-qubit grid circuit in 1,024 slices (the greedy order sliced
by cotengra): 1,024 slices of the m = 10 circuit would take ~10 minutes per run on
this shared machine.

Per slice, the wall time of each run is split (measured; ``qtn.execute.worker_stats``
read back from every worker process):

* compute: seconds inside the workers' chunk tasks, less allocation;
* allocation: seconds the buffer pools spent allocating (misses), and the minor page
  faults per slice; for serial also the difference with the pool off;
* transfer: the payload sent (pickled network + plan: scattered by Dask, one file for
  the pool), timed by sending it once more outside the run, plus the result bytes;
* scheduling: the rest of the workers' wall time (wall x workers - their busy time):
  task hand-out, sums, idle threads at the end.

A projection onto N machines (one one-thread worker each) from the measured serial
per-slice time plus the measured Dask overhead is printed and saved; it is a model,
not a measurement, and says so. The load average is recorded before and after each
case: the machine is shared, so ratios taken at high load understate what 2 quiet
cores give.

Usage::

    python bench/scaling.py            # 3 cases, 2 timed runs each (~6-10 min on 2 shared cores)
    python bench/scaling.py --quick    # the 32-slice case only, one run each
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import dataclasses
import math
import os
import pickle
import sys
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402  (bench/common.py, next to this script)

import qtn  # noqa: E402
from qtn import buffers, executors  # noqa: E402
from qtn.compiler import compile_circuit as prepare  # noqa: E402
from qtn.execute import SliceJob, contract, worker_stats  # noqa: E402
from qtn.ket import open_network  # noqa: E402
from qtn.io import read_circuit  # noqa: E402
from qtn.network import Network  # noqa: E402
from qtn.planning import Plan, plan_from_path, plan_network, sliced_labels  # noqa: E402

SYCAMORE = Path("/work/shared/circuits/circuit_n53_m10_s0_e0_pABCDCDAB.qsim")
WORKERS = 2
PROJECT_MACHINES = (1, 2, 4, 8, 16, 32, 64, 256, 1024)
TARGETS = {"speedup_32": 1.6, "dask_vs_pool": 0.10, "speedup_4": 1.5}


def amplitude_network(circuit: Any) -> Network:
    ct = prepare(circuit, None, None, np.dtype(np.complex64))
    return open_network(ct, (), [0] * len(ct.qubits)).simplified().canonical()


def case_32() -> tuple[str, Network, Plan]:
    net = amplitude_network(read_circuit(SYCAMORE))
    plan = plan_network(net, memory_budget=2**22 * 8, optimize="greedy", cache=None)
    return "sycamore m=10, greedy, max_memory 2^22 elements", net, plan


def case_4() -> tuple[str, Network, Plan]:
    """4 slices of large intermediates: the 32-slice greedy order with two of its five sliced
    labels kept (the pair of fewest flops). Its largest intermediate is 128 MiB: no order
    found here gives exactly 4 slices at 64 MiB (a hyper order sliced to 64 MiB gives 8
    slices of 2x the flops), so this is the nearest case, with larger intermediates."""
    import itertools

    _, net, base = case_32()
    plans = [plan_from_path(net, base.ssa_path, keep, memory_budget=2**40, method="greedy, 2 labels sliced")
             for keep in itertools.combinations(base.sliced, 2)]
    plan = min((p for p in plans if p.n_slices == 4), key=lambda p: (p.largest_intermediate_bytes, p.flops))
    return (f"sycamore m=10, greedy order in 4 slices of {plan.largest_intermediate_bytes >> 20} MiB "
            "intermediates", net, plan)


def case_1024() -> tuple[str, Network, Plan]:
    import cirq

    circuit = cirq.experiments.random_rotations_between_grid_interaction_layers_circuit(
        cirq.GridQubit.rect(4, 5), depth=14, seed=3)
    net = amplitude_network(circuit)
    base = plan_network(net, memory_budget=2**40, optimize="greedy", cache=None)
    tree = base.tree.slice(target_slices=1024, allow_outer=False)
    plan = plan_from_path(net, tree.get_ssa_path(), sliced_labels(tree), memory_budget=base.memory_budget,
                          method="greedy, sliced to 1024")
    return "4x5 grid depth 14 (20 qubits), greedy sliced to 1024", net, plan


def blas_threads() -> list[int]:
    return [int(i["num_threads"]) for i in threadpool_info() if i.get("user_api") == "blas"]


def _probe(reset: bool) -> dict[str, float]:
    time.sleep(0.3)  # long enough that every process of the pool takes one probe
    return {**worker_stats(reset), "blas": blas_threads()}


def pool_stats(pool: cf.ProcessPoolExecutor, reset: bool) -> list[dict[str, float]]:
    """``worker_stats`` of every process of ``pool`` (probes until each answered once)."""
    seen: dict[int, dict[str, float]] = {}
    for _ in range(10):
        for s in pool.map(_probe, [reset] * (2 * WORKERS)):
            seen.setdefault(int(s["pid"]), s)
        if len(seen) >= WORKERS:
            break
    return list(seen.values())


def summed(stats: list[dict[str, float]]) -> dict[str, float]:
    keys = ("chunks", "slices", "seconds", "minor_faults", "hits", "misses", "fresh_bytes", "alloc_seconds")
    return {k: float(sum(s.get(k, 0) for s in stats)) for k in keys}


def breakdown(wall: float, workers: int, stats: dict[str, float], transfer_s: float, n: int) -> dict[str, float]:
    """Per-slice seconds: compute, allocation, transfer, scheduling (the rest of the workers' wall time)."""
    busy = stats["seconds"]
    alloc = stats["alloc_seconds"]
    rest = max(0.0, wall * workers - busy - transfer_s)
    return {"compute_s": (busy - alloc) / n, "allocation_s": alloc / n, "transfer_s": transfer_s / n,
            "scheduling_s": rest / n, "minor_faults_per_slice": stats["minor_faults"] / n,
            "pool_misses_per_slice": stats["misses"] / n, "chunks": stats["chunks"]}


def timed(fn: Callable[[], Any], repeat: int) -> tuple[Any, float, list[float]]:
    times, value = [], None
    for i in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
        value = out if i == 0 else value
    return value, sorted(times)[len(times) // 2], times


def projection(per_slice: float, n_slices: int, overhead_s: float) -> list[dict[str, Any]]:
    """Modelled wall time on N one-worker machines: waves of slices at the serial per-slice
    time measured here (each machine has its core to itself) plus the Dask overhead measured
    here, taken as fixed. Network latency and a scheduler with many workers add to it."""
    rows = []
    for n in PROJECT_MACHINES:
        waves = math.ceil(n_slices / n)
        t = waves * per_slice + overhead_s
        rows.append({"machines": n, "modelled_s": t, "speedup_vs_1": n_slices * per_slice / t,
                     "busy_fraction": n_slices / (waves * n)})
    return rows


def run_case(name: str, net: Network, plan: Plan, pool: cf.ProcessPoolExecutor, client: Any,
             repeat: int) -> dict[str, Any]:
    backend = qtn.get_backend("numpy")
    n = plan.n_slices
    load_before = os.getloadavg()
    print(f"\n{name}: {n} slices, largest intermediate {plan.largest_intermediate_bytes / 2**20:.1f} MiB, "
          f"peak {plan.peak_bytes / 2**20:.1f} MiB, {plan.flops:.3e} flops; load {load_before[0]:.2f}")
    job = SliceJob(net, dataclasses.replace(plan, tree=None), "numpy", None)
    payload = len(pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL))
    result_bytes = int(np.prod([plan.size_dict[o] for o in plan.output], dtype=np.int64)) * plan.itemsize
    rows: dict[str, Any] = {}

    # serial, one core, with and without the buffer pool
    with threadpool_limits(1):
        for label, enabled in (("serial", True), ("serial_no_pool", False)):
            buffers.ENABLED = enabled
            contract(net, plan, backend, slices=range(min(2, n)))  # warm-up (flop rate, first pages)
            worker_stats(reset=True)
            value, wall, times = timed(lambda: contract(net, plan, backend), repeat)
            stats = summed([worker_stats()])
            stats = {k: v / repeat for k, v in stats.items()}
            rows[label] = {"wall_s": wall, "times": times, "value": complex(value),
                           **breakdown(wall, 1, stats, 0.0, n)}
        buffers.ENABLED = True

    # a plain process pool
    contract(net, plan, backend, executor=pool, slices=range(min(2 * WORKERS, n)))  # warm-up: imports
    pool_stats(pool, reset=True)
    value, wall, times = timed(lambda: contract(net, plan, backend, executor=pool), repeat)
    per_worker = pool_stats(pool, reset=False)
    stats = {k: v / repeat for k, v in summed(per_worker).items()}
    with executors._payload_file(job) as path:  # the transfer, once more: written here, read there
        t0 = time.perf_counter()
        list(pool.map(_read_payload, [path] * WORKERS))
        send = time.perf_counter() - t0
    rows["processes"] = {"wall_s": wall, "times": times, "value": complex(value),
                         "blas_threads_workers": [s["blas"] for s in per_worker],
                         **breakdown(wall, WORKERS, stats, send, n)}

    # Dask
    contract(net, plan, backend, executor=client, slices=range(min(2 * WORKERS, n)))  # warm-up
    client.run(worker_stats, True)
    value, wall, times = timed(lambda: contract(net, plan, backend, executor=client), repeat)
    per_worker = list(client.run(worker_stats).values())
    stats = {k: v / repeat for k, v in summed(per_worker).items()}
    t0 = time.perf_counter()
    [f] = client.scatter([job], broadcast=True, hash=False)
    send = time.perf_counter() - t0
    f.release()
    rows["dask"] = {"wall_s": wall, "times": times, "value": complex(value),
                    "blas_threads_workers": list(client.run(blas_threads).values()),
                    **breakdown(wall, WORKERS, stats, send, n)}

    serial = rows["serial"]["wall_s"]
    for label, row in rows.items():
        row["speedup_vs_serial"] = serial / row["wall_s"]
        row["rel_diff"] = abs(row["value"] - rows["serial"]["value"]) / abs(rows["serial"]["value"])
        print(f"  {label:15s} {row['wall_s']:7.2f} s  {row['speedup_vs_serial']:5.2f}x   per slice: compute "
              f"{row['compute_s'] * 1e3:8.2f} ms, allocation {row['allocation_s'] * 1e3:6.2f} ms "
              f"({row['minor_faults_per_slice']:.0f} page faults), transfer {row['transfer_s'] * 1e3:6.2f} ms, "
              f"scheduling/idle {row['scheduling_s'] * 1e3:7.2f} ms; {row['chunks']:.0f} chunks; "
              f"|diff| {row['rel_diff']:.1e}")
    saved = (rows["serial_no_pool"]["wall_s"] - serial) / n
    print(f"  buffer pool saves {saved * 1e3:.2f} ms per slice serially (measured: pool off - pool on)")
    dask = rows["dask"]
    overhead = max(0.0, dask["wall_s"] - n * (dask["compute_s"] + dask["allocation_s"]) / WORKERS)
    load_after = os.getloadavg()
    return {"case": name, "n_slices": n, "flops": plan.flops, "largest_bytes": plan.largest_intermediate_bytes,
            "peak_bytes": plan.peak_bytes, "payload_bytes": payload, "result_bytes": result_bytes,
            "load_before": load_before, "load_after": load_after, "pool_saves_per_slice_s": saved,
            "runs": rows, "projection_modelled": projection(serial / n, n, overhead),
            "projection_assumptions": "one 1-thread worker per machine at the serial per-slice time measured "
                                      f"here, plus a fixed {overhead:.2f} s Dask overhead measured here"}


def _run_cases(cases: list, pool: cf.ProcessPoolExecutor, client: Any, repeat: int) -> list[dict[str, Any]]:
    return [run_case(name, net, plan, pool, client, repeat) for name, net, plan in cases]


def _read_payload(path: str) -> int:
    with open(path, "rb") as f:
        return len(pickle.loads(f.read()).network.arrays)


def run(args: argparse.Namespace) -> int:
    info = common.machine_info()
    common.print_machine(info)
    load = os.getloadavg()
    print(f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (the machine is shared with other work)")
    t0 = time.perf_counter()
    cases = [case_32()] if args.quick else [case_4(), case_32(), case_1024()]
    print(f"plans: {time.perf_counter() - t0:.1f} s")
    with cf.ProcessPoolExecutor(WORKERS) as pool:
        pool.submit(os.getpid).result()  # its processes start (fork) before the cluster's threads do
        with executors.local_cluster(WORKERS) as client:
            results = _run_cases(cases, pool, client, args.repeat)

    targets = []
    by_n = {r["n_slices"]: r for r in results}
    if 32 in by_n:
        runs = by_n[32]["runs"]
        d, p = runs["dask"]["speedup_vs_serial"], runs["processes"]["speedup_vs_serial"]
        gap = abs(runs["dask"]["wall_s"] - runs["processes"]["wall_s"]) / runs["processes"]["wall_s"]
        targets += [{"name": "32 slices, Dask vs serial on one core", "target": ">= 1.6", "value": d,
                     "passed": d >= TARGETS["speedup_32"]},
                    {"name": "32 slices, process pool vs serial on one core", "target": ">= 1.6", "value": p,
                     "passed": p >= TARGETS["speedup_32"]},
                    {"name": "32 slices, |Dask - pool| / pool", "target": "<= 0.10", "value": gap,
                     "passed": gap <= TARGETS["dask_vs_pool"]}]
    if 4 in by_n:
        d = by_n[4]["runs"]["dask"]["speedup_vs_serial"]
        targets.append({"name": "4 slices of large (128 MiB) intermediates, Dask vs serial", "target": ">= 1.5",
                        "value": d, "passed": d >= TARGETS["speedup_4"]})
    print("\ntargets (measured on this shared 2-core machine; see the load averages):")
    for t in targets:
        print(f"  {'PASS' if t['passed'] else 'MISS'}  {t['name']}: {t['value']:.3f} (target {t['target']})")
    for r in results:
        print(f"\nprojection (MODELLED, not measured) for {r['case']}: {r['projection_assumptions']}")
        for row in r["projection_modelled"]:
            print(f"  {row['machines']:5d} machines: {row['modelled_s']:8.2f} s ({row['speedup_vs_1']:.1f}x, "
                  f"{row['busy_fraction']:.0%} busy)")
    common.write_results("scaling", {
        "settings": {"quick": args.quick, "repeat": args.repeat, "workers": WORKERS, "worker_environment": executors.worker_environment(), "blas_threads_here": blas_threads(),
                     "load_start": load, "load_end": os.getloadavg(),
                     "note": "measured on a shared 2-core machine; a quiet-machine rerun is needed for the targets"},
        "cases": results, "targets": targets,
    })
    return 0


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="the 32-slice case only, one timed run each")
    p.add_argument("--repeat", type=int, help="timed runs per executor (median reported); default 2, 1 with --quick")
    args = p.parse_args(argv)
    if args.repeat is None:
        args.repeat = 1 if args.quick else 2
    return args


if __name__ == "__main__":
    sys.exit(run(parse_args()))
