"""The information plane of a training network, and the estimators that draw it.

Shwartz-Ziv & Tishby (2017) trained a 12-10-7-5-4-3-2 tanh network on 4096 12-bit patterns and plotted, for each
layer T, I(X;T) against I(T;Y) over training: a fitting phase, then a "compression phase" in which I(X;T) falls.
Saxe et al. (ICLR 2018) showed the compression comes from tanh saturation and from how the mutual information is
estimated: a deterministic network has I(X;T) = H(X) on a continuous T, so every estimate is really a statement about
a binning or a noise level. This module trains both activations on a generated 12-bit task and estimates the plane
three ways from the same activations: bins over each layer's range, fixed bins on [-1, 1], and the KDE upper bound
(Kolchinsky & Tracey 2017) with Gaussian noise of a stated variance. Information is in bits.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn

from core._validation import check_choice, check_int, check_positive, check_probability, check_real
from core.training import as_tensors, make_mlp, resolve_device

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
    """Dense ids of the distinct rows of an (n, w) integer table with entries in [0, base)."""
    ids = np.zeros(codes.shape[0], dtype=np.int64)  # (n,)
    for j in range(codes.shape[1]):
        if ids.max(initial=0) >= (2**62) // base:
            ids = np.unique(ids, return_inverse=True)[1]
        ids = ids * base + codes[:, j]
    return np.unique(ids, return_inverse=True)[1]


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
    """Settings of one information-plane run (both activations train side by side, same initial weights)."""

    activations: tuple[str, ...] = ("tanh", "relu")  # the comparison of Saxe et al. (2018); "linear" is their control
    epochs: int = 3000  # full-batch Adam epochs: ~7 s per net on one idle core, shows most of the tanh compression
    lr: float = 1e-3  # Adam's default; what the measured recipe used
    n_log: int = 30  # ~30 log-spaced epochs, as in the papers' plots
    n_bins: tuple[int, ...] = (10, 30, 100)  # bin counts estimated (30 is the papers' choice); the page switches
    estimators: tuple[str, ...] = ("adaptive", "fixed")  # the binnings are cheap; add "kde" (~40% of a run) to see it
    kde_noise_var: float = 0.1  # noise std ~0.3: a few bins' width on [-1, 1]
    kde_samples: int = 1024  # patterns used by the KDE (O(n^2) cost; 4096 would take ~16x longer)
    train_frac: float = 0.8  # 80/20 split as in Shwartz-Ziv & Tishby; MI is measured on all 4096 patterns
    seed: int = 0  # initial weights (shared by both activations); 0 trains a ReLU net without dead units
    task_seed: int = 0  # the rule (A, b), the split and the KDE subsample
    device: str = "cpu"


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
    return make_mlp(SIZES, activation=act, generator=torch.Generator().manual_seed(seed))


def _act(z: torch.Tensor, act: str) -> torch.Tensor:
    return torch.tanh(z) if act == "tanh" else torch.relu(z) if act == "relu" else z


def _act_grad(d: torch.Tensor, h: torch.Tensor, act: str) -> torch.Tensor:
    """Back through the activation, from its output h: tanh' = 1 - h^2, relu' = 1[h > 0], linear' = 1."""
    return d * (1.0 - h * h) if act == "tanh" else d * (h > 0) if act == "relu" else d


