"""The information plane of a training network, and the estimators that draw it.

Shwartz-Ziv & Tishby (2017) trained a 12-10-7-5-4-3-2 tanh network on 4096 12-bit patterns and plotted, for each
layer T, I(X;T) against I(T;Y) over training: a fitting phase, then a "compression phase" in which I(X;T) falls.
Saxe et al. (ICLR 2018) showed the compression comes from tanh saturation and from how the mutual information is
estimated: a deterministic network has I(X;T) = H(X) on a continuous T, so every estimate is really a statement about
a binning or a noise level. This module trains both activations on a generated 12-bit task and estimates the plane
three ways from the same activations: bins over each layer's range, fixed bins on [-1, 1], and the KDE upper bound
(Kolchinsky & Tracey 2017) with Gaussian noise of a stated variance. Several seeds train as one batched model and
are averaged with a min-max band (as IDNNs averages its runs); full batch or minibatches (Saxe et al.'s control); and
the same run records each layer's gradient mean and spread over an epoch's minibatches (Shwartz-Ziv & Tishby's drift
and diffusion phases). Information is in bits.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn

from core._validation import check_choice, check_int, check_positive, check_probability, check_real
from core.training import Callback, as_tensors, make_mlp, resolve_device, seeded_generator, train_loop

ESTIMATORS = ("adaptive", "fixed", "kde")  # bins over each layer's min-max; bins over [-1, 1]; KDE upper bound
SIZES = (12, 10, 7, 5, 4, 3, 2)  # the network of Shwartz-Ziv & Tishby (2017)
ACTIVATIONS = ("tanh", "relu", "linear")  # "linear": no nonlinearity (Saxe et al.'s deep linear control)
N_BITS = 12
_LN2 = np.log(2.0)


def twelve_bit_task(*, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """All 4096 patterns x in {-1, 1}^12 with a balanced binary label.

    ``y = 1[f(x) > median f]`` with ``f(x) = x^T A x / 12 + 0.5 b.x`` and A (12x12), b (12) standard Gaussian from
    ``seed``: a quadratic rule with a linear part, so the label needs several hidden units and classes are 50/50.

    Returns
    -------
    x : ndarray of shape (4096, 12), float32
    y : ndarray of shape (4096,), int64
    """
    rng = np.random.default_rng(check_int(seed, "seed", low=0))
    x = np.array(list(itertools.product((-1.0, 1.0), repeat=N_BITS)))  # (4096, 12)
    a, b = rng.normal(size=(N_BITS, N_BITS)), rng.normal(size=N_BITS)
    f = np.einsum("ni,ij,nj->n", x, a, x) / N_BITS + 0.5 * x @ b  # (4096,)
    return x.astype(np.float32), (f > np.median(f)).astype(np.int64)


def _entropy_of_ids(ids: np.ndarray) -> float:
    p = np.bincount(ids) / ids.shape[0]
    p = p[p > 0]
    return float(-(p * np.log2(p)).sum())


def _row_ids(codes: np.ndarray, base: int) -> np.ndarray:
    """Dense ids of the distinct rows of an (n, w) integer table with entries in [0, base).

    Ids in order of first appearance (``pandas.factorize``: hashing, about twice as fast as ``np.unique``'s sort
    here; an entropy does not depend on how the ids are numbered).
    """
    ids = np.zeros(codes.shape[0], dtype=np.int64)  # (n,)
    for j in range(codes.shape[1]):
        if ids.max(initial=0) >= (2**62) // base:
            ids = pd.factorize(ids)[0].astype(np.int64)
        ids = ids * base + codes[:, j]
    return pd.factorize(ids)[0].astype(np.int64)


def binned_information(
    activations: np.ndarray, labels: np.ndarray, *, n_bins: int, value_range: tuple[float, float] | None = None
) -> tuple[float, float]:
    """I(X;T) and I(T;Y) in bits of a binned layer, with X uniform over the rows (distinct input patterns).

    Each unit is cut into ``n_bins`` equal bins over ``value_range`` (default: the layer's own min..max; values
    outside fall in the edge bins); T is the tuple of bin indices. T is a function of X, so
    ``I(X;T) = H(T)`` and ``I(T;Y) = H(T) + H(Y) - H(T, Y)``.

    Parameters
    ----------
    activations : ndarray of shape (n, w)
        One row per input pattern.
    labels : ndarray of shape (n,)
        Integer labels.
    n_bins : int
        Bins per unit (>= 2).
    value_range : tuple of float, optional
        Fixed (low, high) bin range, e.g. (-1, 1).

    Returns
    -------
    tuple of float
        ``(I(X;T), I(T;Y))`` in bits; I(X;T) <= log2 n.
    """
    h = np.asarray(activations, dtype=np.float64)
    y = np.asarray(labels)
    if h.ndim != 2 or y.shape != (h.shape[0],):
        raise ValueError(f"`activations` must be (n, w) with one label per row. Got {h.shape} and {y.shape} instead.")
    y = np.unique(y, return_inverse=True)[1]  # (n,) labels as 0..C-1
    n_bins = check_int(n_bins, "n_bins", low=2, high=100_000)
    lo, hi = (float(h.min()), float(h.max())) if value_range is None else map(float, value_range)
    if hi - lo <= 1e-12:
        codes = np.zeros(h.shape, dtype=np.int64)
    else:
        codes = np.clip(np.floor((h - lo) / (hi - lo) * n_bins), 0, n_bins - 1).astype(np.int64)  # (n, w)
    t = _row_ids(codes, n_bins)  # (n,)
    h_t, h_y = _entropy_of_ids(t), _entropy_of_ids(y)
    h_ty = _entropy_of_ids(t * (int(y.max()) + 1) + y)
    return h_t, max(h_t + h_y - h_ty, 0.0)


def exact_information(activations: np.ndarray) -> tuple[float, int]:
    """I(X;T) in bits of a deterministic layer taken at face value, X uniform over the rows, and its distinct rows.

    T = h(X) exactly as stored (no binning, no noise): ``I(X;T) = H(T)``, the entropy of the distinct rows. In
    exact arithmetic an injective layer has ``log2 n`` bits; in floating point, saturated units round different
    inputs to the same value and merge them.

    Returns
    -------
    tuple
        ``(I(X;T) in bits, number of distinct rows)``.
    """
    h = np.ascontiguousarray(activations)
    if h.ndim != 2:
        raise ValueError(f"`activations` must be (n, w). Got shape {h.shape} instead.")
    _, counts = np.unique(h.view(np.dtype((np.void, h.dtype.itemsize * h.shape[1]))), return_counts=True)
    p = counts / h.shape[0]
    return float(-(p * np.log2(p)).sum()), int(counts.size)


def kde_information(activations: np.ndarray, labels: np.ndarray, *, noise_var: float) -> tuple[float, float]:
    """KDE upper bound on I(X;T) and the matching I(T;Y) estimate for T = h(X) + N(0, noise_var I), in bits.

    With X uniform over the n rows, T is a mixture of Gaussians and the pairwise-distance bound of Kolchinsky &
    Tracey (2017) gives ``I(X;T) <= -1/n sum_i log2(1/n sum_j exp(-|h_i - h_j|^2 / (2 noise_var)))``;
    I(T;Y) is the same bound for H(T) minus its class-conditional version (Saxe et al. 2018).

    Parameters
    ----------
    activations : ndarray of shape (n, w)
    labels : ndarray of shape (n,)
    noise_var : float
        Variance of the added noise (> 0); the analogue of the bin size.

    Returns
    -------
    tuple of float
        ``(I(X;T), I(T;Y))`` in bits; I(X;T) <= log2 n.
    """
    h = np.asarray(activations, dtype=np.float32)  # (n, w); float32 halves the O(n^2) cost
    y = np.asarray(labels)
    if h.ndim != 2 or y.shape != (h.shape[0],):
        raise ValueError(f"`activations` must be (n, w) with one label per row. Got {h.shape} and {y.shape} instead.")
    noise_var = check_positive(noise_var, "noise_var")
    h = h - h.mean(axis=0)  # centring keeps the float32 Gram trick accurate for large ReLU activations
    sq = (h * h).sum(axis=1)  # (n,)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2.0 * h @ h.T, 0.0)  # (n, n) squared distances
    np.fill_diagonal(d2, 0.0)
    kern = np.exp(d2 * np.float32(-0.5 / noise_var))  # (n, n); the diagonal is 1, so no row sum underflows
    classes, y_idx = np.unique(y, return_inverse=True)
    onehot = np.eye(classes.shape[0], dtype=np.float32)[y_idx]  # (n, C)
    n_c = onehot.sum(axis=0)  # (C,)
    h_all = -np.log(kern.sum(axis=1, dtype=np.float64) / h.shape[0]).mean()  # nats
    within = (kern @ onehot)[np.arange(h.shape[0]), y_idx]  # (n,) kernel mass of each point's own class
    h_cond = -np.log(within.astype(np.float64) / n_c[y_idx]).mean()
    return float(h_all / _LN2), float(max(h_all - h_cond, 0.0) / _LN2)


@dataclass(frozen=True)
class InfoPlaneConfig:
    """Settings of one information-plane run: every activation and seed trains side by side as one batched model."""

    activations: tuple[str, ...] = ("tanh", "relu")  # the comparison of Saxe et al. (2018); "linear" is their control
    epochs: int = 3000  # full-batch Adam epochs: ~7 s per net on one idle core, shows most of the tanh compression
    lr: float = 1e-3  # Adam's default; what the measured recipe used
    n_log: int = 30  # ~30 log-spaced epochs, as in the papers' plots
    n_bins: tuple[int, ...] = (10, 30, 100)  # bin counts estimated (30 is the papers' choice); the page switches
    estimators: tuple[str, ...] = ("adaptive", "fixed")  # the binnings are cheap; add "kde" (~40% of a run) to see it
    kde_noise_var: float = 0.1  # noise std ~0.3: a few bins' width on [-1, 1]
    kde_samples: int = 1024  # patterns used by the KDE (O(n^2) cost; 4096 would take ~16x longer)
    train_frac: float = 0.8  # 80/20 split as in Shwartz-Ziv & Tishby; MI is measured on all 4096 patterns
    seed: int = 0  # initial weights (shared by all activations); 0 trains a ReLU net without dead units
    n_seeds: int = 1  # seeds seed, seed + 1, ...: one batched model; full batch costs ~linearly in seeds
    batch: int | None = None  # None: full batch (the CPU recipe); e.g. 256: Saxe et al.'s minibatches (SGD noise)
    task_seed: int = 0  # the rule (A, b), the split and the KDE subsample
    device: str = "cpu"


@dataclass(frozen=True)
class InfoPlaneResult:
    """What :func:`information_plane` measured: the plane per seed, and the gradient statistics of the same run.

    ``plane``: one row per (epoch, activation, seed, layer, estimator, n_bins) with ``epoch``, ``layer``, ``i_tx``,
    ``i_ty`` (bits), ``activation``, ``estimator``, ``n_bins`` (NA for the KDE), ``seed``, ``train_acc``,
    ``test_acc``, ``frac_saturated`` (share of |h| > 0.99, tanh hidden layers), ``dead_units`` (units constant on
    all 4096 patterns), ``exact_i_tx`` (bits) and ``distinct`` from :func:`exact_information`.
    ``gradients``: one row per (epoch, activation, seed, layer) with ``grad_mean`` = ||mean of the layer's weight
    gradient over the epoch's minibatches|| and ``grad_std`` = ||their standard deviation|| (Frobenius norms;
    population std, so 0 for full batch), ``snr`` = grad_mean / grad_std and ``weight_norm``.
    ``batches_per_epoch``: 1 for full batch.
    """

    plane: pd.DataFrame
    gradients: pd.DataFrame
    batches_per_epoch: int


def _check_config(c: InfoPlaneConfig) -> None:
    if not isinstance(c, InfoPlaneConfig):
        raise TypeError(f"`config` must be an InfoPlaneConfig. Got {type(c).__name__} instead.")
    if not c.activations or len(set(c.activations)) != len(c.activations):
        raise ValueError(f"`activations` must list distinct activations. Got {c.activations!r} instead.")
    for a in c.activations:
        check_choice(a, "activations", ACTIVATIONS)
    if not c.estimators:
        raise ValueError("`estimators` must name at least one estimator. Got () instead.")
    for e in c.estimators:
        check_choice(e, "estimators", ESTIMATORS)
    check_int(c.epochs, "epochs", low=1, high=100_000)
    check_real(c.lr, "lr", low=0.0, high=1.0, low_inclusive=False)
    check_int(c.n_log, "n_log", low=2, high=500)
    if not c.n_bins:
        raise ValueError("`n_bins` must list at least one bin count. Got () instead.")
    for b in c.n_bins:
        check_int(b, "n_bins", low=2, high=100_000)
    check_positive(c.kde_noise_var, "kde_noise_var")
    check_int(c.kde_samples, "kde_samples", low=16, high=2**N_BITS)
    check_probability(c.train_frac, "train_frac")
    check_int(c.seed, "seed", low=0)
    check_int(c.n_seeds, "n_seeds", low=1, high=32)
    if c.batch is not None:
        check_int(c.batch, "batch", low=1)
    check_int(c.task_seed, "task_seed", low=0)


def log_epochs(epochs: int, n_log: int) -> np.ndarray:
    """About ``n_log`` distinct log-spaced epochs from 1 to ``epochs`` (fewer when they would repeat)."""
    return np.unique(np.round(np.geomspace(1, epochs, n_log)).astype(int))


def _seeded_net(activation: str, seed: int) -> nn.Sequential:
    """The 12-10-7-5-4-3-2 MLP with PyTorch's default init drawn from a private generator (thread-safe).

    The init draws only the Linear layers, so every activation (and the linear net, built here with ReLU modules
    that the feature-major trainer ignores) starts from the same weights for one seed.
    """
    act = "relu" if activation == "linear" else activation
    return make_mlp(SIZES, activation=act, generator=seeded_generator(seed))


def _act(z: torch.Tensor, act: str) -> torch.Tensor:
    return torch.tanh(z) if act == "tanh" else torch.relu(z) if act == "relu" else z


def _act_grad(d: torch.Tensor, h: torch.Tensor, act: str) -> torch.Tensor:
    """Back through the activation, from its output h: tanh' = 1 - h^2, relu' = 1[h > 0], linear' = 1.

    Through autograd's own fused kernels (one op each instead of two or three: 13 us instead of 39 us for tanh,
    14 us instead of 73 us for ReLU on a (1, 10, 3277) block, measured).
    """
    if act == "tanh":
        return torch.ops.aten.tanh_backward(d, h)
    return torch.ops.aten.threshold_backward(d, h, 0) if act == "relu" else d


class _FeatureMajorNets:
    """The nets of one run (activations x seeds) as one flat parameter vector, trained with hand-written backprop.

    Activations are feature-major, (seeds, width, n): each layer is one batched ``baddbmm`` over the seeds of an
    activation on short-and-wide matrices, several times faster than ``nn.Linear`` on (n, width) for these tiny
    widths, and without autograd's per-op overhead. The gradient is the one of the sum over nets of each net's mean
    cross-entropy (what autograd gives for ``sum(losses).backward()``), and a single fused Adam updates the flat
    vector (Adam is elementwise, so this equals one Adam per tensor and net). The flat layout is activation, then
    layer, then (W of shape (seeds, out, in), b of shape (seeds, out, 1)).

    Every step also adds its gradient and squared gradient to running sums, which :meth:`gradient_rows` turns into
    the mean and standard deviation of each layer's weight gradient over the steps since :meth:`reset_stats`.
    """

    def __init__(self, activations: tuple[str, ...], seeds: list[int], lr: float, device: torch.device):
        self.n_seeds = len(seeds)
        chunks = []
        for act in activations:
            linears = [[m for m in _seeded_net(act, s) if isinstance(m, nn.Linear)] for s in seeds]
            for i in range(len(SIZES) - 1):
                chunks.append(torch.stack([ls[i].weight.detach() for ls in linears]).reshape(-1))
                chunks.append(torch.stack([ls[i].bias.detach() for ls in linears]).reshape(-1))
        self.flat = torch.cat(chunks).to(device)  # (n_params,)
        self.flat.grad = torch.zeros_like(self.flat)
        self.params = self._views(self.flat, activations)  # {act: [(W (S, out, in), b (S, out, 1)), ...]}
        self.grads = self._views(self.flat.grad, activations)
        self.sum_g, self.sum_g2 = torch.zeros_like(self.flat), torch.zeros_like(self.flat)
        self.stats = {"g": self._views(self.sum_g, activations), "g2": self._views(self.sum_g2, activations)}
        self.n_batches = 0
        self.opt = torch.optim.Adam([self.flat], lr=lr, fused=self.flat.device.type == "cpu")

    def _views(self, buf: torch.Tensor, activations: tuple[str, ...]) -> dict[str, list[tuple]]:
        out, o, s = {}, 0, self.n_seeds
        for act in activations:
            out[act] = []
            for fan_in, fan_out in itertools.pairwise(SIZES):
                w = buf[o : o + s * fan_out * fan_in].view(s, fan_out, fan_in)
                o += w.numel()
                out[act].append((w, buf[o : o + s * fan_out].view(s, fan_out, 1)))
                o += s * fan_out
        return out

    @torch.no_grad()
    def forward(self, act: str, x_t: torch.Tensor) -> list[torch.Tensor]:
        """Input (12, n), then each layer's output (S, width, n), feature-major; the last are the logits."""
        hs = [x_t]
        layers = self.params[act]
        for i, (w, b) in enumerate(layers):
            if i == 0:  # the input is shared by the seeds: one (S * out, in) @ (in, n) product
                z = torch.addmm(b.reshape(-1, 1), w.reshape(-1, w.shape[2]), x_t).view(self.n_seeds, w.shape[1], -1)
            else:
                z = torch.baddbmm(b, w, hs[-1])  # (S, out, n)
            hs.append(z if i == len(layers) - 1 else _act(z, act))
        return hs

    @torch.no_grad()
    def gradients(self, x_t: torch.Tensor, y_onehot_t: torch.Tensor) -> torch.Tensor:
        """Write the gradient of the summed mean cross-entropies into ``flat.grad``; return the losses (A * S,)."""
        n, losses = x_t.shape[1], []
        for act, layers in self.params.items():
            hs = self.forward(act, x_t)
            logp = torch.log_softmax(hs[-1], dim=1)  # (S, 2, n)
            losses.append(-(logp * y_onehot_t).sum(dim=(1, 2)) / n)
            d = (logp.exp() - y_onehot_t) / n  # (S, 2, n) d loss / d logits
            for i in range(len(layers) - 1, -1, -1):
                gw, gb = self.grads[act][i]
                if i == 0:
                    torch.mm(d.reshape(-1, n), x_t.T, out=gw.view(-1, gw.shape[2]))
                else:
                    torch.bmm(d, hs[i].transpose(1, 2), out=gw)
                torch.sum(d, dim=2, keepdim=True, out=gb)
                if i:
                    d = _act_grad(torch.bmm(layers[i][0].transpose(1, 2), d), hs[i], act)  # (S, in, n)
        return torch.cat(losses)

    @torch.no_grad()
    def step(self, x_t: torch.Tensor, y_onehot_t: torch.Tensor) -> torch.Tensor:
        """One Adam step on the summed losses; the gradient joins the running sums. Returns the losses (A * S,)."""
        losses = self.gradients(x_t, y_onehot_t)
        self.sum_g.add_(self.flat.grad)
        self.sum_g2.addcmul_(self.flat.grad, self.flat.grad)
        self.n_batches += 1
        self.opt.step()
        return losses

    def reset_stats(self) -> None:
        """Start new running sums of the gradient (at the start of an epoch)."""
        self.sum_g.zero_()
        self.sum_g2.zero_()
        self.n_batches = 0

    @torch.no_grad()
    def gradient_rows(self, epoch: int, first_seed: int) -> list[dict]:
        """Norms of the mean and standard deviation of each layer's weight gradient over the batches since reset."""
        rows, b = [], max(self.n_batches, 1)
        for act, layers in self.params.items():
            for layer, ((w, _), (s1, _), (s2, _)) in enumerate(
                zip(layers, self.stats["g"][act], self.stats["g2"][act], strict=True), start=1
            ):
                mean = s1 / b  # (S, out, in)
                var = (s2 / b - mean * mean).clamp_min(0.0)  # population variance over the batches
                m, sd = mean.square().sum(dim=(1, 2)).sqrt().tolist(), var.sum(dim=(1, 2)).sqrt().tolist()
                wn = w.square().sum(dim=(1, 2)).sqrt().tolist()
                for k in range(self.n_seeds):
                    snr = m[k] / sd[k] if sd[k] > 0 else float("inf")
                    rows.append({"epoch": epoch, "activation": act, "seed": first_seed + k, "layer": layer,
                                 "grad_mean": m[k], "grad_std": sd[k], "snr": snr, "weight_norm": wn[k]})  # fmt: skip
        return rows


