"""Why Kolmogorov complexity cannot be computed, made concrete: a brute-force shortest-program search.

Programs of a tiny language the project defines are enumerated shortest first; the first one that prints the target
is a shortest program, so its length is K(target) in this language. The search must cap each program's steps,
because no algorithm can tell in general whether a program halts: a program stopped by the cap might still print the
target later, so the search gives an upper bound, never a certified K. The count of programs grows exponentially with
the length, and so does the time.

Reference: Li & Vitányi (2019), *An Introduction to Kolmogorov Complexity and Its Applications*, 4th ed., Springer.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from core._validation import check_int

LANGUAGE = "01d+-[]"  # the tiny language's instructions, in enumeration order


def _jumps(program: str) -> list[int] | None:
    """Matching-bracket table of a program, or None if its brackets do not balance."""
    stack: list[int] = []
    jump = [0] * len(program)
    for i, ch in enumerate(program):
        if ch == "[":
            stack.append(i)
        elif ch == "]":
            if not stack:
                return None
            j = stack.pop()
            jump[i], jump[j] = j, i
    return None if stack else jump


def run_program(
    program: str, *, max_steps: int = 1000, target: str | None = None, max_output: int = 10_000
) -> tuple[str, str]:
    """Run a program of the tiny language; return (output, status).

    The machine has an output string s (empty) and a counter c (0). Instructions: ``0``/``1`` append that
    digit to s; ``d`` doubles s (s = s + s); ``+``/``-`` raise/lower c (not below 0); ``[`` ... ``]`` repeat the
    body while c != 0. Each instruction executed is one step. Status: ``"halted"``, ``"step_limit"`` (still
    running after ``max_steps``: it may never halt), ``"too_long"`` (s exceeded ``max_output``) or, when a
    ``target`` is given, ``"mismatch"`` (s is no longer a prefix of the target; it never will be again, because
    instructions only append to s).
    """
    jump = _jumps(program)
    if jump is None or any(ch not in LANGUAGE for ch in program):
        raise ValueError(f"`program` must use only {LANGUAGE!r} with balanced brackets. Got {program!r} instead.")
    s, c, pc, steps, size = "", 0, 0, 0, len(program)
    while pc < size:
        if steps >= max_steps:
            return s, "step_limit"
        steps += 1
        ch = program[pc]
        if ch == "0" or ch == "1" or ch == "d":
            s = s + ch if ch != "d" else s + s
            if target is not None and not target.startswith(s):
                return s, "mismatch"
            if len(s) > max_output:
                return s, "too_long"
        elif ch == "+":
            c += 1
        elif ch == "-":
            c = c - 1 if c else 0
        elif (ch == "[" and c == 0) or (ch == "]" and c != 0):
            pc = jump[pc]
        pc += 1
    return s, "halted"


@dataclass(frozen=True)
class SearchResult:
    """Outcome of a brute-force shortest-program search."""

    target: str
    found: bool  # some program of length <= max_length printed the target within max_steps
    programs: tuple[str, ...]  # every program of the shortest successful length (empty if not found)
    per_length: pd.DataFrame  # length, programs_tried, seconds, step_limit, matches, growth
    max_steps: int


def shortest_program(
    target: str, *, max_length: int = 5, max_steps: int = 100, callback: Callable[[dict], None] | None = None
) -> SearchResult:
    """Enumerate every program of the tiny language by length until one prints ``target`` (see :func:`run_program`).

    Programs of length L are tried in lexicographic order of :data:`LANGUAGE`; unbalanced ones are skipped (not
    counted). The whole shortest length is finished so that all shortest programs are listed. A program still
    running after ``max_steps`` is abandoned: without that limit the search could wait forever on one program
    (the halting problem), and with it a shorter but slower program may be missed, so the result is an upper bound.

    Returns
    -------
    SearchResult
        ``per_length`` has one row per length searched: programs_tried (valid programs run), seconds (wall time),
        step_limit (programs abandoned at the limit), matches (programs that printed the target), growth
        (programs_tried over that of the previous length).
    """
    if not isinstance(target, str) or not target or set(target) - {"0", "1"} or len(target) > 64:
        raise ValueError(f"`target` must be a string of 1 to 64 characters 0 and 1. Got {target!r} instead.")
    max_length = check_int(max_length, "max_length", low=1, high=9)
    max_steps = check_int(max_steps, "max_steps", low=1, high=100_000)
    total = sum(len(LANGUAGE) ** L for L in range(1, max_length + 1))
    done, rows, found, last = 0, [], [], time.monotonic()
    for L in range(1, max_length + 1):
        start, tried, limited = time.perf_counter(), 0, 0
        for chars in itertools.product(LANGUAGE, repeat=L):
            done += 1
            program = "".join(chars)
            if _jumps(program) is None:
                continue
            tried += 1
            out, status = run_program(program, max_steps=max_steps, target=target)
            limited += status == "step_limit"
            if status == "halted" and out == target:
                found.append(program)
            if callback is not None and time.monotonic() - last > 0.05:
                last = time.monotonic()
                callback({"progress": done / total, "length": L, "programs_tried": tried, "seconds": last - start})
        rows.append(
            {
                "length": L,
                "programs_tried": tried,
                "seconds": time.perf_counter() - start,
                "step_limit": limited,
                "matches": len(found),
                "growth": tried / rows[-1]["programs_tried"] if rows else float("nan"),
            }
        )
        if found:
            break
    if callback is not None:
        callback({"progress": 1.0, **rows[-1]})
    return SearchResult(target, bool(found), tuple(found), pd.DataFrame(rows), max_steps)
