"""Exact sampling of measurement results by tensor-network contraction.

Three exact methods draw bitstrings of the measured qubits from ``|<x|psi>|^2`` (or
from the diagonal of the density matrix of a noisy circuit):

* ``"state_vector"``: contract the state of the measured qubits' lightcone once and
  sample from it (circuits up to ``STATE_VECTOR_QUBITS`` qubits in that lightcone).
* ``"marginal"``: qubit groups one after another, each from its probabilities
  conditioned on the groups drawn before, ``p(x_G | x_D)``. The group's marginal is
  a doubled network ``tr(Pi_D rho)`` with the group's legs open and everything
  outside the lightcone of ``D + G`` dropped; when few qubits are traced (and the
  circuit is pure) the single-layer network ``<x_D| psi>`` with the group and the
  traced qubits open is contracted instead and squared. Noisy circuits use this.
* ``"gate_by_gate"``: the algorithm of Bravyi, Gosset and Liu (PRL 128, 220503,
  2022) for pure circuits: gates are added a few qubits at a time and the drawn
  bitstring is updated on those qubits from ``2**k`` amplitudes of the partial
  circuit, so each step costs an amplitude, never a marginal with traced qubits.

Samples that agree on what a step conditions on share its contraction; when a
step's network is small, the distinct prefixes of many samples go through one
contraction together (one-hot selectors on a shared batch label). Every contraction
of a step has one structure, so its plan is found once (plan cache), and the plans
are reused by later calls, other sweep points and other samples.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any, Sequence

import cirq
import numpy as np

from .circuits import apply_noise, defer_to_terminal, resolve_circuit, resolve_qubit_order
from .circuit_input import as_cirq_circuit
from .compiler import CompiledCircuit, compile_ops
from .density import Ends, doubled_network
from .engine import contract_components, plan_and_contract
from .ket import ket_network
from .lightcone import lightcone
from .network import Network, components
from .options import RunKeywords, RunOptions, Unpack

#: The state-vector method is used while the measured qubits' lightcone has at most
#: this many qubits (2**20 complex64 amplitudes = 8 MiB) and fits ``max_memory``.
STATE_VECTOR_QUBITS = 20
#: Qubits drawn per contraction by the marginal method (``2**8`` probabilities).
MARGINAL_GROUP_SIZE = 8
#: Most qubits one gate-by-gate step redraws (``2**8`` amplitudes).
GATE_GROUP_SIZE = 8
#: A marginal is taken from the single-layer network (group and traced qubits open)
#: while those open legs number at most this; beyond, from the doubled network.
MAX_SINGLE_LAYER_OPEN = 20
#: Most prefixes one contraction serves, and the flops a batched contraction may take.
MAX_BATCH = 64
BATCH_FLOPS = 2e8
METHODS = ("auto", "state_vector", "marginal", "gate_by_gate")


@dataclass(frozen=True)
class MeasuredCircuit:
    """A circuit ready to sample: its operations as tensors and its terminal measurements.

    Attributes:
        compiled: every non-measurement operation (after noise and deferral).
        measurements: the terminal ``cirq.MeasurementGate`` operations in circuit order.
        measured: positions (into ``compiled.qubits``) of the measured qubits, one
            column of the drawn bits each.
    """

    compiled: CompiledCircuit
    measurements: tuple[cirq.Operation, ...]
    measured: tuple[int, ...]


def measured_circuit(
    circuit: cirq.AbstractCircuit, qubit_order: Any, param_resolver: Any, noise: Any, dtype: Any
) -> MeasuredCircuit:
    """Resolve, add noise, defer mid-circuit measurements, and compile a circuit to sample.

    Mid-circuit measurements and classical control are deferred to ancilla qubits
    (:func:`qtn.circuits.defer_to_terminal`), which samples the same distribution.

    Raises:
        ValueError: no measurements, unresolved symbols, a measured qudit, an op qtn
            cannot simulate.
        TypeError: not a circuit, bad noise or qubit order.
    """
    resolved = resolve_circuit(circuit, param_resolver)
    qubits = resolve_qubit_order(resolved, qubit_order)
    noisy = apply_noise(resolved, noise)
    if not noisy.has_measurements():
        raise ValueError("circuit has no measurements to sample; add cirq.measure(...) on the qubits to read")
    ops, ancillas = defer_to_terminal(noisy)
    qubits = qubits + ancillas
    position = {q: p for p, q in enumerate(qubits)}
    measurements = tuple(op for op in ops if isinstance(op.gate, cirq.MeasurementGate))
    measured: dict[int, None] = {}
    for op in measurements:
        for q in op.qubits:
            if q.dimension != 2:
                raise ValueError(f"measurement {op} reads a {q.dimension}-level qudit; qtn samples qubits only")
            measured.setdefault(position[q])
    body = (op for op in ops if not isinstance(op.gate, cirq.MeasurementGate))
    return MeasuredCircuit(compile_ops(body, qubits, dtype), measurements, tuple(measured))


class _Step:
    """Probabilities of the ``drawn`` positions given the values at ``condition`` positions.

    Holds one simplified network with the conditioning qubits' legs left open. One
    prefix fixes them by slicing the tensors that hold them; a batch of prefixes
    closes them with one-hot selector tensors that share a batch label, so one
    contraction serves the whole batch. Either way every call of a step has one
    structure (one plan). Parts of the network that hold no drawn qubit only scale
    the probabilities and are dropped.

    Args:
        base: the network; its output is the drawn legs, then (``squared``) the traced
            legs, then the conditioning legs.
        n_out: how many outputs are drawn or traced legs.
        drawn: positions drawn by this step.
        condition: positions whose values the step depends on.
        legs: per conditioning position, its labels (ket, or ket and bra).
        squared: the network gives amplitudes (squared and summed over the traced
            legs), not probabilities.
        opts: the run options.
    """

    def __init__(self, base: Network, n_out: int, drawn: Sequence[int], condition: Sequence[int],
                 legs: Sequence[tuple[int, ...]], squared: bool, opts) -> None:
        outputs = base.output[:n_out]
        drawn_labels = set(outputs[: len(drawn)])
        kept = [c for c in components(Network(base.arrays, base.indices, outputs)) if drawn_labels & set(c.output)]
        labels = {lab for c in kept for ix in c.indices for lab in ix}
        self.output = tuple(o for o in outputs if o in labels)
        self.leg_of = {lab: j for j, ls in enumerate(legs) for lab in ls if lab in labels}
        simple = Network([a for c in kept for a in c.arrays], [ix for c in kept for ix in c.indices],
                         self.output + tuple(self.leg_of)).simplified()
        self.arrays, self.indices, self.scalar = simple.arrays, simple.indices, simple.scalar
        # tensor -> [(axis, conditioning index)] of the legs it holds
        self.fixes = [(t, [(a, self.leg_of[lab]) for a, lab in enumerate(ix) if lab in self.leg_of])
                      for t, ix in enumerate(self.indices) if any(lab in self.leg_of for lab in ix)]
        self.batch_label = 1 + max((lab for ix in self.indices for lab in ix), default=0)
        self.drawn = list(drawn)
        self.condition = list(condition)
        self.squared = squared
        self.opts = opts
        self.batch: int | None = None if self.leg_of else 1  # decided by the first contraction
        self.single_flops = 0
        # a batch is small by construction: a greedy path, not a long search, suits it
        self.batch_opts = opts.replace(optimize="greedy") if opts.optimize is None else opts

    def probabilities(self, rows: np.ndarray) -> np.ndarray:
        """Normalised probabilities, shape (len(rows), 2**len(drawn)), of each row's prefix."""
        out = np.zeros((len(rows), 2 ** len(self.drawn)))
        start = 0
        while start < len(rows):
            if self.batch is None or self.batch == 1 or len(rows) - start == 1:
                plans: list = []
                out[start] = _normalised(self._contract(self._sliced(rows[start]), plans))[0]
                if self.batch is None:
                    self.batch, self.single_flops = _batch_size(plans, self.opts), sum(p.flops for p in plans)
                start += 1
                continue
            size = self.batch  # one size, so one plan
            chunk = rows[start: start + size]
            padded = np.concatenate([chunk, np.repeat(chunk[-1:], size - len(chunk), axis=0)])
            plans = []
            batched = self._contract(self._selected(padded), plans, self.batch_opts)
            out[start: start + len(chunk)] = _normalised(batched)[: len(chunk)]
            if sum(p.flops for p in plans) > 2 * size * self.single_flops:
                self.batch = 1  # this network batches badly: one prefix at a time from now on
            start += len(chunk)
        return out

    def _sliced(self, x: np.ndarray) -> Network:
        """The network of one prefix: each conditioning leg sliced at its bit."""
        arrays, indices, scalar = list(self.arrays), list(self.indices), self.scalar
        bits = x[self.condition]
        for t, legs in self.fixes:
            key: list[Any] = [slice(None)] * arrays[t].ndim
            for axis, j in legs:
                key[axis] = int(bits[j])
            part = arrays[t][tuple(key)]
            if np.ndim(part) == 0:
                scalar *= complex(part)
                arrays[t] = None
            else:
                arrays[t] = np.ascontiguousarray(part)
                indices[t] = tuple(lab for a, lab in enumerate(indices[t]) if isinstance(key[a], slice))
        kept = [t for t, a in enumerate(arrays) if a is not None]
        return Network([arrays[t] for t in kept], [indices[t] for t in kept], self.output, scalar)

    def _selected(self, rows: np.ndarray) -> Network:
        """The network of a batch of prefixes: one-hot selectors on a shared batch label."""
        eye = np.eye(2, dtype=self.opts.dtype)
        arrays, indices = list(self.arrays), list(self.indices)
        for lab, j in self.leg_of.items():
            arrays.append(eye[rows[:, self.condition[j]]])
            indices.append((self.batch_label, lab))
        return Network(arrays, indices, (self.batch_label,) + self.output, self.scalar)

    def _contract(self, net: Network, plans: list, opts=None) -> np.ndarray:
        """Unnormalised probabilities (rows, 2**g) of a network from :meth:`_sliced` or :meth:`_selected`."""
        def run(n: Network) -> np.ndarray:
            result, plan = plan_and_contract(n, opts or self.opts)
            plans.append(plan)
            return result

        t = contract_components(net, run, self.opts.dtype, constant=False)
        rows = t.shape[0] if len(net.output) > len(self.output) else 1
        g = len(self.drawn)
        if self.squared:
            return (np.abs(t.astype(np.complex128)) ** 2).reshape(rows, 2**g, -1).sum(axis=2)
        return t.real.astype(np.float64).reshape(rows, 2**g)


