"""A solvable scaling-law experiment: ridge regression on features with a power-law spectrum, true exponents known.

Inputs have independent Gaussian coordinates with variances lambda_k = k^-nu (k = 1, 2, ...); the target is
y = sum_k w_k x_k + noise with per-mode power lambda_k w_k^2 = k^-s and label-noise variance sigma^2. A model of
size N regresses y on the first N coordinates by ridge regression on D examples, the ridge tuned per cell on the
exact population loss (as scaling studies tune hyperparameters per run). Its test loss is computed exactly,

    L(N, D) = sigma^2 + sum_{k > N} k^-s + E[(w_hat - w)^T diag(lambda) (w_hat - w) | X],

averaged in closed form over the label noise given the training inputs X (bias^2 plus the noise's trace term;
the modes the model does not see act as extra noise of variance zeta(s, N + 1)), so neither a test set nor one
noise draw adds scatter; the training inputs are sampled.

With infinite data the loss is sigma^2 + zeta(s, N + 1) ~ sigma^2 + N^-(s-1)/(s-1): the model-size exponent is
alpha = s - 1. With enough features the tuned ridge learns at the minimax rate of kernel ridge regression with
noise (Caponnetto & De Vito 2007; Cui, Loureiro, Krzakala & Zdeborova 2021): L - sigma^2 ~ D^-(s-1)/s, so
beta = (s - 1)/s, independent of nu; and E = sigma^2. The two limits combine like a minimum (a model cannot use
more modes than the data resolve), so the additive form E + A/N^alpha + B/D^beta is an approximation here, as it
is for language models; the default grid keeps both regimes wide enough for the fit to recover the exponents
(measured: within ~0.05 with 4 seeds). Related solvable models: Bahri et al. 2021; Maloney, Roberts & Sully 2022;
Bordelon, Canatar & Pehlevan 2020.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import zeta

from core._validation import check_int, check_positive, check_real


@dataclass(frozen=True)
class MiniScalingConfig:
    """Settings of the solvable experiment; the defaults run in about a second on one core."""

    model_sizes: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64, 128, 256)  # features used, N; 256 >> the modes
    # the largest D resolves (~sqrt(D) for s = 2), so the data-limited regime is clean
    data_sizes: tuple[int, ...] = (32, 128, 512, 2048, 8192)  # training examples D, nested, factors of 4
    seeds: tuple[int, ...] = (0, 1, 2, 3)  # independent input draws; the fit uses each cell's mean
    target_decay: float = 2.0  # s: mode k carries power k^-s, so alpha = s - 1 = 1 and beta = (s-1)/s = 0.5
    spectrum_decay: float = 1.5  # nu: feature variances k^-nu (does not change the exponents, only constants)
    noise_var: float = 2.0  # sigma^2 = E, large enough that the noisy rate holds from the smallest D on
    n_ridges: int = 33  # ridge values tried per cell, log-spaced over 1e-7..10 (times D)


def true_exponents(config: MiniScalingConfig) -> dict[str, float]:
    """The theory's E = sigma^2, alpha = s - 1 and beta = (s - 1)/s for this configuration."""
    s = config.target_decay
    return {"E": config.noise_var, "alpha": s - 1.0, "beta": (s - 1.0) / s}


def infinite_data_loss(n: np.ndarray | int, config: MiniScalingConfig) -> np.ndarray | float:
    """Exact loss of the best N-feature model (D -> infinity): sigma^2 + zeta(s, N + 1) = sigma^2 + sum_{k>N} k^-s."""
    return config.noise_var + zeta(config.target_decay, np.asarray(n, dtype=float) + 1.0)


def _validate(cfg: MiniScalingConfig) -> None:
    if not cfg.model_sizes or not cfg.data_sizes or not cfg.seeds:
        raise ValueError("`model_sizes`, `data_sizes` and `seeds` must each list at least one value.")
    for n in cfg.model_sizes:
        check_int(n, "model_sizes", low=1, high=2048)
    for d in cfg.data_sizes:
        check_int(d, "data_sizes", low=2, high=65_536)
    for s in cfg.seeds:
        check_int(s, "seeds", low=0)
    check_real(cfg.target_decay, "target_decay", low=1.1, high=4.0)
    check_real(cfg.spectrum_decay, "spectrum_decay", low=0.5, high=4.0)
    check_positive(cfg.noise_var, "noise_var")
    check_int(cfg.n_ridges, "n_ridges", low=2, high=200)
    if max(cfg.model_sizes) * max(cfg.data_sizes) > 2**22:
        raise ValueError(
            f"max(model_sizes) x max(data_sizes) = {max(cfg.model_sizes) * max(cfg.data_sizes):,} exceeds 4.2M; "
            "lower the largest N or D so the run stays within the page budget."
        )


