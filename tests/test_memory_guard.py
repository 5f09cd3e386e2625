"""The memory guard: a plan's peak (every live tensor of a slice, not just the largest)
is checked before anything is allocated; over the limit it is sliced further or refused
with the figures."""

from __future__ import annotations

import concurrent.futures as cf
import os
import re
import tracemalloc

import cirq
import numpy as np
import pytest

import qtn
from qtn import execute, executors
from qtn.compiler import compile_circuit as prepare
from qtn.engine import plan_and_contract
from qtn.options import RunOptions
from qtn.ket import open_network
from qtn.network import Network
from qtn.planning import MemoryLimit, plan_network


def state_network(circuit: cirq.Circuit, dtype=np.complex128) -> Network:
    ct = prepare(circuit, None, None, np.dtype(dtype))
    return open_network(ct, range(len(ct.qubits)), None).simplified().canonical()


def grid_circuit(seed: int = 1) -> cirq.Circuit:
    qubits = cirq.GridQubit.rect(3, 4)
    return cirq.experiments.random_rotations_between_grid_interaction_layers_circuit(qubits, depth=8, seed=seed)


def test_contract_refuses_a_plan_over_the_limit_before_allocating():
    q = cirq.LineQubit.range(20)
    circuit = cirq.Circuit(cirq.H.on_each(*q), (cirq.CZ(a, b) for a, b in zip(q, q[1:])), cirq.T.on_each(*q))
    net = state_network(circuit, np.complex64)
    plan = plan_network(net, memory_budget=2**40)
    assert plan.peak_bytes > 2**23  # the 8 MiB state and the operands of the last step
    limit = 2**22
    tracemalloc.start()
    try:
        with pytest.raises(ValueError) as info:
            execute.contract(net, plan, qtn.get_backend(), memory_limit=limit)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2**20  # not even the 8 MiB result was allocated
    message = str(info.value)
    assert f"needs {plan.peak_bytes} bytes at its peak" in message
    assert f"limit of {limit} bytes (memory_limit)" in message
    assert f"max_memory={limit}" in message


def test_a_plan_whose_peak_is_over_the_limit_is_sliced_further():
    circuit = grid_circuit()
    net = state_network(circuit)
    unsliced = plan_network(net, memory_budget=2**40)
    assert unsliced.n_slices == 1
    # the largest intermediate fits, but not everything a slice holds at once
    limit = (unsliced.largest_intermediate_bytes + unsliced.peak_bytes) // 2
    plan = plan_network(net, memory_budget=2**40, peak_limit=MemoryLimit(limit, "test"))
    assert unsliced.largest_intermediate_bytes <= limit < unsliced.peak_bytes
    assert plan.peak_bytes <= limit == plan.peak_limit and plan.n_slices > 1
    assert plan.memory_budget == 2**40 and "peak limit" in plan.report()
    got = execute.contract(net, plan, qtn.get_backend(), memory_limit=limit)
    np.testing.assert_allclose(got.reshape(-1), cirq.final_state_vector(circuit, dtype=np.complex128), atol=1e-12)


def test_an_unreachable_peak_is_refused_with_the_limit_that_would_work():
    net = state_network(grid_circuit(seed=2))
    result_bytes = 2**12 * 16
    with pytest.raises(ValueError, match=r"no further slicing fits it under the limit of \d+ bytes \(a test\)") as info:
        plan_network(net, memory_budget=2**40, peak_limit=MemoryLimit(result_bytes + 16, "a test"))
    needed = int(re.search(r"a limit of at least (\d+) bytes would work", str(info.value)).group(1))
    assert needed > result_bytes + 16
    plan = plan_network(net, memory_budget=2**40, peak_limit=MemoryLimit(needed, "a test"))
    assert plan.peak_bytes <= needed


def test_local_limit_is_the_device_budget_or_a_larger_max_memory_shared_by_threads():
    circuit = grid_circuit(seed=3)
    net = open_network(prepare(circuit, None, None, np.dtype(np.complex64)), (), [0] * 12)
    device = qtn.get_backend().memory_budget()
    _, small = plan_and_contract(net, RunOptions.from_keywords(dict(max_memory=2**16)))
    assert small.peak_limit == device and small.memory_budget == 2**16
    _, large = plan_and_contract(net, RunOptions.from_keywords(dict(max_memory=2 * device)))
    assert large.peak_limit == 2 * device
    with cf.ThreadPoolExecutor(4) as pool:
        _, shared = plan_and_contract(net, RunOptions.from_keywords(dict(max_memory=2 * device, executor=pool)))
        limit = executors.resolve(pool).task_memory_limit(MemoryLimit(1000, "max_memory"))
    # the pool's 4 workers each hold a slice at once, however many cores there are
    assert shared.peak_limit == 2 * device // 4
    assert limit.bytes == 1000 // 4
    assert "ThreadPoolExecutor (4 workers)" in limit.source
