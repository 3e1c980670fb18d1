"""Masked ReLU MLPs trained side by side: the training engine of the lottery-ticket page.

Every experiment of the page trains several small nets of one architecture that differ only in their starting
weights and their masks (the three IMP variants of a round, the masks of pruning at init, several seeds). Here they
are one *batched* model: each layer's weights are stacked into a ``(M, fan_out, fan_in)`` tensor and the forward
pass is a batched matrix product, so ``M`` nets cost one pass. Since SGD with momentum and weight decay acts entry by
entry and the loss is the sum of the nets' own mean losses, every net follows exactly the trajectory it would follow
alone (up to float rounding). Pruned weights stay exactly zero: they start at zero and a gradient hook masks their
gradients, so weight decay and momentum only ever see exact zeros there. Every training of the topic, these batched
nets and the strong tickets' score training alike, runs through :func:`train_sgd` and so through the lab's one loop,
:func:`core.training.train_loop`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from core._validation import check_int, check_real
from core.training import Callback, autograd_step, minibatches, resolve_device, train_loop

Masks = list[torch.Tensor]  # one {0, 1} float tensor per Linear weight, same shape as the (stacked) weight


@dataclass(frozen=True)
class TensorData:
    """A train/test split as tensors on the training device."""

    x_train: torch.Tensor  # (n_train, 64)
    y_train: torch.Tensor  # (n_train,)
    x_test: torch.Tensor  # (n_test, 64)
    y_test: torch.Tensor  # (n_test,)


@dataclass(frozen=True)
class Recipe:
    """The SGD recipe every net of a batch shares."""

    epochs: int
    batch_size: int
    lr: float
    momentum: float
    weight_decay: float


@dataclass(frozen=True)
class BatchTrained:
    """What :func:`train_batch` returns, one entry per net where it is a tuple."""

    params: list[torch.Tensor]  # trained stacked parameters [W_1 (M, out, in), b_1 (M, out), ...]
    snapshots: dict[int, list[torch.Tensor]]  # step -> stacked parameters after that many optimiser steps
    test_acc: tuple[float, ...]  # accuracy after the last epoch, in [0, 1]
    best_epoch: tuple[int, ...]  # 1-based epoch of the lowest test loss (Frankle & Carbin's speed measure)


def recipe(config: object) -> Recipe:
    """The SGD recipe of a configuration with ``epochs``, ``batch_size``, ``lr``, ``momentum`` and ``weight_decay``."""
    return Recipe(config.epochs, config.batch_size, config.lr, config.momentum, config.weight_decay)


def check_recipe(config: object) -> None:
    """Validate the training fields every configuration of the topic shares; raise naming the field to fix."""
    check_int(config.n_train, "n_train", low=100, high=1697)
    check_int(config.epochs, "epochs", low=1, high=500)
    check_int(config.batch_size, "batch_size", low=1, high=config.n_train)
    check_real(config.lr, "lr", low=0.0, high=10.0, low_inclusive=False)
    check_real(config.momentum, "momentum", low=0.0, high=1.0, high_inclusive=False)
    check_real(config.weight_decay, "weight_decay", low=0.0, high=1.0)
    check_int(config.seed, "seed", low=0)
    check_int(config.n_seeds, "n_seeds", low=1, high=10)
    resolve_device(config.device)


def report_rows(callback: Callback, rows: Sequence[dict], progress: float) -> None:
    """Pass every new result row to ``callback`` (if any) with the run's ``progress``."""
    if callback is not None:
        for row in rows:
            callback({**row, "progress": progress})


def generator(*parts: int | str) -> torch.Generator:
    """A CPU generator seeded from several parts (seed, round, purpose), independent of torch's global RNG."""
    ints = [p if isinstance(p, int) else int.from_bytes(p.encode(), "little") % 2**32 for p in parts]
    return torch.Generator().manual_seed(int(np.random.SeedSequence(ints).generate_state(1)[0]))


def stack(nets: Sequence[Sequence[torch.Tensor]]) -> list[torch.Tensor]:
    """Stack per-net parameter lists ``[W_1, b_1, ...]`` into one list of ``(M, ...)`` tensors."""
    return [torch.stack([net[i] for net in nets]) for i in range(len(nets[0]))]


def stack_masks(nets: Sequence[Masks]) -> Masks:
    """Stack per-net mask lists (one mask per weight matrix) into ``(M, out, in)`` masks."""
    return [torch.stack([net[i] for net in nets]) for i in range(len(nets[0]))]


