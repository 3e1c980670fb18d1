"""Tests of core/collapse_training.py: the digits run, the unconstrained-features model and their summaries."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from core.neural_collapse.metrics import METRICS, collapse_metrics, terminal_summary, ufm_milestones
from core.neural_collapse.training import (
    CollapseConfig,
    GeometrySnapshots,
    UFMConfig,
    UFMSweepConfig,
    collapse_run,
    geometry_snapshots,
    train_collapse,
    ufm_sweep,
    unconstrained_features_run,
)
from core.training import Diverged

TINY = CollapseConfig(widths=(32, 32), train_per_class=20, epochs=12, batch_size=50, n_evals=6, lr=0.1)


@pytest.fixture(scope="module")
def tiny_run():
    return train_collapse(TINY)


def test_collapse_run_returns_the_long_history():
    records = []
    df = collapse_run(TINY, callback=records.append)
    assert list(df.columns) == ["epoch", "metric", "value", "train_acc", "test_acc"]
    assert set(df.metric) == set(METRICS)
    assert df.epoch.min() == 0 and df.epoch.max() == TINY.epochs
    assert df.train_acc.between(0, 1).all() and df.test_acc.between(0, 1).all()
    assert records[0]["progress"] == 0.0 and records[-1]["progress"] == 1.0
    assert {"epoch", "NC1", "equiangularity"} <= set(records[-1])


def test_collapse_callback_reports_every_epoch_and_can_cancel():
    records = []
    run = train_collapse(TINY, callback=records.append)
    assert [r["epoch"] for r in records] == list(range(TINY.epochs + 1))
    assert [r["progress"] for r in records] == pytest.approx([e / TINY.epochs for e in range(TINY.epochs + 1)])
    assert {r["epoch"] for r in records if "NC1" in r} == set(run.history.epoch)  # the metrics at the checkpoints

    def cancel(record):
        if record["epoch"] == 2:
            raise RuntimeError("stopped by the user")

    with pytest.raises(RuntimeError, match="stopped by the user"):
        train_collapse(TINY, callback=cancel)


def test_a_last_minibatch_of_one_is_skipped():
    # 200 training images in batches of 199 leave one image, which BatchNorm cannot normalise: that step is skipped.
    run = train_collapse(replace(TINY, batch_size=199, epochs=3, n_evals=2))
    assert run.history.epoch.max() == 3 and np.isfinite(run.history.value).all()


def test_a_diverging_collapse_run_names_lr():
    with pytest.raises(Diverged, match="Lower `lr`"):
        train_collapse(replace(TINY, lr=1e6, batchnorm=False, weight_decay=0.0, epochs=3))


def test_collapse_run_is_seeded(tiny_run):
    again = train_collapse(TINY)
    pd.testing.assert_frame_equal(again.history, tiny_run.history)


def test_terminal_epoch_is_the_first_at_full_train_accuracy(tiny_run):
    assert tiny_run.converged
    h = tiny_run.history
    at_onset = h[h.epoch == tiny_run.terminal_epoch]
    assert (at_onset.train_acc == 1.0).all()
    assert (h[h.epoch < tiny_run.terminal_epoch].train_acc < 1.0).all()
    assert tiny_run.terminal_epoch in tiny_run.means


def test_final_metrics_match_the_stored_features(tiny_run):
    last = tiny_run.history[tiny_run.history.epoch == TINY.epochs].set_index("metric").value
    m = collapse_metrics(tiny_run.features, tiny_run.labels, weights=tiny_run.weights, bias=tiny_run.bias)
    assert m.nc1 == pytest.approx(last["NC1"], rel=1e-4)
    assert m.equiangularity == pytest.approx(last["equiangularity"], rel=1e-4)
    with np.load(__import__("io").BytesIO(tiny_run.to_npz()), allow_pickle=False) as z:
        assert set(z.files) == {"features", "labels", "weights", "bias"}


def test_test_history_depth_and_snapshots(tiny_run):
    test = tiny_run.test_history
    assert list(test.columns) == list(tiny_run.history.columns)
    assert (test.epoch.unique() == tiny_run.history.epoch.unique()).all()
    assert set(test.metric) == set(METRICS)
    depth = tiny_run.depth.set_index("name")
    assert list(depth.index) == ["hidden 1", "features"] and depth.layer.tolist() == [1, 2]
    final = collapse_metrics(tiny_run.features, tiny_run.labels)
    assert depth.loc["features", "nc1"] == pytest.approx(final.nc1, rel=1e-4)
    assert depth.loc["features", "cdnv"] == pytest.approx(final.cdnv, rel=1e-4)
    assert set(tiny_run.snapshots) == {0, tiny_run.terminal_epoch}
    first = tiny_run.history[tiny_run.history.epoch == 0].set_index("metric").value
    assert collapse_metrics(tiny_run.snapshots[0], tiny_run.labels).nc1 == pytest.approx(first["NC1"], rel=1e-4)


def test_training_reduces_nc1_from_initialisation(tiny_run):
    nc1 = tiny_run.history[tiny_run.history.metric == "NC1"].set_index("epoch").value
    assert nc1.iloc[-1] < 0.5 * nc1.iloc[0]


def test_no_terminal_phase_warns_and_says_which_knob():
    with pytest.warns(UserWarning, match="Increase `epochs`"):
        run = train_collapse(CollapseConfig(widths=(8,), train_per_class=10, epochs=1, n_evals=2))
    assert not run.converged and run.terminal_epoch is None


def test_terminal_summary_reports_start_end_and_factor(tiny_run):
    s = terminal_summary(tiny_run.history, tiny_run.terminal_epoch).set_index("metric")
    assert (s.start_epoch == tiny_run.terminal_epoch).all() and (s.end_epoch == TINY.epochs).all()
    assert s.loc["NC1", "factor"] == pytest.approx(s.loc["NC1", "start"] / s.loc["NC1", "end"])
    with pytest.raises(ValueError, match="terminal_epoch"):
        terminal_summary(tiny_run.history, 10_000)


def test_geometry_snapshots_cover_init_onset_and_end(tiny_run):
    geo = geometry_snapshots(tiny_run, classes=(0, 1, 2, 3), per_class=5)
    assert isinstance(geo, GeometrySnapshots)
    assert geo.simplex.snapshot.nunique() == 3 and geo.clouds.snapshot.nunique() == 3
    assert {"x1", "x2", "x3"} <= set(geo.simplex.columns) and (geo.clouds.kind == "sample").all()
    assert len(geo.clouds) == 3 * 4 * 5
    assert len(geo.cosines) == 3 * 90
    assert geo.angles.ideal_angle.iloc[0] == pytest.approx(np.degrees(np.arccos(-1 / 3)))
    with pytest.raises(ValueError, match="3 or 4 distinct classes"):
        geometry_snapshots(tiny_run, classes=(0, 1))


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"epochs": 0}, "`epochs` must be >= 1"),
        ({"classes": (1,)}, "at least 2 distinct digits"),
        ({"lr": -1.0}, "`lr` must be > 0"),
        ({"train_per_class": 500}, "`train_per_class` must be <= 150"),
    ],
)
def test_bad_collapse_config(change, match):
    with pytest.raises(ValueError, match=match):
        train_collapse(CollapseConfig(**change))


def test_collapse_config_type_is_checked():
    with pytest.raises(TypeError, match="CollapseConfig"):
        collapse_run({"epochs": 3})


def test_unconstrained_features_reach_an_etf_quickly():
    df = unconstrained_features_run(UFMConfig(steps=250, n_evals=30))
    assert list(df.columns) == ["step", "metric", "value", "loss"]
    wide = df.pivot(index="step", columns="metric", values="value")
    assert wide.NC1.iloc[0] > 0.1  # random start
    assert (wide.NC1 < 1e-3).any() and wide.index[(wide.NC1 < 1e-3).to_numpy()].min() <= 200
    assert wide.equiangularity.iloc[-1] < 1e-2
    assert wide.NC3.iloc[-1] < 1e-3 and wide.NC4.iloc[-1] == 0.0


def test_smaller_weight_decay_collapses_more_slowly():
    sweep = ufm_sweep(UFMSweepConfig(base=UFMConfig(steps=400, n_evals=40), weight_decays=(5e-4, 5e-3)))
    hit = ufm_milestones(sweep).set_index("weight_decay")
    assert hit.loc[5e-3, "nc1_step"] < 200
    assert np.isnan(hit.loc[5e-4, "nc1_step"]) or hit.loc[5e-4, "nc1_step"] > 2 * hit.loc[5e-3, "nc1_step"]


def test_bad_ufm_config():
    with pytest.raises(ValueError, match="`dim` must be >= 9"):
        unconstrained_features_run(UFMConfig(dim=5))
    with pytest.raises(Diverged, match=r"diverged at step \d+ .*Lower `lr`"):
        unconstrained_features_run(UFMConfig(lr=1e4, steps=400))
    with pytest.raises(ValueError, match="at least one value"):
        ufm_sweep(UFMSweepConfig(weight_decays=()))
    with pytest.raises(ValueError, match="`weight_decays` must be >= 0"):
        ufm_sweep(UFMSweepConfig(weight_decays=(-1.0,)))
    with pytest.raises(TypeError, match="UFMSweepConfig"):
        ufm_sweep({"config": UFMConfig(), "weight_decays": (1e-3,)})
