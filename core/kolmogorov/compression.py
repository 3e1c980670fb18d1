"""Algorithmic information theory: compressors as upper bounds on Kolmogorov complexity K(x).

K(x) is the length of the shortest program that prints x. Any lossless compressor gives an upper bound (the
compressed file plus a fixed decompressor), and so does any program that prints x. Here: three standard
compressors at maximum settings, the normalised compression distance, generators of strings whose K is small or
large, short Python programs that print them, and a brute-force shortest-program search in a tiny language that
shows why K cannot be computed.

Reference: Li & Vitányi (2019), *An Introduction to Kolmogorov Complexity and Its Applications*, 4th ed., Springer;
Cilibrasi & Vitányi (2005), "Clustering by compression", IEEE Trans. Inf. Theory 51(4).
"""

from __future__ import annotations

import bz2
import hashlib
import inspect
import itertools
import lzma
import math
import os
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.cluster.hierarchy import dendrogram, linkage
from scipy.spatial.distance import squareform

from core._validation import check_choice, check_int

METHODS = ("lzma", "bz2", "zlib")
SOURCES = ("periodic", "random", "pi", "lcg", "thue_morse", "prose")
LCG_A, LCG_C, LCG_M = 1664525, 1013904223, 2**32  # Numerical Recipes constants

PROSE = """\
A model is a way of saying more with less. When a table of measurements can be replaced by a formula and a short \
list of corrections, the formula has found something real about the process that made the table. The size of what \
is left to say, once the formula is known, tells us how much the formula missed. This is the idea behind minimum \
description length: a good explanation is a short message, and the best explanation is the shortest one.

Compression is prediction in disguise. A compressor that guesses the next letter well can spend few bits on the \
letters it expected and many bits on the ones that surprised it. English text is full of habits, such as common \
words, endings and spaces, so a general purpose compressor halves its size or better. A stream of coin flips has no \
habits at all, and no compressor can shrink it on average: there are simply too few short messages to go around.

Some strings look random to every compressor we own and are still simple. The digits of pi pass the usual tests \
of randomness, yet a program of a few lines prints as many of them as we like. A compressor only searches for \
repeats and skewed letter counts; it never tries to guess the rule that made the data. The shortest program is a \
better measure of the information in a string, but no algorithm can find it for every string.

The argument is old and simple. Suppose a program could compute the complexity of any string. Then a short loop \
could try every string in order and stop at the first one whose complexity exceeds a million bits. That loop is \
far shorter than a million bits, yet it prints a string that supposedly needs more than a million bits to \
describe. The contradiction shows that the program we supposed cannot exist, even though every compressor gives \
an honest upper bound.
"""


def _check_bytes(data: object, name: str) -> bytes:
    if isinstance(data, str):
        raise TypeError(f"`{name}` must be bytes. Got a str instead; encode it first, e.g. text.encode('utf-8').")
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"`{name}` must be bytes. Got {type(data).__name__} instead.")
    return bytes(data)


def compressed_bits(data: bytes, *, method: str = "lzma") -> int:
    """Size in bits of ``data`` compressed losslessly at maximum settings, container header included.

    ``"lzma"``: the .lzma ("alone") container, preset 9 extreme, dictionary sized to the input (a larger one
    cannot help); ``"bz2"``: level 9; ``"zlib"``: level 9 in the zlib container. Headers and checksums are part
    of an honest upper bound on K(x) (see :func:`header_bits` for their share).

    Returns
    -------
    int
        8 * the compressed length in bytes.
    """
    data = _check_bytes(data, "data")
    check_choice(method, "method", METHODS)
    if method == "lzma":
        dict_size = max(4096, 1 << max(len(data) - 1, 1).bit_length())
        filters = [{"id": lzma.FILTER_LZMA1, "preset": 9 | lzma.PRESET_EXTREME, "dict_size": dict_size}]
        out = lzma.compress(data, format=lzma.FORMAT_ALONE, filters=filters)
    elif method == "bz2":
        out = bz2.compress(data, compresslevel=9)
    else:
        out = zlib.compress(data, level=9)
    return 8 * len(out)


def header_bits(method: str = "lzma") -> int:
    """Bits a compressor spends on the empty input: its fixed container overhead (headers, end marker, checksum)."""
    return compressed_bits(b"", method=method)


