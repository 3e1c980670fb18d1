"""Copy of the information-bottleneck page that quotes a run's numbers (no streamlit here)."""

from __future__ import annotations

PRESETS = {
    "Custom": {},
    "Quick look: 3000 full-batch epochs, 30 bins": {
        "ib_epochs": 3000,
        "ib_lr": 1e-3,
        "ib_bins": 30,
        "ib_est": "adaptive",
    },
    "Long run: 8000 full-batch epochs (~2.5x slower)": {"ib_epochs": 8000, "ib_lr": 1e-3, "ib_bins": 30},
    "The fixed-bin artefact on ReLU": {"ib_est": "fixed", "ib_bins": 30, "ib_layer": 4},
}
BATCHES = {"full": "full batch", "512": "minibatches of 512", "256": "minibatches of 256"}  # URL value -> label
SETTING = (
    "12 binary inputs → 10-7-5-4-3 tanh or ReLU units → 2 outputs; full-batch Adam on 80 % of the 4096 patterns. "
    "Not Saxe et al.'s exact setting (Adam at 4e-4, minibatches of 256, 10,000 epochs): full batch trains in "
    "fewer epochs on a CPU, and minibatch noise weakens the tanh compression."
)


DRIFT = (
    "Shwartz-Ziv and Tishby saw two phases of SGD in each layer's gradient: first a *drift*, where the mean gradient "
    "over an epoch's minibatches dominates their spread (high signal-to-noise), then a *diffusion*, where the "
    "minibatch noise dominates; they tied the compression to the diffusion. Saxe et al. trained the same nets with "
    "full-batch gradient descent, which has no minibatch noise at all, and saw tanh compress anyway. Here the run of "
    "the first tab is repeated on minibatches of 512 rows (same nets and seeds; at most 1000 epochs, which with 7 "
    "updates per epoch still train well past fitting), and the gradient statistics come from that run. Choose "
    "minibatches in the sidebar to make the page's own run the minibatch run."
)


def band_caption(n_seeds: int, seed: int) -> str:
    """What the dots and bars of the plane are when several seeds train."""
    if n_seeds == 1:
        return f" One seed ({seed}); choose more seeds in the sidebar for a mean with a band."
    return f" Dots: mean over seeds {seed}-{seed + n_seeds - 1}; thin bars: min to max over the seeds."


def seeds_note(n_seeds: int) -> str:
    """How many seeds a quoted number averages."""
    return "" if n_seeds == 1 else f", mean of {n_seeds} seeds"


def spread_note(band, *, layer: int) -> str:
    """The min..max over seeds of one layer's final I(X;T) per activation (``band``: one estimator setting)."""
    last = band[(band["layer"] == layer) & (band["epoch"] == band["epoch"].max())]
    if last.empty or (last["n_seeds"] < 2).all():
        return ""
    parts = [f"{r['activation']} {r['i_tx_lo']:.1f}-{r['i_tx_hi']:.1f}" for r in last.to_dict("records")]
    return f" Across seeds, layer {layer} ends at I(X;T) = " + ", ".join(parts) + " bits."


def dead_units(rep, seed: int) -> str:
    """The ReLU net's dead units at the first and last logged epoch."""
    last = seed + rep.n_seeds - 1
    who = f"Seed {seed}: the ReLU net has" if rep.n_seeds == 1 else f"Seeds {seed}-{last}: the ReLU nets have"
    return (
        f"{who} {rep.dead_first} dead hidden units (zero on all 4096 patterns) at the first logged epoch and "
        f"{rep.dead_last} at the end. The narrow ReLU layers lose units for good on many seeds; the default seed was "
        "picked because its dead units revive, so ReLU is not handicapped."
    )


def drift_notice(dd, sgd_summary, full_summary, *, est: str, n_bins: int, layer: int, run) -> str:
    """The drift-to-diffusion epoch and SNRs of one layer, and its compression with and without minibatches."""
    parts = []
    for r in dd[dd["layer"] == layer].to_dict("records"):
        when = (f"the noise overtakes the mean from epoch {r['diffusion_epoch']:.0f}" if r["diffusion_epoch"] == r[
            "diffusion_epoch"] else "the mean stays above the noise")  # fmt: skip
        parts.append(f"{r['activation']}: SNR {r['snr_first']:.2g} at the first epoch, {r['snr_last']:.2g} at the "
                     f"end; {when}")  # fmt: skip
    text = f"Layer {layer}, {BATCHES[str(run.batch)]}, {run.epochs} epochs: " + "; ".join(parts) + "."

    def after_fit(summary):
        s = summary[(summary["layer"] == layer) & (summary["estimator"] == est)]
        s = s[(s["n_bins"] == n_bins).fillna(False) | (est == "kde")]
        return dict(zip(s["activation"], s["after_fit"]))

    sgd = after_fit(sgd_summary)
    full = after_fit(full_summary) if full_summary is not None else {}
    if full:
        text += (
            " Fall of I(X;T) after fitting, minibatch vs full batch: "
            + "; ".join(f"{a} {sgd[a]:+.1f} vs {full[a]:+.1f} bits" for a in sgd if a in full)
            + ". If tanh compresses in both, the minibatch noise is not what compresses it."
        )
    return text


