"""What every scorer returns, the text normalisation most of them share, and the [score] options
every scorer has (each scorer's own options class extends them)."""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, ClassVar

from pydantic import Field, model_validator

from bench.config.templates import render_value
from bench.config.toml import KeyProblem, Strict


@dataclass(frozen=True)
class Score:
    value: float  # the score that counts: 1.0 correct, 0.0 wrong, fractions for partial credit
    extracted: Any  # what the scorer read out of the output (None when nothing usable)
    reason: str  # one short phrase a person can check the score against
    details: dict[str, Any] | None = None  # per-field or per-fact results, valid_json, ...
    lenient: float | None = None  # the lenient reading's score, for scorers that have one (label)


Scorer = Callable[..., Score]  # (output, target, **per-example inputs such as facts or options) -> Score


def normalize(text: str) -> str:
    """Case-folded, NFKC, whitespace collapsed, surrounding quotes and final punctuation removed."""
    text = unicodedata.normalize("NFKC", str(text)).casefold().strip()
    text = re.sub(r"\s+", " ", text)
    while True:  # '"Paris".' and '**Paris**.' both end as 'paris'
        stripped = text.strip(" \"'`*").rstrip(".!?;:,")
        if stripped == text:
            return text
        text = stripped


def first_json(text: str, kind: type) -> Any | None:
    """The first JSON value of the given kind (dict or list) in the text; code fences and chatter
    around it are ignored."""
    decoder = json.JSONDecoder()
    for m in re.finditer(r"\{" if kind is dict else r"\[", text):
        try:
            obj, _ = decoder.raw_decode(text, m.start())
        except json.JSONDecodeError:
            continue
        if isinstance(obj, kind):
            return obj
    return None


def as_list(target: str) -> list | None:
    """A target rendered from a list field (a JSON array), else None."""
    if not target.lstrip().startswith("["):
        return None
    try:
        value = json.loads(target)
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, list) else None


# the options class of every scorer a task file can name, by name: filled by
# bench.scorers.registry.register(), read here so that a key of another scorer is named as such
OPTIONS: dict[str, type[ScoreOptions]] = {}


def option_keys() -> set[str]:
    """Every key some scorer takes in [score]."""
    return {k for options in OPTIONS.values() for k in options.model_fields}


class ScoreOptions(Strict):
    """A task's [score] table as one scorer reads it: the keys every scorer has, and hooks a
    scorer's own options class overrides (its keys, checks and the reference it compares to).
    KeyProblem keys are relative to [score]."""

    scorer: str
    target: str = Field(default="", description="template of the reference answer, e.g. '{label}'")
    target_pattern: str | None = Field(default=None, description="regex: the reference is its first match "
                                                                 "in the rendered target (group 1 if any)")

    needs_target: ClassVar[bool] = True  # False when the scorer builds its reference from other keys
    per_example: ClassVar[tuple[str, ...]] = ()  # template keys rendered per example into a list it takes
    gives_lenient: ClassVar[bool] = False  # it scores a lenient reading beside the strict one

    @model_validator(mode="before")
    @classmethod
    def _options_of_this_scorer(cls, table: Any) -> Any:
        """A key another scorer takes is named as such; any other unknown key is pydantic's 'unknown key'."""
        if isinstance(table, dict):
            mine = set(cls.model_fields)
            for option in sorted(set(table) - mine):
                if option in option_keys():
                    raise KeyProblem((option,), f"'{option}' is not an option of scorer {table.get('scorer')!r} "
                                                f"(its options: {', '.join(sorted(mine - {'scorer'}))})")
        return table

    @model_validator(mode="after")
    def _complete(self) -> ScoreOptions:
        self.check()
        if self.needs_target and not self.target:
            raise KeyProblem(("target",), f"scorer {self.scorer!r} needs 'target', the reference answer's template")
        compile_option("target_pattern", self.target_pattern)
        return self

    def check(self) -> None:
        """The scorer's own keys together (KeyProblem); run before the target is checked."""

    def templates(self) -> dict[str, str]:
        """Every template of the table by its key under [score], for checking placeholders."""
        return {"target": self.target, **{k: getattr(self, k) for k in self.per_example if getattr(self, k)}}

    def reference(self, fields: dict[str, Any]) -> str:
        """The reference answer for an example's fields: the target rendered (a bare '{field}'
        holding a list or dict as JSON), cut to target_pattern's first match (group 1 if any)."""
        text = render_value(self.target, fields)
        if self.target_pattern:
            m = re.search(self.target_pattern, text)
            if m is None:
                raise ValueError(f"target_pattern {self.target_pattern!r} does not match the target {text[-80:]!r}")
            text = (m.group(1) if m.re.groups else m.group(0)).strip()
        return text

    def file_problem(self, base: Path) -> tuple[str, str] | None:
        """What the table points at outside the task file (in folder `base`), if it cannot be used."""
        return None

    def scorer_file(self, base: Path) -> tuple[str, Path] | None:
        """(kind, path) of the file outside the task file that decides its scores, if any: the
        manifest records its hash, and a resume refuses it changed."""
        return None

    def kwargs(self, base: Path) -> dict[str, Any]:
        """The keyword options of the scorer's factory."""
        return {}

    def target_problem(self, target: str, base: Path) -> str | None:
        """Why a reference answer cannot be scored, or None."""
        return None

    def inputs_problem(self, inputs: dict[str, Any]) -> str | None:
        """Why an example's per-example inputs (already lists of strings) cannot be scored, or None."""
        return None


def compile_option(key: str, pattern: str | None) -> None:
    try:
        re.compile(pattern or "")
    except re.error as e:
        raise KeyProblem((key,), f"invalid regular expression: {e}") from None


def empty_target(target: str) -> str | None:
    """The target check of scorers that compare text: nothing to compare against."""
    return None if normalize(target) else "the target is empty"
