"""Resumable runs: a run stopped after k chunks resumes from its checkpoint folder,
runs only the rest and gives the same answer; another run's folder is refused."""

from __future__ import annotations

import json

import cirq
import numpy as np
import pytest

import qtn
from qtn import execute
from qtn.compiler import compile_circuit as prepare
from qtn.engine import plan_and_contract
from qtn.options import RunOptions
from qtn.checkpoint import Checkpoint
from qtn.ket import open_network
from qtn.network import Network
from qtn.planning import plan_network

from helpers import greedy_sliced_plan


def grid_circuit(seed: int = 1) -> cirq.Circuit:
    qubits = cirq.GridQubit.rect(3, 4)
    return cirq.experiments.random_rotations_between_grid_interaction_layers_circuit(qubits, depth=8, seed=seed)


def amplitude_network(circuit: cirq.Circuit, bits: int = 0) -> Network:
    ct = prepare(circuit, None, None, np.dtype(np.complex128))
    n = len(ct.qubits)
    return open_network(ct, (), [(bits >> (n - 1 - p)) & 1 for p in range(n)]).simplified().canonical()


sliced_plan = greedy_sliced_plan


@pytest.fixture(scope="module")
def case():
    circuit = grid_circuit()
    net = amplitude_network(circuit)
    plan = sliced_plan(net)
    assert plan.n_slices == 16
    return net, plan, complex(cirq.final_state_vector(circuit, dtype=np.complex128)[0])


def stop_after(chunks: int, exc: BaseException):
    def callback(progress: execute.SliceProgress) -> None:
        if progress.done - progress.resumed >= chunks:
            raise exc

    return callback


@pytest.mark.parametrize("exc", [KeyboardInterrupt(), RuntimeError("injected")])
def test_stopped_run_resumes_with_only_the_remaining_slices(case, tmp_path, exc):
    net, plan, expected = case
    backend = qtn.get_backend()
    with pytest.raises(type(exc)):
        execute.contract(net, plan, backend, checkpoint=tmp_path, chunk_size=1, callback=stop_after(5, exc))
    assert len(list((tmp_path / "0000").glob("*.npy"))) == 5
    seen: list[execute.SliceProgress] = []
    got = execute.contract(net, plan, backend, checkpoint=tmp_path, callback=seen.append)
    assert sum(len(p.chunk) for p in seen) == plan.n_slices - 5
    assert all(p.resumed == 5 for p in seen) and seen[-1].done == plan.n_slices
    assert got == pytest.approx(expected, abs=1e-12)
    # a finished run, started again, runs nothing and gives the same answer
    seen.clear()
    assert execute.contract(net, plan, backend, checkpoint=tmp_path, callback=seen.append) == pytest.approx(got)
    assert seen == []


def test_a_half_written_chunk_is_ignored(case, tmp_path):
    net, plan, expected = case
    backend = qtn.get_backend()
    with pytest.raises(KeyboardInterrupt):
        execute.contract(net, plan, backend, checkpoint=tmp_path, chunk_size=4,
                         callback=stop_after(4, KeyboardInterrupt()))
    (tmp_path / "0000" / "0000000004-0000000008.tmp").write_bytes(b"\x93NUMPY half a file")
    seen: list[execute.SliceProgress] = []
    got = execute.contract(net, plan, backend, checkpoint=tmp_path, callback=seen.append)
    assert sum(len(p.chunk) for p in seen) == plan.n_slices - 4
    assert got == pytest.approx(expected, abs=1e-12)
    assert not list((tmp_path / "0000").glob("*.tmp"))


def test_checkpoint_of_another_circuit_or_plan_is_refused(case, tmp_path):
    net, plan, _ = case
    backend = qtn.get_backend()
    execute.contract(net, plan, backend, checkpoint=tmp_path)
    other_values = amplitude_network(grid_circuit(seed=2))  # same structure, other gates
    with pytest.raises(ValueError, match=r"another run.*contraction 0 differs from this one in values; "):
        execute.contract(other_values, plan, backend, checkpoint=tmp_path)
    with pytest.raises(ValueError, match=r"another run.*differs from this one in plan;"):
        execute.contract(net, sliced_plan(net, 8), backend, checkpoint=tmp_path)
    bigger = amplitude_network(cirq.Circuit(cirq.H.on_each(*cirq.LineQubit.range(3))))
    with pytest.raises(ValueError, match=r"another run.*differs from this one in structure"):
        execute.contract(bigger, plan_network(bigger, memory_budget=2**20), backend, checkpoint=tmp_path)
    with pytest.raises(ValueError, match=r"another run.*differs from this one in slices"):
        execute.contract(net, plan, backend, checkpoint=tmp_path, slices=range(8))
    assert len(json.loads((tmp_path / "manifest.json").read_text())["contractions"]) == 1