def _normalised(probs: np.ndarray) -> np.ndarray:
    probs = np.maximum(probs, 0.0)
    total = probs.sum(axis=1, keepdims=True)
    if not np.all(np.isfinite(total)) or np.any(total <= 0):
        raise ValueError(
            "the conditional probabilities of a sampling step vanished in floating point; "
            "retry with dtype=np.complex128"
        )
    return probs / total


def _batch_size(plans: Sequence[Any], opts) -> int:
    """How many prefixes one contraction should serve, from the plans of one prefix.

    Batching pays where a contraction is small enough for Python's per-call work
    to dominate; the batch multiplies every intermediate, so it must stay well
    inside the memory budget.
    """
    if not plans or any(p.n_slices > 1 for p in plans):
        return 1
    flops = sum(p.flops for p in plans)
    peak = max(p.peak_bytes for p in plans)
    batch = 1
    while batch < MAX_BATCH and (2 * batch) * flops <= BATCH_FLOPS and (2 * batch) * peak <= opts.max_memory // 4:
        batch *= 2
    return batch


@dataclass(frozen=True)
class _MarginalLayout:
    """One marginal step: draw ``drawn`` given ``condition``, from the ops ``ops``,
    tracing ``traced``."""

    drawn: list[int]
    condition: list[int]
    ops: list[int]
    traced: list[int]


