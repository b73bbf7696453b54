"""The report's tables: the run summary with cost columns per cell, and one pooled row per model
over every task it ran. Costs are recomputed from records with the report's pricing."""

from __future__ import annotations

import dataclasses
import math

from bench.core import stats
from bench.core.types import PooledRow, SummaryRow, by_cell, first_repeat
from bench.report import summary
from bench.report.runs import Merged
from bench.spend import cost


def priced_rows(merged: Merged, utilisation: float, baseline: str | None = None) -> list[SummaryRow]:
    """summary.rows() with every cost field set, for each merged cell."""
    grouped = by_cell(merged.records)
    cells = {(c.model, c.task): c for c in merged.cells}
    rows = []
    for row in summary.rows(merged.records, merged.cells):
        key = (row.model, row.task)
        p = merged.pricing.get(row.model, cost.Pricing())
        c = cost.cell_cost(grouped.get(key, []), p, cells[key].concurrency,
                           None if math.isnan(row.accuracy) else row.accuracy, cells[key].energy_j)
        rps, source = capacity_of(c, p, merged.capacity.get(key))
        rows.append(dataclasses.replace(
            row, cost=c, pricing=p, cost_usd=c.cost_usd, usd_per_1k_requests=c.usd_per_1k_requests,
            usd_per_mtok_out=c.usd_per_mtok_out, usd_per_correct=c.usd_per_correct, energy_usd=c.energy_usd,
            price_source=merged.price_source.get(row.model, ""), prices_as_of=p.prices_as_of,
            run_id=merged.run_of[key], requests_per_s=rps, capacity_source=source))
    _break_evens(rows, utilisation, baseline)
    return rows


def capacity_of(c: cost.CellCost, p: cost.Pricing, sweep: dict | None) -> tuple[float | None, str | None]:
    """One box's requests/s for monthly cost and break-even, and where it came from: a sweep's
    capacity at its latency target when there is one, else the run's own figure (1 / box seconds)."""
    if not p.hourly:
        return None, None
    if sweep is not None:
        return sweep["capacity_requests_per_s"], (
            f"sweep {sweep['sweep_id']}: p95 <= {sweep['slo_p95_ms']:g} ms at "
            f"{str(sweep.get('kind') or 'level').replace('_', ' ')} {sweep.get('capacity_level')}")
    return c.requests_per_s, "run" if c.requests_per_s else None


def usd_per_1k_at_volume(row: SummaryRow, volume: float, utilisation: float) -> float | None:
    """Cost per 1,000 requests at `volume` requests a month: a self-hosted model pays for whole
    machines, busy or idle (at most `utilisation` busy, sized by its req/s); a token-priced model
    costs the same at any volume. None when unpriced; the cost at capacity when req/s is unknown."""
    if row.cost is None:
        return None
    return cost.usd_per_1k_at_volume(row.cost.usd_per_request, row.pricing, row.requests_per_s, volume, utilisation)


def baseline_for(rows: list[SummaryRow], task: str, baseline: str | None) -> SummaryRow | None:
    """The API model a self-hosted one is weighed against on a task: the one named, else the most
    accurate token-priced model (the one a smaller model would replace), cheaper one on a tie."""
    apis = [r for r in rows if r.task == task and not r.pricing.hourly and r.usd_per_1k_requests is not None
            and r.status == "ok"]
    if baseline is not None:
        return next((r for r in apis if r.model == baseline), None)
    return min(apis, key=lambda r: (-r.accuracy, r.usd_per_1k_requests), default=None)


def _break_evens(rows: list[SummaryRow], utilisation: float, baseline: str | None) -> None:
    for row in rows:
        p = row.pricing
        if not p.hourly or row.requests_per_s is None or p.usd_per_hour is None:
            continue
        api = baseline_for(rows, row.task, baseline)
        if api is None:
            continue
        row.break_even_vs = api.model
        be = cost.break_even(api.cost.usd_per_request, p.usd_per_hour, row.requests_per_s, utilisation)
        if be is not None:
            row.break_even_requests_per_month = be.first_volume
            row.self_hosted_cheaper_from_per_month = be.always_from


def pooled_tasks(rows: list[SummaryRow]) -> list[str]:
    """The tasks every model with results finished: pooling one model over an easier or harder
    mix of tasks than another would compare the mixes, not the models."""
    done: dict[str, set[str]] = {}
    for r in rows:
        if r.status == "ok" and r.n:
            done.setdefault(r.model, set()).add(r.task)
    return sorted(set.intersection(*done.values())) if done else []


def pooled_title(overall: list[PooledRow], names: bool = True) -> str:
    """'all 3 tasks pooled', or which tasks when some model did not run them all (named in tables;
    plots, short of room, only say how many)."""
    if not overall:
        return ""
    tasks, of = overall[0].pooled_tasks, overall[0].tasks_reported
    if len(tasks) == of:
        return f"all {of} tasks pooled"
    return f"{len(tasks)} of {of} tasks pooled (" + (f"those every model ran: {', '.join(tasks)})" if names
                                                      else "those every model ran)")


