"""``qtn fpga`` on a real circuit: Verilated cycles of the whole plan, and of a sample of
GEMMs when the plan is long, next to the calibrated cycle model."""

import json

from qtn.cli import main
from qtn.fpga.plan_cycles import plan_cycles
from qtn.fpga.rtl_sim import ArrayConfig
from qtn.generators import from_name


def test_qtn_fpga_json_has_the_promised_keys(capsys):
    assert main(["fpga", "grid:3x3:6", "--board", "ecp5_85f", "--pe", "2x2", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    for key in ("simulated_cycles", "modelled_cycles", "fmax_mhz", "resources", "board_time_s", "label", "utilization"):
        assert key in doc
    assert doc["simulated_cycles"] > 0 and abs(doc["relative_error"]) <= 0.05
    assert 0 < doc["utilization"] <= 1 and "not" in doc["label"]


def test_long_plans_are_sampled():
    pc = plan_cycles(from_name("qft:8"), "u280", config=ArrayConfig(2, 2), sample=3, max_simulated_cycles=10)
    assert pc.simulated_scope.startswith("sample of 3 of")
    assert abs(pc.relative_error) <= 0.05 and max(abs(e) for e in pc.gemm_rel_errors) <= 0.10


def test_bad_pe_is_a_usage_error(capsys):
    assert main(["fpga", "ghz:4", "--board", "ecp5_85f", "--pe", "2by2"]) != 0
    assert "--pe" in capsys.readouterr().err


def test_fmax_is_used_only_for_the_array_size_it_was_routed_at(tmp_path, monkeypatch):
    from qtn.fpga import synth
    from qtn.fpga.plan_cycles import synthesized_clock

    monkeypatch.setenv("QTN_CACHE_DIR", str(tmp_path))
    synth.save_synthesis("ecp5_85f", {"array": {"PE_M": 4, "PE_N": 4}, "pnr": {"fmax_mhz": 93.5, "utilization": {}}})
    fmax, _, clock, label = synthesized_clock("ecp5_85f", ArrayConfig(4, 4))
    assert (fmax, clock) == (93.5, 93.5) and "nextpnr" in label
    fmax, res, clock, label = synthesized_clock("ecp5_85f", ArrayConfig(2, 2))
    assert fmax is None and res is None and clock == 90.0 and "assumed" in label and "4x4" in label


def test_card_extent_covers_permute_sources():
    from qtn.fpga.descriptors import GemmDesc, PermuteDesc, card_extent

    # the source of the permute (an input uploaded last) lies above every destination
    p = PermuteDesc(0, False, 1000, 10, 5, 2, (2, 3), (1, 4))
    g = GemmDesc(1, True, 1, 2, 3, 1, 10, 5, 40, 7, 50)
    assert card_extent([p, g]) == (1000 + 1 + 2 * 4 + 1, 8)
