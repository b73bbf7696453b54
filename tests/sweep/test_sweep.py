"""bench sweep: the stopping rule and capacity (pure), bad flags, a sweep of a served model (a
stand-in server) and of the static engine (a tiny model), and the report and recommend using the
measured capacity for monthly cost and break-even, saying so."""

from __future__ import annotations

import csv
import json
import sys

import pytest
from conftest import TASKS, write_models_toml
from e2e.test_e2e import cli
from fakeapi import FakeAPI
from serve.test_served import FAKE, jsonl, port_free

from bench.errors import InputError
from bench.spend import cost
from bench.sweep.capacity import capacity, parse_levels, stop_reason


def level(n: int, rps: float, p95_ms: float, errors: int = 0) -> dict:
    return {"level": n, "requests_per_s": rps, "latency_p95_s": p95_ms / 1000, "errors": errors, "requests": 16,
            "meets_slo": p95_ms <= 1000 and not errors}


def test_stops_when_p95_passes_the_target_and_capacity_is_the_best_level_meeting_it():
    rows = [level(1, 10, 300), level(2, 19, 600)]
    assert stop_reason(rows, 1.0) is None
    rows.append(level(4, 30, 1400))
    assert stop_reason(rows, 1.0) == "p95 latency 1,400 ms passed the target 1,000 ms"
    assert capacity(rows)["level"] == 2  # 30 req/s is faster but misses the target


def test_stops_when_throughput_stops_rising():
    rows = [level(1, 10, 100), level(2, 20, 150), level(4, 20.5, 300)]
    assert stop_reason(rows, 1.0).startswith("throughput stopped rising (20.5 req/s at level 4, best before 20")
    assert capacity(rows)["level"] == 4
    assert stop_reason([level(1, 10, 100), level(2, 12, 150)], 1.0) is None  # +20%: still rising


def test_failed_requests_stop_the_sweep_and_no_level_may_meet_the_target():
    rows = [level(1, 10, 1500)]
    assert capacity(rows) is None
    assert "failed requests (2 of 16)" in stop_reason([level(1, 10, 100, errors=2)], 1.0)


@pytest.mark.parametrize("text", ["4,2", "0,1", "1,x", ",", "2,2"])
def test_bad_levels(text):
    with pytest.raises(InputError, match="--levels"):
        parse_levels(text)


@pytest.mark.parametrize("flags,expected", [
    (["--slo-p95-ms", "0"], "--slo-p95-ms 0: the latency target must be above 0 ms"),
    (["--slo-p95-ms", "500", "--levels", "8,4"], "--levels '8,4': give rising whole numbers"),
    (["--slo-p95-ms", "500", "--requests", "0"], "--requests 0: must be at least 1"),
    (["--slo-p95-ms", "500", "--models", "nope"], "--models: unknown model 'nope'"),
])
def test_bad_flags_are_one_line_and_exit_2(tmp_path, tiny_models, flags, expected):
    config = write_models_toml(tmp_path / "models.toml", {"tiny-chat": tiny_models["tiny-chat"]})
    proc = cli("sweep", "--config", str(config), "--tasks-dir", str(TASKS), "--tasks", "ticket_routing",
               "--out", str(tmp_path / "res"), *flags)
    assert proc.returncode == 2 and expected in proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and not (tmp_path / "res").exists()


def served_models(tmp_path, api: FakeAPI | None = None, ttft_s: float = 0.02) -> str:
    command = f"{sys.executable} {FAKE} --port {{port}} --model {{model}} --ttft-s {ttft_s}"
    text = ('[hardware.box]\nusd_per_hour = 2.0\n\n[models.srv]\nbackend = "served"\nserver = "command"\n'
            f'model = "fake-model"\ncommand = {json.dumps(command)}\nmetrics_path = "/metrics"\nhardware = "box"\n'
            "concurrency = 2\n")
    if api is not None:
        text += (f'\n[models.api]\nbackend = "openai"\nmodel = "gpt-fake"\nbase_url = "{api.base_url}"\n'
                 'api_key_env = "SWEEP_KEY"\nusd_per_mtok_in = 100.0\nusd_per_mtok_out = 400.0\n'
                 'prices_as_of = "2026-11-01"\n')
    path = tmp_path / "models.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def sweep(tmp_path, config: str, *flags: str, models: str = "srv"):
    proc = cli("sweep", "--config", config, "--tasks-dir", str(TASKS), "--tasks", "ticket_routing", "--models",
               models, "--out", str(tmp_path / "sweeps"), *flags)
    (folder,) = (tmp_path / "sweeps").iterdir()
    return proc, folder


