"""The per-(model, task) summary, recomputed from records and cells: CSV, Markdown and a terminal table.

Definitions of every column (type, unit; accuracies are fractions 0-1) are in docs/metrics.md.
"""

from __future__ import annotations

import csv
import io
import math

from bench.core import stats
from bench.core.types import COST_COLUMNS, SUMMARY_COLUMNS, Cell, Record, SummaryRow, by_cell, first_repeat
from bench.safetext import md_cell, plain


def rows(records: list[Record], cells: list[Cell]) -> list[SummaryRow]:
    """One row per cell, in the order the cells ran; accuracy counts an errored example as 0."""
    grouped = by_cell(records)
    return [_row(c, grouped.get((c.model, c.task), [])) for c in cells]


def _row(c: Cell, timed: list[Record]) -> SummaryRow:
    """timed: the cell's records of every repeat (timing statistics); accuracy and counts use the first."""
    recs = first_repeat(timed)
    scores = [float(r.score) for r in recs]
    lo, hi, method = stats.accuracy_interval(scores) if scores else (math.nan, math.nan, "")
    latencies = [r.latency_s for r in timed if r.latency_s is not None]
    ttfts = [r.ttft_s for r in timed if r.ttft_s is not None]
    tpots = [r.tpot_s for r in timed if r.tpot_s is not None]
    return SummaryRow(
        model=c.model, task=c.task, status=c.status, n=len(recs),
        accuracy=stats.mean(scores), ci_low=lo, ci_high=hi, ci_method=method,
        **scoring_extras(recs),
        truncated=sum(1 for r in recs if r.truncated), errors=sum(1 for r in recs if r.error),
        retries=sum(r.retries or 0 for r in recs),
        latency_mean_s=stats.mean(latencies),
        **{f"latency_p{q}_s": stats.percentile(latencies, q) for q in (50, 90, 95, 99)},
        **{f"ttft_p{q}_s": stats.percentile(ttfts, q) for q in (50, 90, 95, 99)},
        tpot_p50_s=stats.percentile(tpots, 50),
        timed_requests=len(latencies), repeats=c.repeats,
        output_tokens=sum(r.output_tokens or 0 for r in timed),  # all repeats, as tokens/s
        **{k: getattr(c, k) for k in _FROM_CELL},
        reason=c.reason or "",
    )


# summary fields copied from the cell as they are
_FROM_CELL = ("output_tokens_per_s", "output_tokens_per_s_sd", "batch_size", "engine", "load_s", "cold_start_s",
              "weights_bytes", "peak_rss_bytes", "torch_allocated_peak_bytes", "torch_reserved_peak_bytes",
              "nvml_used_peak_bytes", "energy_j", "joules_per_output_token", "energy_source",
              "energy_unavailable_reason", "gpu_other_processes", "gpu_other_pids", "client_lag_p99_s",
              "client_lag_samples", "device", "dtype")


def scoring_extras(recs: list[Record]) -> dict:
    """Figures some scorers add, None where the task's scorer has none: strict and lenient accuracy (label),
    the share of outputs that were valid JSON (json_fields, span_f1) and the mean share of key
    facts present (rouge_l). An errored example counts as lenient 0, not JSON, no facts. Strict
    accuracy appears apart from `accuracy` only when a label task scores the lenient reading."""
    details = [r.details for r in recs]
    lenient = [float(r.score_lenient or 0.0) for r in recs] if any(r.score_lenient is not None for r in recs) else []
    # with primary = "lenient" the strict reading lives in the details
    strict = [float(d.get("strict", r.score)) for r, d in zip(recs, details)] if any(
        "strict" in d for d in details) else []
    valid = [float(d.get("valid_json") is True) for d in details] if any("valid_json" in d for d in details) else []
    facts = [float(d.get("fact_recall") or 0.0) for d in details] if any(
        d.get("fact_recall") is not None for d in details) else []
    return {"accuracy_lenient": stats.mean(lenient) if lenient else None,
            "accuracy_strict": stats.mean(strict) if strict else None,
            "valid_json": stats.mean(valid) if valid else None,
            "fact_recall": stats.mean(facts) if facts else None}


