"""muP in practice: the coord check and learning-rate transfer across widths.

Tensor Programs V (Yang et al. 2022) turns the muP limit into a recipe: with the Table 8 scalings (see
:mod:`core.feature_learning.lazy_rich` for the table), activations keep their size as the width grows (checked by the
"coord
check" of the microsoft/mup package) and the best learning rate found on a narrow proxy is also the best on a wide
model (muTransfer), with SGD (Table 8's SGD column) and with Adam (its Adam column). Under the standard
parametrization (SP) activations blow up with width and the optimal learning rate shrinks like 1/width.

References: Yang et al. (2022) Tensor Programs V: Tuning large neural networks via zero-shot hyperparameter
transfer, Figure 1, Section 8 and Table 8; microsoft/mup ``coord_check.py``.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from core._validation import check_choice, check_int, check_positive
from core.feature_learning._param_mlp import (
    DIVERGED_LOSS,
    OPTIMIZERS,
    PARAMETRIZATIONS,
    TaskConfig,
    check_config,
    check_lrs,
    check_widths,
    fit,
    forward,
    init_weights,
    loglog_slopes,
    rms,
    scaling_table,
    seed_bands,
    teacher,
)
from core.training import Callback, Diverged, autograd_step, eval_schedule, train_loop


@dataclass(frozen=True)
class CoordCheckConfig:
    """Settings of :func:`coord_check`."""

    parametrization: str = "mup"  # "sp", "ntk" or "mup"
    widths: tuple[int, ...] = (64, 128, 256, 512, 1024)  # five octaves: SP's growth is visible, still < 1 s a seed
    steps: int = 5  # microsoft/mup's panels: init and the first few steps, where a blow-up shows at once
    optimizer: str = "adam"  # the mup README's MLP coord check uses Adam; "sgd" selects Table 8's SGD column
    lr: float = 0.1  # one LR for all: muP features move by O(1) in 5 steps, SP hidden updates grow like width * lr
    hidden_layers: int = 3  # needs true width x width hidden matrices, where SP and muP differ under Adam
    batch: int = 64  # activation RMS averaged over 64 inputs is stable to a few percent
    n_seeds: int = 3  # the band over seeds (microsoft/mup averages 5 in its README plots)
    seed: int = 0  # replicate k uses data seed seed + k and init seed seed + k + 1


LR_GRIDS = {  # (parametrization, optimizer) -> every octave of the default range; the default shows every other
    ("sp", "sgd"): tuple(2.0**k for k in range(-11, 0)),  # SCIENCE.md: SP optimum 2^-4 -> 2^-8
    ("ntk", "sgd"): tuple(2.0**k for k in range(-6, 3)),
    ("mup", "sgd"): tuple(2.0**k for k in range(-6, 3)),  # muP optimum near 2^-1
    ("sp", "adam"): tuple(2.0**k for k in range(-14, -3)),  # measured, 40 steps: optimum 2^-5/-7/-9 at 128/512/2048
    ("ntk", "adam"): tuple(2.0**k for k in range(-12, -1)),
    ("mup", "adam"): tuple(2.0**k for k in range(-10, 1)),  # measured, 40 steps: optimum 2^-1 at 128/512/2048
}


def transfer_lrs(parametrization: str, optimizer: str = "sgd", *, fine: bool = False) -> tuple[float, ...]:
    """The default learning-rate grid of :func:`lr_transfer`: every other octave, or every octave with ``fine``."""
    check_choice(parametrization, "parametrization", PARAMETRIZATIONS)
    check_choice(optimizer, "optimizer", OPTIMIZERS)
    grid = LR_GRIDS[parametrization, optimizer]
    return grid if fine else grid[1::2]


@dataclass(frozen=True)
class TransferConfig:
    """Settings of :func:`lr_transfer` (SCIENCE.md: SP optimum 2^-4 -> 2^-8, muP at 2^-1..2^-2 under SGD)."""

    parametrization: str = "mup"  # "sp", "ntk" or "mup"
    widths: tuple[int, ...] = (128, 512, 2048)  # 4x apart: the SP optimum moves by 2^-2 per step
    lrs: tuple[float, ...] | None = None  # None: transfer_lrs(parametrization, optimizer), every other octave
    optimizer: str = "sgd"  # "sgd" (full-batch GD) or "adam"; muP takes the matching column of Table 8
    steps: int | None = None  # None: DEFAULT_STEPS of the optimizer
    seed: int = 0  # data and init


DEFAULT_STEPS = {  # per optimizer
    "sgd": 200,  # the SCIENCE.md recipe
    "adam": 40,  # by 200 steps Adam fits the 256 points to ~1e-4 at every LR near the optimum, which hides it
}


def coord_check(config: CoordCheckConfig, *, callback: Callback = None) -> pd.DataFrame:
    r"""The coord check of microsoft/mup: activation size per layer over the first training steps, per width and seed.

    .. math:: \mathrm{rms}(h_l) = \sqrt{\tfrac{1}{B n_l} \textstyle\sum_{b,i} h_{l,bi}^2}

    A ReLU MLP with ``hidden_layers`` width-n hidden layers trains on the teacher task (a batch of ``batch``
    points, full-batch steps). Under a width-stable parametrization (muP) every curve is flat across widths at every
    step; under SP with one Adam LR the hidden-matrix updates act on n coordinates at once, so activations after
    step 1 grow like the width. Adam by default (as in the mup README's MLP plots); ``optimizer="sgd"`` takes Table
    8's SGD column (input and output LR x width, hidden LR x 1). Each seed draws new data and a new init.

    Parameters
    ----------
    config : CoordCheckConfig
        Parametrization, widths (2 .. 16384), steps after init (1 .. 50; step 0 is the initial network), optimizer,
        lr, hidden_layers (1 .. 6), batch (2 .. 4096), n_seeds (1 .. 10), seed.
    callback : callable, optional
        ``callback(record)`` after every step (and at init): progress, seed, width, step, loss (before that step's
        update) and act_rms (the output layer's); a network that diverges sends one record with its last loss.

    Returns
    -------
    DataFrame
        One row per (seed, width, step, layer): seed, width, step, layer ("hidden 1" .. "output"), act_rms, and
        delta_rms (the RMS of h_l(step) - h_l(0): how far the features moved), in units of the unit-variance
        targets. A network whose loss overflows (:class:`~core.training.Diverged`) has both sizes inf from that
        step on, and the run warns.

    References
    ----------
    Yang et al. (2022), Tensor Programs V, Section 8 and Table 8; microsoft/mup ``coord_check.py``.
    """
    check_config(config, CoordCheckConfig)
    name = check_choice(config.parametrization, "parametrization", PARAMETRIZATIONS)
    optimizer = check_choice(config.optimizer, "optimizer", OPTIMIZERS)
    widths = check_widths(config.widths)
    steps = check_int(config.steps, "steps", low=1, high=50)
    lr = check_positive(config.lr, "lr")
    depth = check_int(config.hidden_layers, "hidden_layers", low=1, high=6)
    batch = check_int(config.batch, "batch", low=2, high=4096)
    n_seeds = check_int(config.n_seeds, "n_seeds", low=1, high=10)
    seed = check_int(config.seed, "seed", low=0)
    task = TaskConfig(n_train=batch)
    names = [f"hidden {i + 1}" for i in range(depth)] + ["output"]
    rows, done, total, blown = [], 0, n_seeds * sum(widths), {}
    for k in range(n_seeds):
        X, y, _ = teacher(task, seed + k)
        for n in widths:
            sizes = (task.dim + 1, *([n] * depth), 1)
            table = scaling_table(sizes, parametrization=name, optimizer=optimizer)
            weights = init_weights(sizes, parametrization=name, seed=seed + k + 1)
            progress = (done / total, (done + n) / total)
            try:
                _coord_network(
                    rows,
                    weights,
                    table,
                    X,
                    y,
                    names,
                    (seed + k, n),
                    optimizer=optimizer,
                    lr=lr,
                    steps=steps,
                    callback=callback,
                    progress=progress,
                )
            except Diverged as err:
                blown.setdefault(n, err)
            done += n
    df = pd.DataFrame(rows, columns=["seed", "width", "step", "layer", "act_rms", "delta_rms"])
    if not np.isfinite(df["act_rms"]).all():
        bad = sorted(df.loc[~np.isfinite(df["act_rms"]), "width"].unique().tolist())
        how = "".join(f" Width {n} diverged at step {e.step} (loss {e.loss:.3g})." for n, e in blown.items())
        warnings.warn(
            f"Activations overflowed at width(s) {bad}; lower `lr` or the number of steps.{how}", stacklevel=2
        )
    return df


def _coord_network(
    rows: list[tuple],
    weights: list[torch.Tensor],
    table: pd.DataFrame,
    X: torch.Tensor,
    y: torch.Tensor,
    names: list[str],
    labels: tuple[int, int],
    *,
    optimizer: str,
    lr: float,
    steps: int,
    callback: Callback,
    progress: tuple[float, float],
) -> None:
    """Train one coord-check network, appending (*labels, step, layer, act_rms, delta_rms) to ``rows`` per step.

    A run that diverges gets infinite sizes from the step where its loss overflowed (it never reached the later
    steps), sends one record with that loss, and re-raises :class:`~core.training.Diverged`.
    """
    mults = table["multiplier"].tolist()
    params = [W.requires_grad_(True) for W in weights]
    groups = [{"params": [p], "lr": lr * s} for p, s in zip(params, table["lr_scale"])]
    opt = torch.optim.Adam(groups) if optimizer == "adam" else torch.optim.SGD(groups)
    with torch.no_grad():
        acts0 = forward(params, mults, X)
    record = {"seed": labels[0], "width": labels[1]}

    @torch.no_grad()
    def measure(t: int) -> dict:
        acts = forward(params, mults, X)
        rows.extend((*labels, t, layer, rms(a), rms(a - a0)) for layer, a, a0 in zip(names, acts, acts0))
        return {**record, "act_rms": rows[-1][-2]}

    def loss(_rows: torch.Tensor | None) -> torch.Tensor:
        return 0.5 * ((forward(params, mults, X)[-1] - y) ** 2).mean()

    try:
        train_loop(
            autograd_step(loss, opt),
            steps=steps,
            evaluate=measure,
            eval_steps=range(steps + 1),
            callback=callback,
            progress=progress,
        )
    except Diverged as err:
        rows.extend((*labels, t, layer, math.inf, math.inf) for t in range(err.step, steps + 1) for layer in names)
        if callback is not None:
            callback({"step": err.step, "loss": err.loss, **record, "progress": progress[1]})
        raise


def _check_coord(result: object, value: str) -> pd.DataFrame:
    check_choice(value, "value", ("act_rms", "delta_rms"))
    need = {"seed", "width", "step", "layer", value}
    if not isinstance(result, pd.DataFrame) or not need <= set(result.columns):
        raise ValueError(f"`result` must be a DataFrame from coord_check with columns {sorted(need)}.")
    return result


def coord_bands(result: pd.DataFrame, value: str = "act_rms") -> pd.DataFrame:
    """Per (step, layer, width): the geometric mean of ``value`` over seeds and its min-max band (for the panels).

    Returns columns step, layer, width, value, low, high, n_seeds; overflowed (non-finite) rows are left out.
    """
    return seed_bands(_check_coord(result, value), ["step", "layer", "width"], value)


def coord_slopes(result: pd.DataFrame, value: str = "act_rms") -> pd.DataFrame:
    """Fitted slope of log ``value`` (act_rms or delta_rms) on log width per layer at the last step of a coord check.

    The fit runs through the geometric mean over seeds at each width. About 0 for a width-stable parametrization
    (muP), positive when activations blow up with width (SP). A layer whose activations overflowed (inf or NaN) at
    some width gets slope +inf: it blew up. Returns one row per layer: layer, slope, stderr, n_widths (the finite
    widths used in the fit).
    """
    result = _check_coord(result, value)
    last = result[result["step"] == result["step"].max()]
    means = seed_bands(last, ["layer", "width"], value)
    out = loglog_slopes(means, ["layer"], "value")
    blown = last.loc[~np.isfinite(last[value]), "layer"].unique()
    out.loc[out["layer"].isin(blown), "slope"] = np.inf
    return out


def lr_transfer(config: TransferConfig, *, callback: Callback = None) -> pd.DataFrame:
    """Final train loss against the learning rate at several widths: the best LR moves with the width or not.

    For each width, one copy of the 2-layer ReLU MLP per learning rate (the same init) trains full batch on the
    teacher task of :func:`~core.feature_learning.lazy_rich.lazy_vs_rich`, by GD or by Adam, with the matching column of
    Table 8 under muP. A run whose loss overflows stops there (:class:`~core.training.Diverged`) and is recorded
    with loss inf, and the sweep warns which ones did. Under SP the optimal LR shrinks like 1/width (with either
    optimizer); under muP it stays put.

    Parameters
    ----------
    config : TransferConfig
        Parametrization, widths (2 .. 16384), learning rates (> 0; None: :func:`transfer_lrs`), optimizer ("sgd"
        or "adam"), steps (1 .. 10000; None: ``DEFAULT_STEPS``, 200 for GD and 40 for Adam), seed.
    callback : callable, optional
        ``callback(record)`` every 20 steps and at the last: progress, width, lr, step and loss (the train loss
        before that step); a run that diverges sends one record with loss inf.

    Returns
    -------
    DataFrame
        One row per (width, lr): width, lr, loss (final (1/2) MSE; inf when the run diverged: its loss became
        non-finite or exceeded ``DIVERGED_LOSS``), best (bool: the lowest finite loss of that width), optimizer.

    References
    ----------
    Yang et al. (2022), Tensor Programs V, Figure 1 and Table 8.
    """
    check_config(config, TransferConfig)
    name = check_choice(config.parametrization, "parametrization", PARAMETRIZATIONS)
    optimizer = check_choice(config.optimizer, "optimizer", OPTIMIZERS)
    widths = check_widths(config.widths)
    lrs = transfer_lrs(name, optimizer) if config.lrs is None else check_lrs(config.lrs)
    steps = DEFAULT_STEPS[optimizer] if config.steps is None else check_int(config.steps, "steps", low=1, high=10_000)
    seed = check_int(config.seed, "seed", low=0)
    task = TaskConfig()
    X, y, _ = teacher(task, seed)
    total, done, rows, diverged = float(len(lrs) * sum(widths)), 0.0, [], []
    every = eval_schedule(steps, 20)
    for n in widths:
        sizes = (task.dim + 1, n, 1)
        table = scaling_table(sizes, parametrization=name, optimizer=optimizer)
        for lr in lrs:  # one LR at a time: a batch of copies is slower on CPU (cache), and this drops diverged runs
            weights = init_weights(sizes, parametrization=name, seed=seed + 1)
            record = {"width": n, "lr": lr}
            lo, hi = done / total, (done + n) / total
            try:
                loss = fit(
                    weights,
                    table,
                    X,
                    y,
                    lr=lr,
                    steps=steps,
                    optimizer=optimizer,
                    evaluate=lambda _t, r=record: r,
                    eval_steps=every,
                    callback=callback,
                    progress=(lo, hi),
                )
            except Diverged as err:  # large learning rates are part of the sweep: record the divergence
                loss = math.inf
                diverged.append(f"width {n} at lr {lr:g} (step {err.step})")
                if callback is not None:
                    callback({"step": err.step, "loss": loss, **record, "progress": hi})
            rows.append((n, lr, loss))
            done += n
    df = pd.DataFrame(rows, columns=["width", "lr", "loss"])
    finite = df[np.isfinite(df["loss"])]
    df["best"] = df.index.isin(finite.groupby("width")["loss"].idxmin())
    df["optimizer"] = optimizer
    if diverged:
        warnings.warn(
            f"{len(diverged)} of {len(df)} runs diverged (loss above {DIVERGED_LOSS:g} or not finite) and have loss "
            f"inf: {'; '.join(diverged)}. A sweep is expected to reach unstable rates; leave them out of `lrs` to "
            "avoid this.",
            stacklevel=2,
        )
    lost = sorted(set(widths) - set(finite["width"]))
    if lost:
        warnings.warn(f"Every learning rate diverged at width(s) {lost}; add smaller values to `lrs`.", stacklevel=2)
    return df
