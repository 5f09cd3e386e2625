"""Lowering one pairwise contraction to one (batched) matrix multiply.

For operands ``A[a_idx]`` and ``B[b_idx]`` every index falls in one class:

* batch: in A and B and still needed afterwards (a hyperedge, e.g. from a diagonal gate);
* k: in A and B and needed nowhere else (summed by the GEMM);
* m: only in A; n: only in B (both kept).

Then ``C[batch, m, n] = A[batch, m, k] @ B[batch, k, n]`` after one permute+reshape of
each operand. An index that is in one operand only and needed nowhere else cannot
occur: ``Network.simplified`` sums such indices before planning.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod
from typing import Hashable, Mapping, Sequence

Index = Hashable


@dataclass(frozen=True)
class GemmSpec:
    """The matrix multiply of one step: ``batch`` independent ``(m, k) @ (k, n)``."""

    batch: int
    m: int
    k: int
    n: int

    @property
    def macs(self) -> int:
        """Complex multiply-adds."""
        return self.batch * self.m * self.k * self.n

    @property
    def flops(self) -> int:
        """Real floating-point operations: 8 per complex multiply-add."""
        return 8 * self.macs


@dataclass(frozen=True)
class LoweredStep:
    """How to run one pairwise contraction as a GEMM.

    ``a_perm``/``b_perm`` permute the operands (labels as stored) into
    ``(batch…, m…, k…)`` / ``(batch…, k…, n…)``; ``a_shape``/``b_shape`` are the
    2-D (or 3-D when ``gemm.batch > 1``) shapes handed to ``Backend.matmul``; the
    product has labels ``out`` in that order and shape ``out_shape``.
    """

    a_perm: tuple[int, ...]
    a_shape: tuple[int, ...]
    b_perm: tuple[int, ...]
    b_shape: tuple[int, ...]
    out: tuple[Index, ...]
    out_shape: tuple[int, ...]
    gemm: GemmSpec
    #: whether the operand's data must move (its storage is neither ``(batch, m, k)`` nor
    #: ``(batch, k, m)`` -- the transposed matrix BLAS reads as it is); B alike.
    a_moves: bool = True
    b_moves: bool = True


def lower_pair(
    a_idx: Sequence[Index],
    b_idx: Sequence[Index],
    keep: "set[Index] | frozenset[Index]",
    size_dict: Mapping[Index, int],
) -> LoweredStep:
    """Lower ``A[a_idx] * B[b_idx]`` summed over indices not in ``keep``.

    Args:
        a_idx: index labels of A, in storage order (no repeats).
        b_idx: index labels of B, in storage order (no repeats).
        keep: labels still needed after this step (by another tensor or the output).
        size_dict: dimension of every label.

    Returns:
        The permutations, shapes and GEMM sizes of the step.

    Raises:
        ValueError: an index is in one operand only and not kept (should have been
            summed before planning), or an operand repeats an index.
    """
    if len(set(a_idx)) != len(a_idx) or len(set(b_idx)) != len(b_idx):
        raise ValueError(f"operand repeats an index: {tuple(a_idx)} / {tuple(b_idx)}")
    b_set = set(b_idx)
    a_set = set(a_idx)
    # keep A's own order for batch/k/m so that A often needs no transpose.
    batch = [i for i in a_idx if i in b_set and i in keep]
    k = [i for i in a_idx if i in b_set and i not in keep]
    m = [i for i in a_idx if i not in b_set]
    n = [i for i in b_idx if i not in a_set]
    for i in m + n:
        if i not in keep:
            raise ValueError(f"index {i!r} appears in one operand only and is not kept; sum it out first")

    return lower_groups(a_idx, b_idx, batch, m, k, n, size_dict)


def lower_groups(
    a_idx: Sequence[Index],
    b_idx: Sequence[Index],
    batch: Sequence[Index],
    m: Sequence[Index],
    k: Sequence[Index],
    n: Sequence[Index],
    size_dict: Mapping[Index, int],
) -> LoweredStep:
    """The step ``C[batch, m, n] = A[batch, m, k] @ B[batch, k, n]`` with the label order
    of every group given (``qtn.layout`` chooses them so that operands need no permute)."""
    # list comprehensions over plain lists: a Schrödinger plan lowers thousands of steps
    batch, m, k, n = list(batch), list(m), list(k), list(n)
    a_order, b_order = batch + m + k, batch + k + n
    a_pos = {ix: p for p, ix in enumerate(a_idx)}
    b_pos = {ix: p for p, ix in enumerate(b_idx)}
    a_perm = tuple([a_pos[i] for i in a_order])
    b_perm = tuple([b_pos[i] for i in b_order])

    def dims(labels: list[Index]) -> int:
        return prod([size_dict[i] for i in labels])

    spec = GemmSpec(batch=dims(batch), m=dims(m), k=dims(k), n=dims(n))
    if spec.batch > 1:
        a_shape: tuple[int, ...] = (spec.batch, spec.m, spec.k)
        b_shape: tuple[int, ...] = (spec.batch, spec.k, spec.n)
    else:
        a_shape, b_shape = (spec.m, spec.k), (spec.k, spec.n)
    out = tuple(batch + m + n)
    a_store, b_store = list(a_idx), list(b_idx)
    return LoweredStep(
        a_perm=a_perm,
        a_shape=a_shape,
        b_perm=b_perm,
        b_shape=b_shape,
        out=out,
        out_shape=tuple([size_dict[i] for i in out]),
        gemm=spec,
        a_moves=a_store != a_order and a_store != batch + k + m,
        b_moves=b_store != b_order and b_store != batch + n + k,
    )
