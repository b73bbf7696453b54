"""A local model and API models on one task, through the CLI, in one summary; and a run against a
server that fails 30% of requests."""

from __future__ import annotations

import csv
import json

import pytest

from conftest import TASKS, write_models_toml
from fakeapi import FakeAPI
from e2e.test_e2e import cli

pytest.importorskip("openai")
pytest.importorskip("anthropic")

KEY = "sk-e2e-SENTINEL-9f8e7d6c5b4a"
TICKETS = [json.loads(line) for line in (TASKS / "data" / "ticket_routing.jsonl").read_text().splitlines()]


def right_queue(messages: list[dict]) -> str:
    """The fake model reads the ticket and answers its true queue, as the prompt asks (the queue name
    only: the label scorer's strict reading takes the whole answer)."""
    prompt = messages[-1]["content"]
    return next(t["queue"] for t in TICKETS if t["text"] in prompt)


def config(tmp_path, tiny_models, api: FakeAPI, **api_options) -> str:
    extra = "".join(f"{k} = {json.dumps(v)}\n" for k, v in api_options.items())
    api_tables = (
        f'\n[models.gpt-fake]\nbackend = "openai"\nmodel = "gpt-fake"\nbase_url = "{api.base_url}"\n'
        f'api_key_env = "E2E_KEY"\nconcurrency = 8\nbackoff_s = 0.01\nusd_per_mtok_in = 0.25\n'
        f'usd_per_mtok_out = 2.0\nprices_as_of = "2026-11-01"\n{extra}'
        f'\n[models.claude-fake]\nbackend = "anthropic"\nmodel = "claude-fake"\nbase_url = "{api.root_url}"\n'
        f'api_key_env = "E2E_KEY"\nconcurrency = 8\nbackoff_s = 0.01\n{extra}'
    )
    path = write_models_toml(tmp_path / "models.toml", {"tiny-chat": tiny_models["tiny-chat"]}, extra=api_tables)
    return str(path)


def read(folder):
    rows = list(csv.DictReader((folder / "summary.csv").open()))
    records = [json.loads(line) for line in (folder / "records.jsonl").read_text().splitlines()]
    return rows, records


def test_local_and_api_models_land_in_one_summary(tiny_models, tmp_path):
    with FakeAPI(ttft_s=0.02, itl_s=0.002, reply=right_queue) as api:
        proc = cli("--config", config(tmp_path, tiny_models, api), "--tasks-dir", str(TASKS),
                   "--tasks", "ticket_routing", "--limit", "12", "--out", str(tmp_path / "res"), E2E_KEY=KEY)
    assert proc.returncode == 0, proc.stderr
    (folder,) = (tmp_path / "res").iterdir()
    rows, records = read(folder)
    by_model = {r["model"]: r for r in rows}
    assert set(by_model) == {"tiny-chat", "gpt-fake", "claude-fake"}
    for name in ("gpt-fake", "claude-fake"):
        row = by_model[name]
        assert row["status"] == "ok" and row["n"] == "12" and float(row["accuracy"]) == 1.0
        assert float(row["ttft_p50_s"]) >= 0.02 and float(row["latency_p50_s"]) >= float(row["ttft_p50_s"])
        assert int(row["output_tokens"]) == 12 and row["errors"] == "0"  # one word per answer
        recs = [r for r in records if r["model"] == name]
        assert all(r["token_source"] == "server" and r["extracted"] == r["target"] for r in recs)
        assert all(r["queue_s"] is not None and r["input_tokens"] > 0 for r in recs)
    assert by_model["tiny-chat"]["status"] == "ok"
    assert "bottleneck" not in proc.stdout  # 12 requests at concurrency 8 do not saturate the client
    for name in ("tiny-chat", "gpt-fake", "claude-fake"):
        assert f"| {name} | ticket_routing | ok |" in (folder / "summary.md").read_text()
    m = json.loads((folder / "manifest.json").read_text())
    gpt = m["models"]["gpt-fake"]
    assert gpt["config"]["base_url"] == api.base_url and gpt["api_model_reported"] == "gpt-fake"
    assert gpt["prices"] == {"usd_per_mtok_in": 0.25, "usd_per_mtok_cached_in": None, "usd_per_mtok_out": 2.0,
                             "prices_as_of": "2026-11-01"}
    assert m["created_utc"]
    everything = proc.stdout + proc.stderr + "".join(p.read_text() for p in folder.rglob("*") if p.is_file() and p.suffix != ".png")
    assert KEY not in everything


