"""The report's figures, drawn with matplotlib's Agg backend into memory (PNG and SVG bytes), so a
report that fails half-way writes nothing. Every figure is a 16:9 slide under one style
(figstyle.py): the takeaway as its title, what is plotted beneath, model names on the points, and a
footnote with the runs, the hardware and the price dates. The cost figures are in costplots.py, the
speed ones in perfplots.py; this module chooses which figures a run gets and draws them."""

from __future__ import annotations

import math
from collections.abc import Iterator

from bench.core.types import PooledRow, SummaryRow
from bench.report import figstyle as fs
from bench.report import table
from bench.report.costplots import Basis, accuracy_vs_cost, monthly_cost, pareto  # noqa: F401 (pareto: public)
from bench.report.perfplots import accuracy_vs_latency, memory, speed

# the names figures of other modules were drawn with before figstyle.py; they keep working
SLIDE, DPI, label, footnote_text, error_bars = fs.SLIDE, fs.DPI, fs.label, fs.footnote_text, fs.error_bars
_log, _log_xlim = fs.log, fs.log_xlim
OVERALL = "overall"  # the key of the pooled figure's takeaway


def _plt():
    """pyplot with the report's style set (for a figure drawn outside figstyle.style())."""
    plt = fs.pyplot()
    plt.rcParams.update(fs.STYLE)
    return plt


def _finish(plt, fig, foot: str, name: str, out: dict, tight: bool = True) -> None:
    """Footnote, layout and both formats (the helper figures of other modules were finished with)."""
    bottom = fs.footnote(fig, foot)
    if tight:
        fs.lay_out(fig, 1.0, bottom)
    fs.to_bytes(plt, fig, name, out)


def heatmap_takeaway(models: list[str], tasks: list[str], grid) -> str:
    import numpy as np

    with np.errstate(all="ignore"):
        by_model, by_task = np.nanmean(grid, axis=1), np.nanmean(grid, axis=0)
    if np.isnan(by_model).all():
        return "No model has an accuracy on these tasks"
    best, hard = int(np.nanargmax(by_model)), int(np.nanargmin(by_task))
    return (f"Most accurate across tasks: {models[best]} (mean {by_model[best]:.0f}% over {len(tasks)} tasks); "
            f"hardest task: {tasks[hard]} (mean {by_task[hard]:.0f}%)")


def heatmap(plt, rows: list[SummaryRow], takeaway: str | None, foot: str):
    """Accuracy of every model on every task, for two tasks or more."""
    import numpy as np

    models = list(dict.fromkeys(r.model for r in rows))
    tasks = list(dict.fromkeys(r.task for r in rows))
    grid = np.full((len(models), len(tasks)), np.nan)
    for r in rows:
        if not math.isnan(r.accuracy):
            grid[models.index(r.model), tasks.index(r.task)] = 100 * r.accuracy
    fig, ax = fs.figure(plt)
    top = fs.header(fig, takeaway or heatmap_takeaway(models, tasks, grid),
                    "Accuracy (%) of every model on every task; -: no result.")
    im = ax.imshow(grid, cmap="viridis", vmin=0, vmax=100, aspect="auto")
    ax.set_xticks(range(len(tasks)), [fs.label(t, 30) for t in tasks], rotation=20 if len(tasks) > 4 else 0,
                  ha="right" if len(tasks) > 4 else "center")
    ax.set_yticks(range(len(models)), [fs.label(m, 40) for m in models])
    for i in range(len(models)):
        for j in range(len(tasks)):
            v = grid[i, j]
            ax.text(j, i, "-" if np.isnan(v) else f"{v:.0f}", ha="center", va="center", fontsize=fs.TEXT,
                    color="white" if np.isnan(v) or v < 60 else "black")
    fig.colorbar(im, ax=ax, label="accuracy (%)")
    ax.spines[:].set_visible(False)
    fs.lay_out(fig, top, fs.footnote(fig, foot))
    return fig


def file_stem(name: str) -> str:
    """A task name as part of a file name: a tampered run folder must not write outside plots/."""
    import re

    return re.sub(r"[^A-Za-z0-9_-]", "_", name)[:80] or "_"


def figures(plt, merged, rows: list[SummaryRow], overall: list[PooledRow], baselines: dict[str, SummaryRow | None],
            utilisation: float, volume_per_month: float | None = None,
            takeaway: dict[str, str] | None = None) -> Iterator[tuple[str, object]]:
    """(file name without extension, matplotlib Figure) for every figure the rows give, drawn with
    `plt` inside figstyle.style(). The pooled figure and the heatmap need two tasks or more.
    takeaway: a title per task (and OVERALL for the pooled figure) in place of the plain default."""
    said = takeaway or {}
    heat_rows = rows
    rows = [r for r in rows if r.n]  # cells that did not run are in the tables, not on the plots
    if not rows:
        return
    foot = fs.footnote_text(merged, heat_rows)
    basis = Basis(volume_per_month, utilisation)
    tasks = list(dict.fromkeys(r.task for r in rows))
    pooled = table.pooled_title(overall, names=False) if overall and overall[0].tasks > 1 else None
    if pooled:
        yield "accuracy_vs_cost_overall", accuracy_vs_cost(plt, overall, pooled.capitalize(), basis,
                                                           said.get(OVERALL), foot)
    for t in tasks:
        yield f"accuracy_vs_cost_{file_stem(t)}", accuracy_vs_cost(plt, [r for r in rows if r.task == t],
                                                                   t, basis, said.get(t), foot)
    yield "accuracy_vs_latency", accuracy_vs_latency(plt, rows, overall, pooled, None, foot)
    cells = {(c.model, c.task): c for c in merged.cells if any(r.model == c.model and r.task == c.task for r in rows)}
    yield "speed", speed(plt, rows, merged.records, cells, None, foot)
    yield "memory", memory(plt, rows, None, foot)
    for t in tasks:
        yield f"monthly_cost_{file_stem(t)}", monthly_cost(plt, [r for r in rows if r.task == t], baselines.get(t),
                                                           basis, t, said.get(t), foot)
    if len(tasks) > 1:
        yield "accuracy_heatmap", heatmap(plt, heat_rows, None, foot)


def draw_all(merged, rows: list[SummaryRow], overall: list[PooledRow], baselines: dict[str, SummaryRow | None],
             utilisation: float, volume_per_month: float | None = None,
             takeaway: dict[str, str] | None = None) -> dict[str, bytes]:
    """Every figure as {file name: bytes}; baselines maps a task to its API row. Empty when no cell
    has results (every one skipped or failed): there is nothing to draw."""
    out: dict[str, bytes] = {}
    with fs.style() as plt:
        for name, fig in figures(plt, merged, rows, overall, baselines, utilisation, volume_per_month, takeaway):
            fs.to_bytes(plt, fig, name, out)
    return out
