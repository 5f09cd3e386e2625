"""Initial states ``|initial>`` of a simulation, as the tensors that open a network.

Cirq's simulators take an int (a computational basis state over the qubit order), a
state vector of ``2**n`` amplitudes, or a ``cirq.ProductState``. In a network each
becomes the tensors that start the qubits' wires: a basis state or a product state is
one rank-1 tensor per qubit (so it scales like ``|0...0>``, to any number of qubits),
a state vector one tensor over every qubit. An :class:`InitialState` holds such
blocks; qubits of no block start in ``|0>``.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any, Sequence

import cirq
import numpy as np


@dataclass(frozen=True)
class InitialState:
    """The start of every wire: blocks of qubit positions, each with its state.

    Attributes:
        blocks: ``(positions, tensor)`` pairs; the tensor has one axis of 2 per
            position (big-endian in that order) and unit norm. Positions of no
            block start in ``|0>``.
    """

    blocks: tuple[tuple[tuple[int, ...], np.ndarray], ...]

    def widen(self, region: Sequence[int]) -> list[int]:
        """``region`` with every qubit of a multi-qubit block it touches, sorted: an
        entangled block must be traced as a whole (a product block of one qubit
        outside the region contributes ``<v|v> = 1`` and is left out)."""
        out = set(region)
        for positions, _ in self.blocks:
            if len(positions) > 1 and out & set(positions):
                out |= set(positions)
        return sorted(out)

    def tensors(self, region: Sequence[int], labels: dict[int, int], dtype: Any, conj: bool = False
                ) -> list[tuple[np.ndarray, tuple[int, ...]]]:
        """The opening tensors of the qubits in ``region`` (each on ``labels[p]``), the
        complex conjugates with ``conj`` (the bra of a doubled network)."""
        covered: set[int] = set()
        out = []
        inside = set(region)
        for positions, tensor in self.blocks:
            if not inside & set(positions):
                continue
            data = np.asarray(tensor.conj() if conj else tensor, dtype=dtype)
            out.append((data, tuple(labels[p] for p in positions)))
            covered |= set(positions)
        zero = np.array([1.0, 0.0], dtype=dtype)
        out += [(zero, (labels[p],)) for p in region if p not in covered]
        return out


def as_initial_state(value: Any, qubits: Sequence[cirq.Qid]) -> InitialState | None:
    """An :class:`InitialState` over ``qubits`` (the result order) from what Cirq takes.

    Args:
        value: ``None`` (``|0...0>``), an int (a basis state, big-endian over ``qubits``),
            a state vector of ``2**n`` amplitudes of any float or complex dtype, or a
            ``cirq.ProductState`` naming every qubit (each qubit is placed by name,
            whatever the qubit order).
        qubits: the qubits in result order.

    Returns:
        The state, or ``None`` for ``|0...0>``.

    Raises:
        TypeError: ``value`` is none of those.
        ValueError: an int out of range, a vector of the wrong length or with a norm
            far from 1, a product state that misses or adds qubits.
    """
    n = len(qubits)
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)):
        raise TypeError("initial_state is a bool; give an int, a state vector or a cirq.ProductState")
    if isinstance(value, numbers.Integral):
        b = int(value)
        if not 0 <= b < 1 << n:
            raise ValueError(f"initial_state {b} is out of range for {n} qubits (0 <= initial_state < 2**{n})")
        one = np.array([0.0, 1.0])
        return InitialState(tuple(((p,), one) for p in range(n) if (b >> (n - 1 - p)) & 1))
    if isinstance(value, cirq.ProductState):
        named = set(value.qubits)
        missing = [q for q in qubits if q not in named]
        extra = sorted(named - set(qubits))
        if missing or extra:
            what = f"misses qubit {missing[0]}" if missing else f"names qubit {extra[0]}, which is not simulated"
            raise ValueError(f"initial_state (a cirq.ProductState) {what}; it must name every qubit of the circuit")
        position = {q: p for p, q in enumerate(qubits)}
        return InitialState(tuple(((position[q],), np.asarray(s.state_vector(), dtype=np.complex128))
                                  for q, s in value.states.items()))
    if isinstance(value, (np.ndarray, list, tuple)):
        vector = np.asarray(value)
        if vector.dtype.kind not in "fciu" or vector.dtype.kind == "b":
            raise TypeError(f"initial_state vector has dtype {vector.dtype}; give float or complex amplitudes")
        vector = vector.reshape(-1) if vector.size == 2**n else vector
        if vector.ndim != 1 or vector.size != 2**n:
            raise ValueError(f"initial_state vector has {vector.size} amplitudes (shape {np.shape(value)}); "
                             f"{n} qubits need 2**{n} = {2**n}")
        vector = vector.astype(np.complex128)
        norm = float(np.linalg.norm(vector))
        real = np.asarray(value).dtype
        atol = 1e-4 if real.itemsize <= (8 if real.kind == "c" else 4) else 1e-7
        if abs(norm - 1.0) > atol:
            raise ValueError(f"initial_state vector has norm {norm:.8g}, not 1 (within {atol:g})")
        return InitialState((((tuple(range(n))), (vector / norm).reshape((2,) * n)),)) if n else None
    raise TypeError(f"initial_state must be an int, a state vector or a cirq.ProductState, "
                    f"not {type(value).__name__}")
