"""The model registry (models.toml) and task files (tasks/*.toml) as validated pydantic models.

Every mistake becomes an InputError naming the file, the line and the key, and saying what to do.
"""

from __future__ import annotations

import datetime
import json
import re
import string
import sys
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bench.errors import InputError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

NAME_RE = r"^[A-Za-z0-9][A-Za-z0-9._-]*\Z"  # \Z: "$" would let a trailing newline through
DEVICE_RE = r"^(auto|cpu|mps|cuda(:\d+)?)$"
# the most tokens any model may be asked to generate per answer (a task's max_new_tokens, an API
# model's max_tokens): above every current model's output limit, and a typo such as 100000000000
# cannot keep a run going for hours; a local model is also held to its own context length
MAX_NEW_TOKENS = 131072


class Strict(BaseModel):
    # inf and nan are valid TOML floats; a price of inf makes every cost "-" without a word
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def name_problem(name: str) -> str | None:
    """Why a model, hardware or task name is refused, or None: names become file names and table
    cells, so letters, digits, '.', '_' and '-', starting with a letter or a digit."""
    if re.match(NAME_RE, name):
        return None
    if not name:
        return "is empty"
    if set(name) == {"."}:
        return "cannot be only dots; start it with a letter or a digit"
    bad = next((c for c in name if not re.match(r"[A-Za-z0-9._-]", c)), None)
    if bad is not None:
        return f"must use letters, digits, '.', '_' or '-' only (not {bad!r})"
    return "must start with a letter or a digit"


def _iso_date(value: Any) -> Any:
    """A real calendar date written YYYY-MM-DD; a TOML date (unquoted) is taken as one."""
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, str):
        try:
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) and datetime.date.fromisoformat(value):
                return value
        except ValueError:
            pass
        raise ValueError(f"{value!r} is not a date; write the day the prices were checked as YYYY-MM-DD")
    return value  # None, or another type: the str field says what it expects


# ---------------------------------------------------------------- models.toml


class Hardware(Strict):
    """What one hour of a machine costs; local and self-hosted models are priced by the hour."""

    usd_per_hour: float = Field(ge=0)
    usd_per_kwh: float | None = Field(default=None, ge=0)
    prices_as_of: str | None = None
    description: str = ""

    _date = field_validator("prices_as_of", mode="before")(_iso_date)


class TransformersModel(Strict):
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


class ClientOptions(Strict):
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

    _date = field_validator("prices_as_of", mode="before")(_iso_date)

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
                raise _KeyError(("command",), f"'command' is only for server = \"command\" (this model's server "
                                              f"is {self.server!r}, which bench starts itself); remove it")
            return self
        if self.command is None:
            raise _KeyError(("command",), 'server = "command" needs command = "... {port} ...", the line that '
                                          "starts your server")
        import shlex

        try:
            names = placeholders(self.command)
            shlex.split(self.command)
        except ValueError as e:
            raise _KeyError(("command",), f"cannot read the command line: {e}") from None
        if "port" not in names:
            raise _KeyError(("command",), "the command must contain {port}: bench picks a free port on 127.0.0.1 "
                                          "and the server must listen on it")
        unknown = sorted(names - {"port", "model"})
        if unknown:
            raise _KeyError(("command",), f"unknown placeholder {{{unknown[0]}}} (known: {{port}}, {{model}}); "
                                          f"write a literal brace as {{{{ or }}}}")
        return self


ModelSpec = Annotated[TransformersModel | OpenAIModel | AnthropicModel | ServedModel, Field(discriminator="backend")]
BACKENDS = ("transformers", "openai", "anthropic", "served")


