"""Scaling law theory (page ``scaling_laws``).

- ``laws``: the parametric loss L(N, D), its fit with bootstrap, and compute-optimal frontiers.
- ``decisions``: IsoFLOP parabolas, inverse calculators, inference-aware sizing, repeated data.
- ``experiment``: a solvable ridge model whose true exponents are known.
"""
