"""MDL and the information bottleneck: how many clusters |T| the data can afford, by a two-part code length.

The information bottleneck compresses X into clusters T that keep what X says about Y. It does not say how many
clusters to use; a code length does. Send the labels y_1..y_n to a receiver who knows the x's in two parts:

- the encoder, each x's cluster: ``n_x log2 |T|`` bits (a hard assignment, one label per x);
- the y's given their cluster with an adaptive code that learns p(y|t) as it goes (the Krichevsky-Trofimov
  mixture, Dirichlet(1/2) prior), so no table of probabilities has to be sent. Its length is
  ``n H_emp(Y|T)`` (the plug-in bits) plus a learning cost of about ``(n_y - 1)/2 log2 n_t`` per cluster.

More clusters lower ``H_emp(Y|T)`` but cost encoder bits and learning bits; the sum is shortest at the |T| the
data can afford, and that |T| grows with n. For each |T| the clustering is the hard IB solution (the beta -> infinity
limit, which maximises I(T;Y)): agglomerative IB (Slonim & Tishby 1999) from one cluster per x down to one, each
level polished by sequential IB moves of single x's (Slonim, Friedman & Tishby 2002) and checked against a few
seeded random partitions polished the same way. (The iterative IB of ``core.information_bottleneck.iterative`` at a
large beta stalls in hard fixed points far from these on the 12-point circle, which is why the hard limit is solved
directly here.) Information is in bits.

References: N. Slonim, N. Tishby (1999), Agglomerative information bottleneck, NIPS; N. Slonim, N. Friedman,
N. Tishby (2002), Unsupervised document classification using sequential information maximization, SIGIR;
R. Krichevsky, V. Trofimov (1981), The performance of universal encoding, IEEE Trans. Inf. Theory 27(2);
P. Grünwald (2007), *The Minimum Description Length Principle*, MIT Press, ch. 6.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import gammaln, xlogy

from core._validation import check_array, check_int, check_real
from core.information_bottleneck.iterative import mi_bits
from core.information_bottleneck.theory import noisy_channel_joint

_LN2 = np.log(2.0)
_GAIN = 1e-12  # a sequential move must raise I(T;Y) by more than this (bits) to count: no cycling on ties


def _f(rows: np.ndarray) -> np.ndarray:
    """Per row J of a joint table (m, n_y): sum_y J log2 J - p log2 p with p = sum_y J (0 log 0 = 0), shape (m,)."""
    p = rows.sum(axis=-1)  # (m,)
    return (xlogy(rows, rows).sum(axis=-1) - xlogy(p, p)) / _LN2


def check_counts(counts: object, name: str = "counts") -> np.ndarray:
    """A 2-D table of nonnegative integer counts with a positive total, or a message that says how to fix it."""
    c = check_array(counts, name, ndim=2, nonnegative=True)
    if c.shape[0] < 1 or c.shape[1] < 2:
        raise ValueError(f"`{name}` must have at least 1 row (x) and 2 columns (y). Got shape {c.shape} instead.")
    if not np.allclose(c, np.round(c)) or c.sum() <= 0:
        raise ValueError(f"`{name}` must hold whole-number counts of (x, y) pairs with a positive total.")
    return np.round(c)


def _clustered(joint: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    out = np.zeros((k, joint.shape[1]))  # (k, n_y)
    np.add.at(out, labels, joint)
    return out


def _sequential(joint: np.ndarray, labels: np.ndarray, k: int, max_passes: int = 50) -> np.ndarray:
    """Move single x's to the cluster that keeps the most I(T;Y), until no move helps (sequential IB)."""
    labels = labels.copy()
    rows = _clustered(joint, labels, k)  # (k, n_y)
    f_rows = _f(rows)  # (k,)
    sizes = np.bincount(labels, minlength=k)
    for _ in range(max_passes):
        moved = False
        for x in range(joint.shape[0]):
            t = labels[x]
            if sizes[t] == 1 or not joint[x].any():
                continue
            f_without = _f(rows[t] - joint[x])
            f_base = f_rows.copy()
            f_base[t] = f_without
            base = rows.copy()
            base[t] -= joint[x]
            loss = f_base - _f(base + joint[x])  # (k,) I(T;Y) lost by putting x in each cluster (plus a constant)
            best = int(np.argmin(loss))
            if loss[best] < loss[t] - _GAIN:
                labels[x], moved = best, True
                sizes[t] -= 1
                sizes[best] += 1
                rows[t], rows[best] = base[t], rows[best] + joint[x]
                f_rows[t], f_rows[best] = f_without, _f(rows[best])
        if not moved:
            break
    return labels


