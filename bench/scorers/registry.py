"""The scorers a task file can name: one entry each (its factory and its options class, which
holds its keys, their checks and its target check). A "package.module:function" name is a user's
own scorer. `register()` adds an entry (a plugin, a test's toy scorer)."""

from __future__ import annotations

import functools
import inspect
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from bench.scorers import numeric, overlap, sql, structured, text, user
from bench.scorers.base import OPTIONS, ScoreOptions, Scorer


@dataclass(frozen=True)
class ScorerEntry:
    name: str  # what a task's `scorer` key says
    options: type[ScoreOptions]  # its [score] keys, their checks, its target check
    factory: Callable[..., Scorer]  # keyword options (options.kwargs) -> the scoring function


_ENTRIES: dict[str, ScorerEntry] = {}
USER = ScorerEntry("package.module:function", user.UserOptions, user.user_scorer)
OPTIONS[USER.name] = USER.options


def register(entry: ScorerEntry) -> None:
    """Add a scorer (or replace one of the same name); task files can name it from then on."""
    _ENTRIES[entry.name] = entry
    OPTIONS[entry.name] = entry.options


def unregister(name: str) -> None:
    """Remove a scorer added by register() (a test's toy, once the test is done)."""
    _ENTRIES.pop(name, None)
    OPTIONS.pop(name, None)


for _entry in (
    ScorerEntry("exact", text.ExactOptions, text.exact),
    ScorerEntry("number", numeric.NumberOptions, numeric.number),
    ScorerEntry("label", text.LabelOptions, text.label),
    ScorerEntry("choice", text.ChoiceOptions, text.choice),
    ScorerEntry("json_fields", structured.JsonFieldsOptions, structured.json_fields),
    ScorerEntry("sql_execution", sql.SqlOptions, sql.sql_execution),
    ScorerEntry("rouge_l", overlap.RougeLOptions, overlap.rouge_l),
    ScorerEntry("token_f1", overlap.TokenF1Options, overlap.token_f1),
    ScorerEntry("span_f1", structured.SpanF1Options, structured.span_f1),
    ScorerEntry("regex", text.RegexOptions, text.regex),
):
    register(_entry)


def names() -> list[str]:
    return list(_ENTRIES)


def get(name: str) -> ScorerEntry | None:
    """The entry for a `scorer` value, the user entry for "module:function", else None."""
    if name in _ENTRIES:
        return _ENTRIES[name]
    return USER if re.match(user.SPEC_RE, name) else None


def unknown(name: Any) -> str:
    return (f"unknown scorer {name!r} (known: {', '.join(_ENTRIES)}, or 'package.module:function' for your "
            f"own)")


def make(name: str, **options: Any) -> Scorer:
    """The scorer `name` with the keyword options it takes (others are ignored, so one set serves
    every scorer); a 'module:function' name is a user scorer, found in `search_dir` too."""
    entry = get(name)
    if entry is None:
        raise ValueError(unknown(name))
    if entry is USER:
        options["spec"] = name
    takes = inspect.signature(entry.factory).parameters
    return entry.factory(**{k: v for k, v in options.items() if k in takes})


def from_spec(spec: ScoreOptions, base: Path) -> Scorer:
    """The scorer of a task's [score] table; paths are relative to the task file's folder `base`."""
    return get(spec.scorer).factory(**spec.kwargs(base))


def target_problem(spec: ScoreOptions, target: str, base: Path, inputs: dict | None = None) -> str | None:
    """Why a reference answer (and the example's other scoring inputs) cannot be scored, or None."""
    problem = spec.target_problem(target, base)
    if problem:
        return problem
    for key, value in (inputs or {}).items():
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return f"'{key}' must render to a JSON list of strings, got {str(value)[:80]!r}"
    return spec.inputs_problem(inputs or {})


@functools.lru_cache(maxsize=None)
def _union(entries: tuple[ScorerEntry, ...]):
    from typing import Annotated, Union

    from pydantic import Discriminator, Tag

    members = tuple(Annotated[e.options, Tag(e.name)] for e in entries)
    return Annotated[Union[members], Discriminator(_tag, custom_error_type="unknown_scorer",
                                                   custom_error_message="unknown scorer")]


def options_type():
    """The type of a [score] table: the options class of the scorer it names."""
    return _union((*_ENTRIES.values(), USER))


def _tag(table: Any) -> str | None:
    name = table.get("scorer") if isinstance(table, dict) else getattr(table, "scorer", None)
    entry = get(name) if isinstance(name, str) else None
    return entry.name if entry is not None else None


def table_problem(table: Any) -> str:
    """What is wrong with a [score] table whose `scorer` names no scorer."""
    if not isinstance(table, dict):
        return f"must be a table ([score]), not {table!r}"
    if "scorer" not in table:
        return "required key is missing"
    return unknown(table["scorer"])
