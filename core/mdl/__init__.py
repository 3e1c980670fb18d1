"""Minimum description length (page ``mdl``); code lengths in bits.

- ``two_part``: the crude two-part code, BIC/AIC/CV, the 1000-number example, L1/L2 penalties as codes.
- ``refined``: the Bayes mixture and prequential codes.
- ``ib_clusters``: MDL and the information bottleneck: the number of IB clusters |T| chosen by a code length.
"""
