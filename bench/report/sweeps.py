"""Sweeps in the report (`bench report RUN SWEEP`): each sweep folder's levels table, the capacity
it found under its latency target and what the report did with it, its throughput-against-latency
figure (bench/report/sweepplot.py) and, beside the costs, which capacity each self-hosted cost used:
a sweep's or the run's own throughput. With no sweep given every function here returns nothing,
so such a report is unchanged."""

from __future__ import annotations

import base64
import re

from bench.core.types import SummaryRow
from bench.report.html import _table
from bench.safetext import esc, markdown_table, md_cell

TITLE = "Capacity under a latency target"
INTRO = ("Each sweep drove a model at rising load on the task's own prompts (concurrency, or batch size for the "
         "static engine) until p95 latency passed the target or throughput stopped rising. The capacity is the "
         "highest throughput (requests/s) of a level that met the target: p95 latency at most the target and no "
         "failed request. A self-hosted model's monthly cost and break-even use the capacity of a sweep of the "
         "same model and task; a sweep of a model or task not in these runs is shown, not used.")
USED_TITLE = "Capacity behind each self-hosted monthly cost and break-even"
SUMMARY_HEAD = ["model", "task", "load", "capacity req/s", "capacity out tok/s", "at level", "stopped because",
                "in this report"]
LEVEL_HEAD = ["model", "task", "load", "level", "req/s", "out tok/s", "lat p50 ms", "lat p95 ms", "ttft p50 ms",
              "acc %", "errors", "meets target"]


# ---------------------------------------------------------------- a sweep's pairs


def pairs(sweep: dict) -> list[tuple[str, str]]:
    """The (model, task) pairs a sweep measured or tried, in the order it wrote them."""
    return list(dict.fromkeys((r["model"], r["task"]) for r in sweep["levels"] + sweep["capacities"]))


def _cap(sweep: dict, key: tuple[str, str]) -> dict | None:
    return next((c for c in sweep["capacities"] if (c["model"], c["task"]) == key), None)


# ---------------------------------------------------------------- text


def _num(v, fmt: str, scale: float = 1) -> str:
    return "-" if v is None else format(scale * v, fmt)


def _load(kind) -> str:
    return str(kind or "level").replace("_", " ")


def level_cells(sweep: dict) -> list[list[str]]:
    """One line per level: what the sweep measured there."""
    out = []
    for r in sweep["levels"]:
        used = r.get("level_used")
        level = str(r["level"]) + (f" (ran {used})" if used not in (None, r["level"]) else "")
        out.append([r["model"], r["task"], _load(r.get("kind")), level, _num(r.get("requests_per_s"), ".3g"),
                    _num(r.get("output_tokens_per_s"), ".3g"), _num(r.get("latency_p50_s"), ",.0f", 1000),
                    _num(r.get("latency_p95_s"), ",.0f", 1000), _num(r.get("ttft_p50_s"), ",.0f", 1000),
                    _num(r.get("accuracy"), ".1f", 100), _num(r.get("errors"), "d"),
                    "yes" if r.get("meets_slo") else "no"])
    return out


def use(sweep: dict, key: tuple[str, str], rows: list[SummaryRow]) -> str:
    """What this report did with a sweep's (model, task): used for a cost, or why not."""
    row = next((r for r in rows if (r.model, r.task) == key), None)
    if row is None:
        return "not in these runs: shown, not used"
    if not row.pricing.hourly:
        return "priced per token: shown, not used"
    source = row.capacity_source or ""
    if source.startswith(f"sweep {sweep['sweep_id']}:"):
        return "used for its monthly cost and break-even"
    # runs.merge refuses two sweeps with a capacity for one pair: this one found none
    return "no capacity at the target: its cost used " + ("the run's own throughput" if source == "run"
                                                          else source or "no throughput")


def summary_cells(sweep: dict, rows: list[SummaryRow]) -> list[list[str]]:
    """One line per (model, task) of the sweep: the capacity it found and what the report did with it."""
    out = []
    for key in pairs(sweep):
        cap = _cap(sweep, key) or {}
        kind = cap.get("kind") or next((r.get("kind") for r in sweep["levels"] if (r["model"], r["task"]) == key), None)
        why = cap.get("stopped_because") or ("the sweep has no capacity row for it (stopped early?)" if not cap else "-")
        if cap.get("failed"):
            why = f"sweep failed: {why}"
        out.append([key[0], key[1], _load(kind), _num(cap.get("capacity_requests_per_s"), ".3g"),
                    _num(cap.get("capacity_output_tokens_per_s"), ".3g"),
                    "-" if cap.get("capacity_level") is None else str(cap["capacity_level"]), why,
                    use(sweep, key, rows)])
    return out


def heading(sweep: dict) -> str:
    return f"Sweep {sweep['sweep_id']}: p95 latency target {sweep['slo_p95_ms']:g} ms"


