"""Slices of one contraction spread over a dask cluster (a LocalCluster of 2 workers).

A memory budget below the largest intermediate makes qtn slice the contraction into
independent pieces whose results are summed; ``executor=`` sends those pieces to a
``dask.distributed`` cluster. Here the cluster is two local worker processes; for a
real one, pass ``Client("tcp://scheduler:8786")`` (or ``qtn ... --executor
tcp://scheduler:8786`` on the command line). The cluster result must equal the
serial one.

Run: ``python examples/dask_cluster.py [--workers W]``
"""

from __future__ import annotations

import argparse
import logging
import sys
import time

import numpy as np
from dask.distributed import Client, LocalCluster

import qtn
from qtn.generators import grid

BUDGET = 32 * 2**10  # bytes: small enough to slice this circuit into many pieces


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    circuit = grid(4, 4, 14, seed=6)
    bitstrings = [0, 12345]
    plan = qtn.plan(circuit, max_memory=BUDGET)
    print(f"16-qubit grid circuit, 14 cycles, under a {BUDGET // 2**10} KiB budget: "
          f"{plan.n_slices} slices of width {plan.width:.0f}, {plan.flops:.3g} flops")

    t0 = time.perf_counter()
    serial = qtn.amplitudes(circuit, bitstrings, max_memory=BUDGET)
    print(f"serial:              {serial} in {time.perf_counter() - t0:.2f} s")

    with LocalCluster(n_workers=args.workers, threads_per_worker=1, dashboard_address=None,
                      silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
        t0 = time.perf_counter()
        spread = qtn.amplitudes(circuit, bitstrings, max_memory=BUDGET, executor=client)
        print(f"{args.workers} dask workers:      {spread} in {time.perf_counter() - t0:.2f} s "
              f"(cluster at {client.scheduler.address})")
    error = float(np.abs(spread - serial).max())
    print(f"max |cluster - serial| = {error:.1e}")
    return 0 if error < 1e-5 else 1


if __name__ == "__main__":
    sys.exit(main())
