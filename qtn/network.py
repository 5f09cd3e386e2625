"""Tensor networks: arrays, index labels, output labels, and their simplification.

A :class:`Network` is a closed or open einsum: ``result[output] = scalar * sum over
all other labels of prod_t arrays[t][indices[t]]``. A label may appear in more than
two tensors (a hyperedge, e.g. from diagonal gates sharing a wire). Labels are ints.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from .gemm import lower_pair

Label = int


@dataclass
class Network:
    """A tensor network.

    Attributes:
        arrays: the tensors' data.
        indices: the labels of each tensor's axes (no label twice in one tensor).
        output: the labels left open, in result order (each must appear in some tensor).
        scalar: a factor of the whole network (e.g. a global phase).
    """

    arrays: list[np.ndarray]
    indices: list[tuple[Label, ...]]
    output: tuple[Label, ...] = ()
    scalar: complex = 1.0
    _size_dict: dict[Label, int] | None = field(default=None, repr=False, compare=False)
    #: set on the result of :meth:`simplified`, which then returns it as is (simplifying is idempotent)
    _simple: bool = field(default=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.arrays) != len(self.indices):
            raise ValueError(f"{len(self.arrays)} arrays but {len(self.indices)} index tuples")
        for a, ix in zip(self.arrays, self.indices):
            if a.ndim != len(ix):
                raise ValueError(f"array of shape {a.shape} labelled with {len(ix)} indices {ix}")
            if len(set(ix)) != len(ix):
                raise ValueError(f"tensor labels repeat an index: {ix}")

    @property
    def size_dict(self) -> dict[Label, int]:
        """Dimension of every label (checked consistent across tensors)."""
        if self._size_dict is None:
            sizes: dict[Label, int] = {}
            for a, ix in zip(self.arrays, self.indices):
                for label, d in zip(ix, a.shape):
                    if sizes.setdefault(label, d) != d:
                        raise ValueError(f"index {label} has dimension {sizes[label]} and {d}")
            missing = [o for o in self.output if o not in sizes]
            if missing:
                raise ValueError(f"output labels {missing} appear in no tensor")
            self._size_dict = sizes
        return self._size_dict

    @property
    def num_tensors(self) -> int:
        return len(self.arrays)

    def canonical(self) -> "Network":
        """The same network with labels renamed ``0, 1, ...`` in order of first appearance.

        Plans are made for, and run on, canonical networks, so a plan made for one
        network runs on any network with the same ``structure_key``.
        """
        rename: dict[Label, int] = {}
        indices = [tuple(rename.setdefault(i, len(rename)) for i in ix) for ix in self.indices]
        return Network(list(self.arrays), indices, tuple(rename[o] for o in self.output), self.scalar,
                       _simple=self._simple)

    def structure_key(self) -> str:
        """A hash of the structure (labels up to renaming, shapes, dtype) but not the values.

        Two networks with equal keys contract with the same plan.
        """
        rename: dict[Label, int] = {}
        canon = [tuple(rename.setdefault(i, len(rename)) for i in ix) for ix in self.indices]
        out = tuple(rename.get(o, -1) for o in self.output)
        sizes = tuple(self.size_dict[i] for i in sorted(rename, key=rename.__getitem__))
        dtype = str(self.arrays[0].dtype) if self.arrays else ""
        return hashlib.sha1(repr((canon, out, sizes, dtype)).encode()).hexdigest()

    def simplified(self) -> "Network":
        """A copy with small tensors merged into their neighbours.

        Repeatedly merges two tensors that share a label whenever the merged tensor
        has no more axes than the larger of the two (a one-qubit gate into its
        neighbour, a projector into a gate, two gates on the same pair of wires),
        sums labels that only one tensor holds and the output does not, and folds
        scalars into ``scalar``. The decisions depend on structure only, so two
        networks with equal ``structure_key`` simplify to equal structures. A
        network that is already the result of ``simplified()`` is returned as is.
        """
        if self._simple:
            return self
        simple = _simplify(self)
        simple._simple = True
        return simple


#: Most multiply-adds one simplification merge may cost (the product of the dimensions
#: of both tensors' labels). A one-qubit gate merged into a 12-qubit operator's 2^24
#: elements is a real contraction step: the planner orders and prices those, and the
#: Schrödinger order may not need them at all (180 such merges took 3.3 s here).
MERGE_WORK_LIMIT = 2**20


def _merge_work(a_ix: Sequence[Label], b_ix: Sequence[Label], sizes: dict) -> int:
    work = 1
    for i in set(a_ix) | set(b_ix):
        work *= sizes[i]
    return work


def _summed_alone(a: np.ndarray, ix: Sequence[Label], other: set, out: set) -> tuple[np.ndarray, tuple]:
    """``a`` with the labels that neither the other operand nor the result has summed."""
    lonely = tuple(p for p, i in enumerate(ix) if i not in other and i not in out)
    if not lonely:
        return a, tuple(ix)
    return a.sum(axis=lonely), tuple(i for p, i in enumerate(ix) if p not in lonely)


def _pair_product(a: np.ndarray, a_ix: Sequence[Label], b: np.ndarray, b_ix: Sequence[Label],
                  out: Sequence[Label]) -> np.ndarray:
    """``einsum(a, b -> out)`` as one (batched) matrix multiply: NumPy's einsum on two
    operands loops in C without BLAS, seconds for the wide gate tensors of a 12-qubit
    arithmetic block."""
    keep = set(out)
    a, a_ix = _summed_alone(a, a_ix, set(b_ix), keep)
    b, b_ix = _summed_alone(b, b_ix, set(a_ix), keep)
    sizes = {**dict(zip(a_ix, a.shape)), **dict(zip(b_ix, b.shape))}
    step = lower_pair(a_ix, b_ix, keep, sizes)
    c = np.matmul(a.transpose(step.a_perm).reshape(step.a_shape), b.transpose(step.b_perm).reshape(step.b_shape))
    c = c.reshape(step.out_shape)
    where = {i: p for p, i in enumerate(step.out)}
    c = c.transpose([where[i] for i in out])
    return c if c.flags.c_contiguous else c.copy()  # (ascontiguousarray makes a 0-d result 1-d)


def _simplify(net: Network) -> Network:
    arrays: dict[int, np.ndarray] = dict(enumerate(net.arrays))
    indices: dict[int, tuple[Label, ...]] = dict(enumerate(net.indices))
    output = set(net.output)
    scalar = complex(net.scalar)
    holders: dict[Label, set[int]] = {}
    for t, ix in indices.items():
        for i in ix:
            holders.setdefault(i, set()).add(t)
    next_id = len(arrays)
    sizes = net.size_dict

    def remove(t: int) -> None:
        for i in indices[t]:
            holders[i].discard(t)
        del arrays[t], indices[t]

    def merged_labels(ts: Sequence[int]) -> tuple[Label, ...]:
        members = set(ts)
        seen: list[Label] = []
        for t in ts:
            for i in indices[t]:
                if i not in seen and (i in output or holders[i] - members):
                    seen.append(i)
        return tuple(seen)

    def merge(ts: Sequence[int]) -> int:
        nonlocal next_id
        out = merged_labels(ts)
        alphabet = {lab: k for k, lab in enumerate({i for t in ts for i in indices[t]})}
        if len(ts) == 2:
            data = _pair_product(arrays[ts[0]], indices[ts[0]], arrays[ts[1]], indices[ts[1]], out)
        else:
            operands: list = []
            for t in ts:
                operands += [arrays[t], [alphabet[i] for i in indices[t]]]
            data = np.einsum(*operands, [alphabet[i] for i in out])
        for t in ts:
            remove(t)
        new = next_id
        next_id += 1
        arrays[new], indices[new] = data, out
        for i in out:
            holders[i].add(new)
        return new

    queue = list(arrays)
    while queue:
        t = queue.pop()
        if t not in arrays:
            continue
        if not indices[t]:  # a scalar tensor
            scalar *= complex(arrays[t])
            remove(t)
            continue
        # sum labels held by t alone and not open
        lonely = [i for i in indices[t] if len(holders[i]) == 1 and i not in output]
        if lonely:
            queue.append(merge([t]))
            continue
        rank = len(indices[t])
        neighbours = sorted({n for i in indices[t] for n in holders[i] if n != t})
        best = None
        for n in neighbours:
            r = len(merged_labels([t, n]))
            if r <= max(rank, len(indices[n])) and _merge_work(indices[t], indices[n], sizes) <= MERGE_WORK_LIMIT:
                key = (r, len(indices[n]), n)
                if best is None or key < best[0]:
                    best = (key, n)
        if best is not None:
            queue.append(merge([best[1], t]))
    order = sorted(arrays)
    return Network(
        arrays=[arrays[t] for t in order],
        indices=[indices[t] for t in order],
        output=net.output,
        scalar=scalar,
    )


def components(net: Network) -> list[Network]:
    """The connected components of a network (tensors linked by shared labels), each
    with the output labels it holds (in the network's order) and scalar 1."""
    parent = list(range(len(net.arrays)))

    def find(t: int) -> int:
        while parent[t] != t:
            parent[t] = parent[parent[t]]
            t = parent[t]
        return t

    owner: dict[int, int] = {}
    for t, ix in enumerate(net.indices):
        for lab in ix:
            if lab in owner:
                parent[find(t)] = find(owner[lab])
            else:
                owner[lab] = t
    groups: dict[int, list[int]] = {}
    for t in range(len(net.arrays)):
        groups.setdefault(find(t), []).append(t)
    out = []
    for members in groups.values():
        labels = {lab for t in members for lab in net.indices[t]}
        out.append(Network([net.arrays[t] for t in members], [net.indices[t] for t in members],
                           tuple(o for o in net.output if o in labels)))
    return out
