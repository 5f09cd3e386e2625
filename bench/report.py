"""Turn the benchmark results into ``bench/REPORT.md`` and PNG plots in ``bench/plots/``.

Reads every ``*.json`` in the results folder (written by ``bench/common.write_results``:
keys ``benchmark``, ``timestamp_utc``, ``machine`` and the benchmark's payload), keeps
the latest file of each benchmark, and writes one section per benchmark: the machine
and versions of that run, what is measured and what is modelled, a table, and a plot.
Known benchmarks:

* ``amplitudes`` (``bench/amplitudes.py``): payload ``rows`` (circuit, family, qubits,
  depth, tool, plan_s, contract_s, total_s, flops, width, gflops, amplitude_real,
  amplitude_imag, ...) and ``targets`` (name, value, target, passed, detail);
  plot: time vs qubits per tool.
* ``gemm``: ``rows`` of backend, m, k, n, gflops, seconds; plot: GFLOP/s vs size per backend.
* ``qaoa``: ``rows`` of tool, n, p, seconds, energy; plot: time vs n per tool.

Any other benchmark gets a generic table of its ``rows``. A missing benchmark gets a
note instead of its section; without matplotlib the report is written without plots.
A row with ``"modelled": true`` (or a ``source`` of ``"model"``) is marked modelled.

Usage::

    python bench/report.py                              # bench/results -> bench/REPORT.md, bench/plots/
    python bench/report.py --results DIR --out DIR      # DIR/REPORT.md, DIR/plots/
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).resolve().parent
KNOWN = ("amplitudes", "gemm", "qaoa")
#: which script writes each known benchmark (for the "missing" notes)
SCRIPTS = {"amplitudes": "bench/amplitudes.py", "gemm": "bench/gemm.py", "qaoa": "bench/qaoa.py"}
#: state-vector / reference tools drawn dashed in the time plots
STATE_VECTOR_TOOLS = {"qsimcirq", "cirq"}


# ----------------------------------------------------------------------------- loading


def load_latest(results: Path) -> tuple[dict[str, dict], list[str]]:
    """The latest record of each benchmark in ``results``, and notes on files skipped."""
    latest: dict[str, tuple[tuple, dict]] = {}
    notes = []
    for path in sorted(results.glob("*.json")):
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError) as err:
            notes.append(f"`{path.name}` skipped: not readable JSON ({err})")
            continue
        if not isinstance(record, dict):
            notes.append(f"`{path.name}` skipped: not a JSON object")
            continue
        name = record.get("benchmark") or path.stem.split("-")[0]
        record.setdefault("benchmark", name)
        record["_file"] = path.name
        key = (str(record.get("timestamp_utc", "")), path.stat().st_mtime, path.name)
        if name not in latest or key > latest[name][0]:
            latest[name] = (key, record)
    return {name: rec for name, (_, rec) in latest.items()}, notes


# ----------------------------------------------------------------------------- formatting


def fmt(x: Any, spec: str = ".3g") -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, int) and (not spec or spec.endswith("g")):
        return str(x)
    if isinstance(x, (int, float)):
        return format(x, spec)
    return str(x)


def table(rows: list[dict], columns: list[tuple[str, str, Callable[[dict], Any] | str]]) -> str:
    """A markdown table; each column is (header, format spec, key or function of the row)."""
    out = ["| " + " | ".join(h for h, _, _ in columns) + " |", "|" + "---|" * len(columns)]
    for r in rows:
        cells = []
        for _, spec, get in columns:
            value = get(r) if callable(get) else r.get(get)
            cells.append(fmt(value, spec).replace("|", "\\|"))
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def is_modelled(row: dict) -> bool:
    return bool(row.get("modelled")) or str(row.get("source", "")).lower() in ("model", "modelled")


def machine_block(record: dict) -> str:
    m = record.get("machine") or {}
    versions = m.get("versions") or {}
    vers = ", ".join(f"{k} {v}" for k, v in versions.items() if v) or "unknown"
    mem = m.get("memory_bytes")
    mem_s = f", {mem / 2**30:.0f} GiB" if mem else ""
    lines = [
        f"*Run:* `{record.get('_file', '?')}` ({record.get('timestamp_utc', 'no timestamp')} UTC)  ",
        f"*Machine:* {m.get('cpu', 'unknown CPU')}, {m.get('cores', '?')} cores{mem_s}, {m.get('os', 'unknown OS')}; "
        f"Python {m.get('python', '?')}; BLAS: {m.get('blas', 'unknown')}  ",
        f"*Versions:* {vers}",
    ]
    return "\n".join(lines)


def verdict(t: dict) -> str:
    return "SKIP" if t.get("passed") is None else ("PASS" if t["passed"] else "MISS")


def targets_block(rec: dict, md: list[str]) -> list[dict]:
    """The record's ``targets`` (name, value, target, passed, detail) as PASS / MISS / SKIP lines."""
    targets = [t for t in rec.get("targets") or [] if isinstance(t, dict)]
    if targets:
        md.append("**Targets**\n")
        for t in targets:
            md.append(f"- **{verdict(t)}** {t.get('name')}: {fmt(t.get('value'))} (target {t.get('target')})"
                      + (f" — {t['detail']}" if t.get("detail") else ""))
        md.append("")
    return targets


