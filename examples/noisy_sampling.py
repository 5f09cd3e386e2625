"""Sampling a GHZ state under depolarizing noise, checked against Cirq's density matrix.

A noiseless GHZ state only ever gives 0...0 or 1...1. With a depolarizing channel of
probability p on every qubit after every moment (``cirq.ConstantQubitNoiseModel``)
other bitstrings appear. qtn samples with ``qtn.sample(..., noise=...)``; the exact
probability of the two GHZ outcomes comes from ``cirq.DensityMatrixSimulator`` with
the same noise model, and the sampled frequency must lie within the statistical error.

Run: ``python examples/noisy_sampling.py [--qubits N] [--shots S]``
"""

from __future__ import annotations

import argparse
import sys
import time

import cirq
import numpy as np

import qtn
from qtn.generators import ghz

NOISE = (0.0, 0.01, 0.05)


def exact_ghz_probability(circuit: cirq.Circuit, noise: cirq.NoiseModel) -> float:
    """P(0...0) + P(1...1) from the noisy density matrix."""
    qubits = sorted(circuit.all_qubits())
    rho = cirq.DensityMatrixSimulator(noise=noise).simulate(circuit, qubit_order=qubits).final_density_matrix
    return float(rho[0, 0].real + rho[-1, -1].real)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--qubits", type=int, default=6)
    parser.add_argument("--shots", type=int, default=1000)
    args = parser.parse_args(argv)
    circuit = ghz(args.qubits)
    qubits = sorted(circuit.all_qubits())
    measured = circuit + cirq.measure(*qubits, key="m")
    print(f"GHZ on {args.qubits} qubits, {args.shots} shots, depolarizing noise p after every moment")
    print(f"  {'p':>5}  {'sampled P(0..0 or 1..1)':>24}  {'exact':>7}  {'other outcomes seen':>20}  time")
    ok = True
    for p in NOISE:
        noise = cirq.ConstantQubitNoiseModel(cirq.depolarize(p))
        t0 = time.perf_counter()
        result = qtn.sample(measured, args.shots, noise=noise, seed=7)
        seconds = time.perf_counter() - t0
        bits = result.measurements["m"]
        ghz_like = np.all(bits == bits[:, :1], axis=1)
        sampled = ghz_like.mean()
        exact = exact_ghz_probability(circuit, noise)
        others = len({tuple(row) for row in bits[~ghz_like]})
        print(f"  {p:>5.2f}  {sampled:>24.3f}  {exact:>7.3f}  {others:>20}  {seconds:.2f} s")
        sigma = np.sqrt(exact * (1 - exact) / args.shots)
        ok &= abs(sampled - exact) <= 5 * sigma + 1e-9
    if not ok:
        print("sampled frequencies are off the exact ones by more than 5 sigma", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
