"""Tests of core/grokking.py: the data set, memorising long before generalising, weight decay's role, the helpers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from core.training import init_default_, seeded_generator
from core.universality.grokking import (
    KEY_SHARE,
    GrokkingConfig,
    _PairMLP,
    first_step,
    fourier_basis,
    fourier_spectrum,
    generalisation_step,
    grokking_mechanism,
    grokking_summary,
    key_frequencies,
    log_steps,
    memorisation_step,
    modular_dataset,
    train_grokking,
)

# (a + b) mod 23 from 70% of the pairs: memorises in ~15 steps and groks by ~650, in about 2 s of CPU.
TINY = GrokkingConfig(modulus=23, train_fraction=0.7, lr=1e-2, steps=900, patience=0, seed=0)


@pytest.fixture(scope="module")
def grokked():
    records = []
    history = train_grokking(TINY, callback=records.append)
    return history, records


def test_modular_dataset_is_the_full_operation_table():
    pairs, answers = modular_dataset("add", 7)
    assert pairs.shape == (49, 2) and answers.shape == (49,)
    np.testing.assert_array_equal(answers, (pairs[:, 0] + pairs[:, 1]) % 7)
    pairs, answers = modular_dataset("divide", 7)
    assert pairs.shape == (42, 2) and pairs[:, 1].min() == 1  # no division by zero
    np.testing.assert_array_equal((answers * pairs[:, 1]) % 7, pairs[:, 0])  # c = a / b  <=>  c b = a
    pairs, answers = modular_dataset("subtract", 5)
    np.testing.assert_array_equal((answers + pairs[:, 1]) % 5, pairs[:, 0])


def test_the_factorised_forward_equals_linear_on_the_concatenated_embeddings():
    model = init_default_(_PairMLP(11, 8, 16), seeded_generator(0))
    pairs = torch.as_tensor(modular_dataset("add", 11)[0])
    reference = model.mlp(model.embed(pairs).flatten(1))  # Linear on [e_a, e_b]
    torch.testing.assert_close(model(pairs), reference, rtol=1e-5, atol=1e-5)


def test_memorises_long_before_it_generalises(grokked):
    history, _ = grokked
    memorised, generalised = memorisation_step(history), generalisation_step(history)
    assert memorised is not None and generalised is not None
    assert generalised > 10 * memorised  # the grokking delay
    at_memorisation = history.loc[history.step == memorised].iloc[0]
    assert at_memorisation.test_acc < 0.5  # perfect on train, poor on test
    assert history.test_acc.iloc[-1] >= 0.99 and history.train_acc.iloc[-1] == 1.0
    # weight decay shrinks the weights after memorisation
    assert history.weight_norm.iloc[-1] < history.weight_norm.max() - 3


def test_without_weight_decay_it_does_not_generalise_in_the_same_budget(grokked):
    history = train_grokking(GrokkingConfig(**{**TINY.__dict__, "weight_decay": 0.0}))
    assert memorisation_step(history) is not None
    assert generalisation_step(history) is None and history.test_acc.max() < 0.3
    assert history.weight_norm.iloc[-1] > grokked[0].weight_norm.iloc[-1] + 10  # the weights keep growing


def test_history_columns_log_steps_and_callback(grokked):
    history, records = grokked
    cols = ["step", "train_loss", "train_acc", "test_loss", "test_acc", "weight_norm"]
    assert list(history.columns) == cols
    assert history.step.iloc[0] == 0 and history.step.iloc[-1] == TINY.steps and history.step.is_monotonic_increasing
    assert len(records) == len(history) and records[-1]["progress"] == 1.0
    assert all(set(cols) | {"progress"} <= set(r) for r in records)
    steps = log_steps(5000)
    assert steps[0] == 0 and steps[-1] == 5000 and np.sum(steps <= 50) >= 15  # dense early for a log axis


def test_same_seed_same_run_and_early_stop():
    cfg = GrokkingConfig(modulus=11, train_fraction=0.8, lr=1e-2, steps=300, patience=0, seed=4)
    a, b = train_grokking(cfg), train_grokking(cfg)
    pd.testing.assert_frame_equal(a, b)
    stopped = train_grokking(GrokkingConfig(**{**TINY.__dict__, "steps": 2000, "patience": 50}))
    solved = generalisation_step(stopped, threshold=0.99)
    assert solved is not None and stopped.step.iloc[-1] < 2000
    assert stopped.step.iloc[-1] - solved >= 50 and stopped.test_acc.iloc[-3:].min() >= 0.99


def test_summary_reads_the_milestones(grokked):
    history, _ = grokked
    s = grokking_summary(history)
    assert s.memorised_step == memorisation_step(history) and s.generalised_step == generalisation_step(history)
    assert s.delay == pytest.approx(s.generalised_step / s.memorised_step)
    assert s.test_acc_at_memorisation < 0.5 and s.best_test_acc >= s.final_test_acc >= 0.99
    assert s.norm_peak >= max(s.norm_start, s.norm_end) and s.last_step == TINY.steps


def test_milestone_helpers():
    h = pd.DataFrame({"step": [0, 10, 100], "train_acc": [0.1, 1.0, 1.0], "test_acc": [0.0, 0.2, 0.96]})
    assert memorisation_step(h) == 10 and generalisation_step(h) == 100
    assert generalisation_step(h, threshold=0.99) is None
    assert first_step(h, "test_acc", 0.2) == 10


def test_bad_inputs_give_clear_messages():
    with pytest.raises(ValueError, match="`operation` must be one of"):
        train_grokking(GrokkingConfig(operation="power"))
    with pytest.raises(ValueError, match="`modulus` must be prime"):
        modular_dataset("divide", 15)
    with pytest.raises(ValueError, match="`train_fraction` must be"):
        train_grokking(GrokkingConfig(train_fraction=1.0))
    with pytest.raises(ValueError, match="`weight_decay` must be >= 0"):
        train_grokking(GrokkingConfig(weight_decay=-0.1))
    with pytest.raises(TypeError, match="`config` must be a GrokkingConfig"):
        train_grokking({"modulus": 23})
    with pytest.raises(ValueError, match="`history` must be a train_grokking DataFrame"):
        memorisation_step(pd.DataFrame({"step": [1]}))


# --- the mechanism: the Fourier spectrum of the embedding ----------------------------------------------------------


def _numpy_fft_power(E: np.ndarray) -> np.ndarray:
    """Power per frequency from numpy's FFT: |X_k|^2 / p for k = 0 and p / 2, 2 |X_k|^2 / p otherwise (Parseval)."""
    p = E.shape[0]
    X2 = (np.abs(np.fft.rfft(E, axis=0)) ** 2).sum(axis=1)  # (p // 2 + 1,)
    weight = np.full(X2.shape, 2.0 / p)
    weight[0] = 1.0 / p
    if p % 2 == 0:
        weight[-1] = 1.0 / p
    return weight * X2


