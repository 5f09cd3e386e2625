"""The standard gates of OpenQASM 2 (``qelib1.inc`` as Qiskit reads it) and OpenQASM 3
(``stdgates.inc``), as Cirq gates with Qiskit's matrices, global phase included.

Cirq gates are used where one is exact (``cirq.rz`` is Qiskit's ``RZGate``, ``ZPowGate``
its ``PhaseGate``); otherwise a ``cirq.MatrixGate``. Parameters are used as given: no
angle is wrapped, so a controlled gate keeps its relative phase for every value.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Callable

import cirq
import numpy as np


def u_matrix(theta: float, phi: float, lam: float) -> np.ndarray:
    """OpenQASM's ``U(θ, φ, λ)`` (Qiskit's ``UGate``), with its global phase."""
    c, s = math.cos(theta / 2), math.sin(theta / 2)
    return np.array([[c, -np.exp(1j * lam) * s],
                     [np.exp(1j * phi) * s, np.exp(1j * (phi + lam)) * c]])


def big_endian(matrix: np.ndarray) -> np.ndarray:
    """A matrix written little-endian over its qubits (Qiskit's convention) as Cirq's big-endian one."""
    n = int(round(math.log2(matrix.shape[0])))
    axes = list(range(n))[::-1]
    t = matrix.reshape((2,) * (2 * n)).transpose(axes + [n + a for a in axes])
    return t.reshape(matrix.shape)


def _u(theta: float, phi: float, lam: float) -> cirq.Gate:
    return cirq.MatrixGate(u_matrix(theta, phi, lam), name="U")


def _phase(lam: float) -> cirq.Gate:
    return cirq.ZPowGate(exponent=lam / math.pi)


def _ctrl(gate: cirq.Gate, n: int = 1) -> cirq.Gate:
    return cirq.ControlledGate(gate, num_controls=n)


def _cu(theta: float, phi: float, lam: float, gamma: float) -> cirq.Gate:
    # Qiskit's CUGate: the target gets e^{iγ} U(θ, φ, λ) when the control is 1
    return _ctrl(cirq.MatrixGate(np.exp(1j * gamma) * u_matrix(theta, phi, lam), name="U"))


def _pauli_rotation(pauli: np.ndarray, theta: float) -> np.ndarray:
    return math.cos(theta / 2) * np.eye(len(pauli)) - 1j * math.sin(theta / 2) * pauli


_X = np.array([[0, 1], [1, 0]])
_Z = np.diag([1, -1])


def _rzx(theta: float) -> cirq.Gate:
    # Qiskit's RZXGate on (a, b): Z on a, X on b
    return cirq.MatrixGate(_pauli_rotation(np.kron(_Z, _X), theta), name="RZX")


def _r(theta: float, phi: float) -> cirq.Gate:
    # Qiskit's RGate: exp(-iθ/2 (cos φ X + sin φ Y))
    return cirq.MatrixGate(u_matrix(theta, phi - math.pi / 2, -phi + math.pi / 2), name="R")


def _matrix_of(ops: list[tuple[cirq.Gate, tuple[int, ...]]], n: int, name: str) -> cirq.Gate:
    qs = cirq.LineQubit.range(n)
    u = cirq.unitary(cirq.Circuit(g.on(*(qs[i] for i in idx)) for g, idx in ops))
    return cirq.MatrixGate(u, name=name)


@functools.lru_cache(maxsize=None)
def _rccx() -> cirq.Gate:
    # qelib1.inc's body, which Qiskit's RCCXGate matrix equals
    h, t, tdg = _u(math.pi / 2, 0, math.pi), _phase(math.pi / 4), _phase(-math.pi / 4)
    return _matrix_of([(h, (2,)), (t, (2,)), (cirq.CNOT, (1, 2)), (tdg, (2,)), (cirq.CNOT, (0, 2)),
                       (t, (2,)), (cirq.CNOT, (1, 2)), (tdg, (2,)), (h, (2,))], 3, "RCCX")


@functools.lru_cache(maxsize=None)
def _rc3x() -> cirq.Gate:
    h, t, tdg = _u(math.pi / 2, 0, math.pi), _phase(math.pi / 4), _phase(-math.pi / 4)
    cx = cirq.CNOT
    return _matrix_of([(h, (3,)), (t, (3,)), (cx, (2, 3)), (tdg, (3,)), (h, (3,)), (cx, (0, 3)), (t, (3,)),
                       (cx, (1, 3)), (tdg, (3,)), (cx, (0, 3)), (t, (3,)), (cx, (1, 3)), (tdg, (3,)), (h, (3,)),
                       (t, (3,)), (cx, (2, 3)), (tdg, (3,)), (h, (3,))], 4, "RC3X")


@dataclass(frozen=True)
class StandardGate:
    """One named gate: how many qubits and parameters it takes, and its Cirq gate."""

    n_qubits: int
    n_params: int
    make: Callable[..., cirq.Gate]


def _fixed(n: int, gate: "cirq.Gate | Callable[[], cirq.Gate]") -> StandardGate:
    return StandardGate(n, 0, gate if callable(gate) and not isinstance(gate, cirq.Gate) else (lambda: gate))


_SX = cirq.XPowGate(exponent=0.5)
_SHARED = {
    "id": _fixed(1, cirq.I), "x": _fixed(1, cirq.X), "y": _fixed(1, cirq.Y), "z": _fixed(1, cirq.Z),
    "h": _fixed(1, cirq.H), "s": _fixed(1, cirq.S), "sdg": _fixed(1, cirq.S**-1), "t": _fixed(1, cirq.T),
    "tdg": _fixed(1, cirq.T**-1), "sx": _fixed(1, _SX), "sxdg": _fixed(1, cirq.XPowGate(exponent=-0.5)),
    "rx": StandardGate(1, 1, cirq.rx), "ry": StandardGate(1, 1, cirq.ry), "rz": StandardGate(1, 1, cirq.rz),
    "p": StandardGate(1, 1, _phase), "u1": StandardGate(1, 1, _phase),
    "u2": StandardGate(1, 2, lambda phi, lam: _u(math.pi / 2, phi, lam)),
    "u3": StandardGate(1, 3, _u), "u": StandardGate(1, 3, _u),
    "cx": _fixed(2, cirq.CNOT), "cy": _fixed(2, _ctrl(cirq.Y)), "cz": _fixed(2, cirq.CZ),
    "ch": _fixed(2, _ctrl(cirq.H)), "swap": _fixed(2, cirq.SWAP),
    "crx": StandardGate(2, 1, lambda t: _ctrl(cirq.rx(t))), "cry": StandardGate(2, 1, lambda t: _ctrl(cirq.ry(t))),
    "crz": StandardGate(2, 1, lambda t: _ctrl(cirq.rz(t))),
    "cp": StandardGate(2, 1, lambda lam: cirq.CZPowGate(exponent=lam / math.pi)),
    "cu": StandardGate(2, 4, _cu), "ccx": _fixed(3, cirq.CCX), "cswap": _fixed(3, cirq.CSWAP),
}

#: ``qelib1.inc`` as Qiskit's ``qasm2`` loader knows it, plus the built-ins ``U`` and ``CX``.
QELIB1: dict[str, StandardGate] = {
    **_SHARED,
    "U": StandardGate(1, 3, _u), "CX": _fixed(2, cirq.CNOT),
    "u0": StandardGate(1, 1, lambda _: cirq.I),
    "cu1": StandardGate(2, 1, lambda lam: cirq.CZPowGate(exponent=lam / math.pi)),
    "cu3": StandardGate(2, 3, lambda t, p, lam: _ctrl(_u(t, p, lam))),
    "csx": _fixed(2, _ctrl(_SX)),
    "rxx": StandardGate(2, 1, lambda t: cirq.XXPowGate(exponent=t / math.pi, global_shift=-0.5)),
    "rzz": StandardGate(2, 1, lambda t: cirq.ZZPowGate(exponent=t / math.pi, global_shift=-0.5)),
    "rccx": _fixed(3, _rccx), "rc3x": _fixed(4, _rc3x),
    "c3x": _fixed(4, _ctrl(cirq.X, 3)), "c3sqrtx": _fixed(4, _ctrl(_SX, 3)), "c4x": _fixed(5, _ctrl(cirq.X, 4)),
}

#: OpenQASM 3's ``stdgates.inc``; ``U`` and ``gphase`` are built into the language.
STDGATES: dict[str, StandardGate] = {
    **_SHARED,
    "phase": StandardGate(1, 1, _phase), "cphase": StandardGate(2, 1, lambda lam: cirq.CZPowGate(exponent=lam / math.pi)),
    "CX": _fixed(2, cirq.CNOT),
}

#: Gates Qiskit's exporters write with a ``gate`` definition, known here too so that a
#: ``QuantumCircuit`` converts without one (Qiskit names, Qiskit matrices).
QISKIT_EXTRA: dict[str, StandardGate] = {
    "ryy": StandardGate(2, 1, lambda t: cirq.YYPowGate(exponent=t / math.pi, global_shift=-0.5)),
    "rzx": StandardGate(2, 1, _rzx), "r": StandardGate(1, 2, _r),
    "iswap": _fixed(2, cirq.ISWAP), "ccz": _fixed(3, cirq.CCZ),
    "cs": _fixed(2, _ctrl(cirq.S)), "csdg": _fixed(2, _ctrl(cirq.S**-1)),
    "ecr": _fixed(2, cirq.MatrixGate(big_endian(np.array(
        [[0, 1, 0, 1j], [1, 0, -1j, 0], [0, 1j, 0, 1], [-1j, 0, 1, 0]]) / math.sqrt(2)), name="ECR")),
    "dcx": _fixed(2, _matrix_of([(cirq.CNOT, (0, 1)), (cirq.CNOT, (1, 0))], 2, "DCX")),
}
