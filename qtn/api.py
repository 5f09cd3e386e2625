"""The public entry points: amplitudes, state vectors and plans of Cirq circuits."""

from __future__ import annotations

import dataclasses
import math
import numbers
import sys
from dataclasses import dataclass
from typing import Any, Sequence

import cirq
import numpy as np

from .backends.base import Backend, get_backend
from .circuits import CircuitTensors, circuit_tensors, open_network, resolve_circuit, resolve_qubit_order
from .checkpoint import Checkpoint, as_checkpoint
from .circuit_input import as_cirq_circuit
from .execute import contract
from .executors import check_executor, local_memory_limit, resolve
from .network import Network
from .planning import MemoryLimit, Plan, plan_network

#: Largest circuit ``state_vector`` accepts (2**32 complex64 amplitudes = 32 GiB);
#: the memory budget usually stops a state vector earlier. Use ``amplitudes`` beyond.
MAX_STATE_VECTOR_QUBITS = 32
#: A batch of bitstrings is contracted once with its differing qubits left open when
#: at most this many qubits differ (and the open tensor is not much larger than the batch).
MAX_BATCH_OPEN_QUBITS = 16


@dataclass(frozen=True)
class RunOptions:
    """How to contract: device, memory bound, precision, path search, progress."""

    backend: Backend
    max_memory: int
    dtype: np.dtype
    optimize: Any = None
    search_time: float | None = None
    progress: bool = False
    executor: Any = None
    checkpoint: Any = None


def run_options(
    backend: "str | Backend | None" = None,
    max_memory: int | None = None,
    dtype: Any = np.complex64,
    optimize: Any = None,
    search_time: float | None = None,
    progress: bool | None = None,
    executor: Any = None,
    checkpoint: Any = None,
) -> RunOptions:
    """Validate the keyword arguments every entry point shares.

    ``executor`` is ``None`` (serial), a ``concurrent.futures.Executor``, a
    ``dask.distributed.Client`` or a scheduler address such as ``"tcp://host:8786"``
    (connected when the first contraction runs). ``checkpoint`` is a folder path; it
    becomes a :class:`qtn.checkpoint.Checkpoint` that numbers the run's contractions.

    Raises:
        TypeError: ``dtype`` is not complex64/complex128, ``max_memory`` not an int,
            ``executor`` or ``checkpoint`` of a type not listed above.
        ValueError: unknown backend, non-positive ``max_memory``, a string ``executor``
            that is not a scheduler address, a ``checkpoint`` that is a file or a
            non-empty folder qtn did not write.
    """
    be = get_backend(backend)
    try:
        dt = np.dtype(dtype)
    except TypeError as err:
        raise TypeError(f"dtype must be numpy.complex64 or numpy.complex128, not {dtype!r}") from err
    if dt not in (np.dtype(np.complex64), np.dtype(np.complex128)):
        raise TypeError(f"dtype must be numpy.complex64 or numpy.complex128, not {dt}")
    if max_memory is None:
        budget = be.memory_budget()
    else:
        if isinstance(max_memory, bool) or not isinstance(max_memory, numbers.Integral):
            raise TypeError(f"max_memory must be an int number of bytes, not {type(max_memory).__name__}")
        if max_memory <= 0:
            raise ValueError(f"max_memory must be a positive number of bytes, got {max_memory}")
        budget = int(max_memory)
    if search_time is not None and not (isinstance(search_time, numbers.Real) and search_time >= 0):
        raise ValueError(f"search_time must be a non-negative number of seconds, got {search_time!r}")
    if progress is None:
        progress = sys.stderr.isatty()
    check_executor(executor)
    return RunOptions(be, budget, dt, optimize, search_time, bool(progress), executor, as_checkpoint(checkpoint))


