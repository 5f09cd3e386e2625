"""Slices that scale: reused buffers, each worker's share of BLAS threads, the payload
once per process of a process pool, chunks paced by measured time, and the local
cluster qtn sets up. Values against np.einsum and Cirq."""

from __future__ import annotations

import concurrent.futures as cf
import os
import pickle

import cirq
import numpy as np
import pytest
from threadpoolctl import threadpool_info

import qtn
from qtn import buffers, execute, executors
from qtn.compiler import compile_circuit as prepare
from qtn.ket import open_network
from qtn.network import Network

from helpers import greedy_sliced_plan

CORES = len(os.sched_getaffinity(0))


def grid_circuit(rows=3, cols=4, depth=8, seed=1) -> cirq.Circuit:
    qubits = cirq.GridQubit.rect(rows, cols)
    return cirq.experiments.random_rotations_between_grid_interaction_layers_circuit(qubits, depth=depth, seed=seed)


sliced = greedy_sliced_plan


@pytest.fixture(scope="module")
def amplitude():
    """A 12-qubit amplitude network in 16 slices and Cirq's value of it."""
    circuit = grid_circuit()
    ct = prepare(circuit, None, None, np.dtype(np.complex128))
    net = open_network(ct, (), [0] * len(ct.qubits)).simplified().canonical()
    plan = sliced(net, 16)
    assert plan.n_slices == 16
    return net, plan, complex(cirq.final_state_vector(circuit, dtype=np.complex128)[0])


def random_network(rng: np.random.Generator, n_tensors: int = 7, n_labels: int = 12) -> tuple[Network, str]:
    """A random connected network of complex tensors (bond sizes 2-3), an open output, and its einsum."""
    sizes = {lab: int(rng.integers(2, 4)) for lab in range(n_labels)}
    indices = [[] for _ in range(n_tensors)]
    for lab in range(n_labels):  # every label on two tensors (a chain keeps it connected)
        a = lab % n_tensors if lab < n_tensors else int(rng.integers(n_tensors))
        b = (a + 1) % n_tensors if lab < n_tensors else int(rng.choice([t for t in range(n_tensors) if t != a]))
        indices[a].append(lab)
        indices[b].append(lab)
    output = [indices[0][0], indices[3][-1]]
    output = list(dict.fromkeys(output))
    arrays = [(rng.standard_normal([sizes[i] for i in ix]) + 1j * rng.standard_normal([sizes[i] for i in ix]))
              for ix in indices]
    letters = {lab: chr(ord("a") + lab) for lab in range(n_labels)}
    eq = ",".join("".join(letters[i] for i in ix) for ix in indices) + "->" + "".join(letters[i] for i in output)
    return Network(arrays, indices, output, 1.0), eq


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_pooled_slices_match_einsum_and_reuse_their_buffers(seed, monkeypatch):
    rng = np.random.default_rng(seed)
    net, eq = random_network(rng)
    want = np.einsum(eq, *net.arrays)
    simple = net.canonical()  # not simplified: that would merge most of so small a network
    plan = sliced(simple, 8)
    assert plan.n_slices >= 4
    backend = qtn.get_backend()
    monkeypatch.setattr(buffers, "MIN_BYTES", 0)  # pool every intermediate, however small
    before = buffers.pool_stats()
    got = execute.contract(simple, plan, backend, chunk_size=plan.n_slices)  # one chunk: one pool throughout
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)
    after = buffers.pool_stats()
    # the slices after the first find their buffers in the pool, but for each one's result
    # (it leaves the pool with the caller)
    misses, hits = after["misses"] - before["misses"], after["hits"] - before["hits"]
    assert hits > 0 and misses <= (hits + misses) / plan.n_slices + plan.n_slices
    # the same slices without a pool: the same numbers
    monkeypatch.setattr(buffers, "ENABLED", False)
    np.testing.assert_allclose(execute.contract(simple, plan, backend), want, rtol=1e-10, atol=1e-10)


