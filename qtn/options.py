"""Run options: how a contraction runs, built once per call from keywords.

Every public entry point (``qtn.amplitudes``, ``state_vector``, ``plan``, ``sample``,
``expectation``, ``compile`` and ``qtn.Simulator``) takes the same run keywords and
forwards them, by name, to :meth:`RunOptions.from_keywords`; every layer below takes
the frozen :class:`RunOptions` whole. An option that cannot apply to an entry point
(``checkpoint`` on ``qtn.plan``, which contracts nothing) is refused there with a
``ValueError`` naming it.

Adding an option: a field (with its check in :meth:`RunOptions.from_keywords`) and
its line in :class:`RunKeywords`, the typed mirror that entry points declare as
``**options``; a test checks that the two list the same names.
"""

from __future__ import annotations

import dataclasses
import numbers
import os
import sys
from dataclasses import dataclass
from typing import Any, Collection, Mapping, TypedDict

try:
    from typing import Unpack  # Python 3.11+
except ImportError:  # pragma: no cover - Python 3.10
    from typing_extensions import Unpack  # noqa: F401  (re-exported for the entry points)

import numpy as np

from .backends.base import Backend, get_backend
from .checkpoint import Checkpoint, as_checkpoint
from .executors import check_executor
from .plan_cache import PlanCache, default_plan_cache
from .planning import check_optimize

#: The seed of the path search when none is given: plans are the same in every run.
DEFAULT_PLAN_SEED = 0


class RunKeywords(TypedDict, total=False):
    """The run keywords of every entry point (see :class:`RunOptions` for their meaning)."""

    backend: "str | Backend | None"
    max_memory: "int | None"
    dtype: Any
    optimize: Any
    search_time: "float | None"
    progress: "bool | None"
    executor: Any
    checkpoint: "str | os.PathLike[str] | Checkpoint | None"
    plan_cache: "PlanCache | str | os.PathLike[str] | bool | None"
    plan_seed: int


@dataclass(frozen=True)
class RunOptions:
    """How to contract: device, memory bound, precision, path search, execution.

    Attributes:
        backend: the started :class:`qtn.Backend` (keyword: a name such as ``"numpy"``,
            ``"opencl"``, ``"opencl:<device>"``, ``"hls"``, or a Backend; default numpy).
        max_memory: bytes any intermediate may take (default: the backend's
            ``memory_budget()``); the contraction is sliced to meet it. Besides, one
            slice's peak must fit the device's budget (or ``max_memory`` if larger),
            shared over the executor's workers.
        dtype: ``numpy.complex64`` (default) or ``numpy.complex128``.
        optimize: path search: ``None`` (automatic), ``"greedy"``, ``"hyper"`` or a
            cotengra optimizer (whose plans are not cached).
        search_time: most seconds one hyper path search may take (default 30); the
            search stops earlier, once it has taken as long as the best contraction
            found would take at the backend's measured flop rate.
        progress: progress bars on stderr (default: when stderr is a terminal).
        executor: where slices run: ``None`` (serial), a ``concurrent.futures``
            executor, a ``dask.distributed.Client`` or a scheduler address
            (``"tcp://host:8786"``).
        checkpoint: a folder (or :class:`qtn.checkpoint.Checkpoint`) that keeps
            finished slices, so the same call made again after a crash resumes.
        plan_cache: where plans are kept between calls: absent for the default cache
            (memory and ``$XDG_CACHE_HOME/qtn/plans`` on disk), a folder path for a
            cache there, a :class:`qtn.PlanCache`, or ``None`` / ``False`` for none
            (every contraction searches).
        plan_seed: the seed of cotengra's randomized path search (default
            ``DEFAULT_PLAN_SEED``), so the same circuit and options give the same plan
            in every run and process. (``seed`` of ``qtn.sample`` and ``Simulator``
            stays Cirq's sampling seed.)
    """

    backend: Backend
    max_memory: int
    dtype: np.dtype
    optimize: Any = None
    search_time: float | None = None
    progress: bool = False
    executor: Any = None
    checkpoint: Checkpoint | None = None
    plan_cache: PlanCache | None = None
    plan_seed: int = DEFAULT_PLAN_SEED

    @classmethod
    def from_keywords(cls, keywords: Mapping[str, Any], *, entry: str = "qtn",
                      refuse: Mapping[str, str] | Collection[str] = ()) -> "RunOptions":
        """Validate run keywords and build the options (the only constructor callers use).

        Args:
            keywords: the run keywords of a call, by name.
            entry: the entry point, for messages (e.g. ``"qtn.plan"``).
            refuse: names this entry point cannot honour (a mapping gives the reason).

        Raises:
            TypeError: an unknown keyword; ``dtype`` not complex64/complex128,
                ``max_memory`` or ``plan_seed`` not an int, ``executor``,
                ``checkpoint`` or ``plan_cache`` of a type not listed above.
            ValueError: a refused option, unknown backend, non-positive ``max_memory``,
                a negative ``search_time``, a string ``executor`` that is not a
                scheduler address, a ``checkpoint`` that is a file or a non-empty
                folder qtn did not write.
        """
        unknown = sorted(set(keywords) - set(RunKeywords.__annotations__))
        if unknown:
            raise TypeError(f"{entry}() got an unexpected keyword argument {unknown[0]!r}; "
                            f"run options are {', '.join(RunKeywords.__annotations__)}")
        for name in refuse:
            if keywords.get(name) is not None:
                why = refuse[name] if isinstance(refuse, Mapping) else "it does not apply here"
                raise ValueError(f"{entry} does not take {name}=: {why}")
        kw = dict(keywords)
        backend = get_backend(kw.get("backend"))
        progress = kw.get("progress")
        return cls(
            backend=backend,
            max_memory=_max_memory(kw.get("max_memory"), backend),
            dtype=_dtype(kw.get("dtype", np.complex64)),
            optimize=_optimize(kw.get("optimize")),
            search_time=_search_time(kw.get("search_time")),
            progress=sys.stderr.isatty() if progress is None else bool(progress),
            executor=_executor(kw.get("executor")),
            checkpoint=as_checkpoint(kw.get("checkpoint")),
            plan_cache=_plan_cache(kw["plan_cache"]) if "plan_cache" in kw else default_plan_cache(),
            plan_seed=_plan_seed(kw.get("plan_seed", DEFAULT_PLAN_SEED)),
        )

    def replace(self, **changes: Any) -> "RunOptions":
        """A copy with some fields changed (values of the fields' own types)."""
        return dataclasses.replace(self, **changes)


