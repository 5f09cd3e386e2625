"""Shared fixtures: every backend that can start here, and circuit helpers."""

from __future__ import annotations

import os
import tempfile

import pytest

# the default plan cache of the tests lives in a folder of this session, so no test
# finds a plan an earlier run left on disk (set before qtn creates the default cache)
os.environ["QTN_PLAN_CACHE"] = tempfile.mkdtemp(prefix="qtn-test-plans-")

import qtn  # noqa: E402
from qtn.backends import BackendUnavailableError  # noqa: E402

BACKENDS = ["numpy", "opencl", "hls"]


def start_backend(name: str) -> qtn.Backend:
    """Start a backend, or skip the test when it cannot start here.

    With QTN_REQUIRE_ALL_BACKENDS=1 (set by CI) a backend that cannot start fails
    the test instead, so a missing PoCL or g++ can never pass as a skip.
    """
    try:
        return qtn.get_backend(name)
    except BackendUnavailableError as err:
        if os.environ.get("QTN_REQUIRE_ALL_BACKENDS") == "1":
            raise
        pytest.skip(f"backend {name} unavailable: {err}")


@pytest.fixture(params=BACKENDS)
def backend(request) -> qtn.Backend:
    return start_backend(request.param)
