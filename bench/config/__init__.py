"""The files a user writes, as validated pydantic models: the model registry (models.py), task
files (taskfile.py), their `{field}` templates (templates.py), and the reading that turns every
mistake into one line naming the file, line and key (toml.py). These are the public names."""

from bench.config.models import (DEVICE_RE, MAX_NEW_TOKENS, AnthropicModel, ApiModel, ClientOptions, Hardware,
                                 ModelsConfig, ModelTable, OpenAIModel, ServedModel, TransformersModel, load_models)
from bench.config.selection import select
from bench.config.taskfile import DataSpec, GenerationSpec, PromptSpec, Task, TaskSpec, load_task, load_tasks, task_text
from bench.config.templates import placeholders, render_value, template_fields
from bench.config.toml import KeyProblem, Strict, key_line, name_problem, read_toml, where

__all__ = ["DEVICE_RE", "MAX_NEW_TOKENS", "AnthropicModel", "ApiModel", "ClientOptions", "Hardware", "ModelsConfig",
           "ModelTable", "OpenAIModel", "ServedModel", "TransformersModel", "load_models", "select", "DataSpec",
           "GenerationSpec", "PromptSpec", "Task", "TaskSpec", "load_task", "load_tasks", "task_text",
           "placeholders", "render_value", "template_fields", "KeyProblem", "Strict", "key_line", "name_problem",
           "read_toml", "where"]
