"""Algorithmic information theory (page ``kolmogorov``); complexities in bits.

- ``compression``: compressors as upper bounds on K(x), compression distance.
- ``search``: a shortest-program search in a tiny language, and why K is uncomputable.
- ``ctm``: K from the coding theorem (CTM) and the block decomposition method (BDM).
- ``corpus``: a small real corpus (texts the project writes or generates) for the compression distance.
"""
