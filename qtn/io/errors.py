"""The one error type every circuit reader raises."""

from __future__ import annotations


class CircuitFileError(ValueError):
    """A circuit file that cannot be read; the message names the file and, where known, the line."""
