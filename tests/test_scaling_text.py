"""Number formatting of the scaling page: no 40300000000, 1.02e+03 or None in tables, legends and notices."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from core.scaling_laws.laws import PRESETS, frontier
from ui.text.scaling_laws import budget_table, count, number, sci


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (40.36e9, "40.4B"),
        (1.5e12, "1.5T"),
        (386.8e6, "386.8M"),
        (8192, "8.2k"),
        (32, "32"),
        (math.nan, "–"),
        (None, "–"),
    ],
)
def test_count(value: float | None, text: str) -> None:
    assert count(value) == text


@pytest.mark.parametrize(
    ("value", "digits", "text"),
    [(5.754e23, 2, "5.75e23"), (1020.0, 1, "1.0e3"), (9.99e22, 1, "1.0e23"), (2.5e-4, 1, "2.5e-4"), (math.inf, 1, "–")],
)
def test_sci(value: float, digits: int, text: str) -> None:
    assert sci(value, digits) == text


@pytest.mark.parametrize(
    ("value", "text"), [(6660.0, "6660"), (22.388, "22.4"), (0.369, "0.369"), (0.5, "0.500"), (1e6, "1.00e6")]
)
def test_number(value: float, text: str) -> None:
    assert number(value) == text


def test_budget_table_has_only_display_strings() -> None:
    table = budget_table(frontier(PRESETS, pd.Series([5.76e23]).to_numpy()))
    cells = " ".join(table.to_numpy().ravel())
    assert "None" not in cells and "e+" not in cells and "nan" not in cells
    assert table.loc["Chinchilla A3", "parameters N_opt"] == "40.4B"
    assert table.loc["Kaplan", "predicted loss"] == "–"
