"""The corpus (tests/qiskit_corpus.py) through every way in: QuantumCircuit objects,
OpenQASM 2 and OpenQASM 3 text; qtn's state against qiskit.quantum_info.Statevector at
complex64 tolerance (the QASM forms up to the global phase, which QASM files do not keep)."""

from __future__ import annotations

import numpy as np
import pytest

import qtn
from qtn.io import parse_qasm

pytest.importorskip("qiskit")
from qiskit import qasm2, qasm3  # noqa: E402
from qiskit.quantum_info import Statevector  # noqa: E402

from qiskit_corpus import FAMILIES, SIZES, level  # noqa: E402
from references import big_endian_state  # noqa: E402

ATOL = 1e-4  # complex64 over a few hundred gates, on a normalised state
#: (level, form) pairs: each family and size runs through all of them
FORMS = [("built", "circuit"), ("built", "qasm2"), ("built", "qasm3"),
         ("ibm", "circuit"), ("ibm", "qasm2"), ("rot-cz", "qasm3")]


def _up_to_phase(got: np.ndarray, ref: np.ndarray) -> np.ndarray:
    overlap = np.vdot(got, ref)
    return got * (overlap / abs(overlap)) if abs(overlap) > 1e-6 else got


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_corpus_matches_statevector(family, n):
    source = FAMILIES[family](n)
    failures = []
    for lvl, form in FORMS:
        qc = level(source, lvl)
        ref = Statevector(qc).data
        if form == "circuit":  # Qiskit's order and global phase, exactly
            got = qtn.state_vector(qc, optimize="greedy")
        else:
            text = qasm2.dumps(qc) if form == "qasm2" else qasm3.dumps(qc)
            circuit = parse_qasm(text, f"{family}-{n}-{lvl}.{form}")
            # a file's declared order is big-endian over q[0], q[1], ...: Qiskit's reversed
            got = big_endian_state(qtn.state_vector(circuit, optimize="greedy"))
            got = _up_to_phase(got, ref)
        err = float(np.abs(got - ref).max())
        if err > ATOL:
            failures.append(f"{lvl}/{form}: max |qtn - Statevector| = {err:.2e}")
    assert not failures, f"{family} n={n}: " + "; ".join(failures)
