#!/usr/bin/env bash
# Make sure an OpenCL CPU device that can compile kernels is present.
#
# qtn's test extras install PoCL from PyPI (pocl-binary-distribution). Its LLVM 14
# cannot compile for CPUs newer than it knows (e.g. AMD Zen 5: "unknown target CPU
# 'generic'"). Where that happens and we may use apt, install Debian's PoCL
# (pocl-opencl-icd, LLVM 15), which pyopencl's ICD loader then finds. Nothing is
# installed where the PyPI PoCL works.
set -euo pipefail
. "$(dirname "$0")/apt-install.sh"
PY=${1:-.venv/bin/python}
check() { "$PY" -c "import qtn; print('OpenCL device:', qtn.get_backend('opencl').name)" 2>/dev/null; }
if check; then exit 0; fi
echo "PoCL from PyPI cannot compile kernels on this CPU; installing Debian's PoCL (pocl-opencl-icd)" >&2
apt_install pocl-opencl-icd
if ! check; then
    "$PY" -c "import qtn; qtn.get_backend('opencl')"  # prints why, and fails
    exit 1
fi