def test_sweep_of_a_served_model_feeds_report_and_recommend(tmp_path):
    from fakeserver import right_queue

    with FakeAPI(ttft_s=0.01, reply=right_queue) as api:
        config = served_models(tmp_path, api)
        run = cli("--config", config, "--tasks-dir", str(TASKS), "--tasks", "ticket_routing", "--limit", "8",
                  "--out", str(tmp_path / "runs"), SWEEP_KEY="k")
    assert run.returncode == 0, run.stderr
    (run_folder,) = (tmp_path / "runs").iterdir()
    proc, folder = sweep(tmp_path, config, "--slo-p95-ms", "5000", "--levels", "1,2,4", "--requests", "8",
                         "--limit", "8")
    assert proc.returncode == 0, proc.stderr
    rows = jsonl(folder / "sweep.jsonl")
    levels = [r for r in rows if r["row"] == "level"]
    (cap,) = [r for r in rows if r["row"] == "capacity"]
    assert [r["level"] for r in levels] == [1, 2, 4][:len(levels)] and levels[0]["kind"] == "concurrency"
    assert all(r["requests"] == 8 and r["errors"] == 0 and r["accuracy"] == 1.0 for r in levels)
    assert cap["capacity_requests_per_s"] == max(r["requests_per_s"] for r in levels) and cap["sweep_s"] > 0
    assert f"srv x ticket_routing: capacity {cap['capacity_requests_per_s']:.3g} req/s at p95 <= 5000 ms" in proc.stdout
    assert (folder / "plots" / "sweep_ticket_routing.png").is_file() and (folder / "servers" / "srv.log").is_file()
    man = json.loads((folder / "manifest.json").read_text())
    assert man["kind"] == "sweep" and man["sweep"]["slo_p95_ms"] == 5000
    assert port_free(man["models"]["srv"]["server"]["port"])

    # the report: the sweep's capacity for monthly cost and break-even, and it says so
    rep = cli("report", str(run_folder), str(folder), "--out", str(tmp_path / "rep"))
    assert rep.returncode == 0, rep.stderr
    by_model = {r["model"]: r for r in csv.DictReader((tmp_path / "rep" / "summary.csv").open())}
    srv, api_row = by_model["srv"], by_model["api"]
    assert float(srv["requests_per_s"]) == pytest.approx(cap["capacity_requests_per_s"])
    assert srv["capacity_source"].startswith(f"sweep {folder.name}: p95 <= 5000 ms at concurrency ")
    expected = cost.break_even(float(api_row["usd_per_1k_requests"]) / 1000, 2.0, cap["capacity_requests_per_s"], 0.5)
    assert float(srv["break_even_requests_per_month"]) == pytest.approx(expected.first_volume, rel=1e-6)
    assert "sweep" in rep.stdout  # the cost table's "capacity from" column
    alone = cli("report", str(run_folder), "--out", str(tmp_path / "rep2"))
    assert alone.returncode == 0, alone.stderr
    (own,) = [r for r in csv.DictReader((tmp_path / "rep2" / "summary.csv").open()) if r["model"] == "srv"]
    assert own["capacity_source"] == "run"

    rec = cli("recommend", "--task", "ticket_routing", "--volume-per-month", "1000000", str(run_folder), str(folder))
    assert rec.returncode == 0, rec.stderr
    assert f"req/s per machine from sweep {folder.name}" in rec.stdout

    bad = cli("report", str(folder))
    assert bad.returncode == 2 and "a sweep folder, not a run" in bad.stderr


def test_sweep_stops_at_the_first_level_past_the_target(tmp_path):
    proc, folder = sweep(tmp_path, served_models(tmp_path, ttft_s=0.08), "--slo-p95-ms", "40", "--levels", "1,2,4",
                         "--requests", "4")
    assert proc.returncode == 0, proc.stderr
    rows = jsonl(folder / "sweep.jsonl")
    assert [r["level"] for r in rows if r["row"] == "level"] == [1]
    (cap,) = [r for r in rows if r["row"] == "capacity"]
    assert cap["capacity_requests_per_s"] is None and "passed the target 40 ms" in cap["stopped_because"]
    assert "no level met p95 <= 40 ms" in proc.stdout


