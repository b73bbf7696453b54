"""The speed figures: accuracy against p95 latency (a panel per task, and a pooled one when there
are several tasks), throughput and time to first token per model with the load each was measured
at, and peak memory per local model."""

from __future__ import annotations

import math

from bench.core import stats
from bench.core.types import Cell, PooledRow, SummaryRow
from bench.report import figstyle as fs


def grid(n: int) -> tuple[int, int]:
    """Rows and columns for n panels on a 16:9 slide: as many columns as rows x 16/9 allows."""
    rows = max(1, round(math.sqrt(n * 9 / 16)))
    return rows, math.ceil(n / rows)


def latency_takeaway(groups: dict[str, list]) -> str:
    """The plain default title: the lowest p95 latency and the most accurate model, on the pooled
    panel when there is one (it is last), else per panel."""
    parts = []
    for scope, rs in list(groups.items())[-1:] if len(groups) > 1 else groups.items():
        timed = [r for r in rs if not math.isnan(r.latency_p95_s)]
        scored = [r for r in rs if not math.isnan(r.accuracy)]
        if timed and scored:
            fast = min(timed, key=lambda r: r.latency_p95_s)
            best = max(scored, key=lambda r: r.accuracy)
            parts.append(f"fastest at p95: {fast.model} ({1000 * fast.latency_p95_s:,.0f} ms); most accurate: "
                         f"{best.model} ({100 * best.accuracy:.0f}%)" + (f", {scope}" if len(groups) > 1 else ""))
    return ("; ".join(parts) or "No model has both an accuracy and a latency").capitalize()


def accuracy_vs_latency(plt, rows: list[SummaryRow], overall: list[PooledRow], pooled: str | None,
                        takeaway: str | None, foot: str):
    """One panel per task (and the pooled one, named `pooled`, when given), on a 16:9 grid."""
    groups: dict[str, list] = {t: [r for r in rows if r.task == t] for t in dict.fromkeys(r.task for r in rows)}
    if pooled and overall:
        groups[pooled] = overall
    nrows, ncols = grid(len(groups))
    fig, axes = fs.figure(plt, nrows, ncols, squeeze=False)
    top = fs.header(fig, takeaway or latency_takeaway(groups),
                    "Accuracy (bars: 95% interval) against p95 request latency. Blue: local / self-hosted "
                    "(a batched request's latency is its batch's); red: API.")
    placements = []
    for ax, (scope, rs) in zip(axes.flat, groups.items()):
        pts, bars = [], []
        for r in rs:
            if math.isnan(r.accuracy) or math.isnan(r.latency_p95_s):
                continue
            x, y = 1000 * r.latency_p95_s, 100 * r.accuracy
            ax.errorbar([x], [y], yerr=fs.error_bars([(y, 100 * r.ci_low, 100 * r.ci_high)]), fmt="o", capsize=3,
                        color=fs.LOCAL if r.pricing.hourly else fs.API, ms=7)
            pts.append((x, y, fs.wrap(fs.label(r.model, None), 24, hyphens=True)))
            bars += fs.span_samples(x, 100 * r.ci_low, 100 * r.ci_high)
        if len(groups) > 1:
            ax.set_title(fs.label(scope, 50))
        fs.log(ax)
        if pts:
            fs.log_xlim(ax, min(p[0] for p in pts) / 2, max(p[0] for p in pts) * 2)
        ax.set_ylim(-5, 108)
        ax.grid(True, alpha=0.3)
        placements.append((ax, pts, bars))
    for ax in list(axes.flat)[len(groups):]:
        ax.axis("off")
    for i, ax in enumerate(list(axes.flat)[:len(groups)]):  # the axes' names once: bottom row, left column
        if i + ncols >= len(groups):
            ax.set_xlabel("p95 latency per request (ms, log scale)")
        if i % ncols == 0:
            ax.set_ylabel("accuracy (%)")
    fs.lay_out(fig, top, fs.footnote(fig, foot))
    for ax, pts, bars in placements:
        fs.place_labels(ax, pts, avoid=bars)
    return fig


def load_text(cells: list[Cell]) -> str:
    """The load a model's figures were measured at, as its cells ran: a static engine's batch,
    a continuous engine's requests in flight, an API or served model's concurrency."""
    seen = []
    for c in cells:
        if c.concurrency:
            seen.append(f"concurrency {c.concurrency}")
        elif c.engine == "continuous" and c.batch_size:
            seen.append(f"{c.batch_size} in flight (continuous)")
        elif c.batch_size:
            size = c.batch_size_used or c.batch_size
            seen.append(f"static batch of {size}" if c.engine == "static" else f"batch of {size}")
    loads = list(dict.fromkeys(seen))
    return " / ".join(loads) if loads else "load not recorded"


def _spread(values: list[float]) -> tuple[float, float, float]:
    return stats.percentile(values, 50), stats.percentile(values, 10), stats.percentile(values, 90)


