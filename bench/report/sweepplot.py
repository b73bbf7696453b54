"""The sweep's figure: throughput (requests/s) against p95 latency, one line per model and task
through its levels (each point labelled with its level), the latency target drawn, and the
capacity at the target starred."""

from __future__ import annotations

import re

from bench.report.plots import SLIDE, _finish, _plt, label


def draw(rows: list[dict], slo_p95_ms: float, sweep_id: str) -> dict[str, bytes]:
    """{'plots/sweep_<model>_<task>.png': bytes, ... .svg}, one figure per task (every model on it)."""
    levels = [r for r in rows if r.get("row") == "level" and r.get("latency_p95_s") is not None]
    caps = {(r["model"], r["task"]): r for r in rows if r.get("row") == "capacity"}
    out: dict[str, bytes] = {}
    plt = _plt()
    for task in dict.fromkeys(r["task"] for r in levels):
        fig, ax = plt.subplots(figsize=SLIDE)
        for model in dict.fromkeys(r["model"] for r in levels if r["task"] == task):
            mine = [r for r in levels if r["task"] == task and r["model"] == model]
            xs = [1000 * r["latency_p95_s"] for r in mine]
            ys = [r["requests_per_s"] or 0 for r in mine]
            line, = ax.plot(xs, ys, "o-", label=label(f"{model} ({mine[0]['kind'].replace('_', ' ')})"))
            for x, y, r in zip(xs, ys, mine):
                ax.annotate(str(r["level"]), (x, y), textcoords="offset points", xytext=(4, 4), fontsize=9)
            cap = caps.get((model, task))
            if cap and cap.get("capacity_requests_per_s") is not None:
                at = next(r for r in mine if r["level"] == cap["capacity_level"])
                ax.plot([1000 * at["latency_p95_s"]], [at["requests_per_s"]], "*", ms=18, color=line.get_color())
        ax.axvline(slo_p95_ms, color="#d62728", ls="--", lw=1.5, label=f"target: p95 <= {slo_p95_ms:g} ms")
        ax.set_xlabel("p95 request latency (ms)")
        ax.set_ylabel("throughput (requests/s)")
        ax.set_ylim(bottom=0)
        ax.set_title(label(f"Capacity under a latency target: {task}"))
        ax.legend(fontsize=10)
        foot = (f"Sweep {sweep_id}. Each point is one load level (its number: concurrency or batch size); the star is "
                f"the capacity at the target: the highest throughput whose p95 latency meets it.")
        _finish(plt, fig, label(foot, None), f"plots/sweep_{_safe(task)}", out)
    return out


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)