def to_csv(summary: list[SummaryRow], priced: bool = False) -> str:
    """summary.csv: the summary columns, then the cost columns when the rows are priced; a missing
    value (None, nan) is an empty field."""
    columns = SUMMARY_COLUMNS + (COST_COLUMNS if priced else [])
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for row in summary:
        w.writerow(["" if _missing(v) else v for v in (getattr(row, k) for k in columns)])
    return buf.getvalue()


def _missing(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


# how a display column shows a value, by its kind ("": as it is)
_FORMATS = {
    "pct": lambda v: f"{100 * v:.1f}", "ms": lambda v: f"{1000 * v:.0f}", "ms2": lambda v: f"{1000 * v:.2f}",
    "mib": lambda v: f"{v / 2**20:.0f}", "f1": lambda v: f"{v:.1f}", "f3": lambda v: f"{v:.3f}",
}


def _fmt(v, kind: str) -> str:
    return "-" if _missing(v) else _FORMATS.get(kind, str)(v)


# (header, key, format) of the printed and Markdown tables
DISPLAY = [
    ("model", "model", ""), ("task", "task", ""), ("status", "status", ""), ("n", "n", ""),
    ("acc %", "accuracy", "pct"), ("95% CI", None, "ci"), ("trunc", "truncated", ""), ("err", "errors", ""),
    ("retry", "retries", ""),
    ("lat p50 ms", "latency_p50_s", "ms"), ("lat p95 ms", "latency_p95_s", "ms"),
    ("ttft p50 ms", "ttft_p50_s", "ms"), ("tpot p50 ms", "tpot_p50_s", "ms2"),
    ("out tok/s", None, "tps"), ("load s", "load_s", "f1"),
    ("peak RSS MiB", "peak_rss_bytes", "mib"), ("torch peak MiB", "torch_allocated_peak_bytes", "mib"),
    ("J/tok", "joules_per_output_token", "f3"),
]


# columns shown only when some row has them (lenient: only where it differs from strict accuracy)
OPTIONAL = {"accuracy": [("strict %", "accuracy_strict", "pct"), ("lenient %", "accuracy_lenient", "pct"),
                         ("valid JSON %", "valid_json", "pct"),
                         ("facts %", "fact_recall", "pct")]}


def display(summary: list[SummaryRow]) -> list[tuple]:
    """The columns of the printed tables for these rows."""
    def wanted(key: str) -> bool:
        if key in ("accuracy_lenient", "accuracy_strict"):
            return any(not _missing(getattr(r, key)) and not math.isclose(getattr(r, key), r.accuracy)
                       for r in summary)
        return any(not _missing(getattr(r, key)) for r in summary)

    out = []
    for col in DISPLAY:
        out.append(col)
        if col[1] == "accuracy":
            out += [c for c in OPTIONAL["accuracy"] if wanted(c[1])]
    return out


def cells(row: SummaryRow, columns: list[tuple]) -> list[str]:
    """The formatted values of one summary row for the given display columns."""
    out = []
    for _, key, kind in columns:
        if kind == "ci":
            out.append("-" if _missing(row.ci_low) else f"{100 * row.ci_low:.1f}-{100 * row.ci_high:.1f}")
        elif kind == "tps":  # tokens/s, and its spread across repeats when there are several
            tps, sd = row.output_tokens_per_s, row.output_tokens_per_s_sd
            out.append(_fmt(tps, "f1") + ("" if _missing(sd) else f" ±{sd:.1f}"))
        else:
            out.append(plain(_fmt(getattr(row, key), kind)))
    return out


def to_markdown(summary: list[SummaryRow], title: str, notes: list[str], lead: list[str] = ()) -> str:
    """lead: Markdown lines put before the summary table (the decision), which then gets its heading."""
    columns = display(summary)
    head = [h for h, _, _ in columns]
    lines = [f"# {md_cell(title)}", ""] + [f"> {md_cell(n)}" for n in notes] + ([""] if notes else [])
    lines += [*lead, "## Summary", ""] if lead else []
    lines += ["| " + " | ".join(md_cell(h) for h in head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(md_cell(c) for c in cells(r, columns)) + " |" for r in summary]
    problems = unfinished(summary)
    if problems:
        lines += ["", "Cells that did not finish:", ""] + [f"- {md_cell(p)}" for p in problems]
    if warnings(summary):
        lines += ["", "Warnings:", ""] + [f"- {md_cell(w)}" for w in warnings(summary)]
    lines += ["", "Definitions: docs/metrics.md (latency = request start to last token, per request, over all "
              "repeats; tpot = time per output token after the first; out tok/s = cell output tokens / cell "
              "generation wall time, load and warm-up excluded, ± the sd across repeats; accuracy = mean score "
              "of the first repeat, errors count as 0; 95% CI Wilson for 0/1 scores, bootstrap otherwise; lenient % = label "
              "accuracy reading the first label mentioned; valid JSON % = outputs holding valid JSON; facts % = mean "
              "share of the reference's key facts found in the output)."]
    return "\n".join(lines) + "\n"


CLIENT_LAG_WARN_S = 0.010
# below this many 5 ms ticks (half a second of the cell) a "p99" is the single largest stall, such as
# the burst of setting up a cell's first requests, not a tail: no claim about the client is made
CLIENT_LAG_MIN_SAMPLES = 100


def warnings(summary: list[SummaryRow]) -> list[str]:
    """Figures that a reader must not take at face value."""
    out = [f"{r.model} x {r.task}: the API client was the bottleneck (event-loop lag p99 "
           f"{1000 * r.client_lag_p99_s:.0f} ms): its ttft and latency include client delay; "
           f"lower the model's concurrency" for r in summary
           if (r.client_lag_p99_s or 0) > CLIENT_LAG_WARN_S
           and (r.client_lag_samples is None or r.client_lag_samples >= CLIENT_LAG_MIN_SAMPLES)]
    out += [f"{r.model} x {r.task}: other processes were using the GPU when the cell started "
            f"(pids {', '.join(str(r.gpu_other_pids).split())}): its timings and memory may be disturbed"
            for r in summary if r.gpu_other_processes]
    return out


def unfinished(summary: list[SummaryRow]) -> list[str]:
    """One line per model and reason: "m (3 cells: a, b, c): why"."""
    by_reason: dict[tuple[str, str], list[str]] = {}
    for r in summary:
        if r.reason:
            by_reason.setdefault((r.model, r.reason), []).append(r.task)
    return [f"{m} x {', '.join(ts)}: {why}" for (m, why), ts in by_reason.items()]


def to_text(summary: list[SummaryRow]) -> str:
    """A fixed-width table for the terminal, then the reasons of cells that did not finish."""
    columns = display(summary)
    head = [h for h, _, _ in columns]
    body = [[plain(c) for c in cells(r, columns)] for r in summary]
    widths = [max(len(x) for x in col) for col in zip(head, *body)]

    def fmt(cols: list[str]) -> str:
        return "  ".join(c.ljust(w) if i < 3 else c.rjust(w) for i, (c, w) in enumerate(zip(cols, widths)))

    problems = unfinished(summary)
    tail = ["", "did not finish:"] + [f"  {plain(p)}" for p in problems] if problems else []
    tail += ["", "warnings:"] + [f"  {plain(w)}" for w in warnings(summary)] if warnings(summary) else []
    return "\n".join([fmt(head), fmt(["-" * w for w in widths])] + [fmt(b) for b in body] + tail)
