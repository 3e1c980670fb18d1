"""Tests for core.kolmogorov.ctm: the output distribution by hand count, CTM, BDM and the comparison table."""

import numpy as np
import pytest

from core.kolmogorov.compression import compressed_bits
from core.kolmogorov.ctm import bdm_bits, complexity_estimates, output_distribution


def test_output_distribution_by_hand_count():
    # Length 1: 0 1 + d print "0", "1", "", "". Length 2: 16 plain pairs and "[]" (all halt): "00" "01" "10" "11"
    # once each; "0+" "0d" "+0" "d0" print "0" (likewise "1"); "++" "+d" "d+" "dd" "[]" print "". 21 in all.
    d = output_distribution(max_length=2).set_index("output")
    assert d["count"].to_dict() == {"": 7, "0": 5, "1": 5, "00": 1, "01": 1, "10": 1, "11": 1}
    assert d.loc["0", "share"] == pytest.approx(5 / 21)
    assert d.loc["0", "ctm_bits"] == pytest.approx(np.log2(21 / 5))
    assert d.loc["01", "shortest"] == 2


def test_ctm_grows_with_length_and_a_non_halting_program_is_left_out():
    d = output_distribution(max_length=4, max_steps=50).set_index("output")
    assert d.loc["0", "ctm_bits"] < d.loc["00", "ctm_bits"] < d.loc["000", "ctm_bits"] < d.loc["0000", "ctm_bits"]
    assert d["share"].sum() == pytest.approx(1.0)
    # "+[+]" never halts, so the 4-instruction programs that halt number fewer than all valid ones
    assert d["count"].sum() < 4 + 17 + 76 + 354


def test_bdm_by_hand():
    ctm = output_distribution(max_length=4)
    table = ctm.set_index("output")["ctm_bits"]
    assert bdm_bits("0101" * 8, ctm, block=4) == pytest.approx(table["0101"] + 3.0)  # one block, 8 times
    assert bdm_bits("0110" + "1111" + "01", ctm, block=4) == pytest.approx(table["0110"] + table["1111"] + table["01"])
    with pytest.raises(ValueError, match="no value for the block"):
        bdm_bits("0" * 12, output_distribution(max_length=2), block=4)
    with pytest.raises(ValueError, match="0s and 1s"):
        bdm_bits("012", ctm)


def test_estimates_table_against_the_compressors():
    ctm = output_distribution(max_length=4)
    df = complexity_estimates({"short": "0110", "periodic": "01" * 16}, ctm).set_index(["name", "method"])["bits"]
    assert df[("short", "CTM")] == df[("short", "BDM")]  # one block: BDM is the CTM value
    assert df[("periodic", "lzma")] == compressed_bits(b"01" * 16, method="lzma")
    assert df[("short", "CTM")] < 16 < df[("short", "lzma")]  # the container alone outweighs 4 characters
    assert ("periodic", "CTM") not in df.index  # longer than any program's output
