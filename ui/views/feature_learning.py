"""Copy and small helpers of the feature-learning page (no numerics: the numbers come from ``core``)."""

from __future__ import annotations

import math

import pandas as pd

NAMES = {"sp": "SP", "ntk": "NTK", "mup": "muP"}

INTRO = (
    "Make a network wider and train it the usual way: under NTK scaling each weight moves less and less, the "
    "network becomes its own linearisation and learns with a fixed kernel (*lazy*). The maximal-update "
    "parametrization (muP, Tensor Programs V) rescales init, multipliers and learning rates per layer so that "
    "features keep moving by order one at every width (*rich*), and the best learning rate stops depending on width."
)
FORMULA = (
    r"f_{\mathrm{NTK}}(x)=\tfrac{1}{\sqrt n}\sum_i v_i\,\phi\big(\tfrac{w_i\cdot x}{\sqrt d}\big),\;"
    r"f_{\mu P}(x)=\tfrac{1}{n}\sum_i v_i\,\phi(w_i\cdot x),\;"
    r"\tfrac{\lVert W_1-W_1(0)\rVert}{\lVert W_1(0)\rVert}\sim"
    r"\begin{cases}n^{-1/2}&\text{NTK}\\ \Theta(1)&\mu P\end{cases}"
)

# Tensor Programs V, Table 8 (muP) with SP and NTK beside it; the LR rows checked against microsoft/mup's
# MuSGD (vector-like tensors x width, hidden x 1) and MuAdam (hidden / width, the rest x 1).
TABLE_8 = """
| | input weights & biases (fan_in d) | hidden weights (n × n) | output weights (fan_in n) |
|---|---|---|---|
| **SP**: init var, multiplier, LR factor | 1/d, 1, 1 | 1/n, 1, 1 | 1/n, 1, 1 |
| **NTK**: init var, multiplier, LR factor | 1, 1/√d, 1 | 1, 1/√n, 1 | 1, 1/√n, 1 |
| **muP**: init var, multiplier | 1/d, 1 | 1/n, 1 | 1, 1/n |
| **muP**: LR factor with **SGD** | n (fan_out) | 1 | n (fan_in) |
| **muP**: LR factor with **Adam** | 1 | 1/n (1/fan_in) | 1 |

The two muP LR rows are alternatives: SGD takes one row, Adam the other. Biases are a constant-1 input coordinate;
the factors are taken literally (no base width). Lazy vs rich and LR transfer: x ~ N(0, I₁₀) and a constant 1,
target tanh(2z₁) + z₁z₂ on random directions, 256 points, full batch (GD: NTK lr 1, muP lr 0.5); kernel = empirical
NTK on 32 probe points, weighted by the layer LR factors.
"""

THEORY = (
    "What the theory says: in the lazy (NTK) limit every weight moves by O(n^-1/2), so the input-to-hidden change "
    "falls like n^-1/2 with any activation. The kernel itself moves by O(1/n) for smooth activations (Dyer & "
    "Gur-Ari 2020, Huang & Yau 2020; Jacot et al.'s theorem assumes a twice-differentiable φ, and Lee et al. 2019 "
    "prove the weaker O(n^-1/2) bound for smooth φ). ReLU is "
    "not smooth: units whose input crosses zero switch on or off, and its measured slope approaches −1 only slowly. "
    "Switch the activation to tanh to see the smooth case."
)


def slope_text(slopes: pd.DataFrame, name: str, measure: str) -> str:
    """'-0.81 ± 0.06 over 3 seeds' (no ± with one seed)."""
    row = slopes.set_index(["parametrization", "measure"]).loc[(name, measure)]
    spread = f" ± {row.slope_sd:.2f}" if math.isfinite(row.slope_sd) else ""
    return f"{row.slope:.2f}{spread}"


def lazy_notice(bands: pd.DataFrame, slopes: pd.DataFrame, activation: str) -> str:
    """The 'what to notice' line of the lazy-vs-rich part, from the run's bands and slopes."""
    b = bands.set_index(["parametrization", "measure", "width"])["value"]
    widths = sorted(bands["width"].unique())
    lo, hi = widths[0], widths[-1]
    n = int(bands["n_seeds"].max())
    w, k = "rel_weight_change", "kernel_change"
    ntk_k = "theory −1 for smooth φ; ReLU approaches it slowly" if activation == "relu" else "theory −1"
    return (
        f"Geometric means over {n} seed(s). Under NTK the input-to-hidden weights moved by {b['ntk', w, lo]:.3f} at "
        f"width {lo} and {b['ntk', w, hi]:.3f} at width {hi} (fitted slope {slope_text(slopes, 'ntk', w)}, theory "
        f"−0.5); the tangent kernel by {b['ntk', k, lo]:.3f} → {b['ntk', k, hi]:.4f} (slope "
        f"{slope_text(slopes, 'ntk', k)}, {ntk_k}). Under muP: weights {b['mup', w, lo]:.2f} → {b['mup', w, hi]:.2f} "
        f"(slope {slope_text(slopes, 'mup', w)}), kernel {b['mup', k, lo]:.1f} → {b['mup', k, hi]:.1f}: the "
        "features keep learning at every width."
    )


def best_lrs(res: pd.DataFrame) -> str:
    """'2^-4 (width 128) → 2^-6 (width 512)': each width's best learning rate."""
    return " → ".join(f"2^{round(math.log2(r.lr))} (width {r.width})" for r in res[res["best"]].itertuples())


REFERENCES = [
    "Jacot, Gabriel, Hongler (2018). Neural Tangent Kernel: convergence and generalization. NeurIPS.",
    "Lee et al. (2019). Wide neural networks of any depth evolve as linear models under gradient descent. NeurIPS.",
    "Chizat, Oyallon, Bach (2019). On lazy training in differentiable programming. NeurIPS.",
    "Dyer & Gur-Ari (2020). Asymptotics of wide networks from Feynman diagrams. ICLR.",
    "Huang & Yau (2020). Dynamics of deep neural networks and neural tangent hierarchy. ICML.",
    "Yang & Hu (2021). Tensor Programs IV: Feature learning in infinite-width neural networks. ICML.",
    "Yang et al. (2022). Tensor Programs V: Tuning large neural networks via zero-shot hyperparameter transfer "
    "(Table 8, coord check, muTransfer); github.com/microsoft/mup.",
]
