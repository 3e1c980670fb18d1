import math

import numpy as np
import pytest

from core.mdl.ib_clusters import (
    IBCodeConfig,
    cluster_code_lengths,
    hard_ib_clusterings,
    ib_cluster_code,
    kt_code_bits,
)


def _h(p):
    """Binary entropy in bits, by hand."""
    return -p * math.log2(p) - (1 - p) * math.log2(1 - p)


def _kt_sequential(row):
    """Independent KT code: send the symbols one at a time, each with (count so far + 1/2) / (seen + m/2)."""
    m, seen, bits = len(row), np.zeros(len(row)), 0.0
    for y in np.repeat(np.arange(m), row.astype(int)):
        bits -= math.log2((seen[y] + 0.5) / (seen.sum() + m / 2))
        seen[y] += 1
    return bits


def _partitions(n):
    """Every set partition of range(n) as a restricted growth string (an independent enumeration)."""
    if n == 1:
        yield [0]
        return
    for p in _partitions(n - 1):
        for t in range(max(p) + 2):
            yield [*p, t]


def _i_ty(joint, labels):
    k = max(labels) + 1
    ct = np.zeros((k, joint.shape[1]))
    np.add.at(ct, np.asarray(labels), joint)
    p_t, p_y = ct.sum(1, keepdims=True), ct.sum(0, keepdims=True)
    nz = ct > 0
    return float((ct[nz] * np.log2(ct[nz] / (p_t @ p_y)[nz])).sum())


# Three groups of two x's; y is binary with P(y = 1 | x) = 0.1, 0.5, 0.9 by group; 2000 draws per x, counts exact.
GROUPS = np.array([[1800, 200], [1800, 200], [1000, 1000], [1000, 1000], [200, 1800], [200, 1800]])


def test_kt_code_matches_the_sequential_code_and_a_closed_form():
    rng = np.random.default_rng(0)
    counts = rng.integers(0, 30, size=(4, 5))
    assert kt_code_bits(counts) == pytest.approx(sum(_kt_sequential(r) for r in counts), rel=1e-12)
    assert kt_code_bits([[1, 0, 0]]) == pytest.approx(math.log2(3))  # the first symbol of 3: uniform
    # n equal binary symbols: prod_{i<n} (i + 1/2) / (i + 1)
    assert kt_code_bits([[5, 0]]) == pytest.approx(-sum(math.log2((i + 0.5) / (i + 1)) for i in range(5)))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_hard_clusterings_reach_the_best_partition_found_by_brute_force(seed):
    joint = np.random.default_rng(seed).dirichlet(np.full(21, 0.3)).reshape(7, 3)
    best = {}
    for labels in _partitions(7):  # all 877 partitions of 7 x's
        k = max(labels) + 1
        best[k] = max(best.get(k, 0.0), _i_ty(joint, labels))
    for k, labels in hard_ib_clusterings(joint, max_clusters=7).items():
        assert len(set(labels)) == k and labels[0] == 0
        assert _i_ty(joint, list(labels)) == pytest.approx(best[k], abs=1e-12)


def test_three_groups_are_found_and_priced_by_hand():
    df = cluster_code_lengths(GROUPS, max_clusters=6).set_index("clusters")
    n = GROUPS.sum()
    assert df.index[df["picked"]].tolist() == [3]
    assert list(hard_ib_clusterings(GROUPS, max_clusters=6)[3]) == [0, 0, 1, 1, 2, 2]
    assert df.loc[3, "encoder_bits"] == pytest.approx(6 * math.log2(3))
    assert df.loc[1, "plugin_bits"] == pytest.approx(n * 1.0)  # P(y = 1) = 1/2 overall
    assert df.loc[3, "plugin_bits"] == pytest.approx(n * (2 * _h(0.1) + _h(0.5)) / 3)
    by_group = [GROUPS[0] + GROUPS[1], GROUPS[2] + GROUPS[3], GROUPS[4] + GROUPS[5]]
    assert df.loc[3, "data_bits"] == pytest.approx(sum(_kt_sequential(r) for r in by_group), rel=1e-12)
    # past the truth the data bits only pay learning costs: more clusters, more bits
    assert df.loc[4, "plugin_bits"] == pytest.approx(df.loc[3, "plugin_bits"])
    assert (np.diff(df.loc[3:, "total_bits"]) > 0).all()
    assert (df["learning_bits"] > 0).all()
    assert df.loc[3, "i_ty"] == pytest.approx(1 - (2 * _h(0.1) + _h(0.5)) / 3)


@pytest.mark.parametrize("seed", range(4))
def test_sampled_three_group_channel_picks_three_with_enough_data(seed):
    p_y = np.array([[0.7, 0.1, 0.1, 0.1], [0.1, 0.7, 0.1, 0.1], [0.25, 0.25, 0.25, 0.25]])
    p_xy = np.repeat(p_y, 3, axis=0) / 9  # (9, 4): x = 0, 1, 2 -> group 0, ...
    draws = np.random.default_rng(seed).choice(36, size=20_000, p=p_xy.ravel())
    counts = np.bincount(draws, minlength=36).reshape(9, 4)
    big = cluster_code_lengths(counts, max_clusters=9)
    small = cluster_code_lengths(np.bincount(draws[:20], minlength=36).reshape(9, 4), max_clusters=9)
    assert big.loc[big["picked"], "clusters"].item() == 3
    assert small.loc[small["picked"], "clusters"].item() < 3


def test_the_ib_channel_affords_more_clusters_with_more_data():
    res = ib_cluster_code(IBCodeConfig(n=300, sweep=(30, 3000, 30_000)))
    picks = res.picks.set_index("n")["clusters"]
    assert picks.is_monotonic_increasing and picks[30] <= 3 and picks[30_000] == 12
    assert len(res.curve) == 4 * 12 and set(res.curve["n"]) == {30, 300, 3000, 30_000}
    assert res.curve.groupby("n")["picked"].sum().eq(1).all()
    assert sorted(res.labels["clusters"].unique()) == list(range(1, 13)) and len(res.labels) == 12 * 12
    assert 0 < res.picks["i_ty"].max() < res.i_xy  # a sample's clusters keep at most what the channel has (approx.)
    again = ib_cluster_code(IBCodeConfig(n=300, sweep=(30, 3000, 30_000)))
    assert again.curve.equals(res.curve)


def test_bad_inputs_name_the_knob():
    with pytest.raises(ValueError, match="whole-number counts"):
        cluster_code_lengths([[0.5, 1.0], [1.0, 2.0]], max_clusters=2)
    with pytest.raises(ValueError, match="counts"):
        cluster_code_lengths([[-1, 1], [1, 2]], max_clusters=2)
    with pytest.raises(ValueError, match="max_clusters"):
        cluster_code_lengths(GROUPS, max_clusters=7)
    with pytest.raises(ValueError, match="noise"):
        ib_cluster_code(IBCodeConfig(noise=0.0))
    with pytest.raises(ValueError, match="sweep"):
        ib_cluster_code(IBCodeConfig(sweep=(0, 10)))
