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

from core._validation import check_choice, check_int, check_positive
from core.feature_learning._param_mlp import (
    ACTIVATIONS,
    DTYPE,
    PARAMETRIZATIONS,
    TaskConfig,
    check_config,
    check_widths,
    fit,
    forward,
    init_weights,
    loglog_slopes,
    ntk,
    scaling_table,
    seed_bands,
    teacher,
)
from core.feature_learning.mup import CoordCheckConfig, TransferConfig, coord_check, coord_slopes, lr_transfer
from core.training import Callback, Diverged, eval_schedule, train_loop

__all__ = [
    "ACTIVATIONS",
    "DEFAULT_LR",
    "MEASURES",
    "PARAMETRIZATIONS",
    "CoordCheckConfig",
    "FunctionViewConfig",
    "LazyRichConfig",
    "TaskConfig",
    "TransferConfig",
    "change_bands",
    "coord_check",
    "coord_slopes",
    "function_space_view",
    "init_weights",
    "lazy_vs_rich",
    "lr_transfer",
    "scaling_table",
    "width_slopes",
]


MEASURES = ("rel_weight_change", "kernel_change")  # input-to-hidden weight change, tangent-kernel change
DEFAULT_LR = {"ntk": 1.0, "mup": 0.5, "sp": 2.0**-10}  # NTK: O(1) kernel; muP (SGD column): O(1) moves; SP: 1/width


@dataclass(frozen=True)
class LazyRichConfig:
    """Settings of :func:`lazy_vs_rich`, one parametrization per run."""

    parametrization: str = "ntk"  # "ntk" (lazy), "mup" (rich) or "sp"
    widths: tuple[int, ...] = (64, 256, 1024)  # three octave pairs show the slope; 4096 adds ~3 s per seed
    steps: int = 200  # long enough for muP features to move by O(1), short enough for ~1 s per seed
    lr: float | None = None  # None: DEFAULT_LR (NTK 1, muP 0.5 with Table 8's SGD factors, SP 2^-10)
    activation: str = "relu"  # "tanh" is smooth, the case the 1/width kernel rate is derived for
    n_seeds: int = 3  # a single seed's kernel slope wanders by ~0.1: three give a mean and a band
    seed: int = 0  # replicate k uses data seed seed + k and init seed seed + k + 1


