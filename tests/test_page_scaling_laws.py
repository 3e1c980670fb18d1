"""AppTest of the scaling-laws page at a small, fast configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.apptest_helpers import assert_clean, open_page, widget

SMALL = {"sl_seeds": "1", "sl_steps": "100", "sl_boot": "10"}


def test_page_renders_fit_frontier_and_isoflops() -> None:
    at = open_page("scaling_laws", SMALL, timeout=180)
    assert_clean(at)
    assert len(at.get("vega_lite_chart")) >= 5
    assert any("Fitted α" in i.value for i in at.info)
    assert any("tokens per parameter" in i.value for i in at.info)


def test_deep_link_sets_controls_and_a_change_reruns() -> None:
    at = open_page("scaling_laws", {**SMALL, "sl_budget": "22.0", "sl_iso": "Epoch 2024"}, timeout=180)
    assert widget(at, "sl_budget").value == 22.0
    assert widget(at, "sl_iso").value == "Epoch 2024"
    assert any("1e+22 FLOPs" in i.value for i in at.info)
    widget(at, "sl_budget").set_value(24.0).run()
    assert_clean(at)
    assert any("1e+24 FLOPs" in i.value for i in at.info)


def test_upload_mode_waits_for_a_file() -> None:
    at = open_page("scaling_laws", {"sl_source": "Upload CSV"})
    assert_clean(at)
    assert any("Upload a CSV" in i.value for i in at.info)


EPOCH_CSV = Path(__file__).resolve().parents[2] / "shared" / "reference" / "chinchilla_epoch.csv"


@pytest.mark.skipif(not EPOCH_CSV.exists(), reason="shared/reference/chinchilla_epoch.csv not beside the checkout")
def test_epoch_ai_csv_uploads_as_is_and_reproduces_their_fit() -> None:
    at = open_page("scaling_laws", {"sl_source": "Upload CSV", "sl_boot": "10"})
    widget(at, "sl_upload").set_value(("svg_extracted_data.csv", EPOCH_CSV.read_bytes(), "text/csv")).run()
    assert_clean(at)
    metrics = {m.label: float(m.value) for m in at.metric}
    assert abs(metrics["E"] - 1.817) < 0.01
    assert abs(metrics["α"] - 0.348) < 0.005 and abs(metrics["β"] - 0.366) < 0.005


def test_a_malformed_upload_says_what_to_fix() -> None:
    at = open_page("scaling_laws", {"sl_source": "Upload CSV"})
    widget(at, "sl_upload").set_value(("runs.csv", b"params,tokens\n1,2\n", "text/csv")).run()
    assert not at.exception
    assert "needs columns N, D, loss" in at.error[0].value