def notes_block(rec: dict, md: list[str]) -> None:
    notes = rec.get("notes")
    if isinstance(notes, list) and notes:
        md.append("**Notes from the run**\n")
        md += [f"- {n}" for n in notes]
        md.append("")
    disagreements = rec.get("disagreements")
    if isinstance(disagreements, list) and disagreements:
        md.append("**Results that disagreed with their reference**\n")
        md += [f"- {d}" for d in disagreements]
        md.append("")


def extra_tables(rec: dict, md: list[str], shown: set[str]) -> None:
    """Every other list of flat dicts in the record, as recorded (no interpretation)."""
    for key, value in rec.items():
        if key in shown or key.startswith("_") or not isinstance(value, list) or not value:
            continue
        if not all(isinstance(r, dict) for r in value):
            continue
        cols: list[str] = []
        for r in value:
            cols += [k for k in r if k not in cols and not isinstance(r[k], (dict, list))]
        md.append(f"**`{key}`** (as recorded by the benchmark)\n")
        md.append(table(value, [(k, ".4g", k) for k in cols]) + "\n")


SHOWN = {"benchmark", "timestamp_utc", "machine", "rows", "targets", "notes", "disagreements", "skipped"}


# ----------------------------------------------------------------------------- plots


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        return plt, None
    except ImportError as err:
        return None, f"matplotlib is not installed ({err}), so no plots were drawn; `pip install -e '.[bench]'`"


def line_plot(path: Path, series: "dict[str, list[tuple[float, float]]] | list[dict]", *, title: str, xlabel: str,
              ylabel: str = "", logy: bool = True, logx: bool = False,
              dashed: "set[str] | frozenset[str]" = frozenset()) -> str | None:
    """Draw one line per series, in one panel, or one panel per ``{"series", "ylabel", "title"}``
    dict of a list; returns a note instead of a path when it cannot draw."""
    plt, why = _pyplot()
    if plt is None:
        return why
    panels = series if isinstance(series, list) else [{"series": series, "ylabel": ylabel, "title": ""}]
    panels = [{**p, "series": {k: sorted(v) for k, v in p["series"].items() if v}} for p in panels]
    panels = [p for p in panels if p["series"]]
    if not panels:
        return "no data points to plot"
    fig, axes = plt.subplots(1, len(panels), figsize=(6.5 * len(panels), 4.5), squeeze=False)
    for ax, panel in zip(axes[0], panels):
        for name, pts in sorted(panel["series"].items()):
            xs, ys = zip(*pts)
            ax.plot(xs, ys, "--o" if name in dashed else "-o", label=name, markersize=4)
        if logy:
            ax.set_yscale("log")
        if logx:
            ax.set_xscale("log", base=2)
        else:
            from matplotlib.ticker import MaxNLocator

            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if panel.get("title"):
            ax.set_title(panel["title"], fontsize=10)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(panel.get("ylabel", ylabel))
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return None