def lazy_vs_rich(config: LazyRichConfig, *, callback: Callback = None) -> pd.DataFrame:
    r"""Train a 2-layer MLP at several widths and seeds and measure how far its features and its kernel move.

    .. math::
        \Delta_W = \frac{\lVert W_1(T) - W_1(0) \rVert_F}{\lVert W_1(0) \rVert_F}, \qquad
        \Delta_K = \frac{\lVert K(T) - K(0) \rVert_F}{\lVert K(0) \rVert_F}, \qquad
        K = \sum_l s_l J_l J_l^\top

    ``W_1`` (n, d + 1) is the input-to-hidden layer (the features); ``K`` is the empirical tangent kernel on
    32 probe points, each layer's Jacobian ``J_l`` weighted by its LR factor ``s_l`` (the kernel full-batch GD
    follows in function space). Task (SCIENCE.md): x ~ N(0, I_10) plus a constant 1, target tanh(2 z1) + z1 z2
    on random orthonormal projections, standardised; 256 points, full-batch GD on (1/2) mean squared error, with
    the per-layer LR factors of the SGD column of Table 8 (muP: input and output LR x n).

    What the theory covers: in the lazy (NTK) limit each weight moves by O(n^-1/2), so Delta_W ~ n^-1/2 for any
    activation. The kernel's own movement is O(1/n) for smooth activations (Dyer & Gur-Ari 2020; Huang & Yau
    2020; Lee et al. 2019 prove the weaker O(n^-1/2) bound, also for smooth activations). ReLU is not smooth:
    units whose pre-activation crosses 0 switch their derivative on or off, and the measured kernel slope
    approaches -1 only slowly (about -0.8 over widths 64-4096 on this task; tanh gives about -0.95).
    Under muP both changes are O(1) at every width.

    Parameters
    ----------
    config : LazyRichConfig
        Parametrization, widths (2 .. 16384), GD steps (1 .. 10000), lr (None: ``DEFAULT_LR``), activation
        ("relu" or "tanh"), number of seeds (1 .. 10) and the base seed.
    callback : callable, optional
        ``callback(record)`` every 10 steps and at the last: progress, seed, width, step, loss (the train loss
        before that step) and rel_weight_change; a run that diverges sends one record with loss inf.

    Returns
    -------
    DataFrame
        One row per (seed, width): seed, width, parametrization, activation, rel_weight_change, kernel_change
        (both dimensionless), train_loss (final, (1/2) MSE on standardised targets). A run that diverges
        (:class:`~core.training.Diverged`: its loss passed ``DIVERGED_LOSS`` or overflowed) has train_loss inf and
        NaN changes, and the run warns with the widths and the step.

    References
    ----------
    Jacot et al. (2018); Lee et al. (2019); Chizat, Oyallon, Bach (2019); Dyer & Gur-Ari (2020); Huang & Yau
    (2020); Yang & Hu (2021); Yang et al. (2022), Table 8.
    """
    check_config(config, LazyRichConfig)
    widths = check_widths(config.widths)
    name = check_choice(config.parametrization, "parametrization", PARAMETRIZATIONS)
    act = check_choice(config.activation, "activation", tuple(ACTIVATIONS))
    steps = check_int(config.steps, "steps", low=1, high=10_000)
    lr = DEFAULT_LR[name] if config.lr is None else check_positive(config.lr, "lr")
    n_seeds = check_int(config.n_seeds, "n_seeds", low=1, high=10)
    seed = check_int(config.seed, "seed", low=0)
    cfg = TaskConfig()
    total, done, rows = float(n_seeds * sum(widths)), 0.0, []
    diverged: dict[int, Diverged] = {}  # width -> the first divergence at that width
    every = eval_schedule(steps, 10)
    for k in range(n_seeds):
        X, y, probe = teacher(cfg, seed + k)
        for n in widths:
            sizes = (cfg.dim + 1, n, 1)
            table = scaling_table(sizes, parametrization=name)
            weights = init_weights(sizes, parametrization=name, seed=seed + k + 1)
            W0 = weights[0].clone()
            K0 = ntk(weights, table, probe, act)
            lo, hi = done / total, (done + n) / total

            def measure(_t: int, W0: torch.Tensor = W0, W: torch.Tensor = weights[0], k: int = k, n: int = n) -> dict:
                change = float(torch.linalg.norm(W.detach() - W0) / torch.linalg.norm(W0))
                return {"seed": seed + k, "width": n, "rel_weight_change": change}

            dW = dK = float("nan")
            try:
                loss = fit(
                    weights,
                    table,
                    X,
                    y,
                    lr=lr,
                    steps=steps,
                    activation=act,
                    evaluate=measure,
                    eval_steps=every,
                    callback=callback,
                    progress=(lo, hi),
                )
                dW = float(torch.linalg.norm(weights[0] - W0) / torch.linalg.norm(W0))
                dK = float(torch.linalg.norm(ntk(weights, table, probe, act) - K0) / torch.linalg.norm(K0))
            except Diverged as err:
                loss = math.inf
                diverged.setdefault(n, err)
                if callback is not None:
                    callback({"step": err.step, "loss": math.inf, "seed": seed + k, "width": n, "progress": hi})
            rows.append((seed + k, n, name, act, dW, dK, loss))
            done += n
    if diverged:
        first = diverged[min(diverged)]
        warnings.warn(
            f"Training diverged at width(s) {sorted(diverged)} with lr = {lr:g}: lower `lr`. Width {min(diverged)} "
            f"diverged at step {first.step} (loss {first.loss:.3g}); such runs have train_loss inf and NaN changes.",
            stacklevel=2,
        )
    return pd.DataFrame(rows, columns=["seed", "width", "parametrization", "activation", *MEASURES, "train_loss"])


def _check_sweep(result: object) -> pd.DataFrame:
    need = {"seed", "width", "parametrization", *MEASURES}
    if not isinstance(result, pd.DataFrame) or not need <= set(result.columns):
        raise ValueError(f"`result` must be a DataFrame from lazy_vs_rich with columns {sorted(need)}.")
    return result.melt(["seed", "width", "parametrization"], list(MEASURES), var_name="measure")


