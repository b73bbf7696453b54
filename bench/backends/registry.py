"""The backends a models.toml table can name: one entry each. An entry says which class validates
the table, how the backend is made (imported only when a model of its kind runs), how it is
priced, how to tell whether it can run here now, and how the run drives it. `register()` adds one
(a plugin, a test's toy backend); an unknown name is an error, never a default."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Literal

from bench.backends.base import Availability
from bench.config.models import AnthropicModel, OpenAIModel, ServedModel, TransformersModel, add_table, remove_table


@dataclass(frozen=True)
class BackendEntry:
    name: str  # the `backend` key's value; its config class declares `backend: Literal[name]`
    config: type  # the pydantic class of its [models.NAME] table (bench/config/models.py's ModelTable)
    factory: str  # "module:Class" of the LocalBackend or ApiBackend (backends/base.py), imported when used
    runs: Literal["local", "client", "served"]  # local: in a worker process on this machine's devices;
    # client: an ApiBackend talking to a server that is already up; served: the run starts the server first
    priced: Literal["tokens", "hourly"]  # per token (its prices), or per hour of the `hardware` it names
    availability: str  # "module:function" (spec, folder of models.toml) -> Availability

    @property
    def local(self) -> bool:
        return self.runs == "local"

    def make(self, spec, **kwargs: Any):
        """The backend for a model's validated spec: factory(spec, **kwargs)."""
        return load_object(self.factory)(spec, **kwargs)


_ENTRIES: dict[str, BackendEntry] = {}


def register(entry: BackendEntry) -> None:
    """Add a backend (or replace one of the same name); models.toml can name it from then on."""
    add_table(entry.name, entry.config)  # models.toml validates its table from now on
    _ENTRIES[entry.name] = entry


def unregister(name: str) -> None:
    """Remove a backend added by register() (a test's toy, once the test is done)."""
    _ENTRIES.pop(name, None)
    remove_table(name)


for _entry in (
    BackendEntry("transformers", TransformersModel, "bench.backends.transformers:TransformersBackend", "local",
                 "hourly", "bench.backends.hub:availability"),
    BackendEntry("openai", OpenAIModel, "bench.backends.openai:OpenAIBackend", "client", "tokens",
                 "bench.backends.api:availability"),
    BackendEntry("anthropic", AnthropicModel, "bench.backends.anthropic:AnthropicBackend", "client", "tokens",
                 "bench.backends.api:availability"),
    BackendEntry("served", ServedModel, "bench.backends.openai:OpenAIBackend", "served", "hourly",
                 "bench.serve.server:availability"),
):
    register(_entry)


def names() -> list[str]:
    return list(_ENTRIES)


def get(name: str) -> BackendEntry:
    """The entry of a backend name; ValueError naming the known ones for any other."""
    entry = _ENTRIES.get(name)
    if entry is None:
        raise ValueError(f"unknown backend {name!r} (known: {', '.join(_ENTRIES)})")
    return entry


def find(name: Any) -> BackendEntry | None:
    """The entry of a name read back from a run folder (which may predate a backend), or None."""
    return _ENTRIES.get(name) if isinstance(name, str) else None


def of(spec) -> BackendEntry:
    """The entry of a validated model spec."""
    return get(spec.backend)


def availability(spec, base: Path) -> Availability:
    """Whether a model can run here now, asked of its backend: weights on disk or downloadable,
    its key set, its server program installed. `base`: the folder of models.toml."""
    return load_object(of(spec).availability)(spec, base)


def load_object(path: str) -> Callable:
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)
