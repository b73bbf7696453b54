"""The model registry, models.toml: hardware prices and one table per model, each validated by
the class its backend registers (bench/backends/registry.py)."""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, Union

from pydantic import Field, ValidationInfo, create_model, field_validator, model_validator

from bench.config.decision import DecisionTable
from bench.config.templates import placeholders
from bench.config.toml import Choice, KeyProblem, Strict, iso_date, name_problem, read_toml, validate, where
from bench.errors import InputError

DEVICE_RE = r"^(auto|cpu|mps|cuda(:\d+)?)$"
# the most tokens any model may be asked to generate per answer (a task's max_new_tokens, an API
# model's max_tokens): above every current model's output limit, and a typo such as 100000000000
# cannot keep a run going for hours; a local model is also held to its own context length
MAX_NEW_TOKENS = 131072


class ModelTable(Strict):
    """What every [models.NAME] table's class offers besides its keys (a backend's class may
    override these); each check returns (key, what is wrong), or None."""

    def file_problem(self, base: Path) -> tuple[str, str] | None:
        """Checked when models.toml is read; `base` is its folder."""
        return None

    def run_problem(self, base: Path) -> tuple[str, str] | None:
        """Checked for each model a run selects, before anything runs."""
        return None

    def follows_device_flag(self) -> bool:
        """Whether --device moves this model (local backends)."""
        return True

    def context_limit(self, base: Path) -> tuple[int, str, Path] | None:
        """(tokens, the setting that says so, its file) when a local model's context length is
        known without loading it; every task's max_new_tokens must fit."""
        return None

    def gpu_count(self) -> int:
        """GPUs its worker (or the server the run starts) takes on a GPU machine; a backend whose
        table has a `gpus` key says so there."""
        return getattr(self, "gpus", 1)


class Hardware(Strict):
    """What one hour of a machine costs; local and self-hosted models are priced by the hour."""

    usd_per_hour: float = Field(ge=0)
    usd_per_kwh: float | None = Field(default=None, ge=0)
    prices_as_of: str | None = None
    description: str = ""

    _date = field_validator("prices_as_of", mode="before")(iso_date)


class TransformersModel(ModelTable):
    """A local model run in-process by Hugging Face transformers (+ accelerate for device_map)."""

    backend: Literal["transformers"]
    model: str = Field(min_length=1, description="Hub id or local directory")
    revision: str = "main"
    dtype: Literal["auto", "float32", "float16", "bfloat16"] = "auto"
    device: str = Field(default="auto", pattern=DEVICE_RE)
    device_map: str | None = None
    gpus: int = Field(default=1, ge=1, le=64, description="GPUs its worker takes (a device_map model spread over them)")
    batch_size: int = Field(default=8, ge=1)
    chat_template: str = Field(default="auto", description="auto | none | path to a Jinja template file")
    trust_remote_code: bool = False
    hardware: str | None = None
    engine: Literal["static", "continuous"] = Field(
        default="static", description="static: generate() on fixed batches; continuous: transformers' "
                                      "continuous batching with a paged KV cache (docs/models.md)")
    # continuous engine only; unset = sized from the cell's longest prompt, max_new_tokens and batch_size
    max_batch_tokens: int | None = Field(default=None, ge=1, description="tokens in one forward step")
    num_blocks: int | None = Field(default=None, ge=1, description="pages of the paged KV cache")
    page_size: int | None = Field(default=None, ge=4, description="tokens per page of the KV cache")

    CONTINUOUS_OPTIONS: ClassVar[tuple[str, ...]] = ("max_batch_tokens", "num_blocks", "page_size")

    @model_validator(mode="after")
    def _engine_options(self) -> TransformersModel:
        for key in self.CONTINUOUS_OPTIONS:
            if self.engine != "continuous" and getattr(self, key) is not None:
                raise KeyProblem((key,), f"'{key}' is an option of engine = \"continuous\" only; remove it or "
                                         f"set engine = \"continuous\"")
        return self

    def file_problem(self, base: Path) -> tuple[str, str] | None:
        local = Path(self.model)
        if (local if local.is_absolute() else base / local).is_file():
            return "model", (f"{self.model} is a file; a local model must be a folder holding config.json, the "
                             f"tokenizer and the weights (as save_pretrained writes it), or a Hub id such as org/name")
        return None

    def run_problem(self, base: Path) -> tuple[str, str] | None:
        if self.chat_template in ("auto", "none"):
            return None
        path = Path(self.chat_template)
        path = path if path.is_absolute() else base / path
        if not path.is_file():
            return "chat_template", f"template file {path} not found; use auto, none or the path of a Jinja file"
        return None

    def follows_device_flag(self) -> bool:
        return not self.device_map  # a device_map places the model itself

    def context_limit(self, base: Path) -> tuple[int, str, Path] | None:
        import json

        from bench.config.modelfiles import config_file, context_length

        file = config_file(self.model, self.revision, base)  # on disk only: nothing is downloaded
        try:
            found = context_length(json.loads(file.read_text(encoding="utf-8"))) if file else None
        except (OSError, ValueError, AttributeError):
            found = None  # a damaged config.json: loading the model will say what is wrong
        return None if found is None else (*found, file)


