"""What the OpenQASM 2 and 3 readers share: qubit and bit names as Cirq's importer gives
them, broadcasting over registers, measurement, reset and ``if (c == n)``."""

from __future__ import annotations

from typing import Any, Sequence

import cirq
import sympy

from .errors import CircuitFileError


def qubit(register: str, index: int) -> cirq.NamedQubit:
    """Qubit ``index`` of a register, named as ``cirq.contrib.qasm_import`` names it (``q_0``)."""
    return cirq.NamedQubit(f"{register}_{index}")


def bit_key(register: str, index: int) -> str:
    """The measurement key of one classical bit (``c_0``), as Cirq's importer writes it."""
    return f"{register}_{index}"


def broadcast(args: Sequence[list], where: str, what: str) -> list[tuple]:
    """Qiskit's rule for register arguments: registers of one size n give n calls, a
    single qubit repeats in each.

    Raises:
        CircuitFileError: registers of different sizes.
    """
    sizes = {len(a) for a in args if len(a) != 1}
    if len(sizes) > 1:
        raise CircuitFileError(f"{where}: {what} on registers of different sizes {sorted(sizes)}")
    n = sizes.pop() if sizes else 1
    return [tuple(a[i] if len(a) != 1 else a[0] for a in args) for i in range(n)]


def gate_op(gate: cirq.Gate, qubits: Sequence[cirq.Qid], where: str, name: str) -> cirq.Operation:
    """``gate`` on ``qubits``, with a one-line error for a repeated qubit."""
    if len(set(qubits)) != len(qubits):
        raise CircuitFileError(f"{where}: gate {name} repeats qubit {qubits[0]}" if len(qubits) == 2 else
                               f"{where}: gate {name} repeats a qubit among {', '.join(map(str, qubits))}")
    return gate.on(*qubits)


def measure(qubits: list[cirq.Qid], keys: list[str], where: str) -> list[cirq.Operation]:
    """``measure q -> c``: one single-qubit measurement per bit, keyed by the bit.

    Raises:
        CircuitFileError: registers of different sizes.
    """
    if len(qubits) != len(keys):
        raise CircuitFileError(f"{where}: measure of {len(qubits)} qubit(s) into {len(keys)} bit(s)")
    return [cirq.measure(q, key=k) for q, k in zip(qubits, keys)]


def reset(qubits: list[cirq.Qid]) -> list[cirq.Operation]:
    """``reset q``: each qubit back to |0>."""
    return [cirq.ResetChannel().on(q) for q in qubits]


def classically_controlled(ops: list[cirq.Operation], keys: list[str], value: int, where: str,
                           measured: set[str]) -> list[cirq.Operation]:
    """``if (c == value) op``: ``op`` when the bits of ``c`` read ``value`` (bit i of
    ``c`` is bit i of ``value``, little-endian as in OpenQASM); see :func:`controlled_on`.

    Raises:
        CircuitFileError: ``value`` does not fit the register.
    """
    if value < 0 or value >= 2 ** len(keys):
        raise CircuitFileError(f"{where}: if compares a {len(keys)}-bit register with {value}, which never matches")
    condition = sympy.And(*[sympy.Eq(sympy.Symbol(k), (value >> i) & 1) for i, k in enumerate(keys)])
    return controlled_on(ops, condition, measured)


def measured_keys(ops: list[cirq.Operation]) -> set[str]:
    """The measurement keys ``ops`` write."""
    return {cirq.measurement_key_name(op) for op in ops if cirq.is_measurement(op)}


def controlled_on(ops: list[cirq.Operation], condition: Any, measured: set[str]) -> list[cirq.Operation]:
    """``ops`` under a sympy ``condition`` on measurement keys; keys not in ``measured``
    read 0 (as in Qiskit), so a condition they decide is applied here."""
    unmeasured = {s: 0 for s in condition.free_symbols if s.name not in measured}
    condition = condition.subs(unmeasured) if unmeasured else condition
    if condition is sympy.true:
        return list(ops)
    if condition is sympy.false:
        return []
    return [cirq.ClassicallyControlledOperation(op, [condition]) for op in ops]
