"""The report's figures, drawn with matplotlib's Agg backend into memory (PNG and SVG bytes), so a
report that fails half-way writes nothing. Each figure: a title, axes with units, model names on
the points, and a footnote with the runs, the hardware and the price dates."""

from __future__ import annotations

import io
import math
import textwrap

from bench.core import stats
from bench.core.types import PooledRow, SummaryRow
from bench.report import table
from bench.spend import cost

SLIDE = (11, 6.2)  # inches; 1650 x 930 px at the PNG's 150 dpi
DPI = 150


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 12, "axes.titlesize": 15, "axes.labelsize": 13, "svg.fonttype": "path",
                         "axes.spines.top": False, "axes.spines.right": False, "text.usetex": False})
    return plt


def label(name: str, limit: int | None = 60) -> str:
    """Data text made inert for matplotlib ('$' would start mathtext) and kept short."""
    text = str(name).replace("\\", "\\\\").replace("$", r"\$")
    return text if limit is None or len(text) <= limit else text[: limit - 3] + "..."


def footnote_text(merged, rows: list[SummaryRow]) -> str:
    runs = []
    for m, f in zip(merged.manifests, merged.folders):
        env = m.get("environment") or {}
        gpus = ", ".join(g.get("name", "?") for g in env.get("gpus") or [])
        machine = gpus or f"{env.get('cpu') or 'CPU'} ({env.get('cpu_count') or '?'} cores)"
        runs.append(f"{m.get('run_id', f.name)} on {machine}")
    dates = sorted({r.pricing.prices_as_of for r in rows if r.pricing.prices_as_of})
    hourly = sorted({f"{r.pricing.hardware} ${r.pricing.usd_per_hour:g}/h" for r in rows
                     if r.pricing.hourly and r.pricing.usd_per_hour is not None})
    text = (f"Runs: {'; '.join(runs)}. Prices as of: {', '.join(dates) or 'not dated'}"
            + (f"; machines: {', '.join(hourly)}" if hourly else "") + ".")
    return label(text, None)


def _finish(plt, fig, foot: str, name: str, out: dict, tight: bool = True) -> None:
    """Footnote, layout (figures whose labels were placed keep the margins they were placed in)
    and both formats."""
    fig.text(0.01, 0.005, "\n".join(textwrap.wrap(foot, 165)[:3]), fontsize=8, color="#444", va="bottom")
    if tight:
        fig.tight_layout(rect=(0, 0.06, 1, 1))
    for fmt in ("png", "svg"):
        buf = io.BytesIO()
        fig.savefig(buf, format=fmt, dpi=DPI)
        out[f"{name}.{fmt}"] = buf.getvalue()
    plt.close(fig)


def _place_labels(ax, points: list[tuple[float, float, str]]) -> None:
    """Names beside points, each moved to the first of a few offsets where it overlaps no label
    already placed and no other point (greedy; good enough for a dozen models)."""
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    taken = []
    marks = [ax.transData.transform((x, y)) for x, y, _ in points]
    offsets = [(8, 6, "left"), (8, -16, "left"), (-8, 6, "right"), (-8, -16, "right"), (8, 20, "left"),
               (-8, 20, "right"), (8, -30, "left"), (-8, -30, "right"), (8, 34, "left"), (8, -44, "left")]
    for x, y, text in sorted(points, key=lambda p: (-p[1], p[0])):
        best = None
        for dx, dy, ha in offsets:
            t = ax.annotate(label(text), (x, y), xytext=(dx, dy), textcoords="offset points", ha=ha, fontsize=11)
            box = t.get_window_extent(renderer).expanded(1.15, 1.3)
            area = ax.bbox
            inside = area.x0 <= box.x0 and box.x1 <= area.x1 and area.y0 <= box.y0 and box.y1 <= area.y1
            hits = any(box.overlaps(b) for b in taken) or any(box.contains(*m) for m in marks)
            if not hits and inside:
                best = (t, box)
                break
            t.remove()
        if best is None:  # every spot is crowded: the first offset, drawn with an arrow
            t = ax.annotate(label(text), (x, y), xytext=(14, 14), textcoords="offset points", fontsize=11,
                            arrowprops={"arrowstyle": "-", "color": "#888", "lw": 0.8})
            best = (t, t.get_window_extent(renderer))
        taken.append(best[1])


