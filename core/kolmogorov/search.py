"""Why Kolmogorov complexity cannot be computed, made concrete: a brute-force shortest-program search.

Programs of a tiny language the project defines are enumerated shortest first; the first one that prints the target
is a shortest program, so its length is K(target) in this language. The search must cap each program's steps,
because no algorithm can tell in general whether a program halts: a program stopped by the cap might still print the
target later, so the search gives an upper bound, never a certified K. In this language the shortest programs of
repetitive strings are loops, and a loop with a shorter body runs more passes: a shorter program is a slower one, so
raising the cap finds shorter programs and the bound falls (K is computable only from above). The count of programs
grows exponentially with the length, and so does the time.

Reference: Li & Vitányi (2019), *An Introduction to Kolmogorov Complexity and Its Applications*, 4th ed., Springer.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from core._validation import check_int

LANGUAGE = "01+d[]"  # the tiny language's instructions, in enumeration order
STEP_LIMITS = (10, 30, 100, 300, 1000)  # the caps at which the shortest program found is reported


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


def _execute(program: str, jump: list[int], max_steps: int, target: str | None, max_output: int):
    """Run a checked program; return (output, status, steps)."""
    s, c, pc, steps, size = "", 0, 0, 0, len(program)
    while pc < size:
        if steps >= max_steps:
            return s, "step_limit", steps
        steps += 1
        ch = program[pc]
        if ch == "0" or ch == "1":
            s += ch
            if target is not None and not target.startswith(s):
                return s, "mismatch", steps
            if len(s) > max_output:
                return s, "too_long", steps
        elif ch == "+":
            c += 1
        elif ch == "d":
            c *= 2
        elif ch == "[":
            if c == 0:
                pc = jump[pc]
        else:  # "]": count one pass down, go round again while passes remain
            c = c - 1 if c else 0
            if c:
                pc = jump[pc]
        pc += 1
    return s, "halted", steps


def _programs(length: int, target: str):
    """Balanced programs of one length in lexicographic order, as (program, jump table or None, output or None).

    A program whose straight-line start (before its first ``[``) already prints a non-prefix of ``target`` is
    skipped with all its continuations (the start runs the same whatever follows). A program with no bracket is
    returned with its output (jump table None): it runs in ``length`` steps.
    """
    buf = [""] * length

    def rec(i: int, depth: int, out: str | None):
        if i == length:
            if depth == 0:
                program = "".join(buf)
                yield (program, None, out) if out is not None else (program, _jumps(program), None)
            return
        for ch in LANGUAGE:
            d = depth + (ch == "[") - (ch == "]")
            if d < 0 or d > length - i - 1:
                continue
            nxt = None if out is None or ch == "[" else out + ch if ch in "01" else out
            if nxt is not None and not target.startswith(nxt):
                continue
            buf[i] = ch
            yield from rec(i + 1, d, nxt)

    yield from rec(0, 0, "")


def count_programs(max_length: int) -> list[int]:
    """Number of programs (balanced bracket strings over :data:`LANGUAGE`) of each length 1..``max_length``.

    Dynamic programming over (length, open brackets): ``n[L][k] = 4 n[L-1][k] + n[L-1][k-1] + n[L-1][k+1]``.
    """
    max_length = check_int(max_length, "max_length", low=1, high=200)
    plain = len(LANGUAGE) - 2
    ways = [1] + [0] * max_length  # ways[k]: strings so far with k brackets open
    counts = []
    for _ in range(max_length):
        ways = [plain * ways[k] + (ways[k - 1] if k else 0) + (ways[k + 1] if k < max_length else 0)
                for k in range(max_length + 1)]  # fmt: skip
        counts.append(ways[0])
    return counts


def run_program(
    program: str, *, max_steps: int = 1000, target: str | None = None, max_output: int = 10_000
) -> tuple[str, str]:
    """Run a program of the tiny language; return (output, status).

    The machine has an output string s (empty) and a counter c (0). Instructions: ``0``/``1`` append that digit to
    s; ``+`` adds 1 to c; ``d`` doubles c; ``[`` skips past its ``]`` when c = 0; ``]`` lowers c by one (not below
    0) and jumps back to just after its ``[`` while c != 0, so ``[body]`` runs body c times, unless the body itself
    raises c (``+[+]`` never stops). Each instruction executed is one step. Status: ``"halted"``, ``"step_limit"``
    (still running after ``max_steps``: it may never halt), ``"too_long"`` (s exceeded ``max_output``) or, when a
    ``target`` is given, ``"mismatch"`` (s is no longer a prefix of the target; it never will be again, because
    instructions only append to s).

    Examples
    --------
    >>> run_program("+dd[01]")
    ('01010101', 'halted')
    """
    jump = _jumps(program)
    if jump is None or any(ch not in LANGUAGE for ch in program):
        raise ValueError(f"`program` must use only {LANGUAGE!r} with balanced brackets. Got {program!r} instead.")
    out, status, _ = _execute(program, jump, max_steps, target, max_output)
    return out, status


def program_steps(program: str, *, max_steps: int = 100_000) -> int:
    """Steps a program runs before it halts (raises if it is still running after ``max_steps``)."""
    jump = _jumps(program)
    if jump is None or any(ch not in LANGUAGE for ch in program):
        raise ValueError(f"`program` must use only {LANGUAGE!r} with balanced brackets. Got {program!r} instead.")
    _, status, steps = _execute(program, jump, max_steps, None, 10**6)
    if status != "halted":
        raise ValueError(f"`program` {program!r} did not halt within {max_steps} steps; raise `max_steps`.")
    return steps


@dataclass(frozen=True)
class SearchConfig:
    """Settings of one brute-force shortest-program search."""

    target: str = "01010101"  # its shortest program (7, a loop) needs 16 steps; at 10 steps only 8 is found
    max_length: int = 8  # longest program tried: 8 covers the direct print of the 8-digit default
    max_steps: int = 100  # the step cap of the main result
    step_limits: tuple[int, ...] = STEP_LIMITS  # caps at which the shortest program found is also reported


@dataclass(frozen=True)
class SearchResult:
    """Outcome of a brute-force shortest-program search."""

    target: str
    found: bool  # some program of length <= max_length printed the target within max_steps
    programs: tuple[str, ...]  # every program of the shortest successful length within max_steps (empty if none)
    per_length: pd.DataFrame  # length, programs, programs_tried, seconds, cap, step_limit, matches, growth
    max_steps: int
    by_limit: pd.DataFrame  # step_limit, shortest (length found or NA), program, steps: the bound at each cap


def _check_search(c: SearchConfig) -> None:
    if not isinstance(c, SearchConfig):
        raise TypeError(f"`config` must be a SearchConfig. Got {type(c).__name__} instead.")
    t = c.target
    if not isinstance(t, str) or not t or set(t) - {"0", "1"} or len(t) > 64:
        raise ValueError(f"`target` must be a string of 1 to 64 characters 0 and 1. Got {t!r} instead.")
    check_int(c.max_length, "max_length", low=1, high=9)
    check_int(c.max_steps, "max_steps", low=1, high=100_000)
    for s in c.step_limits:
        check_int(s, "step_limits", low=1, high=100_000)


def search_programs(config: SearchConfig, *, callback: Callable[[dict], None] | None = None) -> SearchResult:
    """Enumerate every program of the tiny language by length and record those that print the target.

    Programs of length L are tried in lexicographic order of :data:`LANGUAGE`; unbalanced ones are skipped (not
    counted). Each program runs once, capped at the largest cap of ``max_steps`` and ``step_limits`` that no
    shorter program has met yet, and its step count tells which caps it meets, so one enumeration gives the
    shortest program found under every cap. A program still running at a cap is abandoned: without a cap the
    search could wait forever on one program (the halting problem), and with it a shorter but slower program is
    missed, so every result is an upper bound on K. The search stops once every cap has a match, or after
    ``max_length``.

    Returns
    -------
    SearchResult
        ``per_length`` has one row per length searched: programs (valid programs of that length), programs_tried
        (those run: a program whose loop-free start already prints a wrong digit is ruled out unrun), seconds,
        cap (the step cap used at that length), step_limit (programs abandoned at it), matches (programs printing
        the target within ``max_steps``), growth (programs over those of the previous length). ``by_limit`` has
        the shortest length found under each cap of ``step_limits`` (NA if none up to the lengths searched), a
        fastest such program and its steps.
    """
    _check_search(config)
    c = config
    wanted = sorted({c.max_steps, *c.step_limits})  # caps still without a match
    n_balanced = count_programs(c.max_length)
    rows, last = [], time.monotonic()
    hits: list[tuple[int, int, str]] = []  # (length, steps, program) of every program that prints the target
    for L in range(1, c.max_length + 1):
        start, tried, limited, matches = time.perf_counter(), 0, 0, 0
        cap = wanted[-1]  # a longer program cannot beat a match already found under a cap, so run only to the rest
        for program, jump, out in _programs(L, c.target):
            tried += 1
            if jump is None:  # no loop: it prints `out` in L steps
                status, steps = "halted", L
            else:
                out, status, steps = _execute(program, jump, cap, c.target, 10_000)
            limited += status == "step_limit"
            if status == "halted" and out == c.target:
                hits.append((L, steps, program))
                matches += steps <= c.max_steps
            if callback is not None and time.monotonic() - last > 0.05:
                last = time.monotonic()
                callback({"progress": (L - 1 + tried / n_balanced[L - 1]) / c.max_length, "length": L,
                          "programs_tried": tried, "seconds": last - start})  # fmt: skip
        growth = n_balanced[L - 1] / n_balanced[L - 2] if L > 1 else float("nan")
        rows.append({"length": L, "programs": n_balanced[L - 1], "programs_tried": tried,
                     "seconds": time.perf_counter() - start, "cap": cap, "step_limit": limited, "matches": matches,
                     "growth": growth})  # fmt: skip
        wanted = [lim for lim in wanted if not any(s <= lim for _, s, _ in hits)]
        if not wanted:
            break
    if callback is not None:
        callback({"progress": 1.0, **rows[-1]})
    found = tuple(p for L, s, p in hits if s <= c.max_steps and L == min(h[0] for h in hits if h[1] <= c.max_steps))
    limits = []
    for lim in sorted(c.step_limits):
        ok = sorted((L, s, p) for L, s, p in hits if s <= lim)
        limits.append({"step_limit": lim, "shortest": ok[0][0] if ok else pd.NA, "program": ok[0][2] if ok else "",
                       "steps": ok[0][1] if ok else pd.NA})  # fmt: skip
    by_limit = pd.DataFrame(limits).astype({"shortest": "Int64", "steps": "Int64"})
    return SearchResult(c.target, bool(found), found, pd.DataFrame(rows), c.max_steps, by_limit)


def shortest_program(
    target: str, *, max_length: int = 5, max_steps: int = 100, callback: Callable[[dict], None] | None = None
) -> SearchResult:
    """:func:`search_programs` for one target and step cap (``step_limits`` = ``(max_steps,)``)."""
    return search_programs(
        SearchConfig(target=target, max_length=max_length, max_steps=max_steps, step_limits=(max_steps,)),
        callback=callback,
    )
