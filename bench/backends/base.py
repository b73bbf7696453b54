"""What every backend takes and returns. Backends measure; they never score or price.

Exact meanings of the timing fields are in docs/metrics.md.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Literal, Protocol


@dataclass(frozen=True)
class Request:
    example_id: str
    messages: list[dict[str, str]]  # chat messages: system?, (user, assistant)*, user
    max_new_tokens: int
    stop: tuple[str, ...] = ()


@dataclass
class Completion:
    text: str  # the answer, cut before the first stop string
    input_tokens: int | None  # prompt tokens of this request (no padding); None when unknown
    output_tokens: int | None  # generated tokens up to and including the one that ended it; None when unknown
    cached_input_tokens: int = 0  # input tokens served from a provider's prompt cache (part of input_tokens)
    reasoning_tokens: int = 0  # hidden reasoning tokens (part of output_tokens, billed as output)
    ttft_s: float | None = None  # request sent to first non-empty token (reasoning or answer); None when not measured
    ttft_answer_s: float | None = None  # request sent to first non-empty answer token
    latency_s: float | None = None  # request sent to last token (the final, successful attempt)
    tpot_s: float | None = None  # time per output token after the first (decode); docs/metrics.md
    queue_s: float | None = None  # waiting for a concurrency slot before the first attempt (APIs)
    finish_reason: Literal["stop", "length", "error"] = "stop"
    token_source: Literal["server", "tokenizer", "none"] = "tokenizer"  # who counted the tokens
    batch_size: int = 1  # requests generated together with this one (local backends)
    retries: int = 0  # failed attempts before the final one
    retry_wait_s: float = 0.0  # time in failed attempts and backoff sleeps, excluded from latency_s
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
    weights_bytes: int | None = None  # parameters and buffers of the loaded model, in bytes
    cold_start_s: float | None = None  # wall time of the untimed warm-up batch (first-use costs included)
    runtime: dict = field(default_factory=dict)  # the worker's torch threads, CUDA version, GPUs


@dataclass(frozen=True)
class Availability:
    """Whether a model can run here now, from what is on this machine (weights, keys, programs);
    nothing is sent to a provider to find out."""

    ok: bool  # it can run now
    shown: str  # what `bench list` says: 'cached', 'openai API; key set', 'vllm server; cannot start here: ...'
    status: Literal["ok", "no_key", "skipped"] = "ok"  # the status its cells get when it cannot run
    reason: str | None = None  # why not, as its cells and the run's skip lines say it


class LocalBackend(Protocol):
    """A model run in a worker process on this machine's devices (bench/execute/worker.py): it loads, then
    generates fixed batches together. Made by its registry factory as
    factory(spec, device=--device or None, spec_dir=the folder of models.toml)."""

    device: str  # where it runs after load(): 'cpu', 'cuda:0', ...; the meters read it

    def load(self) -> LoadInfo: ...

    def generate_batch(self, requests: list[Request], speed: bool = False) -> list[Completion]:
        """One batch; speed: generate exactly max_new_tokens per row (no early stop)."""

    def close(self) -> None: ...


class ApiBackend(Protocol):
    """A client of a server (a provider's API, or one the run started), run on the parent's event
    loop by bench/execute/api_runner.py: each request on its own, `concurrency` at once. Made by its
    registry factory as factory(spec). backends/api.py's SdkBackend implements it over an SDK."""

    clients: list  # open connections' clients; the warm-up sends one request per client (billed)
    reported_model: str | None  # the model name the server reported back, once an answer came

    def load(self) -> LoadInfo:
        """Key, SDK and tokenizer; raises MissingKey (backends/api.py) when the key's variable is unset."""

    def open(self) -> None:
        """Clients and the concurrency limit for the running event loop."""

    async def warm_up(self, request: Request) -> list[Any]:
        """One untimed one-token request per client; each attempt, or None for one that failed."""

    async def complete(self, request: Request, queued_at: float, on_retry: Callable[[], None] | None = None,
                       admit: Callable[[Request], bool] | None = None) -> Completion | None:
        """One request with its retries; None when admit (a --max-usd budget) refused to send it."""

    async def aclose(self) -> None: ...


def cut_at_stop(text: str, stop: tuple[str, ...]) -> str:
    """The text before the earliest stop string (APIs return it the same way, stop string excluded)."""
    cut = min((i for i in (text.find(s) for s in stop) if i >= 0), default=len(text))
    return text[:cut]


def plain_prompt(messages: list[dict[str, str]]) -> str:
    """Messages as plain text (no chat template): contents in order, a blank line after the system
    message and after each demonstration's answer, a newline after each user turn."""
    parts = []
    for m in messages:
        sep = "\n\n" if m["role"] in ("system", "assistant") else "\n"
        parts.append(m["content"] + sep)
    return "".join(parts)
