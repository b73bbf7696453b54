"""Scorers for structured answers: json_fields (an object of named fields) and span_f1 (a list of
typed spans, as in PII detection)."""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any, ClassVar

from pydantic import Field

from bench.config.templates import NOT_BARE, bare_value
from bench.config.toml import KeyProblem
from bench.scorers.base import Score, ScoreOptions, Scorer, as_list, first_json, normalize
from bench.scorers.numeric import parse_number


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
        got = first_json(output, dict)
        if got is None:
            return Score(0.0, None, "no valid JSON object in the output", {"valid_json": False})
        matched = {k: _same_value(got.get(k), want.get(k), tolerance) for k in fields}
        n = sum(matched.values())
        wrong = [k for k, ok in matched.items() if not ok]
        reason = f"{n}/{len(fields)} fields match" + (f"; wrong: {', '.join(wrong)}" if wrong else "")
        return Score(n / len(fields), {k: got.get(k) for k in fields}, reason,
                     {"valid_json": True, "fields": matched})

    return score


def _spans(items: list) -> Counter:
    """(TYPE, normalised text) pairs; items that are not {"type", "text"} objects are ignored."""
    return Counter((str(i["type"]).strip().upper(), normalize(str(i["text"])))
                   for i in items if isinstance(i, dict) and "type" in i and "text" in i)


def span_f1() -> Scorer:
    """F1 over typed spans. The output's first JSON array of {"type": T, "text": S} objects against
    the target's; a span counts when both its type (case-insensitive) and its normalised text match,
    each reference span at most once. Both empty scores 1; no JSON array in the output scores 0."""

    def score(output: str, target: str) -> Score:
        want = _spans(json.loads(target))
        got_list = first_json(output, list)
        if got_list is None:
            return Score(0.0, None, "no JSON array in the output", {"valid_json": False})
        got = _spans(got_list)
        if not got and not want:
            return Score(1.0, [], "no spans expected, none given", {"valid_json": True})
        hit = sum((got & want).values())
        precision = hit / sum(got.values()) if got else 0.0
        recall = hit / sum(want.values()) if want else 0.0
        f1 = 2 * precision * recall / (precision + recall) if hit else 0.0
        missed = sorted(f"{t}:{s}" for t, s in (want - got).elements())
        extra = sorted(f"{t}:{s}" for t, s in (got - want).elements())
        reason = f"{hit} of {sum(want.values())} spans found, {sum(got.values()) - hit} wrong"
        return Score(f1, [list(k) for k in got.elements()], reason,
                     {"valid_json": True, "precision": precision, "recall": recall, "missed": missed,
                      "extra": extra})

    return score


class JsonFieldsOptions(ScoreOptions):
    """The reference is a JSON object built from `fields`, each bare '{field}' keeping its type."""

    fields: dict[str, str] = Field(default={}, description="json key -> template of its reference value")
    tolerance: float = Field(default=1e-6, ge=0)

    needs_target: ClassVar[bool] = False

    def check(self) -> None:
        if not self.fields:
            raise KeyProblem(("fields",), "scorer 'json_fields' needs 'fields', a table of key = '{template}'")

    def templates(self) -> dict[str, str]:
        return {**super().templates(), **{f"fields.{k}": v for k, v in self.fields.items()}}

    def reference(self, fields: dict[str, Any]) -> str:
        obj = {}
        for key, template in self.fields.items():
            value = bare_value(template, fields)
            obj[key] = value if value is not NOT_BARE else template.format_map(fields)
        return json.dumps(obj, ensure_ascii=False, default=str)  # dates from Parquet become ISO strings

    def kwargs(self, base):
        return {"fields": list(self.fields), "tolerance": self.tolerance}

    def target_problem(self, target, base):
        empty = [k for k, v in json.loads(target).items() if v is None or v == ""]
        return f"no reference value for field(s) {', '.join(empty)}" if empty else None


class SpanF1Options(ScoreOptions):
    def target_problem(self, target, base):
        spans = as_list(target)
        if spans is None or not all(isinstance(s, dict) and {"type", "text"} <= set(s) for s in spans):
            return f'target {target[:80]!r} is not a JSON list of {{"type": ..., "text": ...}} objects'
        return None