def _marginal_layouts(cc: CompiledCircuit, measured: Sequence[int], group: int) -> list[_MarginalLayout]:
    """The marginal steps: groups of ``group`` measured qubits in qubit order (neighbours
    on a grid stay together), each conditioned only on the qubits drawn before that
    it is correlated with.

    Qubits whose lightcones share no qubit have independent values (their states
    come from disjoint sets of gates), so a group depends only on the earlier qubits
    connected to it through overlapping lightcones; in a shallow circuit that is a
    neighbourhood of the group, whatever its size.
    """
    order = sorted(measured)
    reach = {p: {q for i in lightcone(cc, [p], [p]) for q in cc.ops[i].positions} | {p} for p in order}
    layouts = []
    done: list[int] = []
    for s in range(0, len(order), group):
        drawn = order[s: s + group]
        linked, region = set(drawn), set().union(*(reach[p] for p in drawn))
        grown = True
        while grown:
            grown = False
            for p in done:
                if p not in linked and reach[p] & region:
                    linked.add(p)
                    region |= reach[p]
                    grown = True
        condition = [p for p in done if p in linked]
        ops = lightcone(cc, condition + drawn, condition + drawn)
        touched = {q for i in ops for q in cc.ops[i].positions}
        traced = sorted(touched - set(condition) - set(drawn))
        layouts.append(_MarginalLayout(drawn, condition, ops, traced))
        done = done + drawn
    return layouts


