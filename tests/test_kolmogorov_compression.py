import subprocess
import sys

import numpy as np
import pytest

from core.kolmogorov.compression import (
    LCG_A,
    LCG_C,
    METHODS,
    SOURCES,
    bounds_table,
    complexity_profile,
    compressed_bits,
    generate,
    header_bits,
    ncd,
    ncd_corpus,
    ncd_dendrogram,
    ncd_matrix,
    pi_digits,
    short_program,
)

PI_50 = "31415926535897932384626433832795028841971693993751"


def _machin_pi(n: int) -> str:
    """Independent oracle: pi = 16 atan(1/5) - 4 atan(1/239) in fixed-point integers."""
    unity = 10 ** (n + 10)

    def atan_inv(x):
        total = term = unity // x
        k, sign = 1, 1
        while term:
            term //= x * x
            k += 2
            sign = -sign
            total += sign * (term // k)
        return total

    return str(4 * (4 * atan_inv(5) - atan_inv(239)))[:n]


@pytest.mark.parametrize("method", METHODS)
def test_random_bytes_do_not_compress(method):
    data = np.random.default_rng(1).bytes(20_000)
    assert compressed_bits(data, method=method) >= 0.99 * 8 * len(data)


@pytest.mark.parametrize("method", METHODS)
def test_periodic_compresses_massively(method):
    data = generate("periodic", 20_000, seed=2)
    assert compressed_bits(data, method=method) < 0.02 * 8 * len(data)
    assert header_bits(method) == compressed_bits(b"", method=method) > 0


def test_prose_compresses_to_a_few_bits_per_character():
    data = generate("prose", 10_000)
    bits = compressed_bits(data, method="lzma") / len(data)
    assert 2.0 < bits < 5.5


def test_ncd_identity_and_unrelated():
    prose = generate("prose", 2000)
    rand = generate("random", 2000, seed=3)
    assert ncd(prose, prose) < 0.1
    assert ncd(prose, rand) > 0.9
    assert ncd(rand, np.random.default_rng(9).bytes(2000)) > 0.95


def test_ncd_matrix_symmetric_and_dendrogram_groups_the_shuffled_prose():
    m = ncd_matrix(ncd_corpus(size=800, seed=0))
    square = m.pivot(index="a", columns="b", values="ncd")
    np.testing.assert_allclose(square.to_numpy(), square.to_numpy().T)
    tree = ncd_dendrogram(m)
    n = len(square)
    assert len(tree.segments) == 3 * (n - 1)
    assert sorted(tree.leaves["label"]) == sorted(square.index)
    labels = sorted(square.index)
    first_merge = {labels[int(tree.linkage[0, 0])], labels[int(tree.linkage[0, 1])]}
    assert first_merge == {"prose 1", "prose 1, words shuffled"}


def test_pi_digits_against_literal_and_oracle():
    assert pi_digits(50) == PI_50
    assert pi_digits(4000) == _machin_pi(4000)
    assert pi_digits(1) == "3"
    assert generate("pi", 50) == PI_50.encode()


def test_lcg_matches_its_recurrence():
    data = generate("lcg", 500, seed=12345)
    x, expected = 12345, []
    for _ in range(500):
        x = (LCG_A * x + LCG_C) % 2**32
        expected.append(x >> 24)
    assert list(data) == expected


def test_thue_morse_is_self_similar():
    t = [b - 48 for b in generate("thue_morse", 1024)]
    assert all(t[2 * i] == t[i] and t[2 * i + 1] == 1 - t[i] for i in range(512))


def test_generators_are_seeded():
    for kind in SOURCES:
        assert generate(kind, 300, seed=5) == generate(kind, 300, seed=5)
    assert generate("random", 300, seed=5) != generate("random", 300, seed=6)


@pytest.mark.parametrize("kind", SOURCES)
def test_short_programs_print_exactly_the_string(kind):
    data = generate(kind, 400, seed=7)
    out = subprocess.run(
        [sys.executable, "-c", short_program(kind, len(data), seed=7)], capture_output=True, timeout=60
    )
    assert out.stdout == data


def test_program_beats_compressors_on_pi_and_lcg_but_not_on_prose():
    table = bounds_table(3000, seed=0).pivot(index="source", columns="method", values="bits")
    for source in ("pi", "lcg"):
        assert table.loc[source, "program"] < 0.2 * table.loc[source, list(METHODS)].min()
    assert table.loc["prose", "program"] > table.loc["prose", list(METHODS)].min()


def test_complexity_profile_shape():
    data = generate("prose", 5000)
    df = complexity_profile(data, methods=("zlib", "bz2"), lengths=(100, 1000, 10**6))
    assert sorted(df["length"].unique()) == [100, 1000]
    np.testing.assert_allclose(df["bits_per_symbol"], df["bits"] / df["length"])


def test_bad_input_messages():
    with pytest.raises(TypeError, match="encode it first"):
        compressed_bits("text")
    with pytest.raises(ValueError, match="`method` must be one of"):
        compressed_bits(b"abc", method="gzip")
    with pytest.raises(ValueError, match="`lengths` must contain"):
        complexity_profile(b"abc", lengths=(10, 20))
    with pytest.raises(ValueError, match="`kind` must be one of"):
        generate("noise", 10)
    with pytest.raises(ValueError, match="at least 2"):
        ncd_matrix({"a": b"x"})


def test_os_entropy_is_incompressible_and_not_reproducible():
    import bz2
    import hashlib
    import zlib

    from core.kolmogorov.compression import os_random_bytes, random_sources

    fresh = os_random_bytes(10_000)
    assert len(fresh) == 10_000 and os_random_bytes(10_000) != fresh  # a new draw every call
    table = random_sources(10_000, seed=3, fresh=fresh)
    os_rows = table[table["source"] == "OS entropy"].set_index("method")
    assert "program" not in os_rows.index and not os_rows["reproducible"].any()
    assert (os_rows["bits_per_symbol"] >= 8.0).all() and (os_rows["excess_bits"] < 0.06 * 80_000).all()
    assert os_rows.loc["zlib", "bits"] == 8 * len(zlib.compress(fresh, 9))  # the compressor called directly
    assert os_rows.loc["bz2", "bits"] == 8 * len(bz2.compress(fresh, 9))
    seeded = table[table["source"] == "seeded generator"].set_index("method")
    assert seeded["sha256"].iloc[0] == hashlib.sha256(np.random.default_rng(3).bytes(10_000)).hexdigest()[:16]
    assert seeded.loc["program", "bits"] < 1000 < seeded.loc["lzma", "excess_bits"] + 80_000
    other = random_sources(10_000, seed=3, fresh=os_random_bytes(10_000))
    assert other[other["reproducible"]].equals(table[table["reproducible"]])  # the link reproduces the seeded half
    with pytest.raises(ValueError, match="`fresh` must hold n = 100 bytes"):
        random_sources(100, fresh=fresh)
    with pytest.raises(TypeError, match="`fresh` must be bytes"):
        random_sources(5, fresh="abcde")
