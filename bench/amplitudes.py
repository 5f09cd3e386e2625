"""Single amplitudes: qtn against quimb, qsimcirq and Cirq, and the issue's targets.

For each circuit (grid random circuits of 20-30 qubits, the Sycamore m = 10 circuit,
and a 10-qubit depth-20 random circuit) it measures, with wall-clock timers:

* ``qtn``            qtn's own network, planned by a cotengra HyperOptimizer of fixed
                     settings (the *same search budget* quimb gets), contracted by qtn;
* ``qtn-auto``       qtn's default planner from a cold plan cache (what ``qtn.amplitudes``
                     does on its first call; grid circuits only);
* ``quimb``          quimb's ``Circuit`` of the same gate matrices, simplified by quimb and
                     planned by a fresh HyperOptimizer of the same settings;
* ``quimb@qtn-tree`` quimb's contraction engine (``quimb.tensor.tensor_contract``, i.e.
                     cotengra) run on qtn's network along qtn's tree: the identical
                     contraction, so a time difference to ``qtn`` is the engine, not the path;
* ``qsimcirq``       qsim's state vector (complex64), where its memory fits;
* ``cirq``           ``cirq.Simulator`` (complex64) up to ``--cirq-max-qubits`` qubits.

Plan seconds cover everything before the contraction (gates to tensors, simplification,
path search); contraction seconds are the median of ``--repeat`` runs after a warm-up
run (at least ``CHEAP_REPEAT`` runs when one takes under ``CHEAP_RUN_S``; a run longer
than ``LONG_RUN_S`` counts as the only run). The tensor-network tools of one circuit
run in interleaved rounds, together with NumPy's complex64 matmul at 2048^3, so a
change in machine load hits them alike. Achieved GFLOP/s is the tree's real flop count
(8 per complex multiply-add) over the contraction seconds; ``% matmul`` divides it by
the matmul rate of the same rounds. Every amplitude is checked against a reference
(qsimcirq, else Cirq, else qtn in complex128 along the same plan with
``--reference128``, else quimb) to ``RTOL_COMPLEX64`` of its magnitude; a disagreement
makes the script exit with status 1 (after writing its results).

Usage::

    python bench/amplitudes.py            # full: 20/25/30 qubits at depth 12 and 14, Sycamore m=10
    python bench/amplitudes.py --quick    # a couple of minutes: 16/20 qubits, depth 12, Sycamore m=10
    python bench/amplitudes.py --tiny     # seconds: one 12-qubit circuit (the smoke test)
    python bench/amplitudes.py --sizes 4x5,30 --depth 14 --repeat 5
"""

from __future__ import annotations

import argparse
import importlib
import math
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import cirq
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402  (bench/common.py, next to this script)
from amp_report import fmt, markdown_table, target_lines, targets  # noqa: E402
from amp_timing import LONG_RUN_S, Matmul, interleaved, measure, mem_available, release_unless_qtn  # noqa: E402
from amp_tools import (QtnCase, bits_of, hyper, optional_import, qtn_case, quimb_case,  # noqa: E402
                       quimb_on_qtn_tree)

import qtn  # noqa: E402
from qtn.compiler import compile_circuit as prepare  # noqa: E402
from qtn.ket import open_network  # noqa: E402
from qtn.execute import contract  # noqa: E402
from qtn.io import read_circuit  # noqa: E402
from qtn.planning import plan_network  # noqa: E402

SYCAMORE = Path("/work/shared/circuits/circuit_n53_m10_s0_e0_pABCDCDAB.qsim")
#: Amplitudes of complex64 tools must agree with the reference to this fraction of
#: the amplitude's magnitude (a 1e11-flop contraction ending at |a| ~ 1e-8).
RTOL_COMPLEX64 = 1e-3
ALL_TOOLS = ("qtn", "qtn-auto", "quimb", "quimb@qtn-tree", "qsimcirq", "cirq")
#: qubit count -> grid shape for ``--sizes 20,25,30``
GRID_SHAPES = {9: (3, 3), 12: (3, 4), 16: (4, 4), 20: (4, 5), 24: (4, 6), 25: (5, 5), 30: (5, 6), 36: (6, 6)}


