"""What the whole suite shares.

- edgexf's cache (compiled objects, edgexf/targets/objcache.py; log-mel features): each run gets a
  fresh one, so a run is as cold as on a new machine, and nothing is written under ~/.cache. Set
  EDGEXF_CACHE to keep one across runs (neither can go stale: objects are keyed by their preprocessed
  source, features by their settings and the recordings).
- Files with slow tests run first (pytest_collection_modifyitems).
- Under pytest-xdist (scripts/test.sh runs one worker per core), each worker uses one thread.
- Builds that tests in several files need are made once per run, also across pytest-xdist workers
  (shared_builds.py).
"""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest
import torch

_OWN_CACHE = "_EDGEXF_TEST_OWN_CACHE"


def pytest_configure(config: pytest.Config) -> None:
    if "PYTEST_XDIST_WORKER" in os.environ:
        # One thread per worker, in this process and in the programs it starts: the workers already keep
        # every core busy, and torch's threads spin waiting on each other on a loaded machine (a
        # 10-second training took 3 minutes).
        os.environ["OMP_NUM_THREADS"] = "1"
        torch.set_num_threads(1)
    # The controller (or a run without xdist) makes the cache before any worker starts: workers inherit
    # the environment, so they share it.
    if "PYTEST_XDIST_WORKER" not in os.environ and "EDGEXF_CACHE" not in os.environ:
        os.environ["EDGEXF_CACHE"] = tempfile.mkdtemp(prefix="edgexf-test-cache-")
        os.environ[_OWN_CACHE] = os.environ["EDGEXF_CACHE"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Files with slow tests (training, whole test sets) first. scripts/test.sh gives each worker whole
    files (--dist loadfile): when the long files start first, the short ones fill in at the end, instead
    of one long file running alone while the other core idles. The sort is stable: a file's tests stay
    together and in order."""
    slow = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow)


def pytest_unconfigure(config: pytest.Config) -> None:
    if "PYTEST_XDIST_WORKER" not in os.environ and _OWN_CACHE in os.environ:
        shutil.rmtree(os.environ.pop(_OWN_CACHE), ignore_errors=True)
