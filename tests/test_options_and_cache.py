"""RunOptions, qtn.compile, the plan cache on disk and reproducible plans.

Values are checked against Cirq's state vectors; the cache by behaviour (a second
process reads the plan instead of searching), never by global counters.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import cirq
import numpy as np
import pytest
import sympy

import qtn
from qtn.options import RunKeywords, RunOptions

from helpers import reference_state

ROOT = Path(__file__).resolve().parent.parent


def _grid(seed: int, rows: int = 3, cols: int = 4, depth: int = 8) -> cirq.Circuit:
    return cirq.experiments.random_rotations_between_grid_interaction_layers_circuit(
        cirq.GridQubit.rect(rows, cols), depth=depth, seed=seed)


def test_keywords_and_fields_list_the_same_options():
    assert list(RunKeywords.__annotations__) == [f.name for f in dataclasses.fields(RunOptions)]


@pytest.mark.parametrize("call", [
    lambda c: qtn.amplitudes(c, [0], max_memroy=2**20),
    lambda c: qtn.state_vector(c, max_memroy=2**20),
    lambda c: qtn.expectation(c, cirq.Z(cirq.LineQubit(0)), max_memroy=2**20),
    lambda c: qtn.Simulator(max_memroy=2**20),
])
def test_an_unknown_option_is_named(call):
    circuit = cirq.Circuit(cirq.H(cirq.LineQubit(0)))
    with pytest.raises(TypeError, match="unexpected keyword argument 'max_memroy'; run options are backend"):
        call(circuit)


def test_options_that_cannot_apply_are_refused(tmp_path):
    q = cirq.LineQubit.range(2)
    circuit = cirq.Circuit(cirq.H(q[0]), cirq.CNOT(*q))
    with pytest.raises(ValueError, match="qtn.plan does not take checkpoint=: a plan contracts nothing"):
        qtn.plan(circuit, checkpoint=tmp_path / "ck")
    measured = circuit + cirq.measure(*q, key="m")
    with pytest.raises(ValueError, match="checkpoint= only with an int seed"):
        qtn.sample(measured, 10, checkpoint=tmp_path / "ck")
    with pytest.raises(ValueError, match="checkpoint= only with an int seed"):
        qtn.Simulator(checkpoint=tmp_path / "ck2").run(measured, repetitions=3)
    with pytest.raises(TypeError, match="plan_cache must be a qtn.PlanCache"):
        qtn.amplitudes(circuit, [0], plan_cache=3)
    with pytest.raises(TypeError, match="plan_seed must be a non-negative int"):
        qtn.amplitudes(circuit, [0], plan_seed=-1)


def test_a_seeded_sample_resumes_from_its_checkpoint(tmp_path):
    circuit = _grid(3, 2, 3, 4) + cirq.measure(*cirq.GridQubit.rect(2, 3), key="m")
    first = qtn.sample(circuit, 50, seed=7, sampling="marginal", group_size=2, checkpoint=tmp_path)
    again = qtn.sample(circuit, 50, seed=7, sampling="marginal", group_size=2, checkpoint=tmp_path)
    np.testing.assert_array_equal(first.records["m"], again.records["m"])


def test_compile_contracts_every_sweep_point_with_its_plans():
    a, b = sympy.Symbol("a"), sympy.Symbol("b")
    q = cirq.LineQubit.range(5)
    circuit = cirq.Circuit(cirq.H.on_each(*q), [cirq.CZ(x, y) for x, y in zip(q, q[1:])],
                           cirq.rx(a).on_each(*q[:3]), cirq.FSimGate(b, 0.4)(q[3], q[4]), cirq.T.on_each(*q))
    cache = qtn.PlanCache()
    expr = qtn.compile(circuit, dtype=np.complex128, plan_cache=cache)
    assert isinstance(expr, qtn.Contraction) and isinstance(expr.plan, qtn.Plan)
    searched = cache.info()["misses"]
    rng = np.random.default_rng(1)
    for _ in range(4):
        values = {"a": float(rng.uniform(0.1, 3)), "b": float(rng.uniform(0.1, 3))}
        ref = reference_state(circuit, resolver=values)
        bits = [int(x) for x in rng.integers(0, 32, 3)]
        np.testing.assert_allclose(expr.amplitudes(bits, param_resolver=values), ref[bits], atol=1e-10)
        np.testing.assert_allclose(expr.state_vector(param_resolver=values), ref, atol=1e-10)
    # the first state vector and the first batch of 3 searched (other open qubits); nothing after
    assert cache.info()["misses"] - searched <= 4
    before = cache.info()["misses"]
    values = {"a": 0.7, "b": 1.9}
    expr.amplitudes([1], param_resolver=values)
    expr.state_vector(param_resolver=values)
    assert cache.info()["misses"] == before


def _in_fresh_process(code: str, **env: str) -> str:
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **env})
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout.strip().splitlines()[-1]


_PLAN = """
import json, cirq, qtn
c = cirq.experiments.random_rotations_between_grid_interaction_layers_circuit(
    cirq.GridQubit.rect(4, 4), depth=10, seed=4)
