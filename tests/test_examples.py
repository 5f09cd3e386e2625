"""Smoke test: every example runs to the end and exits 0 (each checks its own numbers)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SYCAMORE = EXAMPLES.parents[1] / "shared" / "circuits" / "circuit_n53_m10_s0_e0_pABCDCDAB.qsim"

# example -> modules it cannot run without (optional ones, like qsimcirq, it skips itself)
NEEDS = {
    "dask_cluster.py": ["dask.distributed"],
}


def _missing(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is None
    except ModuleNotFoundError:
        return True


@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.glob("*.py")))
def test_example_runs(example):
    missing = [m for m in NEEDS.get(example, []) if _missing(m)]
    if missing:
        pytest.skip(f"{example} needs {', '.join(missing)}, which is not installed")
    if example == "sycamore_amplitude.py" and not SYCAMORE.is_file():
        pytest.skip(f"{example} needs the circuit file {SYCAMORE}, which is not in this checkout")
    done = subprocess.run([sys.executable, str(EXAMPLES / example)], capture_output=True, text=True,
                          timeout=120, cwd=EXAMPLES.parent)
    assert done.returncode == 0, f"{example} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    assert done.stdout.strip(), f"{example} printed nothing"
