"""Anthropic's Messages API through the official async SDK, streaming by default; usage from
message_start (input) and message_delta (output)."""

from __future__ import annotations

from bench.backends.api import Attempt, AttemptError, SdkBackend
from bench.backends.base import Request
from bench.core import measure

FINISH = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length", "refusal": "stop",
          "pause_turn": "stop", "tool_use": "stop"}


class AnthropicBackend(SdkBackend):
    SDK, CLIENT = "anthropic", "AsyncAnthropic"

    def _options(self, request: Request) -> dict:
        spec = self.spec
        system = "\n\n".join(m["content"] for m in request.messages if m["role"] == "system")
        kw = {"model": spec.model, "max_tokens": self.max_tokens(request),
              "messages": [m for m in request.messages if m["role"] != "system"]}
        if system:
            kw["system"] = system
        if spec.thinking_budget_tokens:
            # thinking tokens come out of max_tokens: the answer keeps its own budget
            kw["thinking"] = {"type": "enabled", "budget_tokens": spec.thinking_budget_tokens}
            kw["max_tokens"] += spec.thinking_budget_tokens
        elif spec.temperature != "default":
            kw["extra_body"] = {"temperature": spec.temperature}
        if spec.effort:
            kw["output_config"] = {"effort": spec.effort}
        stops = [s for s in request.stop if s.strip()]  # the API refuses whitespace-only stops
        if spec.send_stop and stops:
            kw["stop_sequences"] = stops
        return kw

    async def _attempt(self, client, request: Request, sent_at: float) -> Attempt:
        kw = self._options(request)
        if not self.spec.stream:
            msg = await client.messages.create(**kw)
            text = "".join(b.text for b in msg.content if getattr(b, "type", "") == "text")
            att = Attempt(text=text, finish_reason=FINISH.get(msg.stop_reason, "stop"), done_at=measure.now(),
                          api_model=msg.model)
            _start_usage(att, msg.usage)
            att.output_tokens = msg.usage.output_tokens
            return att
        stream = await client.messages.create(**kw, stream=True)
        parts: list[str] = []
        att = Attempt(text="", finish_reason="")
        stopped = False
        async for event in stream:
            now = measure.now()
            kind = event.type
            if kind == "message_start":
                att.api_model = event.message.model
                _start_usage(att, event.message.usage)
            elif kind == "content_block_delta":
                delta = event.delta
                piece = getattr(delta, "text", None) if delta.type == "text_delta" else getattr(delta, "thinking", None)
                if piece:
                    att.reasoning_streamed = att.reasoning_streamed or delta.type != "text_delta"
                    att.first_token_at = att.first_token_at or now
                    att.last_token_at = now
                    if delta.type == "text_delta":
                        att.first_answer_at = att.first_answer_at or now
                        parts.append(piece)
            elif kind == "message_delta":
                att.finish_reason = FINISH.get(event.delta.stop_reason, "stop")
                if event.usage is not None and event.usage.output_tokens is not None:
                    att.output_tokens = event.usage.output_tokens
            elif kind == "message_stop":
                stopped = True
        att.done_at = measure.now()
        if not stopped or not att.finish_reason:
            raise AttemptError("IncompleteStream: the stream ended before message_stop", retryable=True)
        att.text = "".join(parts)
        return att


def _start_usage(att: Attempt, usage) -> None:
    """Anthropic's input_tokens exclude cache reads and writes; ours are all prompt tokens."""
    if usage is None or usage.input_tokens is None:
        return
    cached = getattr(usage, "cache_read_input_tokens", None) or 0
    written = getattr(usage, "cache_creation_input_tokens", None) or 0
    att.input_tokens = usage.input_tokens + cached + written
    att.cached_input_tokens = cached
