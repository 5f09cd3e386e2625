"""Named circuits (qtn.generators) against Cirq and closed-form results."""

from __future__ import annotations

import math

import cirq
import networkx as nx
import numpy as np
import pytest

from qtn import generators


def test_ghz_state():
    state = cirq.final_state_vector(generators.ghz(5))
    expected = np.zeros(32)
    expected[[0, 31]] = 1 / math.sqrt(2)
    np.testing.assert_allclose(state, expected, atol=1e-6)


def test_qft_is_cirq_qft_after_h_and_t_layers():
    q = cirq.LineQubit.range(4)
    reference = cirq.Circuit(cirq.H.on_each(q), cirq.T.on_each(q), cirq.qft(*q))
    got = cirq.final_state_vector(generators.qft(4), qubit_order=q)
    np.testing.assert_allclose(got, cirq.final_state_vector(reference, qubit_order=q), atol=1e-6)
    # decomposed into gates of at most two qubits: no 2**N matrix is ever formed
    assert max(len(op.qubits) for op in generators.qft(6).all_operations()) == 2


def test_grid_qubits_and_seeds():
    c = generators.grid(2, 3, 4)
    assert c.all_qubits() == set(cirq.GridQubit.rect(2, 3))
    assert generators.grid(2, 3, 4) == c  # seed defaults to 0
    assert generators.grid(2, 3, 4, seed=1) != c


@pytest.mark.parametrize("n, seed", [(8, 0), (10, 3)])
def test_qaoa_depth1_matches_the_closed_form(n, seed):
    graph = generators.maxcut_graph(n, seed)
    q = cirq.LineQubit.range(n)
    state = cirq.final_state_vector(generators.qaoa(n, 1, seed), qubit_order=q)
    got = generators.maxcut_cost(graph).expectation_from_state_vector(state, {x: i for i, x in enumerate(q)})
    assert got.real == pytest.approx(generators.maxcut_depth1_expectation(graph), abs=1e-5)
    # better than a random cut, i.e. the angles' signs are right
    assert got.real > 0.6 * graph.number_of_edges()


def test_depth1_closed_form_on_a_triangle_free_graph():
    # Farhi, Goldstone, Gutmann (2014): 0.6924 of the edges cut on 3-regular graphs without triangles
    petersen = nx.petersen_graph()
    assert generators.maxcut_depth1_expectation(petersen) / 15 == pytest.approx(0.6925, abs=1e-4)


@pytest.mark.parametrize(
    "name, qubits",
    [("ghz:3", 3), ("qft:4", 4), ("grid:2x3:2", 6), ("grid:2x3:2:7", 6), ("qaoa:6:2", 6), ("QAOA:6:1:3", 6)],
)
def test_from_name(name, qubits):
    assert generators.is_name(name)
    assert len(generators.from_name(name).all_qubits()) == qubits


@pytest.mark.parametrize("name", ["ghz", "ghz:", "ghz:x", "qft:3:1", "grid:3:3", "grid:2x2", "qaoa:6", "foo:3"])
def test_bad_names_list_the_forms(name):
    with pytest.raises(ValueError, match=r"ghz:N, qft:N, grid:ROWSxCOLS:DEPTH\[:SEED\], qaoa:N:P\[:SEED\]"):
        generators.from_name(name)


@pytest.mark.parametrize("name, message", [("ghz:0", "N must be >= 1"), ("qaoa:5:1", "even and >= 4"),
                                           ("qaoa:6:0", "P must be >= 1"), ("grid:0x3:2", "ROWS must be >= 1")])
def test_out_of_range_numbers(name, message):
    with pytest.raises(ValueError, match=message):
        generators.from_name(name)


def test_is_name_rejects_files():
    assert not generators.is_name("circuit.qasm")
    assert not generators.is_name("ghz")