class _FeatureMajorNets:
    """The nets of one run as one flat parameter vector, trained feature-major with hand-written backprop.

    Activations are (width, n): each layer is one ``addmm`` on a short-and-wide matrix, several times faster than
    ``nn.Linear`` on (n, width) for these tiny widths, and without autograd's per-op overhead. The gradient is the
    one of the sum over nets of the mean cross-entropy (what autograd gives for ``sum(losses).backward()``), and a
    single fused Adam updates the flat vector (Adam is elementwise, so this equals one Adam per tensor).
    """

    def __init__(self, nets: dict[str, nn.Sequential], lr: float):
        linears = {a: [m for m in net if isinstance(m, nn.Linear)] for a, net in nets.items()}
        chunks = [t.detach().reshape(-1) for ls in linears.values() for m in ls for t in (m.weight, m.bias)]
        self.flat = torch.cat(chunks).clone()  # (n_params,)
        self.flat.grad = torch.zeros_like(self.flat)
        self.params = self._views(self.flat, linears)  # {act: [(W (out, in), b (out,)), ...]}
        self.grads = self._views(self.flat.grad, linears)
        self.opt = torch.optim.Adam([self.flat], lr=lr, fused=self.flat.device.type == "cpu")

    @staticmethod
    def _views(buf: torch.Tensor, linears: dict[str, list[nn.Linear]]) -> dict[str, list[tuple]]:
        out, o = {}, 0
        for act, ls in linears.items():
            out[act] = []
            for m in ls:
                w = buf[o : o + m.weight.numel()].view(m.weight.shape)
                o += m.weight.numel()
                out[act].append((w, buf[o : o + m.out_features]))
                o += m.out_features
        return out

    @torch.no_grad()
    def forward(self, act: str, x_t: torch.Tensor) -> list[torch.Tensor]:
        """Input, then each layer's output, feature-major: (width, n) each; the last are the logits."""
        hs = [x_t]
        layers = self.params[act]
        for i, (w, b) in enumerate(layers):
            z = torch.addmm(b.unsqueeze(1), w, hs[-1])  # (out, n)
            hs.append(z if i == len(layers) - 1 else _act(z, act))
        return hs

    @torch.no_grad()
    def step(self, x_t: torch.Tensor, y_onehot_t: torch.Tensor) -> float:
        """One full-batch Adam step on the summed mean cross-entropy; returns the mean loss over nets."""
        n, total = x_t.shape[1], 0.0
        for act, layers in self.params.items():
            hs = self.forward(act, x_t)
            logp = torch.log_softmax(hs[-1], dim=0)  # (2, n)
            total += float(-(logp * y_onehot_t).sum()) / n
            d = (logp.exp() - y_onehot_t) / n  # (2, n) d loss / d logits
            for i in range(len(layers) - 1, -1, -1):
                gw, gb = self.grads[act][i]
                torch.mm(d, hs[i].T, out=gw)
                torch.sum(d, dim=1, out=gb)
                if i:
                    d = layers[i][0].T @ d  # (in, n)
                    d = _act_grad(d, hs[i], act)
        self.opt.step()
        return total / len(self.params)


def _layer_outputs(nets: _FeatureMajorNets, act: str, x_t: torch.Tensor) -> list[np.ndarray]:
    """Hidden activations after each nonlinearity, then the softmax output: one (n, width) array per layer."""
    hs = nets.forward(act, x_t)[1:]
    hs[-1] = torch.softmax(hs[-1], dim=0)
    return [h.T.cpu().numpy() for h in hs]


def _measure(nets, x_all_t, y_np, train, test, kde_rows, c: InfoPlaneConfig, epoch: int) -> list[dict]:
    """One row per (activation, layer, estimator, n_bins) for the nets' current weights."""
    rows = []
    for act in c.activations:
        outs = _layer_outputs(nets, act, x_all_t)
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
                         "estimator": est, "n_bins": n_bins, "train_acc": train_acc, "test_acc": test_acc,
                         "frac_saturated": sat, "dead_units": dead,
                         "exact_i_tx": exact, "distinct": distinct}
                    )  # fmt: skip
    return rows


