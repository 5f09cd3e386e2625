"""The path search's stop rule (qtn/path_search.py) and its trials (qtn/search_trials.py),
on a deterministic model of time: a clock that advances a fixed step each time it is read."""

from __future__ import annotations

import math

import cotengra as ctg
import numpy as np
import pytest

import qtn
from qtn.compiler import compile_circuit
from qtn.generators import grid
from qtn.ket import open_network
from qtn.path_search import ROOFLINE_SHARE, Budget, Stage, hyper_search, predicted_seconds, predictor, tree_seconds
from qtn.planning import _symbol, plan_network
from qtn.roofline import Rates
from qtn.search_seed import seeded
from qtn.search_trials import TrialContext, refine, tree_cost


class StepClock:
    """Model time: every read advances it by ``step`` seconds."""

    def __init__(self, step: float) -> None:
        self.step, self.now, self.reads = step, 0.0, 0

    def __call__(self) -> float:
        self.now += self.step
        self.reads += 1
        return self.now


def grid_network(rows=4, cols=4, depth=8):
    circuit = grid(rows, cols, depth, seed=3)
    cc = compile_circuit(circuit, sorted(circuit.all_qubits()), None, np.complex64)
    net = open_network(cc, (), (0,) * rows * cols).simplified().canonical()
    inputs = [tuple(map(_symbol, ix)) for ix in net.indices]
    sizes = {_symbol(label): d for label, d in net.size_dict.items()}
    return net, inputs, tuple(map(_symbol, net.output)), sizes


@pytest.fixture(scope="module")
def network():
    net, inputs, output, sizes = grid_network()
    greedy = ctg.array_contract_tree(inputs, output, sizes, optimize="greedy", canonicalize=False)
    return net, inputs, output, sizes, greedy


def search(network, rate, cap=1e9, step=0.01, target=2**40, stages=None, greedy=True):
    _, inputs, output, sizes, greedy_tree = network
    clock = StepClock(step)
    kw = {} if stages is None else {"stages": stages}
    with seeded(0):
        tree, method = hyper_search(ctg, inputs, output, sizes, target, None, cap, False, 0.0,
                                    greedy_tree if greedy else None, rate, clock=clock, **kw)
    return tree, method, clock


def test_budget_follows_the_prediction_and_the_cap():
    b = Budget(t0=0.0, cap=10.0, clock=lambda: 1.0)  # 1 s spent
    assert b.seconds(math.inf) == 10.0 and b.seconds(0.5) == 0.5
    assert not b.allows("a", 0.5)  # 1 s spent > 0.5 s predicted
    assert b.allows("a", 5.0)
    b.record("a", 4.5)
    assert not b.allows("a", 5.0)  # 1 s + a 4.5 s trial > 5 s predicted
    assert b.allows("a", 50.0)  # capped at 10 s: it fits
    b.record("a", 20.0)
    assert not b.allows("a", 1e6)  # mean trial 12.25 s: past the cap, however slow the contraction
    # an unseen stage is expected to take as long as the trials so far (12.25 s) ...
    assert not b.allows("b", 50.0)
    b.record("b", 0.1)
    assert b.allows("b", 5.0)  # ... until it has its own


def test_predictor_from_a_flop_rate_and_from_measured_rates():
    # A(i,j) B(j,k): one GEMM of m=64, k=32, n=2 ("thin" class), 8 real flops a multiply-add
    inputs, output, sizes = [("i", "j"), ("j", "k")], ("i", "k"), {"i": 64, "j": 32, "k": 2}
    tree = ctg.ContractionTree.from_path(inputs, output, sizes, path=[(0, 1)])
    flops = 8.0 * 64 * 32 * 2
    assert tree_cost(tree) == flops + 256.0 * 64 * 2
    assert predictor(1e9)(tree) == pytest.approx(predicted_seconds(tree_cost(tree), 1e9))
    elements = 64 * 32 + 32 * 2 + 64 * 2
    compute_bound = Rates({"large": 1e12, "skinny": 1e12, "thin": 1e6}, 1e12, "test")
    assert tree_seconds(tree, compute_bound) == pytest.approx(flops / 1e6)
    memory_bound = Rates({"large": 1e12, "skinny": 1e12, "thin": 1e12}, 1e3, "test")
    assert tree_seconds(tree, memory_bound) == pytest.approx(8 * elements / 1e3)
    assert predictor(memory_bound)(tree) == pytest.approx(8 * elements / 1e3 / ROOFLINE_SHARE)
    sliced = tree.remove_ind("j")  # slicing j: 32 GEMMs of k = 1, the same flops (slice() may pick k)
    assert sliced.nslices == 32
    assert tree_seconds(sliced, compute_bound) == pytest.approx(flops / 1e6)


