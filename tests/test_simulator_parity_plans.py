"""The plan reported is the plan that runs (issue 11): symbols at generic values, and
``qtn amplitude`` with a batch of bitstrings prints the plan it contracted with."""

from __future__ import annotations

import json

import cirq
import numpy as np
import sympy

import qtn
from qtn.cli import main


def _fsim_grid(t) -> cirq.Circuit:
    q = cirq.GridQubit.rect(3, 4)
    moments = [cirq.Moment(cirq.H.on_each(*q))]
    pairs = [[(q[r * 4 + c], q[r * 4 + c + 1]) for r in range(3) for c in range(0, 3, 2)],
             [(q[r * 4 + c], q[r * 4 + c + 1]) for r in range(3) for c in range(1, 3, 2)],
             [(q[r * 4 + c], q[(r + 1) * 4 + c]) for r in range(0, 2, 2) for c in range(4)],
             [(q[r * 4 + c], q[(r + 1) * 4 + c]) for r in range(1, 2, 2) for c in range(4)]]
    for d in range(8):
        moments.append(cirq.Moment(cirq.FSimGate(theta=t, phi=0.3)(a, b) for a, b in pairs[d % 4]))
        moments.append(cirq.Moment(cirq.rx(0.2 * (d + 1))(qb) for qb in q))
    return cirq.Circuit(moments)


def test_plan_of_a_parameterized_circuit_is_the_plan_a_run_uses():
    # greedy: the tensor-network plan, whose structure the symbols' values change (the
    # automatic planner may pick the Schrödinger order, which does not depend on them)
    t = sympy.Symbol("t")
    circuit = _fsim_grid(t)
    generic = qtn.plan(circuit, plan_cache=None, optimize="greedy")
    at_half = qtn.plan(circuit, param_resolver={"t": 0.5}, plan_cache=None, optimize="greedy")
    at_zero = qtn.plan(circuit, param_resolver={"t": 0.0}, plan_cache=None, optimize="greedy")
    assert (generic.flops, len(generic.steps)) == (at_half.flops, len(at_half.steps))
    assert at_zero.flops != at_half.flops  # at 0 the FSim gates are diagonal: another structure
    compiled = qtn.compile(circuit, plan_cache=None, optimize="greedy")
    assert (compiled.plan.flops, len(compiled.plan.steps)) == (at_half.flops, len(at_half.steps))
    np.testing.assert_allclose(compiled.amplitudes([0, 5], {"t": 0.5}),
                               cirq.final_state_vector(cirq.resolve_parameters(circuit, {"t": 0.5}),
                                                       dtype=np.complex128)[[0, 5]], atol=2e-5)
    # a symbol the resolver gives stays at its value; the others get generic values
    u = sympy.Symbol("u")
    partial = qtn.plan(circuit + cirq.Circuit(cirq.X(cirq.GridQubit(0, 0)) ** u), param_resolver={"u": 0.0},
                       plan_cache=None, optimize="greedy")
    assert (partial.flops, len(partial.steps)) == (at_half.flops, len(at_half.steps))


def test_amplitude_command_prints_the_plan_that_ran(capsys):
    cache = qtn.PlanCache()
    # 0 and 1 differ in the last qubit: one network with it open; 0 and 511 differ in all
    # nine, so each is its own amplitude network (as is a single bitstring)
    for bits, open_last in ((["0", "1"], True), (["0", "511"], False), (["7"], False)):
        qtn.clear_cache()
        argv = ["amplitude", "grid:3x3:6", "--json", "--no-progress"]
        for b in bits:
            argv += ["-b", b]
        assert main(argv) == 0
        doc = json.loads(capsys.readouterr().out)
        info = qtn.cache_info()
        assert info["misses"] + info["disk_hits"] <= 1 and info["hits"] >= 1, info  # planned once, found again
        circuit = qtn.generators.from_name("grid:3x3:6")
        qubits = sorted(circuit.all_qubits())
        ints = [int(b) for b in bits]
        ran = qtn.plan(circuit, open_qubits=qubits[-1:] if open_last else [], plan_cache=cache)
        assert doc["plan"]["flops"] == ran.flops and doc["plan"]["steps"] == len(ran.steps)
        amps = qtn.amplitudes(circuit, ints)
        np.testing.assert_allclose([complex(a["real"], a["imag"]) for a in doc["amplitudes"]], amps, atol=1e-6)
