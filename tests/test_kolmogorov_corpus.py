import bz2
import lzma
import shutil
import zlib
from collections import Counter

import numpy as np
import pytest

from core.kolmogorov.compression import ncd, ncd_dendrogram, ncd_matrix
from core.kolmogorov.corpus import (
    CODE_FILES,
    KINDS,
    ROOT,
    kind_recovery,
    markov_dna,
    project_corpus,
    python_code,
    readme_prose,
)


def _ncd_direct(x, y, compress):
    """NCD straight from a compressor's byte counts, written independently of core.kolmogorov."""
    cx, cy, cxy = len(compress(x)), len(compress(y)), len(compress(x + y))
    return (cxy - min(cx, cy)) / max(cx, cy)


@pytest.fixture(scope="module")
def corpus():
    return project_corpus(size=1000, seed=0)


@pytest.fixture(scope="module")
def lzma_matrix(corpus):
    return ncd_matrix(corpus.items(), method="lzma")


def test_the_corpus_has_three_texts_of_each_kind_read_from_this_repository(corpus):
    assert corpus.missing == ()
    assert Counter(corpus.texts["kind"]) == {k: 3 for k in KINDS}
    assert (corpus.texts["length"] == 1000).all()
    code = corpus.texts[corpus.texts["kind"] == "Python code"]["data"]
    assert all(b'"""' not in c and b"import " not in c[:200] for c in code)  # code only: no docstrings, no imports
    assert project_corpus(size=1000, seed=0).texts.equals(corpus.texts)  # same seed, same corpus


def test_ncd_properties_on_the_corpus(corpus, lzma_matrix):
    square = lzma_matrix.pivot(index="a", columns="b", values="ncd")
    assert np.allclose(square, square.T)  # the matrix is symmetrised
    assert (lzma_matrix["ncd"] >= 0).all() and (lzma_matrix["ncd"] <= 1.1).all()
    assert (np.diag(square) < 0.1).all()  # NCD(x, x): a second copy costs almost nothing
    items = corpus.items()
    a, b = items["code: pac"], items["DNA-like 1"]
    assert abs(ncd(a, b) - ncd(b, a)) < 0.05  # symmetric up to the compressor's imperfection


def test_ncd_agrees_with_the_compressors_called_directly(corpus):
    items = list(corpus.items().values())
    for x, y in [(items[0], items[1]), (items[3], items[9]), (items[6], items[7])]:
        assert ncd(x, y, method="zlib") == pytest.approx(_ncd_direct(x, y, lambda d: zlib.compress(d, 9)), abs=1e-12)
        assert ncd(x, y, method="bz2") == pytest.approx(_ncd_direct(x, y, lambda d: bz2.compress(d, 9)), abs=1e-12)
        # the .xz container and its default dictionary differ from ours: close, not equal
        xz = _ncd_direct(x, y, lambda d: lzma.compress(d, preset=9 | lzma.PRESET_EXTREME))
        assert ncd(x, y, method="lzma") == pytest.approx(xz, abs=0.08)


def test_clustering_recovers_the_kinds_with_lzma(corpus, lzma_matrix):
    rec = kind_recovery(lzma_matrix, ncd_dendrogram(lzma_matrix), corpus.texts)
    assert rec.ari == pytest.approx(1.0)
    assert rec.nearest_same == 1.0
    assert rec.within < rec.between - 0.05
    groups = rec.assignment.groupby("kind")["cluster"].nunique()
    assert (groups == 1).all()  # each kind in one cluster


@pytest.mark.parametrize("method", ["bz2", "zlib"])
def test_every_compressor_puts_same_kind_texts_closer(corpus, method):
    m = ncd_matrix(corpus.items(), method=method)
    rec = kind_recovery(m, ncd_dendrogram(m), corpus.texts)
    assert rec.within < rec.between and rec.nearest_same >= 0.75 and rec.ari > 0.3


def test_missing_files_are_left_out_and_named(tmp_path):
    shutil.copy(ROOT / CODE_FILES[0], tmp_path / "solver.py")  # a checkout with one file in the wrong place
    corpus = project_corpus(size=300, root=str(tmp_path))
    assert set(corpus.missing) >= {*CODE_FILES, "README.md"}
    assert Counter(corpus.texts["kind"]) == {"English prose": 1, "numbers": 3, "DNA-like": 3}
    m = ncd_matrix(corpus.items())
    assert kind_recovery(m, ncd_dendrogram(m), corpus.texts).ari > 0.5


def test_text_extraction_by_hand():
    src = '"""Module doc."""\nimport os\n\n\ndef f(x):\n    """Doc."""\n    # a comment\n    return x + 1\n'
    assert python_code(src) == "def f(x):\n    return x + 1"
    assert python_code("def (:") is None
    md = "# Title\n\nFirst para\ncontinues.\n\n| a | b |\n|---|---|\n\n```bash\npip install x\n```\n\nSecond."
    assert readme_prose(md) == "First para continues.\n\nSecond."


def test_markov_dna_follows_one_fixed_chain():
    a, b = markov_dna(20_000, seed=0), markov_dna(20_000, seed=1)
    assert set(a) <= set("ACGT") and a != b and markov_dna(500, seed=0) == a[:500]
    # same chain: the trigram frequencies of two draws agree (independent count)
    fa = Counter(a[i : i + 3] for i in range(len(a) - 2))
    fb = Counter(b[i : i + 3] for i in range(len(b) - 2))
    keys = sorted(set(fa) | set(fb))
    pa = np.array([fa[k] for k in keys]) / sum(fa.values())
    pb = np.array([fb[k] for k in keys]) / sum(fb.values())
    assert 0.5 * np.abs(pa - pb).sum() < 0.05


def test_bad_inputs_name_the_knob(corpus, lzma_matrix):
    with pytest.raises(ValueError, match="size"):
        project_corpus(size=10)
    with pytest.raises(ValueError, match="texts"):
        kind_recovery(lzma_matrix, ncd_dendrogram(lzma_matrix), corpus.texts.iloc[:3])
