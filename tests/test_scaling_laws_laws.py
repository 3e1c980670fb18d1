"""Scaling laws: presets against the papers' numbers, the closed-form frontier, the Approach 3 fit, CSV reading."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.scaling_laws.laws import (
    CHINCHILLA,
    CHINCHILLA_APPROACH_1,
    CHINCHILLA_APPROACH_2,
    CHINCHILLA_ROUNDED,
    EPOCH_2024,
    KAPLAN,
    PF_DAY,
    PRESETS,
    BootstrapConfig,
    ScalingLaw,
    bootstrap_intervals,
    bootstrap_run,
    bootstrap_scaling_law,
    degeneracy,
    fit_scaling_law,
    frontier,
    frontier_band,
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
    assert df[df.law == "Kaplan"]["loss"].isna().all()


def test_approach_3_is_not_twenty_tokens_per_parameter() -> None:
    n_opt, d_opt = CHINCHILLA.compute_optimal(5.76e23)
    assert d_opt == pytest.approx(2.4e12, rel=0.02)  # SCIENCE.md: ~40B on ~2.4T tokens
    assert d_opt / n_opt == pytest.approx(59, abs=1)
    assert CHINCHILLA.a == pytest.approx(0.46, abs=0.005)  # Table 2, Approach 3


# Hoffmann et al. 2022, Table 3 (Approach 1): parameters, FLOPs, tokens.
TABLE_3 = [
    (400e6, 1.92e19, 8.0e9),
    (1e9, 1.21e20, 20.2e9),
    (10e9, 1.23e22, 205.1e9),
    (67e9, 5.76e23, 1.5e12),
    (175e9, 3.85e24, 3.7e12),
    (280e9, 9.90e24, 5.9e12),
    (520e9, 3.43e25, 11.0e12),
    (1e12, 1.27e26, 21.2e12),
    (10e12, 1.30e28, 216.2e12),
]


@pytest.mark.parametrize(("params", "flops", "tokens"), TABLE_3)
def test_approach_1_reproduces_table_3(params: float, flops: float, tokens: float) -> None:
    n_opt, d_opt = CHINCHILLA_APPROACH_1.compute_optimal(flops)
    assert n_opt == pytest.approx(params, rel=0.06)
    assert d_opt == pytest.approx(tokens, rel=0.1)  # the 400M row's 8.0B is the furthest (8.7B)
    assert 18 < d_opt / n_opt < 27  # "about 20 tokens per parameter"


def test_approach_2_exponent_and_anchor() -> None:
    c = np.array([1e20, 1e26])
    n, d = CHINCHILLA_APPROACH_2.compute_optimal(c)
    assert np.log(n[1] / n[0]) / np.log(1e6) == pytest.approx(0.49)
    assert np.log(d[1] / d[0]) / np.log(1e6) == pytest.approx(0.51)
    assert CHINCHILLA_APPROACH_2.compute_optimal(5.76e23) == pytest.approx((67e9, 1.5e12))


def test_kaplan_frontier_is_table_6() -> None:
    c_min = np.array([1e-3, 1.0, 1e4])  # PF-days
    n_opt, d_opt = KAPLAN.compute_optimal(2 * c_min * PF_DAY)  # C = 2 C_min at the critical batch size
    assert n_opt == pytest.approx(1.3e9 * c_min**0.73)
    assert d_opt == pytest.approx(2e10 * c_min**0.27)
    # D_opt is not C / (6 N_opt): 6 N D = 1.3e9 * 2e10 * 6 / (2 * 8.64e19) C = 0.903 C at every budget
    assert 6 * n_opt * d_opt / (2 * c_min * PF_DAY) == pytest.approx(6 * 1.3e9 * 2e10 / (2 * PF_DAY))


def test_presets_are_labelled_by_approach() -> None:
    assert {"Chinchilla A1", "Chinchilla A2", "Chinchilla A3", "Epoch 2024", "Kaplan"} <= set(PRESETS)
    assert PRESETS["Chinchilla A3"] is CHINCHILLA


def test_degenerate_fit_is_flagged_and_never_divides_by_zero() -> None:
    flat = ScalingLaw(E=1.9, A=400.0, B=1500.0, alpha=0.35, beta=0.0)
    assert degeneracy(flat) == ("β at 0",)
    assert degeneracy(ScalingLaw(E=1e-9, A=1.0, B=1.0, alpha=0.3, beta=0.3), loss_scale=2.0) == ("E at 0",)
    assert degeneracy(ScalingLaw(E=1.0, A=1.0, B=1.0, alpha=-0.1, beta=0.3)) == ("α at 0",)
    with pytest.raises(ValueError, match="beta must be > 0"):
        flat.compute_optimal(1e20)
    with pytest.raises(ValueError, match="beta must be > 0"):
        flat.compute_optimal(np.array([1e20, 1e21]))
    with pytest.raises(ValueError, match="overflows"):
        ScalingLaw(E=1.0, A=1e200, B=1e-200, alpha=0.01, beta=0.01).compute_optimal(1e20)


def test_band_leaves_out_degenerate_refits_and_counts_them() -> None:
    good = ScalingLaw(E=1.8, A=400.0, B=1500.0, alpha=0.35, beta=0.33)
    rows = [vars(good) | {"degenerate": ""}] * 3
    rows += [vars(good) | {"beta": 0.0, "degenerate": "β at 0"}]  # the refit that crashed the page
    rows += [vars(good) | {"E": 1e-12, "degenerate": "E at 0"}]  # flagged by the bootstrap, kept out too
    rows += [vars(good) | {"alpha": 0.0}]  # no flag column value: caught by the bound check itself
    boots = pd.DataFrame(rows)
    c = np.array([1e20, 1e22])
    band = frontier_band(boots, c)
    assert band["n_used"].iloc[0] == 3 and band["n_excluded"].iloc[0] == 3
    assert band["n_mid"].to_numpy() == pytest.approx(good.compute_optimal(c)[0])
    intervals = bootstrap_intervals(boots).set_index("parameter")
    assert intervals.loc["beta", "median"] == pytest.approx(0.33)
    assert intervals.loc["a", "n_excluded"] == 3
    with pytest.raises(ValueError, match="All 1 bootstrap refits are degenerate"):
        frontier_band(boots.iloc[[3]], c)
    none_usable = bootstrap_intervals(boots.iloc[[3, 4]])
    assert none_usable["n_used"].eq(0).all() and none_usable["median"].isna().all()


def test_fit_on_degenerate_data_reports_it() -> None:
    n, d = np.meshgrid(np.geomspace(1e7, 1e10, 6), np.geomspace(1e9, 1e12, 6))
    loss = 2.0 + 300.0 / n.ravel() ** 0.3 + 0 * d.ravel()  # the loss does not depend on D at all
    fit = fit_scaling_law(n.ravel(), d.ravel(), loss)
    assert any(r in fit.degenerate for r in ("β at 0", "B/D^β vanishes"))
    assert fit.compute_range == pytest.approx((6 * 1e7 * 1e9, 6 * 1e10 * 1e12))


def test_frontier_applies_a_fit_only_inside_its_measured_range() -> None:
    df = frontier({"fit": EPOCH_2024}, np.array([1e18, 1e20, 1e24]), measured={"fit": (1e17, 1e21)})
    assert df["in_range"].tolist() == [True, True, False]
    assert np.isnan(df["n_opt"].iloc[2]) and np.isfinite(df["n_opt"].iloc[1])


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
    assert set(boots.columns) >= {"E", "A", "B", "alpha", "beta", "a", "degenerate"}
    assert (boots["degenerate"] == "").all()
    assert boots["alpha"].std() > 0
    assert boots["E"].median() == pytest.approx(1.8, rel=0.05)


def test_bootstrap_run_is_the_bootstrap_under_the_run_contract() -> None:
    truth = ScalingLaw(E=1.8, A=400.0, B=1500.0, alpha=0.35, beta=0.33)
    n, d, loss = _synthetic_runs(truth, noise=0.01, seed=1)
    direct = bootstrap_scaling_law(n, d, loss, n_boot=4, seed=3)
    config = BootstrapConfig(N=tuple(n), D=tuple(d), loss=tuple(loss), n_boot=4, seed=3)
    pd.testing.assert_frame_equal(bootstrap_run(config), direct)
    with pytest.raises(TypeError, match="BootstrapConfig"):
        bootstrap_run({"N": n, "D": d, "loss": loss})


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
