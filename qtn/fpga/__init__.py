"""The FPGA side of qtn: board profiles and tile sizing (``boards``), the board-time
model (``board_time``), and what drives the RTL array."""
