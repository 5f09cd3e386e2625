"""Slices on a real Dask LocalCluster (2 worker processes) and on a ThreadPoolExecutor:
the same answers as serial, a worker killed mid-run, a failing slice, Ctrl-C, progress."""

from __future__ import annotations

import concurrent.futures as cf
import os
import re
import signal
import time

import cirq
import distributed
import numpy as np
import pytest

import qtn
from qtn import execute, executors
from qtn.compiler import compile_circuit as prepare
from qtn.ket import open_network
from qtn.network import Network
from qtn.planning import MemoryLimit, plan_from_path, plan_network, sliced_labels


def grid_circuit(rows=3, cols=4, depth=8, seed=1) -> cirq.Circuit:
    qubits = cirq.GridQubit.rect(rows, cols)
    return cirq.experiments.random_rotations_between_grid_interaction_layers_circuit(qubits, depth=depth, seed=seed)


def amplitude_network(circuit: cirq.Circuit) -> Network:
    ct = prepare(circuit, None, None, np.dtype(np.complex128))
    return open_network(ct, (), [0] * len(ct.qubits)).simplified().canonical()


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, memory_limit="1GiB",
                                       dashboard_address=":0")
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


@pytest.fixture(scope="module")
def slow_slices():
    """A 20-qubit amplitude in 32 slices of ~10-20 ms each: the greedy order with five
    labels sliced by cotengra without reconfiguration (which would take seconds)."""
    circuit = grid_circuit(4, 5, 12)
    net = amplitude_network(circuit)
    greedy = plan_network(net, memory_budget=2**40, optimize="greedy")
    tree = greedy.tree.slice(target_slices=32, allow_outer=False)
    plan = plan_from_path(net, tree.get_ssa_path(), sliced_labels(tree), memory_budget=greedy.memory_budget)
    assert plan.n_slices == 32
    expected = complex(cirq.final_state_vector(circuit, dtype=np.complex128)[0])
    return net, plan, expected


def qtn_tasks_left(client, timeout=10.0) -> list[str]:
    """Keys of qtn tasks the scheduler still knows, once cancellation has settled."""
    deadline = time.monotonic() + timeout
    while True:
        left = client.run_on_scheduler(lambda dask_scheduler: [str(k) for k in dask_scheduler.tasks
                                                              if str(k).startswith("qtn-")])
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.1)


def test_dask_and_threads_give_the_serial_amplitudes_and_state(client):
    circuit = grid_circuit()
    full = qtn.plan(circuit, optimize="greedy")  # a tensor-network plan, to slice
    budget = full.largest_intermediate_bytes // 4
    bits = [0, 77, 4095]
    ref = cirq.final_state_vector(circuit, dtype=np.complex128)
    state_budget = 2**17  # the 64 KiB state vector, intermediates of up to 128 KiB
    serial = qtn.Simulator(max_memory=budget, dtype=np.complex128)
    with cf.ThreadPoolExecutor(2) as pool:
        for executor in (client, pool):
            sim = qtn.Simulator(max_memory=budget, dtype=np.complex128, executor=executor)
            np.testing.assert_allclose(sim.compute_amplitudes(circuit, bits), ref[bits], atol=1e-12)
            np.testing.assert_allclose(sim.compute_amplitudes(circuit, bits),
                                       serial.compute_amplitudes(circuit, bits), atol=1e-12)
            sim = qtn.Simulator(max_memory=state_budget, dtype=np.complex128, executor=executor)
            np.testing.assert_allclose(sim.simulate(circuit).final_state_vector, ref, atol=1e-12)
    assert qtn.plan(circuit, max_memory=budget).n_slices > 1
    assert qtn.plan(circuit, max_memory=state_budget, open_qubits=sorted(circuit.all_qubits()),
                    dtype=np.complex128).n_slices > 1


