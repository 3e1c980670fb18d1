"""Scaling laws: presets against the papers' numbers, the closed-form frontier, the Approach 3 fit, CSV reading."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.scaling import (
    CHINCHILLA,
    CHINCHILLA_ROUNDED,
    EPOCH_2024,
    KAPLAN,
    PF_DAY,
    ScalingLaw,
    bootstrap_scaling_law,
    fit_scaling_law,
    frontier,
    isoflop_curves,
    read_runs_csv,
)

EPOCH_CSV = Path(__file__).resolve().parents[2] / "shared" / "reference" / "chinchilla_epoch.csv"


def test_chinchilla_optimum_at_gopher_budget_is_about_40b() -> None:
    n_opt, d_opt = CHINCHILLA.compute_optimal(5.76e23)
    assert 39e9 < n_opt < 41.5e9  # the paper's "40B" (Table 3, Approach 3)
    assert 6 * n_opt * d_opt == pytest.approx(5.76e23)
    n_rounded, _ = CHINCHILLA_ROUNDED.compute_optimal(5.76e23)
    assert 31e9 < n_rounded < 33.5e9  # the printed, rounded values move it to ~32B


def test_epoch_refit_gives_about_20_tokens_per_parameter() -> None:
    assert EPOCH_2024.a == pytest.approx(0.513, abs=1e-3)
    assert 15 < EPOCH_2024.tokens_per_parameter(1e23) < 25


def test_closed_form_optimum_minimises_loss_on_the_isoflop_curve() -> None:
    curves = isoflop_curves(CHINCHILLA, np.array([1e20, 1e22]), n_points=401, span=10)
    for _, g in curves.groupby("flops"):
        optimum = g[g.is_optimum].iloc[0]
        assert g["loss"].min() >= optimum["loss"] - 1e-12
        assert np.allclose(6 * g["N"] * g["D"], g["flops"])


def test_frontier_exponents() -> None:
    c = np.array([1e20, 1e24])
    df = frontier({"Chinchilla": CHINCHILLA, "Kaplan": KAPLAN}, c)
    for name, a in (("Chinchilla", CHINCHILLA.a), ("Kaplan", 0.73)):
        n = df[df.law == name]["n_opt"].to_numpy()
        assert np.log(n[1] / n[0]) / np.log(c[1] / c[0]) == pytest.approx(a)
    assert KAPLAN.compute_optimal(PF_DAY)[0] == pytest.approx(1.3e9)
    assert df[df.law == "Kaplan"]["loss"].isna().all()


def test_kaplan_loss_reduces_to_its_one_variable_laws() -> None:
    assert KAPLAN.loss(1e9, 1e30) == pytest.approx((8.8e13 / 1e9) ** 0.076, rel=1e-6)
    assert KAPLAN.loss(1e40, 1e9) == pytest.approx((5.4e13 / 1e9) ** 0.095, rel=1e-6)


def _synthetic_runs(law: ScalingLaw, noise: float, seed: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    n, d = np.meshgrid(np.geomspace(1e7, 1e10, 7), np.geomspace(1e9, 1e12, 7))
    n, d = n.ravel(), d.ravel()
    return n, d, law.loss(n, d) * np.exp(noise * rng.normal(size=n.size))


def test_fit_recovers_known_parameters_from_noisy_runs() -> None:
    truth = ScalingLaw(E=1.8, A=400.0, B=1500.0, alpha=0.35, beta=0.33)
    fit = fit_scaling_law(*_synthetic_runs(truth, noise=0.002, seed=0))
    assert fit.converged
    assert fit.law.E == pytest.approx(1.8, rel=0.03)
    assert fit.law.alpha == pytest.approx(0.35, abs=0.03)
    assert fit.law.beta == pytest.approx(0.33, abs=0.03)
    assert fit.law.a == pytest.approx(truth.a, abs=0.03)


def test_fit_is_exact_on_noiseless_runs() -> None:
    truth = ScalingLaw(E=2.0, A=300.0, B=800.0, alpha=0.3, beta=0.28)
    fit = fit_scaling_law(*_synthetic_runs(truth, noise=0.0, seed=0), n_refine=5)
    assert fit.objective < 1e-8
    assert fit.law.loss(1e8, 1e10) == pytest.approx(truth.loss(1e8, 1e10), rel=1e-4)


@pytest.mark.skipif(not EPOCH_CSV.exists(), reason="shared/reference/chinchilla_epoch.csv not beside the checkout")
def test_fit_reproduces_epoch_ai_replication_on_their_data() -> None:
    runs = read_runs_csv(EPOCH_CSV.read_bytes())
    assert len(runs) == 245
    runs = runs.sort_values("loss").iloc[:-5]  # Epoch drop the 5 highest-loss points
    fit = fit_scaling_law(runs.N.to_numpy(), runs.D.to_numpy(), runs["loss"].to_numpy())
    assert fit.law.E == pytest.approx(1.817, abs=0.01)
    assert fit.law.alpha == pytest.approx(0.348, abs=0.005)
    assert fit.law.beta == pytest.approx(0.366, abs=0.005)


def test_bootstrap_spreads_around_the_truth() -> None:
    truth = ScalingLaw(E=1.8, A=400.0, B=1500.0, alpha=0.35, beta=0.33)
    boots = bootstrap_scaling_law(*_synthetic_runs(truth, noise=0.01, seed=1), n_boot=8, seed=0)
    assert len(boots) == 8
    assert set(boots.columns) >= {"E", "A", "B", "alpha", "beta", "a"}
    assert boots["alpha"].std() > 0
    assert boots["E"].median() == pytest.approx(1.8, rel=0.05)


def test_read_runs_csv_both_formats() -> None:
    plain = read_runs_csv(b"N,D,loss\n" + b"\n".join(b"%d,%d,3.0" % (10**i, 10 ** (i + 1)) for i in range(5)))
    assert list(plain.columns) == ["N", "D", "loss"] and len(plain) == 5
    epoch = pd.DataFrame({"Model Size": [1e8] * 5, "Training FLOP": [6e18] * 5, "loss": [3.0] * 5, "x": 1})
    runs = read_runs_csv(epoch.to_csv(index=False).encode())
    assert runs["D"].iloc[0] == pytest.approx(6e18 / (6 * 1e8))


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        (b"a,b\n1,2\n", "needs columns N, D, loss"),
        (b"N,D,loss\n1,2,3\n" * 1, "at least 5 runs"),
        (b"N,D,loss\n" + b"1,2,3\n" * 4 + b"1,-2,3\n", "non-positive"),
        (b"N,D,loss\n" + b"1,2,3\n" * 4 + b"1,x,3\n", "non-numeric"),
        (b"", "not a readable CSV"),
    ],
)
def test_read_runs_csv_rejects_bad_files(raw: bytes, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        read_runs_csv(raw)


def test_fit_rejects_bad_input() -> None:
    good = np.ones(6)
    with pytest.raises(ValueError, match="same length"):
        fit_scaling_law(good, good, np.ones(7))
    with pytest.raises(ValueError, match="`N` must be > 0"):
        fit_scaling_law(-good, good, good)
    with pytest.raises(ValueError, match="at least 5"):
        fit_scaling_law(good[:3], good[:3], good[:3])
    with pytest.raises(ValueError, match="`delta` must be > 0"):
        fit_scaling_law(good, good, good, delta=0)
