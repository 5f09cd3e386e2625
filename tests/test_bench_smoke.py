"""Smoke tests of the benchmark scripts: they run, and they write what they promise.

``bench/report.py`` runs on a small synthetic results folder; ``bench/amplitudes.py
--tiny`` runs one 12-qubit circuit in a subprocess. quimb, qsimcirq and matplotlib
come with the ``bench`` extra, which CI does not install: the scripts then skip those
tools (and the plots) with a printed reason, and these tests accept that.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path


ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
HAS_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

MACHINE = {
    "cpu": "Synthetic CPU", "cores": 2, "memory_bytes": 8 << 30, "os": "Linux", "python": "3.11.0",
    "blas": "openblas 0.3 (2 threads)", "env": {},
    "versions": {"qtn": "0.1.0", "numpy": "2.0", "quimb": "1.15.0", "qsimcirq": None},
}


def _amp_row(circuit, qubits, tool, total, flops=None, family="grid", depth=12):
    return {
        "circuit": circuit, "family": family, "qubits": qubits, "depth": depth, "tool": tool,
        "plan_s": None if flops is None else total / 2, "contract_s": total / 2 if flops else total,
        "total_s": total, "runs": 3, "flops": flops, "width": 20.0 if flops else None,
        "gflops": flops / (total / 2) / 1e9 if flops else None, "matmul_fraction": 0.4 if flops else None,
        "amplitude_real": 1e-3, "amplitude_imag": -2e-3, "rel_err": 1e-6, "reference": "qsimcirq",
    }


def _write_results(folder: Path) -> None:
    folder.mkdir(parents=True)
    old = {"benchmark": "amplitudes", "timestamp_utc": "20240101T000000Z", "machine": MACHINE,
           "rows": [_amp_row("grid4x5-d12", 20, "qtn", 999.0, 1e9)], "targets": []}
    rows = []
    for n, scale in ((16, 1), (20, 4), (25, 30)):
        rows += [_amp_row(f"grid-{n}", n, "qtn", 0.1 * scale, 1e9 * scale),
                 _amp_row(f"grid-{n}", n, "quimb", 0.2 * scale, 1e9 * scale),
                 _amp_row(f"grid-{n}", n, "qsimcirq", 0.05 * 2 ** (n - 16)),
                 _amp_row(f"grid-{n}", n, "cirq", 0.3 * 2 ** (n - 16))]
    new = {"benchmark": "amplitudes", "timestamp_utc": "20250101T000000Z", "machine": MACHINE,
           "matmul": {"n": 2048, "gflops": 80.0, "gflops_end": 82.0}, "settings": {"repeat": 3},
           "rows": rows,
           "targets": [{"name": "(b) speed-up", "value": 60.0, "target": ">= 50", "passed": True, "detail": "x"},
                       {"name": "(a) ratio", "value": None, "target": "<= 1", "passed": None, "detail": "skipped"}]}
    gemm = {"benchmark": "gemm", "timestamp_utc": "20250101T000000Z", "machine": MACHINE,
            "rows": [{"backend": b, "m": s, "k": s, "n": s, "gflops": g * s / 1024, "seconds": 0.1}
                     for b, g in (("numpy", 80.0), ("opencl", 20.0)) for s in (256, 512, 1024)]
            + [{"backend": "hls", "m": 512, "k": 512, "n": 512, "gflops": 5.0, "seconds": 1.0, "modelled": True}]}
    (folder / "amplitudes-20240101T000000Z.json").write_text(json.dumps(old))
    (folder / "amplitudes-20250101T000000Z.json").write_text(json.dumps(new))
    (folder / "gemm-20250101T000000Z.json").write_text(json.dumps(gemm))
    (folder / "broken-20250101T000000Z.json").write_text("{not json")
    # no qaoa results: the report must say so and carry on


def test_report_on_synthetic_results(tmp_path):
    results, out = tmp_path / "results", tmp_path / "out"
    _write_results(results)
    proc = subprocess.run([sys.executable, str(BENCH / "report.py"), "--results", str(results), "--out", str(out)],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    report = (out / "REPORT.md").read_text()
    # the latest amplitudes file wins over the older one
    assert "amplitudes-20250101T000000Z.json" in report
    assert "999.000" not in report
    assert "Synthetic CPU" in report and "quimb 1.15.0" in report
    assert "PASS" in report and "SKIP" in report
    assert "No results for `qaoa`" in report
    assert "modelled" in report  # the modelled hls row is marked
    assert "broken-20250101T000000Z.json" in report  # unreadable file noted, not fatal
    # the headline table goes to stdout for the README
    assert "| circuit | qubits |" in proc.stdout
    if HAS_MATPLOTLIB:
        plots = sorted((out / "plots").glob("*.png"))
        names = {p.name for p in plots}
        assert "gemm_gflops.png" in names and "amplitudes_time_vs_qubits_d12.png" in names
        for p in plots:
            assert p.read_bytes()[:8] == PNG_MAGIC
            assert f"plots/{p.name}" in report
        assert not (out / "plots" / "qaoa_time_vs_n.png").exists()
    else:
        assert "matplotlib is not installed" in report


def _run_tiny(tmp_path: Path, *, hide: tuple[str, ...] = ()) -> tuple[subprocess.CompletedProcess, dict]:
    """Run ``bench/amplitudes.py --tiny`` in a fresh interpreter; ``hide`` makes modules unimportable there."""
    results = tmp_path / "results"
    argv = [str(BENCH / "amplitudes.py"), "--tiny", "--results", str(results)]
    code = ("import runpy, sys\n"
            f"for m in {list(hide)!r}: sys.modules[m] = None\n"
            f"sys.argv = {argv!r}\n"
            f"runpy.run_path({argv[0]!r}, run_name='__main__')\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    files = list(results.glob("amplitudes-*.json"))
    assert len(files) == 1
    return proc, json.loads(files[0].read_text())


def test_amplitudes_tiny(tmp_path):
    proc, record = _run_tiny(tmp_path)
    rows = record["rows"]
    tools = {r["tool"] for r in rows if r["family"] == "grid"}
    assert {"qtn", "qtn-auto", "cirq"} <= tools
    for module, optional in (("quimb", {"quimb", "quimb@qtn-tree"}), ("qsimcirq", {"qsimcirq"})):
        if importlib.util.find_spec(module) is None:  # CI: only the test extras are installed
            assert f"{module} is not importable" in proc.stdout
        else:
            assert optional <= tools
    for r in rows:
        assert r["rel_err"] is not None and r["rel_err"] < 1e-3, r
        assert r["total_s"] > 0
    assert {r["qubits"] for r in rows if r["family"] == "grid"} == {12}
    names = [t["name"] for t in record["targets"]]
    assert any(n.startswith("(c)") for n in names) and any(n.startswith("(b)") for n in names)
    assert "| circuit | qubits | tool |" in proc.stdout
    # each verdict follows from its value and target, and is printed as recorded
    for t in record["targets"]:
        verdict = "SKIP" if t["passed"] is None else ("PASS" if t["passed"] else "MISS")
        if t["passed"] is not None:
            op, bound = t["target"].split()[:2]
            assert op in ("<=", ">="), t
            assert t["passed"] == (t["value"] <= float(bound) if op == "<=" else t["value"] >= float(bound)), t
        lines = [line for line in proc.stdout.splitlines() if t["name"] in line and "target" in line]
        assert lines and all(verdict in line for line in lines), (t, lines)


def test_amplitudes_tiny_without_bench_extra(tmp_path):
    """As CI runs it: quimb and qsimcirq missing are skipped with a reason, the rest still comes out."""
    proc, record = _run_tiny(tmp_path, hide=("quimb", "quimb.tensor", "qsimcirq"))
    assert "quimb is not importable" in proc.stdout and "qsimcirq is not importable" in proc.stdout
    assert {r["tool"] for r in record["rows"] if r["family"] == "grid"} == {"qtn", "qtn-auto", "cirq"}
    assert {s["tool"] for s in record["skipped"]} == {"quimb", "quimb@qtn-tree", "qsimcirq"}


def test_report_without_matplotlib(tmp_path):
    """Without matplotlib the report is still written, with a note where each plot would be."""
    results, out = tmp_path / "results", tmp_path / "out"
    _write_results(results)
    argv = [str(BENCH / "report.py"), "--results", str(results), "--out", str(out)]
    code = ("import runpy, sys\n"
            "sys.modules['matplotlib'] = None\n"
            f"sys.argv = {argv!r}\n"
            f"runpy.run_path({argv[0]!r}, run_name='__main__')\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    report = (out / "REPORT.md").read_text()
    assert "matplotlib is not installed" in report
    assert not (out / "plots").exists()


def test_mqt_suite_runs_or_names_the_missing_package():
    """One suite circuit at each level, checked against Qiskit's Statevector; without the
    bench extra the script says what to install."""
    proc = subprocess.run(
        [sys.executable, str(BENCH / "mqt_suite.py"), "--benchmarks", "ghz,qft", "--sizes", "4",
         "--repeat", "1", "--no-write"], capture_output=True, text=True, timeout=300, cwd=ROOT)
    if importlib.util.find_spec("mqt") is None or importlib.util.find_spec("mqt.bench") is None:
        assert proc.returncode == 2 and "mqt.bench is not installed" in proc.stderr
        return
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "6 circuits" in proc.stdout and "STATES DISAGREE" not in proc.stderr