def _marginal_steps(cc: CompiledCircuit, layouts: Sequence[_MarginalLayout], opts) -> list[_Step]:
    steps = []
    for lay in layouts:
        drawn, condition, traced = lay.drawn, lay.condition, lay.traced
        if _single_layer(cc, lay):
            net = ket_network(cc, lay.ops, {}, drawn + traced + condition)
            legs = [(lab,) for lab in net.output[len(drawn) + len(traced):]]
            steps.append(_Step(net, len(drawn) + len(traced), drawn, condition, legs, True, opts))
        else:
            net = doubled_network(cc, lay.ops, Ends(diagonal=drawn, matrix=condition))
            k, m = len(drawn), len(condition)
            legs = list(zip(net.output[k: k + m], net.output[k + m:]))
            steps.append(_Step(net, k, drawn, condition, legs, False, opts))
    return steps


def _single_layer(cc: CompiledCircuit, lay: _MarginalLayout) -> bool:
    return not cc.noisy and len(lay.drawn) + len(lay.traced) <= MAX_SINGLE_LAYER_OPEN


def _gate_chunks(cc: CompiledCircuit, ops: Sequence[int], k: int) -> list[tuple[list[int], list[int]]]:
    """Split ops (ascending) into chunks acting on at most ``k`` qubits together, in an
    order that respects the circuit: an op joins a chunk once every earlier op on its
    qubits has. Greedy: a chunk starts at the earliest op left and takes the op that
    adds the fewest new qubits while it can. Returns (ops, qubit positions) per chunk."""
    queues: dict[int, list[int]] = {}
    for i in ops:
        for p in cc.ops[i].positions:
            queues.setdefault(p, []).append(i)
    head = {p: 0 for p in queues}

    def ready(i: int) -> bool:
        return all(queues[p][head[p]] == i for p in cc.ops[i].positions)

    available = {i for i in (q[0] for q in queues.values()) if ready(i)}

    def take(i: int) -> None:
        available.discard(i)
        for p in cc.ops[i].positions:
            head[p] += 1
            if head[p] < len(queues[p]) and ready(queues[p][head[p]]):
                available.add(queues[p][head[p]])

    chunks = []
    while available:
        first = min(available)
        take(first)
        chunk, support = [first], set(cc.ops[first].positions)
        while True:
            best = min(((len(set(cc.ops[i].positions) - support), i) for i in available), default=None)
            if best is None or len(support) + best[0] > k:
                break
            take(best[1])
            chunk.append(best[1])
            support |= set(cc.ops[best[1]].positions)
        chunks.append((chunk, sorted(support)))
    return chunks