def unstack(params: Sequence[torch.Tensor], m: int) -> list[torch.Tensor]:
    """The parameters (or masks) of net ``m`` of a stacked list."""
    return [p[m].detach().clone() for p in params]


def random_masks(shapes: Sequence[torch.Size], counts: Sequence[int], gen: torch.Generator) -> Masks:
    """Uniformly random masks keeping exactly ``counts[l]`` entries of a tensor of shape ``shapes[l]``."""
    out = []
    for shape, k in zip(shapes, counts, strict=True):
        new = torch.zeros(math.prod(shape))
        new[torch.randperm(new.numel(), generator=gen)[:k]] = 1.0
        out.append(new.view(shape))
    return out


def forward(params: Sequence[torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Logits of the stacked ReLU nets: ``x`` is ``(M, B, fan_in)``; returns ``(M, B, n_classes)``."""
    h, n = x, len(params) // 2
    for i in range(n):
        h = torch.baddbmm(params[2 * i + 1].unsqueeze(1), h, params[2 * i].transpose(1, 2))  # (M, B, fan_out)
        if i < n - 1:
            h = torch.relu(h)
    return h


def _mean_losses(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of each net: logits ``(M, B, C)``, labels ``(M, B)`` -> ``(M,)``."""
    m, b, c = logits.shape
    return nn.functional.cross_entropy(logits.reshape(m * b, c), y.reshape(m * b), reduction="none").view(m, b).mean(1)


@torch.no_grad()
def evaluate_batch(params: Sequence[torch.Tensor], x: torch.Tensor, y: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Mean cross-entropy and accuracy (in [0, 1]) of every net on the same ``(x, y)``; two ``(M,)`` arrays."""
    m = params[0].shape[0]
    logits = forward(params, x.expand(m, *x.shape))  # (M, n, C)
    ys = y.expand(m, *y.shape)  # (M, n)
    losses = _mean_losses(logits, ys)
    acc = (logits.argmax(dim=2) == ys).float().mean(dim=1)
    return losses.cpu().numpy(), acc.cpu().numpy()


def train_sgd(
    parameters: Sequence[torch.Tensor],
    loss_fn: Callable[[torch.Tensor | None], torch.Tensor],
    recipe: Recipe,
    n: int,
    orders: Sequence[torch.Generator],
    *,
    schedule: Callable[[int], float] | None = None,
    evaluate: Callable[[int], dict] | None = None,
    after_step: Callable[[int], None] | None = None,
    callback: Callback = None,
    progress: tuple[float, float] = (0.0, 1.0),
) -> list[dict]:
    """``recipe.epochs`` epochs of SGD (momentum, weight decay) on ``parameters``, through :func:`train_loop`.

    The one loop of the topic: :func:`train_batch` (masked nets side by side) and the strong-ticket training of
    :mod:`core.lottery_ticket.supermask` both run here.

    Parameters
    ----------
    parameters : sequence of Tensor
        What SGD updates (leaf tensors with ``requires_grad``).
    loss_fn : callable
        ``loss_fn(rows)`` -> loss (a scalar, or one mean loss per net of a batched model). ``rows`` holds the
        minibatch of every data order, ``(len(orders), B)`` int64 row indices, or is ``None`` for full batch.
    recipe : Recipe
        Epochs, batch size and optimiser settings.
    n : int
        Training rows; an epoch is ``ceil(n / batch_size)`` steps, each order a fresh permutation every epoch.
    orders : sequence of torch.Generator
        The data orders (at least one).
    schedule : callable, optional
        Learning-rate factor by step, e.g. :func:`core.training.cosine_schedule`.
    evaluate : callable, optional
        ``evaluate(t)`` after every epoch (``t`` = steps so far); its dict joins the record.
    after_step : callable, optional
        ``after_step(t)`` after every update (e.g. to save a snapshot).
    callback, progress
        As in :func:`train_loop`: ``callback(record)`` after every epoch, with ``"progress"`` in ``progress``.

    Raises
    ------
    Diverged
        If the loss becomes NaN or infinite (lower ``lr``).
    """
    opt = torch.optim.SGD(parameters, lr=recipe.lr, momentum=recipe.momentum, weight_decay=recipe.weight_decay)
    per_epoch = math.ceil(n / recipe.batch_size)
    steps = recipe.epochs * per_epoch
    update = autograd_step(loss_fn, opt, schedule=schedule)
    device, batches = parameters[0].device, []

    def step(t: int, rows: torch.Tensor | None) -> torch.Tensor:
        if len(orders) > 1:  # one minibatch of each order per step, a fresh permutation of each every epoch
            if (t - 1) % per_epoch == 0:
                batches[:] = [minibatches(n, recipe.batch_size, g) for g in orders]
            rows = torch.stack([next(b) for b in batches]).to(device)
        elif rows is not None:  # one order: the loop drew the minibatch
            rows = rows.unsqueeze(0)
        loss = update(t, rows)
        if after_step is not None:
            after_step(t)
        return loss

    source = {"n": n, "batch": recipe.batch_size, "generator": orders[0]} if len(orders) == 1 else {}
    return train_loop(
        step, steps=steps, evaluate=evaluate, eval_steps=range(per_epoch, steps + 1, per_epoch), callback=callback,
        progress=progress, knob="lr", device=device, **source,
    )  # fmt: skip


def train_batch(
    params: Sequence[torch.Tensor],
    masks: Masks,
    data: TensorData,
    recipe: Recipe,
    orders: Sequence[torch.Generator],
    owner: Sequence[int],
    *,
    save_steps: Sequence[int] = (),
    callback: Callback = None,
    progress: tuple[float, float] = (0.0, 1.0),
) -> BatchTrained:
    """Train ``M`` stacked nets with SGD (momentum, weight decay) while pruned weights stay exactly zero.

    Parameters
    ----------
    params : sequence of Tensor
        Stacked starting parameters ``[W_1 (M, out, in), b_1 (M, out), ...]`` (copied, not modified).
    masks : list of Tensor
        Stacked ``{0, 1}`` masks, one ``(M, out, in)`` tensor per weight matrix; biases are never masked.
    data : TensorData
        The split; every net sees the same training set.
    recipe : Recipe
        Epochs, batch size and optimiser settings.
    orders : sequence of torch.Generator
        Data-order generators; every epoch draws one permutation of the training set from each.
    owner : sequence of int
        ``owner[m]`` is the index in ``orders`` whose minibatches net ``m`` follows (nets can share an order).
    save_steps : sequence of int
        Also return the parameters after each of these numbers of optimiser steps (0 = the start).
    callback : callable, optional
        ``callback(record)`` after every epoch with ``"progress"`` (raising inside it cancels the run).
    progress : (float, float)
        The part of a longer run's progress this training covers.

    Raises
    ------
    Diverged
        If the loss of any net becomes NaN or infinite (lower ``lr``).
    """
    weights = [p.detach().clone().mul_(m).requires_grad_(True) for p, m in zip(params[0::2], masks, strict=True)]
    for w, m in zip(weights, masks, strict=True):  # pruned entries get no gradient, so weight decay and momentum
        w.register_hook(lambda g, m=m: g * m)  # act on exact zeros: they stay zero without re-masking
    biases = [p.detach().clone().requires_grad_(True) for p in params[1::2]]
    live = [t for pair in zip(weights, biases, strict=True) for t in pair]
    owner_idx = torch.as_tensor(list(owner), dtype=torch.int64)  # (M,)
    n, n_nets = len(data.y_train), len(owner_idx)
    per_epoch = math.ceil(n / recipe.batch_size)

    def loss_fn(rows: torch.Tensor | None) -> torch.Tensor:
        if rows is None:
            return _mean_losses(forward(live, data.x_train.expand(n_nets, *data.x_train.shape)),
                                data.y_train.expand(n_nets, n))  # fmt: skip
        idx = rows[owner_idx]  # (M, B)
        return _mean_losses(forward(live, data.x_train[idx]), data.y_train[idx])

    snapshots = {0: [p.detach().clone() for p in live]} if 0 in save_steps else {}

    def save(t: int) -> None:
        if t in save_steps:
            snapshots[t] = [p.detach().clone() for p in live]

    best_loss, best_epoch = np.full(n_nets, np.inf), np.ones(n_nets, dtype=int)
    acc = np.zeros(n_nets)

    def evaluate(t: int) -> dict:
        nonlocal best_loss, best_epoch
        test_loss, acc[:] = evaluate_batch(live, data.x_test, data.y_test)
        better = test_loss < best_loss
        best_loss, best_epoch = np.where(better, test_loss, best_loss), np.where(better, t // per_epoch, best_epoch)
        return {"epoch": t // per_epoch, "test_loss": float(test_loss.mean())}

    train_sgd(live, loss_fn, recipe, n, orders, evaluate=evaluate, after_step=save if save_steps else None,
              callback=callback, progress=progress)  # fmt: skip
    return BatchTrained(
        params=[p.detach() for p in live],
        snapshots=snapshots,
        test_acc=tuple(float(a) for a in acc),
        best_epoch=tuple(int(e) for e in best_epoch),
    )