class ModelsConfig(Strict):
    hardware: dict[str, Hardware] = {}
    models: dict[str, ModelSpec] = {}

    @field_validator("models")
    @classmethod
    def _names(cls, models: dict[str, Any]) -> dict[str, Any]:
        for name in models:
            problem = name_problem(name)
            if problem:
                raise _KeyError(("models", name), f"model name {name!r} {problem}")
        return models

    @field_validator("hardware")
    @classmethod
    def _hardware_names(cls, hardware: dict[str, Any]) -> dict[str, Any]:
        # the name is shown in reports ("priced by"): the same characters as a model name
        for name in hardware:
            problem = name_problem(name)
            if problem:
                raise _KeyError(("hardware", name), f"hardware name {name!r} {problem}")
        return hardware

    @model_validator(mode="after")
    def _hardware_exists(self) -> ModelsConfig:
        for name, spec in self.models.items():
            if spec.hardware is not None and spec.hardware not in self.hardware:
                known = ", ".join(sorted(self.hardware)) or "none defined"
                raise _KeyError(("models", name, "hardware"),
                                f"hardware {spec.hardware!r} is not defined (known: {known}); "
                                f"add a [hardware.{spec.hardware}] table")
            for key in getattr(spec, "CONTINUOUS_OPTIONS", ()):
                if spec.engine != "continuous" and getattr(spec, key) is not None:
                    raise _KeyError(("models", name, key), f"'{key}' is an option of engine = \"continuous\" "
                                                           f"only; remove it or set engine = \"continuous\"")
        return self


