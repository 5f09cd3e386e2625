"""Amplitudes of a 100-qubit GHZ state, far past any state vector.

The GHZ state (|0...0> + |1...1>)/sqrt 2 has two non-zero amplitudes of 1/sqrt 2;
every other bitstring has amplitude 0. qtn computes any of them from the tensor
network in milliseconds, through its API and as a Cirq simulator. Bitstrings of
100 qubits are plain Python ints (big-endian: qubit 0 is the most significant bit).

Run: ``python examples/ghz_100_qubits.py [--qubits N]``
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time

import numpy as np

import qtn
from qtn.generators import ghz


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--qubits", type=int, default=100)
    args = parser.parse_args(argv)
    n = args.qubits
    circuit = ghz(n)
    all_ones = (1 << n) - 1
    one_flip = all_ones ^ (1 << (n // 2))  # all ones but the middle qubit
    rand = random.Random(0).getrandbits(n)
    bitstrings = [0, all_ones, one_flip, rand]
    labels = ["0...0", "1...1", f"1...1 but qubit {n // 2}", f"random {format(rand, 'x')[:8]}..."]
    expected = np.array([1, 1, 0, 0]) / math.sqrt(2)

    plan = qtn.plan(circuit)
    print(f"GHZ circuit on {n} qubits: {len(circuit)} moments; the plan of one amplitude:")
    print(plan.report())
    if not plan.steps:
        print("(the network of one GHZ amplitude simplifies to a scalar before planning: nothing is left to contract)")

    t0 = time.perf_counter()
    amps = qtn.amplitudes(circuit, bitstrings)
    seconds = time.perf_counter() - t0
    for label, a, e in zip(labels, amps, expected):
        print(f"  <{label}|psi> = {a:.6f}   (exact {e:.6f})")
    error = np.abs(amps - expected).max()
    print(f"{len(bitstrings)} amplitudes in {seconds:.3f} s; max error {error:.1e}")

    # the same through Cirq's simulator interface (a drop-in for qsimcirq.QSimSimulator)
    sim_amps = qtn.Simulator().compute_amplitudes(circuit, bitstrings)
    print(f"qtn.Simulator().compute_amplitudes agrees: {np.allclose(sim_amps, amps)}")
    if error > 1e-6 or not np.allclose(sim_amps, amps):
        print("MISMATCH", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
