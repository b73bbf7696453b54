"""Answer extraction and scoring: pure functions, no I/O.

Each scorer is made by a factory that takes keyword-only options and returns a function
(output, target) -> Score. The Score keeps the extracted answer and a short reason.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Callable


@dataclass(frozen=True)
class Score:
    value: float  # 1.0 correct, 0.0 wrong; fractions for partial credit (json_fields)
    extracted: Any  # what the scorer read out of the output (None when nothing usable)
    reason: str  # one short phrase a person can check the score against
    details: dict[str, Any] | None = None  # per-field results for json_fields


Scorer = Callable[[str, str], Score]


def normalize(text: str) -> str:
    """Case-folded, NFKC, whitespace collapsed, surrounding quotes and final punctuation removed."""
    text = unicodedata.normalize("NFKC", str(text)).casefold().strip()
    text = re.sub(r"\s+", " ", text)
    while True:  # '"Paris".' and '**Paris**.' both end as 'paris'
        stripped = text.strip(" \"'`*").rstrip(".!?;:,")
        if stripped == text:
            return text
        text = stripped


def exact() -> Scorer:
    """Equal after normalize(): "Paris." matches "paris", but "Paris, France" does not."""

    def score(output: str, target: str) -> Score:
        got, want = normalize(output), normalize(target)
        ok = got == want
        return Score(float(ok), got, "equal after normalisation" if ok else f"expected {want!r}")

    return score


_NUMBER = re.compile(
    r"(?<![\w.])[-\u2212]?[$\u20ac\u00a3\u00a5]?\s?(?:\d{1,3}(?:[,'\u2009]\d{3})+|\d+)(?:\.\d+)?(?!\d)"
    r"|(?<![\w.])[-\u2212]?\.\d+")


def parse_number(text: str) -> float | None:
    """A number as people write it: "1,234.50", "$1,234", "-3", ".5", "12%" (percent sign dropped:
    60% reads as 60, not 0.6). Thousands separators are ',', apostrophe or a thin space, in groups
    of three; a comma as the decimal mark ("1.234,50") is not understood."""
    text = str(text).strip()
    matches = _NUMBER.findall(text)
    if not matches:
        return None
    return _to_float(matches[-1])


def _to_float(token: str) -> float | None:
    token = token.replace("\u2212", "-")
    token = re.sub(r"[$\u20ac\u00a3\u00a5\s',\u2009]", "", token)
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


def label(*, labels: list[str]) -> Scorer:
    """The answer's label: the whole normalised answer if it is a label, else the first label
    mentioned as a whole word ("Queue: billing" reads as billing). Longer labels win ties."""
    by_norm = {normalize(lab): lab for lab in labels}
    pattern = re.compile(r"\b(" + "|".join(re.escape(n) for n in sorted(by_norm, key=len, reverse=True)) + r")\b")

    def score(output: str, target: str) -> Score:
        norm = normalize(output)
        if norm in by_norm:
            got, how = by_norm[norm], "the whole answer is a label"
        else:
            m = pattern.search(norm)
            if m is None:
                return Score(0.0, None, "no known label in the output")
            got, how = by_norm[m.group(1)], "first label mentioned"
        ok = normalize(got) == normalize(target)
        return Score(float(ok), got, how if ok else f"{how}: {got!r}, expected {target!r}")

    return score


def first_json_object(text: str) -> dict | None:
    """The first JSON object in the text (code fences and chatter around it are ignored)."""
    decoder = json.JSONDecoder()
    for m in re.finditer(r"\{", text):
        try:
            obj, _ = decoder.raw_decode(text, m.start())
        except json.JSONDecodeError:
            continue
        if isinstance(obj, dict):
            return obj
    return None


def _same_value(got: Any, want: Any, tolerance: float) -> bool:
    want_num = want if isinstance(want, (int, float)) and not isinstance(want, bool) else None
    # a number written as a string compares as a number, unless a leading zero marks an identifier
    if want_num is None and isinstance(want, str) and re.fullmatch(r"-?(0|[1-9]\d*)(\.\d+)?", want.strip()):
        want_num = float(want)
    if want_num is not None:
        got_num = got if isinstance(got, (int, float)) and not isinstance(got, bool) else (
            parse_number(got) if isinstance(got, str) else None)
        return got_num is not None and abs(float(got_num) - float(want_num)) <= tolerance
    return got is not None and normalize(str(got)) == normalize(str(want))


def json_fields(*, fields: list[str], tolerance: float = 1e-6) -> Scorer:
    """Fraction of the named fields whose value matches, in the first JSON object of the output.
    Numbers compare within tolerance ("1,234.50" matches 1234.5); strings after normalize().
    The target is a JSON object of the reference values. No JSON object scores 0."""

    def score(output: str, target: str) -> Score:
        want = json.loads(target)
        got = first_json_object(output)
        if got is None:
            return Score(0.0, None, "no valid JSON object in the output", {"valid_json": False})
        matched = {k: _same_value(got.get(k), want.get(k), tolerance) for k in fields}
        n = sum(matched.values())
        wrong = [k for k, ok in matched.items() if not ok]
        reason = f"{n}/{len(fields)} fields match" + (f"; wrong: {', '.join(wrong)}" if wrong else "")
        return Score(n / len(fields), {k: got.get(k) for k in fields}, reason,
                     {"valid_json": True, "fields": matched})

    return score


def target_problem(scorer: str, target: str, *, labels: list[str]) -> str | None:
    """Why a reference answer cannot be scored by this scorer, or None if it can."""
    if scorer == "number" and parse_number(target) is None:
        return f"target {target!r} is not a number"
    if scorer == "label" and normalize(target) not in {normalize(lab) for lab in labels}:
        return f"target {target!r} is not one of the labels"
    if scorer == "json_fields":
        empty = [k for k, v in json.loads(target).items() if v is None or v == ""]
        if empty:
            return f"no reference value for field(s) {', '.join(empty)}"
    if scorer == "exact" and not normalize(target):
        return "the target is empty"
    return None


def make(scorer: str, *, labels: list[str], tolerance: float, fields: list[str]) -> Scorer:
    """The scorer a task file names, with its options."""
    if scorer == "exact":
        return exact()
    if scorer == "number":
        return number(tolerance=tolerance)
    if scorer == "label":
        return label(labels=labels)
    if scorer == "json_fields":
        return json_fields(fields=fields, tolerance=tolerance)
    raise ValueError(f"unknown scorer {scorer!r}")
