"""Tests of core/supermask.py: pruning at initialisation (SNIP, GraSP) and edge-popup supermasks."""

from __future__ import annotations

import math
from dataclasses import FrozenInstanceError, replace

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from core.lottery_ticket import pruning
from core.lottery_ticket.nets import TensorData, generator, recipe
from core.lottery_ticket.pruning import LotteryConfig
from core.lottery_ticket.supermask import (
    PaiSummary,
    PruneAtInitConfig,
    SupermaskConfig,
    SupermaskRunConfig,
    SupermaskSummary,
    global_masks,
    layer_densities,
    pai_scores,
    pai_summary,
    prune_at_init,
    supermask_net,
    supermask_run,
    supermask_summary,
    synflow_masks,
    synflow_scores,
    train_cosine,
)
from core.training import init_default_, make_mlp

pytestmark = pytest.mark.filterwarnings("ignore:The dense network reached only")  # 1-epoch nets are meant to be weak
TINY = PruneAtInitConfig(sizes=(64, 24, 16, 10), n_train=300, epochs=1, batch_size=30, n_seeds=1)
TINY_SM = SupermaskRunConfig(n_train=300, epochs=1, batch_size=30)


def _toy(n: int = 40, d: int = 4, c: int = 3, seed: int = 0) -> TensorData:
    g = torch.Generator().manual_seed(seed)
    x, y = torch.randn(n, d, generator=g), torch.randint(0, c, (n,), generator=g)
    return TensorData(x, y, x, y)


# --- scores ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["snip", "grasp", "magnitude", "random"])
def test_scores_have_one_tensor_per_weight_matrix(method: str) -> None:
    model = init_default_(make_mlp((4, 5, 3)), generator(0, "init"))
    scores = pai_scores(model, _toy(), method)
    assert [s.shape for s in scores] == [torch.Size((5, 4)), torch.Size((3, 5))]
    assert all(bool(torch.isfinite(s).all()) for s in scores)


def test_snip_matches_the_closed_form_gradient_of_softmax_regression() -> None:
    data = _toy(n=50, d=4, c=3)
    model = init_default_(make_mlp((4, 3)), generator(1, "init"))
    (score,) = pai_scores(model, data, "snip")
    layer = next(m for m in model if isinstance(m, nn.Linear))
    with torch.no_grad():
        p = torch.softmax(model(data.x_train), dim=1)  # (n, C)
        y = nn.functional.one_hot(data.y_train, 3).float()
        grad = (p - y).T @ data.x_train / len(y)  # dL/dW of mean cross-entropy, (C, d)
    torch.testing.assert_close(score, (grad * layer.weight).abs())


def test_grasp_is_weight_times_the_exact_hessian_gradient_product() -> None:
    data = _toy(n=30, d=4, c=3)
    model = init_default_(make_mlp((4, 5, 3)), generator(2, "init"))
    w1, b1, w2, b2 = (p.detach().clone() for p in model.parameters())

    def loss(flat: torch.Tensor) -> torch.Tensor:
        a, b = flat[:20].view(5, 4), flat[20:].view(3, 5)
        h = torch.relu(data.x_train @ a.T + b1)
        return nn.functional.cross_entropy(h @ b.T + b2, data.y_train)

    flat = torch.cat([w1.flatten(), w2.flatten()])  # (35,)
    g = torch.autograd.functional.jacobian(loss, flat)  # (35,)
    H = torch.autograd.functional.hessian(loss, flat)  # (35, 35)
    expected = flat * (H @ g)  # = -S(-w) of Wang et al.: the weights with the largest values are kept
    got = torch.cat([s.flatten() for s in pai_scores(model, data, "grasp")])
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-7)


def test_global_masks_keep_exactly_the_top_scores_over_all_layers() -> None:
    scores = [torch.tensor([[5.0, 1.0], [0.5, 4.0]]), torch.tensor([[3.0, 0.1, 2.0]])]
    masks = global_masks(scores, 3 / 7)
    assert [m.tolist() for m in masks] == [[[1.0, 0.0], [0.0, 1.0]], [[1.0, 0.0, 0.0]]]


def test_global_magnitude_at_default_init_empties_the_widest_fan_in_layer() -> None:
    # Default init is U(+-1/sqrt(fan_in)): the 300->100 layer has the smallest weights (|w| < 0.058), and the
    # 64->300 layer alone has 19200 * (1 - 0.058/0.125) = 10300 weights above that bound, more than the
    # 5020 kept at 10%, so global magnitude pruning keeps none of the 300->100 layer.
    model = init_default_(make_mlp((64, 300, 100, 10)), generator(0, "init"))
    masks = global_masks(pai_scores(model, _toy(d=64, c=10), "magnitude"), 0.1)
    assert int(masks[1].sum()) == 0
    assert sum(int(m.sum()) for m in masks) == round(0.1 * 50200)


