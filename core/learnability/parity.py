"""The cost of learning sparse parities by SGD, and the progress hidden under a flat loss.

A k-sparse parity of n bits is learned from few samples, yet SGD on a small MLP needs a number of steps that grows
with n faster the larger k is (Barak, Edelman, Goel, Kakade, Malach & Zhang 2022, "Hidden progress in deep
learning"). Sample bounds live in :mod:`core.learnability.pac`, proper vs improper learning in
:mod:`core.learnability.proper`.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields, replace

import numpy as np
import pandas as pd
import torch

from core._validation import check_array, check_int, check_probability, check_real
from core.training import (
    Callback,
    autograd_step,
    eval_schedule,
    make_mlp,
    resolve_device,
    seeded_generator,
    train_loop,
)

_CALLBACK_EVERY = 25  # steps between callback calls: ~10-50 calls a second on a CPU


# ----------------------------------------------------------------------------------------------------------------
# Sparse parity learned by SGD
# ----------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ParityConfig:
    """Defaults of the sparse-parity experiments (SCIENCE.md recipe, sized for 2 shared CPU cores)."""

    ns: tuple[int, ...] = (10, 20, 30, 40)  # four points span a factor 4 in n: enough for a log-log slope
    ks: tuple[int, ...] = (2, 3)  # k = 2 is quick, k = 3 shows the steeper growth; k = 4 is too slow for CPU
    width: int = 128  # Barak et al. use ~1000; 128 needs about as many steps here and is ~3x faster per step
    lr: float = 0.1  # the recipe's SGD step size
    batch: int = 32  # the recipe's batch: small batches = noisy steps, as in the paper
    weight_decay: float = 0.01  # the recipe's weight decay; keeps the hinge-loss weights bounded
    max_steps: int = 6000  # k = 3, n = 40 needs ~2000 steps; the cap leaves room for unlucky seeds
    eval_every: int = 5  # k = 2 reaches 99% within ~50-150 steps, so check often
    test_size: int = 1000  # 99% accuracy then means at most 10 mistakes
    target: float = 0.99  # "learned" = 99% held-out accuracy, as in the paper's plots
    noise: float = 0.3  # flips 30% of labels: the signal shrinks by 1 - 2p = 0.4, steps grow ~(1-2p)^-2 ~ 6x
    noise_n: int = 30  # k = 3, n = 30 learns clean in ~1200 steps; the noisy run needs far more
    noise_steps: int = 3000  # long enough for the clean run, too short for the noisy one


PARITY = ParityConfig()


_CHUNK = 64  # training batches drawn at once: the same stream as one draw per step, with less overhead per step


def _pm1(shape: tuple[int, ...], generator: torch.Generator, device: torch.device) -> torch.Tensor:
    return (torch.randint(0, 2, shape, generator=generator) * 2 - 1).to(device=device, dtype=torch.float32)


def _parity_batches(
    generator: torch.Generator, support: torch.Tensor, n_bits: int, batch: int, device: torch.device
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Fresh training batches without end: x (batch, n) uniform in {-1, 1}, y (batch,) its parity on ``support``."""
    while True:
        x = _pm1((_CHUNK * batch, n_bits), generator, device)  # (chunk B, n)
        y = x[:, support].prod(dim=1)  # (chunk B,)
        yield from zip(x.view(_CHUNK, batch, n_bits).unbind(0), y.view(_CHUNK, batch).unbind(0), strict=True)


def _uniform_batches(generator: torch.Generator, batch: int, device: torch.device) -> Iterator[torch.Tensor]:
    """Fresh (batch,) draws from U[0, 1) without end."""
    while True:
        yield from torch.rand(_CHUNK * batch, generator=generator).view(_CHUNK, batch).to(device).unbind(0)


@dataclass(frozen=True)
class ParityRunResult:
    """One network trained on a sparse parity: its learning curve and the hidden bits it had to find."""

    curve: pd.DataFrame  # step, loss (mean training hinge loss since the previous row), test_acc (in [0, 1])
    support: tuple[int, ...]  # the hidden k-subset S of the input bits, sorted


def _thinned(callback: Callback, steps: int, extra: dict, *, target: float | None = None) -> Callback:
    """Forward the loop's records to ``callback`` with ``extra`` keys, once per ``_CALLBACK_EVERY`` steps.

    Also forwards the last step and, with ``target``, every evaluation at the target. ``None`` when ``callback`` is.
    """
    if callback is None:
        return None
    previous = [0]

    def forward(record: dict) -> None:
        step, crossed = record["step"], record["step"] // _CALLBACK_EVERY > previous[0] // _CALLBACK_EVERY
        previous[0] = step
        if crossed or step == steps or (target is not None and record["test_acc"] >= target):
            callback({**record, **extra})

    return forward


