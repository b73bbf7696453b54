"""OpenAI chat completions through the official async SDK: OpenAI itself and any compatible server
(vLLM, TGI, llama.cpp server, Ollama) through base_url. Streams with usage by default."""

from __future__ import annotations

from bench.backends.api import Attempt, AttemptError, SdkBackend
from bench.backends.base import Request
from bench.core import measure

FINISH = {"stop": "stop", "length": "length", "content_filter": "stop", "tool_calls": "stop"}


class OpenAIBackend(SdkBackend):
    SDK, CLIENT = "openai", "AsyncOpenAI"

    def _options(self, request: Request) -> dict:
        spec = self.spec
        kw = {"model": spec.model, "messages": request.messages, "max_completion_tokens": self.max_tokens(request)}
        if spec.temperature != "default":
            kw["temperature"] = spec.temperature
        if spec.send_stop and request.stop:
            kw["stop"] = list(request.stop)[:4]  # the API takes at most four; all are cut client-side too
        if spec.reasoning_effort:
            kw["reasoning_effort"] = spec.reasoning_effort
        return kw

    async def _attempt(self, client, request: Request, sent_at: float) -> Attempt:
        kw = self._options(request)
        if not self.spec.stream:
            resp = await client.chat.completions.create(**kw)
            choice = resp.choices[0]
            att = Attempt(text=choice.message.content or "", finish_reason=FINISH.get(choice.finish_reason, "stop"),
                          done_at=measure.now(), api_model=resp.model)
            _usage(att, resp.usage)
            return att
        stream = await client.chat.completions.create(**kw, stream=True, stream_options={"include_usage": True})
        parts: list[str] = []
        att = Attempt(text="", finish_reason="")
        async for chunk in stream:
            now = measure.now()
            att.api_model = att.api_model or chunk.model
            if chunk.usage is not None:
                _usage(att, chunk.usage)
            for choice in chunk.choices:
                delta = choice.delta
                reasoning = getattr(delta, "reasoning_content", None) or getattr(delta, "reasoning", None)
                if reasoning:
                    att.reasoning_streamed = True
                if reasoning or delta.content:
                    att.first_token_at = att.first_token_at or now
                    att.last_token_at = now
                if delta.content:
                    att.first_answer_at = att.first_answer_at or now
                    parts.append(delta.content)
                if choice.finish_reason:
                    att.finish_reason = FINISH.get(choice.finish_reason, "stop")
        att.done_at = measure.now()
        if not att.finish_reason:
            raise AttemptError("IncompleteStream: the stream ended without a finish reason", retryable=True)
        att.text = "".join(parts)
        return att


def _usage(att: Attempt, usage) -> None:
    if usage is None:
        return
    att.input_tokens, att.output_tokens = usage.prompt_tokens, usage.completion_tokens
    details = getattr(usage, "prompt_tokens_details", None)
    att.cached_input_tokens = (getattr(details, "cached_tokens", None) or 0) if details else 0
    details = getattr(usage, "completion_tokens_details", None)
    att.reasoning_tokens = (getattr(details, "reasoning_tokens", None) or 0) if details else 0