def story(a: str, r: dict) -> str:
    """One activation's path through one layer's I(X;T): peak, at fitting, at the end."""
    return (
        f"{a} peaks at {r['peak_i_tx']:.1f} bits (epoch {r['peak_epoch']}), is at {r['fit_i_tx']:.1f} when it "
        f"fits (epoch {r['fit_epoch']}, train accuracy {r['fit_acc']:.0%}) and ends at {r['final_i_tx']:.1f} "
        f"(train/test accuracy {r['train_acc']:.0%}/{r['test_acc']:.0%})"
    )


def why_estimator(rep: dict, layer: int) -> str:
    """Why the estimate, not the network, decides the compression: with the run's exact float32 I(X;T)."""
    parts = [
        f"{a} {e['first']:.2f} bits at the first logged epoch, {e['last']:.2f} at the end ({e['distinct_last']:,} "
        "distinct patterns of 4096)"
        for a, e in rep.exact.items()
    ]
    return (
        "**Why the estimator matters.** In exact arithmetic a tanh or ReLU net maps the 4096 distinct inputs to "
        "distinct activations, so the true I(X;T) of a continuous layer would be 12 bits at every epoch. In float32 "
        "saturated units round different inputs to the same value and merge them: taken at face value, layer "
        f"{layer}'s activations in this run carry " + "; ".join(parts) + ". Bins or added noise measure something "
        "else: how *clustered* the activations are at a chosen resolution. Saturated tanh units pile up at ±1, and "
        "fixed [-1, 1] bins lump growing ReLU activations into the top bin. Both read as compression."
    )


def after_fit_notice(rep: dict, layer: int, label) -> str:
    """The fall of I(X;T) after fitting per estimator setting."""
    parts = [
        f"{label(r['estimator'], r['n_bins'])}: tanh {r.get('tanh', float('nan')):+.1f}, "
        f"ReLU {r.get('relu', float('nan')):+.1f}" + (f", linear {r['linear']:+.1f}" if "linear" in r else "")
        for r in rep.after_fit.to_dict("records")
    ]
    return (
        f"Fall of I(X;T) in layer {layer} after fitting, in bits: " + "; ".join(parts) + ". A compression phase whose "
        "size, and even sign, follow the bins and the estimator is largely a property of the estimate."
    )


def gaussian_notice(crit, gauss, g_xy: float) -> str:
    """The Gaussian IB's critical betas and where the curve ends."""
    return (
        "Each critical β adds a direction of X to the representation: "
        + ", ".join(f"β{i + 1} = {b:.3g}" for i, b in enumerate(crit))
        + f"; the slope of the curve is 1/β. At β = {gauss.beta.iloc[-1]:.0f}, I(T;Y) = {gauss.i_ty.iloc[-1]:.3f} of "
        f"I(X;Y) = {g_xy:.3f} bits, bought with I(T;X) = {gauss.i_tx.iloc[-1]:.1f} bits."
    )


REFERENCES = [
    "N. Tishby, F. Pereira, W. Bialek (1999). The information bottleneck method. Allerton Conference.",
    "G. Chechik, A. Globerson, N. Tishby, Y. Weiss (2005). Information bottleneck for Gaussian variables. JMLR 6.",
    "R. Shwartz-Ziv, N. Tishby (2017). Opening the black box of deep neural networks via information. "
    "arXiv:1703.00810.",
    "A. Saxe, Y. Bansal, J. Dapello, M. Advani, A. Kolchinsky, B. Tracey, D. Cox (2018). On the information "
    "bottleneck theory of deep learning. ICLR.",
    "R. Shwartz-Ziv (2017). IDNNs: the information plane code of Shwartz-Ziv & Tishby, averaging runs. "
    "github.com/ravidziv/IDNNs.",
    "A. Kolchinsky, B. Tracey (2017). Estimating mixture entropy with pairwise distances. Entropy 19(7).",
]
