"""Expectation values of Pauli observables by doubled tensor networks.

Each Pauli term ``c * P`` is the network ``<psi|P|psi>`` (``tr(P rho)`` for a noisy
circuit) over the backward lightcone of ``P``'s qubits only, so a local observable of
a shallow 1000-qubit circuit costs what its lightcone costs. Terms whose networks
share a structure share a plan (the plan cache); several terms on the same qubits
share one contraction of the reduced density matrix of those qubits.
"""

from __future__ import annotations

import numbers
from typing import Any, Iterator, Sequence

import cirq
import numpy as np

from .circuits import (apply_noise, dephased_in_place, dephased_measurements, needs_deferral, noisy_moments,
                       normalize_qubit_order, resolve_circuit, resolve_qubit_order)
from .circuit_input import as_cirq_circuit
from .compiler import CompiledCircuit, ProgramCompiler, compile_ops
from .density import Ends, doubled_network
from .initial_state import InitialState, as_initial_state
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


#: Cirq's refusal (``cirq.SimulatesExpectationValues``, qsimcirq), word for word.
TERMINAL_MEASUREMENTS = (
    "Provided circuit has terminal measurements, which may skew expectation values. If this is "
    "intentional, set permit_terminal_measurements=True."
)


def moment_observables(indexed_observables: Any, n_moments: int) -> list[tuple[int, list[cirq.PauliSum]]]:
    """qsimcirq's ``indexed_observables``: ``(moment, observables)`` pairs, ascending.

    A dict maps moment indices to an observable or a list of them; anything else is
    one observable (or list) for every moment.

    Raises:
        ValueError: a moment index outside the circuit.
        TypeError: a moment index that is not an int, an observable that is not Pauli.
    """
    if isinstance(indexed_observables, dict):
        pairs = list(indexed_observables.items())
    else:
        pairs = [(m, indexed_observables) for m in range(n_moments)]
    out = []
    for m, obs in pairs:
        if isinstance(m, (bool, np.bool_)) or not isinstance(m, numbers.Integral):
            raise TypeError(f"indexed_observables key {m!r} is not a moment index (an int)")
        if not 0 <= m < n_moments:
            raise ValueError(f"indexed_observables names moment {m}; the circuit has moments 0 to {n_moments - 1}")
        out.append((int(m), as_pauli_sums(obs)))
    return sorted(out, key=lambda pair: pair[0])


def expectation_circuit(
    circuit: cirq.AbstractCircuit,
    qubit_order: Any,
    param_resolver: Any,
    noise: Any,
    permit_terminal_measurements: bool,
    dtype: Any,
) -> CompiledCircuit:
    """Resolve, add noise and compile a circuit whose final state is observed.

    Terminal measurements are refused unless ``permit_terminal_measurements`` (as Cirq
    refuses them). Every measurement, terminal or mid-circuit, counts as complete
    dephasing of its qubits (:func:`qtn.circuits.dephased_measurements`): the value is
    the exact average over measurement outcomes, which is Cirq's value whenever
    Cirq's is deterministic and the mean of Cirq's (which observes one drawn outcome
    per call) otherwise.

    Raises:
        ValueError: terminal measurements without permission, unresolved symbols, an
            op qtn cannot simulate.
    """
    resolved = resolve_circuit(circuit, param_resolver)
    qubits = resolve_qubit_order(resolved, qubit_order)
    if not permit_terminal_measurements and resolved.are_any_measurements_terminal():
        raise ValueError(TERMINAL_MEASUREMENTS)
    noisy = apply_noise(resolved, noise)
    ops, ancillas = dephased_measurements(noisy)
    return compile_ops(ops, list(qubits) + ancillas, dtype)


def expectation_prefixes(
    circuit: cirq.AbstractCircuit,
    qubits: Sequence[cirq.Qid],
    param_resolver: Any,
    noise: Any,
    ends: Sequence[int],
    dtype: Any,
) -> Iterator[CompiledCircuit]:
    """:func:`expectation_circuit` of each prefix ``circuit[: m + 1]``, ``m`` in ``ends``
    (ascending), terminal measurements permitted, over ``qubits`` (all the circuit's).

    Noise is added as to the whole circuit, over all its qubits (as qsimcirq and Cirq's
    moment steps add it), so a prefix is a prefix of the noisy circuit. The circuit is
    resolved once and each op compiled once, every prefix cut from the one program;
    only where measurements need deferring (classical control, sub-circuits) is each
    prefix deferred and compiled on its own.
    """
    chunks = noisy_moments(resolve_circuit(circuit, param_resolver), noise)
    if needs_deferral(op for chunk in chunks for op in chunk):
        for m in ends:
            ops, ancillas = dephased_measurements(cirq.Circuit(op for chunk in chunks[: m + 1] for op in chunk))
            yield compile_ops(ops, list(qubits) + ancillas, dtype)
        return
    program = ProgramCompiler(qubits, dtype)
    done = 0
    for m in ends:
        program.extend(dephased_in_place(op for chunk in chunks[done: m + 1] for op in chunk))
        done = max(done, m + 1)
        yield program.compiled()


def expectation_values(
    cc: CompiledCircuit, observables: Sequence[cirq.PauliSum], opts, initial: InitialState | None = None
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
    initial_state: Any = None,
    **options: Unpack[RunKeywords],
) -> np.ndarray:
    """Exact expectation values ``<psi|O|psi>`` of Pauli observables on a circuit's final state.

    Only each term's backward lightcone is contracted, so local observables of large
    shallow circuits are cheap. Noisy circuits (channels in the circuit, or ``noise=``)
    give ``tr(O rho)`` from density-matrix networks.

    Args:
        circuit: a Cirq circuit (terminal measurements only with ``permit_terminal_measurements``).
        observables: a ``cirq.PauliSum`` / ``cirq.PauliString``, or a list of them.
        qubit_order: a ``cirq.QubitOrder`` or explicit list (default: sorted qubits);
            an observable may act on any qubit of it.
        param_resolver: values for the circuit's symbols.
        noise: a ``cirq.NoiseModel`` (or noise-model-like) applied to the circuit.
        permit_terminal_measurements: accept terminal measurements instead of refusing
            them (Cirq's rule); every measurement counts as complete dephasing of its
            qubits, the exact average over its outcomes.
        initial_state: ``None`` (``|0...0>``), an int, a state vector or a
            ``cirq.ProductState`` over ``qubit_order`` (see :func:`qtn.initial_state.as_initial_state`).
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
    qubit_order = normalize_qubit_order(qubit_order)
    cc = expectation_circuit(circuit, qubit_order, param_resolver, noise, permit_terminal_measurements, opts.dtype)
    initial = as_initial_state(initial_state, resolve_qubit_order(circuit, qubit_order))
    return expectation_values(cc, obs, opts, initial)
