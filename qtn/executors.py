"""Where tasks run: here, on a ``concurrent.futures`` executor, or on a Dask cluster.

A :class:`Runner` runs one function over many items with a payload shared by all of
them, sums the results, and reports each item as it finishes. It knows nothing of
circuits or plans (``qtn.execute`` gives it slice chunks), only how to

* send the shared payload to each worker once (Dask: ``scatter(broadcast=True)``; a
  process pool: one file the workers read once each and keep, by run);
* give each task its share of the machine: BLAS/OpenMP threads (threadpoolctl) and the
  permute kernel's threads limited to the cores of its worker over the worker threads
  sharing them;
* keep a bounded number of tasks in flight, so every worker stays busy and the
  scheduler is not flooded;
* sum results where they are (Dask: pairwise on the workers) so that the client
  holds the final sum and at most a few task results;
* cancel what is outstanding when a task fails or the caller is interrupted.

Dask is imported only by the code that talks to a cluster.
"""

from __future__ import annotations

import abc
import concurrent.futures as cf
import contextlib
import os
import pickle
import re
import sys
import tempfile
import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from itertools import islice
from typing import Any, Callable, Iterable, Iterator, Mapping
from urllib.parse import urlsplit

from .host import usable_cores
from .planning import MemoryLimit

#: Tasks kept in flight per worker thread: one running and one queued behind it, so a
#: thread never waits for the client to hand it the next task.
IN_FLIGHT_PER_THREAD = 2
#: Share of a Dask worker's ``memory_limit`` that slices may take. Dask starts spilling
#: at 60% and pauses the worker at 80%; the rest holds the interpreter, the scattered
#: inputs and finished results.
WORKER_MEMORY_FRACTION = 0.6

_ADDRESS = re.compile(r"^([a-z][a-z0-9+.-]*://\S+|[\w.\-]+:\d+)$")
_clients: dict[str, Any] = {}
_clients_lock = threading.Lock()

Task = Callable[[Any, Any], Any]
Add = Callable[[Any, Any], Any]
OnDone = Callable[[Any, Any], None]


def _pool_size(executor: cf.Executor) -> int:
    """Workers of a ``concurrent.futures`` pool: its ``_max_workers`` (there is no public
    size), else this process's usable cores."""
    size = getattr(executor, "_max_workers", None)
    return int(size) if isinstance(size, int) and size > 0 else usable_cores()


def blas_threads(sharers: int) -> int:
    """BLAS threads for one of ``sharers`` worker threads on this machine's usable cores."""
    return max(1, usable_cores() // max(1, int(sharers)))


_blas_lock = threading.Lock()
_blas_set: int | None = None  # the thread count qtn last set in this process


def limit_blas_threads(n: int) -> None:
    """Set this process's BLAS and OpenMP thread pools (threadpoolctl) and the threads of
    qtn's permute kernel to ``n``, once per change. For worker processes qtn runs tasks
    in: the setting stays. The permute kernel asks OpenMP for its thread count by itself
    (``num_threads``), so threadpoolctl alone leaves it on every core of the process:
    two workers on two cores would each spin two permute threads."""
    global _blas_set
    if _blas_set == n:
        return
    with _blas_lock:
        if _blas_set != n:
            from threadpoolctl import threadpool_limits

            from . import permute

            threadpool_limits(limits=n)
            permute.set_num_threads(n)
            _blas_set = n


@contextlib.contextmanager
def threads_limited(n: int) -> Iterator[None]:
    """BLAS/OpenMP pools and the permute kernel on ``n`` threads inside the block (for
    threads of this process sharing its cores); the earlier settings come back after."""
    from threadpoolctl import threadpool_limits

    from . import permute

    before = permute.thread_setting()
    with threadpool_limits(limits=n):
        permute.set_num_threads(n)
        try:
            yield
        finally:
            permute.set_num_threads(before)


#: Payloads read from a file by this worker process, by run (the last few runs).
_payloads: "OrderedDict[str, Any]" = OrderedDict()
_payloads_lock = threading.Lock()
PAYLOADS_KEPT = 2


def _payload(path: str, run: str) -> Any:
    """The payload of ``run``: read from ``path`` by the first task of the run in this process."""
    with _payloads_lock:
        if run in _payloads:
            _payloads.move_to_end(run)
            return _payloads[run]
    with open(path, "rb") as f:
        value = pickle.load(f)
    with _payloads_lock:
        _payloads[run] = value
        while len(_payloads) > PAYLOADS_KEPT:
            _payloads.popitem(last=False)
    return value


@contextlib.contextmanager
def _payload_file(shared: Any) -> Iterator[str]:
    """``shared`` pickled once into a file the pool's processes read (in ``/dev/shm``, memory,
    where there is one), removed afterwards."""
    data = pickle.dumps(shared, protocol=pickle.HIGHEST_PROTOCOL)
    path = None
    for folder in ("/dev/shm", None):
        if folder is not None and not os.path.isdir(folder):
            continue
        try:
            fd, path = tempfile.mkstemp(prefix="qtn-run-", suffix=".pkl", dir=folder)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            break
        except OSError:  # e.g. a full /dev/shm: fall back to the temporary folder
            if path is not None:
                with contextlib.suppress(OSError):
                    os.unlink(path)
            path = None
            if folder is None:
                raise
    try:
        yield path
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)


