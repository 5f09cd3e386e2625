"""The ``qtn`` subcommands: each reads a circuit, calls the public API and prints."""

from __future__ import annotations

import argparse
import contextlib
import functools
import inspect
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import cirq
import numpy as np

import qtn

from .. import generators
from ..circuit_input import as_cirq_circuit
from ..io import SUFFIXES, read_circuit
from .reference import Reference, align_phase, reference_state
from .report import emit, fmt_complex, gemm_table, json_complex, plan_dict, plan_line, plot_plan
from ..contraction import batch_positions, parse_bitstring as bits_of
from ..options import RunKeywords
from .values import CliError, UsageError, open_executor, parse_bitstring, parse_pauli_sum

#: Largest circuit ``--check`` compares with a reference state vector (2**20 amplitudes).
CHECK_MAX_QUBITS = 20
#: ``--check`` tolerance per dtype, |qtn - cirq| <= atol + rtol * |cirq| (the test suite's atol).
CHECK_TOLERANCE = {"complex64": (2e-5, 1e-3), "complex128": (1e-10, 1e-7)}


def load_circuit(spec: str) -> cirq.Circuit:
    """A circuit file (by suffix) or a circuit name from :mod:`qtn.generators`.

    Raises:
        CliError: neither a known suffix nor a name; ValueError / FileNotFoundError
            from the reader or the generator.
    """
    if generators.is_name(spec) and not Path(spec).exists():
        return generators.from_name(spec)
    if Path(spec).suffix.lower() not in SUFFIXES:
        raise CliError(f"{spec!r} is neither a circuit file ({', '.join(SUFFIXES)}) nor a circuit name "
                       f"({', '.join(generators.FORMS)})")
    return read_circuit(spec)


def circuit_qubits(circuit: cirq.AbstractCircuit) -> list[cirq.Qid]:
    """The qubits in the order results are given: as declared in the file (or Qiskit's), else sorted."""
    return as_cirq_circuit(circuit)[1] or sorted(circuit.all_qubits())


def _describe(spec: str, circuit: cirq.AbstractCircuit) -> str:
    return (f"{spec}: {len(circuit.all_qubits())} qubits, {len(circuit)} moments, "
            f"{sum(1 for _ in circuit.all_operations())} operations")


def unitary_part(circuit: cirq.Circuit, command: str) -> cirq.Circuit:
    """The circuit without its terminal measurements (said on stderr).

    Raises:
        CliError: a measurement before the end, or a classically controlled operation.
    """
    if any(isinstance(op, cirq.ClassicallyControlledOperation) for op in circuit.all_operations()):
        raise CliError(f"the circuit has classically controlled operations (if); '{command}' needs a unitary "
                       "circuit (use 'qtn sample')")
    if not circuit.has_measurements():
        return circuit
    if not circuit.are_all_measurements_terminal():
        raise CliError(f"the circuit measures a qubit before its last gate; '{command}' needs a unitary "
                       "circuit (use 'qtn sample')")
    _note(f"ignoring the circuit's terminal measurements for '{command}'")
    return cirq.drop_terminal_measurements(circuit)


def _note(message: str) -> None:
    print(f"qtn: {message}", file=sys.stderr)


def entry_point(name: str, command: str, kwargs: dict[str, Any]) -> Callable[..., Any]:
    """``qtn.<name>``, checked to exist and to take every keyword the command passes."""
    fn = getattr(qtn, name, None)
    if fn is None:
        raise CliError(f"qtn {command} needs qtn.{name}, not available in this build")
    params = inspect.signature(fn).parameters
    accepted = set(params)
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        accepted |= set(RunKeywords.__annotations__)  # the run options an entry point forwards
    for key in kwargs:
        if key not in accepted:
            raise CliError(f"qtn {command} with --{key.replace('_', '-')} needs qtn.{name}({key}=...), "
                               "not available in this build")
    return fn


def _run_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """The keywords every entry point takes, from the contraction options."""
    return {
        "backend": args.backend,
        "max_memory": args.max_memory,
        "dtype": np.dtype(args.dtype),
        "optimize": None if args.optimize == "auto" else args.optimize,
        "search_time": args.search_time,
        "progress": False if args.no_progress else None,
        **({"plan_cache": None} if getattr(args, "no_plan_cache", False) else {}),
    }


@contextlib.contextmanager
def _api_call(args: argparse.Namespace, name: str, command: str, **extra: Any) -> Iterator[Callable[..., Any]]:
    """``qtn.<name>`` with the command's options bound, and its executor open.

    The entry point is checked before the executor opens, so a missing feature is
    reported at once rather than after connecting to a cluster.
    """
    kwargs = {**_run_kwargs(args), **extra}
    wants_executor = args.executor not in (None, "none")
    fn = entry_point(name, command, {**kwargs, "executor": None} if wants_executor else kwargs)
    with open_executor(args.executor) as executor:
        if executor is not None:
            kwargs["executor"] = executor
        yield functools.partial(fn, **kwargs)


