"""Why rewinding works: instability to SGD noise and linear mode connectivity (Frankle et al. 2020).

Train a net for ``k`` steps, then train two copies from that point with different data orders. If the test error
along the straight line between the two end points stays flat (no *barrier*), the net is *stable* at step ``k``: the
rest of training is determined up to SGD noise. Frankle, Dziugaite, Roy & Carbin (2020) found that IMP subnetworks
reach the dense accuracy exactly when they are stable, which for small nets (LeNet on MNIST) holds from
initialisation and for large ones only after rewinding to an early step ``k > 0``. Here the same test runs on the
dense net and on its sparse subnetwork (the trained dense net's layer-wise magnitude mask applied at step ``k``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from core._validation import check_int
from core.lottery_ticket.nets import (
    evaluate_batch,
    generator,
    recipe,
    report_rows,
    stack,
    stack_masks,
    train_batch,
    unstack,
)
from core.lottery_ticket.pruning import (
    LotteryConfig,
    check_lottery_config,
    draw_params,
    keep_counts,
    load_data,
    magnitude_masks,
    remaining_fraction,
)
from core.training import Callback, resolve_device

STABILITY_VARIANTS = ("dense", "sparse")


@dataclass(frozen=True)
class InstabilityConfig(LotteryConfig):
    """Settings of the instability analysis: the lottery-ticket recipe plus the rewind steps and the path grid.

    The sparse subnetwork keeps what ``rounds`` rounds of the pruning schedule would keep, in one shot.
    """

    rewind_steps: tuple[int, ...] = (0, 5, 20, 60)  # 20 steps per epoch: init, a quarter epoch, 1 and 3 epochs
    rounds: int = 6  # one-shot to 0.6^6 = 4.7% of the hidden weights: sparse, but a ticket rewound to 0 still works
    n_alphas: int = 11  # points on the linear path, both end points included


def check_instability_config(config: InstabilityConfig) -> InstabilityConfig:
    """Validate an :class:`InstabilityConfig`; raise ``ValueError``/``TypeError`` naming the field to fix."""
    if not isinstance(config, InstabilityConfig):
        raise TypeError(f"`config` must be an InstabilityConfig. Got {type(config).__name__} instead.")
    check_lottery_config(config)
    if not config.rewind_steps:
        raise ValueError("`rewind_steps` must list at least one step. Got () instead.")
    steps = config.epochs * -(-config.n_train // config.batch_size)
    for k in config.rewind_steps:
        check_int(k, "rewind_steps", low=0, high=steps - 1)
    check_int(config.n_alphas, "n_alphas", low=3, high=101)
    return config


def barrier(errors: Sequence[float]) -> float:
    r"""Error barrier of a path: :math:`\max_\alpha e(\alpha) - \tfrac12 (e(0) + e(1))` (Frankle et al. 2020).

    ``errors`` are the errors at evenly spaced points from one end point to the other (at least two). Zero for a
    flat path; it can be negative only if the path is lower than its end points everywhere, which cannot happen
    since the end points are on it.
    """
    e = np.asarray(errors, dtype=float)
    if e.ndim != 1 or e.size < 2 or not np.isfinite(e).all():
        raise ValueError(f"`errors` must be at least two finite numbers along the path. Got {errors!r} instead.")
    return float(e.max() - 0.5 * (e[0] + e[-1]))


def path_errors(
    params_a: Sequence[torch.Tensor], params_b: Sequence[torch.Tensor], x: torch.Tensor, y: torch.Tensor, alphas
) -> np.ndarray:
    r"""Classification error of the nets :math:`(1 - \alpha) \theta_A + \alpha \theta_B` for every alpha.

    ``params_a`` and ``params_b`` are single-net parameter lists ``[W_1 (out, in), b_1 (out,), ...]`` of a ReLU
    MLP; ``x`` is ``(n, fan_in)``, ``y`` ``(n,)``. Returns an ``(n_alphas,)`` array of errors in [0, 1].
    """
    a = torch.as_tensor(np.asarray(alphas, dtype=np.float32))  # (n_alphas,)
    nets = [
        [(1 - t) * pa + t * pb for pa, pb in zip(params_a, params_b, strict=True)] for t in a.unbind()
    ]  # n_alphas nets
    _, acc = evaluate_batch(stack(nets), x, y)
    return 1.0 - acc


def instability(config: InstabilityConfig, *, callback: Callback = None) -> pd.DataFrame:
    """Test error along the linear path between two copies trained from step ``k`` with different data orders.

    For each seed: train the dense net for ``epochs`` epochs from ``theta_0`` (saving ``theta_k`` at every step of
    ``rewind_steps``) and take its layer-wise magnitude mask at the sparsity of ``rounds`` rounds of the schedule.
    Then, for every ``k``, two copies of ``theta_k`` (dense) and two of ``mask * theta_k`` (sparse) train for
    ``epochs`` epochs each, copy ``c`` with its own data order (the same two orders for every ``k``); all of them
    train as one batched model.

    Parameters
    ----------
    config : InstabilityConfig
        The lottery-ticket recipe, ``rewind_steps``, ``rounds`` (the sparsity) and ``n_alphas``.
    callback : callable, optional
        Called every epoch with ``{"progress", "step", "loss", "epoch", "test_loss"}`` and, when a seed finishes,
        with its rows. Raising inside it cancels the run.

    Returns
    -------
    DataFrame
        One row per (seed, rewind step, variant, alpha): ``rewind_step``, ``variant`` in ``("dense", "sparse")``,
        ``alpha`` in [0, 1], ``test_error`` in [0, 1], ``remaining_fraction`` (1 for dense) and ``seed``.

    References
    ----------
    Frankle, Dziugaite, Roy & Carbin, "Linear mode connectivity and the lottery ticket hypothesis", ICML 2020.
    """
    check_instability_config(config)
    data = load_data(config, resolve_device(config.device))
    ks = sorted(set(config.rewind_steps))
    alphas = np.linspace(0.0, 1.0, config.n_alphas)
    seeds = [config.seed + i for i in range(config.n_seeds)]
    counts = keep_counts(config.sizes, prune_hidden=config.prune_hidden, prune_output=config.prune_output,
                         rounds=config.rounds)  # fmt: skip
    sparse_fraction = remaining_fraction(config)
    if callback is not None:
        callback({"progress": 0.0})
    rows: list[dict] = []
    share = 1 / (1 + 4 * len(ks))  # of a seed's work: the dense run is 1 net, the copies 4 per step
    for i, seed in enumerate(seeds):
        lo, mid, hi = i / len(seeds), (i + share) / len(seeds), (i + 1) / len(seeds)
        theta0 = draw_params(config.sizes, generator(seed, "init"))
        ones = [torch.ones_like(w) for w in theta0[0::2]]
        dense = train_batch(stack([theta0]), stack_masks([ones]), data, recipe(config), [generator(seed, 0, "order")],
                            [0], save_steps=ks, callback=callback, progress=(lo, mid))  # fmt: skip
        mask = magnitude_masks(unstack(dense.params, 0)[0::2], ones, counts)
        nets, masks, owner = [], [], []
        for k in ks:
            theta_k = unstack(dense.snapshots[k], 0)
            sparse = [p * mask[j // 2] if j % 2 == 0 else p for j, p in enumerate(theta_k)]
            for start, mk in ((theta_k, ones), (sparse, mask)):
                for c in (0, 1):
                    nets.append(start)
                    masks.append(mk)
                    owner.append(c)
        copies = train_batch(stack(nets), stack_masks(masks), data, recipe(config),
                             [generator(seed, "copy", 0), generator(seed, "copy", 1)], owner,
                             callback=callback, progress=(mid, hi))  # fmt: skip
        new = []
        for j, k in enumerate(ks):
            for v, variant in enumerate(STABILITY_VARIANTS):
                a, b = (unstack(copies.params, 4 * j + 2 * v + c) for c in (0, 1))
                errors = path_errors(a, b, data.x_test, data.y_test, alphas)
                frac = 1.0 if variant == "dense" else sparse_fraction
                new += [
                    {"rewind_step": k, "variant": variant, "alpha": float(t), "test_error": float(e),
                     "remaining_fraction": frac, "seed": seed}
                    for t, e in zip(alphas, errors, strict=True)
                ]  # fmt: skip
        rows += new
        report_rows(callback, new, hi)
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class InstabilitySummary:
    """Barriers and end-point accuracies per (variant, rewind step), means over seeds."""

    barriers: pd.DataFrame  # columns: variant, rewind_step, barrier (mean), barrier_max, end_acc (mean)
    sparse_fraction: float  # the sparse subnetwork's remaining fraction of weights
    stable_from: dict[str, int | None]  # variant -> first rewind step from which the mean barrier stays <= `tol`
    tol: float  # the barrier counted as "stable" (Frankle et al. use 2 points)


def instability_summary(results: pd.DataFrame, *, tol: float = 0.02) -> InstabilitySummary:
    """The barrier of every (seed, variant, rewind step) path, averaged over seeds.

    Parameters
    ----------
    results : DataFrame
        The output of :func:`instability`.
    tol : float
        Barrier (in error, in [0, 1]) below which a net counts as stable; 0.02 is Frankle et al.'s 2%.
    """
    if not {"rewind_step", "variant", "alpha", "test_error", "seed"} <= set(getattr(results, "columns", [])):
        raise ValueError("`results` must be an instability DataFrame (rewind_step, variant, alpha, test_error, seed).")
    paths = results.sort_values("alpha").groupby(["variant", "rewind_step", "seed"])["test_error"]
    per = paths.agg(barrier=barrier, end_acc=lambda e: 1.0 - 0.5 * (e.iloc[0] + e.iloc[-1])).reset_index()
    agg = per.groupby(["variant", "rewind_step"], as_index=False).agg(
        barrier=("barrier", "mean"), barrier_max=("barrier", "max"), end_acc=("end_acc", "mean")
    )
    stable: dict[str, int | None] = {}
    for variant, g in agg.groupby("variant"):
        ok = (g.sort_values("rewind_step")["barrier"] <= tol + 1e-12).to_numpy()
        sustained = np.flip(np.logical_and.accumulate(np.flip(ok)))
        steps = g.sort_values("rewind_step")["rewind_step"].to_numpy()
        stable[str(variant)] = next((int(s) for s, good in zip(steps, sustained, strict=True) if good), None)
    sparse = results.loc[results["variant"] == "sparse", "remaining_fraction"]
    return InstabilitySummary(
        barriers=agg, sparse_fraction=float(sparse.iloc[0]) if len(sparse) else 1.0, stable_from=stable, tol=tol
    )
