"""``qtn fpga``: a circuit's contraction on the RTL array of a board, cycle by cycle."""

from __future__ import annotations

import argparse

from ..fpga.plan_cycles import plan_cycles
from ..fpga.rtl_sim import ArrayConfig
from .commands import load_circuit, unitary_part
from .report import emit
from .values import UsageError


def _pe(text: str) -> ArrayConfig:
    try:
        m, n = (int(x) for x in text.lower().split("x"))
        return ArrayConfig(m, n)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"--pe takes MxN with 1 <= M, N <= 32, e.g. 2x2, not {text!r}") from err


def add_fpga_command(sub: argparse._SubParsersAction, common: argparse.ArgumentParser, make) -> None:
    """Register ``qtn fpga`` (``make`` is the CLI's subcommand constructor)."""
    p = make(sub, "fpga", "the contraction of one amplitude on a board's RTL array: cycles, Fmax, board time",
             (common,))
    p.add_argument("--board", required=True, help="board profile, e.g. ecp5_85f or u280")
    p.add_argument("--pe", type=_pe, default=None, metavar="MxN", help="override the board's PE grid (e.g. 2x2)")
    p.add_argument("--sample", type=int, default=8, metavar="N",
                   help="GEMMs to Verilate when the plan is too long to simulate whole (default 8)")
    p.set_defaults(func=cmd_fpga)


def cmd_fpga(args: argparse.Namespace) -> int:
    """Model and Verilate the plan of one amplitude on the board's array and report it."""
    if args.sample < 1:
        raise UsageError("--sample must be at least 1")
    circuit = unitary_part(load_circuit(args.circuit), "fpga")
    try:
        pc = plan_cycles(circuit, args.board, config=args.pe, sample=args.sample)
    except ValueError as err:
        raise UsageError(str(err)) from err
    doc = {"circuit": args.circuit, "qubits": len(circuit.all_qubits()), **pc.as_dict()}
    rel = pc.relative_error
    lines = [
        f"{args.circuit}: {len(circuit.all_qubits())} qubits, {pc.gemms} GEMMs on the {doc['array']} RTL array "
        f"of {args.board} ({pc.array.fmt.mantissa_bits}-bit block floating point, {pc.array.lanes}-lane permute)",
        f"  simulated cycles   {pc.simulated_cycles} ({pc.simulated_scope}; Verilator)",
        f"  modelled cycles    {pc.modelled_cycles} (whole plan); model vs simulation "
        f"{'n/a' if rel is None else f'{100 * rel:+.2f} %'}, worst GEMM "
        f"{100 * doc['max_gemm_relative_error']:.2f} %" if doc["max_gemm_relative_error"] is not None else "",
        f"  Fmax               {'%.1f MHz (nextpnr, last synthesis run)' % pc.fmax_mhz if pc.fmax_mhz else 'no place-and-route result (run make fpga-bench)'}",
        f"  resources          {pc.resources if pc.resources else 'no synthesis result (run make fpga-bench)'}",
        f"  board time         {pc.board_time_s:.3e} s at {pc.clock_mhz:.1f} MHz: {pc.label}",
        f"  PE utilization     {100 * pc.utilization:.1f} % (useful MACs / PE cycles)",
    ]
    emit(args, doc, [ln for ln in lines if ln])
    return 0
