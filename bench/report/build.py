"""`bench report`: run folders in, summary.csv, summary.md, plots/ and report.html out. Everything
is computed in memory first, so bad input (a folder that is not a run, a corrupted line, a bad
prices file) stops it before a single file is written."""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path

from bench.core.types import PooledRow, SummaryRow
from bench.errors import InputError
from bench.report import decisiontext, html, plots, summary, sweeps, table, trace
from bench.report.decision import Question, TaskDecision, decide
from bench.report.question import question_of
from bench.report.runs import Merged, merge, reprice
from bench.runfolder.store import atomic_write, check_writable, make_dirs
from bench.safetext import markdown_table, md_cell, plain, text_table

DOCS = Path(__file__).resolve().parents[2] / "docs"
DEFAULT_UTILISATION = 0.5


def check_options(utilisation: float) -> None:
    if not 0 < utilisation <= 1:
        raise InputError(f"--utilisation {utilisation}: must be above 0 and at most 1 (0.5 = busy half the time)")


def load(folders: list[Path], prices: Path | None) -> Merged:
    merged = merge(folders)
    if prices is not None:
        reprice(merged, prices)
    return merged


def tables(merged: Merged, utilisation: float,
           baseline: str | None) -> tuple[list[SummaryRow], list[PooledRow], dict[str, SummaryRow | None]]:
    """The per-cell rows with costs, the pooled rows, and each task's break-even baseline."""
    check_options(utilisation)
    if baseline is not None and baseline not in merged.pricing:
        raise InputError(f"--baseline {baseline!r}: no such model in these runs "
                         f"(known: {', '.join(sorted(merged.pricing))})")
    rows = table.priced_rows(merged, utilisation, baseline)
    overall = table.overall_rows(rows, merged)
    baselines = {t: table.baseline_for(rows, t, baseline) for t in dict.fromkeys(r.task for r in rows)}
    return rows, overall, baselines


def markdown(title: str, notes: list[str], rows: list[SummaryRow], overall: list[PooledRow], utilisation: float,
             decisions: list[TaskDecision] = (), volume: float = Question.volume_per_month,
             capacity: list[str] = ()) -> str:
    """capacity: the lines under the cost note saying which capacity each self-hosted cost used (with a sweep)."""
    text = summary.to_markdown(rows, title, notes, lead=decisiontext.markdown(list(decisions)))
    lines = ["", "## Cost", ""] + markdown_table(*table.cost_table(rows, volume, utilisation))
    lines += ["", table.COST_NOTE.format(u=utilisation, v=volume)] + list(capacity)
    if overall:
        lines += ["", f"## {md_cell(table.pooled_title(overall).capitalize())}", ""]
        lines += markdown_table(table.OVERALL_HEAD, [table.overall_cells(r) for r in overall])
    return text + "\n".join(lines) + "\n"


def terminal(rows: list[SummaryRow], volume: float = Question.volume_per_month,
             utilisation: float = DEFAULT_UTILISATION) -> str:
    """The cost table for the end of a run or a report in the terminal."""
    return text_table(*table.cost_table(rows, volume, utilisation))


def decisions(merged: Merged, rows: list[SummaryRow], question: Question) -> list[TaskDecision]:
    """The decision per task (bench/report/decision.py) over the report's priced rows."""
    return decide(rows, merged.records, question, merged.overlapped)