def test_the_pool_hands_out_every_buffer_again_and_keeps_under_its_limit():
    pool = buffers.BufferPool("run", limit=10_000)
    a = pool.take((10, 10), np.complex64)  # 800 bytes
    b = pool.take((5, 5), np.complex128)  # 400 bytes
    assert a.flags.c_contiguous and a.dtype == np.complex64 and a.shape == (10, 10)
    a[...] = 1
    pool.give(a.reshape(100))  # a view of it returns the same buffer
    pool.give(b)
    again = pool.take((2, 50), np.complex64)
    assert np.shares_memory(again, a) and pool.stats["hits"] == 1 and pool.stats["misses"] == 2
    assert pool.held_bytes == 1200
    # a request that would pass the limit lets the free buffers go first
    big = pool.take((9_000,), np.uint8)
    assert pool.held_bytes == 9_800 and pool.stats["misses"] == 3
    pool.give(big)
    pool.give(again)
    assert pool.held_bytes <= pool.limit
    # a result leaves the pool for good: it is no longer counted, and never handed out
    c = pool.take((10, 10), np.complex64)
    pool.detach(c)
    assert not any(np.shares_memory(c, pool.take((10, 10), np.complex64)) for _ in range(3))


def test_a_larger_free_buffer_serves_a_smaller_request_up_to_twice_its_size():
    pool = buffers.BufferPool("run", limit=1 << 20, spare=1 << 19)
    big = pool.take((1000,), np.complex64)  # 8000 bytes
    mid = pool.take((625,), np.complex64)  # 5000 bytes
    pool.give(big)
    pool.give(mid)
    # with both free, a request takes its own size rather than the larger one that also fits
    again = pool.take((5, 125), np.complex64)
    assert np.shares_memory(again, mid) and not np.shares_memory(again, big)
    small = pool.take((20, 15), np.complex128)  # 4800 bytes: served by the 8000-byte buffer
    assert np.shares_memory(small, big) and small.shape == (20, 15) and small.flags.c_contiguous
    assert small.nbytes == 4800 and pool.stats["hits"] == 2 and pool.held_bytes == 13000
    pool.give(small[3:])  # a view of it gives back the whole 8000-byte buffer
    assert list(pool._free) == [8000] and pool._free_bytes == 8000
    assert np.shares_memory(pool.take((1000,), np.complex64), big)  # all 8000 bytes, again
    # a quarter of a free buffer's size is not served by it
    pool.give(big)
    quarter = pool.take((250,), np.complex64)  # 2000 bytes
    assert not np.shares_memory(quarter, big) and pool.stats["misses"] == 3
    # a result leaving the pool takes a buffer of its own size (exact), not a larger free one
    result = pool.take((800,), np.complex64, exact=True)  # 6400 bytes
    assert not np.shares_memory(result, big) and pool.stats["misses"] == 4


def test_larger_buffers_leave_idle_no_more_than_the_spare_so_the_pool_keeps_its_limit():
    """A buffer serving a smaller request leaves the rest idle while in use; the pool lets that
    add up to ``spare`` only (the limit less the run's peak), so held bytes stay under the limit."""
    pool = buffers.BufferPool("run", limit=24_000, spare=0)  # peak = limit: exact sizes only
    pool.give(pool.take((1900,), np.complex64))  # 15200 bytes, freed
    live = [pool.take((1000,), np.complex64) for _ in range(3)]  # 3 x 8000 = the peak
    assert not any(np.shares_memory(x, y) for x in live for y in live if x is not y)
    assert pool.held_bytes <= pool.limit and pool.stats["hits"] == 0
    for x in live:
        pool.give(x)
    roomy = buffers.BufferPool("run", limit=40_000, spare=8_000)
    roomy.give(roomy.take((1900,), np.complex64))
    first = roomy.take((1000,), np.complex64)  # served by the 15200-byte buffer: 7200 idle
    assert roomy.stats["hits"] == 1 and roomy._idle_bytes == 7200
    roomy.give(roomy.take((1250,), np.complex64))  # 10000 bytes, fresh
    # 5600 bytes: within 2x of the free 10000, but that would leave 4400 more idle (800 left)
    second = roomy.take((700,), np.complex64)
    assert not np.shares_memory(second, first) and roomy.stats["misses"] == 3
    assert roomy.held_bytes <= roomy.limit
    roomy.give(first)
    assert roomy._idle_bytes == 0  # given back: nothing counted idle any more
    # pool_for: the spare is what the limit leaves above the run's peak
    key = object()
    try:
        assert buffers.pool_for(key, 40_000, peak=30_000).spare == 10_000
    finally:
        buffers.drop(key)
    buffers.release()


