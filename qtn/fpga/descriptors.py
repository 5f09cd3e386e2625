"""Descriptors of the RTL array's queue: one binary format for the RTL, the Verilator
harness, the bit-exact card model and the cycle model of :mod:`qtn.fpga.board_time`.

A descriptor is ``8 + 2 * MAXD`` little-endian 32-bit words (``MAXD = 12``):

====  ===========================  ===========================================
word  GEMM (op 1)                  PERMUTE (op 2)
====  ===========================  ===========================================
0     ``op | wait << 4 | tag << 8``  same
1     batch                         src_base (word address)
2     m                             dst_base
3     k                             dst_xbase (row-exponent address)
4     n                             group (elements per shared exponent)
5     a_base  (A as (batch, m, k))  ndims (<= MAXD)
6     a_xbase (batch * m exps)      total elements
7     b_base  (B as (batch, n, k))  0
8     b_xbase (batch * n exps)      size[0] .. size[MAXD-1]   (words 8 .. 8+MAXD-1)
9     c_base  (C as (batch, m, n))  stride[0] .. stride[MAXD-1] (words 8+MAXD ..)
====  ===========================  ===========================================

A PERMUTE writes dst linearly (last dimension fastest) from
``src_base + sum(idx[d] * stride[d])``; a set ``wait`` bit holds a descriptor until all
earlier ones have finished writing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence, Union

import numpy as np
from ..permute import merged_axes

MAXD = 12
WORDS = 8 + 2 * MAXD
OP_GEMM = 1
OP_PERMUTE = 2
_U32 = 1 << 32


def _u32(value: int, what: str) -> int:
    if not 0 <= value < _U32:
        raise ValueError(f"descriptor field {what} = {value} does not fit 32 bits")
    return value


@dataclass(frozen=True)
class GemmDesc:
    """``C[b] = A[b] @ B[b]^T`` on words: A ``(batch, m, k)``, B ``(batch, n, k)``."""

    tag: int
    wait: bool
    batch: int
    m: int
    k: int
    n: int
    a_base: int
    a_xbase: int
    b_base: int
    b_xbase: int
    c_base: int

    def words(self) -> np.ndarray:
        w = np.zeros(WORDS, dtype=np.uint32)
        w[0] = OP_GEMM | (int(self.wait) << 4) | (_u32(self.tag, "tag") << 8)
        for i, (name, v) in enumerate((("batch", self.batch), ("m", self.m), ("k", self.k), ("n", self.n),
                                       ("a_base", self.a_base), ("a_xbase", self.a_xbase), ("b_base", self.b_base),
                                       ("b_xbase", self.b_xbase), ("c_base", self.c_base)), start=1):
            w[i] = _u32(v, name)
        return w


@dataclass(frozen=True)
class PermuteDesc:
    """A strided copy src -> dst that also writes one shared exponent per ``group``."""

    tag: int
    wait: bool
    src: int
    dst: int
    dst_xbase: int
    group: int
    sizes: tuple[int, ...]
    strides: tuple[int, ...]

    @property
    def total(self) -> int:
        return math.prod(self.sizes)

    def words(self) -> np.ndarray:
        if not 1 <= len(self.sizes) <= MAXD or len(self.sizes) != len(self.strides):
            raise ValueError(f"a permute descriptor takes 1..{MAXD} dimensions, got {len(self.sizes)}")
        w = np.zeros(WORDS, dtype=np.uint32)
        w[0] = OP_PERMUTE | (int(self.wait) << 4) | (_u32(self.tag, "tag") << 8)
        w[1:7] = [_u32(self.src, "src"), _u32(self.dst, "dst"), _u32(self.dst_xbase, "dst_xbase"),
                  _u32(self.group, "group"), len(self.sizes), _u32(self.total, "total")]
        w[8:8 + len(self.sizes)] = self.sizes
        w[8 + MAXD:8 + MAXD + len(self.strides)] = [_u32(s, "stride") for s in self.strides]
        return w


Descriptor = Union[GemmDesc, PermuteDesc]


def pack_all(descs: Sequence[Descriptor]) -> np.ndarray:
    """Descriptors -> one ``(len, WORDS)`` uint32 array; tags must be 0..len-1 in order."""
    for i, d in enumerate(descs):
        if d.tag != i:
            raise ValueError(f"descriptor {i} has tag {d.tag}; a run's tags are its positions")
    if not descs:
        return np.zeros((0, WORDS), dtype=np.uint32)
    return np.stack([d.words() for d in descs])


def copy_dims(shape: Sequence[int], order: Sequence[int]) -> tuple[list[int], list[int]]:
    """(sizes, strides) of the strided copy that writes a C-contiguous tensor of ``shape``
    out in axis ``order``; dimensions that stay adjacent are merged, size-1 ones dropped."""
    src_strides = [math.prod(shape[a + 1:]) for a in range(len(shape))]
    sizes, strides = merged_axes([int(shape[a]) for a in order], [src_strides[a] for a in order])
    return sizes or [1], strides or [0]


def permute_descs(first_tag: int, wait: bool, src: int, dst: int, dst_xbase: int, group: int,
                  sizes: Sequence[int], strides: Sequence[int]) -> list[PermuteDesc]:
    """One strided copy as descriptors: split over its outer dimensions when it has more
    than ``MAXD`` (every piece covers whole exponent groups).

    Raises:
        ValueError: ``group`` does not divide the pieces (its axes need > MAXD dims).
    """
    total = math.prod(sizes)
    if group < 1 or total % group:
        raise ValueError(f"exponent group {group} does not divide the {total} elements of a permute")
    outer = max(0, len(sizes) - MAXD)
    inner_sizes, inner_strides = list(sizes[outer:]), list(strides[outer:])
    inner = math.prod(inner_sizes)
    if outer and inner % group:
        raise ValueError(f"a permute with {len(sizes)} dimensions splits into pieces of {inner} elements, "
                         f"not whole rows of {group}")
    out = []
    for j, idx in enumerate(np.ndindex(*sizes[:outer]) if outer else [()]):
        offset = sum(i * s for i, s in zip(idx, strides[:outer]))
        out.append(PermuteDesc(first_tag + j, wait if j == 0 else False, src + offset, dst + j * inner,
                               dst_xbase + j * inner // group, group, tuple(inner_sizes), tuple(inner_strides)))
    return out


def card_extent(descs: Sequence[Descriptor]) -> tuple[int, int]:
    """(card-memory words, row-exponent words) a descriptor list touches: one past the
    highest address any descriptor reads or writes (permute sources included)."""
    mem = xmem = 1
    for d in descs:
        if isinstance(d, GemmDesc):
            mem = max(mem, d.a_base + d.batch * d.m * d.k, d.b_base + d.batch * d.n * d.k,
                      d.c_base + d.batch * d.m * d.n)
            xmem = max(xmem, d.a_xbase + d.batch * d.m, d.b_xbase + d.batch * d.n)
        else:
            last_src = d.src + sum((s - 1) * st for s, st in zip(d.sizes, d.strides))
            mem = max(mem, last_src + 1, d.dst + d.total)
            xmem = max(xmem, d.dst_xbase + d.total // d.group)
    return mem, xmem
