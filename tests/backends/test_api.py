"""The OpenAI and Anthropic backends, through the real SDKs, against a real local HTTP server."""

from __future__ import annotations

import asyncio
import email.utils
import sys
import time

import pytest

pytest.importorskip("openai")
pytest.importorskip("anthropic")

from bench.backends.anthropic import AnthropicBackend  # noqa: E402
from bench.backends.api import MissingKey, public_url, redact, retry_after  # noqa: E402
from bench.backends.base import Request  # noqa: E402
from bench.backends.openai import OpenAIBackend  # noqa: E402
from bench.config import AnthropicModel, OpenAIModel  # noqa: E402
from fakeapi import FakeAPI  # noqa: E402

KEY = "sk-test-SENTINEL-0123456789abcdef"
REQ = Request("ex-1", [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Route this ticket"}],
              32, ("\n\n",))


@pytest.fixture(autouse=True)
def key(monkeypatch):
    monkeypatch.setenv("BENCH_TEST_KEY", KEY)


def make(kind: str, api: FakeAPI, **options):
    if kind == "openai":
        b = OpenAIBackend(OpenAIModel(backend="openai", model="gpt-test", base_url=api.base_url,
                                      api_key_env="BENCH_TEST_KEY", backoff_s=0.01, **options))
    else:
        b = AnthropicBackend(AnthropicModel(backend="anthropic", model="claude-test", base_url=api.root_url,
                                            api_key_env="BENCH_TEST_KEY", backoff_s=0.01, **options))
    b.load()
    return b


def complete(b, request=REQ):
    async def one():
        try:
            return await b.complete(request, time.perf_counter())
        finally:
            await b.aclose()
    return asyncio.run(one())


async def generate_all(b, requests):
    try:
        return await b.generate(requests)
    finally:
        await b.aclose()


KINDS = ["openai", "anthropic"]


@pytest.mark.parametrize("kind", KINDS)
def test_streaming_usage_and_timing(kind):
    with FakeAPI(ttft_s=0.1, itl_s=0.005, reply=lambda m: "billing is the queue", model_name="served-model") as api:
        b = make(kind, api)
        c = complete(b)
        served = api.log[-1]
    assert c.text == "billing is the queue" and c.finish_reason == "stop" and c.error is None
    assert c.token_source == "server" and c.output_tokens == 4 and c.input_tokens == served_input(served)
    assert served.body["stream"] is True
    assert 0.1 <= c.ttft_s < c.latency_s < 0.5
    assert c.ttft_answer_s == c.ttft_s and c.retries == 0 and c.queue_s < 0.05
    assert b.reported_model == "served-model"
    assert served.headers.get("authorization", served.headers.get("x-api-key", "")).endswith(KEY)


def served_input(served) -> int:
    words = " ".join(m["content"] for m in served.body["messages"]) + " " + served.body.get("system", "")
    return len(words.split())


def test_openai_sends_options_and_asks_for_usage():
    with FakeAPI() as api:
        complete(make("openai", api, reasoning_effort="low", max_tokens=7))
        body = api.log[-1].body
    assert body["stream_options"] == {"include_usage": True}
    assert body["max_completion_tokens"] == 7 and body["temperature"] == 0.0 and body["reasoning_effort"] == "low"
    assert body["stop"] == ["\n\n"] and body["messages"][0]["role"] == "system"


def test_anthropic_system_apart_and_whitespace_stops_dropped():
    with FakeAPI() as api:
        complete(make("anthropic", api, effort="low"))
        body = api.log[-1].body
    assert body["system"] == "Be brief." and [m["role"] for m in body["messages"]] == ["user"]
    assert "stop_sequences" not in body  # "\n\n" is whitespace only: cut client-side instead
    assert "temperature" not in body and body["output_config"] == {"effort": "low"} and body["max_tokens"] == 32


@pytest.mark.parametrize("kind", KINDS)
def test_stop_strings_are_cut_client_side(kind):
    with FakeAPI(reply=lambda m: "refunds\n\nbecause the customer asked") as api:
        c = complete(make(kind, api))
    assert c.text == "refunds" and c.output_tokens == 5  # the server billed all it generated


@pytest.mark.parametrize("kind", KINDS)
def test_without_streaming_ttft_is_not_reported(kind):
    with FakeAPI(latency_s=0.05, reply=lambda m: "sales") as api:
        c = complete(make(kind, api, stream=False))
        assert api.log[-1].body.get("stream") in (None, False)
    assert c.text == "sales" and c.ttft_s is None and c.latency_s >= 0.05 and c.token_source == "server"


@pytest.mark.parametrize("kind", KINDS)
def test_length_finish_is_flagged(kind):
    with FakeAPI(reply=lambda m: "word " * 50) as api:
        c = complete(make(kind, api, max_tokens=5))
    assert c.finish_reason == "length" and c.output_tokens == 5


@pytest.mark.parametrize("kind", KINDS)
def test_429_retry_after_is_honoured_and_kept_out_of_latency(kind):
    with FakeAPI(ttft_s=0.02, retry_after_s=0.3, fault=lambda i: "429" if i == 0 else None) as api:
        c = complete(make(kind, api))
        assert len(api.log) == 2
    assert c.error is None and c.retries == 1
    assert c.retry_wait_s >= 0.3 and c.latency_s < 0.2


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("form, asked_s, least_s", [("ms", 0.3, 0.3), ("date", 1.5, 0.5)])
def test_429_retry_after_ms_and_http_date_are_honoured(kind, form, asked_s, least_s):
    """retry-after-ms (OpenAI) and Retry-After as an HTTP date (whole seconds, so the wait is at
    least asked_s - 1) both set the wait; our own backoff here would be about 0.01 s."""
    with FakeAPI(retry_after_s=asked_s, retry_after_form=form, fault=lambda i: "429" if i == 0 else None) as api:
        c = complete(make(kind, api))
        assert len(api.log) == 2
    assert c.error is None and c.retries == 1
    assert least_s <= c.retry_wait_s < asked_s + 0.5


def test_retry_after_header_forms():
    now = 1_700_000_000.0
    date = email.utils.formatdate(now + 30, usegmt=True)
    assert retry_after({"retry-after-ms": "250"}) == 0.25
    assert retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25  # the finer one first
    assert retry_after({"retry-after": "2"}) == 2.0
    assert retry_after({"retry-after": date}, now_s=now) == 30.0
    assert retry_after({"retry-after": email.utils.formatdate(now - 5, usegmt=True)}, now_s=now) == 0.0
    assert retry_after({"retry-after": "soon"}) is None and retry_after({}) is None and retry_after(None) is None
    assert retry_after({"retry-after-ms": "x", "retry-after": "3"}) == 3.0


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("fault", ["500", "drop"])
def test_server_errors_and_dropped_streams_are_retried(kind, fault):
    with FakeAPI(itl_s=0.001, fault=lambda i: fault if i < 2 else None, reply=lambda m: "one two three four") as api:
        c = complete(make(kind, api))
    assert c.error is None and c.retries == 2 and c.text == "one two three four"


@pytest.mark.parametrize("kind", KINDS)
def test_gives_up_after_max_attempts_with_the_reason(kind):
    with FakeAPI(fault=lambda i: "500") as api:
        c = complete(make(kind, api, max_attempts=3))
        assert len(api.log) == 3
    assert c.finish_reason == "error" and c.retries == 2 and "HTTP 500" in c.error and "3 attempts" in c.error
    assert c.output_tokens is None and c.latency_s is None


@pytest.mark.parametrize("kind", KINDS)
def test_timeout_per_attempt(kind):
    with FakeAPI(slow_s=2.0, fault=lambda i: "slow") as api:
        t0 = time.perf_counter()
        c = complete(make(kind, api, timeout_s=0.2, max_attempts=2))
        assert time.perf_counter() - t0 < 1.5
    assert c.finish_reason == "error" and c.error.startswith("Timeout") and c.retries == 1


@pytest.mark.parametrize("kind", KINDS)
def test_client_errors_are_not_retried_and_never_show_the_key(kind):
    with FakeAPI(expected_key="another-key") as api:
        c = complete(make(kind, api))
        assert len(api.log) == 1
    assert c.finish_reason == "error" and "401" in c.error and c.retries == 0
    assert "Incorrect API key provided" in c.error  # the server's message, which quoted part of the key ...
    assert KEY not in c.error and KEY[-12:] not in c.error and KEY[-8:] not in c.error  # ... scrubbed


@pytest.mark.parametrize("kind", KINDS)
def test_no_usage_means_unknown_tokens_not_counted_chunks(kind):
    with FakeAPI(reply=lambda m: "a b c d e f", fault=lambda i: "no_usage") as api:
        c = complete(make(kind, api))
    assert c.text == "a b c d e f" and c.token_source == "none"
    assert c.output_tokens is None


@pytest.mark.parametrize("kind", KINDS)
def test_no_usage_counted_with_the_configured_tokenizer(kind, tiny_models):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_models["tiny-chat"])
    with FakeAPI(reply=lambda m: "refunds please", fault=lambda i: "no_usage") as api:
        c = complete(make(kind, api, tokenizer=str(tiny_models["tiny-chat"])))
    assert c.token_source == "tokenizer"
    assert c.output_tokens == len(tok("refunds please", add_special_tokens=False)["input_ids"])
    assert c.input_tokens == len(tok.apply_chat_template(REQ.messages, add_generation_prompt=True,
                                                         tokenize=True, return_dict=False))