def figure(md: list[str], out: Path, name: str, note: str | None, alt: str) -> None:
    if note is None:
        md.append(f"![{alt}](plots/{name})\n")
    else:
        md.append(f"*No plot:* {note}\n")


# ----------------------------------------------------------------------------- sections


def section_amplitudes(rec: dict, out: Path, md: list[str], headline: list[str]) -> None:
    rows = rec.get("rows") or []
    mm = rec.get("matmul") or {}
    settings = rec.get("settings") or {}
    md.append(machine_block(rec) + "\n")
    md.append(
        "*Measured:* every time is wall-clock on this machine: plan seconds (gates to tensors, "
        "simplification, path search), contraction seconds (median of the `runs` timed runs after a warm-up, "
        f"at least {settings.get('repeat', '?')}; a run over {settings.get('long_run_s', '?')} s is "
        "timed once), and for qsimcirq / Cirq / `qtn.Simulator` the whole `compute_amplitudes` call. "
        f"NumPy complex64 matmul at {mm.get('n', '?')}³: {fmt(mm.get('gflops'), '.1f')} GFLOP/s "
        f"(start), {fmt(mm.get('gflops_end'), '.1f')} (end); `% matmul` compares with the matmul rate timed in "
        "the same rounds as that circuit's contractions. "
        f"Load average {fmt((rec.get('load_average') or {}).get('start'), '.2f')} → "
        f"{fmt((rec.get('load_average') or {}).get('end'), '.2f')}.  \n"
        "*Counted, not timed:* flops (real, 8 per complex multiply-add, from the contraction tree) and width "
        "(log2 elements of the largest intermediate); GFLOP/s = flops / contraction seconds. "
        "Nothing here is modelled.  \n"
        f"*Search budget:* qtn and quimb each get `{settings.get('optimizer', '?')}`; `quimb@qtn-tree` is quimb's "
        "engine on qtn's own network and tree (the identical contraction).\n")
    targets = targets_block(rec, md)
    notes_block(rec, md)
    cols = [
        ("circuit", "", "circuit"), ("qubits", "d", "qubits"), ("tool", "", "tool"),
        ("plan s", ".3f", "plan_s"), ("contract s", ".4f", "contract_s"), ("runs", "d", "runs"),
        ("total s", ".3f", "total_s"),
        ("GFLOP", ".3g", lambda r: r["flops"] / 1e9 if r.get("flops") else None),
        ("width", ".1f", "width"), ("GFLOP/s", ".1f", "gflops"),
        ("% matmul", ".0f", lambda r: 100 * r["matmul_fraction"] if r.get("matmul_fraction") else None),
        ("amplitude", "", lambda r: f"{r.get('amplitude_real', 0):.4e}{r.get('amplitude_imag', 0):+.4e}j"),
        ("rel. err", ".1e", "rel_err"),
    ]
    md.append(table(rows, cols) + "\n")
    skipped = rec.get("skipped") or []
    if skipped:
        md.append("Skipped: " + "; ".join(f"{s.get('circuit')} / {s.get('tool')}: {s.get('reason')}"
                                          for s in skipped) + "\n")

    grid = [r for r in rows if r.get("family") == "grid"]
    depths = sorted({r.get("depth") for r in grid if r.get("depth") is not None})
    for depth in depths or [None]:
        total: dict[str, list] = defaultdict(list)
        run: dict[str, list] = defaultdict(list)
        for r in grid:
            if r.get("depth") == depth and r.get("total_s"):
                total[r["tool"]].append((r["qubits"], r["total_s"]))
                run[r["tool"]].append((r["qubits"], r["contract_s"]))
        name = f"amplitudes_time_vs_qubits_d{depth}.png"
        panels = [
            {"series": total, "ylabel": "seconds (wall clock)", "title": "plan + contraction (a first call)"},
            {"series": run, "ylabel": "seconds (wall clock)",
             "title": "contraction only (plan reused); state vector: whole call"},
        ]
        note = line_plot(out / "plots" / name, panels, title=f"One amplitude, grid random circuits, depth {depth}",
                         xlabel="qubits", dashed=STATE_VECTOR_TOOLS)
        figure(md, out, name, note, f"time vs qubits, depth {depth}")

    # the headline: per circuit, the total time of each main tool and qtn's speed-up
    circuits: dict[str, dict[str, dict]] = defaultdict(dict)
    for r in rows:
        if r.get("family") != "random":  # the 10-qubit Simulator calls are in the targets
            circuits[r["circuit"]][r["tool"]] = r
    head_tools = ["qtn", "qtn-auto", "quimb", "quimb@qtn-tree", "qsimcirq", "cirq"]
    present = [t for t in head_tools if any(t in c for c in circuits.values())]
    if present:
        headline.append(f"**Single amplitudes** ({(rec.get('machine') or {}).get('cpu', '?')}, "
                        f"{(rec.get('machine') or {}).get('cores', '?')} cores; plan + contraction seconds, "
                        f"wall clock; `{rec.get('_file')}`)\n")
        headline.append("| circuit | qubits | " + " | ".join(present) + " | qtn GFLOP/s (% matmul) |")
        headline.append("|" + "---|" * (len(present) + 3))
        for circ, tools in circuits.items():
            if not any(t in tools for t in present):
                continue
            any_row = next(iter(tools.values()))
            q = tools.get("qtn")
            rate = (f"{q['gflops']:.1f} ({100 * q['matmul_fraction']:.0f} %)"
                    if q and q.get("gflops") and q.get("matmul_fraction") else "–")
            headline.append(f"| {circ} | {any_row['qubits']} | "
                            + " | ".join(fmt(tools[t]["total_s"], ".3g") if t in tools else "–" for t in present)
                            + f" | {rate} |")
        headline.append("")
        for t in targets:
            headline.append(f"- {verdict(t)}: {t.get('name')} = {fmt(t.get('value'))} (target {t.get('target')})")
        headline.append("")


