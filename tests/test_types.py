"""The core types: a records.jsonl line read and written back unchanged, usage totals, grouping."""

from __future__ import annotations

from bench.types import Cell, Record, Usage, by_cell, first_repeat, first_scores

LINE = {"run_id": "r", "model": "m", "task": "t", "example_id": "e1", "repeat": 0, "prompt_sha256": "h",
        "output": "x", "output_capped": False, "extracted": "x", "target": "x", "score": 1.0,
        "score_reason": "exact", "score_details": None, "truncated": False, "input_tokens": 10, "output_tokens": 2,
        "cached_input_tokens": 0, "reasoning_tokens": 0, "ttft_s": 0.1, "ttft_answer_s": 0.1, "latency_s": 0.2,
        "tpot_s": 0.1, "queue_s": None, "finish_reason": "stop", "token_source": "tokenizer", "batch_size": 4,
        "retries": 0, "retry_wait_s": 0.0, "error": None, "batch_wall_s": 0.8, "batch_wall_rows": 4,
        "cost_usd": 1e-5}


def test_a_record_line_reads_and_writes_back_unchanged_keys_in_order():
    assert list(Record.from_json(LINE).to_json().items()) == list(LINE.items())
    capped = LINE | {"output_capped": True, "output_chars": 70000, "score_lenient": 0.0}
    assert Record.from_json(capped).to_json() == capped  # keys written only when set come back


def test_usage_adds_up_and_an_unknown_part_makes_the_total_unknown():
    a, b = Usage(10, 2, 5, 1, 0.5), Usage(20, 0, 7, 0, 0.25)
    assert a + b == Usage(30, 2, 12, 1, 0.75) and sum([a, b]) == a + b
    assert (a + Usage(None, 0, 3, 0, None)).input_tokens is None and (a + Usage(cost_usd=None)).cost_usd is None
    assert Record.from_json(LINE).usage == Usage(10, 0, 2, 0, 1e-5)


def test_grouping_by_cell_and_the_first_repeat():
    recs = [Record.from_json(LINE | {"model": m, "example_id": e, "repeat": rep, "score": s})
            for m, e, rep, s in (("a", "1", 0, 1.0), ("b", "1", 0, 0.0), ("a", "1", 1, 0.0), ("a", "2", 0, 0.5))]
    grouped = by_cell(recs)
    assert list(grouped) == [("a", "t"), ("b", "t")] and len(grouped["a", "t"]) == 3
    assert [r.repeat for r in first_repeat(grouped["a", "t"])] == [0, 0]
    assert first_scores(grouped["a", "t"]) == {"1": 1.0, "2": 0.5}


def test_a_cell_line_reads_back_into_the_same_cell_server_columns_included():
    cell = Cell("m", "t", status="ok", n=3, concurrency=8, server_metrics={"source": "http://x/metrics",
                                                                          "running_mean": 2.5})
    row = cell.row("run1")
    assert row["server_metrics_url"] == "http://x/metrics" and row["server_running_mean"] == 2.5
    assert Cell.from_json(row).row("run1") == row
