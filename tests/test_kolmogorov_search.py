"""The brute-force shortest-program search in the tiny language."""

import numpy as np
import pytest

from core.kolmogorov_search import run_program, shortest_program


def test_run_program_semantics():
    assert run_program("01d") == ("0101", "halted")
    assert run_program("++[0-]") == ("00", "halted")
    assert run_program("+[]", max_steps=50) == ("", "step_limit")
    assert run_program("+[0]", max_output=100)[1] == "too_long"
    assert run_program("1", target="0") == ("1", "mismatch")


def test_search_finds_known_shortest_program_and_count_grows_exponentially():
    result = shortest_program("0000", max_length=5)
    assert result.found
    assert set(result.programs) == {"00d", "0dd"}
    assert result.per_length["length"].tolist() == [1, 2, 3]
    # 5 one-instruction programs; 25 + "[]" of length 2; 125 + 5 ("[]x") + 5 ("x[]") + 5 ("[x]") of length 3.
    assert result.per_length["programs_tried"].tolist() == [5, 26, 140]
    longer = shortest_program("0101010101010101", max_length=5)
    assert longer.programs == ("01ddd",)
    counts = longer.per_length["programs_tried"].to_numpy()
    assert np.all(counts[2:] / counts[1:-1] > 4)


def test_search_reports_progress_and_not_found():
    records = []
    result = shortest_program("0110100110010110", max_length=3, callback=records.append)
    assert not result.found and result.programs == ()
    assert records[-1]["progress"] == 1.0


def test_bad_input_messages():
    with pytest.raises(ValueError, match="`target` must be"):
        shortest_program("0120")
    with pytest.raises(ValueError, match="balanced brackets"):
        run_program("0[")
