"""Feature learning theory: lazy (NTK) versus rich (muP) training of wide MLPs.

Three parametrizations of a bias-free ReLU MLP ``f(x) = m_L W_L phi(... phi(m_1 W_1 x))`` (biases enter as a
constant-1 input coordinate, which puts them in the "input weights & all biases" column of the table):

======  ===============================  ==============================  ====================================
name    input weights (fan_in = d)       hidden weights (n x n)          output weights (fan_in = n)
======  ===============================  ==============================  ====================================
sp      var 1/d, mult 1, LR 1            var 1/n, mult 1, LR 1           var 1/n, mult 1, LR 1
ntk     var 1, mult 1/sqrt(d), LR 1      var 1, mult 1/sqrt(n), LR 1     var 1, mult 1/sqrt(n), LR 1
mup     var 1/d, mult 1,                 var 1/n, mult 1,                var 1, mult 1/n,
        LR SGD n (fan_out), Adam 1       LR SGD 1, Adam 1/n              LR SGD n (fan_in), Adam 1
======  ===============================  ==============================  ====================================

muP is the Table 8 form of Tensor Programs V (Yang, Hu et al. 2022), with the factors taken literally (no base
width); "LR" is the per-tensor factor multiplying the global learning rate ``lr``. Under NTK scaling the weights
and the tangent kernel freeze as the width grows (lazy training: the network is its linearisation); under muP
every layer's features move by order one at any width (rich training), and the best ``lr`` transfers across widths.

References: Jacot, Gabriel, Hongler (2018) Neural Tangent Kernel; Chizat, Oyallon, Bach (2019) On lazy training;
Yang & Hu (2021) Feature learning in infinite-width networks (Tensor Programs IV); Yang et al. (2022) Tensor
Programs V, Table 8; microsoft/mup (coord check).
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
    DTYPE,
    PARAMETRIZATIONS,
    Callback,
    TaskConfig,
    check_widths,
    fit,
    forward,
    init_weights,
    loglog_slopes,
    ntk,
    scaling_table,
    teacher,
)
from core._validation import check_choice, check_int, check_positive
from core.mup import CoordCheckConfig, TransferConfig, coord_check, coord_slopes, lr_transfer

__all__ = [
    "PARAMETRIZATIONS",
    "CoordCheckConfig",
    "FunctionViewConfig",
    "LazyRichConfig",
    "TaskConfig",
    "TransferConfig",
    "coord_check",
    "coord_slopes",
    "function_space_view",
    "init_weights",
    "lazy_vs_rich",
    "lr_transfer",
    "scaling_table",
    "width_slopes",
]


@dataclass(frozen=True)
class LazyRichConfig:
    """Defaults of :func:`lazy_vs_rich`."""

    widths: tuple[int, ...] = (64, 256, 1024)  # three octave pairs show the slope; 4096 adds ~3 s
    steps: int = 200  # long enough for muP features to move by O(1), short enough for ~5 s per parametrization
    lr_ntk: float = 1.0  # NTK scaling trains stably at step 1 at every width (the kernel is O(1))
    lr_mup: float = 0.5  # muP (Table 8, SGD): O(1) feature change without divergence at any width
    lr_sp: float = 2.0**-10  # SP's stable step shrinks like 1/width; 2^-10 still trains width 4096


def _default_lr(parametrization: str, cfg: LazyRichConfig) -> float:
    return {"sp": cfg.lr_sp, "ntk": cfg.lr_ntk, "mup": cfg.lr_mup}[parametrization]


def lazy_vs_rich(
    *,
    widths: Sequence[int],
    parametrization: str,
    steps: int,
    lr: float | None = None,
    seed: int = 0,
    callback: Callback = None,
) -> pd.DataFrame:
    r"""Train a 2-layer ReLU MLP at several widths and measure how far its features and its kernel move.

    .. math::
        \Delta_W = \frac{\lVert W_1(T) - W_1(0) \rVert_F}{\lVert W_1(0) \rVert_F}, \qquad
        \Delta_K = \frac{\lVert K(T) - K(0) \rVert_F}{\lVert K(0) \rVert_F}, \qquad
        K = \sum_l s_l J_l J_l^\top

    ``W_1`` (n, d + 1) maps the input to the hidden layer (the features); ``K`` is the empirical tangent kernel on
    32 probe points, each layer's Jacobian ``J_l`` weighted by its LR factor ``s_l`` (the kernel full-batch GD
    follows in function space). Task (SCIENCE.md): x ~ N(0, I_10) plus a constant 1, target tanh(2 z1) + z1 z2
    on random orthonormal projections, standardised; 256 points, full-batch GD on (1/2) mean squared error, with
    the per-layer LR factors of the SGD column of Table 8 (muP: input and output LR x n).
    Lazy (NTK): Delta_W ~ n^-1/2, Delta_K ~ n^-1. Rich (muP): both O(1) at every width.

    Parameters
    ----------
    widths : sequence of int
        Hidden widths n (2 .. 16384), e.g. ``(64, 256, 1024)``.
    parametrization : {"sp", "ntk", "mup"}
        See :func:`scaling_table`.
    steps : int
        GD steps (1 .. 10000).
    lr : float, optional
        Global learning rate; ``None`` uses ``LazyRichConfig`` (NTK 1, muP 0.5, SP 2^-10).
    seed : int
        Seed of data and init.
    callback : callable, optional
        Called every 10 steps with progress, width, step, train_loss and rel_weight_change.

    Returns
    -------
    DataFrame
        One row per width: width, parametrization, rel_weight_change, kernel_change (both dimensionless),
        train_loss (final, (1/2) MSE on standardised targets), diverged (bool; its changes are NaN).

    References
    ----------
    Jacot et al. (2018); Chizat, Oyallon, Bach (2019); Yang & Hu (2021); Yang et al. (2022), Table 8.
    """
    widths = check_widths(widths)
    check_choice(parametrization, "parametrization", PARAMETRIZATIONS)
    steps = check_int(steps, "steps", low=1, high=10_000)
    lr = _default_lr(parametrization, LazyRichConfig()) if lr is None else check_positive(lr, "lr")
    seed = check_int(seed, "seed", low=0)
    cfg = TaskConfig()
    X, y, probe = teacher(cfg, seed)
    total, done, rows = float(sum(widths)), 0.0, []
    for n in widths:
        sizes = (cfg.dim + 1, n, 1)
        table = scaling_table(sizes, parametrization=parametrization)
        weights = init_weights(sizes, parametrization=parametrization, seed=seed + 1)
        W0 = weights[0].clone()
        K0 = ntk(weights, table, probe)

        def on_step(
            step: int, loss: float, params: list[torch.Tensor], n: int = n, W0: torch.Tensor = W0, done: float = done
        ) -> None:
            if callback is not None and (step % 10 == 0 or step == steps):
                change = float(torch.linalg.norm(params[0].detach() - W0) / torch.linalg.norm(W0))
                frac = (done + n * step / steps) / total
                callback({"progress": frac, "width": n, "step": step, "train_loss": loss, "rel_weight_change": change})

        loss = fit(weights, table, X, y, lr=lr, steps=steps, on_step=on_step)
        diverged = not math.isfinite(loss) or loss > DIVERGED_LOSS
        dW = dK = float("nan")
        if not diverged:
            dW = float(torch.linalg.norm(weights[0] - W0) / torch.linalg.norm(W0))
            dK = float(torch.linalg.norm(ntk(weights, table, probe) - K0) / torch.linalg.norm(K0))
        rows.append((n, parametrization, dW, dK, loss if math.isfinite(loss) else float("nan"), diverged))
        done += n
    df = pd.DataFrame(
        rows, columns=["width", "parametrization", "rel_weight_change", "kernel_change", "train_loss", "diverged"]
    )
    if df["diverged"].any():
        bad = df.loc[df["diverged"], "width"].tolist()
        warnings.warn(f"Training diverged at width(s) {bad} with lr = {lr:g}; lower `lr`.", stacklevel=2)
    return df


def width_slopes(result: pd.DataFrame) -> pd.DataFrame:
    """Fitted log-log slopes d log(change) / d log(width) of the :func:`lazy_vs_rich` measures.

    About -1/2 (weights) and -1 (kernel) in the lazy NTK regime, about 0 under muP. ``result`` may concatenate
    several parametrizations. Returns one row per (parametrization, measure): slope, stderr (least squares, NaN
    with fewer than 3 widths), n_widths.
    """
    need = {"width", "parametrization", "rel_weight_change", "kernel_change"}
    if not isinstance(result, pd.DataFrame) or not need <= set(result.columns):
        raise ValueError(f"`result` must be a DataFrame from lazy_vs_rich with columns {sorted(need)}.")
    long = result.melt(["width", "parametrization"], ["rel_weight_change", "kernel_change"], var_name="measure")
    return loglog_slopes(long, ["parametrization", "measure"], "value")


@dataclass(frozen=True)
class FunctionViewConfig:
    """Defaults of :func:`function_space_view`."""

    widths: tuple[int, ...] = (32, 2048)  # narrow vs wide: 64x apart, so the NTK gap shrinks ~8x in between
    parametrizations: tuple[str, ...] = ("ntk", "mup")  # the lazy and the rich limit side by side
    steps: int = 1000  # 12 points train to a small loss; 1000 steps cost < 1 s per network
    n_train: int = 12  # few points leave room between them, where learned features and the kernel can differ
    n_grid: int = 161  # smooth curves on [-1.25, 1.25] (the data live on [-1, 1])
    lr_sp: float = 2.0**-12  # SP's stable step shrinks like 1/width: 2^-12 still trains width 8192 on this task


def _target_1d(x: np.ndarray) -> np.ndarray:
    return np.sin(3.0 * x) + 0.5 * x


def function_space_view(
    *,
    widths: Sequence[int] = FunctionViewConfig.widths,
    parametrizations: Sequence[str] = FunctionViewConfig.parametrizations,
    steps: int = FunctionViewConfig.steps,
    lr: float | None = None,
    seed: int = 0,
    callback: Callback = None,
) -> pd.DataFrame:
    r"""The function a trained 2-layer ReLU net learns on a 1-D input, beside its linearisation around init.

    .. math::
        f_{\mathrm{lin}}(x; \theta) = f(x; \theta_0) + J(x)(\theta - \theta_0), \qquad
        f^{\mathrm{lin}}_{t+1} = f^{\mathrm{lin}}_t - \tfrac{\eta}{m} K(\cdot, X)\,(f^{\mathrm{lin}}_t(X) - y)

    The linearised model trained by the same full-batch GD is kernel gradient descent with the LR-weighted
    empirical tangent kernel ``K`` at init (computed from the Jacobian, then iterated in function space). In the
    lazy regime (NTK, wide) the network and its linearisation coincide; in the rich regime (muP) they differ at
    every width. Data: 12 points x ~ U(-1, 1), input (x, 1), target sin(3x) + x/2 without noise.

    Parameters
    ----------
    widths : sequence of int
        Hidden widths (2 .. 16384), e.g. a narrow and a wide one.
    parametrizations : sequence of str
        Any of "sp", "ntk", "mup".
    steps : int
        GD steps (1 .. 20000) for the network and its linearisation.
    lr : float, optional
        Global learning rate for all; ``None``: NTK 1, muP 0.5, SP 2^-12 (stable up to width 8192).
    seed : int
        Seed of data and init.
    callback : callable, optional
        Called every 50 steps with progress, parametrization, width, step and train_loss.

    Returns
    -------
    DataFrame
        Long format: x, width, parametrization, kind ("target", "train", "network", "linearised"), y, and gap
        (the RMS distance between network and linearisation on the grid for that parametrization and width, in
        units of y).

    References
    ----------
    Jacot et al. (2018); Lee et al. (2019) Wide networks evolve as linear models; Chizat, Oyallon, Bach (2019).
    """
    widths = check_widths(widths)
    if isinstance(parametrizations, str) or not isinstance(parametrizations, Sequence) or not parametrizations:
        raise ValueError(
            f"`parametrizations` must be a non-empty list of {PARAMETRIZATIONS}. Got {parametrizations!r}."
        )
    names = tuple(dict.fromkeys(check_choice(p, "parametrizations", PARAMETRIZATIONS) for p in parametrizations))
    steps = check_int(steps, "steps", low=1, high=20_000)
    lr = None if lr is None else check_positive(lr, "lr")
    seed = check_int(seed, "seed", low=0)
    cfg = FunctionViewConfig()
    rng = np.random.default_rng(seed)
    xs = np.sort(rng.uniform(-1.0, 1.0, cfg.n_train))  # (m,)
    grid = np.linspace(-1.25, 1.25, cfg.n_grid)  # (g,)
    feats = lambda v: torch.as_tensor(np.stack([v, np.ones_like(v)], axis=1), dtype=DTYPE)  # noqa: E731  (k, 2)
    X, G = feats(xs), feats(grid)
    y = torch.as_tensor(_target_1d(xs), dtype=DTYPE)  # (m,)
    frames, done, total = [], 0, len(names) * len(widths)
    for name in names:
        eta = (cfg.lr_sp if name == "sp" else _default_lr(name, LazyRichConfig())) if lr is None else lr
        for n in widths:
            sizes = (2, n, 1)
            table = scaling_table(sizes, parametrization=name)
            weights = init_weights(sizes, parametrization=name, seed=seed + 1)
            both = torch.cat([X, G])  # (m + g, 2)
            K = ntk(weights, table, both)[:, : len(xs)]  # (m + g, m): kernel against the training points
            f_lin = forward(weights, table["multiplier"].tolist(), both)[-1].detach()  # (m + g,)
            for _ in range(steps):
                f_lin = f_lin - eta / len(xs) * K @ (f_lin[: len(xs)] - y)

            def on_step(step: int, loss: float, _p: list, n: int = n, name: str = name, done: int = done) -> None:
                if callback is not None and step % 50 == 0:
                    frac = (done + step / steps) / total
                    callback({"progress": frac, "parametrization": name, "width": n, "step": step, "train_loss": loss})

            loss = fit(weights, table, X, y, lr=eta, steps=steps, on_step=on_step)
            if not math.isfinite(loss) or loss > DIVERGED_LOSS:
                warnings.warn(f"'{name}' at width {n} diverged with lr = {eta:g}; lower `lr`.", stacklevel=2)
            with torch.no_grad():
                f_net = forward(weights, table["multiplier"].tolist(), G)[-1]  # (g,)
            lin = f_lin[len(xs) :]
            gap = float((f_net - lin).pow(2).mean().sqrt())
            for kind, xv, yv in (
                ("target", grid, _target_1d(grid)),
                ("train", xs, y.numpy()),
                ("network", grid, f_net.numpy()),
                ("linearised", grid, lin.numpy()),
            ):
                frames.append(
                    pd.DataFrame({"x": xv, "width": n, "parametrization": name, "kind": kind, "y": yv, "gap": gap})
                )
            done += 1
    df = pd.concat(frames, ignore_index=True)
    df["y"] = df["y"].astype(float)
    return df