def parse_bitstring(bitstring: Any, n: int) -> tuple[int, ...]:
    """Bits (big-endian, first qubit first) of an int, a ``'0101'`` string or a 0/1 sequence.

    Raises:
        TypeError: not an int, str or sequence of ints (bools and floats are refused).
        ValueError: negative, ``>= 2**n``, wrong length, or an element other than 0/1.
    """
    if isinstance(bitstring, (bool, np.bool_)):
        raise TypeError(f"bitstring {bitstring!r} is a bool; give an int or a sequence of 0/1")
    if isinstance(bitstring, numbers.Integral):
        b = int(bitstring)
        if b < 0 or b >= 1 << n:
            raise ValueError(f"bitstring {b} is out of range for {n} qubits (0 <= b < 2**{n})")
        return tuple((b >> (n - 1 - p)) & 1 for p in range(n))
    if isinstance(bitstring, str):
        if len(bitstring) != n or set(bitstring) - {"0", "1"}:
            raise ValueError(f"bitstring {bitstring!r} must be {n} characters of 0/1")
        return tuple(int(c) for c in bitstring)
    if isinstance(bitstring, (Sequence, np.ndarray)):
        bits = list(bitstring)
        if len(bits) != n:
            raise ValueError(f"bitstring {bits} has length {len(bits)}, expected {n} (one bit per qubit)")
        for x in bits:
            if isinstance(x, (bool, np.bool_)) or not isinstance(x, numbers.Integral) or x not in (0, 1):
                raise ValueError(f"bitstring {bits} holds {x!r}; each element must be 0 or 1")
        return tuple(int(x) for x in bits)
    raise TypeError(f"bitstring must be an int, a '0101' string or a sequence of 0/1, not {type(bitstring).__name__}")


def prepare(
    circuit: cirq.AbstractCircuit, qubit_order: Any, param_resolver: Any, dtype: np.dtype
) -> CircuitTensors:
    """Resolve symbols, fix the qubit order, and turn every gate into a tensor."""
    resolved = resolve_circuit(circuit, param_resolver)
    qubits = resolve_qubit_order(resolved, qubit_order)
    return circuit_tensors(resolved, qubits, dtype)


def plan_and_contract(network: Network, opts: RunOptions) -> tuple[np.ndarray, Plan]:
    """Simplify, plan (cached by structure) and contract a network.

    Every intermediate fits ``max_memory``; besides, the peak memory of one slice must
    fit what a task may hold where it runs: here, the backend's ``memory_budget()`` or
    ``max_memory`` if that is larger, shared out over a local executor's workers; on
    Dask, a worker's ``memory_limit`` share per thread. A plan over it is sliced further
    before anything is allocated. A checkpointed contraction reuses its first plan.
    """
    net = network.simplified().canonical()
    runner = resolve(opts.executor)
    limit = _task_limit(opts, runner)
    slot = opts.checkpoint.next_slot() if isinstance(opts.checkpoint, Checkpoint) else opts.checkpoint
    plan = None if slot is None else slot.saved_plan(net, opts.max_memory, limit.bytes)
    if plan is None:
        plan = _plan(net, opts, limit)
    result = contract(net, plan, opts.backend, progress=opts.progress, executor=runner, checkpoint=slot,
                      memory_limit=limit)
    return result.astype(opts.dtype, copy=False), plan


def _plan(net: Network, opts: RunOptions, limit: MemoryLimit) -> Plan:
    """The (cached) plan of a simplified, canonical network under ``opts``."""
    return plan_network(net, memory_budget=opts.max_memory, optimize=opts.optimize,
                        search_time=opts.search_time, progress=opts.progress, peak_limit=limit)


def _task_limit(opts: RunOptions, runner: Any = None) -> MemoryLimit:
    """What one slice may hold at its peak where it runs (see :func:`plan_and_contract`)."""
    runner = resolve(opts.executor) if runner is None else runner
    return runner.task_memory_limit(local_memory_limit(opts.max_memory, opts.backend.memory_budget(), opts.backend.name))


def amplitudes_of(ct: CircuitTensors, bitstrings: Sequence[Any], opts: RunOptions) -> np.ndarray:
    """Amplitudes ``<b|C|0...0>`` of prepared circuit tensors, batched where it pays."""
    n = len(ct.qubits)
    bits = [parse_bitstring(b, n) for b in bitstrings]
    out = np.empty(len(bits), dtype=opts.dtype)
    if not bits:
        return out
    varying = [p for p in range(n) if len({b[p] for b in bits}) > 1]
    if len(bits) > 1 and len(varying) <= MAX_BATCH_OPEN_QUBITS and 2 ** len(varying) <= 4 * len(bits):
        tensor, _ = plan_and_contract(open_network(ct, varying, bits[0], opts.dtype), opts)
        for j, b in enumerate(bits):
            out[j] = tensor[tuple(b[p] for p in varying)]
        return out
    for j, b in enumerate(bits):
        out[j] = plan_and_contract(open_network(ct, (), b, opts.dtype), opts)[0]
    return out


