"""Neural collapse, the training half: a real network on digits and the unconstrained-features model.

A network trained far past zero training error with weight decay and learning-rate decay collapses its last-layer
features onto a simplex ETF (Papyan, Han & Donoho, PNAS 2020). The unconstrained-features model treats the
features as free variables (Mixon et al. 2020; Zhu et al., NeurIPS 2021), where the ETF is the exact optimum.
The metrics live in :mod:`core.neural_collapse.metrics`.
"""

from __future__ import annotations

import io
import math
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import torch
from torch import nn

from core._validation import check_int, check_positive, check_real
from core.data import digits_split
from core.neural_collapse.metrics import (
    METRICS,
    CollapseMetrics,
    class_geometry,
    collapse_metrics,
    cosine_table,
    simplex_clouds,
    simplex_view,
    subset_cosines,
)
from core.training import (
    Callback,
    Diverged,
    as_tensors,
    autograd_step,
    cosine_schedule,
    init_default_,
    make_mlp,
    resolve_device,
    seeded_generator,
    train_loop,
)


def _eval_points(n: int, n_evals: int) -> list[int]:
    """About ``n_evals`` checkpoints in 0..n: half log-spaced (dense early), half evenly spaced."""
    log_pts = np.unique(np.round(np.geomspace(1, n, max(n_evals // 2, 2))).astype(int))
    lin_pts = np.round(np.linspace(0, n, max(n_evals - len(log_pts), 2))).astype(int)
    return sorted({0, n, *log_pts.tolist(), *lin_pts.tolist()})


def _metric_values(m: CollapseMetrics) -> dict[str, float | None]:
    return dict(zip(METRICS, (m.nc1, m.equinorm, m.equiangularity, m.nc3, m.nc4, m.cdnv), strict=True))


def _metric_rows(step: int, m: CollapseMetrics, **extra: float) -> list[dict]:
    return [{"epoch": step, "metric": k, "value": v, **extra} for k, v in _metric_values(m).items()]


EPOCHS = 160  # ~150 epochs past 100% train accuracy: NC1 falls x27 (x36 at 200 epochs, 1.25x the time; measured)
N_EVALS = 24  # metric checkpoints (log-spaced early, even later); each measures the train and the test features


@dataclass(frozen=True)
class CollapseConfig:
    """A network on scikit-learn's digits trained far past zero training error (Papyan et al.'s recipe, scaled)."""

    classes: tuple[int, ...] | None = None  # all 10 digits; a subset such as (0, 1, 2) gives a drawable simplex
    train_per_class: int = 120  # 1200 training images for 10 classes, leaving ~600 to test on
    widths: tuple[int, ...] = (256, 256, 256)  # hidden widths; features = the last one (> C, as in the paper)
    batchnorm: bool = True  # without BatchNorm the means go low-rank instead of forming an ETF (measured)
    penultimate_relu: bool = False  # a ReLU on the features stalls equiangularity near 0.02 (measured)
    epochs: int = EPOCHS  # see EPOCHS
    batch_size: int = 128  # ~10 SGD steps per epoch on 1200 images
    lr: float = 0.05  # the measured digits recipe; stable with momentum 0.9 and BatchNorm
    momentum: float = 0.9  # standard SGD momentum of the paper
    weight_decay: float = 5e-3  # collapse needs it: 5e-4..1e-3 shrinks NC1 only x2-5 in the same epochs (measured)
    cosine_decay: bool = True  # learning-rate decay per step; the cosine tail is where NC2 settles
    n_evals: int = N_EVALS  # see N_EVALS
    seed: int = 0  # data split, initialisation and batch order
    device: str = "cpu"  # small MLP: the CPU is fastest


@dataclass(frozen=True)
class CollapseRun:
    """A finished collapse run: metric history, terminal-phase onset and snapshots of the class means."""

    history: pd.DataFrame  # long format: epoch, metric, value, train_acc, test_acc (train features)
    terminal_epoch: int | None  # first epoch with 100% train accuracy (None: never reached)
    means: dict[int, np.ndarray] = field(repr=False)  # epoch -> (C, p) centred class means of the train features
    features: np.ndarray = field(repr=False)  # (N, p) float32 final train features
    labels: np.ndarray = field(repr=False)  # (N,) int64 train labels
    weights: np.ndarray = field(repr=False)  # (C, p) final classifier weights
    bias: np.ndarray = field(repr=False)  # (C,) final classifier bias
    seconds: float = 0.0  # wall-clock training time
    test_history: pd.DataFrame | None = field(default=None, repr=False)  # as history, on the held-out test features
    snapshots: dict[int, np.ndarray] = field(default_factory=dict, repr=False)  # epoch -> (N, p) train features
    depth: pd.DataFrame | None = field(default=None, repr=False)  # NC1 and CDNV of every hidden layer at the end

    @property
    def converged(self) -> bool:
        """Whether training reached 100% training accuracy (the terminal phase started)."""
        return self.terminal_epoch is not None

    def to_npz(self) -> bytes:
        """The final features, labels and classifier as NPZ bytes (the page's bring-your-own-features format)."""
        buffer = io.BytesIO()
        np.savez(buffer, features=self.features, labels=self.labels, weights=self.weights, bias=self.bias)
        return buffer.getvalue()


def _check_collapse_config(cfg: CollapseConfig) -> None:
    if not isinstance(cfg, CollapseConfig):
        raise TypeError(f"`config` must be a CollapseConfig. Got {type(cfg).__name__} instead.")
    if cfg.classes is not None and (len(set(cfg.classes)) < 2 or not set(cfg.classes) <= set(range(10))):
        raise ValueError(f"`classes` must list at least 2 distinct digits 0..9. Got {cfg.classes!r} instead.")
    check_int(cfg.train_per_class, "train_per_class", low=5, high=150)
    for i, w in enumerate(cfg.widths):
        check_int(w, f"widths[{i}]", low=2, high=4096)
    check_int(cfg.epochs, "epochs", low=1, high=100_000)
    check_int(cfg.batch_size, "batch_size", low=2)
    check_positive(cfg.lr, "lr")
    check_real(cfg.momentum, "momentum", low=0.0, high=1.0, high_inclusive=False)
    check_real(cfg.weight_decay, "weight_decay", low=0.0)
    check_int(cfg.n_evals, "n_evals", low=2, high=10_000)
    check_int(cfg.seed, "seed", low=0)


def train_collapse(config: CollapseConfig, *, callback: Callback = None) -> CollapseRun:
    """Train an MLP on digits past zero training error and track NC1-NC4 and the CDNV of its penultimate features.

    Architecture: ``Linear-BatchNorm-ReLU`` hidden blocks, then a ``Linear-BatchNorm`` feature block without ReLU,
    then a linear classifier :math:`W h + b`; SGD with momentum, weight decay on all parameters and a per-step
    cosine learning-rate decay, as in Papyan et al. (2020). Metrics (:func:`collapse_metrics`) use the features in
    eval mode at checkpoints and at the first epoch with 100% training accuracy, on the training set (``history``)
    and on the held-out test set (``test_history``, where collapse is weaker: Hui, Belkin & Nakkiran 2022). At the
    end, NC1 and the CDNV of every hidden layer's output (``depth``) show how collapse builds up with depth.

    Parameters
    ----------
    config : CollapseConfig
        The run's settings.
    callback : callable, optional
        ``callback(record)`` after every epoch (and at initialisation): ``progress`` (0..1), ``step``, ``loss`` (of
        the epoch's last minibatch), ``epoch``, ``train_acc`` until the terminal phase, and at checkpoints
        ``test_acc`` and the metrics.

    Returns
    -------
    CollapseRun
        Train and test histories (accuracies in [0, 1]), terminal-phase onset, class-mean snapshots at every
        checkpoint, train features at initialisation and at the onset, final features and classifier, and the
        per-layer ``depth`` table (layer, name, nc1, cdnv).
    """
    _check_collapse_config(config)
    device = resolve_device(config.device)
    gen = seeded_generator(config.seed)
    classes = tuple(config.classes) if config.classes is not None else tuple(range(10))
    data = digits_split(n_train=config.train_per_class * len(classes), seed=config.seed, classes=config.classes)
    x_tr, y_tr, x_te, y_te = as_tensors(data.x_train, data.y_train, data.x_test, data.y_test, device=device)
    C, p = len(classes), config.widths[-1]
    body = make_mlp((x_tr.shape[1], *config.widths), batchnorm=config.batchnorm)
    if config.batchnorm:
        body.append(nn.BatchNorm1d(p))
    if config.penultimate_relu:
        body.append(nn.ReLU())
    head = nn.Linear(p, C)
    model = init_default_(nn.Sequential(body, head), gen).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay)
    n = len(y_tr)
    per_epoch = -(-n // config.batch_size)  # minibatches per epoch, the last one possibly smaller
    total = per_epoch * config.epochs
    checkpoints = set(_eval_points(config.epochs, config.n_evals))
    rows: list[dict] = []
    test_rows: list[dict] = []
    means: dict[int, np.ndarray] = {}
    snapshots: dict[int, np.ndarray] = {}
    terminal: int | None = None
    started = time.perf_counter()

    def loss_fn(idx: torch.Tensor | None) -> torch.Tensor:
        x, y = (x_tr, y_tr) if idx is None else (x_tr[idx], y_tr[idx])  # idx None: full batch (batch_size >= n)
        return nn.functional.cross_entropy(model(x), y)

    update = autograd_step(loss_fn, opt, schedule=cosine_schedule(total) if config.cosine_decay else None)
    last: torch.Tensor | float = math.nan

    def step(t: int, idx: torch.Tensor | None) -> torch.Tensor | float:
        nonlocal last
        if (
            idx is None or len(idx) >= 2
        ):  # BatchNorm needs two samples: a minibatch of one (n % batch_size == 1) is skipped
            last = update(t, idx)
        return last

    @torch.no_grad()
    def measure(t: int) -> dict:
        """Train accuracy (until the terminal phase starts) and, at checkpoints and its onset, the metrics."""
        nonlocal terminal
        epoch = t // per_epoch
        if epoch not in checkpoints and terminal is not None:
            return {"epoch": epoch}
        model.eval()
        feats = body(x_tr)  # (N, p)
        train_acc = float((head(feats).argmax(1) == y_tr).float().mean())
        record = {"epoch": epoch, "train_acc": train_acc}
        if epoch in checkpoints or train_acc == 1.0:
            test_feats = body(x_te)  # (N_test, p)
            test_acc = float((head(test_feats).argmax(1) == y_te).float().mean())
            H = feats.double().cpu().numpy()
            W, b = head.weight.double().cpu().numpy(), head.bias.double().cpu().numpy()
            m = collapse_metrics(H, data.y_train, weights=W, bias=b)
            means[epoch] = class_geometry(H, data.y_train, n_classes=C).means
            accs = {"train_acc": train_acc, "test_acc": test_acc}
            rows.extend(_metric_rows(epoch, m, **accs))
            m_test = collapse_metrics(test_feats.double().cpu().numpy(), data.y_test, weights=W, bias=b)
            test_rows.extend(_metric_rows(epoch, m_test, **accs))
            if epoch == 0 or (train_acc == 1.0 and terminal is None):
                snapshots[epoch] = feats.cpu().numpy().astype(np.float32)
            record.update(test_acc=test_acc, **_metric_values(m))
        if train_acc == 1.0 and terminal is None and epoch > 0:
            terminal = epoch
        model.train()
        return record

    ends = [e * per_epoch for e in range(config.epochs + 1)]  # evaluate at initialisation and after every epoch
    train_loop(
        step,
        steps=total,
        evaluate=measure,
        eval_steps=ends,
        n=n,
        batch=config.batch_size,
        generator=gen,
        device=device,
        callback=callback,
    )
    columns = ["epoch", "metric", "value", "train_acc", "test_acc"]
    history, test_history = pd.DataFrame(rows, columns=columns), pd.DataFrame(test_rows, columns=columns)
    if terminal is None:
        warnings.warn(
            f"Training accuracy never reached 100% in {config.epochs} epochs, so the terminal phase (where collapse "
            "happens) never started. Increase `epochs` or `lr`.",
            stacklevel=2,
        )
    model.eval()
    with torch.no_grad():
        feats = body(x_tr)  # (N, p) final train features
    return CollapseRun(
        history,
        terminal,
        means,
        feats.cpu().numpy().astype(np.float32),
        data.y_train,
        head.weight.detach().cpu().numpy().copy(),
        head.bias.detach().cpu().numpy().copy(),
        time.perf_counter() - started,
        test_history,
        snapshots,
        _depth_table(body, x_tr, data.y_train),
    )


@torch.no_grad()
def _depth_table(body: nn.Sequential, x: torch.Tensor, labels: np.ndarray) -> pd.DataFrame:
    """NC1 and CDNV of the output of every hidden block (after its ReLU) and of the feature layer, in eval mode."""
    body.eval()
    outputs, h = [], x
    for i, module in enumerate(body):
        h = module(h)  # (N, width)
        if isinstance(module, nn.ReLU) or i == len(body) - 1:
            outputs.append(h)
    rows = []
    for layer, out in enumerate(outputs, start=1):
        m = collapse_metrics(out.double().cpu().numpy(), labels)
        name = "features" if layer == len(outputs) else f"hidden {layer}"
        rows.append({"layer": layer, "name": name, "nc1": m.nc1, "cdnv": m.cdnv})
    return pd.DataFrame(rows)


def collapse_run(config: CollapseConfig, *, callback: Callback = None) -> pd.DataFrame:
    """The metric history of :func:`train_collapse` as a long DataFrame (its ``history``).

    Parameters
    ----------
    config : CollapseConfig
        The run's settings.
    callback : callable, optional
        As in :func:`train_collapse`.

    Returns
    -------
    DataFrame
        Columns ``epoch``, ``metric`` (one of ``METRICS``), ``value`` (dimensionless), ``train_acc``, ``test_acc``
        (in [0, 1]). The terminal-phase onset is ``train_collapse(config).terminal_epoch``.
    """
    return train_collapse(config, callback=callback).history


@dataclass(frozen=True)
class UFMConfig:
    """The unconstrained-features model: free features H and classifier W, cross-entropy plus weight decay."""

    n_classes: int = 10  # C, as in digits and CIFAR-10
    n_per_class: int = 120  # balanced classes, the setting of the theory
    dim: int = 10  # p close to C: random features in high dimension already look equiangular
    weight_decay: float = 5e-3  # lambda; 5e-4 is ~10x slower (NC1 < 1e-3 at step ~1280 vs ~125, measured)
    lr: float = 0.5  # full-batch step for W (features: N times larger); matches the reference pace
    momentum: float = 0.9  # heavy-ball momentum
    steps: int = 600  # NC1 < 1e-3 by step ~125, equiangularity < 1e-2 by ~225 at the defaults (measured)
    init_scale: float = 1.0  # std of the random initial features and weights
    n_evals: int = 60  # metric checkpoints (log-spaced early, even later)
    seed: int = 0  # initialisation of H and W


def unconstrained_features_run(config: UFMConfig, *, callback: Callback = None) -> pd.DataFrame:
    r"""Train free features and a classifier by full-batch SGD and track their collapse.

    .. math:: \min_{H, W}\; \tfrac1N \sum_i \mathrm{CE}(W h_i, y_i)
              + \tfrac\lambda2 \Big(\tfrac1N \sum_i |h_i|^2 + \|W\|_F^2\Big)

    Every global minimiser is a simplex ETF with :math:`h_i = \mu_{y_i}` and W proportional to the means
    (Zhu et al. 2021), so NC1-NC4 all go to 0; smaller :math:`\lambda` collapses more slowly. Each
    :math:`h_i` carries only 1/N of the loss, so the features take steps of ``lr * N`` (W takes ``lr``): a
    per-sample step size that leaves the minimisers unchanged.

    Parameters
    ----------
    config : UFMConfig
        The run's settings.
    callback : callable, optional
        ``callback(record)`` at each checkpoint: ``progress`` (0..1), ``step``, ``loss`` (at that step) and the
        metrics.

    Returns
    -------
    DataFrame
        Columns ``step``, ``metric`` (one of ``METRICS``), ``value`` (dimensionless), ``loss`` (nats).
    """
    if not isinstance(config, UFMConfig):
        raise TypeError(f"`config` must be a UFMConfig. Got {type(config).__name__} instead.")
    C = check_int(config.n_classes, "n_classes", low=2, high=100)
    n = check_int(config.n_per_class, "n_per_class", low=2, high=10_000)
    p = check_int(config.dim, "dim", low=C - 1, high=4096)
    lam = check_real(config.weight_decay, "weight_decay", low=0.0)
    lr = check_positive(config.lr, "lr")
    momentum = check_real(config.momentum, "momentum", low=0.0, high=1.0, high_inclusive=False)
    steps = check_int(config.steps, "steps", low=1, high=1_000_000)
    scale = check_positive(config.init_scale, "init_scale")
    gen = seeded_generator(config.seed)
    y = torch.arange(C).repeat_interleave(n)  # (N,)
    H = (scale * torch.randn(C * n, p, generator=gen, dtype=torch.float64)).requires_grad_()  # (N, p)
    W = (scale * torch.randn(C, p, generator=gen, dtype=torch.float64)).requires_grad_()  # (C, p)
    # Each h_i carries only 1/N of the loss, so the features step with lr * N: every sample moves at the pace of W.
    opt = torch.optim.SGD([{"params": [H], "lr": lr * C * n}, {"params": [W]}], lr=lr, momentum=momentum)
    checkpoints = _eval_points(steps, check_int(config.n_evals, "n_evals", low=2, high=10_000))
    rows: list[dict] = []

    def objective(_rows: None = None) -> torch.Tensor:
        return nn.functional.cross_entropy(H @ W.T, y) + lam / 2 * ((H**2).sum(1).mean() + (W**2).sum())

    @torch.no_grad()
    def measure(t: int) -> dict:
        loss = float(objective())
        if not math.isfinite(loss):  # the last update can diverge too; train_loop checks the ones before it
            raise Diverged(t, loss, "lr")
        m = collapse_metrics(H.detach().numpy(), y.numpy(), weights=W.detach().numpy())
        rows.extend(_metric_rows(t, m, loss=loss))
        return {"loss": loss, **_metric_values(m)}  # the loss at step t, after its update

    train_loop(autograd_step(objective, opt), steps=steps, evaluate=measure, eval_steps=checkpoints, callback=callback)
    return pd.DataFrame(rows).rename(columns={"epoch": "step"})[["step", "metric", "value", "loss"]]


@dataclass(frozen=True)
class GeometrySnapshots:
    """Class-mean geometry of a run at initialisation, at the terminal-phase onset and at the end (long tables)."""

    cosines: pd.DataFrame  # cosine_table rows of all C classes + snapshot: the test against -1/(C-1)
    simplex: pd.DataFrame  # simplex_view rows of the k chosen classes + snapshot
    clouds: pd.DataFrame  # per-sample features of the k classes in the simplex frame + snapshot (NC1 made visible)
    angles: pd.DataFrame  # per snapshot: epoch, smallest / largest angle of the k means, ideal_angle, cosine range


def geometry_snapshots(
    run: CollapseRun, *, classes: Sequence[int], per_class: int = 60, seed: int = 0
) -> GeometrySnapshots:
    """Class-mean geometry at initialisation, at the onset of the terminal phase and at the end of a run.

    Any k centred points form a (k-1)-simplex, so the k-class picture alone looks "collapsed" even at
    initialisation; the cosines of all C centred means against -1/(C-1) are the real test of NC2, and the
    per-sample clouds (drawn in the same frame as the means) show the within-class spread that NC1 measures.

    Parameters
    ----------
    run : CollapseRun
        A finished run.
    classes : sequence of int
        The k classes drawn as a simplex (k = 3 or 4 draws exactly in 2-D or 3-D).
    per_class : int
        Samples per class drawn in each cloud (1 .. 1000), chosen at random without replacement.
    seed : int
        Seed of that choice.

    Returns
    -------
    GeometrySnapshots
        ``cosines`` (:func:`~core.neural_collapse.metrics.cosine_table` rows plus ``snapshot``), ``simplex``
        (:func:`~core.neural_collapse.metrics.simplex_view` rows plus ``snapshot``), ``clouds``
        (:func:`~core.neural_collapse.metrics.simplex_clouds`
        sample rows plus ``snapshot``) and ``angles`` (per snapshot the smallest and largest angle in degrees between
        the k centred means, ``ideal_angle`` = arccos(-1/(k-1)), and the range of all off-diagonal cosines).
    """
    if len(set(classes)) not in (3, 4) or len(set(classes)) != len(classes):
        raise ValueError(
            f"`classes` must list 3 or 4 distinct classes (a triangle or a tetrahedron). Got {list(classes)}."
        )
    end = max(run.means)
    epochs = {"init": 0, "terminal onset": run.terminal_epoch, "end": end}
    features = {**run.snapshots, end: run.features}
    simplex, cosines, angles, clouds = [], [], [], []
    for name, epoch in epochs.items():
        if epoch is None:
            continue
        label = f"{name} (epoch {epoch})"
        M = run.means[epoch]
        simplex.append(simplex_view(M, classes=classes).assign(snapshot=label))
        if epoch in features:
            view = simplex_clouds(features[epoch], run.labels, classes=classes, per_class=per_class, seed=seed)
            clouds.append(view[view.kind == "sample"].assign(snapshot=label))
        table = cosine_table(M).assign(snapshot=label)
        cosines.append(table)
        sub = subset_cosines(M, classes=classes)[~np.eye(len(classes), dtype=bool)]
        deg = np.degrees(np.arccos(sub))
        angles.append(
            {
                "snapshot": label,
                "ideal_angle": math.degrees(math.acos(-1.0 / (len(classes) - 1))),
                "epoch": epoch,
                "angle_min": deg.min(),
                "angle_max": deg.max(),
                "cos_min": table.cosine.min(),
                "cos_max": table.cosine.max(),
            }
        )
    return GeometrySnapshots(pd.concat(cosines), pd.concat(simplex), pd.concat(clouds), pd.DataFrame(angles))


@dataclass(frozen=True)
class UFMSweepConfig:
    """Settings of :func:`ufm_sweep`: one unconstrained-features run per weight decay, same seed and init."""

    base: UFMConfig = UFMConfig()  # shared settings; its weight_decay is replaced by each entry below
    weight_decays: tuple[float, ...] = (5e-4, 5e-3, 5e-2)  # a decade either side of the default 5e-3


def ufm_sweep(config: UFMSweepConfig, *, callback: Callback = None) -> pd.DataFrame:
    """:func:`unconstrained_features_run` for several weight decays (same seed and initialisation).

    Parameters
    ----------
    config : UFMSweepConfig
        The shared settings (``base``) and the values of lambda to compare (``weight_decays``, each >= 0).
    callback : callable, optional
        Called at each checkpoint of each run with the overall ``progress`` and ``weight_decay``.

    Returns
    -------
    DataFrame
        The runs' rows with a ``weight_decay`` column.
    """
    if not isinstance(config, UFMSweepConfig):
        raise TypeError(f"`config` must be a UFMSweepConfig. Got {type(config).__name__} instead.")
    if not isinstance(config.weight_decays, tuple | list) or not config.weight_decays:
        raise ValueError(f"`weight_decays` must list at least one value. Got {config.weight_decays!r} instead.")
    lams = [check_real(v, "weight_decays", low=0.0) for v in config.weight_decays]
    parts = []
    for i, lam in enumerate(lams):
        inner = None
        if callback is not None:

            def inner(rec: dict, i: int = i, lam: float = lam) -> None:
                callback({**rec, "progress": (i + rec["progress"]) / len(lams), "weight_decay": lam})

        run = unconstrained_features_run(replace(config.base, weight_decay=lam), callback=inner)
        parts.append(run.assign(weight_decay=lam))
    return pd.concat(parts, ignore_index=True)