def mini_scaling_experiment(
    config: MiniScalingConfig = MiniScalingConfig(), *, callback: Callable[[dict], None] | None = None
) -> pd.DataFrame:
    """Fit every (N, D, seed) cell by tuned ridge regression and record its exact test loss.

    Within a seed the data sets are nested (the first D examples of one pool) and the Gram matrix X^T X of the
    largest model grows by blocks; a model of size N uses its top-left N x N block. Each cell evaluates ridge at
    ``n_ridges`` values at once from one eigendecomposition (expected loss over the label noise, exact) and keeps
    the best.

    Parameters
    ----------
    config : MiniScalingConfig
    callback : callable, optional
        Called after each (seed, D) with progress in [0, 1] and ``rows``: the new cells (seed, N, D, loss).

    Returns
    -------
    DataFrame
        seed, N, D, loss (exact test MSE given the training inputs), excess (loss - sigma^2), ridge (chosen
        ridge strength per example).
    """
    _validate(config)
    sizes, data = sorted(set(config.model_sizes)), sorted(set(config.data_sizes))
    n_max = sizes[-1]
    k = np.arange(1, n_max + 1, dtype=float)  # (n_max,)
    lam = k**-config.spectrum_decay  # feature variances
    w = np.sqrt(k**-config.target_decay / lam)  # target coefficients: lambda_k w_k^2 = k^-s
    ridges = np.logspace(-7, 1, config.n_ridges)  # (R,)
    tail = {n: float(zeta(config.target_decay, n + 1)) for n in sizes}
    total, done, rows = len(config.seeds) * len(data), 0, []
    for seed in config.seeds:
        rng = np.random.default_rng(seed)
        gram, used = np.zeros((n_max, n_max)), 0
        for d in data:
            x = rng.standard_normal((d - used, n_max)) * np.sqrt(lam)  # (new rows, n_max)
            gram += x.T @ x
            used = d
            new = []
            for n in sizes:
                evals, evecs = np.linalg.eigh(gram[:n, :n])  # (n,), (n, n)
                shrink = ridges[:, None] * d / (evals[None, :] + ridges[:, None] * d)  # (R, n)
                bias = (shrink * (evecs.T @ w[:n])) @ evecs.T  # (R, n): E[w_hat] - w
                lam_diag = (evecs**2 * lam[:n, None]).sum(axis=0)  # (n,): diag of V^T Lambda V
                noise_n = config.noise_var + tail[n]  # label noise + the modes the model does not see
                var = noise_n * ((np.clip(evals, 0, None) / (evals + ridges[:, None] * d) ** 2) * lam_diag).sum(axis=1)
                excess = (bias**2 * lam[:n]).sum(axis=1) + var + tail[n]  # (R,)
                best = int(np.argmin(excess))
                new.append(
                    {
                        "seed": seed,
                        "N": n,
                        "D": d,
                        "loss": config.noise_var + float(excess[best]),
                        "excess": float(excess[best]),
                        "ridge": float(ridges[best]),
                    }
                )
            rows += new
            done += 1
            if callback is not None:
                callback({"progress": done / total, "rows": new})
    return pd.DataFrame(rows)


def mean_over_seeds(runs: pd.DataFrame) -> pd.DataFrame:
    """Average the loss of each (N, D) cell over seeds, the runs a fit should see.

    Returns
    -------
    DataFrame
        N, D, loss (mean over seeds), loss_std (population std over seeds, 0 for one seed), n_seeds.
    """
    if not {"N", "D", "loss"} <= set(runs.columns):
        raise ValueError(f"`runs` must have columns N, D and loss. Got {', '.join(runs.columns)}.")
    loss = runs.groupby(["N", "D"])["loss"]
    cells = pd.DataFrame({"loss": loss.mean(), "loss_std": loss.std(ddof=0), "n_seeds": loss.count()})
    return cells.reset_index()
