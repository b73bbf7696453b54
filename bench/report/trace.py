"""The parts of the report that trace figures back to the user's rows, as one piece for report.html,
summary.md and plots/: for label tasks, per-label accuracy and confusion matrices
(bench/report/labels.py, bench/report/confusion.py); for each task, where a candidate and a
reference model disagree (bench/report/disagree.py). The example outputs are in
bench/report/examples.py."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

from bench.core.types import SummaryRow
from bench.report import confusion, disagree, labels
from bench.safetext import esc, markdown_table, md_cell


@dataclass
class Traced:
    html: str = ""  # sections for report.html
    markdown: list[str] = field(default_factory=list)  # lines for summary.md
    figures: dict[str, bytes] = field(default_factory=dict)  # file name -> bytes, for plots/


def _labels_html(merged, tasks: dict[str, list[str]], figures: dict[str, bytes], names: dict) -> str:
    if not tasks:
        return ""
    parts = ["<h2 id='labels'>Per label</h2>", f"<p>{esc(labels.NOTE)}</p>"]
    for task, task_labels in tasks.items():
        models = labels.models_of(merged.records, task)
        parts.append(f"<h3>{esc(task)}</h3><table><tr>"
                     + "".join(f"<th>{esc(h)}</th>" for h in labels.HEAD) + "</tr>"
                     + "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>"
                               for row in labels.table_rows(merged.records, task, task_labels, models)) + "</table>")
        for name in [names[(task, m)] for m in models if (task, m) in names]:
            data = base64.b64encode(figures[f"{name}.png"]).decode()
            parts.append(f"<figure><img alt='{esc(name)}' src='data:image/png;base64,{data}'>"
                         f"<figcaption>plots/{esc(name)}.png (SVG beside it)</figcaption></figure>")
    return "\n".join(parts)


def _labels_markdown(merged, tasks: dict[str, list[str]], names: dict) -> list[str]:
    if not tasks:
        return []
    lines = ["", "## Per label", "", md_cell(labels.NOTE)]  # names from the run only in table cells
    for task, task_labels in tasks.items():
        models = labels.models_of(merged.records, task)
        lines += [""] + markdown_table(["task"] + labels.HEAD, [[task] + row for row in labels.table_rows(
            merged.records, task, task_labels, models)])
        shown = [(m, names[(task, m)]) for m in models if (task, m) in names]
        if shown:  # figure names are made of plots.file_stem's characters: safe in a link
            lines += [""] + markdown_table(["task", "model", "confusion matrix"],
                                           [[task, m, f"![{n}](plots/{n}.png)"] for m, n in shown])
    return lines


def render(merged, rows: list[SummaryRow], pairs: dict[str, list[tuple[str, str]]],
           limit: int = disagree.LIMIT) -> Traced:
    """Everything, computed in memory. pairs: task -> (candidate, reference) pairs for "where they
    disagree" (the decision's: bench/report/decisiontext.py pairs)."""
    ran = {r.task for r in merged.records}
    tasks = {t: found for t, found in labels.label_tasks(merged.manifests).items() if t in ran}
    figures, names = confusion.figures(merged, tasks)
    html = "\n".join(x for x in (_labels_html(merged, tasks, figures, names),
                                 disagree.to_html(merged.records, merged.inputs, pairs, limit)) if x)
    markdown = _labels_markdown(merged, tasks, names) + disagree.to_markdown(merged.records, merged.inputs, pairs,
                                                                                limit)
    return Traced(html, markdown, figures)
