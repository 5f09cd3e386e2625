"""The ``qtn`` command, run in-process through ``main`` and once as the installed script."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import cirq
import numpy as np
import pytest

import qtn
from qtn import generators
from qtn.cli import main
from qtn.cli.commands import entry_point
from qtn.cli.values import CliError, parse_bitstring, parse_bytes, parse_pauli_sum
from qtn.io import read_circuit

from references import qiskit_qasm_state, qsim_state

QASM = """OPENQASM 2.0;
include "qelib1.inc";
qreg q[4];
h q[0];
cx q[0],q[1];
t q[2];
rx(0.3) q[3];
cz q[1],q[2];
ry(1.1) q[0];
cx q[2],q[3];
"""

QSIM = """4
0 h 0
0 t 2
0 rx 3 0.3
1 cnot 0 1
2 cz 1 2
2 ry 0 1.1
3 cx 2 3
"""

FORMATS = ["qasm", "qsim", "json"]
NAMES = ["ghz:4", "qft:4", "grid:2x2:3", "qaoa:4:1"]


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    """The same kind of small circuit as .qasm, .qsim and Cirq .json (on grid qubits)."""
    (tmp_path / "c.qasm").write_text(QASM)
    (tmp_path / "c.qsim").write_text(QSIM)
    (tmp_path / "c.json").write_text(cirq.to_json(generators.grid(2, 2, 3, seed=2)))
    return {fmt: tmp_path / f"c.{fmt}" for fmt in FORMATS}


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys, *argv: str) -> dict:
    code, out, err = run(capsys, *argv, "--json")
    assert code == 0, err
    return json.loads(out)


def assert_one_line_error(code: int, err: str, *needles: str) -> None:
    lines = err.strip().splitlines()
    assert code != 0
    assert "Traceback" not in err
    assert lines and lines[-1].startswith("qtn: error: "), err
    assert all(not ln.startswith("qtn: error") for ln in lines[:-1])
    for needle in needles:
        assert needle in lines[-1], lines[-1]


def reference_state(path: Path) -> np.ndarray:
    """The file's state from someone else's reader: Qiskit for .qasm, the NumPy qsim reference
    (tests/references.py) for .qsim, Cirq's JSON reader for .json (big-endian over the file's
    qubits in order)."""
    if path.suffix == ".qasm":
        return qiskit_qasm_state(path.read_text())
    if path.suffix == ".qsim":
        return qsim_state(path)
    circuit = cirq.read_json(path)
    return cirq.final_state_vector(circuit, qubit_order=sorted(circuit.all_qubits()), dtype=np.complex128)


def circuit_of(spec) -> cirq.Circuit:
    return read_circuit(spec) if isinstance(spec, Path) else generators.from_name(spec)


# --- amplitude ----------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS)
def test_amplitude_json_matches_qtn_and_cirq(capsys, files, fmt):
    circuit = read_circuit(files[fmt])
    doc = run_json(capsys, "amplitude", files[fmt], "-b", "0000", "-b", "1011", "-b", "6")
    got = np.array([a["real"] + 1j * a["imag"] for a in doc["amplitudes"]])
    assert [a["bitstring"] for a in doc["amplitudes"]] == ["0000", "1011", "0110"]
    np.testing.assert_allclose(got, qtn.amplitudes(circuit, [0, 11, 6]), atol=1e-6)
    np.testing.assert_allclose(got, reference_state(files[fmt])[[0, 11, 6]], atol=2e-5)
    assert doc["plan"]["n_slices"] >= 1 and "flops" in doc["plan"]


@pytest.mark.parametrize("name", NAMES)
def test_amplitude_of_named_circuits_with_check(capsys, name):
    code, out, err = run(capsys, "amplitude", name, "-b", "0", "-b", "0b0101", "--check")
    assert code == 0, err
    assert "0101 " in out and "check against cirq.final_state_vector" in out and ": ok" in out


def test_amplitude_text_and_complex128(capsys, files):
    code, out, _ = run(capsys, "amplitude", files["qsim"], "-b", "0011", "--dtype", "complex128", "--check")
    assert code == 0
    line = next(ln for ln in out.splitlines() if ln.startswith("0011"))
    amplitude = complex(line.split()[1])
    assert amplitude == pytest.approx(complex(reference_state(files["qsim"])[3]), abs=1e-7)
    assert "tolerance 1e-10" in out


def test_amplitude_check_is_skipped_past_20_qubits(capsys):
    doc = run_json(capsys, "amplitude", "ghz:21", "-b", "1" * 21, "--check")
    assert "skipped: 21 qubits" in doc["check"]["skipped"]
    assert doc["amplitudes"][0]["real"] == pytest.approx(2**-0.5, abs=1e-6)


def test_amplitude_drops_terminal_measurements_and_says_so(capsys, tmp_path):
    path = tmp_path / "m.qasm"
    path.write_text(QASM + "creg c[4];\nmeasure q -> c;\n")
    code, out, err = run(capsys, "amplitude", path, "-b", "0000")
    assert code == 0 and "ignoring the circuit's terminal measurements" in err


def test_amplitude_max_memory_slices(capsys):
    doc = run_json(capsys, "amplitude", "grid:3x3:6", "-b", "0", "--max-memory", "1KiB", "--no-progress")
    assert doc["plan"]["memory_budget"] == 1024 and doc["plan"]["largest_intermediate_bytes"] <= 1024
    expected = qtn.amplitudes(generators.grid(3, 3, 6), [0])[0]
    assert doc["amplitudes"][0]["real"] + 1j * doc["amplitudes"][0]["imag"] == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize(
    "bits, needle",
    [("0101", "has 4 bits but the circuit has 3 qubits"), ("8", "out of range for 3 qubits"),
     ("two", "neither 3 characters of 0/1 nor an int"), ("-1", "out of range")],
)
def test_bad_bitstrings(capsys, bits, needle):
    assert_one_line_error(*run(capsys, "amplitude", "ghz:3", "-b", bits)[::2], needle)


def test_parse_bitstring_forms():
    assert parse_bitstring("011", 3) == 3
    assert parse_bitstring("5", 3) == 5
    assert parse_bitstring("0x7", 3) == 7
    assert parse_bitstring("0b10", 3) == 2
    assert parse_bitstring("1", 1) == 1


# --- sample -------------------------------------------------------------------------------

def test_sample_measures_everything_when_nothing_is_measured(capsys):
    code, out, err = run(capsys, "sample", "ghz:5", "-n", "200", "--seed", "3", "--json")
    assert code == 0 and "measuring all 5 qubits" in err
    doc = json.loads(out)
    assert set(doc["counts"]) <= {"00000", "11111"} and sum(doc["counts"].values()) == 200
    assert doc == run_json(capsys, "sample", "ghz:5", "-n", "200", "--seed", "3") | {"seconds": doc["seconds"]}


@pytest.mark.parametrize("fmt", FORMATS)
def test_sample_every_format(capsys, files, fmt):
    code, out, _ = run(capsys, "sample", files[fmt], "-n", "50", "--seed", "1")
    assert code == 0
    counts = [int(ln.split()[1]) for ln in out.splitlines()[2:]]
    assert sum(counts) == 50


def test_sample_joins_the_measurement_keys(capsys, tmp_path):
    path = tmp_path / "m.qasm"
    path.write_text('OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg c[2];\nx q[1];\nmeasure q -> c;\n')
    doc = run_json(capsys, "sample", path, "-n", "20", "--seed", "0")
    assert [k["key"] for k in doc["keys"]] == ["c_0", "c_1"] and doc["counts"] == {"01": 20}


def test_sample_options_are_checked(capsys):
    assert_one_line_error(*run(capsys, "sample", "ghz:3", "-n", "0")[::2], "-n/--repetitions", "must be >= 1")
    assert_one_line_error(*run(capsys, "sample", "ghz:3", "--noise", "2")[::2], "must be in [0, 1]")


# --- expect -------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS)
def test_expect_matches_cirq(capsys, files, fmt):
    circuit = read_circuit(files[fmt])
    qubits = sorted(circuit.all_qubits())
    doc = run_json(capsys, "expect", files[fmt], "-o", "Z0*Z1 + 0.5*X3", "-o", "Y2", "--check")
    state = reference_state(files[fmt])
    index = {q: i for i, q in enumerate(qubits)}
    for entry, obs in zip(doc["expectations"], [cirq.Z(qubits[0]) * cirq.Z(qubits[1]) + 0.5 * cirq.X(qubits[3]),
                                                 cirq.PauliSum.from_pauli_strings(cirq.Y(qubits[2]))]):
        expected = obs.expectation_from_state_vector(state, index)
        assert entry["real"] == pytest.approx(expected.real, abs=2e-5)
    assert doc["check"]["passed"]


def test_expect_named_circuit_text(capsys):
    code, out, _ = run(capsys, "expect", "ghz:4", "-o", "Z0*Z3", "-o", "X0*X1*X2*X3 - 2")
    assert code == 0
    values = dict(ln.split(" = ") for ln in out.splitlines() if ln.startswith("<"))
    assert complex(values["<Z0*Z3>"]) == pytest.approx(1, abs=1e-5)
    assert complex(values["<X0*X1*X2*X3 - 2>"]) == pytest.approx(-1, abs=1e-5)


def test_parse_pauli_sum():
    q = cirq.LineQubit.range(4)
    got = parse_pauli_sum("Z0*Z1 + 0.5*X3 - (0.1+2j)*Y0 - 2j*I + 1e-1*Z2*X3*2", q)
    expected = (cirq.Z(q[0]) * cirq.Z(q[1]) + 0.5 * cirq.X(q[3]) - (0.1 + 2j) * cirq.Y(q[0])
                - 2j * cirq.PauliString() + 0.2 * cirq.Z(q[2]) * cirq.X(q[3]))
    assert got == expected
    assert parse_pauli_sum("-Z0", q) == -1 * cirq.PauliSum.from_pauli_strings(cirq.Z(q[0]))


@pytest.mark.parametrize(
    "text, needle",
    [("Z0*W3", "unexpected 'W3' at column 4"), ("Z0 +", "unexpected 'end of text' at column 5"),
     ("2 Z0", "unexpected 'Z0' at column 3"), ("Z0**Z1", "unexpected '*' at column 4"),
     ("(1+)*Z0", "unexpected '(1+)' at column 1"), ("Z7", "Z7 at column 1 names qubit 7"),
     ("", "observable is empty"), ("Z", "unexpected 'Z' at column 1")],
)
def test_pauli_sum_errors_name_the_token(text, needle):
    with pytest.raises(CliError, match=re.escape(needle)):
        parse_pauli_sum(text, cirq.LineQubit.range(4))


def test_expect_parse_error_is_one_line(capsys):
    assert_one_line_error(*run(capsys, "expect", "ghz:3", "-o", "Z0*Q1")[::2], "unexpected 'Q1' at column 4")


# --- plan ---------------------------------------------------------------------------------

@pytest.mark.parametrize("spec", [*FORMATS, "grid:3x3:6"])
def test_plan_every_input(capsys, files, spec):
    source = files.get(spec, spec)
    code, out, err = run(capsys, "plan", source)
    assert code == 0, err
    assert "flops" in out and "slices" in out and "search time" in out and "GEMM shapes" in out
    doc = run_json(capsys, "plan", source)
    plan = qtn.plan(circuit_of(source))
    assert doc["plan"]["flops"] == plan.flops and doc["plan"]["steps"] == len(plan.steps)
    assert sum(s["steps"] for s in doc["plan"]["gemm_shapes"]) == len(plan.steps)


def test_plan_with_a_board_is_labelled_modelled(capsys):
    code, out, _ = run(capsys, "plan", "grid:3x3:6", "--board", "u280")
    assert code == 0 and "modelled u280 time" in out and "not measured" in out
    doc = run_json(capsys, "plan", "grid:3x3:6", "--board", "u280", "--on-chip")
    assert doc["plan"]["board_time"]["modelled"] is True and doc["plan"]["board_time"]["total_s"] > 0


def test_plan_with_an_unknown_board(capsys):
    assert_one_line_error(*run(capsys, "plan", "ghz:3", "--board", "u999")[::2], "u999")


def test_plan_on_chip_needs_a_board(capsys):
    code, _, err = run(capsys, "plan", "ghz:3", "--on-chip")
    assert_one_line_error(code, err, "--on-chip needs --board")
    assert code == 2


def test_plan_plot(capsys, tmp_path):
    pytest.importorskip("matplotlib")
    path = tmp_path / "tree.png"
    code, out, _ = run(capsys, "plan", "grid:3x3:6", "--plot", path)
    assert code == 0 and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# --- bad files and options ----------------------------------------------------------------

@pytest.mark.parametrize(
    "name, text, needles",
    [("bad.qasm", QASM.replace("cx q[0],q[1]", "cx q[0] q[1]"), ["bad.qasm:5", "expected ';'"]),
     ("unknown.qasm", QASM.replace("t q[2]", "foo q[2]"), ["unknown.qasm:6", "unknown gate 'foo'"]),
     ("bad.qsim", QSIM.replace("2 cz 1 2", "2 cz 1"), ["bad.qsim:6", "gate cz takes 2 qubit(s)"]),
     ("unknown.qsim", QSIM.replace("0 t 2", "0 warp 2"), ["unknown.qsim:3", "unknown qsim gate 'warp'"]),
     ("bad.json", '{"cirq_type": "Circuit",\n "moments": [\n', ["bad.json:3", "not valid JSON"]),
     ("reset.qasm", QASM + "reset q[1];\n", ["reset", "not a unitary"])],
)
def test_bad_files_are_one_line_errors(capsys, tmp_path, name, text, needles):
    path = tmp_path / name
    path.write_text(text)
    assert_one_line_error(*run(capsys, "amplitude", path, "-b", "0")[::2], *needles)


@pytest.mark.parametrize(
    "argv, needles",
    [(["amplitude", "missing.qasm", "-b", "0"], ["no such circuit file"]),
     (["plan", "circuit.txt"], ["neither a circuit file", "ghz:N"]),
     (["plan", "ghz:x"], ["unknown circuit name", "qaoa:N:P[:SEED]"]),
     (["amplitude", "ghz:3"], ["-b/--bitstring"]),
     (["amplitude", "ghz:3", "-b", "0", "--max-memory", "2XB"], ["invalid size '2XB'", "GiB"]),
     (["amplitude", "ghz:3", "-b", "0", "--dtype", "complex32"], ["--dtype", "complex32"]),
     (["amplitude", "ghz:3", "-b", "0", "--backend", "cuda"], ["unknown backend 'cuda'", "numpy"]),
     (["amplitude", "ghz:3", "-b", "0", "--executor", "fibers:2"],
      ["argument --executor: 'fibers:2': use none, threads:N"]),
     (["amplitude", "ghz:3", "-b", "0", "--executor", "threads:0"], ["must be >= 1"]),
     (["amplitude", "grid:3x3:4", "-b", "0", "--max-memory", "8"], ["memory budget"]),
     (["frobnicate"], ["invalid choice: 'frobnicate'"]),
     ([], ["choose a command"])],
)
def test_bad_options_are_one_line_errors(capsys, argv, needles):
    assert_one_line_error(*run(capsys, *argv)[::2], *needles)


def test_usage_errors_exit_2_and_others_1(capsys):
    assert run(capsys, "amplitude", "ghz:3")[0] == 2
    assert run(capsys, "amplitude", "missing.qasm", "-b", "0")[0] == 1


def test_debug_shows_the_traceback(capsys):
    code, _, err = run(capsys, "amplitude", "missing.qasm", "-b", "0", "--debug")
    assert code == 1 and "Traceback" in err and err.strip().splitlines()[-1].startswith("qtn: error:")


@pytest.mark.parametrize("text, value", [("2GiB", 2 * 2**30), ("512MB", 512 * 10**6), ("1e9", 10**9),
                                         ("1073741824", 2**30), ("1.5 kib", 1536), ("64KB", 64000)])
def test_parse_bytes(text, value):
    assert parse_bytes(text) == value


def test_executor_threads_gives_the_serial_values(capsys):
    serial = run_json(capsys, "expect", "qaoa:8:1", "-o", "Z0*Z1 + X2")
    threaded = run_json(capsys, "expect", "qaoa:8:1", "-o", "Z0*Z1 + X2", "--executor", "threads:2")
    assert threaded["expectations"][0]["real"] == pytest.approx(serial["expectations"][0]["real"], abs=1e-6)


def test_a_feature_missing_from_the_api_is_named():
    with pytest.raises(CliError, match=r"qtn amplitude with --no-such-option needs "
                                       r"qtn.amplitudes\(no_such_option=...\), not available in this build"):
        entry_point("amplitudes", "amplitude", {"no_such_option": 1})
    with pytest.raises(CliError, match="qtn frob needs qtn.frobnicate, not available in this build"):
        entry_point("frobnicate", "frob", {})


@pytest.mark.parametrize("command", ["amplitude", "sample", "expect", "plan", "bench"])
def test_help_has_examples(capsys, command):
    code, out, _ = run(capsys, command, "--help")
    assert code == 0 and "examples:" in out and f"qtn {command}" in out


# --- bench --------------------------------------------------------------------------------

def test_bench_lists_and_refuses_unknown_names(capsys):
    code, out, _ = run(capsys, "bench")
    assert code == 0 and "benchmarks in" in out
    assert_one_line_error(*run(capsys, "bench", "no_such_bench")[::2], "no benchmark 'no_such_bench'", "available:")


# --- the installed script -----------------------------------------------------------------

def test_installed_console_script(tmp_path):
    script = Path(sys.executable).with_name("qtn")
    assert script.is_file(), "the qtn console script is not installed next to this Python"
    ok = subprocess.run([script, "amplitude", "ghz:3", "-b", "111", "--json"], capture_output=True, text=True,
                        timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["amplitudes"][0]["bitstring"] == "111"
    bad = subprocess.run([script, "amplitude", tmp_path / "none.qsim", "-b", "0"], capture_output=True,
                         text=True, timeout=120)
    assert bad.returncode == 1 and bad.stderr.strip().splitlines() == [f"qtn: error: no such circuit file: "
                                                                       f"{tmp_path / 'none.qsim'}"]


def test_no_plan_cache_searches_again(capsys):
    assert run(capsys, "plan", "grid:3x4:6")[0] == 0  # planned and kept (memory and disk)
    qtn.clear_cache()  # memory only: the plan file stays
    code, out, err = run(capsys, "plan", "grid:3x4:6")
    assert code == 0 and "plan read from the disk" in out, err
    qtn.clear_cache()
    code, out, err = run(capsys, "plan", "grid:3x4:6", "--no-plan-cache")
    assert code == 0 and "search time" in out and "read from the" not in out, err
