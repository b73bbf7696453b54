"""The decision (bench/report/decision.py) as a reader meets it first: the question, then per task
its alarms, one verdict line per model a reader can repeat, the cheapest model that can replace
the reference, every model that met the bars, and a compact table; for the terminal, summary.md
and report.html, and as decision.json. Names from a run folder pass through bench/safetext.py."""

from __future__ import annotations

import json
import math

from bench.report.decision import (
    CAN_REPLACE,
    INCONCLUSIVE,
    MISSES,
    NOT_COMPARABLE,
    REFERENCE,
    WORSE,
    CandidateDecision,
    Question,
    TaskDecision,
)
from bench.safetext import esc, markdown_table, md_cell, plain, text_table

TESTS = {"mcnemar_exact": "McNemar", "paired_bootstrap": "paired bootstrap"}
DOC = "docs/metrics.md, \"The decision\""


def usd(v: float | None) -> str:
    if v is None or not math.isfinite(v):
        return "unpriced"
    if v >= 1000:
        return f"${v:,.0f}"
    return f"${v:.2f}" if v >= 0.01 or v == 0 else f"${v:.2g}"


def _p(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.2g}"


def volume(q: Question) -> str:
    return f"{q.volume_per_month:,.0f}/month"


def question_line(q: Question) -> str:
    """The question in one line, each default said to be one."""
    def default(key: str) -> str:
        return " (default)" if key in q.defaults else ""

    ref = (q.reference if q.reference is not None
           else "per task, the most accurate token-priced model (else the most accurate)")
    p95 = "none, latency not judged" if q.p95_target_ms is None else f"{q.p95_target_ms:,.0f} ms"
    acc = "none" if q.min_accuracy is None else f"{100 * q.min_accuracy:g}%"
    return (f"reference: {ref}{default('reference')}; volume: {q.volume_per_month:,.0f} requests/month"
            f"{default('volume_per_month')}; p95 target: {p95}{default('p95_target_ms')}; minimum accuracy: "
            f"{acc}{default('min_accuracy')}; margin: {q.margin_points:g} pp{default('margin_points')}; "
            f"self-hosted: whole machines at most {q.utilisation:.0%} busy, idle time paid")


def _interval(c: CandidateDecision) -> str:
    lo, hi = c.ci_points
    return (f"{c.diff_points:+.1f} pp [{lo:+.1f}, {hi:+.1f}] ({TESTS.get(c.test, c.test)} {_p(c.p_value)}, "
            f"n = {c.n_paired})")


def verdict_line(d: TaskDecision, c: CandidateDecision) -> str:
    """One sentence a reader can repeat."""
    q, ref = d.question, d.candidate(d.reference)
    costs = f"{usd(c.usd_per_1k_at_volume)} vs {usd(ref.usd_per_1k_at_volume)} per 1,000 at {volume(q)}"
    m = f"{q.margin_points:g} pp"
    if c.verdict == NOT_COMPARABLE:
        return f"{c.model} vs {d.reference} on {d.task}: no shared examples, cannot compare; {costs}"
    if c.verdict == CAN_REPLACE:
        return f"{c.model} can replace {d.reference} on {d.task}: {_interval(c)}, margin {m}; {costs}"
    if c.verdict == WORSE:
        return (f"{c.model} is worse than {d.reference} on {d.task}: {_interval(c)}, at least "
                f"{-c.ci_points[1]:.1f} pp less accurate, beyond the {m} margin; {costs}")
    if c.verdict == MISSES:
        return (f"{c.model} is within the {m} margin of {d.reference} on {d.task} ({_interval(c)}) but misses "
                f"a bar: {'; '.join(c.missed)}; {costs}")
    needed = (f"about {c.n_needed:,} paired examples would tell at 80% power" if c.n_needed is not None
              else "the difference sits on the margin")
    return f"{c.model} vs {d.reference} on {d.task}: inconclusive: {_interval(c)}, margin {m}; {needed}; {costs}"