def _canonical(labels: np.ndarray) -> np.ndarray:
    """Renumber clusters in order of their first x (so cluster 0 holds x = 0)."""
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    rank = np.empty(first.size, dtype=int)
    rank[np.argsort(first)] = np.arange(first.size)
    return rank[inverse]


def hard_ib_clusterings(
    p_xy: object, *, max_clusters: int, n_restarts: int = 3, seed: int = 0
) -> dict[int, np.ndarray]:
    """Hard IB clusterings of X for every |T| from 1 to ``max_clusters``: each maximises I(T;Y) locally.

    Agglomerative IB merges, from one cluster per x, the pair whose merge loses the least I(T;Y),
    ``p(t_i) KL[p(y|t_i) || p(y|t)] + p(t_j) KL[p(y|t_j) || p(y|t)]``. Each level is polished by sequential IB
    (single x moves that raise I(T;Y)) and competes with ``n_restarts`` seeded random partitions polished the same
    way; the best becomes the level and the start of the next merge.

    Parameters
    ----------
    p_xy : array_like of shape (n_x, n_y)
        A joint table (counts or probabilities; only its proportions matter).
    max_clusters : int
        Largest |T|, at most n_x.
    n_restarts : int
        Random partitions tried per |T| besides the agglomerative one.
    seed : int
        Seed of the random partitions.

    Returns
    -------
    dict
        |T| -> labels of shape (n_x,) with values 0..|T|-1 numbered in order of their first x.
    """
    joint = check_array(p_xy, "p_xy", ndim=2, nonnegative=True)
    if joint.sum() <= 0:
        raise ValueError("`p_xy` must have a positive total.")
    joint = joint / joint.sum()
    n_x = joint.shape[0]
    k_max = check_int(max_clusters, "max_clusters", low=1, high=n_x)
    n_restarts = check_int(n_restarts, "n_restarts", low=0, high=1000)
    rng = np.random.default_rng(check_int(seed, "seed", low=0))
    labels = np.arange(n_x)  # (n_x,) one cluster per x
    out: dict[int, np.ndarray] = {}
    for m in range(n_x, 0, -1):
        if m < n_x:  # merge the pair of clusters that loses the least I(T;Y)
            rows = _clustered(joint, labels, m + 1)  # (m + 1, n_y)
            i, j = np.triu_indices(m + 1, k=1)
            loss = _f(rows[i]) + _f(rows[j]) - _f(rows[i] + rows[j])  # (m(m+1)/2,) I(T;Y) lost per merge
            a, b = int(i[np.argmin(loss)]), int(j[np.argmin(loss)])
            labels = _canonical(np.where(labels == b, a, labels))
        if m > k_max:
            continue
        starts = [labels] + [rng.permutation(np.arange(n_x) % m) for _ in range(n_restarts)]
        polished = [_canonical(_sequential(joint, s, m)) for s in starts]
        score = [float(_f(_clustered(joint, s, m)).sum()) for s in polished]  # I(T;Y) - H(Y): higher is better
        labels = out[m] = polished[int(np.argmax(score))]
    return dict(sorted(out.items()))


def kt_code_bits(counts: object) -> float:
    """Length in bits of the Krichevsky-Trofimov code of labels given their group, summed over groups (rows).

    Each row is an independent sequence coded adaptively, the next symbol with probability
    ``(n_sy + 1/2) / (n_s + m/2)`` (m symbols); the product does not depend on the order:
    ``-log2 [Gamma(m/2) / Gamma(n_s + m/2) * prod_y Gamma(n_sy + 1/2) / Gamma(1/2)]``.
    """
    c = check_counts(counts)
    m = c.shape[1]
    n = c.sum(axis=1)  # (rows,)
    nats = gammaln(n + m / 2) - gammaln(m / 2) - (gammaln(c + 0.5) - gammaln(0.5)).sum(axis=1)
    return float(nats.sum() / _LN2)


