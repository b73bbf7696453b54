"""Cost formulas against hand computations written out in each test (docs/cost.md)."""

from __future__ import annotations

import math

import pytest

from bench.core.types import Record
from bench.spend import cost
from bench.spend.cost import Pricing


def rec(fields: dict) -> Record:
    """A records.jsonl line with the fields a cost formula reads."""
    return Record.from_json({"run_id": "r", "model": "m", "task": "t", "example_id": "e", **fields})

API = Pricing(usd_per_mtok_in=0.25, usd_per_mtok_cached_in=0.025, usd_per_mtok_out=2.0, prices_as_of="2026-11-01")
BOX = Pricing(hardware="gpu", usd_per_hour=0.36, usd_per_kwh=0.30)


def test_api_request_bills_uncached_cached_and_output_tokens():
    # 1,200 input tokens of which 200 were cached, 300 output tokens of which 50 hidden reasoning
    # (part of output_tokens, so billed as output once):
    # (1,000 x 0.25 + 200 x 0.025 + 300 x 2.0) / 1e6 = (250 + 5 + 600) / 1e6 = 0.000855 USD
    record = {"input_tokens": 1200, "cached_input_tokens": 200, "output_tokens": 300, "reasoning_tokens": 50}
    assert cost.request_cost_usd(rec(record), API, concurrency=8) == pytest.approx(0.000855, rel=1e-12)


def test_cached_input_without_its_own_price_bills_as_input():
    # (1,200 x 0.25 + 300 x 2.0) / 1e6 = 0.0009
    p = Pricing(usd_per_mtok_in=0.25, usd_per_mtok_out=2.0, prices_as_of="2026-11-01")
    record = {"input_tokens": 1200, "cached_input_tokens": 200, "output_tokens": 300}
    assert cost.request_cost_usd(rec(record), p, concurrency=8) == pytest.approx(0.0009, rel=1e-12)


def test_unknown_tokens_or_prices_give_no_cost_and_a_failed_request_costs_nothing():
    assert cost.request_cost_usd(rec({"input_tokens": None, "output_tokens": None}), API, 8) is None
    assert cost.request_cost_usd(rec({"input_tokens": None, "output_tokens": None, "error": "HTTP 500"}), API, 8) == 0.0
    assert cost.request_cost_usd(rec({"input_tokens": 10, "output_tokens": 10}), Pricing(), 8) is None


def test_local_request_pays_its_share_of_the_batch_wall_time():
    # a batch of 4 rows took 2.0 s: each row holds the box 0.5 s; 0.5 s x 0.36 USD/h / 3600 = 0.00005 USD
    record = {"batch_wall_s": 2.0, "latency_s": 1.9, "batch_size": 4, "input_tokens": 10, "output_tokens": 5}
    assert cost.request_cost_usd(rec(record), BOX, concurrency=None) == pytest.approx(0.00005, rel=1e-12)
    # a run written before batch_wall_s existed falls back to the generate() latency: 1.9 / 4 x 0.0001
    old = {k: v for k, v in record.items() if k != "batch_wall_s"}
    assert cost.request_cost_usd(rec(old), BOX, concurrency=None) == pytest.approx(0.475 * 0.0001, rel=1e-12)


def test_a_batch_split_by_an_out_of_memory_back_off_is_charged_once():
    # a batch of 8 rows took 4.0 s in all, generated as two calls of 4 after an out-of-memory error:
    # each row holds the box 4.0 / 8 = 0.5 s (not 4.0 / 4 = 1 s, which would charge the batch twice);
    # 0.5 s x 0.36 USD/h / 3600 = 0.00005 USD, and the 8 rows together pay for the 4.0 s once
    rows = [{"batch_wall_s": 4.0, "batch_wall_rows": 8, "batch_size": 4, "latency_s": 1.5} for _ in range(8)]
    assert cost.request_cost_usd(rec(rows[0]), BOX, concurrency=None) == pytest.approx(0.00005, rel=1e-12)
    assert sum(cost.box_seconds(rec(r), None) for r in rows) == pytest.approx(4.0, rel=1e-12)


def test_self_hosted_server_request_holds_one_slot_of_its_concurrency():
    # latency 1.2 s at concurrency 4: 0.3 s of a 3.60 USD/h box = 0.3 x 0.001 = 0.0003 USD
    p = Pricing(hardware="vllm-box", usd_per_hour=3.6)
    assert cost.request_cost_usd(rec({"latency_s": 1.2, "batch_size": 1}), p, concurrency=4) == pytest.approx(0.0003)


