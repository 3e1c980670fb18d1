"""Where optimal transport is used, computed: domain adaptation, fair scores, displacement interpolation.

- Domain adaptation (Courty, Flamary, Tuia & Rakotomamonjy 2017): map labelled source samples onto an unlabelled,
  shifted target domain with POT's ``ot.da`` transports, then train on the mapped samples.
- Fairness (Gordaliza, del Barrio, Gamboa & Loubes 2019; Chzhen et al. 2020): move each group's score distribution
  toward the groups' 1-D Wasserstein barycentre, whose quantile function is the weighted average of theirs.
- Displacement interpolation (McCann 1997): move every unit of mass along the exact W2 plan, P_t = ((1 - t) x +
  t y)_# P*, instead of fading one distribution into the other, (1 - t) P + t Q.

Companion of :mod:`core.optimal_transport.distances`. Distances are returned as distances (W_p, not W_p^p).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import ot
import pandas as pd
from scipy.special import expit
from sklearn.datasets import make_moons
from sklearn.svm import SVC

from core._validation import check_array, check_int, check_real
from core.optimal_transport.distances import exact_ot, plan_segments

DA_METHODS = ("exact (EMD)", "entropic (Sinkhorn)", "entropic + class labels")


def _rotate(points: np.ndarray, degrees: float) -> np.ndarray:
    t = math.radians(degrees)
    R = np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])  # (2, 2)
    return points @ R.T  # (n, 2)


@dataclass(frozen=True)
class DAConfig:
    """Two moons and a rotated copy (defaults: about a second on a shared core)."""

    n: int = 150  # points per domain: 150 x 150 plans solve in milliseconds
    angle: float = 50.0  # rotation of the target (degrees): the source classifier drops to ~70% accuracy
    noise: float = 0.1  # std of the moons' noise (sklearn make_moons)
    reg_e: float = 0.05  # entropic blur, a fraction of the largest cost (POT's norm="max")
    reg_cl: float = 0.1  # weight of the class-label (group lasso) term; POT's default, inner Sinkhorn converges
    gamma: float = 2.0  # RBF kernel width of the SVC classifier, in 1 / (units of x)^2
    seed: int = 0  # seed of both samples (the target uses seed + 1)


@dataclass(frozen=True)
class DAResult:
    """Target accuracies before and after mapping, and the points for drawing."""

    accuracy: pd.DataFrame  # method, target_accuracy (fraction), source_accuracy (on the mapped source)
    points: pd.DataFrame  # method, domain ("source", "target", "mapped source"), label, x, y
    config: DAConfig


def da_samples(config: DAConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The labelled source (two moons, centred) and the rotated target with its labels (used only for scoring)."""
    c = config
    n = check_int(c.n, "n", low=10, high=2000)
    noise = check_real(c.noise, "noise", low=0.0, high=1.0)
    angle = check_real(c.angle, "angle", low=-180.0, high=180.0)
    seed = check_int(c.seed, "seed", low=0)
    xs, ys = make_moons(n, noise=noise, random_state=seed)
    xt, yt = make_moons(n, noise=noise, random_state=seed + 1)
    centre = xs.mean(0)  # (2,)
    return xs - centre, ys, _rotate(xt - centre, angle), yt


def _transports(config: DAConfig) -> dict[str, ot.da.BaseTransport]:
    c = config
    return {
        DA_METHODS[0]: ot.da.EMDTransport(),
        DA_METHODS[1]: ot.da.SinkhornTransport(
            reg_e=c.reg_e, norm="max", method="sinkhorn", max_iter=10_000, out_of_sample_map="ferradans"
        ),
        DA_METHODS[2]: ot.da.SinkhornLpl1Transport(
            reg_e=c.reg_e, reg_cl=c.reg_cl, norm="max", tol=1e-6, max_inner_iter=2000
        ),
    }


