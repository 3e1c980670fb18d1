"""Tickets chosen at initialisation: pruning before training (SNIP, GraSP) and strong tickets (supermasks).

Pruning at initialisation scores every weight of the untrained net once, keeps the top fraction and trains the
sparse net: SNIP (Lee, Ajanthan & Torr 2019) keeps large ``|g * w|``; GraSP (Wang, Zhang & Grosse 2020) keeps the
weights whose removal would shrink the gradient norm most. Strong tickets go further: edge-popup (Ramanujan et al.
2020) trains only a score per weight and picks a subnetwork of *frozen random* weights, so no weight is ever trained.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn

from core._validation import check_choice, check_int, check_real
from core.lottery_ticket.nets import (
    Masks,
    Recipe,
    TensorData,
    check_recipe,
    generator,
    random_masks,
    recipe,
    report_rows,
    stack,
    stack_masks,
    train_batch,
    train_sgd,
)
from core.lottery_ticket.pruning import LotteryConfig, check_lottery_config, load_data
from core.training import Callback, cosine_schedule, evaluate, make_mlp, resolve_device

PAI_METHODS = ("snip", "grasp", "synflow", "magnitude", "random")
SYNFLOW_ITERATIONS = 100  # Tanaka et al.'s setting: 100 rounds of scoring, exponential schedule


def _linears(model: nn.Module) -> list[nn.Linear]:
    return [m for m in model.modules() if isinstance(m, nn.Linear)]


def pai_scores(model: nn.Module, data: TensorData, method: str) -> list[torch.Tensor]:
    r"""Pruning-at-init scores, one tensor per Linear weight; the weights with the *largest* scores are kept.

    - ``"snip"``: :math:`|g \odot w|` with :math:`g = \nabla_w L` on the training set (Lee et al. 2019).
    - ``"grasp"``: Wang et al. define :math:`S(-w) = -w \odot Hg` (``Hg`` by double backprop of
      :math:`\tfrac12\|g\|^2`) and *remove* the weights with the largest :math:`S`: removing them increases the
      gradient norm, or shrinks it least (their Algorithm 1 keeps :math:`S < \tau`). We return :math:`-S = w \odot
      Hg`, so "keep the largest" matches the paper.
    - ``"synflow"``: one round of SynFlow, :func:`synflow_scores` (data-free; :func:`synflow_masks` iterates it).
    - ``"magnitude"``: :math:`|w|`; ``"random"``: i.i.d. uniform scores (used per layer, see :func:`prune_at_init`).
    """
    weights = [layer.weight for layer in _linears(model)]
    if method == "synflow":
        return synflow_scores([w.detach() for w in weights], [torch.ones_like(w) for w in weights])
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
    k = max(1, round(keep_fraction * flat.numel()))
    keep = torch.zeros_like(flat)
    if k >= flat.numel():
        keep[:] = 1.0
    else:  # argpartition finds the top k in linear time (torch.topk with a large k is ~30x slower here)
        keep[torch.from_numpy(np.argpartition(-flat.numpy(), k - 1)[:k])] = 1.0
    return [m.view_as(s) for m, s in zip(keep.split([s.numel() for s in scores]), scores, strict=True)]


def synflow_scores(weights: Sequence[torch.Tensor], masks: Masks) -> list[torch.Tensor]:
    r"""SynFlow saliencies :math:`|\theta \odot \partial R / \partial \theta|` of the masked weights.

    :math:`R = \mathbf 1^\top |W_L| \cdots |W_1| \mathbf 1` (Tanaka et al. 2020, eq. 6): the net with every weight
    replaced by its absolute value (pruned ones by 0) and biases left out, fed an all-ones input, so ReLUs pass
    everything and no data is needed. Computed in float64; the scores of each layer sum to :math:`R` (their
    conservation law).

    Parameters
    ----------
    weights : sequence of Tensor
        Weight matrices ``(fan_out, fan_in)`` in forward order.
    masks : list of Tensor
        ``{0, 1}`` masks of the same shapes.
    """
    a = [(w.detach().abs() * m).double() for w, m in zip(weights, masks, strict=True)]  # |W_l| masked, float64
    right = [torch.ones(a[0].shape[1], dtype=torch.float64)]  # v_l = |W_{l-1}| ... |W_1| 1, (fan_in_l,)
    for w in a[:-1]:
        right.append(w @ right[-1])
    left = [torch.ones(a[-1].shape[0], dtype=torch.float64)]  # u_l = 1^T |W_L| ... |W_{l+1}|, (fan_out_l,)
    for w in reversed(a[1:]):
        left.insert(0, left[0] @ w)
    # dR / d|W_l| = u_l v_l^T, so the saliency of weight (i, j) of layer l is |W_l|_ij u_l[i] v_l[j]
    return [(w * torch.outer(u, v)).float() for w, u, v in zip(a, left, right, strict=True)]


def synflow_masks(
    weights: Sequence[torch.Tensor], keep_fraction: float, *, iterations: int = SYNFLOW_ITERATIONS
) -> Masks:
    """Iterative SynFlow: ``iterations`` rounds of scoring and global pruning on an exponential schedule.

    Round ``k`` keeps the top ``keep_fraction^(k / iterations)`` of all weights by :func:`synflow_scores` of the
    current mask, so the last round keeps ``keep_fraction``; pruned weights never return. Re-scoring after every
    round is what avoids layer collapse (Tanaka et al. 2020, Algorithm 1).
    """
    check_real(keep_fraction, "keep_fraction", low=0.0, high=1.0, low_inclusive=False)
    check_int(iterations, "iterations", low=1, high=10_000)
    masks = [torch.ones_like(w) for w in weights]
    for k in range(1, iterations + 1):
        scores = synflow_scores(weights, masks)
        alive = [torch.where(m > 0, s, torch.full_like(s, -1.0)) for s, m in zip(scores, masks, strict=True)]
        masks = global_masks(alive, keep_fraction ** (k / iterations))
    return masks


@dataclass(frozen=True)
class PruneAtInitConfig(LotteryConfig):
    """Settings of a pruning-at-initialisation run: the lottery-ticket recipe plus the methods and sparsities.

    ``rounds``, the prune rates and ``rewind_step`` are inherited but unused (the mask is chosen once, at init).
    """

    methods: tuple[str, ...] = PAI_METHODS  # every scoring rule, so they can be compared at equal sparsity
    sparsities: tuple[float, ...] = (0.9, 0.95, 0.98, 0.99, 0.999)  # 10% down to 0.1% kept: layers collapse


def check_pai_config(config: PruneAtInitConfig) -> PruneAtInitConfig:
    """Validate a :class:`PruneAtInitConfig`; raise ``ValueError``/``TypeError`` naming the field to fix."""
    if not isinstance(config, PruneAtInitConfig):
        raise TypeError(f"`config` must be a PruneAtInitConfig. Got {type(config).__name__} instead.")
    check_lottery_config(config)
    if not config.methods:
        raise ValueError("`methods` must name at least one of " + ", ".join(PAI_METHODS) + ". Got () instead.")
    for m in config.methods:
        check_choice(m, "methods", PAI_METHODS)
    if not config.sparsities:
        raise ValueError("`sparsities` must list at least one fraction in (0, 1). Got () instead.")
    for s in config.sparsities:
        check_real(s, "sparsities", low=0.0, high=1.0, low_inclusive=False, high_inclusive=False)
    return config


def _pai_masks(config: PruneAtInitConfig, data: TensorData, seed: int) -> tuple[list, list]:
    """``theta_0`` of ``seed`` and (method, sparsity, masks) for every method and sparsity of ``config``."""
    model = make_mlp(config.sizes, generator=generator(seed, "init"))  # the same theta_0 as lottery_ticket
    theta0 = [p.detach().clone() for p in model.parameters()]
    out = []
    for m in config.methods:
        scores = pai_scores(model, data, m) if m != "synflow" else None
        for s in config.sparsities:
            if m == "random":  # the same density in every layer
                counts = [max(1, round((1 - s) * w.numel())) for w in theta0[0::2]]
                masks = random_masks([w.shape for w in theta0[0::2]], counts, generator(seed, "pai", round(s * 1e6)))
            elif m == "synflow":
                masks = synflow_masks(theta0[0::2], 1 - s)
            else:
                masks = global_masks(scores, 1 - s)
            out.append((m, s, masks))
    return theta0, out


def _pai_nets(
    config: PruneAtInitConfig, data: TensorData, seed: int
) -> list[tuple[str, float, Masks, list[torch.Tensor]]]:
    """(method, sparsity, masks, starting parameters) of every net of one seed, the dense reference first."""
    theta0, chosen = _pai_masks(config, data, seed)
    nets = [("dense", 0.0, [torch.ones_like(w) for w in theta0[0::2]], theta0)]
    for m, s, masks in chosen:
        start = [p.clone() for p in theta0]
        for i, mk in enumerate(masks):  # survivors scaled by 1/sqrt(density): the dense net's signal scale
            start[2 * i] = start[2 * i] * mk / math.sqrt(max(float(mk.mean()), 1e-12))
        nets.append((m, s, masks, start))
    return nets


def layer_densities(config: PruneAtInitConfig) -> pd.DataFrame:
    """The fraction of every layer's weights each method keeps at every sparsity (no training; first seed).

    Global rankings (SNIP, GraSP, magnitude) can empty a whole layer before the others: *layer collapse*, after
    which the net computes a constant. SynFlow's iterative, data-free scores avoid it (Tanaka et al. 2020).

    Returns
    -------
    DataFrame
        One row per (method, sparsity, layer): ``method``, ``keep_fraction``, ``layer`` (e.g. ``"64-300"``),
        ``n_weights``, ``kept`` and ``density`` (= kept / n_weights, in [0, 1]).
    """
    check_pai_config(config)
    _, chosen = _pai_masks(config, load_data(config, resolve_device(config.device)), config.seed)
    names = [f"{a}-{b}" for a, b in zip(config.sizes[:-1], config.sizes[1:], strict=True)]
    rows = [
        {"method": m, "keep_fraction": 1.0 - s, "layer": name, "n_weights": mk.numel(), "kept": int(mk.sum()),
         "density": float(mk.mean())}
        for m, s, masks in chosen
        for name, mk in zip(names, masks, strict=True)
    ]  # fmt: skip
    return pd.DataFrame(rows)


def prune_at_init(config: PruneAtInitConfig, *, callback: Callback = None) -> pd.DataFrame:
    """Prune once at initialisation, then train the sparse net with the lottery-ticket training recipe.

    SNIP, GraSP and magnitude rank all weights together (global top-k, so layers can end up with very different
    densities, and magnitude can empty a whole layer); SynFlow prunes globally in 100 data-free rounds
    (:func:`synflow_masks`); ``"random"`` keeps the same fraction of every layer. Every
    sparse net starts from the lottery-ticket ``theta_0`` with each layer's surviving weights scaled by
    ``1/sqrt(density_l)``, so all methods start with the dense net's signal scale and differ only in *which*
    weights they keep. The dense net is trained once per seed as a reference (``method == "dense"``). All nets of
    all seeds train as one batched model; the nets of a seed share its data order.

    Parameters
    ----------
    config : PruneAtInitConfig
        Data, network, training recipe, seeds, ``methods`` (from ``PAI_METHODS``) and ``sparsities`` (fractions
        of the weights removed, each in (0, 1)).
    callback : callable, optional
        Called every epoch with ``{"progress", "step", "loss", "epoch", "test_loss"}`` and, when a seed finishes,
        with its rows. Raising inside it cancels the run.

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
    check_pai_config(config)
    data = load_data(config, resolve_device(config.device))
    seeds = [config.seed + i for i in range(config.n_seeds)]
    if callback is not None:
        callback({"progress": 0.0})
    rows: list[dict] = []
    for k, seed in enumerate(seeds):  # one batched model per seed, so the seed band grows as seeds finish
        nets = _pai_nets(config, data, seed)
        span = (k / len(seeds), (k + 1) / len(seeds))
        res = train_batch(
            stack([n[3] for n in nets]), stack_masks([n[2] for n in nets]), data, recipe(config),
            [generator(seed, "pai_order")], [0] * len(nets), callback=callback, progress=span,
        )  # fmt: skip
        new = [
            {"method": m, "sparsity": s, "keep_fraction": 1.0 - s, "min_layer_keep": float(min(x.mean() for x in mk)),
             "test_acc": res.test_acc[j], "best_epoch": res.best_epoch[j], "seed": seed}
            for j, (m, s, mk, _) in enumerate(nets)
        ]  # fmt: skip
        rows += new
        report_rows(callback, new, span[1])
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
    model: nn.Module,
    data: TensorData,
    recipe: Recipe,
    order: torch.Generator,
    *,
    callback: Callback = None,
    progress: tuple[float, float] = (0.0, 1.0),
) -> float:
    """SGD with momentum and a cosine learning rate over ``model``'s trainable parameters; return the test accuracy.

    The loop is :func:`core.lottery_ticket.nets.train_sgd`, the one the masked nets train with; ``callback(record)``
    follows every epoch with ``"progress"`` in ``progress``.
    """
    n = len(data.y_train)
    steps = recipe.epochs * math.ceil(n / recipe.batch_size)

    def loss_fn(rows: torch.Tensor | None) -> torch.Tensor:
        if rows is None:
            return nn.functional.cross_entropy(model(data.x_train), data.y_train)
        return nn.functional.cross_entropy(model(data.x_train[rows[0]]), data.y_train[rows[0]])

    train_sgd(list(model.parameters()), loss_fn, recipe, n, [order], schedule=cosine_schedule(steps),
              callback=callback, progress=progress)  # fmt: skip
    return evaluate(model, data.x_test, data.y_test)[1]


