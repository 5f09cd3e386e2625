"""OpenQASM 2 and 3 files against Qiskit: its loaders and ``Statevector`` are the reference
for what a file means; the gate library against Qiskit's own gate matrices."""

from __future__ import annotations

import math

import cirq
import numpy as np
import pytest

import qtn
from qtn.io import CircuitFileError, parse_qasm, read_circuit
from qtn.io.gates import QELIB1, QISKIT_EXTRA, STDGATES

from references import big_endian_state, qiskit_qasm_state

qiskit = pytest.importorskip("qiskit")
from qiskit.circuit import library as lib  # noqa: E402

HEADER = 'OPENQASM 2.0;\ninclude "qelib1.inc";\n'
#: Qiskit's class for each gate name of qtn's tables (the reference matrices)
QISKIT_CLASSES = {
    "id": lib.IGate, "x": lib.XGate, "y": lib.YGate, "z": lib.ZGate, "h": lib.HGate, "s": lib.SGate,
    "sdg": lib.SdgGate, "t": lib.TGate, "tdg": lib.TdgGate, "sx": lib.SXGate, "sxdg": lib.SXdgGate,
    "rx": lib.RXGate, "ry": lib.RYGate, "rz": lib.RZGate, "p": lib.PhaseGate, "u1": lib.U1Gate,
    "u2": lib.U2Gate, "u3": lib.U3Gate, "u": lib.UGate, "U": lib.UGate, "cx": lib.CXGate, "CX": lib.CXGate,
    "cy": lib.CYGate, "cz": lib.CZGate, "ch": lib.CHGate, "swap": lib.SwapGate, "crx": lib.CRXGate,
    "cry": lib.CRYGate, "crz": lib.CRZGate, "cp": lib.CPhaseGate, "cu": lib.CUGate, "ccx": lib.CCXGate,
    "cswap": lib.CSwapGate, "cu1": lib.CU1Gate, "cu3": lib.CU3Gate, "csx": lib.CSXGate,
    "rxx": lib.RXXGate, "rzz": lib.RZZGate, "rccx": lib.RCCXGate, "rc3x": lib.RC3XGate,
    "c3x": lib.C3XGate, "c3sqrtx": lib.C3SXGate, "c4x": lib.C4XGate, "phase": lib.PhaseGate,
    "cphase": lib.CPhaseGate, "ryy": lib.RYYGate, "rzx": lib.RZXGate, "r": lib.RGate,
    "iswap": lib.iSwapGate, "ccz": lib.CCZGate, "cs": lib.CSGate, "csdg": lib.CSdgGate, "ecr": lib.ECRGate,
    "dcx": lib.DCXGate, "u0": None,
}
TABLE = {**QELIB1, **STDGATES, **QISKIT_EXTRA}


@pytest.mark.parametrize("name", sorted(TABLE))
def test_gate_library_is_qiskits_matrix(name):
    rng = np.random.default_rng(len(name) * 7919 + ord(name[0]))
    std = TABLE[name]
    params = list(rng.uniform(-9, 9, std.n_params))  # past ±2π: nothing may wrap
    if QISKIT_CLASSES[name] is None:  # u0(n) is an identity of n idle cycles
        expected = np.eye(2)
    else:
        from qtn.io.gates import big_endian

        expected = big_endian(QISKIT_CLASSES[name](*params).to_matrix())
    np.testing.assert_allclose(cirq.unitary(std.make(*params)), expected, atol=1e-12)


def _state(text: str) -> np.ndarray:
    return qtn.state_vector(parse_qasm(text, "t.qasm"), dtype=np.complex128)


@pytest.mark.parametrize("name", sorted(n for n in QELIB1 if n not in ("u0",)))
def test_every_qelib1_gate_in_a_file_matches_qiskit(name):
    rng = np.random.default_rng(sum(map(ord, name)))
    std = QELIB1[name]
    n = std.n_qubits + 1
    lines = [HEADER, f"qreg q[{n}];"] + [f"u3({a:.6f},{b:.6f},{c:.6f}) q[{i}];"
                                         for i, (a, b, c) in enumerate(rng.uniform(-4, 4, (n, 3)))]
    for _ in range(2):
        qubits = rng.permutation(n)[:std.n_qubits]
        params = ",".join(f"{p:.6f}" for p in rng.uniform(-13, 13, std.n_params))
        lines.append(f"{name}{f'({params})' if params else ''} " + ",".join(f"q[{q}]" for q in qubits) + ";")
        lines.append("h q;")
    text = "\n".join(lines) + "\n"
    np.testing.assert_allclose(_state(text), qiskit_qasm_state(text), atol=1e-9)