def summary_lines(d: TaskDecision) -> list[str]:
    """The reference, the alarms, the verdicts, the cheapest replacement and the models that met the bars."""
    out = []
    if d.reference is not None and d.candidate(d.reference) is not None:
        basis = "given" if d.reference_basis == "given" else f"default: the {d.reference_basis}"
        out.append(f"reference: {d.reference} ({basis})")
    out += [f"ALARM: {a.message}: {a.action}" for a in d.alarms]
    if d.note:
        out.append(d.note)
    out += [verdict_line(d, c) for c in d.candidates if c.verdict != REFERENCE]
    if len(d.candidates) > 1:
        out.append(_replacement(d))
        met = ", ".join(f"{m} {usd(d.candidate(m).usd_per_1k_at_volume)}" for m in d.met_bars)
        out.append(f"met every bar, cheapest first at {volume(d.question)}: {met or 'none'}")
    return out


def _replacement(d: TaskDecision) -> str:
    """The cheapest replacement, and whether it costs less than the reference at the volume."""
    if not d.cheapest_replacement:
        return f"no model was shown able to replace {d.reference}"
    new, ref = d.candidate(d.cheapest_replacement).usd_per_1k_at_volume, d.candidate(d.reference).usd_per_1k_at_volume
    line = f"cheapest that can replace {d.reference}: {d.cheapest_replacement}"
    if new is None or ref is None:
        return line
    at = f"per 1,000 at {volume(d.question)}"
    if new < ref:
        return f"{line}, {usd(new)} vs {usd(ref)} {at} ({ref / new:.3g}x cheaper)" if new else f"{line}, free"
    return f"{line}, but it is not cheaper: {usd(new)} vs {usd(ref)} {at}"


def head(q: Question) -> list[str]:
    return ["model", "verdict", "acc %", "vs ref pp [95% CI]", "p", "n", "n needed",
            f"$ / 1k req at {volume(q)}", "$ / 1k req at capacity (machine busy)", "p95 ms", "req/s (1 box)",
            "capacity from"]


def cells(c: CandidateDecision) -> list[str]:
    compared = c.ci_points is not None
    p95 = "-" if c.p95_ms is None else f"{c.p95_ms:,.0f}" + {None: "", True: " ok", False: " over"}[c.meets_p95]
    source = c.capacity_source or "-"
    return [c.model, c.verdict, "-" if math.isnan(c.accuracy) else f"{100 * c.accuracy:.1f}",
            f"{c.diff_points:+.1f} [{c.ci_points[0]:+.1f}, {c.ci_points[1]:+.1f}]" if compared else "-",
            f"{c.p_value:.2g}" if compared else "-", str(c.n_paired),
            f"{c.n_needed:,}" if compared and c.verdict == INCONCLUSIVE and c.n_needed is not None else "-",
            usd(c.usd_per_1k_at_volume), usd(c.usd_per_1k_at_capacity), p95,
            "-" if not c.capacity_rps else f"{c.capacity_rps:.3g}", "sweep" if source.startswith("sweep") else source]


def terminal(decisions: list[TaskDecision]) -> str:
    """For the end of a run's output and of `bench report`'s."""
    if not decisions:
        return ""
    out = [f"Decision ({DOC})", plain(f"question: {question_line(decisions[0].question)}")]
    for d in decisions:
        out += ["", plain(f"task {d.task}:")] + [plain(f"  - {line}") for line in summary_lines(d)]
        if d.candidates:  # text_table makes each cell one plain line
            out += ["", text_table(head(d.question), [cells(c) for c in d.candidates])]
    return "\n".join(out)


def markdown(decisions: list[TaskDecision]) -> list[str]:
    """summary.md's first section."""
    if not decisions:
        return []
    out = ["## Decision", "", f"Question: {md_cell(question_line(decisions[0].question))} ({DOC}).", ""]
    for d in decisions:
        out += [f"### Task {md_cell(d.task)}", ""] + [f"- {md_cell(line)}" for line in summary_lines(d)] + [""]
        if d.candidates:
            out += markdown_table(head(d.question), [cells(c) for c in d.candidates]) + [""]
    return out


