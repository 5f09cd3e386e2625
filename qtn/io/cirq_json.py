"""Cirq's JSON circuits (``cirq.to_json``, ``.json``)."""

from __future__ import annotations

import json

import cirq

from .errors import CircuitFileError


def parse_json(text: str, source: str = "<string>") -> cirq.Circuit:
    """Parse a Cirq JSON circuit (``cirq.to_json``).

    Raises:
        CircuitFileError: not JSON, or JSON of something other than a circuit.
    """
    try:
        obj = cirq.read_json(json_text=text)
    except json.JSONDecodeError as err:
        raise CircuitFileError(f"{source}:{err.lineno}: not valid JSON ({err.msg})") from None
    except (ValueError, KeyError, TypeError) as err:
        raise CircuitFileError(f"{source}: not a Cirq JSON object ({err})") from None
    if isinstance(obj, cirq.FrozenCircuit):
        obj = obj.unfreeze()
    if not isinstance(obj, cirq.Circuit):
        raise CircuitFileError(f"{source}: holds a {type(obj).__name__}, not a cirq.Circuit")
    return obj
