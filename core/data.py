"""Data sets for the lab: scikit-learn's digits (real, offline) and small synthetic generators.

Nothing here downloads: the digits ship inside scikit-learn, everything else is generated from a seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from core._validation import check_choice, check_int, check_real

POINT_CLOUD_SHAPES = ("gaussian", "moons", "ring", "square", "two_blobs", "spiral")


@dataclass(frozen=True)
class Split:
    """A train/test split of a classification data set (float32 inputs, int64 labels)."""

    x_train: np.ndarray  # (n_train, d)
    y_train: np.ndarray  # (n_train,)
    x_test: np.ndarray  # (n_test, d)
    y_test: np.ndarray  # (n_test,)

    @property
    def n_classes(self) -> int:
        """Number of distinct labels."""
        return int(max(self.y_train.max(), self.y_test.max()) + 1)


def digits_split(
    *, n_train: int = 1200, seed: int = 0, standardize: bool = True, classes: tuple[int, ...] | None = None
) -> Split:
    """Load scikit-learn's 8x8 digits (1797 images, 64 pixels in 0..16) as a stratified split.

    Pixels are divided by 16; with ``standardize`` each pixel is then centred and scaled by the training
    statistics (constant pixels keep scale 1). ``classes`` keeps a subset of digits, relabelled 0..C-1.

    Parameters
    ----------
    n_train : int
        Training images (the rest is the test set). 1200 leaves 597 for testing.
    seed : int
        Seed of the stratified split.
    standardize : bool
        Centre and scale each pixel with training statistics.
    classes : tuple of int, optional
        Digits to keep, e.g. ``(0, 1, 2)``.

    Returns
    -------
    Split
        ``x_*`` of shape (n, 64) float32, ``y_*`` of shape (n,) int64.
    """
    data = load_digits()
    x = data.data.astype(np.float64) / 16.0  # (1797, 64)
    y = data.target.astype(np.int64)  # (1797,)
    if classes is not None:
        keep = np.isin(y, classes)
        remap = {c: i for i, c in enumerate(classes)}
        x, y = x[keep], np.array([remap[int(c)] for c in y[keep]], dtype=np.int64)
    n_train = check_int(n_train, "n_train", low=len(np.unique(y)), high=len(y) - len(np.unique(y)))
    check_int(seed, "seed", low=0)
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, train_size=n_train, stratify=y, random_state=seed)
    if standardize:
        mean, std = x_tr.mean(axis=0), x_tr.std(axis=0)
        std[std == 0] = 1.0
        x_tr, x_te = (x_tr - mean) / std, (x_te - mean) / std
    return Split(x_tr.astype(np.float32), y_tr, x_te.astype(np.float32), y_te)


def point_cloud(
    shape: str, n: int, *, seed: int = 0, center: tuple[float, float] = (0.0, 0.0), scale: float = 1.0
) -> np.ndarray:
    """Sample ``n`` points of a 2-D shape, for transport demos.

    Parameters
    ----------
    shape : str
        One of ``POINT_CLOUD_SHAPES``.
    n : int
        Number of points.
    seed : int
        Seed of the sample.
    center, scale : tuple of float, float
        The cloud is ``center + scale * (unit-size shape)``.

    Returns
    -------
    ndarray of shape (n, 2)
    """
    check_choice(shape, "shape", POINT_CLOUD_SHAPES)
    n = check_int(n, "n", low=1, high=100_000)
    scale = check_real(scale, "scale", low=0.0, low_inclusive=False)
    rng = np.random.default_rng(check_int(seed, "seed", low=0))
    if shape == "gaussian":
        pts = rng.normal(size=(n, 2)) * 0.5
    elif shape == "moons":
        t = rng.uniform(0, np.pi, size=n)
        upper = rng.random(n) < 0.5
        pts = np.where(upper[:, None], np.c_[np.cos(t), np.sin(t)], np.c_[1 - np.cos(t), 0.5 - np.sin(t)])
        pts = (pts - [0.5, 0.25]) * 0.8 + rng.normal(scale=0.05, size=(n, 2))
    elif shape == "ring":
        t = rng.uniform(0, 2 * np.pi, size=n)
        pts = np.c_[np.cos(t), np.sin(t)] * (0.8 + 0.05 * rng.normal(size=n))[:, None]
    elif shape == "square":
        pts = rng.uniform(-0.8, 0.8, size=(n, 2))
    elif shape == "two_blobs":
        side = np.where(rng.random(n) < 0.5, -0.6, 0.6)
        pts = np.c_[side, np.zeros(n)] + rng.normal(scale=0.2, size=(n, 2))
    else:  # spiral
        t = np.sqrt(rng.uniform(0.05, 1, size=n)) * 3 * np.pi
        pts = np.c_[t * np.cos(t), t * np.sin(t)] / (3 * np.pi) + rng.normal(scale=0.03, size=(n, 2))
    return np.asarray(center, dtype=np.float64) + scale * pts  # (n, 2)
