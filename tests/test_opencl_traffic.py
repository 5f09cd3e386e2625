"""Host<->device traffic of a contraction: an input without a sliced index is uploaded
once per run (chunk), an input with one once per slice, each slice's result is
downloaded once, and nothing else crosses the bus.

For a 16-qubit grid-circuit amplitude (and the same circuit with three qubits left
open), unsliced and sliced (``max_memory`` small enough for several slices), run as
one chunk, the OpenCL backend's byte counters must equal, exactly:

* ``bytes_to_device`` = the unsliced inputs' bytes + n_slices x the sliced inputs' bytes;
* ``bytes_to_host``   = n_slices x the elements of ``plan.output`` x itemsize.

Three independent witnesses are checked: the backend's own ``stats()``, the shapes
passed to ``to_device`` / ``to_host`` (in input order, and one download per slice),
and, for OpenCL, every ``pyopencl.enqueue_copy`` the run makes
(no buffer is created from host memory, and no copy happens outside ``to_device`` /
``to_host``). The HLS backend counts the copies its board would make over PCIe the
same way, so it is held to the same figures. The result is checked against Cirq.
"""

from __future__ import annotations

import math
from typing import Any

import cirq
import numpy as np
import pytest

from qtn.compiler import compile_circuit as prepare
from qtn.options import RunOptions
from qtn.ket import open_network
from qtn.execute import contract
from qtn.planning import plan_network

from conftest import start_backend
from helpers import reference_state, tolerance

ROWS, COLS, DEPTH, SEED = 4, 4, 10, 7
#: Bytes any intermediate may take in the sliced runs: small enough for several slices.
SLICED_MAX_MEMORY = 1024
#: Bitstring of the closed qubits (big-endian over the sorted qubits).
BITS = (0, 1, 1, 0, 1, 0, 0, 1, 1, 1, 0, 0, 1, 0, 1, 0)
#: Qubit positions left open in the open-leg cases (the result is a 2x2x2 tensor).
OPEN = (2, 7, 11)


@pytest.fixture(scope="module")
def circuit() -> cirq.Circuit:
    qubits = cirq.GridQubit.rect(ROWS, COLS)
    return cirq.experiments.random_rotations_between_grid_interaction_layers_circuit(qubits, depth=DEPTH, seed=SEED)


@pytest.fixture(scope="module")
def reference(circuit) -> np.ndarray:
    return reference_state(circuit).reshape((2,) * (ROWS * COLS))


def _elements(plan, labels) -> int:
    return math.prod(plan.size_dict[i] for i in labels)


def _expected_value(reference: np.ndarray, open_positions: tuple[int, ...]) -> np.ndarray:
    """The reference amplitudes with ``open_positions`` left open, in that order."""
    index = tuple(slice(None) if p in open_positions else BITS[p] for p in range(len(BITS)))
    # basic indexing keeps the open axes in increasing position order, which OPEN is
    assert list(open_positions) == sorted(open_positions)
    return reference[index]


class _CopyRecorder:
    """Wraps ``pyopencl.enqueue_copy`` and ``pyopencl.Buffer`` to see every transfer."""

    def __init__(self, cl: Any) -> None:
        self.cl = cl
        self.real_copy = cl.enqueue_copy
        self.real_buffer = cl.Buffer
        self.to_device: list[int] = []
        self.to_host: list[int] = []
        self.on_device = 0
        self.host_backed_buffers = 0

    def enqueue_copy(self, queue, dest, src, *args, **kwargs):
        dest_dev = isinstance(dest, self.cl.MemoryObjectHolder)
        src_dev = isinstance(src, self.cl.MemoryObjectHolder)
        if dest_dev and not src_dev:
            self.to_device.append(memoryview(src).nbytes)
        elif src_dev and not dest_dev:
            self.to_host.append(memoryview(dest).nbytes)
        else:
            self.on_device += 1
        return self.real_copy(queue, dest, src, *args, **kwargs)

    def buffer(self, context, flags, size=0, hostbuf=None):
        host_flags = self.cl.mem_flags.COPY_HOST_PTR | self.cl.mem_flags.USE_HOST_PTR
        if hostbuf is not None or flags & host_flags:
            self.host_backed_buffers += 1
        return self.real_buffer(context, flags, size, hostbuf)