class ClientOptions(ModelTable):
    """How the OpenAI-compatible client talks to a model's server: shared by API models and
    managed (served) models."""

    model: str = Field(min_length=1, description="the model name the API expects")
    stream: bool = True
    concurrency: int = Field(default=8, ge=1, le=1024)
    max_tokens: int | None = Field(default=None, ge=1, le=MAX_NEW_TOKENS, description="overrides the task's max_new_tokens")
    temperature: float | Literal["default"] = Field(default=0.0, description='"default" sends none')
    send_stop: bool = Field(default=True, description="send the task's stop strings to the server")
    timeout_s: float = Field(default=120.0, gt=0, description="per attempt, whole response")
    max_attempts: int = Field(default=5, ge=1)
    backoff_s: float = Field(default=1.0, ge=0, description="first retry delay; doubles each retry")
    backoff_max_s: float = Field(default=60.0, ge=0)
    tokenizer: str | None = Field(default=None, description="HF tokenizer to count tokens when the server gives no usage")
    hardware: str | None = None


class ApiModel(ClientOptions):
    """A remote model behind an HTTP API. Prices are per 1M tokens; a self-hosted server names
    `hardware` instead and is priced by the hour."""

    base_url: str | None = None
    api_key_env: str | None = Field(default=None, description="NAME of the environment variable holding the key")
    usd_per_mtok_in: float | None = Field(default=None, ge=0)
    usd_per_mtok_cached_in: float | None = Field(default=None, ge=0)
    usd_per_mtok_out: float | None = Field(default=None, ge=0)
    prices_as_of: str | None = None
    hardware: str | None = None

    _date = field_validator("prices_as_of", mode="before")(iso_date)

    @field_validator("api_key_env")
    @classmethod
    def _variable_name(cls, name: str | None) -> str | None:
        # the value is never echoed: if it is not a variable name, it may be the key itself
        if name is not None and not re.fullmatch(r"[A-Z_][A-Z0-9_]{0,63}", name):
            raise ValueError("api_key_env must be the NAME of an environment variable (upper case, digits "
                             "and '_', like OPENAI_API_KEY), never the key itself")
        return name

    @field_validator("base_url")
    @classmethod
    def _url(cls, url: str | None) -> str | None:
        from urllib.parse import urlsplit

        if url is None:
            return url
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 - raises on a malformed port
        except ValueError:
            raise ValueError("base_url is not a valid URL") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("base_url must be an http:// or https:// URL with a host")
        return url

    @model_validator(mode="after")
    def _keys_and_prices(self) -> ApiModel:
        if self.base_url is None and self.api_key_env is None:
            raise ValueError("a hosted API needs api_key_env: the NAME of the environment variable holding the key")
        priced = any(p is not None for p in (self.usd_per_mtok_in, self.usd_per_mtok_cached_in, self.usd_per_mtok_out))
        if priced and self.prices_as_of is None:
            raise ValueError("prices need prices_as_of = \"YYYY-MM-DD\", the date they were checked")
        return self


class OpenAIModel(ApiModel):
    """OpenAI's chat completions API, or any server speaking it (vLLM, TGI, llama.cpp, Ollama)."""

    backend: Literal["openai"]
    reasoning_effort: Literal["none", "minimal", "low", "medium", "high"] | None = None


class AnthropicModel(ApiModel):
    """Anthropic's Messages API."""

    backend: Literal["anthropic"]
    # current Claude models take no sampling parameters; a number is sent as extra body for servers that do
    temperature: float | Literal["default"] = "default"
    effort: Literal["low", "medium", "high", "xhigh", "max"] | None = None
    thinking_budget_tokens: int | None = Field(default=None, ge=1024, le=MAX_NEW_TOKENS)


