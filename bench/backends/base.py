"""What every backend takes and returns. Backends measure; they never score or price.

Exact meanings of the timing fields are in docs/metrics.md.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol


@dataclass(frozen=True)
class Request:
    example_id: str
    messages: list[dict[str, str]]  # chat messages: system?, (user, assistant)*, user
    max_new_tokens: int
    stop: tuple[str, ...] = ()


@dataclass
class Completion:
    text: str  # the answer, cut before the first stop string
    input_tokens: int  # prompt tokens of this request (no padding)
    output_tokens: int  # generated tokens up to and including the one that ended it (EOS or stop)
    cached_input_tokens: int = 0  # input tokens served from a provider's prompt cache
    reasoning_tokens: int = 0  # hidden reasoning tokens (billed as output by APIs)
    ttft_s: float | None = None  # request start to first generated token; None when not measured
    latency_s: float = 0.0  # request start to last token
    finish_reason: Literal["stop", "length", "error"] = "stop"
    token_source: Literal["server", "tokenizer"] = "tokenizer"
    batch_size: int = 1  # requests generated together with this one (local backends)
    retries: int = 0
    retry_wait_s: float = 0.0
    error: str | None = None  # "ErrorClass: message" when finish_reason == "error"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class LoadInfo:
    load_s: float  # wall time of loading weights and tokenizer
    resolved_revision: str | None  # commit hash the weights came from (None for a local folder)
    parameters: int | None  # parameter count, None for API models
    dtype: str | None
    device: str | None
    chat_template: str  # "tokenizer", "none" or "file:<path>"
    chat_template_sha256: str | None
    memory: dict[str, int | None] = field(default_factory=dict)  # bytes after load, by meter name


class Backend(Protocol):
    def load(self) -> LoadInfo: ...

    async def generate(self, requests: list[Request]) -> list[Completion]: ...

    def close(self) -> None: ...
