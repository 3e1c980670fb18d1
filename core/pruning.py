"""Lottery tickets: iterative magnitude pruning with rewinding, against re-initialisation and random masks.

Frankle & Carbin (2019), "The lottery ticket hypothesis: finding sparse, trainable neural networks": train a dense
net, remove the smallest-magnitude weights layer by layer (20% of each hidden layer, 10% of the output layer per
round), reset the survivors to their initial values (or to their values at an early ``rewind_step``) and train
again. The surviving subnetwork (the *winning ticket*) keeps the dense accuracy far below 20% of the weights, while
the same mask with fresh random weights, or a random mask of the same size, falls off. Masks chosen before any
training (SNIP, GraSP, supermasks) live in :mod:`core.supermask`, which reuses the training helpers here.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import pandas as pd
import torch
from torch import nn

from core._validation import check_choice, check_int, check_real
from core.data import digits_split
from core.training import Callback, as_tensors, evaluate, init_default_, make_mlp, minibatches, resolve_device

DATASETS = ("digits",)
VARIANTS = ("rewind", "reinit", "random_prune")
PAI_METHODS = ("snip", "grasp", "magnitude", "random")
Masks = list[torch.Tensor]  # one {0, 1} float tensor per Linear weight, same shape as the weight


@dataclass(frozen=True)
class LotteryConfig:
    """Settings of a lottery-ticket experiment on digits (the defaults are the recipe of SCIENCE.md)."""

    dataset: str = "digits"  # the only real image set that ships offline (sklearn); 8x8 images, 10 classes
    n_train: int = 1200  # stratified 1200/597 split: enough test images for 0.2-point resolution
    sizes: tuple[int, ...] = (64, 300, 100, 10)  # LeNet-300-100 with digits' 64 inputs, as in Frankle & Carbin
    prune_hidden: float = 0.2  # Frankle & Carbin prune 20% of every hidden layer per round...
    prune_output: float = 0.1  # ...and 10% of the small output layer, which is more fragile
    rounds: int = 12  # 0.8^12 leaves 7% of the weights: re-init has fallen off; ~5 s of CPU on one thread
    epochs: int = 10  # per round; the dense net reaches ~97% on digits in 10 epochs
    batch_size: int = 60  # 20 SGD steps per epoch on 1200 images
    lr: float = 0.05  # SGD with momentum; stable for the dense and for a 3%-dense net
    momentum: float = 0.9  # standard; masked so that momentum never revives a pruned weight
    weight_decay: float = 0.0  # none, so that magnitudes reflect the data, not the regulariser
    rewind_step: int = 0  # 0 = reset to init (the original paper); step 100 changed nothing here (SCIENCE.md)
    seed: int = 0  # seeds the split, the init, the data order and the random masks
    n_seeds: int = 1  # 1 fits the time budget; 2-3 show the seed-to-seed spread as a band
    device: str = "cpu"  # small nets: the CPU is as fast as a GPU here


@dataclass(frozen=True)
class TensorData:
    """A train/test split as tensors on the training device."""

    x_train: torch.Tensor  # (n_train, 64)
    y_train: torch.Tensor  # (n_train,)
    x_test: torch.Tensor  # (n_test, 64)
    y_test: torch.Tensor  # (n_test,)


@dataclass(frozen=True)
class _Trained:
    test_acc: float  # accuracy after the last epoch, in [0, 1]
    best_epoch: int  # 1-based epoch of the lowest test loss (Frankle & Carbin's early-stopping speed measure)
    snapshot: list[torch.Tensor] | None  # parameters after `save_step` optimiser steps, if asked
    finite: bool  # False if the loss became NaN or inf


def check_lottery_config(config: LotteryConfig) -> LotteryConfig:
    """Validate a :class:`LotteryConfig` and raise ``ValueError``/``TypeError`` naming the field to fix."""
    if not isinstance(config, LotteryConfig):
        raise TypeError(f"`config` must be a LotteryConfig. Got {type(config).__name__} instead.")
    check_choice(config.dataset, "dataset", DATASETS)
    if len(config.sizes) < 3 or config.sizes[0] != 64 or config.sizes[-1] != 10:
        raise ValueError(
            "`sizes` must start with 64 (digits pixels), end with 10 (classes) and have at least one hidden "
            f"layer. Got {config.sizes} instead."
        )
    for i, s in enumerate(config.sizes):
        check_int(s, f"sizes[{i}]", low=1, high=4096)
    check_int(config.n_train, "n_train", low=100, high=1697)
    check_real(config.prune_hidden, "prune_hidden", low=0.0, high=0.9, low_inclusive=False)
    check_real(config.prune_output, "prune_output", low=0.0, high=0.9)
    check_int(config.rounds, "rounds", low=1, high=40)
    check_int(config.epochs, "epochs", low=1, high=500)
    check_int(config.batch_size, "batch_size", low=1, high=config.n_train)
    check_real(config.lr, "lr", low=0.0, high=10.0, low_inclusive=False)
    check_real(config.momentum, "momentum", low=0.0, high=1.0, high_inclusive=False)
    check_real(config.weight_decay, "weight_decay", low=0.0, high=1.0)
    steps = config.epochs * math.ceil(config.n_train / config.batch_size)
    if not 0 <= check_int(config.rewind_step, "rewind_step", low=0) < steps:
        raise ValueError(
            f"`rewind_step` must be < {steps} (the optimiser steps of one round). Got {config.rewind_step} instead."
        )
    check_int(config.seed, "seed", low=0)
    check_int(config.n_seeds, "n_seeds", low=1, high=10)
    resolve_device(config.device)
    return config


def load_data(config: LotteryConfig, device: torch.device) -> TensorData:
    """The digits split of ``config`` (seeded by ``config.seed``) as tensors on ``device``."""
    split = digits_split(n_train=config.n_train, seed=config.seed)
    return TensorData(*as_tensors(split.x_train, split.y_train, split.x_test, split.y_test, device=device))


def generator(*parts: int | str) -> torch.Generator:
    """A CPU generator seeded from several parts (seed, round, purpose), independent of torch's global RNG."""
    ints = [p if isinstance(p, int) else int.from_bytes(p.encode(), "little") % 2**32 for p in parts]
    return torch.Generator().manual_seed(int(np.random.SeedSequence(ints).generate_state(1)[0]))


