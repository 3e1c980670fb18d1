"""Test-session settings shared by all tests."""

import os

# Match the app (app.py): one intra-op thread per torch run. The small networks here run faster that way,
# and two runs can share the 2-core machine without thrashing.
os.environ.setdefault("OMP_NUM_THREADS", "1")
