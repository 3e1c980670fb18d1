"""The small torch toolkit shared by the training pages: device, seeding, MLPs, batches, evaluation.

Each training page writes its own loop (the loops differ in what they measure); this module keeps the parts they
share identical, so a seed means the same thing everywhere and nothing assumes a GPU.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
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
