"""MaxCut QAOA energies on random 3-regular graphs: qtn against quimb and qsimcirq.

The energy is ``<psi| sum_(i,j) Z_i Z_j |psi>`` over the graph's edges, for the QAOA
circuit ``prod_l exp(-i beta_l X) exp(-i gamma_l ZZ)`` on ``|+...+>`` with fixed,
seeded angles. It is computed by

* ``qtn``        ``qtn.expectation(circuit, energy)``: one lightcone network per edge,
                 plans shared between edges of equal structure. ``cold`` starts from an
                 empty plan cache (what a first call costs); ``warm`` repeats the call;
* ``quimb``      quimb's ``Circuit.local_expectation`` of every edge's ``ZZ``
                 (``optimize="greedy"``), summed: its per-edge lightcone loop;
* ``qsimcirq``   ``QSimSimulator.simulate_expectation_values`` (a state vector), up to
                 ``--qsim-max-qubits`` qubits.

Every time is wall-clock seconds of one call (``--repeat`` > 1 takes the median).
The three energies are checked against each other (complex64: to 1e-3 of the number
of edges); a disagreement makes the script exit with status 1 after writing its
results. Targets of the issue: qtn at least 5x faster than quimb.

Usage::

    python bench/qaoa.py              # p = 1..3, n = 50..1000 (quimb's loop takes many minutes)
    python bench/qaoa.py --quick      # a minute or two: small n, quimb where it is quick
    python bench/qaoa.py --cases 2:200,1:1000,3:100 --no-quimb
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

import cirq
import networkx as nx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402  (bench/common.py, next to this script)

import qtn  # noqa: E402

FULL_CASES = [(p, n) for p in (1, 2, 3) for n in (50, 100, 200, 500, 1000)]
QUICK_CASES = [(1, 24), (2, 24), (3, 24), (1, 100), (2, 50), (3, 30), (1, 1000)]
#: quimb is skipped by --quick where its loop would take long (measured on the dev machine).
QUICK_QUIMB_MAX = {1: 100, 2: 50, 3: 30}


def qaoa_circuit(n: int, p: int, seed: int) -> tuple[cirq.Circuit, list[tuple[int, int]], list[tuple[float, float]]]:
    """The QAOA circuit on ``networkx.random_regular_graph(3, n, seed)``, its edges and angles."""
    graph = nx.random_regular_graph(3, n, seed=seed)
    edges = sorted(tuple(sorted(e)) for e in graph.edges)
    rng = np.random.default_rng(seed)
    angles = [(float(g), float(b)) for g, b in rng.uniform(0.1, 1.2, size=(p, 2))]
    q = cirq.LineQubit.range(n)
    circuit = cirq.Circuit(cirq.H.on_each(*q))
    for gamma, beta in angles:
        # ZZPowGate(t) = exp(-i pi t/2 ZZ) up to a phase: gamma = pi t / 2
        circuit.append(cirq.ZZPowGate(exponent=2 * gamma / np.pi)(q[i], q[j]) for i, j in edges)
        circuit.append(cirq.rx(2 * beta).on_each(*q))
    return circuit, edges, angles


def energy_observable(n: int, edges) -> cirq.PauliSum:
    q = cirq.LineQubit.range(n)
    return sum((cirq.Z(q[i]) * cirq.Z(q[j]) for i, j in edges), cirq.PauliSum())


def quimb_energy(n: int, edges, angles) -> float:
    import quimb
    import quimb.tensor as qtn_quimb

    circ = qtn_quimb.Circuit(n)
    for i in range(n):
        circ.apply_gate("H", i)
    for gamma, beta in angles:
        for i, j in edges:
            circ.apply_gate("RZZ", 2 * gamma, i, j)  # exp(-i gamma ZZ)
        for i in range(n):
            circ.apply_gate("RX", 2 * beta, i)
    zz = quimb.pauli("Z") & quimb.pauli("Z")
    return float(sum(np.real(circ.local_expectation(zz, (i, j), optimize="greedy")) for i, j in edges))


def qsim_energy(circuit: cirq.Circuit, observable: cirq.PauliSum) -> float:
    import qsimcirq

    return float(np.real(qsimcirq.QSimSimulator().simulate_expectation_values(circuit, observable)[0]))


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, value = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, a minute or two")
    parser.add_argument("--cases", help="comma-separated p:n pairs, e.g. 1:1000,2:200")
    parser.add_argument("--seed", type=int, default=0, help="graph and angle seed")
    parser.add_argument("--repeat", type=int, default=1, help="runs per timing (median)")
    parser.add_argument("--no-quimb", action="store_true")
    parser.add_argument("--quimb-max-n", type=int, default=None, help="skip quimb above this many qubits")
    parser.add_argument("--qsim-max-qubits", type=int, default=28)
    args = parser.parse_args(argv)

    if args.cases:
        cases = [tuple(int(x) for x in c.split(":")) for c in args.cases.split(",")]
    else:
        cases = QUICK_CASES if args.quick else FULL_CASES
    common.print_machine()
    print(f"{'p':>2} {'n':>5} {'edges':>6} {'qtn cold s':>10} {'qtn warm s':>10} {'quimb s':>9} {'qsim s':>8} "
          f"{'speedup':>8} {'energy':>12}")
    rows, ok = [], True
    for p, n in cases:
        circuit, edges, angles = qaoa_circuit(n, p, args.seed)
        obs = energy_observable(n, edges)
        qtn.clear_cache()
        t0 = time.perf_counter()
        e_qtn = float(np.real(qtn.expectation(circuit, obs)[0]))
        cold = time.perf_counter() - t0
        warm, _ = timed(lambda: qtn.expectation(circuit, obs), args.repeat)
        row: dict[str, Any] = {"p": p, "n": n, "edges": len(edges), "qtn_cold_s": cold, "qtn_warm_s": warm,
                               "energy_qtn": e_qtn, "plans": qtn.cache_info()["misses"]}
        quimb_max = args.quimb_max_n if args.quimb_max_n is not None else (
            QUICK_QUIMB_MAX.get(p, 0) if args.quick else 10**9)
        if not args.no_quimb and n <= quimb_max:
            row["quimb_s"], row["energy_quimb"] = timed(lambda: quimb_energy(n, edges, angles), args.repeat)
            row["speedup_vs_quimb"] = row["quimb_s"] / cold
        if n <= args.qsim_max_qubits:
            row["qsim_s"], row["energy_qsim"] = timed(lambda: qsim_energy(circuit, obs), args.repeat)
        for other in ("energy_quimb", "energy_qsim"):
            if other in row and abs(row[other] - e_qtn) > 1e-3 * len(edges):
                print(f"  MISMATCH p={p} n={n}: qtn {e_qtn:.6f} vs {other[7:]} {row[other]:.6f}")
                ok = False
        rows.append(row)
        fmt = lambda key, w: f"{row[key]:{w}.2f}" if key in row else f"{'-':>{w}}"  # noqa: E731
        speed = f"{row['speedup_vs_quimb']:7.1f}x" if "speedup_vs_quimb" in row else f"{'-':>8}"
        print(f"{p:>2} {n:>5} {len(edges):>6} {fmt('qtn_cold_s', 10)} {fmt('qtn_warm_s', 10)} {fmt('quimb_s', 9)} "
              f"{fmt('qsim_s', 8)} {speed} {e_qtn:12.5f}", flush=True)
    print("speedup = quimb seconds / qtn cold seconds (target: >= 5x)")
    common.write_results("qaoa", {"args": vars(args), "rows": rows, "agree": ok})
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