# ----------------------------------------------------------------------------- bench


@dataclass
class Bench:
    args: argparse.Namespace
    rows: list[dict] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)
    disagreements: list[str] = field(default_factory=list)
    matmul: Matmul | None = None
    matmul_gflops: float = float("nan")

    def skip(self, circuit: str, tool: str, reason: str) -> None:
        print(f"  skip {tool}: {reason}")
        self.skipped.append({"circuit": circuit, "tool": tool, "reason": reason})

    def want(self, tool: str) -> bool:
        return tool in self.args.tools

    def row(self, circuit: str, family: str, n: int, depth: int | None, tool: str, *, plan_s: float | None,
            contract_s: float, amplitude: complex, runs: int, flops: float | None = None,
            width: float | None = None, matmul_gflops: float | None = None, **extra) -> dict:
        gflops = flops / contract_s / 1e9 if flops and contract_s > 0 else None
        mm = matmul_gflops or self.matmul_gflops
        r = {
            "circuit": circuit, "family": family, "qubits": n, "depth": depth, "tool": tool,
            "plan_s": plan_s, "contract_s": contract_s, "total_s": (plan_s or 0.0) + contract_s, "runs": runs,
            "flops": flops, "width": width, "gflops": gflops,
            "matmul_gflops": mm if gflops else None,
            "matmul_fraction": gflops / mm if gflops and mm > 0 else None,
            "amplitude_real": float(amplitude.real), "amplitude_imag": float(amplitude.imag),
            "rel_err": None, "reference": None, **extra,
        }
        self.rows.append(r)
        extra_s = f"  flops {flops:.3g} width {width:.1f}  {gflops:.1f} GFLOP/s" if gflops else ""
        print(f"  {tool:<15} plan {fmt(plan_s, '8.3f', '       –')} s  contract {contract_s:8.3f} s "
              f"(median of {runs}){extra_s}  a = {amplitude:.6g}")
        return r

    def check(self, circuit: str, rows: list[dict], reference: complex, ref_name: str) -> None:
        """Every tool's amplitude against the reference, relative to its magnitude."""
        scale = abs(reference)
        for r in rows:
            a = complex(r["amplitude_real"], r["amplitude_imag"])
            err = abs(a - reference) / scale if scale > 0 else abs(a - reference)
            r["rel_err"], r["reference"] = err, ref_name
            if err > RTOL_COMPLEX64:
                self.disagreements.append(
                    f"{circuit}: {r['tool']} gives {a:.6g}, {ref_name} gives {reference:.6g} "
                    f"(relative difference {err:.2e} > {RTOL_COMPLEX64:g})")


