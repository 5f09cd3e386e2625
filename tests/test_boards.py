"""Board profiles, GEMM tile sizing and the modelled board time (qtn.fpga.boards)."""

from __future__ import annotations

import dataclasses
import math
import re
from pathlib import Path

import numpy as np
import pytest

from qtn.fpga import boards
from qtn.fpga.boards import (
    Board,
    available_boards,
    gemm_tiles,
    hls_config_text,
    load_board,
    on_chip_budget_bytes,
)
from qtn.fpga.board_time import modelled_time
from qtn.gemm import GemmSpec

REPO = Path(__file__).resolve().parents[1]
EXPECTED = ["arria10_gx1150", "stratix10_gx2800", "u250", "u280"]
DTYPES = [np.complex64, np.complex128]


# --- profiles -------------------------------------------------------------------------

def test_shipped_boards_are_listed():
    assert set(EXPECTED) <= set(available_boards())


@pytest.mark.parametrize("name", EXPECTED)
def test_every_profile_parses(name):
    board = load_board(name)
    assert isinstance(board, Board) and board.name == name
    assert board.vendor in boards.VENDORS
    assert board.kernel_clock_hz > 0 and board.dsp_count > 0
    assert board.on_chip and all(m.kind in boards.MEMORY_KINDS for m in board.on_chip)
    assert board.on_chip_bytes == sum(m.count * m.width_bits * m.depth // 8 for m in board.on_chip)
    assert board.off_chip.kind in boards.OFF_CHIP_KINDS
    assert board.off_chip.size_bytes > 0 and board.off_chip.bandwidth_bytes_per_s > 0
    assert board.pcie.bandwidth_bytes_per_s > 0


@pytest.mark.parametrize("name", EXPECTED)
def test_every_number_in_a_profile_has_a_source_comment(name):
    text = (REPO / "fpga" / "boards" / f"{name}.toml").read_text()
    numeric = [ln for ln in text.splitlines() if re.match(r"^\s*\w+\s*=\s*[0-9.]+", ln)]
    assert numeric
    for line in numeric:
        idx = text.splitlines().index(line)
        above = text.splitlines()[idx - 1]
        # the source sits on the line or in the comment block right above it
        assert "#" in line or above.lstrip().startswith("#"), f"{name}: no source for {line!r}"


def test_load_by_path_equals_load_by_name():
    path = REPO / "fpga" / "boards" / "u280.toml"
    by_path = load_board(path)
    by_name = load_board("u280")
    assert dataclasses.replace(by_path, source="") == dataclasses.replace(by_name, source="")


def test_unknown_board_lists_valid_names():
    with pytest.raises(ValueError) as err:
        load_board("u9000")
    for name in EXPECTED:
        assert name in str(err.value)


U280 = (REPO / "fpga" / "boards" / "u280.toml").read_text()


def _drop_line(text: str, key: str) -> str:
    return "\n".join(ln for ln in text.splitlines() if not ln.startswith(f"{key} ="))


BROKEN = {
    "missing": (lambda t: _drop_line(t, "dsp_count"), "dsp_count", "missing"),
    "missing_table": (lambda t: t[: t.index("[pcie]")], "pcie", "missing"),
    "negative": (lambda t: t.replace("kernel_clock_mhz = 200.0", "kernel_clock_mhz = -200.0"),
                 "kernel_clock_mhz", "> 0"),
    "zero": (lambda t: t.replace("count = 960", "count = 0"), "on_chip.uram.count", "> 0"),
    "wrong_type": (lambda t: t.replace("dsp_count = 9024", 'dsp_count = "9024"'), "dsp_count", "integer"),
    "bool": (lambda t: t.replace("lanes = 16", "lanes = true"), "pcie.lanes", "integer"),
    "float_count": (lambda t: t.replace("count = 2016", "count = 2016.5"), "on_chip.bram36.count", "integer"),
    "unknown_memory_kind": (lambda t: t.replace("[on_chip.uram]", "[on_chip.lutram]"), "on_chip.lutram",
                            "unknown memory kind"),
    "unknown_offchip_kind": (lambda t: t.replace('kind = "hbm2"', 'kind = "gddr6"'), "off_chip.kind", "one of"),
    "impossible_clock": (lambda t: t.replace("kernel_clock_mhz = 200.0", "kernel_clock_mhz = 200000.0"),
                         "kernel_clock_mhz", "<="),
    "zero_bandwidth": (lambda t: t.replace("bandwidth_gbs = 460.0", "bandwidth_gbs = 0"),
                       "off_chip.bandwidth_gbs", "> 0"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_profile_is_rejected_naming_file_and_field(tmp_path, case):
    mutate, field, why = BROKEN[case]
    text = mutate(U280)
    assert text != U280
    path = tmp_path / f"broken_{case}.toml"
    path.write_text(text)
    with pytest.raises(ValueError) as err:
        load_board(path)
    msg = str(err.value)
    assert path.name in msg and f"'{field}'" in msg and why in msg, msg


def test_unknown_top_level_field_is_rejected(tmp_path):
    path = tmp_path / "typo.toml"
    path.write_text(U280.replace("dsp_count = 9024", "dsp_count = 9024\ndsp_cuont = 9024"))
    with pytest.raises(ValueError, match="dsp_cuont"):
        load_board(path)


def test_invalid_toml_is_a_value_error(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("name = ")
    with pytest.raises(ValueError, match="bad.toml"):
        load_board(path)


# --- tiles ---------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", EXPECTED)
def test_tiles_fit_the_board_and_keep_the_promised_multiples(name, dtype):
    board = load_board(name)
    t = gemm_tiles(board, dtype)
    assert 0 < t.data_bytes <= t.bytes_used <= board.on_chip_bytes
    itemsize = np.dtype(dtype).itemsize
    assert t.data_bytes == (t.tile_m * t.tile_n + 2 * t.tile_k * (t.tile_m + t.tile_n)) * itemsize
    mac = t.macros()
    assert {"TILE_M", "TILE_N", "TILE_K"} <= set(mac)
    assert mac["TILE_M"] % 8 == 0 and mac["TILE_N"] % 8 == 0 and mac["TILE_K"] % 4 == 0
    assert mac["TILE_M"] % mac["PE_M"] == 0
    assert mac["TILE_N"] % (mac["PE_N"] * mac["ACC_INTERLEAVE"]) == 0
    # the compute array fits the DSPs it is allowed
    assert t.pe_m * t.pe_n * board.dsp_per_complex_mac(dtype) <= board.dsp_count * boards.DSP_UTILIZATION


def test_compute_array_follows_vendor_dsp_costs():
    # Xilinx: 5 DSP48E2 per fp32 multiply-add -> 20 per complex MAC; Intel: 1 -> 4.
    assert load_board("u280").dsp_per_complex_mac(np.complex64) == 20
    assert load_board("arria10_gx1150").dsp_per_complex_mac(np.complex64) == 4
    t = gemm_tiles("u280", np.complex64)
    assert (t.pe_m, t.pe_n) == (16, 20)  # floor(9024 * 0.8 / 20) = 360 -> 16 x 20


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", EXPECTED)
def test_tiles_grow_monotonically_with_the_on_chip_budget(name, dtype):
    board = load_board(name)
    previous = None
    for factor in (0.25, 0.5, 1.0, 2.0, 4.0):
        scaled = board.scaled_on_chip(factor)
        t = gemm_tiles(scaled, dtype)
        assert t.bytes_used <= scaled.on_chip_bytes
        if previous is not None:
            assert t.intensity >= previous.intensity
            assert t.tile_m * t.tile_n >= previous.tile_m * previous.tile_n
        previous = t


def test_tiles_respect_block_granularity():
    # M20K is 40 bits wide: a 64-bit complex64 word spans 2 blocks, so a 512-deep
    # bank costs 2 blocks and the occupied bytes are whole multiples of a block.
    board = load_board("arria10_gx1150")
    t = gemm_tiles(board, np.complex64)
    block = board.on_chip[0].block_bytes
    assert t.bytes_used % block == 0
    banks_c = t.pe_m * t.pe_n
    blocks_c = banks_c * 2 * math.ceil(t.tile_m * t.tile_n / banks_c / 512)
    blocks_a = 2 * t.pe_m * 2 * math.ceil(t.tile_m // t.pe_m * t.tile_k / 512)
    blocks_b = 2 * t.pe_n * 2 * math.ceil(t.tile_k * (t.tile_n // t.pe_n) / 512)
    assert t.bytes_used == (blocks_c + blocks_a + blocks_b) * block
    assert blocks_c + blocks_a + blocks_b <= int(2713 * boards.ON_CHIP_UTILIZATION)


def test_tiles_reject_other_dtypes():
    with pytest.raises(TypeError, match="complex64"):
        gemm_tiles("u280", np.float32)


def test_on_chip_budget_hand_calculation():
    # Arria 10: 2170 usable M20K, 2 per 64-bit word, 512 words deep, 8 bytes, / 3 tensors
    assert on_chip_budget_bytes("arria10_gx1150", np.complex64) == 2170 // 2 * 512 * 8 // 3
    for name in EXPECTED:
        for dtype in DTYPES:
            assert 0 < on_chip_budget_bytes(name, dtype) < load_board(name).on_chip_bytes


# --- modelled time -------------------------------------------------------------------

def test_modelled_time_is_positive_and_labelled():
    t = modelled_time([GemmSpec(1, 64, 64, 64)], 1, 1 << 20, 1 << 10, "u280")
    assert t.compute_s > 0 and t.offchip_s > 0 and t.pcie_s > 0 and t.total_s > 0
    assert "modelled" in str(t) and "modelled" in t.report() and "u280" in str(t)


@pytest.mark.parametrize("name", EXPECTED)
@pytest.mark.parametrize("dtype", DTYPES)
def test_modelled_time_grows_with_gemm_size(name, dtype):
    times = [modelled_time([GemmSpec(1, s, s, s)], 1, 0, 0, name, dtype) for s in (16, 128, 1024, 4096)]
    for small, big in zip(times, times[1:]):
        assert big.total_s > small.total_s
        assert big.compute_s > small.compute_s
        assert big.offchip_s > small.offchip_s


def test_modelled_time_scales_with_slices_and_bounds_total():
    one = modelled_time([GemmSpec(2, 300, 40, 500), GemmSpec(1, 8, 2, 8)], 1, 4096, 512, "u250")
    ten = modelled_time([GemmSpec(2, 300, 40, 500), GemmSpec(1, 8, 2, 8)], 10, 4096, 512, "u250")
    assert ten.total_s == pytest.approx(10 * one.total_s)
    assert ten.tile_passes == 10 * one.tile_passes
    assert max(one.compute_s, one.offchip_s) + one.pcie_s <= one.total_s + 1e-15
    assert one.total_s <= one.compute_s + one.offchip_s + one.pcie_s + 1e-15


def test_modelled_time_hand_calculation_u280():
    t = gemm_tiles("u280", np.complex64)
    assert (t.pe_m, t.pe_n, t.interleave) == (16, 20, 8)
    # 32 x 10 x 160: 2 PE rows x 1 group of 8 interleaved 20-wide blocks x 10 k-steps
    # = 160 cycles, plus one tile pass of overhead, at 200 MHz.
    cycles = 2 * 8 * 10 + boards.PASS_OVERHEAD_CYCLES
    moved = 8 * (32 * 10 + 10 * 160 + 32 * 160)  # A, B once (one tile), C written once
    r = modelled_time([GemmSpec(1, 32, 10, 160)], 1, 1000, 24, "u280")
    assert r.tile_passes == 1
    assert r.compute_s == pytest.approx(cycles / 200e6)
    assert r.offchip_s == pytest.approx(moved / 460e9)
    assert r.pcie_s == pytest.approx(1024 / 15.75e9)
    assert r.total_s == pytest.approx(max(cycles / 200e6, moved / 460e9) + 1024 / 15.75e9)
    assert r.flops == 8 * 32 * 10 * 160


def test_modelled_time_counts_padding_and_tile_passes():
    t = gemm_tiles("u280", np.complex64)
    # 17 rows need 2 PE rows; 1 column still costs a whole interleave group
    r = modelled_time([GemmSpec(1, 17, 1, 1)], 1, 0, 0, "u280")
    assert r.compute_s == pytest.approx((2 * 8 * 1 + boards.PASS_OVERHEAD_CYCLES) / 200e6)
    # passes: batch x row tiles x column tiles x K panels
    g = GemmSpec(2, 2 * t.tile_m + 1, t.tile_k + 1, t.tile_n + 1)
    assert modelled_time([g], 1, 0, 0, "u280").tile_passes == 2 * 3 * 2 * 2
    # A is re-read once per column of tiles, B once per row of tiles
    moved = 8 * 2 * (g.m * g.k * 2 + g.k * g.n * 3 + g.m * g.n)
    assert modelled_time([g], 1, 0, 0, "u280").offchip_s == pytest.approx(moved / 460e9)


@pytest.mark.parametrize("name", ["arria10_gx1150", "stratix10_gx2800"])
def test_modelled_time_prices_the_opencl_kernel_on_intel_boards(name):
    """The Intel boards run cgemm.cl with C_LOCAL 0: C is read and written per K panel,
    and each tile pass stages its A and B tiles before its multiply-adds."""
    board = load_board(name)
    t = gemm_tiles(board, np.complex64)
    assert t.opencl_macros()["C_LOCAL"] == 0
    g = GemmSpec(1, t.tile_m, 4 * t.tile_k, t.tile_n)  # one output tile, four K panels
    r = modelled_time([g], 1, 0, 0, board)
    # A and B once; C written by the first panel, read and written by the three others
    moved = 8 * (g.m * g.k + g.k * g.n + 7 * g.m * g.n)
    assert r.offchip_s == pytest.approx(moved / board.off_chip.bandwidth_bytes_per_s)
    pe_cycles = (t.tile_m // t.pe_m) * (t.tile_n // (t.pe_n * t.interleave)) * t.interleave * g.k
    staging = 4 * (t.tile_m + t.tile_n) * t.tile_k  # one element a cycle, per tile pass
    cycles = pe_cycles + staging + 4 * boards.PASS_OVERHEAD_CYCLES
    assert r.tile_passes == 4
    assert r.compute_s == pytest.approx(cycles / board.kernel_clock_hz)
    # the HLS kernel (an Alveo card, same tiles) keeps C on chip: C written once
    hls = modelled_time([g], 1, 0, 0, dataclasses.replace(board, vendor="xilinx"))
    assert hls.offchip_s == pytest.approx(8 * (g.m * g.k + g.k * g.n + g.m * g.n) / board.off_chip.bandwidth_bytes_per_s)
    assert hls.compute_s == pytest.approx((pe_cycles + 4 * boards.PASS_OVERHEAD_CYCLES) / board.kernel_clock_hz)


def test_modelled_time_rejects_bad_input():
    with pytest.raises(ValueError, match="n_slices"):
        modelled_time([GemmSpec(1, 2, 2, 2)], -1, 0, 0, "u280")
    with pytest.raises(ValueError, match="GEMM m"):
        modelled_time([GemmSpec(1, -2, 2, 2)], 1, 0, 0, "u280")
    with pytest.raises(TypeError):
        modelled_time([GemmSpec(1, 2, 2, 2)], 1, 0, 0, "u280", np.float64)


# --- HLS config header ---------------------------------------------------------------

def test_hls_config_has_sizes_and_static_asserts(tmp_path):
    text = hls_config_text("u250")
    t = gemm_tiles("u250", np.complex64)
    assert f"#define QTN_C64_TILE_M {t.tile_m}" in text
    assert text.count("static_assert") >= 10
    out = boards.write_hls_config("u250", tmp_path / "config.h")
    assert out.read_text() == text


def test_committed_config_h_is_current():
    # fpga/hls/config.h is generated for the default board (u280); regenerate it with
    # qtn.fpga.boards.write_hls_config("u280", "fpga/hls/config.h") when this fails.
    assert (REPO / "fpga" / "hls" / "config.h").read_text() == hls_config_text("u280")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", EXPECTED)
def test_opencl_macros_are_the_kernels_complete_set(name, dtype):
    from qtn.backends.opencl_tiles import KERNEL_MACROS, kernel_macros

    t = gemm_tiles(name, dtype)
    mac = t.opencl_macros()
    assert list(mac) == list(KERNEL_MACROS) and kernel_macros(mac) == mac
    assert (mac["WPT_M"], mac["WPT_N"], mac["ACC_INTERLEAVE"]) == (t.pe_m, t.pe_n, t.interleave)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", EXPECTED)
def test_each_memory_kind_holds_what_is_bound_to_it(name, dtype):
    """Recount, per kind, the blocks of the buffers the sizing bound to it (hand formula)."""
    board = load_board(name)
    t = gemm_tiles(board, dtype)
    bits = np.dtype(dtype).itemsize * 8
    buffers = [(t.pe_m * t.pe_n, t.tile_m // t.pe_m * t.tile_n // t.pe_n),
               (2 * t.pe_m, t.tile_m // t.pe_m * t.tile_k), (2 * t.pe_n, t.tile_k * t.tile_n // t.pe_n)]
    total = 0
    for mem in board.on_chip:
        used = sum(banks * math.ceil(bits / mem.width_bits) * math.ceil(depth / mem.depth)
                   for (banks, depth), kind in zip(buffers, t.storage) if kind == mem.kind)
        assert used <= int(mem.count * boards.ON_CHIP_UTILIZATION), (mem.kind, used)
        total += used * mem.block_bytes
    assert total == t.bytes_used
