"""The shared torch toolkit: devices, seeding, MLP construction, batches and evaluation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.training import (
    as_tensors,
    evaluate,
    init_default_,
    make_mlp,
    minibatches,
    resolve_device,
    seeded_generator,
)


def test_devices() -> None:
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type in {"cpu", "cuda"}
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA device"):
            resolve_device("cuda")
    with pytest.raises(ValueError, match="`device` must be one of"):
        resolve_device("tpu")


def test_same_seed_same_network_and_order() -> None:
    a = make_mlp((4, 8, 2), generator=seeded_generator(7))
    torch.rand(5)  # a draw from the global RNG in between (another session) changes nothing
    g1 = seeded_generator(7)
    b = make_mlp((4, 8, 2), generator=g1)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))
    order = torch.cat(list(minibatches(10, 3, seeded_generator(7))))
    assert sorted(order.tolist()) == list(range(10))
    assert torch.equal(order, torch.cat(list(minibatches(10, 3, torch.Generator().manual_seed(7)))))


def test_default_init_matches_torch_bounds() -> None:
    net = init_default_(torch.nn.Sequential(torch.nn.Linear(16, 50), torch.nn.Embedding(20, 4)), seeded_generator(0))
    lin, emb = net
    assert lin.weight.abs().max() <= 0.25 and lin.weight.abs().max() > 0.2  # U(-1/sqrt(16), 1/sqrt(16))
    assert lin.bias.abs().max() <= 0.25
    assert abs(float(emb.weight.detach().std()) - 1.0) < 0.25  # N(0, 1)


def test_mlp_layout() -> None:
    net = make_mlp((64, 300, 100, 10), activation="tanh", batchnorm=True)
    kinds = [type(m).__name__ for m in net]
    assert kinds == ["Linear", "BatchNorm1d", "Tanh", "Linear", "BatchNorm1d", "Tanh", "Linear"]
    assert sum(p.numel() for p in make_mlp((64, 300, 100, 10)).parameters()) == 64 * 300 + 300 + 300 * 100 + 100 + 1010
    with pytest.raises(ValueError, match="at least an input and an output"):
        make_mlp((5,))
    with pytest.raises(ValueError, match="`activation` must be one of"):
        make_mlp((2, 2), activation="swish")


def test_evaluate_matches_a_hand_computation() -> None:
    net = torch.nn.Linear(2, 2, bias=False)
    with torch.no_grad():
        net.weight.copy_(torch.eye(2))
    x, y = as_tensors(np.array([[2.0, 0.0], [0.0, 1.0]]), np.array([0, 0]), device=torch.device("cpu"))
    assert x.dtype == torch.float32 and y.dtype == torch.int64
    loss, acc = evaluate(net, x, y)
    expected = (np.log(1 + np.exp(-2.0)) + np.log(1 + np.exp(1.0))) / 2
    assert loss == pytest.approx(expected, rel=1e-6)
    assert acc == 0.5
    assert net.training
