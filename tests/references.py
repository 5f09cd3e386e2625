"""Independent references for circuit files: qsim's own reader and simulator for .qsim,
Qiskit's loaders and Statevector for .qasm. States come back big-endian over the file's
declared qubits (qubit 0 of the first register leftmost), qtn's default order."""

from __future__ import annotations

import atexit
import functools
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest

QSIM_REFERENCE = Path(__file__).parent / "qsim_reference"


@functools.lru_cache(maxsize=None)
def qsim_state_exe() -> Path:
    """qsim's reference simulator (tests/qsim_reference), compiled once per session."""
    if shutil.which("g++") is None:
        pytest.skip("g++ is needed to build qsim's reference simulator")
    folder = tempfile.mkdtemp(prefix="qsim-ref-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    exe = Path(folder) / "qsim_state"
    subprocess.run(["g++", "-O1", "-std=c++17", "-o", str(exe), str(QSIM_REFERENCE / "qsim_state.cc")], check=True)
    return exe


def qsim_state(path: Path) -> np.ndarray:
    """qsim's final state of a .qsim file, big-endian over qubits 0..n-1 (qsim: qubit k is bit k)."""
    n = int(path.read_text().split()[0])
    out = subprocess.run([str(qsim_state_exe()), str(path)], capture_output=True, text=True, check=True).stdout
    state = np.array(out.split(), dtype=float).reshape(-1, 2) @ np.array([1, 1j])
    return state.reshape((2,) * n).transpose(list(range(n))[::-1]).reshape(-1)


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
