"""The big steps of the Sycamore m = 10 plan (saved tree) on their real operands: as lowered
(strided views where an operand splits) against every operand permuted, in alternating rounds.

    PYTHONPATH=$PWD python bench/engine_steps.py [--rounds 5] [--steps 62,73,81]

Per step: the GEMM shape, how each operand runs (view / strided / move), the fastest of
``--rounds`` wall and CPU times of both forms, and the relative difference of their products.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import amplitudes as amp  # noqa: E402
import common  # noqa: E402
import engine  # noqa: E402

import qtn  # noqa: E402
from qtn import permute, strided  # noqa: E402
from qtn.execute import upload_inputs  # noqa: E402
from qtn.io import read_circuit  # noqa: E402
from qtn.strided import StridedOperand  # noqa: E402

TREE = Path(__file__).resolve().parent / "results" / "sycamore-m10-tree-20261202.json"


def operands(net, plan, backend, steps: set[int] | None) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Copies of the operands of the chosen steps (default: those with an operand of >= 2^20 elements)."""
    tensors = upload_inputs(net, plan, backend, 0)
    saved = {}
    for s, step in enumerate(plan.steps):
        low = step.lowered
        x, y = tensors[step.left], tensors[step.right]
        if (steps is None and max(x.size, y.size) >= 1 << 20) or (steps is not None and s in steps):
            saved[s] = (np.array(x), np.array(y))
        product = backend.matmul(backend.transpose_reshape(x, low.a_perm, low.a_shape),
                                 backend.transpose_reshape(y, low.b_perm, low.b_shape))
        tensors[step.left] = tensors[step.right] = None
        tensors.append(product.reshape(low.out_shape))
    return saved


def one(backend, low, x, y, sides: tuple[str, ...], out: np.ndarray):
    keep = strided.SIDES
    strided.SIDES = sides
    try:
        a = backend.transpose_reshape(x, low.a_perm, low.a_shape, side="a")
        b = backend.transpose_reshape(y, low.b_perm, low.b_shape, side="b")
        kinds = tuple("strided" if isinstance(o, StridedOperand) else ("view" if np.shares_memory(o, src) else "move")
                      for o, src in ((a, x), (b, y)))
        return backend.matmul(a, b, out=out), kinds
    finally:
        strided.SIDES = keep


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--steps", help="comma-separated step numbers (default: the steps with a 2^20+ operand)")
    p.add_argument("--no-write", action="store_true")
    args = p.parse_args(argv)
    info = common.machine_info()
    load0 = os.getloadavg()[0]
    permute.set_num_threads(len(os.sched_getaffinity(0)))
    case = engine.case_from_tree_file(read_circuit(amp.SYCAMORE), TREE, 16)
    net, plan = case.net, case.plan
    backend = qtn.get_backend("numpy")
    steps = {int(s) for s in args.steps.split(",")} if args.steps else None
    rows = []
    for s, (x, y) in operands(net, plan, backend, steps).items():
        low = plan.steps[s].lowered
        out = np.empty(low.a_shape[:-1] + low.b_shape[-1:], np.result_type(x.dtype, y.dtype))
        ref = one(backend, low, x, y, (), out)[0].copy()
        got, kinds = one(backend, low, x, y, ("a", "b"), out)
        if "strided" not in kinds:
            continue
        err = float(np.abs(got - ref).max() / max(float(np.abs(ref).max()), 1e-30))
        wall = {"planned": [], "permuted": []}
        cpu = {"planned": [], "permuted": []}
        for _ in range(args.rounds):
            for name, sides in (("planned", ("a", "b")), ("permuted", ())):
                c0, t0 = time.process_time(), time.perf_counter()
                one(backend, low, x, y, sides, out)
                wall[name].append(time.perf_counter() - t0)
                cpu[name].append(time.process_time() - c0)
        g = low.gemm
        row = {"step": s, "m": g.m, "k": g.k, "n": g.n, "kinds": kinds, "rel_diff": err,
               **{f"{k}_wall_min_s": min(v) for k, v in wall.items()},
               **{f"{k}_wall_median_s": statistics.median(v) for k, v in wall.items()},
               **{f"{k}_cpu_min_s": min(v) for k, v in cpu.items()}}
        rows.append(row)
        print(f"step {s} m{g.m} k{g.k} n{g.n} {kinds}: as planned {row['planned_wall_min_s'] * 1e3:.1f} ms, "
              f"all permuted {row['permuted_wall_min_s'] * 1e3:.1f} ms; rel diff {err:.1e}", flush=True)
    result = {"tree_file": str(TREE), "rounds": args.rounds, "steps": rows,
              "load_average": {"start": load0, "end": os.getloadavg()[0]},
              "note": "fastest of alternating rounds; 2-core machine shared with other jobs, see load_average"}
    if not args.no_write:
        print(f"results: {common.write_results('engine_steps', {'machine': info, **result})}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
