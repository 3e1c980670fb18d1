"""Tests of core.feature_learning.lazy_rich (parametrizations, lazy vs rich, function-space view) and
core.feature_learning._param_mlp."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch

from core.feature_learning._param_mlp import DIVERGED_LOSS, TaskConfig, fit, forward, ntk, teacher
from core.feature_learning.lazy_rich import (
    FunctionViewConfig,
    LazyRichConfig,
    change_bands,
    function_space_view,
    init_weights,
    lazy_vs_rich,
    scaling_table,
    width_slopes,
)
from core.training import Diverged


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


def test_tanh_ntk_matches_the_two_layer_closed_form() -> None:
    sizes = (3, 100, 1)
    table = scaling_table(sizes, parametrization="ntk")
    W, v = init_weights(sizes, parametrization="ntk", seed=2)
    x = torch.randn(4, 3, generator=torch.Generator().manual_seed(1))
    K = ntk([W, v], table, x, "tanh").double()
    h = (x @ W.T / math.sqrt(3)).double()  # (4, n)
    act, der = torch.tanh(h), 1 - torch.tanh(h) ** 2
    vv = v.double().squeeze(0) ** 2  # (n,)
    expected = act @ act.T / 100 + (x.double() @ x.double().T / 3) * ((der * vv) @ der.T) / 100
    assert torch.allclose(K, expected, rtol=1e-4, atol=1e-6)


def test_adam_in_fit_matches_torch_optim_adam() -> None:
    sizes = (11, 16, 1)
    table = scaling_table(sizes, parametrization="mup", optimizer="adam")
    X, y, _ = teacher(TaskConfig(n_train=32), 0)
    ours = init_weights(sizes, parametrization="mup", seed=4)
    ref = [W.clone().requires_grad_(True) for W in ours]
    fit(ours, table, X, y, lr=0.01, steps=5, optimizer="adam")
    opt = torch.optim.Adam([{"params": [p], "lr": 0.01 * s} for p, s in zip(ref, table["lr_scale"])])
    for _ in range(5):
        opt.zero_grad()
        (0.5 * ((forward(ref, table["multiplier"].tolist(), X)[-1] - y) ** 2).mean()).backward()
        opt.step()
    for a, b in zip(ours, ref):
        assert torch.allclose(a, b.detach(), rtol=1e-5, atol=1e-6)


def test_fit_is_gradient_descent_on_the_half_mse() -> None:
    # One GD step by hand: W <- W - lr * s_l * dL/dW, with L = (1/2) mean (f - y)^2 and the gradient from autograd.
    sizes = (11, 8, 1)
    table = scaling_table(sizes, parametrization="mup")
    X, y, _ = teacher(TaskConfig(n_train=16), 1)
    ours = init_weights(sizes, parametrization="mup", seed=2)
    ref = [W.clone().requires_grad_(True) for W in ours]
    loss0 = 0.5 * ((forward(ref, table["multiplier"].tolist(), X)[-1] - y) ** 2).mean()
    grads = torch.autograd.grad(loss0, ref)
    records: list[dict] = []
    final = fit(ours, table, X, y, lr=0.05, steps=1, callback=records.append)
    for a, W, g, s in zip(ours, ref, grads, table["lr_scale"]):
        assert torch.allclose(a, W.detach() - 0.05 * s * g, rtol=1e-5, atol=1e-7)
        assert not a.requires_grad
    after = 0.5 * ((forward(ours, table["multiplier"].tolist(), X)[-1] - y) ** 2).mean()
    assert final == pytest.approx(float(after)) and final < float(loss0)
    assert records == [{"step": 1, "loss": pytest.approx(float(loss0)), "progress": 1.0}]


def test_fit_raises_diverged_naming_lr_and_the_callback_can_cancel() -> None:
    sizes = (11, 64, 1)
    table = scaling_table(sizes, parametrization="sp")
    X, y, _ = teacher(TaskConfig(n_train=32), 0)
    with pytest.raises(Diverged, match="Lower `lr`") as err:
        fit(init_weights(sizes, parametrization="sp"), table, X, y, lr=50.0, steps=50)
    assert err.value.knob == "lr" and not err.value.loss <= DIVERGED_LOSS  # above the threshold, or not finite

    def cancel(record: dict) -> None:
        raise RuntimeError("stopped by the user")

    with pytest.raises(RuntimeError, match="stopped by the user"):
        fit(init_weights(sizes, parametrization="sp"), table, X, y, lr=0.01, steps=5, callback=cancel)


# --- lazy versus rich ---------------------------------------------------------------------------------------------
def test_ntk_changes_shrink_with_width_and_mup_changes_do_not() -> None:
    ntk_df = lazy_vs_rich(LazyRichConfig(widths=(64, 256), parametrization="ntk", steps=100, n_seeds=1))
    mup_df = lazy_vs_rich(LazyRichConfig(widths=(64, 256), parametrization="mup", steps=100, n_seeds=1))
    w, k = ntk_df["rel_weight_change"].to_numpy(), ntk_df["kernel_change"].to_numpy()
    assert 1.5 < w[0] / w[1] < 2.7  # ~ sqrt(4) for a 4x wider net
    assert k[0] / k[1] > 2.0  # ~ 4 in the lazy limit
    mw, mk = mup_df["rel_weight_change"].to_numpy(), mup_df["kernel_change"].to_numpy()
    assert np.all(mw > 0.5) and 0.85 < mw[0] / mw[1] < 1.2  # order one, flat in width
    assert np.all(mk > 0.5)
    assert np.isfinite(ntk_df["train_loss"]).all() and np.isfinite(mup_df["train_loss"]).all()


def test_lazy_vs_rich_columns_seeds_determinism_and_callback() -> None:
    records: list[dict] = []
    cfg = LazyRichConfig(widths=(32, 16), parametrization="mup", steps=20, seed=5, n_seeds=2)
    a = lazy_vs_rich(cfg, callback=records.append)
    b = lazy_vs_rich(cfg)
    assert list(a.columns) == [
        "seed",
        "width",
        "parametrization",
        "activation",
        "rel_weight_change",
        "kernel_change",
        "train_loss",
    ]
    assert a["width"].tolist() == [16, 32, 16, 32] and a["seed"].tolist() == [5, 5, 6, 6]
    pd.testing.assert_frame_equal(a, b)
    assert a.loc[a.seed == 5, "kernel_change"].tolist() != a.loc[a.seed == 6, "kernel_change"].tolist()
    assert records and all("progress" in r and "rel_weight_change" in r for r in records)
    progress = [r["progress"] for r in records]
    assert progress == sorted(progress) and progress[-1] == pytest.approx(1.0)
    one = lazy_vs_rich(LazyRichConfig(widths=(16,), parametrization="mup", steps=20, seed=6, n_seeds=1))
    assert one["kernel_change"].iloc[0] == a.loc[(a.seed == 6) & (a.width == 16), "kernel_change"].iloc[0]


def test_lazy_vs_rich_flags_divergence_with_a_warning() -> None:
    with pytest.warns(UserWarning, match="lower `lr`"):
        df = lazy_vs_rich(LazyRichConfig(widths=(16, 512), parametrization="sp", steps=30, lr=1.0, n_seeds=1))
    assert math.isinf(df["train_loss"].iloc[-1]) and math.isnan(df["rel_weight_change"].iloc[-1])


def _power_law_sweep(slopes: dict[int, float]) -> pd.DataFrame:
    widths = np.array([64, 256, 1024])
    return pd.concat(
        pd.DataFrame(
            {
                "seed": seed,
                "width": widths,
                "parametrization": "ntk",
                "rel_weight_change": (2.0 + seed) * widths**-0.5,
                "kernel_change": (7.0 + seed) * widths**slope,
            }
        )
        for seed, slope in slopes.items()
    )


def test_width_slopes_average_per_seed_fits() -> None:
    slopes = width_slopes(_power_law_sweep({0: -0.7, 1: -0.9, 2: -0.8})).set_index("measure")
    assert slopes.loc["rel_weight_change", "slope"] == pytest.approx(-0.5)
    assert slopes.loc["rel_weight_change", "slope_sd"] == pytest.approx(0.0, abs=1e-12)
    assert slopes.loc["kernel_change", "slope"] == pytest.approx(-0.8)
    assert slopes.loc["kernel_change", "slope_sd"] == pytest.approx(np.std([-0.7, -0.9, -0.8], ddof=1))
    assert slopes.loc["kernel_change", "n_seeds"] == 3 and slopes.loc["kernel_change", "n_widths"] == 3


def test_change_bands_are_geometric_means_with_min_max() -> None:
    bands = change_bands(_power_law_sweep({0: -1.0, 1: -1.0})).set_index(["measure", "width"])
    row = bands.loc[("kernel_change", 256)]
    assert row["value"] == pytest.approx(math.sqrt(7.0 * 8.0) / 256)
    assert (row["low"], row["high"]) == pytest.approx((7.0 / 256, 8.0 / 256))
    assert row["n_seeds"] == 2


# --- the function-space view -------------------------------------------------------------------------------------
def test_linearisation_is_exact_to_first_order() -> None:
    df = function_space_view(FunctionViewConfig(widths=(64,), parametrizations=("ntk", "mup"), steps=1, lr=1e-3))
    assert set(df["kind"]) == {"target", "train", "network", "linearised"}
    assert df["gap"].max() < 1e-5  # one tiny GD step: network and Taylor model agree to O(lr^2)


def test_wide_ntk_net_is_its_linearisation_and_mup_is_not() -> None:
    df = function_space_view(FunctionViewConfig(widths=(16, 4096), steps=300))
    gap = df.groupby(["parametrization", "width"])["gap"].first()
    assert gap[("ntk", 4096)] < gap[("ntk", 16)] / 3  # ~ 1/sqrt(width): 16x in theory
    assert gap[("mup", 4096)] > 2 * gap[("ntk", 4096)]


# --- bad input -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"widths": ()}, "`widths` must be a list"),
        ({"widths": (64, 64)}, "must not repeat"),
        ({"widths": (1,)}, r"`widths\[0\]` must be >= 2"),
        ({"parametrization": "xyz"}, "`parametrization` must be one of"),
        ({"steps": 0}, "`steps` must be >= 1"),
        ({"lr": -1.0}, "`lr` must be > 0"),
        ({"seed": -1}, "`seed` must be >= 0"),
        ({"n_seeds": 0}, "`n_seeds` must be >= 1"),
        ({"activation": "sigmoid"}, "`activation` must be one of"),
    ],
)
def test_lazy_vs_rich_rejects_bad_input(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        lazy_vs_rich(LazyRichConfig(**{"widths": (64,), "steps": 5, **kwargs}))


def test_other_bad_inputs() -> None:
    with pytest.raises(TypeError, match="`widths\\[0\\]` must be an integer"):
        lazy_vs_rich(LazyRichConfig(widths=(64.5,), steps=5))
    with pytest.raises(TypeError, match="`config` must be a LazyRichConfig"):
        lazy_vs_rich({"widths": (64,)})
    with pytest.raises(ValueError, match="`parametrizations` must be one of"):
        function_space_view(FunctionViewConfig(parametrizations=("ntk", "bogus")))
    with pytest.raises(ValueError, match="`sizes` must list"):
        scaling_table((11,), parametrization="mup")
    with pytest.raises(ValueError, match="`optimizer` must be one of"):
        scaling_table((11, 4, 1), parametrization="mup", optimizer="lion")
    with pytest.raises(ValueError, match="`result` must be a DataFrame"):
        width_slopes(pd.DataFrame({"width": [1]}))
