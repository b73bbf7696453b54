"""The summary table recomputed from records and cells."""

from __future__ import annotations

import math

from bench.core.shapes import as_text
from bench.core.types import Cell, Record
from bench.report import summary


def rec(model, task, score, **kw):
    base = {"run_id": "r", "model": model, "task": task, "example_id": "e", "repeat": 0, "score": score,
            "latency_s": 0.1, "ttft_s": 0.05, "output_tokens": 3, "finish_reason": "stop", "truncated": False,
            "error": None, "retries": 0}
    if "score_details" in kw:  # JSON text, as records.jsonl holds it
        kw["score_details"] = as_text(kw["score_details"])
    return Record.from_json(base | kw)


def cell(model, task, **kw):
    return Cell.from_json({"model": model, "task": task, "status": "ok", "output_tokens_per_s": 10.0} | kw)


def test_accuracy_counts_errors_as_wrong_and_reports_them():
    records = [rec("m", "t", 1.0), rec("m", "t", 1.0), rec("m", "t", 0.0, error="HTTP 500", latency_s=None,
                                                             finish_reason="error", retries=2)]
    (row,) = summary.rows(records, [cell("m", "t")])
    assert math.isclose(row.accuracy, 2 / 3) and row.errors == 1 and row.retries == 2
    assert row.ci_method == "wilson" and row.ci_low < 2 / 3 < row.ci_high
    assert row.latency_p50_s == 0.1  # the errored request has no latency


def test_partial_credit_uses_bootstrap():
    records = [rec("m", "t", s) for s in (0.2, 0.4, 1.0, 0.8)]
    (row,) = summary.rows(records, [cell("m", "t")])
    assert row.ci_method == "bootstrap" and math.isclose(row.accuracy, 0.6)


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


def test_a_single_stall_in_a_short_cell_is_not_called_a_bottleneck():
    """11 ticks: the "p99" is the one largest stall (the first burst of requests), not a tail."""
    short = summary.rows([rec("api", "t", 1.0)], [cell("api", "t", client_lag_p99_s=0.0135, client_lag_samples=11)])
    assert summary.warnings(short) == []
    long = summary.rows([rec("api", "t", 1.0)], [cell("api", "t", client_lag_p99_s=0.0135, client_lag_samples=400)])
    assert "the API client was the bottleneck (event-loop lag p99 14 ms)" in summary.warnings(long)[0]


def test_csv_leaves_missing_values_empty():
    rows = summary.rows([], [cell("m", "t", status="skipped", reason="x")])
    line = summary.to_csv(rows).splitlines()[1]
    assert "nan" not in line and "None" not in line and line.startswith("m,t,skipped,0,")


def test_lenient_column_only_where_it_differs():
    same = [rec("m", "t", 1.0, score_lenient=1.0), rec("m", "t", 0.0, score_lenient=0.0)]
    rows = summary.rows(same, [cell("m", "t")])
    assert rows[0].accuracy_lenient == 0.5
    assert "lenient %" not in summary.to_text(rows)
    differs = [rec("m", "t", 1.0, score_lenient=1.0), rec("m", "t", 0.0, score_lenient=1.0),
               rec("m", "t", 0.0, error="HTTP 500")]  # an error counts as 0 in both readings
    rows = summary.rows(differs, [cell("m", "t")])
    assert math.isclose(rows[0].accuracy_lenient, 2 / 3)
    text = summary.to_text(rows)
    assert "lenient %" in text and "66.7" in text
    assert "lenient %" in summary.to_markdown(rows, "t", [])
    assert "accuracy_lenient" in summary.to_csv(rows).splitlines()[0]


def test_valid_json_and_facts_columns_only_for_tasks_that_have_them():
    records = [rec("m", "inv", 0.8, score_details={"valid_json": True, "fields": {}}),
               rec("m", "inv", 0.0, score_details={"valid_json": False}),
               rec("m", "inv", 0.0, error="timeout"),
               rec("m", "sum", 0.4, score_details={"lcs": 3, "facts": {"a": True, "b": False}, "fact_recall": 0.5}),
               rec("m", "sum", 0.6, score_details={"lcs": 4, "facts": {"a": True, "b": True}, "fact_recall": 1.0}),
               rec("m", "cls", 1.0)]
    rows = summary.rows(records, [cell("m", "inv"), cell("m", "sum"), cell("m", "cls")])
    by_task = {r.task: r for r in rows}
    assert math.isclose(by_task["inv"].valid_json, 1 / 3) and by_task["inv"].fact_recall is None
    assert math.isclose(by_task["sum"].fact_recall, 0.75) and by_task["sum"].valid_json is None
    assert by_task["cls"].valid_json is None and by_task["cls"].accuracy_lenient is None
    text = summary.to_text(rows)
    assert "valid JSON %" in text and "facts %" in text and "33.3" in text and "75.0" in text
    plain = summary.to_text(summary.rows([rec("m", "cls", 1.0)], [cell("m", "cls")]))
    assert "valid JSON" not in plain and "facts" not in plain and "lenient" not in plain


def test_strict_column_when_a_label_task_scores_the_lenient_reading():
    records = [rec("m", "t", 1.0, score_lenient=1.0, score_details={"strict": 0.0}),
               rec("m", "t", 1.0, score_lenient=1.0, score_details={"strict": 1.0})]
    rows = summary.rows(records, [cell("m", "t")])
    assert rows[0].accuracy == 1.0 and rows[0].accuracy_strict == 0.5
    text = summary.to_text(rows)
    assert "strict %" in text and "lenient %" not in text  # lenient is the accuracy itself here
