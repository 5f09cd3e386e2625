"""Moment prefixes and trajectory steps: what compiling once (this tree) saves over
compiling each prefix again (``--base``, an older checkout of ``qtn``).

Two cases on a 20-moment brickwork (``rx`` layers with distinct angles, ``CZ`` layers):

* ``moments``     ``Simulator.simulate_moment_expectation_values`` of ``Z`` on the
                  middle qubit and ``X X`` on the first two, after every moment;
* ``trajectory``  ``Simulator.compute_amplitudes`` of one bitstring with amplitude
                  damping on the two end qubits after every moment, past
                  ``VECTOR_QUBITS`` (lightcone branch probabilities: one ``rho_S``
                  per damped qubit and moment, 40 steps).

Each round runs both trees in fresh processes, alternating, and each process times
one warm call (after one untimed call that fills the plan cache); the figure is the
median over rounds. Measured wall-clock seconds on this machine.

Usage::

    flock /work/helpers/bench.lock python bench/moments.py --base /tmp/tidy-base --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import print_machine, write_results  # noqa: E402

HERE = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, sys, time
import cirq, numpy as np
import qtn
case, n, depth = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
q = cirq.LineQubit.range(n)
rng = np.random.default_rng(4)
moments = []
for d in range(depth):
    if d % 2:
        moments.append(cirq.Moment(cirq.CZ(q[i], q[i + 1]) for i in range((d // 2) % 2, n - 1, 2)))
    else:
        moments.append(cirq.Moment(cirq.rx(a)(b) for a, b in zip(rng.uniform(-3, 3, n), q)))
circuit = cirq.Circuit(moments)
if case == "moments":
    obs = [cirq.Z(q[n // 2]), cirq.X(q[0]) * cirq.X(q[1])]
    call = lambda: qtn.Simulator().simulate_moment_expectation_values(circuit, obs, {})
else:
    damped = cirq.Circuit()
    for moment in circuit:
        damped += moment
        damped += cirq.Moment(cirq.amplitude_damp(0.05)(b) for b in (q[0], q[n - 1]))
    call = lambda: qtn.Simulator(seed=1).compute_amplitudes(damped, [0])
call()
t0 = time.perf_counter()
call()
print(json.dumps({"seconds": time.perf_counter() - t0, "qtn": qtn.__file__}))
"""


def _child(tree: Path, case: str, n: int, depth: int) -> float:
    env = dict(os.environ, PYTHONPATH=str(tree))
    out = subprocess.run([sys.executable, "-c", CHILD, case, str(n), str(depth)], env=env, check=True, cwd=tree,
                         capture_output=True, text=True).stdout
    record = json.loads(out.strip().splitlines()[-1])
    assert record["qtn"].startswith(str(tree)), record  # the tree asked for, not an installed qtn
    return record["seconds"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", type=Path, required=True, help="folder holding the older qtn package")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--depth", type=int, default=20)
    parser.add_argument("--moments-qubits", type=int, default=12)
    parser.add_argument("--trajectory-qubits", type=int, default=20)
    args = parser.parse_args(argv)
    print_machine()
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    rows = []
    for case, n in (("moments", args.moments_qubits), ("trajectory", args.trajectory_qubits)):
        times: dict[str, list[float]] = {"base": [], "this": []}
        for r in range(args.rounds):
            order = (("base", args.base), ("this", HERE)) if r % 2 == 0 else (("this", HERE), ("base", args.base))
            for label, tree in order:
                times[label].append(_child(tree.resolve(), case, n, args.depth))
        med = {k: statistics.median(v) for k, v in times.items()}
        rows.append({"case": case, "qubits": n, "moments": args.depth, "times": times, "median": med,
                     "speedup": med["base"] / med["this"]})
        print(f"{case:10s} {n:3d} qubits {args.depth} moments: base {med['base']:.3f} s, this {med['this']:.3f} s "
              f"({med['base'] / med['this']:.2f}x)  [measured, medians of {args.rounds}]")
    write_results("moments", {"rows": rows, "load_average": load, "base": str(args.base),
                              "label": "measured (wall clock, this machine)"})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
