"""Exact samples per second: qtn against quimb's ``Circuit.sample``.

Circuits: a random grid circuit (``cirq.experiments.random_rotations_between_grid_
interaction_layers_circuit``, 5x8 = 40 qubits, depth 8 by default) and the Sycamore
m = 10 circuit (``/work/shared/circuits/circuit_n53_m10_s0_e0_pABCDCDAB.qsim``).

* ``qtn``    ``qtn.Simulator(seed=0).run(circuit + measure all)``, method ``"auto"``
             (gate by gate on these circuits). ``first`` is one sample from an empty plan
             cache (it includes every path search); ``rate`` is ``--samples`` samples
             drawn afterwards, divided by their wall time.
* ``quimb``  ``quimb.tensor.Circuit(...).sample(C, seed=0)`` on the same gate matrices
             (qubit-by-qubit marginals, groups of 10, quimb's defaults). It runs in a
             child process killed after ``--quimb-timeout`` seconds; ``first`` is its
             first sample, ``rate`` the samples after the first over their wall time.

Both samplers are exact; as a check, the linear cross-entropy ``2**n <p(x)> - 1`` of
up to ``--xeb`` samples of each is computed from qtn amplitudes (about 1 for exact
samples of a chaotic circuit, 0 for uniform noise; with few samples it scatters).

Usage::

    python bench/sampling.py                 # grid 40 and Sycamore m=10 (long)
    python bench/sampling.py --quick         # a minute or two: grid 40, few samples
    python bench/sampling.py --circuits sycamore --samples 2 --no-quimb
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import cirq
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402  (bench/common.py, next to this script)

import qtn  # noqa: E402
from qtn.io import read_circuit  # noqa: E402

SYCAMORE = Path("/work/shared/circuits/circuit_n53_m10_s0_e0_pABCDCDAB.qsim")


def grid_circuit(rows: int, cols: int, depth: int, seed: int) -> cirq.Circuit:
    qubits = cirq.GridQubit.rect(rows, cols)
    return cirq.experiments.random_rotations_between_grid_interaction_layers_circuit(qubits, depth=depth, seed=seed)


def qtn_rate(circuit: cirq.Circuit, samples: int) -> dict[str, Any]:
    qubits = sorted(circuit.all_qubits())
    measured = circuit + cirq.Circuit(cirq.measure(*qubits, key="m"))
    qtn.clear_cache()
    sim = qtn.Simulator(seed=0)
    t0 = time.perf_counter()
    first = sim.run(measured, repetitions=1).measurements["m"]
    t1 = time.perf_counter()
    rest = sim.run(measured, repetitions=samples).measurements["m"]
    t2 = time.perf_counter()
    return {"first_s": t1 - t0, "samples": samples, "samples_s": t2 - t1, "rate": samples / (t2 - t1),
            "bits": np.concatenate([first, rest]), "plans": qtn.cache_info()["misses"]}


def _quimb_worker(ops: list[tuple[np.ndarray, list[int]]], n: int, count: int, queue) -> None:
    # a session of its own: the path-search pool quimb starts dies with it (see quimb_rate)
    os.setsid()
    import quimb.tensor as qtn_quimb

    circ = qtn_quimb.Circuit(n)
    for matrix, where in ops:
        circ.apply_gate_raw(matrix, where)
    t0 = time.perf_counter()
    for b in circ.sample(count, seed=0):
        queue.put((time.perf_counter() - t0, b))


def quimb_rate(circuit: cirq.Circuit, samples: int, timeout: float) -> dict[str, Any]:
    qubits = sorted(circuit.all_qubits())
    index = {q: i for i, q in enumerate(qubits)}
    ops = [(cirq.unitary(op), [index[q] for q in op.qubits]) for op in circuit.all_operations()]
    queue: Any = mp.get_context("fork").Queue()
    proc = mp.get_context("fork").Process(target=_quimb_worker, args=(ops, len(qubits), samples, queue))
    start = time.perf_counter()
    proc.start()
    got: list[tuple[float, str]] = []
    while len(got) < samples and time.perf_counter() - start < timeout:
        try:
            got.append(queue.get(timeout=max(0.1, min(5.0, timeout - (time.perf_counter() - start)))))
        except Exception:  # queue.Empty: keep waiting until the timeout
            if not proc.is_alive() and queue.empty():
                break
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the worker and any pool it started
    except ProcessLookupError:
        pass
    proc.join()
    row: dict[str, Any] = {"samples": len(got), "timed_out": len(got) < samples, "timeout_s": timeout}
    if got:
        row["first_s"] = got[0][0]
        row["bits"] = np.array([[int(c) for c in b] for _, b in got], dtype=np.int8)
    if len(got) > 1:
        row["samples_s"] = got[-1][0] - got[0][0]
        row["rate"] = (len(got) - 1) / row["samples_s"]
    return row


def xeb(circuit: cirq.Circuit, bits: np.ndarray, count: int) -> float:
    """Linear cross-entropy of sampled bitstrings (amplitudes from qtn)."""
    n = bits.shape[1]
    amps = qtn.amplitudes(circuit, [list(b) for b in bits[:count]])
    return float(2**n * np.mean(np.abs(amps) ** 2) - 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="grid circuit only, few samples")
    parser.add_argument("--circuits", default=None, help="comma-separated: grid, sycamore")
    parser.add_argument("--grid", default="5x8", help="rows x cols of the grid circuit")
    parser.add_argument("--depth", type=int, default=8, help="depth of the grid circuit")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--samples", type=int, default=None, help="qtn samples after the first")
    parser.add_argument("--quimb-samples", type=int, default=None)
    parser.add_argument("--quimb-timeout", type=float, default=None, help="seconds before quimb is stopped")
    parser.add_argument("--no-quimb", action="store_true")
    parser.add_argument("--xeb", type=int, default=20, help="samples whose cross-entropy is computed")
    args = parser.parse_args(argv)

    names = (args.circuits or ("grid" if args.quick else "grid,sycamore")).split(",")
    samples = args.samples or (20 if args.quick else 200)
    quimb_samples = args.quimb_samples or (3 if args.quick else 10)
    timeout = args.quimb_timeout or (150.0 if args.quick else 1800.0)
    rows_, cols = (int(x) for x in args.grid.split("x"))
    common.print_machine()
    results = []
    for name in names:
        if name == "grid":
            circuit = grid_circuit(rows_, cols, args.depth, args.seed)
            label = f"grid {rows_}x{cols} depth {args.depth}"
        elif name == "sycamore":
            circuit = read_circuit(SYCAMORE)
            label = "Sycamore n53 m10"
        else:
            raise SystemExit(f"unknown circuit {name!r}; use grid or sycamore")
        n = len(circuit.all_qubits())
        count = samples if name == "grid" else max(1, samples // 100)
        row: dict[str, Any] = {"circuit": label, "qubits": n}
        print(f"\n{label}: {n} qubits, {len(list(circuit.all_operations()))} operations", flush=True)
        row["qtn"] = qtn_rate(circuit, count)
        print(f"  qtn    first sample {row['qtn']['first_s']:8.2f} s   then {count} samples in "
              f"{row['qtn']['samples_s']:8.2f} s = {row['qtn']['rate']:8.3f} samples/s", flush=True)
        if not args.no_quimb:
            qcount = quimb_samples if name == "grid" else 1
            row["quimb"] = quimb_rate(circuit, qcount, timeout)
            q = row["quimb"]
            first = f"{q['first_s']:8.2f} s" if "first_s" in q else "    none"
            rate = f"{q['rate']:8.3f} samples/s" if "rate" in q else "(no second sample)"
            stop = f"  (stopped after {timeout:.0f} s)" if q["timed_out"] else ""
            print(f"  quimb  first sample {first}   then {rate} over {q['samples']} samples{stop}", flush=True)
            if "rate" in q:
                row["speedup_vs_quimb"] = row["qtn"]["rate"] / q["rate"]
                print(f"  qtn/quimb samples per second: {row['speedup_vs_quimb']:.1f}x (target >= 1x)")
        if args.xeb and n <= 60:
            for who in ("qtn", "quimb"):
                if who in row and "bits" in row[who]:
                    row[who]["xeb"] = xeb(circuit, row[who]["bits"], args.xeb)
                    print(f"  {who} linear XEB of {min(args.xeb, len(row[who]['bits']))} samples: "
                          f"{row[who]['xeb']:.2f}")
        for who in ("qtn", "quimb"):
            if who in row and "bits" in row[who]:
                row[who]["bits"] = ["".join(map(str, b)) for b in row[who]["bits"][:50]]
        results.append(row)
    common.write_results("sampling", {"args": vars(args), "rows": results})
    return 0


if __name__ == "__main__":
    sys.exit(main())