def _train_parity(
    *,
    n_bits: int,
    k: int,
    width: int,
    steps: int,
    lr: float,
    batch: int,
    weight_decay: float,
    noise: float,
    seed: int,
    eval_every: int,
    test_size: int,
    device: str,
    stop_at: float | None,
    callback: Callback,
    progress: tuple[float, float] = (0.0, 1.0),
) -> tuple[list[dict], list[int]]:
    """The shared SGD run through :func:`core.training.train_loop`: the records and the parity support.

    A record per evaluation: ``step``, ``loss`` (mean training hinge loss since the previous record), ``test_acc``.
    With ``stop_at`` the run ends at the first evaluation with ``test_acc >= stop_at``.
    """
    dev = resolve_device(device)
    gen = seeded_generator(seed)  # split, layer init, data: one private stream
    flips = seeded_generator(seed + 1)  # own stream: clean and noisy runs see the same inputs
    support = torch.randperm(n_bits, generator=gen)[:k].sort().values  # the hidden k-subset S
    model = make_mlp((n_bits, width, 1), generator=gen).to(dev)
    x_test = _pm1((test_size, n_bits), gen, dev)  # (test_size, n), fixed held-out batch
    y_test = x_test[:, support].prod(dim=1)  # (test_size,), clean labels

    batches = _parity_batches(gen, support, n_bits, batch, dev)  # fresh samples every step
    coins = _uniform_batches(flips, batch, dev)  # label i of a batch flips when its coin is < noise

    def hinge(_rows: None) -> torch.Tensor:
        x, y = next(batches)  # (batch, n), (batch,)
        if noise > 0:
            y = torch.where(next(coins) < noise, -y, y)
        return torch.clamp(1 - y * model(x).squeeze(1), min=0).mean()

    sgd = autograd_step(hinge, torch.optim.SGD(model.parameters(), lr=lr, weight_decay=weight_decay))
    losses: list[float] = []  # training losses since the last evaluation

    def step(t: int, rows: None) -> float:
        losses.append(float(sgd(t, rows)))
        return losses[-1]

    def evaluate(_t: int) -> dict:
        with torch.no_grad():
            acc = float((model(x_test).squeeze(1) * y_test > 0).float().mean())
        loss = sum(losses) / len(losses)
        losses.clear()
        return {"loss": loss, "test_acc": acc}

    records = train_loop(
        step,
        steps=steps,
        evaluate=evaluate,
        eval_steps=eval_schedule(steps, eval_every),
        device=dev,
        callback=callback,
        stop=None if stop_at is None else lambda record: record["test_acc"] >= stop_at,
        progress=progress,
    )
    return records, support.tolist()


def _check_parity_args(n_bits: int, k: int, width: int, lr: float, batch: int, noise: float) -> None:
    check_int(n_bits, "n_bits", low=2, high=1000)
    check_int(k, "k", low=1, high=n_bits)
    check_int(width, "width", low=1, high=8192)
    check_real(lr, "lr", low=0.0, low_inclusive=False)
    check_int(batch, "batch", low=1, high=65536)
    check_real(noise, "noise", low=0.0, high=0.5, high_inclusive=False)


def sparse_parity_run(
    *,
    n_bits: int,
    k: int,
    width: int = PARITY.width,
    steps: int = 2000,
    lr: float = PARITY.lr,
    batch: int = PARITY.batch,
    noise: float = 0.0,
    seed: int = 0,
    weight_decay: float = PARITY.weight_decay,
    eval_every: int = 25,
    test_size: int = PARITY.test_size,
    device: str = "cpu",
    callback: Callback = None,
) -> ParityRunResult:
    r"""Train a 2-layer ReLU MLP by online SGD on a k-sparse parity of n bits.

    Inputs :math:`x \sim \mathrm{Unif}\{\pm1\}^n`, label :math:`y = \prod_{i \in S} x_i` for a hidden support S,
    a random k-subset drawn from ``seed``; each training label is flipped with probability ``noise``. The model
    :math:`f(x) = a^\top \mathrm{ReLU}(Wx + b) + c` minimises the hinge loss :math:`\max(0, 1 - y f(x))` on a
    fresh batch every step (SGD with weight decay). Test accuracy is measured on a fixed held-out batch of
    ``test_size`` clean examples every ``eval_every`` steps.

    Parameters
    ----------
    n_bits, k : int
        Input length n and parity order k (1 <= k <= n).
    width : int
        Hidden units.
    steps, lr, batch : int, float, int
        SGD steps, step size and examples per step.
    noise : float
        Label-flip probability in [0, 0.5).
    seed : int
        Seeds the support, the initialisation, the data and the flips.
    weight_decay, eval_every, test_size, device, callback
        L2 decay; evaluation period (steps); held-out size; torch device; ``callback`` gets
        ``{"progress", "step", "loss", "test_acc", "noise"}`` about every 25 steps (raising in it cancels the run).

    Returns
    -------
    ParityRunResult
        ``curve``: ``step``, ``loss`` (mean training hinge loss since the previous row), ``test_acc`` (fraction in
        [0, 1]); ``support``: the hidden bits.

    Raises
    ------
    core.training.Diverged
        If the training loss becomes NaN or infinite (lower ``lr``).

    References
    ----------
    Barak, Edelman, Goel, Kakade, Malach & Zhang (2022), NeurIPS, arXiv:2207.08799.
    """
    _check_parity_args(n_bits, k, width, lr, batch, noise)
    steps = check_int(steps, "steps", low=1, high=1_000_000)
    eval_every = check_int(eval_every, "eval_every", low=1)
    records, support = _train_parity(
        n_bits=n_bits,
        k=k,
        width=width,
        steps=steps,
        lr=lr,
        batch=batch,
        weight_decay=check_real(weight_decay, "weight_decay", low=0.0),
        noise=noise,
        seed=check_int(seed, "seed", low=0),
        eval_every=eval_every,
        test_size=check_int(test_size, "test_size", low=10),
        device=device,
        stop_at=None,
        callback=_thinned(callback, steps, {"noise": noise}),
    )
    return ParityRunResult(pd.DataFrame(records, columns=["step", "loss", "test_acc"]), tuple(support))


