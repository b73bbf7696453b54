"""`bench sweep`: capacity under a latency target. Each model is driven at rising load on a task's
own prompts (concurrency for API and served models and the continuous engine's requests in flight,
batch size for the static engine), and each
level's throughput, latency, TTFT and accuracy go to sweep.jsonl. The sweep stops when p95 latency
passes the target or throughput stops rising; capacity is the highest throughput whose p95 meets it.

What drives a model at one level is bench/sweep/drivers.py."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from bench.backends import registry
from bench.backends.base import Request
from bench.core import measure, stats
from bench.errors import InputError, one_line
from bench.sweep.drivers import LevelResult, SweepFailed, driver_for

SWEEP = "sweep.jsonl"
DEFAULT_LEVELS = (1, 2, 4, 8, 16, 32, 64)
DEFAULT_REQUESTS = 64
PLATEAU_GAIN = 0.05  # a level that adds less than 5% requests/s over the best before it: throughput stopped rising


# ---------------------------------------------------------------- figures and the stopping rule (pure)


def level_requests(requests: list[Request], n: int) -> list[Request]:
    """n requests from the task's prompts in file order, cycled when the task has fewer."""
    return [requests[i % len(requests)] for i in range(n)]


def level_row(level: int, kind: str, result: LevelResult, score: Callable[[str, str], float],
              slo_s: float) -> dict:
    """One level's figures; latency and TTFT over answered requests, throughput over all of them."""
    ok = [c for _, c in result.completions if not c.get("error")]
    lat = [c["latency_s"] for c in ok if c.get("latency_s") is not None]
    ttft = [c["ttft_s"] for c in ok if c.get("ttft_s") is not None]
    tokens = sum(c.get("output_tokens") or 0 for c in ok)
    scores = [score(i, c["text"]) if not c.get("error") else 0.0 for i, c in result.completions]
    wall = result.wall_s
    p95 = stats.percentile(lat, 95) if lat else float("nan")
    return {"row": "level", "kind": kind, "level": level, "level_used": result.level_used or level,
            "requests": len(result.completions), "errors": len(result.completions) - len(ok),
            "wall_s": wall, "requests_per_s": len(ok) / wall if wall else None,
            "output_tokens_per_s": tokens / wall if wall else None,
            "latency_p50_s": stats.percentile(lat, 50) if lat else None, "latency_p95_s": p95 if lat else None,
            "ttft_p50_s": stats.percentile(ttft, 50) if ttft else None,
            "ttft_p95_s": stats.percentile(ttft, 95) if ttft else None,
            "accuracy": sum(scores) / len(scores) if scores else None,
            "meets_slo": bool(lat) and p95 <= slo_s and len(ok) == len(result.completions)}


def stop_reason(rows: list[dict], slo_s: float) -> str | None:
    """Why the sweep stops after its last level, or None to go on."""
    last = rows[-1]
    if last["latency_p95_s"] is None or last["errors"]:
        return f"level {last['level']} had failed requests ({last['errors']} of {last['requests']})"
    if last["latency_p95_s"] > slo_s:
        return f"p95 latency {1000 * last['latency_p95_s']:,.0f} ms passed the target {1000 * slo_s:,.0f} ms"
    best = max((r["requests_per_s"] or 0 for r in rows[:-1]), default=None)
    if best and (last["requests_per_s"] or 0) < best * (1 + PLATEAU_GAIN):
        return (f"throughput stopped rising ({last['requests_per_s']:.3g} req/s at level {last['level']}, "
                f"best before {best:.3g})")
    return None


def capacity(rows: list[dict]) -> dict | None:
    """The level with the highest requests/s among those whose p95 meets the target."""
    meeting = [r for r in rows if r["meets_slo"] and r["requests_per_s"]]
    return max(meeting, key=lambda r: r["requests_per_s"], default=None)


# ---------------------------------------------------------------- the command


@dataclass
class SweepOptions:
    config: Path
    tasks_dir: Path
    out: Path
    models: str | None
    tasks: str | None
    slo_p95_ms: float
    levels: tuple[int, ...] = DEFAULT_LEVELS
    requests: int = DEFAULT_REQUESTS
    limit: int | None = None
    device: str | None = None
    yes: bool = False  # per-token priced API models are swept only with --yes (hundreds of paid requests)