def _gate_steps(cc: CompiledCircuit, measured: Sequence[int], group: int, opts) -> list[_Step]:
    if cc.noisy:
        raise ValueError("gate-by-gate sampling needs a pure circuit; a noisy one samples with method='marginal'")
    steps = []
    applied: list[int] = []
    for chunk, support in _gate_chunks(cc, lightcone(cc, measured, measured), group):
        applied = sorted(applied + chunk)
        region = {p for i in applied for p in cc.ops[i].positions}
        rest = sorted(region - set(support))
        net = ket_network(cc, applied, {}, support + rest)
        legs = [(lab,) for lab in net.output[len(support):]]
        steps.append(_Step(net, len(support), support, rest, legs, True, opts))
    return steps


def _run_steps(steps: Sequence[_Step], n_positions: int, repetitions: int, prng, progress: bool) -> np.ndarray:
    """Draw ``repetitions`` bitstrings (one row each, one column per position) through the steps.

    Samples that agree on the positions a step conditions on share its contraction.
    """
    bits = np.zeros((repetitions, n_positions), dtype=np.int8)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(steps), desc="sampling steps", unit="step", leave=False)
    try:
        for step in steps:
            g = len(step.drawn)
            shifts = np.arange(g - 1, -1, -1)
            if step.condition:
                _, first, which = np.unique(bits[:, step.condition], axis=0, return_index=True, return_inverse=True)
            else:
                first, which = np.zeros(1, dtype=np.int64), np.zeros(repetitions, dtype=np.int64)
            which = which.reshape(-1)
            probs = step.probabilities(bits[first])
            for k in range(len(first)):
                idx = np.flatnonzero(which == k)
                draws = prng.choice(probs.shape[1], size=len(idx), p=probs[k])
                bits[np.ix_(idx, step.drawn)] = (draws[:, None] >> shifts) & 1
            if bar is not None:
                bar.update()
    finally:
        if bar is not None:
            bar.close()
    return bits


def _state_vector_bits(cc: CompiledCircuit, measured: Sequence[int], repetitions: int, prng, opts) -> np.ndarray:
    ops = lightcone(cc, measured, measured)
    region = sorted({p for i in ops for p in cc.ops[i].positions} | set(measured))
    psi, _ = plan_and_contract(ket_network(cc, ops, {}, region), opts)
    probs = np.abs(psi.astype(np.complex128)) ** 2
    axis = {p: a for a, p in enumerate(region)}
    probs = probs.sum(axis=tuple(a for p, a in axis.items() if p not in set(measured)))
    kept = [p for p in region if p in set(measured)]
    probs = probs.transpose([kept.index(p) for p in measured]).reshape(-1)
    draws = prng.choice(len(probs), size=repetitions, p=probs / probs.sum())
    shifts = np.arange(len(measured) - 1, -1, -1)
    bits = np.zeros((repetitions, len(cc.qubits)), dtype=np.int8)
    bits[:, list(measured)] = (draws[:, None] >> shifts) & 1
    return bits


def check_sampling(method: str, group_size: int | None) -> None:
    """Raise ValueError for an unknown sampling method or a group size outside 1..16."""
    if method not in METHODS:
        raise ValueError(f"sampling method must be one of {', '.join(METHODS)}, not {method!r}")
    if group_size is not None and (isinstance(group_size, bool) or not isinstance(group_size, numbers.Integral)
                                   or not 1 <= group_size <= 16):
        raise ValueError(f"group_size must be an int from 1 to 16, not {group_size!r}")


