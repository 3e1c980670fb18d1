"""Masked ReLU MLPs trained side by side: the training engine of the lottery-ticket page.

Every experiment of the page trains several small nets of one architecture that differ only in their starting
weights and their masks (the three IMP variants of a round, the masks of pruning at init, several seeds). Here they
are one *batched* model: each layer's weights are stacked into a ``(M, fan_out, fan_in)`` tensor and the forward
pass is a batched matrix product, so ``M`` nets cost one pass. Since SGD with momentum and weight decay acts entry by
entry and the loss is the sum of the nets' own mean losses, every net follows exactly the trajectory it would follow
alone (up to float rounding). Pruned weights stay exactly zero: their gradients are masked before each step (so
momentum never revives them) and the weights are re-masked after it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

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
    finite: tuple[bool, ...]  # False where the loss became NaN or inf


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


def train_batch(
    params: Sequence[torch.Tensor],
    masks: Masks,
    data: TensorData,
    recipe: Recipe,
    orders: Sequence[torch.Generator],
    owner: Sequence[int],
    *,
    save_steps: Sequence[int] = (),
    on_epoch: Callable[[int], None] | None = None,
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
    on_epoch : callable, optional
        Called with the 1-based epoch after every epoch (raising inside it cancels the run).
    """
    weights = [p.detach().clone().mul_(m).requires_grad_(True) for p, m in zip(params[0::2], masks, strict=True)]
    biases = [p.detach().clone().requires_grad_(True) for p in params[1::2]]
    live = [t for pair in zip(weights, biases, strict=True) for t in pair]
    opt = torch.optim.SGD(live, lr=recipe.lr, momentum=recipe.momentum, weight_decay=recipe.weight_decay)
    owner_idx = torch.as_tensor(list(owner), dtype=torch.int64)  # (M,)
    n = len(data.y_train)
    snapshots = {0: [p.detach().clone() for p in live]} if 0 in save_steps else {}
    step, n_nets = 0, len(owner_idx)
    best_loss, best_epoch = np.full(n_nets, np.inf), np.ones(n_nets, dtype=int)
    finite = np.ones(n_nets, dtype=bool)
    for epoch in range(1, recipe.epochs + 1):
        perms = torch.stack([torch.randperm(n, generator=g) for g in orders])[owner_idx]  # (M, n)
        for start in range(0, n, recipe.batch_size):
            idx = perms[:, start : start + recipe.batch_size]  # (M, B)
            loss = _mean_losses(forward(live, data.x_train[idx]), data.y_train[idx]).sum()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            with torch.no_grad():
                for w, m in zip(weights, masks, strict=True):
                    w.grad.mul_(m)
                opt.step()
                for w, m in zip(weights, masks, strict=True):
                    w.mul_(m)
            step += 1
            if step in save_steps:
                snapshots[step] = [p.detach().clone() for p in live]
        test_loss, _ = evaluate_batch(live, data.x_test, data.y_test)
        finite &= np.isfinite(test_loss)
        better = test_loss < best_loss
        best_loss, best_epoch = np.where(better, test_loss, best_loss), np.where(better, epoch, best_epoch)
        if on_epoch is not None:
            on_epoch(epoch)
    _, acc = evaluate_batch(live, data.x_test, data.y_test)
    return BatchTrained(
        params=[p.detach() for p in live],
        snapshots=snapshots,
        test_acc=tuple(float(a) for a in acc),
        best_epoch=tuple(int(e) for e in best_epoch),
        finite=tuple(bool(f) for f in finite),
    )