@dataclass(frozen=True)
class SupermaskRunConfig(SupermaskConfig):
    """Settings of a strong-ticket width sweep: the edge-popup recipe plus the widths and the kept fraction."""

    widths: tuple[int, ...] = (4, 8, 16, 32, 64)  # from chance-level supermasks to ones that match training
    keep_fraction: float = 0.5  # edge-popup's best k: the most subnetworks to choose from


def check_supermask_config(config: SupermaskRunConfig) -> SupermaskRunConfig:
    """Validate a :class:`SupermaskRunConfig`; raise ``ValueError``/``TypeError`` naming the field to fix."""
    if not isinstance(config, SupermaskRunConfig):
        raise TypeError(f"`config` must be a SupermaskRunConfig. Got {type(config).__name__} instead.")
    check_recipe(config)
    check_int(config.depth, "depth", low=1, high=6)
    if not config.widths:
        raise ValueError("`widths` must list at least one hidden width. Got () instead.")
    for w in config.widths:
        check_int(w, "widths", low=1, high=1024)
    check_real(config.keep_fraction, "keep_fraction", low=0.0, high=1.0, low_inclusive=False)
    return config


def supermask_run(config: SupermaskRunConfig, *, callback: Callback = None) -> pd.DataFrame:
    """Strong lottery tickets: test accuracy against width when no weight is ever trained.

    For each width, edge-popup learns which ``keep_fraction`` of the frozen random edges to use
    (:class:`SupermaskLinear`); the baseline trains the weights of the same bias-free architecture, dense, with the
    same optimiser and schedule.

    Parameters
    ----------
    config : SupermaskRunConfig
        Data, depth, optimiser, seeds, ``widths`` (hidden widths ``w`` of the 64-w-w-10 nets, each in [1, 1024])
        and ``keep_fraction`` (fraction ``k`` of edges the supermask keeps in every layer, in (0, 1]).
    callback : callable, optional
        Called every epoch with ``{"progress", "step", "loss"}`` and after every trained net with the new row.
        Raising inside it cancels the run.

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
    check_supermask_config(config)
    widths = sorted(config.widths)
    data = load_data(LotteryConfig(n_train=config.n_train, seed=config.seed), resolve_device(config.device))
    seeds = [config.seed + i for i in range(config.n_seeds)]
    total = 2 * len(seeds) * len(widths)
    if callback is not None:
        callback({"progress": 0.0})
    rows = []
    for seed in seeds:
        for width in widths:
            for variant in ("supermask", "trained"):
                done = len(rows)
                if variant == "supermask":
                    gen = generator(seed, width, "supermask")
                    model = supermask_net(width, config.depth, config.keep_fraction, gen)
                else:
                    sizes = [64, *([width] * config.depth), 10]
                    model = make_mlp(sizes, bias=False, generator=generator(seed, width, "trained"))
                acc = train_cosine(model.to(data.x_train.device), data, recipe(config), generator(seed, width, "order"),
                                   callback=callback, progress=(done / total, (done + 1) / total))  # fmt: skip
                row = {"width": width, "variant": variant, "test_acc": acc, "seed": seed}
                rows.append(row)
                report_rows(callback, [row], len(rows) / total)
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class PaiSummary:
    """Numbers the page quotes from a :func:`prune_at_init` result (accuracies are means over seeds, in [0, 1])."""

    dense_acc: float  # the unpruned reference
    sparsest: float  # the smallest kept fraction
    at_sparsest: dict[str, float]  # method -> accuracy at the sparsest point, best first
    best: str  # the best method there
    collapsed: dict[str, float]  # method -> largest kept fraction at which some layer lost every weight


def pai_summary(results: pd.DataFrame) -> PaiSummary:
    """Numbers the page quotes from a :func:`prune_at_init` result (accuracies are means over seeds, in [0, 1]).

    Returns
    -------
    PaiSummary
        ``collapsed`` lists only the methods where some layer lost every weight.

    Warns
    -----
    UserWarning
        When the dense net is below 90% test accuracy (too few epochs).
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
    return PaiSummary(
        dense_acc=dense,
        sparsest=sparsest,
        at_sparsest={str(k): float(v) for k, v in at.items()},
        best=str(at.idxmax()),
        collapsed={str(k): float(v) for k, v in empty.items()},
    )


