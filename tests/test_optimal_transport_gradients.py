"""Tests for core.optimal_transport.gradients: autograd gradients of JS and W1 against closed forms and finite
differences."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.optimal_transport.distances import divergences_vs_shift
from core.optimal_transport.gradients import generator_gradients


def _split(df):
    js = df[df["divergence"] == "JS"].set_index("shift")
    w1 = df[df["divergence"] == "W1"].set_index("shift")
    return js, w1


@pytest.mark.parametrize("kind", ["dirac", "uniform"])
def test_disjoint_supports_js_flat_w1_pushes(kind):
    shifts = np.array([-3.0, -1.5, 1.5, 3.0])  # disjoint for both (uniform width 1)
    js, w1 = _split(generator_gradients(shifts, kind=kind))
    np.testing.assert_allclose(js["value"], 1.0, atol=1e-9)  # stuck at 1 bit
    assert (js["gradient"].abs() < 1e-5).all()  # no signal for the generator (blur tails only: Phi(-gap / 2h))
    assert (js.loc[[-3.0, 3.0], "gradient"].abs() < 1e-15).all()
    np.testing.assert_allclose(w1["value"], np.abs(shifts), rtol=1e-12)
    np.testing.assert_allclose(w1["gradient"], np.sign(shifts), rtol=1e-12)  # constant push towards the data


def test_overlapping_uniforms_js_gradient_is_the_closed_form_slope():
    # JS = |s| / w inside the overlap, so d JS / ds = sign(s) / w away from the kinks (blur h = 0.01)
    js, _ = _split(generator_gradients([-0.6, 0.5, 1.0], kind="uniform", width=2.0, bandwidth=0.01))
    np.testing.assert_allclose(js["gradient"], np.sign(js.index) / 2.0, rtol=1e-3)
    np.testing.assert_allclose(js["value"], np.abs(js.index) / 2.0, atol=1e-2)  # the blur softens the edges


@pytest.mark.parametrize(("kind", "h"), [("gaussian", 0.05), ("dirac", 0.3)])
def test_blurred_js_matches_gaussian_oracle_and_finite_differences(kind, h):
    # blurred Diracs / Gaussians are Gaussians of variance sigma^2 + h^2: core.optimal_transport.distances has their JS
    # by quadrature
    sigma_eff = math.sqrt((1.0 if kind == "gaussian" else 0.0) + h**2)
    shifts = np.array([-1.2, 0.4, 0.9])
    js, _ = _split(generator_gradients(shifts, kind=kind, bandwidth=h))
    ref = divergences_vs_shift(shifts, kind="gaussian", sigma=sigma_eff)["js"].to_numpy()
    np.testing.assert_allclose(js["value"], ref, rtol=1e-6)
    d = 1e-4
    up = divergences_vs_shift(shifts + d, kind="gaussian", sigma=sigma_eff)["js"].to_numpy()
    down = divergences_vs_shift(shifts - d, kind="gaussian", sigma=sigma_eff)["js"].to_numpy()
    np.testing.assert_allclose(js["gradient"], (up - down) / (2 * d), rtol=1e-4)


def test_long_format_and_determinism():
    a = generator_gradients([0.0, 0.5], kind="gaussian", n=50)
    b = generator_gradients([0.0, 0.5], kind="gaussian", n=50)
    assert list(a.columns) == ["shift", "divergence", "value", "gradient"]
    assert list(a["divergence"]) == ["JS", "W1", "JS", "W1"]
    assert a.equals(b)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"kind": "cauchy"}, "`kind` must be one of"),
        ({"bandwidth": 0.0}, "`bandwidth` must be > 0"),
        ({"n": 0}, "`n` must be >= 1"),
        ({"device": "tpu"}, "`device` must be one of"),
    ],
)
def test_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        generator_gradients([0.0, 1.0], **kwargs)