# ---------------------------------------------------------------- tasks/*.toml


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
            raise _KeyError(("data", "columns"), "'columns' names the columns of a CSV file without a header; "
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


SCORERS = ("exact", "number", "label", "choice", "json_fields", "sql_execution", "rouge_l", "token_f1",
           "span_f1", "regex")  # or "package.module:function", a user's own scorer


class ScoreSpec(Strict):
    scorer: str
    target: str = Field(default="", description="template of the reference answer, e.g. '{label}'")
    target_pattern: str | None = Field(default=None, description="regex: the reference is its first match "
                                                                 "in the rendered target (group 1 if any)")
    labels: list[str] = []
    primary: Literal["strict", "lenient"] = Field(default="strict", description="label: which reading is 'score'")
    tolerance: float = Field(default=1e-6, ge=0)
    fields: dict[str, str] = Field(default={}, description="json key -> template of its reference value")
    options: str | None = Field(default=None, description="choice: template of the option texts (a list field)")
    facts: str | None = Field(default=None, description="rouge_l: template of the key facts (a list field)")
    database: str | None = Field(default=None, description="sql_execution: .sql script or .sqlite file")
    pattern: str | None = Field(default=None, description="regex: what to read out of the output")

    @model_validator(mode="after")
    def _per_scorer(self) -> ScoreSpec:
        from bench.scoring import BUILTIN

        user = re.match(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$", self.scorer) is not None
        if self.scorer not in SCORERS and not user:
            raise _KeyError(("score", "scorer"), f"unknown scorer {self.scorer!r} (known: {', '.join(SCORERS)}, "
                                                 f"or 'package.module:function' for your own)")
        allowed = BUILTIN.get(self.scorer, set()) | {"scorer", "target", "target_pattern"}
        for option in sorted(self.model_fields_set - allowed):
            raise _KeyError(("score", option), f"'{option}' is not an option of scorer {self.scorer!r} "
                                               f"(its options: {', '.join(sorted(allowed - {'scorer'}))})")
        if self.scorer == "label" and len(self.labels) < 2:
            raise _KeyError(("score", "labels"), "scorer 'label' needs 'labels', a list of at least two labels")
        if self.scorer == "label":
            _distinct_labels(self.labels)
        if self.scorer == "json_fields" and not self.fields:
            raise _KeyError(("score", "fields"), "scorer 'json_fields' needs 'fields', a table of key = '{template}'")
        if self.scorer != "json_fields" and not self.target:
            raise _KeyError(("score", "target"), f"scorer {self.scorer!r} needs 'target', the reference answer's template")
        if self.scorer == "sql_execution" and not self.database:
            raise _KeyError(("score", "database"), "scorer 'sql_execution' needs 'database', a .sql script or "
                                                   ".sqlite file relative to the task file")
        if self.scorer == "regex" and not self.pattern:
            raise _KeyError(("score", "pattern"), "scorer 'regex' needs 'pattern', a regular expression")
        for key in ("pattern", "target_pattern"):
            try:
                re.compile(getattr(self, key) or "")
            except re.error as e:
                raise _KeyError(("score", key), f"invalid regular expression: {e}") from None
        return self


def _distinct_labels(labels: list[str]) -> None:
    """Labels the scorer can tell apart: it reads answers case-folded, with spaces and final
    punctuation ignored, so 'travel' and 'Travel.' would be one label counted twice."""
    from bench.scorers.base import normalize

    seen: dict[str, str] = {}
    for label in labels:
        norm = normalize(label)
        if not norm:
            raise _KeyError(("score", "labels"), f"label {label!r} is empty once spaces and punctuation are ignored")
        if norm in seen:
            first = seen[norm]
            said = (f"label {label!r} is listed twice" if first == label else
                    f"labels {first!r} and {label!r} are the same label to the scorer (it ignores case, spaces "
                    f"and final punctuation)")
            raise _KeyError(("score", "labels"), f"{said}; keep one")
        seen[norm] = label


class TaskSpec(Strict):
    description: str = ""
    data: DataSpec
    prompt: PromptSpec
    generation: GenerationSpec = GenerationSpec()
    score: ScoreSpec

    @model_validator(mode="after")
    def _plain_placeholders(self) -> TaskSpec:
        for key, template in self.templates().items():
            try:
                template_fields(template)
            except ValueError as e:
                raise _KeyError(tuple(key.split(".")), str(e)) from None
        return self

    def templates(self) -> dict[str, str]:
        """Every template of the task by its key, for checking placeholders against the data."""
        out = {"prompt.system": self.prompt.system, "prompt.user": self.prompt.user,
               "score.target": self.score.target}
        out.update({f"score.fields.{k}": v for k, v in self.score.fields.items()})
        out.update({f"score.{k}": getattr(self.score, k) for k in ("options", "facts") if getattr(self.score, k)})
        return out


class Task(BaseModel):
    """A task file as loaded: its name (the file stem), where it lives, and its spec."""

    name: str
    path: Path
    spec: TaskSpec


# ---------------------------------------------------------------- loading


class _KeyError(ValueError):
    """A cross-field error that knows the key it is about."""

    def __init__(self, loc: tuple, msg: str):
        super().__init__(msg)
        self.loc = loc


def read_toml(path: Path) -> tuple[dict, str]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: cannot read ({e})") from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as e:
        raise InputError(f"{path}: TOML syntax error: {e}. Fix the syntax at that line.") from None


def key_line(text: str, loc: tuple) -> int | None:
    """The 1-based line of a dotted key (e.g. ('models', 'x', 'dtype')) in TOML text, best effort:
    the line of the key itself, else of the deepest table header that contains it."""
    loc = tuple(str(p) for p in loc)
    best_line, best_depth, section = None, 0, ()
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        header = re.match(r"^\[+\s*([^\]]+?)\s*\]+", line)
        key = re.match(r"^((?:[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*'))*)\s*=",
                       line)
        if header:
            section = full = _parts(header.group(1))
        elif key:
            full = section + _parts(key.group(1))
        else:
            continue
        n = 0
        while n < min(len(full), len(loc)) and full[n] == loc[n]:
            n += 1
        if n == min(len(full), len(loc)) and n > best_depth:
            best_line, best_depth = lineno, n
    return best_line


def _parts(dotted: str) -> tuple:
    """Split a TOML dotted key, keeping quoted parts whole: 'models."qwen2.5".dtype' has 3 parts."""
    return tuple(_unquote(q) if q[:1] == '"' else q[1:-1] if q[:1] == "'" else q
                 for q in re.findall(r'"[^"]*"|\'[^\']*\'|[^.\s"\']+', dotted))


def _unquote(q: str) -> str:
    """A TOML basic-string key with its escapes ("gpu\\n" is a newline), best effort."""
    try:
        return json.loads(q)
    except ValueError:
        return q[1:-1]


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def where(path: Path, text: str, loc: tuple) -> str:
    line = key_line(text, loc)
    key = ".".join(str(p) for p in loc if p != "")
    key = _CONTROL.sub(lambda m: repr(m.group())[1:-1], key)  # one line, even for a key holding "\n"
    return f"{path}" + (f":{line}" if line else "") + (f": key '{key}'" if key else "")


def _user_loc(data: Any, loc: tuple) -> tuple:
    """The key path as the user wrote it: pydantic appends the member it tried to each error of a
    union ('temperature', 'float'), which is no key of the file. The path is followed through the
    data; what follows a plain value (or a key that is missing) is dropped."""
    out, node = [], data
    for part in loc:
        if isinstance(node, dict):
            out.append(part)
            if part not in node:
                break
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            out.append(part)
            node = node[part]
        else:
            break
    return tuple(out)


def _union_message(errors: list[dict]) -> str:
    """One message for a value that matched no member of a union: 'Input should be a valid number
    or 'default', got 'hot''."""
    wants = []
    for e in errors:
        msg = e["msg"].removeprefix("Input should be ")
        wants.append(msg if e["type"] == "literal_error" else msg.split(",")[0])
    return f"Input should be {' or '.join(dict.fromkeys(wants))}, got {errors[0]['input']!r}"


def _validation_message(path: Path, text: str, err: ValidationError, data: Any = None) -> str:
    lines, by_loc = [], {}
    for e in err.errors():
        loc = tuple(p for p in e["loc"] if not (isinstance(p, str) and p in BACKENDS))
        if data is not None and e["type"] not in ("union_tag_invalid", "union_tag_not_found"):
            loc = _user_loc(data, loc)
        by_loc.setdefault(loc, []).append({**e, "loc": loc})
    for loc, errors in by_loc.items():
        e = errors[0]
        if len(errors) > 1 and all(x["type"] not in ("extra_forbidden", "missing") for x in errors):
            lines.append(f"{where(path, text, loc)}: {_union_message(errors)}")
            continue
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            msg = "unknown key; remove it or check its spelling (see docs/models.md and docs/tasks.md)"
        elif e["type"] == "union_tag_invalid" or e["type"] == "union_tag_not_found":
            msg = f"unknown or missing backend (known: {', '.join(BACKENDS)})"
            loc = loc + ("backend",) if loc[-1:] != ("backend",) else loc
        elif e["type"] == "missing":
            msg = "required key is missing"
        elif e["type"] == "finite_number":
            msg = f"must be a finite number, not {e['input']!r}"
        elif e["type"] == "literal_error":
            msg = f"{msg}, got {e['input']!r}"
        elif e["type"] == "string_pattern_mismatch" and loc[-1:] == ("device",):
            msg = f"invalid device {e['input']!r}; use auto, cpu, cuda, cuda:N or mps"
        lines.append(f"{where(path, text, loc)}: {msg}")
    return "\n".join(lines)


def _validate(cls: type[BaseModel], data: dict, path: Path, text: str) -> Any:
    try:
        return cls.model_validate(data)
    except ValidationError as e:
        # a _KeyError raised inside a validator arrives wrapped; unwrap it to keep its key
        for err in e.errors():
            ctx = err.get("ctx", {}).get("error")
            if isinstance(ctx, _KeyError):
                # its loc is relative to the table that raised it (a model's), unless it names the table
                at = tuple(p for p in err["loc"] if not (isinstance(p, str) and p in BACKENDS))
                loc = ctx.loc if ctx.loc[:len(at)] == at else at + ctx.loc
                raise InputError(f"{where(path, text, loc)}: {ctx}") from None
        raise InputError(_validation_message(path, text, e, data)) from None


def load_models(path: Path) -> ModelsConfig:
    data, text = read_toml(path)
    models = data.get("models")
    for name, spec in (models.items() if isinstance(models, dict) else ()):
        if isinstance(spec, dict) and "api_key" in spec:
            raise InputError(f"{where(path, text, ('models', name, 'api_key'))}: never write an API key "
                             f"in models.toml; name an environment variable with api_key_env instead")
    config = _validate(ModelsConfig, data, path, text)
    for name, spec in config.models.items():
        local = Path(spec.model) if spec.backend == "transformers" else None
        if local is not None and (local if local.is_absolute() else path.parent / local).is_file():
            raise InputError(f"{where(path, text, ('models', name, 'model'))}: {spec.model} is a file; a local "
                             f"model must be a folder holding config.json, the tokenizer and the weights (as "
                             f"save_pretrained writes it), or a Hub id such as org/name")
    return config


def load_task(path: Path) -> Task:
    data, text = read_toml(path)
    spec = _validate(TaskSpec, data, path, text)
    problem = name_problem(path.stem)
    if problem:
        raise InputError(f"{path}: task file name {path.stem!r} {problem}")
    _check_score_files(spec.score, path, text)
    return Task(name=path.stem, path=path, spec=spec)


def _check_score_files(score: ScoreSpec, path: Path, text: str) -> None:
    """What the [score] table points at outside the file: the SQL database, a user's scorer."""
    if score.database is not None:
        db = path.parent / score.database
        if not db.is_file():
            raise InputError(f"{where(path, text, ('score', 'database'))}: database file {db} not found "
                             f"(the path is relative to the task file)")
        if db.suffix.lower() not in (".sql", ".sqlite", ".sqlite3", ".db"):
            raise InputError(f"{where(path, text, ('score', 'database'))}: use a .sql script or a "
                             f".sqlite/.db file, not {db.suffix!r}")
    if ":" in score.scorer:
        from bench.scorers.user import load

        try:
            load(score.scorer, path.parent)
        except ValueError as e:
            raise InputError(f"{where(path, text, ('score', 'scorer'))}: {e}") from None


def load_tasks(tasks_dir: Path) -> list[Task]:
    if not tasks_dir.is_dir():
        raise InputError(f"{tasks_dir}: tasks folder not found; pass --tasks-dir")
    files = sorted(tasks_dir.glob("*.toml"))
    if not files:
        raise InputError(f"{tasks_dir}: no task files (*.toml) in this folder")
    return [load_task(f) for f in files]


def task_text(task: Task) -> str:
    return task.path.read_text(encoding="utf-8")


_FIELD = re.compile(r"[A-Za-z_]\w*(\[[^\[\]]+\])*\Z")  # name, then [key] or [index] parts


def template_fields(template: str) -> list[str]:
    """Every placeholder of a template as written ('text', 'choices[0]'), those nested in a format
    spec included; ValueError for any that is not a field name, optionally indexed. Attribute
    access ('{text.__class__}') and conversions ('!r') render Python internals, the same for
    every example, instead of its data; positional fields ('{}', '{0}') have nothing to fill them."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as e:
        raise ValueError(f"bad template {template!r}: {e}") from None
    names = []
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        shown = "{" + name + (f"!{conversion}" if conversion else "") + "}"
        if not _FIELD.match(name):
            why = ("attribute access is not allowed" if "." in name and _FIELD.match(name.split(".")[0])
                   else "a placeholder must name a field" if not name or name[0].isdigit() or name[0] == "["
                   else "not a field name")
            raise ValueError(f"placeholder {shown}: {why}; use {{field}}, or {{field[key]}} / {{field[0]}} to "
                             f"read into a list or table field")
        if conversion:
            raise ValueError(f"placeholder {shown}: conversions (!r, !s, !a) are not allowed; use {{{name}}}")
        names.append(name)
        names += template_fields(spec or "")
    return names


def placeholders(template: str) -> set[str]:
    """The field names a template uses ('{{' is a literal brace; '{choices[0]}' uses 'choices')."""
    return {name.split("[")[0] for name in template_fields(template)}


def select(names: str | None, available: list[str], what: str, flag: str) -> list[str]:
    """Resolve a comma-separated --models/--tasks selection, keeping the config's order."""
    if names is None:
        return list(available)
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    if not wanted:
        raise InputError(f"{flag}: names no {what}; give comma-separated names or leave the flag out")
    unknown = [n for n in wanted if n not in available]
    if unknown:
        raise InputError(f"{flag}: unknown {what} {', '.join(map(repr, unknown))} "
                         f"(known: {', '.join(available) or 'none'})")
    return [n for n in available if n in wanted]
