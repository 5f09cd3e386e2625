"""Reading circuits from files: OpenQASM 2 and 3 (``.qasm``), qsim (``.qsim``), Cirq JSON
(``.json``) and Qiskit QPY (``.qpy``, with the ``qiskit`` extra).

Every reader returns a ``cirq.Circuit`` that keeps each declared qubit, idle or not;
qtn's entry points take the qubits in declaration order (:mod:`qtn.io.layout`).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import cirq

from .cirq_json import parse_json
from .errors import CircuitFileError
from .layout import declared_order, with_declared_qubits
from .qasm2 import parse_qasm2, read_text
from .qsim import parse_qsim

__all__ = ["CircuitFileError", "declared_order", "parse_json", "parse_qasm", "parse_qasm2", "parse_qasm3",
           "parse_qsim", "read_circuit", "with_declared_qubits", "SUFFIXES"]

_VERSION = re.compile(r"^(?:\s|//[^\n]*\n|/\*.*?\*/)*OPENQASM\s+([0-9.]+)", re.DOTALL)


def qasm_version(text: str) -> str | None:
    """The version the ``OPENQASM`` header names, or ``None`` without a header."""
    m = _VERSION.match(text)
    return m.group(1) if m else None


def parse_qasm3(text: str, source: str = "<string>") -> cirq.Circuit:
    """Parse an OpenQASM 3 program (see :mod:`qtn.io.qasm3`)."""
    from .qasm3 import parse_qasm3 as parse

    return parse(text, source)


def parse_qasm(text: str, source: str = "<string>") -> cirq.Circuit:
    """Parse OpenQASM 2 or 3, by the version in the ``OPENQASM`` header.

    Raises:
        CircuitFileError: naming file and line: a missing or unknown version, a syntax
            error, an unknown or unsupported gate or statement.
    """
    version = qasm_version(text)
    if version is None:
        raise CircuitFileError(f"{source}:1: the file must start with 'OPENQASM 2.0;' or 'OPENQASM 3.0;'")
    if version.split(".")[0] == "3":
        return parse_qasm3(text, source)
    return parse_qasm2(text, source)


def _read_qpy(path: Path) -> cirq.Circuit:
    from ..qiskit.convert import read_qpy

    return read_qpy(path)


_TEXT_READERS = {".qsim": parse_qsim, ".qasm": parse_qasm, ".qasm3": parse_qasm3, ".json": parse_json}
#: The suffixes :func:`read_circuit` reads.
SUFFIXES = (*_TEXT_READERS, ".qpy")


def read_circuit(path: "str | os.PathLike[str]") -> cirq.Circuit:
    """Read a circuit file; the format is chosen by its suffix (.qasm, .qasm3, .qsim, .json, .qpy).

    Raises:
        FileNotFoundError: no such file.
        CircuitFileError: unknown suffix, text that is not UTF-8, or a syntax error
            (with the line number).
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in SUFFIXES:
        raise CircuitFileError(f"{p}: unknown circuit format {p.suffix!r}; use {', '.join(SUFFIXES)}")
    if not p.is_file():
        raise FileNotFoundError(f"no such circuit file: {p}")
    if suffix == ".qpy":
        return _read_qpy(p)
    return _TEXT_READERS[suffix](read_text(p), str(p))
