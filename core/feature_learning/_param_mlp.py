"""Parametrized bias-free ReLU MLPs (SP, NTK, muP): init, forward, full-batch GD and the empirical NTK.

The machinery shared by :mod:`core.feature_learning.lazy_rich` (which shows the table of the three parametrizations) and
:mod:`core.feature_learning.mup`. ``scaling_table`` and ``init_weights`` are public (re-exported by
``core.feature_learning.lazy_rich``) and
validate their arguments; the other helpers trust their callers, which validate at the public boundary.

Reference: Yang et al. (2022) Tensor Programs V, Table 8; Jacot, Gabriel, Hongler (2018) Neural Tangent Kernel.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import pandas as pd
import torch
from scipy.stats import linregress

from core._validation import check_choice, check_int, check_positive
from core.training import Callback, Diverged, train_loop

PARAMETRIZATIONS = ("sp", "ntk", "mup")
OPTIMIZERS = ("sgd", "adam")
ACTIVATIONS = {"relu": torch.relu, "tanh": torch.tanh}  # ReLU: kinked (the default); tanh: smooth
DIVERGED_LOSS = 1e3  # a train loss above this (targets have unit variance) counts as diverged
DTYPE = torch.float32  # float32 keeps a 0.005 kernel change 3 digits above round-off, at twice float64 speed


@dataclass(frozen=True)
class TaskConfig:
    """The teacher task of the lazy/rich and LR-transfer experiments (SCIENCE.md recipe)."""

    dim: int = 10  # x ~ N(0, I_10): big enough that the target needs learned directions, small enough to be fast
    n_train: int = 256  # full-batch GD on 256 points costs ~1 ms per step even at width 4096
    n_probe: int = 32  # the empirical NTK is a 32 x 32 matrix: a cheap Jacobian at every width


def check_config(config: object, kind: type) -> None:
    """Raise ``TypeError`` unless ``config`` is a ``kind`` (the frozen dataclass a run takes)."""
    if not isinstance(config, kind):
        raise TypeError(f"`config` must be a {kind.__name__}. Got {type(config).__name__} instead.")


def check_widths(widths: object, name: str = "widths", *, min_len: int = 1) -> tuple[int, ...]:
    """Distinct hidden widths in 2 .. 16384, sorted."""
    if not isinstance(widths, Sequence) or isinstance(widths, str) or len(widths) < min_len:
        raise ValueError(f"`{name}` must be a list of at least {min_len} integer(s) >= 2. Got {widths!r} instead.")
    out = tuple(check_int(w, f"{name}[{i}]", low=2, high=16384) for i, w in enumerate(widths))
    if len(set(out)) != len(out):
        raise ValueError(f"`{name}` must not repeat a width. Got {list(out)} instead.")
    return tuple(sorted(out))


def check_lrs(lrs: object) -> tuple[float, ...]:
    """Distinct learning rates > 0, sorted."""
    if not isinstance(lrs, Sequence) or isinstance(lrs, str) or len(lrs) < 1:
        raise ValueError(f"`lrs` must be a non-empty list of learning rates > 0. Got {lrs!r} instead.")
    return tuple(sorted({check_positive(v, f"lrs[{i}]") for i, v in enumerate(lrs)}))


def scaling_table(sizes: Sequence[int], *, parametrization: str, optimizer: str = "sgd") -> pd.DataFrame:
    """Per-layer init variance, forward multiplier and LR factor of a bias-free MLP.

    Parameters
    ----------
    sizes : sequence of int
        Layer widths from input to output, e.g. ``(11, 1024, 1)``; at least an input and an output.
    parametrization : {"sp", "ntk", "mup"}
        See the table in :mod:`core.feature_learning.lazy_rich`; muP follows Tensor Programs V, Table 8.
    optimizer : {"sgd", "adam"}
        Which LR column of Table 8 to use (only muP's LR factors depend on it).

    Returns
    -------
    DataFrame
        One row per weight matrix: layer (1-based), role ("input"/"hidden"/"output"), fan_in, fan_out,
        init_var (variance of the stored weights), multiplier (applied in the forward pass), lr_scale (times the
        global learning rate).
    """
    check_choice(parametrization, "parametrization", PARAMETRIZATIONS)
    check_choice(optimizer, "optimizer", OPTIMIZERS)
    if isinstance(sizes, str) or not isinstance(sizes, Sequence) or len(sizes) < 2:
        raise ValueError(f"`sizes` must list at least an input and an output width. Got {sizes!r} instead.")
    sizes = [check_int(s, f"sizes[{i}]", low=1) for i, s in enumerate(sizes)]
    rows = []
    last = len(sizes) - 2
    for i, (fan_in, fan_out) in enumerate(pairwise(sizes)):
        role = "input" if i == 0 else "output" if i == last else "hidden"
        var, mult, lr = 1.0 / fan_in, 1.0, 1.0  # SP
        if parametrization == "ntk":
            var, mult = 1.0, 1.0 / math.sqrt(fan_in)
        elif parametrization == "mup":
            if role == "output":
                var, mult = 1.0, 1.0 / fan_in
                lr = float(fan_in) if optimizer == "sgd" else 1.0
            elif role == "input":
                lr = float(fan_out) if optimizer == "sgd" else 1.0
            else:
                lr = 1.0 if optimizer == "sgd" else 1.0 / fan_in
        rows.append((i + 1, role, fan_in, fan_out, var, mult, lr))
    return pd.DataFrame(rows, columns=["layer", "role", "fan_in", "fan_out", "init_var", "multiplier", "lr_scale"])


def init_weights(sizes: Sequence[int], *, parametrization: str, seed: int = 0) -> list[torch.Tensor]:
    """Draw the weight matrices of :func:`scaling_table`: Gaussian, mean 0, float32, shape (fan_out, fan_in)."""
    table = scaling_table(sizes, parametrization=parametrization)
    gen = torch.Generator().manual_seed(check_int(seed, "seed", low=0))
    return [
        torch.randn(row.fan_out, row.fan_in, generator=gen, dtype=DTYPE) * math.sqrt(row.init_var)  # (out, in)
        for row in table.itertuples()
    ]


def forward(
    weights: Sequence[torch.Tensor], mults: Sequence[float], x: torch.Tensor, activation: str = "relu"
) -> list[torch.Tensor]:
    """All post-activations (last: the output, squeezed) for x of shape (m, d) or (copies, m, d)."""
    phi = ACTIVATIONS[activation]
    acts, h = [], x
    for i, (W, m) in enumerate(zip(weights, mults)):
        h = m * (h @ W.transpose(-1, -2))  # (..., m, fan_out)
        if i < len(weights) - 1:
            h = phi(h)
        acts.append(h)
    acts[-1] = acts[-1].squeeze(-1)  # (..., m)
    return acts


def rms(a: torch.Tensor) -> float:
    return float(a.pow(2).mean().sqrt())


def teacher(cfg: TaskConfig, seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Teacher data: x ~ N(0, I) plus a constant 1; y = tanh(2 z1) + z1 z2 on orthonormal directions, standardised."""
    rng = np.random.default_rng(seed)
    U = np.linalg.qr(rng.standard_normal((cfg.dim, 2)))[0]  # (dim, 2) orthonormal columns
    Z = rng.standard_normal((cfg.n_train + cfg.n_probe, cfg.dim))  # (n, dim)
    P = Z @ U  # (n, 2)
    y = np.tanh(2 * P[: cfg.n_train, 0]) + P[: cfg.n_train, 0] * P[: cfg.n_train, 1]  # (n_train,)
    X = np.hstack([Z, np.ones((len(Z), 1))])  # (n, dim + 1)
    X = torch.as_tensor(X, dtype=DTYPE)
    return X[: cfg.n_train], torch.as_tensor((y - y.mean()) / y.std(), dtype=DTYPE), X[cfg.n_train :]


def ntk(
    weights: Sequence[torch.Tensor], table: pd.DataFrame, x: torch.Tensor, activation: str = "relu"
) -> torch.Tensor:
    """The LR-weighted empirical tangent kernel K = sum_l s_l J_l J_l^T on x (m, d) -> (m, m).

    The Jacobian rows are per-example gradients from ``torch.autograd.grad``, one small backward pass per point
    (``torch.func`` would do the same, but its first call imports torch._dynamo, which takes seconds).
    """
    mults = table["multiplier"].tolist()
    ws = [W.detach().requires_grad_(True) for W in weights]
    rows = []
    for xi in x:
        grads = torch.autograd.grad(forward(ws, mults, xi[None], activation)[-1].sum(), ws)
        rows.append(torch.cat([math.sqrt(s) * g.reshape(-1) for s, g in zip(table["lr_scale"], grads)]))
    J = torch.stack(rows)  # (m, P), each layer's block scaled by sqrt(s_l)
    return J @ J.T


def fit(
    weights: list[torch.Tensor],
    table: pd.DataFrame,
    X: torch.Tensor,
    y: torch.Tensor,
    *,
    lr: float,
    steps: int,
    activation: str = "relu",
    optimizer: str = "sgd",
    evaluate: Callable[[int], dict] | None = None,
    eval_steps: Iterable[int] | None = None,
    callback: Callback = None,
    progress: tuple[float, float] = (0.0, 1.0),
) -> float:
    """Full-batch GD or Adam on the loss (1/2) mean (f - y)^2 with per-layer LR factors; returns the final loss.

    ``weights`` are trained in place through :func:`core.training.train_loop` (``evaluate``, ``eval_steps``,
    ``callback`` and ``progress`` go to it; a record's ``loss`` is the loss before that step's update). GD is one
    line per tensor, ``W -= lr * s_l * grad``. Adam is Kingma & Ba's update with the PyTorch defaults (beta1 0.9,
    beta2 0.999, eps 1e-8, bias correction), ``W -= lr * s_l * m_hat / (sqrt(v_hat) + eps)``, the same numbers as
    ``torch.optim.Adam`` with one parameter group per layer. Both are written out because the first ``torch.optim``
    constructor in a process imports torch._dynamo (seconds on a cold process).

    Raises
    ------
    core.training.Diverged
        When a loss is non-finite or above ``DIVERGED_LOSS`` (the targets have unit variance), naming ``lr``.
    """
    mults = table["multiplier"].tolist()
    rates = [lr * s for s in table["lr_scale"]]
    adam = optimizer == "adam"
    m1 = [torch.zeros_like(W) for W in weights] if adam else []
    m2 = [torch.zeros_like(W) for W in weights] if adam else []
    beta1, beta2, eps = 0.9, 0.999, 1e-8

    def loss_of(params: Sequence[torch.Tensor]) -> torch.Tensor:
        return 0.5 * ((forward(params, mults, X, activation)[-1] - y) ** 2).mean()

    def step(t: int, _rows: torch.Tensor | None) -> float:
        out = loss_of(weights)
        grads = torch.autograd.grad(out, weights)
        with torch.no_grad():
            for i, (W, g, eta) in enumerate(zip(weights, grads, rates)):
                if adam:
                    m1[i].mul_(beta1).add_(g, alpha=1 - beta1)
                    m2[i].mul_(beta2).addcmul_(g, g, value=1 - beta2)
                    m_hat, v_hat = m1[i] / (1 - beta1**t), m2[i] / (1 - beta2**t)
                    W -= eta * m_hat / (v_hat.sqrt() + eps)
                else:
                    W -= eta * g
        return _bounded(t, float(out.detach()))

    for W in weights:
        W.requires_grad_(True)
    try:
        train_loop(step, steps=steps, evaluate=evaluate, eval_steps=eval_steps, callback=callback, progress=progress)
    finally:
        for W in weights:
            W.requires_grad_(False)
    with torch.no_grad():
        return _bounded(steps, float(loss_of(weights)))


def _bounded(t: int, loss: float) -> float:
    """``loss``, or :class:`Diverged` at step ``t`` once it passes ``DIVERGED_LOSS`` (train_loop catches NaN/inf)."""
    if loss > DIVERGED_LOSS or not math.isfinite(loss):
        raise Diverged(t, loss, "lr")
    return loss


def seed_bands(df: pd.DataFrame, by: list[str], value: str) -> pd.DataFrame:
    """Geometric mean of ``value`` over seeds per group, with the min-max band; non-finite or <= 0 rows left out.

    Returns the ``by`` columns, then value (the geometric mean), low, high and n_seeds.
    """
    ok = df[np.isfinite(df[value]) & (df[value] > 0)]
    out = ok.assign(_log=np.log(ok[value].astype(float))).groupby(by, sort=False)
    out = out.agg(_log=("_log", "mean"), low=(value, "min"), high=(value, "max"), n_seeds=(value, "size"))
    out["value"] = np.exp(out.pop("_log"))
    return out.reset_index()[[*by, "value", "low", "high", "n_seeds"]]


def loglog_slopes(df: pd.DataFrame, by: list[str], value: str) -> pd.DataFrame:
    """Least-squares slope of log(value) on log(width) per group (``scipy.stats.linregress``)."""
    rows = []
    for key, g in df.groupby(by, sort=False):
        g = g[np.isfinite(g[value]) & (g[value] > 0)]
        slope = stderr = float("nan")
        if g["width"].nunique() >= 2:
            res = linregress(np.log(g["width"].astype(float)), np.log(g[value].astype(float)))
            slope, stderr = float(res.slope), float(res.stderr) if len(g) >= 3 else float("nan")
        rows.append((*key, slope, stderr, len(g)))
    return pd.DataFrame(rows, columns=[*by, "slope", "stderr", "n_widths"])
