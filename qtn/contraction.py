"""Amplitudes and state vectors of compiled circuits, and the reusable :class:`Contraction`.

:class:`Contraction` is what ``qtn.compile`` returns (as opt_einsum's
``contract_expression``): a circuit with its qubit order, run options and plans, whose
:meth:`~Contraction.amplitudes` and :meth:`~Contraction.state_vector` contract for
any parameter values without planning again. Its plans live in its own
:class:`qtn.PlanCache`, in front of the options' cache, so a sweep needs no global.
"""

from __future__ import annotations

import numbers
from typing import Any, Sequence

import cirq
import numpy as np

from .circuits import resolve_circuit, resolve_qubit_order
from .compiler import CompiledCircuit, compile_circuit
from .engine import choose, peak_limit, plan_and_contract
from .initial_state import InitialState
from .ket import open_network
from .options import RunOptions
from .plan_cache import PlanCache
from .planning import Plan

#: Largest circuit ``state_vector`` accepts (2**32 complex64 amplitudes = 32 GiB);
#: the memory budget usually stops a state vector earlier. Use ``amplitudes`` beyond.
MAX_STATE_VECTOR_QUBITS = 32
#: A batch of bitstrings is contracted once with its differing qubits left open when
#: at most this many qubits differ (and the open tensor is not much larger than the batch).
MAX_BATCH_OPEN_QUBITS = 16


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


def bitstring_list(bitstrings: Any) -> list[Any]:
    """``bitstrings`` as a list, refusing a single bitstring given where a sequence is due."""
    if isinstance(bitstrings, (str, numbers.Integral)):
        raise TypeError("bitstrings must be a sequence of bitstrings, e.g. [0, 5] or ['0101']")
    return list(bitstrings)


def batch_positions(bits: Sequence[tuple[int, ...]]) -> list[int] | None:
    """The positions :func:`amplitudes_of` leaves open to contract a batch of bitstrings
    (parsed) in one network, or None where it contracts one network per bitstring
    (what ``qtn plan``/``qtn amplitude`` ask for to report the plan that runs)."""
    if len(bits) < 2:
        return None
    varying = [p for p in range(len(bits[0])) if len({b[p] for b in bits}) > 1]
    if len(varying) <= MAX_BATCH_OPEN_QUBITS and 2 ** len(varying) <= 4 * len(bits):
        return varying
    return None


def amplitudes_of(cc: CompiledCircuit, bitstrings: Sequence[Any], opts: RunOptions) -> np.ndarray:
    """Amplitudes ``<b|C|0...0>`` of a compiled circuit, batched where it pays."""
    n = len(cc.qubits)
    bits = [parse_bitstring(b, n) for b in bitstrings]
    out = np.empty(len(bits), dtype=opts.dtype)
    if not bits:
        return out
    varying = batch_positions(bits)
    if varying is not None:
        tensor, _ = plan_and_contract(lambda: open_network(cc, varying, bits[0]), opts, (cc, varying, bits[0], None))
        for j, b in enumerate(bits):
            out[j] = tensor[tuple(b[p] for p in varying)]
        return out
    for j, b in enumerate(bits):
        out[j] = plan_and_contract(lambda b=b: open_network(cc, (), b), opts, (cc, (), b, None))[0]
    return out


def state_vector_of(cc: CompiledCircuit, opts: RunOptions, initial: "InitialState | None" = None) -> np.ndarray:
    """The state vector ``C|initial>`` of a compiled circuit (big-endian).

    Raises:
        ValueError: more than ``MAX_STATE_VECTOR_QUBITS`` qubits, or a vector over ``max_memory``.
    """
    n = len(cc.qubits)
    if n > MAX_STATE_VECTOR_QUBITS:
        raise ValueError(
            f"a state vector of {n} qubits is too large (qtn builds them up to {MAX_STATE_VECTOR_QUBITS} "
            "qubits); use qtn.amplitudes for chosen bitstrings"
        )
    # the network is built only if a tensor network is planned (a Schrödinger run needs none)
    tensor, _ = plan_and_contract(lambda: open_network(cc, range(n), None, initial), opts,
                                  (cc, list(range(n)), None, initial))
    return tensor.reshape(2**n)