def test_a_threads_next_run_reuses_its_free_buffers_under_the_new_limit():
    key1, key2, key3 = object(), object(), object()
    buffers.release()  # a pool kept from an earlier test's run would count its hits
    first = buffers.pool_for(key1, 10_000)
    try:
        a = first.take((100,), np.complex64)  # 800 bytes
        b = first.take((50,), np.complex64)  # 400 bytes
        first.give(b)
        first.give(a)  # freed last: kept first
        second = buffers.pool_for(key2, 1_000)  # the thread's next run, a smaller limit
        assert second.key is key2 and second.held_bytes <= 1_000
        again = second.take((100,), np.complex64)
        assert second.stats["hits"] == 1 and np.shares_memory(again, a)  # 800 bytes kept, 400 let go
        third = buffers.pool_for(key3, 10_000)  # a run that raised mid-slice: its buffer is not counted
        assert third.held_bytes == 0 and third.take((50,), np.complex64).nbytes == 400
    finally:
        buffers.drop(key1), buffers.drop(key2), buffers.drop(key3)
    buffers.release()
    assert buffers.pool_for(key3, 10) is not third  # let go: a new pool
    buffers.drop(key3)
    buffers.release()


def test_a_finished_runs_buffers_wait_for_the_next_run_then_go(monkeypatch):
    """Between runs the free buffers stay (fresh pages cost a fault and zeroing each) for
    KEEP_SECONDS, then a timer lets them go; release() lets them go at once; 0 keeps none."""
    import threading
    import time

    buffers.release()
    monkeypatch.setattr(buffers, "KEEP_SECONDS", 0.3)
    run1, run2 = object(), object()
    pool = buffers.pool_for(run1, 1 << 20)
    x = pool.take((1024,), np.complex64)
    pool.give(x)
    held = pool.take((256,), np.complex64)  # still held when the run ends (it raised): not counted
    # (a quarter of the free one's size: too small to be served by it)
    buffers.drop(run1)
    assert buffers.held_bytes() == 8192  # the free one waits
    nxt = buffers.pool_for(run2, 1 << 20)
    assert nxt is pool and np.shares_memory(nxt.take((1024,), np.complex64), x)  # and serves run 2
    buffers.drop(run2)
    assert buffers.held_bytes() == 0  # run 2 still held it when it ended
    pool = buffers.pool_for(run1, 1 << 20)
    pool.give(pool.take((1024,), np.complex64))
    buffers.drop(run1)
    assert buffers.held_bytes() == 8192
    deadline = time.monotonic() + 5
    while buffers.held_bytes() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert buffers.held_bytes() == 0 and buffers.pool_for(run2, 10) is not pool  # the timer let it go
    buffers.drop(run2)
    # a pool of another thread, idle, goes with release(); one in use stays
    busy = buffers.pool_for(run1, 1 << 20)
    busy.give(busy.take((1024,), np.complex64))
    def other():
        p = buffers.pool_for(run2, 1 << 20)
        p.give(p.take((2048,), np.complex64))
        buffers.drop(run2)
    gate = threading.Event()
    t = threading.Thread(target=lambda: (other(), gate.wait(5)))
    t.start()
    deadline = time.monotonic() + 5
    while buffers.held_bytes() < 8192 + 16384 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert buffers.held_bytes() == 8192 + 16384
    assert buffers.release() == 16384 and buffers.held_bytes() == 8192  # run1 is still running
    gate.set(), t.join()
    # the buffers of a thread that has ended go when the next run ends
    t = threading.Thread(target=other)
    t.start(), t.join()
    assert buffers.held_bytes() == 8192 + 16384
    buffers.drop(run1)
    assert buffers.held_bytes() == 8192  # run1's (this thread's) wait; the ended thread's went
    monkeypatch.setattr(buffers, "KEEP_SECONDS", 0)
    p = buffers.pool_for(run2, 1 << 20)
    p.give(p.take((1024,), np.complex64))
    buffers.drop(run2)
    assert buffers.held_bytes() == 0  # nothing kept
    assert buffers.release() == 0
    del held


