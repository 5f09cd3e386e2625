"""Which RTL array a board gets: PE grid and number format sized to its multipliers.

Each complex PE takes four real ``MW x MW`` multipliers (one ECP5 MULT18X18D or one
Xilinx DSP48E2 27x18 each for ``MW <= 18``); the array takes ``DSP_UTILIZATION`` of the
board's multipliers, as :mod:`qtn.fpga.boards` assumes for the HLS kernel, and is the
largest power-of-two square (or 2:1) grid that fits.
"""

from __future__ import annotations

from .boards import DSP_UTILIZATION, Board, load_board
from .formats import BfpFormat
from .rtl_sim import ArrayConfig

#: Real multipliers per complex multiply (no Gauss 3-multiplier trick: it costs an
#: extra adder stage and one more mantissa bit).
MULTS_PER_CMAC = 4
DEFAULT_FORMAT = BfpFormat(18, 54)


def array_for_board(board: "Board | str", fmt: BfpFormat = DEFAULT_FORMAT) -> ArrayConfig:
    """The PE grid of the RTL array on ``board`` (at most 32 x 32).

    Raises:
        ValueError: unknown board, or a mantissa too wide for one multiplier per product.
    """
    if not isinstance(board, Board):
        board = load_board(board)
    if fmt.mantissa_bits > 18:
        raise ValueError(f"mantissa_bits {fmt.mantissa_bits} > 18 needs several multipliers per product; "
                         "the board sizing assumes one")
    pes = int(board.dsp_count * DSP_UTILIZATION) // MULTS_PER_CMAC
    pe_m = pe_n = 1
    while pe_m * 2 * pe_n * 2 <= pes and pe_m < 32:
        pe_m *= 2
        pe_n *= 2
    if pe_m * pe_n * 2 <= pes and pe_n < 32:
        pe_n *= 2
    return ArrayConfig(pe_m, pe_n, fmt)
