"""Scoring: picks the scorer a task file names and checks reference answers. The scorers are small
pure functions in bench/scorers/; each returns a Score with the extracted answer and a reason."""

from __future__ import annotations

import json
import re
from pathlib import Path

from bench.scorers import user as user_mod
from bench.scorers.base import Score, Scorer, as_list, first_json, normalize
from bench.scorers.numeric import number, parse_number
from bench.scorers.overlap import rouge_l, squad_normalize, token_f1
from bench.scorers.sql import reference_problem, sql_execution
from bench.scorers.structured import json_fields, span_f1
from bench.scorers.text import LETTERS, choice, exact, label, regex

__all__ = ["Score", "Scorer", "normalize", "parse_number", "first_json", "squad_normalize", "exact", "number",
           "label", "choice", "regex", "json_fields", "span_f1", "token_f1", "rouge_l", "sql_execution", "make",
           "from_spec", "target_problem", "BUILTIN"]

# name -> the options it takes (besides target); the config checks that no other option is set
BUILTIN: dict[str, set[str]] = {
    "exact": set(), "number": {"tolerance"}, "label": {"labels", "primary"}, "choice": {"options"},
    "json_fields": {"fields", "tolerance"}, "sql_execution": {"database"}, "rouge_l": {"facts"},
    "token_f1": set(), "span_f1": set(), "regex": {"pattern"},
}


def make(scorer: str, *, labels: list[str] = (), tolerance: float = 1e-6, fields: list[str] = (),
         primary: str = "strict", pattern: str | None = None, database: Path | None = None,
         search_dir: Path | None = None) -> Scorer:
    """The scorer a task file names, with its options; a 'module:function' name is a user scorer."""
    if scorer == "exact":
        return exact()
    if scorer == "number":
        return number(tolerance=tolerance)
    if scorer == "label":
        return label(labels=list(labels), primary=primary)
    if scorer == "choice":
        return choice()
    if scorer == "json_fields":
        return json_fields(fields=list(fields), tolerance=tolerance)
    if scorer == "sql_execution":
        if database is None:
            raise ValueError("sql_execution needs a database")
        return sql_execution(database=database)
    if scorer == "rouge_l":
        return rouge_l()
    if scorer == "token_f1":
        return token_f1()
    if scorer == "span_f1":
        return span_f1()
    if scorer == "regex":
        if pattern is None:
            raise ValueError("regex needs a pattern")
        return regex(pattern=pattern)
    if re.match(user_mod.SPEC_RE, scorer):
        return user_mod.user(user_mod.load(scorer, search_dir), scorer)
    raise ValueError(f"unknown scorer {scorer!r}")


def from_spec(spec, base: Path) -> Scorer:
    """The scorer of a task's [score] table; paths are relative to the task file's folder `base`."""
    return make(spec.scorer, labels=spec.labels, tolerance=spec.tolerance, fields=list(spec.fields),
                primary=spec.primary, pattern=spec.pattern,
                database=(base / spec.database) if spec.database else None, search_dir=base)


def target_problem(spec, target: str, base: Path, inputs: dict | None = None) -> str | None:
    """Why a reference answer (and the example's other scoring inputs) cannot be scored, or None."""
    scorer = spec.scorer
    if scorer == "number" and parse_number(target) is None:
        return f"target {target!r} is not a number"
    if scorer == "label" and normalize(target) not in {normalize(lab) for lab in spec.labels}:
        return f"target {target!r} is not one of the labels"
    if scorer == "choice" and target.strip().upper() not in LETTERS:
        return f"target {target!r} is not an option letter ({', '.join(LETTERS)})"
    if scorer == "json_fields":
        empty = [k for k, v in json.loads(target).items() if v is None or v == ""]
        if empty:
            return f"no reference value for field(s) {', '.join(empty)}"
    if scorer == "span_f1":
        spans = as_list(target)
        if spans is None or not all(isinstance(s, dict) and {"type", "text"} <= set(s) for s in spans):
            return f'target {target[:80]!r} is not a JSON list of {{"type": ..., "text": ...}} objects'
    if scorer in ("exact", "regex", "token_f1", "rouge_l") and not normalize(target):
        return "the target is empty"
    if scorer == "sql_execution":
        return reference_problem(base / spec.database, target)
    for key, value in (inputs or {}).items():
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return f"'{key}' must render to a JSON list of strings, got {str(value)[:80]!r}"
    if scorer == "choice" and inputs and len(inputs.get("options", [])) != len(LETTERS):
        return f"'options' has {len(inputs['options'])} items; a choice task has {len(LETTERS)}"
    return None
