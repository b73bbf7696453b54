"""A task file (tasks/NAME.toml) as validated: where its examples come from, its prompt, its
generation settings and its [score] table, which the scorer it names validates (bench/scorers/)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, field_validator, model_validator

from bench.config.models import MAX_NEW_TOKENS
from bench.config.templates import template_fields
from bench.config.toml import KeyProblem, Strict


class DataSpec(Strict):
    """Where examples come from: a local file (path) or a Hugging Face dataset (hf)."""

    path: str | None = Field(default=None, description="JSONL, CSV or Parquet, relative to the task file")
    hf: str | None = Field(default=None, description="Hub dataset id (or a local dataset folder)")
    config: str | list[str] | None = Field(default=None, description="dataset config; a list loads each in turn")
    split: str = "test"
    revision: str | None = None
    id: str | None = Field(default=None, description="field holding a stable example id")
    fields: dict[str, str | list[str]] = Field(
        default={}, description="template name -> source column, or a list of columns gathered into a list")
    columns: list[str] | None = Field(default=None, description="names for the columns of a CSV without a header")
    fewshot_path: str | None = None
    fewshot_split: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> DataSpec:
        if (self.path is None) == (self.hf is None):
            raise ValueError("give exactly one of 'path' (a local file) or 'hf' (a Hub dataset)")
        if self.fewshot_split and self.hf is None:
            raise ValueError("'fewshot_split' needs 'hf'; for a local file use 'fewshot_path'")
        if self.columns is not None and not (self.path or "").lower().endswith(".csv"):
            raise KeyProblem(("data", "columns"), "'columns' names the columns of a CSV file without a header; "
                                                 "it needs path = '....csv'")
        return self


class PromptSpec(Strict):
    system: str = ""
    user: str = Field(min_length=1)
    fewshot: int = Field(default=0, ge=0)
    fewshot_seed: int = 0


class GenerationSpec(Strict):
    max_new_tokens: int = Field(default=64, ge=1, le=MAX_NEW_TOKENS)
    stop: list[str] = []

    @field_validator("stop")
    @classmethod
    def _non_empty(cls, stop: list[str]) -> list[str]:
        if any(s == "" for s in stop):
            raise ValueError("stop strings must not be empty")
        return stop


class TaskSpec(Strict):
    """A task file's tables. `score` is the named scorer's options class (bench/scorers/base.py):
    load_task validates with a subclass whose `score` is the union of the registered classes."""

    description: str = ""
    data: DataSpec
    prompt: PromptSpec
    generation: GenerationSpec = GenerationSpec()
    score: Any

    @model_validator(mode="after")
    def _plain_placeholders(self) -> TaskSpec:
        for key, template in self.templates().items():
            try:
                template_fields(template)
            except ValueError as e:
                raise KeyProblem(tuple(key.split(".")), str(e)) from None
        return self

    def templates(self) -> dict[str, str]:
        """Every template of the task by its key, for checking placeholders against the data."""
        out = {"prompt.system": self.prompt.system, "prompt.user": self.prompt.user}
        out.update({f"score.{k}": v for k, v in self.score.templates().items()})
        return out


class Task(BaseModel):
    """A task file as loaded: its name (the file stem), where it lives, and its spec."""

    name: str
    path: Path
    spec: TaskSpec


def task_text(task: Task) -> str:
    return task.path.read_text(encoding="utf-8")