def error_bars(spans: list[tuple[float, float, float]]) -> list[list[float]]:
    """matplotlib's [[below, ...], [above, ...]] for (value, low, high) triples. Each distance is
    clamped at 0 and a missing or infinite bound draws no bar, so no interval (rounding noise, a bound
    on the wrong side of its value, nan) can stop a figure: matplotlib refuses a negative length."""

    def gap(d: float) -> float:
        return d if math.isfinite(d) and d > 0 else 0.0

    return [[gap(v - lo) for v, lo, _ in spans], [gap(hi - v) for v, _, hi in spans]]


def _accuracy_span(r: dict) -> tuple[float, float, float]:
    """A row's accuracy and its interval, in percent."""
    return 100 * r.accuracy, 100 * r.ci_low, 100 * r.ci_high


def _log(ax, which: str = "x") -> None:
    """A log axis whose minor ticks carry no text (laying them out is most of a figure's time)."""
    from matplotlib.ticker import NullFormatter

    for name in which:
        getattr(ax, f"set_{name}scale")("log")
        getattr(ax, f"{name}axis").set_minor_formatter(NullFormatter())


def _log_xlim(ax, low: float, high: float) -> None:
    """Limits of a log x axis. One that spans fewer than two powers of ten would show one number or
    none, so it is labelled at 1, 2 and 5 x 10^k, as plain numbers."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    ax.set_xlim(low, high)
    first, last = math.floor(math.log10(low)), math.ceil(math.log10(high))
    if math.floor(math.log10(high)) - math.ceil(math.log10(low)) >= 1:
        return
    ticks = [m * 10.0**k for k in range(first, last + 1) for m in (1, 2, 5) if low <= m * 10.0**k <= high]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_locator(NullLocator())


def pareto(points: list[tuple[float, float, str]]) -> list[tuple[float, float, str]]:
    """Points no other point beats on both cost (lower) and accuracy (higher), by cost."""
    front, best = [], -math.inf
    for x, y, name in sorted(points, key=lambda p: (p[0], -p[1])):
        if y > best:
            front.append((x, y, name))
            best = y
    return front


def accuracy_vs_cost(plt, rows: list[SummaryRow] | list[PooledRow], title: str, foot: str, name: str,
                     out: dict) -> None:
    priced = [r for r in rows if r.usd_per_1k_requests is not None and not math.isnan(r.accuracy)]
    unpriced = [r.model for r in rows if r not in priced]
    fig, ax = plt.subplots(figsize=SLIDE)
    positive = [r.usd_per_1k_requests for r in priced if r.usd_per_1k_requests > 0]
    floor = (min(positive) / 10) if positive else 1e-3
    pts = []
    for r in priced:
        x = r.usd_per_1k_requests if r.usd_per_1k_requests > 0 else floor
        y = 100 * r.accuracy
        hourly = r.pricing.hourly
        ax.errorbar([x], [y], yerr=error_bars([_accuracy_span(r)]), fmt="s" if hourly else "o", ms=9, capsize=4, lw=1.5,
                    color="#1f77b4" if hourly else "#d62728", mfc="white" if r.usd_per_1k_requests == 0 else None)
        pts.append((x, y, r.model + (" ($0)" if r.usd_per_1k_requests == 0 else "")))
    front = pareto(pts)
    if len(front) > 1:
        xs, ys = [p[0] for p in front], [p[1] for p in front]
        ax.step(xs, ys, where="post", color="#2ca02c", lw=2, alpha=0.7, label="Pareto frontier")
    _log(ax)
    if pts:
        lo, hi = min(p[0] for p in pts), max(p[0] for p in pts)
        _log_xlim(ax, lo / 3, hi * 3)
    ax.set_ylim(-5, 108)
    ax.set_xlabel("cost per 1,000 requests (USD, log scale)")
    ax.set_ylabel("accuracy (%), bars: 95% interval")
    ax.set_title(title, pad=34)
    ax.plot([], [], "s", color="#1f77b4", label="local / self-hosted (machine time)")
    ax.plot([], [], "o", color="#d62728", label="API (tokens)")
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3, fontsize=10, frameon=False)
    ax.grid(True, which="major", alpha=0.3)
    fig.subplots_adjust(left=0.08, right=0.98, top=0.84, bottom=0.17)
    if pts:
        _place_labels(ax, pts)
    note = f" Not shown (no price): {', '.join(unpriced)}." if unpriced else ""
    _finish(plt, fig, foot + label(note, None), name, out, tight=False)


def accuracy_vs_latency(plt, rows: list[SummaryRow], overall: list[PooledRow], foot: str, out: dict) -> None:
    groups = {t: [r for r in rows if r.task == t] for t in dict.fromkeys(r.task for r in rows)}
    if overall:
        groups[table.pooled_title(overall, names=False)] = overall
    n = len(groups)
    cols = min(n, 2)
    nrows = math.ceil(n / cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(SLIDE[0], max(SLIDE[1], 4.2 * nrows)), squeeze=False)
    fig.subplots_adjust(left=0.08, right=0.98, top=1 - 1.2 / fig.get_figheight(), bottom=1.2 / fig.get_figheight(),
                        hspace=0.5, wspace=0.25)
    placements = []
    for ax, (task, rs) in zip(axes.flat, groups.items()):
        pts = []
        for r in rs:
            if math.isnan(r.accuracy) or math.isnan(r.latency_p95_s):
                continue
            x, y = 1000 * r.latency_p95_s, 100 * r.accuracy
            ax.errorbar([x], [y], yerr=error_bars([_accuracy_span(r)]), fmt="o", capsize=3,
                        color="#1f77b4" if r.pricing.hourly else "#d62728", ms=7)
            pts.append((x, y, r.model))
        ax.set_title(label(task), fontsize=13)
        _log(ax)
        if pts:
            _log_xlim(ax, min(p[0] for p in pts) / 2, max(p[0] for p in pts) * 2)
        ax.set_ylim(-5, 108)
        ax.set_xlabel("p95 latency per request (ms, log scale)")
        ax.set_ylabel("accuracy (%)")
        ax.grid(True, alpha=0.3)
        placements.append((ax, pts))
    for ax, pts in placements:
        _place_labels(ax, pts)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    fig.suptitle("Accuracy vs p95 latency (blue: local/self-hosted, the latency of the request's batch; red: API)",
                 fontsize=14)
    _finish(plt, fig, foot, "accuracy_vs_latency", out, tight=False)


def _spread(values: list[float]) -> tuple[float, float, float]:
    return stats.percentile(values, 50), stats.percentile(values, 10), stats.percentile(values, 90)


def _bar_panel(ax, models: list[str], spans: list[tuple[float, float, float]], colors: list[str], xlabel: str,
               title: str) -> None:
    """One horizontal bar per model at its (value, low, high) span's value, the span as an error bar."""
    y = range(len(models))
    ax.barh(y, [t[0] for t in spans], xerr=error_bars(spans), color=colors, capsize=4, alpha=0.85)
    ax.set_yticks(list(y), [label(m) for m in models])
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    ax.grid(True, axis="x", alpha=0.3)