def _run_load(merged, row: SummaryRow) -> str:
    cell = next((c for c in merged.cells if (c.model, c.task) == (row.model, row.task)), None)
    if cell is not None and cell.concurrency:
        return f"concurrency {cell.concurrency}"
    if row.batch_size:
        return f"{row.batch_size} requests in flight" if row.engine == "continuous" else f"batch size {row.batch_size}"
    return "its one load"


def used_lines(merged, rows: list[SummaryRow]) -> list[str]:
    """With a sweep given: for each self-hosted (hourly-priced) row, the capacity its monthly cost
    and break-even used and where it came from."""
    if not merged.sweeps:
        return []
    out = []
    for r in rows:
        if not r.pricing.hourly:
            continue
        cap = merged.capacity.get((r.model, r.task))
        head = f"{r.model} x {r.task}: "
        if cap is not None and (r.capacity_source or "").startswith("sweep"):
            out.append(head + f"capacity {r.requests_per_s:.3g} req/s from sweep {cap['sweep_id']} at p95 <= "
                              f"{cap['slo_p95_ms']:g} ms ({_load(cap.get('kind'))} {cap.get('capacity_level')})")
            continue
        text = ("no capacity: this run measured no throughput" if r.requests_per_s is None else
                f"capacity {r.requests_per_s:.3g} req/s from this run ({_run_load(merged, r)}, one load, machine busy)")
        missed = [s for s in merged.sweeps if (r.model, r.task) in pairs(s)]
        out.append(head + text + "".join(f"; sweep {s['sweep_id']} found no level meeting p95 <= "
                                         f"{s['slo_p95_ms']:g} ms" for s in missed))
    return out


# ---------------------------------------------------------------- figures


def figures(merged) -> dict[str, bytes]:
    """Each sweep's throughput-against-latency figures, as plots/sweep_<sweep id>_<task>.png/svg."""
    from bench.report import sweepplot

    out: dict[str, bytes] = {}
    for sweep in merged.sweeps:
        drawn = sweepplot.draw(sweep["levels"] + sweep["capacities"], sweep["slo_p95_ms"], sweep["sweep_id"])
        out.update({_prefix(sweep) + name.removeprefix("plots/sweep_"): data for name, data in drawn.items()})
    return out


def _prefix(sweep: dict) -> str:
    """Where a sweep's figures go in the report: sweepplot's plots/sweep_<task>, the sweep's id inserted
    (two sweeps of one task do not overwrite each other)."""
    return "plots/sweep_" + re.sub(r"[^A-Za-z0-9._-]", "_", sweep["sweep_id"]) + "_"


def _mine(sweep: dict, figs: dict[str, bytes]) -> list[str]:
    """The PNG names of one sweep's figures."""
    return [n for n in figs if n.startswith(_prefix(sweep)) and n.endswith(".png")]


# ---------------------------------------------------------------- summary.md and report.html


def used_markdown(merged, rows: list[SummaryRow]) -> list[str]:
    """Lines for summary.md beside the cost table (none without a sweep)."""
    lines = used_lines(merged, rows)
    return ["", f"{USED_TITLE}:", ""] + [f"- {md_cell(x)}" for x in lines] if lines else []


def markdown(merged, rows: list[SummaryRow], figs: dict[str, bytes]) -> str:
    """summary.md's section on the sweeps ("" without one)."""
    if not merged.sweeps:
        return ""
    lines = ["", f"## {TITLE}", "", INTRO]
    for sweep in merged.sweeps:
        lines += ["", f"### {md_cell(heading(sweep))}", ""]
        lines += markdown_table(SUMMARY_HEAD, summary_cells(sweep, rows)) + [""]
        lines += markdown_table(LEVEL_HEAD, level_cells(sweep))
        lines += [""] + [f"![{md_cell(n)}]({n})" for n in _mine(sweep, figs)]
    return "\n".join(lines) + "\n"


def used_html(merged, rows: list[SummaryRow]) -> str:
    """report.html's list beside the cost table ("" without a sweep)."""
    lines = used_lines(merged, rows)
    if not lines:
        return ""
    return f"<p>{esc(USED_TITLE)}:</p><ul>" + "".join(f"<li>{esc(x)}</li>" for x in lines) + "</ul>"


def section_html(merged, rows: list[SummaryRow], figs: dict[str, bytes]) -> str:
    """report.html's section on the sweeps, figures embedded ("" without one)."""
    if not merged.sweeps:
        return ""
    parts = [f"<h2 id='capacity'>{esc(TITLE)}</h2>", f"<p>{esc(INTRO)}</p>"]
    for sweep in merged.sweeps:
        parts.append(f"<h3>{esc(heading(sweep))}</h3>")
        parts.append(_table(SUMMARY_HEAD, summary_cells(sweep, rows)))
        parts.append(_table(LEVEL_HEAD, level_cells(sweep)))
        for name in _mine(sweep, figs):
            parts.append(f"<figure><img alt='{esc(name)}' src='data:image/png;base64,"
                         f"{base64.b64encode(figs[name]).decode()}'><figcaption>{esc(name.removeprefix('plots/'))} (SVG "
                         f"beside it in plots/)</figcaption></figure>")
    return "\n".join(parts)
