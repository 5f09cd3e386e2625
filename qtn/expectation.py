"""Expectation values of Pauli observables by doubled tensor networks.

Each Pauli term ``c * P`` is the network ``<psi|P|psi>`` (``tr(P rho)`` for a noisy
circuit) over the backward lightcone of ``P``'s qubits only, so a local observable of
a shallow 1000-qubit circuit costs what its lightcone costs. Terms whose networks
share a structure share a plan (the plan cache); several terms on the same qubits
share one contraction of the reduced density matrix of those qubits.
"""

from __future__ import annotations

import numbers
from typing import Any, Sequence

import cirq
import numpy as np

from .circuits import apply_noise, defer_to_terminal, resolve_circuit, resolve_qubit_order
from .circuit_input import as_cirq_circuit
from .compiler import CompiledCircuit, compile_ops
from .density import Ends, doubled_network
from .engine import contract_components, contract_value
from .lightcone import lightcone
from .options import RunKeywords, RunOptions, Unpack

#: Terms that share their qubits are read off one reduced density matrix of those
#: qubits when there are at most this many (``4**4`` entries).
MAX_SHARED_SUPPORT = 4

_PAULI = {
    cirq.X: np.array([[0, 1], [1, 0]], dtype=np.complex128),
    cirq.Y: np.array([[0, -1j], [1j, 0]], dtype=np.complex128),
    cirq.Z: np.array([[1, 0], [0, -1]], dtype=np.complex128),
}


def as_pauli_sums(observables: Any) -> list[cirq.PauliSum]:
    """A list of ``cirq.PauliSum`` from one PauliSum-like value or a list of them.

    Raises:
        TypeError: an observable is not a PauliSum, PauliString, Pauli operation or number.
    """
    items = list(observables) if isinstance(observables, (list, tuple)) else [observables]
    if not items:
        raise ValueError("observables is empty; give a cirq.PauliSum or PauliString, or a list of them")
    out = []
    for obs in items:
        if isinstance(obs, (bool, np.bool_)) or not isinstance(obs, (cirq.PauliSum, cirq.PauliString, numbers.Number)):
            raise TypeError(
                f"observable {obs!r} is a {type(obs).__name__}; qtn takes cirq.PauliSum, cirq.PauliString "
                "(e.g. cirq.Z(q) * cirq.Z(r)) or a number, or a list of them"
            )
        out.append(cirq.PauliSum.wrap(obs))
    return out


def expectation_circuit(
    circuit: cirq.AbstractCircuit,
    qubit_order: Any,
    param_resolver: Any,
    noise: Any,
    permit_terminal_measurements: bool,
    dtype: Any,
) -> CompiledCircuit:
    """Resolve, add noise and compile a circuit whose final state is observed.

    Measurements are refused unless ``permit_terminal_measurements``; permitted, the
    terminal ones are left out (the state just before them is observed) and any
    mid-circuit measurement or classical control is deferred to an ancilla, which
    gives the exact average over measurement outcomes (Cirq's simulators instead draw
    one outcome per call and observe that branch).

    Raises:
        ValueError: measurements without permission, unresolved symbols, an op qtn
            cannot simulate.
    """
    resolved = resolve_circuit(circuit, param_resolver)
    qubits = resolve_qubit_order(resolved, qubit_order)
    noisy = apply_noise(resolved, noise)
    ancillas: list[cirq.Qid] = []
    if noisy.has_measurements():
        if not permit_terminal_measurements:
            raise ValueError(
                "circuit has measurements, which would skew expectation values; pass "
                "permit_terminal_measurements=True to observe the state before its terminal measurements"
            )
        ops, ancillas = defer_to_terminal(noisy)
        ops = [op for op in ops if not isinstance(op.gate, cirq.MeasurementGate)]
    else:
        ops = list(noisy.all_operations())
    return compile_ops(ops, list(qubits) + ancillas, dtype)


