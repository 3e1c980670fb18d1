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
    Callback,
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
        Called after each (seed, width) with progress, seed, width and the output layer's act_rms at the last step.

    Returns
    -------
    DataFrame
        One row per (seed, width, step, layer): seed, width, step, layer ("hidden 1" .. "output"), act_rms, and
        delta_rms (the RMS of h_l(step) - h_l(0): how far the features moved), in units of the unit-variance
        targets.

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
    rows, done, total = [], 0, n_seeds * sum(widths)
    for k in range(n_seeds):
        X, y, _ = teacher(task, seed + k)
        for n in widths:
            sizes = (task.dim + 1, *([n] * depth), 1)
            table = scaling_table(sizes, parametrization=name, optimizer=optimizer)
            mults = table["multiplier"].tolist()
            params = [W.requires_grad_(True) for W in init_weights(sizes, parametrization=name, seed=seed + k + 1)]
            groups = [{"params": [p], "lr": lr * s} for p, s in zip(params, table["lr_scale"])]
            opt = torch.optim.Adam(groups) if optimizer == "adam" else torch.optim.SGD(groups)
            for step in range(steps + 1):
                acts = forward(params, mults, X)
                if step == 0:
                    acts0 = [a.detach().clone() for a in acts]
                rows += [
                    (seed + k, n, step, layer, rms(a.detach()), rms(a.detach() - a0))
                    for layer, a, a0 in zip(names, acts, acts0)
                ]
                if step < steps:
                    opt.zero_grad()
                    (0.5 * ((acts[-1] - y) ** 2).mean()).backward()
                    opt.step()
            done += n
            if callback is not None:
                callback({"progress": done / total, "seed": seed + k, "width": n, "act_rms": rows[-1][4]})
    df = pd.DataFrame(rows, columns=["seed", "width", "step", "layer", "act_rms", "delta_rms"])
    if not np.isfinite(df["act_rms"]).all():
        bad = sorted(df.loc[~np.isfinite(df["act_rms"]), "width"].unique().tolist())
        warnings.warn(f"Activations overflowed at width(s) {bad}; lower `lr` or the number of steps.", stacklevel=2)
    return df


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
    Table 8 under muP; a run whose loss overflows stops early. Under SP the optimal LR shrinks like 1/width (with
    either optimizer); under muP it stays put.

    Parameters
    ----------
    config : TransferConfig
        Parametrization, widths (2 .. 16384), learning rates (> 0; None: :func:`transfer_lrs`), optimizer ("sgd"
        or "adam"), steps (1 .. 10000; None: ``DEFAULT_STEPS``, 200 for GD and 40 for Adam), seed.
    callback : callable, optional
        Called every 20 steps with progress, width, lr, step and train_loss.

    Returns
    -------
    DataFrame
        One row per (width, lr): width, lr, loss (final (1/2) MSE; NaN when diverged), diverged (bool: the loss
        became non-finite or exceeded ``DIVERGED_LOSS``), best (bool: the lowest loss of that width), optimizer.

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
    total, done, rows = float(len(lrs) * sum(widths)), 0.0, []
    for n in widths:
        sizes = (task.dim + 1, n, 1)
        table = scaling_table(sizes, parametrization=name, optimizer=optimizer)
        for lr in lrs:  # one LR at a time: a batch of copies is slower on CPU (cache), and this drops diverged runs
            weights = init_weights(sizes, parametrization=name, seed=seed + 1)

            def on_step(step: int, loss: float, _params: list, n: int = n, lr: float = lr, done: float = done) -> None:
                if callback is not None and step % 20 == 0:
                    frac = (done + n * step / steps) / total
                    callback({"progress": frac, "width": n, "lr": lr, "step": step, "train_loss": loss})

            loss = fit(weights, table, X, y, lr=lr, steps=steps, on_step=on_step, optimizer=optimizer)
            diverged = not math.isfinite(loss) or loss > DIVERGED_LOSS
            rows.append((n, lr, float("nan") if diverged else loss, diverged))
            done += n
    df = pd.DataFrame(rows, columns=["width", "lr", "loss", "diverged"])
    finite = df.dropna(subset=["loss"])
    df["best"] = df.index.isin(finite.groupby("width")["loss"].idxmin())
    df["optimizer"] = optimizer
    lost = sorted(set(widths) - set(finite["width"]))
    if lost:
        warnings.warn(f"Every learning rate diverged at width(s) {lost}; add smaller values to `lrs`.", stacklevel=2)
    if callback is not None:
        callback({"progress": 1.0, "width": widths[-1], "lr": lrs[-1], "step": steps, "train_loss": float("nan")})
    return df