def overall_rows(rows: list[SummaryRow], merged: Merged) -> list[PooledRow]:
    """One row per model over the tasks every model ran (examples pooled), so that each model is
    pooled over the same mix."""
    tasks = pooled_tasks(rows)
    reported = len({r.task for r in rows})
    grouped = by_cell(merged.records)
    cells = {(c.model, c.task): c for c in merged.cells}
    out = []
    if not tasks:
        return out
    for model in dict.fromkeys(r.model for r in rows):
        mine = [r for r in rows if r.model == model and r.status == "ok" and r.n and r.task in tasks]
        if len(mine) != len(tasks):
            continue
        recs = [x for t in tasks for x in grouped[(model, t)]]
        first = [float(x.score) for x in first_repeat(recs)]
        acc = stats.mean(first)
        lo, hi, method = stats.accuracy_interval(first)
        p = mine[0].pricing
        # records of each cell priced with that cell's concurrency, then pooled
        priced = [cost.cell_cost(grouped[(model, t)], p, cells[(model, t)].concurrency, None) for t in tasks]
        known = all(c.cost_usd is not None for c in priced)
        total = sum(c.cost_usd for c in priced) if known else None
        n_all = sum(c.requests for c in priced)
        per_request = None if total is None or not n_all else total / n_all
        latencies = [x.latency_s for x in recs if x.latency_s is not None]
        out.append(PooledRow(model=model, pooled_tasks=tasks, tasks_reported=reported, n=len(first), accuracy=acc,
                             ci_low=lo, ci_high=hi, ci_method=method, latency_p95_s=stats.percentile(latencies, 95),
                             usd_per_1k_requests=None if per_request is None else 1000 * per_request,
                             usd_per_correct=None if per_request is None or not acc else per_request / acc,
                             pricing=p))
    return out


def _money(v) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    if v == 0:
        return "0"
    if v == math.inf:
        return "never"
    return f"{v:.3g}" if abs(v) < 1000 else f"{v:,.0f}"


def _volume(v) -> str:
    if v is None:
        return "never"
    if v == math.inf:
        return "never"
    return f"{v:,.0f}"


COST_HEAD = ["model", "task", "acc %", "priced by", "$ / 1k req at capacity (machine busy)", "$ / 1M out tok", "$ / correct", "energy J",
             "energy $", "req/s (1 box)", "capacity from", "break-even req/month", "cheaper from req/month", "vs API", "price date"]


def cost_cells(r: SummaryRow) -> list[str]:
    p = r.pricing
    priced_by = (f"{p.hardware} ${p.usd_per_hour:g}/h" if p.hourly and p.usd_per_hour is not None
                 else "tokens" if p.known else "unpriced")
    hourly = p.hourly and r.break_even_vs
    return [r.model, r.task, "-" if math.isnan(r.accuracy) else f"{100 * r.accuracy:.1f}", priced_by,
            _money(r.usd_per_1k_requests), _money(r.usd_per_mtok_out), _money(r.usd_per_correct),
            "-" if r.energy_j is None else f"{r.energy_j:.1f}", _money(r.energy_usd),
            "-" if r.requests_per_s is None else f"{r.requests_per_s:.2f}",
            "sweep" if (r.capacity_source or "").startswith("sweep") else r.capacity_source or "-",
            _volume(r.break_even_requests_per_month) if hourly else "-",
            _volume(r.self_hosted_cheaper_from_per_month) if hourly else "-",
            r.break_even_vs or "-", p.prices_as_of or "-"]


def cost_table(rows: list[SummaryRow], volume: float, utilisation: float) -> tuple[list[str], list[list[str]]]:
    """The cost table with both bases of $ / 1k req: at capacity (the machine busy) and at the
    question's monthly volume (whole machines, idle time paid), side by side."""
    at = COST_HEAD.index("$ / 1k req at capacity (machine busy)") + 1
    head = COST_HEAD[:at] + [f"$ / 1k req at {volume:,.0f} req/month"] + COST_HEAD[at:]
    body = []
    for r in rows:
        cells = cost_cells(r)
        body.append(cells[:at] + [_money(usd_per_1k_at_volume(r, volume, utilisation))] + cells[at:])
    return head, body


OVERALL_HEAD = ["model", "tasks", "n", "acc %", "95% CI", "lat p95 ms", "$ / 1k req at capacity (machine busy)",
                "$ / correct"]


def overall_cells(r: PooledRow) -> list[str]:
    ci = "-" if math.isnan(r.ci_low) else f"{100 * r.ci_low:.1f}-{100 * r.ci_high:.1f}"
    lat = "-" if math.isnan(r.latency_p95_s) else f"{1000 * r.latency_p95_s:.0f}"
    return [r.model, str(r.tasks), str(r.n), f"{100 * r.accuracy:.1f}", ci, lat,
            _money(r.usd_per_1k_requests), _money(r.usd_per_correct)]


COST_NOTE = ("Costs: docs/cost.md. $ / 1k req at capacity (machine busy) = 1000 x the mean cost of a request over "
             "every record (all repeats); API: uncached input, cached input and output tokens (reasoning included) x "
             "prices per 1M; local and self-hosted: machine seconds per request x usd_per_hour / 3600, the machine "
             "busy all the time. $ / 1k req at {v:,.0f} req/month: the same API cost; a self-hosted model pays the "
             "whole machines that volume needs at {u:.0%} utilisation (usd_per_hour x 730 h each, busy or idle) "
             "/ the volume x 1000. Energy is shown "
             "beside, never added. Break-even: the monthly volume from which machines at {u:.0%} utilisation "
             "(usd_per_hour x 730 h each, busy or idle) cost no more than the API model named. req/s (1 box): "
             "what one machine serves, used for monthly cost and break-even; capacity from: 'sweep' = the capacity "
             "a bench sweep measured under its p95 latency target (capacity_source in summary.csv names the sweep "
             "and target), 'run' = this run's own throughput at the concurrency or batch size it ran.")
