"""Optimal transport and the Wasserstein distance (page ``optimal_transport``).

- ``distances``: KL, JS and W on shifted distributions, exact plans and W_p on POT's LP, 1-D closed forms.
- ``gradients``: the generator gradients of JS and W1 by autograd (why WGAN trains).
- ``uses``: domain adaptation with ``ot.da``, fairness repair, displacement interpolation.
"""
