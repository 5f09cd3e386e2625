"""A tiny synthesis by the real yosys: one complex PE of the RTL array maps its four
real products onto four ECP5 MULT18X18D multipliers at 18-bit mantissas (and needs
more when the mantissa is wider than the multiplier). Full-size synthesis and
place-and-route run in bench/fpga.py."""

import pytest

from qtn.fpga.synth import synthesize


@pytest.mark.parametrize("mw, mults", [(18, 4), (12, 4)])
def test_one_pe_uses_four_multipliers(tmp_path, mw, mults):
    result = synthesize("ecp5", "qtn_cpe", {"MW": mw, "AW": 2 * mw + 18}, tmp_path, files=("qtn_cpe.sv",))
    cells = result["cells"]
    assert cells.get("MULT18X18D", 0) == mults
    assert cells.get("TRELLIS_FF", 0) >= 2 * (2 * mw + 18) + 4 * mw  # accumulators, result and operand registers
