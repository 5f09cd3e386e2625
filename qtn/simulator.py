"""``qtn.Simulator``: a Cirq simulator plugin backed by tensor-network contraction."""

from __future__ import annotations

import numbers
from typing import Any, Iterator, Sequence

import cirq
import numpy as np

from .backends.base import Backend
from .circuit_input import as_cirq_circuit
from .circuits import apply_noise, as_noise_model, resolve_circuit, resolve_qubit_order
from .compiler import compile_circuit
from .contraction import amplitudes_of, bitstring_list, parse_bitstring, state_vector_of
from .expectation import as_pauli_sums, expectation_circuit, expectation_values
from .options import RunKeywords, RunOptions, Unpack
from .sampling import check_resumable, check_sampling, measured_circuit, run_records


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
    observable's lightcone, so both work far past 40 qubits; so do amplitudes.
    ``simulate`` builds the full state vector, so it is refused past
    ``qtn.api.MAX_STATE_VECTOR_QUBITS`` qubits or the memory budget. Amplitudes and
    final states of noisy circuits are refused: a mixed state has neither.

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
        program, qubit_order = as_cirq_circuit(program, qubit_order)  # Qiskit circuits
        bitstrings = bitstring_list(bitstrings)
        for resolver in cirq.to_resolvers(params):
            cc = compile_circuit(self._noisy(program, resolver), qubit_order, None, self._opts.dtype)
            yield list(amplitudes_of(cc, bitstrings, self._opts))

    def simulate_sweep_iter(
        self,
        program: cirq.AbstractCircuit,
        params: cirq.Sweepable,
        qubit_order: cirq.QubitOrderOrList = cirq.QubitOrder.DEFAULT,
        initial_state: Any = None,
    ) -> Iterator[cirq.StateVectorTrialResult]:
        program, qubit_order = as_cirq_circuit(program, qubit_order)  # Qiskit circuits
        for resolver in cirq.to_resolvers(params):
            cc = compile_circuit(self._noisy(program, resolver), qubit_order, None, self._opts.dtype)
            initial = _initial_bits(initial_state, len(cc.qubits))
            vector = state_vector_of(cc, self._opts, initial)
            state = cirq.StateVectorSimulationState(
                qubits=list(cc.qubits), initial_state=vector, dtype=self._opts.dtype.type
            )
            yield cirq.StateVectorTrialResult(params=resolver, measurements={}, final_simulator_state=state)

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
        """Exact ``<psi|O|psi>`` per observable and sweep point, coefficients included.

        Values are complex (as qsimcirq returns them). ``initial_state`` is an int, a
        computational basis state over ``qubit_order``, or ``None`` for ``|0...0>``.
        See :func:`qtn.expectation`.
        """
        program, qubit_order = as_cirq_circuit(program, qubit_order)  # Qiskit circuits
        obs = as_pauli_sums(observables)
        for resolver in cirq.to_resolvers(params):
            cc = expectation_circuit(program, qubit_order, resolver, self._noise, permit_terminal_measurements,
                                     self._opts.dtype)
            n_circuit = len(resolve_qubit_order(program, qubit_order))
            initial = _initial_bits(initial_state, n_circuit)
            if initial is not None:
                initial = tuple(initial) + (0,) * (len(cc.qubits) - n_circuit)  # deferral ancillas start in 0
            yield [complex(v) for v in expectation_values(cc, obs, self._opts, initial)]

    def _noisy(self, program: cirq.AbstractCircuit, resolver: cirq.ParamResolver) -> cirq.AbstractCircuit:
        """The resolved circuit with the simulator's noise model applied (unchanged without one)."""
        return apply_noise(resolve_circuit(program, resolver), self._noise)


def _initial_bits(initial_state: Any, n: int) -> tuple[int, ...] | None:
    """Bits of an int initial state (a computational basis state), or None for ``|0...0>``."""
    if initial_state is None:
        return None
    if not isinstance(initial_state, numbers.Integral) or isinstance(initial_state, bool):
        raise TypeError(
            f"initial_state must be an int (a computational basis state), not {type(initial_state).__name__}"
        )
    return parse_bitstring(initial_state, n)
