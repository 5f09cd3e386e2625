"""The bit-exact model of the RTL card: card memory, row-exponent memory, and the
PERMUTE and GEMM descriptors executed on them with :mod:`qtn.fpga.formats`. Every RTL
run is compared with this model word for word."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from . import formats
from .descriptors import Descriptor, GemmDesc, PermuteDesc


class CardModel:
    """Card memory (``uint64`` words) and row-exponent memory (``int32``) in NumPy."""

    def __init__(self, fmt: formats.BfpFormat, mem_words: int, xmem_words: int) -> None:
        self.fmt = fmt
        self.mem = np.zeros(mem_words, dtype=np.uint64)
        self.xmem = np.zeros(xmem_words, dtype=np.int32)

    def run(self, descs: Sequence[Descriptor]) -> None:
        """Execute descriptors in order (the model has no timing)."""
        for d in descs:
            if isinstance(d, PermuteDesc):
                self._permute(d)
            else:
                self._gemm(d)

    def _permute(self, d: PermuteDesc) -> None:
        addr = np.full((), d.src, dtype=np.int64)
        for size, stride in zip(d.sizes, d.strides):
            addr = addr[..., None] + np.arange(size, dtype=np.int64) * stride
        words = self.mem[addr.ravel()]
        self.mem[d.dst:d.dst + d.total] = words
        ng = d.total // d.group
        self.xmem[d.dst_xbase:d.dst_xbase + ng] = formats.row_exponents(self.fmt, words, d.group)

    def _gemm(self, d: GemmDesc) -> None:
        b, m, k, n = d.batch, d.m, d.k, d.n
        a = self.mem[d.a_base:d.a_base + b * m * k].reshape(b, m, k)
        bb = self.mem[d.b_base:d.b_base + b * n * k].reshape(b, n, k)
        xa = self.xmem[d.a_xbase:d.a_xbase + b * m].reshape(b, m).astype(np.int64)
        xb = self.xmem[d.b_xbase:d.b_xbase + b * n].reshape(b, n).astype(np.int64)
        self.mem[d.c_base:d.c_base + b * m * n] = formats.gemm_words(self.fmt, a, xa, bb, xb).ravel()