def linears(model: nn.Module) -> list[nn.Linear]:
    """The Linear layers of ``model`` in forward order."""
    return [m for m in model.modules() if isinstance(m, nn.Linear)]


@torch.no_grad()
def clone_params(model: nn.Module) -> list[torch.Tensor]:
    """Detached copies of all parameters of ``model`` (weights and biases, in order)."""
    return [p.detach().clone() for p in model.parameters()]


@torch.no_grad()
def load_masked(
    model: nn.Module, params: Sequence[torch.Tensor], masks: Masks, scale: Sequence[float] | None = None
) -> None:
    """Copy ``params`` into ``model`` and zero the pruned weights (weights optionally scaled per layer)."""
    for p, v in zip(model.parameters(), params, strict=True):
        p.copy_(v)
    for i, (layer, m) in enumerate(zip(linears(model), masks, strict=True)):
        layer.weight.mul_(m * (scale[i] if scale is not None else 1.0))


def keep_counts(sizes: Sequence[int], *, prune_hidden: float, prune_output: float, rounds: int) -> list[int]:
    """Weights left per layer after ``rounds`` rounds: ``round(n_l * (1 - p_l)^rounds)``, at least 1.

    ``p_l`` is ``prune_hidden`` for every layer but the last and ``prune_output`` for the last, so the remaining
    fraction of a hidden layer is exactly the compound ``(1 - p)^r`` (0.8^r by default) up to rounding.
    """
    counts = []
    for i, (fan_in, fan_out) in enumerate(pairwise(sizes)):
        rate = prune_output if i == len(sizes) - 2 else prune_hidden
        counts.append(max(1, round(fan_in * fan_out * (1.0 - rate) ** rounds)))
    return counts


def remaining_fraction(config: LotteryConfig, rounds: int | None = None) -> float:
    """Fraction of all weights left after ``rounds`` rounds (default ``config.rounds``) of the schedule."""
    r = config.rounds if rounds is None else rounds
    counts = keep_counts(config.sizes, prune_hidden=config.prune_hidden, prune_output=config.prune_output, rounds=r)
    return sum(counts) / sum(a * b for a, b in pairwise(config.sizes))


