"""What the API backends share: the key from the environment, a concurrency limit, retries with
capped exponential backoff that honour the server's wait (retry-after-ms, Retry-After in seconds
or as an HTTP date), a whole-response timeout, and token counts from the server's usage (or the
configured tokenizer, never stream chunks).

A subclass names its SDK (SDK, CLIENT) and implements one attempt:
`_attempt(client, request, sent_at) -> Attempt`.
"""

from __future__ import annotations

import asyncio
import datetime
import email.utils
import importlib
import os
import random
import time
from dataclasses import dataclass, replace
from urllib.parse import urlsplit, urlunsplit

from bench.backends.base import Availability, Completion, LoadInfo, Request, cut_at_stop, plain_prompt
from bench.config import ApiModel
from bench.core import measure
from bench.errors import one_line

CONNECTIONS_PER_CLIENT = 8


def availability(spec: ApiModel, base) -> Availability:
    """Whether its key is set (the server itself is not called)."""
    where = public_url(spec.base_url) or f"{spec.backend} API"
    if spec.api_key_env and not os.environ.get(spec.api_key_env):
        return Availability(False, f"{where}; key missing: set {spec.api_key_env}", "no_key",
                            f"environment variable {spec.api_key_env} is not set")
    return Availability(True, f"{where}; key set" if spec.api_key_env else f"{where}; no key needed")


class MissingKey(Exception):
    """The environment variable that holds the model's key is not set."""


@dataclass
class Attempt:
    """What one successful try returned; times are clock readings, not durations."""

    text: str  # the full text the server sent (before any client-side stop cut)
    finish_reason: str  # stop | length
    input_tokens: int | None = None  # all prompt tokens, cached ones included
    output_tokens: int | None = None  # all generated tokens, reasoning included
    cached_input_tokens: int = 0
    reasoning_tokens: int = 0
    first_token_at: float | None = None  # first non-empty reasoning or answer text
    first_answer_at: float | None = None
    last_token_at: float | None = None
    done_at: float = 0.0  # the response (or the stream) ended
    api_model: str | None = None  # the model name the API reports back
    reasoning_streamed: bool = False  # reasoning text arrived in the stream (else it was hidden)


class AttemptError(Exception):
    """A failed try, classified: whether to retry, and the server's Retry-After in seconds."""

    def __init__(self, message: str, retryable: bool, retry_after_s: float | None = None):
        super().__init__(message)
        self.retryable, self.retry_after_s = retryable, retry_after_s


def public_url(url: str | None) -> str | None:
    """The base URL without user, password or query string (where keys sometimes hide)."""
    if url is None:
        return None
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def redact(message: str, secret: str | None) -> str:
    """Remove the key, and any 8-character piece of it, from a message."""
    if not secret:
        return message
    message = message.replace(secret, "[redacted]")
    for i in range(len(secret) - 7):
        piece = secret[i:i + 8]
        if piece in message:
            message = message.replace(piece, "[redacted]")
    return message


def retry_after(headers, now_s: float | None = None) -> float | None:
    """Seconds the server asks us to wait, from `retry-after-ms` (OpenAI's, read first as the OpenAI
    SDK does) or `Retry-After` as seconds or as an HTTP date; None when absent or unreadable (our own
    backoff then). now_s: the Unix time to count a date from (tests)."""
    if headers is None:
        return None
    ms = headers.get("retry-after-ms")
    try:
        if ms is not None:
            return max(0.0, float(ms) / 1000)
    except ValueError:
        pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:  # an HTTP date: "Wed, 21 Oct 2026 07:28:00 GMT"
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT; a date without a zone is read as such
        when = when.replace(tzinfo=datetime.timezone.utc)
    return max(0.0, when.timestamp() - (time.time() if now_s is None else now_s))


def classify(e: BaseException) -> AttemptError:
    """Which failures are worth another try: 408, 409, 429, 5xx, timeouts and broken connections."""
    if isinstance(e, AttemptError):
        return e
    if isinstance(e, asyncio.TimeoutError):
        return AttemptError("Timeout: no complete response within timeout_s", True)
    status = getattr(e, "status_code", None)
    name = type(e).__name__
    if isinstance(status, int):
        response = getattr(e, "response", None)
        retry = status in (408, 409, 429) or status >= 500
        return AttemptError(f"{one_line(e)} (HTTP {status})", retry,
                            retry_after(getattr(response, "headers", None)))
    connection = "Connection" in name or "Timeout" in name or type(e).__module__.split(".")[0].startswith("httpx")
    return AttemptError(one_line(e), connection or isinstance(e, OSError))


