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
from core.information_bottleneck.theory import (
    InfoPlaneConfig,
    compression_summary,
    drift_diffusion,
    information_plane,
    layer_report,
    seed_band,
)
from core.training import minibatches, seeded_generator

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
    result = information_plane(TINY, callback=records.append)
    df = result.plane
    assert result.batches_per_epoch == 1 and set(df["seed"]) == {0}
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
    a = information_plane(dataclasses.replace(TINY, estimators=("adaptive",))).plane
    b = information_plane(dataclasses.replace(TINY, estimators=("adaptive",))).plane
    pd.testing.assert_frame_equal(a, b)
    c = information_plane(dataclasses.replace(TINY, estimators=("adaptive",), seed=1)).plane
    assert not np.allclose(a["i_tx"], c["i_tx"])


def test_layer_report_gathers_the_numbers_of_one_layer():
    df = information_plane(dataclasses.replace(TINY, n_bins=(10, 30))).plane
    rep = layer_report(df, estimator="adaptive", n_bins=30, layer=5)
    assert list(rep.by_activation) == ["tanh", "relu"]
    assert rep.by_activation["tanh"]["n_bins"] == 30
    assert set(rep.after_fit["estimator"]) == {"adaptive", "fixed", "kde"} and len(rep.after_fit) == 3
    assert 0.0 <= rep.saturated <= 1.0 and rep.dead_first >= 0 and rep.n_seeds == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        rep.saturated = 0.5
    with pytest.raises(ValueError, match="`layer` must be <= 6"):
        layer_report(df, estimator="kde", n_bins=30, layer=7)


def test_compression_summary():
    df = information_plane(dataclasses.replace(TINY, estimators=("adaptive",), activations=("tanh",))).plane
    s = compression_summary(df, fit_frac=0.0)
    assert len(s) == 6
    assert (s["compression"] >= 0).all()
    np.testing.assert_allclose(s["compression"], s["peak_i_tx"] - s["final_i_tx"])
    assert (s["fit_epoch"] == 1).all()  # fit_frac = 0: fitted from the first logged epoch
    np.testing.assert_allclose(s["after_fit"], s["fit_i_tx"] - s["final_i_tx"])
    late = compression_summary(df, fit_frac=1.0)
    best = df.loc[df["train_acc"].idxmax(), "epoch"]
    assert (late["fit_epoch"] == best).all()
    with pytest.raises(ValueError, match=r"InfoPlaneResult\.plane"):
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
        ({"n_seeds": 0}, ValueError, "`n_seeds` must be >= 1"),
        ({"batch": 0}, ValueError, "`batch` must be >= 1"),
        ({"batch": 2.5}, TypeError, "`batch` must be an integer"),
    ],
)
def test_information_plane_bad_config_messages(change, exc, match):
    with pytest.raises(exc, match=match):
        information_plane(dataclasses.replace(TINY, **change))


def test_information_plane_rejects_other_configs():
    with pytest.raises(TypeError, match="InfoPlaneConfig"):
        information_plane({"epochs": 5})


