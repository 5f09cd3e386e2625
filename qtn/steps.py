"""A plan's steps: one pairwise contraction each, and the packed form plans keep them in."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Sequence

from .gemm import GemmSpec, LoweredStep


@dataclass(frozen=True)
class Step:
    """One pairwise contraction: SSA ids of its operands (inputs are ``0..n-1``, step
    ``s`` produces ``n + s``) and its lowering to a GEMM."""

    left: int
    right: int
    lowered: LoweredStep


class PackedSteps(Sequence[Step]):
    """A plan's steps kept as flat tuples of ints, each :class:`Step` made when read.

    Why: a Schrödinger plan has a step per block, join and projection (thousands for a
    long circuit), and a Step with its LoweredStep and GemmSpec is three objects that
    Python's cycle collector tracks. Cached plans then make every full collection walk
    hundreds of thousands of objects (0.3-0.6 s pauses measured in a run of 246 suite
    circuits, landing in whichever later call triggers one). Tuples holding only ints
    are untracked by the collector, so the packed form costs it one object.
    """

    __slots__ = ("_rows",)

    def __init__(self, steps: "Sequence[Step]") -> None:
        self._rows = tuple(_pack(s) for s in steps)

    def __len__(self) -> int:
        return len(self._rows)

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return tuple(_unpack(r) for r in self._rows[i])
        return _unpack(self._rows[i])

    def __iter__(self):
        return map(_unpack, self._rows)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, PackedSteps):
            return self._rows == other._rows
        if isinstance(other, (tuple, list)):
            return len(other) == len(self) and all(a == b for a, b in zip(self, other))
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._rows)

    def __repr__(self) -> str:
        return f"PackedSteps({len(self)} steps)"

    def __reduce__(self):
        return (PackedSteps._from_rows, (self._rows,))

    @classmethod
    def _from_rows(cls, rows: tuple) -> "PackedSteps":
        packed = cls(())
        packed._rows = rows
        return packed


# the packed row's layout, from the dataclasses themselves (a field added there is packed too)
_LOWERED_FIELDS = tuple(f.name for f in fields(LoweredStep) if f.name != "gemm")
_GEMM_FIELDS = tuple(f.name for f in fields(GemmSpec))


def _pack(s: Step) -> tuple:
    low = s.lowered
    return (s.left, s.right, *(getattr(low.gemm, f) for f in _GEMM_FIELDS), *(getattr(low, f) for f in _LOWERED_FIELDS))


def _unpack(r: tuple) -> Step:
    g = 2 + len(_GEMM_FIELDS)
    return Step(r[0], r[1], LoweredStep(gemm=GemmSpec(*r[2:g]), **dict(zip(_LOWERED_FIELDS, r[g:]))))
