"""MaxCut QAOA on a random 3-regular graph: the expected cut, and cuts sampled.

The circuit is ``qaoa:N:P:SEED`` of :mod:`qtn.generators` (fixed angles, the optimal
depth-1 ones for 3-regular graphs). qtn computes the expected cut
``<C> = sum over edges (1 - <Z_u Z_v>) / 2`` with :func:`qtn.expectation`, checks it
against the closed form of depth-1 QAOA (and against Cirq when the graph is small),
then samples cuts with :func:`qtn.sample` and compares the best one with a random
cut (|E|/2 expected) and, for small graphs, the true maximum cut. Last, ``<C>`` on a
100-node graph, whose state vector no simulator could hold, against the closed form.

Run: ``python examples/qaoa_maxcut.py [--nodes N] [--layers P] [--shots S]``
"""

from __future__ import annotations

import argparse
import sys
import time

import cirq
import numpy as np

import qtn
from qtn import generators

#: Largest graph whose exact MaxCut is found by trying every cut.
BRUTE_FORCE_NODES = 20
#: Largest graph checked against Cirq's state vector.
CIRQ_CHECK_NODES = 20


def cut_sizes(bits: np.ndarray, edges: list[tuple[int, int]]) -> np.ndarray:
    """Edges cut by each row of ``bits`` (one 0/1 row per cut)."""
    u, v = np.array(edges).T
    return (bits[:, u] != bits[:, v]).sum(axis=1)


def max_cut(n: int, edges: list[tuple[int, int]]) -> int:
    """The maximum cut, by trying all 2**(n-1) cuts (node 0 fixed on one side)."""
    best = 0
    for start in range(0, 2 ** (n - 1), 2**16):
        ints = np.arange(start, min(start + 2**16, 2 ** (n - 1)))[:, None]
        bits = np.hstack([np.zeros_like(ints), (ints >> np.arange(n - 1)) & 1])
        best = max(best, int(cut_sizes(bits, edges).max()))
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=16)
    parser.add_argument("--layers", type=int, default=1)
    parser.add_argument("--shots", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--large-nodes", type=int, default=100,
                        help="with p=1, also <C> on a graph this large (0: skip)")
    args = parser.parse_args(argv)
    n, p = args.nodes, args.layers
    graph = generators.maxcut_graph(n, args.seed)
    edges = list(graph.edges)
    circuit = generators.qaoa(n, p, args.seed)
    cost = generators.maxcut_cost(graph)
    print(f"MaxCut QAOA, p={p}, on a random 3-regular graph of {n} nodes and {len(edges)} edges "
          f"(gamma={generators.QAOA_GAMMA:.4f}, beta={generators.QAOA_BETA:.4f} in every layer)")

    t0 = time.perf_counter()
    expected_cut = float(np.real(qtn.expectation(circuit, [cost])[0]))
    print(f"<C> = {expected_cut:.5f} edges ({expected_cut / len(edges):.4f} of them) "
          f"in {time.perf_counter() - t0:.2f} s")
    ok = True
    if p == 1:
        closed = generators.maxcut_depth1_expectation(graph)
        print(f"  closed form of depth-1 QAOA: {closed:.5f}")
        ok &= abs(closed - expected_cut) < 1e-3
    if n <= CIRQ_CHECK_NODES:
        q = cirq.LineQubit.range(n)
        state = cirq.final_state_vector(circuit, qubit_order=q)
        reference = cost.expectation_from_state_vector(state, {x: i for i, x in enumerate(q)}).real
        print(f"  Cirq's state vector:          {reference:.5f}")
        ok &= abs(reference - expected_cut) < 1e-3

    measured = circuit + cirq.measure(*cirq.LineQubit.range(n), key="cut")
    t0 = time.perf_counter()
    result = qtn.sample(measured, args.shots, seed=args.seed)
    cuts = cut_sizes(result.measurements["cut"], edges)
    print(f"{args.shots} sampled cuts in {time.perf_counter() - t0:.2f} s: mean {cuts.mean():.2f} "
          f"(expected {expected_cut:.2f}), best {cuts.max()}; a random cut averages {len(edges) / 2:.1f}")
    # the sample mean must agree with <C> within the statistical error
    ok &= abs(cuts.mean() - expected_cut) < 5 * cuts.std() / np.sqrt(args.shots) + 1e-9
    if n <= BRUTE_FORCE_NODES:
        print(f"  the maximum cut of this graph: {max_cut(n, edges)}")
    if p == 1 and args.large_nodes:
        # expectation values need no state vector: a graph far past Cirq's reach
        big = generators.maxcut_graph(args.large_nodes, args.seed)
        t0 = time.perf_counter()
        value = float(np.real(qtn.expectation(generators.qaoa(args.large_nodes, 1, args.seed),
                                              [generators.maxcut_cost(big)])[0]))
        closed = generators.maxcut_depth1_expectation(big)
        print(f"{args.large_nodes} nodes: <C> = {value:.4f} in {time.perf_counter() - t0:.2f} s; "
              f"closed form {closed:.4f}")
        ok &= abs(value - closed) < 1e-4 * len(big.edges)
    if not ok:
        print("MISMATCH between qtn and the references", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
