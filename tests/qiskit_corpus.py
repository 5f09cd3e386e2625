"""A corpus of standard circuit families, generated at test time from qiskit.circuit.library
(nothing downloaded): each family at a few sizes, as built and transpiled to hardware gate
sets, exported as OpenQASM 2, OpenQASM 3 and QuantumCircuits."""

from __future__ import annotations

from typing import Callable

import numpy as np
from qiskit import QuantumCircuit, transpile
from qiskit.circuit import Gate
from qiskit.circuit import library as lib
from qiskit.circuit.random import random_circuit
from qiskit.quantum_info import SparsePauliOp

#: Hardware-like gate sets circuits are transpiled to (IBM Eagle/Heron style, and a
#: rotation + CZ set as Rigetti/IQM use).
BASIS_SETS = {"ibm": ["rz", "sx", "x", "ecr"], "rot-cz": ["rx", "ry", "rz", "cz"]}


def ghz(n: int) -> QuantumCircuit:
    qc = QuantumCircuit(n)
    qc.h(0)
    for i in range(n - 1):
        qc.cx(i, i + 1)
    return qc


def w_state(n: int) -> QuantumCircuit:
    # the standard cascade: rotate amplitude 1/sqrt(n - k) onward, then shift it along
    qc = QuantumCircuit(n)
    qc.x(0)
    for k in range(n - 1):
        theta = 2 * np.arccos(np.sqrt(1 / (n - k)))
        qc.cry(theta, k, k + 1)
        qc.cx(k + 1, k)
    return qc


def qft(n: int) -> QuantumCircuit:
    qc = QuantumCircuit(n)
    qc.h(range(n))
    qc.p(0.37, range(n))
    qc.append(lib.QFTGate(n), range(n))
    return qc


def qpe(n: int) -> QuantumCircuit:
    unitary = QuantumCircuit(1)
    unitary.p(2 * np.pi * 0.3125, 0)
    return lib.phase_estimation(n - 1, unitary)


def grover(n: int) -> QuantumCircuit:
    oracle = QuantumCircuit(n)
    oracle.x(range(0, n, 2))
    oracle.h(n - 1)
    oracle.mcx(list(range(n - 1)), n - 1)
    oracle.h(n - 1)
    oracle.x(range(0, n, 2))
    qc = QuantumCircuit(n)
    qc.h(range(n))
    qc.compose(lib.grover_operator(oracle).power(2), inplace=True)
    return qc


def deutsch_jozsa(n: int) -> QuantumCircuit:
    qc = QuantumCircuit(n)
    qc.x(n - 1)
    qc.h(range(n))
    for i in range(0, n - 1, 2):  # a balanced oracle: f(x) = x0 ^ x2 ^ ...
        qc.cx(i, n - 1)
    qc.h(range(n - 1))
    return qc


def bernstein_vazirani(n: int) -> QuantumCircuit:
    secret = [(i * 5 + 1) % 2 for i in range(n - 1)]
    qc = QuantumCircuit(n)
    qc.x(n - 1)
    qc.h(range(n))
    for i, bit in enumerate(secret):
        if bit:
            qc.cx(i, n - 1)
    qc.h(range(n - 1))
    return qc


def _with_input(gate, prepare: Callable[[QuantumCircuit], None]) -> QuantumCircuit:
    qc = QuantumCircuit(gate.num_qubits)
    prepare(qc)
    qc.append(gate, range(gate.num_qubits))
    return qc


def adder(n: int) -> QuantumCircuit:
    # Qiskit's adder gates (the CDKM/Draper classes are deprecated in Qiskit 2.1)
    k = max(1, (n - 1) // 2)
    gate = lib.HalfAdderGate(k) if n % 2 else lib.ModularAdderGate(k)
    return _with_input(gate, lambda qc: (qc.h(range(k)), qc.x(k)))


def multiplier(n: int) -> QuantumCircuit:
    # Qiskit's MultiplierGate (k x k bits -> 2k), synthesised by its default plugin; the
    # older RGQFT/HRS classes are deprecated in Qiskit 2.1
    k = 1 if n < 6 else 2
    return _with_input(lib.MultiplierGate(k), lambda qc: (qc.h(range(2 * k))))


def amplitude_estimation(n: int) -> QuantumCircuit:
    a = QuantumCircuit(1)
    a.ry(2 * np.arcsin(np.sqrt(0.3)), 0)
    oracle = QuantumCircuit(1)
    oracle.z(0)
    q = lib.grover_operator(oracle, state_preparation=a)
    qc = QuantumCircuit(n)
    qc.compose(a, [n - 1], inplace=True)
    qc.compose(lib.phase_estimation(n - 1, q), range(n), inplace=True)
    return qc


def qaoa(n: int) -> QuantumCircuit:
    cost = SparsePauliOp.from_sparse_list([("ZZ", [i, (i + 1) % n], 1.0) for i in range(n)], n)
    ansatz = lib.qaoa_ansatz(cost, reps=2)
    return ansatz.assign_parameters(np.linspace(0.1, 1.3, ansatz.num_parameters))


def vqe_ansatz(n: int) -> QuantumCircuit:
    ansatz = lib.efficient_su2(n, reps=2) if n % 2 else lib.real_amplitudes(n, reps=3, entanglement="full")
    return ansatz.assign_parameters(np.random.default_rng(n).uniform(-np.pi, np.pi, ansatz.num_parameters))


def graph_state(n: int) -> QuantumCircuit:
    adjacency = np.zeros((n, n), dtype=int)
    for i in range(n):
        for j in (i + 1, i + 2):
            if j < n:
                adjacency[i, j] = adjacency[j, i] = 1
    qc = QuantumCircuit(n)
    qc.append(lib.GraphStateGate(adjacency), range(n))
    return qc


def random(n: int) -> QuantumCircuit:
    return random_circuit(n, 6, max_operands=3, seed=100 + n)


FAMILIES: dict[str, Callable[[int], QuantumCircuit]] = {
    "ghz": ghz, "w": w_state, "qft": qft, "qpe": qpe, "grover": grover, "deutsch-jozsa": deutsch_jozsa,
    "bernstein-vazirani": bernstein_vazirani, "adder": adder, "multiplier": multiplier,
    "amplitude-estimation": amplitude_estimation, "qaoa": qaoa, "vqe": vqe_ansatz, "graph": graph_state,
    "random": random,
}
SIZES = (3, 5, 7)


def level(circuit: QuantumCircuit, name: str) -> QuantumCircuit:
    """The circuit at one level: ``"built"`` as the library gives it, else transpiled to a gate set."""
    if name == "built":
        # instructions that are not gates (Qiskit's arithmetic blueprints) and gates with an
        # array parameter (graph_state) Qiskit's exporters cannot write: open them one level
        opaque = {i.operation.name for i in circuit.data if not isinstance(i.operation, Gate)
                  or any(isinstance(p, np.ndarray) for p in i.operation.params)}
        return circuit.decompose(gates_to_decompose=sorted(opaque)) if opaque else circuit
    return transpile(circuit, basis_gates=BASIS_SETS[name], optimization_level=1, seed_transpiler=0)
