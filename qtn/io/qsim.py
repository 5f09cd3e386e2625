"""qsim's circuit format (``.qsim``), read by the rules of qsim's parser (``circuit_qsim_parser.h``).

Each gate is the Cirq gate with the matrix of qsim's ``gates_qsim.h``; ``tests/test_io_qsim.py``
checks every one against an independent NumPy simulator of the format (``tests/references.py``).
"""

from __future__ import annotations

import math
from typing import Callable

import cirq
import numpy as np

from .errors import CircuitFileError
from .layout import with_declared_qubits


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
    # qsim's GateCP is diag(1, 1, 1, e^{-iφ}): the opposite sign of Cirq's CZPowGate(φ/π)
    "cp": (2, 1, lambda phi: cirq.CZPowGate(exponent=-phi / math.pi)),
}


def parse_qsim(text: str, source: str = "<string>") -> cirq.Circuit:
    """Parse qsim's circuit format: a qubit count, then ``time gate qubits... params...`` lines.

    Qubit ``i`` becomes ``cirq.LineQubit(i)`` (idle ones too); gates of equal time share a moment.

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
        moments.setdefault(time, []).append(_operation(name, fields[2:], n, where, f"m{time}_{no}"))
    circuit = cirq.Circuit()
    for time in sorted(moments):
        try:
            circuit.append(cirq.Moment(moments[time]))
        except ValueError as err:
            raise CircuitFileError(f"{source}: two gates at time {time} act on the same qubit ({err})") from None
    return with_declared_qubits(circuit, cirq.LineQubit.range(n))


def _operation(name: str, args: list[str], n: int, where: str, key: str) -> cirq.Operation:
    """One line's operation from its gate name and the fields after it."""
    if name == "m":
        # one key per measurement line: two 'm' lines at one time must not share a key
        return cirq.measure(*_qubits(args, n, where), key=key)
    if name == "p":  # qsim's global phase gate GateGPh: e^{iφ}
        return cirq.GlobalPhaseGate(complex(np.exp(1j * _numbers(args, where, name)[0]))).on()
    if name == "c":  # "c CONTROLS... GATE TARGETS... PARAMS...": controlled on every control being 1
        k = next((i for i, f in enumerate(args) if not f.isdigit()), len(args))
        if k == 0 or k == len(args):
            raise CircuitFileError(f"{where}: expected 'c control... gate target...'")
        controls = _qubits(args[:k], n, where)
        op = _operation(args[k].lower(), args[k + 1 :], n, where, key)
        if cirq.is_measurement(op) or not op.qubits:
            raise CircuitFileError(f"{where}: qsim controls only gates on qubits, not {args[k]!r}")
        if set(controls) & set(op.qubits) or len(set(controls)) != len(controls):
            raise CircuitFileError(f"{where}: a control qubit repeats or is also a target")
        return op.controlled_by(*controls)
    if name not in _QSIM_GATES:
        raise CircuitFileError(f"{where}: unknown qsim gate {name!r}; known: {', '.join(sorted(_QSIM_GATES))}, c, m, p")
    n_qubits, n_params, factory = _QSIM_GATES[name]
    if len(args) != n_qubits + n_params:
        raise CircuitFileError(f"{where}: gate {name} takes {n_qubits} qubit(s) and {n_params} parameter(s)")
    qubits = _qubits(args[:n_qubits], n, where)
    if len(set(qubits)) != len(qubits):
        raise CircuitFileError(f"{where}: gate {name} repeats a qubit")
    return factory(*_numbers(args[n_qubits:], where, name)).on(*qubits)


def _numbers(fields: list[str], where: str, name: str) -> list[float]:
    try:
        return [float(p) for p in fields]
    except ValueError:
        raise CircuitFileError(f"{where}: gate {name} has a parameter that is not a number") from None


def _qubits(fields: list[str], n: int, where: str) -> list[cirq.LineQubit]:
    out = []
    for f in fields:
        if not f.isdigit() or int(f) >= n:
            raise CircuitFileError(f"{where}: qubit {f!r} is not an index in 0..{n - 1}")
        out.append(cirq.LineQubit(int(f)))
    return out