def parity_noise_curves(
    *,
    n_bits: int = PARITY.noise_n,
    k: int = 3,
    noise: float = PARITY.noise,
    steps: int = PARITY.noise_steps,
    width: int = PARITY.width,
    lr: float = PARITY.lr,
    batch: int = PARITY.batch,
    seed: int = 0,
    eval_every: int = 25,
    device: str = "cpu",
    callback: Callback = None,
) -> pd.DataFrame:
    """Two :func:`sparse_parity_run` curves with the same seed: clean labels and labels flipped with ``noise``.

    Returns
    -------
    pandas.DataFrame
        Long format: ``noise`` (flip probability), ``step``, ``loss``, ``test_acc``.
    """
    noise = check_real(noise, "noise", low=0.0, high=0.5, high_inclusive=False)
    levels = (0.0, noise) if noise > 0 else (0.0,)
    frames = []
    for i, p in enumerate(levels):

        def relay(record: dict, i: int = i) -> None:
            callback({**record, "progress": (i + record["progress"]) / len(levels)})

        run = sparse_parity_run(
            n_bits=n_bits,
            k=k,
            width=width,
            steps=steps,
            lr=lr,
            batch=batch,
            noise=p,
            seed=seed,
            eval_every=eval_every,
            device=device,
            callback=None if callback is None else relay,
        )
        frames.append(run.curve.assign(noise=p))
    return pd.concat(frames, ignore_index=True)[["noise", "step", "loss", "test_acc"]]


@dataclass(frozen=True)
class NoiseConfig:
    """The label-noise comparison: one k-sparse parity learned from clean and from flipped labels, same seed."""

    n_bits: int = PARITY.noise_n  # see ParityConfig
    k: int = 3
    noise: float = PARITY.noise
    steps: int = PARITY.noise_steps
    width: int = PARITY.width
    lr: float = PARITY.lr
    batch: int = PARITY.batch
    seed: int = 0
    eval_every: int = 25  # a point every 25 steps: smooth enough for a 3000-step curve
    device: str = "cpu"


def parity_noise_run(config: NoiseConfig = NoiseConfig(), *, callback: Callback = None) -> pd.DataFrame:
    """:func:`parity_noise_curves` with its settings in a :class:`NoiseConfig` (the run-service shape)."""
    if not isinstance(config, NoiseConfig):
        raise TypeError(f"`config` must be a NoiseConfig. Got {type(config).__name__} instead.")
    return parity_noise_curves(**{f.name: getattr(config, f.name) for f in fields(config)}, callback=callback)


def steps_to_target(curves: pd.DataFrame, *, target: float = PARITY.target, by: str = "noise") -> pd.DataFrame:
    """First logged step at which ``test_acc >= target`` per group ``by`` (NaN if never), and the final accuracy.

    Returns
    -------
    pandas.DataFrame
        ``by``, ``steps_to_target`` (steps, float with NaN), ``reached`` (bool), ``final_acc``.
    """
    target = check_probability(target, "target", open_interval=False)
    out = []
    for key, g in curves.groupby(by, sort=True):
        hit = g.loc[g["test_acc"] >= target, "step"]
        first = float(hit.iloc[0]) if len(hit) else math.nan
        out.append((key, first, bool(len(hit)), float(g["test_acc"].iloc[-1])))
    return pd.DataFrame(out, columns=[by, "steps_to_target", "reached", "final_acc"])


