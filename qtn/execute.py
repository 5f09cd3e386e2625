"""Running a plan: the slice loop, each slice a chain of device GEMMs.

Per slice, every input is sliced on the host and uploaded once; each step permutes
its operands on the device and multiplies them; the slice's result comes back once
and the host sums the slices.
"""

from __future__ import annotations

from typing import Any, Iterator, Sequence

import numpy as np

from .backends.base import Array, Backend
from .network import Network
from .planning import Plan


def slice_values(plan: Plan, slice_index: int) -> dict[int, int]:
    """The value of each sliced label in slice number ``slice_index`` (mixed radix)."""
    values: dict[int, int] = {}
    for label in reversed(plan.sliced):
        slice_index, values[label] = divmod(slice_index, plan.size_dict[label])
    return values


def sliced_inputs(network: Network, plan: Plan, slice_index: int) -> Iterator[np.ndarray]:
    """The network's arrays with every sliced label fixed to this slice's value."""
    values = slice_values(plan, slice_index)
    for array, labels in zip(network.arrays, network.indices):
        if values and any(i in values for i in labels):
            key = tuple(values.get(i, slice(None)) for i in labels)
            yield np.array(array[key], order="C")  # np.array keeps a 0-d result 0-d
        else:
            yield array


def run_slice(network: Network, plan: Plan, backend: Backend, slice_index: int) -> np.ndarray:
    """Contract one slice on ``backend`` and return its (unscaled) result on the host."""
    tensors: list[Array | None] = [backend.to_device(a) for a in sliced_inputs(network, plan, slice_index)]
    if not plan.steps and not tensors:
        return np.ones((), dtype=network.arrays[0].dtype if network.arrays else np.complex64)
    for step in plan.steps:
        low = step.lowered
        a = backend.transpose_reshape(tensors[step.left], low.a_perm, low.a_shape)
        b = backend.transpose_reshape(tensors[step.right], low.b_perm, low.b_shape)
        tensors[step.left] = tensors[step.right] = None  # free operands as soon as possible
        product = backend.matmul(a, b)
        del a, b
        # back to one axis per label (a free reshape of a contiguous array)
        tensors.append(backend.transpose_reshape(product, tuple(range(len(low.a_shape))), low.out_shape))
    last = tensors[-1]
    out_shape = tuple(plan.size_dict[o] for o in plan.output)
    if plan.final_perm != tuple(range(len(plan.final_perm))):
        last = backend.transpose_reshape(last, plan.final_perm, out_shape)
    return backend.to_host(last).reshape(out_shape)


def contract(
    network: Network,
    plan: Plan,
    backend: Backend,
    *,
    progress: bool = False,
    slices: Sequence[int] | None = None,
    executor: Any = None,
    checkpoint: Any = None,
) -> np.ndarray:
    """Contract a canonical network with ``plan`` on ``backend``, summing all slices.

    Args:
        network: the canonical network the plan was made for (equal ``structure_key``).
        plan: from :func:`qtn.planning.plan_network`.
        backend: where the GEMMs run.
        progress: show a progress bar over slices (when there is more than one).
        slices: run only these slice numbers (default: all).
        executor: where slices run; only ``None`` (serial, here) is supported yet.
        checkpoint: a folder for resumable runs; not supported yet.

    Returns:
        The result array with axes in ``plan.output`` order, times ``network.scalar``.
    """
    if executor is not None or checkpoint is not None:
        raise ValueError("executor= and checkpoint= are not supported yet; leave them None (serial)")
    indices = range(plan.n_slices) if slices is None else slices
    total: np.ndarray | None = None
    bar = None
    if progress and len(indices) > 1:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(indices), desc="slices", unit="slice", leave=False)
    try:
        for s in indices:
            part = run_slice(network, plan, backend, s)
            total = part if total is None else total + part
            if bar is not None:
                bar.update()
    finally:
        if bar is not None:
            bar.close()
    assert total is not None
    return total * np.asarray(network.scalar, dtype=total.dtype)