def section_gemm(rec: dict, out: Path, md: list[str], headline: list[str]) -> None:
    rows = [r for r in rec.get("rows") or [] if isinstance(r, dict)]
    md.append(machine_block(rec) + "\n")
    modelled = [r for r in rows if is_modelled(r)]
    backends = {r.get("backend") for r in rows}
    devices = rec.get("backends") if isinstance(rec.get("backends"), dict) else {}
    text = ("*Measured:* wall-clock seconds of one GEMM per row (the median the benchmark reports); "
            "GFLOP/s = 8 real flops per complex multiply-add × batch·m·k·n / seconds. ")
    if devices:
        text += "Devices: " + ", ".join(f"`{k}` = {v}" for k, v in devices.items()) + ". "
    if "hls" in backends:
        text += ("`hls` rows run the FPGA kernel's C++ in C simulation on this CPU: a CPU measurement of the "
                 "board's code, not an FPGA board time. ")
    text += (f"*Modelled:* {len(modelled)} row(s) marked modelled are estimates, not measurements."
             if modelled else "No row is marked modelled.")
    md.append(text + "\n")
    targets_block(rec, md)
    notes_block(rec, md)
    cols = [("backend", "", "backend"), ("dtype", "", "dtype"), ("batch", "d", "batch"), ("m", "d", "m"),
            ("k", "d", "k"), ("n", "d", "n"), ("seconds", ".4g", "seconds"), ("GFLOP/s", ".1f", "gflops")]
    if modelled:
        cols.append(("measured / modelled", "", lambda r: "modelled" if is_modelled(r) else "measured"))
    md.append(table(rows, cols) + "\n")
    series: dict[str, list] = defaultdict(list)
    square = all(r.get("m") == r.get("k") == r.get("n") for r in rows)
    dtypes = {r.get("dtype") for r in rows}
    for r in rows:
        try:
            size = r["m"] if square else round((r["m"] * r["k"] * r["n"]) ** (1 / 3))
            label = str(r["backend"])
            if len(dtypes) > 1:
                label += f" {r.get('dtype')}"
            if (r.get("batch") or 1) != 1:
                label += f" batch {r['batch']}"
            if is_modelled(r):
                label += " (modelled)"
            series[label].append((size, float(r["gflops"])))
        except (KeyError, TypeError, ValueError):
            continue
    note = line_plot(out / "plots" / "gemm_gflops.png", series, title="GEMM rate per backend",
                     xlabel="m = k = n" if square else "(m·k·n)^(1/3)", ylabel="GFLOP/s", logy=False, logx=True,
                     dashed={k for k in series if "modelled" in k})
    figure(md, out, "gemm_gflops.png", note, "GEMM GFLOP/s vs size")
    extra_tables(rec, md, SHOWN)
    if rows:
        best: dict[str, dict] = {}
        for r in rows:
            if r.get("gflops") is not None and (r["backend"] not in best or r["gflops"] > best[r["backend"]]["gflops"]):
                best[r["backend"]] = r
        headline.append(f"**GEMM** (best GFLOP/s per backend; `{rec.get('_file')}`)\n")
        headline.append("| backend | GFLOP/s | at batch×m×k×n |")
        headline.append("|---|---|---|")
        for b, r in best.items():
            mark = " (modelled)" if is_modelled(r) else " (C simulation on the CPU)" if b == "hls" else ""
            headline.append(f"| {b}{mark} | {fmt(r['gflops'], '.1f')} | "
                            f"{r.get('batch', 1)}×{r.get('m')}×{r.get('k')}×{r.get('n')} |")
        headline.append("")
        for t in rec.get("targets") or []:
            if isinstance(t, dict):
                headline.append(f"- {verdict(t)}: {t.get('name')} = {fmt(t.get('value'))} (target {t.get('target')})")
        headline.append("")


