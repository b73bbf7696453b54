"""The sweep's figure: throughput (requests/s) against p95 latency, one line per model and task
through its levels (each point labelled with its level), the latency target drawn, and the
capacity at the target starred. A 16:9 slide in the report's style (figstyle.py), its title the
capacity each model reached."""

from __future__ import annotations

import re

from bench.report import figstyle as fs


def takeaway(caps: list[dict], slo_p95_ms: float) -> str:
    """The plain default title: each model's capacity at the target, highest first."""
    met = sorted((c for c in caps if c.get("capacity_requests_per_s") is not None),
                 key=lambda c: -c["capacity_requests_per_s"])
    said = [f"{c['model']} {c['capacity_requests_per_s']:.3g} req/s ({str(c.get('kind') or 'level').replace('_', ' ')} "
            f"{c.get('capacity_level')})" for c in met]
    missed = [c["model"] for c in caps if c.get("capacity_requests_per_s") is None]
    text = f"Capacity at p95 <= {slo_p95_ms:g} ms: " + ("; ".join(said) if said else "no model met the target")
    return text + (f"; not met: {', '.join(missed)}" if said and missed else "")


def _task_figure(plt, task: str, levels: list[dict], caps: dict, slo_p95_ms: float, sweep_id: str):
    fig, ax = fs.figure(plt)
    top = fs.header(fig, takeaway([c for (m, t), c in caps.items() if t == task], slo_p95_ms),
                    f"{task}: throughput against p95 latency, one point per load level (its number: concurrency "
                    f"or batch size); the star: the capacity at the target.")
    levels_drawn = []
    for model in dict.fromkeys(r["model"] for r in levels if r["task"] == task):
        mine = [r for r in levels if r["task"] == task and r["model"] == model]
        xs = [1000 * r["latency_p95_s"] for r in mine]
        ys = [r["requests_per_s"] or 0 for r in mine]
        line, = ax.plot(xs, ys, "o-", label=fs.label(f"{model} ({mine[0]['kind'].replace('_', ' ')})", None))
        levels_drawn += [(x, y, str(r["level"])) for x, y, r in zip(xs, ys, mine)]
        cap = caps.get((model, task))
        if cap and cap.get("capacity_requests_per_s") is not None:
            at = next(r for r in mine if r["level"] == cap["capacity_level"])
            ax.plot([1000 * at["latency_p95_s"]], [at["requests_per_s"]], "*", ms=18, color=line.get_color())
    ax.axvline(slo_p95_ms, color=fs.API, ls="--", lw=1.5, label=f"target: p95 <= {slo_p95_ms:g} ms")
    ax.set_xlabel("p95 request latency (ms)")
    ax.set_ylabel("throughput (requests/s)")
    ax.set_ylim(bottom=0)
    ax.margins(x=0.08, y=0.12)
    legend = ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0, frameon=False)
    fs.lay_out(fig, top, fs.footnote(fig, fs.label(f"Sweep {sweep_id}.", None)))
    fs.place_labels(ax, levels_drawn, [legend.get_window_extent(fig.canvas.get_renderer())], fontsize=fs.NOTE,
                    lines=ax.get_lines())
    return fig


def draw(rows: list[dict], slo_p95_ms: float, sweep_id: str) -> dict[str, bytes]:
    """{'plots/sweep_<task>.png': bytes, ... .svg}, one figure per task (every model on it)."""
    levels = [r for r in rows if r.get("row") == "level" and r.get("latency_p95_s") is not None]
    caps = {(r["model"], r["task"]): r for r in rows if r.get("row") == "capacity"}
    out: dict[str, bytes] = {}
    with fs.style() as plt:
        for task in dict.fromkeys(r["task"] for r in levels):
            fs.to_bytes(plt, _task_figure(plt, task, levels, caps, slo_p95_ms, sweep_id), f"plots/sweep_{_safe(task)}",
                        out)
    return out


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)
