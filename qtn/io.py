"""Reading circuits from files: OpenQASM 2 (``.qasm``), qsim (``.qsim``), Cirq JSON (``.json``)."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Callable

import cirq
import numpy as np


class CircuitFileError(ValueError):
    """A circuit file that cannot be read; the message names the file and, where known, the line."""


def _rxy(theta: float, phi: float) -> cirq.Gate:
    # qsim's rxy: exp(-i phi/2 (cos(theta) X + sin(theta) Y)), without a global phase
    x, y = np.array([[0, 1], [1, 0]]), np.array([[0, -1j], [1j, 0]])
    u = math.cos(phi / 2) * np.eye(2) - 1j * math.sin(phi / 2) * (math.cos(theta) * x + math.sin(theta) * y)
    return cirq.MatrixGate(u, name=f"rxy({theta:.4g},{phi:.4g})")


# name -> (number of qubits, number of parameters, gate factory); the Cirq gate that
# qsimcirq translates to each qsim gate.
_QSIM_GATES: dict[str, tuple[int, int, Callable[..., cirq.Gate]]] = {
    "id1": (1, 0, lambda: cirq.I),
    "h": (1, 0, lambda: cirq.H),
    "t": (1, 0, lambda: cirq.T),
    "s": (1, 0, lambda: cirq.S),
    "x": (1, 0, lambda: cirq.X),
    "y": (1, 0, lambda: cirq.Y),
    "z": (1, 0, lambda: cirq.Z),
    "x_1_2": (1, 0, lambda: cirq.X**0.5),
    "y_1_2": (1, 0, lambda: cirq.Y**0.5),
    "hz_1_2": (1, 0, lambda: cirq.PhasedXPowGate(phase_exponent=0.25, exponent=0.5)),
    "rx": (1, 1, cirq.rx),
    "ry": (1, 1, cirq.ry),
    "rz": (1, 1, cirq.rz),
    "rxy": (1, 2, _rxy),
    "id2": (2, 0, lambda: cirq.IdentityGate(2)),
    "cz": (2, 0, lambda: cirq.CZ),
    "cnot": (2, 0, lambda: cirq.CNOT),
    "cx": (2, 0, lambda: cirq.CNOT),
    "sw": (2, 0, lambda: cirq.SWAP),
    "is": (2, 0, lambda: cirq.ISWAP),
    "fs": (2, 2, lambda theta, phi: cirq.FSimGate(theta=theta, phi=phi)),
    "cp": (2, 1, lambda phi: cirq.CZPowGate(exponent=phi / math.pi)),
}


def parse_qsim(text: str, source: str = "<string>") -> cirq.Circuit:
    """Parse qsim's circuit format: a qubit count, then ``time gate qubits... params...`` lines.

    Qubit ``i`` becomes ``cirq.LineQubit(i)``; gates of equal time share a moment.

    Raises:
        CircuitFileError: with the line number, on any malformed line or unknown gate.
    """
    lines = text.splitlines()
    body = [(no, ln.split("#")[0].split()) for no, ln in enumerate(lines, 1)]
    body = [(no, f) for no, f in body if f]
    if not body:
        raise CircuitFileError(f"{source}: empty qsim file (the first line must be the number of qubits)")
    no, first = body[0]
    if len(first) != 1 or not first[0].isdigit():
        raise CircuitFileError(f"{source}:{no}: the first line must be the number of qubits, got {' '.join(first)!r}")
    n = int(first[0])
    moments: dict[int, list[cirq.Operation]] = {}
    for no, fields in body[1:]:
        where = f"{source}:{no}"
        if len(fields) < 3 or not fields[0].isdigit():
            raise CircuitFileError(f"{where}: expected 'time gate qubit...', got {' '.join(fields)!r}")
        time, name = int(fields[0]), fields[1].lower()
        if name == "m":
            qubits = _qubits(fields[2:], n, where)
            # one key per measurement line: two 'm' lines at one time must not share a key
            moments.setdefault(time, []).append(cirq.measure(*qubits, key=f"m{time}_{no}"))
            continue
        if name not in _QSIM_GATES:
            raise CircuitFileError(f"{where}: unknown qsim gate {fields[1]!r}; known: {', '.join(sorted(_QSIM_GATES))}, m")
        n_qubits, n_params, factory = _QSIM_GATES[name]
        if len(fields) != 2 + n_qubits + n_params:
            raise CircuitFileError(f"{where}: gate {name} takes {n_qubits} qubit(s) and {n_params} parameter(s)")
        qubits = _qubits(fields[2 : 2 + n_qubits], n, where)
        try:
            params = [float(p) for p in fields[2 + n_qubits :]]
        except ValueError:
            raise CircuitFileError(f"{where}: gate {name} has a parameter that is not a number") from None
        if len(set(qubits)) != len(qubits):
            raise CircuitFileError(f"{where}: gate {name} repeats a qubit")
        moments.setdefault(time, []).append(factory(*params).on(*qubits))
    circuit = cirq.Circuit()
    for time in sorted(moments):
        try:
            circuit.append(cirq.Moment(moments[time]))
        except ValueError as err:
            raise CircuitFileError(f"{source}: two gates at time {time} act on the same qubit ({err})") from None
    return circuit


def _qubits(fields: list[str], n: int, where: str) -> list[cirq.LineQubit]:
    out = []
    for f in fields:
        if not f.isdigit() or int(f) >= n:
            raise CircuitFileError(f"{where}: qubit {f!r} is not an index in 0..{n - 1}")
        out.append(cirq.LineQubit(int(f)))
    return out


def parse_qasm(text: str, source: str = "<string>") -> cirq.Circuit:
    """Parse OpenQASM 2 with Cirq's importer.

    Raises:
        CircuitFileError: with the importer's message (which gives the line number).
    """
    from cirq.contrib.qasm_import import QasmException, circuit_from_qasm

    try:
        return circuit_from_qasm(text)
    except QasmException as err:
        raise CircuitFileError(f"{source}: {err}") from None


def parse_json(text: str, source: str = "<string>") -> cirq.Circuit:
    """Parse a Cirq JSON circuit (``cirq.to_json``).

    Raises:
        CircuitFileError: not JSON, or JSON of something other than a circuit.
    """
    import json

    try:
        obj = cirq.read_json(json_text=text)
    except json.JSONDecodeError as err:
        raise CircuitFileError(f"{source}:{err.lineno}: not valid JSON ({err.msg})") from None
    except (ValueError, KeyError, TypeError) as err:
        raise CircuitFileError(f"{source}: not a Cirq JSON object ({err})") from None
    if isinstance(obj, cirq.FrozenCircuit):
        obj = obj.unfreeze()
    if not isinstance(obj, cirq.Circuit):
        raise CircuitFileError(f"{source}: holds a {type(obj).__name__}, not a cirq.Circuit")
    return obj


_READERS = {".qsim": parse_qsim, ".qasm": parse_qasm, ".json": parse_json}


def read_circuit(path: "str | os.PathLike[str]") -> cirq.Circuit:
    """Read a circuit file; the format is chosen by its suffix (.qasm, .qsim, .json).

    Raises:
        FileNotFoundError: no such file.
        CircuitFileError: unknown suffix, or a syntax error (with the line number).
    """
    p = Path(path)
    reader = _READERS.get(p.suffix.lower())
    if reader is None:
        raise CircuitFileError(f"{p}: unknown circuit format {p.suffix!r}; use .qasm, .qsim or .json")
    if not p.is_file():
        raise FileNotFoundError(f"no such circuit file: {p}")
    return reader(p.read_text(), str(p))
