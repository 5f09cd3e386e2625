"""Planning for an FPGA board: off-chip and on-chip budgets, modelled board time."""

from __future__ import annotations

import cirq
import numpy as np
import pytest

import qtn
from qtn.fpga import boards
from qtn.fpga.board_time import modelled_time


def _circuit():
    qubits = cirq.GridQubit.rect(3, 4)
    return cirq.experiments.random_rotations_between_grid_interaction_layers_circuit(qubits, depth=10, seed=3)


@pytest.mark.parametrize("board", boards.available_boards())
def test_off_chip_plan_is_bounded_by_board_memory(board):
    p = qtn.plan(_circuit(), board=board)
    profile = boards.load_board(board)
    assert p.memory_budget == profile.off_chip.size_bytes
    assert p.board_time is not None and p.board_time.board == board
    assert "modelled" in p.report() and "modelled" in str(p.board_time)
    assert p.board_time.flops == p.flops


def test_on_chip_plan_slices_to_the_on_chip_budget():
    qubits = cirq.GridQubit.rect(4, 5)
    circuit = cirq.experiments.random_rotations_between_grid_interaction_layers_circuit(qubits, depth=12, seed=3)
    budget = boards.on_chip_budget_bytes("arria10_gx1150", np.complex64)
    free = qtn.plan(circuit, board="arria10_gx1150")
    assert free.largest_intermediate_bytes > budget  # the greedy plan does not fit on chip
    on_chip = qtn.plan(circuit, board="arria10_gx1150", on_chip=True)
    assert on_chip.memory_budget == budget
    assert on_chip.largest_intermediate_bytes <= budget
    assert on_chip.n_slices > 1
    ref = cirq.final_state_vector(circuit, dtype=np.complex128)[[0, 99]]
    got = qtn.amplitudes(circuit, [0, 99], max_memory=budget, dtype=np.complex128)
    np.testing.assert_allclose(got, ref, atol=1e-10)


def test_on_chip_plan_of_a_circuit_that_needs_slicing():
    circuit = _circuit()
    # the tensor-network plan (the automatic planner may take the Schrödinger order here)
    unsliced = qtn.plan(circuit, optimize="greedy")
    tiny_board_budget = unsliced.largest_intermediate_bytes // 4
    p = qtn.plan(circuit, board="u280", max_memory=tiny_board_budget, optimize="greedy")
    assert p.n_slices > 1 and p.largest_intermediate_bytes <= tiny_board_budget
    # each slice pays its own PCIe transfers, so the modelled PCIe time grows with slices
    assert p.board_time.n_slices == p.n_slices
    one = modelled_time(p.gemms, 1, 0, 0, "u280")
    assert p.board_time.compute_s == pytest.approx(one.compute_s * p.n_slices)


def test_on_chip_needs_a_board_and_board_names_are_checked():
    with pytest.raises(ValueError, match="needs a board"):
        qtn.plan(_circuit(), on_chip=True)
    with pytest.raises(ValueError, match="u280"):
        qtn.plan(_circuit(), board="u999")


def test_board_time_of_a_plan_prices_its_host_permutes():
    # the HLS kernel permutes nothing: each operand a step permutes crosses PCIe both ways
    p = qtn.plan(_circuit(), board="u280", optimize="greedy")
    itemsize = p.itemsize
    moved = sum(int(np.prod(s.lowered.a_shape)) * itemsize for s in p.steps
                if tuple(s.lowered.a_perm) != tuple(range(len(s.lowered.a_perm))))
    moved += sum(int(np.prod(s.lowered.b_shape)) * itemsize for s in p.steps
                 if tuple(s.lowered.b_perm) != tuple(range(len(s.lowered.b_perm))))
    assert moved > 0, "the case must permute something"
    pcie = boards.load_board("u280").pcie.bandwidth_bytes_per_s  # per direction
    assert p.board_time.host_permute_s == pytest.approx(2 * moved * p.n_slices / pcie, rel=1e-9)
    assert p.board_time.pcie_s >= p.board_time.host_permute_s
