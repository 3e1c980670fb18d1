"""Tests for core.information_bottleneck.info_plane: the 12-bit task, the MI estimators, and a tiny information-plane
run."""

import dataclasses
import itertools

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.metrics import mutual_info_score

from core.information_bottleneck.info_plane import (
    ESTIMATORS,
    SIZES,
    _FeatureMajorNets,
    _seeded_net,
    binned_information,
    exact_information,
    kde_information,
    log_epochs,
    twelve_bit_task,
)
from core.information_bottleneck.theory import InfoPlaneConfig, compression_summary, information_plane, layer_report

TINY = InfoPlaneConfig(epochs=6, n_log=3, n_bins=(10,), kde_samples=64, estimators=ESTIMATORS)


def test_twelve_bit_task_has_all_patterns_and_balanced_labels():
    x, y = twelve_bit_task(seed=0)
    assert x.shape == (4096, 12) and y.shape == (4096,)
    assert set(np.unique(x)) == {-1.0, 1.0}
    assert len(np.unique(x, axis=0)) == 4096
    assert y.sum() == 2048
    np.testing.assert_array_equal(twelve_bit_task(seed=0)[1], y)
    assert not np.array_equal(twelve_bit_task(seed=1)[1], y)


def test_binning_known_cases():
    x, y = twelve_bit_task()
    # the identity layer: every pattern has its own cell, so I(X;T) = H(X) = 12 bits and I(T;Y) = H(Y) = 1 bit
    assert binned_information(x, y, n_bins=2) == pytest.approx((12.0, 1.0))
    # a constant layer carries nothing
    assert binned_information(np.zeros((4096, 3)), y, n_bins=30) == pytest.approx((0.0, 0.0))
    # a unit that encodes the label: one bit about X, all of it about Y
    t = np.where(y == 1, 0.9, -0.7)[:, None]
    assert binned_information(t, y, n_bins=30) == pytest.approx((1.0, 1.0))
    # one input bit: 1 bit about X; about Y exactly what sklearn says
    first = x[:, :1]
    expected = mutual_info_score(first[:, 0], y) / np.log(2)
    assert binned_information(first, y, n_bins=5) == pytest.approx((1.0, expected))


def test_fixed_bins_collapse_large_relu_values():
    # ReLU-like values all above 1 land in the top [-1, 1] bin: fixed bins see no information at all
    h = np.linspace(2.0, 10.0, 4096)[:, None]
    y = (np.arange(4096) % 2).astype(int)
    assert binned_information(h, y, n_bins=30, value_range=(-1, 1))[0] == pytest.approx(0.0)
    assert binned_information(h, y, n_bins=30)[0] == pytest.approx(np.log2(30), abs=0.01)


def test_kde_known_cases():
    rng = np.random.default_rng(0)
    centers = np.eye(4) * 20.0  # four far-apart clusters, noise std 0.3
    labels = np.repeat([0, 0, 1, 1], 64)
    h = np.repeat(centers, 64, axis=0)
    i_tx, i_ty = kde_information(h, labels, noise_var=0.1)
    assert i_tx == pytest.approx(2.0, abs=1e-3)  # log2(4 clusters)
    assert i_ty == pytest.approx(1.0, abs=1e-3)  # the label is one bit, fully readable
    assert kde_information(np.zeros((50, 3)), np.arange(50) % 2, noise_var=0.1) == pytest.approx((0.0, 0.0), abs=1e-6)
    spread = rng.normal(size=(128, 5)) * 100
    assert kde_information(spread, np.arange(128) % 2, noise_var=0.1)[0] == pytest.approx(7.0, abs=1e-6)


def test_estimator_bad_inputs():
    with pytest.raises(ValueError, match="one label per row"):
        binned_information(np.zeros((5, 2)), np.zeros(4), n_bins=10)
    with pytest.raises(ValueError, match="`n_bins` must be >= 2"):
        binned_information(np.zeros((5, 2)), np.zeros(5), n_bins=1)
    with pytest.raises(ValueError, match="`noise_var` must be > 0"):
        kde_information(np.zeros((5, 2)), np.zeros(5), noise_var=0.0)


