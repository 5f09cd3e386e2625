"""Lightcones: the operations an observation of some qubits needs.

Only the backward lightcone of the observed qubits matters: an operation none of
whose qubits can still influence them meets its own inverse (``U^dagger U = 1``, or
``sum_k K_k^dagger K_k = 1`` for a trace-preserving channel) and is dropped before
the network is built, so a local observable of a shallow 1000-qubit circuit costs
what its lightcone costs.
"""

from __future__ import annotations

import bisect
import heapq
from typing import Iterable

from .compiler import CompiledCircuit


def lightcone(cc: CompiledCircuit, observed: Iterable[int], diagonal_ends: Iterable[int] = ()) -> list[int]:
    """Indices (ascending) of the ops that a doubled network observing ``observed`` needs.

    Ops are decided from the last to the first. An op is left out when it commutes
    with every later op kept on its qubits: it can then be moved to the end, where it
    meets its mirror image (``U^dagger U = 1``, or ``sum_k K_k^dagger K_k = 1`` for a
    channel) on traced qubits. So an op none of whose qubits is observed or feeds a
    kept op is left out, and so is a diagonal op (CZ, ZZ, Rz, a dephasing channel)
    whose qubits meet only diagonal kept ops and diagonal ends afterwards.

    Args:
        cc: the compiled circuit.
        observed: positions whose ends are observed (not simply traced).
        diagonal_ends: those of ``observed`` whose end is diagonal in the computational
            basis (a Z or identity observable, a projector, an open diagonal); the
            others (X, Y, an open density matrix) commute with nothing.

    Ops that do not preserve the trace never cancel and are kept with their own lightcones.
    """
    n = len(cc.ops)
    diagonal_ends = set(diagonal_ends)
    last: dict[int, int] = {}  # position -> index of its latest kept op (n: observed)
    nondiag: dict[int, int] = {}  # position -> index of its latest kept non-diagonal op (-1: none)
    heap: list[int] = []

    def enter(p: int, below: int) -> None:
        last[p] = below
        ops_p = cc.on_qubit[p]
        for i in ops_p[: bisect.bisect_left(ops_p, below)]:
            heapq.heappush(heap, -i)

    for p in observed:
        if p not in last:
            enter(p, n)
            nondiag[p] = -1 if p in diagonal_ends else n
    heap.extend(-i for i in cc.non_trace_preserving)
    heapq.heapify(heap)
    chosen: list[int] = []
    previous = None
    while heap:
        i = -heapq.heappop(heap)
        if i == previous:
            continue
        previous = i
        op = cc.ops[i]
        if op.trace_preserving:
            bounds = nondiag if op.diagonal else last
            if not any(i < bounds.get(p, -1) for p in op.positions):
                continue
        chosen.append(i)
        for p in op.positions:
            if p not in last:
                enter(p, i)
            if not op.diagonal and nondiag.get(p, -1) < i:
                nondiag[p] = i
    chosen.reverse()
    return chosen
