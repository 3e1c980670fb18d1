"""The mini scaling experiment: shapes, determinism, and that loss falls with model and data size."""

from __future__ import annotations

import numpy as np
import pytest

from core.scaling_experiment import MiniScalingConfig, mini_scaling_experiment, n_params

TINY = MiniScalingConfig(
    widths=(2, 32), data_sizes=(32, 2048), seeds=(0,), steps=300, eval_every=50, n_val=256, n_test=512
)


def test_param_count_matches_torch_layers() -> None:
    import torch

    net = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.Linear(16, 16), torch.nn.Linear(16, 1))
    assert n_params(16, 8) == sum(p.numel() for p in net.parameters())


def test_loss_falls_with_size_and_stays_above_the_noise_floor() -> None:
    records = []
    df = mini_scaling_experiment(TINY, callback=records.append)
    assert set(df.columns) == {"seed", "width", "N", "D", "loss", "best_step"}
    assert len(df) == 4
    loss = df.set_index(["width", "D"])["loss"]
    assert loss[(32, 2048)] < loss[(2, 2048)]  # bigger model, same data
    assert loss[(32, 2048)] < loss[(32, 32)]  # more data, same model
    assert (df["loss"] > 0.5 * TINY.noise_var).all()  # cannot beat the label noise by much
    assert records and records[-1]["progress"] == pytest.approx(1.0)


def test_same_seed_same_result() -> None:
    cfg = MiniScalingConfig(widths=(4,), data_sizes=(64,), seeds=(3,), steps=20, eval_every=10, n_val=64, n_test=64)
    a, b = mini_scaling_experiment(cfg), mini_scaling_experiment(cfg)
    assert np.array_equal(a["loss"].to_numpy(), b["loss"].to_numpy())


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"widths": ()}, "at least one"),
        ({"data_sizes": (8,)}, "data_sizes"),
        ({"lr": -1.0}, "`lr` must be > 0"),
        ({"noise_var": 2.0}, "noise_var"),
    ],
)
def test_bad_config_is_rejected(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        mini_scaling_experiment(MiniScalingConfig(**kwargs))


def test_mean_over_seeds_averages_each_cell() -> None:
    import pandas as pd

    from core.scaling_experiment import mean_over_seeds

    runs = pd.DataFrame({"seed": [0, 1, 0, 1], "N": [10, 10, 20, 20], "D": [5, 5, 5, 5], "loss": [1.0, 3.0, 2.0, 2.0]})
    cells = mean_over_seeds(runs)
    assert cells[["N", "D", "loss", "loss_std", "n_seeds"]].to_numpy().tolist() == [
        [10, 5, 2.0, 1.0, 2],
        [20, 5, 2.0, 0.0, 2],
    ]
    with pytest.raises(ValueError, match="must have columns N, D and loss"):
        mean_over_seeds(runs.drop(columns="loss"))
