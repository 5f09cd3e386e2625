"""Single-layer networks ``<fixed| U |initial>`` of a compiled circuit.

Wires are labelled by ints: each qubit starts on a label closed by ``|initial>``; a
non-diagonal gate moves its qubits to fresh labels, a diagonal gate stores only its
diagonal on the qubits' current labels. The last label of each qubit is closed by
``<b|`` (an amplitude) or left open (a state vector, a batch of amplitudes).
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from .compiler import CompiledCircuit, wire_walk
from .initial_state import InitialState
from .network import Network


def ket_network(
    cc: CompiledCircuit,
    op_indices: Sequence[int],
    fixed: Mapping[int, int],
    open_positions: Sequence[int],
    initial: InitialState | None = None,
) -> Network:
    """The single-layer network of ``<fixed| U |initial>`` with ``open_positions`` left open.

    ``U`` is the product of the ops ``op_indices``; every qubit they touch must be
    either fixed or open. Only valid for circuits without channels.
    """
    if cc.noisy:
        raise ValueError("a circuit with noise channels has no state vector; use a doubled network")
    dtype = cc.dtype
    region = sorted({p for i in op_indices for p in cc.ops[i].positions} | set(fixed) | set(open_positions))
    if initial is not None:
        region = initial.widen(region)
    loose = [p for p in region if p not in fixed and p not in set(open_positions)]
    if loose:
        raise ValueError(f"qubit {cc.qubits[loose[0]]} is neither fixed nor open in a ket network")
    arrays: list[np.ndarray] = []
    indices: list[tuple[int, ...]] = []
    for data, labels in (initial or InitialState(())).tensors(region, {p: k for k, p in enumerate(region)}, dtype):
        arrays.append(data)
        indices.append(labels)
    walk, ket = wire_walk(cc, op_indices, region)
    for t, old, new in walk:
        arrays.append(t.data)
        indices.append(old if new is None else new + old)
    fix_ends(arrays, indices, {ket[p]: bit for p, bit in fixed.items()})
    return Network(arrays, indices, tuple(ket[p] for p in open_positions))


def fix_ends(arrays: list[np.ndarray], indices: list[tuple[int, ...]], bits: Mapping[int, int]) -> None:
    """Close each label of ``bits`` on ``<bit|`` by slicing every tensor that holds it at
    that bit (in place), instead of adding the basis vector as a tensor of its own.

    The same network, but a wire that ends in diagonal gates is a hyperedge: with the
    basis vector it stays one through every contraction (the vector merges into one of
    its tensors and the others still share the label), sliced it is gone from all of
    them. A QFT ends every wire that way, so its amplitude network falls apart into
    one small piece per qubit. Slicing depends on which labels are fixed, not on the
    bits, so bitstrings of one circuit keep one structure (and one plan). A tensor
    left without axes is a scalar factor (:meth:`Network.simplified` folds it in)."""
    for t, labels in enumerate(indices):
        if not any(lab in bits for lab in labels):
            continue
        key = tuple(bits[lab] if lab in bits else slice(None) for lab in labels)
        arrays[t] = np.array(arrays[t][key], order="C")  # (ascontiguousarray makes 0-d arrays 1-d)
        indices[t] = tuple(lab for lab in labels if lab not in bits)


def open_network(cc: CompiledCircuit, open_positions: Sequence[int] = (), bits: Sequence[int] | None = None,
                 initial: InitialState | None = None) -> Network:
    """The network of the whole circuit ``C|initial>`` (default ``|0...0>``), global
    phase included, with the qubits at ``open_positions`` left open (in that order)
    and every other qubit ``p`` closed by ``<bits[p]|`` (default 0). With no open
    positions it is the amplitude ``<bits|C|initial>``. Bits follow ``cc.qubits``."""
    open_set = set(open_positions)
    fixed = {p: (bits[p] if bits is not None else 0) for p in range(len(cc.qubits)) if p not in open_set}
    net = ket_network(cc, range(len(cc.ops)), fixed, list(open_positions), initial)
    net.scalar = cc.phase
    return net