def domain_adaptation(config: DAConfig = DAConfig(), *, callback=None) -> DAResult:  # frozen default: safe
    r"""Train on the source, score on the rotated target, before and after mapping the source with ``ot.da``.

    For each transport T (POT's ``EMDTransport``, ``SinkhornTransport`` and ``SinkhornLpl1Transport``, the last
    one also given the source labels), ``T.fit(Xs, ys, Xt)`` solves OT between the two samples and
    ``T.transform(Xs)`` moves each source point to its barycentric image :math:`\hat x_i = \sum_j P_{ij} y_j / a_i`.
    An RBF support-vector classifier trained on (mapped source, source labels) is scored on the target labels, which
    the transports never see (except through the geometry).

    Parameters
    ----------
    config : DAConfig
        Sample size, rotation, noise, regularisation and classifier width.
    callback : callable, optional
        Called after each method with ``progress`` and ``method``.

    Returns
    -------
    DAResult
        ``accuracy``: one row per method ("no adaptation" first) with ``target_accuracy``; ``points``: the source,
        the target and each method's mapped source, long format.

    References
    ----------
    Courty, Flamary, Tuia & Rakotomamonjy (2017), Optimal Transport for Domain Adaptation, IEEE TPAMI 39(9).
    """
    c = config
    check_real(c.reg_e, "reg_e", low=1e-3, high=10.0)
    check_real(c.reg_cl, "reg_cl", low=0.0, high=100.0)
    gamma = check_real(c.gamma, "gamma", low=0.0, low_inclusive=False)
    xs, ys, xt, yt = da_samples(c)
    frames = [_frame("source", xs, ys, "none"), _frame("target", xt, yt, "none")]
    clf = SVC(gamma=gamma).fit(xs, ys)
    rows = [{"method": "no adaptation", "target_accuracy": clf.score(xt, yt), "source_accuracy": clf.score(xs, ys)}]
    for k, (name, transport) in enumerate(_transports(c).items()):
        transport.fit(Xs=xs, ys=ys, Xt=xt)
        mapped = transport.transform(Xs=xs)  # (n, 2)
        clf = SVC(gamma=gamma).fit(mapped, ys)
        rows.append({"method": name, "target_accuracy": clf.score(xt, yt), "source_accuracy": clf.score(mapped, ys)})
        frames.append(_frame("mapped source", mapped, ys, name))
        if callback is not None:
            callback({"progress": (k + 1) / len(DA_METHODS), "method": name})
    return DAResult(pd.DataFrame(rows), pd.concat(frames, ignore_index=True), c)


def _frame(domain: str, pts: np.ndarray, labels: np.ndarray, method: str) -> pd.DataFrame:
    return pd.DataFrame({"method": method, "domain": domain, "label": labels, "x": pts[:, 0], "y": pts[:, 1]})


@dataclass(frozen=True)
class FairnessConfig:
    """Two groups whose scores differ in distribution (defaults: milliseconds)."""

    n: int = 2000  # people per group: smooth quantile functions
    gap: float = 1.0  # difference of the groups' mean feature (units of the feature's std)
    slope: float = 2.0  # label model P(y = 1 | x) = sigmoid(slope * x): the scores are calibrated
    seed: int = 0


@dataclass(frozen=True)
class FairnessResult:
    """Scores before and after the repair, and the trade-off over a grid of repair amounts."""

    scores: pd.DataFrame  # group, stage ("original", "repaired"), score
    tradeoff: pd.DataFrame  # repair, w1 (between the groups' scores), parity_gap, accuracy
    barycentre: np.ndarray  # (n,) quantiles of the 1-D Wasserstein barycentre at levels (i + 0.5) / n


def _quantile_levels(n: int) -> np.ndarray:
    return (np.arange(n) + 0.5) / n  # (n,)


def fair_repair(config: FairnessConfig = FairnessConfig(), *, repair: float = 1.0) -> FairnessResult:
    r"""Move both groups' score distributions a fraction ``repair`` of the way to their Wasserstein barycentre.

    In 1-D the W2 barycentre of the two groups (equal weights, equal sizes) has the quantile function
    :math:`Q_{\bar\mu} = \tfrac12 (Q_A + Q_B)`. A person at rank level q of group g gets the score
    :math:`(1 - \lambda) Q_g(q) + \lambda Q_{\bar\mu}(q)`, so the groups' distance shrinks to
    :math:`W_1 = (1 - \lambda) W_1(A, B)`: at :math:`\lambda = 1` the scores no longer depend on the group
    (demographic parity for every threshold) while each score moves as little as possible in the W2 sense.
    Decisions are score >= 1/2; the accuracy is against labels drawn from the calibrated model.

    Parameters
    ----------
    config : FairnessConfig
        Group size, mean gap, label slope, seed.
    repair : float
        Lambda in [0, 1]: 0 no repair, 1 full repair.

    Returns
    -------
    FairnessResult
        ``scores`` at ``repair``, ``tradeoff`` at repair 0, 0.1, ..., 1 (and ``repair``), ``barycentre``.

    References
    ----------
    Gordaliza, del Barrio, Gamboa & Loubes (2019), Obtaining Fairness using Optimal Transport Theory, ICML;
    Chzhen, Denis, Hebiri, Oneto & Pontil (2020), Fair Regression with Wasserstein Barycenters, NeurIPS.
    """
    c = config
    n = check_int(c.n, "n", low=10, high=200_000)
    gap = check_real(c.gap, "gap", low=0.0, high=10.0)
    slope = check_real(c.slope, "slope", low=0.0, low_inclusive=False, high=50.0)
    lam = check_real(repair, "repair", low=0.0, high=1.0)
    rng = np.random.default_rng(check_int(c.seed, "seed", low=0))
    x = {"A": rng.normal(gap / 2, 1.0, n), "B": rng.normal(-gap / 2, 1.0, n)}  # (n,) features
    score = {g: expit(slope * v) for g, v in x.items()}  # calibrated P(y = 1 | x)
    label = {g: rng.random(n) < s for g, s in score.items()}  # (n,) bool
    order = {g: np.argsort(s, kind="stable") for g, s in score.items()}
    sorted_scores = {g: score[g][order[g]] for g in score}  # Q_g at levels (i + 0.5) / n
    bary = 0.5 * (sorted_scores["A"] + sorted_scores["B"])  # (n,) Q of the barycentre

    def repaired(g: str, lam_: float) -> np.ndarray:
        out = np.empty(n)
        out[order[g]] = (1 - lam_) * sorted_scores[g] + lam_ * bary
        return out

    rows = []
    for lam_ in sorted(set(np.round(np.linspace(0, 1, 11), 10)) | {lam}):
        s = {g: repaired(g, lam_) for g in score}
        decide = {g: v >= 0.5 for g, v in s.items()}
        rows.append(
            {
                "repair": lam_,
                "w1": float(np.mean(np.abs(np.sort(s["A"]) - np.sort(s["B"])))),
                "parity_gap": float(decide["A"].mean() - decide["B"].mean()),
                "accuracy": float(np.mean(np.concatenate([decide[g] == label[g] for g in s]))),
            }
        )
    scores = pd.concat(
        pd.DataFrame({"group": g, "stage": stage, "score": v})
        for g in score
        for stage, v in (("original", score[g]), ("repaired", repaired(g, lam)))
    )
    return FairnessResult(scores.reset_index(drop=True), pd.DataFrame(rows), bary)