def test_missing_key_is_skipped_with_a_reason_and_local_models_still_run(tiny_models, tmp_path):
    with FakeAPI() as api:
        proc = cli("--config", config(tmp_path, tiny_models, api), "--tasks-dir", str(TASKS),
                   "--tasks", "ticket_routing", "--limit", "2", "--out", str(tmp_path / "res"))
    assert proc.returncode == 0, proc.stderr  # a model without its key is reported, not a failure
    assert "skipping 2 API models, environment variable E2E_KEY is not set: gpt-fake, claude-fake" in proc.stderr
    (folder,) = (tmp_path / "res").iterdir()
    rows, _ = read(folder)
    assert {r["model"]: r["status"] for r in rows} == {"tiny-chat": "ok", "gpt-fake": "no_key", "claude-fake": "no_key"}


def test_a_server_failing_30_percent_of_requests(tiny_models, tmp_path):
    """Every example ends scored or recorded as failed with its reason; no duplicates; retries shown."""
    with FakeAPI(itl_s=0.001, reply=right_queue, slow_s=1.0, retry_after_s=0.01) as api:
        api.faults_at_rate(0.3, seed=3)
        cfg = config(tmp_path, tiny_models, api, timeout_s=0.3, max_attempts=2)
        proc = cli("--config", cfg, "--models", "gpt-fake,claude-fake", "--tasks-dir", str(TASKS),
                   "--tasks", "ticket_routing", "--out", str(tmp_path / "res"), E2E_KEY=KEY)
        served = len(api.log)
    # examples without an answer make their cells partial: exit 3, and the run says how to resume
    assert proc.returncode == 3, proc.stderr
    (folder,) = (tmp_path / "res").iterdir()
    assert f"run them again with: python -m bench --resume {folder}" in proc.stdout
    rows, records = read(folder)
    assert {row["status"] for row in rows} == {"partial"}
    assert len(records) == 2 * len(TICKETS)
    assert len({(r["model"], r["example_id"]) for r in records}) == len(records)
    failed = [r for r in records if r["finish_reason"] == "error"]
    scored = [r for r in records if r["finish_reason"] != "error"]
    assert failed and scored, "with 30% faults and 2 attempts, some examples fail and most succeed"
    assert all(r["error"] and r["score"] == 0.0 and r["score_reason"].startswith("no output") for r in failed)
    assert all(r["error"] is None and r["score"] == 1.0 for r in scored)
    warm_ups = 2  # one untimed request per model (concurrency 8: one SDK client each)
    assert served == len(records) + sum(r["retries"] for r in records) + warm_ups
    for row in rows:
        recs = [r for r in records if r["model"] == row["model"]]
        assert int(row["errors"]) == sum(r["finish_reason"] == "error" for r in recs)
        assert int(row["retries"]) == sum(r["retries"] for r in recs) > 0
    assert "retries=" in proc.stderr  # the progress bar counts them as they happen


def test_an_api_model_whose_every_request_fails_is_a_failed_cell(tiny_models, tmp_path):
    with FakeAPI(expected_key="the-right-key") as api:  # our key is refused: 401 on every request
        proc = cli("--config", config(tmp_path, tiny_models, api), "--models", "gpt-fake", "--tasks-dir",
                   str(TASKS), "--tasks", "ticket_routing", "--limit", "3", "--out", str(tmp_path / "res"),
                   E2E_KEY=KEY)
    assert proc.returncode == 4, proc.stderr  # nothing ran successfully
    (folder,) = (tmp_path / "res").iterdir()
    (row,) = read(folder)[0]
    assert row["status"] == "failed" and "every request failed" in row["reason"] and "401" in row["reason"]
    assert KEY not in proc.stdout + proc.stderr + (folder / "summary.md").read_text()
