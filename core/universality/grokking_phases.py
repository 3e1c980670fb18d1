"""The phases of grokking: training fraction x weight decay, each run read from its own accuracy curves.

Liu et al. (2022) swept hyperparameters of modular-arithmetic learners and found four phases: the network learns
the rule as fast as it fits the data (*comprehension*), fits first and generalises much later (*grokking*), fits
and never generalises (*memorisation*), or does not even fit (*confusion*). Here a grid of runs of the grokking
network (:mod:`core.universality.grokking`) over training fraction and weight decay is trained as one batched
model, every cell with the same initialisation and split order, and each cell is classified by
:func:`classify_phase`:

- **fails**: train accuracy never reaches 99% within the budget (and test accuracy never 95%);
- **memorises**: train accuracy reaches 99% at step ``m``, test accuracy never reaches 95%;
- **groks**: test accuracy reaches 95% at a step ``g >= GROK_DELAY * m``, long after memorisation;
- **learns**: test accuracy reaches 95% at ``g < GROK_DELAY * m``: it generalises about as soon as it fits.

References: Z. Liu, O. Kitouni, N. Nolte, E. J. Michaud, M. Tegmark, M. Williams, *Towards understanding grokking:
an effective theory of representation learning*, NeurIPS 2022; A. Power et al., arXiv:2201.02177 (2022).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn

from core._validation import check_int, check_real
from core.training import Callback, init_default_, resolve_device, seeded_generator, train_loop
from core.universality.grokking import (
    GENERALISED,
    MEMORISED,
    GrokkingConfig,
    _PairMLP,
    _validate,
    log_steps,
    modular_dataset,
)

PHASES = ("learns", "groks", "memorises", "fails")
GROK_DELAY = 3.0  # generalising at >= 3x the memorisation step counts as grokking; sooner, as learning


@dataclass(frozen=True)
class PhaseConfig:
    """A grid of grokking runs on a small modulus, trained as one batched model (defaults: within ~5 units)."""

    modulus: int = 23  # (a + b) mod 23: 529 pairs, small enough to train 25 runs at once on a CPU
    train_fractions: tuple[float, ...] = (0.3, 0.45, 0.6, 0.75, 0.9)  # from too little data to plenty
    weight_decays: tuple[float, ...] = (0.0, 0.3, 1.0, 3.0, 6.0)  # none; groks at 1; learns at 3 (0.9); 6 fails
    embed_dim: int = 32  # half the grokking tab's 64: the same architecture, cheaper per cell
    hidden: int = 64  # 64-64-23: still memorises 30% of the pairs within ~25 steps (measured)
    lr: float = 1e-2  # the AdamW step of the Rest stop's p = 23 runs, which grok within a few hundred steps
    beta2: float = 0.98  # as the grokking tab
    steps: int = 1000  # the budget every phase is read within: the 25 cells take ~3.5 units
    seed: int = 0  # split order and the one initialisation all cells share
    device: str = "cpu"  # tiny model: the CPU is fastest


@dataclass(frozen=True)
class PhaseResult:
    """The output of :func:`phase_sweep`."""

    history: pd.DataFrame  # train_fraction, weight_decay, step, train_loss, train_acc, test_loss, test_acc
    phases: pd.DataFrame  # train_fraction, weight_decay, phase, memorised_step, generalised_step, final accuracies


def classify_phase(
    steps: np.ndarray, train_acc: np.ndarray, test_acc: np.ndarray
) -> tuple[str, int | None, int | None]:
    """Read one run's phase from its curves: (phase, memorisation step, generalisation step).

    Parameters
    ----------
    steps : array of shape (T,)
        Logged steps, increasing.
    train_acc, test_acc : arrays of shape (T,)
        Accuracies (fractions) at those steps.

    Returns
    -------
    (str, int or None, int or None)
        One of :data:`PHASES`; the first step with train accuracy >= 99% and with test accuracy >= 95% (None:
        never). See the module docstring for the definitions.
    """
    s = np.asarray(steps)
    tr, te = np.asarray(train_acc, float), np.asarray(test_acc, float)
    if s.ndim != 1 or s.size == 0 or tr.shape != s.shape or te.shape != s.shape:
        raise ValueError(f"`steps`, `train_acc` and `test_acc` must be 1-d of one length. Got {s.shape}, {tr.shape}, "
                         f"{te.shape} instead.")  # fmt: skip
    if np.any(np.diff(s) <= 0):
        raise ValueError("`steps` must be strictly increasing (the logged steps of one run).")
    if np.any(~np.isfinite(tr) | ~np.isfinite(te)) or tr.min() < 0 or te.min() < 0 or max(tr.max(), te.max()) > 1:
        raise ValueError("`train_acc` and `test_acc` must be accuracies in [0, 1].")
    hit_m, hit_g = np.flatnonzero(tr >= MEMORISED), np.flatnonzero(te >= GENERALISED)
    m = int(s[hit_m[0]]) if hit_m.size else None
    g = int(s[hit_g[0]]) if hit_g.size else None
    if g is not None:
        return ("groks" if m is not None and g >= GROK_DELAY * max(m, 1) else "learns"), m, g
    return ("memorises" if m is not None else "fails"), m, None


class _BatchedPairMLP(nn.Module):
    """``V`` copies of ``grokking._PairMLP`` as stacked tensors: one forward pass trains every cell of the grid."""

    def __init__(self, model: _PairMLP, copies: int) -> None:
        super().__init__()
        first, _, last = model.mlp
        d = model.embed.weight.shape[1]
        stack = [model.embed.weight, first.weight[:, :d], first.weight[:, d:], first.bias, last.weight, last.bias]
        self.E, self.Wa, self.Wb, self.b1, self.W2, self.b2 = (
            nn.Parameter(w.detach().unsqueeze(0).repeat(copies, *([1] * w.dim())).clone()) for w in stack
        )  # (V, p, d), (V, H, d), (V, H, d), (V, H), (V, p, H), (V, p)

    def forward(self) -> torch.Tensor:
        """Logits of every cell on every pair ``(a, b)``, ``a``-major as in ``modular_dataset``: (V, p * p, p)."""
        V, p, _ = self.E.shape
        per_a = self.E @ self.Wa.transpose(1, 2)  # (V, p, H) first-layer output per value of a
        per_b = self.E @ self.Wb.transpose(1, 2)  # (V, p, H)
        h = torch.relu(per_a[:, :, None] + per_b[:, None, :] + self.b1[:, None, None]).reshape(V, p * p, -1)
        return torch.baddbmm(self.b2[:, None], h, self.W2.transpose(1, 2))  # (V, p * p, p)


def _check(config: PhaseConfig) -> PhaseConfig:
    if not isinstance(config, PhaseConfig):
        raise TypeError(f"`config` must be a PhaseConfig. Got {type(config).__name__} instead.")
    for name in ("train_fractions", "weight_decays"):
        values = getattr(config, name)
        if not values or len(set(values)) != len(values):
            raise ValueError(f"`{name}` must list at least one value, each once. Got {values!r} instead.")
    if len(config.train_fractions) * len(config.weight_decays) > 64:
        raise ValueError("The grid must have at most 64 cells (train_fractions x weight_decays); use fewer values.")
    check_int(config.modulus, "modulus", low=3, high=59)
    for f in config.train_fractions:  # the grokking checks: every fraction leaves pairs on both sides, etc.
        cell = {"modulus": config.modulus, "train_fraction": f, "embed_dim": config.embed_dim}
        _validate(GrokkingConfig(**cell, hidden=config.hidden, lr=config.lr, beta2=config.beta2, steps=config.steps))
    for wd in config.weight_decays:
        check_real(wd, "weight_decays", low=0.0, high=100.0)
    return config


def phase_sweep(config: PhaseConfig = PhaseConfig(), *, callback: Callback = None) -> PhaseResult:
    r"""Train every (training fraction, weight decay) cell of the grid for ``steps`` and classify its phase.

    Each cell is the run ``train_grokking(GrokkingConfig(modulus, train_fraction, embed_dim, hidden, lr,
    weight_decay, beta2, steps, patience=0, seed))`` (same split order, same initialisation, so a cell's training
    set grows with its fraction): full-batch AdamW with decoupled decay
    :math:`\theta \leftarrow \theta (1 - \eta\lambda) - \eta\, \hat m / (\sqrt{\hat v} + \epsilon)`, here with one
    :math:`\lambda` per cell. All cells share one batched forward pass over all pairs, the loss of each masked to
    its own training pairs.

    Parameters
    ----------
    config : PhaseConfig
    callback : callable, optional
        At every logged step: ``progress``, ``step`` and how many cells have memorised and generalised so far.

    Returns
    -------
    PhaseResult
    """
    cfg = _check(config)
    device = resolve_device(cfg.device)
    gen = seeded_generator(cfg.seed)
    answers = torch.as_tensor(modular_dataset("add", cfg.modulus)[1], device=device)  # (N,) pairs a-major
    order = torch.randperm(len(answers), generator=gen).to(device)  # (N,) the split, as train_grokking draws it
    cells = [(f, wd) for f in cfg.train_fractions for wd in cfg.weight_decays]  # (V,) fraction-major
    V, N = len(cells), len(answers)
    n_train = torch.tensor([round(f * N) for f, _ in cells], device=device)  # (V,)
    rank = torch.empty(N, dtype=torch.int64, device=device)
    rank[order] = torch.arange(N, device=device)  # (N,) each pair's place in the split order
    mask = (rank[None, :] < n_train[:, None]).float()  # (V, N) 1 on a cell's training pairs
    model = _BatchedPairMLP(init_default_(_PairMLP(cfg.modulus, cfg.embed_dim, cfg.hidden), gen), V).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, betas=(0.9, cfg.beta2))
    decay = 1 - cfg.lr * torch.tensor([wd for _, wd in cells], device=device)  # (V,) AdamW's factor per cell

    def losses(logits: torch.Tensor) -> torch.Tensor:  # (V, N, p) -> (V, N) cross-entropy per pair
        return nn.functional.cross_entropy(logits.transpose(1, 2), answers.expand(V, N), reduction="none")

    def step(t: int, rows: torch.Tensor | None) -> torch.Tensor:
        loss = (losses(model()) * mask).sum(dim=1) / n_train  # (V,) each cell's mean over its training pairs
        opt.zero_grad(set_to_none=True)
        loss.sum().backward()
        with torch.no_grad():
            for w in model.parameters():
                w.mul_(decay.view(-1, *([1] * (w.dim() - 1))))
        opt.step()
        return loss.detach()

    counts = {"memorised": torch.zeros(V, dtype=torch.bool), "generalised": torch.zeros(V, dtype=torch.bool)}

    @torch.no_grad()
    def measure(t: int) -> dict:
        logits = model()  # (V, N, p)
        ce, right = losses(logits), (logits.argmax(dim=2) == answers).float()  # (V, N) each
        out = {}
        for name, m in (("train", mask), ("test", 1 - mask)):
            out[f"{name}_loss"] = ((ce * m).sum(1) / m.sum(1)).cpu().numpy()
            out[f"{name}_acc"] = ((right * m).sum(1) / m.sum(1)).cpu().numpy()
        counts["memorised"] |= torch.as_tensor(out["train_acc"] >= MEMORISED)
        counts["generalised"] |= torch.as_tensor(out["test_acc"] >= GENERALISED)
        return out

    def relay(record: dict) -> None:
        if callback is not None:
            callback({"progress": record["progress"], "step": record["step"], "cells": V,
                      **{k: int(v.sum()) for k, v in counts.items()}})  # fmt: skip

    records = train_loop(
        step, steps=cfg.steps, evaluate=measure, eval_steps=log_steps(cfg.steps, n_log=40, n_linear=60).tolist(),
        device=device, callback=relay,
    )  # fmt: skip
    frac, wd = np.array(cells).T  # (V,) each
    history = pd.concat(
        [pd.DataFrame({"train_fraction": frac, "weight_decay": wd, "step": r["step"],
                       **{k: r[k] for k in ("train_loss", "train_acc", "test_loss", "test_acc")}}) for r in records],
        ignore_index=True,
    )  # fmt: skip
    return PhaseResult(history, phase_table(history))


def phase_table(history: pd.DataFrame) -> pd.DataFrame:
    """Classify every cell of a :func:`phase_sweep` history (see :func:`classify_phase`).

    Returns
    -------
    DataFrame
        One row per cell: ``train_fraction``, ``weight_decay``, ``phase``, ``memorised_step``,
        ``generalised_step`` (NaN: never), ``final_train_acc``, ``final_test_acc``.
    """
    need = {"train_fraction", "weight_decay", "step", "train_acc", "test_acc"}
    if not isinstance(history, pd.DataFrame) or not need <= set(history.columns) or history.empty:
        raise ValueError(f"`history` must be a phase_sweep history with columns {sorted(need)}.")
    rows = []
    for (f, wd), run in history.sort_values("step").groupby(["train_fraction", "weight_decay"], sort=True):
        phase, m, g = classify_phase(run.step.to_numpy(), run.train_acc.to_numpy(), run.test_acc.to_numpy())
        rows.append({"train_fraction": f, "weight_decay": wd, "phase": phase,
                     "memorised_step": np.nan if m is None else m, "generalised_step": np.nan if g is None else g,
                     "final_train_acc": run.train_acc.iloc[-1], "final_test_acc": run.test_acc.iloc[-1]})  # fmt: skip
    return pd.DataFrame(rows)
