"""Tests of core/lottery_ticket_stability.py: error barriers on the linear path between two trained copies."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch

from core.lottery_ticket.pruning import LotteryConfig
from core.lottery_ticket.stability import (
    InstabilityConfig,
    barrier,
    instability,
    instability_summary,
    path_errors,
)

pytestmark = pytest.mark.filterwarnings("ignore:The dense network reached only")
TINY = InstabilityConfig(
    sizes=(64, 24, 16, 10), n_train=300, epochs=2, batch_size=30, n_seeds=1, rewind_steps=(0, 3), n_alphas=5
)
ALPHAS = [0.0, 0.25, 0.5, 0.75, 1.0]


def _t(*arrays: list) -> list[torch.Tensor]:
    return [torch.tensor(a, dtype=torch.float32) for a in arrays]


def test_barrier_is_the_peak_above_the_mean_of_the_end_points() -> None:
    assert barrier([0.1, 0.1, 0.1]) == 0.0
    assert barrier([0.0, 0.3, 0.1]) == pytest.approx(0.25)
    assert barrier([0.0, 0.0, 0.5, 1.0, 1.0]) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="`errors` must be at least two finite numbers"):
        barrier([0.1])
    with pytest.raises(ValueError, match="`errors` must be at least two finite numbers"):
        barrier([0.1, float("nan")])


def test_identical_copies_have_no_barrier() -> None:
    gen = torch.Generator().manual_seed(0)
    params = [torch.randn(5, 3, generator=gen), torch.randn(5, generator=gen), torch.randn(4, 5, generator=gen),
              torch.randn(4, generator=gen)]  # fmt: skip
    x, y = torch.randn(50, 3, generator=gen), torch.randint(0, 4, (50,), generator=gen)
    errors = path_errors(params, [p.clone() for p in params], x, y, ALPHAS)
    assert np.ptp(errors) == 0.0 and barrier(errors) == 0.0


def test_a_linear_classifier_and_its_negation_by_hand() -> None:
    # logits (x1, -x1): class 0 iff x1 > 0, which is the label rule -> error 0; its negation has error 1. On the
    # path (1 - 2 alpha) A: error 0 before the middle, all logits 0 at alpha = 1/2 (argmax takes class 0, half the
    # points wrong), error 1 after it. Errors 0, 0, 1/2, 1, 1: barrier 1 - 1/2 = 1/2.
    a = _t([[1.0, 0.0], [-1.0, 0.0]], [0.0, 0.0])
    b = [-p for p in a]
    x, y = torch.tensor([[1.0, 0.0], [2.0, 1.0], [-1.0, 0.0], [-2.0, 3.0]]), torch.tensor([0, 0, 1, 1])
    errors = path_errors(a, b, x, y, ALPHAS)
    np.testing.assert_allclose(errors, [0.0, 0.0, 0.5, 1.0, 1.0])
    assert barrier(errors) == pytest.approx(0.5)


def test_two_permuted_copies_of_one_relu_net_have_a_barrier_in_the_middle_by_hand() -> None:
    # A: h = relu(x, -x), logits = h. B: the same function with the two hidden units swapped. Both classify
    # x = 1 -> 0 and x = -1 -> 1 correctly; at alpha = 1/2 the first layer averages to 0, all logits tie and
    # x = -1 is misclassified: errors 0, 0, 1/2, 0, 0, barrier 1/2.
    a = _t([[1.0], [-1.0]], [0.0, 0.0], [[1.0, 0.0], [0.0, 1.0]], [0.0, 0.0])
    b = _t([[-1.0], [1.0]], [0.0, 0.0], [[0.0, 1.0], [1.0, 0.0]], [0.0, 0.0])
    x, y = torch.tensor([[1.0], [-1.0]]), torch.tensor([0, 1])
    errors = path_errors(a, b, x, y, ALPHAS)
    np.testing.assert_allclose(errors, [0.0, 0.0, 0.5, 0.0, 0.0])
    assert barrier(errors) == pytest.approx(0.5)


@pytest.fixture(scope="module")
def result() -> pd.DataFrame:
    return instability(TINY)


def test_instability_table(result: pd.DataFrame) -> None:
    assert list(result.columns) == ["rewind_step", "variant", "alpha", "test_error", "remaining_fraction", "seed"]
    assert len(result) == 2 * 2 * 5
    assert sorted(result["alpha"].unique()) == ALPHAS
    assert result["test_error"].between(0, 1).all()
    assert (result.loc[result["variant"] == "dense", "remaining_fraction"] == 1.0).all()
    sparse = result.loc[result["variant"] == "sparse", "remaining_fraction"]
    assert sparse.nunique() == 1 and 0 < sparse.iloc[0] < 1


def test_instability_is_deterministic_and_summarised(result: pd.DataFrame) -> None:
    records: list[dict] = []
    pd.testing.assert_frame_equal(instability(TINY, callback=records.append), result)
    progress = [r["progress"] for r in records]
    assert progress == sorted(progress) and progress[-1] == pytest.approx(1.0)
    s = instability_summary(result)
    assert set(s.barriers["variant"]) == {"dense", "sparse"} and len(s.barriers) == 4
    for (variant, k), g in result.groupby(["variant", "rewind_step"]):
        row = s.barriers[(s.barriers["variant"] == variant) & (s.barriers["rewind_step"] == k)].iloc[0]
        assert row["barrier"] == pytest.approx(barrier(g.sort_values("alpha")["test_error"].to_numpy()))
        assert row["barrier"] >= 0


def test_summary_finds_the_first_stable_step() -> None:
    rows = []
    for k, bump in [(0, 0.2), (5, 0.05), (20, 0.01), (60, 0.0)]:
        for a, e in zip(ALPHAS, [0.03, 0.03 + bump / 2, 0.03 + bump, 0.03 + bump / 2, 0.03], strict=True):
            rows.append({"rewind_step": k, "variant": "sparse", "alpha": a, "test_error": e, "seed": 0,
                         "remaining_fraction": 0.05})  # fmt: skip
    s = instability_summary(pd.DataFrame(rows))
    assert s.stable_from == {"sparse": 20} and s.sparse_fraction == 0.05
    assert s.barriers["barrier"].tolist() == pytest.approx([0.2, 0.05, 0.01, 0.0])


def test_bad_input() -> None:
    with pytest.raises(TypeError, match="`config` must be an InstabilityConfig"):
        instability(LotteryConfig())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="`rewind_steps` must list at least one step"):
        instability(replace(TINY, rewind_steps=()))
    with pytest.raises(ValueError, match="`rewind_steps` must be <= 19"):
        instability(replace(TINY, rewind_steps=(0, 500)))
    with pytest.raises(ValueError, match="`n_alphas` must be >= 3"):
        instability(replace(TINY, n_alphas=2))
    with pytest.raises(ValueError, match="`results` must be an instability DataFrame"):
        instability_summary(pd.DataFrame({"x": [1]}))
