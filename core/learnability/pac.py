"""PAC sample bounds: how many examples a finite class or a class of VC dimension d needs.

Valiant 1984; Blumer, Ehrenfeucht, Haussler & Warmuth 1989; the agnostic ERM bound 2 ln(2|H|/delta)/eps^2 and the
uniform-convergence bound (Shalev-Shwartz & Ben-David 2014, Cor. 4.6) are labelled apart.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from core._validation import check_choice, check_int, check_probability, check_real

BOUND_NAMES = (
    "finite, realisable",
    "finite, agnostic (ERM)",
    "finite, uniform convergence",
    "VC, realisable",
)
VC_FORMS = ("max", "sum")  # Blumer et al.'s theorem takes the larger term; textbooks (Mitchell 1997) add them


# ----------------------------------------------------------------------------------------------------------------
# PAC sample bounds
# ----------------------------------------------------------------------------------------------------------------
def _vc_bound(eps: np.ndarray, delta: float, d: int, form: str) -> np.ndarray:
    """Blumer et al.'s two terms, combined by their max (the theorem) or their sum (the textbook form)."""
    confidence = 4 * math.log2(2 / delta) / eps
    dimension = 8 * d * np.log2(13 / eps) / eps
    return np.maximum(confidence, dimension) if form == "max" else confidence + dimension


def _pac_bounds(eps: np.ndarray, delta: float, log_h: float, d: int, vc_form: str) -> dict[str, np.ndarray]:
    """The four bounds as real numbers, for an array of ``eps``; rounded up by the callers."""
    return {
        BOUND_NAMES[0]: (log_h + math.log(1 / delta)) / eps,
        BOUND_NAMES[1]: 2 * (math.log(2) + log_h + math.log(1 / delta)) / eps**2,
        BOUND_NAMES[2]: (log_h + math.log(2 / delta)) / (2 * eps**2),
        BOUND_NAMES[3]: _vc_bound(eps, delta, d, vc_form),
    }


def _ceil(x: np.ndarray) -> np.ndarray:
    return np.ceil(np.round(x, 9)).astype(np.int64)  # round first: 99.99999999997 must not become 100


def pac_sample_bound(
    *,
    eps: float,
    delta: float,
    h_size: float | None = None,
    vc_dim: int | None = None,
    realizable: bool = True,
    uniform: bool = False,
    vc_form: str = "max",
) -> int:
    r"""Smallest sample size m that the classical PAC bounds guarantee suffices.

    .. math::
        m_{\text{real}} = \frac{\ln|H| + \ln(1/\delta)}{\epsilon},\quad
        m_{\text{ERM}} = \frac{2\ln(2|H|/\delta)}{\epsilon^2},\quad
        m_{\text{UC}} = \frac{\ln|H| + \ln(2/\delta)}{2\epsilon^2},\quad
        m_{\text{VC}} = \max\Big(\frac{4}{\epsilon}\log_2\frac{2}{\delta},
        \frac{8d}{\epsilon}\log_2\frac{13}{\epsilon}\Big)

    The agnostic case has two different guarantees. ``realizable=False`` (the default agnostic answer) is the
    agnostic PAC sample complexity: ERM's true error is within ``eps`` of the best hypothesis in the class. It
    follows from ``eps/2``-uniform convergence, hence four times the ``uniform=True`` size, which only promises
    that every hypothesis' empirical error is within ``eps`` of its true error (Hoeffding + union bound).
    Until this version ``realizable=False`` returned the uniform-convergence size while calling ``eps`` the
    excess error; it now returns the ERM size.

    Parameters
    ----------
    eps : float
        Target error (realisable), excess error over the best in class (agnostic, ERM) or deviation between
        empirical and true error (agnostic, ``uniform=True``), in (0, 1).
    delta : float
        Allowed failure probability, in (0, 1).
    h_size : float, optional
        Number of hypotheses |H| >= 1 of a finite class (a float, so 3**40 fits).
    vc_dim : int, optional
        VC dimension d >= 0 (realisable case only). Pass exactly one of ``h_size`` and ``vc_dim``.
    realizable : bool
        Whether some hypothesis has zero error. The agnostic bounds are given for finite classes.
    uniform : bool
        With ``realizable=False``: return the uniform-convergence size instead of the ERM excess-error size.
    vc_form : {"max", "sum"}
        How the VC bound combines its two terms: ``"max"`` is Blumer et al.'s Theorem 2.1(ii)(b) as stated;
        ``"sum"`` is the looser textbook form (Mitchell 1997, eq. 7.7), at most twice as large.

    Returns
    -------
    int
        The number of examples m (the bound rounded up).

    References
    ----------
    Valiant (1984); Blumer, Ehrenfeucht, Haussler & Warmuth (1989), JACM 36(4), Thm 2.1;
    Shalev-Shwartz & Ben-David (2014), Cor. 2.3, Lemma 4.2 and Cor. 4.6.
    """
    eps = check_probability(eps, "eps")
    delta = check_probability(delta, "delta")
    vc_form = check_choice(vc_form, "vc_form", VC_FORMS)
    if (h_size is None) == (vc_dim is None):
        raise ValueError(
            "Pass exactly one of `h_size` (a finite class) and `vc_dim` (a VC class). "
            f"Got h_size={h_size!r} and vc_dim={vc_dim!r} instead."
        )
    if vc_dim is not None and not realizable:
        raise ValueError(
            "The agnostic bound is implemented for finite classes only: pass `h_size` with "
            "realizable=False, or `vc_dim` with realizable=True. Got vc_dim with realizable=False instead."
        )
    if uniform and realizable:
        raise ValueError(
            "`uniform=True` asks for the agnostic uniform-convergence size: pass realizable=False with it. "
            "Got realizable=True instead."
        )
    if vc_dim is not None:
        d = check_int(vc_dim, "vc_dim", low=0)
        bound = _pac_bounds(np.array(eps), delta, 0.0, d, vc_form)[BOUND_NAMES[3]]
    else:
        log_h = math.log(check_real(h_size, "h_size", low=1.0))
        name = BOUND_NAMES[0] if realizable else BOUND_NAMES[2 if uniform else 1]
        bound = _pac_bounds(np.array(eps), delta, log_h, 0, vc_form)[name]
    return int(_ceil(bound))


def pac_bound_curve(
    *,
    delta: float,
    h_size: float,
    vc_dim: int,
    eps_min: float = 0.01,
    eps_max: float = 0.5,
    num: int = 40,
    vc_form: str = "max",
) -> pd.DataFrame:
    """The four PAC bounds of :func:`pac_sample_bound` on a log-spaced grid of ``eps`` (vectorised).

    Returns
    -------
    pandas.DataFrame
        Long format, one row per (eps, bound): ``eps``, ``bound`` (one of ``BOUND_NAMES``), ``m`` (examples).
    """
    eps_min = check_probability(eps_min, "eps_min")
    eps_max = check_real(eps_max, "eps_max", low=eps_min, high=1.0, low_inclusive=False, high_inclusive=False)
    eps = np.geomspace(eps_min, eps_max, check_int(num, "num", low=2, high=10_000))  # (num,)
    log_h = math.log(check_real(h_size, "h_size", low=1.0))
    d = check_int(vc_dim, "vc_dim", low=0)
    bounds = _pac_bounds(eps, check_probability(delta, "delta"), log_h, d, check_choice(vc_form, "vc_form", VC_FORMS))
    frames = [pd.DataFrame({"eps": eps, "bound": name, "m": _ceil(b)}) for name, b in bounds.items()]
    return pd.concat(frames, ignore_index=True)
