"""The solvable scaling experiment: exact losses against closed forms and Monte Carlo, and recovered exponents."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from scipy.special import zeta

from core.scaling_laws.experiment import (
    MiniScalingConfig,
    infinite_data_loss,
    mean_over_seeds,
    mini_scaling_experiment,
    true_exponents,
)
from core.scaling_laws.laws import fit_scaling_law

FAST = MiniScalingConfig(seeds=(0, 1))


def test_true_exponents_follow_from_the_decay() -> None:
    assert true_exponents(MiniScalingConfig(target_decay=2.0, noise_var=2.0)) == {"E": 2.0, "alpha": 1.0, "beta": 0.5}
    assert true_exponents(MiniScalingConfig(target_decay=3.0))["beta"] == pytest.approx(2 / 3)


def test_infinite_data_loss_is_the_tail_sum() -> None:
    cfg = MiniScalingConfig(target_decay=2.0, noise_var=0.5)
    direct = 0.5 + sum(k**-2.0 for k in range(5, 2_000_000))
    assert infinite_data_loss(4, cfg) == pytest.approx(direct, rel=1e-5)
    assert infinite_data_loss(0, cfg) == pytest.approx(0.5 + np.pi**2 / 6)


def test_small_models_with_much_data_reach_their_infinite_data_loss() -> None:
    cfg = MiniScalingConfig(model_sizes=(1, 2, 4), data_sizes=(32, 8192), seeds=(0,))
    df = mini_scaling_experiment(cfg)
    big = df[df.D == 8192].set_index("N")["loss"]
    for n in (1, 2, 4):  # estimation error ~ N / D is tiny next to the tail zeta(s, N + 1)
        assert big[n] == pytest.approx(infinite_data_loss(n, cfg), rel=0.01)
        assert big[n] > infinite_data_loss(n, cfg)  # a finite sample never beats the best N-feature model


def test_expected_loss_matches_monte_carlo_ridge_fits() -> None:
    """The closed-form loss of the best ridge equals the average over label-noise draws of real ridge fits."""
    cfg = MiniScalingConfig(model_sizes=(8,), data_sizes=(40,), seeds=(3,), n_ridges=5)
    row = mini_scaling_experiment(cfg).iloc[0]
    n, d, s, nu = 8, 40, cfg.target_decay, cfg.spectrum_decay
    k = np.arange(1, n + 1, dtype=float)
    lam, w = k**-nu, np.sqrt(k**-s / k**-nu)
    x = np.random.default_rng(3).standard_normal((d, n)) * np.sqrt(lam)  # the same draw as the experiment
    noise_sd = np.sqrt(cfg.noise_var + zeta(s, n + 1))
    rng = np.random.default_rng(0)
    losses = []
    for _ in range(4000):
        y = x @ w + noise_sd * rng.standard_normal(d)
        w_hat = np.linalg.solve(x.T @ x + row.ridge * d * np.eye(n), x.T @ y)
        losses.append(cfg.noise_var + zeta(s, n + 1) + ((w_hat - w) ** 2 * lam).sum())
    assert row.loss == pytest.approx(np.mean(losses), rel=0.02)


def test_loss_falls_with_size_and_stays_above_the_noise_floor() -> None:
    records = []
    df = mini_scaling_experiment(FAST, callback=records.append)
    assert set(df.columns) == {"seed", "N", "D", "loss", "excess", "ridge"}
    cells = mean_over_seeds(df).set_index(["N", "D"])["loss"]
    assert cells[(256, 8192)] < cells[(4, 8192)] and cells[(256, 8192)] < cells[(256, 32)]
    assert (df["loss"] > FAST.noise_var).all()
    assert records[-1]["progress"] == pytest.approx(1.0)


def test_fit_recovers_the_true_exponents() -> None:
    cells = mean_over_seeds(mini_scaling_experiment(FAST))
    fit = fit_scaling_law(cells.N.to_numpy(), cells.D.to_numpy(), cells["loss"].to_numpy())
    truth = true_exponents(FAST)
    assert not fit.degenerate
    assert fit.law.E == pytest.approx(truth["E"], rel=0.02)
    assert fit.law.alpha == pytest.approx(truth["alpha"], abs=0.1)
    assert fit.law.beta == pytest.approx(truth["beta"], abs=0.1)


def test_same_seed_same_result() -> None:
    cfg = replace(FAST, model_sizes=(4, 16), data_sizes=(64, 256))
    assert mini_scaling_experiment(cfg).equals(mini_scaling_experiment(cfg))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"model_sizes": ()}, "at least one"),
        ({"data_sizes": (1,)}, "data_sizes"),
        ({"target_decay": 1.0}, "target_decay"),
        ({"noise_var": 0.0}, "noise_var"),
        ({"model_sizes": (2048,), "data_sizes": (65_536,)}, "lower the largest N or D"),
    ],
)
def test_bad_config_is_rejected(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        mini_scaling_experiment(MiniScalingConfig(**kwargs))


def test_mean_over_seeds_averages_each_cell() -> None:
    runs = pd.DataFrame({"seed": [0, 1, 0, 1], "N": [10, 10, 20, 20], "D": [5, 5, 5, 5], "loss": [1.0, 3.0, 2.0, 2.0]})
    cells = mean_over_seeds(runs)
    assert cells[["N", "D", "loss", "loss_std", "n_seeds"]].to_numpy().tolist() == [
        [10, 5, 2.0, 1.0, 2],
        [20, 5, 2.0, 0.0, 2],
    ]
    with pytest.raises(ValueError, match="must have columns N, D and loss"):
        mean_over_seeds(runs.drop(columns="loss"))
