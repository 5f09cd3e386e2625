"""qtn: quantum-circuit simulation by tensor-network contraction.

Circuits become tensor networks, a path optimizer plans their contraction under a
memory budget (slicing where needed), and every pairwise contraction runs as one
matrix multiply on a backend (NumPy, OpenCL, or the HLS C++ kernel).
"""

from .api import amplitudes, plan, state_vector
from .backends import Backend, BackendUnavailableError, available_backends, get_backend
from .expectation import expectation
from .planning import Plan, cache_info, clear_cache
from .sampling import sample
from .simulator import Simulator

__version__ = "0.1.0"

__all__ = [
    "Backend",
    "BackendUnavailableError",
    "Plan",
    "Simulator",
    "amplitudes",
    "available_backends",
    "cache_info",
    "clear_cache",
    "expectation",
    "get_backend",
    "plan",
    "sample",
    "state_vector",
]
