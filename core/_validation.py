"""Shared input checks for the public ``core`` API.

Every public function validates its arguments once, at the boundary, with these helpers, so that all error
messages follow one template: "`name` must be <requirement>. Got <value> instead."
"""

from __future__ import annotations

from collections.abc import Iterable
from numbers import Integral, Real

import numpy as np


def _fail(name: str, requirement: str, value: object, exc: type[Exception] = ValueError) -> None:
    shown = repr(value)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    raise exc(f"`{name}` must be {requirement}. Got {shown} instead.")


def check_real(
    value: object,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
) -> float:
    """Return ``value`` as a finite float inside the given bounds, or raise a clear error."""
    if isinstance(value, bool) or not isinstance(value, Real | np.floating | np.integer):
        _fail(name, "a real number", value, TypeError)
    out = float(value)
    if not np.isfinite(out):
        _fail(name, "finite", value)
    if low is not None and (out < low or (out == low and not low_inclusive)):
        _fail(name, f"{'>=' if low_inclusive else '>'} {low}", value)
    if high is not None and (out > high or (out == high and not high_inclusive)):
        _fail(name, f"{'<=' if high_inclusive else '<'} {high}", value)
    return out


def check_positive(value: object, name: str) -> float:
    """Return ``value`` as a float > 0."""
    return check_real(value, name, low=0.0, low_inclusive=False)


def check_probability(value: object, name: str, *, open_interval: bool = True) -> float:
    """Return ``value`` as a float in (0, 1) (or [0, 1] when ``open_interval`` is False)."""
    return check_real(value, name, low=0.0, high=1.0, low_inclusive=not open_interval, high_inclusive=not open_interval)


def check_int(value: object, name: str, *, low: int | None = None, high: int | None = None) -> int:
    """Return ``value`` as an int inside [low, high], or raise a clear error."""
    if isinstance(value, bool) or not isinstance(value, Integral | np.integer):
        _fail(name, "an integer", value, TypeError)
    out = int(value)
    if low is not None and out < low:
        _fail(name, f">= {low}", value)
    if high is not None and out > high:
        _fail(name, f"<= {high}", value)
    return out


def check_choice(value: object, name: str, choices: Iterable[object]) -> object:
    """Return ``value`` if it is one of ``choices``."""
    options = tuple(choices)
    if value not in options:
        _fail(name, "one of " + ", ".join(repr(c) for c in options), value)
    return value


def check_array(
    value: object,
    name: str,
    *,
    ndim: int | tuple[int, ...] | None = None,
    min_len: int = 1,
    nonnegative: bool = False,
    dtype: type = np.float64,
) -> np.ndarray:
    """Return ``value`` as a finite numpy array with the stated number of dimensions."""
    try:
        arr = np.asarray(value, dtype=dtype)
    except (TypeError, ValueError):
        _fail(name, "an array of numbers", value, TypeError)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else ndim
        if arr.ndim not in allowed:
            _fail(name, f"an array with {' or '.join(map(str, allowed))} dimension(s)", f"shape {arr.shape}")
    if arr.shape and arr.shape[0] < min_len:
        _fail(name, f"an array with at least {min_len} entries", f"shape {arr.shape}")
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():  # kind "f": every floating dtype
        _fail(name, "free of NaN and inf", f"{int(np.sum(~np.isfinite(arr)))} non-finite entries")
    if nonnegative and (arr < 0).any():
        _fail(name, "nonnegative", f"minimum {arr.min():.3g}")
    return arr


def check_weights(value: object, name: str, n: int) -> np.ndarray:
    """Return a probability vector of length ``n``; ``None`` gives uniform weights.

    Weights must be finite, nonnegative, have positive total mass, and are not renormalised: a caller that
    compares two distributions checks that their masses match with :func:`check_same_mass`.
    """
    if value is None:
        return np.full(n, 1.0 / n)
    w = check_array(value, name, ndim=1, nonnegative=True)
    if w.shape[0] != n:
        _fail(name, f"of length {n} (one weight per point)", f"length {w.shape[0]}")
    if w.sum() <= 0:
        _fail(name, "of positive total mass", w.sum())
    return w


def check_same_mass(a: np.ndarray, b: np.ndarray, *, rtol: float = 1e-6) -> None:
    """Raise if two weight vectors do not carry the same total mass."""
    sa, sb = float(a.sum()), float(b.sum())
    if abs(sa - sb) > rtol * max(sa, sb):
        raise ValueError(
            f"`a` and `b` must have the same total mass. Got {sa:.6g} and {sb:.6g} instead; normalise both to sum to 1."
        )
