"""The number scorer and the number reader that json_fields shares."""

from __future__ import annotations

import re

from pydantic import Field

from bench.scorers.base import Score, ScoreOptions, Scorer

_CURRENCY = "$\u20ac\u00a3\u00a5\u20b9"
_NUMBER = re.compile(
    rf"(?<![\w.])[-\u2212]?[{_CURRENCY}]?\s?(?:\d{{1,3}}(?:[,'\u2009\u202f]\d{{3}})+|\d+)(?:\.\d+)?(?!\d)"
    r"|(?<![\w.])[-\u2212]?\.\d+")


def parse_number(text: str) -> float | None:
    """The last number as people write it: "1,234.50", "$1,234", "-3", ".5", "12%" (percent sign
    dropped: 60% reads as 60, not 0.6). Thousands separators are ',', apostrophe or a thin space, in
    groups of three; a comma as the decimal mark ("1.234,50") is not understood."""
    matches = _NUMBER.findall(str(text).strip())
    if not matches:
        return None
    token = matches[-1].replace("\u2212", "-")
    token = re.sub(rf"[{_CURRENCY}\s',\u2009\u202f]", "", token)
    try:
        return float(token)
    except ValueError:
        return None


def number(*, tolerance: float = 1e-6) -> Scorer:
    """The LAST number in the output against the target, within an absolute tolerance.
    Models often show their working, so the final number is taken as the answer."""

    def score(output: str, target: str) -> Score:
        want = parse_number(target)
        if want is None:
            raise ValueError(f"target {target!r} is not a number")
        got = parse_number(output)
        if got is None:
            return Score(0.0, None, "no number in the output")
        ok = abs(got - want) <= tolerance
        return Score(float(ok), got, f"|{got:g} - {want:g}| {'<=' if ok else '>'} {tolerance:g}")

    return score


class NumberOptions(ScoreOptions):
    tolerance: float = Field(default=1e-6, ge=0)

    def kwargs(self, base):
        return {"tolerance": self.tolerance}

    def target_problem(self, target, base):
        return f"target {target!r} is not a number" if parse_number(target) is None else None