def expectation_values(
    cc: CompiledCircuit, observables: Sequence[cirq.PauliSum], opts, initial: Sequence[int] | None = None
) -> np.ndarray:
    """``<psi|O|psi>`` (or ``tr(O rho)``) of each observable, coefficients included.

    Raises:
        ValueError: an observable acts on a qubit that is not in ``cc.qubits``.
    """
    position = cc.position
    # support -> [(observable, coefficient, {position: pauli matrix})]
    groups: dict[tuple[int, ...], list[tuple[int, complex, dict[int, np.ndarray]]]] = {}
    values = np.zeros(len(observables), dtype=np.complex128)
    for k, obs in enumerate(observables):
        for term in obs:
            unknown = [q for q in term.qubits if q not in position]
            if unknown:
                raise ValueError(
                    f"observable {obs} acts on qubit {unknown[0]}, which is not a qubit of the circuit "
                    "(nor of qubit_order)"
                )
            paulis = {position[q]: _PAULI[p] for q, p in term.items()}
            groups.setdefault(tuple(sorted(paulis)), []).append((k, complex(term.coefficient), paulis))
    non_tp = bool(cc.non_trace_preserving)
    contract = contract_value(opts)
    for support, terms in groups.items():
        if not support and not non_tp:
            for k, c, _ in terms:
                values[k] += c  # tr(rho) = 1
            continue
        if len(terms) > 1 and 0 < len(support) <= MAX_SHARED_SUPPORT:
            ops = lightcone(cc, support)
            rho = contract_components(doubled_network(cc, ops, Ends(matrix=support), initial), contract, opts.dtype)
            g = len(support)
            rho = rho.astype(np.complex128).reshape(2**g, 2**g)
            for k, c, paulis in terms:
                op = _kron([paulis[p] for p in support])
                values[k] += c * np.einsum("kb,bk->", rho, op)
            continue
        for k, c, paulis in terms:
            ops = lightcone(cc, support, [p for p, m in paulis.items() if m is _PAULI[cirq.Z]])
            net = doubled_network(cc, ops, Ends(operators=paulis), initial)
            values[k] += c * complex(contract_components(net, contract, opts.dtype))
    return values.astype(opts.dtype)


def _kron(mats: Sequence[np.ndarray]) -> np.ndarray:
    out = np.ones((1, 1), dtype=np.complex128)
    for m in mats:
        out = np.kron(out, m)
    return out


def expectation(
    circuit: cirq.AbstractCircuit,
    observables: Any,
    *,
    qubit_order: "cirq.QubitOrderOrList | None" = None,
    param_resolver: "cirq.ParamResolverOrSimilarType" = None,
    noise: Any = None,
    permit_terminal_measurements: bool = False,
    **options: Unpack[RunKeywords],
) -> np.ndarray:
    """Exact expectation values ``<psi|O|psi>`` of Pauli observables on a circuit's final state.

    Only each term's backward lightcone is contracted, so local observables of large
    shallow circuits are cheap. Noisy circuits (channels in the circuit, or ``noise=``)
    give ``tr(O rho)`` from density-matrix networks.

    Args:
        circuit: a Cirq circuit (measurements only with ``permit_terminal_measurements``).
        observables: a ``cirq.PauliSum`` / ``cirq.PauliString``, or a list of them.
        qubit_order: a ``cirq.QubitOrder`` or explicit list (default: sorted qubits);
            an observable may act on any qubit of it.
        param_resolver: values for the circuit's symbols.
        noise: a ``cirq.NoiseModel`` (or noise-model-like) applied to the circuit.
        permit_terminal_measurements: observe the state before terminal measurements
            instead of refusing a circuit that has them.
        **options: run options as for :func:`qtn.amplitudes`.

    Returns:
        One complex value per observable, coefficients included (as qsimcirq returns them).

    Raises:
        ValueError: an observable on a qubit outside the circuit, measurements without
            permission, unresolved symbols, an op qtn cannot simulate.
        TypeError: an observable that is not Pauli, bad circuit, noise or option types.
    """
    circuit, qubit_order = as_cirq_circuit(circuit, qubit_order)  # Qiskit circuits, declared order
    opts = RunOptions.from_keywords(options, entry="qtn.expectation")
    obs = as_pauli_sums(observables)
    cc = expectation_circuit(circuit, qubit_order, param_resolver, noise, permit_terminal_measurements, opts.dtype)
    return expectation_values(cc, obs, opts)
