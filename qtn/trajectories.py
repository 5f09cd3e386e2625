"""Quantum trajectories: one pure-state branch of a noisy or measured circuit.

``cirq.Simulator`` and qsimcirq simulate a channel on a state vector by drawing one of
its Kraus operators and measure by collapsing the state; ``simulate`` and
``compute_amplitudes`` of qtn do the same, so a noisy or measured circuit gives the
pure state of one trajectory (``run``, ``sample`` and expectation values stay exact:
density-matrix networks). Walking the operations in order:

* a unitary is kept;
* a unitary mixture (``depolarize``, ``bit_flip``, Pauli channels) has branch
  probabilities that do not depend on the state: its unitary is drawn with the
  simulator's seed and no contraction; a channel of one unitary Kraus operator
  (an identity "noise trigger" included) is that unitary;
* a general channel (``amplitude_damp``, ``reset``) draws ``K_j`` with probability
  ``tr(K_j rho_S K_j^dagger)``, ``rho_S`` the reduced density matrix of its qubits at
  that point; a measurement draws its outcome from the diagonal of ``rho_S`` and
  applies the projector; both apply the drawn operator scaled to keep the state
  normalised (:class:`qtn.compiler.BranchGate`), and a measurement is recorded
  (confusion map, then ``invert_mask``, as ``cirq.SimulationState.measure``);
* a classically controlled op is applied when its conditions hold on the records.

``rho_S`` comes from the state vector where one is built anyway (``simulate``, and
``compute_amplitudes`` of up to ``VECTOR_QUBITS`` qubits: :class:`VectorState`
contracts each stretch of gates onto the vector it holds) or, past that, from a
doubled network of the lightcone of ``S`` (:class:`LightconeState`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import cirq
import numpy as np

from .compiler import BranchGate, ProgramCompiler, compile_ops
from .contraction import state_vector_of
from .density import Ends, doubled_network
from .engine import contract_components, contract_value
from .initial_state import InitialState
from .lightcone import lightcone
from .options import RunOptions


#: Trajectories of circuits up to this many qubits (whose state vector fits
#: ``max_memory``) keep a state vector for their branch probabilities; larger ones
#: contract lightcone networks. Measured (shared 2-core Xeon, amplitude damping after
#: every moment of a depth-9 brickwork): the vector is 4-6x faster at 8-16 qubits,
#: the lightcones 2.3x faster at 20.
VECTOR_QUBITS = 18


def tracker_for(qubits: Sequence[cirq.Qid], initial: InitialState | None, opts: RunOptions
                ) -> "VectorState | LightconeState":
    """A :class:`VectorState` for small circuits, else a :class:`LightconeState`."""
    n = len(qubits)
    if n <= VECTOR_QUBITS and 2**n * opts.dtype.itemsize <= opts.max_memory:
        return VectorState(qubits, initial, opts)
    return LightconeState(qubits, initial, opts)


def needs_trajectory(circuit: cirq.AbstractCircuit) -> bool:
    """Whether a resolved circuit has channels, measurements or classical control (so
    its final state is one trajectory rather than ``C|initial>``)."""
    for op in circuit.all_operations():
        if cirq.is_measurement(op) or op.classical_controls or not cirq.has_unitary(op):
            return True
    return False


class LightconeState:
    """Reduced density matrices of the trajectory so far, each from a doubled network
    over the lightcone of the qubits asked about (any number of qubits)."""

    def __init__(self, qubits: Sequence[cirq.Qid], initial: InitialState | None, opts: RunOptions) -> None:
        self.qubits, self.initial, self.opts = list(qubits), initial, opts
        # the trajectory's ops compiled so far: each step compiles only the ops added since
        self.program = ProgramCompiler(self.qubits, opts.dtype, channels=False)
        self.done = 0

    def reduced(self, ops: Sequence[cirq.Operation], support: Sequence[cirq.Qid], diagonal: bool) -> np.ndarray:
        """``rho_S`` (or its diagonal) of the state after ``ops``, big-endian over ``support``;
        ``ops[:self.done]`` are those given before."""
        self.program.extend(ops[self.done:])
        self.done = max(self.done, len(ops))
        cc = self.program.compiled()
        pos = [cc.position[q] for q in support]
        ends = Ends(diagonal=pos) if diagonal else Ends(matrix=pos)
        net = doubled_network(cc, lightcone(cc, pos, pos if diagonal else ()), ends, self.initial)
        rho = contract_components(net, contract_value(self.opts), self.opts.dtype).astype(np.complex128)
        return rho.reshape(-1) if diagonal else rho.reshape(2 ** len(pos), 2 ** len(pos))


class VectorState:
    """Reduced density matrices from the trajectory's state vector, which it keeps:
    each call contracts only the ops added since the last onto the vector held."""

    def __init__(self, qubits: Sequence[cirq.Qid], initial: InitialState | None, opts: RunOptions) -> None:
        self.qubits, self.opts = list(qubits), opts
        self.start = initial
        self.done = 0  # how many ops of the trajectory the vector holds
        self.vector: np.ndarray | None = None

    def state(self, ops: Sequence[cirq.Operation]) -> np.ndarray:
        """The (normalised) state vector after ``ops``; ``ops[:self.done]`` are those applied before."""
        if self.vector is None or self.done < len(ops):
            start = self.start if self.vector is None else InitialState(
                ((tuple(range(len(self.qubits))), self.vector.reshape((2,) * len(self.qubits))),))
            cc = compile_ops(ops[self.done:], self.qubits, self.opts.dtype, channels=False)
            vector = state_vector_of(cc, self.opts, start)
            self.vector = vector / np.linalg.norm(vector)
            self.done = len(ops)
        return self.vector

    def reduced(self, ops: Sequence[cirq.Operation], support: Sequence[cirq.Qid], diagonal: bool) -> np.ndarray:
        n = len(self.qubits)
        axes = [self.qubits.index(q) for q in support]
        psi = np.moveaxis(self.state(ops).reshape((2,) * n), axes, range(len(axes))).reshape(2 ** len(axes), -1)
        psi = psi.astype(np.complex128)
        return np.einsum("ak,ak->a", psi, psi.conj()) if diagonal else psi @ psi.conj().T


@dataclass
class Trajectory:
    """One drawn trajectory: its operations (unitaries and drawn branches, all pure)
    and the measurement records it made."""

    ops: list[cirq.Operation] = field(default_factory=list)
    records: cirq.ClassicalDataDictionaryStore = field(default_factory=cirq.ClassicalDataDictionaryStore)

    def measurements(self) -> dict[str, np.ndarray]:
        """Cirq's ``result.measurements``: each key's last record, as uint8."""
        return {str(k): np.array(self.records.get_digits(k), dtype=np.uint8) for k in self.records.keys()}


def draw_trajectory(circuit: cirq.AbstractCircuit, tracker: "LightconeState | VectorState",
                    prng: np.random.RandomState) -> Trajectory:
    """Walk a resolved circuit and draw one trajectory (see the module docstring).

    Raises:
        ValueError: a measured qudit, a repeated key on another number of qubits
            (Cirq's message), an op with neither a unitary, a channel nor a decomposition.
    """
    out = Trajectory()
    for op in _atomic_ops(circuit):
        if op.classical_controls:
            if not all(c.resolve(out.records) for c in op.classical_controls):
                continue
            op = op.without_classical_controls()
            for inner in _atomic_ops(cirq.Circuit(op)):
                _step(inner, out, tracker, prng)
            continue
        _step(op, out, tracker, prng)
    return out


def _atomic_ops(circuit: cirq.AbstractCircuit) -> list[cirq.Operation]:
    """The ops of a circuit with sub-circuits unrolled and anything that is neither a
    unitary, a channel, a measurement nor classically controlled decomposed."""
    def keep(op: cirq.Operation) -> bool:
        if op.classical_controls or isinstance(op.gate, cirq.MeasurementGate):
            return True
        if cirq.is_measurement(op):  # e.g. a PauliMeasurementGate: a basis change around a MeasurementGate
            return cirq.decompose_once(op, None) is None and cirq.has_kraus(op)
        return cirq.has_unitary(op) or cirq.has_kraus(op)

    unrolled = cirq.unroll_circuit_op(cirq.Circuit(circuit), deep=True, tags_to_check=None)
    return list(cirq.decompose(list(unrolled.all_operations()), keep=keep, on_stuck_raise=None))


def _step(op: cirq.Operation, out: Trajectory, tracker: "LightconeState | VectorState",
          prng: np.random.RandomState) -> None:
    if isinstance(op.gate, cirq.MeasurementGate):
        _measure(op, out, tracker, prng)
        return
    if cirq.has_unitary(op) and not cirq.is_measurement(op):
        out.ops.append(op)
        return
    if any(q.dimension != 2 for q in op.qubits):
        raise ValueError(f"operation {op} acts on a qudit; qtn simulates qubits only")
    if cirq.has_mixture(op) and not cirq.is_measurement(op):
        probs, unitaries = zip(*cirq.mixture(op))
        k = 0 if len(unitaries) == 1 else int(prng.choice(len(unitaries), p=_probabilities(probs)))
        out.ops.append(cirq.MatrixGate(np.asarray(unitaries[k])).on(*op.qubits))
        return
    dim = 2 ** len(op.qubits)  # (a gate may give its Kraus operators flattened, as qsimcirq's tests do)
    kraus = [np.asarray(k, dtype=np.complex128).reshape(dim, dim) for k in cirq.kraus(op)]
    if len(kraus) == 1 and cirq.is_unitary(kraus[0]) and not cirq.is_measurement(op):
        out.ops.append(cirq.MatrixGate(kraus[0]).on(*op.qubits))
        return
    rho = tracker.reduced(out.ops, op.qubits, diagonal=False)
    probs = _probabilities([np.real(np.trace(k @ rho @ k.conj().T)) for k in kraus])
    j = int(prng.choice(len(kraus), p=probs))
    out.ops.append(BranchGate(kraus[j] / np.sqrt(probs[j])).on(*op.qubits))
    if cirq.is_measurement(op):  # a channel with a key records which operator acted, as Cirq does
        out.records.record_channel_measurement(cirq.measurement_key_obj(op), j)


def _measure(op: cirq.Operation, out: Trajectory, tracker: "LightconeState | VectorState",
             prng: np.random.RandomState) -> None:
    gate = op.gate
    if any(q.dimension != 2 for q in op.qubits):
        raise ValueError(f"measurement {op} reads a qudit; qtn measures qubits only")
    k = len(op.qubits)
    probs = _probabilities(tracker.reduced(out.ops, op.qubits, diagonal=True).real)
    x = int(prng.choice(2**k, p=probs))
    projector = np.zeros((2**k, 2**k))
    projector[x, x] = 1 / np.sqrt(probs[x])
    out.ops.append(BranchGate(projector).on(*op.qubits))
    bits = [(x >> (k - 1 - i)) & 1 for i in range(k)]
    for where, matrix in gate.confusion_map.items():  # as cirq.SimulationState._confuse_result
        row = int("".join(str(bits[i]) for i in where), 2)
        new = int(prng.choice(len(matrix), p=np.asarray(matrix)[row]))
        for m, i in enumerate(where):
            bits[i] = (new >> (len(where) - 1 - m)) & 1
    bits = [b ^ int(inv) for b, inv in zip(bits, gate.full_invert_mask())]
    out.records.record_measurement(cirq.measurement_key_obj(op), bits, op.qubits)


def _probabilities(weights: Any) -> np.ndarray:
    p = np.maximum(np.asarray(weights, dtype=np.float64), 0.0)
    total = p.sum()
    if not np.isfinite(total) or total <= 0:
        raise ValueError("the branch probabilities of a trajectory step vanished; retry with dtype=np.complex128")
    return p / total
