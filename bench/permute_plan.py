"""The permute kernel on the permutes one Sycamore m = 10 contraction really runs.

One instrumented contraction (the tree of ``--tree-file``) records every call of
``qtn.permute.permute`` the numpy backend makes (shape, strides, perm, dtype); each
distinct permute of at least ``--min-elements`` is then timed alone (median of
``--repeat``, into a reused output from a buffer pool, as the engine has them) and reported in
GB/s (bytes read + written), with the total over the contraction's calls. Run it pinned
like ``bench/engine.py``; with ``PYTHONPATH`` at another checkout it measures that one's
kernel on the same permutes (the before of an A/B)::

    flock /work/helpers/bench.lock env OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 \\
        taskset -c 1 env PYTHONPATH=$PWD python bench/permute_plan.py
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import amplitudes as amp  # noqa: E402
import common  # noqa: E402
import engine  # noqa: E402

import qtn  # noqa: E402
from qtn import buffers, permute, strided  # noqa: E402
from qtn.backends import numpy as numpy_backend  # noqa: E402
from qtn.io import read_circuit  # noqa: E402

TREE = Path(__file__).resolve().parent / "results" / "sycamore-m10-tree-20261202.json"


def record_calls(tree_file: Path) -> Counter:
    """(shape, strides, dtype, perm) -> how often one contraction along ``tree_file`` permutes it."""
    calls: Counter = Counter()
    real = numpy_backend.permute, strided.permute

    def recording(a, perm, out=None):
        calls[(a.shape, a.strides, a.dtype.str, tuple(perm))] += 1
        return real[0](a, perm, out)

    numpy_backend.permute = strided.permute = recording
    try:
        case = engine.case_from_tree_file(read_circuit(amp.SYCAMORE), tree_file, 1)
        engine.split_run(case.net, case.plan, qtn.get_backend("numpy"))
    finally:
        numpy_backend.permute, strided.permute = real
    return calls


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tree-file", type=Path, default=TREE)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--min-elements", type=int, default=1 << 14)
    p.add_argument("--no-write", action="store_true")
    args = p.parse_args(argv)
    info = common.machine_info()
    common.print_machine(info)
    permute.set_num_threads(1)
    print(f"qtn at {Path(qtn.__file__).parent}; kernel {permute.kernel()}")
    calls = record_calls(args.tree_file)
    rng = np.random.default_rng(0)
    tot_s = tot_b = 0.0
    rows = []
    pool = buffers.BufferPool(object(), 1 << 40)
    for (shape, strides, dt, perm), count in calls.items():
        size = int(np.prod(shape))
        if size < args.min_elements:
            continue
        a = (rng.standard_normal(size) + 1j * rng.standard_normal(size)).astype(dt).reshape(shape)
        if a.strides != strides:
            continue  # (inputs are C-contiguous here; a strided one is not reproduced)
        out = pool.take((size,), a.dtype)  # aligned as the engine's own buffers are (64 bytes here)
        permute.permute(a, perm, out=out)  # pages touched, plan cached
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            permute.permute(a, perm, out=out)
            times.append(time.perf_counter() - t0)
        t = float(np.median(times))
        rows.append((size, count, t, shape, perm, dt))
        pool.give(out)
        tot_s += count * t
        tot_b += count * 2 * a.nbytes
    rows.sort(key=lambda r: -r[0])
    for size, count, t, shape, perm, dt in rows[:12]:
        item = np.dtype(dt).itemsize
        v = np.empty(shape, dt).transpose(perm)
        dims, st = permute.merged_axes(v.shape, [s // item for s in v.strides])
        print(f"  2^{np.log2(size):.0f} x{count}: {t * 1e3:7.2f} ms {2 * item * size / t / 1e9:5.1f} GB/s  dims {dims} strides {st}")
    print(f"total over {sum(r[1] for r in rows)} permutes >= {args.min_elements} elements: {tot_s * 1e3:.1f} ms, "
          f"{tot_b / 1e9:.2f} GB moved, {tot_b / tot_s / 1e9:.1f} GB/s")
    if not args.no_write:
        common.write_results("permute_plan", {
            "qtn": str(Path(qtn.__file__).parent), "kernel": permute.kernel(), "threads": 1, "repeat": args.repeat,
            "min_elements": args.min_elements, "total_s": tot_s, "total_bytes": tot_b,
            "GBps": tot_b / tot_s / 1e9,
            "permutes": [{"elements": size, "count": count, "seconds": t, "shape": list(shape), "perm": list(perm),
                          "dtype": dt} for size, count, t, shape, perm, dt in rows]})
    return 0


if __name__ == "__main__":
    sys.exit(main())
