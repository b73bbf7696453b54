"""Sweeps in the report (`bench report RUN SWEEP`, issue 20 item 6): each sweep's levels table and
capacity in report.html and summary.md, its throughput-against-latency figure in plots/ and
embedded, and beside the costs which capacity each self-hosted cost used. Constructed run and
sweep folders; nothing is run."""

from __future__ import annotations

import base64
import json
import re

import pytest
from e2e.test_e2e import cli
from fakerun import TASK, api_model, local_model, make_run

from bench.report.build import report
from bench.report.sweeps import TITLE, USED_TITLE


def level(model: str, task: str, n: int, rps: float | None, p95_ms: float | None, slo_ms: float,
          errors: int = 0, kind: str = "concurrency") -> dict:
    """One level row as bench.sweep.capacity.level_row writes it."""
    lat = None if p95_ms is None else p95_ms / 1000
    return {"model": model, "task": task, "row": "level", "kind": kind, "level": n, "level_used": n, "requests": 16,
            "errors": errors, "wall_s": 5.0, "requests_per_s": rps, "output_tokens_per_s": None if rps is None else 50 * rps,
            "latency_p50_s": None if lat is None else lat / 2, "latency_p95_s": lat,
            "ttft_p50_s": None if lat is None else lat / 4, "ttft_p95_s": None, "accuracy": 0.75,
            "meets_slo": lat is not None and p95_ms <= slo_ms and not errors}


def capacity_row(model: str, task: str, levels: list[dict], slo_ms: float) -> dict:
    """The capacity row bench sweep writes after a pair's levels."""
    best = max((r for r in levels if r["meets_slo"] and r["requests_per_s"]), key=lambda r: r["requests_per_s"],
               default=None)
    return {"model": model, "task": task, "row": "capacity", "kind": levels[0]["kind"], "slo_p95_ms": slo_ms,
            "capacity_requests_per_s": best and best["requests_per_s"],
            "capacity_output_tokens_per_s": best and best["output_tokens_per_s"],
            "capacity_level": best and best["level"], "levels_measured": len(levels),
            "stopped_because": "p95 latency passed the target", "sweep_s": 12.0, "failed": False}