def test_synflow_on_a_two_layer_net_is_the_path_norm_formula_by_hand() -> None:
    # R = 1^T |W2| |W1| 1, so the saliency of W1[i, j] is |W1[i, j]| * sum_k |W2[k, i]| and that of W2[k, i] is
    # |W2[k, i]| * sum_j |W1[i, j]| (Tanaka et al. 2020): the sum of |weight products| over the paths through it
    rng = np.random.default_rng(0)
    w1, w2 = rng.normal(size=(5, 4)), rng.normal(size=(3, 5))  # (hidden, in), (out, hidden)
    s1, s2 = synflow_scores([torch.tensor(w1), torch.tensor(w2)], [torch.ones(5, 4), torch.ones(3, 5)])
    np.testing.assert_allclose(s1.numpy(), np.abs(w1) * np.abs(w2).sum(axis=0)[:, None], rtol=1e-6)
    np.testing.assert_allclose(s2.numpy(), np.abs(w2) * np.abs(w1).sum(axis=1)[None, :], rtol=1e-6)


def test_synflow_matches_autograd_on_the_relu_net_and_conserves_flow_per_layer() -> None:
    # an independent computation: the actual ReLU MLP with |W| (masked), zero biases and an all-ones input
    model = init_default_(make_mlp((6, 7, 5, 3)), generator(4, "init"))
    layers = [m for m in model if isinstance(m, nn.Linear)]
    masks = [(torch.rand(m.weight.shape, generator=generator(4, i)) > 0.3).float() for i, m in enumerate(layers)]
    with torch.no_grad():
        for m, mk in zip(layers, masks, strict=True):
            m.weight.copy_(m.weight.abs() * mk)
            m.bias.zero_()
    r = model(torch.ones(1, 6)).sum()
    grads = torch.autograd.grad(r, [m.weight for m in layers])
    got = synflow_scores([m.weight.detach() for m in layers], masks)
    for g, m, s in zip(grads, layers, got, strict=True):
        torch.testing.assert_close(s, (g * m.weight).detach().abs(), rtol=1e-5, atol=1e-7)
        assert float(s.sum()) == pytest.approx(float(r.detach()), rel=1e-5)  # every layer carries the whole flow R


def test_iterative_synflow_keeps_every_layer_where_global_snip_collapses_one() -> None:
    model = init_default_(make_mlp((64, 300, 100, 10)), generator(0, "init"))
    weights = [m.weight.detach() for m in model if isinstance(m, nn.Linear)]
    masks = synflow_masks(weights, 0.001, iterations=100)
    assert sum(int(m.sum()) for m in masks) == round(0.001 * 50200)
    assert all(int(m.sum()) > 0 for m in masks)  # no layer collapse at 0.1% kept
    snip = global_masks(pai_scores(model, pruning.load_data(LotteryConfig(), torch.device("cpu")), "snip"), 0.001)
    assert min(int(m.sum()) for m in snip) == 0  # single-shot SNIP empties a layer at 0.1%
    one_round = synflow_masks(weights, 0.001, iterations=1)  # single-shot SynFlow is a different (worse) mask
    assert not all(torch.equal(a, b) for a, b in zip(one_round, masks, strict=True))
    with pytest.raises(ValueError, match="`keep_fraction` must be > 0"):
        synflow_masks(weights, 0.0)


def test_layer_densities_report_layer_collapse() -> None:
    config = PruneAtInitConfig(methods=("magnitude", "synflow", "random"), sparsities=(0.9, 0.999), n_seeds=1)
    df = layer_densities(config)
    assert len(df) == 3 * 2 * 3 and set(df["layer"]) == {"64-300", "300-100", "100-10"}
    kept = df.groupby(["method", "keep_fraction"])["kept"].sum()
    for (method, keep), total in kept.items():
        assert total == pytest.approx(keep * 50200, abs=3), method  # random rounds each layer's count
    mag = df[(df["method"] == "magnitude") & (df["layer"] == "300-100")]
    assert (mag["kept"] == 0).all()  # global magnitude empties the widest fan-in layer already at 10%
    assert (df.loc[df["method"] == "synflow", "kept"] > 0).all()
    assert np.allclose(df["density"], df["kept"] / df["n_weights"])


# --- prune_at_init ---------------------------------------------------------------------------------------------------


