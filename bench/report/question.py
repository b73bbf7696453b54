"""The question a report or `bench recommend` answers: the one each run recorded in its manifest
(the question it was run with), then the [decision] table of the --config file, then the flags;
whatever none of them sets takes its default (bench/report/decision.py). A reference that is not a
model of the runs is bad input, named by where it came from."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from bench.config import load_models, read_toml, where
from bench.config.decision import DecisionTable
from bench.errors import InputError
from bench.report.decision import Question
from bench.report.runs import Merged


def recorded(merged: Merged) -> tuple[dict, dict]:
    """The keys the runs' manifests record (the first run that sets a key wins) and, for each, where."""
    given, source = {}, {}
    for manifest, folder in zip(merged.manifests, merged.folders):
        q = manifest.get("question")
        if q is None:
            continue
        try:
            values = DecisionTable.model_validate(q).given()
        except ValidationError as e:
            first = e.errors()[0]
            key = ".".join(str(p) for p in ("question", *first["loc"]))
            raise InputError(f"{folder / 'manifest.json'}: key '{key}': {first['msg']}; the file is corrupted") from None
        for key, value in values.items():
            if key not in given:
                given[key], source[key] = value, f"{folder / 'manifest.json'}: key 'question.{key}'"
    return given, source


def from_config(config: Path) -> tuple[dict, dict]:
    """The [decision] keys of a models.toml and, for each, its file:line:key."""
    values = load_models(config).decision.given()
    _, text = read_toml(config)
    return values, {k: where(config, text, ("decision", k)) for k in values}


def question_of(merged: Merged, flags: dict | None = None, config: Path | None = None,
                utilisation: float = 0.5) -> Question:
    """The runs' question, overridden by --config's [decision], then by the flags (checked by
    bench.config.decision.from_flags)."""
    given, source = recorded(merged)
    if config is not None:
        values, where_ = from_config(config)
        given, source = {**given, **values}, {**source, **where_}
    flags = flags or {}
    given = {**given, **flags}
    source.update({k: f"--{k.replace('_', '-')} {v}" for k, v in flags.items()})
    ref = given.get("reference")
    models = sorted({c.model for c in merged.cells})
    if ref is not None and ref not in models:
        raise InputError(f"{source['reference']}: reference {ref!r} is not a model of these runs "
                         f"(models: {', '.join(models)})")
    return Question.of(given, utilisation)