class SdkBackend:
    """The ApiBackend protocol (backends/base.py) over a provider SDK: turns one-attempt calls into
    measured Completions; one instance per model."""

    SDK: str  # the provider SDK's package, imported at load; also what to pip install (and the backend's name)
    CLIENT: str  # its async client class

    def __init__(self, spec: ApiModel):
        self.spec = spec
        self.key: str | None = None
        self.clients: list = []  # SDK clients, each with its own connection pool
        self.tokenizer = None
        self.reported_model: str | None = None
        self._slots: asyncio.Semaphore | None = None
        self._loop = None  # the event loop the client and the semaphore belong to
        self._opened_at = 0.0

    # ------------------------------------------------------------ load

    def api_key(self) -> str:
        env = self.spec.api_key_env
        if env is None:
            return "unused"  # a self-hosted server without auth; the SDKs insist on some key
        key = os.environ.get(env, "")
        if not key:
            raise MissingKey(f"environment variable {env} is not set")
        return key

    def load(self) -> LoadInfo:
        t0 = measure.now()
        self.key = self.api_key()
        self._client_class = self._import_client()  # the SDK import (~0.5 s) counts as load, not as a request
        if self.spec.tokenizer:
            from transformers import AutoTokenizer

            self.tokenizer = AutoTokenizer.from_pretrained(self.spec.tokenizer)
        return LoadInfo(load_s=measure.now() - t0, resolved_revision=None, parameters=None, dtype=None,
                        device=public_url(self.spec.base_url) or "provider default", chat_template="server",
                        chat_template_sha256=None)

    def _import_client(self) -> type:
        try:
            sdk = importlib.import_module(self.SDK)
        except ImportError:
            raise ImportError(f"the {self.SDK} backend needs the {self.SDK} package: pip install {self.SDK}") from None
        return getattr(sdk, self.CLIENT)

    def _client(self, key: str):
        # retries are ours (counted and timed per example), so the SDK's own are off
        return self._client_class(api_key=key, base_url=self.spec.base_url, max_retries=0,
                                  timeout=self.spec.timeout_s)

    async def _attempt(self, client, request: Request, sent_at: float) -> Attempt:
        raise NotImplementedError

    def open(self) -> None:
        """Clients and a concurrency limit for the running event loop (connections belong to one loop).
        One client per CONNECTIONS_PER_CLIENT slots: the HTTP pool scans all its connections for every
        request, so one pool of 64 costs the client more CPU per request than eight pools of 8."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            n = -(-self.spec.concurrency // CONNECTIONS_PER_CLIENT)
            self.clients = [self._client(self.key) for _ in range(n)]
            self._slots, self._loop, self._turn = asyncio.Semaphore(self.spec.concurrency), loop, 0
            self._opened_at = measure.now()

    def client(self):
        """The next client, round robin."""
        self._turn = (self._turn + 1) % len(self.clients)
        return self.clients[self._turn]

    async def warm_up(self, request: Request) -> list[Attempt | None]:
        """One untimed attempt per SDK client before any clock starts: connection setup (TLS) and
        the SDK's first-call costs are paid here, not by the first examples. Not recorded, but the
        provider bills it (one request per 8 of concurrency), so it asks for one token only; returns
        each attempt (its usage is charged to a --max-usd budget), None for one that failed. A failure
        here is ignored: it shows up again, recorded, on the real requests."""
        self.open()
        request = replace(request, max_new_tokens=1)

        async def once(client) -> Attempt | None:
            try:
                return await asyncio.wait_for(self._attempt(client, request, measure.now()), self.spec.timeout_s)
            except Exception:
                return None
        return list(await asyncio.gather(*(once(c) for c in self.clients)))

    async def aclose(self) -> None:
        """Close the clients' connections; call it inside the loop that used them."""
        for c in self.clients:
            await c.close()
        self.clients, self._loop = [], None

    # ------------------------------------------------------------ requests

    def max_tokens(self, request: Request) -> int:
        return self.spec.max_tokens or request.max_new_tokens

    async def generate(self, requests: list[Request]) -> list[Completion]:
        queued_at = measure.now()
        return list(await asyncio.gather(*(self.complete(r, queued_at) for r in requests)))

    async def complete(self, request: Request, queued_at: float, on_retry=None, admit=None) -> Completion | None:
        """One request with retries; queue_s is the wait for a concurrency slot since queued_at.
        admit(request), asked with the slot held just before sending (a --max-usd budget reserving
        the request's worst case), may refuse it: then nothing is sent and None is returned."""
        self.open()  # at once if the caller did not; setting up clients is not queueing
        async with self._slots:
            if admit is not None and not admit(request):
                return None
            queue_s = measure.now() - max(queued_at, self._opened_at)
            retries, waited = 0, 0.0
            while True:
                sent = measure.now()
                try:
                    att = await asyncio.wait_for(self._attempt(self.client(), request, sent), self.spec.timeout_s)
                    return self._completion(request, att, sent, queue_s, retries, waited)
                except asyncio.CancelledError:
                    raise
                except Exception as e:  # every failure is classified, recorded, maybe retried
                    err = classify(e)
                    if not err.retryable or retries + 1 >= self.spec.max_attempts:
                        why = "" if not err.retryable else f" (gave up after {retries + 1} attempts)"
                        return Completion(text="", input_tokens=None, output_tokens=None, latency_s=None,
                                          queue_s=queue_s, finish_reason="error", token_source="none",
                                          retries=retries, retry_wait_s=waited,
                                          error=redact(str(err), self.key if self.spec.api_key_env else None) + why)
                    delay = self._backoff(retries, err.retry_after_s)
                    if on_retry is not None:
                        on_retry()
                    await asyncio.sleep(delay)
                    retries += 1
                    waited += measure.now() - sent

    def _backoff(self, retries: int, retry_after_s: float | None) -> float:
        """The server's Retry-After if given, else exponential with jitter; capped either way."""
        if retry_after_s is not None:
            return min(retry_after_s, self.spec.backoff_max_s)
        base = self.spec.backoff_s * 2 ** retries
        return min(self.spec.backoff_max_s, base * (0.5 + random.random() / 2))

    def _completion(self, request: Request, att: Attempt, sent: float, queue_s: float, retries: int,
                    waited: float) -> Completion:
        if att.api_model and self.reported_model is None:
            self.reported_model = att.api_model
        n_in, n_out, source = att.input_tokens, att.output_tokens, "server"
        if n_in is None or n_out is None:
            n_in, n_out, source = self._count(request, att.text, n_in, n_out)
        last = att.last_token_at if att.last_token_at is not None else att.done_at
        # tokens that arrived after the first streamed one: hidden reasoning (counted in usage but
        # never streamed) was generated before it, so it is not part of the decode interval
        streamed = (n_out or 0) - (0 if att.reasoning_streamed else att.reasoning_tokens)
        tpot = None
        if att.first_token_at is not None and streamed > 1:
            tpot = (last - att.first_token_at) / (streamed - 1)
        return Completion(
            text=cut_at_stop(att.text, request.stop), input_tokens=n_in, output_tokens=n_out,
            cached_input_tokens=att.cached_input_tokens, reasoning_tokens=att.reasoning_tokens,
            ttft_s=None if att.first_token_at is None else att.first_token_at - sent,
            ttft_answer_s=None if att.first_answer_at is None else att.first_answer_at - sent,
            latency_s=last - sent, tpot_s=tpot, queue_s=queue_s, finish_reason=att.finish_reason, token_source=source,
            retries=retries, retry_wait_s=waited)

    def _count(self, request: Request, text: str, n_in: int | None, n_out: int | None):
        """Usage the server did not give, counted with the configured tokenizer, or left unknown."""
        tok = self.tokenizer
        if tok is None:
            return n_in, n_out, "none" if n_in is None and n_out is None else "server"
        if n_in is None:
            if tok.chat_template:
                n_in = len(tok.apply_chat_template(request.messages, tokenize=True, add_generation_prompt=True,
                                                   return_dict=False))
            else:
                n_in = len(tok(plain_prompt(request.messages))["input_ids"])
        if n_out is None:
            n_out = len(tok(text, add_special_tokens=False)["input_ids"])
        return n_in, n_out, "tokenizer"