p = qtn.plan(c, max_memory=2**8 * 8, optimize="hyper", search_time=5, plan_cache={cache})
print(json.dumps({{"source": p.source, "path": p.ssa_path, "sliced": list(p.sliced), "n": p.n_slices}}))
"""


def test_a_second_process_reads_the_plan_from_disk(tmp_path):
    first = json.loads(_in_fresh_process(_PLAN.format(cache=repr(str(tmp_path)))))
    second = json.loads(_in_fresh_process(_PLAN.format(cache=repr(str(tmp_path)))))
    assert first["source"] == "search" and second["source"] == "disk"
    assert second["path"] == first["path"] and second["sliced"] == first["sliced"] and first["n"] > 1
    files = list(tmp_path.iterdir())
    assert [f.suffix for f in files] == [".json"]  # no temporary file left behind
    # a corrupt file is ignored: the plan is searched again (and the file rewritten)
    files[0].write_text('{"version": 1, "key": "')
    third = json.loads(_in_fresh_process(_PLAN.format(cache=repr(str(tmp_path)))))
    assert third["source"] == "search" and third["path"] == first["path"]
    assert json.loads(files[0].read_text())["ssa_path"] == first["path"]


def test_seeded_searches_give_the_same_plan_in_two_processes():
    runs = [json.loads(_in_fresh_process(_PLAN.format(cache="None"))) for _ in range(2)]
    assert runs[0]["source"] == runs[1]["source"] == "search"
    assert runs[0]["path"] == runs[1]["path"] and runs[0]["sliced"] == runs[1]["sliced"]


def test_the_default_cache_and_its_report(tmp_path):
    circuit = _grid(5)
    qtn.plan(circuit)
    info = qtn.cache_info()
    assert info["directory"] == os.environ["QTN_PLAN_CACHE"] and info["disk"] >= 1 and info["memory"] >= 1
    again = qtn.plan(circuit, plan_cache=qtn.PlanCache(directory=info["directory"]))
    assert again.source == "disk"
    assert qtn.plan(circuit, plan_cache=None).source == "search"


def test_the_measured_flop_rate_is_kept():
    backend = qtn.get_backend("numpy")
    rate = backend.flop_rate(np.complex64)
    assert 1e6 < rate < 1e14
    assert backend.flop_rate(np.complex64) == rate  # measured once
    stored = json.loads((Path(os.environ["QTN_PLAN_CACHE"]) / "hardware" / "flop_rates.json").read_text())
    assert rate in stored.values()


def test_a_rate_measured_on_a_busy_machine_is_measured_again_when_quiet(monkeypatch, tmp_path):
    from qtn.backends import base

    monkeypatch.setenv("QTN_PLAN_CACHE", str(tmp_path))
    probes = []

    def probe(value):
        return lambda: probes.append(value) or value

    busy, quiet = base._RateCache.QUIET_LOAD + 1.0, base._RateCache.QUIET_LOAD / 2
    cache = base._RateCache()
    monkeypatch.setattr(base, "_load_per_core", lambda: busy)
    assert cache.get("k", probe(10.0)) == 10.0
    assert base._RateCache().get("k", probe(99.0)) == 10.0  # still busy: the stored figure
    monkeypatch.setattr(base, "_load_per_core", lambda: quiet)
    fresh = base._RateCache()  # a later process, on a quiet machine, measures again
    assert fresh.get("k", probe(30.0)) == 30.0 and probes == [10.0, 30.0]
    assert base._RateCache().get("k", probe(5.0)) == 30.0  # quiet now: measured for good
    low = base._RateCache()
    monkeypatch.setattr(base, "_load_per_core", lambda: busy)
    low.get("j", probe(50.0))
    monkeypatch.setattr(base, "_load_per_core", lambda: quiet)
    assert base._RateCache().get("j", probe(20.0)) == 50.0  # the higher of the two is kept
    assert probes == [10.0, 30.0, 50.0, 20.0]
