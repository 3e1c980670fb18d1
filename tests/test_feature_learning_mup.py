"""Tests of core.feature_learning.mup: the coord check (several seeds) and learning-rate transfer (GD and Adam)."""

from __future__ import annotations

import itertools
import math
import re

import numpy as np
import pandas as pd
import pytest

from core.feature_learning.mup import (
    CoordCheckConfig,
    TransferConfig,
    coord_bands,
    coord_check,
    coord_slopes,
    lr_transfer,
    transfer_lrs,
)


def test_coord_check_shape_columns_and_seeds() -> None:
    records: list[dict] = []
    cfg = CoordCheckConfig(widths=(32, 64), steps=2, hidden_layers=2, n_seeds=2)
    df = coord_check(cfg, callback=records.append)
    assert list(df.columns) == ["seed", "width", "step", "layer", "act_rms", "delta_rms"]
    assert len(df) == 2 * 2 * 3 * 3  # seeds x widths x (steps + 1) x (hidden layers + output)
    assert set(df["layer"]) == {"hidden 1", "hidden 2", "output"} and set(df["seed"]) == {0, 1}
    assert (df.loc[df["step"] == 0, "delta_rms"] == 0).all()
    assert np.isfinite(df["act_rms"]).all() and (df["act_rms"] > 0).all()
    a, b = (df[df.seed == s].set_index(["width", "step", "layer"])["act_rms"] for s in (0, 1))
    assert not np.allclose(a, b)  # each seed draws its own data and init
    assert records[-1]["progress"] == pytest.approx(1.0)
    pd.testing.assert_frame_equal(df, coord_check(cfg))


def test_coord_bands_are_geometric_means_over_seeds() -> None:
    df = coord_check(CoordCheckConfig(widths=(32,), steps=1, hidden_layers=1, n_seeds=3))
    bands = coord_bands(df).set_index(["step", "layer", "width"])
    vals = df[(df.step == 1) & (df.layer == "hidden 1")]["act_rms"].to_numpy()
    row = bands.loc[(1, "hidden 1", 32)]
    assert row["value"] == pytest.approx(float(np.exp(np.mean(np.log(vals)))))
    assert (row["low"], row["high"], row["n_seeds"]) == pytest.approx((vals.min(), vals.max(), 3))


def test_sp_activations_grow_with_width_and_mup_stay_flat() -> None:
    kw = {"widths": (32, 128, 512), "steps": 2, "n_seeds": 2}
    sp = coord_slopes(coord_check(CoordCheckConfig(parametrization="sp", **kw))).set_index("layer")["slope"]
    mu = coord_slopes(coord_check(CoordCheckConfig(parametrization="mup", **kw))).set_index("layer")["slope"]
    assert sp["output"] > 0.5 and sp["hidden 3"] > 0.5  # SP + Adam: updates of width x width matrices add up
    assert all(abs(mu[f"hidden {i}"]) < 0.15 for i in (1, 2, 3))


def test_ntk_features_freeze_under_sgd_while_mup_features_move() -> None:
    kw = {"widths": (32, 512), "steps": 2, "optimizer": "sgd", "lr": 0.1, "n_seeds": 1}
    last = lambda df: df[(df["step"] == 2) & (df["layer"] == "hidden 2")].set_index("width")["delta_rms"]  # noqa: E731
    nt = last(coord_check(CoordCheckConfig(parametrization="ntk", **kw)))
    mu = last(coord_check(CoordCheckConfig(parametrization="mup", **kw)))
    assert nt[512] < nt[32] / 2  # lazy: ~ 1/sqrt(width)
    assert 0.7 < mu[512] / mu[32] < 1.4  # rich: width-independent


def test_overflowing_layers_get_an_infinite_slope() -> None:
    cfg = CoordCheckConfig(parametrization="sp", widths=(16, 512), steps=10, optimizer="sgd", lr=1.0, n_seeds=1)
    with pytest.warns(UserWarning, match="lower `lr`"):
        df = coord_check(cfg)
    slopes = coord_slopes(df).set_index("layer")["slope"]
    assert slopes["output"] == np.inf


def test_a_diverged_coord_check_network_is_infinite_from_the_diverging_step() -> None:
    records: list[dict] = []
    cfg = CoordCheckConfig(parametrization="sp", widths=(16, 512), steps=10, optimizer="sgd", lr=1.0, n_seeds=1)
    with pytest.warns(UserWarning, match=r"Width 512 diverged at step (\d+)") as caught:
        df = coord_check(cfg, callback=records.append)
    step = int(re.search(r"Width 512 diverged at step (\d+)", str(caught[0].message)).group(1))
    wide = df[df.width == 512]
    assert len(wide) == 11 * 4  # every step still has a row per layer
    assert np.isinf(wide.loc[wide.step >= step, "act_rms"]).all()
    assert np.isfinite(wide.loc[wide.step < step - 1, "act_rms"]).all()
    assert [r["step"] for r in records if r["width"] == 16] == list(range(11))
    assert records[-1] == {"step": step, "loss": records[-1]["loss"], "seed": 0, "width": 512, "progress": 1.0}


