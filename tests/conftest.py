"""Test-session settings shared by all tests."""

import os

# As core/__init__.py does, also for test modules that import torch before core: one intra-op thread per run.
os.environ.setdefault("OMP_NUM_THREADS", "1")