def steps_to_accuracy(
    *,
    ns: Sequence[int] = PARITY.ns,
    ks: Sequence[int] = PARITY.ks,
    width: int = PARITY.width,
    lr: float = PARITY.lr,
    batch: int = PARITY.batch,
    max_steps: int = PARITY.max_steps,
    target: float = PARITY.target,
    eval_every: int = PARITY.eval_every,
    seed: int = 0,
    device: str = "cpu",
    callback: Callback = None,
) -> pd.DataFrame:
    """SGD steps until a k-sparse parity of n bits reaches ``target`` held-out accuracy, for every (k, n).

    Each run is :func:`sparse_parity_run` stopped at the first evaluation with ``test_acc >= target``.

    Returns
    -------
    pandas.DataFrame
        Long format, one row per (k, n): ``n``, ``k``, ``steps_to_99`` (steps; NaN if not reached within
        ``max_steps``), ``seconds`` (wall time of the run), ``final_acc``. The callback receives
        ``{"progress", "series", "k", "n", "step", "test_acc"}``.
    """
    ns = sorted({check_int(n, "ns[i]", low=2, high=1000) for n in ns})
    ks = sorted({check_int(k, "ks[i]", low=1, high=8) for k in ks})
    if not ns or not ks:
        raise ValueError(f"`ns` and `ks` must each list at least one value. Got ns={ns} and ks={ks} instead.")
    if max(ks) > min(ns):
        raise ValueError(f"Every k must be <= every n: drop k={max(ks)} or n={min(ns)}. Got ks={ks}, ns={ns}.")
    max_steps = check_int(max_steps, "max_steps", low=1, high=1_000_000)
    target = check_probability(target, "target")
    eval_every = check_int(eval_every, "eval_every", low=1)
    grid = [(k, n) for k in ks for n in ns]
    rows, missed = [], []
    for i, (k, n) in enumerate(grid):
        _check_parity_args(n, k, width, lr, batch, 0.0)
        t0 = time.perf_counter()
        records, _ = _train_parity(
            n_bits=n,
            k=k,
            width=width,
            steps=max_steps,
            lr=lr,
            batch=batch,
            weight_decay=PARITY.weight_decay,
            noise=0.0,
            seed=check_int(seed, "seed", low=0),
            eval_every=eval_every,
            test_size=PARITY.test_size,
            device=device,
            stop_at=target,
            callback=_thinned(callback, max_steps, {"series": f"k = {k}, n = {n}", "k": k, "n": n}, target=target),
            progress=(i / len(grid), (i + 1) / len(grid)),
        )
        step, acc = records[-1]["step"], records[-1]["test_acc"]
        if acc < target:
            missed.append(f"k={k}, n={n}")
        rows.append((n, k, float(step) if acc >= target else math.nan, time.perf_counter() - t0, acc))
    if missed:
        warnings.warn(
            f"{', '.join(missed)} did not reach {target:.0%} test accuracy within {max_steps} steps; "
            "increase `max_steps` (or the width) to measure them.",
            stacklevel=2,
        )
    return pd.DataFrame(rows, columns=["n", "k", "steps_to_99", "seconds", "final_acc"])


@dataclass(frozen=True)
class ParitySweepConfig:
    """The page's scaling sweep: steps to 99% for k = 2 and 3 over a factor 8 in n, several seeds per point."""

    ns: tuple[int, ...] = (8, 12, 16, 24, 32, 48, 64)  # factor 8 in n, about evenly spaced in log n
    ks: tuple[int, ...] = (2, 3)  # k = 4 needs ~10x the steps of k = 3 at the same n: beyond this budget
    n_seeds: int = 5  # seeds per (k, n): the spread gives error bars and a bootstrap interval for the slope
    width: int = PARITY.width  # see ParityConfig
    lr: float = PARITY.lr
    batch: int = PARITY.batch
    weight_decay: float = PARITY.weight_decay
    max_steps: int = 20000  # k = 3, n = 64 needs ~5000 steps; the cap leaves room for unlucky seeds
    target: float = PARITY.target
    resolution: float = 0.02  # evaluate every 2% of the step count (at least every 5 steps): 2% timing error
    test_size: int = PARITY.test_size
    seed: int = 0  # seeds seed, seed + 1, ..., seed + n_seeds - 1 (the same seeds at every (k, n))
    device: str = "cpu"


def _check_sweep(config: ParitySweepConfig) -> ParitySweepConfig:
    if not isinstance(config, ParitySweepConfig):
        raise TypeError(f"`config` must be a ParitySweepConfig. Got {type(config).__name__} instead.")
    ns = sorted({check_int(n, "ns[i]", low=2, high=1000) for n in config.ns})
    ks = sorted({check_int(k, "ks[i]", low=1, high=8) for k in config.ks})
    if not ns or not ks:
        raise ValueError(f"`ns` and `ks` must each list at least one value. Got ns={ns} and ks={ks} instead.")
    if max(ks) > min(ns):
        raise ValueError(f"Every k must be <= every n: drop k={max(ks)} or n={min(ns)}. Got ks={ks}, ns={ns}.")
    _check_parity_args(min(ns), min(ks), config.width, config.lr, config.batch, 0.0)
    check_int(config.n_seeds, "n_seeds", low=1, high=64)
    check_int(config.max_steps, "max_steps", low=1, high=1_000_000)
    check_probability(config.target, "target")
    check_real(config.resolution, "resolution", low=0.0, high=0.5)
    check_real(config.weight_decay, "weight_decay", low=0.0)
    check_int(config.test_size, "test_size", low=10, high=100_000)
    check_int(config.seed, "seed", low=0)
    return replace(config, ns=tuple(ns), ks=tuple(ks))


def _forward(x: torch.Tensor, params: Sequence[torch.Tensor]) -> torch.Tensor:
    """Outputs (S, B) of S independent 2-layer ReLU nets (W1 (S, n, w), b1 (S, 1, w), w2 (S, w, 1), c (S, 1, 1))."""
    w1, b1, w2, c = params
    return (torch.relu(x @ w1 + b1) @ w2 + c)[..., 0]