def render(merged: Merged, *, title: str, notes: list[str], utilisation: float = DEFAULT_UTILISATION,
           baseline: str | None = None, question: Question | None = None) -> tuple[dict[str, bytes], list[SummaryRow]]:
    """Every output file as {relative path: bytes}, and the rows (for printing). `question`: the
    decision's question (default: the one the runs recorded, bench/report/question.py); its volume
    is the plots' cost basis and its verdicts title them."""
    rows, overall, baselines = tables(merged, utilisation, baseline)
    question = question or question_of(merged, utilisation=utilisation)
    decided = decisions(merged, rows, question)
    figures = plots.draw_all(merged, rows, overall, baselines, utilisation, question.volume_per_month,
                             decisiontext.takeaways(decided))
    swept = sweeps.figures(merged)  # each sweep's throughput-against-latency figures (none without a sweep)
    definitions = [(f.name, f.read_text(encoding="utf-8")) for f in (DOCS / "metrics.md", DOCS / "cost.md")
                   if f.is_file()]
    traced = trace.render(merged, rows, decisiontext.pairs(decided))  # "where they disagree" against each reference
    pooled = overall if overall and overall[0].tasks > 1 else []  # one task: its pooled table would repeat it
    page = html.build(title=title, merged=merged, rows=rows, overall=pooled, plots=figures,
                      definitions=definitions, notes=notes, utilisation=utilisation, traced=traced.html,
                      capacity_html=sweeps.used_html(merged, rows), sweeps_html=sweeps.section_html(merged, rows, swept),
                      lead=decisiontext.html(decided), volume=question.volume_per_month)
    files = {"summary.csv": summary.to_csv(rows, priced=True).encode(),
             "summary.md": (markdown(title, notes, rows, pooled, utilisation, decided, question.volume_per_month,
                                     sweeps.used_markdown(merged, rows))
                            + sweeps.markdown(merged, rows, swept)
                            + "".join(line + "\n" for line in traced.markdown)).encode(),
             "report.html": page.encode(), "decision.json": decisiontext.to_json(decided)}
    files.update({f"plots/{name}": data for name, data in figures.items()})
    files.update(swept)
    files.update({f"plots/{name}": data for name, data in traced.figures.items()})
    return files, rows


def write(out: Path, files: dict[str, bytes]) -> None:
    """Each file replaced atomically: a reader sees the old report or the new one. A disk that
    refuses a file raises StorageError naming it, its temporary file removed."""
    for rel, data in files.items():
        path = out / rel
        make_dirs(path.parent)
        atomic_write(path, data)


def default_out(folders: list[Path]) -> Path:
    """One run: its own folder. Several: a new folder beside the first."""
    if len(folders) == 1:
        return folders[0]
    return folders[0].parent / ("report-" + datetime.now(timezone.utc).strftime("%Y-%m-%dT%H-%M-%SZ"))


def report(folders: list[Path], *, out: Path | None = None, prices: Path | None = None,
           utilisation: float = DEFAULT_UTILISATION, baseline: str | None = None, question: dict | None = None,
           echo=print) -> Path:
    """`question`: the question's flags given (bench.config.decision.from_flags), over the runs' own."""
    check_options(utilisation)
    merged = load(folders, prices)
    asked = question_of(merged, question, prices, utilisation)
    out = out or default_out(folders)
    check_writable(out, "cannot write the report here")
    titles = {m.get("title") or "Benchmark summary" for m in merged.manifests}
    title = (titles.pop() if len(titles) == 1 else "Benchmark report") + ": " + ", ".join(merged.run_ids)
    notes = list(dict.fromkeys(n for m in merged.manifests for n in (m.get("notes") or [])))
    if prices is not None:
        notes.append(f"Re-priced with {prices} (models it does not define keep their run's prices).")
    files, rows = render(merged, title=title, notes=notes, utilisation=utilisation, baseline=baseline,
                         question=asked)
    write(out, files)
    echo(summary.to_text(rows))
    echo("")
    echo(terminal(rows, asked.volume_per_month, utilisation))
    used = sweeps.used_lines(merged, rows)  # none without a sweep
    if used:
        echo("\n" + "\n".join(plain(x) for x in [sweeps.USED_TITLE + ":"] + used))
    if not any(name.startswith("plots/") and not name.startswith("plots/sweep_") for name in files):
        echo(f"\n{html.NO_PLOTS}")
    echo("\n" + decisiontext.terminal(decisions(merged, rows, asked)))
    echo(f"\nreport: {out / 'report.html'}", file=sys.stdout)
    return out