@dataclass(frozen=True)
class Interpolation:
    """McCann's interpolant and the mixture at time t, and the exact plans drawn beside them."""

    moved: pd.DataFrame  # x, y, mass: support points (1 - t) x_i + t y_j of the plan's edges
    mixture: pd.DataFrame  # x, y, mass, cloud: both clouds, weighted (1 - t) and t
    w2: float  # W2(P, Q), from the exact plan
    w2_to_moved: float  # W2(P, P_t), by ot.emd2 between P and the interpolant (equals t W2(P, Q))
    plans: pd.DataFrame  # cost ("W1 plan" / "W2 plan"), source, target, x, y, x2, y2, mass, share


def displacement_interpolation(x: object, y: object, *, t: float) -> Interpolation:
    r"""Move the source cloud along the exact W2 plan to time t (McCann's interpolant), beside the mixture.

    .. math:: P_t = \sum_{ij} P^\star_{ij}\, \delta_{(1 - t) x_i + t y_j}, \qquad
              W_2(P, P_t) = t\, W_2(P, Q)

    with :math:`P^\star` the optimal plan for the squared distance (``ot.emd``). The mixture
    :math:`(1 - t) P + t Q` fades mass instead of moving it. The plans for |x - y| (W1) and |x - y|^2 (W2) on the
    same clouds are returned for drawing side by side.

    Parameters
    ----------
    x, y : array-like of shape (n, 2) and (m, 2)
        Source and target points (uniform weights).
    t : float
        Time in [0, 1].

    Returns
    -------
    Interpolation
    """
    xs, ys = check_array(x, "x", ndim=2), check_array(y, "y", ndim=2)
    if xs.shape[1] != 2 or ys.shape[1] != 2:
        raise ValueError(f"`x` and `y` must have 2 columns. Got {xs.shape[1]} and {ys.shape[1]} instead.")
    t = check_real(t, "t", low=0.0, high=1.0)
    w2 = exact_ot(xs, ys, metric="sqeuclidean")
    w1 = exact_ot(xs, ys, metric="euclidean")
    i, j = np.nonzero(w2.plan > 1e-12 * w2.plan.max())
    mass = w2.plan[i, j]  # (k,)
    pts = (1 - t) * xs[i] + t * ys[j]  # (k, 2)
    moved = pd.DataFrame({"x": pts[:, 0], "y": pts[:, 1], "mass": mass})
    n, m = len(xs), len(ys)
    mixture = pd.concat(
        [
            pd.DataFrame({"x": xs[:, 0], "y": xs[:, 1], "mass": (1 - t) / n, "cloud": "source"}),
            pd.DataFrame({"x": ys[:, 0], "y": ys[:, 1], "mass": t / m, "cloud": "target"}),
        ],
        ignore_index=True,
    )
    cost = float(ot.emd2(np.full(n, 1 / n), mass / mass.sum(), ot.dist(xs, pts), numItermax=1_000_000))
    plans = pd.concat(
        [plan_segments(xs, ys, res.plan).assign(cost=name) for name, res in (("W1 plan", w1), ("W2 plan", w2))],
        ignore_index=True,
    )
    return Interpolation(moved, mixture, w2.distance, math.sqrt(max(cost, 0.0)), plans)