def _hinge_grads(
    x: torch.Tensor, y: torch.Tensor, params: Sequence[torch.Tensor]
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    r"""Per-net losses :math:`\mathrm{mean}_b \max(0, 1 - y f_s(x))` of :func:`_forward`'s nets and their gradients.

    ``x`` (S, B, n), ``y`` (S, B). Returns the losses (S,) and the gradients of their sum with respect to
    ``params``, by hand. The hinge's kink counts as flat (torch's clamp gives the same subgradient).
    """
    w1, b1, w2, c = params
    pre = x @ w1 + b1  # (S, B, w)
    h = torch.relu(pre)
    out = (h @ w2 + c)[..., 0]  # (S, B)
    slack = 1 - y * out  # (S, B): the hinge is active where it is > 0
    d_out = -(y * (slack > 0)) / x.shape[1]  # (S, B): d loss / d out
    d_pre = d_out[..., None] * w2.transpose(1, 2) * (pre > 0)  # (S, B, w)
    grads = [
        x.transpose(1, 2) @ d_pre,  # (S, n, w)
        d_pre.sum(dim=1, keepdim=True),  # (S, 1, w)
        h.transpose(1, 2) @ d_out[..., None],  # (S, w, 1)
        d_out.sum(dim=1)[:, None, None],  # (S, 1, 1)
    ]
    return slack.clamp(min=0).mean(dim=1), grads


def _eval_steps(max_steps: int, eval_every: int, resolution: float) -> list[int]:
    """Evaluation steps ``s, s + max(eval_every, int(resolution s)), ...`` from ``s = eval_every``, and the last."""
    steps, at = [], eval_every
    while at < max_steps:
        steps.append(at)
        at += max(eval_every, int(resolution * at))
    return [*steps, max_steps]


def _train_parity_seeds(
    *,
    n_bits: int,
    k: int,
    seeds: Sequence[int],
    width: int,
    lr: float,
    batch: int,
    weight_decay: float,
    max_steps: int,
    target: float,
    eval_every: int,
    resolution: float,
    test_size: int,
    device: str,
    callback: Callback = None,
    progress: tuple[float, float] = (0.0, 1.0),
) -> tuple[list[float], list[float]]:
    """Train one network per seed at once (batched matmuls) until each reaches ``target`` held-out accuracy.

    Seed s draws its support, initialisation, test set and training batches from ``seeded_generator(s)`` in the
    same order as :func:`_train_parity`, so its run is the single-seed run of the same seed (up to floating-point
    summation order). Gradients (:func:`_hinge_grads`) and SGD with weight decay, ``p -= lr (grad + weight_decay
    p)``, are applied by hand, which is torch's SGD step without autograd's overhead; the steps go through
    :func:`core.training.train_loop` (one loss per seed still training). A network leaves the batch at the
    evaluation where it reaches the target; the run stops when none is left. Evaluations happen every
    ``max(eval_every, resolution * step)`` steps, on a fifth of the test set until some network is within 4 points of
    the target (the full set decides the target). Returns the first step at the target per seed (NaN if never) and
    each seed's last accuracy; ``callback`` gets the loop's record after every evaluation, ``test_acc`` the mean
    accuracy over all seeds.
    """
    dev = resolve_device(device)
    gens = [seeded_generator(s) for s in seeds]
    support = torch.stack([torch.randperm(n_bits, generator=g)[:k].sort().values for g in gens]).to(dev)  # (S, k)
    nets = [make_mlp((n_bits, width, 1), generator=g) for g in gens]
    x_test = torch.stack([_pm1((test_size, n_bits), g, dev) for g in gens])  # (S, T, n)

    def labels(x: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:  # (S', B, n) -> (S', B)
        idx = support[rows][:, None, :].expand(-1, x.shape[1], -1)  # (S', B, k)
        return x.gather(2, idx).prod(dim=2)

    y_test = labels(x_test, torch.arange(len(gens), device=dev))  # (S, T)
    params = [
        torch.stack([m[0].weight.T for m in nets]),  # (S, n, width)
        torch.stack([m[0].bias[None, :] for m in nets]),  # (S, 1, width)
        torch.stack([m[2].weight.T for m in nets]),  # (S, width, 1)
        torch.stack([m[2].bias[None, :] for m in nets]),  # (S, 1, 1)
    ]
    # the training state, filtered to the seeds still training at every evaluation
    run = {"active": torch.arange(len(gens), device=dev), "params": [p.detach().to(dev) for p in params]}
    hit, last_acc = [math.nan] * len(gens), [0.0] * len(gens)

    def step(t: int, _rows: None) -> torch.Tensor:
        active, params, i = run["active"], run["params"], (t - 1) % _CHUNK
        if i == 0:  # the next batches of every seed still training, as _parity_batches draws them
            stream = torch.stack([_pm1((_CHUNK * batch, n_bits), gens[s], dev) for s in active.tolist()])
            run["stream"] = stream.view(len(active), _CHUNK, batch, n_bits)  # (S', chunk, B, n)
            run["labels"] = labels(stream, active).view(len(active), _CHUNK, batch)  # (S', chunk, B)
        loss, grads = _hinge_grads(run["stream"][:, i], run["labels"][:, i], params)
        for p, g in zip(params, grads, strict=True):
            p.add_(g + weight_decay * p, alpha=-lr)
        return loss  # (S',)

    def evaluate(t: int) -> dict:
        active, params = run["active"], run["params"]
        pre = min(test_size, max(50, test_size // 5))  # a slice first; the full test set once a network nears 99%
        acc = (_forward(x_test[active, :pre], params) * y_test[active, :pre] > 0).float().mean(dim=1)  # (S',)
        if bool((acc >= target - 0.04).any()):
            acc = (_forward(x_test[active], params) * y_test[active] > 0).float().mean(dim=1)  # (S',)
        done = acc >= target
        for i, a, d in zip(active.tolist(), acc.tolist(), done.tolist(), strict=True):
            last_acc[i] = a
            if d:
                hit[i] = float(t)
        if bool(done.any()):
            keep = ~done
            run.update(active=active[keep], params=[p[keep] for p in params])
            run.update(stream=run["stream"][keep], labels=run["labels"][keep])
        return {"test_acc": float(np.mean(last_acc)), "training": len(run["active"])}

    train_loop(
        step,
        steps=max_steps,
        evaluate=evaluate,
        eval_steps=_eval_steps(max_steps, eval_every, resolution),
        device=dev,
        callback=callback,
        stop=lambda record: record["training"] == 0,
        progress=progress,
    )
    return hit, last_acc


def parity_scaling(config: ParitySweepConfig = ParitySweepConfig(), *, callback: Callback = None) -> pd.DataFrame:
    """SGD steps until a k-sparse parity of n bits reaches the target accuracy, per (k, n, seed).

    Every seed trains its own network (own support, initialisation and data) as in :func:`sparse_parity_run`;
    the seeds of one (k, n) train together in batched matmuls, and each stops at its first evaluation at the
    target. Feed the result to :func:`fit_exponents` for the log-log slope per k with a bootstrap interval.

    Parameters
    ----------
    config : ParitySweepConfig
        Sizes, orders, seeds and the SGD recipe.
    callback : callable, optional
        Called after every evaluation with ``{"progress", "series", "k", "n", "step", "test_acc"}`` (the mean
        test accuracy over the seeds of that (k, n)).

    Returns
    -------
    pandas.DataFrame
        Long format, one row per (k, n, seed): ``n``, ``k``, ``seed``, ``steps_to_99`` (steps, NaN if the target
        was not reached within ``max_steps``), ``final_acc``, ``seconds`` (wall time of that (k, n), shared by
        its seeds). A warning names the (k, n) that missed the target.
    """
    cfg = _check_sweep(config)
    seeds = list(range(cfg.seed, cfg.seed + cfg.n_seeds))
    grid = [(k, n) for k in cfg.ks for n in cfg.ns]
    rows, missed, last = [], [], {}
    for j, (k, n) in enumerate(grid):

        def relay(record: dict, k: int = k, n: int = n) -> None:
            last.clear()
            last.update(record, series=f"k = {k}, n = {n}", k=k, n=n)
            if callback is not None:
                callback(dict(last))

        t0 = time.perf_counter()
        hit, acc = _train_parity_seeds(
            n_bits=n,
            k=k,
            seeds=seeds,
            width=cfg.width,
            lr=cfg.lr,
            batch=cfg.batch,
            weight_decay=cfg.weight_decay,
            max_steps=cfg.max_steps,
            target=cfg.target,
            eval_every=PARITY.eval_every,
            resolution=cfg.resolution,
            test_size=cfg.test_size,
            device=cfg.device,
            callback=None if callback is None else relay,
            progress=(j / len(grid), (j + 1) / len(grid)),
        )
        seconds = time.perf_counter() - t0
        rows += [(n, k, s, h, a, seconds) for s, h, a in zip(seeds, hit, acc, strict=True)]
        if any(math.isnan(h) for h in hit):
            missed.append(f"k={k}, n={n} ({sum(math.isnan(h) for h in hit)} of {len(seeds)} seeds)")
    if callback is not None:
        callback({**last, "progress": 1.0})
    if missed:
        warnings.warn(
            f"{'; '.join(missed)} did not reach {cfg.target:.0%} test accuracy within {cfg.max_steps} steps; "
            "increase `max_steps` (the step cap) to measure them.",
            stacklevel=2,
        )
    return pd.DataFrame(rows, columns=["n", "k", "seed", "steps_to_99", "final_acc", "seconds"])


def fit_exponents(
    sweep: pd.DataFrame, *, n_boot: int = 0, level: float = 0.9, seed: int = 0, n_range: tuple[int, int] | None = None
) -> pd.DataFrame:
    r"""Least-squares slope of :math:`\log(\text{steps})` against :math:`\log n` per k: steps ~ C n^a.

    All rows with a step count enter the fit (several seeds per n pool into one least-squares line). With
    ``n_boot > 0`` the interval comes from a stratified bootstrap: the rows of each n are resampled with
    replacement (independent networks) and the line refitted.

    Parameters
    ----------
    sweep : pandas.DataFrame
        The output of :func:`steps_to_accuracy` or :func:`parity_scaling` (rows with NaN steps are left out, so
        a (k, n) where some seeds missed the target is biased low: raise the step cap).
    n_boot : int
        Bootstrap refits (0: no interval).
    level : float
        Coverage of the percentile interval, in (0, 1).
    seed : int
        Seeds the bootstrap.
    n_range : (int, int), optional
        Fit only the rows with ``n_range[0] <= n <= n_range[1]``.

    Returns
    -------
    pandas.DataFrame
        ``k``, ``exponent`` (a; NaN with fewer than two distinct n), ``prefactor`` (C, steps), ``n_points``,
        ``exponent_lo`` and ``exponent_hi`` (the bootstrap interval; NaN without one).
    """
    n_boot = check_int(n_boot, "n_boot", low=0, high=100_000)
    level = check_probability(level, "level")
    rng = np.random.default_rng(check_int(seed, "seed", low=0))
    data = sweep.dropna(subset=["steps_to_99"])
    if n_range is not None:
        data = data[(data["n"] >= n_range[0]) & (data["n"] <= n_range[1])]
    out = []
    for k, g in data.groupby("k", sort=True):
        if g["n"].nunique() < 2:
            out.append((int(k), math.nan, math.nan, len(g), math.nan, math.nan))
            continue
        x, y = np.log(g["n"].to_numpy(float)), np.log(g["steps_to_99"].to_numpy(float))  # (rows,) each
        slope, intercept = np.polyfit(x, y, 1)
        lo = hi = math.nan
        if n_boot:
            groups = [np.flatnonzero(g["n"].to_numpy() == n) for n in np.unique(g["n"])]
            picks = np.stack([np.concatenate([rng.choice(i, len(i)) for i in groups]) for _ in range(n_boot)])
            xb, yb = x[picks], y[picks]  # (n_boot, rows)
            xc = xb - xb.mean(axis=1, keepdims=True)
            slopes = (xc * (yb - yb.mean(axis=1, keepdims=True))).sum(axis=1) / (xc**2).sum(axis=1)  # (n_boot,)
            lo, hi = np.quantile(slopes, [(1 - level) / 2, (1 + level) / 2])
        out.append((int(k), float(slope), float(np.exp(intercept)), len(g), float(lo), float(hi)))
    return pd.DataFrame(out, columns=["k", "exponent", "prefactor", "n_points", "exponent_lo", "exponent_hi"])


# ----------------------------------------------------------------------------------------------------------------
# Hidden progress (Barak et al. 2022, sec. 5): what changes while the test accuracy sits at chance
# ----------------------------------------------------------------------------------------------------------------
HIDDEN_MEASURES = ("test accuracy", "support weight share", "gradient gap", "bit weight")


@dataclass(frozen=True)
class HiddenProgressConfig:
    """One k = 4 sparse parity at small n, watched from the inside while SGD trains (the SCIENCE.md recipe)."""

    n_bits: int = 24  # k = 4 learns in ~1,000-1,500 steps here: a long flat phase, within the tab's budget
    k: int = 4  # the k: the plateau is longer and the jump sharper than at k = 2 or 3
    width: int = PARITY.width
    lr: float = PARITY.lr
    batch: int = PARITY.batch
    weight_decay: float = PARITY.weight_decay
    steps: int = 2000  # past the jump on most seeds, so the chart shows before and after
    log_every: int = 20  # 100 snapshots: a smooth heat map
    test_size: int = PARITY.test_size
    population: int = 8192  # fixed inputs on which the gradient gap is estimated (its noise floor ~ 1/sqrt of it)
    seed: int = 0
    device: str = "cpu"


def support_weight_share(weight: np.ndarray, support: Sequence[int]) -> float:
    """Share of the first layer's absolute weight that sits on the input bits in ``support``.

    Parameters
    ----------
    weight : ndarray, shape (width, n)
        Input-to-hidden weights (rows: hidden units, columns: input bits), e.g. ``model[0].weight``.
    support : sequence of int
        The relevant input bits (distinct, in ``0..n-1``).

    Returns
    -------
    float
        ``sum |W[:, S]| / sum |W|`` in [0, 1]; about ``k / n`` for a random initialisation, 1 when only the
        relevant bits are wired in.
    """
    W = np.abs(check_array(weight, "weight", ndim=2))
    idx = sorted({check_int(i, "support[i]", low=0, high=W.shape[1] - 1) for i in support})
    if len(idx) != len(support) or not idx:
        raise ValueError(f"`support` must list distinct input bits. Got {list(support)} instead.")
    total = W.sum()
    if total == 0:
        raise ValueError("`weight` is all zeros: the share of weight on the support is undefined.")
    return float(W[:, idx].sum() / total)


def gradient_gap(grad: np.ndarray, support: Sequence[int]) -> float:
    """Mean |gradient| on the support's columns over the mean on the other columns (1: no gap).

    Barak et al.'s Fourier gap: the population gradient of a first-layer weight is larger on the relevant bits
    than on the others from initialisation on, so SGD amplifies them before the accuracy can show it.

    Parameters
    ----------
    grad : ndarray, shape (width, n)
        Gradient of the loss with respect to the input-to-hidden weights.
    support : sequence of int
        The relevant input bits; at least one bit must lie outside it.
    """
    G = np.abs(check_array(grad, "grad", ndim=2))
    idx = sorted({check_int(i, "support[i]", low=0, high=G.shape[1] - 1) for i in support})
    rest = np.setdiff1d(np.arange(G.shape[1]), idx)
    if len(idx) != len(support) or not idx or rest.size == 0:
        raise ValueError(f"`support` must list distinct bits and leave some out. Got {list(support)} instead.")
    off = G[:, rest].mean()
    return float(G[:, idx].mean() / off) if off > 0 else math.inf


@dataclass(frozen=True)
class HiddenProgressResult:
    """What moved inside one network while it learned a sparse parity, and which bits were relevant."""

    measures: pd.DataFrame  # step, measure (one of HIDDEN_MEASURES), bit (-1 unless "bit weight"), value
    support: tuple[int, ...]  # the hidden k-subset S of the input bits, sorted


def hidden_progress(
    config: HiddenProgressConfig = HiddenProgressConfig(), *, callback: Callback = None
) -> HiddenProgressResult:
    """Train one network on a k-sparse parity and record, every ``log_every`` steps, what moves inside it.

    The recipe of :func:`sparse_parity_run` (2-layer ReLU MLP, hinge loss, online SGD with weight decay) through
    :func:`core.training.train_loop`. At each snapshot: the held-out accuracy; :func:`support_weight_share` of the
    input-to-hidden weights; the :func:`gradient_gap` of the loss gradient on ``population`` fixed random inputs
    (an estimate of the population gradient); and the mean |weight| from each input bit into the hidden layer (the
    heat map).

    Returns
    -------
    HiddenProgressResult
        ``measures`` in long format: ``step``, ``measure`` (one of ``HIDDEN_MEASURES``), ``bit`` (the input bit for
        "bit weight", -1 otherwise), ``value``; ``support``: the relevant bits. The callback gets
        ``{"progress", "step", "loss", "test_acc", "support_share"}`` at every snapshot (raising in it cancels the
        run).

    Raises
    ------
    core.training.Diverged
        If the training loss becomes NaN or infinite (lower ``lr``).
    """
    cfg = config
    if not isinstance(cfg, HiddenProgressConfig):
        raise TypeError(f"`config` must be a HiddenProgressConfig. Got {type(cfg).__name__} instead.")
    _check_parity_args(cfg.n_bits, cfg.k, cfg.width, cfg.lr, cfg.batch, 0.0)
    if cfg.k == cfg.n_bits:
        raise ValueError(f"`k` must be < `n_bits` so some bits are irrelevant. Got k = n = {cfg.k}; raise n_bits.")
    steps = check_int(cfg.steps, "steps", low=1, high=1_000_000)
    log_every = check_int(cfg.log_every, "log_every", low=1)
    check_real(cfg.weight_decay, "weight_decay", low=0.0)
    check_int(cfg.test_size, "test_size", low=10, high=100_000)
    check_int(cfg.population, "population", low=100, high=1_000_000)
    dev = resolve_device(cfg.device)
    gen = seeded_generator(check_int(cfg.seed, "seed", low=0))
    support = torch.randperm(cfg.n_bits, generator=gen)[: cfg.k].sort().values  # the same draws as sparse_parity_run
    model = make_mlp((cfg.n_bits, cfg.width, 1), generator=gen).to(dev)
    opt = torch.optim.SGD(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    x_test = _pm1((cfg.test_size, cfg.n_bits), gen, dev)  # (T, n)
    y_test = x_test[:, support].prod(dim=1)
    x_pop = _pm1((cfg.population, cfg.n_bits), gen, dev)  # (P, n) fixed "population"
    y_pop = x_pop[:, support].prod(dim=1)
    bits = support.tolist()
    rows: list[tuple[int, str, int, float]] = []

    batches = _parity_batches(gen, support, cfg.n_bits, cfg.batch, dev)  # fresh samples every step

    def hinge(_rows: None) -> torch.Tensor:
        x, y = next(batches)  # (B, n), (B,)
        return torch.clamp(1 - y * model(x).squeeze(1), min=0).mean()

    def snapshot(step: int) -> dict:
        with torch.no_grad():
            acc = float((model(x_test).squeeze(1) * y_test > 0).float().mean())
        model.zero_grad(set_to_none=True)
        torch.clamp(1 - y_pop * model(x_pop).squeeze(1), min=0).mean().backward()
        grad = model[0].weight.grad.detach().cpu().numpy()  # (width, n)
        model.zero_grad(set_to_none=True)
        W = model[0].weight.detach().cpu().numpy()  # (width, n)
        share = support_weight_share(W, bits)
        rows.extend([(step, HIDDEN_MEASURES[0], -1, acc), (step, HIDDEN_MEASURES[1], -1, share),
                     (step, HIDDEN_MEASURES[2], -1, gradient_gap(grad, bits))])  # fmt: skip
        rows.extend((step, HIDDEN_MEASURES[3], i, float(v)) for i, v in enumerate(np.abs(W).mean(axis=0)))
        return {"test_acc": acc, "support_share": share}

    train_loop(
        autograd_step(hinge, opt),
        steps=steps,
        evaluate=snapshot,
        eval_steps=eval_schedule(steps, log_every, first=True),
        device=dev,
        callback=callback,
    )
    return HiddenProgressResult(pd.DataFrame(rows, columns=["step", "measure", "bit", "value"]), tuple(bits))
