"""Lottery tickets: iterative magnitude pruning with rewinding, against re-initialisation and random masks.

Frankle & Carbin (2019), "The lottery ticket hypothesis: finding sparse, trainable neural networks": train a dense
net, remove the smallest-magnitude weights layer by layer (20% of each hidden layer, 10% of the output layer per
round), reset the survivors to their initial values (or to their values at an early ``rewind_step``) and train
again. The surviving subnetwork (the *winning ticket*) keeps the dense accuracy far below 20% of the weights, while
the same mask with fresh random weights, or a random mask of the same size, falls off. The default schedule here is
faster (40% of the hidden layers, 20% of the output layer per round) so that 9 rounds reach 1.25% of the weights.
Masks chosen before any training (SNIP, GraSP, supermasks) live in :mod:`core.lottery_ticket.supermask`; the batched
training
engine shared by both is :mod:`core.lottery_ticket.nets`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import pandas as pd
import torch

from core._validation import check_choice, check_int, check_real
from core.data import digits_split
from core.lottery_ticket.nets import (
    Masks,
    TensorData,
    check_recipe,
    generator,
    random_masks,
    recipe,
    report_rows,
    stack,
    stack_masks,
    train_batch,
    unstack,
)
from core.training import Callback, as_tensors, make_mlp, resolve_device

DATASETS = ("digits",)
VARIANTS = ("rewind", "reinit", "random_prune")


@dataclass(frozen=True)
class LotteryConfig:
    """Settings of a lottery-ticket experiment on digits (the defaults are the recipe of SCIENCE.md)."""

    dataset: str = "digits"  # the only real image set that ships offline (sklearn); 8x8 images, 10 classes
    n_train: int = 1200  # stratified 1200/597 split: enough test images for 0.2-point resolution
    sizes: tuple[int, ...] = (64, 300, 100, 10)  # LeNet-300-100 with digits' 64 inputs, as in Frankle & Carbin
    prune_hidden: float = 0.4  # 40% of every hidden layer per round, twice Frankle & Carbin's 20%: 0.6^9 = 1%...
    prune_output: float = 0.2  # ...and 20% of the small output layer (theirs: 10%), which is more fragile
    rounds: int = 9  # 9 rounds leave 1.25% of the weights, where a random mask has collapsed (theirs: 0.8^r)
    epochs: int = 5  # per round; the dense net is at ~97% on digits after 5 epochs as after 10 (measured)
    batch_size: int = 60  # 20 SGD steps per epoch on 1200 images
    lr: float = 0.05  # SGD with momentum; stable for the dense and for a 3%-dense net
    momentum: float = 0.9  # standard; masked so that momentum never revives a pruned weight
    weight_decay: float = 0.0  # none, so that magnitudes reflect the data, not the regulariser
    rewind_step: int = 0  # 0 = reset to init (the original paper); step 100 changed nothing here (SCIENCE.md)
    seed: int = 0  # seeds the split, the init, the data order and the random masks
    n_seeds: int = 3  # a band over seeds; all nets of a round train as one batched model, so 3 seeds fit the budget
    device: str = "cpu"  # small nets: the CPU is as fast as a GPU here


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
    check_recipe(config)
    check_real(config.prune_hidden, "prune_hidden", low=0.0, high=0.9, low_inclusive=False)
    check_real(config.prune_output, "prune_output", low=0.0, high=0.9)
    check_int(config.rounds, "rounds", low=1, high=40)
    steps = config.epochs * math.ceil(config.n_train / config.batch_size)
    if not 0 <= check_int(config.rewind_step, "rewind_step", low=0) < steps:
        raise ValueError(
            f"`rewind_step` must be < {steps} (the optimiser steps of one round). Got {config.rewind_step} instead."
        )
    return config


def load_data(config: LotteryConfig, device: torch.device) -> TensorData:
    """The digits split of ``config`` (seeded by ``config.seed``) as tensors on ``device``."""
    split = digits_split(n_train=config.n_train, seed=config.seed)
    return TensorData(*as_tensors(split.x_train, split.y_train, split.x_test, split.y_test, device=device))


def draw_params(sizes: Sequence[int], gen: torch.Generator) -> list[torch.Tensor]:
    """PyTorch's default init of a ``sizes`` ReLU MLP drawn from ``gen``: ``[W_1 (out, in), b_1 (out,), ...]``."""
    return [p.detach().clone() for p in make_mlp(sizes, generator=gen).parameters()]


