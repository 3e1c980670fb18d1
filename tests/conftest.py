"""Test-session settings shared by all tests: one thread for torch and BLAS, as the app runs."""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # torch reads it when first imported

from threadpoolctl import threadpool_limits

threadpool_limits(1)  # BLAS pools started by numpy before this file ran

import tempfile  # noqa: E402

# The run service's disk cache (ui/runs.py) goes to a temporary folder, never the user's home cache.
os.environ.setdefault("LTL_RUN_CACHE_DIR", tempfile.mkdtemp(prefix="ltl-test-run-cache-"))
