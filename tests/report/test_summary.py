"""The summary table recomputed from records and cells."""

from __future__ import annotations

import math

from bench.report import summary


def rec(model, task, score, **kw):
    base = {"model": model, "task": task, "repeat": 0, "score": score, "latency_s": 0.1, "ttft_s": 0.05,
            "output_tokens": 3, "finish_reason": "stop", "truncated": False, "error": None, "retries": 0}
    return base | kw


def cell(model, task, **kw):
    return {"model": model, "task": task, "status": "ok", "output_tokens_per_s": 10.0, "memory": {}} | kw


def test_accuracy_counts_errors_as_wrong_and_reports_them():
    records = [rec("m", "t", 1.0), rec("m", "t", 1.0), rec("m", "t", 0.0, error="HTTP 500", latency_s=None,
                                                             finish_reason="error", retries=2)]
    (row,) = summary.rows(records, [cell("m", "t")])
    assert math.isclose(row["accuracy"], 2 / 3) and row["errors"] == 1 and row["retries"] == 2
    assert row["ci_method"] == "wilson" and row["ci_low"] < 2 / 3 < row["ci_high"]
    assert row["latency_p50_s"] == 0.1  # the errored request has no latency


def test_partial_credit_uses_bootstrap():
    records = [rec("m", "t", s) for s in (0.2, 0.4, 1.0, 0.8)]
    (row,) = summary.rows(records, [cell("m", "t")])
    assert row["ci_method"] == "bootstrap" and math.isclose(row["accuracy"], 0.6)


def test_unfinished_cells_grouped_by_model_and_reason():
    cells = [cell("a", "t1", status="skipped", reason="no such model"),
             cell("a", "t2", status="skipped", reason="no such model"), cell("b", "t1")]
    rows = summary.rows([rec("b", "t1", 1.0)], cells)
    assert summary.unfinished(rows) == ["a x t1, t2: no such model"]
    text = summary.to_text(rows)
    assert "did not finish:" in text and "a x t1, t2: no such model" in text


def test_client_bound_api_cells_are_flagged():
    rows = summary.rows([rec("api", "t", 1.0)], [cell("api", "t", client_lag_p99_s=0.05)])
    md = summary.to_markdown(rows, "title", [])
    assert "the API client was the bottleneck (event-loop lag p99 50 ms)" in md
    calm = summary.rows([rec("api", "t", 1.0)], [cell("api", "t", client_lag_p99_s=0.001)])
    assert summary.warnings(calm) == []


def test_csv_leaves_missing_values_empty():
    rows = summary.rows([], [cell("m", "t", status="skipped", reason="x")])
    line = summary.to_csv(rows).splitlines()[1]
    assert "nan" not in line and "None" not in line and line.startswith("m,t,skipped,0,")
