"""Scoring's public names: the Score every scorer returns, the scorers themselves (small pure
functions in bench/scorers/, one module per family) and the registry's make / from_spec /
target_problem. A user's scorer module imports `Score` from here."""

from __future__ import annotations

from bench.scorers.base import Score, Scorer, first_json, normalize
from bench.scorers.numeric import number, parse_number
from bench.scorers.overlap import rouge_l, squad_normalize, token_f1
from bench.scorers.registry import from_spec, make, target_problem
from bench.scorers.sql import sql_execution
from bench.scorers.structured import json_fields, span_f1
from bench.scorers.text import choice, exact, label, regex

__all__ = ["Score", "Scorer", "normalize", "parse_number", "first_json", "squad_normalize", "exact", "number",
           "label", "choice", "regex", "json_fields", "span_f1", "token_f1", "rouge_l", "sql_execution", "make",
           "from_spec", "target_problem"]