def cmd_amplitude(args: argparse.Namespace) -> int:
    """``qtn amplitude``: amplitudes of bitstrings, with the plan and an optional check against an independent reference."""
    circuit = unitary_part(load_circuit(args.circuit), "amplitude")
    qubits = circuit_qubits(circuit)
    n = len(qubits)
    bits = [parse_bitstring(b, n) for b in args.bitstring]
    with _api_call(args, "amplitudes", "amplitude") as amplitudes:
        # the plan that runs (one amplitude's, or that of the open-leg network of a batch
        # of bitstrings differing in few qubits), which amplitudes() then finds in the cache
        batch = batch_positions([bits_of(b, n) for b in bits]) or []
        plan = entry_point("plan", "amplitude", {})(circuit, qubit_order=qubits, **_run_kwargs(args), open_qubits=[qubits[p] for p in batch],
                                                    executor=amplitudes.keywords.get("executor"))
        t0 = time.perf_counter()
        amps = amplitudes(circuit, bits, qubit_order=qubits)
        seconds = time.perf_counter() - t0
    rows = [(format(b, f"0{n}b"), complex(a)) for b, a in zip(bits, amps)]
    check = _check_amplitudes(args.circuit, circuit, qubits, bits, amps, args.dtype) if args.check else None
    doc: dict[str, Any] = {
        "circuit": args.circuit, "qubits": [str(q) for q in qubits],
        "amplitudes": [{"bitstring": s, **json_complex(a)} for s, a in rows],
        "plan": plan_dict(plan), "seconds": seconds,
    }
    lines = [_describe(args.circuit, circuit), plan_line(plan) + f"; contracted in {seconds:.3f} s",
             f"{'bitstring':<{max(n, 9)}}  {'amplitude':<34} probability"]
    lines += [f"{s:<{max(n, 9)}}  {fmt_complex(a):<34} {abs(a) ** 2:.6g}" for s, a in rows]
    if check is not None:
        doc["check"] = check
        lines.append(_check_line(check))
    emit(args, doc, lines)
    _raise_if_failed(check)
    return 0


def _reference_state(spec: str, circuit: cirq.AbstractCircuit, qubits: Sequence[cirq.Qid]) -> Reference | str:
    """An independent reference state of ``spec`` (:mod:`qtn.cli.reference`), or why there is none."""
    return reference_state(spec, circuit, qubits, CHECK_MAX_QUBITS)


def _compare(ours: Sequence[complex], ref: Sequence[complex], dtype: str, reference: Reference,
             align: bool = False) -> dict[str, Any]:
    atol, rtol = CHECK_TOLERANCE[dtype]
    ours, ref = np.asarray(ours, dtype=complex), np.asarray(ref, dtype=complex)
    if align and reference.up_to_global_phase:
        ours = align_phase(ours, ref)
    err = np.abs(ours - ref)
    return {"reference": reference.name,
            "max_abs_error": float(err.max(initial=0.0)), "atol": atol, "rtol": rtol,
            "passed": bool(np.all(err <= atol + rtol * np.abs(ref)))}


def _check_amplitudes(spec: str, circuit, qubits, bits, amps, dtype: str) -> dict[str, Any]:
    ref = _reference_state(spec, circuit, qubits)
    if isinstance(ref, str):
        return {"skipped": ref}
    return _compare(amps, ref.state[bits], dtype, ref, align=True)


def _check_line(check: dict[str, Any]) -> str:
    if "skipped" in check:
        return f"check {check['skipped']}"
    verdict = "ok" if check["passed"] else "FAILED"
    return (f"check against {check['reference']}: max |difference| {check['max_abs_error']:.3g} "
            f"(tolerance {check['atol']:g} + {check['rtol']:g}*|ref|): {verdict}")


def _raise_if_failed(check: dict[str, Any] | None) -> None:
    if check is not None and check.get("passed") is False:
        raise CliError(f"--check failed: qtn differs from {check['reference']} by up to {check['max_abs_error']:.3g}")


def cmd_sample(args: argparse.Namespace) -> int:
    """``qtn sample``: counts of measured bitstrings."""
    circuit = load_circuit(args.circuit)
    extra: dict[str, Any] = {"seed": args.seed}
    if args.noise:
        extra["noise"] = cirq.ConstantQubitNoiseModel(cirq.depolarize(args.noise))
    with _api_call(args, "sample", "sample", **extra) as sample:
        if not circuit.has_measurements():
            qubits = circuit_qubits(circuit)
            circuit = circuit + cirq.Circuit(cirq.measure(*qubits, key="m"))
            _note(f"the circuit has no measurements; measuring all {len(qubits)} qubits under key 'm'")
        t0 = time.perf_counter()
        result = sample(circuit, args.repetitions)
        seconds = time.perf_counter() - t0
    keys: dict[str, tuple[cirq.Qid, ...]] = {}
    for op in circuit.all_operations():
        if cirq.is_measurement(op):
            keys.setdefault(cirq.measurement_key_name(op), op.qubits)
    bits = np.concatenate([np.asarray(result.measurements[k]).reshape(args.repetitions, -1) for k in keys], axis=1)
    counts = Counter("".join(map(str, row)) for row in bits.astype(int))
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    doc = {"circuit": args.circuit, "repetitions": args.repetitions, "seed": args.seed, "noise": args.noise,
           "keys": [{"key": k, "qubits": [str(q) for q in qs]} for k, qs in keys.items()],
           "counts": dict(ordered), "seconds": seconds}
    bit_names = ", ".join(f"{k}[{' '.join(map(str, qs))}]" for k, qs in keys.items())
    lines = [_describe(args.circuit, circuit),
             f"{args.repetitions} repetitions in {seconds:.3f} s; bits: {bit_names}"]
    lines += [f"{s}  {c}" for s, c in ordered]
    emit(args, doc, lines)
    return 0