def _as_sequential(fm: _FeatureMajorNets, act: str, k: int) -> torch.nn.Sequential:
    """Seed k's net of one activation as an ordinary batch-major torch model, for autograd."""
    layers = []
    for i, (w, b) in enumerate(fm.params[act]):
        lin = torch.nn.Linear(w.shape[2], w.shape[1])
        with torch.no_grad():
            lin.weight.copy_(w[k])
            lin.bias.copy_(b[k, :, 0])
        layers.append(lin)
        if i < len(fm.params[act]) - 1 and act != "linear":
            layers.append(torch.nn.Tanh() if act == "tanh" else torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def test_hand_written_backprop_matches_autograd():
    x, y = twelve_bit_task(seed=0)
    xt, yt = torch.from_numpy(x[:500]), torch.from_numpy(y[:500])
    fm = _FeatureMajorNets(("tanh", "relu"), [3, 4], 1e-3, torch.device("cpu"))
    with torch.no_grad():  # move the weights off the init so that ReLU units sit on both sides of 0
        fm.flat.add_(0.3 * torch.randn(fm.flat.shape, generator=torch.Generator().manual_seed(0)))
    nets = [_as_sequential(fm, a, k) for a in ("tanh", "relu") for k in range(2)]
    loss = fm.gradients(xt.T.contiguous(), torch.nn.functional.one_hot(yt, 2).T.float().contiguous())
    losses = [torch.nn.functional.cross_entropy(net(xt), yt) for net in nets]
    sum(losses).backward()  # autograd on the ordinary batch-major nets
    for i, (a, k) in enumerate((a, k) for a in ("tanh", "relu") for k in range(2)):
        for layer, lin in enumerate(m for m in nets[i] if isinstance(m, torch.nn.Linear)):
            gw, gb = fm.grads[a][layer]
            torch.testing.assert_close(gw[k], lin.weight.grad, rtol=1e-4, atol=1e-6)
            torch.testing.assert_close(gb[k, :, 0], lin.bias.grad, rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(loss, torch.stack(losses).detach(), rtol=1e-5, atol=1e-7)
    assert fm.flat.numel() == 2 * 2 * sum(a * b + b for a, b in itertools.pairwise(SIZES))


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
    fm = _FeatureMajorNets(("linear",), [2], 1e-3, torch.device("cpu"))
    plain = torch.nn.Sequential(*[m for m in _seeded_net("tanh", 2) if isinstance(m, torch.nn.Linear)])
    fm.gradients(xt.T.contiguous(), torch.nn.functional.one_hot(yt, 2).T.float().contiguous())
    torch.nn.functional.cross_entropy(plain(xt), yt).backward()  # a purely linear stack, by autograd
    ref = torch.cat([p.grad.reshape(-1) for p in plain.parameters()])
    torch.testing.assert_close(fm.flat.grad, ref, rtol=1e-4, atol=1e-6)
    df = information_plane(dataclasses.replace(TINY, estimators=("adaptive",), activations=("linear",))).plane
    assert set(df["activation"]) == {"linear"} and df["frac_saturated"].isna().all()


def _reference_gradient_stats(config: InfoPlaneConfig) -> pd.DataFrame:
    """Train the config's nets again with autograd and torch's Adam (one per net) on the same minibatches.

    Per epoch and layer: the Frobenius norms of the mean and of the population standard deviation of the weight
    gradient over the epoch's minibatches. The split is the documented recipe (a permutation from ``task_seed``).
    """
    x, y = twelve_bit_task(seed=config.task_seed)
    perm = np.random.default_rng(config.task_seed).permutation(4096)
    train = perm[: round(config.train_frac * 4096)]
    xt, yt = torch.from_numpy(x[train]), torch.from_numpy(y[train])
    nets = {}
    for a in config.activations:
        for k in range(config.n_seeds):
            fm = _FeatureMajorNets((a,), [config.seed + k], config.lr, torch.device("cpu"))
            nets[a, config.seed + k] = _as_sequential(fm, a, 0)
    opts = {key: torch.optim.Adam(net.parameters(), lr=config.lr) for key, net in nets.items()}
    gen, rows = seeded_generator(config.seed), []
    for epoch in range(1, config.epochs + 1):
        grads = {key: [] for key in nets}
        for batch in minibatches(len(train), config.batch, gen):
            for key, net in nets.items():
                opts[key].zero_grad()
                torch.nn.functional.cross_entropy(net(xt[batch]), yt[batch]).backward()
                grads[key].append([m.weight.grad.clone() for m in net if isinstance(m, torch.nn.Linear)])
                opts[key].step()
        for (a, seed), per_batch in grads.items():
            for layer, gs in enumerate(zip(*per_batch, strict=True), start=1):
                g = torch.stack(gs).double()  # (batches, out, in)
                ref = {"ref_mean": float(g.mean(0).norm()), "ref_std": float(g.std(0, correction=0).norm())}
                rows.append({"epoch": epoch, "activation": a, "seed": seed, "layer": layer, **ref})
    return pd.DataFrame(rows)


def test_gradient_mean_and_std_per_layer_match_autograd_on_the_same_minibatches():
    config = InfoPlaneConfig(epochs=3, n_log=2, n_bins=(10,), batch=700, n_seeds=2, seed=5, estimators=("adaptive",))
    result = information_plane(config)
    assert result.batches_per_epoch == 5  # 3277 training rows in batches of 700
    got = result.gradients.merge(_reference_gradient_stats(config), on=["epoch", "activation", "seed", "layer"])
    assert len(got) == 3 * 2 * 2 * 6 == len(result.gradients)
    np.testing.assert_allclose(got["grad_mean"], got["ref_mean"], rtol=2e-3, atol=1e-7)
    np.testing.assert_allclose(got["grad_std"], got["ref_std"], rtol=2e-3, atol=1e-7)
    assert (got["grad_std"] > 0).all()
    np.testing.assert_allclose(got["snr"], got["grad_mean"] / got["grad_std"])


def test_full_batch_has_zero_gradient_std():
    for batch in (None, 4096):  # a batch at least the training set is full batch
        result = information_plane(dataclasses.replace(TINY, estimators=("adaptive",), batch=batch))
        g = result.gradients
        assert result.batches_per_epoch == 1 and (g["grad_std"] == 0).all() and np.isinf(g["snr"]).all()
        assert (g["grad_mean"] > 0).all()
    dd = drift_diffusion(g)
    assert np.isinf(dd["snr_last"]).all() and dd["diffusion_epoch"].isna().all()


def test_seed_band_is_the_min_max_mean_of_the_per_seed_runs():
    config = dataclasses.replace(TINY, estimators=("adaptive",), n_bins=(30,), seed=2, n_seeds=3)
    band = seed_band(information_plane(config).plane)
    singles = pd.concat(
        [information_plane(dataclasses.replace(config, seed=s, n_seeds=1)).plane for s in (2, 3, 4)]
    )  # each seed trained alone
    keys = ["epoch", "activation", "layer"]
    ref = (
        singles.groupby(keys)["i_tx"]
        .agg(["mean", "min", "max"])
        .join(singles.groupby(keys)["i_ty"].agg(["mean", "min", "max"]).add_suffix("_y"))
    )
    got = band.set_index(keys).loc[ref.index]
    np.testing.assert_allclose(got["i_tx"], ref["mean"], atol=1e-9)
    np.testing.assert_allclose(got["i_tx_lo"], ref["min"], atol=1e-9)
    np.testing.assert_allclose(got["i_tx_hi"], ref["max"], atol=1e-9)
    np.testing.assert_allclose(got["i_ty"], ref["mean_y"], atol=1e-9)
    np.testing.assert_allclose(got["i_ty_lo"], ref["min_y"], atol=1e-9)
    np.testing.assert_allclose(got["i_ty_hi"], ref["max_y"], atol=1e-9)
    assert (band["n_seeds"] == 3).all() and (band["i_tx_lo"] <= band["i_tx_hi"]).all()
    with pytest.raises(ValueError, match=r"InfoPlaneResult\.plane"):
        seed_band(pd.DataFrame({"epoch": [1]}))


def test_minibatch_runs_are_seeded():
    config = dataclasses.replace(TINY, estimators=("adaptive",), batch=1024)
    a, b = information_plane(config), information_plane(config)
    pd.testing.assert_frame_equal(a.plane, b.plane)
    pd.testing.assert_frame_equal(a.gradients, b.gradients)
    assert a.batches_per_epoch == 4


def test_drift_diffusion_finds_where_the_noise_overtakes_the_mean():
    epochs = np.arange(1, 11)
    mean = 10.0 / epochs  # drifts down
    std = np.full(10, 2.0)  # SNR 5, 2.5, 1.67, 1.25, 1, 0.83, ...: below 1 from epoch 6 on
    g = pd.DataFrame({"epoch": np.tile(epochs, 2), "activation": "tanh", "layer": 1, "seed": np.repeat([0, 1], 10),
                      "grad_mean": np.concatenate([mean * 0.5, mean * 1.5]), "grad_std": np.tile(std, 2)})  # fmt: skip
    row = drift_diffusion(g).iloc[0]
    assert row["diffusion_epoch"] == 6 and row["snr_first"] == pytest.approx(5.0)
    assert row["snr_last"] == pytest.approx(0.5) and row["mean_first"] == pytest.approx(10.0)
    with pytest.raises(ValueError, match=r"InfoPlaneResult\.gradients"):
        drift_diffusion(pd.DataFrame({"epoch": [1]}))