def test_keep_seconds_from_the_environment_is_checked():
    assert buffers._keep_seconds("2.5") == 2.5 and buffers._keep_seconds("0") == 0
    for bad in ("soon", "-1", "nan"):
        with pytest.raises(ValueError, match="QTN_BUFFER_KEEP_S"):
            buffers._keep_seconds(bad)


def test_numpy_backend_writes_a_needed_copy_into_out_and_returns_views_as_is():
    backend = qtn.get_backend()
    x = np.arange(24, dtype=np.complex64).reshape(2, 3, 4)
    out = np.empty((3, 8), np.complex64)  # (1, 0, 2) then (3, 8) is no view: the data must move
    moved = backend.transpose_reshape(x, (1, 0, 2), (3, 8), out=out)
    assert moved is out
    np.testing.assert_array_equal(out, x.transpose(1, 0, 2).reshape(3, 8))
    # a transposed matrix BLAS reads as it is stays a view, whatever out is offered
    t = backend.transpose_reshape(x, (2, 0, 1), (4, 6), out=np.empty((4, 6), np.complex64))
    assert np.shares_memory(t, x)
    np.testing.assert_array_equal(t, x.transpose(2, 0, 1).reshape(4, 6))
    view = backend.transpose_reshape(x, (0, 1, 2), (6, 4), out=np.empty((6, 4), np.complex64))
    assert np.shares_memory(view, x)
    y = np.ones((4, 5), np.complex64)
    prod = np.empty((6, 5), np.complex64)
    assert backend.matmul(view, y, out=prod) is prod
    np.testing.assert_allclose(prod, x.reshape(6, 4) @ y)


def test_pace_sizes_chunks_from_the_measured_time_per_slice():
    pace = execute.Pace(concurrency=2, estimate=0.0)
    # before a measurement: 1/8 of what is left per thread
    assert [pace.size(r) for r in (1024, 32, 16, 3)] == [64, 2, 1, 1]
    pace.measured = 0.001  # slices of 1 ms: a chunk takes at least MIN_CHUNK_SECONDS
    assert pace.size(32) == 32 and pace.size(1024) == 100
    pace.measured = 4.0  # slices of 4 s: at most MAX_CHUNK_SECONDS
    assert pace.size(1024) == 2
    assert execute.Pace(concurrency=1, estimate=20.0).size(64) == 1


def test_the_payload_file_is_read_once_per_process_and_removed():
    with executors._payload_file({"network": np.arange(5)}) as path:
        first = executors._payload(path, "run-a")
        os.unlink(path)  # a second task of the run in this process does not read it again
        assert executors._payload(path, "run-a") is first
        open(path, "wb").close()
    assert not os.path.exists(path)
    np.testing.assert_array_equal(first["network"], np.arange(5))


def _worker_state(_: int) -> tuple[int, list[int], list[str]]:
    import time

    from qtn import permute

    time.sleep(0.2)  # long enough that every process of the pool takes one
    # the permute kernel's threads count with the BLAS pools: both are the worker's share
    threads = [int(i["num_threads"]) for i in threadpool_info()] + [permute.num_threads()]
    return os.getpid(), threads, list(executors._payloads)


class RecordingPool(cf.ProcessPoolExecutor):
    """A real process pool that records the pickled size of every task it is handed."""

    sizes: list[int]

    def submit(self, fn, /, *args, **kwargs):
        self.sizes.append(len(pickle.dumps((fn, args, kwargs))))
        return super().submit(fn, *args, **kwargs)