def amplitudes(
    circuit: cirq.AbstractCircuit,
    bitstrings: Sequence[Any],
    *,
    qubit_order: "cirq.QubitOrderOrList | None" = None,
    param_resolver: "cirq.ParamResolverOrSimilarType" = None,
    backend: "str | Backend | None" = None,
    max_memory: int | None = None,
    dtype: Any = np.complex64,
    optimize: Any = None,
    search_time: float | None = None,
    progress: bool | None = None,
    executor: Any = None,
    checkpoint: Any = None,
) -> np.ndarray:
    """Amplitudes ``<b|C|0...0>`` of a circuit, one per bitstring.

    Args:
        circuit: any Cirq circuit of qubits without measurements or noise.
        bitstrings: ints (big-endian over ``qubit_order``), ``'0101'`` strings, or 0/1 sequences.
        qubit_order: a ``cirq.QubitOrder`` or explicit list (default: sorted qubits).
        param_resolver: values for the circuit's symbols.
        backend: ``"numpy"`` (default), ``"opencl"``, ``"opencl:<device>"``, ``"hls"``, or a Backend.
        max_memory: bytes any intermediate may take (default: the backend's budget);
            the contraction is sliced to meet it. Besides, one slice's peak memory must
            fit the device's budget (or ``max_memory`` if larger), shared over the
            executor's workers.
        dtype: ``np.complex64`` (default) or ``np.complex128``.
        optimize: path search: ``None`` (automatic), ``"greedy"``, ``"hyper"``, or a cotengra optimizer.
        search_time: most seconds a hyper path search may take (default 30).
        progress: progress bars on stderr (default: when stderr is a terminal).
        executor: where slices run: ``None`` (serial), a ``concurrent.futures``
            executor, a ``dask.distributed.Client`` or a scheduler address
            (``"tcp://host:8786"``). See README, "Running on a cluster".
        checkpoint: a folder where finished slices are saved, so a killed run
            started again with the same arguments resumes.

    Returns:
        A complex array with one amplitude per bitstring.

    Raises:
        ValueError / TypeError: bad circuit, bitstring, qubit order or option (the
            message names it); a memory budget no slicing can meet.
    """
    circuit, qubit_order = as_cirq_circuit(circuit, qubit_order)  # Qiskit circuits, declared order
    opts = run_options(backend, max_memory, dtype, optimize, search_time, progress, executor, checkpoint)
    if isinstance(bitstrings, (str, numbers.Integral)):
        raise TypeError("bitstrings must be a sequence of bitstrings, e.g. [0, 5] or ['0101']")
    ct = prepare(circuit, qubit_order, param_resolver, opts.dtype)
    return amplitudes_of(ct, list(bitstrings), opts)


def state_vector_of(ct: CircuitTensors, opts: RunOptions, initial: Sequence[int] | None = None) -> np.ndarray:
    """The state vector ``C|initial>`` of prepared circuit tensors (big-endian)."""
    n = len(ct.qubits)
    if n > MAX_STATE_VECTOR_QUBITS:
        raise ValueError(
            f"a state vector of {n} qubits is too large (qtn builds them up to {MAX_STATE_VECTOR_QUBITS} "
            "qubits); use qtn.amplitudes for chosen bitstrings"
        )
    tensor, _ = plan_and_contract(open_network(ct, range(n), None, opts.dtype, initial), opts)
    return tensor.reshape(2**n)