#: bench/qaoa.py writes one row per case with a column pair per tool: (seconds, energy)
QAOA_WIDE = {"qtn": ("qtn_cold_s", "energy_qtn"), "quimb": ("quimb_s", "energy_quimb"),
             "qsimcirq": ("qsim_s", "energy_qsim")}


def long_qaoa_rows(rows: list[dict]) -> list[dict]:
    """Rows of (tool, n, p, seconds, energy), from either layout."""
    out = []
    for r in rows:
        if "tool" in r:
            out.append(r)
            continue
        for tool, (seconds, energy) in QAOA_WIDE.items():
            if r.get(seconds) is not None:
                out.append({"tool": tool, "n": r.get("n"), "p": r.get("p"), "seconds": r[seconds],
                            "energy": r.get(energy)})
    return out


def section_qaoa(rec: dict, out: Path, md: list[str], headline: list[str]) -> None:
    rows = long_qaoa_rows(rec.get("rows") or [])
    md.append(machine_block(rec) + "\n")
    modelled = [r for r in rows if is_modelled(r)]
    md.append("*Measured:* wall-clock seconds per energy evaluation as the benchmark reports them; the energy is "
              "the computed ⟨H⟩. " + ("Rows marked modelled are estimates." if modelled else "Nothing is modelled.")
              + "\n")
    targets_block(rec, md)
    notes_block(rec, md)
    cols = [("tool", "", "tool"), ("n", "d", "n"), ("p", "d", "p"), ("seconds", ".4g", "seconds"),
            ("energy", ".6g", "energy")]
    md.append(table(rows, cols) + "\n")
    ps = sorted({r.get("p") for r in rows if r.get("p") is not None})
    series: dict[str, list] = defaultdict(list)
    for r in rows:
        try:
            label = r["tool"] + (f", p={r['p']}" if len(ps) > 1 else "")
            series[label].append((r["n"], float(r["seconds"])))
        except (KeyError, TypeError, ValueError):
            continue
    note = line_plot(out / "plots" / "qaoa_time_vs_n.png", series, title="QAOA energy evaluation",
                     xlabel="qubits n", ylabel="seconds (wall clock)", dashed=STATE_VECTOR_TOOLS)
    figure(md, out, "qaoa_time_vs_n.png", note, "QAOA time vs n")
    extra_tables(rec, md, SHOWN)
    if rows:
        largest = max(r.get("n", 0) for r in rows)
        headline.append(f"**QAOA** (n = {largest}, seconds)\n")
        headline.append("| tool | p | seconds | energy |")
        headline.append("|---|---|---|---|")
        for r in rows:
            if r.get("n") == largest:
                headline.append(f"| {r.get('tool')} | {r.get('p')} | {fmt(r.get('seconds'), '.4g')} | "
                                f"{fmt(r.get('energy'), '.6g')} |")
        headline.append("")


