"""The information bottleneck (page ``information_bottleneck``); information in bits.

- ``theory``: mutual information, the noisy channel and the Gaussian IB closed form.
- ``iterative``: the iterative IB on a discrete joint table, with restarts.
- ``info_plane``: the information plane of a training network and its estimators.
"""
