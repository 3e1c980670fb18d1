"""The science of Learning Theory Lab: pure functions, no streamlit, no altair.

Importing ``core`` makes one intra-op thread the default for torch (``OMP_NUM_THREADS=1`` unless already set), before
any module here imports torch: the lab's networks are small, where one thread is several times faster than two on
a 2-core machine, and concurrent users' runs then share the cores instead of thrashing them.
"""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