#: Seed of the generic symbol values plans are found with (the same in every process).
GENERIC_SEED = 20240611


def structure_resolver(circuit: cirq.AbstractCircuit, param_resolver: Any) -> Any:
    """``param_resolver`` with every symbol it leaves open set to a generic value.

    A plan depends only on the circuit's structure, but a special value changes it: at
    0, ``FSimGate(theta=t)`` is diagonal and ``X**t`` the identity, and the plan of
    that structure is not the one a run at another value uses. Values drawn from a
    seeded generator (uniform in (0.1, 0.9), the same every call) give the structure
    of almost every value, so the plan reported is the plan a run uses.
    """
    if not isinstance(circuit, cirq.AbstractCircuit) or not cirq.is_parameterized(circuit):
        return param_resolver
    given = cirq.ParamResolver(param_resolver)
    names = sorted(cirq.parameter_names(cirq.resolve_parameters(circuit, given)))
    if not names:
        return param_resolver
    values = np.random.default_rng(GENERIC_SEED).uniform(0.1, 0.9, size=len(names))
    return cirq.ParamResolver({**given.param_dict, **dict(zip(names, map(float, values)))})


def plan_of(cc: CompiledCircuit, open_positions: Sequence[int], opts: RunOptions) -> Plan:
    """The plan of the amplitude network of ``cc`` with ``open_positions`` left open (the
    Schrödinger order where it is cheaper, as the contraction would choose)."""
    return choose(open_network(cc, open_positions), opts, peak_limit(opts), (cc, list(open_positions), None, None))[1]


class Contraction:
    """A circuit ready to contract again and again: ``qtn.compile(circuit, ...)``.

    Args:
        circuit: a Cirq circuit of qubits without measurements or noise; it may hold
            symbols, resolved per call.
        qubit_order: a ``cirq.QubitOrder`` or explicit list (default: sorted qubits).
        options: the run options (``checkpoint`` is taken slot by slot, call after call).

    Attributes:
        circuit: the circuit.
        qubits: the qubits in result order.
        options: the run options, with this object's own plan cache in front of theirs.
    """

    def __init__(self, circuit: cirq.AbstractCircuit, qubit_order: Any, options: RunOptions) -> None:
        if not isinstance(circuit, cirq.AbstractCircuit):
            raise TypeError(f"expected a cirq.Circuit, got {type(circuit).__name__}")
        self.circuit = circuit
        self.qubits = resolve_qubit_order(circuit, qubit_order)
        # the object's own plans first (a sweep never evicts them), then the options' cache
        self.plans = PlanCache(parent=options.plan_cache)
        self.options = options.replace(plan_cache=self.plans)
        self._plan: Plan | None = None

    def __repr__(self) -> str:
        return f"<qtn.Contraction of {len(self.qubits)} qubits, {len(self.circuit)} moments>"

    @property
    def plan(self) -> Plan:
        """The plan of one amplitude (symbols at generic values, see :func:`structure_resolver`), found once."""
        if self._plan is None:
            cc = self._compiled(structure_resolver(self.circuit, None))
            self._plan = plan_of(cc, (), self.options)
        return self._plan

    def amplitudes(self, bitstrings: Sequence[Any], param_resolver: Any = None) -> np.ndarray:
        """Amplitudes ``<b|C|0...0>``, one per bitstring (as :func:`qtn.amplitudes`)."""
        bits = bitstring_list(bitstrings)
        return amplitudes_of(self._compiled(param_resolver), bits, self.options)

    def state_vector(self, param_resolver: Any = None) -> np.ndarray:
        """The final state vector ``C|0...0>``, big-endian over ``qubits`` (as :func:`qtn.state_vector`)."""
        return state_vector_of(self._compiled(param_resolver), self.options)

    def _compiled(self, param_resolver: Any) -> CompiledCircuit:
        return compile_circuit(resolve_circuit(self.circuit, param_resolver), self.qubits, None,
                               self.options.dtype)
