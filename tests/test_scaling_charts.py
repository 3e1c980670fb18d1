"""The scaling page's frontier chart: one colour per law across layers, and an x range that shows the laws."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.scaling_laws.laws import EPOCH_2024, PRESETS, frontier
from ui.charts import scaling_laws as charts_scaling


def _color_scales(spec: dict) -> list[dict]:
    return [layer["encoding"]["color"]["scale"] for layer in spec["layer"]]


def test_band_and_lines_share_one_colour_scale_with_distinct_colours() -> None:
    flops = np.geomspace(1e18, 1e26, 10)
    df = pd.concat([frontier(PRESETS, flops), frontier({"your fit": EPOCH_2024}, flops[:4])], ignore_index=True)
    band = pd.DataFrame({"flops": flops[:4], "n_low": 1e8, "n_high": 1e9})
    spec = charts_scaling.frontier(df, band, title="t").to_dict()
    band_scale, line_scale = _color_scales(spec)
    assert band_scale == line_scale  # one scale, so one legend with one swatch per law
    assert len(set(line_scale["range"])) == len(line_scale["domain"]) == len(PRESETS) + 1
    x_domain = spec["layer"][1]["encoding"]["x"]["scale"]["domain"]
    assert x_domain == [1e18, 1e26]  # the budgets drawn, not 1e4..1e27
