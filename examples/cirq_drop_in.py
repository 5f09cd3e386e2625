"""qtn as a drop-in Cirq simulator: the same user code run with Cirq, qsim and qtn.

``experiment(simulator)`` is written once against Cirq's simulator interfaces
(amplitudes, parameter sweeps, final states, expectation values, samples) and run
with ``cirq.Simulator`` (the reference), ``qsimcirq.QSimSimulator`` (when qsimcirq
is installed) and ``qtn.Simulator``. Swapping simulators is the only change.

Run: ``python examples/cirq_drop_in.py``
"""

from __future__ import annotations

import sys
import time
from typing import Any

import cirq
import numpy as np
import sympy

import qtn
from qtn import generators

REPETITIONS = 2000


def experiment(simulator: Any) -> dict[str, Any]:
    """User code: a 12-qubit random circuit studied through any Cirq simulator."""
    circuit = generators.grid(3, 4, 6, seed=5)
    q = sorted(circuit.all_qubits())
    theta = sympy.Symbol("theta")
    swept = circuit + cirq.Circuit(cirq.rx(theta).on_each(q))
    measured = circuit + cirq.measure(q[0], q[1], key="m")
    sweep = cirq.Linspace("theta", 0.0, 1.0, 3)
    samples = simulator.run(measured, repetitions=REPETITIONS).measurements["m"]
    return {
        "amplitudes": np.array(simulator.compute_amplitudes(circuit, bitstrings=[0, 1, 4095])),
        "sweep": np.array(simulator.compute_amplitudes_sweep(swept, bitstrings=[0], params=sweep)).ravel(),
        "state": simulator.simulate(circuit).final_state_vector,
        "expectations": np.array(simulator.simulate_expectation_values(
            circuit, observables=[cirq.Z(q[0]) * cirq.Z(q[1]), cirq.X(q[2]) + 0.5 * cirq.Y(q[5])])),
        # frequencies of 00, 01, 10, 11 on the first two qubits
        "frequencies": np.bincount(2 * samples[:, 0] + samples[:, 1], minlength=4) / REPETITIONS,
    }


def simulators() -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = [("cirq.Simulator", cirq.Simulator(seed=1))]
    try:
        import qsimcirq
    except ImportError:
        print("qsimcirq is not installed: comparing qtn with Cirq only")
    else:
        found.append(("qsimcirq.QSimSimulator", qsimcirq.QSimSimulator(seed=1)))
    found.append(("qtn.Simulator", qtn.Simulator()))
    return found


def main() -> int:
    results = {}
    for name, sim in simulators():
        t0 = time.perf_counter()
        results[name] = experiment(sim)
        print(f"{name:<24} ran the experiment in {time.perf_counter() - t0:.2f} s")
    reference = results.pop("cirq.Simulator")
    exact = np.abs(reference["state"].reshape(4, -1)) ** 2  # marginal of the first two qubits
    exact = exact.sum(axis=1)
    ok = True
    for name, got in results.items():
        errors = {key: float(np.abs(got[key] - reference[key]).max())
                  for key in ("amplitudes", "sweep", "state", "expectations")}
        tvd = 0.5 * float(np.abs(got["frequencies"] - exact).sum())
        print(f"{name} vs cirq.Simulator: " + ", ".join(f"max |d {k}| {v:.1e}" for k, v in errors.items())
              + f"; sampled marginal off the exact one by {tvd:.3f} (total variation, {REPETITIONS} shots)")
        ok &= max(errors.values()) < 1e-4 and tvd < 0.08  # about 5 sigma for 2000 shots
    print(f"e.g. <0...0|C|0...0> = {reference['amplitudes'][0]:.5f}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