def test_cu3_negative_theta_keeps_its_sign():
    """Cirq's importer wraps θ at 2π and flips these two signs."""
    text = HEADER + "qreg q[2];\nh q[0];\ncu3(-0.7,0,0) q[0],q[1];\n"
    ref = qiskit_qasm_state(text)
    assert ref[2].real == pytest.approx(0.664, abs=1e-3) and ref[3].real == pytest.approx(-0.242, abs=1e-3)
    np.testing.assert_allclose(_state(text), ref, atol=1e-12)


def test_barrier_four_parameter_cu_user_gates_and_broadcast():
    text = HEADER + """gate my(a, b) x, y { rz(a/2) x; cx x, y; ry(-b*pi^2) y; barrier x, y; }
qreg q[3];
qreg anc[2];
h q;
my(0.3, -1.2e-1) q[0], anc[1];
barrier q, anc;
cu(0.1, 0.2, 0.3, 0.4) q[1], anc[0];
cx q, anc[1];
rzz(sin(0.2) + ln(2)) q[2], anc[0];
"""
    np.testing.assert_allclose(_state(text), qiskit_qasm_state(text), atol=1e-9)


def test_idle_qubits_and_declaration_order_across_registers():
    text = HEADER + "qreg b[2];\nqreg a[1];\nx b[1];\n"
    circuit = parse_qasm(text, "t.qasm")
    assert len(circuit.all_qubits()) == 3
    assert [str(q) for q in qtn.circuit_input.as_cirq_circuit(circuit)[1]] == ["b_0", "b_1", "a_0"]
    assert qtn.amplitudes(circuit, ["010"])[0] == pytest.approx(1)
    np.testing.assert_allclose(_state(text), qiskit_qasm_state(text), atol=1e-12)
    # Cirq's own simulators accept the circuit (the idle qubits carry identities)
    assert cirq.final_state_vector(circuit, qubit_order=qtn.io.declared_order(circuit))[2] == pytest.approx(1)


def test_simulator_default_order_is_the_declared_one_for_a_file():
    """qtn.Simulator with cirq.QubitOrder.DEFAULT takes a file's declared order, as the
    functions do (Qiskit's Statevector and cirq.Simulator given that order agree); a
    plain cirq.Circuit keeps Cirq's sorted default."""
    text = HEADER + "qreg b[2];\nqreg a[1];\nh b[0];\nry(0.7) a[0];\ncx b[0], a[0];\nrx(1.3) b[1];\ncz a[0], b[1];\n"
    circuit = parse_qasm(text, "t.qasm")
    declared = qtn.io.declared_order(circuit)
    assert [str(q) for q in declared] == ["b_0", "b_1", "a_0"]
    ref = cirq.Simulator().simulate(circuit, qubit_order=declared).final_state_vector
    np.testing.assert_allclose(ref, qiskit_qasm_state(text), atol=1e-6)
    sim = qtn.Simulator(dtype=np.complex128)
    result = sim.simulate(circuit)
    np.testing.assert_allclose(result.final_state_vector, ref, atol=1e-6)
    assert list(result.qubit_map) == declared
    amps = sim.compute_amplitudes(circuit, [0b001, 0b100, 0b110])
    np.testing.assert_allclose(amps, ref[[0b001, 0b100, 0b110]], atol=1e-6)
    # a cirq.Circuit built by hand: the order stays Cirq's (sorted), not its creation order
    b0, a0 = cirq.NamedQubit("b_0"), cirq.NamedQubit("a_0")
    plain = cirq.Circuit(cirq.H(b0), cirq.ry(0.7).on(a0), cirq.CX(b0, a0))
    np.testing.assert_allclose(sim.simulate(plain).final_state_vector,
                               cirq.Simulator().simulate(plain).final_state_vector, atol=1e-6)


def test_measure_reset_and_if_sample_like_qiskit():
    text = HEADER + "qreg q[2];\ncreg c[2];\nx q[0];\nmeasure q[0] -> c[0];\nmeasure q[1] -> c[1];\n" \
        "if (c==1) x q[1];\nreset q[0];\nmeasure q -> c;\n"
    result = qtn.sample(parse_qasm(text, "t.qasm"), 20, seed=1)
    assert set(result.records) == {"c_0", "c_1"}
    last = {k: v[:, -1, 0] for k, v in result.records.items()}  # each bit is measured twice
    # after the if, q[1] is flipped and q[0] reset: c = 0b10 in every shot
    assert last["c_0"].sum() == 0 and last["c_1"].sum() == 20