@dataclass(frozen=True)
class InWorker:
    """A task as it runs in a worker process: BLAS and permute threads limited to the worker's share,
    and the payload read once per process from a file where there is one.

    Attributes:
        fn: the task, ``fn(shared, item)``.
        sharers: worker threads sharing this machine's cores: an int, or per host (Dask),
            keyed by the host part of a worker's address.
        path: the payload's file (process pools); None when the payload comes as the argument.
        run: names the run, for the payload cache of each process.
    """

    fn: Task
    sharers: "int | Mapping[str, int]" = 1
    path: str | None = None
    run: str = ""

    def __call__(self, shared: Any, item: Any) -> Any:
        limit_blas_threads(blas_threads(self._sharers()))
        if self.path is not None:
            shared = _payload(self.path, self.run)
        return self.fn(shared, item)

    def _sharers(self) -> int:
        if isinstance(self.sharers, int):
            return self.sharers
        from distributed import get_worker

        worker = get_worker()
        return int(self.sharers.get(_host(worker.address), getattr(worker, "nthreads", 1)))


def _host(address: str) -> str:
    return urlsplit(address if "://" in address else f"tcp://{address}").hostname or address


def _is_dask_client(obj: Any) -> bool:
    # a Client can only exist if distributed was imported, so never import it here
    distributed = sys.modules.get("distributed")
    return distributed is not None and isinstance(obj, distributed.Client)


def check_executor(executor: Any) -> None:
    """Validate an ``executor=`` argument without connecting to anything.

    Raises:
        TypeError: not None, a ``concurrent.futures.Executor``, a ``dask.distributed.Client``,
            a scheduler address string or a :class:`Runner`.
        ValueError: a string that is not a scheduler address.
    """
    if executor is None or isinstance(executor, (cf.Executor, Runner)) or _is_dask_client(executor):
        return
    if isinstance(executor, str):
        if not _ADDRESS.match(executor.strip()):
            raise ValueError(
                f"executor {executor!r} is not a Dask scheduler address; give one like 'tcp://host:8786'"
            )
        return
    raise TypeError(
        "executor must be None (serial), a concurrent.futures.Executor, a dask.distributed.Client "
        f"or a scheduler address like 'tcp://host:8786', not {type(executor).__name__}"
    )


def resolve(executor: Any) -> "Runner":
    """The :class:`Runner` for an ``executor=`` argument (connecting to an address once).

    Raises:
        TypeError / ValueError: as :func:`check_executor`.
        OSError: the scheduler at an address cannot be reached.
    """
    check_executor(executor)
    if isinstance(executor, Runner):
        return executor
    if executor is None:
        return SerialRunner()
    if isinstance(executor, cf.Executor):
        return FuturesRunner(executor)
    if isinstance(executor, str):
        return DaskRunner(_connect(executor.strip()))
    return DaskRunner(executor)


def _connect(address: str) -> Any:
    """A Client of the scheduler at ``address``, kept open for later runs."""
    from distributed import Client

    with _clients_lock:
        client = _clients.get(address)
        if client is None or client.status not in ("running", "connecting"):
            try:
                client = Client(address, set_as_default=False)
            except (OSError, TimeoutError) as err:
                raise OSError(f"cannot reach the Dask scheduler at {address}: {err}") from err
            _clients[address] = client
    return client