def cmd_expect(args: argparse.Namespace) -> int:
    """``qtn expect``: expectation values of Pauli sums."""
    circuit = unitary_part(load_circuit(args.circuit), "expect")
    qubits = circuit_qubits(circuit)
    observables = [parse_pauli_sum(o, qubits) for o in args.observable]
    with _api_call(args, "expectation", "expect") as expectation:
        t0 = time.perf_counter()
        values = [complex(v) for v in np.asarray(expectation(circuit, observables)).ravel()]
        seconds = time.perf_counter() - t0
    check = None
    if args.check:
        ref = _reference_state(args.circuit, circuit, qubits)
        check = {"skipped": ref} if isinstance(ref, str) else _compare(
            values, [_expectation_of(o, ref.state, qubits) for o in observables], args.dtype, ref)
    doc: dict[str, Any] = {
        "circuit": args.circuit, "qubits": [str(q) for q in qubits], "seconds": seconds,
        "expectations": [{"observable": o, **json_complex(v)} for o, v in zip(args.observable, values)],
    }
    shown = ", ".join(map(str, qubits[:8])) + (", ..." if len(qubits) > 8 else "")
    lines = [_describe(args.circuit, circuit), f"qubit k of the observables is the k-th of: {shown}"]
    lines += [f"<{o}> = {fmt_complex(v)}" for o, v in zip(args.observable, values)]
    if check is not None:
        doc["check"] = check
        lines.append(_check_line(check))
    emit(args, doc, lines)
    _raise_if_failed(check)
    return 0


def _expectation_of(observable: cirq.PauliSum, state: np.ndarray, qubits: Sequence[cirq.Qid]) -> complex:
    """<state|observable|state>, term by term (Cirq refuses complex coefficients)."""
    index = {q: i for i, q in enumerate(qubits)}
    return sum((term.coefficient * term.with_coefficient(1).expectation_from_state_vector(state, index)
                for term in observable), 0j)


def cmd_plan(args: argparse.Namespace) -> int:
    """``qtn plan``: the contraction plan of one amplitude, its GEMMs and a modelled board time."""
    if args.on_chip and not args.board:
        raise UsageError("--on-chip needs --board (see 'qtn plan --help')")
    circuit = unitary_part(load_circuit(args.circuit), "plan")
    kwargs = _run_kwargs(args)
    if args.board:
        kwargs["board"] = args.board
    if args.on_chip:
        kwargs["on_chip"] = True
    plan = entry_point("plan", "plan", kwargs)(circuit, **kwargs)
    if args.plot:
        plot_plan(plan, args.plot)
    doc = {"circuit": args.circuit, "qubits": len(circuit.all_qubits()), "plan": plan_dict(plan), "plot": args.plot}
    # with a board, the report ends with the modelled board time
    lines = [_describe(args.circuit, circuit), plan.report(), *gemm_table(plan)]
    if args.plot:
        lines.append(f"plot of the steps written to {args.plot}")
    emit(args, doc, lines)
    return 0


def bench_dir() -> Path:
    """``bench/`` of the source checkout qtn runs from.

    Raises:
        CliError: qtn is not running from a source checkout (e.g. installed from a wheel).
    """
    root = Path(qtn.__file__).resolve().parent.parent / "bench"
    if not (root / "common.py").is_file():
        raise CliError(f"qtn bench runs the scripts in bench/ of a qtn source checkout, and there is none "
                       f"next to this installation ({root.parent}); clone the repository and install it with -e")
    return root


def cmd_bench(args: argparse.Namespace) -> int:
    """``qtn bench NAME [ARGS...]``: run ``bench/NAME.py ARGS...``; without NAME, list them."""
    root = bench_dir()
    scripts = sorted(p.stem for p in root.glob("*.py") if p.stem not in ("common", "__init__"))
    if args.name is None:
        print("benchmarks in " + str(root) + ": " + (", ".join(scripts) or "none yet"))
        return 0
    name = args.name.removesuffix(".py")
    if name not in scripts:
        raise CliError(f"no benchmark {name!r} in {root}; available: {', '.join(scripts) or 'none yet'}")
    return subprocess.run([sys.executable, str(root / f"{name}.py"), *args.args], cwd=root.parent).returncode
