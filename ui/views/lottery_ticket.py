"""Copy of the lottery-ticket page: the explanations and the "what to notice" sentences built from a run's numbers.

No streamlit here: functions return Markdown strings that the page shows, so the page file stays a thin view.
"""

from __future__ import annotations

import pandas as pd

from core.lottery_ticket.pruning import TicketSummary
from core.lottery_ticket.stability import InstabilityConfig, InstabilitySummary
from core.lottery_ticket.supermask import PaiSummary, SupermaskSummary

pct = "{:.1%}".format

INTRO = (
    "A dense network hides a small subnetwork that, trained from the *same* starting weights, learns as well as the "
    "whole net. Iterative magnitude pruning finds it: train, cut the smallest weights of every layer, rewind the "
    "survivors to their initial values, repeat (here a 64-300-100-10 net on scikit-learn's 8x8 digits). The mask "
    "alone is not the ticket: with fresh random weights, or a random mask of the same size, accuracy falls off."
)
FORMULA = (
    r"m^{(r)}_\ell = \mathrm{top}_{(1-p_\ell)^r}\big|\theta^{(r-1)}_{T,\ell}\big|,\qquad "
    r"\theta^{(r)}_{\mathrm{start}} = m^{(r)} \odot \theta_k"
)
IMP = (
    "Each round prunes the trained **winning ticket** and trains three nets with the new sparsity: the ticket "
    "rewound to its starting weights, **the same mask with fresh random weights** (default init, as Frankle & "
    "Carbin), and **a random mask** with the same count per layer (fresh weights scaled by 1/√density, a fairer "
    "baseline). All nets of a round train side by side as one batched model; the chart grows as rounds finish."
)
PAI = (
    "Score every weight of the untrained net once, keep the top fraction over all layers and train: **SNIP** keeps "
    "large |gradient x weight|, **GraSP** keeps the weights whose removal would shrink the gradient norm most "
    "(score w ⊙ Hg; Wang et al. remove the top of −w ⊙ Hg), **SynFlow** needs no data: it scores |w ⊙ ∂R/∂w| "
    "with R = 1ᵀ|W₃||W₂||W₁|1 and re-scores over 100 rounds of pruning (exponential schedule), **magnitude** keeps "
    "large |w|, **random** keeps the same fraction in every layer. Every sparse net starts at the dense net's signal "
    "scale (survivors scaled by 1/√density of their layer)."
)
COLLAPSE = (
    "**Layer collapse.** A global ranking can empty one layer before the others; after that no signal passes and "
    "the net is stuck at chance, whatever the other layers keep. Below, the weights each method leaves in every "
    "layer (first seed, before training). Tanaka et al. (2020) built SynFlow so that it never cuts a layer off "
    "before it has to."
)
STRONG = (
    "Edge-popup freezes random weights of ±√(2/fan-in) and learns only a score per edge; the forward pass uses the "
    "top-scoring edges of every layer. No weight ever changes, yet a wide enough random net contains a subnetwork "
    "that classifies digits. Baseline: the same nets with trained weights, same optimiser and epochs."
)
INSTABILITY = (
    "Why does rewinding work? Train the net for k steps, then train **two copies** from that point with different "
    "data orders, and walk the straight line between the two results. If the test error stays flat along it (no "
    "**barrier** = highest error on the path minus the mean of the end points), the net was *stable* at step k: "
    "the rest of training was fixed up to SGD noise. Frankle et al. (2020) found that IMP subnetworks reach the "
    "dense accuracy exactly when they are stable; small nets (LeNet on MNIST) from initialisation, large ones only "
    "after rewinding a little. Both panels use the same net: dense, and its sparse subnetwork (the trained dense "
    "net's magnitude mask applied at step k)."
)
REFERENCES = [
    "J. Frankle, M. Carbin (2019). The lottery ticket hypothesis: finding sparse, trainable networks. *ICLR*.",
    "J. Frankle et al. (2020). Linear mode connectivity and the lottery ticket hypothesis. *ICML* (rewinding).",
    "N. Lee et al. (2019). SNIP: single-shot network pruning based on connection sensitivity. *ICLR*.",
    "C. Wang et al. (2020). Picking winning tickets before training by preserving gradient flow. *ICLR*.",
    "H. Tanaka, D. Kunin, D. Yamins, S. Ganguli (2020). Pruning neural networks without any data by iteratively "
    "conserving synaptic flow. *NeurIPS* (SynFlow).",
    "J. Frankle et al. (2021). Pruning neural networks at initialization: why are we missing the mark? *ICLR*.",
    "H. Zhou et al. (2019). Deconstructing lottery tickets: zeros, signs, and the supermask. *NeurIPS*.",
    "V. Ramanujan et al. (2020). What's hidden in a randomly weighted neural network? *CVPR* (edge-popup).",
]


def schedule(rate: int, rounds: int, end: float, fc_rounds: int) -> str:
    """How this run's pruning schedule compares with Frankle & Carbin's 20% (hidden) / 10% (output) per round."""
    if rate == 20:
        return (
            f"This is Frankle & Carbin's schedule: 20% of every hidden layer and 10% of the output layer per round; "
            f"{rounds} rounds leave {pct(end)} of the weights."
        )
    return (
        f"Schedule: {rate}% of every hidden layer and {rate / 2:g}% of the output layer per round, so {rounds} "
        f"rounds leave {pct(end)} of the weights. Frankle & Carbin prune 20% (10%) per round and would need "
        f"{fc_rounds} rounds to get there; pruning more per round is faster but can find slightly weaker tickets "
        "(the 'Frankle & Carbin 2019' preset runs their schedule)."
    )


