"""Scaling decisions: Approach 2 against parabola vertices and Table 2, inverse calculators against scipy, repeated
data against Muennighoff et al.'s formula."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import minimize, minimize_scalar

from core.scaling_laws.decisions import (
    GAMMA_EMBEDDING,
    R_STAR_D,
    cheapest_for_loss,
    compute_accounting,
    effective_data,
    inference_aware,
    inference_sweep,
    isoflop_parabolas,
    local_exponent,
    non_embedding_frontier,
    optimal_for_size,
    parabola_curves,
    repeated_data_curve,
)
from core.scaling_laws.laws import CHINCHILLA, EPOCH_2024, ScalingLaw, isoflop_curves, read_runs_csv

EPOCH_CSV = Path(__file__).resolve().parents[2] / "shared" / "reference" / "chinchilla_epoch.csv"


def test_parabola_vertices_and_exponent_are_exact_on_parabolas() -> None:
    budgets = np.array([1e18, 1e19, 1e20])
    n_star = 1e3 * budgets**0.4  # known vertices, N_opt ~ C^0.4
    rows = [
        (n, c / (6 * n), 2 + 0.1 * np.log(n / ns) ** 2)
        for c, ns in zip(budgets, n_star, strict=True)
        for n in ns * np.geomspace(0.2, 3, 5)
    ]
    n, d, loss = map(np.array, zip(*rows, strict=True))
    fit = isoflop_parabolas(n, d, loss)
    assert fit.budgets["n_opt"].to_numpy() == pytest.approx(n_star, rel=1e-8)
    assert fit.budgets["flops"].to_numpy() == pytest.approx(budgets, rel=1e-8)
    assert fit.a == pytest.approx(0.4, abs=1e-8) and fit.n_used == 3


def test_approach_2_on_a_laws_isoflop_curves_recovers_its_exponent() -> None:
    iso = isoflop_curves(EPOCH_2024, np.geomspace(1e19, 1e23, 5), n_points=9, span=3)
    iso = iso[~iso.is_optimum]
    fit = isoflop_parabolas(iso.N.to_numpy(), iso.D.to_numpy(), iso["loss"].to_numpy())
    assert fit.a == pytest.approx(EPOCH_2024.a, abs=0.01)  # beta / (alpha + beta) = 0.513


def test_a_budget_without_a_minimum_is_not_used() -> None:
    n = np.array([1e6, 2e6, 4e6, 1e7, 2e7, 4e7])
    d = 1e16 / (6 * n)
    fit = isoflop_parabolas(n, d, 3 - 0.01 * np.log(n))  # loss keeps falling with N: no vertex inside
    assert not fit.budgets["used"].any() and np.isnan(fit.a)


@pytest.mark.skipif(not EPOCH_CSV.exists(), reason="shared/reference/chinchilla_epoch.csv not beside the checkout")
def test_approach_2_on_epoch_data_matches_table_2() -> None:
    runs = read_runs_csv(EPOCH_CSV.read_bytes())
    fit = isoflop_parabolas(runs.N.to_numpy(), runs.D.to_numpy(), runs["loss"].to_numpy())
    assert 0.462 <= fit.a <= 0.534  # Hoffmann et al. Table 2, Approach 2: 0.49 (0.462, 0.534)
    assert fit.n_used >= 8


def test_optimal_for_size_inverts_the_frontier() -> None:
    out = optimal_for_size(CHINCHILLA, 40e9)
    law = CHINCHILLA
    g = (law.alpha * law.A / (law.beta * law.B)) ** (1 / (law.alpha + law.beta))
    assert out["flops"] == pytest.approx(6 * (40e9 / g) ** ((law.alpha + law.beta) / law.beta), rel=1e-10)
    assert law.compute_optimal(out["flops"])[0] == pytest.approx(40e9, rel=1e-10)
    assert 6 * 40e9 * out["tokens"] == pytest.approx(out["flops"])


def test_cheapest_for_loss_matches_a_constrained_minimiser() -> None:
    target = 2.1
    out = cheapest_for_loss(EPOCH_2024, target)
    cons = {"type": "eq", "fun": lambda z: EPOCH_2024.loss(np.exp(z[0]), np.exp(z[1])) - target}
    ref = minimize(
        lambda z: z[0] + z[1],
        x0=[np.log(1e9), np.log(1e11)],
        constraints=[cons],
        method="SLSQP",
        options={"ftol": 1e-12, "maxiter": 500},
    )
    assert ref.success
    assert out["flops"] == pytest.approx(6 * np.exp(ref.fun), rel=1e-4)
    assert EPOCH_2024.loss(out["n_params"], out["tokens"]) == pytest.approx(target, rel=1e-9)
    with pytest.raises(ValueError, match="above the floor"):
        cheapest_for_loss(EPOCH_2024, 1.5)


def test_inference_aware_trains_a_smaller_model_longer() -> None:
    target = 2.1
    base = cheapest_for_loss(CHINCHILLA, target)
    none = inference_aware(CHINCHILLA, target, 0.0)
    assert none["n_params"] == pytest.approx(base["n_params"], rel=1e-3)
    heavy = inference_aware(CHINCHILLA, target, 1e13)
    assert heavy["n_params"] < base["n_params"] and heavy["tokens_per_param"] > base["tokens_per_param"]
    grid = np.geomspace(heavy["n_params"] / 3, base["n_params"], 2001)  # brute force over N
    rest = target - CHINCHILLA.E - CHINCHILLA.A / grid**CHINCHILLA.alpha
    totals = 6 * grid * (CHINCHILLA.B / rest) ** (1 / CHINCHILLA.beta) + 2 * grid * 1e13
    assert heavy["total_flops"] <= totals.min() * (1 + 1e-6)
    assert heavy["total_flops"] < base["flops"] + 2 * base["n_params"] * 1e13


def test_effective_data_follows_muennighoff() -> None:
    u = 1e9
    assert effective_data(u, 1) == pytest.approx(u)
    assert effective_data(u, 1e6) == pytest.approx(u * (1 + R_STAR_D))
    assert effective_data(u, 1.001) == pytest.approx(u * 1.001, rel=1e-4)  # the first repeats count almost fully
    assert effective_data(u, 4) / (4 * u) > 0.9  # "up to ~4 epochs ... negligible" (Muennighoff et al. 2023)
    assert effective_data(u, 4) == pytest.approx(u + u * 15.39 * (1 - np.exp(-3 / 15.39)))
    curve = repeated_data_curve(ScalingLaw(1.8, 400, 400, 0.34, 0.28), 1e9, 1e9, np.array([1, 4, 16, 64]))
    assert (curve["loss_repeated"] >= curve["loss_fresh"] - 1e-12).all()
    assert np.diff(curve["loss_repeated"]).max() < 0
    with pytest.raises(ValueError, match="`epochs` must be >= 1"):
        effective_data(u, 0.5)


def test_bad_inputs() -> None:
    with pytest.raises(TypeError, match="must be a ScalingLaw"):
        optimal_for_size("Kaplan", 1e9)
    with pytest.raises(ValueError, match="`n_params` must be > 0"):
        optimal_for_size(CHINCHILLA, -1.0)
    with pytest.raises(ValueError, match="same, non-zero length"):
        isoflop_parabolas(np.ones(3), np.ones(4), np.ones(3))


def test_parabola_curves_pass_through_the_vertex_and_runs_are_grouped() -> None:
    budgets = np.array([1e18, 1e20])
    rows = [(n, c / (6 * n), 2 + 0.1 * np.log(n / 1e8) ** 2) for c in budgets for n in np.geomspace(2e7, 5e8, 5)]
    n, d, loss = map(np.array, zip(*rows, strict=True))
    fit = isoflop_parabolas(n, d, loss)
    assert fit.runs["flops"].to_numpy() == pytest.approx(np.repeat(budgets, 5))
    assert fit.budgets["loss_opt"].to_numpy() == pytest.approx([2.0, 2.0])
    curves = parabola_curves(fit.budgets, n_points=7)
    assert len(curves) == 14
    assert curves["loss"].to_numpy() == pytest.approx(2 + 0.1 * np.log(curves["N"].to_numpy() / 1e8) ** 2)


def test_inference_sweep_rows_match_single_calls() -> None:
    sweep = inference_sweep(CHINCHILLA, 2.1, np.array([0.0, 1e12]))
    assert sweep["n_params"].iloc[1] == pytest.approx(inference_aware(CHINCHILLA, 2.1, 1e12)["n_params"])
    assert sweep["inference_flops"].iloc[1] == pytest.approx(2 * sweep["n_params"].iloc[1] * 1e12)


def test_non_embedding_frontier_reduces_to_the_law_and_matches_brute_force() -> None:
    n = np.geomspace(1e6, 1e10, 5)
    plain = non_embedding_frontier(EPOCH_2024, n, gamma=0.0)
    assert EPOCH_2024.compute_optimal(plain["flops_nonemb"].to_numpy())[0] == pytest.approx(n, rel=1e-10)
    frame = non_embedding_frontier(EPOCH_2024, np.array([3e6]))  # Kaplan-scale model, embeddings dominate
    c = float(frame["flops_nonemb"].iloc[0])

    def loss(log_n: float) -> float:  # loss in total parameters at fixed non-embedding compute
        m = np.exp(log_n)
        return EPOCH_2024.loss(m + GAMMA_EMBEDDING * m ** (1 / 3), c / (6 * m))

    best = minimize_scalar(loss, bounds=(np.log(1e4), np.log(1e9)), method="bounded", options={"xatol": 1e-10})
    assert np.exp(best.x) == pytest.approx(3e6, rel=1e-4)


def test_counting_non_embedding_parameters_at_small_scale_steepens_the_frontier() -> None:
    frame = non_embedding_frontier(EPOCH_2024, np.geomspace(1e2, 1e13, 400))
    small = local_exponent(frame)  # over Kaplan's compute range
    large = local_exponent(frame, (1e26, 1e30))
    assert large == pytest.approx(EPOCH_2024.a, abs=0.005)  # embeddings vanish: beta / (alpha + beta)
    assert small > EPOCH_2024.a + 0.2 and abs(small - 0.73) < 0.07  # near Kaplan's 0.73 (Pearce & Song 2024)
    with pytest.raises(ValueError, match="Fewer than 2 frontier points"):
        local_exponent(frame, (1.0, 2.0))


def test_compute_accounting_reduces_to_the_law_without_a_head() -> None:
    n = np.geomspace(1e5, 1e11, 60)
    res = compute_accounting(CHINCHILLA, n, gamma=0.0, flops_range=(1e15, 1e25))
    assert set(res.frontiers["budget"]) == {"all FLOPs", "Kaplan FLOPs"}
    for _budget, sub in res.frontiers.groupby("budget"):
        n_opt, d_opt = CHINCHILLA.compute_optimal(sub["flops"].to_numpy())
        assert n_opt == pytest.approx(n, rel=1e-9) and d_opt == pytest.approx(sub["tokens"].to_numpy(), rel=1e-9)
        assert sub["flops_total"].to_numpy() == pytest.approx(sub["flops_kaplan"].to_numpy(), rel=1e-12)
    assert res.exponents["exponent"].to_numpy() == pytest.approx(CHINCHILLA.a, abs=1e-9)


def test_compute_accounting_frontiers_are_the_brute_force_optima() -> None:
    res = compute_accounting(EPOCH_2024, np.array([3e6, 3e7]))
    for budget, sub in res.frontiers.groupby("budget"):
        row = sub.iloc[0]
        c = float(row["flops"])
        assert row["flops_total"] - row["flops_kaplan"] == pytest.approx(
            6 * GAMMA_EMBEDDING * 3e6 ** (1 / 3) * row["tokens"], rel=1e-9
        )  # the head's compute 6 N_head D is the only difference

        def loss(log_n: float, c: float = c, budget: str = budget) -> float:
            m = np.exp(log_n)
            total = m + GAMMA_EMBEDDING * m ** (1 / 3)
            return EPOCH_2024.loss(total, c / (6 * (total if budget == "all FLOPs" else m)))

        best = minimize_scalar(loss, bounds=(np.log(1e4), np.log(1e9)), method="bounded", options={"xatol": 1e-10})
        assert np.exp(best.x) == pytest.approx(3e6, rel=1e-4)


def _brute_n_opt(c: float, budget: str) -> tuple[float, float]:
    """(non-embedding, total) optimal size at compute c, by a bounded 1-D search independent of the closed forms."""

    def loss(log_n: float) -> float:
        m = np.exp(log_n)
        total = m + GAMMA_EMBEDDING * m ** (1 / 3)
        return EPOCH_2024.loss(total, c / (6 * (total if budget == "all FLOPs" else m)))

    m = np.exp(minimize_scalar(loss, bounds=(np.log(1e2), np.log(1e12)), method="bounded", options={"xatol": 1e-12}).x)
    return m, m + GAMMA_EMBEDDING * m ** (1 / 3)


def test_local_exponents_agree_with_a_finite_difference() -> None:
    c0, h = 1e17, 0.05
    res = compute_accounting(EPOCH_2024, np.geomspace(1e2, 1e13, 4000), flops_range=(c0 * np.exp(-h), c0 * np.exp(h)))
    for budget in ("all FLOPs", "Kaplan FLOPs"):
        lo, hi = _brute_n_opt(c0 * np.exp(-h), budget), _brute_n_opt(c0 * np.exp(h), budget)
        for k, params in enumerate(("non-embedding", "total")):
            by_hand = (np.log(hi[k]) - np.log(lo[k])) / (2 * h)
            got = res.exponents.set_index(["budget", "params"]).loc[(budget, params), "exponent"]
            assert got == pytest.approx(by_hand, abs=2e-3)
            sub = res.frontiers[res.frontiers["budget"] == budget]
            at = np.argmin(np.abs(np.log(sub["flops"].to_numpy() / c0)))
            col = "slope_nonemb" if params == "non-embedding" else "slope_total"
            assert sub[col].iloc[at] == pytest.approx(by_hand, abs=5e-3)  # the pointwise slope at c0
    ex = compute_accounting(EPOCH_2024, np.geomspace(1e2, 1e13, 400)).exponents.set_index(["budget", "params"])
    assert ex.loc[("all FLOPs", "total"), "exponent"] == pytest.approx(EPOCH_2024.a, abs=1e-9)
    assert ex.loc[("Kaplan FLOPs", "non-embedding"), "exponent"] > EPOCH_2024.a + 0.2  # Pearce & Song's steepening


def test_compute_accounting_bad_input() -> None:
    n = np.geomspace(1e5, 1e9, 10)
    with pytest.raises(ValueError, match="at least 2 finite sizes > 0"):
        compute_accounting(EPOCH_2024, np.array([1e6, -1.0]))
    with pytest.raises(ValueError, match="gamma"):
        compute_accounting(EPOCH_2024, n, gamma=-1.0)
    with pytest.raises(ValueError, match="low < high"):
        compute_accounting(EPOCH_2024, n, flops_range=(1e20, 1e15))
    with pytest.raises(ValueError, match="Fewer than 2 frontier points"):
        compute_accounting(EPOCH_2024, n, flops_range=(1.0, 2.0))
    with pytest.raises(ValueError, match="no compute optimum"):
        compute_accounting(ScalingLaw(E=1.0, A=1.0, B=1.0, alpha=0.0, beta=0.3), n)  # no optimum
