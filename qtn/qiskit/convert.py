"""Qiskit ``QuantumCircuit`` → ``cirq.Circuit``, with Qiskit's bit order made explicit.

Qubit ``i`` of register ``q`` becomes ``cirq.NamedQubit("q_i")`` and clbit ``i`` of
``c`` the measurement key ``"c_i"``, as Cirq's QASM importer names the same circuit
exported to OpenQASM. Qiskit indexes states little-endian (qubit k is bit k of the
index); qtn big-endian over a qubit order, so the order that reproduces Qiskit's
``Statevector`` indices and count strings is the circuit's qubits reversed
(:func:`qiskit_order`).
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any, Sequence

import cirq
import numpy as np
import sympy

from ..io.errors import CircuitFileError
from ..io.gates import QELIB1, QISKIT_EXTRA, STDGATES, StandardGate, big_endian
from ..io.layout import with_declared_qubits
from ..io.qasm_common import controlled_on

#: Qiskit gate names whose Cirq gate qtn knows (Qiskit's matrix, checked in tests).
_KNOWN: dict[str, StandardGate] = {**QELIB1, **STDGATES, **QISKIT_EXTRA,
                                   "rcccx": QELIB1["rc3x"], "c3sx": QELIB1["c3sqrtx"]}
_SKIPPED = {"barrier", "delay", "id"}
#: Gates without a known Cirq gate become one matrix up to this many qubits (else their definition).
_MATRIX_QUBITS = 3


def is_quantum_circuit(obj: Any) -> bool:
    """Whether ``obj`` is a Qiskit ``QuantumCircuit`` (without importing Qiskit when it is not)."""
    if not type(obj).__module__.startswith("qiskit"):
        return False
    from qiskit import QuantumCircuit

    return isinstance(obj, QuantumCircuit)


def _names(bits: Sequence[Any], circuit: Any, loose: str) -> dict[Any, str]:
    out = {}
    for i, bit in enumerate(bits):
        regs = circuit.find_bit(bit).registers
        out[bit] = f"{regs[0][0].name}_{regs[0][1]}" if regs else f"{loose}_{i}"
    return out


def qubit_map(circuit: Any) -> dict[Any, cirq.NamedQubit]:
    """Each Qiskit qubit of ``circuit`` → its Cirq qubit (``q_0``, ... per register)."""
    return {b: cirq.NamedQubit(n) for b, n in _names(circuit.qubits, circuit, "qubit").items()}


def clbit_keys(circuit: Any) -> dict[Any, str]:
    """Each Qiskit clbit of ``circuit`` → its measurement key (``c_0``, ... per register)."""
    return _names(circuit.clbits, circuit, "clbit")


def qiskit_order(circuit: Any) -> list[cirq.NamedQubit]:
    """The qubit order under which qtn's big-endian indices and bitstrings are Qiskit's:
    the circuit's qubits, last first."""
    qmap = qubit_map(circuit)
    return [qmap[q] for q in reversed(circuit.qubits)]


def _numbers(op: Any) -> list[float]:
    values = []
    for p in op.params:
        if hasattr(p, "parameters") and p.parameters:
            names = ", ".join(sorted(str(x) for x in p.parameters))
            raise ValueError(f"Qiskit gate {op.name} has unbound parameter(s) {names}; "
                             "bind them first (QuantumCircuit.assign_parameters)")
        values.append(float(p) if not isinstance(p, np.ndarray) else p)
    return values


def _default_ctrl_state(op: Any) -> bool:
    n = getattr(op, "num_ctrl_qubits", 0)
    return not n or getattr(op, "ctrl_state", 2**n - 1) == 2**n - 1


