"""AppTest for pages/information_bottleneck.py at tiny settings (30 training epochs)."""

from tests.apptest_helpers import assert_clean, open_page, widget

TINY = {"ib_epochs": "30", "ib_seed": "1", "ib_bins": "10", "ib_est": "KDE", "ib_layer": "4", "ib_clusters": "6"}


def charts(at):
    return at.get("vega_lite_chart")


def test_page_renders_at_a_tiny_deep_link_and_the_link_sets_the_controls():
    at = open_page("information_bottleneck", TINY, timeout=240)
    assert_clean(at)
    assert len(charts(at)) >= 3  # plane, estimators by epoch, after-fit bars (the IB curves' tab is closed)
    assert widget(at, "ib_epochs").value == 30
    assert widget(at, "ib_seed").value == 1
    assert widget(at, "ib_bins").value == 10
    assert widget(at, "ib_est").value == "kde"
    assert widget(at, "ib_layer").value == 4
    assert widget(at, "ib_clusters").value == 6
    notices = " ".join(i.value for i in at.info)
    assert "Layer 4" in notices and "critical β" not in notices  # the closed tab computes nothing
    why = " ".join(m.value for m in at.markdown if "Why the estimator matters" in m.value)
    assert "distinct patterns of 4096" in why and "12 bits at every epoch" not in why.replace("would be 12", "")


def test_switching_the_estimator_reruns_cleanly_without_retraining():
    at = open_page("information_bottleneck", {**TINY, "ib_tab": "IB curve over β"}, timeout=240)
    widget(at, "ib_est").set_value("fixed").run()
    assert_clean(at)
    assert not at.get("progress")  # the finished run came from the cache
    assert "bins on [-1, 1]" in " ".join(i.value for i in at.info)
    widget(at, "ib_noise").set_value(0.2).run()
    assert_clean(at)
    assert len(charts(at)) >= 5


def test_a_linear_network_and_the_kde_noise_variance_are_controls():
    at = open_page("information_bottleneck", {**TINY, "ib_linear": "true", "ib_kde_var": "1.0"}, timeout=240)
    assert_clean(at)
    assert widget(at, "ib_linear").value is True and widget(at, "ib_kde_var").value == 1.0
    notices = " ".join(i.value for i in at.info)
    assert "linear" in notices


def test_the_drift_and_diffusion_tab_trains_the_minibatch_twin():
    at = open_page("information_bottleneck", {**TINY, "ib_tab": "Drift and diffusion"}, timeout=240)
    assert_clean(at)
    assert widget(at, "ib_batch").value == "full"
    notices = " ".join(i.value for i in at.info)
    assert "minibatches of 512" in notices and "SNR" in notices
    assert "minibatch vs full batch" in notices  # the full-batch run of the first tab is the control
    captions = " ".join(c.value for c in at.caption)
    assert "mean over seeds 1-3" in captions  # the twin trains 3 seeds, so its plane shows a band by default
    for name in ("download_gradient_snr", "download_info_plane_minibatch"):  # the CSVs behind the new charts
        assert widget(at, name) is not None


def test_several_seeds_on_minibatches_give_a_band_and_reuse_the_run():
    at = open_page(
        "information_bottleneck",
        {**TINY, "ib_seeds": "2", "ib_batch": "512", "ib_est": "adaptive", "ib_tab": "Drift and diffusion"},
        timeout=240,
    )
    assert_clean(at)
    assert widget(at, "ib_seeds").value == 2 and widget(at, "ib_batch").value == "512"
    notices = " ".join(i.value for i in at.info)
    assert "mean of 2 seeds" in notices and "SNR" in notices and "Across seeds, layer 4 ends at" in notices
    assert "minibatch vs full batch" not in notices  # the page's own run is the minibatch run
    captions = " ".join(c.value for c in at.caption)
    assert "min to max over the seeds" in captions


def test_the_ib_curve_tab_opened_by_its_link_draws_both_curves():
    at = open_page("information_bottleneck", {**TINY, "ib_tab": "IB curve over β"}, timeout=240)
    assert_clean(at)
    shown = [c.spec for c in charts(at)]
    assert len(shown) >= 5  # plane, estimators by epoch, after-fit bars, IB curve, Gaussian IB
    notices = " ".join(i.value for i in at.info)
    assert "critical β" in notices and "clusters keep" in notices and "6 clusters" in notices
