"""Devices that run the matrix multiplies of a contraction (see ``base.Backend``)."""

from .base import Array, Backend, BackendUnavailableError, available_backends, get_backend

__all__ = ["Array", "Backend", "BackendUnavailableError", "available_backends", "get_backend"]
