"""Data sets: the digits split and the point-cloud generators."""

from __future__ import annotations

import numpy as np
import pytest

from core.data import POINT_CLOUD_SHAPES, digits_split, point_cloud


def test_digits_split_is_stratified_standardised_and_seeded() -> None:
    split = digits_split(n_train=1200, seed=0)
    assert split.x_train.shape == (1200, 64) and split.x_test.shape == (597, 64)
    assert split.n_classes == 10
    counts = np.bincount(split.y_train, minlength=10) / 1200
    assert np.allclose(counts, 0.1, atol=0.01)  # stratified: each digit ~10%
    assert np.allclose(split.x_train.mean(axis=0), 0, atol=1e-5)
    nonconstant = split.x_train.std(axis=0) > 0
    assert np.allclose(split.x_train.std(axis=0)[nonconstant], 1, atol=1e-4)
    again = digits_split(n_train=1200, seed=0)
    assert np.array_equal(split.x_test, again.x_test)
    assert not np.array_equal(split.y_test, digits_split(n_train=1200, seed=1).y_test)


def test_digits_raw_pixels_and_class_subset() -> None:
    split = digits_split(n_train=300, standardize=False, classes=(3, 7))
    assert split.x_train.min() >= 0 and split.x_train.max() <= 1  # pixels / 16
    assert set(np.unique(split.y_train)) == {0, 1}


@pytest.mark.parametrize("shape", POINT_CLOUD_SHAPES)
def test_point_clouds(shape: str) -> None:
    pts = point_cloud(shape, 200, seed=3, center=(2.0, -1.0), scale=0.5)
    assert pts.shape == (200, 2) and np.all(np.isfinite(pts))
    assert np.allclose(pts.mean(axis=0), (2.0, -1.0), atol=0.3)
    assert np.array_equal(pts, point_cloud(shape, 200, seed=3, center=(2.0, -1.0), scale=0.5))


def test_bad_input_messages() -> None:
    with pytest.raises(ValueError, match="`shape` must be one of"):
        point_cloud("blob", 10)
    with pytest.raises(ValueError, match="`n` must be >= 1"):
        point_cloud("ring", 0)
    with pytest.raises(ValueError, match="`n_train` must be <="):
        digits_split(n_train=5000)