def parse_levels(text: str | None) -> tuple[int, ...]:
    if text is None:
        return DEFAULT_LEVELS
    try:
        levels = tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise InputError(f"--levels {text!r}: give whole numbers separated by commas, like 1,2,4,8") from None
    if not levels or any(v < 1 for v in levels) or list(levels) != sorted(set(levels)):
        raise InputError(f"--levels {text!r}: give rising whole numbers of at least 1, like 1,2,4,8")
    return levels


def check(opts: SweepOptions) -> None:
    if not opts.slo_p95_ms > 0:
        raise InputError(f"--slo-p95-ms {opts.slo_p95_ms:g}: the latency target must be above 0 ms")
    if opts.requests < 1:
        raise InputError(f"--requests {opts.requests}: must be at least 1")


def requests_sent(opts: SweepOptions, tasks: int) -> int:
    """At most this many requests per model: every level of every task (a sweep may stop earlier)."""
    return tasks * sum(max(opts.requests, 2 * level) for level in opts.levels)


def check_paid(opts: SweepOptions, prep, names: list[str]) -> None:
    """A sweep of a per-token priced API model is a bill: say how many requests, and need --yes."""
    from bench.spend.cost import pricing_of

    if opts.yes:
        return
    for name in names:
        spec = prep.models_cfg.models[name]
        pricing = pricing_of(spec, prep.models_cfg.hardware)
        if registry.of(spec).priced == "tokens" and not pricing.hourly:
            raise InputError(f"bench sweep sends up to {requests_sent(opts, len(prep.tasks))} requests to {name}, "
                             f"an API model priced per token; pass --yes to proceed (or --levels/--requests "
                             f"for fewer)")


def execute(opts: SweepOptions, echo: Callable = print) -> tuple[Path | None, int]:
    """Sweep every selected model on every selected task; returns the folder and the exit code."""
    from bench.errors import EXIT_NOTHING_RAN, EXIT_OK, EXIT_PARTIAL
    from bench.execute.options import Options, prepare
    from bench.runfolder import manifest
    from bench.runfolder.store import RunStore

    check(opts)
    run_opts = Options(config=opts.config, tasks_dir=opts.tasks_dir, out=opts.out, models=opts.models,
                       tasks=opts.tasks, limit=opts.limit, device=opts.device, title="Capacity sweep")
    prep = prepare(run_opts)
    names = _runnable(prep, opts, echo)
    if not names:  # said why in grouped lines; no empty folder is left behind
        return None, EXIT_NOTHING_RAN
    check_paid(opts, prep, names)
    store = RunStore.create(opts.out)
    man = manifest.build(store.run_id, run_opts, prep)
    man["kind"] = "sweep"
    man["sweep"] = {"slo_p95_ms": opts.slo_p95_ms, "levels": list(opts.levels), "requests": opts.requests,
                    "plateau_gain": PLATEAU_GAIN}
    store.write_manifest(man)
    echo(f"sweep {store.run_id}: {len(prep.models)} model(s) x {len(prep.tasks)} task(s), p95 target "
         f"{opts.slo_p95_ms:g} ms -> {store.path}", file=sys.stderr)
    outcomes = []
    for name in names:
        spec = prep.models_cfg.models[name]
        for data in prep.tasks:
            outcomes.append(_sweep_one(name, spec, data.task.name, prep.plans[data.task.name], opts, run_opts,
                                       store, man, echo))
    man["finished_utc"] = manifest.utc_now()
    store.write_manifest(man)
    _plot(store.path, opts.slo_p95_ms, echo)
    echo(f"\nsweep folder: {store.path}")
    ok = sum(outcomes)
    return store.path, EXIT_NOTHING_RAN if ok == 0 else EXIT_OK if ok == len(outcomes) else EXIT_PARTIAL


def _runnable(prep, opts: SweepOptions, echo: Callable) -> list[str]:
    """The selected models that can run now (the run's own check: keys, weights, server programs);
    the others, and tasks whose data cannot be had, are said in grouped lines."""
    from bench.prepare import skips
    from bench.prepare.inventory import blockers

    blocked = blockers({n: prep.models_cfg.models[n] for n in prep.models}, opts.config.parent)
    runs = {n: registry.of(prep.models_cfg.models[n]).runs for n in prep.models}
    for line in skips.grouped(blocked, runs, prep.skipped_tasks):
        echo(line, file=sys.stderr)
    names = [n for n in prep.models if n not in blocked]
    if not names or not prep.tasks:
        echo("nothing can be swept now (no sweep folder was made); `python -m bench list` shows what each "
             "model needs", file=sys.stderr)
        return []
    return names