def test_sweep_of_the_static_engine_by_batch_size(tmp_path, tiny_models):
    config = write_models_toml(tmp_path / "models.toml", {"tiny-chat": tiny_models["tiny-chat"]})
    proc, folder = sweep(tmp_path, str(config), "--slo-p95-ms", "60000", "--levels", "1,4", "--requests", "8",
                         models="tiny-chat")
    assert proc.returncode == 0, proc.stderr
    levels = [r for r in jsonl(folder / "sweep.jsonl") if r["row"] == "level"]
    assert levels[0]["kind"] == "batch_size" and levels[0]["level"] == 1 and levels[0]["requests"] == 8
    assert all(r["output_tokens_per_s"] > 0 and r["latency_p95_s"] > 0 for r in levels)


def test_a_model_that_cannot_be_swept_fails_with_the_reason(tmp_path):
    command = f"{sys.executable} {FAKE} --port {{port}} --exit-code 5"
    config = tmp_path / "models.toml"
    config.write_text(f'[models.srv]\nbackend = "served"\nserver = "command"\nmodel = "m"\ncommand = {json.dumps(command)}\n')
    proc, folder = sweep(tmp_path, str(config), "--slo-p95-ms", "500", "--levels", "1")
    assert proc.returncode == 4
    assert "srv x ticket_routing: sweep failed: the server exited (exit code 5) before it was ready" in proc.stdout


def test_a_paid_api_model_is_swept_only_with_yes(tmp_path):
    """A sweep sends hundreds of requests: to a per-token priced model only when asked for in so many
    words; otherwise one line saying how many, exit 2, nothing sent, no folder."""
    with FakeAPI(ttft_s=0.001) as api:
        config = served_models(tmp_path, api)
        proc = cli("sweep", "--config", config, "--tasks-dir", str(TASKS), "--tasks", "ticket_routing", "--models",
                   "api", "--out", str(tmp_path / "sweeps"), "--slo-p95-ms", "5000", "--levels", "1,2",
                   "--requests", "4", SWEEP_KEY="k")
        assert api.log == []
    assert proc.returncode == 2, proc.stderr
    assert "bench sweep sends up to 8 requests to api, an API model priced per token; pass --yes" in proc.stderr
    assert not (tmp_path / "sweeps").exists()


def test_nothing_to_sweep_makes_no_folder_and_exits_4(tmp_path):
    """A model that cannot run here (its key unset): said in a grouped line, exit 4, no folder."""
    with FakeAPI(ttft_s=0.001) as api:
        config = served_models(tmp_path, api)
        proc = cli("sweep", "--config", config, "--tasks-dir", str(TASKS), "--tasks", "ticket_routing", "--models",
                   "api", "--out", str(tmp_path / "sweeps"), "--slo-p95-ms", "5000", "--yes")
    assert proc.returncode == 4, proc.stderr
    assert "environment variable SWEEP_KEY is not set: api" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "sweeps").exists()


def test_a_sweep_folder_is_not_resumed_as_a_run(tmp_path):
    config = served_models(tmp_path)
    proc, folder = sweep(tmp_path, config, "--slo-p95-ms", "5000", "--levels", "1", "--requests", "2",
                         "--limit", "2")
    assert proc.returncode == 0, proc.stderr
    resumed = cli("--resume", str(folder))
    assert resumed.returncode == 2 and "this is a sweep folder (bench sweep), not a run" in resumed.stderr
    assert not (folder / "records.jsonl").exists()


def test_sweep_of_the_continuous_engine_by_requests_in_flight(tmp_path, tiny_models):
    extra = '\n[models.tiny-cb]\nbackend = "transformers"\nmodel = "%s"\ndevice = "cpu"\nbatch_size = 4\n' \
            'engine = "continuous"\nhardware = "ci"\n' % tiny_models["tiny-chat"]
    config = write_models_toml(tmp_path / "models.toml", {}, extra=extra)
    proc, folder = sweep(tmp_path, str(config), "--slo-p95-ms", "60000", "--levels", "1,4", "--requests", "8",
                         models="tiny-cb")
    assert proc.returncode == 0, proc.stderr
    levels = [r for r in jsonl(folder / "sweep.jsonl") if r["row"] == "level"]
    assert levels[0]["kind"] == "concurrency" and levels[0]["level"] == 1 and levels[0]["requests"] == 8
    assert all(r["output_tokens_per_s"] > 0 and r["latency_p95_s"] > 0 and r["errors"] == 0 for r in levels)