def run_tn_tools(bench: Bench, name: str, family: str, circuit: cirq.Circuit, depth: int | None, b: int,
                 quimb_mod, backend) -> tuple[list[dict], QtnCase | None]:
    """qtn, qtn-auto, quimb and quimb@qtn-tree on one amplitude, timed interleaved."""
    args = bench.args
    n = len(circuit.all_qubits())
    fns: dict[str, Callable[[], Any]] = {}
    plan_s: dict[str, float] = {}
    info: dict[str, dict] = {}
    q = None
    if bench.want("qtn"):
        q = qtn_case(circuit, b, hyper(args.search_repeats))
        fns["qtn"], plan_s["qtn"] = (lambda: q.run(backend)), q.plan_s
        info["qtn"] = {"flops": float(q.plan.flops), "width": q.plan.width, "n_slices": q.plan.n_slices,
                       "search_s": q.plan.search_seconds, "method": q.plan.method}
        print(f"  qtn plan: {q.plan.method}, {q.plan.flops:.3g} flops, width {q.plan.width:.1f}, "
              f"{q.plan.n_slices} slice(s), {q.plan_s:.2f} s")
    if bench.want("qtn-auto") and family == "grid":
        qtn.clear_cache(disk=True)
        qa = qtn_case(circuit, b, None)
        fns["qtn-auto"], plan_s["qtn-auto"] = (lambda: qa.run(backend)), qa.plan_s
        info["qtn-auto"] = {"flops": float(qa.plan.flops), "width": qa.plan.width, "n_slices": qa.plan.n_slices,
                            "search_s": qa.plan.search_seconds, "method": qa.plan.method}
        print(f"  qtn-auto plan: {qa.plan.method}, {qa.plan.flops:.3g} flops, width {qa.plan.width:.1f}, "
              f"{qa.plan_s:.2f} s")
    if bench.want("quimb"):
        if quimb_mod is None:
            bench.skip(name, "quimb", bench.quimb_reason)
        else:
            qc = quimb_case(circuit, b, hyper(args.search_repeats))
            fns["quimb"], plan_s["quimb"] = qc.run, qc.plan_s
            info["quimb"] = {"flops": 8.0 * float(qc.tree.total_flops()), "width": float(qc.tree.contraction_width()),
                             "n_slices": int(qc.tree.nslices)}
            print(f"  quimb plan: {info['quimb']['flops']:.3g} flops, width {info['quimb']['width']:.1f}, "
                  f"{qc.plan_s:.2f} s")
    if bench.want("quimb@qtn-tree"):
        if quimb_mod is None:
            bench.skip(name, "quimb@qtn-tree", bench.quimb_reason)
        elif q is None or q.plan.tree is None:
            bench.skip(name, "quimb@qtn-tree", "needs the qtn tool's tree (run with tool qtn; trivial plans have none)")
        else:
            fns["quimb@qtn-tree"], plan_s["quimb@qtn-tree"] = quimb_on_qtn_tree(q), q.plan_s
            info["quimb@qtn-tree"] = {k: info["qtn"][k] for k in ("flops", "width", "n_slices")}
    rows: list[dict] = []
    if not fns:
        return rows, q
    # NumPy's matmul runs in the same rounds: the reference rate under the same load
    fns["matmul"] = bench.matmul
    timed = interleaved(fns, args.repeat, before=release_unless_qtn)
    mm_gflops = bench.matmul.flops / timed.pop("matmul")[1] / 1e9
    print(f"  NumPy complex64 matmul {bench.matmul.n}^3 in the same rounds: {mm_gflops:.1f} GFLOP/s")
    for tool, (value, sec, runs) in timed.items():
        rows.append(bench.row(name, family, n, depth, tool, plan_s=plan_s[tool], contract_s=sec,
                              amplitude=complex(value), runs=runs, matmul_gflops=mm_gflops, **info[tool]))
    return rows, q


def run_state_vector_tools(bench: Bench, name: str, family: str, circuit: cirq.Circuit, depth: int | None,
                           b: int, qsim_mod) -> list[dict]:
    args = bench.args
    n = len(circuit.all_qubits())
    rows = []
    if bench.want("qsimcirq"):
        need = 2**n * 8
        avail = mem_available()
        if qsim_mod is None:
            bench.skip(name, "qsimcirq", bench.qsim_reason)
        elif n > args.qsim_max_qubits:
            bench.skip(name, "qsimcirq", f"{n} qubits > --qsim-max-qubits {args.qsim_max_qubits}")
        elif avail is not None and need * 1.5 > avail:
            bench.skip(name, "qsimcirq", f"its {n}-qubit state vector takes {need / 2**30:.1f} GiB; "
                                         f"only {avail / 2**30:.1f} GiB of memory is available now")
        else:
            sim = qsim_mod.QSimSimulator(qsim_mod.QSimOptions(cpu_threads=args.threads))
            value, sec, runs = measure(lambda: sim.compute_amplitudes(circuit, [b])[0], args.repeat)
            rows.append(bench.row(name, family, n, depth, "qsimcirq", plan_s=None, contract_s=sec,
                                  amplitude=complex(value), runs=runs, threads=args.threads))
    if bench.want("cirq"):
        if n > args.cirq_max_qubits:
            bench.skip(name, "cirq", f"{n} qubits > --cirq-max-qubits {args.cirq_max_qubits}")
        else:
            sim = cirq.Simulator(dtype=np.complex64)
            value, sec, runs = measure(lambda: sim.compute_amplitudes(circuit, [b])[0], args.repeat)
            rows.append(bench.row(name, family, n, depth, "cirq", plan_s=None, contract_s=sec,
                                  amplitude=complex(value), runs=runs))
    return rows


