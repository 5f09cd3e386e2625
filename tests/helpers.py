"""Reference helpers shared by the tests."""

from __future__ import annotations

import cirq
import numpy as np


def tolerance(dtype) -> float:
    return 2e-5 if np.dtype(dtype) == np.complex64 else 1e-10


def reference_state(circuit: cirq.AbstractCircuit, qubit_order=None, resolver=None) -> np.ndarray:
    """Cirq's state vector in complex128."""
    if resolver is not None:
        circuit = cirq.resolve_parameters(circuit, resolver)
    order = cirq.QubitOrder.DEFAULT if qubit_order is None else qubit_order
    return cirq.final_state_vector(circuit, qubit_order=order, dtype=np.complex128)


def einsum_reference(net) -> np.ndarray:
    """Contract a (small) ``qtn.network.Network`` with ``opt_einsum``: an independent reference."""
    import opt_einsum

    if not net.arrays:
        return np.asarray(net.scalar)
    labels = {lab: i for i, lab in enumerate(sorted({i for ix in net.indices for i in ix}))}
    operands: list = []
    for a, ix in zip(net.arrays, net.indices):
        operands += [a, [labels[i] for i in ix]]
    operands.append([labels[o] for o in net.output])
    return net.scalar * np.asarray(opt_einsum.contract(*operands, optimize="greedy"))


def greedy_sliced_plan(net, n_slices: int = 16):
    """The greedy order of a canonical network with labels sliced by cotengra into ``n_slices``
    (no reconfiguration, which would take seconds)."""
    from qtn.planning import plan_from_path, plan_network, sliced_labels

    greedy = plan_network(net, memory_budget=2**40, optimize="greedy")
    tree = greedy.tree.slice(target_slices=n_slices, allow_outer=False)
    return plan_from_path(net, tree.get_ssa_path(), sliced_labels(tree), memory_budget=greedy.memory_budget)