class ServedModel(ClientOptions):
    """A model behind an OpenAI-compatible server that the run starts on 127.0.0.1, measures and
    stops itself (docs/models.md, Served models). Priced by the hour of its box."""

    backend: Literal["served"]
    server: Literal["vllm", "transformers", "command"]
    command: str | None = Field(default=None, description='server = "command": its command line, with {port} '
                                                          "and optionally {model}")
    args: list[str] = Field(default=[], description="arguments appended to the server's command line")
    gpus: int = Field(default=1, ge=1, le=64, description="GPUs its server takes (tensor parallel: pass the size in args)")
    served_model_name: str | None = Field(default=None, description="the name sent in each request; default: model")
    port: int | None = Field(default=None, ge=1, le=65535, description="default: a free port chosen at start")
    ready_path: str | None = Field(default=None, description="polled until it answers 200; default per server")
    ready_timeout_s: float = Field(default=600.0, gt=0, description="loading weights included")
    stop_grace_s: float = Field(default=10.0, ge=0, description="SIGTERM, then SIGKILL after this long")
    metrics_path: str | None = Field(default=None, description="Prometheus metrics; default /metrics for vllm")

    @field_validator("ready_path", "metrics_path")
    @classmethod
    def _path(cls, path: str | None) -> str | None:
        if path is not None and not path.startswith("/"):
            raise ValueError(f"{path!r} must be a URL path starting with '/' (like /health)")
        return path

    @model_validator(mode="after")
    def _command(self) -> ServedModel:
        if self.server != "command":
            if self.command is not None:
                raise KeyProblem(("command",), f"'command' is only for server = \"command\" (this model's server "
                                              f"is {self.server!r}, which bench starts itself); remove it")
            return self
        if self.command is None:
            raise KeyProblem(("command",), 'server = "command" needs command = "... {port} ...", the line that '
                                          "starts your server")
        import shlex

        try:
            names = placeholders(self.command)
            shlex.split(self.command)
        except ValueError as e:
            raise KeyProblem(("command",), f"cannot read the command line: {e}") from None
        if "port" not in names:
            raise KeyProblem(("command",), "the command must contain {port}: bench picks a free port on 127.0.0.1 "
                                          "and the server must listen on it")
        unknown = sorted(names - {"port", "model"})
        if unknown:
            raise KeyProblem(("command",), f"unknown placeholder {{{unknown[0]}}} (known: {{port}}, {{model}}); "
                                          f"write a literal brace as {{{{ or }}}}")
        return self


class ModelsConfig(Strict):
    """models.toml as validated. `models` holds each table as its backend's class: load_models
    validates with a subclass whose `models` is the union of the registered classes."""

    hardware: dict[str, Hardware] = {}
    models: dict[str, Any] = {}
    decision: DecisionTable = DecisionTable()  # the user's question (bench/config/decision.py)

    @field_validator("hardware", "models")
    @classmethod
    def _names(cls, table: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        # names are shown in reports and become file names: letters, digits, '.', '_' and '-'
        what = "model" if info.field_name == "models" else "hardware"
        for name in table:
            problem = name_problem(name)
            if problem:
                raise KeyProblem((info.field_name, name), f"{what} name {name!r} {problem}")
        return table

    @model_validator(mode="after")
    def _hardware_exists(self) -> ModelsConfig:
        for name, spec in self.models.items():
            if spec.hardware is not None and spec.hardware not in self.hardware:
                known = ", ".join(sorted(self.hardware)) or "none defined"
                raise KeyProblem(("models", name, "hardware"),
                                 f"hardware {spec.hardware!r} is not defined (known: {known}); "
                                 f"add a [hardware.{spec.hardware}] table")
        ref = self.decision.reference
        if ref is not None and ref not in self.models:
            known = ", ".join(sorted(self.models)) or "none defined"
            raise KeyProblem(("decision", "reference"), f"reference {ref!r} is not a model of this file (known: {known})")
        return self


@functools.lru_cache(maxsize=None)
def _config_class(classes: tuple[type, ...]) -> type[ModelsConfig]:
    """ModelsConfig whose model tables are one of `classes`, chosen by their `backend` key."""
    spec = Annotated[Union[classes], Field(discriminator="backend")]
    return create_model("ModelsConfig", __base__=ModelsConfig, models=(dict[str, spec], {}))


# the table class of each `backend` a models.toml can name. The built-in ones are here; a backend
# added with bench.backends.registry.register() adds its table through add_table(), so that the
# files a user writes never import the code that runs them
TABLES: dict[str, type[ModelTable]] = {}


def add_table(name: str, table: type[ModelTable]) -> None:
    """Let models.toml name `backend = name`, validated by `table` (which declares backend: Literal[name])."""
    field = table.model_fields.get("backend")
    if field is None or getattr(field.annotation, "__args__", None) != (name,):
        raise ValueError(f"{table.__name__} must declare backend: Literal[{name!r}]")
    TABLES[name] = table


def remove_table(name: str) -> None:
    TABLES.pop(name, None)


for _table in (TransformersModel, OpenAIModel, AnthropicModel, ServedModel):
    add_table(_table.model_fields["backend"].annotation.__args__[0], _table)


def load_models(path: Path) -> ModelsConfig:
    data, text = read_toml(path)
    models = data.get("models")
    for name, spec in (models.items() if isinstance(models, dict) else ()):
        if isinstance(spec, dict) and "api_key" in spec:
            raise InputError(f"{where(path, text, ('models', name, 'api_key'))}: never write an API key "
                             f"in models.toml; name an environment variable with api_key_env instead")
    names = list(TABLES)
    unknown = Choice(("union_tag_invalid", "union_tag_not_found"), "backend",
                     lambda _: f"unknown or missing backend (known: {', '.join(names)})")
    config = validate(_config_class(tuple(TABLES.values())), data, path, text,
                      set(names), (unknown,))
    for name, spec in config.models.items():
        problem = spec.file_problem(path.parent)
        if problem:
            raise InputError(f"{where(path, text, ('models', name, problem[0]))}: {problem[1]}")
    return config
