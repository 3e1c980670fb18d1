"""Rest stop: the chapter's links between topics, each computed from a run.

Three links. (1) Grokking seen through neural collapse and description length: one modular-arithmetic run
(:mod:`core.universality.grokking`), measured at log-spaced steps by the NC metrics of
:mod:`core.neural_collapse.metrics` and by the bits of its
quantised weights after lzma compression, with weight decay 0 as the control. (2) Why overparameterised models
generalise: the random-features sweep of :mod:`core.universality.double_descent` with the norm of its minimum-norm fit,
beside
small networks of growing width and the NC1 of their last hidden layer. (3) Scaling laws and double descent as one
curve: a power law ``L = E + A / N^alpha`` fitted away from the interpolation threshold, with bootstrap intervals.

References: N. Nanda et al., *Progress measures for grokking via mechanistic interpretability*, ICLR 2023;
V. Papyan, X. Y. Han, D. L. Donoho, PNAS 117 (2020); M. Belkin et al., PNAS 116 (2019); P. Grunwald, *The Minimum
Description Length Principle*, MIT Press (2007); J. Kaplan et al., arXiv:2001.08361 (2020).
"""

from __future__ import annotations

import lzma
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from scipy.optimize import least_squares
from torch import nn

from core._validation import check_array, check_int, check_probability, check_real
from core.data import digits_split
from core.neural_collapse.metrics import collapse_metrics
from core.training import Callback, autograd_step, eval_schedule, make_mlp, seeded_generator, train_loop
from core.universality import double_descent as dd
from core.universality.grokking import (
    GrokkingConfig,
    fourier_spectrum,
    generalisation_step,
    key_frequencies,
    log_steps,
    memorisation_step,
    train_grokking,
)

LENS_METRICS = ("train_acc", "test_acc", "NC1", "equiangularity", "weight_norm", "description_kbits", "fourier")
MEASURED_STEPS = 40  # grokking_lens measures NC and description at ~40 of its logged steps (every k-th, and the last)
_LZMA = [{"id": lzma.FILTER_LZMA2, "preset": 1}]  # raw stream, no container header: every byte is the weights'


def description_bits(params: Sequence[np.ndarray | torch.Tensor], *, precision: float = 0.01) -> float:
    r"""Bits of a network's weights quantised to a fixed grid and compressed with lzma (an upper bound on K).

    Every parameter is rounded to the nearest multiple of ``precision`` (:math:`q = \mathrm{rint}(w / \delta)`),
    the integers are written as int16 (int32 if they do not fit) and compressed with lzma (LZMA2, preset 1, raw
    stream). At a fixed absolute precision, smaller or more regular weights compress to fewer bits.

    Parameters
    ----------
    params : sequence of arrays or tensors
        The parameters (any shapes; flattened and concatenated in order).
    precision : float
        The quantisation step ``delta`` (> 0), in the weights' own units.

    Returns
    -------
    float
        Compressed length in bits (8 x bytes).
    """
    delta = check_real(precision, "precision", low=0.0, low_inclusive=False)
    if not params:
        raise ValueError("`params` must hold at least one array of weights. Got none instead.")
    flat = np.concatenate([np.asarray(p.detach().cpu() if torch.is_tensor(p) else p, float).ravel() for p in params])
    q = np.rint(flat / delta)  # (P,) grid indices
    top = np.abs(q).max(initial=0)
    if top >= 2**31:
        raise ValueError(f"`precision` {delta:g} is too fine for weights of size {np.abs(flat).max():.3g}; raise it.")
    raw = q.astype("<i2" if top < 2**15 else "<i4").tobytes()  # 16-bit integers when they fit: half the bytes
    return 8.0 * len(lzma.compress(raw, format=lzma.FORMAT_RAW, filters=_LZMA))


