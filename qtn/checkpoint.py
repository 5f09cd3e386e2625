"""Resumable runs: a folder that keeps the sum of every finished chunk of slices.

A :class:`Checkpoint` folder records one run: its contractions in the order they
happen (an entry point may contract several networks, e.g. one per bitstring), each
with a fingerprint and its contraction order, and one file per finished chunk::

    folder/manifest.json           {"format": ..., "contractions": [entry, ...]}
    folder/0000/0000000000-0000000016.npy   sum of slices at positions 0..15 of contraction 0

A run started again with the same calls gets the same slots in the same order (a
slot is taken when its contraction starts, so one refused before that leaves no gap).
Each slot's network and plan must match its entry (structure, values, plan, dtype, slice
set), or the run is refused rather than mixed with another; the plan is taken from
the entry, since a path search need not find the same one twice. Every file is
written to a temporary name and renamed into place, so a run killed at any moment
leaves only whole files behind. One run at a time may use a folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .network import Network
from .planning import Plan, plan_from_path

FORMAT = "qtn-checkpoint/1"
_PART = re.compile(r"^(\d{10})-(\d{10})\.npy$")


@dataclass(frozen=True)
class Fingerprint:
    """What a contraction's partial sums depend on, each as a hash.

    Attributes:
        structure: ``Network.structure_key()`` (labels, shapes, dtype).
        values: the arrays' bytes, the output labels and the scalar.
        plan: sliced labels, contraction steps and final permutation.
        dtype: the arrays' dtype.
        slices: ``"all"`` or a hash of the slice numbers run.
    """

    structure: str
    values: str
    plan: str
    dtype: str
    slices: str

    def differences(self, other: "Fingerprint") -> list[str]:
        return [name for name, value in asdict(self).items() if getattr(other, name) != value]


def network_values_hash(network: Network) -> str:
    h = hashlib.sha256()
    h.update(repr((network.indices, network.output, complex(network.scalar))).encode())
    for a in network.arrays:
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(memoryview(a).cast("B"))
    return h.hexdigest()


def network_fingerprint(network: Network) -> dict[str, str]:
    """The ``structure``, ``values`` and ``dtype`` parts of a :class:`Fingerprint`."""
    return {
        "structure": network.structure_key(),
        "values": network_values_hash(network),
        "dtype": str(network.arrays[0].dtype) if network.arrays else "",
    }


def fingerprint(network: Network, plan: Plan, order: Sequence[int] | None) -> Fingerprint:
    """The fingerprint of contracting ``network`` with ``plan`` over slices ``order`` (None: all)."""
    steps = [(s.left, s.right) for s in plan.steps]
    plan_key = repr((plan.sliced, [plan.size_dict[i] for i in plan.sliced], steps, plan.final_perm, plan.output))
    return Fingerprint(
        plan=hashlib.sha256(plan_key.encode()).hexdigest(),
        slices="all" if order is None else hashlib.sha256(repr(tuple(order)).encode()).hexdigest(),
        **network_fingerprint(network),
    )


def as_checkpoint(checkpoint: Any) -> "Checkpoint | Slot | None":
    """A :class:`Checkpoint` for a folder path; Checkpoints and Slots as they are.

    Raises:
        TypeError: not None, a str / ``os.PathLike``, a Checkpoint or a Slot.
        ValueError: the path exists and is not a folder.
    """
    if checkpoint is None or isinstance(checkpoint, (Checkpoint, Slot)):
        return checkpoint
    if isinstance(checkpoint, (str, os.PathLike)):
        return Checkpoint(checkpoint)
    raise TypeError(f"checkpoint must be a folder path (str or os.PathLike), not {type(checkpoint).__name__}")


class Checkpoint:
    """The checkpoint folder of one run; hands out one :class:`Slot` per contraction, in order.

    Args:
        path: the folder, created when the run's first contraction starts. An existing
            folder must be empty or a checkpoint.

    Raises:
        ValueError: ``path`` is a file, or a non-empty folder that is not a checkpoint.
    """

    def __init__(self, path: "str | os.PathLike[str]") -> None:
        self.path = Path(path)
        if self.path.exists() and not self.path.is_dir():
            raise ValueError(f"checkpoint {str(self.path)!r} is a file; give a folder")
        # a lone manifest.json.tmp is a first manifest write that a kill interrupted
        others = [p for p in self.path.iterdir() if p.name != "manifest.json.tmp"] if self.path.is_dir() else []
        if others and not (self.path / "manifest.json").exists():
            raise ValueError(f"checkpoint folder {str(self.path)!r} is not empty and holds no qtn manifest; "
                             "give an empty or new folder")
        self._started = 0  # contractions of this run that have started
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Checkpoint({str(self.path)!r})"

    def next_slot(self) -> "Slot":
        """The slot of the run's next contraction (the same one until that contraction starts,
        so a contraction refused before it starts leaves no gap)."""
        with self._lock:
            return Slot(self, self._started)

    def _start(self, number: int) -> None:
        with self._lock:
            if number != self._started:
                raise ValueError(f"contraction {number} of checkpoint {str(self.path)!r} cannot start after "
                                 f"{self._started} others; a checkpointed run contracts one network at a time")
            self._started += 1

    def _entries(self) -> list[dict[str, Any]]:
        manifest = self.path / "manifest.json"
        if not manifest.exists():
            return []
        try:
            data = json.loads(manifest.read_text())
            if data.get("format") != FORMAT:
                raise ValueError(f"format {data.get('format')!r}, expected {FORMAT!r}")
            entries = list(data["contractions"])
            for entry in entries:
                Fingerprint(**entry["fingerprint"])  # a missing or unknown part raises TypeError
                path = entry["path"]
                if not (isinstance(entry["n"], int) and isinstance(entry["shape"], list)
                        and isinstance(path["ssa_path"], list) and isinstance(path["sliced"], list)
                        and isinstance(path["method"], str)):
                    raise ValueError(f"contraction entry of unexpected form: {entry!r:.200}")
            return entries
        except (ValueError, KeyError, TypeError, AttributeError) as err:
            raise ValueError(f"checkpoint manifest {str(manifest)!r} cannot be read: {err!r}") from err

    def _write_entry(self, number: int, entry: dict[str, Any]) -> None:
        with self._lock:
            entries = self._entries()
            if number != len(entries):
                raise ValueError(f"checkpoint {str(self.path)!r} holds {len(entries)} contractions, so "
                                 f"contraction {number} cannot be added; is another run using the folder?")
            entries.append(entry)
            self.path.mkdir(parents=True, exist_ok=True)
            _atomic_write(self.path / "manifest.json",
                          json.dumps({"format": FORMAT, "contractions": entries}, indent=1).encode())


class Slot:
    """One contraction of a checkpointed run (number ``number`` of its folder)."""

    def __init__(self, checkpoint: Checkpoint, number: int) -> None:
        self.checkpoint = checkpoint
        self.number = number
        self.folder = checkpoint.path / f"{number:04d}"

    def _entry(self) -> dict[str, Any] | None:
        entries = self.checkpoint._entries()
        return entries[self.number] if self.number < len(entries) else None

    def _refuse(self, what: Sequence[str]) -> ValueError:
        return ValueError(
            f"checkpoint {str(self.checkpoint.path)!r} was written by another run: its contraction "
            f"{self.number} differs from this one in {', '.join(what)}; use a new folder (or delete "
            "this one) to start afresh"
        )

    def saved_plan(self, network: Network, memory_budget: int, peak_limit: int | None) -> Plan | None:
        """The plan this slot was run with before, rebuilt for ``network``; None for a new
        slot or one of another network (which :meth:`open` refuses, should it come to that).

        Raises:
            ValueError: the manifest cannot be read, or its contraction path does not fit.
        """
        entry = self._entry()
        if entry is None:
            return None
        stored = entry["fingerprint"]
        if any(stored[k] != v for k, v in network_fingerprint(network).items()):
            return None
        path = entry["path"]
        return plan_from_path(network, [tuple(p) for p in path["ssa_path"]], tuple(path["sliced"]),
                              memory_budget=memory_budget, peak_limit=peak_limit,
                              method=f"{path['method']} (from checkpoint)")

    def open(self, network: Network, plan: Plan, order: Sequence[int] | None) -> "Record":
        """Start (or resume) this slot's contraction.

        Raises:
            ValueError: the slot holds another contraction (the message says what differs),
                or a chunk file that does not fit it.
        """
        fp = fingerprint(network, plan, order)
        n = plan.n_slices if order is None else len(order)
        shape = [plan.size_dict[o] for o in plan.output]
        entry = self._entry()
        if entry is not None:
            differs = Fingerprint(**entry["fingerprint"]).differences(fp)
            if differs:
                raise self._refuse(differs)
        self.checkpoint._start(self.number)
        if entry is None:
            self.checkpoint._write_entry(self.number, {
                "fingerprint": asdict(fp),
                "n": n,
                "shape": shape,
                "path": {"ssa_path": [[s.left, s.right] for s in plan.steps], "sliced": list(plan.sliced),
                         "method": plan.method},
            })
        self.folder.mkdir(parents=True, exist_ok=True)
        return Record(self.folder, n, tuple(shape), np.dtype(fp.dtype or np.complex64))


class Record:
    """The chunk files of one contraction: which slices are done, their sums, saving more."""

    def __init__(self, folder: Path, n: int, shape: tuple[int, ...], dtype: np.dtype) -> None:
        self.folder, self.n, self.shape, self.dtype = folder, n, shape, dtype
        for stale in folder.glob("*.tmp"):  # left by a run killed while writing
            stale.unlink()
        ranges = []
        for f in folder.iterdir():
            m = _PART.match(f.name)
            if m is None:
                raise ValueError(f"checkpoint folder {str(folder)!r} holds {f.name!r}, which qtn did not write")
            ranges.append((int(m.group(1)), int(m.group(2))))
        ranges.sort()
        end = 0
        for start, stop in ranges:
            if not (end <= start < stop <= n):
                raise ValueError(f"checkpoint folder {str(folder)!r} holds chunk {start}-{stop}, which overlaps "
                                 f"another or lies outside 0-{n}; delete the folder to start afresh")
            end = stop
        self.earlier = tuple(ranges)

    @property
    def done_count(self) -> int:
        """Slices done by earlier runs."""
        return sum(stop - start for start, stop in self.earlier)

    def missing(self) -> list[tuple[int, int]]:
        """The ranges of positions earlier runs did not finish."""
        gaps, end = [], 0
        for start, stop in self.earlier:
            if start > end:
                gaps.append((end, start))
            end = stop
        if end < self.n:
            gaps.append((end, self.n))
        return gaps

    def _file(self, start: int, stop: int) -> Path:
        return self.folder / f"{start:010d}-{stop:010d}.npy"

    def save(self, chunk: Any, result: np.ndarray) -> None:
        """Store the sum of a finished chunk (``chunk.start`` / ``chunk.stop``)."""
        if result.shape != self.shape:
            raise ValueError(f"chunk result of shape {result.shape}, expected {self.shape}")
        with open(self._file(chunk.start, chunk.stop).with_suffix(".tmp"), "wb") as f:
            np.save(f, result, allow_pickle=False)
            f.flush()
            os.fsync(f.fileno())
        os.replace(self._file(chunk.start, chunk.stop).with_suffix(".tmp"), self._file(chunk.start, chunk.stop))

    def saved_sum(self) -> np.ndarray | None:
        """The sum of the chunks earlier runs finished (None if none), read one file at a time."""
        total = None
        for start, stop in self.earlier:
            part = np.load(self._file(start, stop), allow_pickle=False)
            if part.shape != self.shape or part.dtype != self.dtype:
                raise ValueError(f"checkpoint file {self._file(start, stop)} holds {part.dtype}{part.shape}, "
                                 f"expected {self.dtype}{self.shape}")
            total = part if total is None else total + part
        return total


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