def magnitude_masks(weights: Sequence[torch.Tensor], masks: Masks, counts: Sequence[int]) -> Masks:
    """Layer-wise magnitude pruning: keep the ``counts[l]`` largest ``|w|`` among the survivors of ``masks[l]``."""
    out = []
    for w, m, k in zip(weights, masks, counts, strict=True):
        score = torch.where(m > 0, w.abs(), torch.full_like(w, -1.0)).flatten()  # pruned weights never return
        new = torch.zeros_like(score)
        new[torch.topk(score, k).indices] = 1.0
        out.append(new.view_as(w))
    return out


def random_masks(shapes: Sequence[torch.Size], counts: Sequence[int], gen: torch.Generator) -> Masks:
    """Uniformly random masks keeping exactly ``counts[l]`` entries of a tensor of shape ``shapes[l]``."""
    out = []
    for shape, k in zip(shapes, counts, strict=True):
        new = torch.zeros(math.prod(shape))
        new[torch.randperm(new.numel(), generator=gen)[:k]] = 1.0
        out.append(new.view(shape))
    return out


def train_masked(
    model: nn.Module,
    masks: Masks,
    data: TensorData,
    config: LotteryConfig,
    gen: torch.Generator,
    *,
    save_step: int | None = None,
    on_epoch: Callable[[int], None] | None = None,
) -> _Trained:
    """Train with SGD while pruned weights stay exactly zero.

    Gradients of pruned weights are zeroed before each step (so their momentum buffers stay zero) and the
    weights are multiplied by the mask after each step (so weight decay or rounding can never revive them).
    """
    opt = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay)
    weights = [layer.weight for layer in linears(model)]
    snapshot = clone_params(model) if save_step == 0 else None
    step, best_loss, best_epoch, finite = 0, math.inf, 1, True
    for epoch in range(1, config.epochs + 1):
        for idx in minibatches(len(data.y_train), config.batch_size, gen):
            loss = nn.functional.cross_entropy(model(data.x_train[idx]), data.y_train[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            with torch.no_grad():
                for w, m in zip(weights, masks, strict=True):
                    w.grad.mul_(m)
                opt.step()
                for w, m in zip(weights, masks, strict=True):
                    w.mul_(m)
            step += 1
            if step == save_step:
                snapshot = clone_params(model)
        test_loss, _ = evaluate(model, data.x_test, data.y_test)
        finite = finite and math.isfinite(test_loss)
        if test_loss < best_loss:
            best_loss, best_epoch = test_loss, epoch
        if on_epoch is not None:
            on_epoch(epoch)
    _, acc = evaluate(model, data.x_test, data.y_test)
    return _Trained(acc, best_epoch, snapshot, finite)


def _remaining(masks: Masks) -> float:
    return float(sum(m.sum() for m in masks) / sum(m.numel() for m in masks))


def imp_trainings(
    config: LotteryConfig, data: TensorData, seed: int, *, on_epoch: Callable[[int], None] | None = None
) -> Iterator[dict]:
    """Iterative magnitude pruning for one seed: yield one record per trained network, with its mask.

    Round 0 trains the dense net from ``theta_0`` (saving ``theta_k`` at ``rewind_step``). Round ``r >= 1`` prunes
    the previous *rewind* network layer-wise by magnitude and trains three variants: ``"rewind"`` (mask times
    ``theta_k``), ``"reinit"`` (same mask, fresh init drawn for this round) and ``"random_prune"`` (random mask with
    the same per-layer counts, the same fresh init scaled by ``1/sqrt(density_l)`` to keep the signal scale).
    Records carry ``masks`` and ``start`` (the parameters before training); round 0 also ``theta_k``.
    """
    device = resolve_device(config.device)
    model = make_mlp(config.sizes).to(device)
    init_default_(model, generator(seed, "init"))
    theta0 = clone_params(model)
    masks: Masks = [torch.ones_like(layer.weight) for layer in linears(model)]
    order = generator(seed, 0, "order")
    dense = train_masked(model, masks, data, config, order, save_step=config.rewind_step, on_epoch=on_epoch)
    theta_k, trained = dense.snapshot, [layer.weight.detach().clone() for layer in linears(model)]
    for variant in VARIANTS:
        yield {"round": 0, "variant": variant, "result": dense, "masks": masks, "start": theta0, "theta_k": theta_k}
    shapes = [m.shape for m in masks]
    for r in range(1, config.rounds + 1):
        counts = keep_counts(config.sizes, prune_hidden=config.prune_hidden, prune_output=config.prune_output, rounds=r)
        masks = magnitude_masks(trained, masks, counts)
        fresh = clone_params(init_default_(model, generator(seed, r, "reinit")))
        rand = random_masks(shapes, counts, generator(seed, r, "random"))
        density = [k / math.prod(s) for k, s in zip(counts, shapes, strict=True)]
        plans = {
            "rewind": (theta_k, masks, None),
            "reinit": (fresh, masks, None),
            "random_prune": (fresh, rand, [1.0 / math.sqrt(d) for d in density]),
        }
        for variant, (params, mask, scale) in plans.items():
            load_masked(model, params, mask, scale)
            start = clone_params(model)
            result = train_masked(model, mask, data, config, generator(seed, r, "order"), on_epoch=on_epoch)
            if variant == "rewind":
                trained = [layer.weight.detach().clone() for layer in linears(model)]
            yield {"round": r, "variant": variant, "result": result, "masks": mask, "start": start}


def progress_hook(callback: Callback, total: int, epochs: int) -> tuple[dict, Callable[[int], None]]:
    """A shared counter of finished trainings and an ``on_epoch`` hook reporting fractional progress."""
    state = {"done": 0}

    def on_epoch(epoch: int) -> None:
        if callback is not None:
            callback({"progress": (state["done"] + epoch / epochs) / total})

    return state, on_epoch


def lottery_ticket(config: LotteryConfig, *, callback: Callback = None) -> pd.DataFrame:
    """Iterative magnitude pruning with rewinding, against random re-initialisation and random pruning.

    Each round removes ``prune_hidden`` of every hidden layer's surviving weights and ``prune_output`` of the output
    layer's (smallest ``|w|`` of the trained winning ticket), so after ``r`` rounds a hidden layer keeps
    :math:`(1 - p)^r` of its weights (0.8^r: 51.2% after 3 rounds, 6.9% after 12). Biases are never pruned.

    Parameters
    ----------
    config : LotteryConfig
        Data, network, pruning schedule, optimiser and seeds.
    callback : callable, optional
        Called after every epoch with ``{"progress"}`` and after every trained network with ``{"progress", "seed",
        "round", "remaining_fraction", "variant", "test_acc", "best_epoch"}``.

    Returns
    -------
    DataFrame
        One row per (seed, round, variant): ``round`` (0 = the dense net, shared by the three variants),
        ``remaining_fraction`` (weights left, in (0, 1]), ``variant`` in ``VARIANTS``, ``test_acc`` (test accuracy
        after the last epoch, in [0, 1]), ``best_epoch`` (1-based epoch of the lowest test loss) and ``seed``.

    References
    ----------
    Frankle & Carbin, ICLR 2019; Frankle, Dziugaite, Roy & Carbin, "Linear mode connectivity and the lottery ticket
    hypothesis", ICML 2020 (rewinding).
    """
    check_lottery_config(config)
    data = load_data(config, resolve_device(config.device))
    seeds = [config.seed + i for i in range(config.n_seeds)]
    state, on_epoch = progress_hook(callback, len(seeds) * (1 + 3 * config.rounds), config.epochs)
    if callback is not None:
        callback({"progress": 0.0})
    runs = [imp_trainings(config, data, s, on_epoch=on_epoch) for s in seeds]
    rows = []
    for r in range(config.rounds + 1):  # rounds outside, seeds inside: the seed band grows as rounds finish
        for seed, run in zip(seeds, runs, strict=True):
            for _ in VARIANTS:
                rec = next(run)
                state["done"] += 1 if (r > 0 or rec["variant"] == VARIANTS[0]) else 0
                res = rec["result"]
                row = {
                    "round": r,
                    "remaining_fraction": _remaining(rec["masks"]),
                    "variant": rec["variant"],
                    "test_acc": res.test_acc,
                    "best_epoch": res.best_epoch,
                    "seed": seed,
                }
                rows.append(row)
                if not res.finite:
                    warnings.warn(f"Training diverged (NaN loss) in round {r}; lower `lr`.", stacklevel=2)
                if callback is not None:
                    callback({**row, "progress": state["done"] / (len(seeds) * (1 + 3 * config.rounds))})
    df = pd.DataFrame(rows)
    dense = df.loc[df["round"] == 0, "test_acc"].mean()
    if dense < 0.9:
        warnings.warn(
            f"The dense network reached only {dense:.1%} test accuracy; increase `epochs` or adjust `lr`.",
            stacklevel=2,
        )
    return df


@dataclass(frozen=True)
class TicketSummary:
    """Numbers the page quotes from a :func:`lottery_ticket` result (accuracies are means over seeds, in [0, 1])."""

    dense_acc: float  # the unpruned network
    gap: float  # the accuracy drop that counts as "falling off"
    falloff_round: int | None  # first round from which re-init stays >= gap below rewind (None: never)
    falloff_fraction: float | None  # remaining fraction of weights at that round
    rewind_at_falloff: float | None
    reinit_at_falloff: float | None
    holds_fraction: float  # smallest remaining fraction at which rewind is within gap of the dense net
    last_fraction: float  # the sparsest round
    last_acc: dict[str, float]  # variant -> accuracy at the sparsest round


def ticket_summary(results: pd.DataFrame, *, gap: float = 0.01) -> TicketSummary:
    """Where random re-initialisation falls off while the winning ticket holds.

    The fall-off round is the first round ``r`` such that the mean ``reinit`` accuracy is at least ``gap`` below the
    mean ``rewind`` accuracy in round ``r`` and in every later round (a sustained gap, robust to one noisy round).

    Parameters
    ----------
    results : DataFrame
        The output of :func:`lottery_ticket`.
    gap : float
        Accuracy difference in [0, 1] (0.01 = one percentage point).

    Returns
    -------
    TicketSummary

    Warns
    -----
    UserWarning
        When the dense net is below 90% test accuracy (too few ``epochs``).
    """
    gap = check_real(gap, "gap", low=0.0, high=1.0)
    missing = {"round", "remaining_fraction", "variant", "test_acc"} - set(getattr(results, "columns", []))
    if missing or len(results) == 0:
        raise ValueError(f"`results` must be a lottery_ticket DataFrame. Missing columns: {sorted(missing)}.")
    acc = results.groupby(["round", "variant"])["test_acc"].mean().unstack()  # (rounds, variants)
    frac = results.groupby("round")["remaining_fraction"].mean()
    dense = float(acc.loc[0, "rewind"])  # round 0 is the dense net, shared by the variants
    behind = (acc["rewind"] - acc["reinit"] >= gap - 1e-9).to_numpy()
    sustained = np.flip(np.logical_and.accumulate(np.flip(behind)))  # True where the gap holds from here on
    first = next((int(r) for r, ok in zip(acc.index, sustained, strict=True) if ok and r > 0), None)
    holds = frac[acc["rewind"] >= dense - gap - 1e-9]
    last = int(acc.index.max())
    return TicketSummary(
        dense_acc=dense,
        gap=gap,
        falloff_round=first,
        falloff_fraction=None if first is None else float(frac.loc[first]),
        rewind_at_falloff=None if first is None else float(acc.loc[first, "rewind"]),
        reinit_at_falloff=None if first is None else float(acc.loc[first, "reinit"]),
        holds_fraction=float(holds.min()),
        last_fraction=float(frac.loc[last]),
        last_acc={str(v): float(acc.loc[last, v]) for v in acc.columns},
    )


_SUPERMASK_API = ("SupermaskConfig", "prune_at_init", "supermask_run")


def __getattr__(name: str) -> object:
    """Re-export pruning at initialisation and supermasks (core/supermask.py builds on this module)."""
    if name in _SUPERMASK_API:
        from core import supermask

        return getattr(supermask, name)
    raise AttributeError(f"module 'core.pruning' has no attribute {name!r}")