def test_a_users_process_pool_gets_the_payload_once_and_a_share_of_the_cores(amplitude):
    net, plan, expected = amplitude
    with RecordingPool(2) as pool:  # no initializer: qtn needs none
        pool.sizes = []
        got = execute.contract(net, plan, qtn.get_backend(), executor=pool, chunk_size=1)
        job, sizes = len(pickle.dumps(net)), list(pool.sizes)
        states = {}
        while len(states) < 2:
            for pid, threads, runs in pool.map(_worker_state, range(4)):
                states[pid] = (threads, runs)
    assert got == pytest.approx(expected, abs=1e-12)
    # 16 tasks, none carrying the network: each process read it once from a file (now gone)
    assert len(sizes) == 16 and max(sizes) < min(job, 2048)
    # the processes that ran tasks keep the run's payload (read by their first task of it)
    here = set(executors._payloads)  # what a forked process inherited is no news
    ran = [(threads, set(runs) - here) for threads, runs in states.values() if set(runs) - here]
    assert ran and len({frozenset(runs) for _, runs in ran}) == 1 and all(len(runs) == 1 for _, runs in ran)
    # BLAS, OpenMP and permute threads of a process that ran qtn tasks: its share of the cores
    assert all(set(threads) == {max(1, CORES // 2)} for threads, _ in ran)


def test_a_thread_pool_shares_the_blas_threads_for_the_run_and_gives_them_back(amplitude):
    from qtn import permute

    net, plan, expected = amplitude
    before = [int(i["num_threads"]) for i in threadpool_info() if i["user_api"] == "blas"]
    during = []
    permute.set_num_threads(3)  # a user's own setting: the run takes its share, then gives it back
    try:
        with cf.ThreadPoolExecutor(2) as pool:
            got = execute.contract(net, plan, qtn.get_backend(), executor=pool, chunk_size=1,
                                   callback=lambda p: during.append(
                                       {int(i["num_threads"]) for i in threadpool_info() if i["user_api"] == "blas"}
                                       | {permute.num_threads()}))
        assert permute.num_threads() == 3
    finally:
        permute.set_num_threads(None)
    assert got == pytest.approx(expected, abs=1e-12)
    assert during and all(d == {max(1, CORES // 2)} for d in during)
    assert [int(i["num_threads"]) for i in threadpool_info() if i["user_api"] == "blas"] == before


def _blas_threads() -> list[int]:
    return [int(i["num_threads"]) for i in threadpool_info() if i["user_api"] == "blas"]


def test_local_cluster_sets_the_worker_environment_and_gives_the_worker_its_cores(amplitude, monkeypatch):
    net, plan, expected = amplitude
    circuit = grid_circuit(seed=2)
    ref = cirq.final_state_vector(circuit, dtype=np.complex128)
    # what an earlier default Dask cluster leaves in this process's environment must not win
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "65536")
    with executors.local_cluster(1) as client:
        env = client.run(lambda: {k: os.environ.get(k) for k in executors.worker_environment()})
        assert list(env.values()) == [executors.worker_environment()]
        # the worker starts with one BLAS thread (its environment); a qtn task takes the
        # machine's cores, which this one worker thread has to itself
        assert [set(t) for t in client.run(_blas_threads).values()] == [{1}]
        seen = []
        got = execute.contract(net, plan, qtn.get_backend(), executor=client, callback=seen.append)
        assert got == pytest.approx(expected, abs=1e-12)
        assert [set(t) for t in client.run(_blas_threads).values()] == [{CORES}]
        assert seen[-1].seconds_per_slice > 0 and sum(len(p.chunk) for p in seen) == 16
        budget = qtn.plan(circuit).largest_intermediate_bytes // 8
        amps = qtn.amplitudes(circuit, [3, 1000], max_memory=budget, dtype=np.complex128, executor=client)
        np.testing.assert_allclose(amps, ref[[3, 1000]], atol=1e-12)
        cluster = client.cluster
    assert cluster.status.name == "closed"  # closing the client closed its cluster
    with pytest.raises(ValueError, match="n_workers must be a positive int"):
        executors.local_cluster(0)


@pytest.mark.parametrize("spec", ["processes:2", "local:1"])
def test_the_cli_starts_the_pool_or_cluster_it_names(spec, capsys):
    import json

    from qtn import generators
    from qtn.cli import main

    code = main(["amplitude", "grid:3x4:10", "-b", "77", "--max-memory", "1KiB", "--executor", spec, "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    got = json.loads(out)
    assert got["plan"]["n_slices"] > 1
    ref = cirq.final_state_vector(generators.grid(3, 4, 10), dtype=np.complex128)[77]
    amp = got["amplitudes"][0]
    assert complex(amp["real"], amp["imag"]) == pytest.approx(complex(ref), abs=2e-5)
