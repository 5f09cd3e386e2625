"""Independent references for circuit files: a NumPy state-vector simulator of qsim's
``.qsim`` format written here from qsim's gate definitions, and Qiskit's loaders and
Statevector for ``.qasm``. States come back big-endian over the file's declared qubits
(qubit 0 of the first register leftmost), qtn's default order. Nothing here uses qtn."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

_S2 = 1 / math.sqrt(2)
_H = 0.5 + 0.5j  # qsim's h_double entries (0.5 + 0.5i) of x_1_2, y_1_2, hz_1_2


def _rx(phi: float) -> np.ndarray:  # GateRX: c = cos(-phi/2), s = sin(-phi/2): [[c, is], [is, c]]
    c, s = math.cos(-phi / 2), math.sin(-phi / 2)
    return np.array([[c, 1j * s], [1j * s, c]])


def _ry(phi: float) -> np.ndarray:  # GateRY: [[c, s], [-s, c]], c, s as in GateRX
    c, s = math.cos(-phi / 2), math.sin(-phi / 2)
    return np.array([[c, s], [-s, c]])


def _rz(phi: float) -> np.ndarray:  # GateRZ: diag(c + is, c - is)
    c, s = math.cos(-phi / 2), math.sin(-phi / 2)
    return np.diag([c + 1j * s, c - 1j * s])


def _rxy(theta: float, phi: float) -> np.ndarray:
    # GateRXY: cp, sp = cos, sin(-phi/2); ct, st = cos(theta) sp, sin(theta) sp;
    # [[cp, st + i ct], [-st + i ct, cp]]
    cp, sp = math.cos(-phi / 2), math.sin(-phi / 2)
    ct, st = math.cos(theta) * sp, math.sin(theta) * sp
    return np.array([[cp, st + 1j * ct], [-st + 1j * ct, cp]])


def _fs(theta: float, phi: float) -> np.ndarray:
    # GateFS (qsim adds 2π to a negative phi first: no change to cos/sin)
    ct, st = math.cos(theta), math.sin(theta)
    return np.array([[1, 0, 0, 0], [0, ct, -1j * st, 0], [0, -1j * st, ct, 0], [0, 0, 0, np.exp(-1j * phi)]])


def _cp(phi: float) -> np.ndarray:  # GateCP: diag(1, 1, 1, cos(phi) - i sin(phi))
    return np.diag([1, 1, 1, np.exp(-1j * phi)])


# The gates of qsim's file format: name -> (qubits, parameters, matrix of the parameters).
# Each matrix is transcribed from the gate struct named in the comment, in qsim's
# lib/gates_qsim.h (quantumlib/qsim), row-major. A two-qubit gate "g q0 q1" has qsim's
# matrix index b(q0) + 2 b(q1) (qsim reorders the matrix itself when q0 > q1).
QSIM_GATES: dict[str, tuple[int, int, Callable[..., np.ndarray]]] = {
    "p": (0, 1, lambda phi: np.array([[np.exp(1j * phi)]])),  # GateGPh: cos(phi) + i sin(phi)
    "id1": (1, 0, lambda: np.eye(2)),  # GateId1
    "h": (1, 0, lambda: _S2 * np.array([[1, 1], [1, -1]])),  # GateHd
    "t": (1, 0, lambda: np.diag([1, _S2 + 1j * _S2])),  # GateT
    "x": (1, 0, lambda: np.array([[0, 1], [1, 0]])),  # GateX
    "y": (1, 0, lambda: np.array([[0, -1j], [1j, 0]])),  # GateY
    "z": (1, 0, lambda: np.diag([1, -1])),  # GateZ
    "x_1_2": (1, 0, lambda: np.array([[_H, _H.conjugate()], [_H.conjugate(), _H]])),  # GateX2
    "y_1_2": (1, 0, lambda: np.array([[_H, -_H], [_H, _H]])),  # GateY2
    "rx": (1, 1, _rx),  # GateRX
    "ry": (1, 1, _ry),  # GateRY
    "rz": (1, 1, _rz),  # GateRZ
    "rxy": (1, 2, _rxy),  # GateRXY
    "hz_1_2": (1, 0, lambda: np.array([[_H, -1j * _S2], [_S2, _H]])),  # GateHZ2
    "s": (1, 0, lambda: np.diag([1, 1j])),  # GateS
    "id2": (2, 0, lambda: np.eye(4)),  # GateId2
    "cz": (2, 0, lambda: np.diag([1, 1, 1, -1])),  # GateCZ
    "cnot": (2, 0, lambda: np.eye(4)[[0, 3, 2, 1]]),  # GateCNot: q0 controls, q1 flips
    "cx": (2, 0, lambda: np.eye(4)[[0, 3, 2, 1]]),  # GateCNot (the parser's other name)
    "sw": (2, 0, lambda: np.eye(4)[[0, 2, 1, 3]]),  # GateSwap
    "is": (2, 0, lambda: np.array([[1, 0, 0, 0], [0, 0, 1j, 0], [0, 1j, 0, 0], [0, 0, 0, 1]])),  # GateIS
    "fs": (2, 2, _fs),  # GateFS
    "cp": (2, 1, _cp),  # GateCP
}


def _controlled(u: np.ndarray, n_controls: int) -> np.ndarray:
    """``u`` on its qubits followed by control qubits (higher index bits), applied when all are 1
    (qsim's ControlledGate from the parser: every control value 1)."""
    full = np.eye(len(u) << n_controls, dtype=complex)
    full[-len(u) :, -len(u) :] = u
    return full


def _apply(state: np.ndarray, u: np.ndarray, qubits: list[int]) -> np.ndarray:
    """``u`` (index little-endian over ``qubits``) on ``state`` (axis k is qubit k)."""
    k = len(qubits)
    if k == 0:
        return u[0, 0] * state
    # a C-order reshape makes u's first row axis its most significant bit: qubits[-1]
    tensor = u.reshape((2,) * (2 * k))
    axes = qubits[::-1]
    out = np.tensordot(tensor, state, axes=(list(range(k, 2 * k)), axes))
    return np.moveaxis(out, list(range(k)), axes)


def qsim_amplitudes(text: str) -> np.ndarray:
    """The final state of a ``.qsim`` program from |0...0>, in qsim's index order (qubit k is
    bit k of the index). Lines run in file order, as qsim's simulator runs them.

    Raises:
        ValueError: on a line this reference does not read (it knows no measurements).
    """
    lines = [ln.split() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    n = int(lines[0][0])
    state = np.zeros((2,) * n, dtype=complex)
    state[(0,) * n] = 1
    last_time = [-1] * n
    for fields in lines[1:]:
        time, name, rest = int(fields[0]), fields[1], fields[2:]
        controls: list[int] = []
        if name == "c":
            while rest[0].isdigit():
                controls.append(int(rest.pop(0)))
            name, rest = rest[0], rest[1:]
        if name not in QSIM_GATES:
            raise ValueError(f"the qsim reference does not simulate {name!r}: {' '.join(fields)}")
        n_qubits, n_params, matrix = QSIM_GATES[name]
        if len(rest) != n_qubits + n_params:
            raise ValueError(f"{name} takes {n_qubits} qubits and {n_params} parameters: {' '.join(fields)}")
        qubits = [int(q) for q in rest[:n_qubits]] + controls
        if len(set(qubits)) != len(qubits) or any(time <= last_time[q] for q in qubits):
            raise ValueError(f"repeated qubit or out of time order: {' '.join(fields)}")
        for q in qubits:
            last_time[q] = time
        u = _controlled(matrix(*map(float, rest[n_qubits:])), len(controls))
        state = _apply(state, u, qubits)
    return state.transpose(list(range(n))[::-1]).reshape(-1)


def qsim_state(path: Path) -> np.ndarray:
    """qsim's final state of a .qsim file (:func:`qsim_amplitudes`), big-endian over qubits 0..n-1."""
    amplitudes = qsim_amplitudes(path.read_text())
    return big_endian_state(amplitudes)


def big_endian_state(data: np.ndarray) -> np.ndarray:
    """A Qiskit (little-endian) state vector reindexed big-endian over the same qubits."""
    n = int(np.log2(len(data)))
    return np.asarray(data).reshape((2,) * n).transpose(list(range(n))[::-1]).reshape(-1)


def qiskit_qasm_state(text: str) -> np.ndarray:
    """Qiskit's ``Statevector`` of an OpenQASM 2 or 3 program (Qiskit's loader), big-endian
    over the declared qubits. Measurements at the end are dropped."""
    pytest.importorskip("qiskit")
    from qiskit.quantum_info import Statevector

    if "OPENQASM 3" in text:
        pytest.importorskip("qiskit_qasm3_import")
        from qiskit import qasm3

        qc = qasm3.loads(text)
    else:
        from qiskit import qasm2

        qc = qasm2.loads(text, custom_instructions=qasm2.LEGACY_CUSTOM_INSTRUCTIONS)
    return big_endian_state(Statevector(qc.remove_final_measurements(inplace=False)).data)
