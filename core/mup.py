"""muP in practice: the coord check and learning-rate transfer across widths.

Tensor Programs V (Yang et al. 2022) turns the muP limit into a recipe: with the Table 8 scalings (see
:mod:`core.feature_learning` for the table), activations keep their size as the width grows (checked by the "coord
check" of the microsoft/mup package) and the best learning rate found on a narrow proxy is also the best on a wide
model (muTransfer). Under the standard parametrization (SP) activations blow up with width and the optimal
learning rate shrinks like 1/width.

References: Yang et al. (2022) Tensor Programs V: Tuning large neural networks via zero-shot hyperparameter
transfer, Figure 1, Section 8 and Table 8; microsoft/mup ``coord_check.py``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from core._param_mlp import (
    DIVERGED_LOSS,
    OPTIMIZERS,
    PARAMETRIZATIONS,
    Callback,
    TaskConfig,
    check_lrs,
    check_widths,
    fit,
    forward,
    init_weights,
    loglog_slopes,
    rms,
    scaling_table,
    teacher,
)
from core._validation import check_choice, check_int, check_positive


@dataclass(frozen=True)
class CoordCheckConfig:
    """Defaults of :func:`coord_check`."""

    widths: tuple[int, ...] = (64, 128, 256, 512, 1024)  # five octaves: SP's growth is visible, still < 1 s
    steps: int = 4  # the mup package checks the first few steps: blow-up shows up at once
    hidden_layers: int = 3  # needs true width x width hidden matrices, where SP and muP differ under Adam
    lr: float = 0.1  # one Adam LR for all: muP features move by O(1) in 4 steps, SP hidden updates grow like width * lr
    batch: int = 64  # activation RMS averaged over 64 inputs is stable to a few percent


@dataclass(frozen=True)
class TransferConfig:
    """Defaults of :func:`lr_transfer` (SCIENCE.md: SP optimum 2^-4 -> 2^-8, muP at 2^-1..2^-2)."""

    widths: tuple[int, ...] = (128, 512, 2048)  # 4x apart: the SP optimum moves by 2^-2 per step, 2048 costs ~3 s
    lrs_sp: tuple[float, ...] = tuple(2.0**k for k in range(-10, -1, 2))  # every other octave brackets 2^-4..2^-8
    lrs_mup: tuple[float, ...] = tuple(2.0**k for k in range(-5, 2, 2))  # brackets the muP optimum near 2^-1
    fine_sp: tuple[float, ...] = tuple(2.0**k for k in range(-11, 0))  # every octave: twice the cost
    fine_mup: tuple[float, ...] = tuple(2.0**k for k in range(-6, 3))  # every octave, 2^-6 .. 2^2
    steps: int = 200  # the SCIENCE.md recipe

    def lrs(self, parametrization: str, *, fine: bool = False) -> tuple[float, ...]:
        """The LR grid of a parametrization: every other octave by default, every octave with ``fine``."""
        if parametrization == "sp":
            return self.fine_sp if fine else self.lrs_sp
        return self.fine_mup if fine else self.lrs_mup


def coord_check(
    *,
    parametrization: str,
    widths: Sequence[int],
    steps: int,
    seed: int = 0,
    optimizer: str = "adam",
    lr: float | None = None,
    hidden_layers: int | None = None,
    callback: Callback = None,
) -> pd.DataFrame:
    r"""The coord check of microsoft/mup: activation size per layer over the first training steps, per width.

    .. math:: \mathrm{rms}(h_l) = \sqrt{\tfrac{1}{B n_l} \textstyle\sum_{b,i} h_{l,bi}^2}

    A ReLU MLP with ``hidden_layers`` width-n hidden layers trains on the teacher task (batch of 64, full-batch
    steps). Under a width-stable parametrization (muP) every curve is flat across widths at every step; under SP
    with one Adam LR the hidden-matrix updates act on n coordinates at once, so activations after step 1 grow
    like the width. Adam by default (as in the mup package's Transformer example); its MLP example uses SGD, which is
    ``optimizer="sgd"`` here with Table 8's SGD column (input and output LR x width, hidden LR x 1).

    Parameters
    ----------
    parametrization : {"sp", "ntk", "mup"}
        See :func:`scaling_table`. NTK is an SGD parametrization; with Adam it is not width-stable either.
    widths : sequence of int
        Hidden widths (2 .. 16384).
    steps : int
        Optimizer steps after init (1 .. 50); step 0 is the initial network.
    seed : int
        Seed of data and init.
    optimizer : {"adam", "sgd"}
        Optimizer, and the LR column of Table 8 it selects.
    lr : float, optional
        Global learning rate; ``None`` uses ``CoordCheckConfig.lr`` (0.1).
    hidden_layers : int, optional
        Number of width-n hidden layers (1 .. 6); ``None`` uses 3.
    callback : callable, optional
        Called after each width with progress, width and the output layer's act_rms at the last step.

    Returns
    -------
    DataFrame
        One row per (width, step, layer): width, step, layer ("hidden 1" .. "output"), act_rms, and delta_rms
        (the RMS of h_l(step) - h_l(0): how far the features moved), in units of the unit-variance targets.

    References
    ----------
    Yang et al. (2022), Tensor Programs V, Section 8 and Table 8; microsoft/mup ``coord_check.py``.
    """
    check_choice(parametrization, "parametrization", PARAMETRIZATIONS)
    check_choice(optimizer, "optimizer", OPTIMIZERS)
    widths = check_widths(widths)
    steps = check_int(steps, "steps", low=1, high=50)
    seed = check_int(seed, "seed", low=0)
    cfg = CoordCheckConfig()
    lr = cfg.lr if lr is None else check_positive(lr, "lr")
    depth = cfg.hidden_layers if hidden_layers is None else check_int(hidden_layers, "hidden_layers", low=1, high=6)
    task = TaskConfig(n_train=cfg.batch)
    X, y, _ = teacher(task, seed)
    names = [f"hidden {i + 1}" for i in range(depth)] + ["output"]
    rows, done, total = [], 0, sum(widths)
    for n in widths:
        sizes = (task.dim + 1, *([n] * depth), 1)
        table = scaling_table(sizes, parametrization=parametrization, optimizer=optimizer)
        mults = table["multiplier"].tolist()
        params = [W.requires_grad_(True) for W in init_weights(sizes, parametrization=parametrization, seed=seed + 1)]
        groups = [{"params": [p], "lr": lr * s} for p, s in zip(params, table["lr_scale"])]
        opt = torch.optim.Adam(groups) if optimizer == "adam" else torch.optim.SGD(groups)
        for step in range(steps + 1):
            acts = forward(params, mults, X)
            if step == 0:
                acts0 = [a.detach().clone() for a in acts]
            rows += [(n, step, name, rms(a.detach()), rms(a.detach() - a0)) for name, a, a0 in zip(names, acts, acts0)]
            if step < steps:
                opt.zero_grad()
                (0.5 * ((acts[-1] - y) ** 2).mean()).backward()
                opt.step()
        done += n
        if callback is not None:
            callback({"progress": done / total, "width": n, "act_rms": rows[-1][3]})
    df = pd.DataFrame(rows, columns=["width", "step", "layer", "act_rms", "delta_rms"])
    if not np.isfinite(df["act_rms"]).all():
        bad = sorted(df.loc[~np.isfinite(df["act_rms"]), "width"].unique().tolist())
        warnings.warn(f"Activations overflowed at width(s) {bad}; lower `lr` or the number of steps.", stacklevel=2)
    return df


def coord_slopes(result: pd.DataFrame, value: str = "act_rms") -> pd.DataFrame:
    """Fitted slope of log ``value`` (act_rms or delta_rms) on log width per layer at the last step of a coord check.

    About 0 for a width-stable parametrization (muP), positive when activations blow up with width (SP). A layer
    whose activations overflowed (inf or NaN) at some width gets slope +inf: it blew up. Returns one row per
    layer: layer, slope, stderr, n_widths (the finite widths used in the fit).
    """
    check_choice(value, "value", ("act_rms", "delta_rms"))
    need = {"width", "step", "layer", value}
    if not isinstance(result, pd.DataFrame) or not need <= set(result.columns):
        raise ValueError(f"`result` must be a DataFrame from coord_check with columns {sorted(need)}.")
    last = result[result["step"] == result["step"].max()]
    out = loglog_slopes(last, ["layer"], value)
    blown = last.loc[~np.isfinite(last[value]), "layer"].unique()
    out.loc[out["layer"].isin(blown), "slope"] = np.inf
    return out


def lr_transfer(
    *,
    parametrization: str,
    widths: Sequence[int],
    lrs: Sequence[float],
    steps: int,
    seed: int = 0,
    callback: Callback = None,
) -> pd.DataFrame:
    """Final train loss against the learning rate at several widths: the best LR moves with the width or not.

    For each width, one copy of the 2-layer ReLU MLP per learning rate (the same init) trains by full-batch GD
    on the teacher task of :func:`lazy_vs_rich`; a run whose loss overflows stops early. Under SP the
    optimal LR shrinks like 1/width; under muP (Table 8, SGD column) it stays put.

    Parameters
    ----------
    parametrization : {"sp", "ntk", "mup"}
        See :func:`scaling_table`.
    widths : sequence of int
        Hidden widths (2 .. 16384).
    lrs : sequence of float
        Global learning rates (> 0), typically powers of 2.
    steps : int
        GD steps (1 .. 10000).
    seed : int
        Seed of data and init.
    callback : callable, optional
        Called every 20 steps with progress, width, lr, step and train_loss.

    Returns
    -------
    DataFrame
        One row per (width, lr): width, lr, loss (final (1/2) MSE; NaN when diverged), diverged (bool: the loss
        became non-finite or exceeded ``DIVERGED_LOSS``), best (bool: the lowest loss of that width).

    References
    ----------
    Yang et al. (2022), Tensor Programs V, Figure 1 and Table 8.
    """
    check_choice(parametrization, "parametrization", PARAMETRIZATIONS)
    widths = check_widths(widths)
    lrs = check_lrs(lrs)
    steps = check_int(steps, "steps", low=1, high=10_000)
    seed = check_int(seed, "seed", low=0)
    task = TaskConfig()
    X, y, _ = teacher(task, seed)
    total, done, rows = float(len(lrs) * sum(widths)), 0.0, []
    for n in widths:
        sizes = (task.dim + 1, n, 1)
        table = scaling_table(sizes, parametrization=parametrization)
        for lr in lrs:  # one LR at a time: a batch of copies is slower on CPU (cache), and this drops diverged runs
            weights = init_weights(sizes, parametrization=parametrization, seed=seed + 1)

            def on_step(step: int, loss: float, _params: list, n: int = n, lr: float = lr, done: float = done) -> None:
                if callback is not None and step % 20 == 0:
                    frac = (done + n * step / steps) / total
                    callback({"progress": frac, "width": n, "lr": lr, "step": step, "train_loss": loss})

            loss = fit(weights, table, X, y, lr=lr, steps=steps, on_step=on_step)
            diverged = not math.isfinite(loss) or loss > DIVERGED_LOSS
            rows.append((n, lr, float("nan") if diverged else loss, diverged))
            done += n
    df = pd.DataFrame(rows, columns=["width", "lr", "loss", "diverged"])
    finite = df.dropna(subset=["loss"])
    df["best"] = df.index.isin(finite.groupby("width")["loss"].idxmin())
    lost = sorted(set(widths) - set(finite["width"]))
    if lost:
        warnings.warn(f"Every learning rate diverged at width(s) {lost}; add smaller values to `lrs`.", stacklevel=2)
    if callback is not None:
        callback({"progress": 1.0, "width": widths[-1], "lr": lrs[-1], "step": steps, "train_loss": float("nan")})
    return df
