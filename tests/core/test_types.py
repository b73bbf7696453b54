"""The core types: a records.jsonl line read and written back unchanged, usage totals, grouping, the
summary row's columns."""

from __future__ import annotations

from bench.core.types import (
    COST_COLUMNS,
    SUMMARY_COLUMNS,
    Cell,
    Record,
    SummaryRow,
    Usage,
    by_cell,
    first_repeat,
    first_scores,
)

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


# summary.csv's header as runs before the typed summary row wrote it: existing readers rely on it
SUMMARY_CSV_HEADER = (
    "model,task,status,n,accuracy,ci_low,ci_high,ci_method,accuracy_lenient,accuracy_strict,valid_json,fact_recall,"
    "truncated,errors,retries,latency_mean_s,latency_p50_s,latency_p90_s,latency_p95_s,latency_p99_s,ttft_p50_s,"
    "ttft_p90_s,ttft_p95_s,ttft_p99_s,tpot_p50_s,timed_requests,repeats,output_tokens,output_tokens_per_s,"
    "output_tokens_per_s_sd,batch_size,engine,load_s,cold_start_s,weights_bytes,peak_rss_bytes,"
    "torch_allocated_peak_bytes,torch_reserved_peak_bytes,nvml_used_peak_bytes,energy_j,joules_per_output_token,"
    "energy_source,energy_unavailable_reason,gpu_other_processes,client_lag_p99_s,client_lag_samples,device,dtype,"
    "reason|cost_usd,usd_per_1k_requests,usd_per_mtok_out,usd_per_correct,energy_usd,requests_per_s,capacity_source,"
    "break_even_vs,break_even_requests_per_month,self_hosted_cheaper_from_per_month,price_source,prices_as_of,run_id")


def test_the_summary_row_fields_are_summary_csv_columns_in_order_and_the_cost_objects_are_not():
    from bench.report import summary
    from bench.spend import cost

    measured, priced = SUMMARY_CSV_HEADER.split("|")
    assert ",".join(SUMMARY_COLUMNS) == measured and ",".join(COST_COLUMNS) == priced
    row = SummaryRow("m", "t", "ok", 1, accuracy=0.5, pricing=cost.Pricing(usd_per_mtok_in=1.0),
                     usd_per_1k_requests=2.0)
    header, line = summary.to_csv([row], priced=True).splitlines()
    assert header == measured + "," + priced and "Pricing" not in line
    assert line.startswith("m,t,ok,1,0.5,,,,") and ",2.0," in line
    assert summary.to_csv([row]).splitlines()[0] == measured  # a run whose report failed: no prices yet