def test_scheduler_address_string_connects_once(client):
    address = client.scheduler.address
    circuit = grid_circuit(seed=4)
    try:
        sim = qtn.Simulator(max_memory=qtn.plan(circuit, optimize="greedy").largest_intermediate_bytes // 8, executor=address)
        got = sim.compute_amplitudes(circuit, [5])
        again = sim.compute_amplitudes(circuit, [6])
        assert list(executors._clients) == [address]
    finally:
        executors.close_clients()
    ref = cirq.final_state_vector(circuit, dtype=np.complex128)
    np.testing.assert_allclose([got[0], again[0]], ref[[5, 6]], atol=2e-5)


def _payload_and_chunk_inputs(dask_scheduler) -> tuple[list[int], set[tuple[str, ...]]]:
    """Workers holding each scattered job; the inputs of every chunk task."""
    jobs = [len(ts.who_has) for key, ts in dask_scheduler.tasks.items() if str(key).startswith("SliceJob-")]
    inputs = {tuple(str(d.key) for d in ts.dependencies)
              for key, ts in dask_scheduler.tasks.items() if str(key).startswith("qtn-run_chunk-")}
    return jobs, inputs


def test_chunks_are_summed_on_the_workers_and_the_payload_scattered_once(client, slow_slices):
    net, plan, expected = slow_slices
    seen, inspected = [], []

    def look(progress: execute.SliceProgress) -> None:
        seen.append(progress)
        if len(seen) == 1:
            inspected.append(client.run_on_scheduler(_payload_and_chunk_inputs))

    with distributed.get_task_stream(client) as stream:
        got = execute.contract(net, plan, qtn.get_backend(), executor=client, callback=look, chunk_size=2)
    assert got == pytest.approx(expected, abs=1e-12)
    assert sum(len(p.chunk) for p in seen) == plan.n_slices and seen[-1].done == plan.n_slices
    assert {len(p.chunk) for p in seen} == {2}
    # one copy of the network and plan on each worker; every chunk task reads that copy
    [(jobs, inputs)] = inspected
    assert jobs == [2]
    assert len(inputs) == 1 and len(next(iter(inputs))) == 1 and next(iter(inputs))[0].startswith("SliceJob-")
    # the 16 chunk results were summed by 15 tasks on the workers
    keys = [str(t["key"]) for t in stream.data]
    assert sum(k.startswith("qtn-run_chunk-") for k in keys) == 16
    assert sum(k.startswith("qtn-sum-") for k in keys) == 15
    assert qtn_tasks_left(client) == []


def test_a_worker_killed_mid_run_has_its_slices_rerun(client, slow_slices):
    net, plan, expected = slow_slices
    pids = client.run(os.getpid)
    victims = []

    def kill_a_busy_worker(progress: execute.SliceProgress) -> None:
        if victims:
            return
        busy = [w for w, keys in client.processing().items() if any(str(k).startswith("qtn-") for k in keys)]
        if busy:
            victims.append(busy[0])
            os.kill(pids[busy[0]], signal.SIGKILL)

    got = execute.contract(net, plan, qtn.get_backend(), executor=client, chunk_size=1, callback=kill_a_busy_worker)
    assert victims, "no worker was busy when the first chunk finished"
    assert got == pytest.approx(expected, abs=1e-12)
    client.wait_for_workers(2, timeout=60)  # the nanny starts a fresh worker
    assert victims[0] not in client.scheduler_info()["workers"]


def _broken(net: Network, label: int) -> Network:
    """The network with one tensor cut to value 0 of ``label``: the slices where the
    label is 1 index past its end (a real IndexError inside those slices)."""
    t = next(i for i, ix in enumerate(net.indices) if label in ix)
    arrays = list(net.arrays)
    arrays[t] = np.take(arrays[t], [0], axis=net.indices[t].index(label))
    return Network(arrays, list(net.indices), net.output, net.scalar)


@pytest.mark.parametrize("where", ["dask", "threads", "serial"])
def test_an_error_in_a_slice_names_the_slice_and_cancels_the_rest(client, slow_slices, where):
    net, plan, _ = slow_slices
    label = plan.sliced[-1]  # the fastest-varying label: every odd slice fails
    with cf.ThreadPoolExecutor(2) as pool:
        executor = {"dask": client, "threads": pool, "serial": None}[where]
        seen = []
        with pytest.raises(IndexError) as info:
            execute.contract(_broken(net, label), plan, qtn.get_backend(), executor=executor, chunk_size=1,
                             callback=seen.append)
    notes = [n for n in getattr(info.value, "__notes__", []) if "slice" in n]
    assert notes, f"no note names the slice: {info.value!r}"
    s = int(re.search(r"slice (\d+) \(of 32\)", notes[0]).group(1))
    assert execute.slice_values(plan, s)[label] == 1
    assert len(seen) < plan.n_slices // 2 + 4  # the run stopped instead of running every slice
    if where == "dask":
        assert qtn_tasks_left(client) == []


def test_ctrl_c_cancels_outstanding_tasks_and_leaves_a_checkpoint_to_resume(client, slow_slices, tmp_path):
    net, plan, expected = slow_slices

    def interrupt_after_4(progress: execute.SliceProgress) -> None:
        if progress.done >= 4:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        execute.contract(net, plan, qtn.get_backend(), executor=client, chunk_size=1, checkpoint=tmp_path,
                         callback=interrupt_after_4)
    assert qtn_tasks_left(client) == []
    saved = len(list((tmp_path / "0000").glob("*.npy")))
    assert saved == 4
    seen = []
    got = execute.contract(net, plan, qtn.get_backend(), checkpoint=tmp_path, callback=seen.append)
    assert sum(len(p.chunk) for p in seen) == plan.n_slices - saved
    assert seen[0].resumed == saved
    assert got == pytest.approx(expected, abs=1e-12)


def test_dask_memory_limit_is_the_workers_share_and_refuses_before_allocating(client):
    import tracemalloc

    limit = executors.resolve(client).task_memory_limit(MemoryLimit(2**40, "max_memory"))
    workers = client.scheduler_info()["workers"].values()
    assert limit.bytes == min(int(w["memory_limit"] * executors.WORKER_MEMORY_FRACTION) // w["nthreads"]
                              for w in workers)
    assert "Dask worker" in limit.source
    # a 27-qubit state vector (1 GiB) cannot fit a worker's ~600 MiB share
    q = cirq.LineQubit.range(27)
    sim = qtn.Simulator(executor=client, max_memory=2**34)
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"result alone takes 1073741824 bytes.*Dask worker"):
            sim.simulate(cirq.Circuit(cirq.H.on_each(*q)))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2**26