def _layer_outputs(nets: _FeatureMajorNets, act: str, x_t: torch.Tensor) -> np.ndarray:
    """Hidden activations after each nonlinearity, then the softmax output: [seed][layer] -> (n, width) array."""
    hs = nets.forward(act, x_t)[1:]
    hs[-1] = torch.softmax(hs[-1], dim=1)
    per_layer = [h.transpose(1, 2).cpu().numpy() for h in hs]  # (S, n, width) each
    return [[h[k] for h in per_layer] for k in range(nets.n_seeds)]


def _measure(nets, x_all_t, y_np, train, test, kde_rows, c: InfoPlaneConfig, epoch: int) -> list[dict]:
    """One row per (activation, seed, layer, estimator, n_bins) for the nets' current weights."""
    rows = []
    for act in c.activations:
        for k, outs in enumerate(_layer_outputs(nets, act, x_all_t)):
            pred = outs[-1].argmax(axis=1)
            train_acc = float((pred[train] == y_np[train]).mean())
            test_acc = float((pred[test] == y_np[test]).mean()) if test.size else float("nan")
            for layer, h in enumerate(outs, start=1):
                sat = float((np.abs(h) > 0.99).mean()) if act == "tanh" and layer < len(outs) else float("nan")
                dead = int((np.ptp(h, axis=0) < 1e-6).sum())
                exact, distinct = exact_information(h)
                for est in c.estimators:
                    for n_bins in c.n_bins if est != "kde" else (None,):
                        if est == "kde":
                            i_tx, i_ty = kde_information(h[kde_rows], y_np[kde_rows], noise_var=c.kde_noise_var)
                        else:
                            value_range = None if est == "adaptive" else (-1.0, 1.0)
                            i_tx, i_ty = binned_information(h, y_np, n_bins=n_bins, value_range=value_range)
                        rows.append(
                            {"epoch": epoch, "layer": layer, "i_tx": i_tx, "i_ty": i_ty, "activation": act,
                             "estimator": est, "n_bins": n_bins, "seed": c.seed + k, "train_acc": train_acc,
                             "test_acc": test_acc, "frac_saturated": sat, "dead_units": dead,
                             "exact_i_tx": exact, "distinct": distinct}
                        )  # fmt: skip
    return rows