def test_concurrency_limit_and_queue_time():
    with FakeAPI(latency_s=0.1) as api:
        b = make("openai", api, stream=False, concurrency=4)
        reqs = [Request(f"e{i}", REQ.messages, 8) for i in range(12)]
        t0 = time.perf_counter()
        got = asyncio.run(generate_all(b, reqs))
        wall = time.perf_counter() - t0
        spans = [(s.received_at, s.last_token_at) for s in api.log]
    in_flight = max(sum(1 for a, z in spans if a <= t < z) for t, _ in spans)
    assert in_flight == 4
    assert wall >= 0.3  # three rounds of four; how close to ideal is for benchmarks/api_concurrency.py
    queued = sorted(c.queue_s for c in got)
    assert queued[0] < 0.05 and queued[-1] >= 0.2  # the last four waited for two rounds
    assert all(c.latency_s < c.queue_s for c in got if c.queue_s >= 0.2)  # waiting for a slot is not latency


def test_missing_key_and_keyless_servers(monkeypatch):
    monkeypatch.delenv("BENCH_TEST_KEY")
    b = OpenAIBackend(OpenAIModel(backend="openai", model="m", api_key_env="BENCH_TEST_KEY"))
    with pytest.raises(MissingKey, match="BENCH_TEST_KEY is not set"):
        b.load()
    with FakeAPI(reply=lambda m: "ok") as api:  # a self-hosted server without auth needs no key
        keyless = OpenAIBackend(OpenAIModel(backend="openai", model="m", base_url=api.base_url))
        keyless.load()
        assert complete(keyless).text == "ok"


@pytest.mark.parametrize("kind,sdk,client", [("openai", "openai", "AsyncOpenAI"),
                                             ("anthropic", "anthropic", "AsyncAnthropic")])
def test_the_sdk_is_imported_at_load_and_a_missing_one_says_what_to_install(kind, sdk, client, monkeypatch):
    with FakeAPI(reply=lambda m: "ok") as api:
        assert type(make(kind, api)._client(KEY)).__name__ == client
        monkeypatch.setitem(sys.modules, sdk, None)  # as if the package were not installed
        with pytest.raises(ImportError) as e:
            make(kind, api)
    assert str(e.value) == f"the {sdk} backend needs the {sdk} package: pip install {sdk}"


def test_public_url_and_redact():
    assert public_url("https://user:pw@example.com:8443/v1?key=abc") == "https://example.com:8443/v1"
    assert public_url(None) is None
    assert redact(f"bad key {KEY} given", KEY) == "bad key [redacted] given"
    assert KEY[5:13] not in redact(f"key ...{KEY[5:13]}... is wrong", KEY)
