"""Test-session settings shared by all tests: one thread for torch and BLAS, as the app runs."""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # torch reads it when first imported

from threadpoolctl import threadpool_limits

threadpool_limits(1)  # BLAS pools started by numpy before this file ran
