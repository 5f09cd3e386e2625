"""The gate list of a direct state-vector run with the passes it need not make taken out.

Two rewrites of :func:`qtn.fusion.gates_of`, each of which saves whole passes over the
``2**n`` state (measured on QFT-20 here: 4 passes of its leading X/H layer and 14 of its
final qubit reversal, of 40):

* one-qubit gates on a qubit before any multi-qubit gate on it are folded into that
  qubit's start vector: the product start state is written once in any case;
* a run of gates on two qubits whose product is a SWAP times a product of one-qubit
  gates (a SWAP, or a SWAP decomposed into CNOTs, CZs and rotations, as
  ``cirq.decompose`` leaves it) becomes those one-qubit gates and a relabelling of
  the two qubits' bits: nothing moves until one permutation at the end
  (:func:`qtn.permute.permute`), which also writes the result.

The rewritten gates act on *slots* (the state's axes, slot ``s`` at index bit
``n - 1 - s``); ``final[q]`` is the slot holding qubit ``q`` at the end.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .fusion import Gate

#: The most two-qubit gates in a run searched for a SWAP (the search is quadratic in them).
SWAP_SEARCH_GATES = 12
_SWAP = np.eye(4)[[0, 2, 1, 3]]


@dataclass(frozen=True)
class Rewritten:
    """A gate list on slots, what it left out, and where each qubit ends.

    Attributes:
        gates: the gates to apply, positions as slots.
        start: per qubit, the 2x2 matrix folded into its start vector (None: nothing).
        scale: a scalar left over by the relabelled SWAPs (a global phase).
        final: ``final[q]``, the slot of qubit ``q`` after the last gate.
    """

    gates: tuple[Gate, ...]
    start: tuple["np.ndarray | None", ...]
    scale: complex
    final: tuple[int, ...]


def _pair_matrix(gate: Gate, a: int) -> np.ndarray:
    """The gate as a 4x4 matrix on the pair (a, b), ``a`` the more significant (complex128)."""
    d = np.asarray(gate.data, dtype=np.complex128)
    if len(gate.positions) == 1:  # kron(m, I) or kron(I, m), without np.kron's overhead
        m = np.diag(d.reshape(2)) if gate.diagonal else d.reshape(2, 2)
        out = np.zeros((4, 4), dtype=np.complex128)
        if gate.positions[0] == a:
            out[0::2, 0::2] = m
            out[1::2, 1::2] = m
        else:
            out[:2, :2] = m
            out[2:, 2:] = m
        return out
    m = np.diag(d.reshape(4)) if gate.diagonal else d.reshape(4, 4)
    return m if gate.positions[0] == a else _SWAP @ m @ _SWAP


def _tolerance(dtype: np.dtype) -> float:
    # rounding of a few dozen products in the circuit's precision, well under its accuracy
    return 2e-6 if np.dtype(dtype).itemsize <= 8 else 1e-11


def _swap_factors(m: np.ndarray, tol: float) -> "tuple[np.ndarray, np.ndarray] | None":
    """``(A, B)`` with ``m == SWAP @ kron(A, B)`` to ``tol`` (relative), else None."""
    k = _SWAP @ m
    # realigned: r[(ao, ai), (bo, bi)] = k[(ao, bo), (ai, bi)]; rank 1 iff a product
    r = k.reshape(2, 2, 2, 2).transpose(0, 2, 1, 3).reshape(4, 4)
    i, j = np.unravel_index(np.argmax(np.abs(r)), r.shape)
    pivot = r[i, j]
    if abs(pivot) == 0:
        return None
    col, row = r[:, j], r[i, :] / pivot
    if np.max(np.abs(r - np.outer(col, row))) > tol * abs(pivot):
        return None
    a, b = col.reshape(2, 2), row.reshape(2, 2)
    norm = np.sqrt(abs(np.linalg.det(a)))  # unit-determinant-sized factors: neither tiny nor huge
    return (a / norm, b * norm) if norm > 0 else (a, b)


def _find_swap(mats: Sequence[np.ndarray], two: Sequence[bool], tol: float):
    """The longest run ``i..j`` of ``mats`` (with a two-qubit gate) whose product is a
    SWAP times one-qubit gates, as ``(i, j, A, B)``, else None.

    One-qubit gates next to such a run join it (SWAP (A x B) (C x D) and (C x D) SWAP
    (A x B) are of the same form), so a run is tried only from just after a two-qubit
    gate (or the start) to just before one (or the end): quadratic in two-qubit gates.
    """
    m = len(mats)
    twos = [k for k in range(m) if two[k]]
    best = None
    for s in range(len(twos)):
        i = twos[s - 1] + 1 if s else 0
        p = np.eye(4, dtype=np.complex128)
        for k in range(i, twos[s]):
            p = mats[k] @ p
        for e in range(s, min(len(twos), s + SWAP_SEARCH_GATES)):
            nxt = twos[e + 1] if e + 1 < len(twos) else m
            for k in range(twos[e], nxt):
                p = mats[k] @ p
            j = nxt - 1
            if best is None or j - i > best[1] - best[0]:
                f = _swap_factors(p, tol)
                if f is not None:
                    best = (i, j, *f)
    return best


def _scalar(m: np.ndarray, tol: float) -> "complex | None":
    """``c`` where ``m == c * I`` (to ``tol``), else None."""
    c = m[0, 0]
    if abs(m[0, 1]) + abs(m[1, 0]) + abs(m[1, 1] - c) <= tol * max(abs(c), 1e-300):
        return complex(c)
    return None


def rewrite(gates: Sequence[Gate], n: int, dtype: np.dtype, swaps: bool = True) -> Rewritten:
    """``gates`` (circuit order, positions as qubits) rewritten as the module says;
    without ``swaps``, only the leading one-qubit gates are folded (no SWAP search)."""
    tol = _tolerance(dtype)
    slot = list(range(n))
    start: list = [None] * n
    touched = [False] * n  # a multi-qubit gate has reached the qubit
    seg: dict[int, list] = {}  # qubit -> its open segment [a, b, gates]
    out: list[Gate] = []
    scale = 1.0 + 0j

    def emit(g: Gate) -> None:
        out.append(Gate(tuple(slot[p] for p in g.positions), g.diagonal, g.data))

    def emit_one(q: int, m: np.ndarray) -> None:
        nonlocal scale
        c = _scalar(m, tol)
        if c is not None:
            scale *= c
        elif abs(m[0, 1]) + abs(m[1, 0]) <= tol * np.max(np.abs(m)):
            out.append(Gate((slot[q],), True, np.diag(m).astype(dtype)))
        else:
            out.append(Gate((slot[q],), False, m.astype(dtype)))

    def close(q: int) -> None:
        s = seg.get(q)
        if s is None:
            return
        a, b, members = s
        del seg[a], seg[b]
        while members:
            # a SWAP takes three entangling gates, or a dense two-qubit one (an iSWAP, a
            # SWAP itself): most segments (a QFT's phases) are not searched at all
            two = [g for g in members if len(g.positions) == 2]
            if len(two) < 3 and all(g.diagonal for g in two):
                for g in members:
                    emit(g)
                return
            mats = [_pair_matrix(g, a) for g in members]
            found = _find_swap(mats, [len(g.positions) == 2 for g in members], tol)
            if found is None:
                for g in members:
                    emit(g)
                return
            i, j, ma, mb = found
            for g in members[:i]:
                emit(g)
            emit_one(a, ma)
            emit_one(b, mb)
            slot[a], slot[b] = slot[b], slot[a]
            members = members[j + 1:]

    for g in gates:
        ps = g.positions
        if len(ps) == 1:
            q = ps[0]
            if not touched[q]:
                m = np.diag(g.data.reshape(2)) if g.diagonal else g.data.reshape(2, 2)
                m = m.astype(np.complex128)
                start[q] = m if start[q] is None else m @ start[q]
            elif q in seg:
                seg[q][2].append(g)
            else:
                emit(g)
            continue
        for q in ps:
            touched[q] = True
        if len(ps) == 2 and ps[0] in seg and seg[ps[0]] is seg.get(ps[1]):
            seg[ps[0]][2].append(g)
            continue
        for q in ps:
            close(q)
        if len(ps) == 2 and swaps:
            s = [ps[0], ps[1], [g]]
            seg[ps[0]] = seg[ps[1]] = s
        else:
            emit(g)
    for q in list(seg):
        close(q)
    return Rewritten(tuple(out), tuple(start), scale, tuple(slot))