def test_progress_bar_on_stderr_only_when_asked_and_long(slow_slices, capsys, monkeypatch):
    net, plan, _ = slow_slices
    execute.contract(net, plan, qtn.get_backend(), progress=True)
    assert "slice" not in capsys.readouterr().err  # estimated far under PROGRESS_MIN_SECONDS
    monkeypatch.setattr(execute, "PROGRESS_MIN_SECONDS", 0.0)
    execute.contract(net, plan, qtn.get_backend(), progress=False)
    assert capsys.readouterr().err == ""
    execute.contract(net, plan, qtn.get_backend(), progress=True)
    err = capsys.readouterr().err
    assert "contracting" in err and "/32 [" in err and "slice/s" in err


def test_bad_executors_and_run_arguments_are_refused_by_name():
    with pytest.raises(TypeError, match="executor must be None.*not int"):
        qtn.Simulator(executor=8786)
    with pytest.raises(ValueError, match="not a Dask scheduler address"):
        qtn.Simulator(executor="my cluster")
    net = amplitude_network(grid_circuit())
    plan = plan_network(net, memory_budget=2**30)
    backend = qtn.get_backend()
    for kwargs, error, match in [
        ({"chunk_size": 0}, ValueError, "chunk_size must be a positive"),
        ({"chunk_size": 2.0}, TypeError, "chunk_size must be an int"),
        ({"memory_limit": "1GB"}, TypeError, "memory_limit must be an int"),
        ({"slices": []}, ValueError, "slices is empty"),
        ({"slices": [0, 0]}, ValueError, "slice number twice"),
        ({"slices": [plan.n_slices]}, ValueError, f"slices holds {plan.n_slices}"),
        ({"slices": [0.5]}, TypeError, "slices holds 0.5"),
    ]:
        with pytest.raises(error, match=match):
            execute.contract(net, plan, backend, **kwargs)


def test_repeated_state_vectors_on_a_thread_executor():
    """The second call with an executor reuses the remembered plan choice: a Schrödinger
    plan then runs through the executor, which needs its network (it used to be dropped)."""
    circuit = cirq.testing.random_circuit(12, 8, 0.9, random_state=4)
    q = sorted(circuit.all_qubits())
    ref = cirq.final_state_vector(circuit, qubit_order=q, dtype=np.complex128)
    cache = qtn.PlanCache()
    with cf.ThreadPoolExecutor(2) as pool:
        for _ in range(3):
            got = qtn.state_vector(circuit, qubit_order=q, dtype=np.complex128, executor=pool, plan_cache=cache)
            np.testing.assert_allclose(got, ref, atol=1e-12)