def keep_counts(sizes: Sequence[int], *, prune_hidden: float, prune_output: float, rounds: int) -> list[int]:
    """Weights left per layer after ``rounds`` rounds: ``round(n_l * (1 - p_l)^rounds)``, at least 1.

    ``p_l`` is ``prune_hidden`` for every layer but the last and ``prune_output`` for the last, so the remaining
    fraction of a hidden layer is exactly the compound ``(1 - p)^r`` (0.6^r by default) up to rounding.
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


def rounds_to_reach(config: LotteryConfig, fraction: float, *, prune_hidden: float, prune_output: float) -> int:
    """The fewest rounds of a ``(prune_hidden, prune_output)`` schedule leaving at most ``fraction`` of the weights.

    The network is ``config.sizes``; used to compare a schedule with Frankle & Carbin's 20% / 10% per round.
    """
    check_real(fraction, "fraction", low=0.0, high=1.0, low_inclusive=False)
    check_real(prune_hidden, "prune_hidden", low=0.0, high=0.9, low_inclusive=False)
    check_real(prune_output, "prune_output", low=0.0, high=0.9)
    other = LotteryConfig(sizes=config.sizes, prune_hidden=prune_hidden, prune_output=prune_output)
    for r in range(1, 1001):
        if remaining_fraction(other, r) <= fraction + 1e-12:
            return r
    raise ValueError(f"`fraction` must be reachable within 1000 rounds. Got {fraction} instead.")


def magnitude_masks(weights: Sequence[torch.Tensor], masks: Masks, counts: Sequence[int]) -> Masks:
    """Layer-wise magnitude pruning: keep the ``counts[l]`` largest ``|w|`` among the survivors of ``masks[l]``."""
    out = []
    for w, m, k in zip(weights, masks, counts, strict=True):
        score = torch.where(m > 0, w.abs(), torch.full_like(w, -1.0)).flatten()  # pruned weights never return
        new = torch.zeros_like(score)
        new[torch.topk(score, k).indices] = 1.0
        out.append(new.view_as(w))
    return out


def _starts(params: Sequence[torch.Tensor], masks: Masks, scale: Sequence[float] | None = None) -> list[torch.Tensor]:
    """Parameters with pruned weights zeroed and survivors optionally scaled per layer (biases unchanged)."""
    out = [p.clone() for p in params]
    for i, m in enumerate(masks):
        out[2 * i] = out[2 * i] * m * (1.0 if scale is None else scale[i])
    return out


@dataclass(frozen=True)
class TrainedNet:
    """One net trained in a round of :func:`imp_rounds`."""

    round: int  # 0 = the dense net
    variant: str  # one of VARIANTS (round 0: the dense net, listed once per variant)
    seed: int
    masks: Masks  # one {0, 1} mask per weight matrix
    start: list[torch.Tensor]  # parameters before training [W_1, b_1, ...]
    test_acc: float  # after the last epoch, in [0, 1]
    best_epoch: int  # 1-based epoch of the lowest test loss
    theta_k: list[torch.Tensor] | None = None  # round 0 only: the parameters at `rewind_step`


def imp_rounds(config: LotteryConfig, data: TensorData, *, callback: Callback = None) -> Iterator[list[TrainedNet]]:
    """Iterative magnitude pruning for all seeds of ``config``: yield, per round, one record per trained net.

    Round 0 trains one dense net per seed from ``theta_0`` (saving ``theta_k`` at ``rewind_step``). Round ``r >= 1``
    prunes each seed's previous *rewind* net layer-wise by magnitude and trains three variants: ``"rewind"`` (mask
    times ``theta_k``), ``"reinit"`` (same mask, a fresh init drawn for this round) and ``"random_prune"`` (a random
    mask with the same per-layer counts, the same fresh init scaled by ``1/sqrt(density_l)`` to keep the signal
    scale). The variants of a seed share its data order; all nets of a round train as one batched model.
    ``callback(record)`` follows every epoch, ``"progress"`` counting round 0 as one training and later rounds as
    three (the variants).
    """
    seeds = [config.seed + i for i in range(config.n_seeds)]
    rec = recipe(config)
    theta0 = [draw_params(config.sizes, generator(s, "init")) for s in seeds]
    shapes = [p.shape for p in theta0[0][0::2]]
    masks: list[Masks] = [[torch.ones(s) for s in shapes] for _ in seeds]
    total = 1 + len(VARIANTS) * config.rounds  # work in dense-net trainings of all seeds: round 0 is one

    def span(r: int) -> tuple[float, float]:
        done = 0 if r == 0 else 1 + len(VARIANTS) * (r - 1)
        return done / total, (done + (1 if r == 0 else len(VARIANTS))) / total

    orders = [generator(s, 0, "order") for s in seeds]
    dense = train_batch(
        stack(theta0), stack_masks(masks), data, rec, orders, range(len(seeds)), save_steps=(config.rewind_step,),
        callback=callback, progress=span(0),
    )  # fmt: skip
    theta_k = [unstack(dense.snapshots[config.rewind_step], i) for i in range(len(seeds))]
    trained = [unstack(dense.params, i)[0::2] for i in range(len(seeds))]
    yield [
        TrainedNet(0, v, s, masks[i], theta0[i], dense.test_acc[i], dense.best_epoch[i], theta_k=theta_k[i])
        for i, s in enumerate(seeds) for v in VARIANTS
    ]  # fmt: skip
    for r in range(1, config.rounds + 1):
        counts = keep_counts(config.sizes, prune_hidden=config.prune_hidden, prune_output=config.prune_output, rounds=r)
        density = [k / math.prod(s) for k, s in zip(counts, shapes, strict=True)]
        nets: list[tuple[int, str, Masks, list[torch.Tensor]]] = []
        for i, s in enumerate(seeds):
            masks[i] = magnitude_masks(trained[i], masks[i], counts)
            fresh = draw_params(config.sizes, generator(s, r, "reinit"))
            rand = random_masks(shapes, counts, generator(s, r, "random"))
            nets += [
                (s, "rewind", masks[i], _starts(theta_k[i], masks[i])),
                (s, "reinit", masks[i], _starts(fresh, masks[i])),
                (s, "random_prune", rand, _starts(fresh, rand, [1.0 / math.sqrt(d) for d in density])),
            ]
        res = train_batch(
            stack([n[3] for n in nets]), stack_masks([n[2] for n in nets]), data, rec,
            [generator(s, r, "order") for s in seeds], [i for i in range(len(seeds)) for _ in VARIANTS],
            callback=callback, progress=span(r),
        )  # fmt: skip
        trained = [unstack(res.params, len(VARIANTS) * i)[0::2] for i in range(len(seeds))]
        yield [
            TrainedNet(r, v, s, mk, start, res.test_acc[j], res.best_epoch[j])
            for j, (s, v, mk, start) in enumerate(nets)
        ]


def _remaining(masks: Masks) -> float:
    return float(sum(m.sum() for m in masks) / sum(m.numel() for m in masks))


def lottery_ticket(config: LotteryConfig, *, callback: Callback = None) -> pd.DataFrame:
    """Iterative magnitude pruning with rewinding, against random re-initialisation and random pruning.

    Each round removes ``prune_hidden`` of every hidden layer's surviving weights and ``prune_output`` of the output
    layer's (smallest ``|w|`` of the trained winning ticket), so after ``r`` rounds a hidden layer keeps
    :math:`(1 - p)^r` of its weights (0.6^r by default: 1.0% after 9 rounds; Frankle & Carbin's 0.8^r leaves 6.9%
    after 12). Biases are never pruned. All nets of a round (three variants x ``n_seeds``) train as one batched
    model; the variants of a seed share its data order.

    Parameters
    ----------
    config : LotteryConfig
        Data, network, pruning schedule, optimiser and seeds.
    callback : callable, optional
        Called after every epoch with ``{"progress", "step", "loss", "epoch", "test_loss"}`` and after every round
        with each trained network's ``{"progress", "seed", "round", "remaining_fraction", "variant", "test_acc",
        "best_epoch"}``. Raising inside it cancels the run.

    Returns
    -------
    DataFrame
        One row per (seed, round, variant): ``round`` (0 = the dense net, shared by the three variants),
        ``remaining_fraction`` (weights left, in (0, 1]), ``variant`` in ``VARIANTS``, ``test_acc`` (test accuracy
        after the last epoch, in [0, 1]), ``best_epoch`` (1-based epoch of the lowest test loss) and ``seed``.

    Raises
    ------
    Diverged
        If the loss of any net becomes NaN or infinite: lower ``lr``.

    References
    ----------
    Frankle & Carbin, ICLR 2019; Frankle, Dziugaite, Roy & Carbin, "Linear mode connectivity and the lottery ticket
    hypothesis", ICML 2020 (rewinding).
    """
    check_lottery_config(config)
    data = load_data(config, resolve_device(config.device))
    total = 1 + len(VARIANTS) * config.rounds
    if callback is not None:
        callback({"progress": 0.0})
    rows: list[dict] = []
    for nets in imp_rounds(config, data, callback=callback):
        new = [
            {"round": n.round, "remaining_fraction": _remaining(n.masks), "variant": n.variant,
             "test_acc": n.test_acc, "best_epoch": n.best_epoch, "seed": n.seed}
            for n in nets
        ]  # fmt: skip
        rows += new
        report_rows(callback, new, (1 + len(VARIANTS) * nets[0].round) / total)
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
