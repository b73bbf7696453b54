"""What a run will cost before it sends anything: per model, the requests, estimated input tokens,
the output-token ceiling, and the expected and worst-case cost. Pure over the prepared plans;
the rules (and their measured error) are in docs/cost.md, "Estimating a run"."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

from bench.backends import registry
from bench.spend import cost

CHARS_PER_TOKEN = 4.0  # English prose in GPT/Claude-style BPE vocabularies: about 4 characters a token
MESSAGE_OVERHEAD_TOKENS = 4  # role and separators of one chat message (OpenAI documents 3-4)
REPLY_OVERHEAD_TOKENS = 3  # the assistant turn's opening, added once per request
WARM_UP_PER_CLIENTS = 8  # the API runner warms up one SDK client per 8 of concurrency (backends/api.py)


def text_tokens(text: str) -> int:
    """Expected tokens of a text by the character rule."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def input_tokens_expected(messages: list[dict]) -> int:
    return sum(text_tokens(str(m["content"])) + MESSAGE_OVERHEAD_TOKENS for m in messages) + REPLY_OVERHEAD_TOKENS


def input_tokens_worst(messages: list[dict]) -> int:
    """An upper bound on the input tokens: a byte-level BPE token covers at least one byte of UTF-8,
    so a text has no more tokens than bytes; the chat format's overhead is counted twice over."""
    return sum(len(str(m["content"]).encode("utf-8")) + 2 * MESSAGE_OVERHEAD_TOKENS for m in messages) \
        + 2 * REPLY_OVERHEAD_TOKENS


def output_ceiling(spec, max_new_tokens: int) -> int:
    """The most output tokens one request can be billed for: the max_tokens sent (the model's own
    max_tokens overrides the task's), plus the thinking budget where it is added to it (Anthropic)."""
    return (getattr(spec, "max_tokens", None) or max_new_tokens) + (getattr(spec, "thinking_budget_tokens", None) or 0)


def output_expected(target: str, ceiling: int) -> int:
    """Expected output tokens: the reference answer by the character rule, plus the token that ends
    it, within the ceiling. Models that reason or explain write more; docs/cost.md says how much."""
    return max(1, min(ceiling, text_tokens(target) + 1))


@dataclass
class ModelPlan:
    """One model's share of the run, as printed before the first request."""

    model: str
    kind: str  # tokens (priced per token) | hourly (priced by time) | unpriced | no_key
    requests: int  # requests to send (every repeat), warm-ups not included
    warm_ups: int = 0  # untimed one-token requests the API runner sends first (billed)
    input_tokens: int = 0  # expected, by the character rule
    output_expected_tokens: int = 0
    output_ceiling_tokens: int = 0  # requests x max tokens: what the output can reach at most
    usd_expected: float | None = None
    usd_worst: float | None = None  # inputs at their upper bound, every output at its ceiling


def plan_model(name: str, spec, pricing: cost.Pricing, plans: dict, todo: dict[str, list]) -> ModelPlan:
    """todo: per task, the (example id, repeat) pairs still to send."""
    api = not registry.of(spec).local
    if api and getattr(spec, "api_key_env", None) and not os.environ.get(spec.api_key_env):
        return ModelPlan(name, "no_key", 0)
    kind = "hourly" if pricing.hourly else ("tokens" if pricing.known else "unpriced")
    mp = ModelPlan(name, kind, sum(len(v) for v in todo.values()))
    first = None
    for task, keys in todo.items():
        p = plans[task]
        by_id = {r.example_id: r for r in p.requests}
        for ex_id, _ in keys:
            r = by_id[ex_id]
            first = first or r
            ceiling = output_ceiling(spec, r.max_new_tokens)
            mp.input_tokens += input_tokens_expected(r.messages)
            mp.output_expected_tokens += output_expected(p.targets[ex_id], ceiling)
            mp.output_ceiling_tokens += ceiling
            if kind == "tokens":
                mp.usd_expected = (mp.usd_expected or 0.0) + cost.token_cost_usd(
                    input_tokens_expected(r.messages), 0, output_expected(p.targets[ex_id], ceiling), pricing)
                mp.usd_worst = (mp.usd_worst or 0.0) + cost.token_cost_usd(
                    input_tokens_worst(r.messages), 0, ceiling, pricing)
    if api and first is not None:
        mp.warm_ups = -(-spec.concurrency // WARM_UP_PER_CLIENTS)
        if kind == "tokens":
            ceiling = output_ceiling(spec, 1)
            mp.usd_expected += mp.warm_ups * cost.token_cost_usd(input_tokens_expected(first.messages), 0, 1, pricing)
            mp.usd_worst += mp.warm_ups * cost.token_cost_usd(input_tokens_worst(first.messages), 0, ceiling, pricing)
    return mp


def plan_run(prep, repeats: int, done: set) -> list[ModelPlan]:
    """Every selected model's plan; done holds (model, task, example id, repeat) already recorded."""
    out = []
    for name in prep.models:
        spec = prep.models_cfg.models[name]
        pricing = cost.pricing_of(spec, prep.models_cfg.hardware)
        todo = {t: [(r.example_id, rep) for rep in range(repeats) for r in p.requests
                    if (name, t, r.example_id, rep) not in done] for t, p in prep.plans.items()}
        out.append(plan_model(name, spec, pricing, prep.plans, todo))
    return out


def _usd(v: float | None) -> str:
    if v is None:
        return "-"
    return f"${v:,.2f}" if v >= 100 else f"${v:.4f}" if v >= 1 else f"${v:.6f}"


def _tok(v: int, known: bool = True) -> str:
    return f"{v:,}" if known else "-"


def table(plans: list[ModelPlan]) -> list[str]:
    """The plan as a fixed-width table with a total line, then one line per kind of model not
    estimated (priced by time, unpriced, no key)."""
    from bench.safetext import plain, text_table

    head = ["model", "requests", "input tok (est)", "output tok (exp)", "output tok (max)", "cost expected",
            "cost worst case"]
    body = []
    for p in plans:
        tokens = p.kind == "tokens"
        body.append([p.model, f"{p.requests:,}" + (f" +{p.warm_ups} warm-up" if p.warm_ups else ""),
                     _tok(p.input_tokens, tokens), _tok(p.output_expected_tokens, tokens),
                     _tok(p.output_ceiling_tokens, p.kind != "no_key"), _usd(p.usd_expected), _usd(p.usd_worst)])
    priced = [p for p in plans if p.kind == "tokens"]
    body.append(["total (per-token priced)", f"{sum(p.requests + p.warm_ups for p in priced):,}",
                 _tok(sum(p.input_tokens for p in priced)), _tok(sum(p.output_expected_tokens for p in priced)),
                 _tok(sum(p.output_ceiling_tokens for p in priced)), _usd(total(priced, "usd_expected")),
                 _usd(total(priced, "usd_worst"))])
    out = ["plan (estimates by the rules of docs/cost.md: input tokens ~ characters / 4; worst case: inputs at "
           "one token per byte, every output at its max tokens):", text_table(head, body, left=1)]
    for kind, what in (("hourly", "priced by machine time, not by tokens (not capped by --max-usd)"),
                       ("unpriced", "no prices in models.toml: cost unknown"),
                       ("no_key", "skipped, their API key variable is not set")):
        names = [p.model for p in plans if p.kind == kind]
        if names:
            out.append(plain(f"  {what}: {', '.join(names)}"))
    return out


def total(plans: list[ModelPlan], attr: str = "usd_worst") -> float:
    return sum(getattr(p, attr) or 0.0 for p in plans if p.kind == "tokens")
