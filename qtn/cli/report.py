"""What the ``qtn`` command prints: numbers, plans, GEMM tables and the plan plot."""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
from collections import Counter
from typing import Any, Sequence

import numpy as np

import qtn

from .values import CliError

#: Rows of the GEMM shape table of ``qtn plan``.
GEMM_TABLE_ROWS = 8


def json_complex(z: complex) -> dict[str, float]:
    """``{"real": ..., "imag": ...}`` of a complex number (JSON has no complex type)."""
    return {"real": float(z.real), "imag": float(z.imag)}


def fmt_complex(z: complex) -> str:
    """A complex number for a person, e.g. ``+0.70710677-1.2e-09j``."""
    return f"{z.real:+.8g}{z.imag:+.8g}j"


def emit(args: argparse.Namespace, doc: dict[str, Any], lines: Sequence[str]) -> None:
    """Print ``doc`` as JSON with ``--json``, else the text ``lines``."""
    if args.json:
        print(json.dumps(doc, indent=2))
    else:
        print("\n".join(lines))


def gemm_shapes(plan: qtn.Plan) -> list[dict[str, int]]:
    """The GEMM shapes of one slice, one entry per distinct ``(batch, m, k, n)``, by total flops."""
    counts = Counter((g.batch, g.m, g.k, g.n) for g in plan.gemms)
    rows = [{"batch": b, "m": m, "k": k, "n": n, "steps": c, "flops": 8 * b * m * k * n * c}
            for (b, m, k, n), c in counts.items()]
    return sorted(rows, key=lambda r: -r["flops"])


def plan_dict(plan: qtn.Plan) -> dict[str, Any]:
    """A plan's figures as JSON-ready values (``board_time`` when the plan has one)."""
    doc: dict[str, Any] = {
        "flops": plan.flops, "width": plan.width, "largest_intermediate_bytes": plan.largest_intermediate_bytes,
        "peak_bytes": plan.peak_bytes, "memory_budget": plan.memory_budget, "n_slices": plan.n_slices,
        "sliced_indices": len(plan.sliced), "search_seconds": plan.search_seconds, "method": plan.method,
        "steps": len(plan.steps), "gemm_shapes": gemm_shapes(plan),
    }
    if plan.board_time is not None:
        doc["board_time"] = {**dataclasses.asdict(plan.board_time), "modelled": True,
                             "report": plan.board_time.report()}
    return doc


def plan_line(plan: qtn.Plan) -> str:
    """A plan's cost in one line."""
    return (f"plan: {plan.flops:.3g} flops, width {plan.width:.0f}, {plan.n_slices} slice(s), "
            f"{plan.method} search {plan.search_seconds:.2f} s")


def gemm_table(plan: qtn.Plan) -> list[str]:
    """The GEMM shapes that take the most flops, one line each, then a line for the rest."""
    rows = gemm_shapes(plan)
    if not rows:
        return ["GEMM shapes: none (the network simplifies to a single tensor)"]
    total = sum(r["flops"] for r in rows) or 1
    lines = [f"GEMM shapes of one slice: {len(plan.steps)} steps in {len(rows)} shapes, largest by flops",
             f"  {'steps':>6} {'batch':>9} {'m':>9} {'k':>9} {'n':>9} {'flops':>10} {'share':>7}"]
    for r in rows[:GEMM_TABLE_ROWS]:
        lines.append(f"  {r['steps']:>6} {r['batch']:>9} {r['m']:>9} {r['k']:>9} {r['n']:>9} "
                     f"{r['flops']:>10.3g} {100 * r['flops'] / total:>6.1f}%")
    rest = rows[GEMM_TABLE_ROWS:]
    if rest:
        share = 100 * sum(r["flops"] for r in rest) / total
        lines.append(f"  ... {len(rest)} more shapes ({sum(r['steps'] for r in rest)} steps, {share:.1f}% of flops)")
    return lines


def plot_plan(plan: qtn.Plan, path: str) -> None:
    """Bar charts of log2 flops and log2 output size of every step of one slice.

    Raises:
        CliError: matplotlib is not installed.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise CliError("--plot needs matplotlib (pip install 'qtn[bench]')") from None
    steps = np.arange(len(plan.steps))
    flops = [math.log2(max(1, s.lowered.gemm.flops)) for s in plan.steps]
    sizes = [math.log2(max(1, math.prod(s.lowered.out_shape))) for s in plan.steps]
    fig, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(10, 6))
    top.bar(steps, flops, width=1.0, color="tab:blue")
    top.set_ylabel("log2 flops")
    top.set_title(f"contraction steps of one slice ({plan.n_slices} slice(s), {plan.flops:.3g} flops in all)")
    bottom.bar(steps, sizes, width=1.0, color="tab:orange")
    bottom.axhline(math.log2(plan.memory_budget / plan.itemsize), color="k", linestyle="--", label="memory budget")
    bottom.set_ylabel("log2 elements of the result")
    bottom.set_xlabel("step")
    bottom.legend(loc="center right")
    fig.tight_layout()
    try:
        fig.savefig(path)
    except (OSError, ValueError) as err:
        raise CliError(f"cannot write the plot to {path}: {err}") from None
    finally:
        plt.close(fig)