def complexity_profile(
    data: bytes, *, methods: Sequence[str] = METHODS, lengths: Sequence[int] = (100, 1000, 10000)
) -> pd.DataFrame:
    """Compressed size of the first L bytes of ``data`` for each L and compressor: upper bounds on K(x[:L]).

    Lengths longer than ``data`` are skipped; ``bits_per_symbol`` is bits / L (a symbol is a byte).

    Returns
    -------
    DataFrame
        Long format: length, method, bits, bits_per_symbol.
    """
    data = _check_bytes(data, "data")
    methods = [check_choice(m, "methods", METHODS) for m in methods]
    usable = sorted({check_int(L, "lengths", low=1) for L in lengths if L <= len(data)})
    if not usable or not methods:
        raise ValueError(
            f"`lengths` must contain at least one length <= len(data) = {len(data)} and `methods` one method. "
            f"Got lengths {list(lengths)} and methods {list(methods)} instead."
        )
    rows = [
        {"length": L, "method": m, "bits": (b := compressed_bits(data[:L], method=m)), "bits_per_symbol": b / L}
        for L in usable
        for m in methods
    ]
    return pd.DataFrame(rows)


def ncd(x: bytes, y: bytes, *, method: str = "lzma") -> float:
    """Normalised compression distance, NCD(x, y) = (C(xy) - min(C(x), C(y))) / max(C(x), C(y)).

    About 0 for identical strings, about 1 for unrelated ones (can exceed 1 slightly: compressors are not ideal).
    C is :func:`compressed_bits`. Reference: Cilibrasi & Vitányi (2005).
    """
    x, y = _check_bytes(x, "x"), _check_bytes(y, "y")
    cx, cy = compressed_bits(x, method=method), compressed_bits(y, method=method)
    return (compressed_bits(x + y, method=method) - min(cx, cy)) / max(cx, cy)


def ncd_matrix(items: Mapping[str, bytes], *, method: str = "lzma") -> pd.DataFrame:
    """NCD between every pair of named byte strings, symmetrised as the mean of NCD(a, b) and NCD(b, a).

    Returns
    -------
    DataFrame
        Long format: a, b, ncd (the diagonal holds the measured NCD(x, x)).
    """
    if len(items) < 2:
        raise ValueError(f"`items` must hold at least 2 named strings. Got {len(items)} instead.")
    names = list(items)
    data = {k: _check_bytes(v, f"items[{k!r}]") for k, v in items.items()}
    c = {k: compressed_bits(v, method=method) for k, v in data.items()}

    def joint(a: str, b: str) -> int:
        return compressed_bits(data[a] + data[b], method=method)

    rows = []
    for a, b in itertools.combinations_with_replacement(names, 2):
        lo, hi = min(c[a], c[b]), max(c[a], c[b])
        d = ((joint(a, b) - lo) + (joint(b, a) - lo)) / (2 * hi) if a != b else (joint(a, a) - c[a]) / c[a]
        rows += [{"a": a, "b": b, "ncd": d}] + ([{"a": b, "b": a, "ncd": d}] if a != b else [])
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Dendrogram:
    """A dendrogram as drawable line segments: leaves sit at y = 0 and x = 5, 15, 25, ...; height is the distance."""

    segments: pd.DataFrame  # x, y, x2, y2: one row per line segment
    leaves: pd.DataFrame  # label, x: leaf order left to right
    linkage: np.ndarray  # (n - 1, 4) scipy linkage matrix


def ncd_dendrogram(matrix: pd.DataFrame, *, method: str = "average") -> Dendrogram:
    """Hierarchical clustering of an NCD matrix (long format from :func:`ncd_matrix`) with scipy.

    ``scipy.cluster.hierarchy.linkage`` on the condensed off-diagonal distances, then ``dendrogram(no_plot=True)``
    for the coordinates.
    """
    check_choice(method, "method", ("single", "complete", "average", "weighted"))
    square = matrix.pivot(index="a", columns="b", values="ncd")
    names = list(square.index)
    D = square.loc[names, names].to_numpy(dtype=float, copy=True)  # (n, n)
    np.fill_diagonal(D, 0.0)
    Z = linkage(squareform(D, checks=False), method=method)  # (n - 1, 4)
    tree = dendrogram(Z, no_plot=True, labels=names)
    segs = [
        {"x": xs[j], "y": ys[j], "x2": xs[j + 1], "y2": ys[j + 1]}
        for xs, ys in zip(tree["icoord"], tree["dcoord"])
        for j in range(3)
    ]
    leaves = pd.DataFrame({"label": tree["ivl"], "x": 5.0 + 10.0 * np.arange(len(names))})
    return Dendrogram(pd.DataFrame(segs), leaves, Z)


def _int_to_decimal(v: int, width: int) -> str:
    """Decimal digits of a non-negative int, zero-padded to ``width`` (splits around Python's 4300-digit limit)."""
    if width <= 4000:
        return str(v).zfill(width)
    half = width // 2
    hi, lo = divmod(v, 10**half)
    return _int_to_decimal(hi, width - half) + _int_to_decimal(lo, half)


