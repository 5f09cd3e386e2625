"""A short tour of qtn (``make demo``): 53-qubit amplitudes, a check against Cirq,
the OpenCL backend and a modelled FPGA board plan.

By default the 53-qubit circuits are ones a 2-core laptop contracts in seconds: the
GHZ state and a shallow (6-cycle) random circuit on a 6x9 grid less one corner
qubit, Sycamore's qubit count. ``--full`` adds the real thing, the Sycamore
supremacy circuit with m=10 cycles read from ``../shared/circuits`` (about 30 s of
path search and several seconds of contraction on 2 cores).

Run: ``python examples/demo.py [--full]``
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cirq
import numpy as np

import qtn
from qtn import generators
from qtn.io import read_circuit

SYCAMORE_M10 = Path(__file__).resolve().parents[2] / "shared" / "circuits" / "circuit_n53_m10_s0_e0_pABCDCDAB.qsim"


def heading(text: str) -> None:
    print(f"\n== {text} " + "=" * max(0, 70 - len(text)))


def amplitude_53_qubits(full: bool) -> None:
    heading("1. amplitudes of 53-qubit circuits (their state vectors would take 64 PiB)")
    ghz = generators.ghz(53)
    t0 = time.perf_counter()
    amps = qtn.amplitudes(ghz, [0, 2**53 - 1, 1])
    print(f"GHZ on 53 qubits: <0...0|psi> = {amps[0]:.6f}, <1...1|psi> = {amps[1]:.6f}, "
          f"<0...01|psi> = {amps[2]:.1g} (exact: 1/sqrt 2, 1/sqrt 2, 0) in {time.perf_counter() - t0:.3f} s")

    qubits = cirq.GridQubit.rect(6, 9)[1:]
    shallow = cirq.experiments.random_rotations_between_grid_interaction_layers_circuit(qubits, depth=6, seed=0)
    t0 = time.perf_counter()
    plan = qtn.plan(shallow)
    amp = qtn.amplitudes(shallow, [0])[0]
    print(f"shallow random circuit on a 6x9 grid less one corner (53 qubits, 6 cycles): "
          f"<0...0|psi> = {amp:.3e} in {time.perf_counter() - t0:.2f} s (plan and contraction)")
    print(plan.report())

    if not full:
        print("(the Sycamore m=10 circuit is skipped; run with --full for it)")
        return
    if not SYCAMORE_M10.is_file():
        print(f"--full: {SYCAMORE_M10} is not here; skipped")
        return
    sycamore = read_circuit(SYCAMORE_M10)
    t0 = time.perf_counter()
    plan = qtn.plan(sycamore)
    t1 = time.perf_counter()
    amp = qtn.amplitudes(sycamore, [0])[0]
    print(f"Sycamore m=10 ({SYCAMORE_M10.name}): <0...0|psi> = {amp:.4e}; "
          f"qtn.plan {t1 - t0:.1f} s, qtn.amplitudes {time.perf_counter() - t1:.1f} s")
    print(plan.report())


def compare_with_cirq() -> None:
    heading("2. the same numbers as Cirq, on a circuit Cirq can hold")
    circuit = generators.grid(3, 4, 8, seed=1)
    ours = qtn.state_vector(circuit)
    cirqs = cirq.final_state_vector(circuit, qubit_order=sorted(circuit.all_qubits()), dtype=np.complex128)
    print(f"12-qubit random grid circuit, 8 cycles: max |qtn - cirq| over all 4096 amplitudes = "
          f"{np.abs(ours - cirqs).max():.2e} (complex64)")
    sim = qtn.Simulator()
    amps = sim.compute_amplitudes(circuit, [0, 4095])
    print(f"as a Cirq simulator: qtn.Simulator().compute_amplitudes(circuit, [0, 4095]) = "
          f"[{amps[0]:.5f}, {amps[1]:.5f}]")


def opencl_backend() -> None:
    heading("3. the GEMMs on an OpenCL device (PoCL on this CPU)")
    try:
        backend = qtn.get_backend("opencl")
    except qtn.BackendUnavailableError as err:
        print(f"OpenCL backend unavailable here, skipped: {str(err).splitlines()[0]}")
        return
    circuit = generators.grid(3, 3, 6, seed=2)
    t0 = time.perf_counter()
    on_device = qtn.amplitudes(circuit, [0, 1, 2], backend=backend)
    seconds = time.perf_counter() - t0
    on_host = qtn.amplitudes(circuit, [0, 1, 2])
    print(f"{backend.name}: 3 amplitudes of a 9-qubit circuit in {seconds:.2f} s (kernels compiled once); "
          f"max |opencl - numpy| = {np.abs(on_device - on_host).max():.2e}")


def board_plan() -> None:
    heading("4. a plan for an FPGA board (modelled, not measured)")
    circuit = generators.grid(5, 5, 12, seed=3)
    for on_chip in (False, True):
        # greedy paths keep the demo quick; the default search finds cheaper ones
        plan = qtn.plan(circuit, board="u280", on_chip=on_chip, optimize="greedy")
        where = "intermediates on chip (sliced to fit)" if on_chip else "intermediates in HBM"
        print(f"25-qubit grid circuit, 12 cycles, {where}: {plan.n_slices} slice(s), width {plan.width:.0f}, "
              f"{plan.flops:.3g} flops")
        print("  " + plan.board_time.report())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="also the Sycamore m=10 circuit (about a minute)")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    print(f"qtn {qtn.__version__}: quantum circuits by tensor-network contraction; "
          f"backends {', '.join(qtn.available_backends())}")
    amplitude_53_qubits(args.full)
    compare_with_cirq()
    opencl_backend()
    board_plan()
    print(f"\ndemo done in {time.perf_counter() - t0:.1f} s. More: examples/*.py, and 'qtn --help'.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
