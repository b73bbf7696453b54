"""Confusion-matrix figures of label tasks, one per task and model (slide-shaped, as the report's
other figures): target labels down, answers across, the count in each cell, the shade the share
of the target's examples; at most labels.TOP labels by name, the rest as "(other labels)"."""

from __future__ import annotations

from collections import Counter

from bench.core.types import Record
from bench.report import figstyle as fs
from bench.report import labels, plots

NAME_CHARS = 24  # of a label on an axis
TITLE_NAME_CHARS = 30  # of a task or model name in a title


def short_names(names: list[str], limit: int = NAME_CHARS) -> list[str]:
    """Axis labels: a long name keeps its start and its end ('card_payme...recognised'), since labels
    often share a prefix; names still alike after that get ' #2', ' #3'."""
    out, seen = [], Counter()
    for name in names:
        text = name if len(name) <= limit else name[: (limit - 3) // 2] + "..." + name[-((limit - 3) - (limit - 3) // 2):]
        seen[text] += 1
        out.append(text if seen[text] == 1 else f"{text} #{seen[text]}")
    return [plots.label(t, None) for t in out]


def most_confused(conf: labels.Confusion) -> tuple[str, str, int] | None:
    """(target, answer, count) of the largest cell off the diagonal (the first in reading order on a
    tie); None when every answer is right."""
    cells = [(conf.counts[i][j], t, a) for i, t in enumerate(conf.rows) for j, a in enumerate(conf.cols)
             if t != a and conf.counts[i][j]]
    if not cells:
        return None
    n, target, got = max(cells, key=lambda c: c[0])
    return target, got, n


def title(task: str, model: str, conf: labels.Confusion) -> str:
    name = f"{plots.label(task, TITLE_NAME_CHARS)}, {plots.label(model, TITLE_NAME_CHARS)}"
    head = f"{name}: {100 * conf.correct / conf.n:.0f}% right ({conf.correct:g} of {conf.n})"
    worst = most_confused(conf)
    if worst is None:
        return head
    target, got = short_names([worst[0], worst[1]])
    times = "once" if worst[2] == 1 else f"{worst[2]} times"
    return f"{head}\nmost common mistake: {target} answered as {got} ({times})"


def draw(plt, conf: labels.Confusion, task: str, model: str, foot: str, name: str, out: dict) -> None:
    import numpy as np

    counts = np.array(conf.counts, dtype=float)
    totals = counts.sum(axis=1, keepdims=True)
    share = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    fig, ax = fs.figure(plt)
    ax.imshow(share, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(len(conf.cols)), short_names(conf.cols), rotation=30, ha="right")
    ax.set_yticks(range(len(conf.rows)), short_names(conf.rows))
    for i in range(len(conf.rows)):
        for j in range(len(conf.cols)):
            if counts[i, j]:
                ax.text(j, i, f"{counts[i, j]:.0f}", ha="center", va="center",
                        color="white" if share[i, j] > 0.55 else "black")
    ax.set_xlabel("answer read")
    ax.set_ylabel("target")
    ax.spines[:].set_visible(False)
    head, _, mistake = title(task, model, conf).partition("\n")  # the house style: takeaway, then what is drawn
    top = fs.header(fig, head, (f"{mistake[0].upper()}{mistake[1:]}. " if mistake else "")
                    + "Confusion matrix: targets down, answers read across, each cell's count shaded by its share "
                      "of the target's examples.")
    fs.lay_out(fig, top, fs.footnote(fig, foot))
    fs.to_bytes(plt, fig, name, out)


def figures(merged, tasks: dict[str, list[str]]) -> tuple[dict[str, bytes], dict[tuple[str, str], str]]:
    """{file name: bytes} for every model with records on each label task (task -> its labels), and
    (task, model) -> the figure's name (without .png or .svg)."""
    records: list[Record] = merged.records
    todo = [(t, m) for t in tasks for m in labels.models_of(records, t)]
    out: dict[str, bytes] = {}
    names: dict[tuple[str, str], str] = {}
    if not todo:
        return out, names
    plt = plots._plt()
    foot = fs.footnote_text(merged, [], prices=False)  # counts: no price in them
    for task, model in todo:
        shown = labels.shown_labels(records, task, tasks[task])
        conf = labels.confusion(records, model, task, tasks[task], shown)
        if not conf.n:
            continue
        stem = f"confusion_{plots.file_stem(task)}_{plots.file_stem(model)}"
        name, k = stem, 1
        while f"{name}.png" in out:  # two names that make the same file name
            k += 1
            name = f"{stem}_{k}"
        draw(plt, conf, task, model, foot, name, out)
        names[(task, model)] = name
    return out, names