def pi_digits(n: int) -> str:
    """The first ``n`` decimal digits of pi ("31415..."), by the Chudnovsky series with binary splitting.

    Exact integer arithmetic with 10 guard digits: pi * 10^(n+10) = 426880 sqrt(10005) Q / T.
    """
    n = check_int(n, "n", low=1, high=1_000_000)
    digits = n + 10
    c3_24 = 640320**3 // 24

    def split(a: int, b: int) -> tuple[int, int, int]:
        if b - a == 1:
            p, q = (1, 1) if a == 0 else ((6 * a - 5) * (2 * a - 1) * (6 * a - 1), a**3 * c3_24)
            t = p * (13591409 + 545140134 * a)
            return p, q, -t if a & 1 else t
        m = (a + b) // 2
        p1, q1, t1 = split(a, m)
        p2, q2, t2 = split(m, b)
        return p1 * p2, q1 * q2, q2 * t1 + p1 * t2

    _, q, t = split(0, int(digits / 14.18) + 2)
    one = 10**digits
    pi = q * 426880 * math.isqrt(10005 * one * one) // t
    return _int_to_decimal(pi, digits + 1)[:n]


def lcg_bytes(n: int, *, seed: int = 0) -> bytes:
    """A linear congruential stream: x_{k+1} = (a x_k + c) mod 2^32 from x_0 = seed; emits the top byte x_{k+1} >> 24.

    a = 1664525, c = 1013904223 (Numerical Recipes).
    """
    n = check_int(n, "n", low=0)
    x = check_int(seed, "seed", low=0) % LCG_M
    out = bytearray(n)
    for k in range(n):
        x = (LCG_A * x + LCG_C) % LCG_M
        out[k] = x >> 24
    return bytes(out)


def _period(seed: int) -> str:
    rng = np.random.default_rng(seed)
    return "".join(chr(97 + i) for i in rng.integers(0, 26, 10))


