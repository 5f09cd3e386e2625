"""The OpenCL backend: complex GEMMs and permutations on one OpenCL device.

Tensors live in device buffers (:class:`DeviceArray`) between steps; only
:meth:`OpenCLBackend.to_device` and :meth:`OpenCLBackend.to_host` cross the bus.
The kernels are ``fpga/kernels/cgemm.cl`` (shipped as ``qtn/data/kernels``), built
once per (device, dtype, tile configuration) with the tile sizes as ``-D`` macros.

Matrix sizes need not be tile multiples: the GEMM kernel zero-fills tile loads that
fall outside the operands and skips stores outside the result, so no padded copies
are made (they would cost a second buffer as large as the operand). pyopencl is
imported here only, never at ``import qtn``.
"""

from __future__ import annotations

import importlib.resources
import threading
import time
import warnings
from math import prod
from typing import Any, Mapping, Sequence

import numpy as np

from . import opencl_tiles
from .base import Backend, BackendUnavailableError

#: Most non-mergeable dims a permutation may have (passed to cgemm.cl as ``-DMAX_DIMS``):
#: with every dim >= 2 that is a tensor of 2**32 elements, beyond any device buffer.
MAX_DIMS = 32
#: Output rows one work-item of the permute kernel copies (``-DPERMUTE_ROWS``).
_PERMUTE_ROWS = 16
#: Fewest elements in one permute row (the work-items that run side by side).
_PERMUTE_MIN_ROW = 64
#: Largest m, n or k: the kernel indexes rows and columns with 32-bit ints, and a
#: tile may reach past the edge of the matrix.
_MAX_DIM = 2**30
#: Most work-groups one GEMM launch has along NDRange dims 1 and 2.
_MAX_GROUPS = 65535

# For products that would leave most of a big tile empty (skinny or small batched
# GEMMs, common in tensor networks), with their speed relative to the big tiles on
# a large product: matmul takes whichever needs less padded work per unit of speed.
_SMALL_SPEED = 0.2

# Shared by every backend on the same device: one context, programs built once.
_CONTEXTS: dict[int, Any] = {}
_PROGRAMS: dict[tuple, "_Kernels"] = {}
_CACHE_LOCK = threading.Lock()


class KernelBuildError(RuntimeError):
    """An OpenCL program failed to build; the message contains the build log."""


class DeviceArray:
    """A C-contiguous complex array in one device buffer.

    Arrays are never written after they are made, so a reshape may share the buffer.
    """

    __slots__ = ("buffer", "shape", "dtype")

    def __init__(self, buffer: Any, shape: Sequence[int], dtype: np.dtype) -> None:
        self.buffer = buffer  # None for an empty array (OpenCL has no 0-byte buffers)
        self.shape = tuple(int(s) for s in shape)
        self.dtype = np.dtype(dtype)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return prod(self.shape)

    @property
    def nbytes(self) -> int:
        return self.size * self.dtype.itemsize

    def __repr__(self) -> str:
        return f"DeviceArray(shape={self.shape}, dtype={self.dtype})"


class _Kernels:
    """One built program and its kernel objects (a kernel's args are shared state)."""

    def __init__(self, program: Any, cl: Any) -> None:
        self.program = program
        self.cgemm = cl.Kernel(program, "cgemm")
        self.permute = cl.Kernel(program, "permute")
        self.lock = threading.Lock()


def _import_pyopencl() -> Any:
    try:
        import pyopencl as cl
    except (ImportError, OSError) as err:
        raise BackendUnavailableError(f"pyopencl cannot be imported ({err}); install qtn[opencl]") from err
    return cl


def _all_devices(cl: Any) -> list[Any]:
    try:
        platforms = cl.get_platforms()
    except cl.Error:  # the ICD loader found no platform
        return []
    devices = []
    for platform in platforms:
        try:
            devices.extend(platform.get_devices())
        except cl.Error:  # a platform without devices
            continue
    return devices


def _describe(cl: Any, devices: Sequence[Any]) -> str:
    if not devices:
        return "no OpenCL devices found (is an ICD such as pocl-binary-distribution installed?)"
    listed = (f"{i}: {d.name.strip()} ({d.platform.name.strip()}, {_kind(cl, d)})" for i, d in enumerate(devices))
    return f"OpenCL devices: {', '.join(listed)}"


