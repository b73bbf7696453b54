"""The decision through the command line: `bench report` on a run of a local model and an API model
on a label task opens with the decision and writes decision.json; the question a run records is
reused by `bench report` and overridden by --config's [decision] and the flags; bad input is one
line and no file; a run with no shared examples says it cannot compare and still writes its tables;
a real run (against the local test server) records its question and ends with the decision."""

from __future__ import annotations

import json
import re

import pytest
from e2e.test_e2e import cli
from fakerun import api_model, local_model, make_run

from bench.cli import main
from bench.report import build
from bench.report.question import question_of

LABELS = ["billing", "refunds", "shipping", "account"]
CANDIDATE_KEYS = {"model", "verdict", "accuracy", "diff_points", "ci_points", "ci_method", "test", "p_value",
                  "n_paired", "n_needed", "detectable_points", "usd_per_1k_at_volume", "usd_per_1k_at_capacity",
                  "p95_ms", "meets_p95", "meets_min_accuracy", "capacity_rps", "capacity_source", "missed"}


def label_run(tmp_path, name="run"):
    """ticket_routing, 200 tickets: both right on 190, only smollm2 (local, 0.36 USD/h) on 1, only
    gpt-api (token-priced) on 3, neither on 6: 95.5% against 96.5%."""
    api = [1.0] * 190 + [0.0] + [1.0] * 3 + [0.0] * 6
    local = [1.0] * 191 + [0.0] * 9
    run = make_run(tmp_path / name, {"gpt-api": api_model(1.0, 4.0), "smollm2": local_model()},
                   {("gpt-api", "ticket_routing"): api, ("smollm2", "ticket_routing"): local},
                   latency={"gpt-api": 0.9, "smollm2": 0.4})
    rows = [json.loads(x) for x in (run / "records.jsonl").read_text().splitlines()]
    for r in rows:  # label answers: the target label, or a wrong one
        i = int(r["example_id"][1:])
        r["target"] = LABELS[i % 4]
        r["output"] = r["extracted"] = r["target"] if r["score"] else LABELS[(i + 1) % 4]
    (run / "records.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return run


def test_report_of_a_local_and_an_api_model_on_a_label_task_opens_with_the_decision(tmp_path):
    run = label_run(tmp_path)
    proc = cli("report", str(run), "--volume-per-month", "50000", "--p95-target-ms", "1000")
    assert proc.returncode == 0, proc.stderr
    md = (run / "summary.md").read_text()
    assert next(x for x in md.splitlines() if x.startswith("## ")) == "## Decision"
    assert md.index("## Decision") < md.index("| model | task | status")
    page = (run / "report.html").read_text()
    assert re.findall(r"<h2 id='(\w+)'>", page)[:2] == ["decision", "summary"]
    assert page.index("<h2 id='decision'>") < page.index("<table")
    assert "<th>$ / 1k req at capacity (machine busy)</th><th>$ / 1k req at 50,000 req/month</th>" in page
    # smollm2 vs gpt-api: -1.0 pp, Newcombe's paired interval [-3.9, +1.6] (above the -5 margin);
    # exact McNemar on 4 discordant pairs, 1 against 3: p = 2 x (1 + 4) / 16 = 0.625
    (task,) = json.loads((run / "decision.json").read_text())
    assert task["task"] == "ticket_routing" and task["reference"] == "gpt-api"
    assert task["reference_basis"] == "most accurate token-priced model"
    assert task["question"] == {"reference": None, "volume_per_month": 50000.0, "p95_target_ms": 1000.0,
                                "min_accuracy": None, "margin_points": 5.0, "utilisation": 0.5,
                                "defaults": ["reference", "min_accuracy", "margin_points"]}
    ref, small = task["candidates"]
    assert set(small) == CANDIDATE_KEYS and ref["verdict"] == "reference"
    assert small["model"] == "smollm2" and small["diff_points"] == pytest.approx(-1.0)
    assert small["test"] == "mcnemar_exact" and small["p_value"] == pytest.approx(0.625) and small["n_paired"] == 200
    lo, hi = small["ci_points"]
    assert (lo, hi) == (pytest.approx(-3.92, abs=0.01), pytest.approx(1.62, abs=0.01))
    assert small["verdict"] == "can replace" and small["ci_method"] == "newcombe"
    # costs: gpt-api 1.40 per 1k at any volume; smollm2 0.05 busy, one 262.8 USD box at 50,000/month
    assert small["usd_per_1k_at_capacity"] == pytest.approx(0.05) and small["usd_per_1k_at_volume"] == pytest.approx(5.256)
    assert ref["usd_per_1k_at_volume"] == pytest.approx(1.4) and small["capacity_source"] == "run"
    assert small["p95_ms"] == pytest.approx(400) and small["meets_p95"] is True
    assert isinstance(small["n_needed"], int) and small["n_needed"] > 0
    assert task["cheapest_replacement"] == "smollm2" and task["met_bars"] == ["gpt-api", "smollm2"]
    # the terminal: the decision after the tables, before the report's path
    out = proc.stdout
    assert out.index("$ / 1k req at capacity (machine busy)") < out.index("Decision (") < out.index("report: ")
    assert ("  - smollm2 can replace gpt-api on ticket_routing: -1.0 pp [-3.9, +1.6] (McNemar p = 0.62, "
            "n = 200), margin 5 pp; "
            "$5.26 vs $1.40 per 1,000 at 50,000/month") in out


def test_the_recorded_question_is_reused_and_config_then_flags_override(tmp_path):
    run = label_run(tmp_path)
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["question"] = {"reference": "smollm2", "margin_points": 10.0, "volume_per_month": 1000.0}
    (run / "manifest.json").write_text(json.dumps(manifest))
    merged = build.load([run], None)
    q = question_of(merged)
    assert (q.reference, q.margin_points, q.volume_per_month) == ("smollm2", 10.0, 1000.0)
    assert q.defaults == ("p95_target_ms", "min_accuracy")
    config = tmp_path / "models.toml"
    config.write_text("[decision]\nvolume_per_month = 20000\nmargin_points = 3\n")
    q = question_of(merged, {"margin_points": 2.0}, config)
    assert (q.reference, q.margin_points, q.volume_per_month) == ("smollm2", 2.0, 20000.0)


@pytest.mark.parametrize("command", ["report", "recommend"])
@pytest.mark.parametrize("flags, says", [
    (["--reference", "gpt-9"], ("error: --reference gpt-9: reference 'gpt-9' is not a model of these runs "
                                "(models: gpt-api, smollm2)")),
    (["--margin-points", "-0.5"], "error: --margin-points -0.5: give percentage points between 0 and 100"),
    (["--margin-points", "101"], "error: --margin-points 101: give percentage points between 0 and 100"),
    (["--volume-per-month", "0"], "error: --volume-per-month 0: must be above 0"),
    (["--p95-target-ms", "soon"], "error: --p95-target-ms"),
    (["--p95-target-ms", "nan"], "must be a finite number"),
])
def test_bad_question_flags_are_one_line_and_write_nothing(tmp_path, capsys, command, flags, says):
    run = label_run(tmp_path)
    before = sorted(p.name for p in run.iterdir())
    extra = ["--task", "ticket_routing"] if command == "recommend" else []
    assert main([command, str(run), *extra, *flags]) == 2
    err = capsys.readouterr().err
    assert says in err and err.count("\n") == 1 and err.startswith("error: ")
    assert sorted(p.name for p in run.iterdir()) == before  # no report.html, no decision.json


def test_a_reference_of_the_config_not_in_the_runs_names_its_key(tmp_path, capsys):
    run = label_run(tmp_path)
    config = tmp_path / "models.toml"
    config.write_text('[models.gpt-9]\nbackend = "openai"\nmodel = "x"\nbase_url = "http://h/v1"\n\n'
                      '[decision]\nreference = "gpt-9"\n')
    assert main(["report", str(run), "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {config}:7: key 'decision.reference': reference 'gpt-9' is not a model of "
                          f"these runs") and not (run / "decision.json").exists()


def test_recommend_takes_the_old_latency_flag_and_the_new_one(tmp_path):
    run = label_run(tmp_path)
    for flag in ("--max-p95-latency-ms", "--p95-target-ms"):
        proc = cli("recommend", "--task", "ticket_routing", flag, "500", str(run))
        assert proc.returncode == 0, proc.stderr
        assert "p95 target: 500 ms;" in proc.stdout and "recommended: smollm2" in proc.stdout
        assert "  gpt-api: p95 latency 900 ms > 500 ms target (over by 400 ms)" in proc.stdout


def test_runs_without_shared_examples_cannot_compare_and_still_write_their_tables(tmp_path, capsys):
    a = make_run(tmp_path / "a", {"big": api_model()}, {("big", "t1"): [1.0] * 6})
    b = make_run(tmp_path / "b", {"small": local_model()}, {("small", "t1"): [1.0] * 6},
                 example_ids=[f"other{i}" for i in range(6)])
    out = tmp_path / "rep"
    assert main(["report", str(a), str(b), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "no model shares examples with big on t1: cannot compare" in printed
    (task,) = json.loads((out / "decision.json").read_text())
    assert task["candidates"][1]["verdict"] == "not comparable" and task["cheapest_replacement"] is None
    assert (out / "summary.csv").is_file() and "| small | t1 | ok | 6 |" in (out / "summary.md").read_text()


def test_a_run_records_its_question_ends_with_the_decision_and_report_reuses_it(tmp_path):
    pytest.importorskip("openai")
    from conftest import TASKS
    from fakeapi import FakeAPI
    from spend.test_budget import targets_by_prompt

    answers = targets_by_prompt(["ticket_routing"], limit=12)

    def model(name: str, usd_in: float) -> str:
        return (f'[models.{name}]\nbackend = "openai"\nmodel = "m"\nbase_url = "{{url}}"\napi_key_env = "DQ_KEY"\n'
                f'usd_per_mtok_in = {usd_in}\nusd_per_mtok_out = 2.0\nprices_as_of = "2026-11-01"\n')

    with FakeAPI(reply=lambda m: answers[json.dumps(m)]) as api:
        config = tmp_path / "models.toml"
        config.write_text((model("big", 1.0) + model("mini", 0.1)).replace("{url}", api.base_url)
                          + "\n[decision]\nvolume_per_month = 30000\nmargin_points = 8\n")
        proc = cli("run", "--config", str(config), "--tasks-dir", str(TASKS), "--tasks", "ticket_routing",
                   "--limit", "12", "--out", str(tmp_path / "res"), "--reference", "big", DQ_KEY="sk-dq-0123456789")
    assert proc.returncode == 0, proc.stderr
    (folder,) = (tmp_path / "res").iterdir()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["question"] == {"reference": "big", "volume_per_month": 30000.0, "margin_points": 8.0}
    tail = proc.stdout[proc.stdout.index("Decision ("):]
    assert "reference: big; volume: 30,000 requests/month; p95 target: none, latency not judged (default)" in tail
    assert "  - mini vs big on ticket_routing: inconclusive: +0.0 pp" in tail and "margin 8 pp" in tail
    assert tail.index("Decision (") < tail.index("report: ") < tail.index("run folder: ")
    (task,) = json.loads((folder / "decision.json").read_text())
    assert task["reference"] == "big" and task["reference_basis"] == "given"
    # bench report reuses the recorded question; a flag overrides one key of it
    proc = cli("report", str(folder), "--margin-points", "50")
    assert proc.returncode == 0, proc.stderr
    (task,) = json.loads((folder / "decision.json").read_text())
    assert (task["question"]["reference"], task["question"]["volume_per_month"]) == ("big", 30000.0)
    assert task["question"]["margin_points"] == 50.0 and task["candidates"][1]["verdict"] == "can replace"