def generate(kind: str, n: int, *, seed: int = 0) -> bytes:
    """``n`` bytes from a generator of known structure.

    ``periodic``: a seeded 10-letter block repeated; ``random``: numpy ``default_rng(seed).bytes(n)``;
    ``pi``: the digits of pi as ASCII; ``lcg``: :func:`lcg_bytes`; ``thue_morse``: t_i = popcount(i) mod 2 as
    ASCII "0"/"1" (a self-similar string); ``prose``: :data:`PROSE`, the project's own text (at most
    len(PROSE) bytes: a longer request returns all of it).
    """
    check_choice(kind, "kind", SOURCES)
    n = check_int(n, "n", low=1, high=1_000_000)
    seed = check_int(seed, "seed", low=0)
    if kind == "periodic":
        p = _period(seed)
        return (p * (n // len(p) + 1))[:n].encode()
    if kind == "random":
        return np.random.default_rng(seed).bytes(n)
    if kind == "pi":
        return pi_digits(n).encode()
    if kind == "lcg":
        return lcg_bytes(n, seed=seed)
    if kind == "thue_morse":
        return bytes(48 + (i.bit_count() & 1) for i in range(n))
    return PROSE.encode()[:n]


def short_program(kind: str, n: int, *, seed: int = 0) -> str:
    """Python source that writes exactly ``generate(kind, n, seed=seed)`` to stdout.

    Its length is an upper bound on K (relative to Python; ``random`` also relies on numpy's generator, and
    ``prose`` can only print itself as a literal).
    """
    check_choice(kind, "kind", SOURCES)
    n = check_int(n, "n", low=1, high=1_000_000)
    seed = check_int(seed, "seed", low=0)
    w = "import sys;sys.stdout.buffer.write("
    if kind == "periodic":
        return f"import sys;sys.stdout.write(({_period(seed)!r}*{n})[:{n}])"
    if kind == "random":
        return f"import sys,numpy;sys.stdout.buffer.write(numpy.random.default_rng({seed}).bytes({n}))"
    if kind == "pi":
        return (
            "import sys\nq,r,t,k,m,x=1,0,1,1,3,3\ns=''\n"
            f"while len(s)<{n}:\n"
            " if 4*q+r-t<m*t:s+=str(m);q,r,m=10*q,10*(r-m*t),10*(3*q+r)//t-10*m\n"
            " else:q,r,t,k,m,x=q*k,(2*q+r)*x,t*x,k+1,(q*(7*k+2)+r*x)//(t*x),x+2\n"
            "sys.stdout.write(s)"
        )
    if kind == "lcg":
        return (
            f"x={seed % LCG_M};b=bytearray()\nfor _ in range({n}):x=({LCG_A}*x+{LCG_C})%2**32;b.append(x>>24)\n"
            + w
            + "b)"
        )
    if kind == "thue_morse":
        return f"import sys;sys.stdout.write(''.join(str(bin(i).count('1')%2)for i in range({n})))"
    return w + repr(generate("prose", n)) + ")"


def program_profile(kind: str, *, lengths: Sequence[int], seed: int = 0) -> pd.DataFrame:
    """Length of :func:`short_program` for each prefix length: the program bound beside :func:`complexity_profile`.

    Returns
    -------
    DataFrame
        Long format: length, method ("program"), bits (8 per source character), bits_per_symbol.
    """
    check_choice(kind, "kind", SOURCES)
    rows = []
    for L in sorted({check_int(L, "lengths", low=1) for L in lengths}):
        n = min(L, len(PROSE.encode())) if kind == "prose" else L  # prose is only so long
        bits = 8 * len(short_program(kind, n, seed=seed).encode())
        rows.append({"length": n, "method": "program", "bits": bits, "bits_per_symbol": bits / n})
    return pd.DataFrame(rows).drop_duplicates("length")


def bounds_table(n: int, *, seed: int = 0, methods: Sequence[str] = METHODS) -> pd.DataFrame:
    """Upper bounds on K for every generator at length ``n``: each compressor and the short program.

    Returns
    -------
    DataFrame
        Long format: source, method (a compressor or "program"), length, bits, bits_per_symbol.
    """
    rows = []
    for kind in SOURCES:
        data = generate(kind, n, seed=seed)
        prog = 8 * len(short_program(kind, len(data), seed=seed).encode())
        for m, bits in [(m, compressed_bits(data, method=m)) for m in methods] + [("program", prog)]:
            rows.append(
                {"source": kind, "method": m, "length": len(data), "bits": bits, "bits_per_symbol": bits / len(data)}
            )
    return pd.DataFrame(rows)


def os_random_bytes(n: int) -> bytes:
    """``n`` bytes from the operating system's entropy source (``os.urandom``): a fresh draw on every call.

    The one source here that no seed, link or program reproduces; everything else is a function of its arguments.
    """
    return os.urandom(check_int(n, "n", low=1, high=1_000_000))


def random_sources(n: int, *, seed: int = 0, fresh: bytes, methods: Sequence[str] = METHODS) -> pd.DataFrame:
    """Seeded pseudo-random bytes beside ``fresh`` OS bytes (:func:`os_random_bytes`), compressed alike.

    Both are incompressible: every compressor needs about 8 bits per byte plus its container. They differ in what
    reproduces them: the seeded stream is printed by a short program (:func:`short_program`), the OS bytes by no
    program we know shorter than the bytes themselves (by counting, at most a share 2^-c of n-byte strings has a
    program c bits shorter than 8n).

    Returns
    -------
    DataFrame
        Long format: source ("seeded generator" or "OS entropy"), method (a compressor or "program"), length, bits,
        bits_per_symbol, excess_bits (bits - 8n), reproducible (bool), sha256 (first 16 hex digits), head (first
        8 bytes in hex).
    """
    fresh = _check_bytes(fresh, "fresh")
    n = check_int(n, "n", low=1, high=1_000_000)
    if len(fresh) != n:
        raise ValueError(f"`fresh` must hold n = {n} bytes. Got {len(fresh)} instead; draw os_random_bytes(n).")
    seeded = generate("random", n, seed=seed)
    rows = []
    for source, data, reproducible in (("seeded generator", seeded, True), ("OS entropy", fresh, False)):
        bounds = [(m, compressed_bits(data, method=m)) for m in methods]
        if reproducible:
            bounds.append(("program", 8 * len(short_program("random", n, seed=seed).encode())))
        for m, bits in bounds:
            rows.append({"source": source, "method": m, "length": n, "bits": bits, "bits_per_symbol": bits / n,
                         "excess_bits": bits - 8 * n, "reproducible": reproducible,
                         "sha256": hashlib.sha256(data).hexdigest()[:16], "head": data[:8].hex(" ")})  # fmt: skip
    return pd.DataFrame(rows)


def ncd_corpus(*, size: int = 1000, seed: int = 0) -> dict[str, bytes]:
    """Named strings of about ``size`` bytes for an NCD matrix.

    The first and second half of :data:`PROSE` (two paragraphs each, about 900 bytes), the first again with its
    words shuffled, a piece of this module's source code, and five generated strings.
    """
    size = check_int(size, "size", low=50, high=100_000)
    paragraphs = [p.replace("\n", " ") for p in PROSE.strip().split("\n\n")]
    first, second = " ".join(paragraphs[:2]).encode(), " ".join(paragraphs[2:]).encode()
    words = first.split()
    np.random.default_rng(seed).shuffle(words)
    return {
        "prose 1": first[:size],
        "prose 2": second[:size],
        "prose 1, words shuffled": b" ".join(words)[:size],
        "source code": inspect.getsource(ncd_matrix).encode()[:size],
        "pi digits": generate("pi", size),
        "LCG": generate("lcg", size, seed=seed),
        "random": generate("random", size, seed=seed),
        "periodic": generate("periodic", size, seed=seed),
        "Thue-Morse": generate("thue_morse", size),
    }
