"""The public entry points: amplitudes, state vectors, plans and compiled contractions.

Each builds its :class:`qtn.RunOptions` from the run keywords (``**options``, see
:class:`qtn.options.RunKeywords`), compiles the circuit, and calls the engine.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import cirq
import numpy as np


from .circuit_input import as_cirq_circuit
from .compiler import compile_circuit
from .contraction import (Contraction, amplitudes_of, bitstring_list, plan_of, state_vector_of,
                          structure_resolver)
from .options import RunKeywords, RunOptions, Unpack
from .planning import Plan

_NO_CHECKPOINT = {"checkpoint": "a plan contracts nothing, so there is nothing to resume"}


def amplitudes(
    circuit: cirq.AbstractCircuit,
    bitstrings: Sequence[Any],
    *,
    qubit_order: "cirq.QubitOrderOrList | None" = None,
    param_resolver: "cirq.ParamResolverOrSimilarType" = None,
    **options: Unpack[RunKeywords],
) -> np.ndarray:
    """Amplitudes ``<b|C|0...0>`` of a circuit, one per bitstring.

    Args:
        circuit: any Cirq circuit of qubits without measurements or noise.
        bitstrings: ints (big-endian over ``qubit_order``), ``'0101'`` strings, or 0/1 sequences.
        qubit_order: a ``cirq.QubitOrder`` or explicit list (default: sorted qubits).
        param_resolver: values for the circuit's symbols.
        **options: run options (``backend``, ``max_memory``, ``dtype``, ``optimize``,
            ``search_time``, ``progress``, ``executor``, ``checkpoint``, ``plan_cache``,
            ``plan_seed``): see :class:`qtn.RunOptions`.

    Returns:
        A complex array with one amplitude per bitstring.

    Raises:
        ValueError / TypeError: bad circuit, bitstring, qubit order or option (the
            message names it); a memory budget no slicing can meet.
    """
    circuit, qubit_order = as_cirq_circuit(circuit, qubit_order)  # Qiskit circuits, declared order
    opts = RunOptions.from_keywords(options, entry="qtn.amplitudes")
    bits = bitstring_list(bitstrings)
    return amplitudes_of(compile_circuit(circuit, qubit_order, param_resolver, opts.dtype), bits, opts)


def state_vector(
    circuit: cirq.AbstractCircuit,
    *,
    qubit_order: "cirq.QubitOrderOrList | None" = None,
    param_resolver: "cirq.ParamResolverOrSimilarType" = None,
    **options: Unpack[RunKeywords],
) -> np.ndarray:
    """The final state vector ``C|0...0>`` of a small circuit, big-endian over ``qubit_order``.

    Takes the arguments of :func:`amplitudes`. Refused beyond
    ``qtn.contraction.MAX_STATE_VECTOR_QUBITS`` qubits, or when the vector exceeds ``max_memory``.
    """
    circuit, qubit_order = as_cirq_circuit(circuit, qubit_order)  # Qiskit circuits, declared order
    opts = RunOptions.from_keywords(options, entry="qtn.state_vector")
    return state_vector_of(compile_circuit(circuit, qubit_order, param_resolver, opts.dtype), opts)


def compile(  # noqa: A001 - the name says what it is, as re.compile
    circuit: cirq.AbstractCircuit,
    *,
    qubit_order: "cirq.QubitOrderOrList | None" = None,
    **options: Unpack[RunKeywords],
) -> Contraction:
    """A reusable contraction of ``circuit``, planned now (as opt_einsum's ``contract_expression``).

    ``.amplitudes(bitstrings, param_resolver=...)`` and ``.state_vector(param_resolver=...)``
    contract with the plans it holds (``.plan`` for one amplitude), for any values of
    the circuit's symbols, without planning again.

    Args:
        circuit: a Cirq circuit of qubits without measurements or noise (symbols allowed).
        qubit_order: a ``cirq.QubitOrder`` or explicit list (default: sorted qubits).
        **options: run options, as for :func:`amplitudes`.
    """
    circuit, qubit_order = as_cirq_circuit(circuit, qubit_order)  # Qiskit circuits, declared order
    contraction = Contraction(circuit, qubit_order, RunOptions.from_keywords(options, entry="qtn.compile"))
    contraction.plan  # noqa: B018 - plan now, so later calls only contract
    return contraction


def plan(
    circuit: cirq.AbstractCircuit,
    *,
    open_qubits: Sequence[cirq.Qid] = (),
    qubit_order: "cirq.QubitOrderOrList | None" = None,
    param_resolver: "cirq.ParamResolverOrSimilarType" = None,
    board: str | None = None,
    on_chip: bool = False,
    **options: Unpack[RunKeywords],
) -> Plan:
    """The plan :func:`amplitudes` runs with the same arguments for one amplitude (or,
    with ``open_qubits``, for the batch of amplitudes over those qubits).

    Args:
        open_qubits: qubits left open.
        board: plan for an FPGA board (``qtn.fpga.boards.available_boards()``): unless
            ``max_memory`` is given, intermediates are bounded by the board's off-chip
            memory, and the plan carries its modelled board time (``plan.board_time``).
        on_chip: with ``board``, bound every intermediate by the board's on-chip
            budget instead (``qtn.fpga.boards.on_chip_budget_bytes``), slicing as needed.
        **options: run options as for :func:`amplitudes` (``executor`` included: one
            slice's peak memory must fit a worker's share), except ``checkpoint``.

    Symbols need not be resolved: those left open get generic (seeded) values for
    planning, so the plan is the one a run at almost any value uses (see
    :func:`qtn.contraction.structure_resolver`).

    Returns:
        The :class:`Plan`, with ``flops``, ``width``, ``n_slices``, ``peak_bytes``, ... and ``report()``.
    """
    if on_chip and board is None:
        raise ValueError("on_chip=True needs a board, e.g. board='u280'")
    if board is not None and options.get("max_memory") is None:
        options = {**options, "max_memory": _board_memory(board, on_chip, options.get("dtype", np.complex64))}
    circuit, qubit_order = as_cirq_circuit(circuit, qubit_order)  # Qiskit circuits, declared order
    opts = RunOptions.from_keywords(options, entry="qtn.plan", refuse=_NO_CHECKPOINT)
    cc = compile_circuit(circuit, qubit_order, structure_resolver(circuit, param_resolver), opts.dtype)
    position = {q: p for p, q in enumerate(cc.qubits)}
    unknown = [q for q in open_qubits if q not in position]
    if unknown:
        raise ValueError(f"open_qubits holds {unknown[0]}, which is not a qubit of the circuit")
    result = plan_of(cc, [position[q] for q in open_qubits], opts)
    return result if board is None else result.replace_board_time(_board_time(result, board, opts.dtype))


def _board_memory(board: str, on_chip: bool, dtype: Any) -> int:
    from .fpga import boards

    profile = boards.load_board(board)
    return boards.on_chip_budget_bytes(profile, dtype) if on_chip else profile.off_chip.size_bytes


def _board_time(p: Plan, board: str, dtype: np.dtype):
    """The modelled time of a plan on a board: every slice uploads its inputs and
    downloads its result over PCIe, and ships the operands it permutes to the host and back."""
    from .fpga.board_time import host_permute_bytes, modelled_time

    bytes_in = sum(math.prod(p.size_dict[i] for i in ix) for ix in p.inputs) * p.itemsize
    bytes_out = math.prod(p.size_dict[o] for o in p.output) * p.itemsize
    # the HLS kernel has no permute: every permuted operand goes to the host and back
    return modelled_time(p.gemms, p.n_slices, bytes_in, bytes_out, board, dtype,
                         host_permute_bytes=host_permute_bytes(p.steps, p.itemsize))
