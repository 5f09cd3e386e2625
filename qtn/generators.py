"""Standard circuits by name, for the ``qtn`` command, the examples and the tests.

A name is one of the :data:`FORMS`:

* ``ghz:N`` - the GHZ state on ``N`` line qubits: H on qubit 0, then a CNOT chain.
* ``qft:N`` - ``cirq.qft`` on ``N`` line qubits applied to a non-trivial input, the
  product state that one layer of H and one layer of T make from ``|0...0>``; the
  QFT is decomposed into H, controlled phases and swaps (its ``2**N`` matrix is
  never formed).
* ``grid:ROWSxCOLS:DEPTH[:SEED]`` - a random-circuit-sampling circuit on a
  ``ROWS x COLS`` grid of ``cirq.GridQubit``: ``DEPTH`` cycles of random
  single-qubit gates and FSim couplers from
  ``cirq.experiments.random_rotations_between_grid_interaction_layers_circuit``
  (``SEED`` defaults to 0).
* ``qaoa:N:P[:SEED]`` - MaxCut QAOA with ``P`` layers on
  ``networkx.random_regular_graph(3, N, SEED)`` (``SEED`` defaults to 0), one line
  qubit per node: H on every qubit, then per layer ``exp(-i gamma C)`` with the
  MaxCut cost ``C = sum over edges (1 - Z_i Z_j) / 2`` and the mixer
  ``exp(-i beta sum X_i)``, with the fixed angles ``gamma = QAOA_GAMMA``
  (``arctan(1/sqrt 2)``) and ``beta = QAOA_BETA`` (``pi/8``) in every layer: the
  optimal depth-1 angles for 3-regular graphs (Farhi, Goldstone, Gutmann 2014), for
  which ``<C>`` is ``0.6925`` per edge on a graph without triangles.
"""

from __future__ import annotations

import math
import re

import cirq
import networkx as nx

#: The accepted name forms, for help texts and error messages.
FORMS = ("ghz:N", "qft:N", "grid:ROWSxCOLS:DEPTH[:SEED]", "qaoa:N:P[:SEED]")

#: QAOA cost angle of every layer: the optimal depth-1 angle on 3-regular graphs.
QAOA_GAMMA = math.atan(1 / math.sqrt(2))
#: QAOA mixer angle of every layer.
QAOA_BETA = math.pi / 8


def ghz(n: int) -> cirq.Circuit:
    """The ``n``-qubit GHZ circuit: ``(|0...0> + |1...1>) / sqrt 2`` on ``LineQubit(0..n-1)``.

    Raises:
        ValueError: ``n < 1``.
    """
    _check_positive(n, "ghz: N")
    q = cirq.LineQubit.range(n)
    return cirq.Circuit([cirq.H(q[0])], [cirq.CNOT(a, b) for a, b in zip(q, q[1:])])


def qft(n: int) -> cirq.Circuit:
    """``cirq.qft`` on ``n`` line qubits after a layer of H and a layer of T.

    The input layers make every amplitude of the result differ from the QFT of
    ``|0...0>`` (which is flat), so a wrong phase shows up in the amplitudes.

    Raises:
        ValueError: ``n < 1``.
    """
    _check_positive(n, "qft: N")
    q = cirq.LineQubit.range(n)
    transform = cirq.decompose(
        cirq.qft(*q), keep=lambda op: len(op.qubits) == 1 or isinstance(op.gate, (cirq.CZPowGate, cirq.SwapPowGate))
    )
    return cirq.Circuit([cirq.H.on_each(q)], [cirq.T.on_each(q)], transform)


def grid(rows: int, cols: int, depth: int, seed: int = 0) -> cirq.Circuit:
    """A random grid circuit of ``depth`` cycles on ``rows x cols`` grid qubits (see module doc).

    Raises:
        ValueError: a non-positive size or a negative depth.
    """
    _check_positive(rows, "grid: ROWS")
    _check_positive(cols, "grid: COLS")
    if depth < 0:
        raise ValueError(f"grid: DEPTH must be >= 0, got {depth}")
    return cirq.experiments.random_rotations_between_grid_interaction_layers_circuit(
        cirq.GridQubit.rect(rows, cols), depth, seed=seed
    )


def maxcut_graph(n: int, seed: int = 0) -> nx.Graph:
    """The 3-regular graph on nodes ``0..n-1`` that ``qaoa:N:P:SEED`` cuts.

    Raises:
        ValueError: ``n`` is odd or below 4 (no 3-regular graph exists).
    """
    if n < 4 or n % 2:
        raise ValueError(f"qaoa: N must be even and >= 4 (a 3-regular graph needs it), got {n}")
    return nx.random_regular_graph(3, n, seed=seed)