def test_prune_at_init_table_and_kept_fractions() -> None:
    records: list[dict] = []
    config = replace(TINY, methods=("snip", "grasp", "random"), sparsities=(0.5, 0.9))
    df = prune_at_init(config, callback=records.append)
    assert set(df.columns) >= {"method", "sparsity", "keep_fraction", "min_layer_keep", "test_acc", "seed"}
    assert len(df) == 1 + 3 * 2 and df["method"].iloc[0] == "dense"
    assert df["keep_fraction"].tolist() == pytest.approx([1.0] + [0.5, 0.1] * 3)
    rand = df[df["method"] == "random"]
    assert rand["min_layer_keep"].tolist() == pytest.approx([0.5, 0.1], abs=0.01)  # same density in every layer
    assert df["test_acc"].between(0, 1).all()
    assert records[-1]["progress"] == pytest.approx(1.0)
    pd.testing.assert_frame_equal(prune_at_init(config), df)
    rows = [rec for rec in records if "method" in rec]
    assert len(rows) == len(df) and all(0 <= rec["progress"] <= 1 for rec in records)


def test_prune_at_init_accepts_a_single_method() -> None:
    df = prune_at_init(replace(TINY, methods=("magnitude",), sparsities=(0.8,)))
    assert df["method"].tolist() == ["dense", "magnitude"]


# --- supermasks ------------------------------------------------------------------------------------------------------


def test_supermask_layer_masks_exactly_k_edges_and_gradient_is_straight_through_on_abs_score() -> None:
    net = supermask_net(6, 1, 0.5, generator(0, "sm"))
    layer = net[0]
    mask = layer.mask()
    assert int(mask.detach().sum()) == round(0.5 * 6 * 64) and set(mask.detach().unique().tolist()) <= {0.0, 1.0}
    x = torch.randn(8, 64)
    out = layer(x)
    torch.testing.assert_close(out, x @ (layer.weight * mask.detach()).T)
    out.square().sum().backward()
    # oracle: d loss / d mask = (d loss / d W_eff) * W; straight-through to |s|, then d|s|/ds = sign(s)
    w_eff = (layer.weight * mask.detach()).requires_grad_(True)
    (x @ w_eff.T).square().sum().backward()
    torch.testing.assert_close(layer.scores.grad, w_eff.grad * layer.weight * layer.scores.detach().sign())


def test_supermask_training_leaves_every_weight_unchanged() -> None:
    net = supermask_net(16, 2, 0.5, generator(0, "sm"))
    weights = [m.weight.clone() for m in net if hasattr(m, "scores")]
    scores = [m.scores.detach().clone() for m in net if hasattr(m, "scores")]
    assert all(not w.requires_grad for w in weights) and not any(n == "weight" for n, _ in net.named_parameters())
    data = pruning.load_data(LotteryConfig(n_train=300), torch.device("cpu"))
    train_cosine(net, data, recipe(TINY_SM), generator(0, "order"))
    layers = [m for m in net if hasattr(m, "scores")]
    assert all(torch.equal(m.weight, w) for m, w in zip(layers, weights, strict=True))
    assert not any(torch.equal(m.scores, s) for m, s in zip(layers, scores, strict=True))


