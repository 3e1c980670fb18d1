"""The Sinkhorn shortcut: entropic optimal transport (page ``sinkhorn``).

- ``solver``: entropic OT through POT with a checked convergence report.
- ``experiments``: normalisation step by step, the epsilon trade-off, cost against the LP, the accuracy-time frontier.
- ``flows``: entropic OT, the Sinkhorn divergence and MMD as losses, and the gradient flows they drive.
- ``scale``: time and memory past the LP on POT's torch backend, the accuracy-time frontier.
"""
