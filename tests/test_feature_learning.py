"""Tests of core.feature_learning (parametrizations, lazy vs rich, function-space view) and core._param_mlp."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch

from core._param_mlp import TaskConfig, forward, ntk, teacher
from core.feature_learning import (
    function_space_view,
    init_weights,
    lazy_vs_rich,
    scaling_table,
    width_slopes,
)


# --- the parametrizations (Tensor Programs V, Table 8) ------------------------------------------------------------
def test_mup_table_8_factors() -> None:
    sgd = scaling_table((11, 256, 512, 1), parametrization="mup", optimizer="sgd").set_index("role")
    assert sgd.loc["input", ["init_var", "multiplier", "lr_scale"]].tolist() == pytest.approx([1 / 11, 1, 256])
    assert sgd.loc["hidden", ["init_var", "multiplier", "lr_scale"]].tolist() == pytest.approx([1 / 256, 1, 1])
    assert sgd.loc["output", ["init_var", "multiplier", "lr_scale"]].tolist() == pytest.approx([1, 1 / 512, 512])
    adam = scaling_table((11, 256, 512, 1), parametrization="mup", optimizer="adam").set_index("role")
    assert adam["lr_scale"].tolist() == pytest.approx([1, 1 / 256, 1])


def test_sp_and_ntk_factors() -> None:
    sp = scaling_table((11, 64, 1), parametrization="sp")
    assert sp["init_var"].tolist() == pytest.approx([1 / 11, 1 / 64])
    assert sp["multiplier"].tolist() == [1.0, 1.0] and sp["lr_scale"].tolist() == [1.0, 1.0]
    nt = scaling_table((11, 64, 1), parametrization="ntk")
    assert nt["init_var"].tolist() == [1.0, 1.0]
    assert nt["multiplier"].tolist() == pytest.approx([1 / math.sqrt(11), 1 / 8])


@pytest.mark.parametrize("parametrization", ["sp", "ntk", "mup"])
def test_empirical_init_variance_matches_the_table(parametrization: str) -> None:
    sizes = (11, 512, 512, 1)
    table = scaling_table(sizes, parametrization=parametrization)
    weights = init_weights(sizes, parametrization=parametrization, seed=3)
    for W, row in zip(weights, table.itertuples()):
        assert W.shape == (row.fan_out, row.fan_in)
        n = W.numel()
        # the sample variance of n Gaussians has relative standard error sqrt(2 / n); allow 5 of them
        assert float(W.var()) == pytest.approx(row.init_var, rel=5 * math.sqrt(2 / n))
        assert abs(float(W.mean())) < 5 * math.sqrt(row.init_var / n)


def test_every_parametrization_gives_order_one_preactivations_at_init() -> None:
    X, _, _ = teacher(TaskConfig(n_train=128), 0)
    for name in ("sp", "ntk", "mup"):
        for n in (64, 1024):
            sizes = (11, n, n, 1)
            table = scaling_table(sizes, parametrization=name)
            acts = forward(init_weights(sizes, parametrization=name), table["multiplier"].tolist(), X)
            assert 0.2 < float(acts[1].pow(2).mean().sqrt()) < 2.0, (name, n)


# --- the empirical NTK against closed forms -------------------------------------------------------------------------
def test_ntk_matches_the_two_layer_closed_form() -> None:
    sizes = (3, 200, 1)
    table = scaling_table(sizes, parametrization="ntk")
    W, v = init_weights(sizes, parametrization="ntk", seed=1)
    x = torch.randn(5, 3, generator=torch.Generator().manual_seed(0))
    K = ntk([W, v], table, x).double()
    h = (x @ W.T / math.sqrt(3)).double()  # (5, n)
    act, der = torch.relu(h), (h > 0).double()
    vv = v.double().squeeze(0) ** 2  # (n,)
    expected = act @ act.T / 200 + (x.double() @ x.double().T / 3) * ((der * vv) @ der.T) / 200
    assert torch.allclose(K, expected, rtol=1e-4, atol=1e-6)


def test_wide_ntk_approaches_the_arc_cosine_kernel() -> None:
    # Infinite-width ReLU NTK (Cho & Saul 2009; Jacot et al. 2018) for inputs with |x| = sqrt(d):
    # K = (1/(2 pi)) (sin t + (pi - t) cos t) + cos t (pi - t) / (2 pi), with t the angle between x and x'.
    d, n = 4, 16384
    sizes = (d, n, 1)
    table = scaling_table(sizes, parametrization="ntk")
    x = torch.tensor([[2.0, 0.0, 0.0, 0.0], [0.0, 2.0, 0.0, 0.0], [math.sqrt(2), math.sqrt(2), 0.0, 0.0]])
    K = ntk(init_weights(sizes, parametrization="ntk", seed=0), table, x).double().numpy()
    cos = np.clip((x @ x.T / d).numpy(), -1, 1)
    t = np.arccos(cos)
    theory = (np.sin(t) + (np.pi - t) * cos) / (2 * np.pi) + cos * (np.pi - t) / (2 * np.pi)
    np.testing.assert_allclose(K, theory, rtol=0.05, atol=0.02)


# --- lazy versus rich ---------------------------------------------------------------------------------------------
def test_ntk_changes_shrink_with_width_and_mup_changes_do_not() -> None:
    ntk_df = lazy_vs_rich(widths=(64, 256), parametrization="ntk", steps=100, seed=0)
    mup_df = lazy_vs_rich(widths=(64, 256), parametrization="mup", steps=100, seed=0)
    w, k = ntk_df["rel_weight_change"].to_numpy(), ntk_df["kernel_change"].to_numpy()
    assert 1.5 < w[0] / w[1] < 2.7  # ~ sqrt(4) for a 4x wider net
    assert k[0] / k[1] > 2.0  # ~ 4 in the lazy limit
    mw, mk = mup_df["rel_weight_change"].to_numpy(), mup_df["kernel_change"].to_numpy()
    assert np.all(mw > 0.5) and 0.85 < mw[0] / mw[1] < 1.2  # order one, flat in width
    assert np.all(mk > 0.5)
    assert not ntk_df["diverged"].any() and not mup_df["diverged"].any()


def test_lazy_vs_rich_columns_determinism_and_callback() -> None:
    records: list[dict] = []
    a = lazy_vs_rich(widths=[32, 16], parametrization="mup", steps=20, seed=5, callback=records.append)
    b = lazy_vs_rich(widths=(16, 32), parametrization="mup", steps=20, seed=5)
    assert list(a.columns) == [
        "width",
        "parametrization",
        "rel_weight_change",
        "kernel_change",
        "train_loss",
        "diverged",
    ]
    assert a["width"].tolist() == [16, 32]
    pd.testing.assert_frame_equal(a, b)
    assert records and all("progress" in r and "rel_weight_change" in r for r in records)
    progress = [r["progress"] for r in records]
    assert progress == sorted(progress) and progress[-1] == pytest.approx(1.0)


def test_lazy_vs_rich_flags_divergence_with_a_warning() -> None:
    with pytest.warns(UserWarning, match="lower `lr`"):
        df = lazy_vs_rich(widths=(16, 512), parametrization="sp", steps=30, lr=1.0)
    assert df["diverged"].iloc[-1] and math.isnan(df["rel_weight_change"].iloc[-1])


def test_width_slopes_recovers_a_power_law() -> None:
    widths = np.array([64, 256, 1024])
    df = pd.DataFrame(
        {
            "width": widths,
            "parametrization": "ntk",
            "rel_weight_change": 3.0 * widths**-0.5,
            "kernel_change": 7.0 / widths,
        }
    )
    slopes = width_slopes(df).set_index("measure")["slope"]
    assert slopes["rel_weight_change"] == pytest.approx(-0.5)
    assert slopes["kernel_change"] == pytest.approx(-1.0)


# --- the function-space view -------------------------------------------------------------------------------------
def test_linearisation_is_exact_to_first_order() -> None:
    df = function_space_view(widths=(64,), parametrizations=("ntk", "mup"), steps=1, lr=1e-3)
    assert set(df["kind"]) == {"target", "train", "network", "linearised"}
    assert df["gap"].max() < 1e-5  # one tiny GD step: network and Taylor model agree to O(lr^2)


def test_wide_ntk_net_is_its_linearisation_and_mup_is_not() -> None:
    df = function_space_view(widths=(16, 4096), parametrizations=("ntk", "mup"), steps=300)
    gap = df.groupby(["parametrization", "width"])["gap"].first()
    assert gap[("ntk", 4096)] < gap[("ntk", 16)] / 3  # ~ 1/sqrt(width): 16x in theory
    assert gap[("mup", 4096)] > 2 * gap[("ntk", 4096)]


# --- bad input -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"widths": [], "parametrization": "ntk", "steps": 5}, "`widths` must be a list"),
        ({"widths": (64, 64), "parametrization": "ntk", "steps": 5}, "must not repeat"),
        ({"widths": (1,), "parametrization": "ntk", "steps": 5}, r"`widths\[0\]` must be >= 2"),
        ({"widths": (64,), "parametrization": "xyz", "steps": 5}, "`parametrization` must be one of"),
        ({"widths": (64,), "parametrization": "ntk", "steps": 0}, "`steps` must be >= 1"),
        ({"widths": (64,), "parametrization": "ntk", "steps": 5, "lr": -1.0}, "`lr` must be > 0"),
        ({"widths": (64,), "parametrization": "ntk", "steps": 5, "seed": -1}, "`seed` must be >= 0"),
    ],
)
def test_lazy_vs_rich_rejects_bad_input(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        lazy_vs_rich(**kwargs)


def test_other_bad_inputs() -> None:
    with pytest.raises(TypeError, match="`widths\\[0\\]` must be an integer"):
        lazy_vs_rich(widths=(64.5,), parametrization="ntk", steps=5)
    with pytest.raises(ValueError, match="`parametrizations` must be one of"):
        function_space_view(parametrizations=("ntk", "bogus"))
    with pytest.raises(ValueError, match="`sizes` must list"):
        scaling_table((11,), parametrization="mup")
    with pytest.raises(ValueError, match="`optimizer` must be one of"):
        scaling_table((11, 4, 1), parametrization="mup", optimizer="lion")
    with pytest.raises(ValueError, match="`result` must be a DataFrame"):
        width_slopes(pd.DataFrame({"width": [1]}))
