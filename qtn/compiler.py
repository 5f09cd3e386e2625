"""The circuit compiler: Cirq operations to per-operation tensors, once per circuit.

Every operation becomes tensors through ``cirq.unitary`` (decomposing where an op has
no unitary of its own) or, for noise, ``cirq.kraus`` (a superoperator). A diagonal
gate (CZ, Rz, CPhase, ...) keeps only its diagonal, so in a network it adds no new
wire (its labels become hyperedges). The :class:`CompiledCircuit` feeds every network
builder: single-layer (:mod:`qtn.ket`), doubled and density-matrix
(:mod:`qtn.density`), and the lightcone (:mod:`qtn.lightcone`).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import cirq
import numpy as np

from .circuits import resolve_circuit, resolve_qubit_order

UNITARY, DIAGONAL, CHANNEL, DIAGONAL_CHANNEL = range(4)
#: |0> and |1>, the ends of open wires closed on a bit.
BASIS = (np.array([1.0, 0.0]), np.array([0.0, 1.0]))


@dataclass(frozen=True)
class GateTensor:
    """One gate as a tensor: ``data`` on ``qubits`` (all outputs first, then all inputs),
    or only the diagonal (one axis per qubit) when ``diagonal``."""

    qubits: tuple[cirq.Qid, ...]
    data: np.ndarray
    diagonal: bool
    trace_preserving: bool = True


class BranchGate(cirq.Gate):
    """One Kraus operator of a channel (or a measurement's projector), as a quantum
    trajectory draws it: a linear map that need not be unitary, so it is compiled as
    a gate that does not preserve the trace (it never cancels in a lightcone).

    Args:
        matrix: the ``2**n x 2**n`` operator, scaled as the trajectory needs it.
    """

    def __init__(self, matrix: np.ndarray) -> None:
        self.matrix = np.asarray(matrix, dtype=np.complex128)
        self._n = int(self.matrix.shape[0]).bit_length() - 1

    def _num_qubits_(self) -> int:
        return self._n

    def _has_unitary_(self) -> bool:
        return False

    def _circuit_diagram_info_(self, args: Any) -> tuple[str, ...]:
        return ("K",) * self._n


@dataclass(frozen=True)
class ChannelTensor:
    """A noise channel as its superoperator ``sum_k K_k (x) conj(K_k)`` on ``qubits``.

    ``data`` has axes (ket outputs, bra outputs, ket inputs, bra inputs), one per qubit
    each; when every Kraus operator is diagonal only the diagonal is kept, with axes
    (ket, bra). ``trace_preserving`` says whether ``sum_k K_k^dagger K_k = 1``, which
    lets a channel outside a lightcone be dropped.
    """

    qubits: tuple[cirq.Qid, ...]
    data: np.ndarray
    diagonal: bool
    trace_preserving: bool


def channel_tensor(qubits: Sequence[cirq.Qid], kraus: Sequence[np.ndarray]) -> ChannelTensor:
    """The :class:`ChannelTensor` of Kraus operators acting on ``qubits``."""
    n = len(qubits)
    ks = np.asarray(kraus, dtype=np.complex128).reshape(-1, 2**n, 2**n)
    tp = np.allclose(np.einsum("kab,kac->bc", ks.conj(), ks), np.eye(2**n), atol=1e-8)
    diagonals = np.einsum("kaa->ka", ks)
    if all(np.array_equal(k, np.diag(d)) for k, d in zip(ks, diagonals)):
        data = np.einsum("ka,kb->ab", diagonals, diagonals.conj()).reshape((2,) * (2 * n))
        return ChannelTensor(tuple(qubits), data, True, tp)
    data = np.einsum("kab,kcd->acbd", ks, ks.conj()).reshape((2,) * (4 * n))
    return ChannelTensor(tuple(qubits), data, False, tp)


#: Ops on more qubits than this are decomposed where they can be, not built dense.
DENSE_QUBITS = 6
#: The largest dense gate matrix built (bytes, complex128): 4**13 entries.
MAX_GATE_BYTES = 1 << 30


#: A wide op's own matrix is used when it takes at most this many bytes (11 qubits).
DIRECT_DENSE_BYTES = 1 << 26


def _controlled_as_diagonal(op: "cirq.ControlledOperation") -> "list[GateTensor] | None":
    """A wide controlled op with a small target as ``Q^dagger``, a diagonal on all its
    qubits, ``Q`` (``U = Q D Q^dagger``, Schur form of the target's unitary): 2**n
    numbers instead of 4**n, and no cascade of Toffolis. None when the target is wide."""
    import itertools

    import scipy.linalg

    sub = op.sub_operation
    if len(sub.qubits) > DENSE_QUBITS or not cirq.has_unitary(sub):
        return None
    u = cirq.unitary(sub)
    t, q = scipy.linalg.schur(u, output="complex")  # a unitary is normal: t is diagonal
    k = len(sub.qubits)
    active = set(op.control_values.expand())
    controls = op.controls
    full = np.ones((2 ** len(controls), 2**k), dtype=np.complex128)
    for row, bits in enumerate(itertools.product(*(range(c.dimension) for c in controls))):
        if tuple(bits) in active:
            full[row] = np.diag(t)
    shape = (2,) * k
    diag = GateTensor(tuple(controls) + tuple(sub.qubits), full.reshape((2,) * (len(controls) + k)), True)
    if np.allclose(q, np.eye(2**k)):
        return [diag]
    return [GateTensor(tuple(sub.qubits), q.conj().T.reshape(shape + shape), False), diag,
            GateTensor(tuple(sub.qubits), q.reshape(shape + shape), False)]


def _own_unitary(op: cirq.Operation) -> "np.ndarray | None":
    """The op's matrix from its own ``_unitary_`` (not through its decomposition), or None."""
    method = getattr(op, "_unitary_", None)
    if method is None:
        return None
    try:
        u = method()
    except (TypeError, ValueError, NotImplementedError):
        return None
    return None if u is NotImplemented or u is None else np.asarray(u)


def op_tensors(
    op: cirq.Operation, depth: int = 0, allow_channels: bool = False
) -> "list[GateTensor | ChannelTensor]":
    """The tensors of one operation: its unitary (diagonal where it is), its channel's
    superoperator (with ``allow_channels``), or those of its decomposition.

    Raises:
        ValueError: a measurement, a qudit, a channel without ``allow_channels``, or
            an op with neither a unitary, a channel nor a decomposition.
    """
    if depth > 50:
        raise ValueError(f"operation {op} decomposes without end")
    shape = cirq.qid_shape(op)
    if any(d != 2 for d in shape):
        raise ValueError(f"operation {op} acts on a {max(shape)}-level qudit; qtn simulates qubits only")
    if cirq.is_measurement(op):
        raise ValueError(
            f"operation {op} is a measurement; amplitudes and state vectors need a unitary circuit "
            "(remove it, e.g. with cirq.drop_terminal_measurements, or sample instead)"
        )
    if isinstance(op.gate, BranchGate):
        m = op.gate.matrix
        d = np.diagonal(m)
        if np.array_equal(m, np.diag(d)):
            return [GateTensor(tuple(op.qubits), d.reshape((2,) * len(op.qubits)), True, False)]
        return [GateTensor(tuple(op.qubits), m.reshape((2,) * (2 * len(op.qubits))), False, False)]
    n = len(op.qubits)
    u = None
    if n > DENSE_QUBITS and isinstance(op.untagged, cirq.ControlledOperation):
        split = _controlled_as_diagonal(op.untagged)
        if split is not None:
            return split
    if n > DENSE_QUBITS:
        # a wide op is one dense tensor only where it has a matrix of its own (e.g. a
        # controlled gate, often diagonal) of modest size; otherwise its parts are cheaper
        # (fusion joins neighbours again), and its dense matrix (4**n entries) may not fit
        if 16 * 4**n <= DIRECT_DENSE_BYTES:
            u = _own_unitary(op)
        if u is None:
            parts = cirq.decompose_once(op, default=None)
            if parts is not None:
                return [t for part in parts for t in op_tensors(part, depth + 1, allow_channels)]
            need = 16 * 4**n  # cirq builds unitaries in complex128
            if need > MAX_GATE_BYTES:
                raise ValueError(
                    f"operation {op} acts on {n} qubits and has no decomposition; its dense matrix would take "
                    f"{need} bytes, over the {MAX_GATE_BYTES} bytes qtn builds for one gate "
                    "(qtn.compiler.MAX_GATE_BYTES); give it a _decompose_ into smaller gates")
    if u is None:
        u = cirq.unitary(op, None)
    if u is not None:
        if n == 0:
            return [GateTensor((), u.reshape(()), True)]
        d = np.diagonal(u)
        if np.array_equal(u, np.diag(d)):
            if np.array_equal(d, np.ones_like(d)):
                return []  # the identity: nothing to contract
            return [GateTensor(tuple(op.qubits), d.reshape((2,) * n), True)]
        return [GateTensor(tuple(op.qubits), u.reshape((2,) * (2 * n)), False)]
    if cirq.has_kraus(op) or cirq.has_mixture(op):
        if not allow_channels:
            raise ValueError(
                f"operation {op} is a noise channel, not a unitary; amplitudes of noisy circuits are not defined"
            )
        kraus = cirq.kraus(op, None)
        if kraus is not None:
            return [channel_tensor(op.qubits, kraus)]
    parts = cirq.decompose_once(op, default=None)
    if parts is None:
        raise ValueError(f"operation {op} has no unitary and no decomposition qtn can use")
    return [t for part in parts for t in op_tensors(part, depth + 1, allow_channels)]


class _SameObject:
    """A key equal only to a key of the same gate object: for matrices too big to hash cheaply."""

    __slots__ = ("gate",)

    def __init__(self, gate: cirq.Gate) -> None:
        self.gate = gate

    def __hash__(self) -> int:
        return id(self.gate)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _SameObject) and other.gate is self.gate


#: Matrices with more elements than this are keyed by object, not by value: a digest
#: reads the whole matrix (0.1 s for 2^22 complex128 elements), as long as building the
#: tensor again would take.
DIGEST_ELEMENTS = 2**14


#: Cirq's power gates whose state is their exponent and global shift (plus Rx/Ry/Rz's
#: angle and a qudit dimension): keyed by those values (see :func:`_gate_identity`).
_POWER_GATES = frozenset({cirq.XPowGate, cirq.YPowGate, cirq.ZPowGate, cirq.HPowGate, cirq.CZPowGate,
                          cirq.CXPowGate, cirq.SwapPowGate, cirq.ISwapPowGate, cirq.CCZPowGate, cirq.CCXPowGate,
                          cirq.Rx, cirq.Ry, cirq.Rz})
_NUMBERS = (int, float, np.float64)


def _gate_identity(gate: cirq.Gate) -> Any:
    """What an op's gate is keyed by: for Cirq's common power gates their exact
    parameters, for a ``cirq.MatrixGate`` a digest of its matrix (Cirq hashes a
    MatrixGate element by element in Python: seconds for a 12-qubit matrix) or, for a
    big one, the object itself (the same gate object repeated is still built once);
    else the gate."""
    if type(gate) in _POWER_GATES:
        e, shift = gate._exponent, gate._global_shift
        if type(e) in _NUMBERS and type(shift) in _NUMBERS:
            # its exact parameters: Cirq's equality compares PeriodicValues in Python, 13 us
            # a lookup (every op of a parsed circuit has a gate object of its own); an
            # exact key only misses where Cirq's equal gates differ in their exponent's period
            return ("power", type(gate), e, shift, getattr(gate, "_rads", None), getattr(gate, "_dimension", None))
    if type(gate) is cirq.MatrixGate:
        m = gate._matrix  # cirq.unitary(gate) would copy it
        if m.size > DIGEST_ELEMENTS:
            return _SameObject(gate)
        m = np.ascontiguousarray(m)
        return ("matrix", m.shape, m.dtype.str, tuple(gate._qid_shape_()),
                hashlib.blake2b(m.view(np.uint8), digest_size=16).digest())
    return gate


def gate_key(op: cirq.Operation) -> Any:
    """A key under which an op's tensors can be cached and reused for equal gates on
    other qubits, or None where the op has no hashable gate."""
    if type(op) is cirq.ControlledOperation:
        # its ``gate`` builds a new ControlledGate on every access: key by the parts instead
        sub = op.sub_operation
        if sub.gate is None:
            return None
        key: Any = ("controlled", _gate_identity(sub.gate), len(sub.qubits), op.control_values, len(op.qubits))
    elif op.gate is None:
        return None
    else:
        key = (_gate_identity(op.gate), len(op.qubits))
    try:
        hash(key)
    except TypeError:
        return None
    return key


@dataclass(frozen=True)
class Piece:
    """One tensor of an operation on qubit ``positions``.

    ``kind`` is unitary (axes: outputs, inputs), diagonal (one axis per qubit),
    channel (ket out, bra out, ket in, bra in) or diagonal channel (ket, bra);
    ``conj`` is the bra's copy of a unitary or diagonal tensor.
    """

    positions: tuple[int, ...]
    kind: int
    data: np.ndarray
    conj: np.ndarray | None
    #: where the piece only permutes its qubits' wires (a SWAP): output wire ``i`` carries
    #: input wire ``wires[i]``, and network builders relabel the wires instead of adding a
    #: tensor (labels fixed at the end then reach the gates before it; see :func:`wire_walk`)
    wires: tuple[int, ...] | None = None


@dataclass(frozen=True)
class CompiledOp:
    """One circuit operation as tensors, with what lightcones need to know of it."""

    positions: tuple[int, ...]
    pieces: tuple[Piece, ...]
    trace_preserving: bool
    diagonal: bool  # every piece diagonal in the computational basis (and trace preserving)


@dataclass(frozen=True)
class CompiledCircuit:
    """A resolved circuit as per-operation tensors, ready for lightcone networks.

    Attributes:
        qubits: the qubits in result order; positions index this tuple.
        ops: the operations that act (identities are left out), in circuit order.
        on_qubit: for each position, the indices of the ops acting on it, ascending.
        noisy: whether some op is a channel (then only doubled networks are valid).
        dtype: the complex dtype of every tensor.
        non_trace_preserving: indices of the ops that do not preserve the trace.
        phase: the product of the ops' global phases (it matters in single-layer
            networks of the whole circuit only; it cancels between ket and bra).
    """

    qubits: tuple[cirq.Qid, ...]
    ops: tuple[CompiledOp, ...]
    on_qubit: tuple[tuple[int, ...], ...]
    noisy: bool
    dtype: np.dtype
    non_trace_preserving: tuple[int, ...] = ()
    phase: complex = 1.0

    @property
    def position(self) -> dict[cirq.Qid, int]:
        return {q: p for p, q in enumerate(self.qubits)}


def compile_ops(ops: Iterable[cirq.Operation], qubits: Sequence[cirq.Qid], dtype: Any = np.complex64,
                channels: bool = True) -> CompiledCircuit:
    """Turn resolved operations (no measurements) into tensors, once per circuit.

    The one gate cache: equal gates (``gate_key``) on other qubits reuse the tensors.

    Args:
        ops: operations in circuit order, symbols resolved, measurements removed.
        qubits: result order; every op's qubits must be among them.
        dtype: complex dtype of the tensors.
        channels: accept noise channels (density-matrix networks); when False a
            channel is refused (amplitudes and state vectors of noisy circuits do not exist).

    Raises:
        ValueError: an op is a measurement, acts on qudits, has neither a unitary, a
            channel nor a decomposition, or touches a qubit outside ``qubits``.
    """
    program = ProgramCompiler(qubits, dtype, channels)
    program.extend(ops)
    return program.compiled()


class ProgramCompiler:
    """:func:`compile_ops` one stretch of operations at a time: every op is compiled
    once, and :meth:`compiled` cuts the circuit of all ops so far from one growing list,
    so the prefixes of a circuit (moment by moment, or a trajectory's steps) share the
    work instead of compiling each prefix again.

    Args and errors: as :func:`compile_ops` (raised by :meth:`extend`).
    """

    def __init__(self, qubits: Sequence[cirq.Qid], dtype: Any = np.complex64, channels: bool = True) -> None:
        self.qubits = tuple(qubits)
        self.dtype = np.dtype(dtype)
        self.channels = channels
        self._position = {q: p for p, q in enumerate(self.qubits)}
        # gate -> (pieces with positions relative to op.qubits, trace preserving, phase)
        self._cache: dict[Any, tuple[tuple[Piece, ...], bool, complex]] = {}
        # id of a cached template -> positions -> (its pieces there, diagonal, noisy)
        self._placed: dict[int, dict[tuple[int, ...], tuple[tuple[Piece, ...], bool, bool]]] = {}
        self._ops: list[CompiledOp] = []
        self._on_qubit: list[list[int]] = [[] for _ in self.qubits]
        self._noisy = False
        self._non_tp: list[int] = []
        self._phase = 1.0 + 0j

    def __len__(self) -> int:
        """Compiled ops so far (identities are left out, so at most the ops given)."""
        return len(self._ops)

    def extend(self, ops: Iterable[cirq.Operation]) -> None:
        """Compile ``ops`` after those given before."""
        position, cache, placed = self._position, self._cache, self._placed
        for op in ops:
            key = gate_key(op)
            entry = cache.get(key) if key is not None else None
            if entry is None:
                entry = _template(op, self.dtype, self.channels)
                if key is not None:
                    cache[key] = entry
            template, tp, op_phase = entry
            self._phase *= op_phase
            if not template:
                continue  # an identity (or a global phase, which cancels between ket and bra)
            try:
                pos = tuple([position[q] for q in op.qubits])
            except KeyError:
                missing = [q for q in op.qubits if q not in position]
                raise ValueError(f"operation {op} acts on qubit {missing[0]}, which is not in the qubit order") \
                    from None
            # a long circuit repeats the same gates on the same qubits: their pieces are
            # placed once (by the cached template's id: the cache holds it while we live)
            on = placed.setdefault(id(template), {}) if key is not None else {}
            found = on.get(pos)
            if found is None:
                pieces = tuple(Piece(tuple(pos[r] for r in t.positions), t.kind, t.data, t.conj, t.wires)
                               for t in template)
                found = on[pos] = (pieces, tp and all(t.kind in (DIAGONAL, DIAGONAL_CHANNEL) for t in pieces),
                                   any(t.kind >= CHANNEL for t in pieces))
            pieces, diagonal, noisy = found
            index = len(self._ops)
            self._ops.append(CompiledOp(pos, pieces, tp, diagonal))
            for p in pos:
                self._on_qubit[p].append(index)
            self._noisy = self._noisy or noisy
            if not tp:
                self._non_tp.append(index)

    def compiled(self) -> CompiledCircuit:
        """The :class:`CompiledCircuit` of every op given so far."""
        return CompiledCircuit(self.qubits, tuple(self._ops), tuple(map(tuple, self._on_qubit)), self._noisy,
                               self.dtype, tuple(self._non_tp), self._phase)


def compile_circuit(circuit: cirq.AbstractCircuit, qubit_order: Any = None, param_resolver: Any = None,
                    dtype: Any = np.complex64) -> CompiledCircuit:
    """Resolve symbols, fix the qubit order and compile a unitary circuit (no channels,
    no measurements): what amplitudes and state vectors are contracted from.

    Raises:
        TypeError / ValueError: as :func:`qtn.circuits.resolve_circuit`,
            :func:`qtn.circuits.resolve_qubit_order` and :func:`compile_ops`.
    """
    key = _compile_key(circuit, qubit_order, param_resolver, dtype)
    if key is not None:
        with _compiled_lock:
            found = _compiled.get(key)
            if found is not None:
                _compiled.move_to_end(key)
                return found
    resolved = resolve_circuit(circuit, param_resolver)
    qubits = resolve_qubit_order(resolved, qubit_order)
    cc = compile_ops(resolved.all_operations(), qubits, dtype, channels=False)
    if key is not None and sum(p.data.nbytes for op in cc.ops for p in op.pieces) <= COMPILED_MAX_BYTES:
        with _compiled_lock:
            _compiled[key] = cc
            while len(_compiled) > COMPILED_ENTRIES:
                _compiled.popitem(last=False)
    return cc


#: Compiled circuits kept (by circuit, qubit order, parameters and dtype), each of at
#: most this many bytes of tensors: a repeated call on the same circuit skips Cirq's
#: unitaries, and the fused blocks and plan choices kept on the compiled circuit.
COMPILED_ENTRIES = 32
COMPILED_MAX_BYTES = 1 << 26
_compiled: "OrderedDict[tuple, CompiledCircuit]" = OrderedDict()
_compiled_lock = threading.Lock()


def clear_compiled() -> None:
    """Forget the compiled circuits kept by :func:`compile_circuit` (e.g. to time a first call)."""
    with _compiled_lock:
        _compiled.clear()


def _compile_key(circuit: Any, qubit_order: Any, param_resolver: Any, dtype: Any) -> "tuple | None":
    """The key of a compiled circuit, or None where it has none. The circuit by its frozen
    copy: ``cirq.Circuit.freeze`` keeps one until the circuit is changed, and a frozen
    circuit keeps its hash, so a lookup costs a microsecond."""
    if not isinstance(circuit, cirq.AbstractCircuit):
        return None
    if isinstance(qubit_order, (list, tuple)):
        order: Any = ("list", tuple(qubit_order))
    elif qubit_order is None or isinstance(qubit_order, cirq.QubitOrder):
        order = qubit_order
    else:
        return None
    params: Any = None
    if param_resolver is not None:
        if not cirq.is_parameterized(circuit):
            params = None  # nothing to resolve: the values cannot matter
        else:
            try:
                params = frozenset(cirq.ParamResolver(param_resolver).param_dict.items())
                hash(params)
            except TypeError:
                return None
    try:
        key = (circuit.freeze(), order, params, np.dtype(dtype).str)
        hash(key)
    except TypeError:
        return None
    return key


def _template(op: cirq.Operation, dtype: np.dtype, channels: bool) -> tuple[tuple[Piece, ...], bool, complex]:
    """The pieces of ``op`` with positions indexing ``op.qubits``, whether it preserves the
    trace, and its global phase."""
    rel = {q: r for r, q in enumerate(op.qubits)}
    pieces = []
    tp = True
    phase = 1.0 + 0j
    for t in op_tensors(op, allow_channels=channels):
        if not t.qubits:
            phase *= complex(t.data)  # a global phase: it cancels between ket and bra
            continue
        if any(q not in rel for q in t.qubits):
            raise ValueError(f"operation {op} decomposes onto qubits it does not act on; qtn cannot simulate that")
        r = tuple(rel[q] for q in t.qubits)
        data = np.ascontiguousarray(t.data, dtype=dtype)
        if isinstance(t, ChannelTensor):
            tp = tp and t.trace_preserving
            pieces.append(Piece(r, DIAGONAL_CHANNEL if t.diagonal else CHANNEL, data, None))
        else:
            tp = tp and t.trace_preserving
            wires = None if t.diagonal or not t.trace_preserving else wire_permutation(t.data)
            pieces.append(Piece(r, DIAGONAL if t.diagonal else UNITARY, data, data.conj(), wires))
    return tuple(pieces), tp, phase


#: Widest gate tested for being a permutation of its qubits (n! candidates).
PERMUTATION_QUBITS = 4


def wire_permutation(u: np.ndarray) -> tuple[int, ...] | None:
    """``sigma`` where the gate tensor ``u`` (axes: n outputs, n inputs) is exactly the
    permutation of its qubits that puts input qubit ``sigma[i]`` on output ``i`` (a SWAP:
    ``(1, 0)``); None for any other gate, the identity included (it has no tensor)."""
    import itertools

    n = u.ndim // 2
    if n < 2 or n > PERMUTATION_QUBITS or u.shape != (2,) * (2 * n):
        return None
    flat = u.reshape(2**n, 2**n)
    if np.count_nonzero(flat) != 2**n:  # a permutation matrix: one 1 per column
        return None
    inputs = list(itertools.product((0, 1), repeat=n))
    for sigma in itertools.permutations(range(n)):
        if sigma == tuple(range(n)):
            continue
        perm = np.zeros((2,) * (2 * n))
        for b in inputs:  # output bit i is input bit sigma[i]
            perm[tuple(b[s] for s in sigma) + b] = 1
        if np.array_equal(u, perm):
            return tuple(sigma)
    return None


def wire_walk(cc: CompiledCircuit, op_indices: Sequence[int], region: Sequence[int]
              ) -> tuple[list[tuple[Piece, tuple[int, ...], tuple[int, ...] | None]], dict[int, int]]:
    """Follow the ket wires through the ops ``op_indices``, as every network builder does.

    The qubit at ``region[k]`` starts on label ``k``; a diagonal piece (gate or
    channel) stays on its qubits' labels, a wire permutation (``Piece.wires``, a SWAP)
    only exchanges them (it has no tensor and no entry in the walk: the network is
    the same, without a tensor that couples two wires), any other moves them to fresh labels.

    Returns:
        Per piece, in order: the piece, its qubits' labels before it, and after it
        (None for a diagonal piece); and each position's last label.
    """
    ket = {p: label for label, p in enumerate(region)}
    nxt = len(region)
    walk: list[tuple[Piece, tuple[int, ...], tuple[int, ...] | None]] = []
    for i in op_indices:
        for t in cc.ops[i].pieces:
            old = tuple(ket[p] for p in t.positions)
            if t.wires is not None:
                ket.update(zip(t.positions, (old[w] for w in t.wires)))
                continue
            if t.kind in (DIAGONAL, DIAGONAL_CHANNEL):
                walk.append((t, old, None))
                continue
            new = tuple(range(nxt, nxt + len(old)))
            nxt += len(old)
            ket.update(zip(t.positions, new))
            walk.append((t, old, new))
    return walk, ket