def test_simulator_checkpoint_numbers_contractions_and_pins_their_plans(tmp_path):
    circuit = grid_circuit(seed=3)
    budget = qtn.plan(circuit, optimize="greedy").largest_intermediate_bytes // 4
    ref = cirq.final_state_vector(circuit, dtype=np.complex128)[[3, 1000]]
    first = qtn.Simulator(max_memory=budget, dtype=np.complex128, checkpoint=tmp_path)
    np.testing.assert_allclose(first.compute_amplitudes(circuit, [3, 1000]), ref, atol=1e-12)
    assert len(json.loads((tmp_path / "manifest.json").read_text())["contractions"]) == 2
    # the same calls again (a restarted script): answered from the folder, with the stored plans
    cache = qtn.PlanCache()
    again = qtn.Simulator(max_memory=budget, dtype=np.complex128, checkpoint=tmp_path, plan_cache=cache)
    np.testing.assert_allclose(again.compute_amplitudes(circuit, [3, 1000]), ref, atol=1e-12)
    assert cache.info()["misses"] == 0  # no path search ran: both plans came from the folder
    # other calls are refused, not mixed in
    with pytest.raises(ValueError, match=r"contraction 0 differs from this one in values"):
        qtn.Simulator(max_memory=budget, dtype=np.complex128, checkpoint=tmp_path).compute_amplitudes(circuit, [4])


def test_plan_and_contract_reuses_the_stored_plan_after_a_restart(tmp_path):
    circuit = grid_circuit(seed=5)
    opts = RunOptions.from_keywords(dict(max_memory=qtn.plan(circuit, optimize="greedy").largest_intermediate_bytes // 4,
                                         dtype=np.complex128, checkpoint=tmp_path))
    net = amplitude_network(circuit, 9)
    value, plan = plan_and_contract(net, opts)
    assert plan.n_slices > 1
    again, stored = plan_and_contract(net, RunOptions.from_keywords(dict(
        max_memory=opts.max_memory, dtype=np.complex128, checkpoint=tmp_path, plan_cache=None)))
    assert stored.method.endswith("(from checkpoint)")
    assert stored.steps == plan.steps and stored.sliced == plan.sliced
    assert again == pytest.approx(value, abs=1e-14)


def test_bad_checkpoint_arguments_are_refused(tmp_path):
    with pytest.raises(TypeError, match="checkpoint must be a folder path"):
        qtn.Simulator(checkpoint=3)
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="is a file"):
        qtn.Simulator(checkpoint=tmp_path / "file")
    with pytest.raises(ValueError, match="not empty and holds no qtn manifest"):
        Checkpoint(tmp_path)
    folder = tmp_path / "run"
    (folder / "0000").mkdir(parents=True)
    (folder / "manifest.json").write_text("{not json")
    with pytest.raises(ValueError, match="manifest .* cannot be read"):
        Checkpoint(folder).next_slot().saved_plan(amplitude_network(grid_circuit()), 2**20, None)


def test_a_contraction_refused_before_it_starts_takes_no_slot(tmp_path):
    too_big = cirq.Circuit(cirq.H.on_each(*cirq.LineQubit.range(14)))  # a 128 KiB state
    circuit = grid_circuit(seed=6)
    ref = cirq.final_state_vector(circuit, dtype=np.complex128)[[0]]
    for _ in range(2):  # the run, and the same run started again
        sim = qtn.Simulator(max_memory=2**16, checkpoint=tmp_path)
        with pytest.raises(ValueError, match="the result alone takes 131072 bytes"):
            sim.simulate(too_big)
        np.testing.assert_allclose(sim.compute_amplitudes(circuit, [0]), ref, atol=2e-5)
        assert len(json.loads((tmp_path / "manifest.json").read_text())["contractions"]) == 1