def ticket_notice(s: TicketSummary) -> str:
    """The winning-ticket "what to notice" sentence."""
    last = s.last_acc
    fall = (
        f"From round {s.falloff_round} ({pct(s.falloff_fraction)} of the weights left) on, the re-initialised mask "
        f"stays at least 1 point behind the ticket ({pct(s.reinit_at_falloff)} vs {pct(s.rewind_at_falloff)})."
        if s.falloff_round is not None
        else "The re-initialised mask never stays 1 point behind the ticket here: prune further, or see how longer "
        "training lets fresh weights catch up."
    )
    return (
        f"Dense net: {pct(s.dense_acc)}. {fall} The ticket stays within 1 point of the dense net down to "
        f"{pct(s.holds_fraction)} of the weights. At {pct(s.last_fraction)}: ticket {pct(last['rewind'])}, "
        f"re-init {pct(last['reinit'])}, random mask {pct(last['random_prune'])} (chance is 10%)."
    )


def caveat(epochs: int) -> str:
    """Why part of the ticket's lead over re-initialisation is training speed."""
    return (
        "**Caveat.** In a short budget much of the ticket's lead over re-initialisation is training *speed*: sparse "
        f"nets with fresh weights learn more slowly. This run used {epochs} epochs per training; the "
        "'3x the epochs' preset shows how much of the gap remains with longer training."
    )


def pai_notice(s: PaiSummary) -> str:
    """The pruning-at-init "what to notice" sentence."""
    at = ", ".join(f"{m} {pct(a)}" for m, a in s.at_sparsest.items())
    collapsed = "".join(f" **{m}** empties a whole layer at {pct(k)} kept or fewer." for m, k in s.collapsed.items())
    return (
        f"Keeping {pct(s.sparsest)} of the weights: {at} (dense {pct(s.dense_acc)}).{collapsed} The winning tickets "
        "of the first part are found by training; these masks are not."
    )


def collapse_notice(df: pd.DataFrame) -> str:
    """Which methods cut a layer off, and at which kept fraction (from a ``layer_densities`` table)."""
    empty = df[df["kept"] == 0].groupby("method")["keep_fraction"].max()
    intact = sorted(set(df["method"]) - set(empty.index))
    cut = "; ".join(f"**{m}** empties a layer at {pct(k)} kept" for m, k in empty.items())
    kept = ", ".join(f"**{m}**" for m in intact)
    smallest = pct(df["keep_fraction"].min())
    return (cut + ". " if cut else "") + (
        f"{kept} leave weights in every layer down to {smallest} kept." if kept else "Every method cuts a layer off."
    )


def instability_notice(s: InstabilitySummary, config: InstabilityConfig) -> str:
    """The instability "what to notice" sentence: barriers at the first and last rewind step, and stability."""
    steps_per_epoch = -(-config.n_train // config.batch_size)
    b = s.barriers.set_index(["variant", "rewind_step"])
    first, last = int(s.barriers["rewind_step"].min()), int(s.barriers["rewind_step"].max())
    parts = []
    for variant, name in (
        ("dense", "Dense net"),
        ("sparse", f"Subnetwork with {pct(s.sparse_fraction)} of the weights"),
    ):
        if (variant, first) not in b.index:
            continue
        lo, hi = b.loc[(variant, first)], b.loc[(variant, last)]
        epochs = last / steps_per_epoch
        since = s.stable_from.get(variant)
        stable = (
            f"stable (barrier ≤ {s.tol:.0%}) from step {since} on"
            if since is not None
            else f"never below a {s.tol:.0%} barrier here"
        )
        parts.append(
            f"{name}: barrier {pct(lo['barrier'])} from step {first}, {pct(hi['barrier'])} from step {last} "
            f"({epochs:g} epoch{'s' * (epochs != 1)}); the copies reach {pct(lo['end_acc'])} and {pct(hi['end_acc'])}; "
            f"{stable}."
        )
    return " ".join(parts) + (
        " Where the subnetwork is stable from step 0, rewinding to the initialisation is enough, as in the first "
        "part; where it needs a later step, that is the step to rewind to."
    )


def supermask_notice(s: SupermaskSummary) -> str:
    """The strong-ticket "what to notice" sentence."""
    acc, wide, narrow, match = s.acc, s.widest, s.narrowest, s.match_width
    lines = [
        f"At width {wide} the supermask reaches {pct(acc['supermask'][wide])} with every weight frozen (trained "
        f"weights: {pct(acc['trained'][wide])}).",
        f"At width {narrow}: {pct(acc['supermask'][narrow])} vs {pct(acc['trained'][narrow])}." * (narrow < wide),
        f"From width {match} on it stays within 2 points of training: wider random nets hide better subnetworks."
        if match is not None
        else "It never comes within 2 points of training here; add wider nets.",
    ]
    return " ".join(line for line in lines if line)
