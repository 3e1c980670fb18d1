"""The lottery ticket hypothesis (page ``lottery_ticket``).

- ``nets``: masked MLPs trained side by side as one batched model (the topic's training engine).
- ``pruning``: iterative magnitude pruning with rewinding against re-initialisation and random masks.
- ``supermask``: pruning at initialisation (SNIP, GraSP, SynFlow) and strong tickets (supermasks).
- ``stability``: instability to SGD noise and linear mode connectivity by rewind step.
"""
