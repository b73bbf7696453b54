"""A toy API backend: a client whose "server" answers with the last user message in upper case,
implementing the ApiBackend protocol (bench/backends/base.py) without an SDK. With its registry line
(tests/test_registry.py) it is a whole backend: key, prices, concurrency from bench's ApiModel."""

from __future__ import annotations

import asyncio
import os
from typing import Literal

from bench.backends.api import MissingKey
from bench.backends.base import Completion, LoadInfo, Request
from bench.config import ApiModel
from bench.core import measure


class ShoutModel(ApiModel):
    backend: Literal["shout"]


class ShoutBackend:
    def __init__(self, spec: ShoutModel):
        self.spec = spec
        self.clients: list = []
        self.reported_model: str | None = None
        self._slots: asyncio.Semaphore | None = None

    def load(self) -> LoadInfo:
        if not os.environ.get(self.spec.api_key_env or ""):
            raise MissingKey(f"environment variable {self.spec.api_key_env} is not set")
        return LoadInfo(load_s=0.0, resolved_revision=None, parameters=None, dtype=None, device="shout API",
                        chat_template="server", chat_template_sha256=None)

    def open(self) -> None:
        self.clients, self._slots = ["client"], asyncio.Semaphore(self.spec.concurrency)

    async def warm_up(self, request: Request) -> list:
        return [None]

    async def complete(self, request: Request, queued_at: float, on_retry=None, admit=None) -> Completion | None:
        async with self._slots:
            if admit is not None and not admit(request):
                return None
            sent = measure.now()
            await asyncio.sleep(0.001)
            text = request.messages[-1]["content"].upper()
            self.reported_model = self.spec.model
            return Completion(text=text, input_tokens=len(text.split()), output_tokens=len(text.split()),
                              ttft_s=measure.now() - sent, latency_s=measure.now() - sent,
                              queue_s=sent - queued_at, token_source="server")

    async def aclose(self) -> None:
        self.clients = []
