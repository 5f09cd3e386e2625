"""Every qsim gate qtn reads, against the reference in tests/references.py (a NumPy
simulator of the .qsim format with qsim's gate matrices from lib/gates_qsim.h, checked
against analytic values in test_qsim_reference.py): the same file, both states."""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import pytest

import qtn
from qtn.io import parse_qsim, read_circuit
from qtn.io.qsim import _QSIM_GATES

from references import qsim_state as qsim_reference

def _random_layer(rng: np.random.Generator, n: int, time: int) -> list[str]:
    # a generic state first, so every matrix entry of the gate under test matters
    return [f"{time} rxy {q} {rng.uniform(-3, 3):.6f} {rng.uniform(-3, 3):.6f}" for q in range(n)]


@pytest.mark.parametrize("name", sorted(_QSIM_GATES) + ["p", "c"])
def test_every_qsim_gate_matches_the_qsim_reference(tmp_path, name):
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    n = 3
    lines = [str(n)] + _random_layer(rng, n, 0)
    for trial in range(3):  # random qubits and parameters, negative and past 2π included
        time = 1 + 2 * trial
        if name == "p":
            lines.append(f"{time} p {rng.uniform(-7, 7):.6f}")
        elif name == "c":
            lines.append(f"{time} c {trial % 3} fs {(trial + 1) % 3} {(trial + 2) % 3} "
                         f"{rng.uniform(-7, 7):.6f} {rng.uniform(-7, 7):.6f}")
        else:
            k, n_params, _ = _QSIM_GATES[name]
            qubits = rng.permutation(n)[:k]
            params = rng.uniform(-7, 7, n_params)
            lines.append(f"{time} {name} " + " ".join(map(str, qubits)) + "".join(f" {p:.6f}" for p in params))
        lines += _random_layer(rng, n, time + 1)
    path = tmp_path / f"{name}.qsim"
    path.write_text("\n".join(lines) + "\n")
    expected = qsim_reference(path)
    got = qtn.state_vector(read_circuit(path), dtype=np.complex128)
    np.testing.assert_allclose(got, expected, atol=1e-9)


def test_cp_is_qsims_sign(tmp_path):
    """qsim's GateCP is diag(1, 1, 1, e^{-iφ}); qtn read it with the opposite sign before."""
    path = tmp_path / "cp.qsim"
    path.write_text("2\n0 h 0\n0 h 1\n1 cp 0 1 0.7\n")
    expected = qsim_reference(path)
    np.testing.assert_allclose(expected[3], 0.5 * np.exp(-0.7j), atol=1e-12)
    np.testing.assert_allclose(qtn.state_vector(read_circuit(path), dtype=np.complex128), expected, atol=1e-9)


def test_idle_qubits_of_a_qsim_file_stay():
    circuit = parse_qsim("3\n0 x 2\n")
    assert qtn.amplitudes(circuit, ["001"])[0] == pytest.approx(1)


SYCAMORE = Path(__file__).resolve().parents[1] / ".." / "shared" / "circuits" / "circuit_n53_m10_s0_e0_pABCDCDAB.qsim"


def test_sycamore_file_restricted_to_16_qubits_matches_the_qsim_reference(tmp_path):
    """The real m=10 Sycamore file, kept to the gates on qubits 0..15 (its fs, rz,
    hz_1_2, x_1_2, y_1_2 lines as written), against the qsim reference."""
    if not SYCAMORE.is_file():
        pytest.skip(f"{SYCAMORE} is not here")
    lines = SYCAMORE.read_text().splitlines()
    kept = []
    for line in lines[1:]:
        fields = line.split()
        if not fields:
            continue
        k = _QSIM_GATES[fields[1]][0]
        if all(int(q) < 16 for q in fields[2 : 2 + k]):
            kept.append(line.rstrip())  # qsim's parser refuses the file's trailing blanks
    path = tmp_path / "sycamore16.qsim"
    path.write_text("16\n" + "\n".join(kept) + "\n")
    assert len(kept) > 100
    np.testing.assert_allclose(qtn.state_vector(read_circuit(path)), qsim_reference(path), atol=2e-5)
