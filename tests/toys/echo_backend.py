"""A toy local backend: answers each request with its last user message, as a worker process on
this machine runs it. With its registry line (tests/test_registry.py) it is a whole backend."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from bench.backends.base import Availability, Completion, LoadInfo, Request
from bench.config import ModelTable


class EchoModel(ModelTable):
    """The keys of a [models.NAME] table with backend = "echo": those the local runner reads."""

    backend: Literal["echo"]
    model: str = "echo"
    device: str = "cpu"
    batch_size: int = Field(default=4, ge=1)
    engine: Literal["static"] = "static"
    hardware: str | None = None


class EchoBackend:
    def __init__(self, spec: EchoModel, device: str | None = None, spec_dir: Path | None = None):
        self.spec, self.device = spec, device or spec.device

    def load(self) -> LoadInfo:
        return LoadInfo(load_s=0.0, resolved_revision=None, parameters=0, dtype=None, device=self.device,
                        chat_template="none", chat_template_sha256=None)

    def generate_batch(self, requests: list[Request], speed: bool = False) -> list[Completion]:
        out = []
        for r in requests:
            text = r.messages[-1]["content"]
            words = len(text.split())
            out.append(Completion(text=text, input_tokens=words, output_tokens=words, latency_s=0.001,
                                  ttft_s=0.0005, batch_size=len(requests)))
        return out

    def close(self) -> None:
        pass


def availability(spec: EchoModel, base: Path) -> Availability:
    return Availability(True, "echo: always here")
