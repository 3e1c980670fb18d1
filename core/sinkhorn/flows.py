r"""Three losses between point clouds, and the gradient flows they drive (GeomLoss's comparison).

For weighted clouds alpha = sum_i a_i delta_{x_i} and beta = sum_j b_j delta_{y_j}, cost C_ij = |x_i - y_j|^2:

    OT_eps(alpha, beta) = min_{P in U(a, b)} <P, C> + eps KL(P | a b^T)                       (entropic OT)
    S_eps(alpha, beta)  = OT_eps(alpha, beta) - 1/2 OT_eps(alpha, alpha) - 1/2 OT_eps(beta, beta)  (Sinkhorn divergence)
    MMD_k^2(alpha, beta) = a^T K_xx a + b^T K_yy b - 2 a^T K_xy b                              (kernel MMD)

with the Gaussian kernel k(x, y) = exp(-|x - y|^2 / (2 sigma^2)) or the energy-distance kernel k(x, y) = -|x - y|.
OT_eps is biased: OT_eps(alpha, alpha) > 0, and a cloud that minimises it shrinks onto a blurred copy of the target.
Removing the self terms gives S_eps, which is >= 0, zero only at alpha = beta, and tends to OT (here W2^2) as
eps -> 0 and to an MMD (here with the kernel -C) as eps -> infinity. MMD gradients come from the kernel alone: far from
the target (|x - y| >> sigma) the Gaussian kernel's pull vanishes and points stall.

The entropic values come from POT's log-domain Sinkhorn (``ot.bregman.sinkhorn_log``) on torch tensors, the value
computed as ``ot.solve(M, a, b, reg=eps, grad="envelope")`` does: by the envelope theorem the gradient of OT_eps in
the cost is the optimal plan, so autograd through the cost matrix gives the gradient in the points without
differentiating the iterations. Called directly, the solver takes a warm start (the flow's previous potentials) and
reports non-convergence through this module's warning, which names this module's knobs.

Primary reference: J. Feydy, T. Sejourne, F.-X. Vialard, S. Amari, A. Trouve, G. Peyre, "Interpolating between
Optimal Transport and MMD using Sinkhorn Divergences", AISTATS 2019 (its Fig. 1 is this page's comparison).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import ot
import pandas as pd
import torch

from core._validation import (
    check_array,
    check_choice,
    check_int,
    check_positive,
    check_real,
    check_same_mass,
    check_weights,
)
from core.data import POINT_CLOUD_SHAPES, point_cloud

LOSSES = ("entropic OT", "Sinkhorn divergence", "MMD")  # the flows of loss_flows, in this order
KERNELS = ("gaussian", "energy")
DEFAULT_MAX_ITER = 5_000  # log-domain Sinkhorn at eps = 0.01 on clouds a few units apart needs ~1,000-2,000
DEFAULT_TOL = 1e-6  # column-marginal violation ||P^T 1 - b||_2, as in core.sinkhorn.solver.sinkhorn


def _points(value: object, name: str) -> torch.Tensor:
    """A (n, d) float64 tensor; a tensor that requires grad is kept as is, so that gradients reach it."""
    if isinstance(value, torch.Tensor):
        if value.ndim != 2 or value.shape[0] < 1:
            raise ValueError(f"`{name}` must be an array of shape (n, d) with n >= 1. Got shape {tuple(value.shape)}.")
        if not bool(torch.isfinite(value).all()):
            raise ValueError(f"`{name}` must be free of NaN and inf. Got non-finite coordinates instead.")
        return value if value.dtype == torch.float64 else value.to(torch.float64)
    return torch.from_numpy(check_array(value, name, ndim=2))


def _problem(x: object, y: object, a: object, b: object) -> tuple[torch.Tensor, ...]:
    x, y = _points(x, "x"), _points(y, "y")
    if x.shape[1] != y.shape[1]:
        raise ValueError(
            f"`x` and `y` must have the same dimension d. Got {x.shape[1]} and {y.shape[1]} instead; "
            "pass points of the same space."
        )
    a_np, b_np = check_weights(a, "a", x.shape[0]), check_weights(b, "b", y.shape[0])
    check_same_mass(a_np, b_np)
    kw = {"dtype": torch.float64, "device": x.device}
    return x, y, torch.as_tensor(a_np, **kw), torch.as_tensor(b_np, **kw)


def _ot_eps(x, y, a, b, eps: float, max_iter: int, tol: float, warm=None) -> tuple[torch.Tensor, bool, tuple]:
    """OT_eps(alpha, beta), differentiable in x and y; whether Sinkhorn met ``tol``; the log-scalings (warm start).

    The plan comes from POT's log-domain Sinkhorn on the detached cost; the value <P, C> + eps KL(P | a b^T) is then
    built with P held fixed, so its gradient in C is P: the envelope theorem, as ``ot.solve(..., grad="envelope")``.
    """
    M = ot.dist(x, y)  # (n, m) squared distances, differentiable in x and y
    P, log = ot.bregman.sinkhorn_log(
        a, b, M.detach(), eps, numItermax=max_iter, stopThr=tol, log=True, warn=False, warmstart=warm
    )  # (n, m); rows exact after the last update, columns checked below
    kl = torch.sum(P * torch.log(P / (a[:, None] * b[None, :]) + 1e-16))  # POT's kl_div
    col_err = float(torch.linalg.vector_norm(P.sum(0) - b))
    return torch.sum(P * M) + eps * kl, bool(col_err <= tol), (log["log_u"], log["log_v"])


def _mmd2(x, y, a, b, sigma: float, kernel: str) -> torch.Tensor:
    def gram(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        d2 = ((u[:, None, :] - v[None, :, :]) ** 2).sum(-1)  # (n, m) exact: 0 on a diagonal, no cancellation
        if kernel == "gaussian":
            return torch.exp(-d2 / (2 * sigma**2))
        return -torch.sqrt(torch.clamp(d2, min=1e-300))  # |x - y|; the clamp keeps the gradient 0 at x = y

    return a @ gram(x, x) @ a + b @ gram(y, y) @ b - 2 * a @ gram(x, y) @ b


def _unconverged(what: str, max_iter: int, tol: float) -> str:
    return (
        f"Sinkhorn did not reach the tolerance {tol:g} within {max_iter} iterations for {what} (the value and its "
        "gradient are approximate): increase `max_iter` or `eps`."
    )


def entropic_ot(
    x: object,
    y: object,
    *,
    eps: float,
    a: object = None,
    b: object = None,
    max_iter: int = DEFAULT_MAX_ITER,
    tol: float = DEFAULT_TOL,
) -> torch.Tensor:
    r"""Entropic optimal transport OT_eps between two weighted point clouds, differentiable in the points.

    .. math:: OT_\varepsilon(\alpha, \beta) = \min_{P \in U(a, b)} \langle P, C\rangle
              + \varepsilon\,\mathrm{KL}(P \,|\, a b^\top),\qquad C_{ij} = |x_i - y_j|^2

    Parameters
    ----------
    x : array or tensor of shape (n, d)
        Source points (a tensor with ``requires_grad`` gets gradients).
    y : array or tensor of shape (m, d)
        Target points.
    eps : float
        Entropic blur, in squared units of the points (> 0); the plan blurs over distances of about sqrt(eps).
    a, b : arrays of shape (n,) and (m,), optional
        Weights with the same total mass (default uniform).
    max_iter, tol : int, float
        Iteration cap and tolerance on ||P^T 1 - b||_2 of POT's log-domain Sinkhorn; a warning if not met.

    Returns
    -------
    torch.Tensor
        A 0-dim float64 tensor, in squared units of the points (the entropy term included).

    References
    ----------
    Cuturi (2013); Feydy et al. (2019), eq. (3).
    """
    x, y, a, b = _problem(x, y, a, b)
    eps, max_iter, tol = check_positive(eps, "eps"), check_int(max_iter, "max_iter", low=1), check_positive(tol, "tol")
    value, ok, _ = _ot_eps(x, y, a, b, eps, max_iter, tol)
    if not ok:
        warnings.warn(_unconverged("OT_eps(x, y)", max_iter, tol), stacklevel=2)
    return value


def sinkhorn_divergence(
    x: object,
    y: object,
    *,
    eps: float,
    a: object = None,
    b: object = None,
    max_iter: int = DEFAULT_MAX_ITER,
    tol: float = DEFAULT_TOL,
) -> torch.Tensor:
    r"""The debiased Sinkhorn divergence S_eps between two weighted point clouds, differentiable in the points.

    .. math:: S_\varepsilon(\alpha, \beta) = OT_\varepsilon(\alpha, \beta) - \tfrac12 OT_\varepsilon(\alpha, \alpha)
              - \tfrac12 OT_\varepsilon(\beta, \beta)

    It is >= 0, zero when alpha = beta, tends to W2^2 (squared cost) as eps -> 0 with an error of order eps^2
    instead of eps log(1/eps), and to the squared distance between the means as eps -> infinity. Parameters and
    units as in :func:`entropic_ot`; no clamp at 0, so a negative value would show, not hide, a solver error.

    Returns
    -------
    torch.Tensor
        A 0-dim float64 tensor, in squared units of the points.

    References
    ----------
    Feydy et al. (2019), Theorem 1; Genevay, Peyre, Cuturi (2018), Learning generative models with Sinkhorn
    divergences.
    """
    x, y, a, b = _problem(x, y, a, b)
    eps, max_iter, tol = check_positive(eps, "eps"), check_int(max_iter, "max_iter", low=1), check_positive(tol, "tol")
    xy, ok_xy, _ = _ot_eps(x, y, a, b, eps, max_iter, tol)
    xx, ok_xx, _ = _ot_eps(x, x, a, a, eps, max_iter, tol)
    yy, ok_yy, _ = _ot_eps(y, y, b, b, eps, max_iter, tol)
    if not (ok_xy and ok_xx and ok_yy):
        warnings.warn(_unconverged("a term of S_eps(x, y)", max_iter, tol), stacklevel=2)
    return xy - 0.5 * (xx + yy)


def mmd(
    x: object, y: object, *, sigma: float = 1.0, kernel: str = "gaussian", a: object = None, b: object = None
) -> torch.Tensor:
    r"""Squared maximum mean discrepancy between two weighted point clouds, differentiable in the points.

    .. math:: \mathrm{MMD}_k^2(\alpha, \beta) = a^\top K_{xx} a + b^\top K_{yy} b - 2\, a^\top K_{xy} b

    (the V-statistic: diagonal terms included), with ``kernel="gaussian"``: k(x, y) = exp(-|x - y|^2 / (2 sigma^2)),
    or ``kernel="energy"``: k(x, y) = -|x - y| (then MMD^2 is the energy distance squared, and ``sigma`` is unused).

    Parameters
    ----------
    x, y : arrays or tensors of shape (n, d) and (m, d)
        The clouds.
    sigma : float
        Width of the Gaussian kernel, in units of the points (> 0).
    kernel : str
        "gaussian" or "energy".
    a, b : arrays of shape (n,) and (m,), optional
        Weights with the same total mass (default uniform).

    Returns
    -------
    torch.Tensor
        A 0-dim float64 tensor: unitless for the Gaussian kernel, in units of the points for the energy kernel.

    References
    ----------
    Gretton et al. (2012), A kernel two-sample test, JMLR; Szekely & Rizzo (2013), Energy statistics.
    """
    x, y, a, b = _problem(x, y, a, b)
    sigma = check_positive(sigma, "sigma")
    check_choice(kernel, "kernel", KERNELS)
    return _mmd2(x, y, a, b, sigma, kernel)


@dataclass(frozen=True)
class LossFlowConfig:
    """Settings of the three-way gradient flow (defaults: a few seconds on one core)."""

    n: int = 150  # points per cloud: enough to see a shape, small enough for three flows in a few seconds
    source: str = "gaussian"  # a round blob, so the change of shape is easy to see
    target: str = "moons"  # a non-convex target that a blurry loss visibly smooths over
    eps: float = 0.3  # blur sqrt(eps) ~ 0.55: OT_eps ends 2x farther (W2) than S_eps, its cloud at ~80% spread
    kernel: str = "gaussian"  # MMD's kernel, width sigma = sqrt(eps): the blur of the OT losses (GeomLoss's `blur`)
    lr: float = 0.05  # x_i -= lr n grad_i L: an OT loss moves each point 2 lr = 10% of the way to its target
    steps: int = 60  # at 10% per step, 0.9^60 ~ 0.2% of the initial gap remains under the OT losses
    offset: float = 1.5  # the source starts this far left of the target: ~3 kernel widths, where MMD's pull fades
    seed: int = 0  # seed of both clouds
    max_iter: int = 5_000  # Sinkhorn iterations per solve; warm-started from the last step, most need tens
    tol: float = 1e-4  # column-marginal tolerance per solve: 1e-4 of the mass moves each point's target by < 1%
    arrived: float = 0.2  # a point this close to some target point has arrived: about the moons' thickness (sd 0.05)


@dataclass(frozen=True)
class LossFlowResult:
    """The three flows from the same start to the same target: positions, losses and distances at every step."""

    positions: pd.DataFrame  # long: loss, step, point, x, y (steps 0..steps, every loss)
    target: pd.DataFrame  # point, x, y
    history: pd.DataFrame  # long: loss, step, value, relative, w2, spread, stragglers, converged
    config: LossFlowConfig

    def final(self) -> pd.DataFrame:
        """The last step of each flow (one row per loss, in the order of ``LOSSES``)."""
        last = self.history[self.history["step"] == self.history["step"].max()]
        return last.set_index("loss").loc[list(LOSSES)].reset_index()


def _rms_radius(pts: np.ndarray) -> float:
    return float(np.sqrt(((pts - pts.mean(0)) ** 2).sum(1).mean()))


def loss_flows(
    config: LossFlowConfig = LossFlowConfig(),  # frozen, so a shared default is safe
    *,
    callback: Callable[[dict], None] | None = None,
    device: str = "cpu",
) -> LossFlowResult:
    r"""Flow one cloud to one target under entropic OT, the Sinkhorn divergence and MMD, side by side.

    .. math:: x_i \leftarrow x_i - lr\, n\, \nabla_{x_i} L(\alpha, \beta),\qquad
              L \in \{OT_\varepsilon,\ S_\varepsilon,\ \mathrm{MMD}^2_k\}

    (GeomLoss's gallery scaling: each point moves as if it carried unit mass). The three flows start from the same
    source cloud and chase the same target; every step also measures the exact W2 to the target (``ot.emd2``), the
    cloud's spread against the target's, and the points that have not arrived. Sinkhorn solves are warm-started from
    the previous step's potentials.

    Parameters
    ----------
    config : LossFlowConfig
        Clouds, blur eps (the kernel width is sqrt(eps)), kernel, step size, steps, seed, Sinkhorn budget.
    callback : callable, optional
        Called after each loss's step with ``progress``, ``loss``, ``step``, ``value``, ``relative`` and ``w2``.
    device : str
        Torch device ("cpu" or "cuda").

    Returns
    -------
    LossFlowResult
        ``positions`` and ``history`` for steps 0..steps of each loss: ``value`` (the loss), ``relative`` (value /
        value at step 0), ``w2`` (exact W2 to the target, a distance in units of the points), ``spread`` (RMS
        radius over the target's: below 1 the cloud has shrunk), ``stragglers`` (points farther than ``arrived``
        from every target point), ``converged`` (the step's Sinkhorn solves met ``tol``; True for MMD). One warning
        if some step's solves did not converge.

    References
    ----------
    Feydy et al. (2019), Interpolating between optimal transport and MMD using Sinkhorn divergences, Fig. 1.
    """
    c = config
    check_int(c.n, "n", low=2, high=2000)
    check_choice(c.source, "source", POINT_CLOUD_SHAPES)
    check_choice(c.target, "target", POINT_CLOUD_SHAPES)
    check_choice(c.kernel, "kernel", KERNELS)
    eps, lr, arrived = check_positive(c.eps, "eps"), check_positive(c.lr, "lr"), check_positive(c.arrived, "arrived")
    steps = check_int(c.steps, "steps", low=1, high=2000)
    max_iter, tol = check_int(c.max_iter, "max_iter", low=1), check_positive(c.tol, "tol")
    offset = check_real(c.offset, "offset", low=0.0, high=100.0)
    kw = {"dtype": torch.float64, "device": device}
    x0 = point_cloud(c.source, c.n, seed=c.seed, center=(-offset / 2, 0.0))  # (n, 2)
    y_np = point_cloud(c.target, c.n, seed=c.seed + 1, center=(offset / 2, 0.0))  # (n, 2)
    y, w = torch.tensor(y_np, **kw), torch.full((c.n,), 1.0 / c.n, **kw)  # (n, 2), (n,)
    w_np, radius = w.cpu().numpy(), _rms_radius(y_np)
    self_y, ok_y, _ = _ot_eps(y, y, w, w, eps, max_iter, tol)  # constant term of S_eps
    warm: dict[tuple[str, str], tuple | None] = {}  # (loss, "xy" or "xx") -> log-scalings of the last solve

    def loss(name: str, x: torch.Tensor) -> tuple[torch.Tensor, bool]:
        if name == "MMD":
            return _mmd2(x, y, w, w, float(np.sqrt(eps)), c.kernel), True
        xy, ok, warm[name, "xy"] = _ot_eps(x, y, w, w, eps, max_iter, tol, warm.get((name, "xy")))
        if name == "entropic OT":
            return xy, ok
        xx, ok_xx, warm[name, "xx"] = _ot_eps(x, x, w, w, eps, max_iter, tol, warm.get((name, "xx")))
        return xy - 0.5 * (xx + self_y.detach()), ok and ok_xx and ok_y

    clouds = {name: torch.tensor(x0, **kw) for name in LOSSES}
    positions, history, first = [], [], {}
    total = len(LOSSES) * steps
    for step in range(steps + 1):
        for k, name in enumerate(LOSSES):
            x = clouds[name].requires_grad_(True)
            value, ok = loss(name, x)
            v = float(value.detach())
            pts = x.detach().cpu().numpy()  # (n, 2)
            positions.append(pts.copy())
            first.setdefault(name, v)
            near = np.sqrt(ot.dist(pts, y_np).min(1))  # (n,) distance to the nearest target point
            record = {
                "loss": name,
                "step": step,
                "value": v,
                "relative": v / first[name] if first[name] != 0 else np.nan,
                "w2": float(np.sqrt(max(ot.emd2(w_np, w_np, ot.dist(pts, y_np), numItermax=10_000_000), 0.0))),
                "spread": _rms_radius(pts) / radius,
                "stragglers": int((near > arrived).sum()),
                "converged": ok,
            }
            history.append(record)
            if step == steps:
                continue
            (grad,) = torch.autograd.grad(value, x)  # (n, 2)
            clouds[name] = (x - lr * c.n * grad).detach()  # (n, 2)
            if callback is not None:
                callback({"progress": (step * len(LOSSES) + k + 1) / total} | record)
    hist = pd.DataFrame(history)
    if not hist["converged"].all():
        bad = hist.loc[~hist["converged"], "loss"].unique()
        warnings.warn(
            f"Sinkhorn did not reach the tolerance {tol:g} within {max_iter} iterations at "
            f"{int((~hist['converged']).sum())} steps of {', '.join(bad)} (the gradient there is approximate): "
            "increase `max_iter` or `eps`.",
            stacklevel=2,
        )
    pts = np.stack(positions).reshape(steps + 1, len(LOSSES), c.n, 2)  # (steps + 1, losses, n, 2)
    s, l_, p = np.meshgrid(np.arange(steps + 1), np.arange(len(LOSSES)), np.arange(c.n), indexing="ij")
    pos = pd.DataFrame(
        {
            "loss": np.asarray(LOSSES)[l_.ravel()],
            "step": s.ravel(),
            "point": p.ravel(),
            "x": pts[..., 0].ravel(),
            "y": pts[..., 1].ravel(),
        }
    )
    target = pd.DataFrame({"point": np.arange(c.n), "x": y_np[:, 0], "y": y_np[:, 1]})
    return LossFlowResult(positions=pos, target=target, history=hist, config=c)
