"""Grokking: a network that memorises modular arithmetic first and generalises long afterwards.

A small MLP learns ``(a op b) mod p`` from a fraction of all pairs. Trained full batch with AdamW, it fits the
training pairs within a few hundred steps while test accuracy stays near chance; thousands of steps later, with
weight decay pulling the weight norm down, test accuracy jumps to ~100%. Without weight decay the jump does not
come within the same budget: the memorising solution is stable and only a push towards small weights moves the
network to the general (Fourier) solution.

References: A. Power, Y. Burda, H. Edwards, I. Babuschkin, V. Misra, *Grokking: generalization beyond overfitting
on small algorithmic datasets*, arXiv:2201.02177 (2022); Z. Liu, E. J. Michaud, M. Tegmark, *Omnigrok: grokking
beyond algorithmic data*, ICLR 2023; N. Nanda et al., *Progress measures for grokking via mechanistic
interpretability*, ICLR 2023.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn

from core._validation import check_array, check_choice, check_int, check_probability, check_real
from core.training import Callback, autograd_step, init_default_, make_mlp, resolve_device, seeded_generator, train_loop

OPERATIONS = ("add", "subtract", "multiply", "divide")
SYMBOLS = {"add": "+", "subtract": "−", "multiply": "×", "divide": "÷"}
Probe = Callable[[int, nn.Module, torch.Tensor, torch.Tensor], dict] | None
MEMORISED = 0.99  # train accuracy that counts as memorised
GENERALISED = 0.95  # test accuracy that counts as generalised
KEY_SHARE = 0.8  # key frequencies: the fewest that carry 80% of the embedding's non-constant power at the end


@dataclass(frozen=True)
class GrokkingConfig:
    """One grokking run: task, split, model, optimiser and budget (defaults: the measured CPU recipe)."""

    operation: str = "add"  # (a + b) mod p: the easiest task that groks, measured in SCIENCE.md
    modulus: int = 59  # prime (needed for "divide"); 59^2 = 3481 pairs, small enough for full batch on CPU
    train_fraction: float = 0.4  # 40% of pairs: the network can memorise them, and they pin down the rule
    embed_dim: int = 64  # each operand is a learned 64-d vector; the two are concatenated (128 inputs)
    hidden: int = 192  # one ReLU layer of 192 units: 128-192-59, big enough to memorise 1393 pairs fast
    lr: float = 5e-3  # groks at steps ~1600-2000 (seeds 0-2); SCIENCE.md's 3e-3 takes ~3300-4100, twice the budget
    weight_decay: float = 1.0  # strong decoupled decay: the push to small weights that makes it generalise
    beta2: float = 0.98  # a shorter second-moment memory than 0.999, as in Power et al.; steadier late training
    steps: int = 3000  # the budget: ~1.5x the step where the defaults grok; ~10 s on one core
    patience: int = 500  # stop once test accuracy has stayed >= 99% for this many steps (0: never stop early)
    seed: int = 0  # split, initialisation
    device: str = "cpu"  # tiny model: the CPU is fastest


def modular_dataset(operation: str, modulus: int) -> tuple[np.ndarray, np.ndarray]:
    """All pairs ``(a, b)`` and their answers ``(a op b) mod p``.

    Parameters
    ----------
    operation : str
        One of ``OPERATIONS``; "divide" means ``a * b^{-1} mod p`` over ``b != 0`` (needs a prime ``p``).
    modulus : int
        ``p`` (>= 3).

    Returns
    -------
    pairs : ndarray of int64, shape (N, 2)
        ``N = p^2`` (or ``p (p - 1)`` for "divide").
    answers : ndarray of int64, shape (N,)
    """
    check_choice(operation, "operation", OPERATIONS)
    p = check_int(modulus, "modulus", low=3, high=200)
    if operation == "divide" and any(p % k == 0 for k in range(2, int(p**0.5) + 1)):
        raise ValueError(f"`modulus` must be prime for division (every b != 0 needs an inverse). Got {p} instead.")
    a, b = np.meshgrid(np.arange(p), np.arange(1 if operation == "divide" else 0, p), indexing="ij")
    a, b = a.ravel(), b.ravel()  # (N,) each
    if operation == "add":
        c = (a + b) % p
    elif operation == "subtract":
        c = (a - b) % p
    elif operation == "multiply":
        c = (a * b) % p
    else:
        c = (a * np.array([pow(int(k), -1, p) for k in b])) % p
    return np.stack([a, b], axis=1).astype(np.int64), c.astype(np.int64)


class _PairMLP(nn.Module):
    """Embed each operand (one shared table), concatenate, and classify the answer with a one-hidden-layer MLP.

    The first layer acts on the concatenation ``[e_a, e_b]``, so its pre-activation is ``W_a e_a + W_b e_b + c``.
    The forward pass computes ``E W_a^T`` and ``E W_b^T`` once per token (p rows) and gathers rows per pair, which
    is the same function and gradient as ``Linear`` on the concatenation but ~3x cheaper for full-batch training.
    """

    def __init__(self, modulus: int, embed_dim: int, hidden: int) -> None:
        super().__init__()
        self.embed = nn.Embedding(modulus, embed_dim)
        self.mlp = make_mlp((2 * embed_dim, hidden, modulus))  # Linear(2E, H), ReLU, Linear(H, p)

    def token_map(self) -> torch.Tensor:
        """What the hidden layer receives from each residue: row ``x`` is ``[W_a e_x, W_b e_x]``, shape (p, 2H)."""
        E, W = self.embed.weight, self.mlp[0].weight  # (p, E), (H, 2E)
        d = E.shape[1]
        return torch.cat([E @ W[:, :d].T, E @ W[:, d:].T], dim=1)  # (p, 2H) as operand a | as operand b

    def forward(self, pairs: torch.Tensor) -> torch.Tensor:
        first, act, last = self.mlp
        per_a, per_b = self.token_map().chunk(2, dim=1)  # (p, H) each: first-layer output per operand value
        return last(act(per_a[pairs[:, 0]] + per_b[pairs[:, 1]] + first.bias))  # (B, H) -> (B, p)


def _validate(config: GrokkingConfig) -> GrokkingConfig:
    if not isinstance(config, GrokkingConfig):
        raise TypeError(f"`config` must be a GrokkingConfig. Got {type(config).__name__} instead.")
    check_choice(config.operation, "operation", OPERATIONS)
    check_int(config.modulus, "modulus", low=3, high=200)
    frac = check_probability(config.train_fraction, "train_fraction")
    check_int(config.embed_dim, "embed_dim", low=1, high=1024)
    check_int(config.hidden, "hidden", low=1, high=4096)
    check_real(config.lr, "lr", low=0.0, high=1.0, low_inclusive=False)
    check_real(config.weight_decay, "weight_decay", low=0.0, high=100.0)
    check_real(config.beta2, "beta2", low=0.0, high=1.0, high_inclusive=False)
    check_int(config.steps, "steps", low=1, high=200_000)
    check_int(config.patience, "patience", low=0)
    check_int(config.seed, "seed", low=0)
    n = config.modulus * (config.modulus - (config.operation == "divide"))
    if not 1 <= round(frac * n) < n:
        raise ValueError(f"`train_fraction` must leave at least one pair on each side. Got {frac} of {n} instead.")
    return config


def log_steps(steps: int, *, n_log: int = 60, n_linear: int = 100) -> np.ndarray:
    """Steps at which a run is logged: log-spaced (dense early, for a log axis) plus every ``steps / n_linear``."""
    steps = check_int(steps, "steps", low=1)
    grid = np.concatenate([np.geomspace(1, steps, n_log), np.linspace(0, steps, n_linear + 1)])
    return np.unique(np.rint(grid).astype(int))


def train_grokking(
    config: GrokkingConfig = GrokkingConfig(), *, callback: Callback = None, probe: Probe = None
) -> pd.DataFrame:
    r"""Train the pair MLP full batch with AdamW and log train/test loss and accuracy and the weight norm.

    The loss is the cross-entropy of the answer; AdamW applies decoupled weight decay
    :math:`\theta \leftarrow \theta - \eta \lambda \theta` to every parameter (embeddings included) at every step,
    with :math:`\beta = (0.9, \beta_2)`.

    Parameters
    ----------
    config : GrokkingConfig
        Task, model, optimiser and budget.
    callback : callable, optional
        Called at every logged step with the logged record plus ``"progress"`` (fraction of ``steps`` done).
    probe : callable, optional
        ``probe(step, model, x_train, y_train) -> dict`` is called at every logged step, in no-grad mode, with the
        step, the network, the training pairs (int64, shape (n, 2)) and their answers (shape (n,)); its entries
        become extra columns of the record (and of the callback's record). Use it to measure the model as it trains.

    Returns
    -------
    DataFrame
        One row per logged step (log-spaced early, then evenly spaced; see :func:`log_steps`): ``step``,
        ``train_loss``, ``test_loss`` (nats), ``train_acc``, ``test_acc`` (fractions), ``weight_norm`` (L2 norm of
        all parameters). Training stops early, after the logged step where test accuracy has stayed >= 99% for
        ``config.patience`` steps (``patience = 0`` never stops early). With a ``probe``, also its columns.
    """
    cfg = _validate(config)
    device = resolve_device(cfg.device)
    gen = seeded_generator(cfg.seed)
    pairs, answers = modular_dataset(cfg.operation, cfg.modulus)
    order = torch.randperm(len(answers), generator=gen).numpy()  # (N,) the split
    n_train = round(cfg.train_fraction * len(answers))
    x, y = torch.as_tensor(pairs[order], device=device), torch.as_tensor(answers[order], device=device)
    x_tr, y_tr, x_te, y_te = x[:n_train], y[:n_train], x[n_train:], y[n_train:]  # (n, 2), (n,), (N - n, 2), ...
    model = init_default_(_PairMLP(cfg.modulus, cfg.embed_dim, cfg.hidden), gen).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, betas=(0.9, cfg.beta2), weight_decay=cfg.weight_decay)
    step = autograd_step(lambda _: nn.functional.cross_entropy(model(x_tr), y_tr), opt)

    def measure(t: int) -> dict:
        record = _measure(model, x_tr, y_tr, x_te, y_te)
        if probe is not None:
            with torch.no_grad():
                record.update(probe(t, model, x_tr, y_tr))
        return record

    solved_since: int | None = None  # the first logged step of the current stretch of test accuracy >= 99%

    def solved_long_enough(record: dict) -> bool:
        nonlocal solved_since
        solved = record["test_acc"] >= 0.99
        solved_since = (record["step"] if solved_since is None else solved_since) if solved else None
        return bool(cfg.patience) and solved_since is not None and record["step"] - solved_since >= cfg.patience

    def relay(record: dict) -> None:
        if callback is not None:
            callback({k: v for k, v in record.items() if k != "loss"})

    records = train_loop(
        step, steps=cfg.steps, evaluate=measure, eval_steps=log_steps(cfg.steps).tolist(), device=device,
        callback=relay, stop=solved_long_enough,
    )  # fmt: skip
    if callback is not None and records[-1]["step"] < cfg.steps:  # stopped early: the run is complete
        relay({**records[-1], "progress": 1.0})
    return pd.DataFrame.from_records(records).drop(columns="loss")


@torch.no_grad()
def _measure(model: nn.Module, x_tr: torch.Tensor, y_tr: torch.Tensor, x_te: torch.Tensor, y_te: torch.Tensor) -> dict:
    out = {}
    for name, x, y in (("train", x_tr, y_tr), ("test", x_te, y_te)):
        logits = model(x)  # (B, p)
        out[f"{name}_loss"] = float(nn.functional.cross_entropy(logits, y))
        out[f"{name}_acc"] = float((logits.argmax(dim=1) == y).float().mean())
    out["weight_norm"] = float(torch.sqrt(sum((w**2).sum() for w in model.parameters())))
    return out


def first_step(history: pd.DataFrame, column: str, threshold: float) -> int | None:
    """The first logged step at which ``history[column] >= threshold``, or ``None`` if never reached.

    Parameters
    ----------
    history : DataFrame
        The output of :func:`train_grokking` (columns ``step`` and ``column``).
    column : str
        E.g. ``"train_acc"`` or ``"test_acc"``.
    threshold : float
        The level to reach.
    """
    if not isinstance(history, pd.DataFrame) or not {"step", column} <= set(history.columns):
        raise ValueError(f"`history` must be a train_grokking DataFrame with columns step and {column}.")
    hit = history.loc[history[column] >= check_real(threshold, "threshold"), "step"]
    return None if hit.empty else int(hit.iloc[0])


def memorisation_step(history: pd.DataFrame, *, threshold: float = MEMORISED) -> int | None:
    """The first logged step with train accuracy >= ``threshold`` (default 99%), or ``None``."""
    return first_step(history, "train_acc", threshold)


def generalisation_step(history: pd.DataFrame, *, threshold: float = GENERALISED) -> int | None:
    """The first logged step with test accuracy >= ``threshold`` (default 95%), or ``None``."""
    return first_step(history, "test_acc", threshold)


@dataclass(frozen=True)
class GrokkingSummary:
    """The milestones of one run, read from its history (steps are logged steps; accuracies are fractions)."""

    memorised_step: int | None  # first logged step with train accuracy >= 99%
    generalised_step: int | None  # first logged step with test accuracy >= 95%
    test_acc_at_memorisation: float | None  # how much of the memorised rule carried over at that moment
    best_test_acc: float
    final_test_acc: float
    last_step: int  # steps actually trained (early stop or budget)
    norm_start: float  # L2 norm of all weights at initialisation
    norm_peak: float
    norm_end: float

    @property
    def delay(self) -> float | None:
        """How many times later than memorisation the network generalised (None if either never happened)."""
        if self.memorised_step is None or self.generalised_step is None:
            return None
        return self.generalised_step / max(self.memorised_step, 1)


def grokking_summary(history: pd.DataFrame) -> GrokkingSummary:
    """Milestones of a :func:`train_grokking` history: memorisation, generalisation and the weight norm's path."""
    mem = memorisation_step(history)
    gen = generalisation_step(history)
    norm = history.weight_norm
    return GrokkingSummary(
        memorised_step=mem,
        generalised_step=gen,
        test_acc_at_memorisation=None if mem is None else float(history.test_acc[history.step == mem].iloc[0]),
        best_test_acc=float(history.test_acc.max()),
        final_test_acc=float(history.test_acc.iloc[-1]),
        last_step=int(history.step.iloc[-1]),
        norm_start=float(norm.iloc[0]),
        norm_peak=float(norm.max()),
        norm_end=float(norm.iloc[-1]),
    )


# ---------------------------------------------------------------------------------------------------------------
# The mechanism: the Fourier spectrum of the learned embedding (Nanda et al. 2023).


def fourier_basis(modulus: int) -> np.ndarray:
    r"""The real orthonormal Fourier basis of functions on the residues ``0..p-1``, one basis vector per row.

    Row 0 is the constant :math:`1/\sqrt p`; for frequency :math:`k = 1..\lceil p/2 \rceil - 1` rows ``2k - 1`` and
    ``2k`` are :math:`\sqrt{2/p}\cos(2\pi k x / p)` and :math:`\sqrt{2/p}\sin(2\pi k x / p)`; for even ``p`` the last
    row is the alternating :math:`(-1)^x / \sqrt p` (frequency ``p/2``).

    Returns
    -------
    ndarray of shape (p, p)
        Orthonormal: ``B @ B.T = I``.
    """
    p = check_int(modulus, "modulus", low=2, high=10_000)
    x = np.arange(p)
    rows = [np.full(p, 1 / np.sqrt(p))]
    for k in range(1, (p + 1) // 2):
        angle = 2 * np.pi * k * x / p  # (p,)
        rows += [np.sqrt(2 / p) * np.cos(angle), np.sqrt(2 / p) * np.sin(angle)]
    if p % 2 == 0:
        rows.append((-1.0) ** x / np.sqrt(p))
    return np.stack(rows)  # (p, p)


def fourier_spectrum(embedding: np.ndarray | torch.Tensor) -> np.ndarray:
    r"""Squared norm of a token embedding per frequency: how much of it each Fourier mode over the tokens carries.

    The embedding :math:`E \in \mathbb R^{p \times d}` (row ``x`` the vector of residue ``x``) is written in the
    basis of :func:`fourier_basis`, :math:`C = B E`; frequency ``k`` has power
    :math:`P_k = \|C_{\cos k}\|^2 + \|C_{\sin k}\|^2` (one row for ``k = 0`` and for ``k = p/2``). By Parseval,
    :math:`\sum_k P_k = \|E\|_F^2`. A network that computes ``a + b mod p`` with the trigonometric algorithm puts
    its embedding into a few key frequencies (Nanda et al. 2023, fig. 3); a random embedding spreads it evenly,
    ``2/p`` of the norm per frequency on average.

    Parameters
    ----------
    embedding : array or tensor of shape (p, d)

    Returns
    -------
    ndarray of shape (p // 2 + 1,)
        ``P_k`` for ``k = 0 .. p // 2``, in squared embedding units.
    """
    E = embedding.detach().cpu().numpy() if torch.is_tensor(embedding) else embedding
    E = check_array(E, "embedding", ndim=2, min_len=2)  # (p, d)
    p = E.shape[0]
    C2 = ((fourier_basis(p) @ E) ** 2).sum(axis=1)  # (p,) squared norm per basis vector
    power = np.zeros(p // 2 + 1)
    power[0] = C2[0]
    n_pairs = (p + 1) // 2 - 1
    power[1 : n_pairs + 1] = C2[1 : 2 * n_pairs + 1].reshape(n_pairs, 2).sum(axis=1)  # cos + sin of each k
    if p % 2 == 0:
        power[-1] = C2[-1]
    return power


def key_frequencies(power: np.ndarray, *, share: float = KEY_SHARE) -> tuple[int, ...]:
    """The fewest non-constant frequencies, strongest first, that carry ``share`` of the non-constant power.

    Parameters
    ----------
    power : array of shape (p // 2 + 1,)
        A :func:`fourier_spectrum` (index = frequency; index 0, the constant, is left out).
    share : float
        Fraction of the non-constant power to cover, in (0, 1).

    Returns
    -------
    tuple of int
        The key frequencies, in increasing order.
    """
    P = check_array(power, "power", ndim=1, min_len=2)
    s = check_probability(share, "share")
    if np.any(P < 0):
        raise ValueError("`power` must be a spectrum of squared norms (>= 0). Got a negative entry.")
    rest = P[1:]  # (K,) frequencies 1..p//2
    if not rest.sum() > 1e-20 * P.sum():  # rounding leaves ~1e-32 on an embedding with equal rows
        raise ValueError("`power` has no non-constant power (the embedding must vary across tokens).")
    order = np.argsort(rest)[::-1]  # strongest first
    n = int(np.searchsorted(np.cumsum(rest[order]) / rest.sum(), s - 1e-12) + 1)
    return tuple(sorted(int(k) + 1 for k in order[:n]))


@dataclass(frozen=True)
class GrokkingMechanism:
    """One grokking run with its embedding's Fourier spectrum measured at every logged step (see grokking_mechanism).

    ``history`` is :func:`train_grokking`'s, plus ``key_share``: the fraction of the embedding's squared norm in the
    key frequencies. ``spectrum`` is long: ``step``, ``frequency`` (0..p//2), ``power`` (squared norm),
    ``share`` (of the whole squared norm at that step). The embedding is the one the hidden layer sees
    (``_PairMLP.token_map``: row ``x`` is ``[W_a e_x, W_b e_x]``), so directions of ``e_x`` that the first layer
    ignores, which only weight decay removes, do not blur the spectrum.
    """

    history: pd.DataFrame
    spectrum: pd.DataFrame
    key_frequencies: tuple[int, ...]  # the fewest that carry KEY_SHARE of the final non-constant power
    chance_share: float  # the key frequencies' expected share in a random embedding: 2/p each (1/p for k = p/2)


def grokking_mechanism(config: GrokkingConfig = GrokkingConfig(), *, callback: Callback = None) -> GrokkingMechanism:
    """Train as :func:`train_grokking` and measure the Fourier spectrum of the embedding at every logged step.

    The embedding is the network's map from a residue to the hidden layer's input, ``[W_a e_x, W_b e_x]`` (the
    learned vector ``e_x`` as the first layer reads it; Nanda et al. 2023 read the embedding ``W_E`` of their
    transformer the same way). The key frequencies are read from it at the last step (:func:`key_frequencies`);
    their share of its squared norm is then followed back through training (Nanda et al. 2023, fig. 3 and sec. 5).

    Parameters
    ----------
    config : GrokkingConfig
    callback : callable, optional
        As in :func:`train_grokking`.

    Returns
    -------
    GrokkingMechanism
    """
    spectra: list[tuple[int, np.ndarray]] = []

    def probe(step: int, model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> dict:
        spectra.append((step, fourier_spectrum(model.token_map())))
        return {}

    history = train_grokking(config, callback=callback, probe=probe)
    steps = np.array([s for s, _ in spectra])  # (T,)
    power = np.stack([p for _, p in spectra])  # (T, p // 2 + 1)
    share = power / power.sum(axis=1, keepdims=True)  # (T, K + 1) of ||E||_F^2
    key = key_frequencies(power[-1])
    p = config.modulus
    spectrum = pd.DataFrame(
        {"step": np.repeat(steps, power.shape[1]), "frequency": np.tile(np.arange(power.shape[1]), len(steps)),
         "power": power.ravel(), "share": share.ravel()}
    )  # fmt: skip
    chance = sum((1 if 2 * k == p else 2) / p for k in key)
    return GrokkingMechanism(history.assign(key_share=share[:, list(key)].sum(axis=1)), spectrum, key, chance)