def html(decisions: list[TaskDecision]) -> str:
    """report.html's first section."""
    if not decisions:
        return ""
    parts = ["<h2 id='decision'>Decision</h2>",
             f"<p>Question: {esc(question_line(decisions[0].question))} ({esc(DOC)}).</p>"]
    for d in decisions:
        parts.append(f"<h3>Task {esc(d.task)}</h3><ul>")
        for line in summary_lines(d):
            cls = " class='bad'" if line.startswith("ALARM") else ""
            parts.append(f"<li{cls}>{esc(line)}</li>")
        parts.append("</ul>")
        if d.candidates:
            body = [cells(c) for c in d.candidates]
            parts.append("<table><tr>" + "".join(f"<th>{esc(h)}</th>" for h in head(d.question)) + "</tr>"
                         + "".join("<tr>" + "".join(f"<td>{esc(x)}</td>" for x in row) + "</tr>" for row in body)
                         + "</table>")
    return "\n".join(parts)


def to_json(decisions: list[TaskDecision]) -> bytes:
    """decision.json: one object per task (docs/metrics.md, "decision.json")."""
    return (json.dumps([d.to_json() for d in decisions], indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode()


def _short(volume_per_month: float) -> str:
    """50,000 -> 50k; 1,000,000 -> 1M: a volume in a figure title."""
    for size, suffix in ((1e6, "M"), (1e3, "k")):
        if volume_per_month >= size:
            return f"{volume_per_month / size:.3g}{suffix}"
    return f"{volume_per_month:.3g}"


def takeaway(d: TaskDecision) -> str | None:
    """A figure title that states the task's result: the cheapest model that can replace the
    reference (else the cheapest compared one) against it, e.g. "tiny: 12.0 pp less accurate than
    big-api, 18x cheaper at 50k/month (worse beyond the 5 pp margin)". None with nothing compared."""
    ref = d.candidate(d.reference) if d.reference is not None else None
    compared = [c for c in d.candidates if c.verdict not in (REFERENCE, NOT_COMPARABLE) and c.ci_points is not None]
    if ref is None or not compared:
        return None
    c = d.candidate(d.cheapest_replacement) if d.cheapest_replacement else min(
        compared, key=lambda x: (x.usd_per_1k_at_volume is None, x.usd_per_1k_at_volume or 0.0))
    diff = c.diff_points
    acc = ("as accurate as" if abs(diff) < 0.05
           else f"{abs(diff):.1f} pp {'less' if diff < 0 else 'more'} accurate than")
    new, old = c.usd_per_1k_at_volume, ref.usd_per_1k_at_volume
    at = f"at {_short(d.question.volume_per_month)}/month"
    if new is None or old is None:
        cost = f"cost unknown {at}"
    elif new == old:
        cost = f"the same cost {at}"
    elif new == 0 or old == 0:
        cost = f"{'free' if new == 0 else usd(new) + ' per 1k'} vs {'free' if old == 0 else usd(old) + ' per 1k'} {at}"
    else:
        ratio = max(old / new, new / old)
        times = f"{ratio:.1f}x" if ratio < 10 else f"{ratio:,.0f}x"
        cost = f"{times} {'cheaper' if new < old else 'dearer'} {at}"
    margin = f"{d.question.margin_points:g} pp margin"
    verdict = {CAN_REPLACE: f"can replace it within the {margin}", WORSE: f"worse beyond the {margin}",
               MISSES: "within the margin but misses a bar", INCONCLUSIVE: "inconclusive"}[c.verdict]
    return f"{c.model}: {acc} {ref.model}, {cost} ({verdict})"


def takeaways(decisions: list[TaskDecision]) -> dict[str, str]:
    """Task -> its figure title (bench/report/plots.py draw_all's `takeaway`)."""
    return {d.task: line for d in decisions if (line := takeaway(d)) is not None}


def pairs(decisions: list[TaskDecision]) -> dict[str, list[tuple[str, str]]]:
    """Task -> (candidate, reference) for "where they disagree" (bench/report/trace.py): every model
    compared with the task's reference on shared examples."""
    return {d.task: [(c.model, d.reference) for c in d.candidates if c.verdict not in (REFERENCE, NOT_COMPARABLE)]
            for d in decisions if d.reference is not None}