def cluster_code_lengths(counts: object, *, max_clusters: int) -> pd.DataFrame:
    """Two-part code length of the y's given the x's for each |T| = 1..``max_clusters`` (hard IB clusterings).

    ``total_bits = encoder_bits + data_bits`` with ``encoder_bits = n_x log2 |T|`` and ``data_bits`` the
    KT code of the y's in each cluster (:func:`kt_code_bits`); ``plugin_bits = n H_emp(Y|T)`` is what the data bits
    would be if p(y|t) were known in advance, and ``learning_bits`` the difference.

    Parameters
    ----------
    counts : array_like of shape (n_x, n_y)
        Counts of the observed (x, y) pairs.
    max_clusters : int
        Largest |T| tried (at most n_x).

    Returns
    -------
    DataFrame
        One row per |T|: clusters, encoder_bits, data_bits, plugin_bits, learning_bits, total_bits, excess_bits
        (above the shortest), i_ty (empirical I(T;Y), bits), picked (the shortest).
    """
    c = check_counts(counts)
    n, n_x = float(c.sum()), c.shape[0]
    rows = []
    for k, labels in hard_ib_clusterings(c, max_clusters=max_clusters).items():
        ct = _clustered(c, labels, k)  # (k, n_y) counts per cluster
        i_ty = mi_bits(ct / n)
        plugin = -float(_f(ct).sum())
        data = kt_code_bits(ct)
        enc = n_x * float(np.log2(k))
        rows.append({"clusters": k, "encoder_bits": enc, "data_bits": data, "plugin_bits": plugin,
                     "learning_bits": data - plugin, "total_bits": enc + data, "i_ty": i_ty})  # fmt: skip
    df = pd.DataFrame(rows)
    df["excess_bits"] = df["total_bits"] - df["total_bits"].min()
    df["picked"] = df.index == df["total_bits"].idxmin()
    return df


@dataclass(frozen=True)
class IBCodeConfig:
    """The IB page's channel (X on a circle of 12 points, Y = X + noise, binned), sampled and coded."""

    noise: float = 0.08  # the IB page's default channel noise: neighbouring x's overlap but stay distinguishable
    n_x: int = 12  # the IB page's channel has 12 x's ...
    n_y: int = 12  # ... and 12 y bins
    n: int = 1000  # draws in the main curve: past the few-clusters regime, short of one cluster per x
    sweep: tuple[int, ...] = (30, 100, 300, 1000, 3000, 10_000, 30_000, 100_000)  # n's for the pick-versus-n chart
    max_clusters: int = 12  # up to one cluster per x
    seed: int = 0  # the draws; every n codes a prefix of one stream of draws


@dataclass(frozen=True)
class IBCodeResult:
    """Code lengths per |T| at every n, the pick per n, and the clusterings at the config's n."""

    curve: pd.DataFrame  # n plus the columns of cluster_code_lengths, one row per (n, |T|)
    picks: pd.DataFrame  # n, clusters (the pick), total_bits, i_ty
    labels: pd.DataFrame  # clusters, x, t: the hard IB clustering of each x at the config's n
    i_xy: float  # I(X;Y) of the channel in bits: what n -> infinity with |T| = n_x keeps


def ib_cluster_code(config: IBCodeConfig, *, callback: Callable[[dict], None] | None = None) -> IBCodeResult:
    """Choose the number of IB clusters by code length on n draws from the IB page's channel, for several n.

    Draws ``max(sweep + (n,))`` pairs from ``noisy_channel_joint(n_x, n_y, noise=noise)`` with
    ``default_rng(seed)``; every n codes the first n of them with :func:`cluster_code_lengths`.

    Returns
    -------
    IBCodeResult
    """
    noise = check_real(config.noise, "noise", low=1e-3, high=10.0)
    p = noisy_channel_joint(config.n_x, config.n_y, noise=noise)  # (n_x, n_y)
    k_max = check_int(config.max_clusters, "max_clusters", low=1, high=config.n_x)
    ns = sorted({check_int(v, "sweep", low=1, high=1_000_000) for v in (*config.sweep, config.n)})
    n_main = check_int(config.n, "n", low=1, high=1_000_000)
    rng = np.random.default_rng(check_int(config.seed, "seed", low=0))
    draws = rng.choice(p.size, size=ns[-1], p=p.ravel())  # (n_max,) flat (x, y) indices
    curves, picks, labels = [], [], []
    for i, n in enumerate(ns):
        counts = np.bincount(draws[:n], minlength=p.size).reshape(p.shape)  # (n_x, n_y)
        curve = cluster_code_lengths(counts, max_clusters=k_max).assign(n=n)
        curves.append(curve)
        best = curve[curve["picked"]].iloc[0]
        picks.append({"n": n, "clusters": int(best["clusters"]), "total_bits": best["total_bits"],
                      "i_ty": best["i_ty"]})  # fmt: skip
        if n == n_main:
            for k, lab in hard_ib_clusterings(counts, max_clusters=k_max).items():
                labels += [{"clusters": k, "x": x, "t": int(t)} for x, t in enumerate(lab)]
        if callback is not None:
            callback({"progress": (i + 1) / len(ns), "n": n, "clusters": int(best["clusters"])})
    curve = pd.concat(curves, ignore_index=True)
    return IBCodeResult(curve[["n", *curves[0].columns[:-1]]], pd.DataFrame(picks), pd.DataFrame(labels), mi_bits(p))