def speed(plt, rows: list[SummaryRow], records: list, foot: str, out: dict) -> None:
    models = list(dict.fromkeys(r.model for r in rows))
    fig, (a1, a2) = plt.subplots(1, 2, figsize=SLIDE)
    tps = []
    for m in models:
        vals = [r.output_tokens_per_s for r in rows if r.model == m and r.output_tokens_per_s is not None]
        tps.append((stats.percentile(vals, 50), min(vals), max(vals)) if vals else (0.0, 0.0, 0.0))
    colors = ["#1f77b4" if next(r for r in rows if r.model == m).pricing.hourly else "#d62728" for m in models]
    _bar_panel(a1, models, tps, colors, "output tokens/s per cell (median of tasks;\nbars: min-max across tasks)",
               "Throughput")
    ttft = []
    for m in models:
        vals = [1000 * x.ttft_s for x in records if x.model == m and x.ttft_s is not None]
        ttft.append(_spread(vals) if vals else (0.0, 0.0, 0.0))
    _bar_panel(a2, models, ttft, colors, "time to first token (ms; median of requests,\nbars: p10-p90)", "TTFT")
    fig.suptitle("Speed per model (blue: local/self-hosted, red: API)", fontsize=15)
    _finish(plt, fig, foot, "speed", out)


