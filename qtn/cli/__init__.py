"""The ``qtn`` command: amplitudes, samples, expectation values and plans of circuits.

Circuits come from OpenQASM 2 or 3 (``.qasm``), qsim (``.qsim``), Cirq JSON (``.json``)
or Qiskit QPY (``.qpy``) files, or by name (``ghz:N``, ``qft:N``, ``grid:ROWSxCOLS:DEPTH[:SEED]``,
``qaoa:N:P[:SEED]``; see :mod:`qtn.generators`). Every command prints for a person,
or one JSON document with ``--json``. Errors are one line on stderr
(``qtn: error: ...``) and a non-zero exit code; ``--debug`` adds the traceback.

The package: ``values`` parses option values, ``commands`` runs each subcommand,
``report`` formats what they print; this module holds the parser and :func:`main`.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from typing import Any, Sequence

import qtn

from .. import generators
from ..fpga.boards import available_boards
from .fpga_cmd import add_fpga_command
from .commands import CHECK_MAX_QUBITS, cmd_amplitude, cmd_bench, cmd_expect, cmd_plan, cmd_sample
from .values import CliError, UsageError, executor_spec, parse_bytes, positive_int, probability

#: A one-line error longer than this keeps only its first line.
MAX_ERROR_CHARS = 300

_CIRCUIT_HELP = "a circuit file (.qasm, .qsim, .json) or a name: " + ", ".join(generators.FORMS)


class _Parser(argparse.ArgumentParser):
    """An argparse parser whose errors become one-line :class:`UsageError` s."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see '{self.prog} --help')")


_EPILOGS = {
    "qtn": """examples:
  qtn amplitude ghz:53 -b 0 -b 9007199254740991
  qtn amplitude circuit.qasm -b 0101 --check
  qtn sample grid:4x4:8 -n 1000 --seed 1
  qtn expect qaoa:16:1 -o "Z0*Z1 + 0.5*X3"
  qtn plan circuit_n53_m10_s0_e0_pABCDCDAB.qsim --board u280
  qtn bench amplitudes --quick

circuits: a .qasm (OpenQASM 2), .qsim or .json (cirq.to_json) file, or a name:
  ghz:N, qft:N (after H and T layers), grid:ROWSxCOLS:DEPTH[:SEED], qaoa:N:P[:SEED]
'qtn COMMAND --help' lists the options of each command.""",
    "amplitude": """bitstrings: N characters of 0/1 (qubits in sorted order, the first is the
most significant bit), or an int such as 5, 0b101 or 0x5.

examples:
  qtn amplitude ghz:53 -b 0 -b 9007199254740991
  qtn amplitude circuit.qasm -b 0101 -b 1010 --check
  qtn amplitude circuit.qsim -b 0 --backend opencl --max-memory 512MiB --json
  qtn amplitude grid:5x5:12 -b 0 --executor threads:2""",
    "sample": """a circuit without measurements has all its qubits measured (said on stderr).

examples:
  qtn sample ghz:20 -n 1000 --seed 7
  qtn sample circuit.qasm -n 100 --noise 0.01 --json""",
    "expect": """observables: terms joined by + or -, each a product (*) of an optional
coefficient (0.5, 2j, (1+2j)) and Pauli factors Xk, Yk, Zk on the k-th qubit of the
circuit in sorted order.

examples:
  qtn expect qaoa:16:1 -o "Z0*Z1 + 0.5*X3"
  qtn expect circuit.json -o Z0 -o "X0*X1 - (0.5+1j)*Y2" --check""",
    "plan": """the plan of one amplitude: flops, width, slices, memory, search time and the
GEMM shapes; with --board, the FPGA time of the plan (modelled, not measured).

examples:
  qtn plan circuit_n53_m10_s0_e0_pABCDCDAB.qsim --max-memory 2GiB
  qtn plan grid:5x5:12 --board u280 --on-chip --plot tree.png""",
    "fpga": """the plan of one amplitude on the board's RTL systolic array: Verilated cycles
(whole plan, or a sample of GEMMs when it is long), the calibrated cycle model, Fmax and
resources of the last synthesis run (make fpga-bench), board time and PE utilization.
Nothing runs on a physical board.

examples:
  qtn fpga grid:3x4:8 --board ecp5_85f
  qtn fpga qft:10 --board u280 --pe 2x2 --json""",
    "bench": """runs bench/NAME.py ARGS... of the source checkout (not in an installed wheel);
without NAME, lists the benchmarks.

examples:
  qtn bench
  qtn bench amplitudes --quick""",
}


def _add_command(sub: Any, name: str, helptext: str, parents: Sequence[argparse.ArgumentParser]) -> _Parser:
    p = sub.add_parser(name, parents=parents, help=helptext, description=helptext + ".",
                       epilog=_EPILOGS[name], formatter_class=argparse.RawDescriptionHelpFormatter)
    if name != "bench":
        p.add_argument("circuit", metavar="CIRCUIT", help=_CIRCUIT_HELP)
    return p


