"""Test-session settings shared by all tests: one thread for torch and BLAS, as the app runs."""

import os

import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")  # torch reads it when first imported

from threadpoolctl import threadpool_limits

threadpool_limits(1)  # BLAS pools started by numpy before this file ran


@pytest.fixture(scope="session", autouse=True)
def _run_cache_dir(tmp_path_factory) -> None:
    """The run service's disk cache (ui/runs.py) goes to pytest's temporary folder, never the user's home cache."""
    os.environ["LTL_RUN_CACHE_DIR"] = str(tmp_path_factory.mktemp("run-cache"))