def test_log_epochs_are_distinct_and_span_the_run():
    e = log_epochs(3000, 30)
    assert e[0] == 1 and e[-1] == 3000 and np.all(np.diff(e) > 0) and 20 <= len(e) <= 30


def test_tiny_information_plane_run_has_the_right_columns_and_calls_back():
    records = []
    df = information_plane(TINY, callback=records.append)
    assert list(df.columns[:7]) == ["epoch", "layer", "i_tx", "i_ty", "activation", "estimator", "n_bins"]
    assert set(df["activation"]) == {"tanh", "relu"}
    assert set(df["estimator"]) == {"adaptive", "fixed", "kde"}
    assert set(df["layer"]) == set(range(1, 7))
    assert set(df["epoch"]) == set(log_epochs(6, 3))
    assert len(df) == len(log_epochs(6, 3)) * 2 * 6 * 3
    assert df["n_bins"].isna().sum() == (df["estimator"] == "kde").sum()
    assert df["i_tx"].between(0, 12).all() and (df["i_ty"] <= df["i_tx"] + 1e-9).all()
    progress = [r["progress"] for r in records]
    assert all("progress" in r for r in records) and progress == sorted(progress) and progress[-1] == 1.0
    logged = [r for r in records if "rows" in r]
    assert [r["epoch"] for r in logged] == list(log_epochs(6, 3))
    assert sum(len(r["rows"]) for r in logged) == len(df)


def test_information_plane_is_seeded_and_both_nets_start_equal():
    a = information_plane(dataclasses.replace(TINY, estimators=("adaptive",)))
    b = information_plane(dataclasses.replace(TINY, estimators=("adaptive",)))
    pd.testing.assert_frame_equal(a, b)
    c = information_plane(dataclasses.replace(TINY, estimators=("adaptive",), seed=1))
    assert not np.allclose(a["i_tx"], c["i_tx"])


def test_layer_report_gathers_the_numbers_of_one_layer():
    df = information_plane(dataclasses.replace(TINY, n_bins=(10, 30)))
    rep = layer_report(df, estimator="adaptive", n_bins=30, layer=5)
    assert list(rep["by_activation"]) == ["tanh", "relu"]
    assert rep["by_activation"]["tanh"]["n_bins"] == 30
    assert set(rep["after_fit"]["estimator"]) == {"adaptive", "fixed", "kde"} and len(rep["after_fit"]) == 3
    assert 0.0 <= rep["saturated"] <= 1.0 and rep["dead_first"] >= 0
    with pytest.raises(ValueError, match="`layer` must be <= 6"):
        layer_report(df, estimator="kde", n_bins=30, layer=7)


def test_compression_summary():
    df = information_plane(dataclasses.replace(TINY, estimators=("adaptive",), activations=("tanh",)))
    s = compression_summary(df, fit_frac=0.0)
    assert len(s) == 6
    assert (s["compression"] >= 0).all()
    np.testing.assert_allclose(s["compression"], s["peak_i_tx"] - s["final_i_tx"])
    assert (s["fit_epoch"] == 1).all()  # fit_frac = 0: fitted from the first logged epoch
    np.testing.assert_allclose(s["after_fit"], s["fit_i_tx"] - s["final_i_tx"])
    late = compression_summary(df, fit_frac=1.0)
    best = df.loc[df["train_acc"].idxmax(), "epoch"]
    assert (late["fit_epoch"] == best).all()
    with pytest.raises(ValueError, match="output of information_plane"):
        compression_summary(pd.DataFrame({"epoch": [1]}))


