"""The one training loop of the lab, and the small torch toolkit around it: device, seeding, MLPs, batches.

Every training module runs its steps through :func:`train_loop`: the module says what one step is (``step(t, batch)``
returns the loss, e.g. :func:`autograd_step` for an optimizer, or a hand-written update) and what to measure at the
chosen steps (``evaluate(t)``); the loop draws the batches from the run's generator, applies no global state, calls
``callback(record)`` after each evaluation (raising inside it cancels the run), stops on a non-finite loss with a
:class:`Diverged` error that names the knob to turn, and returns the records. Batched models (several seeds, widths
or variants trained as one vectorised model) return one loss per variant; a step diverges when any of them does.
So a seed means the same thing everywhere and nothing assumes a GPU.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import pairwise

import numpy as np
import torch
from torch import nn

from core._validation import check_choice, check_int

Callback = Callable[[dict], None] | None

ACTIVATIONS: dict[str, type[nn.Module]] = {"relu": nn.ReLU, "tanh": nn.Tanh, "gelu": nn.GELU}


def resolve_device(device: str | None = "cpu") -> torch.device:
    """Return a torch device: ``"cpu"`` (default), ``"cuda"`` if available, or ``"auto"`` for the best one."""
    if device in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    check_choice(device, "device", ("cpu", "cuda", "auto"))
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("`device` must be 'cpu' on this machine (no CUDA device found). Got 'cuda' instead.")
    return torch.device(device)


def seeded_generator(seed: int) -> torch.Generator:
    """A CPU generator seeded with ``seed``; torch's global RNG is never touched (sessions share one process)."""
    return torch.Generator().manual_seed(check_int(seed, "seed", low=0))


@torch.no_grad()
def init_default_(model: nn.Module, generator: torch.Generator) -> nn.Module:
    """Re-draw PyTorch's default init from ``generator``, in place, for every Linear and Embedding of ``model``.

    Linear weights and biases ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (what ``nn.Linear.reset_parameters`` draws),
    Embedding rows ~ N(0, 1). Layers are visited in ``model.modules()`` order, so a seed fixes every value.
    """
    for module in model.modules():
        if isinstance(module, nn.Linear):
            bound = 1.0 / math.sqrt(module.in_features)
            module.weight.uniform_(-bound, bound, generator=generator)
            if module.bias is not None:
                module.bias.uniform_(-bound, bound, generator=generator)
        elif isinstance(module, nn.Embedding):
            module.weight.normal_(0.0, 1.0, generator=generator)
    return model


def make_mlp(
    sizes: Sequence[int],
    *,
    activation: str = "relu",
    bias: bool = True,
    batchnorm: bool = False,
    last_activation: bool = False,
    generator: torch.Generator | None = None,
) -> nn.Sequential:
    """Build ``Linear -> [BatchNorm] -> act`` blocks for consecutive ``sizes``; the last Linear is bare.

    Parameters
    ----------
    sizes : sequence of int
        Layer widths from input to output, e.g. ``(64, 300, 100, 10)``.
    activation : str
        One of ``ACTIVATIONS``.
    bias : bool
        Whether Linear layers have biases.
    batchnorm : bool
        Insert ``BatchNorm1d`` after each hidden Linear.
    last_activation : bool
        Also apply the activation after the last Linear.
    generator : torch.Generator, optional
        Draws the initial weights (PyTorch's default init, see ``init_default_``). Pass one for every model a run
        trains: without it the init comes from torch's global RNG, which other sessions share.
    """
    if len(sizes) < 2:
        raise ValueError(f"`sizes` must list at least an input and an output width. Got {list(sizes)} instead.")
    for i, s in enumerate(sizes):
        check_int(s, f"sizes[{i}]", low=1)
    act = ACTIVATIONS[check_choice(activation, "activation", ACTIVATIONS)]
    layers: list[nn.Module] = []
    for i, (fan_in, fan_out) in enumerate(pairwise(sizes)):
        layers.append(nn.Linear(fan_in, fan_out, bias=bias))
        last = i == len(sizes) - 2
        if batchnorm and not last:
            layers.append(nn.BatchNorm1d(fan_out))
        if not last or last_activation:
            layers.append(act())
    model = nn.Sequential(*layers)
    return model if generator is None else init_default_(model, generator)


def minibatches(n: int, batch: int, generator: torch.Generator) -> Iterator[torch.Tensor]:
    """Yield index tensors of a fresh random permutation of ``range(n)``, ``batch`` at a time."""
    order = torch.randperm(n, generator=generator)
    for start in range(0, n, batch):
        yield order[start : start + batch]


def as_tensors(*arrays: np.ndarray, device: torch.device) -> tuple[torch.Tensor, ...]:
    """Convert float arrays to float32 tensors and integer arrays to int64 tensors on ``device``."""
    out = []
    for a in arrays:
        dtype = torch.int64 if np.issubdtype(np.asarray(a).dtype, np.integer) else torch.float32
        out.append(torch.as_tensor(np.asarray(a), dtype=dtype, device=device))
    return tuple(out)


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """Return (mean cross-entropy loss, accuracy in [0, 1]) of ``model`` on (x, y), in eval mode."""
    was_training = model.training
    model.eval()
    logits = model(x)
    loss = float(nn.functional.cross_entropy(logits, y))
    acc = float((logits.argmax(dim=1) == y).float().mean())
    model.train(was_training)
    return loss, acc


class Diverged(ValueError):
    """A training loss became NaN or infinite. ``step`` is where, ``knob`` the setting to lower, ``loss`` its value."""

    def __init__(self, step: int, loss: float, knob: str) -> None:
        self.step, self.loss, self.knob = step, loss, knob
        super().__init__(
            f"Training diverged at step {step} (loss {loss}). Lower `{knob}` (or shorten the run) and run again."
        )


