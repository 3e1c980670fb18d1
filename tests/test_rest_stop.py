"""Tests of core/rest_stop.py: description length, Fourier count, NC metrics of the run, min-norm fits, power laws."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from core import rest_stop as rs
from core.neural_collapse.metrics import collapse_metrics
from core.training import init_default_, seeded_generator
from core.universality import double_descent as dd
from core.universality.grokking import GrokkingConfig, _PairMLP, modular_dataset, train_grokking

TINY_LENS = rs.LensConfig(modulus=11, train_fraction=0.7, steps=80, seed=0)


# --- description length and Fourier count -------------------------------------------------------------------------


def test_a_constant_network_has_a_shorter_description_than_a_random_one():
    rng = np.random.default_rng(0)
    shapes = [(64, 32), (32,), (32, 10)]
    constant = [np.full(s, 0.5) for s in shapes]
    random = [rng.normal(0, 0.5, size=s) for s in shapes]
    bits_const, bits_rand = rs.description_bits(constant), rs.description_bits(random)
    n_params = sum(np.prod(s) for s in shapes)
    assert bits_const < 0.05 * bits_rand
    # N(0, 0.5) on a 0.01 grid has entropy ~ log2(0.5 sqrt(2 pi e) / 0.01) = 7.7 bits; lzma cannot beat it by much
    assert 7.0 * n_params < bits_rand < 16 * n_params
    # a 10x finer grid costs log2(10) = 3.3 more bits per weight in entropy; lzma on int32 bytes pays a little more
    finer = rs.description_bits(random, precision=0.001)
    assert 2.5 * n_params < finer - bits_rand < 6 * n_params


def test_description_bits_accepts_tensors_and_checks_inputs():
    w = torch.zeros(5, 5)
    assert rs.description_bits([w]) == rs.description_bits([w.numpy()])
    with pytest.raises(ValueError, match="`precision` must be > 0"):
        rs.description_bits([w], precision=0.0)
    with pytest.raises(ValueError, match="at least one array"):
        rs.description_bits([])
    with pytest.raises(ValueError, match="too fine"):
        rs.description_bits([np.array([1e9])], precision=1e-3)


def test_fourier_components_counts_the_frequencies_in_an_embedding():
    p, d = 23, 8
    t = np.arange(p)[:, None]
    rng = np.random.default_rng(1)
    one = np.cos(2 * np.pi * 3 * t / p) * rng.normal(size=(1, d))  # (p, d) one frequency in every column
    two = one + 0.9 * np.sin(2 * np.pi * 7 * t / p) * rng.normal(size=(1, d))
    assert rs.fourier_components(one) == 1
    assert rs.fourier_components(two + 5.0) == 2  # a constant offset (frequency 0) is left out
    assert rs.fourier_components(rng.normal(size=(p, 64))) >= 8  # of 11: power spread over all of them
    assert rs.fourier_components(torch.as_tensor(one)) == 1
    with pytest.raises(ValueError, match="must vary across tokens"):
        rs.fourier_components(np.ones((p, d)))
    with pytest.raises(ValueError, match="`share` must be"):
        rs.fourier_components(one, share=1.0)


# --- part 1: the run's NC metrics agree with core.neural_collapse.metrics on the same features
# -------------------------------------


def test_the_runs_collapse_metrics_agree_with_core_collapse_on_the_same_features():
    """At every logged step, NC1 / equiangularity recorded by measure_network equal collapse_metrics on the hidden
    layer captured from the network's own (factorised) forward pass by a hook."""
    checked = []

    def probe(step, model, x, y):
        captured = {}

        def keep(module, inputs, output):
            captured["h"] = output.numpy().copy()  # returns None: the forward pass is left unchanged

        hook = model.mlp[1].register_forward_hook(keep)
        model(x)
        hook.remove()
        reference = collapse_metrics(captured["h"], y.numpy())
        record = rs.measure_network(model, x, y, precision=0.01)
        checked.append((record["NC1"], reference.nc1, record["equiangularity"], reference.equiangularity))
        return record

    cfg = GrokkingConfig(modulus=11, train_fraction=0.7, lr=1e-2, steps=40, patience=0)
    history = train_grokking(cfg, probe=probe)
    got = np.array(checked)  # (steps, 4)
    assert len(got) == len(history) > 10
    np.testing.assert_allclose(got[:, 0], got[:, 1], rtol=1e-4)
    np.testing.assert_allclose(got[:, 2], got[:, 3], rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(history.NC1.to_numpy(), got[:, 0])  # the probe's columns land in the history


def test_measure_network_description_counts_the_whole_network():
    model = init_default_(_PairMLP(11, 8, 16), seeded_generator(0))
    pairs, answers = (torch.as_tensor(a) for a in modular_dataset("add", 11))
    out = rs.measure_network(model, pairs, answers, precision=0.01)
    bits = rs.description_bits([p.detach().numpy() for p in model.parameters()], precision=0.01)
    assert out["description_kbits"] == pytest.approx(bits / 1000)
    assert out["fourier"] == rs.fourier_components(model.embed.weight.detach().numpy())
    assert 0 < out["NC1"] and 0 <= out["equiangularity"]


@pytest.fixture(scope="module")
def lens():
    records = []
    return rs.grokking_lens(TINY_LENS, callback=records.append), records


def test_grokking_lens_returns_both_runs_in_long_format(lens):
    history, records = lens
    assert list(history.columns) == ["run", "step", "metric", "value"]
    assert set(history.metric) == set(rs.LENS_METRICS)
    assert list(dict.fromkeys(history.run)) == ["weight decay 1", "control: weight decay 0"]
    assert history.step.max() == TINY_LENS.steps
    progress = [r["progress"] for r in records]
    assert progress == sorted(progress) and progress[-1] == 1.0 and {r["run"] for r in records} == set(history.run)
    # weight decay shrinks the weights relative to the control, so their description gets shorter too
    end = history[history.step == TINY_LENS.steps].pivot_table(index="run", columns="metric", values="value")
    assert end.loc["weight decay 1", "weight_norm"] < end.loc["control: weight decay 0", "weight_norm"]
    assert end.loc["weight decay 1", "description_kbits"] < end.loc["control: weight decay 0", "description_kbits"]
    again = rs.grokking_lens(TINY_LENS)
    pd.testing.assert_frame_equal(history, again)  # same seed, same run


def test_lens_summary_reads_halfway_steps_from_a_known_history():
    steps = np.arange(0, 1001, 50)
    wide = pd.DataFrame(
        {
            "step": steps,
            "train_acc": np.where(steps >= 50, 1.0, 0.1),
            "test_acc": np.where(steps >= 600, 1.0, 0.1),  # rises at 600
            "NC1": np.where(steps >= 400, 0.01, 1.0),  # falls at 400: 200 steps before
            "equiangularity": np.full(steps.size, 0.2),  # never falls
            "weight_norm": np.linspace(40, 10, steps.size),
            "description_kbits": np.where(steps >= 700, 5.0, 50.0),  # falls at 700: 100 steps after
            "fourier": np.full(steps.size, 9.0),
        }
    )
    long = wide.melt(id_vars="step", var_name="metric").assign(run="r")
    s = rs.lens_summary(long, "r")
    assert (s.memorised_step, s.generalised_step) == (50, 600)
    assert s.halfway["test_acc"] == 600 and s.halfway["NC1"] == 400 and s.halfway["description_kbits"] == 700
    assert s.halfway["equiangularity"] is None and s.halfway["fourier"] is None
    assert s.lead("NC1") == -200 and s.lead("description_kbits") == 100 and s.lead("fourier") is None
    assert s.start["NC1"] == 1.0 and s.end["NC1"] == 0.01
    assert s.lowest["NC1"] == (400, 0.01) and s.lowest["weight_norm"] == (1000, 10.0)
    with pytest.raises(ValueError, match="run named 'x'"):
        rs.lens_summary(long, "x")


def test_lens_bad_inputs_give_clear_messages():
    with pytest.raises(TypeError, match="must be a LensConfig"):
        rs.grokking_lens(GrokkingConfig())
    with pytest.raises(ValueError, match="every answer among the training pairs"):
        rs.grokking_lens(rs.LensConfig(modulus=11, train_fraction=0.1, steps=5))
    with pytest.raises(ValueError, match="`precision` must be"):
        rs.grokking_lens(rs.LensConfig(precision=0.0))


# --- part 2: the minimum-norm solution and the sweep ----------------------------------------------------------------


@pytest.mark.parametrize(("n", "p"), [(20, 50), (50, 20), (30, 30)])
def test_min_norm_solution_matches_numpy_pinv(n, p):
    rng = np.random.default_rng(n + p)
    F, y = rng.normal(size=(n, p)), rng.normal(size=n)
    a = rs.min_norm_solution(F, y)
    reference = np.linalg.pinv(F) @ y
    np.testing.assert_allclose(a, reference, rtol=1e-6, atol=1e-9)
    assert np.linalg.norm(a) == pytest.approx(np.linalg.norm(reference), rel=1e-8)
    sweep_solver = dd._min_norm_fit(F[None], y[None], 0.0)[0]  # what feature_sweep uses (full-rank F)
    np.testing.assert_allclose(sweep_solver, reference, rtol=1e-6, atol=1e-8)


def test_min_norm_solution_of_a_rank_deficient_problem_is_the_pinv_one():
    rng = np.random.default_rng(3)
    F = rng.normal(size=(10, 6))
    F = np.hstack([F, F[:, :2], np.zeros((10, 2))])  # duplicated and zero columns: many interpolants
    y = rng.normal(size=10)
    np.testing.assert_allclose(rs.min_norm_solution(F, y), np.linalg.pinv(F) @ y, rtol=1e-6, atol=1e-9)
    with pytest.raises(ValueError, match="one entry per row"):
        rs.min_norm_solution(F, y[:5])


def test_feature_sweep_reuses_double_descent_and_its_norm_peaks_at_p_equals_n():
    kw = {"n_train": 30, "n_features": [5, 10, 20, 29, 30, 31, 45, 90, 300], "n_trials": 6, "seed": 2}
    sweep = rs.feature_sweep(**kw)
    reference = dd.random_features_curve(**kw)
    test = sweep[sweep.metric == "test_mse"]
    np.testing.assert_allclose(test.value, reference.test_mse, rtol=1e-9)  # same data, features and fits
    np.testing.assert_allclose(test.q25, reference.test_q25, rtol=1e-9)
    norm = sweep[sweep.metric == "norm"].set_index("n_features").value
    assert norm.idxmax() == 30
    assert norm[300] < norm[30] / 3  # the min-norm interpolant gets shorter as p grows past n
    train = sweep[sweep.metric == "train_mse"].set_index("n_features").value
    assert train[45] < 1e-12 < train[20]  # interpolation from p = n on


def test_overparam_run_tiny():
    cfg = rs.OverparamConfig(n_train=20, n_trials=1, widths=(4, 16), digits_train=100, steps=100)
    records = []
    res = rs.overparam_run(cfg, callback=records.append)
    nets = res.networks.pivot_table(index="width", columns="metric", values="value", dropna=False)
    assert list(nets.index) == [4, 16] and set(res.networks.metric) == {"train_error", "test_error", "NC1"}
    assert np.isnan(nets.loc[4, "NC1"]) and nets.loc[16, "NC1"] > 0  # width 4 < C - 1 = 9: NC1 undefined
    assert ((nets.test_error >= 0) & (nets.test_error <= 1)).all()
    assert records[-1]["progress"] == 1.0 and set(res.features.metric) == {"train_mse", "test_mse", "norm"}
    with pytest.raises(ValueError, match="`widths` must be >= 1"):
        rs.overparam_run(rs.OverparamConfig(widths=(0,)))
    with pytest.raises(TypeError, match="must be an OverparamConfig"):
        rs.overparam_run(TINY_LENS)


# --- part 3: the power law, read twice ------------------------------------------------------------------------------


def _bumped(N: np.ndarray, *, at: float = 100.0) -> np.ndarray:
    """L = 0.1 + 3 / N^0.5, times a bump of height x4 centred at N = at."""
    return (0.1 + 3 * N**-0.5) * (1 + 3 * np.exp(-(np.log(N / at) ** 2) / 0.05))


def test_fit_power_law_recovers_known_parameters_away_from_a_bump():
    N = np.geomspace(10, 5000, 30)
    L = _bumped(N) * np.exp(np.random.default_rng(0).normal(0, 0.01, N.size))  # 1% noise
    away = np.abs(np.log(N / 100)) > np.log(2.5)
    fit = rs.fit_power_law(N[away], L[away], n_boot=100, seed=1)
    assert fit.E == pytest.approx(0.1, rel=0.1) and fit.A == pytest.approx(3.0, rel=0.15)
    assert fit.alpha == pytest.approx(0.5, rel=0.05)
    assert fit.alpha_lo < 0.5 < fit.alpha_hi and fit.alpha_hi - fit.alpha_lo < 0.1
    assert fit.at_bound == () and fit.n_excluded == 0
    exact = rs.fit_power_law(N[away], _bumped(N[away]), n_boot=0)
    assert (exact.E, exact.A, exact.alpha) == pytest.approx((0.1, 3.0, 0.5), rel=2e-3)  # the bump's tails only
    assert np.isnan(exact.alpha_lo)


def test_degenerate_fits_are_reported_and_excluded_not_divided_by():
    flat = rs.fit_power_law(np.arange(1, 11), np.full(10, 2.0), n_boot=50)
    assert flat.alpha == pytest.approx(0.0, abs=1e-6) or "E = min L" in flat.at_bound
    assert flat.at_bound and flat.n_excluded == 50 and np.isnan(flat.alpha_lo)
    assert np.isfinite(flat.E) and np.isfinite(flat.predict(np.array([5.0]))).all()
    with pytest.raises(ValueError, match="at least 3 distinct"):
        rs.fit_power_law(np.array([1, 1, 2, 2.0]), np.ones(4))
    with pytest.raises(ValueError, match="must be > 0 everywhere"):
        rs.fit_power_law(np.arange(5.0), np.ones(5))
    with pytest.raises(ValueError, match="same length"):
        rs.fit_power_law(np.arange(1, 6.0), np.ones(4))


def test_read_twice_finds_where_the_law_breaks_and_resumes():
    n = 100
    p = np.array(sorted({*np.rint(np.geomspace(5, 5000, 25)).astype(int), 80, 90, 100, 110, 120}))
    sweep = pd.DataFrame({"n_features": p, "gamma": p / n, "metric": "test_mse", "value": _bumped(p.astype(float))})
    reading = rs.read_twice(sweep, window=(0.4, 2.5), n_boot=50)
    assert reading.peak_p == 100
    assert reading.fit.alpha == pytest.approx(0.5, rel=0.02)
    assert 40 < reading.breaks_p < 100 < reading.resumes_p <= 250
    t = reading.table
    assert np.all(np.abs(t.log_residual[t.in_fit]) < np.log(1.25))
    with pytest.raises(ValueError, match="lo < 1 < hi"):
        rs.read_twice(sweep, window=(1.5, 2.0))
    with pytest.raises(ValueError, match="it needs 4"):
        rs.read_twice(sweep, window=(0.01, 1000))
    with pytest.raises(ValueError, match="output of feature_sweep"):
        rs.read_twice(sweep.drop(columns="gamma"))