def task_limit(backend: Any, runner: "Runner", max_memory: int | None = None) -> MemoryLimit:
    """What one slice may hold at its peak where it runs: the backend's
    ``memory_budget()`` (or ``max_memory`` where that is larger), shared out over a
    local executor's workers; on Dask, a worker's ``memory_limit`` share per thread.
    The one formula for it, used by planning and by :func:`qtn.execute.contract`."""
    budget = backend.memory_budget()
    return runner.task_memory_limit(local_memory_limit(budget if max_memory is None else max_memory, budget,
                                                       backend.name))


def local_memory_limit(max_memory: int, device_budget: int, device: str) -> MemoryLimit:
    """What one slice may hold at its peak in this process: the device's budget, or
    ``max_memory`` where that is larger (the caller's word that the device holds it)."""
    if max_memory >= device_budget:
        return MemoryLimit(int(max_memory), "max_memory")
    return MemoryLimit(int(device_budget), f"the memory budget of the {device} backend")


#: glibc's allocator settings for the workers of a cluster qtn starts: its adaptive
#: thresholds once it has seen a 32 MiB block. Dask's nanny default
#: (``MALLOC_TRIM_THRESHOLD_=65536``) also freezes the mmap threshold at 128 KiB, so every
#: larger array is a fresh ``mmap`` whose pages fault in again (slices ~2x slower measured).
WORKER_MALLOC = {"MALLOC_MMAP_THRESHOLD_": "33554432", "MALLOC_TRIM_THRESHOLD_": "67108864"}


def worker_environment(threads_per_worker: int = 1) -> dict[str, str]:
    """The environment qtn starts cluster workers with: :data:`WORKER_MALLOC` and one
    BLAS/OpenMP thread per worker thread (tasks set their share again with threadpoolctl)."""
    threads = str(int(threads_per_worker))
    return {**WORKER_MALLOC, "OMP_NUM_THREADS": threads, "OPENBLAS_NUM_THREADS": threads,
            "MKL_NUM_THREADS": threads}