MEMORY = [("peak_rss_bytes", "worker peak RSS"), ("torch_allocated_peak_bytes", "torch allocated peak"),
          ("nvml_used_peak_bytes", "GPU memory used peak (NVML)"), ("weights_bytes", "weights")]


def memory(plt, rows: list[SummaryRow], foot: str, out: dict) -> None:
    local = [r for r in rows if r.peak_rss_bytes is not None or r.weights_bytes is not None]
    models = list(dict.fromkeys(r.model for r in local))
    meters = [(k, name) for k, name in MEMORY if any(getattr(r, k) is not None for r in local)]
    fig, ax = plt.subplots(figsize=SLIDE)
    h = 0.8 / max(1, len(meters))
    for i, (key, name) in enumerate(meters):
        vals = []
        for m in models:
            got = [getattr(r, key) for r in local if r.model == m and getattr(r, key) is not None]
            vals.append(max(got) / 2**20 if got else 0.0)
        bars = ax.barh([j + i * h for j in range(len(models))], vals, height=h, label=name)
        ax.bar_label(bars, fmt="%.0f", padding=3, fontsize=9)
    ax.set_yticks([j + h * (len(meters) - 1) / 2 for j in range(len(models))], [label(m) for m in models])
    ax.invert_yaxis()
    ax.set_xlabel("MiB (the largest over the model's cells)")
    ax.set_title("Peak memory per local model" if models else "Peak memory: no local model in these runs")
    if meters:
        ax.legend(loc="lower right", fontsize=10)
    ax.grid(True, axis="x", alpha=0.3)
    _finish(plt, fig, foot, "memory", out)


def monthly_cost(plt, rows: list[SummaryRow], baseline: SummaryRow | None, utilisation: float, title: str, foot: str,
                 name: str, out: dict) -> None:
    """API cost lines against self-hosted steps; the break-even against the baseline marked."""
    import numpy as np

    volumes = np.logspace(3, 9, 600)
    fig, ax = plt.subplots(figsize=SLIDE)
    drawn, free, marks = [], [], 0
    for r in rows:
        c, p = r.cost, r.pricing
        if c.usd_per_request is None:
            continue
        if not p.hourly:
            ys = volumes * c.usd_per_request
            if c.usd_per_request > 0:
                ax.plot(volumes, ys, lw=2, color="#d62728" if r is baseline else None,
                        label=label(f"{r.model} (API, ${1000 * c.usd_per_request:.3g}/1k)"))
                drawn.append(r)
            else:
                free.append(r.model)
        elif r.requests_per_s and p.usd_per_hour:
            rps = r.requests_per_s  # a sweep's capacity at its latency target when there is one
            ys = [cost.self_hosted_monthly_usd(v, p.usd_per_hour, rps, utilisation) for v in volumes]
            source = "sweep capacity" if (r.capacity_source or "").startswith("sweep") else "run throughput"
            ax.step(volumes, ys, where="post", lw=2, ls="--",
                    label=label(f"{r.model} ({p.hardware} ${p.usd_per_hour:g}/h, "
                                f"{rps * utilisation:.3g} req/s per box at {utilisation:.0%}, {source})"))
            drawn.append(r)
            if baseline is not None and r.break_even_requests_per_month is not None:
                v = r.break_even_requests_per_month
                if 1e3 <= v <= 1e9:
                    yv = cost.self_hosted_monthly_usd(v, p.usd_per_hour, rps, utilisation)
                    ax.plot([v], [yv], "k*", ms=14, zorder=5)
                    # staggered: several models often break even at the same volume (one machine each)
                    ax.annotate(label(f"break-even {r.model}\nvs {baseline.model}: {v:,.0f}/month"), (v, yv),
                                xytext=(12, -34 - 36 * marks), textcoords="offset points", fontsize=10,
                                arrowprops={"arrowstyle": "-", "color": "#555"})
                    marks += 1
        elif p.hourly and p.usd_per_hour == 0:
            free.append(r.model)
    _log(ax, "xy")
    ax.set_xlabel("requests per month (log scale)")
    ax.set_ylabel("cost per month (USD, log scale)")
    ax.set_title(title)
    ax.grid(True, which="major", alpha=0.3)
    if drawn:
        ax.legend(loc="upper left", fontsize=9)
    note = (f" Self-hosted: whole machines at {utilisation:.0%} utilisation, each usd_per_hour x 730 h."
            + (f" Free, not drawn: {', '.join(free)}." if free else ""))
    fig.subplots_adjust(left=0.08, right=0.98, top=0.92, bottom=0.17)
    _finish(plt, fig, foot + label(note, None), name, out, tight=False)