def width_slopes(result: pd.DataFrame) -> pd.DataFrame:
    r"""Fitted log-log slopes d log(change) / d log(width) of the :func:`lazy_vs_rich` measures, over seeds.

    For each seed a least-squares line of log(change) on log(width); ``slope`` is their mean (equal to the slope
    of the per-width mean of log(change) when every seed has the same widths) and ``slope_sd`` their standard
    deviation across seeds (ddof = 1; NaN for one seed). About -1/2 (weights) in the lazy NTK regime, -1 for the
    kernel with a smooth activation (shallower for ReLU, see :func:`lazy_vs_rich`), about 0 under muP.

    Returns
    -------
    DataFrame
        One row per (parametrization, measure): slope, slope_sd, n_seeds, n_widths (finite widths per seed, least).
    """
    long = _check_sweep(result)
    per_seed = loglog_slopes(long, ["parametrization", "measure", "seed"], "value")
    per_seed = per_seed.dropna(subset=["slope"])
    out = per_seed.groupby(["parametrization", "measure"], sort=False).agg(
        slope=("slope", "mean"), slope_sd=("slope", "std"), n_seeds=("slope", "size"), n_widths=("n_widths", "min")
    )
    return out.reset_index()


def change_bands(result: pd.DataFrame) -> pd.DataFrame:
    """Per (parametrization, measure, width): the geometric mean of the change over seeds and its min-max band.

    The geometric mean is the natural centre on the log axes where the changes are drawn. Diverged runs (NaN)
    are left out. Returns columns parametrization, measure, width, value (geometric mean), low, high, n_seeds.
    """
    return seed_bands(_check_sweep(result), ["parametrization", "measure", "width"], "value")


@dataclass(frozen=True)
class FunctionViewConfig:
    """Settings of :func:`function_space_view`."""

    widths: tuple[int, ...] = (32, 2048)  # narrow vs wide: 64x apart, so the NTK gap shrinks ~8x in between
    parametrizations: tuple[str, ...] = ("ntk", "mup")  # the lazy and the rich limit side by side
    steps: int = 1000  # 12 points train to a small loss; 1000 steps cost < 1 s per network
    lr: float | None = None  # None: NTK 1, muP 0.5, SP 2^-12 (SP's stable step shrinks like 1/width)
    seed: int = 0  # data and init
    n_train: int = 12  # few points leave room between them, where learned features and the kernel can differ
    n_grid: int = 161  # smooth curves on [-1.25, 1.25] (the data live on [-1, 1])


SP_FUNCTION_LR = 2.0**-12  # SP's stable step on the 1-D task: still trains width 8192


def _target_1d(x: np.ndarray) -> np.ndarray:
    return np.sin(3.0 * x) + 0.5 * x


def _kernel_gd(f: torch.Tensor, K: torch.Tensor, y: torch.Tensor, *, lr: float, steps: int) -> torch.Tensor:
    """The linearised network trained by full-batch GD: ``f <- f - lr/m K (f[:m] - y)`` on (train + grid) points."""
    m = len(y)

    def step(_t: int, _rows: torch.Tensor | None) -> float:
        nonlocal f
        residual = f[:m] - y  # (m,)
        f = f - lr / m * K @ residual
        return 0.5 * float(residual.pow(2).mean())

    train_loop(step, steps=steps)
    return f


