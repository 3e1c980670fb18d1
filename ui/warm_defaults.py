"""The default run of every training page, computed in the background after the server starts.

Each entry is built exactly as its page builds it when every control is at its default; ``tests/test_runs.py``
opens every page at its defaults in AppTest and checks that each run the page asks for is listed here. When a page's
defaults change, update its entry (the test's message shows the configuration the page asked for).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def default_runs() -> list[tuple[Callable, Any, str]]:
    """(function, configuration, label) of each training page's default run(s), cheapest pages first."""
    from core import collapse_training as ct
    from core import feature_learning as fl
    from core import info_plane as ib
    from core import kolmogorov_search as ks
    from core import pruning
    from core.scaling_experiment import MiniScalingConfig, mini_scaling_experiment

    lazy = fl.LazyRichConfig()
    return [
        (ks.shortest_program, {"target": "0101010101010101", "max_length": 6, "max_steps": 100}, "kolmogorov"),
        *(
            (
                fl.lazy_vs_rich,
                {"widths": tuple(lazy.widths), "parametrization": p, "steps": lazy.steps, "seed": 0},
                f"feature_learning ({p})",
            )
            for p in ("ntk", "mup")
        ),
        (
            pruning.lottery_ticket,
            pruning.LotteryConfig(
                sizes=(64, 300, 100, 10),
                rounds=12,
                epochs=10,
                prune_hidden=0.2,
                prune_output=0.1,
                rewind_step=0,
                seed=0,
                n_seeds=1,
            ),
            "lottery_ticket",
        ),
        (
            ct.train_collapse,
            ct.CollapseConfig(
                epochs=200, weight_decay=5e-3, cosine_decay=True, batchnorm=True, penultimate_relu=False, seed=0
            ),
            "neural_collapse",
        ),
        (ib.information_plane, ib.InfoPlaneConfig(epochs=3000, lr=1e-3, seed=0), "information_bottleneck"),
        (mini_scaling_experiment, MiniScalingConfig(seeds=(0, 1, 2), steps=600, noise_var=0.1), "scaling_laws"),
    ]