def make_sweep(folder, measured: dict[tuple[str, str], list[tuple]], slo_ms: float):
    """measured: (model, task) -> [(level, requests/s, p95 ms), ...]; a sweep folder as bench sweep leaves it."""
    folder.mkdir(parents=True)
    rows = []
    for (model, task), points in measured.items():
        levels = [level(model, task, n, rps, p95, slo_ms) for n, rps, p95 in points]
        rows += levels + [capacity_row(model, task, levels, slo_ms)]
    tasks = {t for _, t in measured}
    manifest = {"run_id": folder.name, "kind": "sweep", "title": "Capacity sweep", "models": {},
                "tasks": {t: dict(TASK) for t in tasks}, "sweep": {"slo_p95_ms": slo_ms, "levels": [1, 2, 4]}}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    (folder / "sweep.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return folder


@pytest.fixture
def run(tmp_path):
    return make_run(tmp_path / "run-a", {"big": api_model(1.0, 4.0), "small": local_model()},
                    {("big", "t1"): [1.0] * 18 + [0.0] * 2, ("small", "t1"): [1.0] * 15 + [0.0] * 5})


def quiet(*_, **__):
    pass


def test_report_shows_the_sweep_its_plot_and_the_capacity_each_cost_used(tmp_path, run):
    sweep = make_sweep(tmp_path / "sw-1", {("small", "t1"): [(1, 2.0, 300), (2, 3.2, 600), (4, 3.5, 1200)],
                                           ("ghost", "t1"): [(1, 9.0, 100)]}, 800)
    said = []
    out = report([run, sweep], out=tmp_path / "rep", echo=lambda *a, **k: said.append(" ".join(map(str, a))))
    md = (out / "summary.md").read_text()
    page = (out / "report.html").read_text()
    used = "small x t1: capacity 3.2 req/s from sweep sw-1 at p95 <= 800 ms (concurrency 2)"
    # the cost says which capacity it used, next to the cost table, and in the terminal
    shown = used.replace("<", "&lt;")  # as Markdown and HTML write it
    assert md.index("## Cost") < md.index(f"{USED_TITLE}:\n\n- {shown}") < md.index(f"## {TITLE}")
    assert page.index("id='cost'") < page.index(f"<li>{shown}</li>") < page.index("id='capacity'")
    assert any(used in s for s in said)
    # the sweep: its target, each level (the one past the target marked), the capacity and its use
    assert "### Sweep sw-1: p95 latency target 800 ms" in md
    assert "| small | t1 | concurrency | 2 | 3.2 | 160 | 300 | 600 | 150 | 75.0 | 0 | yes |" in md
    assert "| small | t1 | concurrency | 4 | 3.5 | 175 | 600 | 1,200 | 300 | 75.0 | 0 | no |" in md
    assert ("| small | t1 | concurrency | 3.2 | 160 | 2 | p95 latency passed the target | used for its monthly cost "
            "and break-even |") in md
    assert "| ghost | t1 | concurrency | 9 | 450 | 1 | p95 latency passed the target | not in these runs: shown, not used |" in md
    assert "<h2 id='capacity'>Capacity under a latency target</h2>" in page
    assert "<td>small</td><td>t1</td><td>concurrency</td><td>4</td><td>3.5</td>" in page
    assert "<td>not in these runs: shown, not used</td>" in page
    # the figure: in plots/, linked from summary.md, embedded in report.html inside the section
    png = out / "plots" / "sweep_sw-1_t1.png"
    assert png.is_file() and (out / "plots" / "sweep_sw-1_t1.svg").is_file()
    assert "![plots/sweep_sw-1_t1.png](plots/sweep_sw-1_t1.png)" in md
    embedded = page.index(base64.b64encode(png.read_bytes()).decode())
    assert page.index("id='capacity'") < embedded < page.index("id='plots'")
    # the cost itself used it (summary.csv names the sweep)
    assert "capacity_source" in (out / "summary.csv").read_text().splitlines()[0]
    assert "sweep sw-1: p95 <= 800 ms at concurrency 2" in (out / "summary.csv").read_text()


def test_a_sweep_with_no_capacity_and_a_per_token_model_are_shown_not_used(tmp_path, run):
    sweep = make_sweep(tmp_path / "sw-2", {("small", "t1"): [(1, 2.0, 300), (2, 3.0, 600)],
                                           ("big", "t1"): [(1, 5.0, 50)]}, 100)
    other = make_sweep(tmp_path / "sw-3", {("ghost", "t1"): [(1, 9.0, 100)]}, 500)  # a second sweep of t1
    out = report([run, sweep, other], out=tmp_path / "rep", echo=quiet)
    md = (out / "summary.md").read_text()
    # each sweep its own section and figure: the two figures of task t1 do not overwrite each other
    assert md.index("### Sweep sw-2: p95 latency target 100 ms") < md.index("### Sweep sw-3: p95 latency target 500 ms")
    assert (out / "plots" / "sweep_sw-2_t1.png").is_file() and (out / "plots" / "sweep_sw-3_t1.png").is_file()
    # the run's own throughput priced small: 4 rows per 2.0 s batch = 2 req/s, and the sweep that found none named
    assert ("- small x t1: capacity 2 req/s from this run (batch size 4, one load, machine busy); sweep sw-2 found "
            "no level meeting p95 &lt;= 100 ms") in md
    assert "| small | t1 | concurrency | - | - | - | p95 latency passed the target | no capacity at the target: " \
           "its cost used the run's own throughput |" in md
    assert "| big | t1 | concurrency | 5 | 250 | 1 | p95 latency passed the target | priced per token: shown, not used |" in md
    assert "big x t1: capacity" not in md  # a per-token price has no capacity line


def test_a_level_that_measured_nothing_shows_dashes(tmp_path, run):
    sweep = make_sweep(tmp_path / "sw-3", {("small", "t1"): [(1, 2.0, 300), (2, None, None)]}, 800)
    md = (report([run, sweep], out=tmp_path / "rep", echo=quiet) / "summary.md").read_text()
    assert "| small | t1 | concurrency | 2 | - | - | - | - | - | 75.0 | 0 | no |" in md


def test_a_report_without_a_sweep_has_no_sweep_section(tmp_path, run):
    out = report([run], out=tmp_path / "rep", echo=quiet)
    md, page = (out / "summary.md").read_text(), (out / "report.html").read_text()
    assert f"## {TITLE}" not in md and USED_TITLE not in md
    assert "id='capacity'" not in page and USED_TITLE not in page  # (docs/cost.md, embedded, has a section of that name)
    assert not list((out / "plots").glob("sweep_*"))


def corrupt_level(lines: list[str]) -> list[str]:
    row = json.loads(lines[1])
    row["latency_p95_s"] = "fast"
    return [lines[0], json.dumps(row)] + lines[2:]


def wrong_capacity_level(lines: list[str]) -> list[str]:
    row = json.loads(lines[-1])
    row["capacity_level"] = 64
    return lines[:-1] + [json.dumps(row)]


@pytest.mark.parametrize("change,expected", [
    (corrupt_level, re.escape("sweep.jsonl:2: key 'latency_p95_s' is missing or not a number")),
    (wrong_capacity_level, "small x t1: capacity_level 64 is none of its levels"),
    ("no target", re.escape("manifest.json: key 'sweep.slo_p95_ms' is missing or not a number above 0")),
])
def test_a_corrupted_sweep_is_one_line_exit_2_and_nothing_written(tmp_path, run, change, expected):
    sweep = make_sweep(tmp_path / "sw", {("small", "t1"): [(1, 2.0, 300), (2, 3.2, 600)]}, 800)
    if change == "no target":
        manifest = json.loads((sweep / "manifest.json").read_text())
        del manifest["sweep"]
        (sweep / "manifest.json").write_text(json.dumps(manifest))
        lines = [json.loads(x) for x in (sweep / "sweep.jsonl").read_text().splitlines()]
        (sweep / "sweep.jsonl").write_text("".join(json.dumps({k: v for k, v in r.items() if k != "slo_p95_ms"})
                                                   + "\n" for r in lines))
    else:
        (sweep / "sweep.jsonl").write_text("\n".join(change((sweep / "sweep.jsonl").read_text().splitlines())) + "\n")
    proc = cli("report", str(run), str(sweep), "--out", str(tmp_path / "rep"))
    assert proc.returncode == 2 and re.search(expected, proc.stderr), proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and not (tmp_path / "rep").exists()


def test_recommend_states_the_sweep_capacity_it_sized_by(tmp_path):
    run = make_run(tmp_path / "run-a", {"small": local_model()}, {("small", "t1"): [1.0] * 15 + [0.0] * 5})
    sweep = make_sweep(tmp_path / "sw-1", {("small", "t1"): [(1, 2.0, 300), (2, 3.2, 600)]}, 800)
    proc = cli("recommend", "--task", "t1", str(run), str(sweep))
    assert proc.returncode == 0, proc.stderr
    assert ("  machines sized by 3.2 req/s per machine from sweep sw-1: p95 <= 800 ms at concurrency 2; at capacity "
            "(machine busy) $0.05 per 1k requests") in proc.stdout
    alone = cli("recommend", "--task", "t1", str(run))
    assert alone.returncode == 0 and "sweep" not in alone.stdout  # no sweep: sized by the run's own throughput
