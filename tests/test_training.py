"""The shared torch toolkit and the one training loop: devices, seeding, MLPs, batches, evaluation, the loop."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from core.training import (
    Diverged,
    as_tensors,
    autograd_step,
    cosine_schedule,
    eval_schedule,
    evaluate,
    init_default_,
    make_mlp,
    minibatches,
    resolve_device,
    seeded_generator,
    train_loop,
)


def test_devices() -> None:
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type in {"cpu", "cuda"}
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA device"):
            resolve_device("cuda")
    with pytest.raises(ValueError, match="`device` must be one of"):
        resolve_device("tpu")


def test_same_seed_same_network_and_order() -> None:
    a = make_mlp((4, 8, 2), generator=seeded_generator(7))
    torch.rand(5)  # a draw from the global RNG in between (another session) changes nothing
    g1 = seeded_generator(7)
    b = make_mlp((4, 8, 2), generator=g1)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))
    order = torch.cat(list(minibatches(10, 3, seeded_generator(7))))
    assert sorted(order.tolist()) == list(range(10))
    assert torch.equal(order, torch.cat(list(minibatches(10, 3, torch.Generator().manual_seed(7)))))


def test_default_init_matches_torch_bounds() -> None:
    net = init_default_(torch.nn.Sequential(torch.nn.Linear(16, 50), torch.nn.Embedding(20, 4)), seeded_generator(0))
    lin, emb = net
    assert lin.weight.abs().max() <= 0.25 and lin.weight.abs().max() > 0.2  # U(-1/sqrt(16), 1/sqrt(16))
    assert lin.bias.abs().max() <= 0.25
    assert abs(float(emb.weight.detach().std()) - 1.0) < 0.25  # N(0, 1)


def test_mlp_layout() -> None:
    net = make_mlp((64, 300, 100, 10), activation="tanh", batchnorm=True)
    kinds = [type(m).__name__ for m in net]
    assert kinds == ["Linear", "BatchNorm1d", "Tanh", "Linear", "BatchNorm1d", "Tanh", "Linear"]
    assert sum(p.numel() for p in make_mlp((64, 300, 100, 10)).parameters()) == 64 * 300 + 300 + 300 * 100 + 100 + 1010
    with pytest.raises(ValueError, match="at least an input and an output"):
        make_mlp((5,))
    with pytest.raises(ValueError, match="`activation` must be one of"):
        make_mlp((2, 2), activation="swish")


def test_evaluate_matches_a_hand_computation() -> None:
    net = torch.nn.Linear(2, 2, bias=False)
    with torch.no_grad():
        net.weight.copy_(torch.eye(2))
    x, y = as_tensors(np.array([[2.0, 0.0], [0.0, 1.0]]), np.array([0, 0]), device=torch.device("cpu"))
    assert x.dtype == torch.float32 and y.dtype == torch.int64
    loss, acc = evaluate(net, x, y)
    expected = (np.log(1 + np.exp(-2.0)) + np.log(1 + np.exp(1.0))) / 2
    assert loss == pytest.approx(expected, rel=1e-6)
    assert acc == 0.5
    assert net.training


# --- the one training loop --------------------------------------------------------------------------------------


def _regression(seed: int = 0, n: int = 40, d: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)), rng.normal(size=n)


def test_full_batch_gd_matches_the_numpy_iterates() -> None:
    X, y = _regression()
    lr, steps = 0.05, 25
    w_np = np.zeros(3)
    for _ in range(steps):  # gradient of mean (Xw - y)^2
        w_np = w_np - lr * 2 * X.T @ (X @ w_np - y) / len(y)
    Xt, yt = torch.tensor(X), torch.tensor(y)
    w = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([w], lr=lr)
    records = train_loop(
        autograd_step(lambda rows: ((Xt @ w - yt) ** 2).mean(), opt),
        steps=steps,
        evaluate=lambda t: {"w0": float(w[0].detach())},
        eval_steps=[0, steps],
    )
    np.testing.assert_allclose(w.detach().numpy(), w_np, rtol=1e-12)
    assert [r["step"] for r in records] == [0, steps] and math.isnan(records[0]["loss"])
    assert records[1]["w0"] == pytest.approx(w_np[0])


def test_minibatches_follow_the_runs_generator_and_cover_every_row_each_epoch() -> None:
    seen: list[torch.Tensor] = []

    def step(t: int, rows: torch.Tensor | None) -> float:
        seen.append(rows)
        return 0.0

    train_loop(step, steps=8, n=10, batch=4, generator=seeded_generator(3))
    gen = seeded_generator(3)
    epochs = [[*minibatches(10, 4, gen)] for _ in range(3)]
    expected = [b for epoch in epochs for b in epoch][:8]
    assert all(torch.equal(a, b) for a, b in zip(seen, expected, strict=True))
    assert sorted(torch.cat(seen[:3]).tolist()) == list(range(10))  # one epoch = 3 batches (4 + 4 + 2)
    full: list = []
    train_loop(lambda t, rows: full.append(rows) or 0.0, steps=2, n=10, batch=10, generator=seeded_generator(0))
    assert full == [None, None]


def test_schedule_matches_torchs_cosine_annealing() -> None:
    w = torch.zeros(1, requires_grad=True)
    ours = torch.optim.SGD([w], lr=0.3)
    lrs: list[float] = []
    step = autograd_step(lambda rows: (w**2).sum(), ours, schedule=cosine_schedule(10))
    train_loop(lambda t, rows: (step(t, rows), lrs.append(ours.param_groups[0]["lr"]))[0], steps=10)
    ref_opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.3)
    ref = torch.optim.lr_scheduler.CosineAnnealingLR(ref_opt, T_max=10)
    ref_lrs = []
    for _ in range(10):
        ref_lrs.append(ref_opt.param_groups[0]["lr"])
        ref_opt.step()
        ref.step()
    np.testing.assert_allclose(lrs, ref_lrs, rtol=1e-12)


def test_batched_losses_train_each_variant_as_if_alone() -> None:
    X, y = _regression(1)
    Xt, yt = torch.tensor(X), torch.tensor(y)

    def run(lrs: list[float]) -> torch.Tensor:
        W = torch.zeros(len(lrs), 3, dtype=torch.float64, requires_grad=True)
        scale = torch.tensor(lrs, dtype=torch.float64)[:, None]
        opt = torch.optim.SGD([W], lr=1.0)
        loss = lambda rows: ((W @ Xt.T - yt) ** 2).mean(dim=1)  # (k,)  # noqa: E731
        train_loop(lambda t, rows: _scaled(W, scale, autograd_step(loss, opt), t, rows), steps=15)
        return W.detach()

    both = run([0.01, 0.04])
    assert torch.allclose(both[0], run([0.01])[0]) and torch.allclose(both[1], run([0.04])[0])


def _scaled(W: torch.Tensor, scale: torch.Tensor, step, t: int, rows) -> torch.Tensor:
    before = W.detach().clone()
    loss = step(t, rows)
    with torch.no_grad():
        W.copy_(before + scale * (W - before))  # per-variant learning rate
    return loss


def test_divergence_stops_with_a_message_naming_the_knob() -> None:
    losses = iter([1.0, 10.0, float("inf"), 1.0])
    calls: list[int] = []
    with pytest.raises(Diverged, match=r"diverged at step 3 .*Lower `lr`") as err:
        train_loop(lambda t, rows: calls.append(t) or next(losses), steps=4, knob="lr")
    assert err.value.step == 3 and calls == [1, 2, 3]
    with pytest.raises(ValueError, match="Lower `learning_rate`"):
        train_loop(lambda t, rows: torch.tensor([0.5, float("nan")]), steps=1, knob="learning_rate")


def test_callback_progress_cancellation_and_early_stop() -> None:
    seen: list[dict] = []
    records = train_loop(
        lambda t, rows: 1.0 / t,
        steps=10,
        evaluate=lambda t: {"acc": t / 10},
        eval_steps=eval_schedule(10, 2, first=True),
        callback=seen.append,
        progress=(0.5, 1.0),
        stop=lambda r: r["acc"] >= 0.6,
    )
    assert [r["step"] for r in records] == [0, 2, 4, 6]
    assert [r["progress"] for r in seen] == [0.5, 0.6, 0.7, 0.8]
    assert records[2]["loss"] == pytest.approx(0.25)
    calls: list[int] = []

    def cancel(record: dict) -> None:
        if record["step"] >= 4:
            raise KeyboardInterrupt("viewer left")

    with pytest.raises(KeyboardInterrupt):
        train_loop(lambda t, rows: calls.append(t) or 0.0, steps=100, eval_steps=range(2, 101, 2), callback=cancel)
    assert calls == [1, 2, 3, 4]


def test_eval_schedule_and_bad_loop_arguments() -> None:
    assert eval_schedule(10, 3) == [3, 6, 9, 10]
    assert eval_schedule(4, 10, first=True) == [0, 4]
    with pytest.raises(ValueError, match="`generator` must be given"):
        train_loop(lambda t, rows: 0.0, steps=2, n=10, batch=3)
    with pytest.raises(ValueError, match="`eval_steps`"):
        train_loop(lambda t, rows: 0.0, steps=2, eval_steps=[5])
    with pytest.raises(ValueError, match="`every`"):
        eval_schedule(10, 0)
