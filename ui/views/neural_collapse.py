"""Copy and small text helpers of the neural-collapse page (the numbers come from ``core``)."""

from __future__ import annotations

import pandas as pd

INTRO = (
    "Keep training a classifier after it gets every training example right, with weight decay, and its last layer "
    "tidies itself up: the features of each class shrink onto their class mean (NC1), the class means spread out "
    "as far apart as possible, equal in length and at equal angles (a *simplex equiangular tight frame*, NC2), the "
    "classifier rows point along the means (NC3), and the network ends up classifying by the nearest class mean (NC4)."
)
FORMULA = (
    r"\mathrm{NC1} = \tfrac1C \operatorname{Tr}\!\big(\Sigma_W \Sigma_B^{+}\big), \qquad "
    r"\mathrm{CDNV}_{cc'} = \frac{\sigma_c^2 + \sigma_{c'}^2}{2\,\lVert \mu_c - \mu_{c'} \rVert^2}, \qquad "
    r"\cos(\mu_c - \mu_G,\ \mu_{c'} - \mu_G) \;\to\; -\tfrac{1}{C-1}"
)
CONVENTIONS = (
    "Conventions: Σ_W averages over all N samples, Σ_B over the C classes; equinorm = std / mean of the centred "
    "class-mean norms with the *population* std (divide by C). Papyan et al.'s published code uses `torch.std`, "
    "which divides by C − 1: its equinorm is √(C/(C−1)) times ours (5.4% larger at C = 10). CDNV (Galanti et al. "
    "2022) is averaged over all class pairs, σ_c² being the mean squared distance of class c's features to its mean."
)


def simplex_text(n_classes: int) -> str:
    """How to read the Simplex tab, for C classes."""
    return SIMPLEX.format(C=n_classes, ideal=-1 / (n_classes - 1))


SIMPLEX = (
    "**Read the heatmap first.** Every pair of the {C} centred class means should meet at the same cosine, "
    "−1/(C−1) = {ideal:.3f} (white); red or blue cells are pairs that are too close or too far apart. The simplex view "
    "below is only a picture: any 3 centred points form *some* triangle (and 4 a tetrahedron), so even random "
    "features at initialisation give one. What the view adds are the samples: small dots, one cloud per class, "
    "drawn in the same frame; NC1 is these clouds shrinking onto their means (only the spread within the plane of "
    "the means shows)."
)
UFM = (
    "Drop the network and make every feature vector a free parameter: minimise cross-entropy plus weight decay λ "
    "on the features H and the classifier W (C = 10 classes, 120 points each). Every minimiser is an exact simplex "
    "ETF (Zhu et al. 2021), so this model collapses all the way; λ sets the pace. In high dimension p random "
    "features already look equiangular, so start near p = C."
)
UPLOAD = (
    "Upload penultimate features from your own network as an NPZ file: `features` (N, p), integer `labels` (N,) in "
    "0..C-1, and optionally the last layer's `weights` (C, p) and `bias` (C,) for NC3 and NC4, e.g. "
    "`np.savez('f.npz', features=H, labels=y, weights=W)`. The file is never unpickled. The Training tab offers its "
    "run's features in this format."
)
REFERENCES = [
    "V. Papyan, X. Y. Han, D. L. Donoho, *Prevalence of neural collapse during the terminal phase of deep learning "
    "training*, PNAS 117 (2020).",
    "D. G. Mixon, H. Parshall, J. Pi, *Neural collapse with unconstrained features*, arXiv:2011.11619 (2020).",
    "Z. Zhu et al., *A geometric analysis of neural collapse with unconstrained features*, NeurIPS 2021.",
    "T. Galanti, A. György, M. Hutter, *On the role of neural collapse in transfer learning*, ICLR 2022 (CDNV).",
    "L. Hui, M. Belkin, P. Nakkiran, *Limitations of neural collapse for understanding generalization in deep "
    "learning*, arXiv:2202.08384 (2022) (collapse on test data).",
]


def training_notice(summary: pd.DataFrame, run) -> str:
    """The 'what to notice' line of the Training tab, from the run's terminal summary and histories."""
    s = summary.set_index("metric").to_dict("index")
    low = min(s[m]["end"] for m in ("NC1", "equiangularity", "NC3"))
    fell = {m: f"{s[m]['start']:.2g} → {s[m]['end']:.2g} (÷{s[m]['factor']:.3g})" for m in s}
    honest = f" Within this budget the collapse is large but partial: the smallest of NC1-NC3 ends at {low:.1g}."
    test_end = run.test_history[run.test_history.epoch == run.test_history.epoch.max()].set_index("metric").value
    onset = "the first epoch at 100% train accuracy" if run.converged else "initialisation"
    return (
        f"From {onset} (epoch {s['NC1']['start_epoch']}) to epoch {s['NC1']['end_epoch']}: NC1 {fell['NC1']}, "
        f"CDNV {fell['CDNV']}, equiangularity {fell['equiangularity']}, equinorm {fell['equinorm']}, NC3 "
        f"{fell['NC3']}; NC4 ends at {s['NC4']['end']:.1%}, test accuracy at {run.history.test_acc.iloc[-1]:.1%}. "
        f"On the test images NC1 ends at {test_end['NC1']:.2g} and CDNV at {test_end['CDNV']:.2g} (train "
        f"{s['NC1']['end']:.2g} and {s['CDNV']['end']:.2g}): collapse is "
        f"{'weaker' if test_end['NC1'] > s['NC1']['end'] else 'no weaker'} on images the network has not seen."
        f"{honest * run.converged}"
    )


def depth_notice(depth: pd.DataFrame) -> str:
    """NC1 per layer at the end of training."""
    parts = ", ".join(f"{r.name} {r.nc1:.2g}" for r in depth.itertuples())
    shrinks = bool((depth.sort_values("layer")["nc1"].diff().dropna() < 0).all())
    trend = "shrinks at every layer" if shrinks else "does not shrink monotonically"
    return f"NC1 at the end of training, layer by layer: {parts}. Within-class variability {trend} with depth."