def _dtype(dtype: Any) -> np.dtype:
    try:
        dt = np.dtype(dtype)
    except TypeError as err:
        raise TypeError(f"dtype must be numpy.complex64 or numpy.complex128, not {dtype!r}") from err
    if dt not in (np.dtype(np.complex64), np.dtype(np.complex128)):
        raise TypeError(f"dtype must be numpy.complex64 or numpy.complex128, not {dt}")
    return dt


def _max_memory(max_memory: Any, backend: Backend) -> int:
    if max_memory is None:
        return int(backend.memory_budget())
    if isinstance(max_memory, bool) or not isinstance(max_memory, numbers.Integral):
        raise TypeError(f"max_memory must be an int number of bytes, not {type(max_memory).__name__}")
    if max_memory <= 0:
        raise ValueError(f"max_memory must be a positive number of bytes, got {max_memory}")
    return int(max_memory)


def _optimize(optimize: Any) -> Any:
    check_optimize(optimize)
    return optimize


def _search_time(search_time: Any) -> float | None:
    if search_time is None:
        return None
    if isinstance(search_time, bool) or not isinstance(search_time, numbers.Real) or search_time < 0:
        raise ValueError(f"search_time must be a non-negative number of seconds, got {search_time!r}")
    return float(search_time)


def _executor(executor: Any) -> Any:
    check_executor(executor)
    return executor


def _plan_cache(value: Any) -> PlanCache | None:
    if value is None or value is False:
        return None
    if value is True:
        return default_plan_cache()
    if isinstance(value, PlanCache):
        return value
    if isinstance(value, (str, os.PathLike)):
        return PlanCache(directory=value)
    raise TypeError(f"plan_cache must be a qtn.PlanCache, a folder path, or None/False for no cache, "
                    f"not {type(value).__name__}")


def _plan_seed(seed: Any) -> int:
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise TypeError(f"plan_seed must be a non-negative int, not {seed!r}")
    return int(seed)
