"""qtn against cirq.Simulator on ~120 random circuits over several gate domains."""

from __future__ import annotations

import cirq
import numpy as np
import pytest

import qtn

from helpers import reference_state, tolerance

_Q = cirq.LineQubit
DOMAINS = {
    "default": None,  # Cirq's default domain: Paulis, H, S, T, CNOT, CZ, SWAP, ISWAP, CZPow ...
    "cliffordt": {cirq.H: 1, cirq.S: 1, cirq.T: 1, cirq.CNOT: 2, cirq.CZ: 2, cirq.SWAP: 2},
    "rotations": {
        cirq.rx(0.3): 1,
        cirq.ry(-1.1): 1,
        cirq.rz(0.7): 1,
        cirq.XXPowGate(exponent=0.37): 2,
        cirq.FSimGate(theta=0.4, phi=0.9): 2,
        cirq.PhasedISwapPowGate(phase_exponent=0.2, exponent=0.6): 2,
        cirq.CCZ: 3,
        cirq.CSWAP: 3,
    },
    "diagonal_heavy": {cirq.H: 1, cirq.CZ: 2, cirq.CZPowGate(exponent=0.3): 2, cirq.Z**0.25: 1, cirq.CCZ: 3},
}

CASES = [
    (n, depth, density, domain, seed)
    for seed, (n, depth, density, domain) in enumerate(
        (2 + (i % 11), 1 + (i * 7) % 20, (0.5, 0.8, 1.0)[i % 3], list(DOMAINS)[i % 4]) for i in range(120)
    )
]


def _circuit(n, depth, density, domain, seed):
    c = cirq.testing.random_circuit(n, depth, density, gate_domain=DOMAINS[domain], random_state=seed)
    # put every qubit in superposition first so amplitudes are not mostly zero
    return cirq.Circuit(cirq.H.on_each(*sorted(c.all_qubits()))) + c


@pytest.mark.parametrize("n,depth,density,domain,seed", CASES)
def test_state_vector_matches_cirq(n, depth, density, domain, seed):
    circuit = _circuit(n, depth, density, domain, seed)
    ref = reference_state(circuit)
    got = qtn.state_vector(circuit, dtype=np.complex128)
    np.testing.assert_allclose(got, ref, atol=tolerance(np.complex128))


@pytest.mark.parametrize("n,depth,density,domain,seed", CASES[::6])
def test_amplitudes_match_cirq_on_every_backend(backend, n, depth, density, domain, seed):
    circuit = _circuit(n, depth, density, domain, seed)
    ref = reference_state(circuit)
    rng = np.random.default_rng(seed)
    bits = [int(b) for b in rng.integers(0, len(ref), size=4)]
    for dtype in (np.complex64, np.complex128):
        got = qtn.amplitudes(circuit, bits, backend=backend, dtype=dtype)
        assert got.dtype == dtype
        np.testing.assert_allclose(got, ref[bits], atol=tolerance(dtype))


@pytest.mark.parametrize("seed", range(6))
def test_single_amplitudes_complex64(backend, seed):
    circuit = _circuit(9, 14, 0.9, "rotations", 1000 + seed)
    ref = reference_state(circuit)
    b = int(np.argmax(np.abs(ref)))
    got = qtn.amplitudes(circuit, [b], backend=backend)
    np.testing.assert_allclose(got, ref[[b]], atol=tolerance(np.complex64))
    assert abs(got[0]) > 0.05  # the check compares a real amplitude, not two zeros
