"""The skinny complex64 GEMM kernel (qtn.skinny_gemm) against np.matmul, shape by shape.

Row-major ``C[m, n] = A[m, k] @ B[k, n]``, complex64. Part 1 times the skinny steps of
the Sycamore m = 10 tree (bench/results/engine-20261202T073941Z.json), each as the
engine hands it over: B C-contiguous, B as a batch of row-major views (a
``StridedOperand`` split on its columns, ``views``), B transposed (``T``), or the
mirrored shape (A long, B 16 x 16). Part 2 sweeps the shape classes around the
dispatch limits (``qtn.skinny_gemm.MAX_SMALL``, ``MIN_LONG``), B row-major and
transposed.

Per shape the kernel and ``np.matmul`` run in alternating rounds (ABBA order, back to
back), each into its own output buffer written before the first timed call (fresh
pages on this VM cost 5-15x a page fault: never time into a fresh ``np.empty``);
the figure is the median of ``--repeat`` rounds after one warm-up. GFLOP/s = 8 real
flops per complex multiply-add x m k n / seconds; ``fraction`` is that rate over the
median of three NumPy complex64 2048^3 matmuls timed in the same run. Every product is
checked against np.matmul's (max abs difference over max abs).

Usage::

    python bench/skinny_gemm.py               # both parts, a minute or two
    python bench/skinny_gemm.py --quick       # part 1 only, 3 rounds
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
import common  # noqa: E402

from qtn import skinny_gemm  # noqa: E402

#: (label, m, k, n, form): the skinny steps of the Sycamore m = 10 tree; "views" as the
#: engine's split (lead views of (k, n2), see VIEWS), "T": B stored (n, k).
ENGINE_SHAPES = [
    ("step62 views", 32, 32, 1 << 21, "views"),
    ("32x32 plain", 32, 32, 1 << 21, "plain"),
    ("step73 views", 16, 32, 1 << 21, "views"),
    ("16x32 plain", 16, 32, 1 << 21, "plain"),
    ("step55", 64, 16, 1 << 20, "plain"),
    ("step77", 32, 32, 1 << 20, "plain"),
    ("step81 views", 16, 16, 1 << 21, "views"),
    ("16x16 plain", 16, 16, 1 << 21, "plain"),
    ("4x4 T", 4, 4, 1 << 23, "T"),
    ("4x4 plain", 4, 4, 1 << 23, "plain"),
    ("64x64x64K", 64, 64, 1 << 16, "plain"),
    ("mirrored", 1 << 21, 16, 16, "plain"),
]
#: views per step (count, n2) as the tree's StridedOperands split (bench/engine.py's tree)
VIEWS = {(32, 32): (4096, 512), (16, 32): (16, 131072), (16, 16): (16, 131072)}


def sweep_shapes() -> list[tuple[str, int, int, int, str]]:
    out = []
    for m, k in ((4, 4), (3, 5), (8, 8), (16, 16), (32, 32), (64, 64), (64, 16), (16, 64), (4, 64), (96, 16),
                 (16, 96)):
        for n in (1 << 14, 1 << 16, 1 << 18, 1 << 20):
            out.append((f"wide {m}x{k}", m, k, n, "plain"))
    for m, k in ((4, 4), (8, 8), (16, 16), (32, 32), (64, 64), (64, 16), (16, 64), (3, 5)):
        for n in (1 << 16, 1 << 18, 1 << 20, 1 << 22):
            out.append((f"wide T {m}x{k}", m, k, n, "T"))
    for k, n in ((4, 4), (8, 8), (16, 16), (32, 32), (64, 64), (16, 64), (64, 16), (7, 13), (96, 16)):
        for m in (1 << 14, 1 << 16, 1 << 18, 1 << 20):
            out.append((f"tall {k}x{n}", m, k, n, "plain"))
    return out


def _random(shape, rng) -> np.ndarray:
    x = np.empty(shape, np.complex64)
    x.real = rng.standard_normal(shape, dtype=np.float32)
    x.imag = rng.standard_normal(shape, dtype=np.float32)
    return x


class Buffers:
    """Flat complex64 buffers, made and written once, every shape's operands and outputs
    views of them: nothing is allocated or freed between shapes (on this VM freed
    pages go back to the host, and mapping them again costs 5-15x a page fault)."""

    def __init__(self, shapes, rng) -> None:
        big = max(max(m * k, k * n, m * n) for _, m, k, n, _ in shapes)
        self.long = _random((big,), rng)  # the long operand's values
        self.small = _random((1 << 14,), rng)
        self.plain = np.ones(big, np.complex64)  # a copy of B for np.matmul (views form)
        self.out_k = np.ones(big, np.complex64)
        self.out_n = np.ones(big, np.complex64)

    def operands(self, m: int, k: int, n: int, form: str):
        """A, B (the kernel's form), B for np.matmul, and the two outputs."""
        outs = self.out_k[:m * n].reshape(m, n), self.out_n[:m * n].reshape(m, n)
        if m * k > self.small.size:  # the mirrored shape: A long, B small
            return (self.long[:m * k].reshape(m, k), self.small[:k * n].reshape(k, n),
                    self.small[:k * n].reshape(k, n), *outs)
        a = self.small[:m * k].reshape(m, k)
        if form == "T":
            bt = self.long[:n * k].reshape(n, k)
            return a, bt.T, bt.T, *outs  # np.matmul reads the transposed view as BLAS' T form too
        if form == "views":
            count, n2 = VIEWS[(m, k)]
            base = self.long[:k * n].reshape(count, k, n2)  # stored (views, k, n2): B's columns split
            plain = self.plain[:k * n].reshape(k, count, n2)
            np.copyto(plain, base.transpose(1, 0, 2))
            return a, base, plain.reshape(k, n), *outs
        b = self.long[:k * n].reshape(k, n)
        return a, b, b, *outs


def time_shape(label: str, m: int, k: int, n: int, form: str, repeat: int, peak: float, bufs: Buffers) -> dict:
    a, b_kernel, b_numpy, out_k, out_n = bufs.operands(m, k, n, form)
    if form == "views":
        def kernel():
            return skinny_gemm.matmul_views(a, b_kernel, out=out_k)
    else:
        def kernel():
            return skinny_gemm.matmul(a, b_kernel, out=out_k)

    def numpy():
        return np.matmul(a, b_numpy, out=out_n)

    ran = kernel() is not None  # warm-up (and: does the kernel take this shape?)
    numpy()
    times: dict[str, list[float]] = {"kernel": [], "numpy": []}
    for r in range(repeat):
        order = (("kernel", kernel), ("numpy", numpy)) if r % 2 == 0 else (("numpy", numpy), ("kernel", kernel))
        for name, fn in order:
            if name == "kernel" and not ran:
                continue
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    flops = 8.0 * m * k * n
    row = {"label": label, "m": m, "k": k, "n": n, "form": form, "flops": flops,
           "intensity_flop_per_byte": flops / (8.0 * (m * k + k * n + m * n)), "times_s": times}
    for name in ("kernel", "numpy"):
        if times[name]:
            s = statistics.median(times[name])
            row[f"{name}_s"] = s
            row[f"{name}_gflops"] = flops / s / 1e9
            row[f"{name}_fraction"] = flops / s / peak
    if ran:
        row["speedup"] = row["numpy_s"] / row["kernel_s"]
        row["rel_err"] = float(np.abs(out_k - out_n).max() / np.abs(out_n).max())
    return row


def peak_rate(rng) -> float:
    x, y = _random((2048, 2048), rng), _random((2048, 2048), rng)
    out = np.ones((2048, 2048), np.complex64)
    s, _ = common.median_time(lambda: np.matmul(x, y, out=out), repeat=3, warmup=1)
    return 8.0 * 2048 ** 3 / s


def print_row(row: dict) -> None:
    if "kernel_s" not in row:
        print(f"{row['label']:>14} ({row['m']},{row['k']},{row['n']}) {row['form']:>5}: not taken by the kernel; "
              f"numpy {row['numpy_s'] * 1e3:8.2f} ms {row['numpy_gflops']:6.1f} GF/s")
        return
    print(f"{row['label']:>14} ({row['m']},{row['k']},{row['n']}) {row['form']:>5}: "
          f"kernel {row['kernel_s'] * 1e3:8.2f} ms {row['kernel_gflops']:6.1f} GF/s ({row['kernel_fraction']:.0%})  "
          f"numpy {row['numpy_s'] * 1e3:8.2f} ms {row['numpy_gflops']:6.1f} GF/s ({row['numpy_fraction']:.0%})  "
          f"x{row['speedup']:.2f}  err {row['rel_err']:.1e}")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeat", type=int, default=7)
    p.add_argument("--quick", action="store_true", help="part 1 only, 3 rounds")
    p.add_argument("--no-write", action="store_true")
    args = p.parse_args(argv)
    repeat = 3 if args.quick else args.repeat
    info = common.machine_info()
    common.print_machine(info)
    load = [os.getloadavg()[0]]
    print(f"kernel: {skinny_gemm.kernel()}, {skinny_gemm.num_threads()} thread(s); load average {load[0]:.2f}")
    rng = np.random.default_rng(0)
    peak = peak_rate(rng)
    print(f"np.matmul complex64 2048^3: {peak / 1e9:.1f} GFLOP/s")
    sweep = [] if args.quick else sweep_shapes()
    bufs = Buffers(ENGINE_SHAPES + sweep, rng)
    engine_rows = []
    for shape in ENGINE_SHAPES:
        engine_rows.append(time_shape(*shape, repeat, peak, bufs))
        print_row(engine_rows[-1])
    sweep_rows = []
    if not args.quick:
        print("sweep (the dispatch limits opened: every shape runs on the kernel):")
        limits = skinny_gemm.MAX_SMALL, skinny_gemm.MIN_LONG
        skinny_gemm.MAX_SMALL, skinny_gemm.MIN_LONG = 1 << 10, 1
        try:
            for shape in sweep:
                sweep_rows.append(time_shape(*shape, max(3, repeat - 2), peak, bufs))
                print_row(sweep_rows[-1])
        finally:
            skinny_gemm.MAX_SMALL, skinny_gemm.MIN_LONG = limits
    load.append(os.getloadavg()[0])
    print(f"load average {load[0]:.2f} -> {load[1]:.2f}")
    if not args.no_write:
        common.write_results("skinny_gemm", {
            "kernel": skinny_gemm.kernel(), "threads": skinny_gemm.num_threads(),
            "stream": skinny_gemm.STREAM, "prefetch": skinny_gemm.PREFETCH,
            "matmul_2048_gflops": peak / 1e9, "repeat": repeat, "engine_shapes": engine_rows,
            "sweep": sweep_rows, "load_average": {"start": load[0], "end": load[1]},
            "limits": {"MAX_SMALL": skinny_gemm.MAX_SMALL, "MIN_LONG": skinny_gemm.MIN_LONG},
            "note": "measured on a 2-core VM shared with other jobs; see load_average"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
