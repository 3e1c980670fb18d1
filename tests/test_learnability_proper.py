"""Tests for core.learnability.proper: exhaustive proper learning of 2-term DNF versus 2-CNF elimination."""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import numpy as np
import pytest

from core.learnability import proper
from core.learnability.proper import (
    LEARNERS,
    BooleanFormula,
    ProperConfig,
    _timed,
    eliminate_kcnf,
    erm_two_term_dnf,
    proper_vs_improper,
    proper_vs_improper_run,
    random_dnf,
)


def _cube(n: int) -> np.ndarray:
    return np.array(list(itertools.product((0, 1), repeat=n)))  # (2^n, n): the full truth table


def test_formula_evaluation_textbook_case() -> None:
    # (x0 and not x1) or x2, with literals 0..2 = x_i and 3..5 = not x_i
    dnf = BooleanFormula("dnf", ((0, 4), (2,)), 3)
    # (x0 or x1) and (not x2)
    cnf = BooleanFormula("cnf", ((0, 1), (5,)), 3)
    X = _cube(3)
    expected_dnf = [(a and not b) or c for a, b, c in X]
    expected_cnf = [(a or b) and not c for a, b, c in X]
    assert dnf.predict(X).tolist() == expected_dnf
    assert cnf.predict(X).tolist() == expected_cnf
    assert BooleanFormula("cnf", (), 3).predict(X).all()  # empty AND is true
    assert not BooleanFormula("dnf", (), 3).predict(X).any()  # empty OR is false


def test_exhaustive_search_matches_brute_force_on_noisy_labels() -> None:
    # Oracle: score every unordered pair of the 3^n conjunctions in plain Python.
    rng = np.random.default_rng(0)
    n = 3
    X = rng.integers(0, 2, (40, n))
    y = rng.integers(0, 2, 40)  # no DNF fits these: the minimum error is positive
    codes = list(itertools.product((0, 1, 2), repeat=n))

    def term(c):
        return tuple(v if c[v] == 1 else v + n for v in range(n) if c[v])

    best = min(
        int((BooleanFormula("dnf", (term(a), term(b)), n).predict(X) != y).sum())
        for a, b in itertools.combinations_with_replacement(codes, 2)
    )
    fit = erm_two_term_dnf(X, y)
    assert fit.train_errors == best > 0
    assert int((fit.formula.predict(X) != y).sum()) == best
    assert fit.searched == 27 * 28 / 2


def test_proper_learner_recovers_the_target_from_the_truth_table() -> None:
    target = random_dnf(4, term_size=2, seed=1)
    X = _cube(4)
    fit = erm_two_term_dnf(X, target.predict(X))
    assert fit.train_errors == 0
    assert fit.formula.kind == "dnf" and len(fit.formula.parts) == 2
    assert (fit.formula.predict(X) == target.predict(X)).all()


def test_elimination_is_consistent_and_implies_the_target() -> None:
    target = random_dnf(6, term_size=2, seed=2)
    rng = np.random.default_rng(5)
    X = rng.integers(0, 2, (60, 6))
    y = target.predict(X).astype(int)
    fit = eliminate_kcnf(X, y, k=2)
    assert fit.train_errors == 0  # consistent with the sample
    assert (fit.formula.predict(X) == y.astype(bool)).all()
    # the target's own clauses always survive, so h(x) = 1 implies target(x) = 1 on every input
    cube = _cube(6)
    h, f = fit.formula.predict(cube), target.predict(cube)
    assert not (h & ~f).any()
    # with the full truth table the survivors are exactly the target's 2-CNF
    full = eliminate_kcnf(cube, f.astype(int), k=2)
    assert (full.formula.predict(cube) == f).all()
    assert fit.searched == 2 * 6 + 2 * 6 * (2 * 6 - 2) / 2  # unit clauses + non-tautological pairs


def test_proper_vs_improper_tiny_case() -> None:
    records: list[dict] = []
    df = proper_vs_improper(ns=(3, 5), m=64, n_test=500, seed=0, callback=records.append)
    assert list(df.columns) == ["n", "learner", "seconds", "train_acc", "test_acc", "searched"]
    assert len(df) == 4 and set(df["learner"]) == set(LEARNERS)
    assert (df["train_acc"] == 1.0).all()  # realisable target: both learners fit the sample
    assert (df["test_acc"] >= 0.9).all()
    assert (df["seconds"] >= 0).all()
    proper = df[df["learner"] == LEARNERS[0]].set_index("n")["searched"]
    assert proper.loc[5] == 243 * 244 / 2  # 3^5 conjunctions, all unordered pairs
    assert records[-1]["progress"] == pytest.approx(1.0)


def test_same_seed_same_accuracies() -> None:
    a = proper_vs_improper(ns=(4,), m=30, n_test=200, seed=7)
    b = proper_vs_improper(ns=(4,), m=30, n_test=200, seed=7)
    assert a[["train_acc", "test_acc"]].equals(b[["train_acc", "test_acc"]])


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: erm_two_term_dnf(np.full((4, 3), 2), np.zeros(4)), "0/1 values"),
        (lambda: eliminate_kcnf(np.zeros((4, 3)), np.zeros(5)), "equal length"),
        (lambda: eliminate_kcnf(np.zeros((4, 3)), np.zeros(4), k=4), "`k` must be <= 3"),
        (lambda: proper_vs_improper(ns=(2, 3), term_size=3), "`term_size` must be <= the smallest n"),
        (lambda: proper_vs_improper(ns=(11,)), "must be <= 10"),
        (lambda: proper_vs_improper(ns=()), "at least one"),
    ],
)
def test_bad_input_messages(call, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()


def test_a_one_off_first_call_cost_does_not_reach_the_timing(monkeypatch: pytest.MonkeyPatch) -> None:
    # the old page timed a single first call, so n = 2 (paying one-off costs) looked slower than n = 3 and 4;
    # a first call that costs 30 ms (on a fake clock, so machine load cannot matter) must not reach the median
    clock = [0.0]
    monkeypatch.setattr(proper, "time", SimpleNamespace(perf_counter=lambda: clock[0]))
    calls = []

    def fit(X, y):
        calls.append(1)
        clock[0] += 0.03 if len(calls) == 1 else 0.001
        return len(calls)

    _, seconds = _timed(fit, np.zeros((1, 1)), np.zeros(1), repeats=5)
    assert len(calls) == 5 and seconds == pytest.approx(0.001)


def test_proper_search_time_grows_from_the_smallest_n() -> None:
    df = proper_vs_improper_run(ProperConfig(ns=(2, 3, 6), m=30, n_test=200, seed=0))
    t = df[df["learner"] == LEARNERS[0]].set_index("n")["seconds"]
    assert t[2] < t[6]  # 45 vs 266,085 DNF pairs scored
    searched = df[df["learner"] == LEARNERS[0]].set_index("n")["searched"]
    assert searched[2] < searched[3] < searched[6]  # the warm-up artefact is tested on a fake clock above
    with pytest.raises(TypeError, match="`config` must be a ProperConfig"):
        proper_vs_improper_run({"ns": (2,)})
