"""The default run of every training page, computed in the background after the server starts.

Each entry is built exactly as its page builds it when every control is at its default; ``tests/test_runs.py``
opens every page at its defaults in AppTest and checks that each run the page asks for is listed here. When a page's
defaults change, update its entry (the test's message shows the configuration the page asked for).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def default_runs() -> list[tuple[Callable, Any, str]]:
    """(function, configuration, label) of each training page's default run(s), cheapest pages first.

    Every page builds its default view from its configuration's defaults (each config documents why), so the
    entries are the default configurations; the test catches a page whose defaults drift from them.
    """
    from core import rest_stop as rs
    from core.feature_learning import lazy_rich as fl
    from core.information_bottleneck import info_plane as ib
    from core.kolmogorov import search as ks
    from core.lottery_ticket import pruning
    from core.mdl import ib_clusters
    from core.neural_collapse import training as ct
    from core.scaling_laws.experiment import MiniScalingConfig, mini_scaling_experiment

    return [
        (ks.search_programs, ks.SearchConfig(), "kolmogorov"),
        (ib_clusters.ib_cluster_code, ib_clusters.IBCodeConfig(), "mdl (IB clusters)"),
        *((fl.lazy_vs_rich, fl.LazyRichConfig(parametrization=p), f"feature_learning ({p})") for p in ("ntk", "mup")),
        (mini_scaling_experiment, MiniScalingConfig(), "scaling_laws"),
        (ct.train_collapse, ct.CollapseConfig(), "neural_collapse"),
        (pruning.lottery_ticket, pruning.LotteryConfig(), "lottery_ticket"),
        (rs.grokking_lens, rs.LensConfig(), "rest_stop"),
        (ib.information_plane, ib.InfoPlaneConfig(), "information_bottleneck"),
    ]
