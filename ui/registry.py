"""The page registry: one entry per topic page, in the order and sections of DESIGN.md.

``app.py`` builds the navigation from it, ``pages/home.py`` draws one card per entry, and the tests walk it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class PageInfo:
    """A topic page: its file, title, icon, section and one-line hook."""

    file: str  # path relative to the repository root
    title: str
    icon: str
    section: str
    hook: str

    @property
    def exists(self) -> bool:
        """Whether the page file is present in this checkout."""
        return (ROOT / self.file).is_file()

    @property
    def url_path(self) -> str:
        """The URL path Streamlit gives the page (its file stem)."""
        return Path(self.file).stem


HOME = PageInfo("pages/home.py", "Home", ":material/home:", "Start", "The landscape of the chapter.")

TOPICS: tuple[PageInfo, ...] = (
    PageInfo(
        "pages/optimal_transport.py",
        "Optimal transport",
        ":material/swap_horiz:",
        "Comparing distributions",
        "KL blows up and JS goes flat on disjoint supports; the Wasserstein distance keeps measuring.",
    ),
    PageInfo(
        "pages/sinkhorn.py",
        "Sinkhorn",
        ":material/blur_on:",
        "Comparing distributions",
        "Blur the plan a little and transport becomes fast, smooth and differentiable.",
    ),
    PageInfo(
        "pages/information_bottleneck.py",
        "Information bottleneck",
        ":material/filter_alt:",
        "Information and compression",
        "Do networks compress? The information plane, and how much of the story is the estimator.",
    ),
    PageInfo(
        "pages/mdl.py",
        "Minimum description length",
        ":material/compress:",
        "Information and compression",
        "The best model is the shortest total message: model bits plus data bits.",
    ),
    PageInfo(
        "pages/kolmogorov.py",
        "Algorithmic information",
        ":material/code:",
        "Information and compression",
        "Compressors bound K(x) from above; pi shows how loose they are, and why K can't be computed.",
    ),
    PageInfo(
        "pages/learnability.py",
        "Complexity of learning",
        ":material/school:",
        "Learnability",
        "How many samples, and how much compute: sparse parity gets costlier with n at a rate set by k.",
    ),
    PageInfo(
        "pages/feature_learning.py",
        "Feature learning",
        ":material/tune:",
        "Learnability",
        "Wide nets freeze under NTK scaling; muP keeps features moving and learning rates transferable.",
    ),
    PageInfo(
        "pages/lottery_ticket.py",
        "Lottery tickets",
        ":material/content_cut:",
        "Inside trained networks",
        "Prune 90% of a net, rewind the survivors, and it still trains as well as the dense one.",
    ),
    PageInfo(
        "pages/neural_collapse.py",
        "Neural collapse",
        ":material/change_history:",
        "Inside trained networks",
        "Train past zero error and class features collapse onto the corners of a simplex.",
    ),
    PageInfo(
        "pages/scaling_laws.py",
        "Scaling laws",
        ":material/trending_down:",
        "Scale and surprises",
        "Fit L(N, D), then spend a compute budget: Kaplan versus Chinchilla.",
    ),
    PageInfo(
        "pages/universality.py",
        "Universality",
        ":material/auto_awesome:",
        "Scale and surprises",
        "Double descent at p = n, grokking long after memorising, and emergence as a metric effect.",
    ),
    PageInfo(
        "pages/rest_stop.py",
        "Rest stop",
        ":material/hub:",
        "Rest stop",
        "The chapter's links, computed: grokking seen through collapse and description length, and one curve read "
        "as both a scaling law and double descent.",
    ),
)


def available_topics() -> list[PageInfo]:
    """The topic pages present in this checkout, in registry order."""
    return [p for p in TOPICS if p.exists]