@pytest.mark.parametrize(
    ("change", "exc", "match"),
    [
        ({"activations": ("sigmoid",)}, ValueError, "`activations` must be one of"),
        ({"activations": ()}, ValueError, "distinct activations"),
        ({"epochs": 0}, ValueError, "`epochs` must be >= 1"),
        ({"estimators": ("mine",)}, ValueError, "`estimators` must be one of"),
        ({"n_bins": (1,)}, ValueError, "`n_bins` must be >= 2"),
        ({"kde_noise_var": -1.0}, ValueError, "`kde_noise_var` must be > 0"),
        ({"kde_samples": 5000}, ValueError, "`kde_samples` must be <= 4096"),
        ({"lr": "fast"}, TypeError, "`lr` must be a real number"),
    ],
)
def test_information_plane_bad_config_messages(change, exc, match):
    with pytest.raises(exc, match=match):
        information_plane(dataclasses.replace(TINY, **change))


def test_information_plane_rejects_other_configs():
    with pytest.raises(TypeError, match="InfoPlaneConfig"):
        information_plane({"epochs": 5})


def test_hand_written_backprop_matches_autograd():
    x, y = twelve_bit_task(seed=0)
    xt, yt = torch.from_numpy(x[:500]), torch.from_numpy(y[:500])
    nets = {a: _seeded_net(a, 3) for a in ("tanh", "relu")}
    for net in nets.values():  # move the weights off the init so that ReLU units sit on both sides of 0
        with torch.no_grad():
            for p in net.parameters():
                p.add_(0.3 * torch.randn(p.shape, generator=torch.Generator().manual_seed(p.numel())))
    fm = _FeatureMajorNets(nets, lr=1e-3)
    loss = fm.step(xt.T.contiguous(), torch.nn.functional.one_hot(yt, 2).T.float().contiguous())
    losses = [torch.nn.functional.cross_entropy(net(xt), yt) for net in nets.values()]
    sum(losses).backward()  # autograd on the ordinary batch-major nets
    ref = torch.cat([p.grad.reshape(-1) for net in nets.values() for p in net.parameters()])
    torch.testing.assert_close(fm.flat.grad, ref, rtol=1e-4, atol=1e-6)
    assert loss == pytest.approx(float(torch.stack(losses).detach().mean()), rel=1e-5)
    assert fm.flat.numel() == 2 * sum(a * b + b for a, b in itertools.pairwise(SIZES))


def test_exact_information_counts_float32_patterns():
    from scipy.stats import entropy as scipy_entropy

    rng = np.random.default_rng(0)
    h = rng.normal(size=(64, 3)).astype(np.float32)
    assert exact_information(h) == pytest.approx((6.0, 64))  # 64 distinct rows: log2 64 bits
    # saturated tanh: 10 and 20 both round to exactly 1.0 in float32, so the two inputs merge
    z = np.array([[10.0, 0.5], [20.0, 0.5], [0.1, 0.5], [0.2, 0.5]], dtype=np.float32)
    t = np.tanh(z)
    assert t[0, 0] == t[1, 0] == np.float32(1.0)
    _, counts = np.unique(t, axis=0, return_counts=True)  # independent count of distinct rows
    assert exact_information(t) == pytest.approx((scipy_entropy(counts, base=2), 3))
    with pytest.raises(ValueError, match="must be \\(n, w\\)"):
        exact_information(np.zeros(5))


def test_linear_network_backprop_matches_autograd_and_runs():
    x, y = twelve_bit_task(seed=0)
    xt, yt = torch.from_numpy(x[:300]), torch.from_numpy(y[:300])
    relu_built = _seeded_net("linear", 2)
    fm = _FeatureMajorNets({"linear": relu_built}, lr=1e-3)
    plain = torch.nn.Sequential(*[m for m in _seeded_net("tanh", 2) if isinstance(m, torch.nn.Linear)])
    fm.step(xt.T.contiguous(), torch.nn.functional.one_hot(yt, 2).T.float().contiguous())
    torch.nn.functional.cross_entropy(plain(xt), yt).backward()  # a purely linear stack, by autograd
    ref = torch.cat([p.grad.reshape(-1) for p in plain.parameters()])
    torch.testing.assert_close(fm.flat.grad, ref, rtol=1e-4, atol=1e-6)
    df = information_plane(dataclasses.replace(TINY, estimators=("adaptive",), activations=("linear",)))
    assert set(df["activation"]) == {"linear"} and df["frac_saturated"].isna().all()
