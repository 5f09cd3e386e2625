"""``qtn.Simulator``: a Cirq simulator plugin backed by tensor-network contraction."""

from __future__ import annotations

import numbers
from typing import Any, Iterator, Sequence

import cirq
import numpy as np

from .api import amplitudes_of, parse_bitstring, prepare, run_options, state_vector_of
from .backends.base import Backend


class Simulator(cirq.SimulatesAmplitudes, cirq.SimulatesFinalState):
    """Cirq simulator that contracts tensor networks instead of evolving a state vector.

    Drop-in where user code calls ``compute_amplitudes`` / ``simulate`` on
    ``qsimcirq.QSimSimulator`` or ``cirq.Simulator``. Amplitudes work far past 40
    qubits; ``simulate`` builds the full state vector, so it is refused past
    ``qtn.api.MAX_STATE_VECTOR_QUBITS`` qubits or the memory budget.

    Args:
        backend: ``"numpy"`` (default), ``"opencl"``, ``"opencl:<device>"``, ``"hls"``, or a Backend.
        max_memory: bytes any intermediate may take (default: the backend's budget).
        dtype: ``np.complex64`` (default) or ``np.complex128``.
        optimize: path search (``None``, ``"greedy"``, ``"hyper"``, or a cotengra optimizer).
        search_time: most seconds one path search may take.
        progress: progress bars on stderr (default: when stderr is a terminal).
    """

    def __init__(
        self,
        *,
        backend: "str | Backend | None" = None,
        max_memory: int | None = None,
        dtype: Any = np.complex64,
        optimize: Any = None,
        search_time: float | None = None,
        progress: bool | None = None,
    ) -> None:
        self._opts = run_options(backend, max_memory, dtype, optimize, search_time, progress)

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
        if isinstance(bitstrings, (str, numbers.Integral)):
            raise TypeError("bitstrings must be a sequence of bitstrings, e.g. [0, 5]")
        bitstrings = list(bitstrings)
        for resolver in cirq.to_resolvers(params):
            ct = prepare(program, qubit_order, resolver, self._opts.dtype)
            yield list(amplitudes_of(ct, bitstrings, self._opts))

    def simulate_sweep_iter(
        self,
        program: cirq.AbstractCircuit,
        params: cirq.Sweepable,
        qubit_order: cirq.QubitOrderOrList = cirq.QubitOrder.DEFAULT,
        initial_state: Any = None,
    ) -> Iterator[cirq.StateVectorTrialResult]:
        for resolver in cirq.to_resolvers(params):
            ct = prepare(program, qubit_order, resolver, self._opts.dtype)
            n = len(ct.qubits)
            initial = None
            if initial_state is not None:
                if not isinstance(initial_state, numbers.Integral) or isinstance(initial_state, bool):
                    raise TypeError(
                        f"initial_state must be an int (a computational basis state), not {type(initial_state).__name__}"
                    )
                initial = parse_bitstring(initial_state, n)
            vector = state_vector_of(ct, self._opts, initial)
            state = cirq.StateVectorSimulationState(
                qubits=ct.qubits, initial_state=vector, dtype=self._opts.dtype.type
            )
            yield cirq.StateVectorTrialResult(params=resolver, measurements={}, final_simulator_state=state)
