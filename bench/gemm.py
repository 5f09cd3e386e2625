"""GEMM rate per backend, and host<->device traffic of whole amplitudes.

Part 1, GEMMs. For every shape, the complex product ``(batch, m, k) @ (batch, k, n)``
runs on:

* ``numpy``  ``np.matmul`` on host arrays (the machine's BLAS): the reference rate;
* ``opencl`` the OpenCL kernel (``qtn.get_backend("opencl")``, or ``--device``) on
             operands already in device buffers: each timed call is ``matmul`` then
             ``synchronize()``, so kernel time (and the result buffer's allocation) is
             measured and transfers are not. Uploading the operands (``to_device``) and
             downloading the result (``to_host``) are timed on their own and reported as
             GB/s; like those calls, each includes allocating its destination;
* ``hls``    the FPGA kernel's C++ in C simulation (g++ on this CPU, one thread): a CPU
             measurement of the board's code, not a board time.

GFLOP/s = 8 real flops per complex multiply-add x batch*m*k*n / median seconds. The
backends of one shape are timed in alternating rounds (``--repeat`` rounds after a
warm-up; the median of each), so a change of machine load falls on all of them alike;
a warm-up longer than ``LONG_RUN_S`` is the only run. Every product is checked against
NumPy's (relative Frobenius error).

Part 2, amplitudes end to end. One amplitude of a grid random circuit
(``cirq.experiments.random_rotations_between_grid_interaction_layers_circuit``) is
planned once (under the smallest memory budget of the backends, so all run the same
plan) and contracted on each backend: seconds are the median wall time of
``qtn.execute.contract`` (uploads, every step, downloads). Then, on one run per
backend after ``reset_stats()``, ``stats()`` gives the bytes moved, compared with the
plan's: input bytes = sum over ``plan.inputs`` of elements x itemsize, times
``n_slices`` (every slice uploads its inputs); output bytes = the result's elements x
itemsize; ratio = (bytes to device + bytes to host) / (input + output bytes).

Targets (PASS / MISS, or SKIP when not measured in this run):

* the OpenCL kernel reaches >= 30 % of NumPy's complex64 matmul GFLOP/s at 1024^3 and 2048^3;
* the 25-qubit amplitude on OpenCL moves <= 2x the bytes of its input tensors plus its output.

Usage::

    python bench/gemm.py --quick                  # a minute or two: 20-qubit amplitude
    python bench/gemm.py                          # full: more repeats, 20- and 25-qubit amplitudes
    python bench/gemm.py --sizes 512,1024,65536x4x4,64x64x64x64 --repeat 5
    python bench/gemm.py --device 0               # an OpenCL device by index or name (e.g. a GPU)
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

import cirq
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402  (bench/common.py, next to this script)

import qtn  # noqa: E402
from qtn.compiler import compile_circuit as prepare  # noqa: E402
from qtn.ket import open_network  # noqa: E402
from qtn.execute import contract  # noqa: E402
from qtn.planning import MemoryLimit, plan_network  # noqa: E402

ALL_BACKENDS = ("numpy", "opencl", "hls")
SQUARES = (64, 128, 256, 512, 1024, 2048)
#: (batch, m, k, n) of products contractions produce: tall-skinny, tiny-k, batched.
SKINNY = ((1, 65536, 4, 4), (1, 16384, 16, 4), (1, 4096, 64, 64), (1, 2, 4096, 2), (64, 64, 64, 64))
#: complex128 runs at these shapes only ("a couple of sizes").
C128 = ((1, 256, 256, 256), (1, 1024, 1024, 1024), (1, 4096, 64, 64))
#: A timed call longer than this is measured once (its warm-up is the measurement).
LONG_RUN_S = 20.0
#: Timed runs of a shape whose whole round takes under CHEAP_ROUND_S: at least CHEAP_REPEAT.
CHEAP_ROUND_S = 0.05
CHEAP_REPEAT = 15
#: Products must agree with NumPy's to this relative Frobenius error.
RTOL = {np.dtype(np.complex64): 1e-4, np.dtype(np.complex128): 1e-12}
#: Amplitudes must agree with the numpy backend's to this fraction of their magnitude.
RTOL_AMPLITUDE = 1e-3
#: Targets: OpenCL / NumPy complex64 GFLOP/s at these sizes; bytes-moved ratio at this width.
RATE_TARGET, RATE_SIZES = 0.30, (1024, 2048)
BYTES_TARGET, BYTES_QUBITS = 2.0, 25
GRID_SHAPES = {16: (4, 4), 20: (4, 5), 24: (4, 6), 25: (5, 5), 30: (5, 6)}


# ----------------------------------------------------------------------------- timing


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    t0 = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - t0


def interleaved(fns: dict[str, Callable[[], Any]], repeat: int) -> dict[str, tuple[Any, float, int, float]]:
    """Warm each function up (its value is returned), then time ``repeat`` alternating rounds.

    Returns ``name -> (warm-up value, median seconds, timed runs, fastest seconds)``. A
    function whose warm-up took longer than ``LONG_RUN_S`` is not run again: its warm-up
    is its time.
    """
    values, first = {}, {}
    for name, fn in fns.items():
        values[name], first[name] = timed(fn)
    again = {name: fn for name, fn in fns.items() if first[name] <= LONG_RUN_S}
    # a second warm-up: the first may have built a kernel (OpenCL programs, the HLS library)
    for fn in again.values():
        fn()
    rounds = repeat
    if again and sum(first[n] for n in again) < CHEAP_ROUND_S:
        rounds = max(repeat, CHEAP_REPEAT)
    times: dict[str, list[float]] = {name: [] for name in again}
    for _ in range(rounds):
        for name, fn in again.items():
            times[name].append(common.median_time(fn, repeat=1, warmup=0)[0])
    times.update({name: [first[name]] for name in fns if name not in again})
    return {name: (values[name], statistics.median(times[name]), len(times[name]), min(times[name]))
            for name in fns}


# ----------------------------------------------------------------------------- backends


def start_backends(names: list[str], device: str | None) -> tuple[dict[str, qtn.Backend], list[str]]:
    """The backends that start here (and why the others did not)."""
    started, notes = {}, []
    for name in names:
        key = f"opencl:{device}" if name == "opencl" and device is not None else name
        try:
            started[name] = qtn.get_backend(key)
        except (qtn.BackendUnavailableError, ValueError) as err:
            if name == "opencl" and device is not None:  # asked for by name: no silent fallback
                raise SystemExit(f"--device {device}: {err}") from None
            notes.append(f"{name}: not started ({err})")
    return started, notes


def describe_opencl(backend: Any) -> dict[str, Any]:
    """Device, platform, kind and size facts of the OpenCL backend in use."""
    from qtn.backends import opencl_tiles
    from qtn.backends.opencl import _kernel_source, _kind

    dev = backend.device
    return {
        "name": backend.name,
        "device": dev.name.strip(),
        "platform": f"{dev.platform.name.strip()} {dev.platform.version.strip()}",
        "type": _kind(backend._cl, dev),
        "driver": dev.driver_version.strip(),
        "compute_units": int(dev.max_compute_units),
        "global_mem_bytes": int(dev.global_mem_size),
        "fp64": bool(dev.double_fp_config),
        "tiles_complex64": backend.tile_config(np.dtype(np.complex64)),
        # the per-device tile search behind those tiles (measured on this machine)
        "tuning_complex64": opencl_tiles.tuning_record(dev, np.dtype(np.complex64), _kernel_source()),
    }


# ----------------------------------------------------------------------------- GEMMs


def operands(shape: tuple[int, int, int, int], dtype: np.dtype, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    batch, m, k, n = shape
    rng = np.random.default_rng(seed)
    lead = (batch,) if batch > 1 else ()

    def rand(*s):
        return (rng.standard_normal(lead + s, dtype=np.float32)
                + 1j * rng.standard_normal(lead + s, dtype=np.float32)).astype(dtype)

    return rand(m, k), rand(k, n)


def rel_err(got: np.ndarray, ref: np.ndarray) -> float:
    scale = float(np.linalg.norm(ref.ravel()))
    return float(np.linalg.norm((np.asarray(got).reshape(ref.shape) - ref).ravel())) / (scale or 1.0)


def bench_shape(backends: dict[str, qtn.Backend], shape: tuple[int, int, int, int], dtype: np.dtype,
                repeat: int) -> tuple[list[dict], dict | None, list[str]]:
    """GEMM rows (one per backend), the OpenCL transfer row, and any disagreements."""
    batch, m, k, n = shape
    flops = 8.0 * batch * m * k * n
    a, b = operands(shape, dtype)
    fns: dict[str, Callable[[], Any]] = {}
    transfer = None
    skipped: dict[str, str] = {}
    for name, be in backends.items():
        if name == "numpy":
            fns[name] = lambda: np.matmul(a, b)
        elif name == "opencl":
            try:
                be._check_dtype(np.dtype(dtype))
            except TypeError as err:
                skipped[name] = str(err)
                continue
            da, db = be.to_device(a), be.to_device(b)

            def run_cl(be=be, da=da, db=db):
                out = be.matmul(da, db)
                be.synchronize()
                return out

            fns[name] = run_cl
            transfer = (be, da, db)
        else:  # hls: host arrays; its "device" is this CPU
            da, db = be.to_device(a), be.to_device(b)
            fns[name] = lambda be=be, da=da, db=db: be.matmul(da, db)
    results = interleaved(fns, repeat)
    ref = results["numpy"][0] if "numpy" in results else np.matmul(a, b)
    rows, bad = [], []
    for name, (value, sec, runs, best) in results.items():
        be = backends[name]
        host = be.to_host(value) if name == "opencl" else np.asarray(value)
        err = 0.0 if name == "numpy" else rel_err(host, ref)
        if err > RTOL[np.dtype(dtype)]:
            bad.append(f"{name} {dtype.name} {shape}: relative error {err:.2e} > {RTOL[np.dtype(dtype)]:.0e}")
        rows.append({"backend": name, "dtype": np.dtype(dtype).name, "m": m, "k": k, "n": n, "batch": batch,
                     "seconds": sec, "gflops": flops / sec / 1e9, "runs": runs,
                     "best_seconds": best, "best_gflops": flops / best / 1e9, "rel_err": err,
                     "device": be.name})
    for name, why in skipped.items():
        print(f"  ({name} skipped at {dtype.name}: {why})")
    transfer_row = None
    if transfer is not None:
        be, da, db = transfer
        c = results["opencl"][0]
        up_s, _ = common.median_time(lambda: (be.to_device(a), be.to_device(b)), repeat=max(3, repeat), warmup=1)
        down_s, _ = common.median_time(lambda: be.to_host(c), repeat=max(3, repeat), warmup=1)
        up_bytes, down_bytes = a.nbytes + b.nbytes, c.nbytes
        transfer_row = {"backend": "opencl", "dtype": np.dtype(dtype).name, "m": m, "k": k, "n": n, "batch": batch,
                        "upload_bytes": up_bytes, "upload_seconds": up_s, "upload_gbs": up_bytes / up_s / 1e9,
                        "download_bytes": down_bytes, "download_seconds": down_s,
                        "download_gbs": down_bytes / down_s / 1e9,
                        "kernel_seconds": results["opencl"][1],
                        "transfer_fraction": (up_s + down_s) / (up_s + down_s + results["opencl"][1])}
        be.reset_stats()
    return rows, transfer_row, bad


# ----------------------------------------------------------------------------- amplitudes


def grid_circuit(rows_: int, cols: int, depth: int, seed: int) -> cirq.Circuit:
    return cirq.experiments.random_rotations_between_grid_interaction_layers_circuit(
        cirq.GridQubit.rect(rows_, cols), depth, seed=seed)


def bench_amplitude(backends: dict[str, qtn.Backend], grid: tuple[int, int], depth: int, seed: int,
                    repeat: int, max_memory: int | None) -> tuple[list[dict], list[str]]:
    """One amplitude of a grid circuit on every backend, along one shared plan."""
    rows_, cols = grid
    nq = rows_ * cols
    circuit = grid_circuit(rows_, cols, depth, seed)
    bits = [0] * nq
    dtype = np.dtype(np.complex64)
    t0 = time.perf_counter()
    ct = prepare(circuit, None, None, dtype)
    net = open_network(ct, (), bits).simplified().canonical()
    prepare_s = time.perf_counter() - t0
    budget = min(be.memory_budget() for be in backends.values())
    limit = MemoryLimit(budget, "the smallest memory budget of the backends run")
    t0 = time.perf_counter()
    plan = plan_network(net, memory_budget=max_memory or budget, peak_limit=limit)
    plan_s = time.perf_counter() - t0
    print(f"\n{rows_}x{cols} grid, depth {depth}, seed {seed} ({nq} qubits): prepare {prepare_s:.2f} s, "
          f"plan {plan_s:.2f} s ({plan.method}); {plan.flops:.3g} flops, width {plan.width:.1f}, "
          f"{plan.n_slices} slice(s), {len(plan.steps)} steps")

    input_bytes = sum(math.prod(plan.size_dict[i] for i in ix) for ix in plan.inputs) * plan.itemsize * plan.n_slices
    output_bytes = math.prod(plan.size_dict[o] for o in plan.output) * plan.itemsize
    input_bytes_once = sum(a.nbytes for a in net.arrays)  # the network's tensors, unsliced

    fns = {name: (lambda be=be: complex(np.asarray(contract(net, plan, be)).reshape(())))
           for name, be in backends.items()}
    results = interleaved(fns, repeat)
    ref_name = "numpy" if "numpy" in results else next(iter(results))
    ref = results[ref_name][0]
    out, bad = [], []
    for name, (amp, sec, runs, best) in results.items():
        be = backends[name]
        be.reset_stats()
        contract(net, plan, be)
        st = be.stats()
        to_dev, to_host = st.get("bytes_to_device"), st.get("bytes_to_host")
        moved = None if to_dev is None or to_host is None else to_dev + to_host
        err = abs(amp - ref) / (abs(ref) or 1.0)
        if err > RTOL_AMPLITUDE:
            bad.append(f"{name} {nq} qubits depth {depth}: amplitude {amp:.6g} vs {ref_name} {ref:.6g} "
                       f"(relative error {err:.2e})")
        out.append({
            "backend": name, "device": be.name, "qubits": nq, "grid": f"{rows_}x{cols}", "depth": depth,
            "seed": seed, "seconds": sec, "runs": runs, "best_seconds": best, "prepare_seconds": prepare_s,
            "plan_seconds": plan_s,
            "plan_method": plan.method, "flops": plan.flops, "gflops": plan.flops / sec / 1e9,
            "n_slices": plan.n_slices, "bytes_to_device": to_dev, "bytes_to_host": to_host,
            "input_bytes": input_bytes, "output_bytes": output_bytes, "input_bytes_once": input_bytes_once,
            "ratio": None if moved is None else moved / (input_bytes + output_bytes),
            "amplitude_real": amp.real, "amplitude_imag": amp.imag, "rel_err": err,
        })
    return out, bad


# ----------------------------------------------------------------------------- targets and output


def fmt(x, spec=".3g", none="–"):
    return none if x is None or (isinstance(x, float) and math.isnan(x)) else format(x, spec)


def targets(rows: list[dict], e2e: list[dict]) -> list[dict]:
    out = []

    def rate(backend, s):
        return next((r["gflops"] for r in rows if r["backend"] == backend and r["dtype"] == "complex64"
                     and r["batch"] == 1 and r["m"] == r["k"] == r["n"] == s), None)

    for s in RATE_SIZES:
        name = f"OpenCL kernel / NumPy complex64 matmul GFLOP/s at {s}^3"
        cl, np_ = rate("opencl", s), rate("numpy", s)
        if cl is None or np_ is None:
            out.append({"name": name, "value": None, "target": f">= {RATE_TARGET}", "passed": None,
                        "detail": f"not measured ({s}^3 with both numpy and opencl not in this run)"})
        else:
            v = cl / np_
            out.append({"name": name, "value": v, "target": f">= {RATE_TARGET}", "passed": v >= RATE_TARGET,
                        "detail": f"opencl {cl:.1f} GFLOP/s vs numpy {np_:.1f} GFLOP/s, alternating rounds"})
    name = f"{BYTES_QUBITS}-qubit amplitude on OpenCL: bytes moved / (input + output bytes)"
    r = next((r for r in e2e if r["backend"] == "opencl" and r["qubits"] == BYTES_QUBITS and r["ratio"] is not None),
             None)
    if r is None:
        out.append({"name": name, "value": None, "target": f"<= {BYTES_TARGET}", "passed": None,
                    "detail": f"not measured (no {BYTES_QUBITS}-qubit circuit on opencl in this run; "
                              "run without --quick, or with --grids 5x5)"})
    else:
        out.append({"name": name, "value": r["ratio"], "target": f"<= {BYTES_TARGET}",
                    "passed": r["ratio"] <= BYTES_TARGET,
                    "detail": f"{r['bytes_to_device']} B up + {r['bytes_to_host']} B down vs inputs "
                              f"{r['input_bytes']} B ({r['n_slices']} slice(s)) + output {r['output_bytes']} B"})
    return out


def print_tables(rows: list[dict], transfers: list[dict], e2e: list[dict], ts: list[dict]) -> None:
    numpy_rate = {(r["dtype"], r["batch"], r["m"], r["k"], r["n"]): r["gflops"] for r in rows
                  if r["backend"] == "numpy"}
    print("\n## GEMM (median seconds; GFLOP/s = 8*batch*m*k*n / s; % of NumPy at the same shape; "
          "best = fastest run)\n")
    print("| dtype | batch | m | k | n | backend | seconds | GFLOP/s | % numpy | best GFLOP/s | runs | rel. err |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        ref = numpy_rate.get((r["dtype"], r["batch"], r["m"], r["k"], r["n"]))
        pct = None if ref is None or r["backend"] == "numpy" else 100 * r["gflops"] / ref
        print(f"| {r['dtype']} | {r['batch']} | {r['m']} | {r['k']} | {r['n']} | {r['backend']} | "
              f"{r['seconds']:.3e} | {r['gflops']:.1f} | {fmt(pct, '.0f')} | {r['best_gflops']:.1f} | {r['runs']} | "
              f"{r['rel_err']:.1e} |")
    if transfers:
        print("\n## OpenCL transfers (not in the GEMM times above; median seconds)\n")
        print("| dtype | batch | m | k | n | up MB | up GB/s | down MB | down GB/s | kernel s | transfers % of total |")
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        for t in transfers:
            print(f"| {t['dtype']} | {t['batch']} | {t['m']} | {t['k']} | {t['n']} | {t['upload_bytes'] / 1e6:.2f} | "
                  f"{t['upload_gbs']:.2f} | {t['download_bytes'] / 1e6:.2f} | {t['download_gbs']:.2f} | "
                  f"{t['kernel_seconds']:.3e} | {100 * t['transfer_fraction']:.0f} |")
    if e2e:
        print("\n## Amplitudes end to end (one shared plan; median seconds of contract(), transfers included)\n")
        print("input B = plan inputs x n_slices; once B = the network's tensors, unsliced; "
              "ratio = (to device + to host) / (input B + output B)\n")
        print("| qubits | depth | backend | seconds | GFLOP/s | slices | B to device | B to host | input B | "
              "output B | ratio | once B | rel. err |")
        print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        for r in e2e:
            print(f"| {r['qubits']} | {r['depth']} | {r['backend']} | {r['seconds']:.4f} | {r['gflops']:.2f} | "
                  f"{r['n_slices']} | {fmt(r['bytes_to_device'], 'd')} | {fmt(r['bytes_to_host'], 'd')} | "
                  f"{r['input_bytes']} | {r['output_bytes']} | {fmt(r['ratio'], '.3f')} | {r['input_bytes_once']} | "
                  f"{r['rel_err']:.1e} |")
    print("\n## Targets\n")
    for t in ts:
        verdict = "SKIP" if t["passed"] is None else ("PASS" if t["passed"] else "MISS")
        print(f"- {verdict}: {t['name']} = {fmt(t['value'], '.3f')} (target {t['target']}) — {t['detail']}")


# ----------------------------------------------------------------------------- main


def parse_shapes(text: str) -> list[tuple[int, int, int, int]]:
    """``1024`` (square), ``MxKxN`` or ``BxMxKxN`` (batched), comma-separated."""
    shapes = []
    for part in filter(None, (p.strip().lower() for p in text.split(","))):
        try:
            dims = [int(x) for x in part.split("x")]
        except ValueError:
            raise SystemExit(f"--sizes: {part!r} is not N, MxKxN or BxMxKxN") from None
        if len(dims) == 1:
            dims = [1, dims[0], dims[0], dims[0]]
        elif len(dims) == 3:
            dims = [1, *dims]
        if len(dims) != 4 or min(dims) < 1:
            raise SystemExit(f"--sizes: {part!r} is not N, MxKxN or BxMxKxN of positive ints")
        shapes.append(tuple(dims))
    return shapes


def parse_grids(text: str) -> list[tuple[int, int]]:
    grids = []
    for part in filter(None, (p.strip().lower() for p in text.split(","))):
        if "x" in part:
            r, c = part.split("x")
            grids.append((int(r), int(c)))
        elif int(part) in GRID_SHAPES:
            grids.append(GRID_SHAPES[int(part)])
        else:
            raise SystemExit(f"--grids: give RxC (e.g. 5x5) or one of {sorted(GRID_SHAPES)} qubits, not {part!r}")
    return grids


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="a minute or two: fewer repeats, a 20-qubit amplitude")
    p.add_argument("--sizes", help="GEMM shapes: N (square), MxKxN or BxMxKxN, comma-separated "
                                   "(default: squares 64..2048 and the tall-skinny/batched set)")
    p.add_argument("--c128-sizes", help="complex128 shapes, same syntax ('' for none; default 256,1024,4096x64x64)")
    p.add_argument("--repeat", type=int, help="timed rounds after the warm-up (default 3 quick, 7 full)")
    p.add_argument("--device", help="OpenCL device: index or name substring (default: the backend's choice)")
    p.add_argument("--backends", default=",".join(ALL_BACKENDS), help="comma-separated subset of numpy,opencl,hls")
    p.add_argument("--grids", help="amplitude circuits: RxC or qubit counts (default 4x5 quick; 4x5,5x5 full; "
                                   "'' for none)")
    p.add_argument("--depth", type=int, default=12)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-memory", type=int, help="bytes per intermediate of the amplitude plans (forces slicing)")
    p.add_argument("--numpy-threads", type=int, help="limit NumPy's BLAS to this many threads (threadpoolctl); "
                                                      "default: BLAS's own choice")
    p.add_argument("--no-write", action="store_true", help="do not write a results file")
    p.add_argument("--machine-note", default="", help="recorded in the results, e.g. 'shared: other jobs running'")
    args = p.parse_args(argv)
    args.mode = "quick" if args.quick else "full"
    if args.repeat is None:
        args.repeat = 3 if args.quick else 7
    if args.repeat < 1:
        raise SystemExit("--repeat must be at least 1")
    if args.sizes is not None:
        args.shapes = parse_shapes(args.sizes)
    else:
        args.shapes = [(1, s, s, s) for s in SQUARES] + list(SKINNY)
    args.shapes128 = list(C128) if args.c128_sizes is None else parse_shapes(args.c128_sizes)
    args.grid_list = parse_grids(args.grids if args.grids is not None else ("4x5" if args.quick else "4x5,5x5"))
    args.backend_list = [b.strip() for b in args.backends.split(",") if b.strip()]
    bad = [b for b in args.backend_list if b not in ALL_BACKENDS]
    if bad:
        raise SystemExit(f"--backends: unknown {bad}; choose from {', '.join(ALL_BACKENDS)}")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.numpy_threads is None:
        return run(args)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        raise SystemExit("--numpy-threads needs threadpoolctl (pip install -e '.[bench]')") from None
    with threadpool_limits(limits=args.numpy_threads, user_api="blas"):
        return run(args)


def run(args: argparse.Namespace) -> int:
    t_start = time.perf_counter()
    info = common.machine_info()
    common.print_machine(info)
    load0 = os.getloadavg()
    backends, notes = start_backends(args.backend_list, args.device)
    for note in notes:
        print(f"note: {note}")
    if not backends:
        print("no backend started", file=sys.stderr)
        return 2
    opencl_info = describe_opencl(backends["opencl"]) if "opencl" in backends else None
    if opencl_info:
        print(f"OpenCL device: {opencl_info['device']} ({opencl_info['type']}, {opencl_info['compute_units']} "
              f"compute units) on platform {opencl_info['platform']}; driver {opencl_info['driver']}")
        print(f"OpenCL complex64 tiles: {opencl_info['tiles_complex64']}")
    if "hls" in backends:
        print(f"HLS: {backends['hls'].name} kernel in C simulation (g++ -O3 -march=native, one thread): "
              "CPU times of the board's C++, not board times")
    print(f"mode {args.mode}; repeat {args.repeat}; load average {load0[0]:.2f}"
          + (f"; NumPy BLAS limited to {args.numpy_threads} thread(s)" if args.numpy_threads else ""))

    rows, transfers, bad = [], [], []
    jobs = [(s, np.dtype(np.complex64)) for s in args.shapes] + [(s, np.dtype(np.complex128)) for s in args.shapes128]
    for shape, dtype in jobs:
        r, t, b = bench_shape(backends, shape, dtype, args.repeat)
        rows += r
        transfers += [t] if t else []
        bad += b
        batch, m, k, n = shape
        print(f"{dtype.name:10s} {batch:3d} x {m:6d} x {k:5d} x {n:5d}: "
              + ", ".join(f"{x['backend']} {x['gflops']:7.1f}" for x in r) + " GFLOP/s")

    e2e = []
    for grid in args.grid_list:
        r, b = bench_amplitude(backends, grid, args.depth, args.seed, args.repeat, args.max_memory)
        e2e += r
        bad += b
        for x in r:
            print(f"  {x['backend']:7s} {x['seconds']:.4f} s  {x['gflops']:6.2f} GFLOP/s  "
                  f"up {fmt(x['bytes_to_device'])} B  down {fmt(x['bytes_to_host'])} B  ratio {fmt(x['ratio'], '.3f')}")

    ts = targets(rows, e2e)
    load1 = os.getloadavg()
    print(f"\nload average {load0[0]:.2f} -> {load1[0]:.2f}; wall {time.perf_counter() - t_start:.0f} s")
    print_tables(rows, transfers, e2e, ts)
    payload = {
        "mode": args.mode,
        "settings": {"repeat": args.repeat, "long_run_s": LONG_RUN_S, "depth": args.depth, "seed": args.seed,
                     "max_memory": args.max_memory, "numpy_threads": args.numpy_threads,
                     "flops_per_complex_mac": 8},
        "opencl": opencl_info,
        "backends": {name: be.name for name, be in backends.items()},
        "notes": notes,
        "load_average": {"start": load0[0], "end": load1[0]},
        "machine_note": args.machine_note,
        "rows": rows,
        "transfers": transfers,
        "end_to_end": e2e,
        "targets": ts,
        "disagreements": bad,
        "wall_s": time.perf_counter() - t_start,
    }
    if not args.no_write:
        common.write_results("gemm", payload)
    if bad:
        print("\nRESULTS DISAGREE:\n" + "\n".join(bad), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