def choose_method(cc: CompiledCircuit, measured: Sequence[int], opts, method: str = "auto",
                  group_size: int | None = None) -> tuple[str, int]:
    """The sampling method ``"auto"`` resolves to, and the group size it uses.

    ``"auto"``: the state vector while the measured qubits' lightcone has at most
    ``STATE_VECTOR_QUBITS`` qubits (pure circuits); else marginals when the circuit is
    noisy or every marginal step is a single-layer network; else gate by gate.
    """
    check_sampling(method, group_size)
    if method == "auto":
        region = {p for i in lightcone(cc, measured, measured) for p in cc.ops[i].positions} | set(measured)
        fits = 2 ** len(region) * opts.dtype.itemsize <= opts.max_memory
        if not cc.noisy and len(region) <= STATE_VECTOR_QUBITS and fits:
            method = "state_vector"
        elif cc.noisy or all(_single_layer(cc, lay) for lay in
                             _marginal_layouts(cc, measured, group_size or MARGINAL_GROUP_SIZE)):
            method = "marginal"
        else:
            method = "gate_by_gate"
    if method == "state_vector" and cc.noisy:
        raise ValueError("a noisy circuit has no state vector to sample from; use method='marginal' or 'auto'")
    default = GATE_GROUP_SIZE if method == "gate_by_gate" else MARGINAL_GROUP_SIZE
    return method, int(group_size or default)


def draw_bits(mc: MeasuredCircuit, repetitions: int, prng: np.random.RandomState, opts,
              method: str = "auto", group_size: int | None = None) -> np.ndarray:
    """Exact samples of the measured qubits: an int8 array (repetitions, len(mc.measured))."""
    cc, measured = mc.compiled, list(mc.measured)
    if repetitions == 0:
        return np.zeros((0, len(measured)), dtype=np.int8)
    method, group = choose_method(cc, measured, opts, method, group_size)
    if method == "state_vector":
        bits = _state_vector_bits(cc, measured, repetitions, prng, opts)
    else:
        if method == "marginal":
            steps = _marginal_steps(cc, _marginal_layouts(cc, measured, group), opts)
        else:
            steps = _gate_steps(cc, measured, group, opts)
        bits = _run_steps(steps, len(cc.qubits), repetitions, prng, opts.progress)
    return bits[:, measured]


def measurement_records(mc: MeasuredCircuit, bits: np.ndarray, prng: np.random.RandomState) -> dict[str, np.ndarray]:
    """Cirq's records: key -> int8 array (repetitions, instances of the key, qubits).

    Applies each measurement's ``invert_mask`` and then its ``confusion_map`` (as
    Cirq does for terminal measurements).
    """
    column = {q: j for j, q in enumerate(mc.compiled.qubits[p] for p in mc.measured)}
    records: dict[str, list[np.ndarray]] = {}
    for op in mc.measurements:
        gate = op.gate
        out = bits[:, [column[q] for q in op.qubits]].astype(np.int8)
        out[:, list(gate.full_invert_mask())] ^= 1
        for where, matrix in gate.confusion_map.items():
            where = list(where)
            rows = out[:, where].astype(np.int64) @ (1 << np.arange(len(where) - 1, -1, -1))
            cumulative = np.cumsum(np.asarray(matrix, dtype=np.float64), axis=1)[rows]
            u = prng.random_sample(len(out)) * cumulative[:, -1]
            new = np.minimum((u[:, None] >= cumulative).sum(axis=1), cumulative.shape[1] - 1)
            out[:, where] = (new[:, None] >> np.arange(len(where) - 1, -1, -1)) & 1
        records.setdefault(cirq.measurement_key_name(op), []).append(out)
    for key, arrays in records.items():
        first = arrays[0].shape[1]
        other = next((a.shape[1] for a in arrays if a.shape[1] != first), None)
        if other is not None:  # Cirq's words (cirq.ClassicalDataDictionaryStore.record_measurement)
            raise ValueError(f"Measurement shape {(2,) * other} does not match {(2,) * first} in {key}. "
                             f"(key {key!r} is repeated on different numbers of qubits)")
    return {k: np.stack(v, axis=1) for k, v in records.items()}


