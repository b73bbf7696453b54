"""The files a user writes, as validated pydantic models: the model registry (models.py), task
files (taskfile.py), their `{field}` templates (templates.py), and the reading that turns every
mistake into one line naming the file, line and key (toml.py), where a local model's files are
(modelfiles.py). These are the public names.

Layer 1 (the bottom, with bench.core): it must not import any other part of bench but bench.errors
and bench.safetext. It knows no backend and no scorer: backends add their table class through
bench.config.models.add_table, and task files are read with their scorers' options by
bench/prepare/taskfiles.py."""

from bench.config.models import (
                                 DEVICE_RE,
                                 MAX_NEW_TOKENS,
                                 AnthropicModel,
                                 ApiModel,
                                 ClientOptions,
                                 Hardware,
                                 ModelsConfig,
                                 ModelTable,
                                 OpenAIModel,
                                 ServedModel,
                                 TransformersModel,
                                 load_models,
)
from bench.config.selection import select
from bench.config.taskfile import DataSpec, GenerationSpec, PromptSpec, Task, TaskSpec, task_text
from bench.config.templates import placeholders, render_value, template_fields
from bench.config.toml import KeyProblem, Strict, key_line, name_problem, read_toml, where

__all__ = ["DEVICE_RE", "MAX_NEW_TOKENS", "AnthropicModel", "ApiModel", "ClientOptions", "Hardware", "ModelsConfig",
           "ModelTable", "OpenAIModel", "ServedModel", "TransformersModel", "load_models", "select", "DataSpec",
           "GenerationSpec", "PromptSpec", "Task", "TaskSpec", "task_text",
           "placeholders", "render_value", "template_fields", "KeyProblem", "Strict", "key_line", "name_problem",
           "read_toml", "where"]