def heatmap(plt, rows: list[SummaryRow], foot: str, out: dict) -> None:
    models = list(dict.fromkeys(r.model for r in rows))
    tasks = list(dict.fromkeys(r.task for r in rows))
    import numpy as np

    grid = np.full((len(models), len(tasks)), np.nan)
    for r in rows:
        if not math.isnan(r.accuracy):
            grid[models.index(r.model), tasks.index(r.task)] = 100 * r.accuracy
    fig, ax = plt.subplots(figsize=(max(7.0, 2.2 * len(tasks) + 4), max(4.0, 0.6 * len(models) + 2.5)))
    im = ax.imshow(grid, cmap="viridis", vmin=0, vmax=100, aspect="auto")
    ax.set_xticks(range(len(tasks)), [label(t) for t in tasks], rotation=20, ha="right")
    ax.set_yticks(range(len(models)), [label(m) for m in models])
    for i in range(len(models)):
        for j in range(len(tasks)):
            v = grid[i, j]
            ax.text(j, i, "-" if np.isnan(v) else f"{v:.0f}", ha="center", va="center", fontsize=12,
                    color="white" if np.isnan(v) or v < 60 else "black")
    fig.colorbar(im, ax=ax, label="accuracy (%)")
    ax.set_title("Accuracy per task (%)")
    ax.spines[:].set_visible(False)
    _finish(plt, fig, foot, "accuracy_heatmap", out)


def file_stem(name: str) -> str:
    """A task name as part of a file name: a tampered run folder must not write outside plots/."""
    import re

    return re.sub(r"[^A-Za-z0-9_-]", "_", name)[:80] or "_"


def draw_all(merged, rows: list[SummaryRow], overall: list[PooledRow], baselines: dict[str, SummaryRow | None],
             utilisation: float) -> dict[str, bytes]:
    """Every figure as {file name: bytes}; baselines maps a task (and 'overall') to its API row.
    Empty when no cell has results (every one skipped or failed): there is nothing to draw."""
    heat_rows = rows
    rows = [r for r in rows if r.n]  # cells that did not run are in the tables, not on the plots
    if not rows:
        return {}
    plt = _plt()
    foot = footnote_text(merged, heat_rows)
    out: dict[str, bytes] = {}
    tasks = list(dict.fromkeys(r.task for r in rows))
    if overall:
        accuracy_vs_cost(plt, overall, f"Accuracy vs cost, {table.pooled_title(overall, names=False)}", foot, "accuracy_vs_cost_overall", out)
    for t in tasks:
        accuracy_vs_cost(plt, [r for r in rows if r.task == t], f"Accuracy vs cost: {label(t)}", foot,
                         f"accuracy_vs_cost_{file_stem(t)}", out)
    accuracy_vs_latency(plt, rows, overall, foot, out)
    speed(plt, rows, merged.records, foot, out)
    memory(plt, rows, foot, out)
    for t in tasks:
        monthly_cost(plt, [r for r in rows if r.task == t], baselines.get(t), utilisation,
                     f"Monthly cost vs monthly volume: {label(t)}", foot, f"monthly_cost_{file_stem(t)}", out)
    heatmap(plt, heat_rows, foot, out)
    return out