class _Converter:
    def __init__(self, circuit: Any):
        self.top = circuit
        self.qmap = qubit_map(circuit)
        self.cmap = _names(circuit.clbits, circuit, "clbit")
        self.measured: set[str] = set()

    def circuit(self) -> cirq.Circuit:
        return cirq.Circuit(self.block(self.top, self.qmap, self.cmap) + self.phase(self.top))

    def block(self, circuit: Any, qmap: dict, cmap: dict) -> list[cirq.Operation]:
        ops: list[cirq.Operation] = []
        for inst in circuit.data:
            qubits = [qmap[q] for q in inst.qubits]
            keys = [cmap[c] for c in inst.clbits]
            ops.extend(self.instruction(inst.operation, qubits, keys, cmap, inst.clbits, circuit))
        return ops

    def instruction(self, op: Any, qubits: list, keys: list, cmap: dict, clbits: Sequence, circuit: Any
                    ) -> list[cirq.Operation]:
        name = op.name
        if name in _SKIPPED:
            return []
        if name == "measure":
            self.measured.add(keys[0])
            return [cirq.measure(qubits[0], key=keys[0])]
        if name == "reset":
            return [cirq.ResetChannel().on(qubits[0])]
        if name == "global_phase":
            return [cirq.GlobalPhaseGate(complex(np.exp(1j * _numbers(op)[0]))).on()]
        if name == "if_else":
            return self.if_else(op, qubits, keys, cmap, clbits, circuit)
        if getattr(op, "condition", None):
            raise ValueError(f"Qiskit instruction {name} has a c_if condition; use if_test instead")
        from qiskit.circuit import ControlFlowOp, Gate

        if isinstance(op, Gate):
            return self.gate(op, qubits)
        if not isinstance(op, ControlFlowOp) and op.definition is not None:  # e.g. Qiskit's arithmetic blueprints
            d = op.definition
            return self.block(d, dict(zip(d.qubits, qubits)), dict(zip(d.clbits, keys))) + self.phase(d)
        raise ValueError(f"Qiskit instruction {name!r} is not supported by qtn (supported: gates, measure, "
                         "reset, barrier, delay, if_test/if_else)")

    def gate(self, op: Any, qubits: list) -> list[cirq.Operation]:
        values = _numbers(op)
        known = _KNOWN.get(op.name)
        if known and known.n_qubits == len(qubits) and known.n_params == len(values) and _default_ctrl_state(op):
            return [known.make(*values).on(*qubits)]
        if len(qubits) <= _MATRIX_QUBITS or op.definition is None:
            try:
                matrix = op.to_matrix()
            except Exception:  # noqa: BLE001 - Qiskit raises several types for "no matrix"
                matrix = None
            if matrix is not None:
                return [cirq.MatrixGate(big_endian(np.asarray(matrix)), name=op.name).on(*qubits)]
        if op.definition is None:
            raise ValueError(f"Qiskit gate {op.name!r} has neither a matrix nor a definition")
        d = op.definition
        return self.block(d, dict(zip(d.qubits, qubits)), {}) + self.phase(d)

    @staticmethod
    def phase(circuit: Any) -> list[cirq.Operation]:
        """The global phase of ``circuit`` as an operation (none when it is 0)."""
        if not circuit.global_phase:
            return []
        return [cirq.GlobalPhaseGate(complex(np.exp(1j * float(circuit.global_phase)))).on()]

    def if_else(self, op: Any, qubits: list, keys: list, cmap: dict, clbits: Sequence, circuit: Any
                ) -> list[cirq.Operation]:
        cond = op.condition
        target, value = cond if isinstance(cond, tuple) else (None, None)
        if target is None:
            raise ValueError("qtn supports if_test on a (Clbit, value) or (ClassicalRegister, value) condition, "
                             "not a classical expression")
        bits = [target] if not hasattr(target, "size") else list(target)
        names = [cmap.get(b) or _names([b], circuit, "clbit")[b] for b in bits]
        value = int(value)
        condition = sympy.And(*[sympy.Eq(sympy.Symbol(k), (value >> i) & 1) for i, k in enumerate(names)])
        true_body, false_body = op.params[0], op.params[1]
        out = []
        for body, cond in ((true_body, condition), (false_body, sympy.Not(condition))):
            if body is not None:
                inner = self.block(body, dict(zip(body.qubits, qubits)), dict(zip(body.clbits, keys)))
                out += controlled_on(inner, cond, self.measured)
        return out


def to_cirq(circuit: Any) -> tuple[cirq.Circuit, list[cirq.NamedQubit]]:
    """A Qiskit ``QuantumCircuit`` as a ``cirq.Circuit`` and the qubit order of Qiskit's indices.

    Every qubit of ``circuit`` is in the result, idle or not; Qiskit's
    ``global_phase`` is kept (as ``cirq.GlobalPhaseGate``), so amplitudes equal
    ``Statevector(circuit)`` including the phase.

    Raises:
        ValueError: an unbound parameter, a ``c_if`` or classical-expression
            condition, or an instruction qtn does not simulate (named).
    """
    conv = _Converter(circuit)
    order = qiskit_order(circuit)
    return with_declared_qubits(conv.circuit(), order), order


def read_qpy(path: "str | os.PathLike[str]") -> cirq.Circuit:
    """The one circuit of a Qiskit QPY file, in Qiskit's qubit order (see :func:`to_cirq`).

    Raises:
        CircuitFileError: Qiskit is not installed, the file is not QPY, holds other than
            one circuit, or a circuit qtn cannot simulate.
    """
    try:
        from qiskit import qpy
    except ImportError:
        raise CircuitFileError(f"{path}: reading .qpy files needs Qiskit (pip install 'qtn[qiskit]')") from None
    try:
        with open(path, "rb") as f:
            circuits = qpy.load(f)
    except Exception as err:  # noqa: BLE001 - QPY raises many types for a bad file
        raise CircuitFileError(f"{path}: not a QPY file Qiskit can read ({err})") from None
    if len(circuits) != 1:
        raise CircuitFileError(f"{path}: holds {len(circuits)} circuits; qtn reads a QPY file of one")
    try:
        return to_cirq(circuits[0])[0]
    except ValueError as err:
        raise CircuitFileError(f"{Path(path)}: {err}") from None
