"""Path search cost and time on the circuits issue 10 names (cold plan cache each time):
what a change to the search (qtn/path_search.py) does to planning time and to the plan.

For each circuit: ``qtn.plan(circuit, plan_cache=False)`` (one amplitude; QFT-32 closed
on one bitstring, as ``bench/amp_qft.py`` plans it) ``--repeat`` times in one process,
recording the wall time of each call, ``Plan.search_seconds``, flops, peak bytes,
slices, method and the roofline bound; with ``--contract N``, the last plan's
contraction (median of N, numpy backend) on the same network. The first call of the process also pays for
importing cotengra and its optimizer libraries; that is reported separately
(``import_s``) so the per-call figures compare like with like.

Usage::

    python bench/plan_search.py                       # all four circuits, 3 calls each
    python bench/plan_search.py --cases grid30 --repeat 5
    python bench/plan_search.py --contract 3        # and contract each circuit's last plan 3 times
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

import qtn  # noqa: E402
from qtn.generators import grid, qft  # noqa: E402

SYCAMORE = Path("/work/shared/circuits/circuit_n53_m10_s0_e0_pABCDCDAB.qsim")


def circuits() -> dict:
    def sycamore():
        from qtn.io import read_circuit

        return read_circuit(SYCAMORE)

    return {"grid30": lambda: grid(5, 6, 14, 0), "grid25": lambda: grid(5, 5, 12, 0),
            "sycamore-m10": sycamore, "qft32": lambda: qft(32)}


def contract_rounds(circuit, plan, repeat: int) -> list[float]:
    """Seconds of ``repeat`` contractions of ``plan`` on the circuit's amplitude network."""
    import numpy as np

    from qtn.backends.base import get_backend
    from qtn.compiler import compile_circuit
    from qtn.execute import contract
    from qtn.ket import open_network

    cc = compile_circuit(circuit, sorted(circuit.all_qubits()), None, np.complex64)
    net = open_network(cc, ()).simplified().canonical()
    backend = get_backend("numpy")
    rounds = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        contract(net, plan, backend)
        rounds.append(time.perf_counter() - t0)
    return rounds


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", default="grid30,grid25,sycamore-m10,qft32")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--contract", type=int, default=0, help="contract the last plan this many times")
    ap.add_argument("--tag", default="", help="a label stored with the results (e.g. before/after)")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    common.print_machine()
    t0 = time.perf_counter()
    import cotengra  # noqa: F401
    import cmaes  # noqa: F401
    import optuna  # noqa: F401
    import_s = time.perf_counter() - t0
    print(f"import cotengra + cmaes + optuna: {import_s:.2f} s; load {os.getloadavg()[0]:.2f}")
    makers = circuits()
    rows = []
    for name in args.cases.split(","):
        circuit = makers[name]()
        calls = []
        for r in range(args.repeat):
            t0 = time.perf_counter()
            plan = qtn.plan(circuit, plan_cache=False)
            wall = time.perf_counter() - t0
            bound = plan.roofline.seconds if plan.roofline is not None else None
            calls.append({"wall_s": wall, "search_s": plan.search_seconds, "flops": plan.flops,
                          "peak_bytes": plan.peak_bytes, "largest_bytes": plan.largest_intermediate_bytes,
                          "slices": plan.n_slices, "method": plan.method, "roofline_s": bound,
                          "load": os.getloadavg()[0]})
            print(f"  {name} call {r + 1}: {wall:.2f} s (search {plan.search_seconds:.2f} s) {plan.flops:.3e} flops, "
                  f"peak {plan.peak_bytes / 2**20:.0f} MiB, {plan.n_slices} slices, {plan.method}, roofline "
                  f"{bound if bound is None else round(bound, 3)} s; load {os.getloadavg()[0]:.2f}")
        rows.append({"circuit": name, "calls": calls,
                     "median_wall_s": statistics.median(c["wall_s"] for c in calls),
                     "median_flops": statistics.median(c["flops"] for c in calls),
                     "median_peak_bytes": statistics.median(c["peak_bytes"] for c in calls)})
        if args.contract and not plan.method.startswith("schrodinger"):
            rounds = contract_rounds(circuit, plan, args.contract)
            rows[-1].update(contract_rounds=rounds, contract_median_s=statistics.median(rounds),
                            contract_flops=plan.flops)
            print(f"  contraction of the last plan: {[round(r, 3) for r in rounds]} s; load {os.getloadavg()[0]:.2f}")
        print(f"{name}: median {rows[-1]['median_wall_s']:.2f} s, {rows[-1]['median_flops']:.3e} flops")
    if not args.no_write:
        common.write_results("plan_search", {"tag": args.tag, "import_s": import_s, "rows": rows,
                                             "load_end": os.getloadavg()})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