def state_vector(
    circuit: cirq.AbstractCircuit,
    *,
    qubit_order: "cirq.QubitOrderOrList | None" = None,
    param_resolver: "cirq.ParamResolverOrSimilarType" = None,
    backend: "str | Backend | None" = None,
    max_memory: int | None = None,
    dtype: Any = np.complex64,
    optimize: Any = None,
    search_time: float | None = None,
    progress: bool | None = None,
    executor: Any = None,
    checkpoint: Any = None,
) -> np.ndarray:
    """The final state vector ``C|0...0>`` of a small circuit, big-endian over ``qubit_order``.

    Takes the same keywords as :func:`amplitudes`. Refused beyond
    ``MAX_STATE_VECTOR_QUBITS`` qubits, or when the vector exceeds ``max_memory``.
    """
    circuit, qubit_order = as_cirq_circuit(circuit, qubit_order)  # Qiskit circuits, declared order
    opts = run_options(backend, max_memory, dtype, optimize, search_time, progress, executor, checkpoint)
    return state_vector_of(prepare(circuit, qubit_order, param_resolver, opts.dtype), opts)


def plan(
    circuit: cirq.AbstractCircuit,
    *,
    open_qubits: Sequence[cirq.Qid] = (),
    qubit_order: "cirq.QubitOrderOrList | None" = None,
    param_resolver: "cirq.ParamResolverOrSimilarType" = None,
    backend: "str | Backend | None" = None,
    max_memory: int | None = None,
    dtype: Any = np.complex64,
    optimize: Any = None,
    search_time: float | None = None,
    progress: bool | None = None,
    board: str | None = None,
    on_chip: bool = False,
    executor: Any = None,
) -> Plan:
    """The contraction plan of one amplitude (or, with ``open_qubits``, of the batch
    of amplitudes over those qubits). Takes the keywords of :func:`amplitudes`, and:

    Args:
        board: plan for an FPGA board (``qtn.fpga.boards.available_boards()``): unless
            ``max_memory`` is given, intermediates are bounded by the board's off-chip
            memory, and the plan carries its modelled board time (``plan.board_time``).
        on_chip: with ``board``, bound every intermediate by the board's on-chip
            budget instead (``qtn.fpga.boards.on_chip_budget_bytes``), slicing as needed.

    It is the plan :func:`amplitudes` runs with the same keywords (``executor``
    included: one slice's peak memory must fit a worker's share).

    Symbols need not be resolved: they are set to 0 for planning, since a plan
    depends only on the circuit's structure (a symbol that makes a gate the identity
    or diagonal at 0 may give a plan that differs from the one at another value).

    Returns:
        The :class:`Plan`, with ``flops``, ``width``, ``n_slices``, ``peak_bytes``, ... and ``report()``.
    """
    if on_chip and board is None:
        raise ValueError("on_chip=True needs a board, e.g. board='u280'")
    if board is not None and max_memory is None:
        from .fpga import boards

        profile = boards.load_board(board)
        max_memory = boards.on_chip_budget_bytes(profile, dtype) if on_chip else profile.off_chip.size_bytes
    circuit, qubit_order = as_cirq_circuit(circuit, qubit_order)  # Qiskit circuits, declared order
    opts = run_options(backend, max_memory, dtype, optimize, search_time, progress, executor)
    if param_resolver is None and isinstance(circuit, cirq.AbstractCircuit) and cirq.is_parameterized(circuit):
        param_resolver = {name: 0.0 for name in cirq.parameter_names(circuit)}
    ct = prepare(circuit, qubit_order, param_resolver, opts.dtype)
    position = {q: p for p, q in enumerate(ct.qubits)}
    unknown = [q for q in open_qubits if q not in position]
    if unknown:
        raise ValueError(f"open_qubits holds {unknown[0]}, which is not a qubit of the circuit")
    net = open_network(ct, [position[q] for q in open_qubits], None, opts.dtype).simplified().canonical()
    result = _plan(net, opts, _task_limit(opts))
    if board is not None:
        result = dataclasses.replace(result, board_time=_board_time(result, board, opts.dtype))
    return result


def _board_time(p: Plan, board: str, dtype: np.dtype):
    """The modelled time of a plan on a board: every slice uploads its inputs and
    downloads its result over PCIe."""
    from .fpga.board_time import modelled_time

    bytes_in = sum(math.prod(p.size_dict[i] for i in ix) for ix in p.inputs) * p.itemsize
    bytes_out = math.prod(p.size_dict[o] for o in p.output) * p.itemsize
    return modelled_time(p.gemms, p.n_slices, bytes_in, bytes_out, board, dtype)
