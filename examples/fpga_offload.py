"""Offloading the GEMMs of a contraction to an FPGA: tiles, plans, modelled times,
and the HLS kernel run in C simulation.

For every shipped board profile (``qtn.fpga.boards.available_boards()``) this prints the
GEMM tiles sized from its on-chip memory and DSPs, then plans one amplitude of a
20-qubit random grid circuit twice: with intermediates in the card's off-chip
memory, and with every intermediate on chip (sliced to fit). The board times are
modelled from the profile (compute, off-chip traffic, PCIe), never measured: no
board is attached here. Finally the same amplitudes run through the HLS C++ kernel
compiled for the host (``backend="hls"``, C simulation) and through OpenCL where a
device exists, and are compared with NumPy.

Run: ``python examples/fpga_offload.py [--depth D]``
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

import qtn
from qtn import generators
from qtn.fpga import boards


def board_table(circuit, label: str) -> None:
    print(f"{label}: one amplitude on each board (times modelled, not measured)")
    print(f"  {'board':<17} {'GEMM tile m x n x k':<20} {'PEs':>7} {'memory':<9} {'slices':>6} {'width':>5} "
          f"{'modelled time':>14}")
    for name in boards.available_boards():
        tiles = boards.gemm_tiles(name)
        for on_chip in (False, True):
            # greedy paths keep the example quick; the default search finds cheaper ones
            plan = qtn.plan(circuit, board=name, on_chip=on_chip, optimize="greedy")
            bt = plan.board_time
            tile = f"{tiles.tile_m} x {tiles.tile_n} x {tiles.tile_k}" if not on_chip else ""
            pes = f"{tiles.pe_m}x{tiles.pe_n}" if not on_chip else ""
            print(f"  {name if not on_chip else '':<17} {tile:<20} {pes:>7} {'on chip' if on_chip else 'off chip':<9} "
                  f"{plan.n_slices:>6} {plan.width:>5.0f} {bt.total_s * 1e3:>11.3f} ms")


def run_on(backend_name: str, circuit, bitstrings, reference) -> bool:
    """Amplitudes on one backend compared with NumPy's; False on a mismatch."""
    try:
        backend = qtn.get_backend(backend_name)
    except qtn.BackendUnavailableError as err:
        print(f"  {backend_name}: unavailable here, skipped ({str(err).splitlines()[0]})")
        return True
    t0 = time.perf_counter()
    amps = qtn.amplitudes(circuit, bitstrings, backend=backend)
    error = np.abs(amps - reference).max()
    stats = backend.stats()
    moved = "; " + ", ".join(f"{k} {v}" for k, v in stats.items()) if stats else ""
    print(f"  {backend.name}: {len(bitstrings)} amplitudes in {time.perf_counter() - t0:.2f} s, "
          f"max |difference from numpy| {error:.1e}{moved}")
    return error < 1e-4


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depth", type=int, default=14, help="cycles of the 4x5 grid circuit (default 14)")
    args = parser.parse_args(argv)
    circuit = generators.grid(4, 5, args.depth, seed=3)
    board_table(circuit, f"20-qubit random grid circuit, {args.depth} cycles")

    small = generators.grid(3, 4, 8, seed=4)
    bitstrings = [0, 1, 2**12 - 1]
    reference = qtn.amplitudes(small, bitstrings)
    print("\nthe kernels on this machine (12-qubit circuit, 3 amplitudes):")
    ok = run_on("hls", small, bitstrings, reference)  # the HLS kernel in C simulation, u280 tiles
    ok &= run_on("opencl", small, bitstrings, reference)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