def test_openqasm3_file_matches_qiskit():
    text = """OPENQASM 3.0;
include "stdgates.inc";
const float theta = 0.4;
gate rot(a) x, y { ry(a) x; cx x, y; }
qubit[3] q;
bit[3] c;
h q;
for int i in [0:1] { rot(theta * (i + 1)) q[i], q[i + 1]; }
for uint j in {2, 0} { p(-7.5 / (j + 1)) q[j]; }
ctrl @ rz(1.2) q[0], q[2];
inv @ s q[1];
cu(0.1, 0.2, 0.3, 0.4) q[2], q[0];
U(0.3, -0.2, 9.1) q[1];
"""
    # Qiskit's OpenQASM 3 importer has neither 'const' nor computed indices: the reference
    # reads the same program with the value inlined and the loops unrolled by hand
    reference_text = text.replace("const float theta = 0.4;\n", "").replace(
        "for int i in [0:1] { rot(theta * (i + 1)) q[i], q[i + 1]; }",
        "rot(0.4 * 1) q[0], q[1];\nrot(0.4 * 2) q[1], q[2];").replace(
        "for uint j in {2, 0} { p(-7.5 / (j + 1)) q[j]; }", "p(-7.5 / 3) q[2];\np(-7.5 / 1) q[0];")
    np.testing.assert_allclose(_state(text), qiskit_qasm_state(reference_text), atol=1e-9)


def test_openqasm3_measure_and_if():
    text = 'OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[2] q;\nbit[2] c;\nx q[0];\nc[0] = measure q[0];\n' \
        "if (c[0]) { x q[1]; } else { h q[1]; }\nc[1] = measure q[1];\n"
    result = qtn.sample(parse_qasm(text, "t.qasm"), 10, seed=2)
    assert result.measurements["c_1"].sum() == 10 and result.measurements["c_0"].sum() == 10


@pytest.mark.parametrize(
    "text, needles",
    [(HEADER + "qreg q[1];\nopaque foo q;\n", ["t.qasm:4", "opaque gate 'foo'"]),
     ('OPENQASM 2.0;\ninclude "missing.inc";\n', ["t.qasm:2", "include file 'missing.inc' not found"]),
     (HEADER + "qreg q[2];\ncx q[0] q[1];\n", ["t.qasm:4", "expected ';'"]),
     (HEADER + "qreg q[2];\nfoo q[0];\n", ["t.qasm:4", "unknown gate 'foo'"]),
     ("OPENQASM 2.0;\nqreg q[2];\nh q[0];\n", ["t.qasm:3", "qelib1.inc"]),
     (HEADER + "qreg q[2];\ncu3(1,2) q[0],q[1];\n", ["t.qasm:4", "cu3 takes 3 parameter(s), got 2"]),
     (HEADER + "qreg q[2];\nx q[2];\n", ["t.qasm:4", "out of range"]),
     (HEADER + "qreg q[2];\ncx q[1],q[1];\n", ["t.qasm:4", "repeats"]),
     (HEADER + "qreg q[2];\nqreg r[3];\ncx q, r;\n", ["t.qasm:5", "different sizes"]),
     ("qreg q[1];\n", ["t.qasm:1", "OPENQASM 2.0"]),
     ('OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[2] q;\nh q[0]\nx q;\n', ["t.qasm:5", "syntax error"]),
     ('OPENQASM 3.0;\nqubit q;\nwhile (true) { }\n', ["t.qasm:3", "WhileLoop is not supported"]),
     ('OPENQASM 3.0;\ninput float t;\nqubit q;\n', ["t.qasm:2", "'t'"])],
)
def test_malformed_files_are_one_line_errors_with_file_and_line(text, needles):
    with pytest.raises(CircuitFileError) as info:
        parse_qasm(text, "t.qasm")
    message = str(info.value)
    assert "\n" not in message
    for needle in needles:
        assert needle in message, message


def test_openqasm3_header_is_not_read_by_the_2_parser():
    text = 'OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[1] q;\nx q[0];\n'
    assert qtn.amplitudes(parse_qasm(text, "t.qasm"), ["1"])[0] == pytest.approx(1)


def test_non_utf8_file_is_a_circuit_file_error(tmp_path):
    path = tmp_path / "latin1.qasm"
    path.write_bytes((HEADER + "// caf\xe9\nqreg q[1];\n").encode("latin-1"))
    with pytest.raises(CircuitFileError, match=r"latin1.qasm:3: not UTF-8"):
        read_circuit(path)


def test_qiskit_exported_file_round_trips(tmp_path):
    from qiskit import QuantumCircuit, qasm2

    qc = QuantumCircuit(3)
    qc.h(0)
    qc.append(lib.RZXGate(0.4), [0, 2])
    qc.ecr(1, 2)
    qc.append(lib.RYYGate(-5.0), [1, 0])
    qc.mcx([0, 1], 2)
    text = qasm2.dumps(qc)
    from qiskit.quantum_info import Statevector

    ref = big_endian_state(Statevector(qc).data)
    got = _state(text)
    # a QASM 2 file has no global phase: compare up to one
    phase = np.vdot(got, ref) / abs(np.vdot(got, ref))
    np.testing.assert_allclose(got * phase, ref, atol=1e-9)
    assert math.isclose(abs(np.vdot(got, ref)), 1, abs_tol=1e-9)