def _kind(cl: Any, device: Any) -> str:
    for name in ("GPU", "ACCELERATOR", "CPU"):
        if device.type & getattr(cl.device_type, name):
            return name
    return "OTHER"


def _kernel_source() -> str:
    return (importlib.resources.files("qtn") / "data" / "kernels" / "cgemm.cl").read_text()


def _build(cl: Any, context: Any, source: str, options: Sequence[str]) -> Any:
    """Build ``source`` for the context's device, or raise KernelBuildError with the log."""
    program = cl.Program(context, source)
    try:
        with warnings.catch_warnings():
            # Some compilers chat on success; a real failure raises below with the log.
            warnings.simplefilter("ignore", cl.CompilerWarning)
            return program.build(options=list(options))
    except cl.Error as err:
        raise KernelBuildError(
            f"building an OpenCL program for {context.devices[0].name.strip()!r} failed "
            f"(options: {' '.join(options)}); build log:\n{err}"
        ) from err


def _context(cl: Any, device: Any) -> Any:
    with _CACHE_LOCK:
        if device.int_ptr not in _CONTEXTS:
            _CONTEXTS[device.int_ptr] = cl.Context([device])
        return _CONTEXTS[device.int_ptr]


def _collapse(shape: Sequence[int], perm: Sequence[int]) -> tuple[list[int], list[int]]:
    """Fewest dims equivalent to ``transpose(perm)`` of a C-contiguous ``shape``.

    Drops size-1 dims and merges output-neighbouring dims that are also neighbours,
    in order, in the input. Returns the output sizes and, for each, its input stride.
    """
    # rank among the dims that are kept, so a size-1 dim between two others never
    # stops them merging
    rank = {d: r for r, d in enumerate(d for d in range(len(shape)) if shape[d] != 1)}
    runs: list[list[int]] = []  # kept input dims, in output order, grouped into runs
    for p in (p for p in perm if p in rank):
        if runs and rank[runs[-1][-1]] + 1 == rank[p]:
            runs[-1].append(p)
        else:
            runs.append([p])
    in_strides = [1] * len(shape)
    for d in range(len(shape) - 2, -1, -1):
        in_strides[d] = in_strides[d + 1] * shape[d + 1]
    sizes = [prod(shape[p] for p in run) for run in runs]
    strides = [in_strides[run[-1]] for run in runs]
    return sizes, strides


