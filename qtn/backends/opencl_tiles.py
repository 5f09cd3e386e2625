"""GEMM tile macros of the OpenCL kernel: the one validated set, defaults and tuning.

``fpga/kernels/cgemm.cl`` reads exactly the macros in :data:`KERNEL_MACROS`.
:func:`kernel_macros` completes a partial set with the kernel's own defaults and
refuses unknown names, missing sizes and sizes that are not multiples, so every macro
passed is read and every macro read is passed (the kernel's ``#error`` lines repeat the
rules for hand-made ``-D`` sets, such as the ``aoc`` commands in ``fpga/README.md``).

Tiles are picked per device the way CLBlast tunes: a few candidates for the kind of
runtime are timed on one product, the fastest wins and is cached on disk per
(platform, device, driver, dtype, kernel source), so a device is tuned once.
``QTN_OPENCL_TUNE=0`` skips the search (the first candidate is used),
``QTN_OPENCL_TUNE=force`` searches again.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from ..host import cache_dir

#: Every macro the GEMM kernel reads; None marks a required one. WG_M / WG_N default
#: to one pass per tile (see :func:`kernel_macros`).
KERNEL_MACROS: dict[str, "int | None"] = {
    "TILE_M": None, "TILE_N": None, "TILE_K": None, "WPT_M": None, "WPT_N": None,
    "ACC_INTERLEAVE": 1, "VW": 1, "WG_M": None, "WG_N": None, "C_LOCAL": 0,
}
#: Macros that are switches (0 or 1) rather than sizes.
SWITCHES = ("C_LOCAL",)
VECTOR_WIDTHS = (1, 2, 4, 8, 16)
#: Bumped when the candidate lists change, so old cached choices are searched again.
CANDIDATES_VERSION = 4


def kernel_macros(macros: Mapping[str, Any]) -> dict[str, int]:
    """The complete, validated macro set the GEMM kernel is built with.

    Args:
        macros: at least TILE_M, TILE_N, TILE_K, WPT_M, WPT_N; optionally
            ACC_INTERLEAVE, VW, WG_M, WG_N.

    Returns:
        All of :data:`KERNEL_MACROS`, defaults filled in.

    Raises:
        ValueError: an unknown macro (the kernel would ignore it), a missing one, a
            size that is not positive, or tiles that are not multiples of the
            work-group's blocks.
        TypeError: a value that is not an int.
    """
    unknown = sorted(set(macros) - set(KERNEL_MACROS))
    if unknown:
        raise ValueError(f"the OpenCL GEMM kernel reads no macro {', '.join(unknown)}; "
                         f"it reads {', '.join(KERNEL_MACROS)}")
    out: dict[str, int] = {}
    for key, value in macros.items():
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"tile macro {key} must be an int, got {value!r}")
        out[key] = int(value)
    missing = [k for k, d in KERNEL_MACROS.items() if d is None and k not in out and not k.startswith("WG_")]
    if missing:
        raise ValueError(f"tile macros lack {', '.join(missing)}; got {dict(macros)}")
    for key, default in KERNEL_MACROS.items():
        if default is not None:
            out.setdefault(key, default)
    bad = [k for k, v in out.items() if v <= 0 and k not in SWITCHES]
    bad += [k for k in SWITCHES if out[k] not in (0, 1)]
    if bad:
        raise ValueError(f"tile macros {', '.join(bad)} must be positive integers ({', '.join(SWITCHES)}: "
                         f"0 or 1); got {out}")
    cols = out["WPT_N"] * out["ACC_INTERLEAVE"]  # columns one work-item owns per pass
    out.setdefault("WG_M", max(1, out["TILE_M"] // out["WPT_M"]))
    out.setdefault("WG_N", max(1, out["TILE_N"] // cols))
    if out["VW"] not in VECTOR_WIDTHS or out["WPT_N"] % out["VW"]:
        raise ValueError(f"VW must be one of {VECTOR_WIDTHS} and divide WPT_N; got {out}")
    if out["TILE_M"] % (out["WG_M"] * out["WPT_M"]) or out["TILE_N"] % (out["WG_N"] * cols):
        raise ValueError(f"TILE_M must be a multiple of WG_M * WPT_M and TILE_N of "
                         f"WG_N * WPT_N * ACC_INTERLEAVE; got {out}")
    return {k: out[k] for k in KERNEL_MACROS}


#: Outputs per work-item to start from when tiles come without WPT_M / WPT_N.
DEFAULT_WPT = 4
#: Most bytes of work-item state one PoCL work-group may keep across a barrier. PoCL
#: keeps it on its worker thread's stack: measured with PoCL 3.0 on a Xeon, 2.5 MB of
#: accumulators per work-group ran and 3 MB crashed the process (SIGSEGV).
POCL_CONTEXT_BYTES = 2 << 20


def fit_to_device(macros: Mapping[str, int], dtype: np.dtype, device: Any) -> dict[str, int]:
    """The complete macro set (WPT_M/WPT_N chosen when absent), checked against
    ``device``: refused here, before any launch, if it cannot run.

    Raises:
        ValueError: an invalid set (see :func:`kernel_macros`), or one needing a
            larger work-group, local memory or (PoCL) work-group state than the
            device has.
    """
    macros = dict(macros)
    tiles = [macros.get(k) for k in ("TILE_M", "TILE_N", "TILE_K")]
    max_wg = int(device.max_work_group_size)
    dims = device.max_work_item_sizes
    if all(isinstance(t, int) and t > 0 for t in tiles) and ("WPT_M" not in macros or "WPT_N" not in macros):
        tm, tn, _ = tiles
        ilv = int(macros.get("ACC_INTERLEAVE", 1))
        wm = int(macros.get("WPT_M", np.gcd(tm, DEFAULT_WPT)))
        wn = int(macros.get("WPT_N", np.gcd(tn // max(ilv, 1), DEFAULT_WPT) or 1))
        # double the outputs per work-item along the longer side of the work-group
        # (where not given) until the work-group fits the device
        while (tm // wm) * (tn // (wn * ilv)) > max_wg or tm // wm > dims[1] or tn // (wn * ilv) > dims[0]:
            grow = []
            if "WPT_M" not in macros and tm % (2 * wm) == 0:
                grow.append((tm // wm, 2 * wm, wn))
            if "WPT_N" not in macros and tn % (2 * wn * ilv) == 0:
                grow.append((tn // (wn * ilv), wm, 2 * wn))
            if not grow:
                break
            _, wm, wn = max(grow)
        macros.setdefault("WPT_M", wm)
        macros.setdefault("WPT_N", wn)
    full = kernel_macros(macros)
    name = device.name.strip()
    wg_n, wg_m = full["WG_N"], full["WG_M"]
    if wg_n * wg_m > max_wg or wg_n > dims[0] or wg_m > dims[1]:
        raise ValueError(
            f"tiles {full} need a {wg_n}x{wg_m} work-group; {name!r} allows {max_wg} work-items "
            f"({dims[0]}x{dims[1]}); raise WPT_M/WPT_N or set WG_M/WG_N"
        )
    local = local_bytes(full, dtype)
    if local > device.local_mem_size:
        raise ValueError(
            f"tiles {full} need {local} bytes of local memory for {dtype}; {name!r} has {device.local_mem_size}"
        )
    # accumulators plus one PE block of B, per work-item
    private = dtype.itemsize * full["WPT_M"] * full["WPT_N"] * full["ACC_INTERLEAVE"] + dtype.itemsize * full["WPT_N"]
    if wg_n * wg_m > 1 and is_pocl(device) and wg_n * wg_m * private > POCL_CONTEXT_BYTES:
        raise ValueError(
            f"tiles {full} keep {wg_n * wg_m} work-items x {private} bytes of accumulators across barriers; "
            f"PoCL holds that on a worker thread's stack, which takes at most {POCL_CONTEXT_BYTES} bytes "
            "(more crashes the process): use fewer work-items (WG_M=WG_N=1) or smaller WPT_M/WPT_N"
        )
    return full


def passes(macros: Mapping[str, int]) -> int:
    """Passes a work-group makes over its tile per K panel (1: accumulators stay in
    registers for the whole K loop) of a complete macro set."""
    return (macros["TILE_M"] // (macros["WG_M"] * macros["WPT_M"])
            * (macros["TILE_N"] // (macros["WG_N"] * macros["WPT_N"] * macros["ACC_INTERLEAVE"])))


def local_bytes(macros: Mapping[str, int], dtype: np.dtype) -> int:
    """Local memory of the GEMM kernel with a complete macro set: the A and B panels
    (real and imaginary planes), and the output tile with C_LOCAL and several passes."""
    size = dtype.itemsize * macros["TILE_K"] * (macros["TILE_M"] + macros["TILE_N"])
    if macros["C_LOCAL"] and passes(macros) > 1:
        size += dtype.itemsize * macros["TILE_M"] * macros["TILE_N"]
    return size


def is_pocl(device: Any) -> bool:
    """Whether ``device`` runs on PoCL (the portable CPU runtime the tests use)."""
    return "portable computing language" in device.platform.name.lower()


def candidates(kind: str, device: Any, dtype: np.dtype, small: bool = False) -> list[dict[str, int]]:
    """Tile candidates for a device, best guess first (the untuned default).

    PoCL runs a work-group as a loop over its work-items and keeps values that live
    across a barrier in memory, so there one work-item per group packs the tiles and
    sweeps them with explicit VW-wide vectors (a BLAS-style micro-kernel: WPT_M rows x
    WPT_N / VW vectors x (re, im) accumulators in registers), with the output tile in
    local memory across K panels (C_LOCAL). Other CPU runtimes (Intel's) vectorise
    across work-items themselves: wide groups, VW 1. ``small`` gives the tiles for
    products that would leave big ones mostly empty.
    """
    if kind != "CPU":
        if small:
            return [{"TILE_M": 16, "TILE_N": 16, "TILE_K": 8, "WPT_M": 1, "WPT_N": 1}]
        return [{"TILE_M": tm, "TILE_N": tn, "TILE_K": tk, "WPT_M": wm, "WPT_N": wn}
                for tm, tn, tk, wm, wn in ((64, 64, 16, 4, 4), (128, 128, 16, 8, 8), (64, 64, 32, 4, 4),
                                           (128, 64, 16, 8, 4), (32, 32, 16, 2, 2))]
    if is_pocl(device):
        width = device.native_vector_width_double if dtype == np.complex128 else device.native_vector_width_float
        vw = max(1, min(16, int(width)))
        one_item = {"WG_M": 1, "WG_N": 1}
        if small:
            vw = min(vw, 8)
            return [{"TILE_M": 8, "TILE_N": vw, "TILE_K": 32, "WPT_M": 4, "WPT_N": vw, "VW": vw} | one_item]
        # 32 vector registers with AVX-512 (vectors of 64 bytes): 6 rows x 2 vectors x
        # (re, im) = 24 accumulators, the B vectors and the A broadcasts; with 16
        # registers take 3 rows. Measured on a 2-core AVX-512 Xeon (PoCL 3.0, complex64,
        # 1024^3): 192 x 256 tiles beat 96 x 128 ones (A and B are staged once per tile,
        # so bigger tiles stage less per multiply-add); 384 x 256 tiles (3 row blocks
        # for 2 cores) and 12 rows x 1 vector (twice the broadcasts per FMA) lost and
        # are not timed. Each candidate costs a build (~0.5 s) on first use.
        rows = 6 if vw * dtype.itemsize // 2 >= 64 else 3
        # (row blocks per tile, rows per work-item, vectors per work-item, vectors per tile row, TILE_K)
        shapes = ((32, rows, 2, 16, 128), (32, rows, 2, 16, 256), (32, rows, 2, 32, 64), (16, rows, 2, 8, 128))
        out = [{"TILE_M": blocks * wpt_m, "TILE_N": per_row * vw, "TILE_K": tk, "WPT_M": wpt_m,
                "WPT_N": vectors * vw, "VW": vw, "C_LOCAL": 1} | one_item
               for blocks, wpt_m, vectors, per_row, tk in shapes]
        # local memory holds the A and B panels and the output tile
        return [c for c in _unique(out) if local_bytes(kernel_macros(c), dtype) <= device.local_mem_size]
    if small:
        return [{"TILE_M": 16, "TILE_N": 16, "TILE_K": 8, "WPT_M": 2, "WPT_N": 1}]
    # complex128 needs half the accumulators to stay in registers
    wpt_m = 4 if dtype == np.complex128 else 8
    return [{"TILE_M": 128, "TILE_N": 128, "TILE_K": 16, "WPT_M": wpt_m, "WPT_N": 2},
            {"TILE_M": 64, "TILE_N": 128, "TILE_K": 32, "WPT_M": wpt_m // 2, "WPT_N": 2},
            {"TILE_M": 128, "TILE_N": 64, "TILE_K": 16, "WPT_M": wpt_m, "WPT_N": 1}]


def _unique(configs: list[dict[str, int]]) -> list[dict[str, int]]:
    seen, out = set(), []
    for c in configs:
        key = tuple(sorted(c.items()))
        if key not in seen:
            seen.add(key)
            out.append(c)
    return out


def tuning_size(kind: str) -> int:
    """Edge of the square product candidates are timed on (big enough to fill a GPU)."""
    return 2048 if kind == "GPU" else 1024


def _cache_file() -> Path:
    return cache_dir("opencl") / "tiles.json"


def _device_key(device: Any, dtype: np.dtype, source: str) -> str:
    digest = hashlib.sha256(source.encode()).hexdigest()[:12]
    return "|".join([device.platform.name.strip(), device.platform.version.strip(), device.name.strip(),
                     device.driver_version.strip(), np.dtype(dtype).name, digest, f"v{CANDIDATES_VERSION}"])


def _read_cache(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def tuning_record(device: Any, dtype: np.dtype, source: str) -> "dict[str, Any] | None":
    """The cached search for this device and dtype (chosen macros, every candidate's
    measured GFLOP/s, when and on what product), or None if none was made."""
    entry = _read_cache(_cache_file()).get(_device_key(device, dtype, source))
    return entry if isinstance(entry, dict) else None


def tuned_tiles(device: Any, dtype: np.dtype, kind: str, source: str,
                time_config: Callable[[dict[str, int], int], float],
                fits: Callable[[dict[str, int]], bool]) -> dict[str, int]:
    """The fastest candidate for this device and dtype, from the disk cache or a search.

    Args:
        device: the ``pyopencl.Device``.
        dtype: complex64 or complex128.
        kind: ``"CPU"``, ``"GPU"``, ...
        source: the kernel source (a change of kernel invalidates the cache entry).
        time_config: seconds of one ``n x n x n`` product with given macros.
        fits: whether the device can run a candidate (local memory, work-group size).

    Returns:
        The chosen macros (as :func:`candidates` lists them).
    """
    options = [c for c in candidates(kind, device, dtype) if fits(c)]
    if not options:
        raise ValueError(f"no tile candidate fits {device.name.strip()!r}")
    mode = os.environ.get("QTN_OPENCL_TUNE", "1").strip().lower()
    if mode in ("0", "off", "no") or len(options) == 1:
        return options[0]
    path = _cache_file()
    key = _device_key(device, dtype, source)
    entry = _read_cache(path).get(key)
    if mode != "force" and isinstance(entry, dict) and entry.get("macros") in options:
        return dict(entry["macros"])
    n = tuning_size(kind)
    rates = []
    for cand in options:
        seconds = time_config(cand, n)
        rates.append((8 * n**3 / seconds / 1e9, cand))
    best = max(rates, key=lambda r: r[0])[1]
    record = {"macros": best, "product": [n, n, n], "measured": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
              "gflops": [{"macros": c, "gflops": round(r, 2)} for r, c in rates]}
    _write_cache(path, key, record)
    return dict(best)


def _write_cache(path: Path, key: str, record: dict[str, Any]) -> None:
    """Merge one entry into the cache file, atomically (a failed write only costs a re-tune)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        data = _read_cache(path)
        data[key] = record
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tiles.", suffix=".tmp")
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=1, sort_keys=True)
        os.replace(tmp, path)
    except OSError:
        pass