def fourier_components(embedding: np.ndarray | torch.Tensor, *, share: float = 0.9) -> int:
    r"""How many frequencies of a token embedding carry ``share`` of its non-constant power.

    The embedding :math:`E \in \mathbb R^{p \times d}` (one row per residue) is Fourier-transformed along the token
    axis; frequency :math:`k = 1..\lfloor p/2 \rfloor` has power :math:`\sum_j |\hat E_{kj}|^2` (``k`` and ``p - k``
    together; ``k = 0``, the mean row, is left out). A network that has found the modular-addition algorithm uses a
    few frequencies (Nanda et al. 2023); a random embedding spreads its power over all of them. Computed with
    :func:`core.universality.grokking.fourier_spectrum` and :func:`core.universality.grokking.key_frequencies`.

    Parameters
    ----------
    embedding : array of shape (p, d)
    share : float
        The fraction of the non-constant power to cover, in (0, 1).

    Returns
    -------
    int
        The smallest number of frequencies (largest first) whose power reaches ``share`` of the total.
    """
    E = embedding.detach().cpu().numpy() if torch.is_tensor(embedding) else embedding
    return len(key_frequencies(fourier_spectrum(check_array(E, "embedding", ndim=2, min_len=3)), share=share))


def hidden_features(model: nn.Module, pairs: torch.Tensor) -> np.ndarray:
    """The hidden ReLU layer of the grokking network (``grokking._PairMLP``) on ``pairs``: (n, hidden)."""
    with torch.no_grad():
        return model.mlp[:2](model.embed(pairs).flatten(1)).cpu().numpy()  # (n, 2E) -> (n, H)


def measure_network(model: nn.Module, pairs: torch.Tensor, answers: torch.Tensor, *, precision: float) -> dict:
    """NC1 and equiangularity of the hidden features on ``pairs`` and the description length of the network.

    Returns a dict with ``NC1``, ``equiangularity`` (:func:`core.neural_collapse.metrics.collapse_metrics`; NaN when
    some answer's
    features coincide with the mean), ``description_kbits`` (:func:`description_bits` / 1000) and ``fourier``
    (:func:`fourier_components` of the embedding at 90%).
    """
    out = {"NC1": np.nan, "equiangularity": np.nan}
    try:
        m = collapse_metrics(hidden_features(model, pairs), answers.cpu().numpy())
        out = {"NC1": m.nc1, "equiangularity": m.equiangularity}
    except ValueError:  # e.g. all hidden units dead: the class means coincide, NC1 is undefined
        pass
    out["description_kbits"] = description_bits(list(model.parameters()), precision=precision) / 1000
    out["fourier"] = float(fourier_components(model.embed.weight))
    return out


@dataclass(frozen=True)
class LensConfig:
    """Grokking measured through collapse and description length (defaults: a run that groks within ~3 units)."""

    modulus: int = 23  # (a + b) mod 23: the Universality task, small enough for two runs in the page budget
    train_fraction: float = 0.7  # 370 of 529 pairs; every answer appears ~16 times among them (NC1 needs each)
    lr: float = 1e-2  # groks at steps ~550-750 at p = 23 (measured, seeds 0-1); 5e-3 needs about twice as long
    weight_decay: float = 1.0  # the grokking run; the control uses 0
    steps: int = 1200  # both runs train this long (no early stop), so collapse can go on after test accuracy
    precision: float = 0.01  # quantisation step of description_bits: well below the init scale of every layer
    seed: int = 0  # split and initialisation, shared by both runs


def _lens_configs(cfg: LensConfig) -> list[tuple[str, GrokkingConfig]]:
    if not isinstance(cfg, LensConfig):
        raise TypeError(f"`config` must be a LensConfig. Got {type(cfg).__name__} instead.")
    check_real(cfg.precision, "precision", low=1e-6, high=1.0)
    base = GrokkingConfig(modulus=cfg.modulus, train_fraction=cfg.train_fraction, lr=cfg.lr, steps=cfg.steps)
    runs = [(f"weight decay {cfg.weight_decay:g}", cfg.weight_decay), ("control: weight decay 0", 0.0)]
    return [(name, GrokkingConfig(**{**base.__dict__, "weight_decay": wd, "patience": 0, "seed": cfg.seed}))
            for name, wd in runs]  # fmt: skip