def section_generic(rec: dict, out: Path, md: list[str], headline: list[str]) -> None:
    md.append(machine_block(rec) + "\n")
    targets_block(rec, md)
    notes_block(rec, md)
    rows = rec.get("rows")
    if isinstance(rows, list) and rows and all(isinstance(r, dict) for r in rows):
        keys: list[str] = []
        for r in rows:
            keys += [k for k in r if k not in keys and not isinstance(r[k], (dict, list))]
        md.append("*As recorded by the benchmark* (no interpretation by this report; rows marked modelled are "
                  "estimates).\n")
        md.append(table(rows, [(k, ".4g", k) for k in keys]) + "\n")
    else:
        other = [k for k in rec if k not in ("benchmark", "timestamp_utc", "machine", "_file")]
        md.append(f"No `rows` list in this record; its keys: {', '.join(other) or 'none'}.\n")
    extra_tables(rec, md, SHOWN)


SECTIONS = {"amplitudes": section_amplitudes, "gemm": section_gemm, "qaoa": section_qaoa}
TITLES = {"amplitudes": "Single amplitudes: qtn vs quimb, qsimcirq, Cirq", "gemm": "GEMM per backend",
          "qaoa": "QAOA"}


def build_report(results: Path, out: Path) -> tuple[str, str]:
    """Write ``out/REPORT.md`` (and plots under ``out/plots``); return (report, headline)."""
    records, notes = load_latest(results)
    md = ["# qtn benchmark report", "",
          f"Generated by `bench/report.py` from the latest file of each benchmark in `{results}`. "
          "Each section names the machine and versions of its own run; runs may come from different machines.", ""]
    headline: list[str] = []
    for name in list(KNOWN) + sorted(set(records) - set(KNOWN)):
        md.append(f"## {TITLES.get(name, name)}\n")
        if name not in records:
            script = SCRIPTS.get(name, f"bench/{name}.py")
            md.append(f"*No results for `{name}` in `{results}`;* run `python {script}` to produce them. "
                      "Its table and plot are left out.\n")
            continue
        SECTIONS.get(name, section_generic)(records[name], out, md, headline)
    if notes:
        md.append("## Files skipped\n")
        md += [f"- {n}" for n in notes]
        md.append("")
    head = "\n".join(headline) if headline else "(no results yet)"
    md[4:4] = ["## Headline", "", head, ""]
    text = "\n".join(md).rstrip() + "\n"
    out.mkdir(parents=True, exist_ok=True)
    (out / "REPORT.md").write_text(text)
    return text, head


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Write REPORT.md and plots from the benchmark results.")
    p.add_argument("--results", type=Path, default=HERE / "results", help="folder of results JSON files")
    p.add_argument("--out", type=Path, default=HERE, help="folder for REPORT.md and plots/ (default bench/)")
    args = p.parse_args(argv)
    if not args.results.is_dir():
        print(f"error: results folder {args.results} does not exist", file=sys.stderr)
        return 2
    _, head = build_report(args.results, args.out)
    print(head)
    print(f"\nwrote {args.out / 'REPORT.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
