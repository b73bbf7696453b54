"""A real HTTP server on 127.0.0.1 that speaks the OpenAI chat-completions and Anthropic Messages
wire formats, streaming (SSE over chunked transfer encoding) or not, with controllable timing and
injectable faults. Its log of when each first and last token left is the ground truth for timing.

    with FakeAPI(ttft_s=0.2, itl_s=0.01) as api:
        api.base_url        # http://127.0.0.1:PORT/v1  (OpenAI SDK)
        api.root_url        # http://127.0.0.1:PORT     (Anthropic SDK)
"""

from __future__ import annotations

import email.utils
import json
import random
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

FAULTS = ("429", "500", "drop", "no_usage", "slow")


@dataclass
class Served:
    """One request as the server saw it; times are time.perf_counter() readings."""

    index: int
    path: str
    body: dict
    headers: dict
    fault: str | None
    received_at: float
    first_token_at: float | None = None
    last_token_at: float | None = None
    output_tokens: int = 0
    completed: bool = False  # the whole response left the server (the client got an answer)


@dataclass
class FakeAPI:
    ttft_s: float = 0.0  # delay before the first token
    itl_s: float = 0.0  # delay between tokens
    latency_s: float = 0.0  # for non-streamed responses: delay before the whole response
    reply: Callable[[list[dict]], str] = lambda messages: "OK"
    tokens: int | None = None  # answer length in tokens: the reply's words repeated or cut to fit
    model_name: str | None = None  # the name reported back (default: the requested one)
    fault: Callable[[int], str | None] = lambda index: None  # which fault to inject on request `index`
    retry_after_s: float = 0.05
    retry_after_form: str = "seconds"  # how a 429 says it: seconds | ms (retry-after-ms) | date (an HTTP date)
    slow_s: float = 5.0
    expected_key: str | None = None  # when set, other keys get 401
    wire_swaps: dict = field(default_factory=dict)  # bytes -> bytes replaced in response bodies (invalid UTF-8)
    # usage counted with this function of a text instead of words (plus OpenAI's chat overhead of
    # 3 tokens a message and 3 for the reply, for the prompt): see pretokens() for a realistic one
    count_tokens: Callable[[str], int] | None = None
    log: list[Served] = field(default_factory=list)
    port: int = 0  # 0: any free port
    get_routes: dict = field(default_factory=dict)  # path -> f(api) -> (status, content type, body text)

    def __post_init__(self):
        self._lock = threading.Lock()
        api = self

        class Handler(_Handler):
            server_api = api

        self._server = _Server(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def base_url(self) -> str:
        return self.root_url + "/v1"

    def __enter__(self) -> FakeAPI:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def faults_at_rate(self, rate: float, seed: int = 0, kinds: tuple[str, ...] = ("429", "500", "drop", "slow")):
        """Fail about `rate` of requests with faults drawn from `kinds`, reproducibly per index."""
        def pick(index: int) -> str | None:
            rng = random.Random(seed * 1_000_003 + index)
            return rng.choice(kinds) if rng.random() < rate else None
        self.fault = pick
        return self

    def _next(self, path: str, body: dict, headers: dict) -> Served:
        with self._lock:
            s = Served(len(self.log), path, body, headers, None, time.perf_counter())
            s.fault = self.fault(s.index)
            self.log.append(s)
            return s

    def retry_after_headers(self) -> dict:
        if self.retry_after_form == "ms":
            return {"retry-after-ms": str(round(self.retry_after_s * 1000))}
        if self.retry_after_form == "date":  # whole seconds, as HTTP dates are
            return {"Retry-After": email.utils.formatdate(time.time() + self.retry_after_s, usegmt=True)}
        return {"Retry-After": str(self.retry_after_s)}

    def answer_tokens(self, messages: list[dict]) -> list[str]:
        words = re.findall(r"\s*\S+", self.reply(messages)) or [" "]
        if self.tokens is not None:
            words = (words * (self.tokens // len(words) + 1))[: self.tokens]
        return words


class _Server(ThreadingHTTPServer):
    request_queue_size = 1024  # the listen backlog: 64 clients connecting at once must not see SYN drops
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        """A client that gave up (timeout) leaves a broken pipe behind: expected, not worth a traceback."""
        import sys

        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


def _prompt_tokens(body: dict, count: Callable[[str], int] | None = None) -> int:
    texts = [str(m.get("content", "")) for m in body.get("messages", [])] + (
        [str(body["system"])] if body.get("system") else [])
    if count is not None:
        return sum(count(t) + 3 for t in texts) + 3
    return len(re.findall(r"\S+", " ".join(texts)))


# GPT-4o's pre-tokenizer (o200k_base's split pattern, in re's dialect): a byte-pair tokenizer never
# merges across these pieces, and common English words are one token each, so their count is close
# to a real tokenizer's. On the shipped tasks it is 0.84-1.00 of o200k_base (docs/cost.md).
_PRETOKEN = re.compile(r"'(?:[sdmt]|ll|ve|re)|[^\r\n\w]?[^\W\d_]+|\d{1,3}| ?[^\s\w]+[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+")


def pretokens(text: str) -> int:
    return len(_PRETOKEN.findall(text))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_api: FakeAPI

    def log_message(self, *args) -> None:  # keep test output clean
        pass

    def setup(self) -> None:
        super().setup()
        # no Nagle: headers and body go out as written, not 40 ms later behind a delayed ACK
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    # ------------------------------------------------------------ plumbing

    def _wire(self, data: bytes) -> bytes:
        for old, new in self.server_api.wire_swaps.items():
            data = data.replace(old, new)
        return data

    def _json(self, status: int, obj: dict, headers: dict | None = None) -> None:
        data = self._wire(json.dumps(obj).encode())
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()
        self._served.completed = status == 200

    def _start_stream(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def _chunk(self, text: str) -> None:
        data = self._wire(text.encode())
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _end_stream(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()
        self._served.completed = True

    def _drop(self) -> None:
        """Cut the connection mid-stream: no terminating chunk, so the client sees a broken body."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # ------------------------------------------------------------ routing

    def do_GET(self) -> None:
        route = self.server_api.get_routes.get(self.path)
        status, kind, text = route(self.server_api) if route else (404, "text/plain", f"no route {self.path}")
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        api = self.server_api
        length = int(self.headers.get("Content-Length", 0))
        body = json.loads(self.rfile.read(length) or b"{}")
        headers = {k.lower(): v for k, v in self.headers.items()}
        served = self._served = api._next(self.path, body, headers)
        anthropic = self.path.endswith("/messages")
        key = headers.get("x-api-key") or headers.get("authorization", "").removeprefix("Bearer ")
        if api.expected_key is not None and key != api.expected_key:
            return self._error(anthropic, 401, f"Incorrect API key provided: {key[:3]}...{key[-12:]}")
        if served.fault == "429":
            return self._error(anthropic, 429, "rate limited", api.retry_after_headers())
        if served.fault == "500":
            return self._error(anthropic, 500, "internal error")
        if served.fault == "slow":
            time.sleep(api.slow_s)
        if not (self.path.endswith("/chat/completions") or anthropic):
            return self._error(anthropic, 404, f"no route {self.path}")
        tokens = api.answer_tokens(body.get("messages", []))
        limit = body.get("max_completion_tokens") or body.get("max_tokens") or len(tokens)
        finish = "length" if len(tokens) > limit else "stop"
        tokens = tokens[:limit]
        served.output_tokens = len(tokens) if api.count_tokens is None else min(limit, api.count_tokens("".join(tokens)))
        model = api.model_name or body.get("model", "fake")
        usage = served.fault != "no_usage"
        if anthropic:
            self._anthropic(served, body, tokens, finish, model, usage)
        else:
            self._openai(served, body, tokens, finish, model, usage)

    def _error(self, anthropic: bool, status: int, message: str, headers: dict | None = None) -> None:
        kind = {401: "authentication_error", 404: "not_found_error", 429: "rate_limit_error"}.get(status, "api_error")
        body = ({"type": "error", "error": {"type": kind, "message": message}} if anthropic
                else {"error": {"message": message, "type": kind, "code": status}})
        self._json(status, body, headers)

    def _emit_tokens(self, served: Served, tokens: list[str], frame: Callable[[str], str]) -> bool:
        """Send each token as its own event with the configured delays; False if the connection dropped."""
        api = self.server_api
        time.sleep(api.ttft_s)
        for i, tok in enumerate(tokens):
            if i:
                time.sleep(api.itl_s)
            if served.fault == "drop" and i == max(1, len(tokens) // 2):
                self._drop()
                return False
            self._chunk(frame(tok))
            now = time.perf_counter()
            served.first_token_at = served.first_token_at or now
            served.last_token_at = now
        return True

    # ------------------------------------------------------------ OpenAI

    def _openai(self, served: Served, body: dict, tokens: list[str], finish: str, model: str, usage: bool) -> None:
        api = self.server_api
        n_in, n_out = _prompt_tokens(body, api.count_tokens), served.output_tokens
        usage_obj = {"prompt_tokens": n_in, "completion_tokens": n_out, "total_tokens": n_in + n_out}
        base = {"id": f"chatcmpl-{served.index}", "object": "chat.completion.chunk", "created": 1, "model": model}
        if not body.get("stream"):
            time.sleep(api.latency_s or api.ttft_s + api.itl_s * max(0, len(tokens) - 1))
            served.first_token_at = served.last_token_at = time.perf_counter()
            resp = {**base, "object": "chat.completion", "choices": [{
                "index": 0, "message": {"role": "assistant", "content": "".join(tokens)}, "finish_reason": finish}]}
            if usage:
                resp["usage"] = usage_obj
            return self._json(200, resp)

        def sse(obj: dict) -> str:
            return f"data: {json.dumps(obj)}\n\n"

        self._start_stream()
        self._chunk(sse({**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""},
                                              "finish_reason": None}]}))
        ok = self._emit_tokens(served, tokens, lambda t: sse(
            {**base, "choices": [{"index": 0, "delta": {"content": t}, "finish_reason": None}]}))
        if not ok:
            return
        self._chunk(sse({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]}))
        if usage and (body.get("stream_options") or {}).get("include_usage"):
            self._chunk(sse({**base, "choices": [], "usage": usage_obj}))
        self._chunk("data: [DONE]\n\n")
        self._end_stream()

    # ------------------------------------------------------------ Anthropic

    def _anthropic(self, served: Served, body: dict, tokens: list[str], finish: str, model: str, usage: bool) -> None:
        api = self.server_api
        n_in = _prompt_tokens(body, api.count_tokens)
        stop_reason = "max_tokens" if finish == "length" else "end_turn"
        msg = {"id": f"msg_{served.index}", "type": "message", "role": "assistant", "model": model,
               "content": [], "stop_reason": None, "stop_sequence": None,
               "usage": {"input_tokens": n_in, "output_tokens": 1}}
        if not body.get("stream"):
            time.sleep(api.latency_s or api.ttft_s + api.itl_s * max(0, len(tokens) - 1))
            served.first_token_at = served.last_token_at = time.perf_counter()
            msg.update(content=[{"type": "text", "text": "".join(tokens)}], stop_reason=stop_reason,
                       usage={"input_tokens": n_in, "output_tokens": served.output_tokens})
            return self._json(200, msg)

        def sse(event: str, obj: dict) -> str:
            return f"event: {event}\ndata: {json.dumps({'type': event, **obj})}\n\n"

        self._start_stream()
        start = dict(msg) if usage else {**msg, "usage": {"input_tokens": None, "output_tokens": None}}
        self._chunk(sse("message_start", {"message": start}))
        self._chunk(sse("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}}))
        ok = self._emit_tokens(served, tokens, lambda t: sse(
            "content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": t}}))
        if not ok:
            return
        self._chunk(sse("content_block_stop", {"index": 0}))
        delta_usage = {"output_tokens": served.output_tokens} if usage else {"output_tokens": None}
        self._chunk(sse("message_delta", {"delta": {"stop_reason": stop_reason, "stop_sequence": None},
                                          "usage": delta_usage}))
        self._chunk(sse("message_stop", {}))
        self._end_stream()


class FakeAPIProcess:
    """The same server in a process of its own, so that its threads do not share the client's GIL:
    for benchmarks. perf_counter readings compare across processes (CLOCK_MONOTONIC on Linux).

        with FakeAPIProcess(reply_text="ok", ttft_s=0.1) as api:
            ...; served = api.stop()   # the server's log
    """

    def __init__(self, reply_text: str = "OK", **options):
        import multiprocessing as mp

        ctx = mp.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_serve, args=(child, reply_text, options), daemon=True)
        self.log: list[Served] = []

    def __enter__(self) -> FakeAPIProcess:
        self._proc.start()
        self.root_url = self._conn.recv()
        self.base_url = self.root_url + "/v1"
        return self

    def stop(self) -> list[Served]:
        if self._proc.is_alive():
            self._conn.send("stop")
            self.log = self._conn.recv()
            self._proc.join()
        return self.log

    def __exit__(self, *exc) -> None:
        self.stop()


def _serve(conn, reply_text: str, options: dict) -> None:
    with FakeAPI(reply=lambda messages: reply_text, **options) as api:
        conn.send(api.root_url)
        conn.recv()
        conn.send(api.log)