def grokking_lens(config: LensConfig = LensConfig(), *, callback: Callback = None) -> pd.DataFrame:
    """Train the grokking network with weight decay and without, measuring it at every logged step.

    Parameters
    ----------
    config : LensConfig
        Task, optimiser, budget and the quantisation step of the description length.
    callback : callable, optional
        Gets each logged record with ``run``, ``progress`` (over both runs) and the columns of :data:`LENS_METRICS`.

    Returns
    -------
    DataFrame
        Long format: ``run``, ``step``, ``metric`` (one of :data:`LENS_METRICS`: accuracies as fractions, NC metrics
        dimensionless, ``weight_norm`` the L2 norm of all parameters, ``description_kbits`` in kilobits,
        ``fourier`` a count), ``value``. Accuracies and the weight norm at every logged step; NC metrics (on the
        hidden features of the training pairs) and the description measures at about :data:`MEASURED_STEPS` of them.
    """
    runs = _lens_configs(config)
    frames = []

    logged = log_steps(config.steps)  # the steps train_grokking logs (and probes)
    measured = {*logged[:: -(-len(logged) // MEASURED_STEPS)].tolist(), int(logged[-1])}  # ~40, always the last

    def probe(step: int, model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> dict:
        if len(np.unique(y.cpu().numpy())) < config.modulus:
            raise ValueError("`train_fraction` must leave every answer among the training pairs; raise it.")
        return measure_network(model, x, y, precision=config.precision) if step in measured else {}

    for i, (name, gcfg) in enumerate(runs):

        def relay(record: dict, i: int = i, name: str = name) -> None:
            if callback is not None:
                callback({**record, "run": name, "progress": (i + record["progress"]) / len(runs)})

        hist = train_grokking(gcfg, callback=relay, probe=probe)
        frames.append(hist.assign(run=name))
    wide = pd.concat(frames, ignore_index=True)
    long = wide.melt(id_vars=["run", "step"], value_vars=list(LENS_METRICS), var_name="metric")
    return long.dropna(subset=["value"]).reset_index(drop=True)


def _halfway(steps: np.ndarray, values: np.ndarray, start: int, *, rising: bool) -> int | None:
    """First step >= start where a metric has made half its change from ``start`` to the end (None: no change)."""
    keep = steps >= start
    s, v = steps[keep], values[keep]
    v0, v1 = v[0], v[-1]
    if rising:
        return int(s[np.argmax(v >= (v0 + v1) / 2)]) if v1 > v0 + 0.05 else None
    if not (v1 > 0 and v1 < 0.9 * v0):
        return None
    return int(s[np.argmax(v <= np.sqrt(v0 * v1))])  # geometric midpoint: the middle of a log axis


@dataclass(frozen=True)
class LensSummary:
    """Milestones of one :func:`grokking_lens` run (steps are logged steps; None: never happened)."""

    run: str
    memorised_step: int | None  # train accuracy >= 99%
    generalised_step: int | None  # test accuracy >= 95%
    start: dict  # metric -> value at memorisation (or step 0)
    end: dict  # metric -> value at the last step
    halfway: dict  # metric -> first step with half of its change (test accuracy up; the others down, in log)
    lowest: dict  # metric -> (step, value) of its minimum from memorisation on

    def lead(self, metric: str) -> int | None:
        """Steps by which ``metric``'s halfway point comes after test accuracy's (negative: before it)."""
        a, b = self.halfway.get(metric), self.halfway.get("test_acc")
        return None if a is None or b is None else a - b


def lens_summary(history: pd.DataFrame, run: str) -> LensSummary:
    """Read the milestones of one run from :func:`grokking_lens`'s output.

    Each metric is read on the steps where it was measured, from the memorisation step (or step 0 if the run never
    memorised) to the end: ``start``/``end`` are its first and last values there, ``halfway`` the first step with
    half of its change (test accuracy up by >= 0.05; the others down by >= 10%, halfway on a log scale).
    """
    if not {"run", "step", "metric", "value"} <= set(history.columns) or run not in set(history.run):
        raise ValueError(f"`history` must be grokking_lens output with a run named {run!r}.")
    wide = history[history.run == run].pivot_table(index="step", columns="metric", values="value").sort_index()
    flat = wide.dropna(subset=["train_acc", "test_acc"]).reset_index()
    mem, gen = memorisation_step(flat), generalisation_step(flat)
    begin = 0 if mem is None else mem
    start, end, half, low = {}, {}, {}, {}
    for m in LENS_METRICS:
        series = wide[m].dropna() if m in wide else pd.Series(dtype=float)
        series = series[series.index >= begin]
        if series.empty:
            start[m], end[m], half[m], low[m] = np.nan, np.nan, None, (None, np.nan)
            continue
        steps, values = series.index.to_numpy(), series.to_numpy()
        start[m], end[m] = float(values[0]), float(values[-1])
        half[m] = _halfway(steps, values, int(steps[0]), rising=m in ("train_acc", "test_acc"))
        low[m] = (int(steps[np.argmin(values)]), float(values.min()))
    return LensSummary(run, mem, gen, start, end, half, low)


def min_norm_solution(features: np.ndarray, targets: np.ndarray) -> np.ndarray:
    r"""The minimum-norm least-squares coefficients :math:`a = \Phi^+ y`, by SVD (``numpy.linalg.lstsq``).

    Among all minimisers of :math:`\|\Phi a - y\|^2` (every interpolant once ``p >= n``), the one of smallest
    :math:`\|a\|`, the solution gradient descent from zero converges to. :func:`feature_sweep` gets the same
    solution faster from the normal equations of :mod:`core.universality.double_descent`, valid when the features have
    full rank.

    Parameters
    ----------
    features : array of shape (n, p)
    targets : array of shape (n,)

    Returns
    -------
    ndarray of shape (p,)
    """
    F = check_array(features, "features", ndim=2)  # (n, p)
    y = check_array(targets, "targets", ndim=1)  # (n,)
    if y.shape[0] != F.shape[0]:
        raise ValueError(f"`targets` must have one entry per row of `features` ({F.shape[0]}). Got {y.shape[0]}.")
    return np.linalg.lstsq(F, y, rcond=None)[0]  # (p,) SVD-based: min-norm even when F is rank-deficient


def _rf_trials(rng: np.random.Generator, T: int, n: int, m: int, ps: tuple[int, ...], sigma: float) -> np.ndarray:
    """Train MSE, test MSE and coefficient norm, shape (3, T, len(ps)), drawn exactly as ``double_descent`` does."""
    d, pmax = dd.INPUT_DIM, ps[-1]
    u, v = dd._unit(rng, (T, d)), dd._unit(rng, (T, d))  # (T, d) each
    X, Xt = rng.normal(size=(T, n, d)), rng.normal(size=(T, m, d))  # (T, n, d), (T, m, d)
    y = dd._target(X, u, v) + sigma * rng.normal(size=(T, n))  # (T, n)
    f_test = dd._target(Xt, u, v)  # (T, m)
    W = rng.normal(size=(T, d, pmax))  # (T, d, pmax)
    Z, Zt = np.maximum(X @ W / np.sqrt(d), 0.0), np.maximum(Xt @ W / np.sqrt(d), 0.0)  # (T, n|m, pmax)
    out = np.empty((3, T, len(ps)))
    for j, p in enumerate(ps):
        F, Ft = Z[:, :, :p] / np.sqrt(p), Zt[:, :, :p] / np.sqrt(p)  # (T, n, p), (T, m, p)
        a = dd._min_norm_fit(F, y, 0.0)  # (T, p)
        out[0, :, j] = np.mean((np.einsum("tnp,tp->tn", F, a) - y) ** 2, axis=1)
        out[1, :, j] = np.mean((np.einsum("tmp,tp->tm", Ft, a) - f_test) ** 2, axis=1)
        out[2, :, j] = np.linalg.norm(a, axis=1)
    return out


def feature_sweep(
    *,
    n_train: int = 100,
    n_features: Sequence[int] | None = None,
    noise: float = 0.2,
    n_trials: int = 10,
    n_test: int = 500,
    seed: int = 0,
) -> pd.DataFrame:
    r"""The ridgeless random-features sweep of ``double_descent.random_features_curve``, with the norm.

    Same data, features and fits as ``random_features_curve`` with the same arguments (so the same test errors),
    plus the norm :math:`\|a\|` of the minimum-norm coefficients on the scaled features
    :math:`\Phi = \mathrm{ReLU}(XW/\sqrt{10})/\sqrt p`: the "length" of the fitted function, which peaks where the
    interpolant is forced through the noise (``p = n``) and shrinks as more features share the fit.

    Returns
    -------
    DataFrame
        Long format: ``n_features``, ``gamma`` (p / n), ``metric`` (``train_mse``, ``test_mse``, ``norm``),
        ``value`` (median over trials), ``q25``, ``q75`` (quartiles over trials).
    """
    n = check_int(n_train, "n_train", low=4, high=2000)
    m = check_int(n_test, "n_test", low=10, high=20_000)
    ps = dd._check_grid(dd.feature_grid(n) if n_features is None else n_features, max_p=dd.MAX_CELLS // (n + m))
    sigma = check_real(noise, "noise", low=0.0, high=10.0)
    trials = check_int(n_trials, "n_trials", low=1, high=200)
    rng = np.random.default_rng(check_int(seed, "seed", low=0))
    res = np.concatenate(
        [_rf_trials(rng, min(dd.CHUNK, trials - t), n, m, ps, sigma) for t in range(0, trials, dd.CHUNK)], axis=1
    )  # (3, trials, len(ps))
    q25, q75 = np.quantile(res, (0.25, 0.75), axis=1)  # (3, len(ps)) each
    frames = [
        pd.DataFrame({"n_features": ps, "gamma": np.asarray(ps) / n, "metric": name, "value": np.median(res[k], 0),
                      "q25": q25[k], "q75": q75[k]})
        for k, name in enumerate(("train_mse", "test_mse", "norm"))
    ]  # fmt: skip
    return pd.concat(frames, ignore_index=True)


@dataclass(frozen=True)
class PowerLawFit:
    """A fit of ``L = E + A / N^alpha`` with a bootstrap interval for ``alpha`` (see :func:`fit_power_law`)."""

    E: float  # irreducible loss, in [0, min L]
    A: float
    alpha: float  # the exponent, in [0, alpha_max]
    alpha_lo: float  # bootstrap percentile interval of alpha (NaN with fewer than 10 usable replicates)
    alpha_hi: float
    level: float  # the interval's coverage
    n_boot: int  # replicates drawn
    n_excluded: int  # replicates left out of the interval: alpha or E at a bound, or < 3 distinct sizes
    at_bound: tuple[str, ...]  # parameters of the full-data fit that sit at a bound (then read alpha with care)
    n_points: int

    def predict(self, sizes: np.ndarray) -> np.ndarray:
        """The fitted law at ``sizes`` (same units as the losses)."""
        return self.E + self.A * np.asarray(sizes, float) ** -self.alpha


def _fit_once(log_n: np.ndarray, log_l: np.ndarray, starts: np.ndarray, e_max: float, alpha_max: float) -> np.ndarray:
    """Best (E, ln A, alpha) of log-space least squares over the starts (rows of ``starts``), within the bounds."""

    def resid(theta: np.ndarray) -> np.ndarray:
        E, a, alpha = theta
        return np.log(E + np.exp(a - alpha * log_n)) - log_l  # (k,) log residuals; E >= 0, exp > 0: no log(0)

    def jac(theta: np.ndarray) -> np.ndarray:
        E, a, alpha = theta
        g = np.exp(a - alpha * log_n)  # (k,) the power-law term
        return np.stack([np.ones_like(g), g, -log_n * g], axis=1) / (E + g)[:, None]  # (k, 3)

    lo, hi = [0.0, -50.0, 0.0], [e_max, 50.0, alpha_max]
    best, best_cost = starts[0], np.inf
    for x0 in starts:
        res = least_squares(resid, np.clip(x0, lo, hi), jac=jac, bounds=(lo, hi), x_scale=[e_max, 1.0, 1.0])
        if res.cost < best_cost:
            best, best_cost = res.x, res.cost
    return best


def _starts(log_n: np.ndarray, log_l: np.ndarray, e_max: float) -> np.ndarray:
    rows = []
    for frac in (0.0, 0.5, 0.9):
        for alpha in (0.25, 0.5, 1.0, 2.0):
            E = frac * e_max
            rows.append([E, float(np.mean(np.log(np.exp(log_l) - E) + alpha * log_n)), alpha])
    return np.array(rows)  # (12, 3) columns E, ln A, alpha


def fit_power_law(
    sizes: np.ndarray,
    losses: np.ndarray,
    *,
    n_boot: int = 200,
    level: float = 0.9,
    alpha_max: float = 4.0,
    seed: int = 0,
) -> PowerLawFit:
    r"""Fit :math:`L = E + A / N^\alpha` by least squares on log losses, with a bootstrap interval for alpha.

    Minimises :math:`\sum_i (\ln(E + A N_i^{-\alpha}) - \ln L_i)^2` over :math:`0 \le E \le \min L`,
    :math:`\ln A \in [-50, 50]`, :math:`0 \le \alpha \le \alpha_{max}` (trust-region reflective, 12 starts).
    The bootstrap resamples the points with replacement and refits from the full-data optimum; replicates whose
    alpha or E end at a bound (a degenerate fit: no power law visible in that resample) or that draw fewer than 3
    distinct sizes are counted in ``n_excluded`` and left out of the interval.

    Parameters
    ----------
    sizes : array of shape (k,)
        Model sizes N (> 0), k >= 4, at least 3 distinct.
    losses : array of shape (k,)
        Losses L (> 0).
    n_boot : int
        Bootstrap replicates (0: no interval).
    level : float
        Coverage of the percentile interval, in (0, 1).
    alpha_max : float
        Upper bound of alpha.
    seed : int
        Seed of the resampling.

    Returns
    -------
    PowerLawFit
    """
    N = check_array(sizes, "sizes", ndim=1, min_len=4)
    L = check_array(losses, "losses", ndim=1, min_len=4)
    if N.shape != L.shape:
        raise ValueError(f"`sizes` and `losses` must have the same length. Got {N.size} and {L.size} instead.")
    if np.any(N <= 0) or np.any(L <= 0):
        raise ValueError("`sizes` and `losses` must be > 0 everywhere (both enter a logarithm).")
    if np.unique(N).size < 3:
        raise ValueError(f"`sizes` must hold at least 3 distinct values to fit 3 parameters. Got {np.unique(N)}.")
    B = check_int(n_boot, "n_boot", low=0, high=5000)
    lev = check_probability(level, "level")
    a_max = check_real(alpha_max, "alpha_max", low=0.0, low_inclusive=False, high=20.0)
    log_n, log_l = np.log(N), np.log(L)
    theta = _fit_once(log_n, log_l, _starts(log_n, log_l, L.min()), L.min(), a_max)

    def bound_names(t: np.ndarray, e_max: float) -> tuple[str, ...]:
        tol = 1e-6
        checks = {"E = 0": t[0] <= tol * e_max, "E = min L": t[0] >= (1 - tol) * e_max, "alpha = 0": t[2] <= tol,
                  "alpha = alpha_max": t[2] >= a_max * (1 - tol), "A at a bound": abs(t[1]) >= 50 - tol}  # fmt: skip
        return tuple(k for k, hit in checks.items() if hit)

    rng = np.random.default_rng(check_int(seed, "seed", low=0))
    alphas, excluded = [], 0
    for _ in range(B):
        idx = rng.integers(0, N.size, N.size)
        if np.unique(N[idx]).size < 3:
            excluded += 1
            continue
        e_max = L[idx].min()
        t = _fit_once(log_n[idx], log_l[idx], np.array([[min(theta[0], e_max), *theta[1:]]]), e_max, a_max)
        if set(bound_names(t, e_max)) - {"E = 0"}:
            excluded += 1
        else:
            alphas.append(t[2])
    lo, hi = np.quantile(alphas, [(1 - lev) / 2, (1 + lev) / 2]) if len(alphas) >= 10 else (np.nan, np.nan)
    return PowerLawFit(
        E=float(theta[0]), A=float(np.exp(theta[1])), alpha=float(theta[2]), alpha_lo=float(lo), alpha_hi=float(hi),
        level=lev, n_boot=B, n_excluded=excluded, at_bound=bound_names(theta, L.min()), n_points=int(N.size),
    )  # fmt: skip


@dataclass(frozen=True)
class OverparamConfig:
    """A random-features sweep through p = n and small networks of growing width (defaults: ~3 units)."""

    n_train: int = 100  # random-features points n: the SCIENCE.md recipe, peak at p = n = 100
    noise: float = 0.2  # label-noise sd of that recipe: enough to make the interpolant at p = n blow up
    n_trials: int = 10  # median over 10 trials: a smooth curve in ~1 s
    widths: tuple[int, ...] = (4, 8, 16, 32, 64, 128)  # 64-w-w-10 MLPs: width 4 cannot fit, 8 just does (measured)
    digits_train: int = 300  # digits images: wide nets fit them all quickly; the other 1497 are the test set
    steps: int = 400  # full-batch AdamW steps per width: 100% train accuracy for widths >= 16 (measured, ~3 units)
    lr: float = 3e-3  # AdamW learning rate, stable at every width here
    weight_decay: float = 5e-3  # a little decay, which collapse needs (SCIENCE.md); all widths get the same
    seed: int = 0  # data, features, split and initialisations


@dataclass(frozen=True)
class OverparamResult:
    """The output of :func:`overparam_run`."""

    features: pd.DataFrame  # feature_sweep: n_features, gamma, metric (train_mse, test_mse, norm), value, q25, q75
    networks: pd.DataFrame  # width, n_params, metric (train_error, test_error, NC1), value


def _train_width(
    split, width: int, cfg: OverparamConfig, gen: torch.Generator, callback: Callback, progress: tuple[float, float]
) -> dict:
    x, y, xt, yt = (torch.as_tensor(a) for a in (split.x_train, split.y_train, split.x_test, split.y_test))
    model = make_mlp((x.shape[1], width, width, split.n_classes), generator=gen)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    step = autograd_step(lambda _: nn.functional.cross_entropy(model(x), y), opt)
    train_loop(step, steps=cfg.steps, evaluate=lambda t: {"width": width}, eval_steps=eval_schedule(cfg.steps, 100),
               callback=callback, progress=progress)  # fmt: skip
    with torch.no_grad():
        h = model[:-1](x).numpy()  # (n, width) the last hidden layer (after its ReLU)
        train_err = float((model(x).argmax(1) != y).float().mean())
        test_err = float((model(xt).argmax(1) != yt).float().mean())
    nc1 = np.nan  # undefined below C - 1 units (Sigma_B needs C - 1 directions) or when the layer is dead
    if width >= split.n_classes - 1:
        try:
            nc1 = collapse_metrics(h, split.y_train).nc1
        except ValueError:  # all units dead, so every class mean is the global mean
            pass
    n_params = sum(p.numel() for p in model.parameters())
    return {"width": width, "n_params": n_params, "train_error": train_err, "test_error": test_err, "NC1": nc1}


def overparam_run(config: OverparamConfig = OverparamConfig(), *, callback: Callback = None) -> OverparamResult:
    """Part 2: test error and solution norm through the interpolation threshold, and NC1 of networks by width.

    The random-features half is :func:`feature_sweep` (min-norm least squares, as in
    :mod:`core.universality.double_descent`).
    The network half trains a 64-w-w-10 ReLU MLP per width on ``digits_train`` of sklearn's digits (full batch,
    AdamW, cross-entropy), then measures train and test error and the NC1 of its last hidden layer on the training
    images (:func:`core.neural_collapse.metrics.collapse_metrics`; NaN if the layer is dead or narrower than C - 1 = 9
    units, where
    the C - 1 between-class directions NC1 needs do not fit).

    Parameters
    ----------
    config : OverparamConfig
    callback : callable, optional
        Gets ``progress``, ``width``, ``step`` and the step's training ``loss`` every 100 steps, and after each width
        its row of the network table.

    Returns
    -------
    OverparamResult
    """
    if not isinstance(config, OverparamConfig):
        raise TypeError(f"`config` must be an OverparamConfig. Got {type(config).__name__} instead.")
    cfg = config
    widths = [check_int(w, "widths", low=1, high=2048) for w in cfg.widths]
    if not widths:
        raise ValueError("`widths` must list at least one width. Got none instead.")
    check_int(cfg.steps, "steps", low=1, high=100_000)
    check_real(cfg.lr, "lr", low=0.0, high=1.0, low_inclusive=False)
    check_real(cfg.weight_decay, "weight_decay", low=0.0, high=10.0)
    feats = feature_sweep(n_train=cfg.n_train, noise=cfg.noise, n_trials=cfg.n_trials, seed=cfg.seed)
    split = digits_split(n_train=cfg.digits_train, seed=cfg.seed)
    gen = seeded_generator(cfg.seed)
    rows, todo = [], sorted(set(widths))
    for i, w in enumerate(todo):
        rows.append(_train_width(split, w, cfg, gen, callback, (i / len(todo), (i + 1) / len(todo))))
        if callback is not None:
            callback({**rows[-1], "progress": (i + 1) / len(todo)})
    nets = pd.DataFrame(rows).melt(id_vars=["width", "n_params"], var_name="metric")
    return OverparamResult(feats, nets)


@dataclass(frozen=True)
class CurveReading:
    """One test-error curve read as a scaling law: the fit away from ``p = n`` and where it fails (see read_twice)."""

    fit: PowerLawFit
    table: pd.DataFrame  # n_features, gamma, measured, power_law, log_residual (ln measured / law), in_fit
    peak_p: int  # p with the largest residual
    breaks_p: int | None  # first p with a residual beyond the tolerance (None: the law holds everywhere)
    resumes_p: int | None  # first p past the peak from which every residual is within the tolerance again
    tolerance: float  # the residual band, as a factor (e.g. 1.25: within 25% of the law)


def read_twice(
    sweep: pd.DataFrame,
    *,
    window: tuple[float, float] = (0.5, 2.0),
    tolerance: float = 1.25,
    n_boot: int = 100,
    seed: int = 0,
) -> CurveReading:
    r"""Fit :math:`L = E + A / p^\alpha` to a double-descent curve outside a window around ``p = n``.

    The power law is fitted (:func:`fit_power_law`) to the median test error at ``gamma = p / n`` outside
    ``window`` (exclusive), then compared with the whole curve: the log residual
    :math:`\ln(L_{measured} / L_{law})` is large where the law breaks (the interpolation peak) and small where it
    resumes.

    Parameters
    ----------
    sweep : DataFrame
        Output of :func:`feature_sweep` (rows with ``metric == "test_mse"`` are used).
    window : (float, float)
        ``gamma`` range left out of the fit, ``0 < lo < 1 < hi``.
    tolerance : float
        A point agrees with the law when measured / law is within ``[1 / tolerance, tolerance]`` (> 1).
    n_boot, seed
        Bootstrap of the exponent (see :func:`fit_power_law`).

    Returns
    -------
    CurveReading
    """
    if not {"n_features", "gamma", "metric", "value"} <= set(sweep.columns) or "test_mse" not in set(sweep.metric):
        raise ValueError("`sweep` must be the output of feature_sweep (with test_mse rows).")
    lo, hi = (check_real(g, "window", low=0.0, low_inclusive=False) for g in window)
    if not lo < 1 < hi:
        raise ValueError(f"`window` must be (lo, hi) with lo < 1 < hi around p = n. Got {window} instead.")
    tol = check_real(tolerance, "tolerance", low=1.0, low_inclusive=False)
    rows = sweep[sweep.metric == "test_mse"].sort_values("n_features")
    p, gamma, L = rows.n_features.to_numpy(), rows.gamma.to_numpy(), rows.value.to_numpy(float)
    in_fit = (gamma < lo) | (gamma > hi)
    if in_fit.sum() < 4:
        raise ValueError(f"`window` {window} leaves {int(in_fit.sum())} points to fit; it needs 4. Narrow it.")
    fit = fit_power_law(p[in_fit], L[in_fit], n_boot=n_boot, seed=seed)
    law = fit.predict(p)  # (k,) > 0: A > 0
    resid = np.log(L / law)  # (k,)
    table = pd.DataFrame(
        {"n_features": p, "gamma": gamma, "measured": L, "power_law": law, "log_residual": resid, "in_fit": in_fit}
    )
    off = np.abs(resid) > np.log(tol)
    peak = int(np.argmax(resid))
    after = np.flatnonzero(off[peak:])
    resumes = peak + int(after[-1]) + 1 if after.size else peak
    return CurveReading(
        fit=fit,
        table=table,
        peak_p=int(p[peak]),
        breaks_p=int(p[np.argmax(off)]) if off.any() else None,
        resumes_p=int(p[resumes]) if resumes < len(p) else None,
        tolerance=tol,
    )