def function_space_view(config: FunctionViewConfig, *, callback: Callback = None) -> pd.DataFrame:
    r"""The function a trained 2-layer ReLU net learns on a 1-D input, beside its linearisation around init.

    .. math::
        f_{\mathrm{lin}}(x; \theta) = f(x; \theta_0) + J(x)(\theta - \theta_0), \qquad
        f^{\mathrm{lin}}_{t+1} = f^{\mathrm{lin}}_t - \tfrac{\eta}{m} K(\cdot, X)\,(f^{\mathrm{lin}}_t(X) - y)

    The linearised model trained by the same full-batch GD is kernel gradient descent with the LR-weighted
    empirical tangent kernel ``K`` at init (computed from the Jacobian, then iterated in function space). In the
    lazy regime (NTK, wide) the network and its linearisation coincide; in the rich regime (muP) they differ at
    every width. Data: ``n_train`` points x ~ U(-1, 1), input (x, 1), target sin(3x) + x/2 without noise.

    Parameters
    ----------
    config : FunctionViewConfig
        Widths (2 .. 16384), parametrizations (any of "sp", "ntk", "mup"), GD steps (1 .. 20000) for the network
        and its linearisation, lr (None: NTK 1, muP 0.5, SP 2^-12), seed.
    callback : callable, optional
        ``callback(record)`` every 50 steps and at the last: progress, parametrization, width, step and loss (the
        network's train loss before that step).

    Returns
    -------
    DataFrame
        Long format: x, width, parametrization, kind ("target", "train", "network", "linearised"), y, and gap
        (the RMS distance between network and linearisation on the grid for that parametrization and width, in
        units of y). A network that diverges warns, and its "network" and "linearised" y and its gap are NaN.

    References
    ----------
    Jacot et al. (2018); Lee et al. (2019) Wide networks evolve as linear models; Chizat, Oyallon, Bach (2019).
    """
    check_config(config, FunctionViewConfig)
    widths, parametrizations = check_widths(config.widths), config.parametrizations
    if isinstance(parametrizations, str) or not isinstance(parametrizations, Sequence) or not parametrizations:
        raise ValueError(
            f"`parametrizations` must be a non-empty list of {PARAMETRIZATIONS}. Got {parametrizations!r}."
        )
    names = tuple(dict.fromkeys(check_choice(p, "parametrizations", PARAMETRIZATIONS) for p in parametrizations))
    steps = check_int(config.steps, "steps", low=1, high=20_000)
    lr = None if config.lr is None else check_positive(config.lr, "lr")
    seed = check_int(config.seed, "seed", low=0)
    rng = np.random.default_rng(seed)
    xs = np.sort(rng.uniform(-1.0, 1.0, check_int(config.n_train, "n_train", low=2, high=1000)))  # (m,)
    grid = np.linspace(-1.25, 1.25, check_int(config.n_grid, "n_grid", low=2, high=10_000))  # (g,)
    feats = lambda v: torch.as_tensor(np.stack([v, np.ones_like(v)], axis=1), dtype=DTYPE)  # noqa: E731  (k, 2)
    X, G = feats(xs), feats(grid)
    y = torch.as_tensor(_target_1d(xs), dtype=DTYPE)  # (m,)
    frames, done, total = [], 0, len(names) * len(widths)
    for name in names:
        eta = (SP_FUNCTION_LR if name == "sp" else DEFAULT_LR[name]) if lr is None else lr
        for n in widths:
            sizes = (2, n, 1)
            table = scaling_table(sizes, parametrization=name)
            weights = init_weights(sizes, parametrization=name, seed=seed + 1)
            both = torch.cat([X, G])  # (m + g, 2)
            K = ntk(weights, table, both)[:, : len(xs)]  # (m + g, m): kernel against the training points
            f_lin = forward(weights, table["multiplier"].tolist(), both)[-1].detach()  # (m + g,)
            lo, hi = done / total, (done + 1) / total

            def measure(_t: int, n: int = n, name: str = name) -> dict:
                return {"parametrization": name, "width": n}

            try:
                f_lin = _kernel_gd(f_lin, K, y, lr=eta, steps=steps)
                fit(
                    weights,
                    table,
                    X,
                    y,
                    lr=eta,
                    steps=steps,
                    evaluate=measure,
                    eval_steps=eval_schedule(steps, 50),
                    callback=callback,
                    progress=(lo, hi),
                )
                with torch.no_grad():
                    f_net = forward(weights, table["multiplier"].tolist(), G)[-1]  # (g,)
            except Diverged as err:
                warnings.warn(f"'{name}' at width {n}: {err} Its curves are left out.", stacklevel=2)
                f_net, f_lin = torch.full((len(grid),), math.nan), torch.full_like(f_lin, math.nan)
                if callback is not None:
                    callback({"step": err.step, "loss": math.inf, **measure(err.step), "progress": hi})
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