def test_train_cosine_is_sgd_under_torchs_cosine_annealing() -> None:
    # oracle: torch's own CosineAnnealingLR (to 0 over all steps) around a plain minibatch loop
    data = pruning.load_data(LotteryConfig(n_train=300), torch.device("cpu"))
    rec = recipe(replace(TINY_SM, epochs=3))
    ours = make_mlp((64, 12, 10), bias=False, generator=generator(0, "cos"))
    ref = make_mlp((64, 12, 10), bias=False, generator=generator(0, "cos"))
    acc = train_cosine(ours, data, rec, generator(0, "order"))
    opt = torch.optim.SGD(ref.parameters(), lr=rec.lr, momentum=rec.momentum, weight_decay=rec.weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=rec.epochs * 10)  # 300 / 30 = 10 steps an epoch
    order = generator(0, "order")
    for _ in range(rec.epochs):
        perm = torch.randperm(300, generator=order)
        for start in range(0, 300, rec.batch_size):
            idx = perm[start : start + rec.batch_size]
            loss = nn.functional.cross_entropy(ref(data.x_train[idx]), data.y_train[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
    for a, b in zip(ours.parameters(), ref.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)
    assert acc == pytest.approx(float((ref(data.x_test).argmax(1) == data.y_test).float().mean()), abs=2 / 597)


def test_signed_constant_weights_have_the_kaiming_magnitude() -> None:
    net = supermask_net(10, 1, 0.25, generator(3, "sm"))
    first = net[0].weight
    assert torch.allclose(first.abs(), torch.full_like(first, math.sqrt(2 / 64) / math.sqrt(0.25)))
    assert 0.3 < float((first > 0).float().mean()) < 0.7


def test_supermask_run_table_learns_without_training_weights() -> None:
    config = SupermaskRunConfig(n_train=600, epochs=3, batch_size=30)
    df = supermask_run(replace(config, widths=(32,), keep_fraction=0.5))
    assert df.columns.tolist() == ["width", "variant", "test_acc", "seed"]
    assert df["variant"].tolist() == ["supermask", "trained"]
    assert df.set_index("variant").loc["supermask", "test_acc"] > 0.5  # chance is 0.1


def test_supermask_run_is_deterministic_and_reports_progress() -> None:
    records: list[dict] = []
    a = supermask_run(replace(TINY_SM, widths=(8, 4)), callback=records.append)
    b = supermask_run(replace(TINY_SM, widths=(4, 8)))
    pd.testing.assert_frame_equal(a, b)
    assert len(a) == 4 and records[-1]["progress"] == pytest.approx(1.0)


def test_raising_in_the_callback_cancels_the_width_sweep() -> None:
    seen: list[dict] = []

    def stop(record: dict) -> None:
        seen.append(record)
        if "step" in record:  # the first epoch of the first net
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        supermask_run(replace(TINY_SM, widths=(4, 8)), callback=stop)
    assert [r["progress"] for r in seen] == [0.0, pytest.approx(1 / 4)]  # 4 nets, 1 epoch each
    assert "test_acc" not in seen[-1]


# --- summaries -------------------------------------------------------------------------------------------------------


def test_pai_summary_reports_the_sparsest_point_and_collapsed_layers() -> None:
    df = pd.DataFrame(
        {
            "method": ["dense", "snip", "snip", "magnitude", "magnitude"],
            "keep_fraction": [1.0, 0.1, 0.01, 0.1, 0.01],
            "min_layer_keep": [1.0, 0.05, 0.004, 0.0, 0.0],
            "test_acc": [0.97, 0.96, 0.7, 0.1, 0.1],
        }
    )
    s = pai_summary(df)
    assert isinstance(s, PaiSummary)
    assert s.sparsest == 0.01 and s.best == "snip" and s.at_sparsest == {"snip": 0.7, "magnitude": 0.1}
    assert list(s.at_sparsest) == ["snip", "magnitude"]  # best first
    assert s.collapsed == {"magnitude": 0.1} and s.dense_acc == 0.97
    with pytest.raises(FrozenInstanceError):
        s.best = "magnitude"  # type: ignore[misc]


def test_supermask_summary_finds_the_matching_width() -> None:
    df = pd.DataFrame(
        {
            "width": [4, 4, 16, 16, 64, 64],
            "variant": ["supermask", "trained"] * 3,
            "test_acc": [0.3, 0.7, 0.93, 0.96, 0.965, 0.97],
        }
    )
    s = supermask_summary(df)
    assert isinstance(s, SupermaskSummary) and s.acc["supermask"][16] == 0.93
    assert s.match_width == 64 and s.narrowest == 4 and s.widest == 64
    assert supermask_summary(df, gap=0.05).match_width == 16


# --- bad input -------------------------------------------------------------------------------------------------------


def test_bad_input_messages() -> None:
    with pytest.raises(ValueError, match="`methods` must be one of 'snip'"):
        prune_at_init(replace(TINY, methods=("obd",)))
    with pytest.raises(ValueError, match="`methods` must name at least one"):
        prune_at_init(replace(TINY, methods=()))
    with pytest.raises(ValueError, match=r"`sparsities` must be < 1\.0"):
        prune_at_init(replace(TINY, sparsities=(1.0,)))
    with pytest.raises(ValueError, match="`sparsities` must list at least one"):
        prune_at_init(replace(TINY, sparsities=()))
    with pytest.raises(ValueError, match="`widths` must list at least one"):
        supermask_run(replace(TINY_SM, widths=()))
    with pytest.raises(ValueError, match="`widths` must be >= 1"):
        supermask_run(replace(TINY_SM, widths=(0,)))
    with pytest.raises(ValueError, match="`keep_fraction` must be > 0"):
        supermask_run(replace(TINY_SM, keep_fraction=0.0))
    with pytest.raises(TypeError, match="`config` must be a SupermaskRunConfig"):
        supermask_run(SupermaskConfig())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="`config` must be a PruneAtInitConfig"):
        prune_at_init(LotteryConfig())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="`results` must be a prune_at_init DataFrame"):
        pai_summary(pd.DataFrame({"x": [1]}))
