"""Tests of core/lottery_ticket/nets.py: masked ReLU MLPs trained side by side as one batched model."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from core.lottery_ticket import pruning
from core.lottery_ticket.nets import Recipe, generator, random_masks, stack, stack_masks, train_batch, unstack
from core.lottery_ticket.pruning import LotteryConfig
from core.training import Diverged, make_mlp


def _counts(masks: list[torch.Tensor]) -> list[int]:
    return [int(m.sum()) for m in masks]


def _reference_train(
    params: list[torch.Tensor], masks: list[torch.Tensor], data, recipe: Recipe, order: torch.Generator, save_step=None
) -> tuple[list[torch.Tensor], list[torch.Tensor] | None]:
    """One net alone, the textbook way: nn.Linear layers, torch's SGD, masked gradients and weights."""
    sizes = [params[0].shape[1]] + [w.shape[0] for w in params[0::2]]
    model = make_mlp(sizes)
    with torch.no_grad():
        for p, v in zip(model.parameters(), params, strict=True):
            p.copy_(v)
    weights = list(model.parameters())[0::2]
    opt = torch.optim.SGD(model.parameters(), lr=recipe.lr, momentum=recipe.momentum, weight_decay=recipe.weight_decay)
    step, snapshot = 0, None
    for _ in range(recipe.epochs):
        perm = torch.randperm(len(data.y_train), generator=order)
        for start in range(0, len(perm), recipe.batch_size):
            idx = perm[start : start + recipe.batch_size]
            loss = nn.functional.cross_entropy(model(data.x_train[idx]), data.y_train[idx])
            opt.zero_grad()
            loss.backward()
            with torch.no_grad():
                for w, m in zip(weights, masks, strict=True):
                    w.grad.mul_(m)
                opt.step()
                for w, m in zip(weights, masks, strict=True):
                    w.mul_(m)
            step += 1
            if step == save_step:
                snapshot = [p.detach().clone() for p in model.parameters()]
    return [p.detach().clone() for p in model.parameters()], snapshot


def test_random_masks_have_exact_counts_and_depend_on_the_generator() -> None:
    shapes = [torch.Size((30, 20)), torch.Size((10, 5))]
    a = random_masks(shapes, [123, 7], generator(0, "x"))
    b = random_masks(shapes, [123, 7], generator(0, "x"))
    c = random_masks(shapes, [123, 7], generator(1, "x"))
    assert _counts(a) == [123, 7]
    assert all(torch.equal(x, y) for x, y in zip(a, b, strict=True))
    assert not torch.equal(a[0], c[0])


# --- training keeps pruned weights at zero ---------------------------------------------------------------------------


def _three_masked_nets(config: LotteryConfig) -> tuple[list[list[torch.Tensor]], list[list[torch.Tensor]]]:
    nets = [pruning.draw_params(config.sizes, generator(i, "init")) for i in range(3)]
    shapes = [w.shape for w in nets[0][0::2]]
    masks = [random_masks(shapes, [100 + 50 * i, 50, 20], generator(i, "m")) for i in range(3)]
    return nets, masks


def test_batched_training_matches_each_net_trained_alone() -> None:
    # three nets, two data orders (nets 0 and 2 share one), momentum and weight decay: the batched model must
    # follow each net's own trajectory, checked against a plain nn.Linear + torch.optim.SGD loop per net
    config = LotteryConfig(sizes=(64, 24, 16, 10), n_train=300, epochs=2, batch_size=50, weight_decay=1e-2)
    data = pruning.load_data(config, torch.device("cpu"))
    nets, masks = _three_masked_nets(config)
    starts = [_masked(net, mk) for net, mk in zip(nets, masks, strict=True)]
    owner = [0, 1, 0]
    res = train_batch(stack(starts), stack_masks(masks), data, pruning.recipe(config),
                      [generator(7, "a"), generator(7, "b")], owner, save_steps=(3,))  # fmt: skip
    for i in range(3):
        want, snap = _reference_train(
            starts[i], masks[i], data, pruning.recipe(config), generator(7, "ab"[owner[i]]), save_step=3
        )
        for got, ref in zip(unstack(res.params, i), want, strict=True):
            torch.testing.assert_close(got, ref, rtol=1e-4, atol=1e-5)
        for got, ref in zip(unstack(res.snapshots[3], i), snap, strict=True):
            torch.testing.assert_close(got, ref, rtol=1e-4, atol=1e-5)
        model = make_mlp(config.sizes)
        with torch.no_grad():
            for p, v in zip(model.parameters(), want, strict=True):
                p.copy_(v)
            acc = float((model(data.x_test).argmax(1) == data.y_test).float().mean())
        assert res.test_acc[i] == pytest.approx(acc, abs=2 / len(data.y_test))
    assert all(1 <= e <= config.epochs for e in res.best_epoch)


def _masked(params: list[torch.Tensor], masks: list[torch.Tensor]) -> list[torch.Tensor]:
    return [p * masks[i // 2] if i % 2 == 0 else p.clone() for i, p in enumerate(params)]


def test_pruned_weights_stay_exactly_zero_with_momentum_and_weight_decay() -> None:
    config = LotteryConfig(
        sizes=(64, 24, 16, 10), n_train=300, epochs=3, batch_size=50, momentum=0.9, weight_decay=1e-2
    )
    data = pruning.load_data(config, torch.device("cpu"))
    nets, masks = _three_masked_nets(config)
    res = train_batch(stack(nets), stack_masks(masks), data, pruning.recipe(config), [generator(0, "o")], [0, 0, 0])
    for i in range(3):
        trained = unstack(res.params, i)[0::2]
        for w, m, w0 in zip(trained, masks[i], nets[i][0::2], strict=True):
            assert bool(torch.all(w[m == 0] == 0))  # exactly zero, not small
            assert not torch.equal(w[m == 1], w0[m == 1])  # the survivors did train


# --- the one loop: divergence and cancellation -----------------------------------------------------------------------


def test_a_diverging_net_stops_the_batch_with_a_message_naming_lr() -> None:
    # lr * weight_decay = 10 flips and grows every weight ninefold per step (1 - 10): the loss overflows
    config = LotteryConfig(sizes=(64, 24, 16, 10), n_train=300, epochs=3, batch_size=50, lr=10.0, weight_decay=1.0)
    data = pruning.load_data(config, torch.device("cpu"))
    nets, masks = _three_masked_nets(config)
    with pytest.raises(Diverged, match="Lower `lr`") as err:
        train_batch(stack(nets), stack_masks(masks), data, pruning.recipe(config), [generator(0, "o")], [0, 0, 0])
    assert err.value.knob == "lr" and 1 <= err.value.step <= 3 * 6


class _Stop(Exception):
    pass


def test_raising_in_the_callback_cancels_training_after_the_first_epoch() -> None:
    config = LotteryConfig(sizes=(64, 24, 16, 10), n_train=300, epochs=3, batch_size=50)
    data = pruning.load_data(config, torch.device("cpu"))
    nets, masks = _three_masked_nets(config)
    seen: list[dict] = []

    def stop(record: dict) -> None:
        seen.append(record)
        raise _Stop

    with pytest.raises(_Stop):
        train_batch(stack(nets), stack_masks(masks), data, pruning.recipe(config), [generator(0, "o")], [0, 0, 0],
                    callback=stop, progress=(0.5, 0.8))  # fmt: skip
    assert len(seen) == 1 and seen[0]["epoch"] == 1 and seen[0]["step"] == 6
    assert seen[0]["progress"] == pytest.approx(0.5 + 0.3 / 3)  # one epoch of three within (0.5, 0.8)