def test_worthless_search_keeps_the_greedy_tree(network):
    greedy = network[4]
    # on a machine this fast the greedy contraction is over before one trial could be
    tree, method, clock = search(network, rate=1e30)
    assert method == "greedy" and tree is greedy
    assert clock.reads <= 4  # timed the imports, asked the time, started nothing


@pytest.mark.parametrize("model_budget", [0.5, 2.0])
def test_search_stops_within_its_budget(network, model_budget):
    greedy = network[4]
    step = 0.01  # three clock reads a trial: ~0.02-0.03 model seconds each
    # the rate at which the greedy contraction would take ``model_budget`` model seconds
    rate = tree_cost(greedy) / model_budget / 0.2
    tree, method, clock = search(network, rate, step=step)
    spent = clock.now
    allowed = predicted_seconds(tree_cost(greedy), rate)
    assert allowed == pytest.approx(model_budget)
    # never past the budget the greedy tree gave, by more than one trial ...
    assert spent <= allowed + 4 * step
    # ... nor past the (smaller) budget of the best tree found, by more than one trial
    assert spent <= predicted_seconds(tree_cost(tree), rate) + 4 * step
    # and it used what it was given: stopped only once the best tree's budget was spent
    assert spent >= predicted_seconds(tree_cost(tree), rate) - 4 * step
    assert tree_cost(tree) <= tree_cost(greedy)
    assert method.startswith("hyper(")


def test_search_stops_at_the_cap(network):
    greedy = network[4]
    rate = tree_cost(greedy) / 1e6  # the contraction would take ages: only the cap stops the search
    _, _, clock = search(network, rate, cap=0.3, step=0.01)
    assert 0.3 - 0.05 <= clock.now <= 0.3 + 0.05


def test_search_runs_out_of_trials_before_the_budget(network):
    greedy = network[4]
    stages = (Stage("tiny", ("qtn-random-greedy-r4",), 3, "random"),)
    tree, method, clock = search(network, rate=tree_cost(greedy) / 1e6, stages=stages)
    # the imports timed, the first bisection (asked, started, ended), exactly 3 trials of 3 reads each
    assert clock.reads == 2 + 3 + 3 * 3
    assert tree_cost(tree) <= tree_cost(greedy)


def test_refine_slices_a_promising_tree_and_prunes_a_hopeless_one(network):
    _, inputs, output, sizes, greedy = network
    target = int(greedy.max_size()) // 8
    promising = ctg.array_contract_tree(inputs, output, sizes, optimize="greedy", canonicalize=False)
    ctx = TrialContext(target)
    offered = []
    ctx.offer = lambda tree, method: offered.append(method)
    refine(promising, ctx, None, "m1")
    assert promising.max_size() <= target and promising.nslices > 1  # sliced to fit
    ctx.best_cost = tree_cost(greedy) / 2  # something better than any tree of greedy's cost is known
    hopeless = ctg.array_contract_tree(inputs, output, sizes, optimize="greedy", canonicalize=False)
    refine(hopeless, ctx, None, "m2")
    assert hopeless.nslices == 1 and hopeless.max_size() > target  # slicing could not make it win
    assert ctx.pruned == 1 and offered == ["m1", "m2"]


def test_tight_budget_plan_fits_and_contracts_right():
    """A search under a budget that every good tree is over: every candidate slices, the
    plan fits, and its amplitude matches an unsliced plan's."""
    circuit = grid(3, 4, 10, seed=5)
    cc = compile_circuit(circuit, sorted(circuit.all_qubits()), None, np.complex64)
    net = open_network(cc, (), (1, 0) * 6).simplified().canonical()
    free = plan_network(net, memory_budget=2**30, optimize="hyper", search_time=2, flop_rate=1e9)
    budget = free.largest_intermediate_bytes // 4
    tight = plan_network(net, memory_budget=budget, optimize="hyper", search_time=2, flop_rate=1e9)
    assert tight.largest_intermediate_bytes <= budget and tight.n_slices > 1
    from qtn.backends.base import get_backend
    from qtn.execute import contract

    be = get_backend("numpy")
    np.testing.assert_allclose(contract(net, tight, be), contract(net, free, be), rtol=1e-4, atol=1e-7)
    amp = qtn.amplitudes(circuit, [int("10" * 6, 2)], qubit_order=sorted(circuit.all_qubits()))[0]
    import cirq

    ref = cirq.Simulator(dtype=np.complex128).simulate(circuit, qubit_order=sorted(circuit.all_qubits()))
    assert complex(contract(net, tight, be)) == pytest.approx(complex(ref.final_state_vector[int("10" * 6, 2)]),
                                                             abs=1e-5)
    assert amp == pytest.approx(ref.final_state_vector[int("10" * 6, 2)], abs=1e-5)
