"""Slices out of the box: serial on one core, a plain process pool and a qtn-made Dask cluster, side by side.

Each case is one sliced amplitude (bitstring 0, complex64) contracted with
``qtn.execute.contract`` three ways, as a new user would call it:

* serial: this process with one BLAS thread (threadpoolctl) and one permute thread,
  i.e. one core; in the first round also with the buffer pool off
  (``qtn.buffers.ENABLED = False``) to measure what reusing buffers saves, and with the
  permute kernel on every core (the baseline before its threads were limited);
* a plain ``concurrent.futures.ProcessPoolExecutor(2)`` made by the user (no
  initializer, default start method and allocator): qtn sends the payload once per
  process and limits each process's BLAS and permute threads to its share;
* Dask: ``qtn.executors.local_cluster(2)`` (2 one-thread worker processes, started
  once, with qtn's worker environment).

Cases: Sycamore m = 10 (``/work/shared/circuits``) with the greedy path under
``max_memory = 2**22`` complex64 elements (32 slices, the issue's case); the same
circuit in 4 slices of 128 MiB intermediates (``max_memory`` 2**24 elements: the
32-slice greedy order with two of its sliced labels kept; no planner tried here gives 4
slices at 64 MiB: greedy at 2**23 elements gives 32 slices of 32 MiB, the hyper search
64-256 slices, cotengra's slice-and-reconfigure 16); and a 20-qubit grid circuit in
1,024 slices (the greedy order sliced by cotengra): 1,024 slices of the m = 10 circuit
would take ~10 minutes per run on this shared machine.

The machine's own limit is measured in the same rounds (:class:`Ceiling`): the serial
code in two independent processes pinned to a core each. CPU time per slice (each
task thread's) is recorded beside wall time: on a machine shared with other work the
wall time says how much of the cores qtn got, the CPU time how much work it did.

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

    python bench/scaling.py                        # 3 cases, 2 rounds each (~15 min on 2 shared cores)
    python bench/scaling.py --cases 32 --repeat 3  # one case, 3 alternating rounds
    python bench/scaling.py --quick                # the 32-slice case only, one round
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
from qtn.host import usable_cores  # noqa: E402
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


def _probe(reset: bool) -> dict[str, Any]:
    time.sleep(0.3)  # long enough that every process of the pool takes one probe
    return {**worker_stats(reset), "facts": worker_facts()}


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
    keys = ("chunks", "slices", "seconds", "cpu_seconds", "minor_faults", "hits", "misses", "fresh_bytes",
            "alloc_seconds")
    return {**{k: float(sum(s.get(k, 0) for s in stats)) for k in keys},
            "max_worker_cpu_seconds": max(float(s.get("cpu_seconds", 0)) for s in stats)}


def breakdown(wall: float, workers: int, stats: dict[str, float], transfer_s: float, n: int) -> dict[str, float]:
    """Per-slice seconds: compute, allocation, transfer, scheduling (the rest of the workers' wall time)."""
    busy = stats["seconds"]
    alloc = stats["alloc_seconds"]
    rest = max(0.0, wall * workers - busy - transfer_s)
    return {"compute_s": (busy - alloc) / n, "cpu_s": stats["cpu_seconds"] / n,
            "busiest_worker_cpu_s": stats["max_worker_cpu_seconds"], "allocation_s": alloc / n,
            "transfer_s": transfer_s / n,
            "scheduling_s": rest / n, "minor_faults_per_slice": stats["minor_faults"] / n,
            "pool_misses_per_slice": stats["misses"] / n, "chunks": stats["chunks"]}


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


class Ceiling:
    """The machine's own limit: the serial workload in two independent OS processes at once.

    Two processes (spawned: nothing shared with this one but a queue), each pinned to
    its own core (``os.sched_setaffinity``) with one BLAS, OpenMP and permute thread,
    contract slices with the serial code path. ``alone`` times one of them over all the
    slices, ``pair`` both at once over half each, started together. ``alone / pair`` is
    the best any executor can do with two workers here: what is lost is the machine's
    (shared memory bandwidth, L3, turbo frequency), not qtn's. Needs two usable cores.
    """

    def __init__(self, cores: list[int], pin: bool = True) -> None:
        import multiprocessing as mp

        ctx = mp.get_context("spawn")
        self.go = ctx.Event()
        self.outbox = ctx.Queue()
        self.cores = cores[:WORKERS]
        self.inboxes = [ctx.Queue() for _ in self.cores]
        self.procs = [ctx.Process(target=_ceiling_worker, args=(core, pin, box, self.outbox, self.go),
                                  daemon=True)
                      for core, box in zip(self.cores, self.inboxes)]
        for proc in self.procs:
            proc.start()
        self.facts: list[dict[str, Any]] = []

    def load(self, path: str, warm: int) -> None:
        """Every process reads the (network, plan) file and contracts ``warm`` slices (first pages, flop rate)."""
        for box in self.inboxes:
            box.put(("load", (path, warm)))
        self.facts = [self._get("ready") for _ in self.inboxes]

    def run(self, parts: list[list[int]]) -> list[tuple[float, float]]:
        """Wall and CPU seconds each of the first ``len(parts)`` processes took over its part,
        all started together."""
        self.go.clear()
        for box, part in zip(self.inboxes, parts):
            box.put(("run", part))
        for _ in parts:
            self._get("armed")
        self.go.set()
        done = sorted(self._get("done") for _ in parts)
        return [(wall, cpu) for _, wall, cpu in done]

    def _get(self, kind: str) -> Any:
        got, value = self.outbox.get(timeout=600)
        if got == "error":
            raise RuntimeError(f"a ceiling process failed: {value}")
        assert got == kind, (got, kind)
        return value

    def close(self) -> None:
        for box in self.inboxes:
            box.put(("stop", None))
        for proc in self.procs:
            proc.join(timeout=10)


def _ceiling_worker(core: int, pin: bool, inbox: Any, outbox: Any, go: Any) -> None:
    """One ceiling process: pinned to ``core`` (unless ``pin`` is False), one thread everywhere,
    the serial code path."""
    try:
        if pin:
            os.sched_setaffinity(0, {core})
        executors.limit_blas_threads(1)  # BLAS, OpenMP and the permute kernel
        backend = qtn.get_backend("numpy")
        net = plan = None
        while True:
            cmd, arg = inbox.get()
            if cmd == "stop":
                return
            if cmd == "load":
                path, warm = arg
                with open(path, "rb") as f:
                    net, plan = pickle.load(f)
                contract(net, plan, backend, slices=range(warm))
                outbox.put(("ready", {**worker_facts(), "core": core}))
            elif cmd == "run":
                outbox.put(("armed", core))
                go.wait()
                t0, cpu0 = time.perf_counter(), time.thread_time()
                contract(net, plan, backend, slices=arg)
                outbox.put(("done", (core, time.perf_counter() - t0, time.thread_time() - cpu0)))
    except BaseException as err:  # noqa: BLE001 - reported to the parent, which stops
        outbox.put(("error", f"core {core}: {type(err).__name__}: {err}"))


def worker_facts() -> dict[str, Any]:
    """What a process runs slices with: BLAS threads, the permute kernel and its threads, its cores."""
    from qtn import permute

    return {"blas": blas_threads(), "permute_kernel": permute.kernel(), "permute_threads": permute.num_threads(),
            "cores": sorted(os.sched_getaffinity(0)), "pid": os.getpid()}


def _median(values: list[float]) -> float:
    values = sorted(values)
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def run_case(name: str, net: Network, plan: Plan, pool: cf.ProcessPoolExecutor, client: Any,
             ceiling: Ceiling | None, repeat: int) -> dict[str, Any]:
    """Every way, in alternating rounds (serial, pool, Dask, ceiling alone, ceiling pair; again),
    so that a change of load hits all of them; ratios are medians of per-round ratios."""
    backend = qtn.get_backend("numpy")
    n = plan.n_slices
    load_before = os.getloadavg()
    print(f"\n{name}: {n} slices, largest intermediate {plan.largest_intermediate_bytes / 2**20:.1f} MiB, "
          f"peak {plan.peak_bytes / 2**20:.1f} MiB, {plan.flops:.3e} flops; load {load_before[0]:.2f}")
    plan = dataclasses.replace(plan, tree=None)
    job = SliceJob(net, plan, "numpy", None)
    payload = len(pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL))
    result_bytes = int(np.prod([plan.size_dict[o] for o in plan.output], dtype=np.int64)) * plan.itemsize
    warm = min(2 * WORKERS, n)

    def serial(pool_on: bool, permute_threads: int = 1) -> Callable[[], tuple[Any, dict[str, float], float]]:
        def go() -> tuple[Any, dict[str, float], float]:
            from qtn import permute

            buffers.ENABLED = pool_on
            try:
                # one core: one BLAS thread and one permute thread (threadpoolctl alone leaves
                # the permute kernel on every core); ``permute_threads`` for the diagnostic row
                # of the baseline before that was fixed
                with executors.threads_limited(1):
                    permute.set_num_threads(permute_threads)
                    worker_stats(reset=True)
                    t0 = time.perf_counter()
                    value = contract(net, plan, backend)
                    wall = time.perf_counter() - t0
                    return value, summed([worker_stats()]), wall
            finally:
                buffers.ENABLED = True
        return go

    def processes() -> tuple[Any, dict[str, float], float]:
        pool_stats(pool, reset=True)
        t0 = time.perf_counter()
        value = contract(net, plan, backend, executor=pool)
        wall = time.perf_counter() - t0  # the stats probes around it sleep: not timed
        return value, summed(pool_stats(pool, reset=False)), wall

    def dask() -> tuple[Any, dict[str, float], float]:
        client.run(worker_stats, True)
        t0 = time.perf_counter()
        value = contract(net, plan, backend, executor=client)
        wall = time.perf_counter() - t0
        return value, summed(list(client.run(worker_stats).values())), wall

    # warm-ups: first pages, imports, each worker's flop rate
    with executors.threads_limited(1):
        contract(net, plan, backend, slices=range(min(2, n)))
    contract(net, plan, backend, executor=pool, slices=range(warm))
    contract(net, plan, backend, executor=client, slices=range(warm))
    facts = {"processes": [s["facts"] for s in pool_stats(pool, reset=False)],
             "dask": list(client.run(worker_facts).values())}
    if n < WORKERS:  # nothing to share between two processes
        ceiling = None
    if ceiling is not None:
        with executors._payload_file((net, plan)) as path:
            ceiling.load(path, min(2, n))
        facts["ceiling"] = ceiling.facts

    ways: dict[str, Callable[[], tuple[Any, dict[str, float], float]]] = {
        "serial": serial(True), "processes": processes, "dask": dask}
    once = {"serial_no_pool": serial(False), "serial_permute_all_cores": serial(True, usable_cores())}
    walls: dict[str, list[float]] = {}
    stats: dict[str, dict[str, float]] = {}
    values: dict[str, complex] = {}
    ceil: dict[str, list[Any]] = {"alone": [], "pair": [], "pair_each": [], "cpu_alone": [], "cpu_pair": [],
                                  "cpu_ratio": []}
    half = [list(range(0, n // 2)), list(range(n // 2, n))]
    for r in range(repeat):
        todo = {**ways, **(once if r == 0 else {})}
        for label, fn in todo.items():
            value, st, wall = fn()  # wall: the contract call alone
            walls.setdefault(label, []).append(wall)
            values[label] = complex(value)
            acc = stats.setdefault(label, {})
            for k, v in st.items():
                acc[k] = acc.get(k, 0.0) + v
        if ceiling is not None:
            [(alone, cpu)] = ceiling.run([list(range(n))])
            pair = ceiling.run(half)
            ceil["alone"].append(alone)
            ceil["cpu_alone"].append(cpu / n)
            ceil["pair"].append(max(w for w, _ in pair))
            ceil["pair_each"].append([w for w, _ in pair])
            ceil["cpu_pair"].append(sum(c for _, c in pair) / n)
            ceil["cpu_ratio"].append(cpu / max(c for _, c in pair))
        print(f"  round {r + 1}/{repeat}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in walls.items() if len(v) == r + 1)
              + (f", ceiling alone {ceil['alone'][-1]:.2f} s, pair {ceil['pair'][-1]:.2f} s" if ceiling else "")
              + f"; load {os.getloadavg()[0]:.2f}", flush=True)

    # the transfer, once more outside the runs: the pool's file written here and read there; Dask's scatter
    with executors._payload_file(job) as path:
        t0 = time.perf_counter()
        list(pool.map(_read_payload, [path] * WORKERS))
        send = {"processes": time.perf_counter() - t0}
    t0 = time.perf_counter()
    [f] = client.scatter([job], broadcast=True, hash=False)
    send["dask"] = time.perf_counter() - t0
    f.release()

    rows: dict[str, Any] = {}
    for label, times in walls.items():
        runs = len(times)
        st = {k: v / runs for k, v in stats[label].items()}
        workers = WORKERS if label in ("processes", "dask") else 1
        per_round = [a / b for a, b in zip(walls["serial"], times)]
        rows[label] = {"wall_s": _median(times), "times": times, "value": values[label],
                       "speedup_vs_serial": _median(per_round), "speedup_per_round": per_round,
                       **breakdown(_median(times), workers, st, send.get(label, 0.0), n)}
        if label in facts:
            rows[label]["worker_facts"] = facts[label]
    ceiling_row = None
    if ceiling is not None:
        ratios = [a / p for a, p in zip(ceil["alone"], ceil["pair"])]
        alone_slice = _median(ceil["alone"]) / n
        pair_slice = _median([sum(each) / n for each in ceil["pair_each"]])  # per slice, mean of the two
        ceiling_row = {"speedup": _median(ratios), "speedup_per_round": ratios, "alone_s": ceil["alone"],
                       "cpu_per_slice_alone_s": _median(ceil["cpu_alone"]),
                       "cpu_per_slice_together_s": _median(ceil["cpu_pair"]),
                       "cpu_speedup": _median(ceil["cpu_ratio"]),
                       "pair_s": ceil["pair"], "pair_each_s": ceil["pair_each"], "per_slice_alone_s": alone_slice,
                       "per_slice_together_s": pair_slice, "contention_slowdown": pair_slice / alone_slice,
                       "cores": ceiling.cores, "worker_facts": facts["ceiling"],
                       "how": "two spawned processes pinned one core each, 1 BLAS/OpenMP/permute thread, the "
                              "serial code path; alone: one of them over all slices; pair: both at once over half"}
        for label in ("processes", "dask"):
            rows[label]["share_of_ceiling"] = rows[label]["speedup_vs_serial"] / ceiling_row["speedup"]
            # CPU time holds where wall time does not (other work on the machine): a worker that
            # spends more CPU per slice than an independent process running at the same time does
            # more work per slice -- that part is qtn's
            rows[label]["cpu_vs_ceiling_together"] = rows[label]["cpu_s"] / ceiling_row["cpu_per_slice_together_s"]

    for label in ("processes", "dask"):
        # derived from measured CPU time: the speed-up were every worker to have its core to
        # itself (no other work on the machine) and spend the CPU time it spent here
        rows[label]["cpu_speedup"] = rows["serial"]["cpu_s"] * n / rows[label]["busiest_worker_cpu_s"]
    for label, row in rows.items():
        row["rel_diff"] = abs(row["value"] - rows["serial"]["value"]) / abs(rows["serial"]["value"])
        print(f"  {label:24s} {row['wall_s']:7.2f} s  {row['speedup_vs_serial']:5.2f}x   per slice: compute "
              f"{row['compute_s'] * 1e3:8.2f} ms, allocation {row['allocation_s'] * 1e3:6.2f} ms "
              f"({row['minor_faults_per_slice']:.0f} page faults), CPU {row['cpu_s'] * 1e3:7.2f} ms, transfer {row['transfer_s'] * 1e3:6.2f} ms, "
              f"scheduling/idle {row['scheduling_s'] * 1e3:7.2f} ms; {row['chunks']:.0f} chunks; "
              f"|diff| {row['rel_diff']:.1e}")
    if ceiling_row is not None:
        print(f"  independent-process ceiling (measured): {ceiling_row['speedup']:.2f}x: one pinned process alone "
              f"{ceiling_row['per_slice_alone_s'] * 1e3:.0f} ms per slice, two at once "
              f"{ceiling_row['per_slice_together_s'] * 1e3:.0f} ms per slice each "
              f"({ceiling_row['contention_slowdown']:.2f}x slower: the machine's shared memory, L3, frequency); "
              f"CPU per slice alone {ceiling_row['cpu_per_slice_alone_s'] * 1e3:.0f} ms, together "
              f"{ceiling_row['cpu_per_slice_together_s'] * 1e3:.0f} ms")
        for label in ("processes", "dask"):
            print(f"  {label} reaches {rows[label]['share_of_ceiling']:.0%} of the ceiling's speed-up; its CPU per "
                  f"slice is {rows[label]['cpu_vs_ceiling_together']:.2f}x that of the two independent processes")
        print(f"  from CPU time (derived: each worker on a core of its own): ceiling {ceiling_row['cpu_speedup']:.2f}x, "
              f"processes {rows['processes']['cpu_speedup']:.2f}x, dask {rows['dask']['cpu_speedup']:.2f}x")
    saved = (rows["serial_no_pool"]["wall_s"] - rows["serial"]["wall_s"]) / n
    print(f"  buffer pool saves {saved * 1e3:.2f} ms per slice serially (measured: pool off - pool on, round 1)")
    serial_s = rows["serial"]["wall_s"]
    d = rows["dask"]
    overhead = max(0.0, d["wall_s"] - n * (d["compute_s"] + d["allocation_s"]) / WORKERS)
    load_after = os.getloadavg()
    return {"case": name, "n_slices": n, "flops": plan.flops, "largest_bytes": plan.largest_intermediate_bytes,
            "peak_bytes": plan.peak_bytes, "memory_budget": plan.memory_budget, "payload_bytes": payload,
            "result_bytes": result_bytes, "load_before": load_before, "load_after": load_after,
            "pool_saves_per_slice_s": saved, "runs": rows, "ceiling": ceiling_row,
            "projection_modelled": projection(serial_s / n, n, overhead),
            "projection_assumptions": "one 1-thread worker per machine at the serial per-slice time measured "
                                      f"here, plus a fixed {overhead:.2f} s Dask overhead measured here"}


def _run_cases(cases: list, pool: cf.ProcessPoolExecutor, client: Any, ceiling: Ceiling | None,
               repeat: int) -> list[dict[str, Any]]:
    return [run_case(name, net, plan, pool, client, ceiling, repeat) for name, net, plan in cases]


def _read_payload(path: str) -> int:
    with open(path, "rb") as f:
        return len(pickle.loads(f.read()).network.arrays)


def run(args: argparse.Namespace) -> int:
    info = common.machine_info()
    common.print_machine(info)
    load = os.getloadavg()
    print(f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (the machine is shared with other work)")
    t0 = time.perf_counter()
    makers = {4: case_4, 32: case_32, 1024: case_1024}
    cases = [makers[k]() for k in args.cases]
    print(f"plans: {time.perf_counter() - t0:.1f} s")
    cores = sorted(os.sched_getaffinity(0))
    ceiling = Ceiling(cores) if len(cores) >= WORKERS and not args.no_ceiling else None
    try:
        with cf.ProcessPoolExecutor(WORKERS) as pool:
            pool.submit(os.getpid).result()  # its processes start (fork) before the cluster's threads do
            with executors.local_cluster(WORKERS) as client:
                results = _run_cases(cases, pool, client, ceiling, args.repeat)
    finally:
        if ceiling is not None:
            ceiling.close()

    targets = []
    by_n = {r["n_slices"]: r for r in results}
    if 32 in by_n:
        runs = by_n[32]["runs"]
        d, p = runs["dask"]["speedup_vs_serial"], runs["processes"]["speedup_vs_serial"]
        gap = abs(runs["dask"]["wall_s"] - runs["processes"]["wall_s"]) / runs["processes"]["wall_s"]
        top = (by_n[32]["ceiling"] or {}).get("speedup")
        targets += [{"name": "32 slices, Dask vs serial on one core", "target": ">= 1.6", "value": d,
                     "passed": d >= TARGETS["speedup_32"], "ceiling": top},
                    {"name": "32 slices, process pool vs serial on one core", "target": ">= 1.6", "value": p,
                     "passed": p >= TARGETS["speedup_32"], "ceiling": top},
                    {"name": "32 slices, |Dask - pool| / pool", "target": "<= 0.10", "value": gap,
                     "passed": gap <= TARGETS["dask_vs_pool"]}]
    if 4 in by_n:
        d = by_n[4]["runs"]["dask"]["speedup_vs_serial"]
        targets.append({"name": f"4 slices of {by_n[4]['largest_bytes'] >> 20} MiB intermediates, Dask vs serial",
                        "target": ">= 1.5", "value": d, "passed": d >= TARGETS["speedup_4"],
                        "ceiling": (by_n[4]["ceiling"] or {}).get("speedup")})
    print("\ntargets (measured on this shared 2-core machine; see the load averages):")
    for t in targets:
        top = f"; independent-process ceiling {t['ceiling']:.2f}x" if t.get("ceiling") else ""
        print(f"  {'PASS' if t['passed'] else 'MISS'}  {t['name']}: {t['value']:.3f} (target {t['target']}{top})")
    for r in results:
        print(f"\nprojection (MODELLED, not measured) for {r['case']}: {r['projection_assumptions']}")
        for row in r["projection_modelled"]:
            print(f"  {row['machines']:5d} machines: {row['modelled_s']:8.2f} s ({row['speedup_vs_1']:.1f}x, "
                  f"{row['busy_fraction']:.0%} busy)")
    common.write_results("scaling", {
        "settings": {"cases": args.cases, "repeat": args.repeat, "workers": WORKERS,
                     "worker_environment": executors.worker_environment(), "blas_threads_here": blas_threads(),
                     "load_start": load, "load_end": os.getloadavg(),
                     "note": "measured on a 2-core machine shared with other work (see the load averages); "
                             "ratios are medians of per-round ratios of alternating rounds"},
        "cases": results, "targets": targets,
    })
    return 0


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="the 32-slice case only, one round")
    p.add_argument("--cases", type=int, nargs="+", choices=(4, 32, 1024), help="slice counts to run (default all)")
    p.add_argument("--repeat", type=int, help="alternating rounds (medians reported); default 2, 1 with --quick")
    p.add_argument("--no-ceiling", action="store_true", help="skip the two-independent-processes ceiling")
    args = p.parse_args(argv)
    if args.repeat is None:
        args.repeat = 1 if args.quick else 2
    if args.repeat < 1:
        p.error("--repeat must be at least 1")
    if args.cases is None:
        args.cases = [32] if args.quick else [4, 32, 1024]
    return args


if __name__ == "__main__":
    sys.exit(run(parse_args()))