def reference128(circuit: cirq.Circuit, b: int, case: QtnCase, backend) -> tuple[complex, float]:
    """The amplitude in complex128 along the complex64 run's plan (the structure is the same)."""
    t0 = time.perf_counter()
    n = len(circuit.all_qubits())
    ct = prepare(circuit, None, None, np.dtype(np.complex128))
    net = open_network(ct, (), bits_of(b, n)).simplified().canonical()
    if net.indices != case.net.indices or net.output != case.net.output:
        case = qtn_case(circuit, b, "greedy", dtype=np.complex128)  # pragma: no cover - simplification differs
        net = case.net
    value = complex(np.asarray(contract(net, case.plan, backend)).reshape(()))
    return value, time.perf_counter() - t0


def reference_of(rows: list[dict]) -> tuple[complex, str] | None:
    by_tool = {r["tool"]: r for r in rows}
    for tool in ("qsimcirq", "cirq", "qtn-complex128", "quimb"):
        if tool in by_tool:
            r = by_tool[tool]
            return complex(r["amplitude_real"], r["amplitude_imag"]), tool
    return None


def bench_circuit(bench: Bench, name: str, family: str, circuit: cirq.Circuit, depth: int | None,
                  quimb_mod, qsim_mod, backend, seed: int = 0) -> list[dict]:
    n = len(circuit.all_qubits())
    b = int(np.random.default_rng(seed).integers(0, 2**min(n, 62))) % (1 << n)
    print(f"\n## {name}: {n} qubits, {len(list(circuit.all_operations()))} operations, bitstring {b:0{n}b}")
    rows, q = run_tn_tools(bench, name, family, circuit, depth, b, quimb_mod, backend)
    rows += run_state_vector_tools(bench, name, family, circuit, depth, b, qsim_mod)
    extra = []
    if bench.args.reference128 and q is not None and not any(r["tool"] in ("qsimcirq", "cirq") for r in rows):
        value, sec = reference128(circuit, b, q, backend)
        print(f"  reference: qtn in complex128 along the same plan, a = {value:.10g} ({sec:.1f} s, not compared)")
        extra = [{"tool": "qtn-complex128", "amplitude_real": value.real, "amplitude_imag": value.imag}]
    ref = reference_of(rows + extra)
    if ref is not None:
        bench.check(name, rows, *ref)
        worst = max((r["rel_err"] for r in rows), default=0.0)
        print(f"  amplitudes agree with {ref[1]} to {worst:.1e} of |a| = {abs(ref[0]):.3g} "
              f"(tolerance {RTOL_COMPLEX64:g})")
    for r in rows:
        r["bitstring"] = b
    return rows


def target_random10(bench: Bench) -> list[dict]:
    """(c): 10-qubit depth-20 random circuit through qtn.Simulator, cold and cached plan."""
    args = bench.args
    circuit = cirq.testing.random_circuit(10, 20, 0.8, random_state=0)
    n = len(circuit.all_qubits())
    state = cirq.final_state_vector(circuit, dtype=np.complex128)
    b = int(np.argmax(np.abs(state)))  # a bitstring whose amplitude is far from 0
    name = "random10-d20"
    print(f"\n## {name}: cirq.testing.random_circuit(10, 20, 0.8, random_state=0), {n} qubits, bitstring {b:0{n}b}")
    sim = qtn.Simulator()
    cold_times = []
    value = None
    for _ in range(max(1, args.repeat_small)):
        qtn.clear_cache(disk=True)
        t0 = time.perf_counter()
        value = sim.compute_amplitudes(circuit, [b])[0]
        cold_times.append(time.perf_counter() - t0)
    cold = statistics.median(cold_times)
    csim = cirq.Simulator(dtype=np.complex64)
    res = interleaved({"qtn": lambda: sim.compute_amplitudes(circuit, [b])[0],
                       "cirq": lambda: csim.compute_amplitudes(circuit, [b])[0]}, args.repeat_small)
    rows = [
        bench.row(name, "random", n, 20, "qtn.Simulator (cold plan)", plan_s=None, contract_s=cold,
                  amplitude=complex(value), runs=len(cold_times), first_call_s=cold_times[0]),
        bench.row(name, "random", n, 20, "qtn.Simulator (cached plan)", plan_s=None, contract_s=res["qtn"][1],
                  amplitude=complex(res["qtn"][0]), runs=res["qtn"][2]),
        bench.row(name, "random", n, 20, "cirq", plan_s=None, contract_s=res["cirq"][1],
                  amplitude=complex(res["cirq"][0]), runs=res["cirq"][2]),
    ]
    bench.check(name, rows, complex(state[b]), "cirq complex128")
    for r in rows:
        r["bitstring"] = b
    return rows


