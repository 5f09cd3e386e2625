"""The reference ``--check`` compares qtn with: a state vector computed from the circuit
file by someone else's reader and simulator, never from qtn's own parse.

- ``.qasm`` / ``.qasm3``: Qiskit's loader (``qiskit.qasm2`` with Qiskit's legacy custom
  instructions, as ``QuantumCircuit.from_qasm_str``; ``qiskit.qasm3``) and
  ``qiskit.quantum_info.Statevector``; without Qiskit, Cirq's own importer
  (``cirq.contrib.qasm_import``) and ``cirq.final_state_vector``. OpenQASM 2 gates are
  defined up to a global phase (Qiskit takes its own gate where a file defines one by
  name), so OpenQASM 2 files are compared up to one global phase.
- ``.qpy``: Qiskit's ``qpy.load`` and ``Statevector`` (exact, global phase included).
- ``.json`` and circuit names: Cirq's own reader / the generated circuit, with
  ``cirq.final_state_vector``.
- ``.qsim``: no independent reader is installable (qsimcirq reads no ``.qsim`` files),
  so Cirq's state of qtn's parse, and the check says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import cirq
import numpy as np


@dataclass(frozen=True)
class Reference:
    """A reference state, big-endian over the qubits qtn reports, and how it was made."""

    state: np.ndarray
    name: str
    up_to_global_phase: bool = False


def _qiskit_state(qc: Any) -> np.ndarray:
    from qiskit.quantum_info import Statevector

    return Statevector(qc.remove_final_measurements(inplace=False)).data


def _reindex(little: np.ndarray, n: int) -> np.ndarray:
    # Qiskit's index (qubit k = bit k) as big-endian over the declared qubits
    return little.reshape((2,) * n).transpose(list(range(n))[::-1]).reshape(-1)


def _qasm_reference(text: str, n: int) -> Reference | str:
    v3 = text.lstrip().startswith("OPENQASM 3") or "\nOPENQASM 3" in text[:2000]
    try:
        import qiskit  # noqa: F401
    except ImportError:
        return _cirq_importer_reference(text, n, v3)
    try:
        if v3:
            from qiskit import qasm3

            qc = qasm3.loads(text)
        else:
            from qiskit import qasm2

            qc = qasm2.loads(text, custom_instructions=qasm2.LEGACY_CUSTOM_INSTRUCTIONS)
    except Exception as err:  # noqa: BLE001 - the reference's own failure is reported, not raised
        return f"skipped: Qiskit's OpenQASM {'3' if v3 else '2'} loader cannot read the file ({err})"
    if qc.num_qubits != n:
        return f"skipped: Qiskit's loader gives {qc.num_qubits} qubits, qtn {n}"
    name = f"qiskit.qasm{'3' if v3 else '2'} + qiskit Statevector (complex128)"
    return Reference(_reindex(_qiskit_state(qc), n), name + ("" if v3 else ", up to a global phase"),
                     up_to_global_phase=not v3)


def _cirq_importer_reference(text: str, n: int, v3: bool) -> Reference | str:
    if v3:
        return "skipped: OpenQASM 3 needs Qiskit as the reference (pip install 'qtn[qiskit]')"
    from cirq.contrib.qasm_import import circuit_from_qasm

    try:
        circuit = circuit_from_qasm(text)
    except Exception as err:  # noqa: BLE001
        return f"skipped: Cirq's importer, the reference without Qiskit, cannot read the file ({err})"
    qubits = sorted(circuit.all_qubits())
    if len(qubits) != n:
        return f"skipped: Cirq's importer keeps {len(qubits)} of the {n} declared qubits"
    state = cirq.final_state_vector(cirq.drop_terminal_measurements(circuit), qubit_order=qubits,
                                    dtype=np.complex128)
    return Reference(state, "cirq.contrib.qasm_import + cirq.final_state_vector, up to a global phase", True)


def reference_state(spec: str, circuit: cirq.AbstractCircuit, qubits: Sequence[cirq.Qid],
                    max_qubits: int) -> Reference | str:
    """The reference state of the circuit ``spec`` names, or why there is none.

    ``circuit``/``qubits`` are qtn's reading, used only for circuit names, Cirq JSON and
    ``.qsim`` (see the module notes).
    """
    n = len(qubits)
    if n > max_qubits:
        return f"skipped: {n} qubits is over the {max_qubits} for which --check builds a state vector"
    suffix = Path(spec).suffix.lower() if Path(spec).is_file() else ""
    if suffix in (".qasm", ".qasm3"):
        return _qasm_reference(Path(spec).read_text(encoding="utf-8"), n)
    if suffix == ".qpy":
        from qiskit import qpy

        with open(spec, "rb") as f:
            (qc,) = qpy.load(f)
        return Reference(_qiskit_state(qc), "qiskit.qpy + qiskit Statevector (complex128)")
    state = cirq.final_state_vector(circuit, qubit_order=qubits, dtype=np.complex128)
    if suffix == ".qsim":
        return Reference(state, "cirq.final_state_vector of qtn's .qsim parse (no independent .qsim "
                                "reader is installable; tests check the reader against qsim's gate matrices)")
    return Reference(state, "cirq.final_state_vector (complex128)")


def align_phase(ours: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """``ours`` times the global phase that brings it closest to ``ref``."""
    overlap = np.vdot(ours, ref)
    return ours * (overlap / abs(overlap)) if abs(overlap) > 1e-12 else ours