@dataclass(frozen=True)
class SupermaskSummary:
    """Numbers the page quotes from a :func:`supermask_run` result (means over seeds, accuracies in [0, 1])."""

    acc: dict[str, dict[int, float]]  # variant -> {width: accuracy}
    widest: int
    narrowest: int
    match_width: int | None  # smallest width from which the supermask stays within `gap` of training (None: never)


def supermask_summary(results: pd.DataFrame, *, gap: float = 0.02) -> SupermaskSummary:
    """Numbers the page quotes from a :func:`supermask_run` result (means over seeds, accuracies in [0, 1]).

    Returns
    -------
    SupermaskSummary
        ``match_width`` is the smallest width from which the supermask stays within ``gap`` of trained weights.
    """
    gap = check_real(gap, "gap", low=0.0, high=1.0)
    if not {"width", "variant", "test_acc"} <= set(getattr(results, "columns", [])) or results.empty:
        raise ValueError("`results` must be a supermask_run DataFrame (width, variant, test_acc).")
    acc = results.groupby(["width", "variant"])["test_acc"].mean().unstack()  # (widths, variants)
    close = (acc["supermask"] >= acc["trained"] - gap - 1e-9).to_numpy()
    sustained = np.flip(np.logical_and.accumulate(np.flip(close)))
    match = next((int(w) for w, ok in zip(acc.index, sustained, strict=True) if ok), None)
    return SupermaskSummary(
        acc={str(v): {int(w): float(a) for w, a in acc[v].items()} for v in acc.columns},
        widest=int(acc.index.max()),
        narrowest=int(acc.index.min()),
        match_width=match,
    )
