"""The plan cache: plans kept by network *structure*, in memory and on disk.

A plan depends only on a network's structure (labels, shapes, dtype) and on the
planning options, so it is reused when only the values change (another bitstring,
other parameters) and, through the disk, by another process on the same circuit
(as cotengra's ``ReusableHyperOptimizer(directory=...)``). On disk a plan is its
contraction path and sliced labels (JSON, one file per key); reading it back
rebuilds the :class:`qtn.planning.Plan` for the network without a search. Files are
written atomically (a temporary file renamed into place), and a file that cannot be
read or does not fit the network is ignored (and searched again).
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .host import cache_dir

if TYPE_CHECKING:
    from .network import Network
    from .planning import Plan

#: Bump when the meaning of a stored path changes, so old files are not read.
FORMAT_VERSION = 1


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file renamed into place, so a
    reader never sees half a file (two writers of one key write the same content)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


class PlanCache:
    """Plans by key, in memory (least recently used dropped past ``max_entries``) and,
    with a ``directory``, on disk.

    Args:
        directory: folder of the disk cache, or None for memory only.
        max_entries: plans kept in memory.
        parent: a cache asked on a miss and given every new plan (e.g. the default
            cache behind the cache of one :class:`qtn.Contraction`).

    Attributes:
        hits, misses: lookups of this instance that found / did not find a plan.
        disk_hits: hits served from disk (a subset of ``hits``).
    """

    def __init__(self, directory: "str | os.PathLike[str] | None" = None, max_entries: int = 256,
                 parent: "PlanCache | None" = None) -> None:
        self.parent = parent
        self.directory = None if directory is None else Path(directory)
        if self.directory is not None and self.directory.exists() and not self.directory.is_dir():
            raise ValueError(f"plan_cache {str(self.directory)!r} is a file; give a folder")
        self.max_entries = int(max_entries)
        self._memory: "OrderedDict[str, Plan]" = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = self.disk_hits = 0

    def __repr__(self) -> str:
        return f"PlanCache(directory={None if self.directory is None else str(self.directory)!r})"

    def get(self, key: str, network: "Network") -> "Plan | None":
        """The plan stored under ``key`` (rebuilt for ``network`` when it comes from disk), or None."""
        plan = self.peek(key)
        if plan is not None:
            return plan
        plan = self._read(key, network)
        if plan is None and self.parent is not None:
            plan = self.parent.get(key, network)
        with self._lock:
            if plan is None:
                self.misses += 1
                return None
            self.hits += 1
            self.disk_hits += plan.source == "disk"
            self._remember(key, plan)
        return plan

    def peek(self, key: str) -> "Plan | None":
        """The plan under ``key`` if this cache holds it in memory (counted as a hit), else
        None without reading the disk or the parent (and without counting a miss)."""
        with self._lock:
            plan = self._memory.get(key)
            if plan is not None:
                self._memory.move_to_end(key)
                self.hits += 1
            return plan

    def put(self, key: str, plan: "Plan") -> None:
        """Keep ``plan`` under ``key`` in memory and, with a directory, on disk."""
        with self._lock:
            self._remember(key, plan)
        if self.parent is not None:
            self.parent.put(key, plan)
        if self.directory is not None:
            record = {"version": FORMAT_VERSION, "key": key, "ssa_path": [list(s) for s in plan.ssa_path],
                      "sliced": list(plan.sliced), "method": plan.method, "memory_budget": plan.memory_budget,
                      "peak_limit": plan.peak_limit, "search_seconds": plan.search_seconds}
            try:
                write_atomic(self._file(key), json.dumps(record))
            except OSError:
                pass  # a read-only or full disk leaves the memory cache working

    def info(self) -> dict[str, Any]:
        """``hits``, ``misses``, ``disk_hits``, ``size`` (= ``memory``: plans in memory),
        ``disk`` (plan files) and ``directory``."""
        disk = 0
        if self.directory is not None and self.directory.is_dir():
            disk = sum(1 for _ in self.directory.glob("*.json"))
        with self._lock:
            return {"hits": self.hits, "misses": self.misses, "disk_hits": self.disk_hits,
                    "size": len(self._memory), "memory": len(self._memory), "disk": disk,
                    "directory": None if self.directory is None else str(self.directory)}

    def clear(self, disk: bool = False) -> None:
        """Forget the plans in memory (and zero the counters); with ``disk``, delete the plan files too."""
        with self._lock:
            self._memory.clear()
            self.hits = self.misses = self.disk_hits = 0
        if disk and self.directory is not None and self.directory.is_dir():
            for f in self.directory.glob("*.json"):
                f.unlink(missing_ok=True)

    def _remember(self, key: str, plan: "Plan") -> None:
        self._memory[key] = plan
        self._memory.move_to_end(key)
        while len(self._memory) > self.max_entries:
            self._memory.popitem(last=False)

    def _file(self, key: str) -> Path:
        assert self.directory is not None
        return self.directory / f"{key}.json"

    def _read(self, key: str, network: "Network") -> "Plan | None":
        if self.directory is None:
            return None
        from .planning import plan_from_path

        try:
            record = json.loads(self._file(key).read_text())
            if record.get("version") != FORMAT_VERSION or record.get("key") != key:
                return None
            plan = plan_from_path(network, [tuple(p) for p in record["ssa_path"]], tuple(record["sliced"]),
                                  memory_budget=int(record["memory_budget"]), peak_limit=record["peak_limit"],
                                  method=str(record["method"]))
        except (OSError, ValueError, KeyError, TypeError, AssertionError):
            return None  # absent, half-written by a crashed writer, corrupt, or of another network
        return plan.with_source("disk", float(record.get("search_seconds", 0.0)))


_default: PlanCache | None = None
_default_lock = threading.Lock()


def default_plan_cache() -> PlanCache:
    """The cache every call uses unless ``plan_cache=`` says otherwise: memory, and on
    disk the folder ``$QTN_PLAN_CACHE`` (``off`` for none) or :func:`qtn.host.cache_dir` ``("plans")``.
    Created on first use."""
    global _default
    with _default_lock:
        if _default is None:
            where = os.environ.get("QTN_PLAN_CACHE") or str(cache_dir("plans"))
            _default = PlanCache(directory=None if where.lower() in ("off", "0", "none") else where)
        return _default


def cache_info() -> dict[str, Any]:
    """What the default plan cache holds: see :meth:`PlanCache.info`."""
    return default_plan_cache().info()


def clear_cache(disk: bool = False) -> None:
    """Forget the default cache's plans in memory (and zero its counters); with
    ``disk``, delete its plan files too."""
    default_plan_cache().clear(disk=disk)