def _forbid(name: str):
    def fail(*args, **kwargs):
        raise AssertionError(f"pyopencl.{name} was called during a contraction; only enqueue_copy is expected")

    return fail


@pytest.mark.parametrize("backend_name", ["opencl", "hls"])
@pytest.mark.parametrize("open_positions", [(), OPEN], ids=["amplitude", "open3"])
@pytest.mark.parametrize("max_memory", [None, SLICED_MAX_MEMORY], ids=["unsliced", "sliced"])
def test_inputs_uploaded_once_results_downloaded_once(circuit, reference, monkeypatch, backend_name, open_positions, max_memory):
    backend = start_backend(backend_name)
    opts = RunOptions.from_keywords(dict(backend=backend, max_memory=max_memory, progress=False))
    ct = prepare(circuit, None, None, opts.dtype)
    net = open_network(ct, open_positions, BITS)

    uploads: list[tuple[int, ...]] = []
    downloads: list[int] = []  # elements (hls/numpy arrays of shape () come back as (1,))
    real_to_device, real_to_host = backend.to_device, backend.to_host

    def to_device(a):
        uploads.append(tuple(np.shape(a)))
        return real_to_device(a)

    def to_host(a):
        downloads.append(math.prod(a.shape))
        return real_to_host(a)

    backend.flop_rate(opts.dtype)  # the once-per-machine rate probe moves bytes of its own; not this run's
    monkeypatch.setattr(backend, "to_device", to_device)
    monkeypatch.setattr(backend, "to_host", to_host)
    recorder = None
    if backend_name == "opencl":
        cl = backend._cl
        recorder = _CopyRecorder(cl)
        monkeypatch.setattr(cl, "enqueue_copy", recorder.enqueue_copy)
        monkeypatch.setattr(cl, "Buffer", recorder.buffer)
        for name in ("enqueue_read_buffer", "enqueue_write_buffer", "enqueue_map_buffer", "enqueue_svm_memcpy"):
            if hasattr(cl, name):
                monkeypatch.setattr(cl, name, _forbid(name))

    simple = net.simplified().canonical()
    plan = plan_network(simple, memory_budget=opts.max_memory)
    backend.reset_stats()
    result = contract(simple, plan, backend, chunk_size=plan.n_slices)  # one chunk
    stats = backend.stats()

    if max_memory is not None:
        assert plan.n_slices > 1, "the sliced case must really slice; lower SLICED_MAX_MEMORY"
    sliced = set(plan.sliced)
    is_sliced = [bool(sliced & set(ix)) for ix in simple.indices]
    if max_memory is not None:
        assert any(is_sliced) and not all(is_sliced), "the case must have both kinds of input"
    input_shapes = [tuple(plan.size_dict[i] for i in ix) for ix in plan.inputs]
    output_shape = tuple(plan.size_dict[o] for o in plan.output)
    once_bytes = sum(_elements(plan, ix) for ix, s in zip(plan.inputs, is_sliced) if not s) * plan.itemsize
    per_slice_bytes = sum(_elements(plan, ix) for ix, s in zip(plan.inputs, is_sliced) if s) * plan.itemsize
    output_bytes = _elements(plan, plan.output) * plan.itemsize

    # the backend's own counters
    assert stats["bytes_to_device"] == once_bytes + plan.n_slices * per_slice_bytes
    assert stats["bytes_to_host"] == plan.n_slices * output_bytes
    # the calls themselves, in order: the first slice uploads every input, later
    # slices only the sliced ones; every slice downloads once
    later = [shape for shape, s in zip(input_shapes, is_sliced) if s]
    assert uploads == input_shapes + later * (plan.n_slices - 1)
    assert downloads == [math.prod(output_shape)] * plan.n_slices
    if recorder is not None:
        # every byte that crossed the bus went through to_device / to_host
        assert sum(recorder.to_device) == stats["bytes_to_device"]
        assert sum(recorder.to_host) == stats["bytes_to_host"]
        assert len(recorder.to_host) == plan.n_slices
        # (a 0-d or empty input makes no copy: OpenCL has no 0-byte buffers)
        assert len(recorder.to_device) == sum(math.prod(s) > 0 for s in uploads)
        assert recorder.on_device == 0
        assert recorder.host_backed_buffers == 0

    expected = _expected_value(reference, open_positions)
    got = np.asarray(result)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, atol=tolerance(opts.dtype), rtol=1e-3)
