"""The brute-force shortest-program search in the tiny language."""

import itertools

import pytest

from core.kolmogorov.search import (
    LANGUAGE,
    SearchConfig,
    count_programs,
    program_steps,
    run_program,
    search_programs,
    shortest_program,
)


def brute_force(target, max_length, max_steps):
    """Every program up to max_length that prints the target within max_steps, by plain itertools enumeration."""
    hits = []
    for L in range(1, max_length + 1):
        for chars in itertools.product(LANGUAGE, repeat=L):
            p = "".join(chars)
            try:
                out, status = run_program(p, max_steps=max_steps)
            except ValueError:  # unbalanced brackets
                continue
            if status == "halted" and out == target:
                hits.append(p)
    return hits


def test_run_program_semantics():
    assert run_program("+dd[01]") == ("01010101", "halted")  # c = 4: the body runs 4 times
    assert run_program("++[0]") == ("00", "halted")
    assert run_program("[0]1") == ("1", "halted")  # c = 0: the loop is skipped
    assert run_program("+[+]", max_steps=50) == ("", "step_limit")  # the body undoes the count-down: never halts
    assert run_program("+[+0]", max_output=100)[1] == "too_long"
    assert run_program("1", target="0") == ("1", "mismatch")
    # by hand: + d d [ = 4 steps, then 4 passes of 0 1 ] = 12 steps
    assert program_steps("+dd[01]") == 16
    assert program_steps("01010101") == 8


def test_count_programs_matches_enumeration():
    by_hand = [
        sum(1 for chars in itertools.product(LANGUAGE, repeat=L) if _balanced("".join(chars))) for L in range(1, 7)
    ]
    assert count_programs(6) == by_hand
    assert by_hand[:3] == [4, 17, 76]  # 4; 16 + "[]"; 64 + 4 x ("[]x", "x[]", "[x]")


def _balanced(p):
    depth = 0
    for ch in p:
        depth += (ch == "[") - (ch == "]")
        if depth < 0:
            return False
    return depth == 0


def test_pruned_search_finds_exactly_what_plain_enumeration_finds():
    for target in ("0000", "0101", "001"):
        plain = brute_force(target, 4, 100)
        shortest = min(len(p) for p in plain)
        result = shortest_program(target, max_length=4, max_steps=100)
        assert set(result.programs) == {p for p in plain if len(p) == shortest}


def test_a_shorter_program_needs_more_steps_so_the_step_limit_changes_the_answer():
    result = search_programs(SearchConfig())  # the page's default target, 01010101
    by_limit = result.by_limit.set_index("step_limit")
    assert by_limit.loc[10, "shortest"] == 8 and by_limit.loc[10, "program"] == "01010101"
    assert by_limit.loc[100, "shortest"] == 7 < by_limit.loc[10, "shortest"]
    assert set(result.programs) == {"++d[01]", "+dd[01]"}
    for p in result.programs:
        assert run_program(p) == ("01010101", "halted") and program_steps(p) == 16 > 10
    # no program of up to 6 instructions prints it, even with 1000 steps (plain enumeration)
    assert brute_force("01010101", 6, 1000) == []


def test_search_reports_progress_and_not_found():
    records = []
    result = shortest_program("0110100110010110", max_length=3, callback=records.append)
    assert not result.found and result.programs == ()
    assert records[-1]["progress"] == 1.0
    assert result.per_length["programs"].tolist() == [4, 17, 76]
    assert result.by_limit["shortest"].isna().all()


def test_bad_input_messages():
    with pytest.raises(ValueError, match="`target` must be"):
        shortest_program("0120")
    with pytest.raises(ValueError, match="balanced brackets"):
        run_program("0[")
    with pytest.raises(ValueError, match="did not halt"):
        program_steps("+[+]", max_steps=100)
    with pytest.raises(TypeError, match="SearchConfig"):
        search_programs({"target": "01"})