# ----------------------------------------------------------------------------- main


def parse_sizes(text: str) -> list[tuple[int, int]]:
    shapes = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        if "x" in part:
            r, c = part.split("x")
            shapes.append((int(r), int(c)))
        elif int(part) in GRID_SHAPES:
            shapes.append(GRID_SHAPES[int(part)])
        else:
            raise SystemExit(f"--sizes: {part} qubits has no grid shape here; give RxC (e.g. 4x5) or one of "
                             f"{sorted(GRID_SHAPES)}")
    return shapes


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="16/20 qubits at depth 12 and Sycamore m=10, ~2-4 min")
    mode.add_argument("--tiny", action="store_true", help="one 12-qubit circuit, seconds (the smoke test)")
    p.add_argument("--sizes", help="grid circuits: qubit counts (20,25,30) or shapes (4x5,5x6)")
    p.add_argument("--depth", help="comma-separated depths of the grid circuits")
    p.add_argument("--repeat", type=int, help="timed runs after the warm-up (median reported)")
    p.add_argument("--search-repeats", type=int, help="HyperOptimizer max_repeats for qtn and quimb alike")
    p.add_argument("--sycamore", dest="sycamore", action="store_true", default=None, help="include Sycamore m=10")
    p.add_argument("--no-sycamore", dest="sycamore", action="store_false")
    p.add_argument("--reference128", dest="reference128", action="store_true", default=None,
                   help="check circuits without a state-vector reference against qtn in complex128")
    p.add_argument("--tools", default=",".join(ALL_TOOLS), help=f"comma-separated subset of {','.join(ALL_TOOLS)}")
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="qsimcirq cpu_threads")
    p.add_argument("--qsim-max-qubits", type=int, default=30)
    p.add_argument("--cirq-max-qubits", type=int, default=20)
    p.add_argument("--matmul-size", type=int, help="n of the n^3 complex64 matmul rate (default 2048)")
    p.add_argument("--results", help="folder for the results JSON (default bench/results)")
    p.add_argument("--no-write", action="store_true", help="do not write a results file")
    args = p.parse_args(argv)
    mode_name = "tiny" if args.tiny else "quick" if args.quick else "full"
    defaults = {
        "full": dict(sizes="20,25,30", depth="12,14", repeat=3, search_repeats=16, sycamore=True, reference128=True,
                     matmul_size=2048),
        "quick": dict(sizes="16,20", depth="12", repeat=1, search_repeats=8, sycamore=True, reference128=True,
                      matmul_size=2048),
        "tiny": dict(sizes="12", depth="8", repeat=1, search_repeats=2, sycamore=False, reference128=False,
                     matmul_size=512),
    }[mode_name]
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    args.mode = mode_name
    args.shapes = parse_sizes(args.sizes)
    args.depths = [int(d) for d in args.depth.split(",")]
    args.repeat_small = max(5, args.repeat)  # millisecond calls: more runs cost nothing
    args.tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    bad = [t for t in args.tools if t not in ALL_TOOLS]
    if bad:
        raise SystemExit(f"--tools: unknown tool(s) {bad}; choose from {', '.join(ALL_TOOLS)}")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    t_start = time.perf_counter()
    info = common.machine_info()
    common.print_machine(info)
    load0 = os.getloadavg()
    print(f"mode {args.mode}; load average {load0[0]:.2f}; repeat {args.repeat}; "
          f"HyperOptimizer(kahypar, greedy) max_repeats={args.search_repeats} for qtn and quimb")

    wants_quimb = bool({"quimb", "quimb@qtn-tree"} & set(args.tools))
    quimb_mod, quimb_reason = optional_import("quimb.tensor") if wants_quimb else (None, "")
    qsim_mod, qsim_reason = optional_import("qsimcirq") if "qsimcirq" in args.tools else (None, "")
    for mod, reason in ((quimb_mod, quimb_reason), (qsim_mod, qsim_reason)):
        if mod is None and reason:
            print(f"note: {reason}")

    bench = Bench(args)
    bench.quimb_reason, bench.qsim_reason = quimb_reason, qsim_reason
    bench.matmul = Matmul(args.matmul_size)
    mm_s, bench.matmul_gflops = bench.matmul.rate()
    print(f"NumPy complex64 matmul {args.matmul_size}^3: {mm_s * 1e3:.1f} ms, {bench.matmul_gflops:.1f} GFLOP/s")
    backend = qtn.get_backend("numpy")

    target_random10(bench)
    for depth in args.depths:
        for rows_, cols in args.shapes:
            circuit = cirq.experiments.random_rotations_between_grid_interaction_layers_circuit(
                cirq.GridQubit.rect(rows_, cols), depth, seed=0)
            bench_circuit(bench, f"grid{rows_}x{cols}-d{depth}", "grid", circuit, depth, quimb_mod, qsim_mod, backend)
    if args.sycamore:
        if SYCAMORE.exists():
            circuit = read_circuit(SYCAMORE)
            bench_circuit(bench, "sycamore-m10", "sycamore", circuit, 10, quimb_mod, qsim_mod, backend)
        else:
            bench.skip("sycamore-m10", "all", f"{SYCAMORE} not found")

    _, mm_after = bench.matmul.rate()
    print(f"\nNumPy complex64 matmul {args.matmul_size}^3 again at the end: {mm_after:.1f} GFLOP/s")
    ts = targets(bench, args)
    load1 = os.getloadavg()

    print("\n## Results (wall-clock seconds; contraction = median after a warm-up)\n")
    print(f"machine: {info['cpu']}, {info['cores']} cores; NumPy complex64 matmul {args.matmul_size}^3: "
          f"{bench.matmul_gflops:.1f} GFLOP/s (start), {mm_after:.1f} (end); load average "
          f"{load0[0]:.2f} -> {load1[0]:.2f}\n")
    print(markdown_table(bench.rows))
    print("\n## Targets\n")
    print(target_lines(ts))
    if bench.skipped:
        print("\n## Skipped\n")
        for s in bench.skipped:
            print(f"- {s['circuit']} / {s['tool']}: {s['reason']}")

    payload = {
        "mode": args.mode,
        "settings": {"repeat": args.repeat, "search_repeats": args.search_repeats, "threads": args.threads,
                     "rtol": RTOL_COMPLEX64, "dtype": "complex64", "long_run_s": LONG_RUN_S,
                     "optimizer": f"cotengra.HyperOptimizer(methods=['kahypar','greedy'], max_repeats="
                                  f"{args.search_repeats}, minimize='combo', parallel=False, reconf_opts={{}})"},
        "matmul": {"n": args.matmul_size, "seconds": mm_s, "gflops": bench.matmul_gflops, "gflops_end": mm_after},
        "load_average": {"start": load0[0], "end": load1[0]},
        "rows": bench.rows,
        "targets": ts,
        "skipped": bench.skipped,
        "disagreements": bench.disagreements,
        "wall_s": time.perf_counter() - t_start,
    }
    if not args.no_write:
        if args.results:
            common.RESULTS_DIR = Path(args.results).resolve()
        common.write_results("amplitudes", payload)
    print(f"total {time.perf_counter() - t_start:.0f} s")
    if bench.disagreements:
        print("\nAMPLITUDES DISAGREE:\n" + "\n".join(bench.disagreements), file=sys.stderr)
    # only a wrong qtn amplitude fails the run; quimb's complex64 default
    # (simplify_equalize_norms=True) drifts ~1e-3 on 30 qubits, which is reported above
    return 1 if any(": qtn" in d for d in bench.disagreements) else 0


if __name__ == "__main__":
    sys.exit(main())