@pytest.mark.parametrize("p", [23, 12, 2])
def test_fourier_spectrum_matches_numpy_fft_and_parseval(p):
    rng = np.random.default_rng(p)
    E = rng.normal(size=(p, 7)) + 2.0  # (p, 7) with a constant offset
    power = fourier_spectrum(E)
    assert power.shape == (p // 2 + 1,)
    np.testing.assert_allclose(power, _numpy_fft_power(E), rtol=1e-10, atol=1e-12)
    assert power.sum() == pytest.approx((E**2).sum(), rel=1e-12)  # Parseval: all of the squared norm
    B = fourier_basis(p)
    np.testing.assert_allclose(B @ B.T, np.eye(p), atol=1e-12)  # orthonormal
    np.testing.assert_allclose(fourier_spectrum(torch.as_tensor(E)), power, rtol=1e-6)


def test_a_pure_frequency_embedding_puts_all_its_norm_in_that_frequency():
    p, k = 23, 5
    x = np.arange(p)[:, None]
    v = np.random.default_rng(0).normal(size=(1, 16))
    E = np.cos(2 * np.pi * k * x / p) * v + 0.3 * np.sin(2 * np.pi * k * x / p) * v[:, ::-1]  # (p, 16)
    power = fourier_spectrum(E)
    assert power[k] == pytest.approx((E**2).sum(), rel=1e-12)
    assert np.delete(power, k).max() < 1e-20 * power[k]
    assert key_frequencies(power) == (k,)


def test_key_frequencies_are_the_fewest_strong_ones():
    p = 23
    x = np.arange(p)[:, None]
    v = np.random.default_rng(1).normal(size=(1, 8))
    E = np.cos(2 * np.pi * 3 * x / p) * v + 0.6 * np.sin(2 * np.pi * 7 * x / p) * v + 4.0  # power 1 : 0.36
    power = fourier_spectrum(E)
    assert key_frequencies(power) == (3, 7)  # 3 alone carries 1 / 1.36 = 74% < 80% of the non-constant power
    assert key_frequencies(power, share=0.7) == (3,)  # the constant offset (frequency 0) never counts
    random = key_frequencies(fourier_spectrum(np.random.default_rng(2).normal(size=(p, 64))))
    assert len(random) >= 7  # of 11: a random embedding has no few key frequencies
    with pytest.raises(ValueError, match="must vary across tokens"):
        key_frequencies(fourier_spectrum(np.ones((p, 4))))
    with pytest.raises(ValueError, match="`power` must be a spectrum of squared norms"):
        key_frequencies(np.array([1.0, -1.0, 2.0]))
    with pytest.raises(ValueError, match="`share` must be"):
        key_frequencies(power, share=1.0)
    with pytest.raises(ValueError, match="`embedding` must"):
        fourier_spectrum(np.ones(5))


def test_the_grokked_embedding_concentrates_in_a_few_key_frequencies(grokked):
    history, _ = grokked
    mech = grokking_mechanism(TINY)
    pd.testing.assert_frame_equal(mech.history.drop(columns="key_share"), history)  # measuring changes nothing
    n_freq = TINY.modulus // 2
    first = mech.spectrum[mech.spectrum.step == 0].power.to_numpy()
    assert 1 <= len(mech.key_frequencies) < len(key_frequencies(first))  # fewer than at initialisation
    assert mech.chance_share == pytest.approx(2 * len(mech.key_frequencies) / TINY.modulus)
    share = mech.history.key_share.to_numpy()
    assert share[0] < 1.2 * mech.chance_share  # at initialisation the key frequencies are ordinary
    assert share[-1] > share[0] + 0.15
    last = mech.spectrum[mech.spectrum.step == history.step.iloc[-1]]
    nonconstant = last.share[last.frequency > 0].sum()
    assert share[-1] >= KEY_SHARE * nonconstant - 1e-9
    sums = mech.spectrum.groupby("step").share.sum()
    np.testing.assert_allclose(sums.to_numpy(), 1.0)
    assert set(mech.spectrum.frequency) == set(range(n_freq + 1))
