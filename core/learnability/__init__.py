"""The computational complexity of learning (page ``learnability``).

- ``pac``: PAC sample bounds (realisable, agnostic ERM, uniform convergence, VC).
- ``parity``: sparse parities by SGD: steps against n, label noise, hidden progress.
- ``proper``: proper versus improper learning of a 2-term DNF.
"""
