"""30-qubit grid, depth 14, one amplitude: qtn end to end from a cold plan cache against
qsimcirq's state vector (issue 10's target: qtn >= 50x faster).

qtn's time is one ``qtn.amplitudes`` call with ``plan_cache=False`` (path search +
contraction, circuit conversion included), the median of ``--repeat`` calls, each
planning from scratch. qsimcirq's is one ``compute_amplitudes`` call (a full 2^30
state vector: 8 GiB of complex64, a few minutes here), run once with ``--qsimcirq``;
without it the script reports qtn alone. Both amplitudes are compared.

Usage::

    python bench/amp_grid30.py --qsimcirq      # qtn x3 and qsimcirq once
    python bench/amp_grid30.py --rows 4 --cols 5 --qsimcirq   # a quick 20-qubit check
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

import qtn  # noqa: E402
from qtn.generators import grid  # noqa: E402

TARGET = 50.0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=5)
    ap.add_argument("--cols", type=int, default=6)
    ap.add_argument("--depth", type=int, default=14)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--qsimcirq", action="store_true", help="also run qsimcirq (a full state vector)")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)

    common.print_machine()
    circuit = grid(args.rows, args.cols, args.depth, args.seed)
    qubits = sorted(circuit.all_qubits())
    n = len(qubits)
    bits = tuple(int(b) for b in np.random.default_rng(args.seed).integers(0, 2, n))
    print(f"grid {args.rows}x{args.cols}, depth {args.depth}: {n} qubits; load {os.getloadavg()[0]:.2f}")

    times, plans, value = [], [], None
    for r in range(args.repeat):
        t0 = time.perf_counter()
        plan = qtn.plan(circuit, plan_cache=False)
        t1 = time.perf_counter()
        value = complex(qtn.amplitudes(circuit, [bits], qubit_order=qubits, plan_cache=False)[0])
        t2 = time.perf_counter()
        # qtn.amplitudes plans again (cold): its own time is the end-to-end figure
        times.append(t2 - t1)
        plans.append({"plan_s": t1 - t0, "flops": plan.flops, "slices": plan.n_slices, "method": plan.method})
        print(f"  round {r + 1}: qtn.amplitudes (cold plan cache) {t2 - t1:.2f} s; a separate qtn.plan "
              f"{t1 - t0:.2f} s, {plan.flops:.2e} flops, {plan.n_slices} slice(s); load {os.getloadavg()[0]:.2f}")
    qtn_s = statistics.median(times)
    out: dict = {"circuit": f"grid:{args.rows}x{args.cols}:{args.depth}:{args.seed}", "qubits": n,
                 "bitstring": "".join(map(str, bits)), "qtn_seconds": times, "qtn_median_s": qtn_s,
                 "plans": plans, "qtn_amplitude": value}
    print(f"qtn median {qtn_s:.2f} s; amplitude {value:.6e}")
    if args.qsimcirq:
        import qsimcirq

        sim = qsimcirq.QSimSimulator(qsimcirq.QSimOptions(cpu_threads=len(os.sched_getaffinity(0))))
        t0 = time.perf_counter()
        ref = complex(sim.compute_amplitudes(circuit, [int("".join(map(str, bits)), 2)], qubit_order=qubits)[0])
        qs = time.perf_counter() - t0
        err = abs(value - ref) / max(abs(ref), 2 ** (-n / 2))
        ratio = qs / qtn_s
        out.update(qsimcirq_s=qs, qsimcirq_amplitude=ref, rel_error=err, speedup=ratio)
        verdict = "PASS" if ratio >= TARGET else "MISS"
        print(f"qsimcirq {qs:.1f} s; amplitude {ref:.6e}; relative error {err:.1e}")
        print(f"{verdict}: qtn (plan + contraction, cold cache) {ratio:.1f}x faster than qsimcirq "
              f"(target >= {TARGET:.0f}x)")
    out["load_end"] = os.getloadavg()
    if not args.no_write:
        common.write_results("amp_grid30", out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