def test_cell_figures_per_1k_per_million_output_tokens_per_correct_and_energy():
    # 4 requests, each 1,000 input and 100 output tokens: (1,000 x 0.25 + 100 x 2.0) / 1e6 = 0.00045 USD each
    records = [{"input_tokens": 1000, "cached_input_tokens": 0, "output_tokens": 100}] * 4
    c = cost.cell_cost([rec(r) for r in records], API, concurrency=8, accuracy=0.75, energy_j=None)
    assert c.cost_usd == pytest.approx(0.0018)  # 4 x 0.00045
    assert c.usd_per_1k_requests == pytest.approx(0.45)  # 1,000 x 0.00045
    assert c.usd_per_mtok_out == pytest.approx(4.5)  # 0.0018 USD / 400 tokens x 1e6
    assert c.usd_per_correct == pytest.approx(0.0006)  # 0.00045 / 0.75
    assert c.requests_per_s is None and c.energy_usd is None
    # local: 2 batches of 2 rows, 1.0 s and 3.0 s: 4 box seconds for 4 rows, 1 s each (1 req/s);
    # 4 s x 0.36 / 3600 = 0.0004 USD; 720 J = 0.0002 kWh x 0.30 = 0.00006 USD, shown beside, not added
    local = [{"batch_wall_s": 1.0, "batch_size": 2, "output_tokens": 10}] * 2 + \
            [{"batch_wall_s": 3.0, "batch_size": 2, "output_tokens": 10}] * 2
    c = cost.cell_cost([rec(r) for r in local], BOX, concurrency=None, accuracy=0.0, energy_j=720.0)
    assert c.cost_usd == pytest.approx(0.0004) and c.usd_per_1k_requests == pytest.approx(0.1)
    assert c.box_s_per_request == pytest.approx(1.0) and c.requests_per_s == pytest.approx(1.0)
    assert c.usd_per_correct is None  # nothing correct: no finite cost per correct answer
    assert c.energy_usd == pytest.approx(0.00006)


def test_one_unknown_record_makes_the_cell_cost_unknown():
    records = [{"input_tokens": 10, "output_tokens": 1}, {"input_tokens": None, "output_tokens": None}]
    c = cost.cell_cost([rec(r) for r in records], API, concurrency=8, accuracy=1.0)
    assert c.cost_usd is None and c.unknown == 1 and c.usd_per_1k_requests is None


def test_monthly_costs_and_break_even_by_hand():
    # a box of 100 USD/month (usd_per_hour = 100 / 730) serving 1,000 requests/month at 50% utilisation:
    # requests_per_s = 1,000 / (0.5 x 730 x 3600). API: 0.15 USD per request.
    usd_per_hour = 100 / 730
    rps = 1000 / (0.5 * 730 * 3600)
    assert cost.monthly_capacity(rps, 0.5) == pytest.approx(1000)
    assert cost.boxes_needed(1000, rps, 0.5) == 1 and cost.boxes_needed(1001, rps, 0.5) == 2
    assert cost.self_hosted_monthly_usd(1001, usd_per_hour, rps, 0.5) == pytest.approx(200)
    be = cost.break_even(0.15, usd_per_hour, rps, 0.5)
    # one box breaks even at 100 / 0.15 = 666.67 requests; just past 1,000 a second box costs 200 while
    # the API costs 150, so the API wins again until 200 / 0.15 = 1,333.33; k0 = ceil(100 / (150 - 100)) = 2
    assert be.first_volume == pytest.approx(100 / 0.15) and be.always_from == pytest.approx(200 / 0.15)
    assert cost.api_monthly_usd(1001, 0.15) < cost.self_hosted_monthly_usd(1001, usd_per_hour, rps, 0.5)
    assert cost.api_monthly_usd(1334, 0.15) > cost.self_hosted_monthly_usd(1334, usd_per_hour, rps, 0.5)
    # the API at 0.05 per request: a full box's 1,000 requests cost 50 < 100: self-hosting never wins
    assert cost.break_even(0.05, usd_per_hour, rps, 0.5) is None
    # a free box wins from the first request
    assert cost.break_even(0.05, 0.0, rps, 0.5) == cost.BreakEven(0.0, 0.0)
    assert math.isinf(cost.break_even(0.1, usd_per_hour, rps, 0.5).always_from)  # a x c == m exactly


def test_cost_per_1k_at_a_monthly_volume_pays_whole_machines():
    # BOX at 0.36 USD/h serving 2 requests/s: 0.36 / 7200 = 5e-5 USD a request at capacity (0.05 per 1k).
    # At 50,000 requests a month, 50% utilisation: one machine (its 2 x 0.5 x 730 x 3600 = 2.6M fit),
    # 0.36 x 730 = 262.8 USD a month, 262.8 / 50 = 5.256 USD per 1,000 requests: 105x the figure at capacity.
    at_capacity = 0.36 / 7200
    assert cost.usd_per_1k_at_volume(at_capacity, BOX, 2.0, None, 0.5) == pytest.approx(0.05)
    assert cost.usd_per_1k_at_volume(at_capacity, BOX, 2.0, 50_000, 0.5) == pytest.approx(5.256)
    # 3M requests a month need a second machine: 2 x 262.8 / 3,000 = 0.1752 per 1k
    assert cost.usd_per_1k_at_volume(at_capacity, BOX, 2.0, 3_000_000, 0.5) == pytest.approx(0.1752)
    # a token-priced model costs the same per request at any volume; an unknown price stays unknown
    assert cost.usd_per_1k_at_volume(0.002, API, None, 50_000, 0.5) == pytest.approx(2.0)
    assert cost.usd_per_1k_at_volume(None, BOX, 2.0, 50_000, 0.5) is None