Step = Callable[[int, torch.Tensor | None], torch.Tensor | float]


def autograd_step(
    loss_fn: Callable[[torch.Tensor | None], torch.Tensor],
    optimizer: torch.optim.Optimizer,
    *,
    schedule: Callable[[int], float] | None = None,
) -> Step:
    """A :func:`train_loop` step: ``loss_fn(batch)``, backward, one ``optimizer`` step; returns the detached loss.

    ``loss_fn`` may return one loss per variant of a batched model (shape (k,)); their sum is differentiated, so each
    variant gets the gradient of its own loss. ``schedule(t)`` multiplies every parameter group's initial learning
    rate at step ``t`` (1-based), e.g. :func:`cosine_schedule`.
    """
    base = [group["lr"] for group in optimizer.param_groups]

    def step(t: int, batch: torch.Tensor | None) -> torch.Tensor:
        if schedule is not None:
            factor = schedule(t)
            for group, lr in zip(optimizer.param_groups, base, strict=True):
                group["lr"] = lr * factor
        loss = loss_fn(batch)
        optimizer.zero_grad(set_to_none=True)
        loss.sum().backward()
        optimizer.step()
        return loss.detach()

    return step


def cosine_schedule(steps: int) -> Callable[[int], float]:
    """Cosine decay of the learning rate to 0 over ``steps``: factor ``(1 + cos(pi (t - 1) / steps)) / 2`` at step t."""
    steps = check_int(steps, "steps", low=1)
    return lambda t: 0.5 * (1.0 + math.cos(math.pi * (t - 1) / steps))


def eval_schedule(steps: int, every: int, *, first: bool = False) -> list[int]:
    """Steps ``every, 2 every, ...`` and always the last one; with ``first``, step 0 (before any update) too."""
    steps, every = check_int(steps, "steps", low=0), check_int(every, "every", low=1)
    grid = [*range(every, steps + 1, every), *([steps] if steps else [])]
    return sorted({0, *grid} if first else set(grid))


def train_loop(
    step: Step,
    *,
    steps: int,
    evaluate: Callable[[int], dict] | None = None,
    eval_steps: Iterable[int] | None = None,
    n: int | None = None,
    batch: int | None = None,
    generator: torch.Generator | None = None,
    device: torch.device | str = "cpu",
    callback: Callback = None,
    knob: str = "lr",
    stop: Callable[[dict], bool] | None = None,
    progress: tuple[float, float] = (0.0, 1.0),
) -> list[dict]:
    """Run ``steps`` training steps; measure, report and possibly stop at the chosen steps.

    Parameters
    ----------
    step : callable
        ``step(t, batch) -> loss`` performs update ``t`` (1-based) on ``batch`` (int64 row indices on ``device``, or
        ``None`` for full batch) and returns its loss: a scalar, or one value per variant of a batched model.
    steps : int
        Number of updates.
    evaluate : callable, optional
        ``evaluate(t) -> dict`` measures the model after update ``t`` (``t = 0``: before any). Its entries, with
        ``"step"`` and the step's mean ``"loss"`` (NaN at ``t = 0``), form the record.
    eval_steps : iterable of int, optional
        When to evaluate (0..steps); default: after the last step only.
    n, batch : int, optional
        Minibatches of ``batch`` rows out of ``n``, a fresh permutation from ``generator`` every epoch; leave
        ``batch`` unset (or ``>= n``) for full batch.
    generator : torch.Generator
        The run's generator (required for minibatches): the order never comes from global state.
    device : torch.device or str
        Where the batch indices go.
    callback : callable, optional
        ``callback(record)`` after every evaluation, the record plus ``"progress"`` in [0, 1]. Raising inside it
        cancels the run (the exception propagates).
    knob : str
        The setting a :class:`Diverged` error tells the user to lower.
    stop : callable, optional
        ``stop(record) -> bool`` after every evaluation; true ends the run there (e.g. a target accuracy reached).
    progress : (float, float)
        ``(start, end)`` of this loop within a longer run, so progress stays monotone across several loops.

    Returns
    -------
    list of dict
        The records, in step order.

    Raises
    ------
    Diverged
        If a step's loss is NaN or infinite.
    """
    steps = check_int(steps, "steps", low=0)
    wanted = sorted({check_int(s, "eval_steps", low=0, high=steps) for s in (eval_steps or [steps])})
    minibatch = batch is not None and n is not None and check_int(batch, "batch", low=1) < check_int(n, "n", low=1)
    if minibatch and generator is None:
        raise ValueError("`generator` must be given for minibatches (the run's seeded generator).")
    lo, hi = progress
    records: list[dict] = []
    order: Iterator[torch.Tensor] = iter(())
    at, loss = 0, float("nan")
    for t in range(steps + 1):
        if t > 0:
            rows = None
            if minibatch:
                rows = next(order, None)
                if rows is None:
                    order = minibatches(n, batch, generator)
                    rows = next(order)
                rows = rows.to(device)
            value = step(t, rows)
            loss = float(value.mean()) if isinstance(value, torch.Tensor) else float(value)
            if not math.isfinite(loss):
                raise Diverged(t, loss, knob)
        if at < len(wanted) and wanted[at] == t:
            at += 1
            record = {"step": t, "loss": loss, **(evaluate(t) if evaluate is not None else {})}
            records.append(record)
            if callback is not None:
                callback({**record, "progress": lo + (hi - lo) * t / max(steps, 1)})
            if stop is not None and stop(record):
                break
    return records