def information_plane(
    config: InfoPlaneConfig = InfoPlaneConfig(), *, callback: Callable[[dict], None] | None = None
) -> pd.DataFrame:
    """Train the 12-10-7-5-4-3-2 network per activation and estimate each layer's (I(X;T), I(T;Y)) over training.

    Full-batch Adam with cross-entropy on ``train_frac`` of the 4096 patterns of :func:`twelve_bit_task`; at ~``n_log``
    log-spaced epochs every layer's activations on all patterns are measured with every estimator in
    ``config.estimators`` (``"adaptive"``: ``n_bins`` bins over the layer's min..max; ``"fixed"``: ``n_bins`` bins
    on [-1, 1]; ``"kde"``: :func:`kde_information` on ``kde_samples`` patterns). Layers 1-5 are the hidden layers,
    layer 6 the softmax output.

    Parameters
    ----------
    config : InfoPlaneConfig
        The run's settings.
    callback : callable, optional
        Called with a dict carrying ``"progress"`` (0..1) and ``"epoch"``: ~25 times with the mean ``"loss"``, and
        at each logged epoch with ``"rows"``, the list of new rows (dicts with the columns below).

    Returns
    -------
    DataFrame
        Long format, one row per (epoch, activation, layer, estimator, n_bins): ``epoch``, ``layer``, ``i_tx``,
        ``i_ty`` (bits), ``activation``, ``estimator``, ``n_bins`` (NA for the KDE), ``train_acc``, ``test_acc``,
        ``frac_saturated`` (share of |h| > 0.99, tanh hidden layers), ``dead_units`` (units constant on all
        4096 patterns), ``exact_i_tx`` (bits) and ``distinct`` from :func:`exact_information` on the float32
        activations.
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
    nets = _FeatureMajorNets({a: _seeded_net(a, c.seed).to(device) for a in c.activations}, c.lr)
    logged = set(log_epochs(c.epochs, c.n_log).tolist())
    every = max(1, c.epochs // 25)  # ~25 progress calls: each may redraw the live chart (~40 ms)
    rows: list[dict] = []
    for epoch in range(1, c.epochs + 1):
        loss = nets.step(x_tr_t, y_tr_t)
        if epoch in logged:
            new_rows = _measure(nets, x_all_t, y_np, train, test, kde_rows, c, epoch)
            rows.extend(new_rows)
            if callback is not None:
                callback({"progress": epoch / c.epochs, "epoch": epoch, "rows": new_rows})
        elif callback is not None and epoch % every == 0:
            callback({"progress": epoch / c.epochs, "epoch": epoch, "loss": loss})
    df = pd.DataFrame(rows)
    df["n_bins"] = df["n_bins"].astype("Int64")
    cols = ["epoch", "layer", "i_tx", "i_ty", "activation", "estimator", "n_bins"]
    return df[cols + [k for k in df.columns if k not in cols]]


def compression_summary(df: pd.DataFrame, *, fit_frac: float = 0.99) -> pd.DataFrame:
    """Per (activation, estimator, n_bins, layer): how far I(X;T) falls from its peak, and after fitting.

    The "compression phase" is a fall of I(X;T) after the network has fitted its training set; ``fit_epoch`` is
    the first logged epoch whose training accuracy reaches ``fit_frac`` times the best accuracy of the run (so a
    short run that never reaches 100 % still has a fitting point).

    Parameters
    ----------
    df : DataFrame
        Output of :func:`information_plane`.
    fit_frac : float
        Share of the run's best training accuracy that counts as fitted.

    Returns
    -------
    DataFrame
        ``activation``, ``estimator``, ``n_bins``, ``layer``, ``peak_i_tx``, ``peak_epoch``, ``fit_epoch``,
        ``fit_acc``, ``fit_i_tx``, ``final_i_tx``, ``compression`` (peak - final), ``after_fit`` (fit - final) and
        ``final_i_ty``; information in bits.
    """
    need = {"epoch", "layer", "i_tx", "i_ty", "activation", "estimator", "n_bins", "train_acc"}
    if not isinstance(df, pd.DataFrame) or df.empty or not need <= set(df.columns):
        raise ValueError(f"`df` must be a non-empty output of information_plane with columns {sorted(need)}.")
    fit_frac = check_probability(fit_frac, "fit_frac", open_interval=False)
    out = []
    keys = ["activation", "estimator", "n_bins", "layer"]
    for key, g in df.sort_values("epoch").groupby(keys, dropna=False, sort=False):
        peak, last = g.loc[g["i_tx"].idxmax()], g.iloc[-1]
        fit = g[g["train_acc"] >= fit_frac * g["train_acc"].max()].iloc[0]
        drops = (peak["i_tx"] - last["i_tx"], fit["i_tx"] - last["i_tx"])
        out.append((*key, peak["i_tx"], int(peak["epoch"]), int(fit["epoch"]), fit["train_acc"], fit["i_tx"],
                    last["i_tx"], *drops, last["i_ty"]))  # fmt: skip
    cols = [*keys, "peak_i_tx", "peak_epoch", "fit_epoch", "fit_acc", "fit_i_tx", "final_i_tx", "compression"]
    return pd.DataFrame(out, columns=[*cols, "after_fit", "final_i_ty"])


def layer_report(df: pd.DataFrame, *, estimator: str, n_bins: int, layer: int, fit_frac: float = 0.99) -> dict:
    """The numbers a reader should look at for one layer and estimator setting, gathered from a run.

    Parameters
    ----------
    df : DataFrame
        Output of :func:`information_plane`.
    estimator : str
        One of ``ESTIMATORS``; ``n_bins`` is ignored for ``"kde"``.
    n_bins : int
        Bin count of the binning estimators.
    layer : int
        Layer 1..6.
    fit_frac : float
        Passed to :func:`compression_summary`.

    Returns
    -------
    dict
        ``"by_activation"``: {activation: row of :func:`compression_summary` plus ``train_acc``/``test_acc`` at the
        end}; ``"after_fit"``: DataFrame with ``estimator``, ``n_bins`` and one column per activation holding the
        fall of I(X;T) after fitting (bits), one row per estimator at the given ``n_bins``; ``"saturated"``: share
        of saturated tanh units in the layer at the end (NaN without tanh); ``"dead_first"``/``"dead_last"``: ReLU
        hidden units constant on all patterns at the first/last logged epoch; ``"exact"``: {activation: dict of
        ``first``/``last``/``min`` exact float32 I(X;T) (bits) of the layer and ``distinct_last`` (patterns)}.
    """
    check_choice(estimator, "estimator", ESTIMATORS)
    layer = check_int(layer, "layer", low=1, high=len(SIZES) - 1)
    summary = compression_summary(df, fit_frac=fit_frac)
    at_layer = summary[summary["layer"] == layer]
    pick = at_layer[(at_layer["estimator"] == estimator) & ((at_layer["n_bins"] == n_bins) | (estimator == "kde"))]
    last = df[df["epoch"] == df["epoch"].max()]
    by_act = {}
    for r in pick.to_dict("records"):
        acc = last[last["activation"] == r["activation"]].iloc[0]
        by_act[r["activation"]] = {**r, "train_acc": float(acc["train_acc"]), "test_acc": float(acc["test_acc"])}
    sat = last[(last["activation"] == "tanh") & (last["layer"] == layer)]["frac_saturated"]
    relu = df[(df["activation"] == "relu") & (df["layer"] < len(SIZES) - 1)]
    dead = relu.drop_duplicates(["epoch", "layer"]).groupby("epoch")["dead_units"].sum()
    same_bins = at_layer[(at_layer["n_bins"] == n_bins).fillna(False) | (at_layer["estimator"] == "kde")]
    groups = same_bins.groupby(["estimator", "n_bins"], dropna=False, sort=False)
    after = [{"estimator": e, "n_bins": b, **dict(zip(g["activation"], g["after_fit"]))} for (e, b), g in groups]
    exact = {}
    for act, g in (
        df[df["layer"] == layer].drop_duplicates(["epoch", "activation"]).sort_values("epoch").groupby("activation")
    ):
        exact[act] = {"first": float(g["exact_i_tx"].iloc[0]), "last": float(g["exact_i_tx"].iloc[-1]),
                      "min": float(g["exact_i_tx"].min()), "distinct_last": int(g["distinct"].iloc[-1])}  # fmt: skip
    return {
        "exact": exact,
        "by_activation": by_act,
        "after_fit": pd.DataFrame(after),
        "saturated": float(sat.iloc[0]) if len(sat) else float("nan"),
        "dead_first": int(dead.iloc[0]) if len(dead) else 0,
        "dead_last": int(dead.iloc[-1]) if len(dead) else 0,
    }