def run_records(mc: MeasuredCircuit, repetitions: int, prng: np.random.RandomState, opts,
                method: str = "auto", group_size: int | None = None) -> dict[str, np.ndarray]:
    """Draw samples and turn them into Cirq's measurement records."""
    if isinstance(repetitions, bool) or not isinstance(repetitions, numbers.Integral):
        raise TypeError(f"repetitions must be an int, not {type(repetitions).__name__}")
    if repetitions < 0:
        raise ValueError(f"repetitions must be non-negative, not {repetitions}")
    bits = draw_bits(mc, int(repetitions), prng, opts, method, group_size)
    return measurement_records(mc, bits, prng)


def check_resumable(opts: RunOptions, seed: Any, entry: str) -> None:
    """Refuse a checkpoint where sampling cannot resume: only a seeded run draws the same
    bits again, and so makes the same contractions in the same order.

    Raises:
        ValueError: ``opts.checkpoint`` is set and ``seed`` is not an int.
    """
    if opts.checkpoint is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
        raise ValueError(f"{entry} samples with checkpoint= only with an int seed: an unseeded run draws "
                         "other bits, so its contractions would not match the saved ones")


def sample(
    circuit: cirq.AbstractCircuit,
    repetitions: int = 1,
    *,
    qubit_order: "cirq.QubitOrderOrList | None" = None,
    param_resolver: "cirq.ParamResolverOrSimilarType" = None,
    seed: "cirq.RANDOM_STATE_OR_SEED_LIKE" = None,
    noise: Any = None,
    sampling: str = "auto",
    group_size: int | None = None,
    **options: Unpack[RunKeywords],
) -> cirq.ResultDict:
    """Exact samples of a circuit's measurements, as ``cirq.Simulator().run`` returns them.

    Args:
        circuit: a Cirq circuit with measurements (mid-circuit measurements and
            classical control are deferred, see :func:`measured_circuit`).
        repetitions: how many samples.
        qubit_order: the order qubits are grouped in while sampling (default: sorted).
        param_resolver: values for the circuit's symbols.
        seed: an int, a ``np.random.RandomState`` or ``None``, as Cirq takes it (the
            sampling seed; the path search has ``plan_seed``).
        noise: a ``cirq.NoiseModel`` (or noise-model-like) applied to the circuit;
            noisy circuits are sampled exactly from density-matrix networks.
        sampling: ``"auto"`` (default), ``"state_vector"``, ``"marginal"`` or
            ``"gate_by_gate"``, as for :class:`qtn.Simulator`.
        group_size: qubits drawn per contraction (default: the method's).
        **options: run options as for :func:`qtn.amplitudes` (``checkpoint`` only
            with an int ``seed``).

    Returns:
        A ``cirq.ResultDict`` with Cirq's keys and records (repeated keys included).

    Raises:
        ValueError: no measurements to sample, unresolved symbols, negative repetitions,
            an op qtn cannot simulate, a memory budget no slicing can meet.
        TypeError: bad circuit, noise, seed or option types.
    """
    circuit, qubit_order = as_cirq_circuit(circuit, qubit_order)  # Qiskit circuits, declared order
    opts = RunOptions.from_keywords(options, entry="qtn.sample")
    check_resumable(opts, seed, "qtn.sample")
    check_sampling(sampling, group_size)
    prng = cirq.value.parse_random_state(seed)
    resolver = cirq.ParamResolver(param_resolver)
    mc = measured_circuit(circuit, qubit_order, resolver, noise, opts.dtype)
    return cirq.ResultDict(params=resolver, records=run_records(mc, repetitions, prng, opts, sampling, group_size))
