"""Emergence as a metric effect: smooth per-token progress looks sudden under an all-or-nothing metric.

If a model of scale ``N`` gets each of ``L`` output tokens right with probability ``p(N)``, and ``p`` improves
smoothly with ``N``, then exact match (all ``L`` tokens right) is ``p^L``: near zero for a long stretch of scales
and then a steep climb, which reads as an ability "emerging". The expected token edit distance ``L (1 - p)``, a
metric linear in the per-token errors, keeps improving smoothly over the same models. The analytic part follows
Schaeffer et al.'s model ``p(N) = exp(-(N / c)^(-alpha))`` (per-token cross-entropy a power law in ``N``); the
computed part trains small MLPs of several widths on multi-digit addition and measures the same three metrics.

Reference: R. Schaeffer, B. Miranda, S. Koyejo, *Are emergent abilities of large language models a mirage?*,
NeurIPS 2023, arXiv:2304.15004; J. Wei et al., *Emergent abilities of large language models*, TMLR 2022.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn

from core._validation import check_array, check_choice, check_int, check_positive, check_real
from core.training import Callback, autograd_step, eval_schedule, make_mlp, resolve_device, seeded_generator, train_loop

METRICS = ("per-token accuracy", "exact match", "token edit distance")
SCALE_RANGE = (1e7, 1e12)  # parameters: the range of the analytic curves (small to large language models)
PER_TOKEN_MODELS = ("power-law loss", "steady accuracy")
P_RANGE = (0.5, 0.999)  # "steady accuracy": per-token accuracy at the smallest and the largest scale


def per_token_accuracy(scale: float | np.ndarray, *, c: float = 1e7, alpha: float = 0.5) -> np.ndarray:
    r"""Per-token accuracy of a model of ``scale`` parameters when its per-token loss is a power law.

    .. math::

        p(N) = \exp\!\big(-\mathcal{L}_{CE}(N)\big), \qquad \mathcal{L}_{CE}(N) = (N / c)^{-\alpha}

    (the probability of the correct token is ``exp(-cross-entropy)``). Smooth and increasing in ``log N``.

    Parameters
    ----------
    scale : float or array of shape (k,)
        Model sizes ``N`` (> 0), in parameters.
    c : float
        Scale at which the per-token cross-entropy is 1 nat (> 0).
    alpha : float
        Power-law exponent of the per-token loss (> 0).

    Returns
    -------
    ndarray of shape (k,) (or 0-d)
        ``p(N)`` in (0, 1).
    """
    N = check_array(scale, "scale", ndim=(0, 1))
    if np.any(N <= 0):
        raise ValueError(f"`scale` must be > 0 (numbers of parameters). Got minimum {N.min():.3g} instead.")
    return np.exp(-((N / check_positive(c, "c")) ** -check_positive(alpha, "alpha")))


def per_token_accuracy_steady(
    scale: float | np.ndarray, *, scale_range: tuple[float, float] = SCALE_RANGE, p_range: tuple[float, float] = P_RANGE
) -> np.ndarray:
    r"""Per-token accuracy that improves steadily: by the same amount per decade of model size.

    .. math::

        p(N) = p_0 + (p_1 - p_0)\,\frac{\log N - \log N_0}{\log N_1 - \log N_0}

    between :math:`(N_0, p_0)` and :math:`(N_1, p_1)`, clipped to :math:`[p_0, p_1]` outside. A straight line on
    a log-size axis: no threshold, no acceleration. (Under :func:`per_token_accuracy` the error ``1 - p`` falls
    by a constant *factor* per decade instead, so ``p`` bends towards 1 and ``p^L`` inherits that curve.)

    Parameters
    ----------
    scale : float or array of shape (k,)
        Model sizes ``N`` (> 0), in parameters.
    scale_range : (float, float)
        ``(N_0, N_1)`` with ``0 < N_0 < N_1``.
    p_range : (float, float)
        ``(p_0, p_1)``, accuracies with ``0 <= p_0 <= p_1 <= 1``.

    Returns
    -------
    ndarray of shape (k,) (or 0-d)
        ``p(N)`` in ``[p_0, p_1]``.
    """
    N = check_array(scale, "scale", ndim=(0, 1))
    if np.any(N <= 0):
        raise ValueError(f"`scale` must be > 0 (numbers of parameters). Got minimum {N.min():.3g} instead.")
    lo, hi = _check_range(scale_range)
    p0, p1 = (check_real(p, "p_range", low=0.0, high=1.0) for p in p_range)
    if p1 < p0:
        raise ValueError(f"`p_range` must be (smallest, largest) accuracy with smallest <= largest. Got {p_range}.")
    t = np.clip((np.log(N) - np.log(lo)) / (np.log(hi) - np.log(lo)), 0.0, 1.0)
    return p0 + (p1 - p0) * t


def _check_range(scale_range: tuple[float, float]) -> tuple[float, float]:
    lo, hi = (check_positive(s, "scale_range") for s in scale_range)
    if hi <= lo:
        raise ValueError(f"`scale_range` must be (smallest, largest) with smallest < largest. Got {scale_range}.")
    return lo, hi


def _check_p(per_token: float | np.ndarray) -> np.ndarray:
    p = check_array(per_token, "per_token", ndim=(0, 1))
    if np.any((p < 0) | (p > 1)):
        raise ValueError(f"`per_token` must be accuracies in [0, 1]. Got range [{p.min():.3g}, {p.max():.3g}] instead.")
    return p


def exact_match(per_token: float | np.ndarray, length: int) -> np.ndarray:
    """Probability that all ``length`` tokens are right when each is right independently with ``per_token``.

    ``exact_match = p^L``: a nonlinear, all-or-nothing metric.

    Parameters
    ----------
    per_token : float or array of shape (k,)
        Per-token accuracies in [0, 1].
    length : int
        Number of tokens ``L`` in the target (>= 1).

    Returns
    -------
    ndarray of shape (k,) (or 0-d), in [0, 1]
    """
    return _check_p(per_token) ** check_int(length, "length", low=1)


def token_edit_distance(per_token: float | np.ndarray, length: int) -> np.ndarray:
    """Expected number of wrong tokens out of ``length``: ``L (1 - p)``, a metric linear in the per-token errors.

    With substitution errors only this is the expected Hamming distance to the target, which is what the token
    edit distance counts for outputs of the right length.

    Parameters
    ----------
    per_token : float or array of shape (k,)
        Per-token accuracies in [0, 1].
    length : int
        Number of tokens ``L`` (>= 1).

    Returns
    -------
    ndarray of shape (k,) (or 0-d)
        In tokens, between 0 and ``L``.
    """
    return check_int(length, "length", low=1) * (1 - _check_p(per_token))


def metric_curves(
    *,
    length: int = 10,
    c: float = 1e7,
    alpha: float = 0.5,
    scale_range: tuple[float, float] = SCALE_RANGE,
    n_points: int = 101,
    model: str = PER_TOKEN_MODELS[0],
    p_range: tuple[float, float] = P_RANGE,
) -> pd.DataFrame:
    """The three metrics of the same models against scale, for the page's analytic chart.

    Parameters
    ----------
    length : int
        Target length ``L`` in tokens.
    c, alpha : float
        Parameters of :func:`per_token_accuracy` (``model="power-law loss"``).
    scale_range : (float, float)
        Smallest and largest model size (log-spaced in between).
    n_points : int
        Number of scales.
    model : {"power-law loss", "steady accuracy"}
        How per-token accuracy improves with scale: :func:`per_token_accuracy` (Schaeffer et al.'s model) or
        :func:`per_token_accuracy_steady` over ``scale_range``.
    p_range : (float, float)
        Per-token accuracy at the smallest and largest scale (``model="steady accuracy"``).

    Returns
    -------
    DataFrame
        Long format: ``scale`` (parameters), ``metric`` (one of ``METRICS``), ``value`` (accuracies in [0, 1],
        edit distance in tokens), ``length``.
    """
    lo, hi = _check_range(scale_range)
    N = np.geomspace(lo, hi, check_int(n_points, "n_points", low=2, high=10_000))  # (n_points,)
    L = check_int(length, "length", low=1, high=1000)
    if check_choice(model, "model", PER_TOKEN_MODELS) == PER_TOKEN_MODELS[0]:
        p = per_token_accuracy(N, c=c, alpha=alpha)
    else:
        p = per_token_accuracy_steady(N, scale_range=(lo, hi), p_range=p_range)
    values = {METRICS[0]: p, METRICS[1]: exact_match(p, L), METRICS[2]: token_edit_distance(p, L)}
    return pd.concat(
        [pd.DataFrame({"scale": N, "metric": name, "value": v, "length": L}) for name, v in values.items()],
        ignore_index=True,
    )


def scale_at(curves: pd.DataFrame, metric: str, level: float) -> float | None:
    """The smallest scale at which ``metric`` reaches ``level`` (accuracies) in :func:`metric_curves`, or None."""
    if metric not in METRICS[:2]:
        raise ValueError(f"`metric` must be one of {METRICS[:2]!r}. Got {metric!r} instead.")
    rows = curves[(curves.metric == metric) & (curves.value >= check_real(level, "level"))]
    return None if rows.empty else float(rows.scale.min())


def rise_decades(curves: pd.DataFrame, metric: str, *, low: float = 0.05, high: float = 0.95) -> float | None:
    """How many decades of scale ``metric`` takes to climb from ``low`` to ``high`` in :func:`metric_curves`.

    Linear interpolation in log scale between grid points; None if the curve does not reach both levels.
    Divide by the decades of the axis for the share of the chart the climb takes: small means it looks sudden.
    """
    if metric not in METRICS[:2]:
        raise ValueError(f"`metric` must be one of {METRICS[:2]!r}. Got {metric!r} instead.")
    low = check_real(low, "low", low=0.0, high=1.0)
    high = check_real(high, "high", low=low, high=1.0, low_inclusive=False)
    rows = curves[curves.metric == metric].sort_values("scale")
    x, v = np.log10(rows.scale.to_numpy()), rows.value.to_numpy()

    def crossing(level: float) -> float | None:
        i = np.flatnonzero(v >= level)
        if i.size == 0:
            return None
        j = int(i[0])
        if j == 0:
            return float(x[0])
        return float(x[j - 1] + (level - v[j - 1]) / (v[j] - v[j - 1]) * (x[j] - x[j - 1]))

    a, b = crossing(low), crossing(high)
    return None if a is None or b is None else b - a


def sampled_metric_curves(
    *,
    length: int = 10,
    n_tests: tuple[int, ...] = (10, 100, 10_000),
    n_models: int = 21,
    seed: int = 0,
    model: str = PER_TOKEN_MODELS[0],
    c: float = 1e7,
    alpha: float = 0.5,
    scale_range: tuple[float, float] = SCALE_RANGE,
    p_range: tuple[float, float] = P_RANGE,
) -> pd.DataFrame:
    """The idealised models scored on finite test sets: what a benchmark of ``n_test`` items would report.

    ``n_models`` sizes log-spaced over ``scale_range`` get the per-token accuracy of :func:`metric_curves`. For
    every test-set size, each model answers ``n_test`` items of ``length`` tokens, each token right
    independently with probability ``p``; the wrong tokens per item are drawn as Binomial(L, 1 - p). A measured
    exact match is a multiple of ``1 / n_test``: with few items it reads exactly 0 until ``p^L`` is about
    ``1 / n_test`` and then jumps, the resolution effect of Schaeffer et al. (2023, sec. 3); with many items it
    follows ``p^L``. The edit distance of the same answers is a continuous metric and moves at every size.

    Returns
    -------
    DataFrame
        Long format: ``scale``, ``n_test``, ``metric`` (one of ``METRICS``), ``value`` (measured), ``expected``
        (the population value: ``p``, ``p^L`` or ``L (1 - p)``), ``length``.
    """
    L = check_int(length, "length", low=1, high=1000)
    sizes = sorted({check_int(n, "n_tests[i]", low=1, high=1_000_000) for n in n_tests})
    if not sizes:
        raise ValueError("`n_tests` must list at least one test-set size. Got () instead.")
    curves = metric_curves(
        length=L,
        c=c,
        alpha=alpha,
        scale_range=scale_range,
        n_points=check_int(n_models, "n_models", low=2, high=1000),
        model=model,
        p_range=p_range,
    )
    wide = curves.pivot(index="scale", columns="metric", values="value").sort_index()
    p = wide[METRICS[0]].to_numpy()  # (n_models,)
    rng = np.random.default_rng(check_int(seed, "seed", low=0))
    frames = []
    for n_test in sizes:
        wrong = rng.binomial(L, 1 - p[:, None], size=(p.size, n_test))  # (n_models, n_test) wrong tokens per item
        measured = {
            METRICS[0]: 1 - wrong.mean(axis=1) / L,
            METRICS[1]: (wrong == 0).mean(axis=1),
            METRICS[2]: wrong.mean(axis=1),
        }
        for name, v in measured.items():
            frames.append(
                pd.DataFrame(
                    {"scale": wide.index, "n_test": n_test, "metric": name, "value": v, "expected": wide[name],
                     "length": L}
                )
            )  # fmt: skip
    return pd.concat(frames, ignore_index=True)


# ---------------------------------------------------------------------------------------------------------------
# The computed example: small MLPs of several widths on multi-digit addition.


@dataclass(frozen=True)
class AdditionConfig:
    """Small MLPs of several widths trained briefly on ``a + b`` with ``digits``-digit operands."""

    digits: int = 6  # 6-digit operands: the sum has L = 7 digits, so exact match = p^7 is sharp
    widths: tuple[int, ...] = (8, 16, 32, 64, 128, 256, 512)  # scale: ~1.6k to ~100k parameters
    steps: int = 1000  # Adam steps per model: "trained briefly", ~1 s per model on one core
    batch: int = 256  # fresh random sums each step, so there is no overfitting: scale is the only variable
    lr: float = 3e-3  # Adam step size that trains every width here without diverging
    n_test: int = 4000  # held-out sums: exact match resolved to 1/4000
    seed: int = 0  # data stream, test set and initialisation
    device: str = "cpu"  # tiny models: the CPU is fastest


def _digits(values: torch.Tensor, n: int) -> torch.Tensor:
    """Decimal digits, least significant first: (B,) -> (B, n)."""
    return torch.stack([(values // 10**i) % 10 for i in range(n)], dim=1)


def _addition_batch(size: int, digits: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """One-hot digits of random ``a`` and ``b`` (B, 20 * digits) and the digits of ``a + b`` (B, digits + 1)."""
    a, b = (torch.randint(0, 10**digits, (size,), generator=generator) for _ in range(2))
    x = torch.cat([nn.functional.one_hot(_digits(v, digits), 10).flatten(1) for v in (a, b)], dim=1).float()
    return x, _digits(a + b, digits + 1)


def train_addition_models(config: AdditionConfig = AdditionConfig(), *, callback: Callback = None) -> pd.DataFrame:
    """Train one MLP per width on multi-digit addition and measure per-digit accuracy, exact match and edit distance.

    Each model maps the one-hot digits of ``a`` and ``b`` through one hidden ReLU layer of the given width to
    ``L = digits + 1`` ten-way softmax heads, one per digit of the sum, and is trained with Adam on fresh random
    sums (cross-entropy summed over digits). On held-out sums it measures the per-digit accuracy ``p``, exact match
    (all ``L`` digits right), the digit edit distance (number of wrong digits, i.e. the Hamming distance) and
    ``p^L``, what exact match would be if digit errors were independent.

    Parameters
    ----------
    config : AdditionConfig
        Task, widths and budget.
    callback : callable, optional
        Called every 25 steps with ``progress``, ``width``, ``n_params``, ``step`` and ``loss`` (the step's
        training cross-entropy per digit, nats).

    Returns
    -------
    DataFrame
        Long format: ``width``, ``n_params``, ``metric`` (``per-digit accuracy``, ``exact match``,
        ``digit edit distance``, ``p^L``), ``value``, ``length`` (= L).
    """
    cfg = _check_addition(config)
    device = resolve_device(cfg.device)
    L = cfg.digits + 1
    gen = seeded_generator(cfg.seed)
    x_test, y_test = (t.to(device) for t in _addition_batch(cfg.n_test, cfg.digits, gen))  # fixed held-out sums
    rows: list[dict] = []
    for k, width in enumerate(cfg.widths):
        model = make_mlp((20 * cfg.digits, width, 10 * L), generator=gen).to(device)
        n_params = sum(p.numel() for p in model.parameters())

        def loss_fn(_: None, model: nn.Module = model) -> torch.Tensor:
            x, y = (t.to(device) for t in _addition_batch(cfg.batch, cfg.digits, gen))  # fresh sums every step
            return nn.functional.cross_entropy(model(x).view(-1, L, 10).transpose(1, 2), y)  # (B, 10, L) vs (B, L)

        train_loop(
            autograd_step(loss_fn, torch.optim.Adam(model.parameters(), lr=cfg.lr)),
            steps=cfg.steps,
            evaluate=lambda t, w=width, n=n_params: {"width": w, "n_params": n},
            eval_steps=eval_schedule(cfg.steps, 25),
            device=device,
            callback=callback,
            progress=(k / len(cfg.widths), (k + 1) / len(cfg.widths)),
        )
        with torch.no_grad():
            right = (model(x_test).view(-1, L, 10).argmax(dim=2) == y_test).float()  # (n_test, L)
        p = float(right.mean())
        values = {
            "per-digit accuracy": p,
            "exact match": float(right.all(dim=1).float().mean()),
            "digit edit distance": float((1 - right).sum(dim=1).mean()),
            "p^L": p**L,
        }
        rows += [
            {"width": width, "n_params": n_params, "metric": m, "value": v, "length": L} for m, v in values.items()
        ]
    return pd.DataFrame(rows)


def _check_addition(config: AdditionConfig) -> AdditionConfig:
    if not isinstance(config, AdditionConfig):
        raise TypeError(f"`config` must be an AdditionConfig. Got {type(config).__name__} instead.")
    check_int(config.digits, "digits", low=1, high=15)
    if len(config.widths) == 0:
        raise ValueError("`widths` must list at least one hidden width. Got () instead.")
    for i, w in enumerate(config.widths):
        check_int(w, f"widths[{i}]", low=1, high=8192)
    check_int(config.steps, "steps", low=1, high=100_000)
    check_int(config.batch, "batch", low=1, high=65_536)
    check_real(config.lr, "lr", low=0.0, high=1.0, low_inclusive=False)
    check_int(config.n_test, "n_test", low=10, high=1_000_000)
    check_int(config.seed, "seed", low=0)
    return config


@dataclass(frozen=True)
class AdditionSummary:
    """What the computed example shows: per-digit accuracy rising steadily, exact match late (fractions)."""

    smallest: int  # width of the smallest model
    largest: int
    digit_acc: tuple[float, float]  # per-digit accuracy of the smallest and the largest model
    exact: tuple[float, float]  # exact match of the smallest and the largest model
    last_flat_width: int | None  # the largest width whose exact match is still < 5% (None: none is)
    digit_acc_when_flat: float | None  # its per-digit accuracy: progress that exact match does not show
    max_gap_independent: float  # max |exact match - p^L| over the models: how well independence explains it


def addition_summary(result: pd.DataFrame, *, flat: float = 0.05) -> AdditionSummary:
    """Read the computed example's story from :func:`train_addition_models`'s output."""
    if not {"width", "metric", "value"} <= set(result.columns) or result.empty:
        raise ValueError("`result` must be the output of train_addition_models (columns width, metric, value).")
    w = result.pivot(index="width", columns="metric", values="value").sort_index()
    acc, em = w["per-digit accuracy"], w["exact match"]
    still_flat = em[em < check_real(flat, "flat", low=0.0, high=1.0)]
    last_flat = None if still_flat.empty else int(still_flat.index.max())
    return AdditionSummary(
        smallest=int(w.index[0]),
        largest=int(w.index[-1]),
        digit_acc=(float(acc.iloc[0]), float(acc.iloc[-1])),
        exact=(float(em.iloc[0]), float(em.iloc[-1])),
        last_flat_width=last_flat,
        digit_acc_when_flat=None if last_flat is None else float(acc[last_flat]),
        max_gap_independent=float((em - w["p^L"]).abs().max()),
    )
