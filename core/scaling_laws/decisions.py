"""Scaling-law decisions: IsoFLOP parabolas, inverse calculators, over-training for inference, repeated data.

References: Hoffmann et al. 2022 (Chinchilla) Approach 2, a parabola of loss against log N per compute budget,
whose vertices give N_opt(C); Sardana, Portes, Doubov & Frankle 2024 ("Beyond Chinchilla-Optimal: Accounting for
Inference in Language Model Scaling Laws"), minimising training plus inference FLOPs 6 N D_train + 2 N D_inference
at a target loss; Muennighoff et al. 2023 ("Scaling Data-Constrained Language Models"), effective data
D' = U_D + U_D R*_D (1 - exp(-R_D / R*_D)) for U_D unique tokens repeated R_D extra times, R*_D = 15.4.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import brentq, minimize_scalar

from core._validation import check_int, check_positive, check_real
from core.scaling_laws.laws import ScalingLaw

R_STAR_D = 15.39  # Muennighoff et al. 2023: repeated tokens lose value with this decay constant (in epochs)


@dataclass(frozen=True)
class IsoflopFit:
    """Result of :func:`isoflop_parabolas`: per-budget vertices and the fitted N_opt ~ C^a."""

    budgets: pd.DataFrame  # flops, n_points, n_min, n_max, c0, c1, n_opt and loss_opt (vertex;
    # NaN when not used), curvature, used
    runs: pd.DataFrame  # N, D, loss, flops (the budget each run was grouped into; NaN if its group was skipped)
    a: float  # slope of log N_opt against log C over the used budgets (NaN if fewer than 2)
    log_g: float  # intercept: N_opt = exp(log_g) * C^a
    n_used: int


def _group_budgets(flops: np.ndarray, rel_tol: float) -> np.ndarray:
    """Label runs whose compute agrees within ``rel_tol`` (relative, after sorting) with one budget id."""
    order = np.argsort(flops)
    labels = np.empty(flops.size, dtype=int)
    group, start = 0, flops[order[0]]
    for i in order:
        if flops[i] > start * (1 + rel_tol):
            group, start = group + 1, flops[i]
        labels[i] = group
    return labels


def isoflop_parabolas(
    N: np.ndarray, D: np.ndarray, loss: np.ndarray, *, rel_tol: float = 0.3, min_points: int = 3
) -> IsoflopFit:
    r"""Chinchilla's Approach 2: at each compute budget C = 6 N D fit loss = c_0 + c_1 x + c_2 x^2, x = ln N.

    The vertex :math:`N_{opt} = \exp(-c_1 / 2 c_2)` is the budget's best model size. Budgets are used when the
    parabola opens upwards (c_2 > 0) and its vertex lies within the sampled N; then
    :math:`\ln N_{opt} = \ln G + a \ln C` is fitted by least squares.

    Parameters
    ----------
    N, D, loss : array of shape (n,)
        Runs; runs whose 6 N D agree within ``rel_tol`` share a budget (the budget is their geometric mean).
    rel_tol : float
        Relative tolerance for "same compute" (0.3 groups Epoch AI's digitised Chinchilla runs into the paper's
        budgets, which are a factor 1.7-2 apart).
    min_points : int
        Runs a budget needs (>= 3 for a parabola).

    Returns
    -------
    IsoflopFit
    """
    n = np.asarray(N, dtype=float)
    d = np.asarray(D, dtype=float)
    ell = np.asarray(loss, dtype=float)
    if not (n.shape == d.shape == ell.shape and n.ndim == 1 and n.size > 0):
        raise ValueError("`N`, `D` and `loss` must be 1-D arrays of the same, non-zero length.")
    if np.any(n <= 0) or np.any(d <= 0) or not np.all(np.isfinite(ell)):
        raise ValueError("`N` and `D` must be > 0 and `loss` finite.")
    rel_tol = check_real(rel_tol, "rel_tol", low=0.0, high=1.0, low_inclusive=False)
    min_points = check_int(min_points, "min_points", low=3)
    c = 6.0 * n * d
    labels = _group_budgets(c, rel_tol)
    rows, run_budget = [], np.full(n.size, np.nan)  # (n,)
    for g in np.unique(labels):
        sel = labels == g
        if sel.sum() < min_points or np.unique(n[sel]).size < 3:
            continue
        run_budget[sel] = np.exp(np.log(c[sel]).mean())
        x = np.log(n[sel])
        c2, c1, c0 = np.polyfit(x, ell[sel], 2)
        vertex = -c1 / (2 * c2) if c2 > 0 else np.nan
        used = bool(c2 > 0 and x.min() <= vertex <= x.max())
        rows.append(
            {
                "flops": float(np.exp(np.log(c[sel]).mean())),
                "n_points": int(sel.sum()),
                "n_min": float(n[sel].min()),
                "n_max": float(n[sel].max()),
                "c0": float(c0),
                "c1": float(c1),
                "n_opt": float(np.exp(vertex)) if used else np.nan,
                "loss_opt": float(c0 + c1 * vertex + c2 * vertex**2) if used else np.nan,
                "curvature": float(c2),
                "used": used,
            }
        )
    columns = ["flops", "n_points", "n_min", "n_max", "c0", "c1", "n_opt", "loss_opt", "curvature", "used"]
    budgets = pd.DataFrame(rows, columns=columns)
    ok = budgets[budgets["used"]] if len(budgets) else budgets
    if len(ok) >= 2:
        a, log_g = np.polyfit(np.log(ok["flops"]), np.log(ok["n_opt"]), 1)
    else:
        a = log_g = float("nan")
    runs = pd.DataFrame({"N": n, "D": d, "loss": ell, "flops": run_budget})
    return IsoflopFit(budgets=budgets, runs=runs, a=float(a), log_g=float(log_g), n_used=len(ok))


def parabola_curves(budgets: pd.DataFrame, *, n_points: int = 40) -> pd.DataFrame:
    """The fitted parabolas (``IsoflopFit.budgets``) over each budget's sampled N range, for drawing.

    Returns
    -------
    DataFrame
        flops, N, loss.
    """
    n_points = check_int(n_points, "n_points", low=2)
    frames = []
    for r in budgets.itertuples():
        n = np.geomspace(r.n_min, r.n_max, n_points)  # (n_points,)
        x = np.log(n)
        frames.append(pd.DataFrame({"flops": r.flops, "N": n, "loss": r.c0 + r.c1 * x + r.curvature * x**2}))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["flops", "N", "loss"])


def inference_sweep(law: ScalingLaw, target: float, inference_tokens: np.ndarray) -> pd.DataFrame:
    """:func:`inference_aware` at several inference demands (tokens served over the model's life).

    Returns
    -------
    DataFrame
        inference_tokens, n_params, tokens, tokens_per_param, train_flops, inference_flops, total_flops.
    """
    demands = np.asarray(inference_tokens, dtype=float)
    return pd.DataFrame([{"inference_tokens": t, **inference_aware(law, target, float(t))} for t in demands])


def _check_law(law: ScalingLaw) -> ScalingLaw:
    if not isinstance(law, ScalingLaw):
        raise TypeError(f"`law` must be a ScalingLaw (a fitted loss law). Got {type(law).__name__}.")
    return law


def optimal_for_size(law: ScalingLaw, n_params: float) -> dict[str, float]:
    r"""Invert the compute-optimal frontier: the budget C for which ``n_params`` is N_opt, and its tokens.

    From :math:`N_{opt} = G (C/6)^a`: :math:`C = 6 (N/G)^{1/a}`, D = C / (6 N).

    Returns
    -------
    dict
        flops, tokens, tokens_per_param, loss.
    """
    law = _check_law(law)
    n_params = check_positive(n_params, "n_params")
    n_ref, _ = law.compute_optimal(6.0)  # = G, the size at C / 6 = 1
    flops = 6.0 * (n_params / n_ref) ** (1.0 / law.a)
    tokens = flops / (6.0 * n_params)
    return {"flops": flops, "tokens": tokens, "tokens_per_param": tokens / n_params, "loss": law.loss(n_params, tokens)}


def cheapest_for_loss(law: ScalingLaw, target: float) -> dict[str, float]:
    """The least compute C = 6 N D that reaches loss ``target``: the compute-optimal point whose loss is the target.

    Raises ``ValueError`` when the target is at or below the floor E.

    Returns
    -------
    dict
        flops, n_params, tokens, tokens_per_param.
    """
    law = _check_law(law)
    target = check_positive(target, "target")
    if target <= law.E * (1 + 1e-9):
        raise ValueError(f"The target loss must be above the floor E = {law.E:.4g}; no model reaches {target:.4g}.")

    def gap(log_c: float) -> float:
        n, d = law.compute_optimal(float(np.exp(log_c)))
        return float(law.loss(n, d)) - target

    lo, hi = np.log(1e-3), np.log(1e60)
    if gap(lo) < 0:
        raise ValueError(f"The target {target:.4g} is reached with almost no compute; raise it above the runs' range.")
    if gap(hi) > 0:
        raise ValueError(f"The target {target:.4g} is too close to the floor E = {law.E:.4g} for any budget.")
    log_c = brentq(gap, lo, hi, xtol=1e-12, rtol=1e-12)
    n, d = law.compute_optimal(float(np.exp(log_c)))
    return {"flops": float(np.exp(log_c)), "n_params": n, "tokens": d, "tokens_per_param": d / n}


def tokens_for_loss(law: ScalingLaw, n_params: float, target: float) -> float:
    """Training tokens a model of ``n_params`` needs to reach ``target`` (inf if its size alone cannot)."""
    rest = target - law.E - law.A / n_params**law.alpha
    return float((law.B / rest) ** (1.0 / law.beta)) if rest > 0 else float("inf")


def inference_aware(law: ScalingLaw, target: float, inference_tokens: float) -> dict[str, float]:
    r"""Sardana et al. 2024: the model that reaches ``target`` with the least training plus inference compute.

    Minimises :math:`6 N D_{train}(N) + 2 N D_{inf}` over N, where :math:`D_{train}(N)` solves
    :math:`L(N, D_{train}) = target`. With ``inference_tokens = 0`` this is the compute-optimal point.

    Returns
    -------
    dict
        n_params, tokens, tokens_per_param, train_flops, inference_flops, total_flops.
    """
    law = _check_law(law)
    base = cheapest_for_loss(law, target)
    inference_tokens = check_real(inference_tokens, "inference_tokens", low=0.0)
    n_min = (law.A / (target - law.E)) ** (1.0 / law.alpha)  # below this size the target is out of reach

    def total(log_n: float) -> float:
        n = float(np.exp(log_n))
        return 6.0 * n * tokens_for_loss(law, n, target) + 2.0 * n * inference_tokens

    res = minimize_scalar(
        total, bounds=(np.log(n_min) + 1e-9, np.log(base["n_params"]) + 1e-6), method="bounded", options={"xatol": 1e-9}
    )
    n = float(np.exp(res.x))
    d = tokens_for_loss(law, n, target)
    return {
        "n_params": n,
        "tokens": d,
        "tokens_per_param": d / n,
        "train_flops": 6.0 * n * d,
        "inference_flops": 2.0 * n * inference_tokens,
        "total_flops": 6.0 * n * d + 2.0 * n * inference_tokens,
    }


def effective_data(unique_tokens: float, epochs: np.ndarray | float, *, r_star: float = R_STAR_D) -> np.ndarray | float:
    r"""Muennighoff et al. 2023: :math:`D' = U_D + U_D R^*_D (1 - e^{-R_D / R^*_D})`, :math:`R_D` = epochs - 1.

    Each repetition is worth less than fresh data; as epochs grow D' saturates at :math:`U_D (1 + R^*_D)`.
    """
    u = check_positive(unique_tokens, "unique_tokens")
    r_star = check_positive(r_star, "r_star")
    ep = np.asarray(epochs, dtype=float)
    if np.any(ep < 1):
        raise ValueError("`epochs` must be >= 1 (one pass over the unique data).")
    out = u + u * r_star * (1.0 - np.exp(-(ep - 1.0) / r_star))
    return float(out) if np.ndim(epochs) == 0 else out


def repeated_data_curve(law: ScalingLaw, n_params: float, unique_tokens: float, epochs: np.ndarray) -> pd.DataFrame:
    """Loss of a model trained for several epochs on ``unique_tokens``, with repeated tokens discounted.

    Returns
    -------
    DataFrame
        epochs, tokens_seen, effective_tokens, loss_repeated (L(N, D')), loss_fresh (L(N, tokens seen), as if all
        tokens were new).
    """
    law = _check_law(law)
    n_params = check_positive(n_params, "n_params")
    ep = np.asarray(epochs, dtype=float)
    eff = effective_data(unique_tokens, ep)
    seen = unique_tokens * ep
    return pd.DataFrame(
        {
            "epochs": ep,
            "tokens_seen": seen,
            "effective_tokens": eff,
            "loss_repeated": law.loss(n_params, eff),
            "loss_fresh": law.loss(n_params, seen),
        }
    )


GAMMA_EMBEDDING = 47491.0  # Pearce & Song 2024: N_T = N_nonemb + gamma N_nonemb^(1/3) (vocab 32k, d/L = 39.2)
KAPLAN_RANGE = (10**12.95, 10**20.7)  # compute (FLOPs, non-embedding) over which Pearce & Song fit the local slope


def non_embedding_frontier(law: ScalingLaw, n_nonemb: np.ndarray, *, gamma: float = GAMMA_EMBEDDING) -> pd.DataFrame:
    r"""A total-parameter law's compute-optimal frontier re-expressed in Kaplan's conventions (Pearce & Song 2024).

    The loss depends on total parameters :math:`N_T = N_{\setminus E} + \gamma N_{\setminus E}^{1/3}` (embeddings
    of a model family with fixed aspect ratio) while compute is counted Kaplan's way, :math:`C_{\setminus E} =
    6 N_{\setminus E} D`. Minimising L at fixed :math:`C_{\setminus E}` gives, for each optimal
    :math:`N_{\setminus E}`,

    .. math:: C_{\setminus E} = 6 N (N + \tfrac{\gamma}{3} N^{1/3})^{-1/\beta} N_T^{(1+\alpha)/\beta}
              (\beta B / \alpha A)^{1/\beta}, \quad N = N_{\setminus E}.

    With gamma = 0 this is the law's own frontier; at large N the embeddings vanish and the slope tends to
    beta/(alpha+beta), while at Kaplan's small scale the local slope is much steeper.

    Returns
    -------
    DataFrame
        n_nonemb, n_total, flops_nonemb, tokens.
    """
    law = _check_law(law)
    n = np.asarray(n_nonemb, dtype=float)
    if np.any(n <= 0):
        raise ValueError("`n_nonemb` must be > 0.")
    gamma = check_real(gamma, "gamma", low=0.0)
    n_total = n + gamma * n ** (1 / 3)
    tokens = (law.beta * law.B / (law.alpha * law.A)) ** (1 / law.beta) * (
        n_total ** ((1 + law.alpha) / law.beta) * (n + gamma / 3 * n ** (1 / 3)) ** (-1 / law.beta)
    )
    return pd.DataFrame({"n_nonemb": n, "n_total": n_total, "flops_nonemb": 6 * n * tokens, "tokens": tokens})


def local_exponent(frame: pd.DataFrame, flops_range: tuple[float, float] = KAPLAN_RANGE) -> float:
    """Least-squares slope of log N_nonemb against log C_nonemb over ``flops_range`` (Kaplan's measured range)."""
    sel = frame[(frame["flops_nonemb"] >= flops_range[0]) & (frame["flops_nonemb"] <= flops_range[1])]
    if len(sel) < 2:
        raise ValueError("Fewer than 2 frontier points inside `flops_range`; widen `n_nonemb` or the range.")
    return float(np.polyfit(np.log(sel["flops_nonemb"]), np.log(sel["n_nonemb"]), 1)[0])


def _log_slope(x: np.ndarray, y: np.ndarray, x_range: tuple[float, float]) -> float:
    """Least-squares slope of log y against log x over the points with x inside ``x_range``."""
    sel = (x >= x_range[0]) & (x <= x_range[1])
    if sel.sum() < 2:
        raise ValueError("Fewer than 2 frontier points inside `flops_range`; widen `n_nonemb` or the range.")
    return float(np.polyfit(np.log(x[sel]), np.log(y[sel]), 1)[0])


@dataclass(frozen=True)
class AccountingResult:
    """Result of :func:`compute_accounting`."""

    frontiers: pd.DataFrame  # budget ("all FLOPs" | "Kaplan FLOPs"), n_nonemb, n_total, tokens, flops_total,
    # flops_kaplan, flops (the compute held fixed on that frontier), slope_total and slope_nonemb (pointwise
    # d log N / d log flops along the grid, central differences)
    exponents: pd.DataFrame  # budget, params ("total" | "non-embedding"), exponent (local slope over flops_range)


def compute_accounting(
    law: ScalingLaw,
    n_nonemb: np.ndarray,
    *,
    gamma: float = GAMMA_EMBEDDING,
    flops_range: tuple[float, float] = KAPLAN_RANGE,
) -> AccountingResult:
    r"""Compute-optimal frontiers of a total-parameter law under both compute accountings, and their local exponents.

    A model with :math:`N` non-embedding parameters at a fixed shape (width :math:`d = (r N / 12)^{1/3}` for aspect
    ratio :math:`r = d / n_{layer}`) has a head (unembedding, tied to the embedding) of :math:`N_{head} = V d =
    \gamma N^{1/3}` parameters, :math:`\gamma = V (r/12)^{1/3}`, so :math:`N_T = N + \gamma N^{1/3}`. The law is
    read in total parameters, :math:`L(N_T, D)`. Two budgets are held fixed:

    * all FLOPs, :math:`C = 6 N_T D` (Chinchilla): the law's own frontier, :math:`N_T = G (C/6)^a`;
    * Kaplan's FLOPs, :math:`C_K = 6 N D = C - 6 N_{head} D` (the head's compute not counted, as Porian et al. 2024
      identify in Kaplan et al. 2020): the optimum of :math:`L` at fixed :math:`C_K` (Pearce & Song 2024, see
      :func:`non_embedding_frontier`).

    On each frontier the local exponent :math:`d \log N_{opt} / d \log C` (least-squares slope over
    ``flops_range``, in the compute held fixed) is reported for both parameter counts, separating the compute
    accounting from the parameter counting. With ``gamma = 0`` all four equal the law's ``a``.

    Returns
    -------
    AccountingResult
        ``frontiers`` (long format, one row per budget and model) and ``exponents`` (4 rows).
    """
    law = _check_law(law)
    if not min(law.alpha, law.beta, law.A, law.B) > 0:
        raise ValueError("The law has no compute optimum: alpha, beta, A and B must all be > 0; pick another law.")
    n = np.asarray(n_nonemb, dtype=float)
    if n.ndim != 1 or n.size < 2 or not np.all(np.isfinite(n)) or np.any(n <= 0):
        raise ValueError("`n_nonemb` must be a 1-D array of at least 2 finite sizes > 0.")
    gamma = check_real(gamma, "gamma", low=0.0)
    lo, hi = (check_positive(v, "flops_range") for v in flops_range)
    if not lo < hi:
        raise ValueError("`flops_range` must be (low, high) with low < high.")
    n_total = n + gamma * n ** (1 / 3)
    g = (law.alpha * law.A / (law.beta * law.B)) ** (1 / (law.alpha + law.beta))
    tokens_all = (n_total / g) ** (1 / law.a) / n_total  # C = 6 (N_T / G)^(1/a), D = C / (6 N_T)
    kaplan = non_embedding_frontier(law, n, gamma=gamma)
    frames = []
    for budget, tokens in (("all FLOPs", tokens_all), ("Kaplan FLOPs", kaplan["tokens"].to_numpy())):
        flops_total, flops_kaplan = 6 * n_total * tokens, 6 * n * tokens
        frames.append(
            pd.DataFrame(
                {
                    "budget": budget,
                    "n_nonemb": n,
                    "n_total": n_total,
                    "tokens": tokens,
                    "flops_total": flops_total,
                    "flops_kaplan": flops_kaplan,
                    "flops": flops_total if budget == "all FLOPs" else flops_kaplan,
                }
            )
        )
        held = np.log(frames[-1]["flops"].to_numpy())
        frames[-1]["slope_total"] = np.gradient(np.log(n_total), held)
        frames[-1]["slope_nonemb"] = np.gradient(np.log(n), held)
    frontiers = pd.concat(frames, ignore_index=True)
    rows = []
    for budget, sub in frontiers.groupby("budget", sort=False):
        for params, col in (("total", "n_total"), ("non-embedding", "n_nonemb")):
            slope = _log_slope(sub["flops"].to_numpy(), sub[col].to_numpy(), (lo, hi))
            rows.append({"budget": budget, "params": params, "exponent": slope})
    return AccountingResult(frontiers=frontiers, exponents=pd.DataFrame(rows))