def information_plane(config: InfoPlaneConfig = InfoPlaneConfig(), *, callback: Callback = None) -> InfoPlaneResult:
    """Train the 12-10-7-5-4-3-2 network per activation and seed; estimate each layer's (I(X;T), I(T;Y)) over training.

    Adam with cross-entropy on ``train_frac`` of the 4096 patterns of :func:`twelve_bit_task`, full batch or in
    minibatches of ``batch`` rows (a fresh order every epoch from the run's seed, shared by the seeds), through
    :func:`core.training.train_loop`. At ~``n_log`` log-spaced epochs every layer's activations on all patterns are
    measured with every estimator in ``config.estimators`` (``"adaptive"``: ``n_bins`` bins over the layer's
    min..max; ``"fixed"``: ``n_bins`` bins on [-1, 1]; ``"kde"``: :func:`kde_information` on ``kde_samples``
    patterns). Layers 1-5 are the hidden layers, layer 6 the softmax output. At ~``2 n_log`` log-spaced epochs (and
    the progress points) the mean and standard deviation of each layer's weight gradient over that epoch's
    minibatches are recorded (Shwartz-Ziv & Tishby's drift and diffusion phases).

    Parameters
    ----------
    config : InfoPlaneConfig
        The run's settings.
    callback : callable, optional
        ``callback(record)`` ~25 times and at every recorded epoch: the record carries ``"progress"`` (0..1),
        ``"epoch"``, ``"loss"``, ``"grad_rows"`` (new rows of ``gradients``) and, at the measured epochs, ``"rows"``
        (new rows of ``plane``). Raising inside it cancels the run.

    Returns
    -------
    InfoPlaneResult

    Raises
    ------
    Diverged
        If a loss becomes NaN or infinite (lower ``lr``).
    """
    _check_config(config)
    c = config
    device = resolve_device(c.device)
    x_np, y_np = twelve_bit_task(seed=c.task_seed)
    rng = np.random.default_rng(c.task_seed)
    perm = rng.permutation(x_np.shape[0])  # (4096,)
    n_train = round(c.train_frac * x_np.shape[0])
    train, test = perm[:n_train], perm[n_train:]
    kde_rows = np.sort(rng.choice(x_np.shape[0], size=c.kde_samples, replace=False))  # (kde_samples,)
    x_all, y_all = as_tensors(x_np, y_np, device=device)
    x_all_t = x_all.T.contiguous()  # (12, 4096) feature-major
    x_tr_t = x_all_t[:, train].contiguous()  # (12, n_train)
    y_tr_t = nn.functional.one_hot(y_all[train], 2).T.to(x_all.dtype).contiguous()  # (2, n_train)
    nets = _FeatureMajorNets(c.activations, [c.seed + k for k in range(c.n_seeds)], c.lr, device)
    per_epoch = 1 if c.batch is None or c.batch >= n_train else -(-n_train // c.batch)
    logged = set(log_epochs(c.epochs, c.n_log).tolist())
    every = max(1, c.epochs // 25)  # ~25 progress records: each may redraw the live chart (~40 ms)
    recorded = logged | set(log_epochs(c.epochs, 2 * c.n_log).tolist()) | set(range(every, c.epochs + 1, every))

    def step(t: int, rows: torch.Tensor | None) -> torch.Tensor:
        if (t - 1) % per_epoch == 0:
            nets.reset_stats()
        if rows is None:
            return nets.step(x_tr_t, y_tr_t)
        return nets.step(x_tr_t[:, rows], y_tr_t[:, rows])

    def evaluate(t: int) -> dict:
        epoch = t // per_epoch
        record = {"epoch": epoch, "grad_rows": nets.gradient_rows(epoch, c.seed)}
        if epoch in logged:
            record["rows"] = _measure(nets, x_all_t, y_np, train, test, kde_rows, c, epoch)
        return record

    records = train_loop(
        step,
        steps=c.epochs * per_epoch,
        evaluate=evaluate,
        eval_steps=[e * per_epoch for e in sorted(recorded)],
        n=n_train,
        batch=c.batch,
        generator=seeded_generator(c.seed),
        device=device,
        callback=callback,
        knob="lr",
    )
    plane = pd.DataFrame([row for r in records for row in r.get("rows", ())])
    plane["n_bins"] = plane["n_bins"].astype("Int64")
    cols = ["epoch", "layer", "i_tx", "i_ty", "activation", "estimator", "n_bins", "seed"]
    gradients = pd.DataFrame([row for r in records for row in r["grad_rows"]])
    return InfoPlaneResult(plane[cols + [k for k in plane.columns if k not in cols]], gradients, per_epoch)


_BAND_KEYS = ["epoch", "activation", "estimator", "n_bins", "layer"]


def seed_band(plane: pd.DataFrame) -> pd.DataFrame:
    """The mean over seeds and the min..max band of each layer's (I(X;T), I(T;Y)), as IDNNs averages its runs.

    Parameters
    ----------
    plane : DataFrame
        ``InfoPlaneResult.plane``.

    Returns
    -------
    DataFrame
        One row per (epoch, activation, estimator, n_bins, layer): ``i_tx``/``i_ty`` (means, bits),
        ``i_tx_lo``/``i_tx_hi`` and ``i_ty_lo``/``i_ty_hi`` (min and max over seeds), the mean ``train_acc`` and
        ``test_acc``, ``exact_i_tx`` and ``distinct``, and ``n_seeds``.
    """
    need = {*_BAND_KEYS, "seed", "i_tx", "i_ty", "train_acc", "test_acc", "exact_i_tx", "distinct"}
    if not isinstance(plane, pd.DataFrame) or plane.empty or not need <= set(plane.columns):
        raise ValueError(f"`plane` must be a non-empty InfoPlaneResult.plane with columns {sorted(need)}.")
    g = plane.groupby(_BAND_KEYS, dropna=False, sort=False)  # keeps the run's order: epoch, then activation
    return g.agg(
        i_tx=("i_tx", "mean"), i_tx_lo=("i_tx", "min"), i_tx_hi=("i_tx", "max"),
        i_ty=("i_ty", "mean"), i_ty_lo=("i_ty", "min"), i_ty_hi=("i_ty", "max"),
        train_acc=("train_acc", "mean"), test_acc=("test_acc", "mean"),
        exact_i_tx=("exact_i_tx", "mean"), distinct=("distinct", "mean"), n_seeds=("seed", "nunique"),
    ).reset_index()  # fmt: skip


def compression_summary(plane: pd.DataFrame, *, fit_frac: float = 0.99) -> pd.DataFrame:
    """Per (activation, estimator, n_bins, layer): how far the seed-mean I(X;T) falls from its peak, and after fitting.

    The "compression phase" is a fall of I(X;T) after the network has fitted its training set; ``fit_epoch`` is
    the first logged epoch whose (seed-mean) training accuracy reaches ``fit_frac`` times the best accuracy of the
    run (so a short run that never reaches 100 % still has a fitting point). With several seeds, the curves are
    first averaged over seeds (:func:`seed_band`).

    Parameters
    ----------
    plane : DataFrame
        ``InfoPlaneResult.plane``.
    fit_frac : float
        Share of the run's best training accuracy that counts as fitted.

    Returns
    -------
    DataFrame
        ``activation``, ``estimator``, ``n_bins``, ``layer``, ``peak_i_tx``, ``peak_epoch``, ``fit_epoch``,
        ``fit_acc``, ``fit_i_tx``, ``final_i_tx``, ``compression`` (peak - final), ``after_fit`` (fit - final) and
        ``final_i_ty``; information in bits.
    """
    fit_frac = check_probability(fit_frac, "fit_frac", open_interval=False)
    band = seed_band(plane)
    out = []
    keys = ["activation", "estimator", "n_bins", "layer"]
    for key, g in band.groupby(keys, dropna=False, sort=False):
        peak, last = g.loc[g["i_tx"].idxmax()], g.iloc[-1]
        fit = g[g["train_acc"] >= fit_frac * g["train_acc"].max()].iloc[0]
        drops = (peak["i_tx"] - last["i_tx"], fit["i_tx"] - last["i_tx"])
        out.append((*key, peak["i_tx"], int(peak["epoch"]), int(fit["epoch"]), fit["train_acc"], fit["i_tx"],
                    last["i_tx"], *drops, last["i_ty"]))  # fmt: skip
    cols = [*keys, "peak_i_tx", "peak_epoch", "fit_epoch", "fit_acc", "fit_i_tx", "final_i_tx", "compression"]
    return pd.DataFrame(out, columns=[*cols, "after_fit", "final_i_ty"])


@dataclass(frozen=True)
class LayerReport:
    """The numbers a reader should look at for one layer and estimator setting (seed means where seeds differ).

    ``by_activation``: {activation: row of :func:`compression_summary` plus the final ``train_acc``/``test_acc``};
    ``after_fit``: DataFrame with ``estimator``, ``n_bins`` and one column per activation holding the fall of I(X;T)
    after fitting (bits), one row per estimator at the given ``n_bins``; ``saturated``: share of saturated tanh
    units in the layer at the end (NaN without tanh); ``dead_first``/``dead_last``: ReLU hidden units constant on
    all patterns at the first/last logged epoch, summed over seeds; ``exact``: {activation: {``first``, ``last``,
    ``min``: exact float32 I(X;T) in bits, ``distinct_last``: distinct patterns}}; ``n_seeds``.
    """

    by_activation: dict
    after_fit: pd.DataFrame
    saturated: float
    dead_first: int
    dead_last: int
    exact: dict
    n_seeds: int


def layer_report(
    plane: pd.DataFrame, *, estimator: str, n_bins: int, layer: int, fit_frac: float = 0.99
) -> LayerReport:
    """Gather the numbers of one layer and estimator setting from a run's ``plane`` (``n_bins`` ignored for the KDE).

    Parameters
    ----------
    plane : DataFrame
        ``InfoPlaneResult.plane``.
    estimator : str
        One of ``ESTIMATORS``.
    n_bins : int
        Bin count of the binning estimators.
    layer : int
        Layer 1..6.
    fit_frac : float
        Passed to :func:`compression_summary`.
    """
    check_choice(estimator, "estimator", ESTIMATORS)
    layer = check_int(layer, "layer", low=1, high=len(SIZES) - 1)
    summary = compression_summary(plane, fit_frac=fit_frac)
    band = seed_band(plane)
    at_layer = summary[summary["layer"] == layer]
    pick = at_layer[(at_layer["estimator"] == estimator) & ((at_layer["n_bins"] == n_bins) | (estimator == "kde"))]
    last = band[band["epoch"] == band["epoch"].max()]
    by_act = {}
    for r in pick.to_dict("records"):
        acc = last[last["activation"] == r["activation"]].iloc[0]
        by_act[r["activation"]] = {**r, "train_acc": float(acc["train_acc"]), "test_acc": float(acc["test_acc"])}
    final = plane[plane["epoch"] == plane["epoch"].max()]
    sat = final[(final["activation"] == "tanh") & (final["layer"] == layer)]
    relu = plane[(plane["activation"] == "relu") & (plane["layer"] < len(SIZES) - 1)]
    dead = relu.drop_duplicates(["epoch", "seed", "layer"]).groupby("epoch")["dead_units"].sum()
    same_bins = at_layer[(at_layer["n_bins"] == n_bins).fillna(False) | (at_layer["estimator"] == "kde")]
    groups = same_bins.groupby(["estimator", "n_bins"], dropna=False, sort=False)
    after = [{"estimator": e, "n_bins": b, **dict(zip(g["activation"], g["after_fit"]))} for (e, b), g in groups]
    exact = {}
    one_setting = band[(band["layer"] == layer)].drop_duplicates(["epoch", "activation"])
    for act, g in one_setting.sort_values("epoch").groupby("activation"):
        exact[act] = {"first": float(g["exact_i_tx"].iloc[0]), "last": float(g["exact_i_tx"].iloc[-1]),
                      "min": float(g["exact_i_tx"].min()), "distinct_last": round(g["distinct"].iloc[-1])}  # fmt: skip
    return LayerReport(
        by_activation=by_act,
        after_fit=pd.DataFrame(after),
        saturated=float(sat.drop_duplicates("seed")["frac_saturated"].mean()) if len(sat) else float("nan"),
        dead_first=int(dead.iloc[0]) if len(dead) else 0,
        dead_last=int(dead.iloc[-1]) if len(dead) else 0,
        exact=exact,
        n_seeds=int(plane["seed"].nunique()),
    )


def drift_diffusion(gradients: pd.DataFrame) -> pd.DataFrame:
    """Where each layer passes from drift (gradient mean > its minibatch noise) to diffusion (noise > mean).

    Shwartz-Ziv & Tishby (2017) saw the norm of the mean gradient over an epoch's minibatches dominate its standard
    deviation early (drift, high signal-to-noise), and fall below it later (diffusion). Per seed-mean curve:

    Parameters
    ----------
    gradients : DataFrame
        ``InfoPlaneResult.gradients``.

    Returns
    -------
    DataFrame
        One row per (activation, layer): ``snr_first`` and ``snr_last`` (seed-mean grad_mean / seed-mean grad_std at
        the first and last recorded epoch; inf for full batch, where the std is 0), ``diffusion_epoch`` (first
        recorded epoch with SNR < 1 after which it stays below 1 for at least half the remaining records; NaN if
        never), ``mean_first``/``mean_last`` and ``std_first``/``std_last`` (seed means of the norms).
    """
    need = {"epoch", "activation", "seed", "layer", "grad_mean", "grad_std"}
    if not isinstance(gradients, pd.DataFrame) or gradients.empty or not need <= set(gradients.columns):
        raise ValueError(f"`gradients` must be a non-empty InfoPlaneResult.gradients with columns {sorted(need)}.")
    mean = gradients.groupby(["activation", "layer", "epoch"], sort=True)[["grad_mean", "grad_std"]].mean()
    out = []
    for (act, layer), g in mean.groupby(level=["activation", "layer"], sort=False):
        m, s = g["grad_mean"].to_numpy(), g["grad_std"].to_numpy()
        snr = np.where(s > 0, m / np.where(s > 0, s, 1.0), np.inf)
        epochs = g.index.get_level_values("epoch").to_numpy()
        below = snr < 1.0
        start = next((i for i in range(len(snr)) if below[i] and below[i:].mean() >= 0.5), None)
        out.append({"activation": act, "layer": int(layer), "snr_first": float(snr[0]), "snr_last": float(snr[-1]),
                    "diffusion_epoch": float(epochs[start]) if start is not None else float("nan"),
                    "mean_first": float(m[0]), "mean_last": float(m[-1]),
                    "std_first": float(s[0]), "std_last": float(s[-1])})  # fmt: skip
    return pd.DataFrame(out)
