"""Values on the ``qtn`` command line: sizes, counts, bitstrings, Pauli sums, executors.

Every parser here raises :class:`CliError` (or ``argparse.ArgumentTypeError`` where
argparse calls it) with a message that names the offending text and says what would
be accepted.
"""

from __future__ import annotations

import argparse
import contextlib
import re
from typing import Any, Iterator, Sequence

import cirq


class CliError(Exception):
    """An error the user can fix; printed as one line, exit code 1."""


class UsageError(CliError):
    """A bad command line; exit code 2."""


_UNITS = {"b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
          "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


def parse_bytes(text: str) -> int:
    """``'2GiB'``, ``'512MB'``, ``'1e9'`` or ``'1073741824'`` as a number of bytes.

    Raises:
        argparse.ArgumentTypeError: not a positive size.
    """
    m = re.fullmatch(r"\s*(\d+(?:\.\d*)?(?:[eE][+-]?\d+)?)\s*([A-Za-z]*)\s*", text)
    unit = m.group(2).lower() if m else ""
    if m is None or unit not in _UNITS and unit:
        raise argparse.ArgumentTypeError(
            f"invalid size {text!r}; give bytes or a number with a unit: B, kB, MB, GB, TB, KiB, MiB, "
            "GiB, TiB (e.g. 2GiB, 512MB)"
        )
    value = int(float(m.group(1)) * _UNITS[unit or "b"])
    if value <= 0:
        raise argparse.ArgumentTypeError(f"invalid size {text!r}: must be positive")
    return value


def positive_int(text: str) -> int:
    """An int >= 1 (argparse ``type=``)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid count {text!r}: not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"invalid count {text!r}: must be >= 1")
    return value


def parse_bitstring(text: str, n: int) -> int:
    """A bitstring given on the command line, as an int (big-endian over the qubits).

    ``n`` characters of 0/1 are the bits; otherwise a decimal int (with a digit 2-9 or
    a single digit) or ``0b``/``0x`` form. A 0/1 string of another length is refused
    rather than read as decimal: it is almost always a bitstring of the wrong length.

    Raises:
        CliError: not a bitstring of this circuit.
    """
    s = text.strip()
    if s and set(s) <= {"0", "1"} and len(s) == n:
        return int(s, 2)
    if s and set(s) <= {"0", "1"} and len(s) > 1:
        raise CliError(
            f"bitstring {text!r} has {len(s)} bits but the circuit has {n} qubits; "
            f"give {n} characters of 0/1, or an int such as 0b{s} or 0x{int(s, 2):x}"
        )
    try:
        value = int(s, 0)
    except ValueError:
        raise CliError(f"bitstring {text!r} is neither {n} characters of 0/1 nor an int") from None
    if not 0 <= value < 1 << n:
        raise CliError(f"bitstring {text!r} is out of range for {n} qubits (0 <= b < 2**{n})")
    return value


# --- Pauli sums -----------------------------------------------------------------------

_TOKEN = re.compile(
    r"(?P<space>\s+)|(?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?[jJ]?)|(?P<paren>\([^()]*\))"
    r"|(?P<pauli>[XYZ]\d+|I\d*)(?![\w.])|(?P<op>[*+-])"
)
_PAULIS = {"X": cirq.X, "Y": cirq.Y, "Z": cirq.Z}


def parse_pauli_sum(text: str, qubits: Sequence[cirq.Qid]) -> cirq.PauliSum:
    """Parse ``"Z0*Z1 + 0.5*X3 - (0.1+2j)*Y0"`` into a PauliSum on ``qubits``.

    A term is a product (``*``) of coefficients (real like ``0.5``/``1e-3``, imaginary
    like ``2j``, complex in parentheses like ``(1+2j)``) and factors ``Xk``/``Yk``/``Zk``
    on ``qubits[k]`` (``I`` is the identity); terms are joined by ``+``/``-``.

    Raises:
        CliError: a token that does not fit, naming it and its column.
    """
    tokens: list[tuple[str, str, int]] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            bad = re.match(r"[^\s*+\-()]+|.", text[pos:]).group(0)
            raise _pauli_error(text, bad, pos + 1, "a Pauli factor like X3, Y0, Z12, a number, '*', '+' or '-'")
        if m.lastgroup != "space":
            tokens.append((m.lastgroup, m.group(0), pos + 1))
        pos = m.end()
    if not tokens:
        raise CliError("observable is empty; write e.g. 'Z0*Z1 + 0.5*X3'")
    total = cirq.PauliSum()
    i = 0
    while i < len(tokens):
        sign = 1
        while i < len(tokens) and tokens[i][1] in "+-" and tokens[i][0] == "op":
            sign = -sign if tokens[i][1] == "-" else sign
            i += 1
        term = cirq.PauliString(coefficient=sign)
        while True:
            if i == len(tokens) or tokens[i][0] == "op":
                got = tokens[i] if i < len(tokens) else ("", "end of text", len(text) + 1)
                raise _pauli_error(text, got[1], got[2], "a number or a Pauli factor like Z0")
            kind, tok, col = tokens[i]
            term = term * _pauli_atom(text, kind, tok, col, qubits)
            i += 1
            if i == len(tokens) or tokens[i][1] in "+-" and tokens[i][0] == "op":
                break
            if tokens[i][1] != "*":
                raise _pauli_error(text, tokens[i][1], tokens[i][2], "'*', '+', '-' or the end")
            i += 1
        total += term
    return total


def _pauli_atom(text: str, kind: str, tok: str, col: int, qubits: Sequence[cirq.Qid]) -> Any:
    if kind == "number":
        return complex(tok)
    if kind == "paren":
        try:
            return complex(tok[1:-1].replace(" ", ""))
        except ValueError:
            raise _pauli_error(text, tok, col, "a complex coefficient like (0.5+1j)") from None
    if tok[0] == "I":
        return 1
    k = int(tok[1:])
    if k >= len(qubits):
        raise CliError(f"observable {text!r}: {tok} at column {col} names qubit {k}, but the circuit has "
                       f"{len(qubits)} qubits (0..{len(qubits) - 1}, in sorted order)")
    return _PAULIS[tok[0]](qubits[k])


def _pauli_error(text: str, token: str, col: int, expected: str) -> CliError:
    return CliError(f"observable {text!r}: unexpected {token!r} at column {col}; expected {expected}")


def executor_spec(text: str) -> str:
    """An ``--executor`` value, checked for its form (argparse ``type=``): ``none``,
    ``threads:N``, ``processes:N``, ``local:N`` or ``tcp://HOST:PORT``."""
    if text == "none" or text.startswith("tcp://") and len(text) > len("tcp://"):
        return text
    if text.partition(":")[0] in _POOLS:
        positive_int(text.partition(":")[2])
        return text
    raise argparse.ArgumentTypeError(f"{text!r}: use none, threads:N, processes:N, local:N (a local dask "
                                     "cluster of N workers) or a dask scheduler address tcp://HOST:PORT")


_POOLS = ("threads", "processes", "local")


@contextlib.contextmanager
def open_executor(spec: str | None) -> Iterator[Any]:
    """The executor an ``--executor`` value names, shut down afterwards.

    ``none`` (serial), ``threads:N`` / ``processes:N`` (a pool of this machine),
    ``local:N`` (a local dask cluster of N one-thread workers that qtn sets up:
    :func:`qtn.executors.local_cluster`) or ``tcp://HOST:PORT`` (a ``dask.distributed``
    client of that scheduler).

    Raises:
        UsageError: another form; CliError: dask missing or the scheduler unreachable.
    """
    if spec is None or spec == "none":
        yield None
        return
    try:
        executor_spec(spec)
    except argparse.ArgumentTypeError as err:
        raise UsageError(f"--executor {err}") from None
    kind, _, count = spec.partition(":")
    if kind in ("threads", "processes"):
        from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

        with (ThreadPoolExecutor if kind == "threads" else ProcessPoolExecutor)(int(count)) as pool:
            yield pool
        return
    try:
        from dask.distributed import Client
    except ImportError:
        raise CliError(f"--executor {kind}:... needs dask.distributed (pip install 'qtn[dask]')") from None
    if kind == "local":
        from ..executors import local_cluster

        with local_cluster(int(count)) as client:
            yield client
        return
    try:
        client = Client(spec, timeout=10)
    except OSError as err:  # TimeoutError included
        raise CliError(f"cannot reach the dask scheduler at {spec}: {err}") from None
    with client:
        yield client


def probability(text: str) -> float:
    """A float in [0, 1] (argparse ``type=``)."""
    try:
        p = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid probability {text!r}: not a number") from None
    if not 0 <= p <= 1:
        raise argparse.ArgumentTypeError(f"invalid probability {text!r}: must be in [0, 1]")
    return p
