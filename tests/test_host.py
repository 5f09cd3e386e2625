"""The one per-user cache folder helper and the one usable-cores helper, and that the
caches and pools that used to carry their own copies now follow them."""

from __future__ import annotations

import os

import pytest

from qtn import host, permute
from qtn.backends import hls
from qtn.fpga import synth


def test_cache_dir_prefers_qtn_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("QTN_CACHE_DIR", str(tmp_path / "mine"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert host.cache_dir("native") == tmp_path / "mine" / "native"


@pytest.mark.parametrize("empty", ["", None])
def test_cache_dir_falls_back_to_xdg_then_home(monkeypatch, tmp_path, empty):
    if empty is None:
        monkeypatch.delenv("QTN_CACHE_DIR", raising=False)
    else:
        monkeypatch.setenv("QTN_CACHE_DIR", empty)  # set but empty counts as unset
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert host.cache_dir("rtl") == tmp_path / "qtn" / "rtl"
    monkeypatch.setenv("XDG_CACHE_HOME", "")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert host.cache_dir("fpga") == tmp_path / "home" / ".cache" / "qtn" / "fpga"


def test_former_copies_follow_the_helper(monkeypatch, tmp_path):
    monkeypatch.setenv("QTN_CACHE_DIR", str(tmp_path))
    assert hls.cache_root() == tmp_path / "hls"
    saved = synth.save_synthesis("testboard", {"fmax_mhz": 1.0})
    assert saved == tmp_path / "fpga" / "synth-testboard.json"
    assert synth.last_synthesis("testboard") == {"fmax_mhz": 1.0}


def test_usable_cores_is_the_affinity_and_sizes_permute(monkeypatch):
    expected = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    assert host.usable_cores() == max(1, expected)
    monkeypatch.setattr(permute, "_threads", None)
    assert permute.num_threads() == host.usable_cores()

