"""A mini scaling-law experiment that runs on a CPU: teacher-student regression over model and data sizes.

A fixed random tanh teacher labels Gaussian inputs (plus label noise, so the irreducible loss E is the noise
variance); GELU students of several widths train on nested training sets of several sizes. All data sizes of one
width train at once as a batch of independent models (batched matmuls), so a 5 x 5 grid takes seconds.
Reference for the fitted form: Hoffmann et al. 2022 (Chinchilla), Approach 3.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from core._validation import check_int, check_positive, check_probability
from core.training import resolve_device


@dataclass(frozen=True)
class MiniScalingConfig:
    """Settings of the mini experiment; the defaults run in seconds on 2 cores."""

    widths: tuple[int, ...] = (4, 8, 16, 32, 64)  # student hidden width: N spans ~60 to ~5000 parameters
    data_sizes: tuple[int, ...] = (256, 512, 1024, 2048, 4096)  # training examples D, factors of 2
    seeds: tuple[int, ...] = (0, 1, 2)  # each seed is its own teacher; the fit uses the mean over seeds per cell
    input_dim: int = 8  # low enough that small students can learn the teacher
    teacher_width: int = 256  # teacher far wider than any student: model size limits the loss
    noise_var: float = 0.1  # label-noise variance = the irreducible loss E the fit should find
    steps: int = 600  # AdamW steps per student (measured: enough to reach the best validation loss)
    batch: int = 64
    lr: float = 1e-2
    weight_decay: float = 0.01  # AdamW's default
    warmup: int = 30  # linear warm-up steps, then cosine decay to zero
    eval_every: int = 50  # validation checks; the reported loss is test loss at the best validation check
    n_val: int = 1024
    n_test: int = 4096
    device: str = "cpu"


def _validate(cfg: MiniScalingConfig) -> None:
    if not cfg.widths or not cfg.data_sizes or not cfg.seeds:
        raise ValueError("`widths`, `data_sizes` and `seeds` must each list at least one value.")
    for w in cfg.widths:
        check_int(w, "widths", low=1, high=1024)
    for d in cfg.data_sizes:
        check_int(d, "data_sizes", low=16, high=65_536)
    for s in cfg.seeds:
        check_int(s, "seeds", low=0)
    check_int(cfg.input_dim, "input_dim", low=1, high=256)
    check_int(cfg.steps, "steps", low=1, high=100_000)
    check_int(cfg.batch, "batch", low=1)
    check_int(cfg.eval_every, "eval_every", low=1)
    check_positive(cfg.lr, "lr")
    check_probability(cfg.noise_var, "noise_var", open_interval=False)


def n_params(width: int, input_dim: int) -> int:
    """Parameters of a student with two hidden layers of ``width`` and one output."""
    return input_dim * width + width + width * width + width + width + 1


def _teacher(cfg: MiniScalingConfig, gen: torch.Generator) -> Callable[[torch.Tensor], torch.Tensor]:
    w1 = torch.randn(cfg.input_dim, cfg.teacher_width, generator=gen) / math.sqrt(cfg.input_dim)
    w2 = torch.randn(cfg.teacher_width, 1, generator=gen) / math.sqrt(cfg.teacher_width)
    probe = torch.tanh(torch.randn(8192, cfg.input_dim, generator=gen) @ w1) @ w2
    scale = float(probe.std())  # the clean target has unit variance
    return lambda x: (torch.tanh(x @ w1) @ w2) / scale


def _init(k: int, fan_in: int, fan_out: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    bound = 1.0 / math.sqrt(fan_in)  # torch.nn.Linear's default init, one independent draw per model
    w = (torch.rand(k, fan_in, fan_out, generator=gen) * 2 - 1) * bound  # (K, fan_in, fan_out)
    b = (torch.rand(k, 1, fan_out, generator=gen) * 2 - 1) * bound  # (K, 1, fan_out)
    return w.requires_grad_(), b.requires_grad_()


def _forward(params: list[torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    w1, b1, w2, b2, w3, b3 = params
    h = torch.nn.functional.gelu(torch.baddbmm(b1, x, w1))  # (K, B, width)
    h = torch.nn.functional.gelu(torch.baddbmm(b2, h, w2))
    return torch.baddbmm(b3, h, w3).squeeze(-1)  # (K, B)


def _lr_factor(step: int, cfg: MiniScalingConfig) -> float:
    if step < cfg.warmup:
        return (step + 1) / cfg.warmup
    progress = (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup)
    return 0.5 * (1 + math.cos(math.pi * progress))


def mini_scaling_experiment(
    config: MiniScalingConfig = MiniScalingConfig(), *, callback: Callable[[dict], None] | None = None
) -> pd.DataFrame:
    """Train every (width, data size, seed) student and measure its test loss.

    Each student is an MLP (2 GELU hidden layers) trained with AdamW (warm-up then cosine) on mean squared error
    against a noisy teacher; D examples are the first D of one pool, so data sets are nested. The reported loss
    is the test MSE at the best validation check (early stopping), so it estimates L(N, D) = E + ... with
    E = ``noise_var``.

    Parameters
    ----------
    config : MiniScalingConfig
    callback : callable, optional
        Called after each validation check with progress, seed, width, N, step, and the best validation loss
        so far of each data size (keys ``D``, ``val_loss``: one record per data size).

    Returns
    -------
    DataFrame
        seed, width, N, D, loss (test MSE at the best validation check), best_step.
    """
    _validate(config)
    device = resolve_device(config.device)
    d_max = max(config.data_sizes)
    sizes = torch.tensor(config.data_sizes)  # (K,)
    k = len(config.data_sizes)
    total = len(config.seeds) * len(config.widths) * config.steps
    done, rows = 0, []
    for seed in config.seeds:
        gen = torch.Generator().manual_seed(int(seed))
        teacher = _teacher(config, gen)
        noise_sd = math.sqrt(config.noise_var)
        x_pool = torch.randn(d_max + config.n_val + config.n_test, config.input_dim, generator=gen)
        y_pool = teacher(x_pool).squeeze(-1) + noise_sd * torch.randn(len(x_pool), generator=gen)
        x_tr, y_tr = x_pool[:d_max].to(device), y_pool[:d_max].to(device)
        x_val, y_val = x_pool[d_max : d_max + config.n_val].to(device), y_pool[d_max : d_max + config.n_val].to(device)
        x_te, y_te = x_pool[d_max + config.n_val :].to(device), y_pool[d_max + config.n_val :].to(device)
        for width in config.widths:
            params = [*_init(k, config.input_dim, width, gen), *_init(k, width, width, gen), *_init(k, width, 1, gen)]
            params = [p.detach().to(device).requires_grad_() for p in params]
            opt = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
            sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: _lr_factor(s, config))
            best_val = torch.full((k,), float("inf"))
            best_test, best_step = torch.full((k,), float("nan")), torch.zeros(k, dtype=torch.long)
            for step in range(1, config.steps + 1):
                idx = (torch.rand(k, config.batch, generator=gen) * sizes[:, None]).long()  # (K, batch), < D_k
                pred = _forward(params, x_tr[idx])  # (K, batch)
                loss = ((pred - y_tr[idx]) ** 2).mean(dim=1).sum()  # independent models: sum of their losses
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
                if step % config.eval_every == 0 or step == config.steps:
                    with torch.no_grad():
                        val = ((_forward(params, x_val.expand(k, -1, -1)) - y_val) ** 2).mean(dim=1).cpu()
                        better = val < best_val
                        if better.any():
                            test = ((_forward(params, x_te.expand(k, -1, -1)) - y_te) ** 2).mean(dim=1).cpu()
                            best_test = torch.where(better, test, best_test)
                            best_step = torch.where(better, torch.tensor(step), best_step)
                            best_val = torch.minimum(val, best_val)
                    if callback is not None:
                        progress = (done + step) / total
                        for j, d in enumerate(config.data_sizes):
                            callback(
                                {
                                    "progress": progress,
                                    "seed": seed,
                                    "width": width,
                                    "N": n_params(width, config.input_dim),
                                    "D": d,
                                    "step": step,
                                    "val_loss": float(best_val[j]),
                                }
                            )
            done += config.steps
            for j, d in enumerate(config.data_sizes):
                rows.append(
                    {
                        "seed": seed,
                        "width": width,
                        "N": n_params(width, config.input_dim),
                        "D": d,
                        "loss": float(best_test[j]),
                        "best_step": int(best_step[j]),
                    }
                )
    out = pd.DataFrame(rows)
    if not np.isfinite(out["loss"]).all():
        raise ValueError("Some students diverged (non-finite loss). Lower `lr`.")
    return out


def mean_over_seeds(runs: pd.DataFrame) -> pd.DataFrame:
    """Average the loss of each (N, D) cell over seeds, the runs a fit should see.

    Each seed draws its own teacher, so seeds are different tasks of one family: fitting all rows mixes the
    between-task spread into the residuals (measured: E collapses to 0), while the cell means average it out.

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