def test_the_callback_cancels_a_sweep() -> None:
    def cancel(record: dict) -> None:
        if record["progress"] > 0.3:
            raise RuntimeError("stopped by the user")

    with pytest.raises(RuntimeError, match="stopped by the user"):
        lr_transfer(TransferConfig(parametrization="sp", widths=(16, 32), lrs=(0.01, 1e6), steps=20), callback=cancel)
    with pytest.raises(RuntimeError, match="stopped by the user"):
        coord_check(CoordCheckConfig(widths=(16, 32), steps=2, n_seeds=1), callback=cancel)


def test_lr_transfer_returns_the_grid_and_survives_divergence() -> None:
    records: list[dict] = []
    lrs = (2.0**-6, 2.0**-2, 8.0, 1e6)
    cfg = TransferConfig(parametrization="sp", widths=(16, 64), lrs=lrs, steps=20)
    with pytest.warns(UserWarning, match=r"runs diverged .* have loss inf: .*width 16 at lr 1e\+06 \(step \d+\)"):
        df = lr_transfer(cfg, callback=records.append)
    assert list(df.columns) == ["width", "lr", "loss", "best", "optimizer"]
    assert len(df) == 8 and sorted(set(df["lr"])) == sorted(lrs)
    big = df[df["lr"] == 1e6]
    assert np.isinf(big["loss"]).all()
    assert df.groupby("width")["best"].sum().tolist() == [1, 1]
    assert np.isfinite(df.loc[df["best"], "loss"]).all()
    assert records and records[-1]["progress"] == pytest.approx(1.0)
    assert records[-1]["loss"] == np.inf and records[-1]["lr"] == 1e6  # the last run diverged: one record says so


def test_lr_transfer_warns_when_every_lr_diverges() -> None:
    with pytest.warns(UserWarning, match="add smaller values to `lrs`"):
        df = lr_transfer(TransferConfig(parametrization="sp", widths=(256,), lrs=(1e4,), steps=10))
    assert np.isinf(df["loss"]).all() and not df["best"].any()


def test_mup_optimum_stays_while_sp_optimum_moves_under_gd() -> None:
    sp = lr_transfer(TransferConfig(parametrization="sp", widths=(32, 512), steps=60))
    mu = lr_transfer(TransferConfig(parametrization="mup", widths=(32, 512), steps=60))
    sp_best = sp[sp["best"]].set_index("width")["lr"]
    mu_best = mu[mu["best"]].set_index("width")["lr"]
    assert math.log2(sp_best[32] / sp_best[512]) >= 2  # the SP optimum shrinks with width
    assert mu_best[32] == mu_best[512]


def test_under_adam_too_the_mup_optimum_stays_while_sp_optimum_moves() -> None:
    # Adam, 40 steps (DEFAULT_STEPS), every other octave: measured SP optimum 2^-5 -> 2^-7, muP 2^-1 at both widths.
    kw = {"widths": (128, 512), "optimizer": "adam"}
    sp = lr_transfer(TransferConfig(parametrization="sp", **kw))
    mu = lr_transfer(TransferConfig(parametrization="mup", **kw))
    assert (sp["optimizer"] == "adam").all()
    sp_best = sp[sp["best"]].set_index("width")["lr"]
    mu_best = mu[mu["best"]].set_index("width")["lr"]
    assert math.log2(sp_best[128] / sp_best[512]) >= 1
    assert mu_best[128] == mu_best[512]


def test_default_grids_are_every_other_octave_of_the_fine_ones() -> None:
    for name in ("sp", "ntk", "mup"):
        for opt in ("sgd", "adam"):
            fine, coarse = transfer_lrs(name, opt, fine=True), transfer_lrs(name, opt)
            assert set(coarse) <= set(fine) and len(coarse) == len(fine) // 2
            assert all(b / a == pytest.approx(2.0) for a, b in itertools.pairwise(fine))


@pytest.mark.parametrize(
    ("fn", "config", "match"),
    [
        (lr_transfer, TransferConfig(widths=(8,), lrs=()), "`lrs` must be a non-empty"),
        (lr_transfer, TransferConfig(widths=(8,), lrs=(0.0,)), r"`lrs\[0\]` must be > 0"),
        (lr_transfer, TransferConfig(widths="64"), "`widths` must be a list"),
        (lr_transfer, TransferConfig(optimizer="lion"), "`optimizer`"),
        (coord_check, CoordCheckConfig(widths=(8,), steps=51), "`steps` must be <= 50"),
        (coord_check, CoordCheckConfig(widths=(8,), optimizer="lion"), "`optimizer`"),
        (coord_check, CoordCheckConfig(widths=(8,), hidden_layers=0), "`hidden_layers`"),
        (coord_check, CoordCheckConfig(widths=(8,), n_seeds=11), "`n_seeds` must be <= 10"),
    ],
)
def test_bad_input_messages(fn, config, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        fn(config)


def test_dict_configs_are_refused() -> None:
    with pytest.raises(TypeError, match="`config` must be a TransferConfig"):
        lr_transfer({"parametrization": "sp"})
    with pytest.raises(TypeError, match="`config` must be a CoordCheckConfig"):
        coord_check({"parametrization": "sp"})
