"""Reference helpers shared by the tests."""

from __future__ import annotations

import cirq
import numpy as np


def tolerance(dtype) -> float:
    return 2e-5 if np.dtype(dtype) == np.complex64 else 1e-10


def reference_state(circuit: cirq.AbstractCircuit, qubit_order=None, resolver=None) -> np.ndarray:
    """Cirq's state vector in complex128."""
    if resolver is not None:
        circuit = cirq.resolve_parameters(circuit, resolver)
    order = cirq.QubitOrder.DEFAULT if qubit_order is None else qubit_order
    return cirq.final_state_vector(circuit, qubit_order=order, dtype=np.complex128)
