"""Running a plan: the slice loop, each slice a chain of device GEMMs.

Per slice, every input is sliced on the host and uploaded once; each step permutes
its operands on the device and multiplies them; the slice's result comes back once.
Slices are grouped into chunks of consecutive slice numbers; a chunk is one task of
a :class:`qtn.executors.Runner` (serial, a ``concurrent.futures`` executor or a Dask
cluster), which sums its slices where it runs. A checkpoint folder keeps the sum of
every finished chunk, so a run started again skips them.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import operator
import os
import resource
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from . import buffers, executors
from .backends.base import Array, Backend, available_backends, get_backend
from .buffers import BufferPool
from .checkpoint import Checkpoint, Slot, as_checkpoint
from .network import Network
from .planning import MemoryLimit, Plan, check_peak
from .strided import StridedOperand

#: A progress bar appears when a contraction is estimated (from its flops at the
#: backend's measured ``flop_rate()`` per worker thread) to take longer than this.
PROGRESS_MIN_SECONDS = 3.0
#: A chunk takes this fraction's inverse of the slices left per worker thread (see :class:`Pace`).
CHUNKS_PER_THREAD = 8
#: Shortest measured chunk: a task's fixed cost (scheduling, a result sent) stays a small share.
MIN_CHUNK_SECONDS = 0.1
#: Longest chunk: bounds the work a crash or Ctrl-C loses and keeps progress moving.
MAX_CHUNK_SECONDS = 10.0


@dataclass(frozen=True)
class Chunk:
    """Slices ``order[start:stop]`` of a run (positions, not slice numbers)."""

    start: int
    stop: int

    def __len__(self) -> int:
        return self.stop - self.start


@dataclass(frozen=True)
class SliceJob:
    """What a worker needs to contract chunks; sent to each worker once.

    Attributes:
        network: the canonical network.
        plan: its plan, without the cotengra tree (workers do not need it).
        backend: the Backend, or its registry name where the job leaves this process
            (a backend may hold an OpenCL context, which does not pickle).
        order: the slice numbers of the run, by position; None for ``0 .. n_slices-1``.
        run_id: names the run (buffer pools and payload caches of workers are per run).
        memory_limit: bytes one slice may hold (a buffer pool holds no more).
    """

    network: Network
    plan: Plan
    backend: "Backend | str"
    order: tuple[int, ...] | None = None
    run_id: str = ""
    memory_limit: int = 0

    def slice_at(self, position: int) -> int:
        return position if self.order is None else self.order[position]


@dataclass(frozen=True)
class SliceProgress:
    """What a ``callback`` of :func:`contract` hears after each finished chunk.

    Attributes:
        done: slices finished so far, those taken from a checkpoint included.
        total: slices of the run.
        resumed: slices taken from a checkpoint when the run started.
        chunk: the chunk that just finished.
        seconds_per_slice: measured so far, per worker thread (wall time of the run over
            the slices finished in it, times the threads): what sizes the next chunks.
    """

    done: int
    total: int
    resumed: int
    chunk: Chunk
    seconds_per_slice: float | None = None


def slice_values(plan: Plan, slice_index: int) -> dict[int, int]:
    """The value of each sliced label in slice number ``slice_index`` (mixed radix)."""
    values: dict[int, int] = {}
    for label in reversed(plan.sliced):
        slice_index, values[label] = divmod(slice_index, plan.size_dict[label])
    return values


def upload_inputs(
    network: Network, plan: Plan, backend: Backend, slice_index: int, resident: dict[int, Array] | None = None
) -> list[Array | None]:
    """Put the network's arrays on the device with every sliced label fixed to this
    slice's value.

    Inputs without a sliced label are the same in every slice: with a ``resident``
    dict they are uploaded once and reused from it (device arrays are never written).
    """
    values = slice_values(plan, slice_index)
    tensors: list[Array | None] = []
    for t, (array, labels) in enumerate(zip(network.arrays, network.indices)):
        if resident is not None and t in resident:
            tensors.append(resident[t])
            continue
        if values and any(i in values for i in labels):
            key = tuple(values.get(i, slice(None)) for i in labels)
            tensors.append(backend.to_device(np.array(array[key], order="C")))  # keeps 0-d arrays 0-d
            continue
        tensors.append(backend.to_device(array))
        if resident is not None:
            resident[t] = tensors[-1]
    return tensors


@dataclass
class StepTimes:
    """Where an instrumented :func:`run_slice` spent its time (summed over its steps)."""

    permute_s: float = 0.0  #: making the operands (permutes, and views that need none)
    gemm_s: float = 0.0  #: the products
    permute_bytes: int = 0  #: bytes read and written by permutes
    strided_view_bytes: int = 0  #: bytes of operands a product read as a batch of views instead

    def count(self, operand: Array, source: Array, copied_into: np.ndarray | None) -> None:
        if isinstance(operand, StridedOperand):
            self.strided_view_bytes += operand.nbytes
        elif copied_into is not None or (isinstance(operand, np.ndarray) and isinstance(source, np.ndarray)
                                         and not np.shares_memory(operand, source)):
            self.permute_bytes += 2 * operand.nbytes


def run_slice(
    network: Network, plan: Plan, backend: Backend, slice_index: int, resident: dict[int, Array] | None = None,
    pool: BufferPool | None = None, times: StepTimes | None = None,
) -> np.ndarray:
    """Contract one slice on ``backend`` and return its (unscaled) result on the host.

    ``resident`` keeps the unsliced inputs on the device from one slice to the next.
    With a ``pool`` (a backend with ``accepts_out``), every permuted operand and
    product is written into a buffer taken from it and given back once the step that
    reads it has run, so the next step and slice reuse it instead of allocating.
    ``times`` (for benchmarks) adds up the seconds spent making operands and in products.
    """
    tensors = upload_inputs(network, plan, backend, slice_index, resident)
    if not plan.steps and not tensors:
        return np.ones((), dtype=np.complex128)  # all in network.scalar: keep its full precision
    owners: list[np.ndarray | None] = [None] * len(tensors)  # the pool buffer behind each tensor
    last_step = len(plan.steps) - 1
    for index, step in enumerate(plan.steps):
        low = step.lowered
        t0 = time.perf_counter() if times is not None else 0.0
        a, a_buf = _operand(backend, pool, tensors[step.left], low.a_perm, low.a_shape, "a")
        b, b_buf = _operand(backend, pool, tensors[step.right], low.b_perm, low.b_shape, "b")
        if times is not None:
            t1 = time.perf_counter()
            times.count(a, tensors[step.left], a_buf)
            times.count(b, tensors[step.right], b_buf)
        tensors[step.left] = tensors[step.right] = None  # free operands as soon as possible
        if pool is None or math.prod(low.a_shape[:-1]) * low.b_shape[-1] * a.dtype.itemsize < buffers.MIN_BYTES:
            product, owner = backend.matmul(a, b), None
        else:
            # the last product leaves with the caller: in a buffer of just its size
            owner = pool.take(low.a_shape[:-1] + low.b_shape[-1:], np.result_type(a.dtype, b.dtype),
                              exact=index == last_step)
            product = backend.matmul(a, b, out=owner)
        if times is not None:
            backend.synchronize()  # a device backend queues its work
            t2 = time.perf_counter()
            times.permute_s += t1 - t0
            times.gemm_s += t2 - t1
        if pool is not None:
            for buf in (a_buf, b_buf, owners[step.left], owners[step.right]):
                if buf is not None:
                    pool.give(buf)
            owners[step.left] = owners[step.right] = None
        del a, b
        # back to one axis per label (a free reshape: the product is C-contiguous)
        tensors.append(backend.transpose_reshape(product, tuple(range(len(low.a_shape))), low.out_shape))
        owners.append(owner)
    last = tensors[-1]
    if pool is not None and owners[-1] is not None:
        pool.detach(owners[-1])  # the result's buffer is the caller's now: never reused
    out_shape = tuple(plan.size_dict[o] for o in plan.output)
    if plan.final_perm != tuple(range(len(plan.final_perm))):
        last = backend.transpose_reshape(last, plan.final_perm, out_shape)
    return backend.to_host(last).reshape(out_shape)


def _operand(backend: Backend, pool: BufferPool | None, tensor: Array, perm: tuple[int, ...],
             shape: tuple[int, ...], side: str) -> tuple[Array, np.ndarray | None]:
    """A step's operand permuted and reshaped, and the pool buffer it was copied into (None: a view).
    ``side`` ("a"/"b") reaches backends that take ``out`` (they may hand on a batch of views
    that only one side of the product can use)."""
    if pool is None or math.prod(shape) * tensor.dtype.itemsize < buffers.MIN_BYTES:
        if getattr(backend, "accepts_out", False):
            return backend.transpose_reshape(tensor, perm, shape, side=side), None
        return backend.transpose_reshape(tensor, perm, shape), None
    buf = pool.take(shape, tensor.dtype)
    out = backend.transpose_reshape(tensor, perm, shape, out=buf, side=side)
    if out is buf:
        return out, buf
    pool.give(buf)  # no copy was needed
    return out, None


def run_chunk(job: SliceJob, chunk: Chunk) -> np.ndarray:
    """The sum of the slices of one chunk (a pure function of its arguments: Dask may run it twice).

    Raises:
        Whatever a slice raised, with a note naming the slice.
    """
    backend = get_backend(job.backend) if isinstance(job.backend, str) else job.backend
    pool = buffers.pool_for(job.run_id, job.memory_limit, job.plan.peak_bytes) if getattr(backend, "accepts_out", False) else None
    total: np.ndarray | None = None
    own = False  # whether ``total`` is an array made here (so it may be added into)
    resident: dict[int, Array] = {}  # unsliced inputs, uploaded once per chunk
    t0, cpu0, faults0 = time.perf_counter(), time.thread_time(), _minor_faults()
    for position in range(chunk.start, chunk.stop):
        s = job.slice_at(position)
        try:
            part = run_slice(job.network, job.plan, backend, s, resident, pool)
        except Exception as err:
            err.add_note(f"qtn: raised while contracting slice {s} (of {job.plan.n_slices})")
            raise
        if total is None:
            total = part
        elif not own:
            # not in place: a slice of a network without steps is the input array itself
            total, own = np.asarray(total + part), True
        else:
            np.add(total, part, out=total)  # the sum made here: no new array per slice
    assert total is not None, "a chunk holds at least one slice"
    with _stats_lock:
        _stats["chunks"] += 1
        _stats["slices"] += len(chunk)
        _stats["seconds"] += time.perf_counter() - t0
        _stats["cpu_seconds"] += time.thread_time() - cpu0
        _stats["minor_faults"] += _minor_faults() - faults0
    return total


_stats: dict[str, float] = {"chunks": 0, "slices": 0, "seconds": 0.0, "cpu_seconds": 0.0, "minor_faults": 0}
_stats_lock = threading.Lock()


def _minor_faults() -> int:
    """Minor page faults of this thread so far (each a page the kernel zeroed and mapped)."""
    try:
        return resource.getrusage(resource.RUSAGE_THREAD).ru_minflt
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return 0


def worker_stats(reset: bool = False) -> dict[str, float]:
    """What this process's :func:`run_chunk` calls did: ``chunks``, ``slices``, ``seconds``
    (wall time inside them), ``cpu_seconds`` (CPU time of the threads that ran them: not
    counting time the thread waited for a core, so it holds on a loaded machine; the
    permute kernel's and BLAS' own threads are not counted), ``minor_faults``, and the buffer pools' counters (see
    :class:`qtn.buffers.BufferPool`). For benchmarks; ``reset`` zeroes the counters."""
    with _stats_lock:
        out = {**_stats, **buffers.pool_stats(), "pid": os.getpid()}
        if reset:
            _stats.update(chunks=0, slices=0, seconds=0.0, cpu_seconds=0.0, minor_faults=0)
            buffers.reset_stats()
    return out


def contract(
    network: Network,
    plan: Plan,
    backend: Backend,
    *,
    progress: bool = False,
    slices: Sequence[int] | None = None,
    executor: Any = None,
    checkpoint: "str | os.PathLike[str] | Checkpoint | Slot | None" = None,
    memory_limit: "MemoryLimit | int | None" = None,
    chunk_size: int | None = None,
    callback: Callable[[SliceProgress], None] | None = None,
) -> np.ndarray:
    """Contract a canonical network with ``plan`` on ``backend``, summing all slices.

    Args:
        network: the canonical network the plan was made for (equal ``structure_key``).
        plan: from :func:`qtn.planning.plan_network`.
        backend: where the GEMMs run (on remote workers: the backend of that name).
        progress: show a progress bar over slices (rate, ETA) on stderr when the
            contraction is estimated to take more than ``PROGRESS_MIN_SECONDS``.
        slices: run only these slice numbers (default: all).
        executor: ``None`` (serial), a ``concurrent.futures.Executor``, a
            ``dask.distributed.Client``, a scheduler address (``"tcp://host:8786"``)
            or a :class:`qtn.executors.Runner`.
        checkpoint: a folder (or :class:`qtn.checkpoint.Checkpoint` / ``Slot``) that keeps
            finished chunks; a run started again with the same network and plan skips them.
        memory_limit: bytes one slice may hold at its peak (default:
            :func:`qtn.executors.task_limit` of the backend and executor).
        chunk_size: slices per task (default: sized by :class:`Pace` from the measured
            time per slice, to keep every worker busy with few tasks).
        callback: called here after each finished chunk with a :class:`SliceProgress`;
            what it raises (``KeyboardInterrupt`` included) stops the run cleanly.

    Returns:
        The result array with axes in ``plan.output`` order, times ``network.scalar``.

    Raises:
        ValueError: the plan's peak is over ``memory_limit`` (before anything is
            allocated), bad ``slices`` / ``chunk_size`` / ``memory_limit``, a checkpoint
            of another run, or a backend that cannot be re-created by name on remote workers.
        TypeError: ``chunk_size`` / ``memory_limit`` not an int, an unknown kind of
            ``executor`` or ``checkpoint``.
        Exception: what a slice raised (its type kept, a note naming the slice), after
            the outstanding slices were cancelled.
    """
    runner = executors.resolve(executor)
    limit = _memory_limit(memory_limit, runner, backend)
    check_peak(plan.peak_bytes, plan.largest_intermediate_bytes, limit)
    order = _slice_order(plan, slices)
    n = plan.n_slices if order is None else len(order)
    if chunk_size is not None:
        chunk_size = _positive_int(chunk_size, "chunk_size", "slices")
    job = SliceJob(network, dataclasses.replace(plan, tree=None), _portable(backend, runner), order,
                   run_id=uuid.uuid4().hex, memory_limit=max(limit.bytes, plan.peak_bytes))

    record = None
    slot = as_checkpoint(checkpoint)
    if slot is not None:
        slot = slot.next_slot() if isinstance(slot, Checkpoint) else slot
        record = slot.open(network, plan, order)
    resumed = 0 if record is None else record.done_count
    gaps = [(0, n)] if record is None else record.missing()
    per_slice = plan.flops / plan.n_slices / backend.flop_rate(np.complex64 if plan.itemsize == 8 else np.complex128)
    pace = Pace(runner.concurrency, per_slice)
    chunks = _chunks(gaps, pace, chunk_size)

    bar = None
    if progress and n - resumed > 1 and per_slice * (n - resumed) / runner.concurrency > PROGRESS_MIN_SECONDS:
        from tqdm import tqdm

        bar = tqdm(total=n, initial=resumed, desc="contracting", unit="slice", file=sys.stderr,
                   dynamic_ncols=True, leave=False)
    done = resumed

    def on_done(chunk: Chunk, result: np.ndarray | None) -> None:
        nonlocal done
        if record is not None:
            record.save(chunk, result)
        done += len(chunk)
        pace.finished(len(chunk))
        if bar is not None:
            bar.update(len(chunk))
        if callback is not None:
            callback(SliceProgress(done, n, resumed, chunk, pace.measured))

    try:
        pace.start()
        total = None if not gaps else runner.map_reduce(run_chunk, job, chunks, add=operator.add,
                                                        on_done=on_done, fetch=record is not None)
    finally:
        buffers.drop(job.run_id)  # the pools of this process's threads (remote ones go with their next run)
        if bar is not None:
            bar.close()
    if record is not None:
        saved = record.saved_sum()  # the chunks of earlier runs
        total = saved if total is None else (total if saved is None else total + saved)
    assert total is not None, "a run covers at least one slice"
    return total * np.asarray(network.scalar, dtype=total.dtype)


def _memory_limit(memory_limit: "MemoryLimit | int | None", runner: executors.Runner, backend: Backend) -> MemoryLimit:
    if memory_limit is None:
        return executors.task_limit(backend, runner)
    if isinstance(memory_limit, MemoryLimit):
        return memory_limit
    return MemoryLimit(_positive_int(memory_limit, "memory_limit", "bytes"), "memory_limit")


def _positive_int(value: Any, name: str, unit: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int number of {unit}, not {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{name} must be a positive number of {unit}, got {value}")
    return int(value)


def _slice_order(plan: Plan, slices: Sequence[int] | None) -> tuple[int, ...] | None:
    """The slice numbers to run (None: all), checked: ints in range, no repeats, not empty."""
    if slices is None:
        return None
    order = tuple(slices)
    if not order:
        raise ValueError("slices is empty; give at least one slice number (or None for all)")
    for s in order:
        if isinstance(s, (bool, np.bool_)) or not isinstance(s, numbers.Integral):
            raise TypeError(f"slices holds {s!r}; slice numbers are ints from 0 to {plan.n_slices - 1}")
        if not 0 <= s < plan.n_slices:
            raise ValueError(f"slices holds {s}; slice numbers are ints from 0 to {plan.n_slices - 1}")
    if len(set(order)) != len(order):
        raise ValueError("slices holds a slice number twice; each slice is summed once")
    return tuple(int(s) for s in order)


def _portable(backend: Backend, runner: executors.Runner) -> "Backend | str":
    """The backend itself for runners in this process; its registry name for the others."""
    if not runner.remote:
        return backend
    if backend.name.partition(":")[0].lower() not in available_backends():
        raise ValueError(
            f"backend {backend.name!r} is not in the registry, so workers of the {runner.description} cannot "
            f"start it by name; use one of {', '.join(available_backends())}"
        )
    return backend.name


class Pace:
    """Chunk sizes from the measured time per slice (guided self-scheduling).

    A chunk takes ``1 / CHUNKS_PER_THREAD`` of the slices left per worker thread, so
    chunks are large early (few tasks to schedule) and small at the end (the last wave
    finishes together). Once chunks have finished, the measured seconds per slice (the
    run's wall time so far over the slices finished, times the threads: scheduling and
    transfers included) bound them: at least ``MIN_CHUNK_SECONDS`` of work, so that a
    task's fixed cost stays a small share, and at most ``MAX_CHUNK_SECONDS``. Before
    any has finished, the estimate from the plan's flops at the backend's measured
    flop rate bounds them from above only (it misses permutes and memory traffic).
    """

    def __init__(self, concurrency: int, estimate: float) -> None:
        self.concurrency = max(1, int(concurrency))
        self.estimate = float(estimate)
        self.measured: float | None = None
        self._t0 = time.perf_counter()
        self._slices = 0

    def start(self) -> None:
        self._t0 = time.perf_counter()

    def finished(self, slices: int) -> None:
        """Record ``slices`` more slices finished now."""
        self._slices += slices
        elapsed = time.perf_counter() - self._t0
        if elapsed > 0:
            self.measured = elapsed * self.concurrency / self._slices

    def size(self, remaining: int) -> int:
        """Slices in the next chunk when ``remaining`` slices have not been handed out."""
        size = math.ceil(remaining / (CHUNKS_PER_THREAD * self.concurrency))
        per = self.estimate if self.measured is None else self.measured
        if self.measured is not None:
            size = max(size, math.ceil(MIN_CHUNK_SECONDS / self.measured))
        if per > 0:
            size = min(size, math.floor(MAX_CHUNK_SECONDS / per))
        return max(1, min(size, remaining))


def _chunks(gaps: Sequence[tuple[int, int]], pace: Pace, chunk_size: int | None) -> Iterator[Chunk]:
    """Consecutive chunks covering every gap, ``chunk_size`` slices each or sized by ``pace``
    as they are handed out (runners take them lazily, one per finished task)."""
    remaining = sum(stop - start for start, stop in gaps)
    for start, stop in gaps:
        first = start
        while first < stop:
            size = chunk_size if chunk_size is not None else pace.size(remaining)
            chunk = Chunk(first, min(first + size, stop))
            remaining -= len(chunk)
            first = chunk.stop
            yield chunk
