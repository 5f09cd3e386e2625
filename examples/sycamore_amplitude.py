"""One amplitude of Google's 53-qubit Sycamore supremacy circuit (m=10 cycles).

The circuit is read from qsim's file ``circuit_n53_m10_s0_e0_pABCDCDAB.qsim`` (in
``../shared/circuits`` next to this repository, or ``--circuit PATH``). The full
circuit takes about 30 s of path search and several seconds of contraction on a
2-core machine, so by default only its first ``--cycles 6`` cycles run (each cycle
is one layer of random single-qubit gates and one of FSim couplers: 4 moments of
the file); ``--full`` runs all 10.

The amplitude is computed twice, once within the default memory budget and once
under a budget small enough to force slicing, and the two must agree: slicing
splits the sum over some indices into independent contractions.

Run: ``python examples/sycamore_amplitude.py [--cycles K | --full] [--circuit PATH]``
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

import qtn
from qtn.io import read_circuit

DEFAULT_CIRCUIT = Path(__file__).resolve().parents[2] / "shared" / "circuits" / "circuit_n53_m10_s0_e0_pABCDCDAB.qsim"
#: Moments of the qsim file per cycle: single-qubit gates, Rz, FSim, Rz.
MOMENTS_PER_CYCLE = 4


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--circuit", type=Path, default=DEFAULT_CIRCUIT, help="the m=10 qsim file")
    parser.add_argument("--cycles", type=int, default=6, help="run the first K cycles (default 6)")
    parser.add_argument("--full", action="store_true", help="all 10 cycles (about a minute on 2 cores)")
    args = parser.parse_args(argv)
    if not args.circuit.is_file():
        print(f"no circuit file at {args.circuit}; pass --circuit PATH to "
              "circuit_n53_m10_s0_e0_pABCDCDAB.qsim", file=sys.stderr)
        return 2
    circuit = read_circuit(args.circuit)
    if not args.full:
        circuit = circuit[: MOMENTS_PER_CYCLE * args.cycles]
    what = "all 10 cycles" if args.full else f"the first {args.cycles} of 10 cycles"
    print(f"Sycamore circuit {args.circuit.name}, {what}: {len(circuit.all_qubits())} qubits, "
          f"{sum(1 for _ in circuit.all_operations())} gates")

    t0 = time.perf_counter()
    plan = qtn.plan(circuit)
    t1 = time.perf_counter()
    amp = qtn.amplitudes(circuit, [0])[0]
    t2 = time.perf_counter()
    print(plan.report())
    print(f"<0...0|C|0...0> = {amp:.6e}   (qtn.plan {t1 - t0:.1f} s, qtn.amplitudes {t2 - t1:.1f} s)")

    # a budget 16x below the largest intermediate forces the plan to slice
    small = max(plan.largest_intermediate_bytes // 16, 4096)
    sliced_plan = qtn.plan(circuit, max_memory=small)
    t3 = time.perf_counter()
    sliced = qtn.amplitudes(circuit, [0], max_memory=small)[0]
    print(f"under a {small / 2**10:.0f} KiB budget: {sliced_plan.n_slices} slices, width {sliced_plan.width:.0f}: "
          f"{sliced:.6e} in {time.perf_counter() - t3:.1f} s")
    difference = abs(sliced - amp)
    print(f"|sliced - unsliced| = {difference:.1e} (relative {difference / abs(amp):.1e})")
    return 0 if np.isclose(sliced, amp, rtol=1e-3, atol=0) else 1


if __name__ == "__main__":
    sys.exit(main())