class OpenCLBackend(Backend):
    """GEMMs and permutations on one OpenCL device (a CPU through PoCL, a GPU, an FPGA).

    Args:
        device: device index (``"0"``), or a case-insensitive substring of the device
            name (or, failing that, of the platform name). Default: the first GPU,
            accelerator, then CPU whose compiler builds the kernels.
        tiles: GEMM tile macros, e.g. ``{"TILE_M": 64, "TILE_N": 64, "TILE_K": 16}``;
            ``WPT_M``/``WPT_N`` (outputs per work-item) are chosen when absent.
        board: take the tiles from ``qtn.fpga.boards.gemm_tiles(board, dtype)`` instead.

    Attributes:
        name: ``"opencl:<device name>"``.
        device: the ``pyopencl.Device`` in use.

    Raises:
        BackendUnavailableError: pyopencl, a platform, the named device or a working
            compiler for it is missing; the message lists the devices that exist.
        KernelBuildError: the GEMM program does not build with these tiles.
        ValueError: both ``tiles`` and ``board``, or tiles that do not fit the device.
    """

    def __init__(
        self,
        device: "str | int | None" = None,
        tiles: "Mapping[str, int] | None" = None,
        board: "str | None" = None,
    ) -> None:
        if tiles is not None and board is not None:
            raise ValueError("give either tiles or board, not both")
        self._cl = cl = _import_pyopencl()
        self._tiles = None if tiles is None else dict(tiles)
        self._board = board
        devices = _all_devices(cl)
        option = None if device is None else str(device).strip()
        candidates = self._candidates(devices, option)
        reasons = []
        for dev in candidates:
            try:
                self._start(dev)
                return
            except BackendUnavailableError as err:
                reasons.append(str(err))
        raise BackendUnavailableError(
            f"no usable OpenCL device{'' if option is None else f' for {option!r}'}: "
            f"{'; '.join(reasons) or 'none matched'}. {_describe(cl, devices)}"
        )

    def _candidates(self, devices: list[Any], option: "str | None") -> list[Any]:
        cl = self._cl
        if not option:
            rank = {"GPU": 0, "ACCELERATOR": 1, "CPU": 2, "OTHER": 3}
            return sorted(devices, key=lambda d: rank[_kind(cl, d)])
        if option.isdigit():
            index = int(option)
            if index >= len(devices):
                raise BackendUnavailableError(f"no OpenCL device {index}. {_describe(cl, devices)}")
            return [devices[index]]
        key = option.lower()
        matches = [d for d in devices if key in d.name.lower()] or [
            d for d in devices if key in d.platform.name.lower()
        ]
        if not matches:
            raise BackendUnavailableError(f"no OpenCL device matches {option!r}. {_describe(cl, devices)}")
        return matches

    def _start(self, device: Any) -> None:
        cl = self._cl
        self.device = device
        self.name = f"opencl:{device.name.strip()}"
        self._context = _context(cl, device)
        self._queue = cl.CommandQueue(self._context)
        self._max_alloc = int(device.max_mem_alloc_size)
        self._stats = {"bytes_to_device": 0, "bytes_to_host": 0}
        self._configs: dict[str, dict[str, int]] = {}
        try:
            self._kernels(np.dtype(np.complex64))
        except KernelBuildError as err:
            # Tell "this device cannot compile at all" (e.g. an LLVM too old for the
            # host CPU) apart from "these kernels or tiles are wrong".
            try:
                _build(cl, self._context, "__kernel void probe(__global int *x) { x[0] = 1; }", [])
            except KernelBuildError as probe_err:
                hint = (
                    " (its LLVM predates this host CPU: a newer PoCL, or another OpenCL CPU runtime "
                    "such as intel-opencl-rt, is needed)"
                    if "unknown target CPU" in str(probe_err)
                    else ""
                )
                raise BackendUnavailableError(
                    f"{device.name.strip()!r} cannot compile OpenCL kernels{hint}: {probe_err}"
                ) from probe_err
            raise err

    # ------------------------------------------------------------ configuration

    def tile_config(self, dtype: "np.dtype | type" = np.complex64) -> dict[str, int]:
        """The GEMM macros for large ``dtype`` products (TILE_M/N/K, WPT_M/N, any extras).

        Without ``tiles`` or ``board``, small or skinny products may run with smaller
        tiles (see :meth:`matmul`).

        Raises:
            ValueError: the tiles need a larger work-group or local memory than the
                device has.
        """
        dtype = np.dtype(dtype)
        if dtype.char not in self._configs:
            self._configs[dtype.char] = self._resolve_tiles(dtype)
        return dict(self._configs[dtype.char])

    def _resolve_tiles(self, dtype: np.dtype) -> dict[str, int]:
        if self._board is not None:
            try:
                from qtn.fpga.boards import gemm_tiles
            except (ImportError, AttributeError) as err:
                raise BackendUnavailableError(
                    f"board={self._board!r} needs qtn.fpga.boards.gemm_tiles(board, dtype), which is unavailable: {err}"
                ) from err
            macros = dict(gemm_tiles(self._board, dtype).opencl_macros())
        elif self._tiles is not None:
            macros = dict(self._tiles)
        else:
            kind = _kind(self._cl, self.device)
            macros = opencl_tiles.tuned_tiles(
                self.device, dtype, kind, _kernel_source(),
                time_config=lambda cfg, n: self._time_config(cfg, dtype, n),
                fits=lambda cfg: self._fits(cfg, dtype),
            )
        return self._fit(macros, dtype)

    def _fits(self, macros: Mapping[str, int], dtype: np.dtype) -> bool:
        try:
            self._fit(dict(macros), dtype)
        except ValueError:
            return False
        return True

    def _time_config(self, macros: dict[str, int], dtype: np.dtype, n: int) -> float:
        """Seconds of one ``n x n x n`` product with ``macros`` (best of two, after a warm-up)."""
        cfg = self._fit(macros, dtype)
        a = self.to_device(np.ones((n, n), dtype))
        b = self.to_device(np.ones((n, n), dtype))
        self._launch(cfg, a, b, n, n, n)  # builds the program, warms caches
        self.synchronize()
        best = float("inf")
        for _ in range(2):
            start = time.perf_counter()
            self._launch(cfg, a, b, n, n, n)
            self.synchronize()
            best = min(best, time.perf_counter() - start)
        self.reset_stats()
        return best

    def _gemm_config(self, dtype: np.dtype, m: int, k: int, n: int, batch: int) -> dict[str, int]:
        """The tiles for one product: the big ones, or small ones if they waste far less."""
        big = self.tile_config(dtype)
        if self._tiles is not None or self._board is not None:
            return big

        def padded(c: dict[str, int]) -> int:  # multiply-adds including the tiles' empty parts
            return batch * -(-m // c["TILE_M"]) * c["TILE_M"] * -(-n // c["TILE_N"]) * c["TILE_N"] * k

        key = dtype.char + "small"
        if key not in self._configs:
            small = opencl_tiles.candidates(_kind(self._cl, self.device), self.device, dtype, small=True)[0]
            self._configs[key] = self._fit(small, dtype)
        small = self._configs[key]
        return dict(small) if padded(small) < _SMALL_SPEED * padded(big) else big

    def _fit(self, macros: Mapping[str, int], dtype: np.dtype) -> dict[str, int]:
        """The complete macro set for this device; see :func:`opencl_tiles.fit_to_device`."""
        return opencl_tiles.fit_to_device(macros, dtype, self.device)

    def _check_dtype(self, dtype: np.dtype) -> None:
        if dtype not in (np.complex64, np.complex128):
            raise TypeError(
                f"the OpenCL backend holds complex64 or complex128 arrays, not {dtype}; "
                "convert with .astype(np.complex64)"
            )
        if dtype == np.complex128 and not self.device.double_fp_config:
            raise TypeError(
                f"{self.device.name.strip()!r} has no fp64 support (cl_khr_fp64), so complex128 is "
                "unavailable on it; use complex64"
            )

    def _kernels(self, dtype: np.dtype, macros: "dict[str, int] | None" = None) -> _Kernels:
        self._check_dtype(dtype)
        macros = self.tile_config(dtype) if macros is None else macros
        key = (self.device.int_ptr, dtype.char, tuple(sorted(macros.items())))
        with _CACHE_LOCK:
            kernels = _PROGRAMS.get(key)
        if kernels is None:
            real = "double" if dtype == np.complex128 else "float"
            options = [f"-D{k}={v}" for k, v in sorted(macros.items())] + [
                f"-DREAL={real}",
                f"-DMAX_DIMS={MAX_DIMS}",
                f"-DPERMUTE_ROWS={_PERMUTE_ROWS}",
            ]
            program = _build(self._cl, self._context, _kernel_source(), options)
            kernels = _Kernels(program, self._cl)
            self._check_built(kernels, macros)
            with _CACHE_LOCK:
                kernels = _PROGRAMS.setdefault(key, kernels)
        return kernels

    def _check_built(self, kernels: _Kernels, macros: Mapping[str, int]) -> None:
        """Refuse a built GEMM whose work-group the compiled kernel cannot launch."""
        cl, dev = self._cl, self.device
        info = cl.kernel_work_group_info
        limit = int(kernels.cgemm.get_work_group_info(info.WORK_GROUP_SIZE, dev))
        local = int(kernels.cgemm.get_work_group_info(info.LOCAL_MEM_SIZE, dev))
        wg_n, wg_m = _work_group(macros)
        if wg_n * wg_m > limit or local > dev.local_mem_size:
            raise ValueError(
                f"the GEMM kernel built with {dict(macros)} on {dev.name.strip()!r} runs at most {limit} work-items "
                f"and {dev.local_mem_size} bytes of local memory per group; it needs {wg_n * wg_m} and {local}"
            )

    # ---------------------------------------------------------------- interface

    def memory_budget(self) -> int:
        # An intermediate must fit one buffer; a step keeps a few of them alive at
        # once (operands, their permuted copies, the product), as in the numpy backend.
        return min(self._max_alloc, int(self.device.global_mem_size) // 8)

    def _empty(self, shape: Sequence[int], dtype: np.dtype) -> DeviceArray:
        nbytes = prod(shape) * dtype.itemsize
        if nbytes > self._max_alloc:
            raise ValueError(
                f"an array of shape {tuple(shape)} ({nbytes} bytes) exceeds the largest buffer "
                f"{self.name!r} allows ({self._max_alloc} bytes); slice the contraction further"
            )
        buffer = self._cl.Buffer(self._context, self._cl.mem_flags.READ_WRITE, nbytes) if nbytes else None
        return DeviceArray(buffer, shape, dtype)

    def to_device(self, a: np.ndarray) -> DeviceArray:
        """Upload ``a`` (complex64 or complex128) into a new device buffer."""
        a = np.asarray(a, order="C")  # (ascontiguousarray would make 0-d arrays 1-d)
        self._check_dtype(a.dtype)
        out = self._empty(a.shape, a.dtype)
        if out.buffer is not None:
            self._cl.enqueue_copy(self._queue, out.buffer, a, is_blocking=True)
            self._stats["bytes_to_device"] += a.nbytes
        return out

    def to_host(self, a: DeviceArray) -> np.ndarray:
        """Download ``a`` into a new C-contiguous host array."""
        self._check_array(a, "to_host")
        out = np.empty(a.shape, a.dtype)
        if a.buffer is not None:
            self._cl.enqueue_copy(self._queue, out, a.buffer, is_blocking=True)
            self._stats["bytes_to_host"] += out.nbytes
        return out

    def _check_array(self, a: Any, op: str) -> None:
        if not isinstance(a, DeviceArray):
            raise TypeError(f"{op} takes arrays from {self.name}.to_device, not {type(a).__name__}")

    def matmul(self, a: DeviceArray, b: DeviceArray) -> DeviceArray:
        """``(..., m, k) @ (..., k, n)`` on the device.

        The batch dims of ``a`` and ``b`` must be equal, or one side may have none
        (that matrix is then used for every batch entry). Unless the backend was given
        ``tiles`` or ``board``, a product that would leave big tiles mostly empty runs
        with small ones.

        Raises:
            TypeError: not device arrays, or different dtypes.
            ValueError: fewer than 2 dims, mismatched k or batch dims, a dim above
                2**30 (the kernel's indices are 32-bit), or a product larger than one
                device buffer.
        """
        self._check_array(a, "matmul")
        self._check_array(b, "matmul")
        if a.dtype != b.dtype:
            raise TypeError(f"matmul operands differ in dtype: {a.dtype} and {b.dtype}")
        if a.ndim < 2 or b.ndim < 2:
            raise ValueError(f"matmul needs (..., m, k) @ (..., k, n), got shapes {a.shape} and {b.shape}")
        (m, k), (k2, n) = a.shape[-2:], b.shape[-2:]
        if k != k2:
            raise ValueError(f"matmul inner dims differ: {a.shape} @ {b.shape}")
        ba, bb = a.shape[:-2], b.shape[:-2]
        if ba == bb or (prod(bb) == 1 and len(bb) <= len(ba)):
            batch_shape = ba
        elif prod(ba) == 1 and len(ba) <= len(bb):
            batch_shape = bb
        else:
            raise ValueError(f"matmul batch dims must match (or one side have none): {a.shape} @ {b.shape}")
        if max(m, n, k) > _MAX_DIM:
            raise ValueError(f"matmul dims above 2**30 are not supported: {a.shape} @ {b.shape}")
        batch = prod(batch_shape)
        out = self._empty(batch_shape + (m, n), a.dtype)
        if out.buffer is None:
            return out
        if k == 0:
            self._cl.enqueue_fill_buffer(self._queue, out.buffer, np.zeros(1, a.dtype), 0, out.nbytes)
            return out
        cfg = self._gemm_config(a.dtype, m, k, n, batch)
        # a side without batch dims has stride 0: one matrix serves every entry
        self._launch(cfg, a, b, m, k, n, batch, m * k if prod(ba) > 1 else 0, k * n if prod(bb) > 1 else 0, out)
        return out

    def _launch(self, cfg: dict[str, int], a: DeviceArray, b: DeviceArray, m: int, k: int, n: int,
                batch: int = 1, a_stride: int = 0, b_stride: int = 0, out: "DeviceArray | None" = None) -> DeviceArray:
        """Enqueue the GEMM kernel of ``cfg`` (a complete macro set) for one product."""
        if out is None:
            out = self._empty((batch, m, n), a.dtype)
        kernels = self._kernels(a.dtype, cfg)
        wg_n, wg_m = _work_group(cfg)
        groups_m = -(-m // cfg["TILE_M"])
        # Blocks of rows and of batch entries, so that no launch has more than
        # _MAX_GROUPS work-groups along dims 1 and 2 (a CUDA grid limit on GPUs).
        with kernels.lock:
            for g0 in range(0, groups_m, _MAX_GROUPS):
                for b0 in range(0, batch, _MAX_GROUPS):
                    global_size = (
                        -(-n // cfg["TILE_N"]) * wg_n,
                        min(_MAX_GROUPS, groups_m - g0) * wg_m,
                        min(_MAX_GROUPS, batch - b0),
                    )
                    kernels.cgemm(
                        self._queue, global_size, (wg_n, wg_m, 1),
                        np.int32(m), np.int32(n), np.int32(k), np.int32(g0), np.int64(b0),
                        a.buffer, np.int64(a_stride), b.buffer, np.int64(b_stride), out.buffer,
                    )  # fmt: skip
        return out

    def transpose_reshape(self, a: DeviceArray, perm: Sequence[int], shape: Sequence[int]) -> DeviceArray:
        """``a.transpose(perm).reshape(shape)`` on the device.

        A permutation that moves no data (identity, or one that only moves size-1
        dims) returns a view sharing ``a``'s buffer.

        Raises:
            ValueError: ``perm`` is not a permutation of ``a``'s axes or ``shape`` has
                a different number of elements.
        """
        self._check_array(a, "transpose_reshape")
        perm = tuple(int(p) for p in perm)
        if sorted(perm) != list(range(a.ndim)):
            raise ValueError(f"perm {perm} is not a permutation of the {a.ndim} axes of shape {a.shape}")
        shape = _resolve_shape(shape, a.size, a.shape)
        sizes, strides = _collapse(a.shape, perm)
        if len(sizes) <= 1 or a.size == 0:  # the data is already in the order asked for
            return DeviceArray(a.buffer, shape, a.dtype)
        if len(sizes) > MAX_DIMS:
            raise ValueError(f"a permutation of {len(sizes)} non-mergeable dims exceeds MAX_DIMS={MAX_DIMS}")
        out = self._empty(shape, a.dtype)
        info = np.zeros(2 * MAX_DIMS, np.int64)
        info[: len(sizes)] = sizes
        info[MAX_DIMS : MAX_DIMS + len(sizes)] = strides
        # a row holds the last few output dims, enough elements for a vector of work-items
        inner_dims, n_inner = 1, sizes[-1]
        while n_inner < _PERMUTE_MIN_ROW and inner_dims < len(sizes) - 1:
            inner_dims += 1
            n_inner *= sizes[-inner_dims]
        n_rows = a.size // n_inner
        global_size = (n_inner, -(-n_rows // _PERMUTE_ROWS))
        kernels = self._kernels(a.dtype)
        with kernels.lock:
            kernels.permute(
                self._queue, global_size, None,
                a.buffer, out.buffer, np.int32(len(sizes)), np.int32(inner_dims),
                np.int64(n_inner), np.int64(n_rows), info,
            )  # fmt: skip
        return out

    def synchronize(self) -> None:
        """Block until all queued device work is done."""
        self._queue.finish()

    def stats(self) -> dict[str, int]:
        """Host-to-device and device-to-host bytes since the last :meth:`reset_stats`."""
        return dict(self._stats)

    def reset_stats(self) -> None:
        """Zero the byte counters."""
        for key in self._stats:
            self._stats[key] = 0


def _work_group(macros: Mapping[str, int]) -> tuple[int, int]:
    """The GEMM work-group (along n, along m) of a complete macro set."""
    return macros["WG_N"], macros["WG_M"]


def _resolve_shape(shape: Sequence[int], size: int, old: tuple[int, ...]) -> tuple[int, ...]:
    """``shape`` with one ``-1`` filled in; ValueError unless it holds ``size`` elements."""
    shape = tuple(int(s) for s in shape)
    if shape.count(-1) == 1:
        rest = prod(s for s in shape if s != -1)
        if rest and size % rest == 0:
            shape = tuple(size // rest if s == -1 else s for s in shape)
    if any(s < 0 for s in shape) or prod(shape) != size:
        raise ValueError(f"cannot reshape {size} elements (shape {old}) into {shape}")
    return shape
