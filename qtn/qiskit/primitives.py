"""Qiskit's V2 primitives on qtn: ``SamplerV2`` draws shots with qtn's exact sampling
(:func:`qtn.sample`), ``EstimatorV2`` gives exact expectation values
(:func:`qtn.expectation`, lightcone-pruned), so circuits past state-vector sizes run.

Qiskit code switches simulator by changing one import::

    from qtn.qiskit import SamplerV2, EstimatorV2   # instead of StatevectorSampler/-Estimator
"""

from __future__ import annotations

from typing import Any, Iterable

import cirq
import numpy as np
from qiskit.primitives import BaseEstimatorV2, BaseSamplerV2, DataBin, PrimitiveJob, PrimitiveResult
from qiskit.primitives import BitArray, PubResult, SamplerPubResult
from qiskit.primitives.containers.estimator_pub import EstimatorPub, EstimatorPubLike
from qiskit.primitives.containers.sampler_pub import SamplerPub, SamplerPubLike

from .. import expectation as qtn_expectation
from .. import sample as qtn_sample
from .convert import clbit_keys, qiskit_order, to_cirq


class SamplerV2(BaseSamplerV2):
    """Qiskit's ``BaseSamplerV2`` on qtn's exact sampling.

    Shots are drawn from the exact distribution of the circuit's measurements (qtn
    contracts marginals, so no state vector is built); each classical register comes
    back as a ``BitArray`` under its name, in Qiskit's bit order.
    """

    def __init__(self, *, default_shots: int = 1024, seed: "np.random.Generator | int | None" = None,
                 options: dict[str, Any] | None = None):
        """
        Args:
            default_shots: shots of a pub that names none.
            seed: an int or ``np.random.Generator`` making the draws reproducible.
            options: keywords for :func:`qtn.sample` (``backend``, ``dtype``, ``max_memory``...).
        """
        self._default_shots = default_shots
        self._rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        self._options = dict(options or {})

    @property
    def default_shots(self) -> int:
        """Shots of a pub that names none."""
        return self._default_shots

    def run(self, pubs: Iterable[SamplerPubLike], *, shots: int | None = None
            ) -> PrimitiveJob[PrimitiveResult[SamplerPubResult]]:
        """Sample each pub (``circuit``, ``(circuit, parameter values)``, ``(circuit, values, shots)``)."""
        coerced = [SamplerPub.coerce(pub, self._default_shots if shots is None else shots) for pub in pubs]
        job = PrimitiveJob(self._run, coerced)
        job._submit()
        return job

    def _run(self, pubs: list[SamplerPub]) -> PrimitiveResult[SamplerPubResult]:
        return PrimitiveResult([self._run_pub(pub) for pub in pubs], metadata={"version": 2, "simulator": "qtn"})

    def _run_pub(self, pub: SamplerPub) -> SamplerPubResult:
        bound = pub.parameter_values.bind_all(pub.circuit)
        keys = clbit_keys(pub.circuit)
        regs = {reg.name: [keys[b] for b in reg] for reg in pub.circuit.cregs}
        arrays = {name: np.zeros(bound.shape + (pub.shots, len(ks)), dtype=bool) for name, ks in regs.items()}
        for index, circuit in np.ndenumerate(bound):
            converted, order = to_cirq(circuit)
            measured = {}
            if converted.has_measurements():
                seed = int(self._rng.integers(2**31))
                result = qtn_sample(converted, pub.shots, qubit_order=order, seed=seed, **self._options)
                measured = {k: np.asarray(v)[:, -1] for k, v in result.records.items()}
            for name, ks in regs.items():
                for i, k in enumerate(ks):
                    if k in measured:  # a clbit never measured reads 0, as in Qiskit
                        arrays[name][index + (slice(None), i)] = measured[k][:, 0] if measured[k].ndim > 1 \
                            else measured[k]
        data = {name: BitArray.from_bool_array(a, order="little") for name, a in arrays.items()}
        return SamplerPubResult(DataBin(**data, shape=pub.shape),
                                metadata={"shots": pub.shots, "circuit_metadata": pub.circuit.metadata})


def pauli_sum(observable: dict[str, complex], qubits: list[cirq.Qid]) -> cirq.PauliSum:
    """An observable of Qiskit's ``ObservablesArray`` (``{"XIZ": 0.5, ...}``, the last
    character on qubit 0) as a ``cirq.PauliSum`` over ``qubits`` (the circuit's qubits in
    Qiskit's index order)."""
    paulis = {"X": cirq.X, "Y": cirq.Y, "Z": cirq.Z}
    total = cirq.PauliSum()
    for label, coeff in observable.items():
        term = cirq.PauliString(coefficient=complex(coeff))
        for k, ch in enumerate(reversed(label)):
            if ch != "I":
                term = term * paulis[ch](qubits[k])
        total += term
    return total


class EstimatorV2(BaseEstimatorV2):
    """Qiskit's ``BaseEstimatorV2`` on qtn's exact expectation values.

    Values are exact (up to the contraction's float precision), so ``stds`` are 0 and
    no shot noise is added whatever ``precision`` a pub asks for (an exact value meets
    any precision); ``metadata["target_precision"]`` records what was asked.
    """

    def __init__(self, *, default_precision: float = 0.0, options: dict[str, Any] | None = None):
        """
        Args:
            default_precision: the precision recorded for pubs that name none.
            options: keywords for :func:`qtn.expectation` (``backend``, ``dtype``...).
        """
        self._default_precision = default_precision
        self._options = dict(options or {})

    def run(self, pubs: Iterable[EstimatorPubLike], *, precision: float | None = None
            ) -> PrimitiveJob[PrimitiveResult[PubResult]]:
        """Expectation values of each pub ``(circuit, observables[, parameter values[, precision]])``."""
        p = self._default_precision if precision is None else precision
        coerced = [EstimatorPub.coerce(pub, p) for pub in pubs]
        job = PrimitiveJob(self._run, coerced)
        job._submit()
        return job

    def _run(self, pubs: list[EstimatorPub]) -> PrimitiveResult[PubResult]:
        return PrimitiveResult([self._run_pub(pub) for pub in pubs], metadata={"version": 2, "simulator": "qtn"})

    def _run_pub(self, pub: EstimatorPub) -> PubResult:
        bound = pub.parameter_values.bind_all(pub.circuit)
        # which bound circuit each broadcast entry uses, so each circuit is converted
        # and contracted once for all its observables (terms sharing a support then
        # share one reduced density matrix in qtn.expectation)
        shape = np.broadcast_shapes(bound.shape, pub.observables.shape)
        which = np.broadcast_to(np.arange(bound.size).reshape(bound.shape), shape)
        observables = np.broadcast_to(pub.observables, shape)
        evs = np.zeros(shape, dtype=np.float64)
        groups: dict[int, list[tuple[int, ...]]] = {}
        for index in np.ndindex(*shape):  # also the 0-d pub: one observable, no parameters
            groups.setdefault(int(which[index]), []).append(index)
        for flat, circuit in enumerate(bound.ravel()):
            indices = groups.get(flat)
            if not indices:
                continue
            converted, order = to_cirq(circuit.remove_final_measurements(inplace=False))
            sums = [pauli_sum(observables[index], order[::-1]) for index in indices]
            values = np.asarray(qtn_expectation(converted, sums, qubit_order=order, **self._options)).ravel()
            for index, value in zip(indices, values):
                evs[index] = float(np.real(value))
        return PubResult(DataBin(evs=evs, stds=np.zeros_like(evs), shape=evs.shape),
                         metadata={"target_precision": pub.precision, "circuit_metadata": pub.circuit.metadata})
