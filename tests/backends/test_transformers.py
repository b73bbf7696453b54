"""The local backend against a bare model.generate() on the same prompts and batches."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from conftest import TASKS  # noqa: E402

from bench.backends.base import (  # noqa: E402
    Request,  # noqa: E402
    cut_at_stop,
    plain_prompt,
)
from bench.backends.transformers import TransformersBackend, greedy_kwargs  # noqa: E402
from bench.config import TransformersModel  # noqa: E402
from bench.prepare import tasks  # noqa: E402
from bench.prepare.taskfiles import load_task


def backend(path, template="auto") -> TransformersBackend:
    b = TransformersBackend(TransformersModel(backend="transformers", model=str(path), device="cpu",
                                              chat_template=template))
    b.load()
    return b


def requests(n: int, max_new: int, stop=()) -> list[Request]:
    data = tasks.load(load_task(TASKS / "ticket_routing.toml"), limit=n)
    return [Request(ex.id, tasks.render(data, ex), max_new, tuple(stop)) for ex in data.examples]


def bare(b: TransformersBackend, batch: list[Request], max_new: int) -> list[list[int]]:
    """Generated ids per row from a plain generate() call, padding included."""
    enc = b.encode(batch)
    with torch.inference_mode():
        out = b.model.generate(**enc, **greedy_kwargs(b.tokenizer, max_new))
    return out[:, enc["input_ids"].shape[1]:].tolist()


def expected_count(ids: list[int], eos: set[int], decode, stop: tuple[str, ...], max_new: int) -> int:
    """Tokens up to and including the one that ends the row: EOS, or the one completing a stop string."""
    for k in range(1, len(ids) + 1):
        if ids[k - 1] in eos or (stop and any(s in decode(ids[:k]) for s in stop)):
            return k
    return min(len(ids), max_new)


@pytest.mark.parametrize("batch_size", [1, 4])
@pytest.mark.parametrize("model", ["tiny-chat", "tiny-plain"])
def test_greedy_outputs_equal_bare_generate(tiny_models, model, batch_size):
    b = backend(tiny_models[model])
    max_new = 24
    reqs = requests(8, max_new)
    eos = set(b.eos_ids.tolist())
    reasons = set()
    for i in range(0, len(reqs), batch_size):
        batch = reqs[i:i + batch_size]
        ours = b.generate_batch(batch)
        theirs = bare(b, batch, max_new)
        for c, ids in zip(ours, theirs):
            n = expected_count(ids, eos, b.tokenizer.decode, (), max_new)
            reasons.add(c.finish_reason)
            assert c.output_tokens == n
            assert c.text == b.tokenizer.decode(ids[:n], skip_special_tokens=True)
            assert c.finish_reason == ("stop" if ids[n - 1] in eos else "length")
            assert c.batch_size == len(batch)
    assert reasons == {"stop", "length"}, "both ways of ending a row should be exercised"


def test_token_counts_ignore_padding(tiny_models):
    b = backend(tiny_models["tiny-chat"])
    batch = requests(6, 8)
    enc = b.encode(batch)
    unpadded = [len(b.tokenizer(b.prompt_text(r.messages), add_special_tokens=False)["input_ids"]) for r in batch]
    assert len(set(unpadded)) > 1, "prompts of one length would not exercise padding"
    assert enc["input_ids"].shape[1] == max(unpadded)
    assert (enc["input_ids"][:, 0] == b.tokenizer.pad_token_id).any(), "padding must be on the left"
    got = b.generate_batch(batch)
    assert [c.input_tokens for c in got] == unpadded
    assert all(1 <= c.output_tokens <= 8 for c in got)


def test_stop_strings_cut_text_and_count_tokens(tiny_models):
    b = backend(tiny_models["tiny-chat"])
    max_new = 24
    batch = requests(4, max_new)
    free = b.generate_batch(batch)
    long_row = max(range(len(free)), key=lambda i: len(free[i].text))
    text = free[long_row].text
    # a string the model does produce partway through its answer; plain ASCII, because a random
    # model's broken UTF-8 decodes to U+FFFD, which no real stop string contains
    start = next(i for i in range(1, len(text) - 1) if text[i:i + 2].isascii() and text[i:i + 2].isprintable())
    stop = (text[start:start + 2],)
    batch = [Request(r.example_id, r.messages, max_new, stop) for r in batch]
    cut = b.generate_batch(batch)
    theirs = bare(b, batch, max_new)
    eos = set(b.eos_ids.tolist())
    for c, ids in zip(cut, theirs):
        n = expected_count(ids, eos, b.tokenizer.decode, stop, max_new)
        assert c.output_tokens == n
        assert stop[0] not in c.text
        assert c.text == cut_at_stop(b.tokenizer.decode(ids[:n], skip_special_tokens=True), stop)
    assert cut[long_row].finish_reason == "stop"
    assert cut[long_row].text == text[: text.find(stop[0])]
    assert cut[long_row].output_tokens < free[long_row].output_tokens or free[long_row].finish_reason == "stop"


def test_length_limit_is_flagged(tiny_models):
    b = backend(tiny_models["tiny-plain"])
    got = b.generate_batch(requests(4, 2))
    assert all(c.output_tokens <= 2 for c in got)
    assert any(c.finish_reason == "length" and c.output_tokens == 2 for c in got)


def test_timing_fields_are_ordered(tiny_models):
    b = backend(tiny_models["tiny-chat"])
    for c in b.generate_batch(requests(3, 6)):
        assert 0 < c.ttft_s <= c.latency_s


def test_chat_template_policies(tiny_models, tmp_path):
    auto = backend(tiny_models["tiny-chat"])
    assert auto.template == "tokenizer"
    msgs = [{"role": "system", "content": "S"}, {"role": "user", "content": "U"}]
    assert auto.prompt_text(msgs).endswith("<|assistant|>\n")
    none = backend(tiny_models["tiny-chat"], "none")
    assert none.template == "none" and none.prompt_text(msgs) == plain_prompt(msgs) == "S\n\nU\n"
    plain = backend(tiny_models["tiny-plain"])  # no template in the tokenizer: auto falls back to none
    assert plain.template == "none"
    tpl = tmp_path / "t.jinja"
    tpl.write_text("{% for m in messages %}[{{ m['content'] }}]{% endfor %}>")
    b = TransformersBackend(TransformersModel(backend="transformers", model=str(tiny_models["tiny-plain"]),
                                              device="cpu", chat_template="t.jinja"), spec_dir=tmp_path)
    info = b.load()
    assert info.chat_template == "file:t.jinja" and len(info.chat_template_sha256) == 64
    assert b.prompt_text(msgs) == "[S][U]>"


def test_load_info(tiny_models):
    b = TransformersBackend(TransformersModel(backend="transformers", model=str(tiny_models["tiny-chat"]),
                                              device="cpu"))
    info = b.load()
    assert info.parameters == sum(p.numel() for p in b.model.parameters()) > 0
    assert info.dtype == "float32" and info.device == "cpu"
    assert info.load_s > 0 and info.memory["rss_after_load_bytes"] > 0



def test_speed_mode_runs_every_row_to_the_limit(tiny_models):
    b = backend(tiny_models["tiny-chat"])  # this model ends most rows early by EOS
    normal = b.generate_batch(requests(4, 12))
    assert any(c.output_tokens < 12 for c in normal)
    fixed = b.generate_batch(requests(4, 12), speed=True)
    assert [c.output_tokens for c in fixed] == [12] * 4
    assert all(c.finish_reason == "length" for c in fixed)


@pytest.mark.timing  # two timings of this process compared: another test file's work beside it (-n 2) skews them
def test_decode_time_per_step_matches_the_cost_of_extra_steps(tiny_models):
    """Independent of how tpot is computed: 40 more decode steps cost about 40 x tpot."""
    import statistics

    b = backend(tiny_models["tiny-plain"])
    batch = requests(3, 10)
    b.generate_batch(batch, speed=True)  # warm
    short, long, tpots = [], [], []
    for _ in range(5):
        short.append(b.generate_batch([type(r)(r.example_id, r.messages, 10) for r in batch], speed=True)[0])
        got = b.generate_batch([type(r)(r.example_id, r.messages, 50) for r in batch], speed=True)[0]
        long.append(got.latency_s)
        tpots.append(got.tpot_s)
    extra = (statistics.median(long) - statistics.median(c.latency_s for c in short)) / 40
    assert statistics.median(tpots) == pytest.approx(extra, rel=0.35)
