"""Qiskit interoperability (the ``qiskit`` extra): ``QuantumCircuit`` conversion and the
``SamplerV2`` / ``EstimatorV2`` primitives on qtn's exact sampling and expectation values.

Qiskit is imported only when these are used.
"""

from __future__ import annotations

from typing import Any

__all__ = ["EstimatorV2", "SamplerV2", "to_cirq", "qiskit_order"]


def __getattr__(name: str) -> Any:
    if name in ("SamplerV2", "EstimatorV2"):
        from . import primitives

        return getattr(primitives, name)
    if name in ("to_cirq", "qiskit_order"):
        from . import convert

        return getattr(convert, name)
    raise AttributeError(f"module 'qtn.qiskit' has no attribute {name!r}")
