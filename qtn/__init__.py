"""qtn: quantum-circuit simulation by tensor-network contraction.

Circuits become tensor networks, a path optimizer plans their contraction under a
memory budget (slicing where needed), and every pairwise contraction runs as one
matrix multiply on a backend (NumPy, OpenCL, or the HLS C++ kernel).
"""

from .api import amplitudes, compile, plan, state_vector
from .backends import Backend, BackendUnavailableError, available_backends, get_backend
from .contraction import Contraction
from .expectation import expectation
from .options import RunOptions
from .buffers import release as release_buffers
from .plan_cache import PlanCache, cache_info, clear_cache
from .planning import Plan
from .sampling import sample
from .simulator import Simulator

__version__ = "0.1.0"

__all__ = [
    "Backend",
    "BackendUnavailableError",
    "Contraction",
    "Plan",
    "PlanCache",
    "RunOptions",
    "Simulator",
    "amplitudes",
    "available_backends",
    "cache_info",
    "clear_cache",
    "compile",
    "expectation",
    "get_backend",
    "plan",
    "release_buffers",
    "sample",
    "state_vector",
]
