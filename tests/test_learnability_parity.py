"""Tests for core.learnability.parity: sparse parity learned by SGD, label noise and hidden progress."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from core.learnability.parity import (
    HIDDEN_MEASURES,
    HiddenProgressConfig,
    NoiseConfig,
    ParitySweepConfig,
    _eval_steps,
    _hinge_grads,
    _train_parity_seeds,
    fit_exponents,
    gradient_gap,
    hidden_progress,
    parity_noise_curves,
    parity_noise_run,
    parity_scaling,
    sparse_parity_run,
    steps_to_accuracy,
    steps_to_target,
    support_weight_share,
)
from core.training import Diverged, make_mlp

# ---------------------------------------------------------------------------------------------------------------
# Sparse parity
# ---------------------------------------------------------------------------------------------------------------


def test_small_parity_is_learned_and_the_run_reports_progress() -> None:
    records: list[dict] = []
    run = sparse_parity_run(n_bits=10, k=2, width=64, steps=200, eval_every=20, seed=0, callback=records.append)
    df = run.curve
    assert list(df.columns) == ["step", "loss", "test_acc"]
    assert df["step"].tolist() == list(range(20, 201, 20))
    assert df["test_acc"].iloc[0] < 0.8  # chance level before learning
    assert df["test_acc"].iloc[-1] >= 0.95
    assert len(run.support) == 2 and all(0 <= i < 10 for i in run.support)
    assert records and records[-1]["progress"] == 1.0
    assert all(0 <= r["progress"] <= 1 for r in records)


def test_same_seed_same_run() -> None:
    a = sparse_parity_run(n_bits=8, k=2, width=16, steps=40, eval_every=10, seed=3)
    b = sparse_parity_run(n_bits=8, k=2, width=16, steps=40, eval_every=10, seed=3)
    pd.testing.assert_frame_equal(a.curve, b.curve)
    assert a.support == b.support


def test_label_noise_slows_learning() -> None:
    curves = parity_noise_curves(n_bits=10, k=2, noise=0.45, steps=160, width=64, eval_every=20)
    assert set(curves["noise"]) == {0.0, 0.45}
    summary = steps_to_target(curves, target=0.95)
    clean, noisy = summary.set_index("noise")["steps_to_target"].loc[[0.0, 0.45]]
    assert clean <= 160
    assert np.isnan(noisy) or noisy > clean


def test_noise_run_is_the_curves_with_a_config() -> None:
    cfg = NoiseConfig(n_bits=8, k=2, noise=0.2, steps=40, width=16, eval_every=20)
    a = parity_noise_run(cfg)
    b = parity_noise_curves(n_bits=8, k=2, noise=0.2, steps=40, width=16, eval_every=20)
    pd.testing.assert_frame_equal(a, b)
    with pytest.raises(TypeError, match="`config` must be a NoiseConfig"):
        parity_noise_run({"n_bits": 8})


def test_steps_grow_with_n_on_a_tiny_sweep() -> None:
    records: list[dict] = []
    sweep = steps_to_accuracy(ns=(6, 40), ks=(2,), width=64, max_steps=3000, callback=records.append)
    assert list(sweep.columns) == ["n", "k", "steps_to_99", "seconds", "final_acc"]
    assert sweep["steps_to_99"].notna().all()
    small, large = sweep.sort_values("n")["steps_to_99"]
    assert large > small
    assert {"progress", "series", "step", "test_acc"} <= set(records[-1])


def test_unreached_target_warns_with_the_knob_and_gives_nan() -> None:
    with pytest.warns(UserWarning, match="increase `max_steps`"):
        sweep = steps_to_accuracy(ns=(20,), ks=(3,), width=16, max_steps=10)
    assert sweep["steps_to_99"].isna().all()


def test_fit_exponents_recovers_a_known_power_law() -> None:
    n = np.array([10, 20, 40, 80])
    sweep = pd.DataFrame(
        {"n": np.r_[n, n, 160], "k": [2] * 4 + [3] * 5, "steps_to_99": np.r_[5 * n**2.0, 0.5 * n**3.0, np.nan]}
    )
    fits = fit_exponents(sweep).set_index("k")
    assert fits.loc[2, "exponent"] == pytest.approx(2.0)
    assert fits.loc[2, "prefactor"] == pytest.approx(5.0)
    assert fits.loc[3, "exponent"] == pytest.approx(3.0)
    assert fits.loc[3, "n_points"] == 4  # the NaN row (not reached) is left out


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_bits": 10, "k": 11}, "`k` must be <= 10"),
        ({"n_bits": 10, "k": 2, "noise": 0.5}, "`noise` must be < 0.5"),
        ({"n_bits": 10, "k": 2, "lr": 0.0}, "`lr` must be > 0"),
    ],
)
def test_bad_parity_arguments(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        sparse_parity_run(steps=1, **kwargs)


def test_sweep_rejects_k_larger_than_n() -> None:
    with pytest.raises(ValueError, match="Every k must be <= every n"):
        steps_to_accuracy(ns=(2, 10), ks=(3,))


# ---------------------------------------------------------------------------------------------------------------
# The seed-batched sweep
# ---------------------------------------------------------------------------------------------------------------


def test_hand_gradients_match_autograd() -> None:
    gen = torch.Generator().manual_seed(0)
    S, B, n, w = 3, 16, 7, 5
    params = [torch.randn(S, n, w, generator=gen), torch.randn(S, 1, w, generator=gen),
              torch.randn(S, w, 1, generator=gen), torch.randn(S, 1, 1, generator=gen)]  # fmt: skip
    x = torch.randint(0, 2, (S, B, n), generator=gen).float() * 2 - 1
    y = torch.randint(0, 2, (S, B), generator=gen).float() * 2 - 1
    leaves = [p.clone().requires_grad_() for p in params]
    out = (torch.relu(x @ leaves[0] + leaves[1]) @ leaves[2] + leaves[3])[..., 0]
    losses = torch.clamp(1 - y * out, min=0).mean(dim=1)  # (S,): one loss per net
    losses.sum().backward()
    mine_losses, mine_grads = _hinge_grads(x, y, params)
    torch.testing.assert_close(mine_losses, losses.detach(), rtol=1e-6, atol=1e-6)
    for mine, leaf in zip(mine_grads, leaves, strict=True):
        torch.testing.assert_close(mine, leaf.grad, rtol=1e-5, atol=1e-6)


def test_batched_seeds_reproduce_the_single_seed_runs() -> None:
    # each seed of the batched trainer must be the run sparse_parity_run makes with that seed (own support,
    # init, test set and data stream): same first step at 99%, evaluated every 5 steps
    kw = {"n_bits": 10, "k": 2, "width": 32, "lr": 0.1, "batch": 32, "weight_decay": 0.01, "test_size": 500}
    hit, acc = _train_parity_seeds(
        **kw, seeds=(0, 1, 2), max_steps=400, target=0.99, eval_every=5, resolution=0.0, device="cpu"
    )
    for s, h in zip((0, 1, 2), hit, strict=True):
        solo = sparse_parity_run(**kw, steps=400, eval_every=5, seed=s)
        first = steps_to_target(solo.curve.assign(noise=0.0), target=0.99)["steps_to_target"].item()
        assert h == first
    assert all(a >= 0.99 for a in acc)


def test_parity_scaling_long_format_progress_and_slopes() -> None:
    records: list[dict] = []
    cfg = ParitySweepConfig(ns=(6, 24), ks=(2,), n_seeds=3, width=64, max_steps=3000)
    sweep = parity_scaling(cfg, callback=records.append)
    assert list(sweep.columns) == ["n", "k", "seed", "steps_to_99", "final_acc", "seconds"]
    assert len(sweep) == 6 and sweep["steps_to_99"].notna().all() and (sweep["final_acc"] >= 0.99).all()
    med = sweep.groupby("n")["steps_to_99"].median()
    assert med[24] > med[6]
    assert records[-1]["progress"] == 1.0 and all(0 <= r["progress"] <= 1 for r in records)
    fits = fit_exponents(sweep, n_boot=200)
    assert fits["exponent_lo"].item() <= fits["exponent"].item() <= fits["exponent_hi"].item()


def test_sweep_evaluation_steps_grow_with_the_resolution() -> None:
    assert _eval_steps(40, 5, 0.0) == [5, 10, 15, 20, 25, 30, 35, 40]
    assert _eval_steps(3, 5, 0.5) == [3]  # shorter than one period: the last step only
    grid = _eval_steps(1000, 5, 0.1)
    gaps = np.diff(grid[:-1])
    assert grid[0] == 5 and grid[-1] == 1000 and (gaps == [max(5, int(0.1 * s)) for s in grid[:-2]]).all()
    assert grid[:13] == [5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55, 60, 66]  # 10% of 60 is the first gap over 5


class _Cancel(Exception):
    pass


def _cancel_on_first(records: list[dict]):
    def callback(record: dict) -> None:
        records.append(record)
        raise _Cancel

    return callback


def test_a_raising_callback_cancels_every_run() -> None:
    sweep = ParitySweepConfig(ns=(8, 12), ks=(2,), n_seeds=2, width=16, max_steps=200)
    hidden = HiddenProgressConfig(n_bits=8, k=2, width=16, steps=200, log_every=50, population=100, test_size=50)
    runs = [
        lambda cb: sparse_parity_run(n_bits=8, k=2, width=16, steps=200, eval_every=25, callback=cb),
        lambda cb: parity_scaling(sweep, callback=cb),
        lambda cb: hidden_progress(hidden, callback=cb),
    ]
    for run in runs:
        records: list[dict] = []
        with pytest.raises(_Cancel):
            run(_cancel_on_first(records))
        assert len(records) == 1 and records[0]["progress"] < 0.5


def test_divergence_names_the_learning_rate() -> None:
    with pytest.raises(Diverged, match="Lower `lr`"):
        sparse_parity_run(n_bits=8, k=2, width=16, steps=50, lr=1e30)
    with pytest.raises(Diverged, match="Lower `lr`"):
        parity_scaling(ParitySweepConfig(ns=(8,), ks=(2,), n_seeds=2, width=16, max_steps=50, lr=1e30))
    with pytest.raises(Diverged, match="Lower `lr`"):
        hidden_progress(HiddenProgressConfig(n_bits=8, k=2, width=16, steps=50, lr=1e30, population=100))


def test_parity_scaling_warns_on_the_step_cap_and_rejects_bad_configs() -> None:
    with pytest.warns(UserWarning, match="increase `max_steps`"):
        sweep = parity_scaling(ParitySweepConfig(ns=(20,), ks=(3,), n_seeds=2, width=16, max_steps=10))
    assert sweep["steps_to_99"].isna().all()
    with pytest.raises(TypeError, match="`config` must be a ParitySweepConfig"):
        parity_scaling({"ns": (10,)})
    with pytest.raises(ValueError, match="Every k must be <= every n"):
        parity_scaling(ParitySweepConfig(ns=(2, 10), ks=(3,)))
    with pytest.raises(ValueError, match="`n_seeds` must be >= 1"):
        parity_scaling(ParitySweepConfig(n_seeds=0))


def test_bootstrap_interval_covers_the_true_exponent() -> None:
    rng = np.random.default_rng(0)
    n = np.repeat([8, 16, 32, 64], 6)
    steps = 3.0 * n**1.5 * np.exp(0.15 * rng.normal(size=n.size))  # lognormal scatter around n^1.5
    sweep = pd.DataFrame({"n": n, "k": 3, "seed": np.tile(range(6), 4), "steps_to_99": steps})
    fit = fit_exponents(sweep, n_boot=500).iloc[0]
    assert fit.exponent_lo < 1.5 < fit.exponent_hi
    assert fit.exponent_hi - fit.exponent_lo < 0.3
    exact = sweep.assign(steps_to_99=3.0 * n**1.5)  # no scatter: every refit gives the same slope
    fit = fit_exponents(exact, n_boot=50).iloc[0]
    assert fit.exponent_lo == pytest.approx(1.5) and fit.exponent_hi == pytest.approx(1.5)
    assert np.isnan(fit_exponents(exact).iloc[0].exponent_lo)  # no bootstrap asked
    half = fit_exponents(exact, n_range=(8, 16)).iloc[0]
    assert half.n_points == 12 and half.exponent == pytest.approx(1.5)


# ---------------------------------------------------------------------------------------------------------------
# Hidden progress
# ---------------------------------------------------------------------------------------------------------------


def test_support_weight_share_on_a_constructed_network() -> None:
    # 3 hidden units, 5 input bits, support {1, 3}: |W| on the support = 2 + 1 + 0 + 4 + 1 + 1 = 9 of 9 + 6 = 15
    W = np.array([[1.0, -2.0, 0.0, 1.0, 1.0], [0.0, 0.0, 2.0, -4.0, 0.0], [1.0, 1.0, 1.0, 1.0, 0.0]])
    assert support_weight_share(W, [1, 3]) == pytest.approx(9 / 15)
    assert support_weight_share(W, [0, 1, 2, 3, 4]) == pytest.approx(1.0)
    # a freshly initialised net spreads its weight evenly: about k/n on the support (here 4 of 20 bits)
    net = make_mlp((20, 512, 1), generator=torch.Generator().manual_seed(0))
    assert support_weight_share(net[0].weight.detach().numpy(), [2, 5, 11, 17]) == pytest.approx(0.2, abs=0.02)
    with pytest.raises(ValueError, match="`support` must list distinct input bits"):
        support_weight_share(W, [1, 1])
    with pytest.raises(ValueError, match="`support\\[i\\]` must be <= 4"):
        support_weight_share(W, [7])
    with pytest.raises(ValueError, match="all zeros"):
        support_weight_share(np.zeros((2, 3)), [0])


def test_gradient_gap_on_a_constructed_gradient() -> None:
    G = np.array([[3.0, -1.0, 1.0], [-3.0, 1.0, -1.0]])  # relevant bit 0: mean |g| 3, others 1
    assert gradient_gap(G, [0]) == pytest.approx(3.0)
    assert gradient_gap(np.ones((2, 4)), [1, 2]) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="leave some out"):
        gradient_gap(G, [0, 1, 2])


def test_hidden_progress_records_every_snapshot_and_learns() -> None:
    records: list[dict] = []
    cfg = HiddenProgressConfig(n_bits=10, k=2, width=64, steps=300, log_every=50, population=1000, test_size=500)
    run = hidden_progress(cfg, callback=records.append)
    df = run.measures
    assert list(df.columns) == ["step", "measure", "bit", "value"] and set(df.measure) == set(HIDDEN_MEASURES)
    steps = sorted(df.step.unique())
    assert steps == [0, 50, 100, 150, 200, 250, 300]
    assert (df[df.measure == "bit weight"].groupby("step").size() == 10).all()
    w = df[df.bit < 0].pivot(index="step", columns="measure", values="value")
    assert w["test accuracy"].iloc[0] < 0.7 and w["test accuracy"].iloc[-1] >= 0.95
    # learning the parity moves weight onto its two bits: well above k/n = 0.2 by the end
    assert w["support weight share"].iloc[-1] > 0.3 > 0.25 > w["support weight share"].iloc[0]
    # the recorded share is the share of the recorded per-bit weights
    bits = df[(df.measure == "bit weight") & (df.step == 300)].set_index("bit")["value"]
    assert bits[list(run.support)].sum() / bits.sum() == pytest.approx(w["support weight share"].iloc[-1])
    assert records[-1]["progress"] == 1.0 and len(records) == len(steps)
    with pytest.raises(TypeError, match="HiddenProgressConfig"):
        hidden_progress({"n_bits": 10})
    with pytest.raises(ValueError, match="`k` must be < `n_bits`"):
        hidden_progress(HiddenProgressConfig(n_bits=4, k=4))