def build_parser() -> _Parser:
    """The ``qtn`` argument parser: one subcommand per job."""
    common = _Parser(add_help=False)
    common.add_argument("--json", action="store_true", help="print one JSON document instead of text")
    common.add_argument("--debug", action="store_true", help="show the traceback of an error")
    run = _Parser(add_help=False)
    group = run.add_argument_group("contraction")
    group.add_argument("--backend", default=None, metavar="NAME",
                       help=f"where the GEMMs run: {', '.join(qtn.available_backends())} (default numpy; "
                            "opencl:<device>, hls:<board>)")
    group.add_argument("--max-memory", type=parse_bytes, default=None, metavar="SIZE",
                       help="bytes any intermediate may take, e.g. 2GiB, 512MB (default: the backend's budget)")
    group.add_argument("--dtype", choices=("complex64", "complex128"), default="complex64")
    group.add_argument("--optimize", choices=("auto", "greedy", "hyper"), default="auto",
                       help="path search (default auto: greedy, hyper when the contraction is large)")
    group.add_argument("--search-time", type=float, default=None, metavar="SECONDS",
                       help="most seconds a hyper path search may take (default 30)")
    group.add_argument("--no-progress", action="store_true", help="no progress bars on stderr")
    group.add_argument("--no-plan-cache", action="store_true",
                       help="search every plan again: neither read nor keep plans (memory or disk cache)")
    execution = _Parser(add_help=False)
    execution.add_argument("--executor", type=executor_spec, default=None, metavar="SPEC",
                           help="where slices run: none (default), threads:N, processes:N, local:N (a local dask "
                                "cluster qtn sets up), or a dask scheduler tcp://HOST:PORT")
    parser = _Parser(prog="qtn", description="Quantum-circuit simulation by tensor-network contraction.",
                     epilog=_EPILOGS["qtn"], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"qtn {qtn.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    everything = (common, run, execution)

    p = _add_command(sub, "amplitude", "amplitudes <b|C|0...0> of chosen bitstrings", everything)
    p.add_argument("-b", "--bitstring", action="append", required=True, metavar="BITS",
                   help="a bitstring (0/1 string or int); repeat for more")
    p.add_argument("--check", action="store_true",
                   help=f"compare with an independent reference state vector: Qiskit's loader and Statevector for "
                        f"QASM/QPY files, Cirq for JSON and circuit names (up to {CHECK_MAX_QUBITS} qubits)")
    p.set_defaults(func=cmd_amplitude)

    p = _add_command(sub, "sample", "sample measurement results and count them", everything)
    p.add_argument("-n", "--repetitions", type=positive_int, default=1000, metavar="N", help="default 1000")
    p.add_argument("--seed", type=int, default=None, help="random seed, for repeatable samples")
    p.add_argument("--noise", type=probability, default=None, metavar="P",
                   help="depolarizing noise of probability P on every qubit after every moment")
    p.set_defaults(func=cmd_sample)

    p = _add_command(sub, "expect", "expectation values of Pauli sums", everything)
    p.add_argument("-o", "--observable", action="append", required=True, metavar="PAULISUM",
                   help="e.g. 'Z0*Z1 + 0.5*X3'; repeat for more")
    p.add_argument("--check", action="store_true",
                   help=f"compare with an independent reference state vector: Qiskit's loader and Statevector for "
                        f"QASM/QPY files, Cirq for JSON and circuit names (up to {CHECK_MAX_QUBITS} qubits)")
    p.set_defaults(func=cmd_expect)

    p = _add_command(sub, "plan", "the contraction plan of one amplitude, without running it", (common, run))
    p.add_argument("--board", default=None, help=f"model the time on an FPGA board: {', '.join(available_boards())}")
    p.add_argument("--on-chip", action="store_true", help="with --board: keep every intermediate on chip")
    p.add_argument("--plot", default=None, metavar="FILE", help="bar chart of the steps' flops and sizes (matplotlib)")
    p.set_defaults(func=cmd_plan)

    add_fpga_command(sub, common, _add_command)

    p = _add_command(sub, "bench", "run a benchmark script of bench/", ())
    p.add_argument("name", nargs="?", metavar="NAME", help="benchmark, e.g. amplitudes")
    p.add_argument("args", nargs=argparse.REMAINDER, metavar="ARGS", help="passed to the script")
    p.set_defaults(func=cmd_bench)
    return parser


def _one_line(err: BaseException) -> str:
    """The message of ``err`` on one line: caret-only lines dropped, long ones cut to the first."""
    lines = [ln.strip() for ln in str(err).splitlines() if ln.strip() and set(ln.strip()) != {"^"}]
    text = " ".join(lines) or type(err).__name__
    if len(text) > MAX_ERROR_CHARS and len(lines) > 1:
        text = lines[0] + " ... (--debug shows all of it)"
    if not isinstance(err, (CliError, ValueError, TypeError, OSError, qtn.BackendUnavailableError)):
        text = f"{type(err).__name__}: {text} (--debug shows the traceback)"
    return text


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``qtn`` command.

    Args:
        argv: the arguments after the program name (default: ``sys.argv[1:]``).

    Returns:
        The exit code: 0 on success, 1 on an error, 2 on a bad command line.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(argv)
        if args.command is None:
            raise UsageError("choose a command: amplitude, sample, expect, plan, bench (see 'qtn --help')")
        return args.func(args)
    except SystemExit as done:  # --help and --version
        return done.code if isinstance(done.code, int) else 0
    except KeyboardInterrupt:
        print("qtn: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (e.g. '| head'): stop quietly, and keep Python's
        # final flush of stdout from raising again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except Exception as err:
        if "--debug" in argv:
            traceback.print_exc()
        print(f"qtn: error: {_one_line(err)}", file=sys.stderr)
        return 2 if isinstance(err, UsageError) else 1
