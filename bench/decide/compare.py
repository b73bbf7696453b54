"""`bench compare BASE NEW`: every (model, task) both runs have, on the examples both answered:
the accuracy difference with its paired test, p95 latency and cost per 1,000 requests as ratios,
and whether any is worse beyond its threshold (the CI gate). Pure over run folders; the CLI prints
the Markdown table and turns the verdict into the exit code."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path

from bench.core import stats
from bench.core.types import SummaryRow, by_cell, first_scores
from bench.errors import InputError
from bench.report import build, summary
from bench.report.runs import Merged
from bench.safetext import markdown_table, md_cell
from bench.spend import cost

ALPHA = 0.05


@dataclass
class Limits:
    max_accuracy_drop_pp: float = 0.0  # percentage points; a larger drop fails only when significant
    max_latency_increase_pct: float = 50.0  # p95 latency, NEW over BASE
    max_cost_increase_pct: float = 10.0  # cost per 1,000 requests, NEW over BASE

    def check(self) -> None:
        for flag, v in (("--max-accuracy-drop", self.max_accuracy_drop_pp),
                        ("--max-latency-increase", self.max_latency_increase_pct),
                        ("--max-cost-increase", self.max_cost_increase_pct)):
            if not (v >= 0 and math.isfinite(v)):
                raise InputError(f"{flag} {v}: must be a number, 0 or more")


@dataclass
class Pair:
    base_model: str
    new_model: str
    task: str
    n: int  # examples both runs have a first-repeat record of
    base: SummaryRow  # the summary row over those examples, with usd_per_1k_requests
    new: SummaryRow
    test: dict  # stats.compare_paired(new, base): method, difference (new - base), p_value, significant
    latency_ratio: float | None
    cost_ratio: float | None
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _cell_rows(merged: Merged, model: str, task: str, ids: set[str]) -> SummaryRow:
    """The summary row and cost of one cell restricted to the given examples (every repeat of them)."""
    cell = next(c for c in merged.cells if (c.model, c.task) == (model, task))
    recs = [r for r in by_cell(merged.records).get((model, task), []) if r.example_id in ids]
    (row,) = summary.rows(recs, [cell])
    acc = None if math.isnan(row.accuracy) else row.accuracy
    c = cost.cell_cost(recs, merged.pricing.get(model, cost.Pricing()), cell.concurrency, acc)
    return dataclasses.replace(row, usd_per_1k_requests=c.usd_per_1k_requests)


def _first_scores(merged: Merged, model: str, task: str) -> dict[str, float]:
    return first_scores(by_cell(merged.records).get((model, task), []))


def ratio(new: float | None, base: float | None) -> float | None:
    if new is None or base is None or math.isnan(new) or math.isnan(base):
        return None
    if base == 0:
        return 1.0 if new == 0 else math.inf
    return new / base


def pairs_of(base: Merged, new: Merged, task: str | None, model_base: str | None,
             model_new: str | None) -> list[tuple[str, str, str]]:
    """(base model, new model, task) to compare: the same names, or the two models named."""
    if (model_base is None) != (model_new is None):
        raise InputError("--model-base and --model-new go together: name the model of each run to compare")
    have_b = {(c.model, c.task) for c in base.cells}
    have_n = {(c.model, c.task) for c in new.cells}
    if model_base is not None:
        for flag, name, have in (("--model-base", model_base, have_b), ("--model-new", model_new, have_n)):
            if name not in {m for m, _ in have}:
                raise InputError(f"{flag} {name!r}: no such model in that run (models: "
                                 f"{', '.join(sorted({m for m, _ in have}))})")
        out = [(model_base, model_new, t) for (m, t) in sorted(have_b) if m == model_base and (model_new, t) in have_n]
    else:
        out = [(m, m, t) for (m, t) in sorted(have_b & have_n)]
    if task is not None:
        tasks = sorted({t for _, _, t in out})
        if task not in tasks:
            raise InputError(f"--task {task!r}: not a task both runs have (common: {', '.join(tasks) or 'none'})")
        out = [p for p in out if p[2] == task]
    if not out:
        raise InputError("the two runs have no (model, task) cell in common; compare runs of the same models and "
                         "tasks, or name the models with --model-base and --model-new")
    return out


def compare(base_dir: Path, new_dir: Path, limits: Limits, *, task: str | None = None,
            model_base: str | None = None, model_new: str | None = None) -> list[Pair]:
    limits.check()
    base, new = build.load([base_dir], None), build.load([new_dir], None)  # each priced by its own manifest
    out = []
    for mb, mn, t in pairs_of(base, new, task, model_base, model_new):
        sb, sn = _first_scores(base, mb, t), _first_scores(new, mn, t)
        ids = set(sb) & set(sn)
        if not ids:  # a cell that did not run in one of them (no key, skipped)
            continue
        order = sorted(ids)
        test = stats.compare_paired([sn[i] for i in order], [sb[i] for i in order], ALPHA)
        rb, rn = _cell_rows(base, mb, t, ids), _cell_rows(new, mn, t, ids)
        p = Pair(mb, mn, t, len(ids), rb, rn, test, ratio(rn.latency_p95_s, rb.latency_p95_s),
                 ratio(rn.usd_per_1k_requests, rb.usd_per_1k_requests))
        p.failures = _failures(p, limits)
        p.notes = _notes(base, new, t, len(sb), len(sn), len(ids))
        out.append(p)
    if not out:
        raise InputError(f"{base_dir} and {new_dir}: no example was answered in both runs of any common "
                         f"(model, task) cell; nothing to compare")
    return out


def _failures(p: Pair, limits: Limits) -> list[str]:
    out = []
    drop_pp = -100 * p.test["difference"]
    if drop_pp > limits.max_accuracy_drop_pp and p.test["significant"]:
        out.append(f"accuracy -{drop_pp:.1f} pp (p = {p.test['p_value']:.2g})")
    if p.latency_ratio is not None and 100 * (p.latency_ratio - 1) > limits.max_latency_increase_pct:
        out.append(f"p95 latency x{p.latency_ratio:.2f}")
    if p.cost_ratio is not None and 100 * (p.cost_ratio - 1) > limits.max_cost_increase_pct:
        out.append(f"cost x{p.cost_ratio:.2f}")
    return out


def _notes(base: Merged, new: Merged, task: str, nb: int, nn: int, n: int) -> list[str]:
    out = []
    tb, tn = (m.manifests[0].get("tasks", {}).get(task, {}) for m in (base, new))
    if tb.get("data_sha256") != tn.get("data_sha256"):
        out.append(f"task {task}: its data differs between the runs (examples compared by id)")
    elif tb.get("sha256") != tn.get("sha256"):
        out.append(f"task {task}: the task file differs between the runs (prompt or settings changed)")
    if n < max(nb, nn):
        out.append(f"task {task}: {n} examples in both runs (BASE {nb}, NEW {nn})")
    return out


def _x(r: float | None) -> str:
    return "-" if r is None else ("inf" if math.isinf(r) else f"x{r:.2f}")


def _ms(v: float) -> str:
    return "-" if v is None or math.isnan(v) else f"{1000 * v:,.0f}"


def _usd(v: float | None) -> str:
    return "-" if v is None else f"${v:.4g}"


def markdown(pairs: list[Pair], base_dir: Path, new_dir: Path, limits: Limits) -> str:
    """A table fit for a pull-request comment; every name escaped (md_cell)."""
    head = ["model", "task", "n", "acc BASE %", "acc NEW %", "diff pp", "p (test)", "p95 BASE ms", "p95 NEW ms",
            "p95 ratio", "$/1k BASE", "$/1k NEW", "cost ratio", "verdict"]
    body = []
    for p in pairs:
        name = p.base_model if p.base_model == p.new_model else f"{p.base_model} -> {p.new_model}"
        body.append([name, p.task, str(p.n), f"{100 * p.base.accuracy:.1f}", f"{100 * p.new.accuracy:.1f}",
                     f"{100 * p.test['difference']:+.1f}", f"{p.test['p_value']:.2g} ({p.test['method']})",
                     _ms(p.base.latency_p95_s), _ms(p.new.latency_p95_s), _x(p.latency_ratio),
                     _usd(p.base.usd_per_1k_requests), _usd(p.new.usd_per_1k_requests), _x(p.cost_ratio),
                     "WORSE: " + "; ".join(p.failures) if p.failures else "ok"])
    worse = sum(bool(p.failures) for p in pairs)
    lines = [f"## bench compare: {md_cell(base_dir.name)} -> {md_cell(new_dir.name)}", ""]
    lines += markdown_table(head, body)
    lines += ["", f"**{worse} of {len(pairs)} cell(s) worse** than allowed" if worse else
              f"No regression in {len(pairs)} cell(s).",
              "", f"Limits: accuracy drop > {limits.max_accuracy_drop_pp:g} pp and significant (p < {ALPHA}; "
                  f"exact McNemar for 0/1 scores, paired bootstrap otherwise), p95 latency > "
                  f"+{limits.max_latency_increase_pct:g}%, cost per 1,000 requests > +{limits.max_cost_increase_pct:g}% "
                  f"(each run priced with its own prices). Compared on the examples both runs have; an error "
                  f"counts as wrong."]
    notes = [n for p in pairs for n in p.notes]
    lines += [""] + [f"- {md_cell(n)}" for n in dict.fromkeys(notes)] if notes else []
    return "\n".join(lines) + "\n"
