"""``qtn amplitude/expect --check`` against an independent reference (Qiskit's loader and
Statevector), QASM files with idle qubits and several registers, and .qpy files."""

from __future__ import annotations

import json

import numpy as np
import pytest

from qtn.cli import main
from qtn.io import gates

pytest.importorskip("qiskit")
from qiskit import QuantumCircuit, QuantumRegister, qpy  # noqa: E402
from qiskit.quantum_info import SparsePauliOp, Statevector  # noqa: E402

CU3 = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\nh q[0];\ncu3(-0.7,0,0) q[0],q[1];\n'


def run_json(capsys, *argv) -> tuple[int, dict | None, str]:
    code = main([str(a) for a in argv] + ["--json"])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if code == 0 else None), err


def _amps(doc: dict) -> dict[str, complex]:
    return {a["bitstring"]: a["real"] + 1j * a["imag"] for a in doc["amplitudes"]}


def test_cu3_amplitudes_and_check_are_qiskits(capsys, tmp_path):
    path = tmp_path / "cu3.qasm"
    path.write_text(CU3)
    code, doc, err = run_json(capsys, "amplitude", path, "-b", "10", "-b", "11", "--check")
    assert code == 0, err
    assert "qiskit.qasm2" in doc["check"]["reference"] and doc["check"]["passed"]
    amps = _amps(doc)
    assert amps["10"].real == pytest.approx(0.6640, abs=1e-3) and amps["11"].real == pytest.approx(-0.2417, abs=1e-3)


def test_check_fails_when_qtns_reader_is_wrong(capsys, tmp_path, monkeypatch):
    """With cu3's θ wrapped at 2π (Cirq's importer's bug) planted in qtn's reader, --check
    must fail: its reference does not come from qtn's parse."""
    def wrapped(theta, phi, lam):
        return gates._ctrl(gates._u(theta % (2 * np.pi), phi, lam))
    monkeypatch.setitem(gates.QELIB1, "cu3", gates.StandardGate(2, 3, wrapped))
    path = tmp_path / "cu3.qasm"
    path.write_text(CU3)
    code = main(["amplitude", str(path), "-b", "00", "-b", "10", "--check"])
    _, err = capsys.readouterr()
    assert code != 0 and "--check failed" in err and "qiskit.qasm2" in err


def test_idle_qubits_and_register_order(capsys, tmp_path):
    path = tmp_path / "regs.qasm"
    path.write_text('OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[3];\nqreg a[2];\nx q[2];\nh a[1];\n')
    code, doc, err = run_json(capsys, "amplitude", path, "-b", "00100", "-b", "00101", "--check")
    assert code == 0, err
    assert doc["qubits"] == ["q_0", "q_1", "q_2", "a_0", "a_1"]
    assert abs(_amps(doc)["00100"]) == pytest.approx(2**-0.5, abs=1e-6) and doc["check"]["passed"]


def _v3_circuit() -> QuantumCircuit:
    qc = QuantumCircuit(3)
    qc.h(0)
    qc.cx(0, 1)
    qc.ry(0.2, 1)
    qc.ry(0.2, 2)
    qc.cx(1, 2)
    return qc


def test_openqasm3_expect_check(capsys, tmp_path):
    path = tmp_path / "v3.qasm"
    path.write_text('OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[3] q;\nh q[0];\n'
                    "cx q[0], q[1];\nry(0.2) q[1:2];\ncx q[1], q[2];\n")
    # (no for loop: Qiskit's OpenQASM 3 importer, the reference, cannot index by a loop variable)
    code, doc, err = run_json(capsys, "expect", path, "-o", "Z0*Z2", "-o", "X2", "--check")
    assert code == 0, err
    reference = Statevector.from_label("000").evolve(_v3_circuit())
    assert doc["expectations"][0]["real"] == pytest.approx(reference.expectation_value(
        SparsePauliOp("ZIZ")).real, abs=1e-5)
    assert "qiskit.qasm3" in doc["check"]["reference"] and doc["check"]["passed"]


def test_qpy_file_in_qiskit_bit_order(capsys, tmp_path):
    qc = QuantumCircuit(QuantumRegister(3, "r"))
    qc.x(0)
    qc.h(2)
    qc.global_phase = 0.25
    path = tmp_path / "c.qpy"
    with open(path, "wb") as f:
        qpy.dump(qc, f)
    code, doc, err = run_json(capsys, "amplitude", path, "-b", "001", "-b", "101", "--check")
    assert code == 0, err
    expected = Statevector(qc)
    assert doc["qubits"] == ["r_2", "r_1", "r_0"]  # Qiskit's bitstrings: qubit 0 rightmost
    for bits, amp in _amps(doc).items():
        assert amp == pytest.approx(complex(expected.data[int(bits, 2)]), abs=1e-6)
    assert "qiskit.qpy" in doc["check"]["reference"] and doc["check"]["passed"]


def test_non_utf8_qasm_is_a_one_line_error(capsys, tmp_path):
    path = tmp_path / "bad.qasm"
    path.write_bytes(b'OPENQASM 2.0;\n// \xff\n')
    code = main(["amplitude", str(path), "-b", "0"])
    _, err = capsys.readouterr()
    assert code != 0 and err.strip().splitlines()[-1].endswith("bad.qasm:2: not UTF-8 text (byte 0xff)")


def test_classical_control_under_amplitude_says_so_and_samples(capsys, tmp_path):
    path = tmp_path / "if.qasm"
    path.write_text('OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg c[2];\nx q[0];\n'
                    "measure q[0] -> c[0];\nif (c==1) x q[1];\nmeasure q[1] -> c[1];\n")
    code = main(["amplitude", str(path), "-b", "00"])
    _, err = capsys.readouterr()
    assert code != 0 and "classically controlled operations (if)" in err and "qtn sample" in err
    # c[1] is unmeasured at the if: it reads 0 (as in Qiskit), so c == 1 holds and q[1] flips
    code, doc, err = run_json(capsys, "sample", path, "-n", "8")
    assert code == 0, err
    assert doc["counts"] == {"11": 8}
