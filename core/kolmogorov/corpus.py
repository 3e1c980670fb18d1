"""A small real corpus for the compression distance: texts this project writes or generates, nothing downloaded.

Four kinds of text, three of each: Python code (this lab's own modules with comments and docstrings removed),
English prose (the README, the docstrings of a core package, the page's own essay), numbers (the digits of pi, the
primes, a seeded table of measurements) and DNA-like strings (three draws from one order-2 Markov chain over ACGT).
The normalised compression distance knows nothing about these kinds; if average-linkage clustering of the NCD matrix
recovers them, the compressor has found what the texts share. Files are read from the repository at run time; a
missing file is left out and named, never an error.

Reference: R. Cilibrasi, P. Vitányi (2005), Clustering by compression, IEEE Trans. Inf. Theory 51(4).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.cluster.hierarchy import fcluster
from sklearn.metrics import adjusted_rand_score

from core._validation import check_int
from core.kolmogorov.compression import PROSE, Dendrogram, pi_digits

ROOT = Path(__file__).resolve().parents[2]  # the repository
KINDS = ("Python code", "English prose", "numbers", "DNA-like")
CODE_FILES = ("core/sinkhorn/solver.py", "core/learnability/pac.py", "core/scaling_laws/laws.py")
DOC_FILES = ("core/optimal_transport/distances.py", "core/optimal_transport/uses.py")  # docstrings: one text
README = "README.md"
_CHAIN_SEED = 2005  # the Markov chain's transition table is fixed (one "species"); ``seed`` only changes the draws


@dataclass(frozen=True)
class Corpus:
    """Named texts with their kind; ``missing`` names the repository files that could not be read."""

    texts: pd.DataFrame  # name, kind, origin, data (bytes), length
    missing: tuple[str, ...]

    def items(self) -> dict[str, bytes]:
        """The texts as a name -> bytes mapping, for :func:`core.kolmogorov.compression.ncd_matrix`."""
        return dict(zip(self.texts["name"], self.texts["data"]))


def _read(root: Path, rel: str) -> str | None:
    try:
        return (root / rel).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _has_docstring(node: ast.AST) -> bool:
    body = getattr(node, "body", None)
    first = body[0] if body else None
    return isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str)


def _documented(tree: ast.Module) -> list[ast.AST]:
    """The module, classes and functions that open with a docstring."""
    nodes = [tree, *(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef))]
    return [n for n in nodes if _has_docstring(n)]


def python_code(source: str) -> str | None:
    """The code of a Python module without its imports, comments and docstrings (``ast.unparse``).

    None if the source does not parse or nothing is left.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    for node in _documented(tree):
        node.body = node.body[1:] or [ast.Pass()]
    tree.body = [n for n in tree.body if not isinstance(n, ast.Import | ast.ImportFrom | ast.Pass)]
    return ast.unparse(tree) or None


