"""``qtn.Simulator``: a Cirq simulator plugin backed by tensor-network contraction."""

from __future__ import annotations

from typing import Any, Iterator, Sequence

import cirq
import numpy as np

from .backends.base import Backend
from .circuit_input import as_cirq_circuit
from .circuits import apply_noise, as_noise_model, normalize_qubit_order, resolve_circuit, resolve_qubit_order
from .compiler import compile_circuit, compile_ops
from .contraction import amplitudes_of, bitstring_list, state_vector_of
from .expectation import (as_pauli_sums, expectation_circuit, expectation_prefixes, expectation_values,
                          moment_observables)
from .initial_state import as_initial_state
from .options import RunKeywords, RunOptions, Unpack
from .sampling import check_resumable, check_sampling, measured_circuit, run_records
from .trajectories import VectorState, draw_trajectory, needs_trajectory, tracker_for


class Simulator(
    cirq.SimulatesSamples,
    cirq.SimulatesAmplitudes,
    cirq.SimulatesExpectationValues,
    cirq.SimulatesFinalState,
):
    """Cirq simulator that contracts tensor networks instead of evolving a state vector.

    Drop-in where user code calls ``run`` / ``sample``, ``compute_amplitudes``,
    ``simulate_expectation_values`` or ``simulate`` on ``qsimcirq.QSimSimulator``,
    ``cirq.Simulator`` or (with noise) ``cirq.DensityMatrixSimulator``. Samples are
    exact (see :mod:`qtn.sampling`) and expectation values contract only each
    observable's lightcone (also after each moment: qsimcirq's
    ``simulate_moment_expectation_values``), so both work far past 40 qubits; so do
    amplitudes. ``simulate`` builds the full state vector, so it is refused past
    ``qtn.contraction.MAX_STATE_VECTOR_QUBITS`` qubits or the memory budget. As in
    Cirq, ``simulate`` and ``compute_amplitudes`` of a circuit with noise or
    measurements give one trajectory drawn with ``seed`` (:mod:`qtn.trajectories`),
    while ``run``, ``sample`` and expectation values stay exact. One deliberate
    difference: for a circuit read from a file (QASM, qsim), ``qubit_order`` left at
    ``cirq.QubitOrder.DEFAULT`` means the file's declared order, as in qtn's functions,
    where ``cirq.Simulator`` would sort the qubits by name.

    Args:
        seed: randomness of ``run``/``sample``: an int, a ``np.random.RandomState`` or
            ``None``, as ``cirq.Simulator(seed=...)`` takes it.
        noise: a ``cirq.NoiseModel`` or anything ``cirq.NoiseModel.from_noise_model_like``
            accepts, applied to every circuit as ``cirq.DensityMatrixSimulator`` does.
        sampling: the sampling method: ``"auto"`` (default), ``"state_vector"``,
            ``"marginal"`` or ``"gate_by_gate"`` (see :mod:`qtn.sampling`).
        group_size: qubits drawn per contraction while sampling (default: the method's).
        **options: run options (``backend``, ``max_memory``, ``dtype``, ``optimize``,
            ``search_time``, ``progress``, ``executor``, ``checkpoint``, ``plan_cache``,
            ``plan_seed``), held as one :class:`qtn.RunOptions` (``options``); see
            :func:`qtn.amplitudes`. ``checkpoint`` applies to ``run``/``sample`` only
            with an int ``seed``.
    """

    def __init__(
        self,
        *,
        seed: "cirq.RANDOM_STATE_OR_SEED_LIKE" = None,
        noise: Any = None,
        sampling: str = "auto",
        group_size: int | None = None,
        **options: Unpack[RunKeywords],
    ) -> None:
        self._opts = RunOptions.from_keywords(options, entry="qtn.Simulator")
        self._seed = seed
        self._prng = cirq.value.parse_random_state(seed)
        self._noise = as_noise_model(noise)
        check_sampling(sampling, group_size)
        self._sampling = sampling
        self._group_size = group_size

    @property
    def noise(self) -> cirq.NoiseModel:
        return self._noise

    @property
    def options(self) -> RunOptions:
        """The run options every call of this simulator contracts with."""
        return self._opts

    @property
    def backend(self) -> Backend:
        return self._opts.backend

    def compute_amplitudes_sweep_iter(
        self,
        program: cirq.AbstractCircuit,
        bitstrings: Sequence[int],
        params: cirq.Sweepable,
        qubit_order: cirq.QubitOrderOrList = cirq.QubitOrder.DEFAULT,
    ) -> Iterator[Sequence[complex]]:
        """Amplitudes of the final state, one list per sweep point.

        A circuit with noise, measurements or classical control gives the amplitudes
        of one trajectory (drawn with the simulator's seed, as ``cirq.Simulator``
        does); its branch probabilities come from the state vector of a small
        circuit, and from doubled networks of lightcones past
        ``qtn.trajectories.VECTOR_QUBITS`` qubits, so this works past state-vector sizes.
        """
        program, qubit_order = as_cirq_circuit(program, qubit_order)  # Qiskit circuits
        bitstrings = bitstring_list(bitstrings)
        qubit_order = normalize_qubit_order(qubit_order)
        for resolver in cirq.to_resolvers(params):
            circuit = self._noisy(program, resolver)
            qubits = resolve_qubit_order(circuit, qubit_order)
            if needs_trajectory(circuit):
                trajectory = draw_trajectory(circuit, tracker_for(qubits, None, self._opts), self._prng)
                cc = compile_ops(trajectory.ops, qubits, self._opts.dtype, channels=False)
            else:
                cc = compile_circuit(circuit, qubits, None, self._opts.dtype)
            yield list(amplitudes_of(cc, bitstrings, self._opts))

    def simulate_sweep_iter(
        self,
        program: cirq.AbstractCircuit,
        params: cirq.Sweepable,
        qubit_order: cirq.QubitOrderOrList = cirq.QubitOrder.DEFAULT,
        initial_state: Any = None,
    ) -> Iterator[cirq.StateVectorTrialResult]:
        """The final state vector per sweep point, as ``cirq.Simulator.simulate_sweep_iter``.

        ``initial_state`` is ``None`` (``|0...0>``), an int, a state vector (``2**n``
        amplitudes of any float or complex dtype) or a ``cirq.ProductState``, over
        ``qubit_order``. A circuit with noise, measurements or classical control
        gives one trajectory drawn with the simulator's seed: each channel applies
        one Kraus operator, each measurement collapses its qubits and fills
        ``result.measurements`` (each key's last record, as Cirq keeps it).
        """
        program, qubit_order = as_cirq_circuit(program, qubit_order)  # Qiskit circuits
        qubit_order = normalize_qubit_order(qubit_order)
        for resolver in cirq.to_resolvers(params):
            circuit = self._noisy(program, resolver)
            qubits = resolve_qubit_order(circuit, qubit_order)
            initial = as_initial_state(initial_state, qubits)
            measurements: dict[str, np.ndarray] = {}
            if needs_trajectory(circuit):
                tracker = tracker_for(qubits, initial, self._opts)
                trajectory = draw_trajectory(circuit, tracker, self._prng)
                measurements = trajectory.measurements()
                if isinstance(tracker, VectorState):
                    vector = tracker.state(trajectory.ops)
                else:
                    cc = compile_ops(trajectory.ops, qubits, self._opts.dtype, channels=False)
                    vector = state_vector_of(cc, self._opts, initial)
                    vector = vector / np.linalg.norm(vector)
            else:
                vector = state_vector_of(compile_circuit(circuit, qubits, None, self._opts.dtype), self._opts,
                                         initial)
            state = cirq.StateVectorSimulationState(
                qubits=list(qubits), initial_state=vector, dtype=self._opts.dtype.type
            )
            yield cirq.StateVectorTrialResult(params=resolver, measurements=measurements,
                                              final_simulator_state=state)

    def run_sweep_iter(self, program: Any, params: cirq.Sweepable, repetitions: int = 1
                       ) -> Iterator[cirq.Result]:
        """As ``cirq.Simulator.run_sweep_iter``; a Qiskit ``QuantumCircuit`` is converted first."""
        program, _ = as_cirq_circuit(program, None)
        return super().run_sweep_iter(program, params, repetitions)

    def _run(
        self, circuit: cirq.AbstractCircuit, param_resolver: cirq.ParamResolver, repetitions: int
    ) -> dict[str, np.ndarray]:
        check_resumable(self._opts, self._seed, "qtn.Simulator.run")
        mc = measured_circuit(circuit, None, param_resolver, self._noise, self._opts.dtype)
        return run_records(mc, repetitions, self._prng, self._opts, self._sampling, self._group_size)

    def simulate_expectation_values_sweep_iter(
        self,
        program: cirq.AbstractCircuit,
        observables: "cirq.PauliSumLike | list[cirq.PauliSumLike]",
        params: cirq.Sweepable,
        qubit_order: cirq.QubitOrderOrList = cirq.QubitOrder.DEFAULT,
        initial_state: Any = None,
        permit_terminal_measurements: bool = False,
    ) -> Iterator[list[complex]]:
        """Exact ``<psi|O|psi>`` (``tr(O rho)`` with noise) per observable and sweep point.

        Values are complex (as qsimcirq returns them), coefficients included.
        ``initial_state`` as for :meth:`simulate_sweep_iter`. Terminal measurements
        are refused unless ``permit_terminal_measurements`` (Cirq's rule and words);
        every measurement counts as complete dephasing of its qubits, the exact
        average over its outcomes (see :func:`qtn.expectation`).
        """
        program, qubit_order = as_cirq_circuit(program, qubit_order)  # Qiskit circuits
        obs = as_pauli_sums(observables)
        qubit_order = normalize_qubit_order(qubit_order)
        for resolver in cirq.to_resolvers(params):
            cc = expectation_circuit(program, qubit_order, resolver, self._noise, permit_terminal_measurements,
                                     self._opts.dtype)
            initial = as_initial_state(initial_state, resolve_qubit_order(program, qubit_order))
            yield [complex(v) for v in expectation_values(cc, obs, self._opts, initial)]

    def simulate_moment_expectation_values(
        self,
        program: cirq.AbstractCircuit,
        indexed_observables: Any,
        param_resolver: "cirq.ParamResolverOrSimilarType" = None,
        qubit_order: cirq.QubitOrderOrList = cirq.QubitOrder.DEFAULT,
        initial_state: Any = None,
    ) -> list[list[complex]]:
        """Expectation values after moments of a circuit, as qsimcirq's method of that name.

        Args:
            program: the circuit.
            indexed_observables: a dict from moment index to an observable or a list
                of them, evaluated after that moment; or one observable (or list) to
                evaluate after every moment.
            param_resolver: values for the circuit's symbols.
            qubit_order: as for :meth:`simulate`.
            initial_state: as for :meth:`simulate`.

        Returns:
            One list per moment index (ascending), value ``n`` for observable ``n``.
            Each prefix is contracted over its observables' lightcones only, so this
            scales past state-vector sizes; the prefixes share one compiled circuit.
            A noise model adds its channels as to the whole circuit, on every qubit of
            it (as qsimcirq and Cirq's moment steps do), so a qubit idle until a later
            moment is noisy from the start; measurements count as dephasing.
        """
        return self.simulate_moment_expectation_values_sweep(
            program, indexed_observables, cirq.ParamResolver(param_resolver), qubit_order, initial_state)[0]

    def simulate_moment_expectation_values_sweep(
        self,
        program: cirq.AbstractCircuit,
        indexed_observables: Any,
        params: cirq.Sweepable = None,
        qubit_order: cirq.QubitOrderOrList = cirq.QubitOrder.DEFAULT,
        initial_state: Any = None,
    ) -> list[list[list[complex]]]:
        """:meth:`simulate_moment_expectation_values` for every point of a sweep (one list each)."""
        program, qubit_order = as_cirq_circuit(program, qubit_order)  # Qiskit circuits
        if not isinstance(program, cirq.AbstractCircuit):
            raise TypeError(f"expected a cirq.Circuit, got {type(program).__name__}")
        moments = moment_observables(indexed_observables, len(program))
        qubit_order = normalize_qubit_order(qubit_order)
        # every prefix over the whole program's qubits: a qubit that first acts in a later
        # moment keeps its position (and its initial state)
        qubits = resolve_qubit_order(program, qubit_order)
        initial = as_initial_state(initial_state, qubits)
        ends = [m for m, _ in moments]
        out = []
        for resolver in cirq.to_resolvers(params):
            prefixes = expectation_prefixes(program, qubits, resolver, self._noise, ends, self._opts.dtype)
            out.append([[complex(v) for v in expectation_values(cc, obs, self._opts, initial)]
                        for cc, (_, obs) in zip(prefixes, moments)])
        return out

    def _noisy(self, program: cirq.AbstractCircuit, resolver: cirq.ParamResolver) -> cirq.AbstractCircuit:
        """The resolved circuit with the simulator's noise model applied (unchanged without one)."""
        return apply_noise(resolve_circuit(program, resolver), self._noise)
