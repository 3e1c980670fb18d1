"""Tests of core.mup: the coord check and learning-rate transfer."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.mup import coord_check, coord_slopes, lr_transfer


def test_coord_check_shape_and_columns() -> None:
    df = coord_check(parametrization="mup", widths=(32, 64), steps=2, hidden_layers=2)
    assert list(df.columns) == ["width", "step", "layer", "act_rms", "delta_rms"]
    assert len(df) == 2 * 3 * 3  # widths x (steps + 1) x (hidden layers + output)
    assert set(df["layer"]) == {"hidden 1", "hidden 2", "output"}
    assert (df.loc[df["step"] == 0, "delta_rms"] == 0).all()
    assert np.isfinite(df["act_rms"]).all() and (df["act_rms"] > 0).all()


def test_sp_activations_grow_with_width_and_mup_stay_flat() -> None:
    widths = (32, 128, 512)
    sp = coord_slopes(coord_check(parametrization="sp", widths=widths, steps=2)).set_index("layer")["slope"]
    mu = coord_slopes(coord_check(parametrization="mup", widths=widths, steps=2)).set_index("layer")["slope"]
    assert sp["output"] > 0.5 and sp["hidden 3"] > 0.5  # SP + Adam: updates of width x width matrices add up
    assert all(abs(mu[f"hidden {i}"]) < 0.15 for i in (1, 2, 3))


def test_ntk_features_freeze_under_sgd_while_mup_features_move() -> None:
    kw = {"widths": (32, 512), "steps": 2, "optimizer": "sgd", "lr": 0.1}
    last = lambda df: df[(df["step"] == 2) & (df["layer"] == "hidden 2")].set_index("width")["delta_rms"]  # noqa: E731
    nt, mu = last(coord_check(parametrization="ntk", **kw)), last(coord_check(parametrization="mup", **kw))
    assert nt[512] < nt[32] / 2  # lazy: ~ 1/sqrt(width)
    assert 0.7 < mu[512] / mu[32] < 1.4  # rich: width-independent


def test_overflowing_layers_get_an_infinite_slope() -> None:
    with pytest.warns(UserWarning, match="lower `lr`"):
        df = coord_check(parametrization="sp", widths=(16, 512), steps=10, optimizer="sgd", lr=1.0)
    slopes = coord_slopes(df).set_index("layer")["slope"]
    assert slopes["output"] == np.inf


def test_lr_transfer_returns_the_grid_and_survives_divergence() -> None:
    records: list[dict] = []
    lrs = [2.0**-6, 2.0**-2, 8.0, 1e6]
    df = lr_transfer(parametrization="sp", widths=(16, 64), lrs=lrs, steps=20, callback=records.append)
    assert list(df.columns) == ["width", "lr", "loss", "diverged", "best"]
    assert len(df) == 8 and sorted(set(df["lr"])) == sorted(lrs)
    big = df[df["lr"] == 1e6]
    assert big["diverged"].all() and big["loss"].isna().all()
    assert df.groupby("width")["best"].sum().tolist() == [1, 1]
    assert not df.loc[df["best"], "diverged"].any()
    assert records and records[-1]["progress"] == pytest.approx(1.0)


def test_lr_transfer_warns_when_every_lr_diverges() -> None:
    with pytest.warns(UserWarning, match="add smaller values to `lrs`"):
        df = lr_transfer(parametrization="sp", widths=(256,), lrs=[1e4], steps=10)
    assert df["diverged"].all() and not df["best"].any()


def test_mup_optimum_stays_while_sp_optimum_moves() -> None:
    lrs = [2.0**k for k in range(-10, 1, 2)]
    sp = lr_transfer(parametrization="sp", widths=(32, 512), lrs=lrs, steps=60)
    mu = lr_transfer(parametrization="mup", widths=(32, 512), lrs=[2.0**k for k in range(-5, 2, 2)], steps=60)
    sp_best = sp[sp["best"]].set_index("width")["lr"]
    mu_best = mu[mu["best"]].set_index("width")["lr"]
    assert math.log2(sp_best[32] / sp_best[512]) >= 2  # the SP optimum shrinks with width
    assert mu_best[32] == mu_best[512]


@pytest.mark.parametrize(
    ("fn", "kwargs", "match"),
    [
        (lr_transfer, {"parametrization": "sp", "widths": (8,), "lrs": [], "steps": 5}, "`lrs` must be a non-empty"),
        (lr_transfer, {"parametrization": "sp", "widths": (8,), "lrs": [0.0], "steps": 5}, r"`lrs\[0\]` must be > 0"),
        (lr_transfer, {"parametrization": "sp", "widths": "64", "lrs": [0.1], "steps": 5}, "`widths` must be a list"),
        (coord_check, {"parametrization": "mup", "widths": (8,), "steps": 51}, "`steps` must be <= 50"),
        (coord_check, {"parametrization": "mup", "widths": (8,), "steps": 2, "optimizer": "lion"}, "`optimizer`"),
        (coord_check, {"parametrization": "mup", "widths": (8,), "steps": 2, "hidden_layers": 0}, "`hidden_layers`"),
    ],
)
def test_bad_input_messages(fn, kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        fn(**kwargs)
