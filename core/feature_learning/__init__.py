"""Feature learning theory: NTK versus muP (page ``feature_learning``).

- ``lazy_rich``: weight and kernel movement against width, the function-space view.
- ``mup``: the coord check and learning-rate transfer.
- ``_param_mlp``: the SP/NTK/muP parametrised MLPs both share (private to this topic).
"""
