"""Tests of core/universality/grokking_phases.py: the phase definitions, the batched grid against single runs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.universality.grokking import GrokkingConfig, train_grokking
from core.universality.grokking_phases import (
    GROK_DELAY,
    PHASES,
    PhaseConfig,
    classify_phase,
    phase_sweep,
    phase_table,
)

STEPS = np.array([0, 10, 20, 50, 100, 200, 500, 1000])


@pytest.mark.parametrize(
    ("train", "test", "expected"),
    [
        ([0, 0.5, 1, 1, 1, 1, 1, 1], [0, 0.1, 0.1, 0.1, 0.2, 0.5, 0.96, 1], ("groks", 20, 500)),  # 500 >= 3 x 20
        ([0, 0.5, 0.9, 1, 1, 1, 1, 1], [0, 0.3, 0.6, 0.8, 0.97, 1, 1, 1], ("learns", 50, 100)),  # 100 < 3 x 50
        ([0, 0.5, 1, 1, 1, 1, 1, 1], [0, 0.1, 0.1, 0.1, 0.2, 0.3, 0.5, 0.94], ("memorises", 20, None)),
        ([0, 0.1, 0.2, 0.3, 0.5, 0.6, 0.8, 0.98], [0] * 8, ("fails", None, None)),  # 98% < 99%: not memorised
        ([0, 0.5, 0.9, 0.95, 0.98, 0.98, 0.98, 0.98], [0, 0.2, 0.5, 0.9, 0.96, 1, 1, 1], ("learns", None, 100)),
    ],
)
def test_classify_phase_on_constructed_histories(train, test, expected):
    assert classify_phase(STEPS, np.array(train), np.array(test)) == expected


def test_the_grok_delay_is_the_boundary_between_learning_and_grokking():
    train = np.where(STEPS >= 50, 1.0, 0.0)  # memorised at 50
    at = float(STEPS[STEPS >= GROK_DELAY * 50][0])  # the first logged step at 3 x 50: 200
    assert classify_phase(STEPS, train, np.where(STEPS >= at, 1.0, 0.0))[0] == "groks"
    assert classify_phase(STEPS, train, np.where(STEPS >= 100, 1.0, 0.0))[0] == "learns"


def test_classify_phase_bad_inputs():
    with pytest.raises(ValueError, match="must be 1-d of one length"):
        classify_phase(STEPS, np.zeros(3), np.zeros(8))
    with pytest.raises(ValueError, match="strictly increasing"):
        classify_phase(STEPS[::-1], np.zeros(8), np.zeros(8))
    with pytest.raises(ValueError, match="accuracies in \\[0, 1\\]"):
        classify_phase(STEPS, np.full(8, 1.5), np.zeros(8))
    with pytest.raises(ValueError, match="accuracies in \\[0, 1\\]"):
        classify_phase(STEPS, np.full(8, np.nan), np.zeros(8))


TINY = PhaseConfig(modulus=11, train_fractions=(0.5, 0.8), weight_decays=(0.0, 1.0), steps=60)


@pytest.fixture(scope="module")
def tiny():
    records = []
    return phase_sweep(TINY, callback=records.append), records


def test_every_cell_is_the_single_run_it_stands_for(tiny):
    """The batched grid (one forward pass, masked losses, AdamW's decay per cell by hand) against train_grokking."""
    result, _ = tiny
    for f in TINY.train_fractions:
        for wd in TINY.weight_decays:
            single = train_grokking(
                GrokkingConfig(modulus=11, train_fraction=f, embed_dim=TINY.embed_dim, hidden=TINY.hidden,
                               lr=TINY.lr, weight_decay=wd, beta2=TINY.beta2, steps=TINY.steps, patience=0)
            )  # fmt: skip
            cell = result.history[(result.history.train_fraction == f) & (result.history.weight_decay == wd)]
            merged = single.merge(cell, on="step", suffixes=("", "_grid"))
            assert len(merged) >= 20
            for col in ("train_loss", "test_loss", "train_acc", "test_acc"):
                np.testing.assert_allclose(merged[f"{col}_grid"], merged[col], rtol=2e-3, atol=2e-3, err_msg=col)


def test_sweep_output_shapes_progress_and_determinism(tiny):
    result, records = tiny
    assert len(result.phases) == 4 and set(result.phases.phase) <= set(PHASES)
    assert set(result.history.columns) == {"train_fraction", "weight_decay", "step", "train_loss", "train_acc",
                                           "test_loss", "test_acc"}  # fmt: skip
    assert result.history.step.max() == TINY.steps
    progress = [r["progress"] for r in records]
    assert progress == sorted(progress) and progress[-1] == 1.0
    assert all(0 <= r["memorised"] <= r["cells"] == 4 for r in records)
    pd.testing.assert_frame_equal(result.phases, phase_table(result.history))
    again = phase_sweep(TINY)
    pd.testing.assert_frame_equal(again.history, result.history)


def test_one_column_of_the_default_grid_shows_all_four_phases():
    """(a + b) mod 23 from 90% of the pairs (measured): weight decay 0 memorises, 1 groks, 3 learns, 6 fails."""
    cfg = PhaseConfig(train_fractions=(0.9,), weight_decays=(0.0, 1.0, 3.0, 6.0), steps=400)
    phases = phase_sweep(cfg).phases.set_index("weight_decay")
    assert list(phases.phase) == ["memorises", "groks", "learns", "fails"]
    assert phases.loc[1.0, "generalised_step"] >= GROK_DELAY * phases.loc[1.0, "memorised_step"]
    assert phases.loc[0.0, "final_train_acc"] == 1.0 and phases.loc[0.0, "final_test_acc"] < 0.5
    assert phases.loc[6.0, "final_train_acc"] < 0.99


def test_phase_sweep_bad_inputs():
    with pytest.raises(TypeError, match="`config` must be a PhaseConfig"):
        phase_sweep(GrokkingConfig())
    with pytest.raises(ValueError, match="`weight_decays` must list at least one value"):
        phase_sweep(PhaseConfig(weight_decays=()))
    with pytest.raises(ValueError, match="`train_fractions` must list at least one value, each once"):
        phase_sweep(PhaseConfig(train_fractions=(0.5, 0.5)))
    with pytest.raises(ValueError, match="`train_fraction` must be"):
        phase_sweep(PhaseConfig(train_fractions=(1.5,)))
    with pytest.raises(ValueError, match="`weight_decays` must be >= 0"):
        phase_sweep(PhaseConfig(weight_decays=(-1.0,)))
    with pytest.raises(ValueError, match="at most 64 cells"):
        phase_sweep(PhaseConfig(train_fractions=tuple(np.linspace(0.2, 0.9, 13)), weight_decays=tuple(range(5))))
    with pytest.raises(ValueError, match="`history` must be a phase_sweep history"):
        phase_table(pd.DataFrame({"step": [1]}))