def _sweep_one(name, spec, task, plan, opts, run_opts, store, man, echo) -> bool:
    """One model on one task, level by level; True when it measured at least one level."""
    slo_s = opts.slo_p95_ms / 1000
    t0 = measure.now()
    rows, why = [], None

    def score(example_id: str, text: str) -> float:
        try:
            return float(plan.scorer(text, plan.targets[example_id], **plan.inputs.get(example_id, {})).value)
        except Exception:
            return 0.0

    try:
        driver = driver_for(name, spec, device=opts.device, spec_dir=opts.config.parent, folder=store.path)
    except SweepFailed as e:
        driver, why = None, str(e)
    if driver is not None:
        if getattr(driver, "server_info", None):
            man["models"][name]["server"] = {**driver.server_info, "log": f"servers/{name}.log"}
            store.write_manifest(man)
        try:
            for level in opts.levels:
                reqs = level_requests(plan.requests, max(opts.requests, 2 * level))
                try:
                    result = driver.run_level(level, reqs)
                except SweepFailed as e:
                    why = str(e)
                    break
                row = {"model": name, "task": task, **level_row(level, driver.kind, result, score, slo_s)}
                rows.append(row)
                store.append(SWEEP, [row])
                echo(_level_line(row), file=sys.stderr)
                why = stop_reason(rows, slo_s)
                if why:
                    break
            else:
                why = "every level given was measured"
        finally:
            driver.close()
    best = capacity(rows)
    summary = {"row": "capacity", "model": name, "task": task, "kind": rows[0]["kind"] if rows else None,
               "slo_p95_ms": opts.slo_p95_ms, "capacity_requests_per_s": best["requests_per_s"] if best else None,
               "capacity_output_tokens_per_s": best["output_tokens_per_s"] if best else None,
               "capacity_level": best["level"] if best else None, "levels_measured": len(rows),
               "stopped_because": why, "sweep_s": measure.now() - t0, "failed": not rows}
    store.append(SWEEP, [summary])
    echo(_capacity_line(summary))
    return bool(rows)


def _level_line(r: dict) -> str:
    def ms(v):
        return "-" if v is None else f"{1000 * v:,.0f}"
    return (f"  {r['model']} x {r['task']}: {r['kind']} {r['level']}: {r['requests_per_s'] or 0:.3g} req/s, "
            f"{r['output_tokens_per_s'] or 0:.3g} out tok/s, p50 {ms(r['latency_p50_s'])} ms, "
            f"p95 {ms(r['latency_p95_s'])} ms, ttft p50 {ms(r['ttft_p50_s'])} ms"
            + (f", {r['errors']} failed" if r["errors"] else ""))


def _capacity_line(s: dict) -> str:
    head = f"{s['model']} x {s['task']}: "
    if s["failed"]:
        return head + f"sweep failed: {s['stopped_because']}"
    if s["capacity_requests_per_s"] is None:
        return head + (f"no level met p95 <= {s['slo_p95_ms']:g} ms (stopped: {s['stopped_because']}); "
                       f"sweep took {s['sweep_s']:.1f} s")
    return head + (f"capacity {s['capacity_requests_per_s']:.3g} req/s at p95 <= {s['slo_p95_ms']:g} ms "
                   f"({s['kind']} {s['capacity_level']}); stopped: {s['stopped_because']}; sweep took {s['sweep_s']:.1f} s")


def _plot(folder: Path, slo_p95_ms: float, echo: Callable) -> None:
    from bench.runfolder.store import read_jsonl

    try:
        from bench.report.sweepplot import draw

        files = draw(read_jsonl(folder / SWEEP), slo_p95_ms, folder.name)
    except Exception as e:  # the measurements are on disk; a plot that cannot be drawn must not lose them
        echo(f"warning: the sweep plot could not be made ({one_line(e)})", file=sys.stderr)
        return
    from bench.report.build import write

    write(folder, files)  # through store.guarded: a full disk is a StorageError, no .tmp left
