"""Shared pieces of the benchmarks: machine facts, timing, and the results files.

Every benchmark prints the machine and versions with its figures and writes one JSON
file to ``bench/results/<name>-<UTC timestamp>.json`` (``bench/report.py`` reads them).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import statistics
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

RESULTS_DIR = Path(__file__).resolve().parent / "results"

_PACKAGES = ("qtn", "numpy", "cotengra", "opt_einsum", "kahypar", "cirq-core", "quimb", "qsimcirq",
             "pyopencl", "pocl-binary-distribution", "dask", "distributed")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _blas() -> str:
    try:
        from threadpoolctl import threadpool_info

        infos = [f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture')}, {i.get('num_threads')} threads)"
                 for i in threadpool_info() if i.get("user_api") == "blas"]
        return "; ".join(infos) or "unknown"
    except ImportError:
        return "unknown (threadpoolctl not installed)"


def machine_info() -> dict[str, Any]:
    """CPU, cores, memory, OS, Python, BLAS and package versions of this run."""
    versions = {}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        mem = None
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_bytes": mem,
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "blas": _blas(),
        "env": {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OMP_NUM_THREADS")},
        "versions": versions,
    }


def print_machine(info: dict[str, Any] | None = None) -> None:
    info = info or machine_info()
    print(f"machine: {info['cpu']}, {info['cores']} cores, {(info['memory_bytes'] or 0) / 2**30:.0f} GiB, {info['os']}")
    print(f"python {info['python']}; BLAS: {info['blas']}")
    print("versions: " + ", ".join(f"{k} {v}" for k, v in info["versions"].items() if v))


def median_time(fn: Callable[[], Any], repeat: int = 3, warmup: int = 1) -> tuple[float, list[float]]:
    """Median wall time of ``fn()`` over ``repeat`` runs after ``warmup`` runs; also all times."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times


def write_results(name: str, payload: dict[str, Any]) -> Path:
    """Write ``payload`` plus machine facts and a timestamp to ``bench/results/``."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS_DIR / f"{name}-{stamp}.json"
    record = {"benchmark": name, "timestamp_utc": stamp, "machine": machine_info(), **payload}
    path.write_text(json.dumps(record, indent=2, default=_jsonable))
    print(f"results written to {path.relative_to(RESULTS_DIR.parent.parent)}")
    return path


def _jsonable(obj: Any) -> Any:
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, complex):
        return {"real": obj.real, "imag": obj.imag}
    return str(obj)


def first_state_vector(circuit: Any, qubit_order: Any) -> Any:
    """``qtn.state_vector`` as a first call in a warm process: nothing compiled, fused
    or planned kept (a fresh plan cache); what a repeated call keeps is put back
    afterwards, so that a cached call timed next stays a repeated call."""
    import qtn
    from qtn import compiler, fusion

    kept = dict(compiler._compiled)
    fusion._cache.clear()
    compiler.clear_compiled()
    try:
        return qtn.state_vector(circuit, qubit_order=qubit_order, plan_cache=qtn.PlanCache())
    finally:
        compiler.clear_compiled()
        compiler._compiled.update(kept)