def _bars(ax, spans: list[tuple[float, float, float]], colors: list[str], xlabel: str, title: str) -> None:
    """One horizontal bar per model at its (value, low, high) span's value, the span as an error bar."""
    ax.barh(range(len(spans)), [t[0] for t in spans], xerr=fs.error_bars(spans), color=colors, capsize=4, alpha=0.85)
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    ax.grid(True, axis="x", alpha=0.3)


def speed(plt, rows: list[SummaryRow], records: list, cells: dict[tuple[str, str], Cell], takeaway: str | None,
          foot: str):
    """Throughput and TTFT per model, each model's load under its name."""
    models = list(dict.fromkeys(r.model for r in rows))
    tps, ttft, loads = [], [], []
    for m in models:
        vals = [r.output_tokens_per_s for r in rows if r.model == m and r.output_tokens_per_s is not None]
        tps.append((stats.percentile(vals, 50), min(vals), max(vals)) if vals else (0.0, 0.0, 0.0))
        times = [1000 * x.ttft_s for x in records if x.model == m and x.ttft_s is not None]
        ttft.append(_spread(times) if times else (0.0, 0.0, 0.0))
        loads.append(load_text([c for (model, _), c in cells.items() if model == m]))
    if takeaway is None:
        fast = max(range(len(models)), key=lambda i: tps[i][0])
        first = min((i for i in range(len(models)) if ttft[i][0] > 0), key=lambda i: ttft[i][0], default=None)
        takeaway = (f"Highest throughput: {models[fast]} ({tps[fast][0]:,.0f} tokens/s at {loads[fast]})"
                    + (f"; first token soonest: {models[first]} ({ttft[first][0]:,.0f} ms median)"
                       if first is not None else ""))
    fig, (a1, a2) = fs.figure(plt, 1, 2, sharey=True)
    top = fs.header(fig, takeaway, "Each model at the load it was measured at (under its name): throughput grows "
                    "with batch size and concurrency, so bars at different loads are not like for like. "
                    "Blue: local / self-hosted; red: API.")
    colors = [fs.LOCAL if next(r for r in rows if r.model == m).pricing.hourly else fs.API for m in models]
    _bars(a1, tps, colors, "output tokens/s per cell\n(median of tasks; bars: min-max)", "Throughput")
    _bars(a2, ttft, colors, "time to first token (ms)\n(median of requests; bars: p10-p90)", "Time to first token")
    a1.set_yticks(range(len(models)), [f"{fs.label(m, 40)}\n{load}" for m, load in zip(models, loads)])
    a1.invert_yaxis()
    fs.lay_out(fig, top, fs.footnote(fig, foot))
    return fig


MEMORY = [("peak_rss_bytes", "worker peak RSS"), ("torch_allocated_peak_bytes", "torch allocated peak"),
          ("nvml_used_peak_bytes", "GPU memory used peak (NVML)"), ("weights_bytes", "weights")]


def memory(plt, rows: list[SummaryRow], takeaway: str | None, foot: str):
    """Each local model's memory meters, the largest over its cells, in MiB."""
    local = [r for r in rows if r.peak_rss_bytes is not None or r.weights_bytes is not None]
    models = list(dict.fromkeys(r.model for r in local))
    meters = [(k, name) for k, name in MEMORY if any(getattr(r, k) is not None for r in local)]
    peaks = {m: max((getattr(r, k) or 0 for r in local if r.model == m for k, _ in meters), default=0) for m in models}
    if takeaway is None and models:
        top, low = max(peaks.values()), min(peaks.values())
        takeaway = (f"Largest peak: {', '.join(m for m in models if peaks[m] == top)} ({top / 2**20:,.0f} MiB)"
                    + (f"; smallest: {', '.join(m for m in models if peaks[m] == low)} ({low / 2**20:,.0f} MiB)"
                       if low != top else ""))
    fig, ax = fs.figure(plt)
    top = fs.header(fig, takeaway or "No local model in these runs: no memory measured",
                    "Peak memory per local model, the largest over its cells (MiB); API models are not measured.")
    h = 0.8 / max(1, len(meters))
    for i, (key, name) in enumerate(meters):
        vals = []
        for m in models:
            got = [getattr(r, key) for r in local if r.model == m and getattr(r, key) is not None]
            vals.append(max(got) / 2**20 if got else 0.0)
        bars = ax.barh([j + i * h for j in range(len(models))], vals, height=h, label=name)
        ax.bar_label(bars, fmt="%.0f", padding=3, fontsize=fs.NOTE)
    ax.set_yticks([j + h * (len(meters) - 1) / 2 for j in range(len(models))], [fs.label(m, 40) for m in models])
    ax.invert_yaxis()
    ax.margins(x=0.12)
    ax.set_xlabel("MiB (the largest over the model's cells)")
    if meters:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0, frameon=False)
    ax.grid(True, axis="x", alpha=0.3)
    fs.lay_out(fig, top, fs.footnote(fig, foot))
    return fig