def docstrings(source: str) -> str | None:
    """Every docstring of a Python module, joined by blank lines; None if it does not parse or has none."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    text = "\n\n".join(" ".join(n.body[0].value.value.split()) for n in _documented(tree))
    return text or None


def readme_prose(markdown: str) -> str:
    """The prose paragraphs of a Markdown file: no headings, tables, lists or code blocks."""
    paragraphs, current, in_code = [], [], False
    for line in [*markdown.splitlines(), ""]:
        if line.lstrip().startswith("```"):
            in_code = not in_code
        elif not in_code and line.strip():
            current.append(line.strip())
            continue
        if current and not current[0].startswith(("#", "|", "-", "*", "<")):
            paragraphs.append(" ".join(current))
        current = []
    return "\n\n".join(paragraphs)


def markov_dna(n: int, *, seed: int = 0) -> str:
    """``n`` letters from an order-2 Markov chain over A, C, G, T with a fixed, skewed transition table.

    The table (16 contexts x 4 letters, Dirichlet(0.5) rows) is drawn once from ``default_rng(2005)``: every call
    samples the same "species"; ``seed`` changes the draw. The first two letters are uniform.
    """
    n = check_int(n, "n", low=2, high=1_000_000)
    table = np.random.default_rng(_CHAIN_SEED).dirichlet(np.full(4, 0.5), size=16)  # (16, 4) p(next | last two)
    cum = table.cumsum(axis=1)  # (16, 4)
    rng = np.random.default_rng(check_int(seed, "seed", low=0))
    out = rng.integers(0, 4, 2).tolist()
    u = rng.random(n)  # (n,) a longer draw extends a shorter one
    for k in range(2, n):
        out.append(int(np.searchsorted(cum[4 * out[-2] + out[-1]], u[k] * cum[4 * out[-2] + out[-1], -1])))
    return "".join("ACGT"[i] for i in out)


def _primes(count: int) -> list[int]:
    limit = max(30, int(count * (np.log(count + 2) + np.log(np.log(count + 3)))) + 10)
    sieve = np.ones(limit, dtype=bool)
    sieve[:2] = False
    for p in range(2, int(limit**0.5) + 1):
        if sieve[p]:
            sieve[p * p :: p] = False
    return np.flatnonzero(sieve)[:count].tolist()


def _measurements(n_rows: int, seed: int) -> str:
    rng = np.random.default_rng(seed)
    t = np.arange(n_rows) * 0.5  # (n_rows,)
    temp = 20 + 3 * np.sin(t / 4) + rng.normal(0, 0.3, n_rows)  # (n_rows,)
    return "t,temperature\n" + "\n".join(f"{a:.1f},{b:.2f}" for a, b in zip(t, temp))


def project_corpus(*, size: int = 1000, seed: int = 0, root: str | None = None) -> Corpus:
    """Twelve texts of at most ``size`` bytes each, three per kind in :data:`KINDS`.

    Parameters
    ----------
    size : int
        Bytes kept from the start of each text (50 to 100,000); shorter texts are kept whole.
    seed : int
        Seed of the generated texts (the DNA draws and the measurement noise).
    root : str, optional
        The repository folder to read the project's files from (default: this checkout).

    Returns
    -------
    Corpus
        ``texts`` (name, kind, origin, data, length) and the repository files that were ``missing``.
    """
    size = check_int(size, "size", low=50, high=100_000)
    seed = check_int(seed, "seed", low=0)
    base = ROOT if root is None else Path(root)
    rows, missing = [], []

    def add(name: str, kind: str, origin: str, text: str | None) -> None:
        if text:
            data = text.encode("utf-8")[:size]
            rows.append({"name": name, "kind": kind, "origin": origin, "data": data, "length": len(data)})
        else:
            missing.append(origin)

    for rel in CODE_FILES:
        source = _read(base, rel)
        add(f"code: {Path(rel).stem}", "Python code", rel, None if source is None else python_code(source))
    readme = _read(base, README)
    add("prose: README", "English prose", README, None if readme is None else readme_prose(readme))
    docs = [d for rel in DOC_FILES if (s := _read(base, rel)) is not None and (d := docstrings(s))]
    add("prose: docstrings", "English prose", " + ".join(DOC_FILES), "\n\n".join(docs) or None)
    add("prose: the page's essay", "English prose", "core/kolmogorov/compression.py PROSE", PROSE)
    add("numbers: pi", "numbers", "generated", pi_digits(size))
    add("numbers: primes", "numbers", "generated", ", ".join(map(str, _primes(size // 3))))
    add("numbers: measurements", "numbers", f"generated (seed {seed})", _measurements(size // 8, seed))
    for i in range(3):
        add(f"DNA-like {i + 1}", "DNA-like", f"Markov chain (seed {seed + i})", markov_dna(size, seed=seed + i))
    return Corpus(pd.DataFrame(rows), tuple(missing))


@dataclass(frozen=True)
class KindRecovery:
    """How well a clustering of the NCD matrix recovers the kinds of text."""

    assignment: pd.DataFrame  # name, kind, cluster: the tree cut into as many clusters as kinds
    ari: float  # adjusted Rand index of cluster against kind (1: perfect; about 0: chance)
    within: float  # mean NCD between different texts of the same kind
    between: float  # mean NCD between texts of different kinds
    nearest_same: float  # share of texts whose nearest other text (smallest NCD) is of the same kind


def kind_recovery(matrix: pd.DataFrame, tree: Dendrogram, texts: pd.DataFrame) -> KindRecovery:
    """Cut the average-linkage tree into as many clusters as there are kinds and compare with the kinds.

    ``matrix`` is :func:`core.kolmogorov.compression.ncd_matrix` (long format), ``tree`` its
    :func:`~core.kolmogorov.compression.ncd_dendrogram`, ``texts`` the corpus's table (name, kind).
    """
    kind = texts.set_index("name")["kind"]
    names = sorted(set(matrix["a"]))  # the order of the linkage (ncd_dendrogram pivots, which sorts the names)
    unknown = set(names) - set(kind.index)
    if unknown:
        raise ValueError(f"`texts` must name every text of `matrix`. Missing kinds for {sorted(unknown)}.")
    k = kind[names].nunique()
    labels = fcluster(tree.linkage, t=k, criterion="maxclust")  # (n,)
    assignment = pd.DataFrame({"name": names, "kind": kind[names].to_numpy(), "cluster": labels})
    off = matrix[matrix["a"] != matrix["b"]].assign(same=lambda d: kind[d["a"]].to_numpy() == kind[d["b"]].to_numpy())
    nearest = off.loc[off.groupby("a")["ncd"].idxmin()]  # one row per text: its nearest other text
    return KindRecovery(
        assignment,
        float(adjusted_rand_score(assignment["kind"], assignment["cluster"])),
        float(off.loc[off["same"], "ncd"].mean()),
        float(off.loc[~off["same"], "ncd"].mean()),
        float(nearest["same"].mean()),
    )
