"""The tools bench/amplitudes.py compares: qtn's planned network, quimb on its own tree and on qtn's."""

from __future__ import annotations

import argparse
import importlib
import math
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import cirq
import numpy as np

import qtn  # noqa: E402
from qtn.compiler import compile_circuit as prepare  # noqa: E402
from qtn.execute import contract  # noqa: E402
from qtn.ket import open_network  # noqa: E402
from qtn.planning import plan_network  # noqa: E402

# ----------------------------------------------------------------------------- tools


def optional_import(name: str):
    """The module, or (None, reason) when it is not installed (CI installs only the test extras)."""
    try:
        return importlib.import_module(name), None
    except ImportError as err:
        package = name.split(".")[0]
        return None, f"{package} is not importable ({err}); install the bench extra: pip install -e '.[bench]'"


def hyper(repeats: int):
    """The path search both qtn and quimb get: same methods, trials and objective."""
    import cotengra as ctg

    return ctg.HyperOptimizer(methods=["kahypar", "greedy"], max_repeats=repeats, minimize="combo",
                              parallel=False, reconf_opts={}, progbar=False)


def bits_of(b: int, n: int) -> list[int]:
    return [(b >> (n - 1 - p)) & 1 for p in range(n)]


@dataclass
class QtnCase:
    """qtn's simplified canonical network of one amplitude, its plan and a contraction."""

    net: Any
    plan: Any
    plan_s: float

    def run(self, backend) -> complex:
        return complex(np.asarray(contract(self.net, self.plan, backend)).reshape(()))


def qtn_case(circuit: cirq.Circuit, b: int, optimize: Any, dtype=np.complex64, budget: int | None = None) -> QtnCase:
    """Everything ``qtn.amplitudes`` does before contracting, timed as plan seconds."""
    n = len(circuit.all_qubits())
    t0 = time.perf_counter()
    ct = prepare(circuit, None, None, np.dtype(dtype))
    net = open_network(ct, (), bits_of(b, n)).simplified().canonical()
    budget = budget or qtn.get_backend("numpy").memory_budget()
    plan = plan_network(net, memory_budget=budget, optimize=optimize)
    return QtnCase(net, plan, time.perf_counter() - t0)


def quimb_circuit(circuit: cirq.Circuit):
    """quimb's Circuit of the same gate matrices; sorted qubit ``p`` is quimb qubit ``p``
    (qtn's big-endian bit ``p``), so bitstrings and gate matrices mean the same."""
    import quimb.tensor as qtq

    qubits = sorted(circuit.all_qubits())
    pos = {q: p for p, q in enumerate(qubits)}
    qc = qtq.Circuit(len(qubits), psi0_dtype="complex64", dtype="complex64")
    phase = 1.0 + 0j
    for op in circuit.all_operations():
        u = cirq.unitary(op).astype(np.complex64)
        if not op.qubits:  # a global phase: nothing for quimb to apply
            phase *= complex(u.reshape(()))
            continue
        qc.apply_gate_raw(u, [pos[q] for q in op.qubits])
    return qc, phase


@dataclass
class QuimbCase:
    tn: Any
    tree: Any
    phase: complex
    plan_s: float

    def run(self) -> complex:
        return self.phase * complex(self.tn.contract(all, output_inds=(), optimize=self.tree))


def quimb_case(circuit: cirq.Circuit, b: int, optimizer) -> QuimbCase:
    """Build, simplify and plan with quimb (``amplitude_rehearse``), timed as plan seconds."""
    n = len(circuit.all_qubits())
    t0 = time.perf_counter()
    qc, phase = quimb_circuit(circuit)
    reh = qc.amplitude_rehearse("".join(map(str, bits_of(b, n))), optimize=optimizer, dtype="complex64")
    return QuimbCase(reh["tn"], reh["tree"], phase, time.perf_counter() - t0)


def quimb_on_qtn_tree(case: QtnCase) -> Callable[[], complex]:
    """quimb's engine on qtn's network along qtn's tree (same order, same slices).

    cotengra's tree contraction maps each index to one character, so the int labels
    become cotengra symbols (a tree over ints or multi-character names fails there).
    """
    import cotengra as ctg
    import quimb.tensor as qtq

    net, plan = case.net, case.plan
    sym = ctg.get_symbol
    inputs = [tuple(sym(i) for i in ix) for ix in net.indices]
    sizes = {sym(i): d for i, d in net.size_dict.items()}
    output = tuple(sym(o) for o in net.output)
    tree = ctg.ContractionTree.from_path(inputs, output, sizes, ssa_path=plan.tree.get_ssa_path())
    for label in plan.sliced:
        tree.remove_ind_(sym(label))
    tensors = [qtq.Tensor(a, inds=ix) for a, ix in zip(net.arrays, inputs)]
    scalar = complex(net.scalar)

    def run() -> complex:
        return scalar * complex(qtq.tensor_contract(*tensors, output_inds=output, optimize=tree))

    return run


