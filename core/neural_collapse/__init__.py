"""Neural collapse (page ``neural_collapse``).

- ``metrics``: NC1-NC4, CDNV and the simplex ETF, on any features.
- ``training``: a real network on digits through the terminal phase, and the unconstrained-features model.
"""