def local_cluster(n_workers: int | None = None, *, threads_per_worker: int = 1, **cluster_kwargs: Any) -> Any:
    """A ``dask.distributed.Client`` of a new local cluster set up for qtn; closing the
    client closes the cluster.

    The workers are processes started with :func:`worker_environment` (through
    ``distributed.nanny.pre-spawn-environ``, so glibc reads the allocator settings when
    the process starts, restarts included), one thread each by default, no dashboard.

    Args:
        n_workers: worker processes (default: this process's usable cores over
            ``threads_per_worker``).
        threads_per_worker: threads of each worker.
        **cluster_kwargs: passed on to ``distributed.LocalCluster`` (e.g. ``memory_limit``).

    Raises:
        ImportError: dask.distributed is not installed (``pip install 'qtn[dask]'``).
        ValueError: ``n_workers`` or ``threads_per_worker`` is not a positive int.
    """
    try:
        import dask
        from distributed import Client
    except ImportError as err:
        raise ImportError("qtn.executors.local_cluster needs dask.distributed (pip install 'qtn[dask]')") from err
    threads = _positive(threads_per_worker, "threads_per_worker")
    workers = max(1, usable_cores() // threads) if n_workers is None else _positive(n_workers, "n_workers")
    import logging

    options = {"processes": True, "dashboard_address": ":0", "silence_logs": logging.ERROR, **cluster_kwargs}
    env = worker_environment(threads)
    # a nanny takes a variable of this process's environment over its config, and every
    # nanny leaves its own there (an earlier default cluster leaves MALLOC_TRIM_THRESHOLD_=65536)
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        with dask.config.set({"distributed.nanny.pre-spawn-environ": env}):
            return Client(n_workers=workers, threads_per_worker=threads, set_as_default=False, **options)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _positive(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive int, not {value!r}")
    return value


def close_clients() -> None:
    """Close the Dask clients qtn opened for scheduler addresses (they are kept for later runs)."""
    with _clients_lock:
        clients = list(_clients.values())
        _clients.clear()
    for client in clients:
        client.close()


class Runner(abc.ABC):
    """Runs ``fn(shared, item)`` for many items and sums the results.

    Attributes:
        concurrency: how many tasks run at once (worker threads).
        remote: whether tasks run in other processes (payloads are pickled, so a
            backend must travel by name).
        description: for messages, e.g. ``"Dask cluster tcp://… (2 workers, 2 threads)"``.
    """

    concurrency: int = 1
    remote: bool = False
    description: str = "this process"

    @abc.abstractmethod
    def task_memory_limit(self, local: MemoryLimit) -> MemoryLimit:
        """Bytes one task may hold at its peak, given what one task may hold in this process."""

    @abc.abstractmethod
    def map_reduce(self, fn: Task, shared: Any, items: Iterable[Any], *, add: Add, on_done: OnDone,
                   fetch: bool) -> Any:
        """Run ``fn(shared, item)`` for every item and return the sum (``None`` for no items).

        Args:
            fn: a pure function (a task may run twice when a worker dies); module-level
                for remote runners, so that it pickles by reference.
            shared: the payload every task reads; sent to each worker once.
            items: the per-task arguments, consumed lazily.
            add: sums two results; associative, pure (it may run on a worker).
            on_done: called here, in completion order, as ``on_done(item, result)``;
                ``result`` is None when the runner sums remotely and ``fetch`` is False.
            fetch: bring every result here (e.g. to store it); otherwise results may be
                summed where they were computed.

        Raises:
            Whatever a task or ``on_done`` raised, after cancelling the outstanding tasks;
            a task's exception keeps its type.
        """


class SerialRunner(Runner):
    """Every task in this thread, one after the other."""

    description = "this process (serial)"

    def task_memory_limit(self, local: MemoryLimit) -> MemoryLimit:
        return local

    def map_reduce(self, fn: Task, shared: Any, items: Iterable[Any], *, add: Add, on_done: OnDone,
                   fetch: bool) -> Any:
        total = None
        for item in items:
            result = fn(shared, item)
            on_done(item, result)
            total = result if total is None else add(total, result)
        return total


class FuturesRunner(Runner):
    """Tasks on a ``concurrent.futures`` executor (threads or processes of this machine).

    A ``ThreadPoolExecutor`` shares this process's memory: the payload is not copied
    and the backend object is used as is; for the run, this process's BLAS and permute
    threads are limited to its cores over the pool's threads. A ``ProcessPoolExecutor`` (any, with
    or without an initializer) gets the payload in one file that each process reads
    once and keeps for the run; each task limits its process's BLAS and permute threads
    to its share of the cores. Any other executor (its workers may be on other machines) gets
    the payload pickled with each task, which is why tasks are chunks of many slices.
    """

    def __init__(self, executor: cf.Executor) -> None:
        self.executor = executor
        self.concurrency = _pool_size(executor)
        self.remote = not isinstance(executor, cf.ThreadPoolExecutor)
        self.description = f"{type(executor).__name__} ({self.concurrency} workers)"

    def task_memory_limit(self, local: MemoryLimit) -> MemoryLimit:
        if self.concurrency == 1:
            return local
        # the workers share this machine, each holding one chunk's slice at a time
        return MemoryLimit(max(1, local.bytes // self.concurrency),
                           f"{local.source} ({local.bytes} bytes) shared by the {self.description}")

    def map_reduce(self, fn: Task, shared: Any, items: Iterable[Any], *, add: Add, on_done: OnDone,
                   fetch: bool) -> Any:
        with contextlib.ExitStack() as stack:
            if not self.remote:
                # one process: its BLAS pool and permute kernel are shared by the threads, so
                # they are set here, for the run
                stack.enter_context(threads_limited(blas_threads(self.concurrency)))
            elif isinstance(self.executor, cf.ProcessPoolExecutor):
                path = stack.enter_context(_payload_file(shared))
                fn, shared = InWorker(fn, self.concurrency, path, uuid.uuid4().hex), None
            else:
                fn = InWorker(fn, self.concurrency)
            return self._map_reduce(fn, shared, items, add=add, on_done=on_done)

    def _map_reduce(self, fn: Task, shared: Any, items: Iterable[Any], *, add: Add, on_done: OnDone) -> Any:
        pending: dict[cf.Future, Any] = {}
        todo = iter(items)
        total = None
        try:
            for item in islice(todo, IN_FLIGHT_PER_THREAD * self.concurrency):
                pending[self.executor.submit(fn, shared, item)] = item
            while pending:
                done, _ = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
                for future in done:
                    item = pending.pop(future)
                    result = future.result()
                    on_done(item, result)
                    total = result if total is None else add(total, result)
                    for nxt in islice(todo, 1):
                        pending[self.executor.submit(fn, shared, nxt)] = nxt
        except BaseException:
            # tasks already running finish on their own; the queued ones never start
            for future in pending:
                future.cancel()
            raise
        return total


class DaskRunner(Runner):
    """Tasks on a ``dask.distributed`` cluster.

    The payload is scattered to every worker once; each task's result stays on its
    worker and is summed pairwise there unless ``fetch`` asks for it. A worker that
    dies has its tasks (and lost partial sums) recomputed by Dask from their inputs,
    which is why tasks must be pure.
    """

    remote = True

    def __init__(self, client: Any) -> None:
        self.client = client
        workers = client.scheduler_info()["workers"]
        if not workers:
            raise ValueError(f"the Dask cluster at {client.scheduler.address} has no workers")
        self._workers = workers
        self.concurrency = sum(int(w.get("nthreads") or 1) for w in workers.values())
        self.description = (f"Dask cluster {client.scheduler.address} "
                            f"({len(workers)} workers, {self.concurrency} threads)")

    def task_memory_limit(self, local: MemoryLimit) -> MemoryLimit:
        """The smallest per-thread share of a worker's ``memory_limit``; ``local`` where no
        worker has a limit (the workers' machines are then assumed like this one)."""
        limit = None
        for address, worker in self._workers.items():
            memory, threads = int(worker.get("memory_limit") or 0), int(worker.get("nthreads") or 1)
            if memory <= 0:
                continue
            share = max(1, int(memory * WORKER_MEMORY_FRACTION) // threads)
            if limit is None or share < limit.bytes:
                limit = MemoryLimit(share, f"Dask worker {address}: {WORKER_MEMORY_FRACTION:.0%} of its "
                                           f"memory_limit of {memory} bytes over {threads} thread(s)")
        return local if limit is None else limit

    def map_reduce(self, fn: Task, shared: Any, items: Iterable[Any], *, add: Add, on_done: OnDone,
                   fetch: bool) -> Any:
        from distributed import as_completed

        client = self.client
        run = uuid.uuid4().hex[:12]
        name = getattr(fn, "__name__", "task")
        [payload] = client.scatter([shared], broadcast=True, hash=False)
        sharers: dict[str, int] = {}
        for address, worker in self._workers.items():
            host = _host(address)
            sharers[host] = sharers.get(host, 0) + int(worker.get("nthreads") or 1)
        fn = InWorker(fn, sharers)
        todo = iter(enumerate(items))
        tasks: dict[str, Any] = {}  # key of a task not yet reported -> its item
        live: dict[str, Any] = {}  # key -> future, for every future held here
        ready: list[Any] = []  # finished futures whose results still have to be summed
        sums = 0
        total = None

        def submit(number: int, item: Any) -> Any:
            future = client.submit(fn, payload, item, key=f"qtn-{name}-{run}-{number}")
            tasks[future.key] = item
            live[future.key] = future
            return future

        # loop= : without it as_completed looks for a default client, and this one may not be it
        stream = as_completed([submit(i, item) for i, item in islice(todo, IN_FLIGHT_PER_THREAD * self.concurrency)],
                              loop=client.loop)
        try:
            for future in stream:
                if future.status != "finished":
                    future.result()  # raises the task's exception (its own type) or CancelledError
                if future.key in tasks:  # a task (not a sum): report it, start the next
                    item = tasks.pop(future.key)
                    for i, nxt in islice(todo, 1):
                        stream.add(submit(i, nxt))
                    if fetch:
                        result = future.result()
                        live.pop(future.key).release()
                        on_done(item, result)
                        total = result if total is None else add(total, result)
                        continue
                    on_done(item, None)
                ready.append(future)
                while len(ready) >= 2:  # an online tree: sums are summed again as they finish
                    a, b = ready.pop(), ready.pop()
                    sums += 1
                    s = client.submit(add, a, b, key=f"qtn-sum-{run}-{sums}")
                    live.pop(a.key).release()  # the scheduler keeps them until the sum has run
                    live.pop(b.key).release()
                    live[s.key] = s
                    stream.add(s)
            if ready:
                total = ready.pop().result()
        except BaseException:
            client.cancel([f for f in live.values() if not f.done()])
            raise
        finally:
            # released explicitly, not when garbage-collected: a traceback kept alive
            # (by a REPL, a test) must not pin results and the payload on the workers
            for future in live.values():
                future.release()
            payload.release()
            live.clear()
            ready.clear()
        return total