def maxcut_cost(graph: nx.Graph) -> cirq.PauliSum:
    """The MaxCut cost ``sum over edges (1 - Z_i Z_j) / 2`` on ``LineQubit(node)``."""
    q = {v: cirq.LineQubit(v) for v in graph.nodes}
    return sum((0.5 - 0.5 * cirq.Z(q[a]) * cirq.Z(q[b]) for a, b in graph.edges), cirq.PauliSum())


def maxcut_depth1_expectation(graph: nx.Graph, gamma: float = QAOA_GAMMA, beta: float = QAOA_BETA) -> float:
    """The exact ``<C>`` of depth-1 MaxCut QAOA on any graph, in closed form.

    Per edge ``(u, v)`` with ``t`` common neighbours (Wang, Hadfield, Jiang, Rieffel,
    PRA 97, 022304 (2018), eq. 12, for ``exp(-i gamma C)`` then ``exp(-i beta B)``).
    """
    total = 0.0
    c = math.cos(gamma)
    for u, v in graph.edges:
        du, dv = graph.degree(u) - 1, graph.degree(v) - 1
        t = len(set(graph[u]) & set(graph[v]))
        total += (0.5 + 0.25 * math.sin(4 * beta) * math.sin(gamma) * (c**du + c**dv)
                  - 0.25 * math.sin(2 * beta) ** 2 * c ** (du + dv - 2 * t) * (1 - math.cos(2 * gamma) ** t))
    return total


def qaoa(n: int, p: int, seed: int = 0) -> cirq.Circuit:
    """MaxCut QAOA with ``p`` layers on :func:`maxcut_graph` ``(n, seed)`` (see module doc).

    Raises:
        ValueError: ``n`` odd or below 4, ``p < 1``.
    """
    _check_positive(p, "qaoa: P")
    graph = maxcut_graph(n, seed)
    q = cirq.LineQubit.range(n)
    circuit = cirq.Circuit(cirq.H.on_each(q))
    for _ in range(p):
        # exp(-i gamma (1 - ZZ)/2) is exp(+i gamma ZZ / 2) up to a global phase, and
        # ZZ**t is exp(-i pi t ZZ / 2) up to a global phase: t = -gamma / pi.
        circuit.append(cirq.ZZ(q[a], q[b]) ** (-QAOA_GAMMA / math.pi) for a, b in graph.edges)
        circuit.append(cirq.rx(2 * QAOA_BETA).on_each(q))
    return circuit


_NAMED = re.compile(
    r"^(?:(?P<ghz>ghz):(?P<ghz_n>\d+)"
    r"|(?P<qft>qft):(?P<qft_n>\d+)"
    r"|(?P<grid>grid):(?P<rows>\d+)x(?P<cols>\d+):(?P<depth>\d+)(?::(?P<grid_seed>\d+))?"
    r"|(?P<qaoa>qaoa):(?P<qaoa_n>\d+):(?P<p>\d+)(?::(?P<qaoa_seed>\d+))?)$",
    re.IGNORECASE,
)


def is_name(spec: str) -> bool:
    """Whether ``spec`` looks like a circuit name (``ghz:``, ``qft:``, ``grid:``, ``qaoa:``)."""
    return spec.split(":", 1)[0].lower() in ("ghz", "qft", "grid", "qaoa") and ":" in spec


def from_name(spec: str) -> cirq.Circuit:
    """The circuit a name such as ``ghz:53`` or ``grid:4x4:8:1`` stands for.

    Raises:
        ValueError: ``spec`` matches none of :data:`FORMS` (the message lists them),
            or its numbers are out of range.
    """
    m = _NAMED.match(spec.strip())
    if m is None:
        raise ValueError(f"unknown circuit name {spec!r}; use one of: {', '.join(FORMS)}")
    g = m.groupdict()
    if g["ghz"]:
        return ghz(int(g["ghz_n"]))
    if g["qft"]:
        return qft(int(g["qft_n"]))
    if g["grid"]:
        return grid(int(g["rows"]), int(g["cols"]), int(g["depth"]), int(g["grid_seed"] or 0))
    return qaoa(int(g["qaoa_n"]), int(g["p"]), int(g["qaoa_seed"] or 0))


def _check_positive(value: int, what: str) -> None:
    if value < 1:
        raise ValueError(f"{what} must be >= 1, got {value}")
