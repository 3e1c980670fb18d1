"""Universality: double descent, grokking, emergence (page ``universality``).

- ``double_descent``: test error through p = n, with the ridgeless theory.
- ``grokking``: modular arithmetic memorised first and generalised later.
- ``emergence``: emergence as an effect of the metric.
"""
