"""Tickets chosen at initialisation: pruning before training (SNIP, GraSP) and strong tickets (supermasks).

Pruning at initialisation scores every weight of the untrained net once, keeps the top fraction and trains the
sparse net: SNIP (Lee, Ajanthan & Torr 2019) keeps large ``|g * w|``; GraSP (Wang, Zhang & Grosse 2020) keeps the
weights whose removal would shrink the gradient norm most. Strong tickets go further: edge-popup (Ramanujan et al.
2020) trains only a score per weight and picks a subnetwork of *frozen random* weights, so no weight is ever trained.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn

from core._validation import check_choice, check_int, check_real
from core.data import digits_split
from core.pruning import (
    PAI_METHODS,
    LotteryConfig,
    Masks,
    TensorData,
    check_lottery_config,
    clone_params,
    generator,
    init_default_,
    linears,
    load_data,
    load_masked,
    progress_hook,
    random_masks,
    train_masked,
)
from core.training import Callback, as_tensors, evaluate, make_mlp, minibatches, resolve_device


def pai_scores(model: nn.Module, data: TensorData, method: str) -> list[torch.Tensor]:
    r"""Pruning-at-init scores, one tensor per Linear weight; the weights with the *largest* scores are kept.

    - ``"snip"``: :math:`|g \odot w|` with :math:`g = \nabla_w L` on the training set (Lee et al. 2019).
    - ``"grasp"``: Wang et al. define :math:`S(-w) = -w \odot Hg` (``Hg`` by double backprop of
      :math:`\tfrac12\|g\|^2`) and *remove* the weights with the largest :math:`S`: removing them increases the
      gradient norm, or shrinks it least (their Algorithm 1 keeps :math:`S < \tau`). We return :math:`-S = w \odot
      Hg`, so "keep the largest" matches the paper.
    - ``"magnitude"``: :math:`|w|`; ``"random"``: i.i.d. uniform scores (used per layer, see :func:`prune_at_init`).
    """
    weights = [layer.weight for layer in linears(model)]
    if method in ("magnitude", "random"):
        gen = generator(0, "random_scores")
        return [w.detach().abs() if method == "magnitude" else torch.rand(w.shape, generator=gen) for w in weights]
    loss = nn.functional.cross_entropy(model(data.x_train), data.y_train)
    if method == "snip":
        grads = torch.autograd.grad(loss, weights)
        return [(g * w).detach().abs() for g, w in zip(grads, weights, strict=True)]
    grads = torch.autograd.grad(loss, weights, create_graph=True)
    z = sum((g.detach() * g).sum() for g in grads)  # d z / d w = H g
    hg = torch.autograd.grad(z, weights)
    return [(w * h).detach() for w, h in zip(weights, hg, strict=True)]  # = -S(-w) of Wang et al.


def global_masks(scores: Sequence[torch.Tensor], keep_fraction: float) -> Masks:
    """Keep the ``round(keep_fraction * n)`` largest scores over all layers together (global top-k)."""
    flat = torch.cat([s.flatten() for s in scores])  # (n_weights,)
    keep = torch.zeros_like(flat)
    keep[torch.topk(flat, max(1, round(keep_fraction * flat.numel()))).indices] = 1.0
    return [m.view_as(s) for m, s in zip(keep.split([s.numel() for s in scores]), scores, strict=True)]


def prune_at_init(
    config: LotteryConfig,
    *,
    method: str | Sequence[str] = "snip",
    sparsities: Sequence[float] = (0.9, 0.95, 0.98, 0.99),
    callback: Callback = None,
) -> pd.DataFrame:
    """Prune once at initialisation, then train the sparse net with the lottery-ticket training recipe.

    SNIP, GraSP and magnitude rank all weights together (global top-k, so layers can end up with very different
    densities, and magnitude can empty a whole layer); ``"random"`` keeps the same fraction of every layer. Every
    sparse net starts from the lottery-ticket ``theta_0`` with each layer's surviving weights scaled by
    ``1/sqrt(density_l)``, so all methods start with the dense net's signal scale and differ only in *which*
    weights they keep. The dense net is trained once per seed as a reference (``method == "dense"``).

    Parameters
    ----------
    config : LotteryConfig
        Data, network, training recipe and seeds (``rounds``, prune rates and ``rewind_step`` are unused).
    method : str or sequence of str
        One or several of ``PAI_METHODS``.
    sparsities : sequence of float
        Fractions of the weights removed, each in (0, 1).
    callback : callable, optional
        Called every epoch with ``{"progress"}`` and after every trained network with the new row.

    Returns
    -------
    DataFrame
        One row per (seed, method, sparsity): ``method``, ``sparsity``, ``keep_fraction`` (= 1 - sparsity),
        ``min_layer_keep`` (the emptiest layer's kept fraction: near 0 means a cut-off layer), ``test_acc`` (in
        [0, 1]), ``best_epoch`` and ``seed``.

    References
    ----------
    Lee, Ajanthan & Torr, "SNIP", ICLR 2019; Wang, Zhang & Grosse, "Picking winning tickets before training by
    preserving gradient flow", ICLR 2020.
    """
    check_lottery_config(config)
    methods = [method] if isinstance(method, str) else list(method)
    if not methods:
        raise ValueError("`method` must name at least one of " + ", ".join(PAI_METHODS) + ". Got [] instead.")
    for m in methods:
        check_choice(m, "method", PAI_METHODS)
    sparsities = [
        check_real(s, "sparsities", low=0.0, high=1.0, low_inclusive=False, high_inclusive=False) for s in sparsities
    ]
    if not sparsities:
        raise ValueError("`sparsities` must list at least one fraction in (0, 1). Got [] instead.")
    device = resolve_device(config.device)
    data = load_data(config, device)
    seeds = [config.seed + i for i in range(config.n_seeds)]
    total = len(seeds) * (1 + len(methods) * len(sparsities))
    state, on_epoch = progress_hook(callback, total, config.epochs)
    if callback is not None:
        callback({"progress": 0.0})
    rows = []
    for seed in seeds:
        model = make_mlp(config.sizes).to(device)
        theta0 = clone_params(init_default_(model, generator(seed, "init")))  # the same theta_0 as lottery_ticket
        jobs = [("dense", 0.0, [torch.ones_like(layer.weight) for layer in linears(model)], None)]
        for m in methods:
            scores = pai_scores(model, data, m)
            for s in sparsities:
                if m == "random":  # the same density in every layer
                    counts = [max(1, round((1 - s) * sc.numel())) for sc in scores]
                    masks = random_masks([sc.shape for sc in scores], counts, generator(seed, "pai", round(s * 1e6)))
                else:
                    masks = global_masks(scores, 1 - s)
                jobs.append((m, s, masks, [1 / math.sqrt(max(float(mk.mean()), 1e-12)) for mk in masks]))
        for m, s, masks, scale in jobs:
            load_masked(model, theta0, masks, scale)
            res = train_masked(model, masks, data, config, generator(seed, "pai_order"), on_epoch=on_epoch)
            state["done"] += 1
            row = {
                "method": m,
                "sparsity": s,
                "keep_fraction": 1.0 - s,
                "min_layer_keep": float(min(mk.mean() for mk in masks)),
                "test_acc": res.test_acc,
                "best_epoch": res.best_epoch,
                "seed": seed,
            }
            rows.append(row)
            if callback is not None:
                callback({**row, "progress": state["done"] / total})
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class SupermaskConfig:
    """Settings of the edge-popup strong-ticket experiment on digits (the recipe of SCIENCE.md)."""

    n_train: int = 1200  # the same stratified 1200/597 split as the lottery-ticket runs
    depth: int = 2  # hidden layers of width w: 64-w-w-10, no biases, as in the measured recipe
    epochs: int = 20  # scores need more epochs than weights; 20 reach the plateau on digits
    batch_size: int = 60  # 20 steps per epoch
    lr: float = 0.1  # edge-popup's SGD learning rate (cosine-annealed to 0)
    momentum: float = 0.9  # edge-popup's setting
    weight_decay: float = 5e-4  # on the scores (edge-popup) and on the trained baseline's weights
    seed: int = 0  # seeds the split, the frozen signs, the scores and the data order
    n_seeds: int = 1  # 1 fits the time budget; more show the spread
    device: str = "cpu"  # small nets: the CPU is as fast as a GPU here


class SupermaskLinear(nn.Module):
    r"""A bias-free Linear layer whose weights are frozen signed constants; only the edge scores learn.

    Weights are :math:`\pm\sqrt{2/\text{fan\_in}}/\sqrt{k}` (signed Kaiming constant, rescaled for the kept
    fraction ``k``). The forward pass uses the top-``k`` edges by ``|score|``; the backward pass is straight-through
    on ``|score|`` (the mask's gradient goes to ``|score|``, then through ``abs`` to the score).
    """

    def __init__(self, fan_in: int, fan_out: int, keep_fraction: float, gen: torch.Generator) -> None:
        super().__init__()
        signs = torch.randint(0, 2, (fan_out, fan_in), generator=gen).float() * 2 - 1  # (fan_out, fan_in)
        self.register_buffer("weight", signs * math.sqrt(2.0 / fan_in) / math.sqrt(keep_fraction))
        bound = 1.0 / math.sqrt(fan_in)  # Kaiming-uniform scores, as edge-popup initialises them
        self.scores = nn.Parameter(torch.empty(fan_out, fan_in).uniform_(-bound, bound, generator=gen))
        self.k = max(1, round(keep_fraction * fan_in * fan_out))

    def mask(self) -> torch.Tensor:
        """The {0, 1} mask of the top-k ``|score|`` edges, with a straight-through gradient to ``|score|``."""
        s = self.scores.abs()
        hard = torch.zeros_like(s).flatten()
        hard[torch.topk(s.detach().flatten(), self.k).indices] = 1.0
        return hard.view_as(s) + (s - s.detach())  # exactly {0, 1} forward; d mask / d|s| = 1 backward

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x @ (weight * mask).T``."""
        return nn.functional.linear(x, self.weight * self.mask())


def supermask_net(width: int, depth: int, keep_fraction: float, gen: torch.Generator) -> nn.Sequential:
    """A 64-w-...-w-10 ReLU net of :class:`SupermaskLinear` layers."""
    sizes = [64, *([width] * depth), 10]
    layers: list[nn.Module] = []
    for i in range(len(sizes) - 1):
        layers.append(SupermaskLinear(sizes[i], sizes[i + 1], keep_fraction, gen))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def train_cosine(
    model: nn.Module, data: TensorData, config: SupermaskConfig, gen: torch.Generator, on_epoch: Callable[[int], None]
) -> float:
    """SGD with momentum and a cosine learning rate over the trainable parameters; return the test accuracy."""
    opt = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay)
    steps = config.epochs * math.ceil(len(data.y_train) / config.batch_size)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda t: 0.5 * (1 + math.cos(math.pi * t / steps)))
    for epoch in range(1, config.epochs + 1):
        for idx in minibatches(len(data.y_train), config.batch_size, gen):
            loss = nn.functional.cross_entropy(model(data.x_train[idx]), data.y_train[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
        on_epoch(epoch)
    return evaluate(model, data.x_test, data.y_test)[1]


def supermask_run(
    config: SupermaskConfig,
    *,
    widths: Sequence[int] = (4, 8, 16, 32, 64),
    keep_fraction: float = 0.5,
    callback: Callback = None,
) -> pd.DataFrame:
    """Strong lottery tickets: test accuracy against width when no weight is ever trained.

    For each width, edge-popup learns which ``keep_fraction`` of the frozen random edges to use
    (:class:`SupermaskLinear`); the baseline trains the weights of the same bias-free architecture, dense, with the
    same optimiser and schedule.

    Parameters
    ----------
    config : SupermaskConfig
        Data, depth, optimiser and seeds.
    widths : sequence of int
        Hidden widths ``w`` of the 64-w-w-10 nets, each in [1, 1024].
    keep_fraction : float
        Fraction ``k`` of edges the supermask keeps in every layer, in (0, 1].
    callback : callable, optional
        Called every epoch with ``{"progress"}`` and after every trained net with the new row.

    Returns
    -------
    DataFrame
        One row per (seed, width, variant): ``width``, ``variant`` in ``{"supermask", "trained"}``, ``test_acc``
        (in [0, 1]) and ``seed``.

    References
    ----------
    Ramanujan, Wortsman, Kembhavi, Farhadi & Rastegari, "What's hidden in a randomly weighted neural network?",
    CVPR 2020; Zhou, Lan, Liu & Yosinski, "Deconstructing lottery tickets", NeurIPS 2019.
    """
    if not isinstance(config, SupermaskConfig):
        raise TypeError(f"`config` must be a SupermaskConfig. Got {type(config).__name__} instead.")
    check_int(config.n_train, "n_train", low=100, high=1697)
    check_int(config.depth, "depth", low=1, high=6)
    check_int(config.epochs, "epochs", low=1, high=500)
    check_int(config.batch_size, "batch_size", low=1, high=config.n_train)
    check_real(config.lr, "lr", low=0.0, high=10.0, low_inclusive=False)
    check_real(config.momentum, "momentum", low=0.0, high=1.0, high_inclusive=False)
    check_real(config.weight_decay, "weight_decay", low=0.0, high=1.0)
    check_int(config.seed, "seed", low=0)
    check_int(config.n_seeds, "n_seeds", low=1, high=10)
    widths = [check_int(w, "widths", low=1, high=1024) for w in widths]
    if not widths:
        raise ValueError("`widths` must list at least one hidden width. Got [] instead.")
    keep_fraction = check_real(keep_fraction, "keep_fraction", low=0.0, high=1.0, low_inclusive=False)
    device = resolve_device(config.device)
    split = digits_split(n_train=config.n_train, seed=config.seed)
    data = TensorData(*as_tensors(split.x_train, split.y_train, split.x_test, split.y_test, device=device))
    seeds = [config.seed + i for i in range(config.n_seeds)]
    total = 2 * len(seeds) * len(widths)
    state, on_epoch = progress_hook(callback, total, config.epochs)
    if callback is not None:
        callback({"progress": 0.0})
    rows = []
    for seed in seeds:
        for width in widths:
            for variant in ("supermask", "trained"):
                if variant == "supermask":
                    model = supermask_net(width, config.depth, keep_fraction, generator(seed, width, "supermask"))
                else:
                    model = init_default_(
                        make_mlp([64, *([width] * config.depth), 10], bias=False), generator(seed, width, "trained")
                    )
                acc = train_cosine(model.to(device), data, config, generator(seed, width, "order"), on_epoch)
                state["done"] += 1
                row = {"width": width, "variant": variant, "test_acc": acc, "seed": seed}
                rows.append(row)
                if callback is not None:
                    callback({**row, "progress": state["done"] / total})
    return pd.DataFrame(rows)


def pai_summary(results: pd.DataFrame) -> dict:
    """Numbers the page quotes from a :func:`prune_at_init` result (accuracies are means over seeds, in [0, 1]).

    Returns
    -------
    dict
        ``dense_acc``; ``sparsest`` (the smallest keep fraction); ``at_sparsest`` (method -> accuracy there,
        best first); ``best`` (the best method there); ``collapsed`` (method -> largest keep fraction at which some
        layer lost every weight, only for methods where that happened).
    """
    if not {"method", "keep_fraction", "test_acc", "min_layer_keep"} <= set(getattr(results, "columns", [])):
        raise ValueError("`results` must be a prune_at_init DataFrame (method, keep_fraction, test_acc, ...).")
    sparse = results[results["method"] != "dense"]
    if sparse.empty:
        raise ValueError("`results` must hold at least one pruned run. Got only the dense reference instead.")
    sparsest = float(sparse["keep_fraction"].min())
    at = sparse[sparse["keep_fraction"] == sparsest].groupby("method")["test_acc"].mean().sort_values(ascending=False)
    empty = sparse[sparse["min_layer_keep"] == 0].groupby("method")["keep_fraction"].max()
    dense = float(results.loc[results["method"] == "dense", "test_acc"].mean())
    if dense < 0.9:
        warnings.warn(
            f"The dense network reached only {dense:.1%} test accuracy: increase the epochs per training.", stacklevel=2
        )
    return {
        "dense_acc": dense,
        "sparsest": sparsest,
        "at_sparsest": {str(k): float(v) for k, v in at.items()},
        "best": str(at.idxmax()),
        "collapsed": {str(k): float(v) for k, v in empty.items()},
    }


def supermask_summary(results: pd.DataFrame, *, gap: float = 0.02) -> dict:
    """Numbers the page quotes from a :func:`supermask_run` result (means over seeds, accuracies in [0, 1]).

    Returns
    -------
    dict
        ``acc`` (variant -> {width: accuracy}); ``widest`` and ``narrowest`` widths; ``match_width``: the smallest
        width from which the supermask stays within ``gap`` of trained weights (None if it never does).
    """
    gap = check_real(gap, "gap", low=0.0, high=1.0)
    if not {"width", "variant", "test_acc"} <= set(getattr(results, "columns", [])) or results.empty:
        raise ValueError("`results` must be a supermask_run DataFrame (width, variant, test_acc).")
    acc = results.groupby(["width", "variant"])["test_acc"].mean().unstack()  # (widths, variants)
    close = (acc["supermask"] >= acc["trained"] - gap - 1e-9).to_numpy()
    sustained = np.flip(np.logical_and.accumulate(np.flip(close)))
    match = next((int(w) for w, ok in zip(acc.index, sustained, strict=True) if ok), None)
    return {
        "acc": {str(v): {int(w): float(a) for w, a in acc[v].items()} for v in acc.columns},
        "widest": int(acc.index.max()),
        "narrowest": int(acc.index.min()),
        "match_width": match,
    }
