"""The CLI end to end on tiny models: every file of the run folder, and numbers that agree."""

from __future__ import annotations

import csv
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, TASKS, write_models_toml

from bench.demo import local_tasks

LIMIT = 6


def cli(*args: str, cwd: Path = ROOT, **env_vars: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT), **env_vars)
    return subprocess.run([sys.executable, "-m", "bench", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)


@pytest.fixture(scope="module")
def run(tiny_models, tmp_path_factory):
    """One run: two working tiny models, one that is nowhere (skipped before its worker starts) and
    one whose folder has a config but no weights (its worker fails to load it)."""
    import shutil

    tmp = tmp_path_factory.mktemp("e2e")
    shutil.copytree(tiny_models["tiny-chat"], tmp / "broken", ignore=shutil.ignore_patterns("*.safetensors"))
    config = write_models_toml(tmp / "models.toml", {**tiny_models, "missing": "acme/no-such-model",
                                                     "broken": tmp / "broken"}, batch_size=4)
    proc = cli("--config", str(config), "--tasks-dir", str(TASKS), "--tasks", ",".join(local_tasks(TASKS)),
               "--limit", str(LIMIT), "--out", str(tmp / "res"))  # the Hub tasks need a network
    runs = list((tmp / "res").iterdir())
    assert len(runs) == 1, proc.stderr
    return proc, runs[0], tiny_models


def test_exit_code_and_printed_table(run):
    proc, folder, _ = run
    assert proc.returncode == 3, proc.stderr  # one model was skipped: a partial run
    assert "skipping 1 local model, not cached, and offline (HF_HUB_OFFLINE is set): missing\n" in proc.stderr
    assert "skipping broken: OSError" in proc.stderr
    assert "Traceback" not in proc.stderr
    for name in ("tiny-chat", "tiny-plain", "invoice_fields", "order_math", "ticket_routing", "acc %", "95% CI"):
        assert name in proc.stdout
    assert f"run folder: {folder}" in proc.stdout


def test_run_folder_files(run):
    _, folder, _ = run
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        ["manifest.json", "records.jsonl", "cells.jsonl", "inputs.jsonl", "summary.csv", "summary.md", "plots",
         "report.html", "decision.json"])


def test_manifest(run):
    _, folder, models = run
    m = json.loads((folder / "manifest.json").read_text())
    assert m["run_id"] == folder.name and m["finished_utc"]
    assert m["bench"]["version"]
    for pkg in ("python", "torch", "transformers", "accelerate", "datasets"):
        assert m["versions"][pkg], pkg
    assert m["environment"]["cpu"] and m["environment"]["cpu_count"] >= 1
    assert len(m["models_config"]["sha256"]) == 64 and "text" not in m["models_config"]  # no raw text: secrets
    assert m["models"]["tiny-chat"]["config"]["batch_size"] == 4
    assert set(m["tasks"]) == {"invoice_fields", "order_math", "ticket_routing", "review_sentiment", "text_to_sql",
                               "pii_redaction", "email_summary"}  # the seven shipped tasks (Hub tasks need a network)
    for t in m["tasks"].values():
        assert len(t["data_sha256"]) == 64 and t["examples_run"] == LIMIT and "[score]" in t["text"]
    assert len(m["tasks"]["order_math"]["fewshot_ids"]) == 2
    chat = m["models"]["tiny-chat"]
    assert chat["status"] == "loaded" and chat["parameters"] > 0 and chat["dtype"] == "float32"
    assert chat["chat_template"] == "tokenizer" and len(chat["chat_template_sha256"]) == 64
    assert chat["resolved_revision"] is None  # a local folder has no commit
    assert m["models"]["tiny-plain"]["chat_template"] == "none"
    assert m["models"]["missing"]["status"] == "skipped" and m["models"]["missing"]["reason"]
    assert m["models"]["broken"]["status"] == "skipped" and "OSError" in m["models"]["broken"]["reason"]


def test_records(run):
    _, folder, _ = run
    records = [json.loads(line) for line in (folder / "records.jsonl").read_text().splitlines()]
    assert len(records) == 2 * len(local_tasks(TASKS)) * LIMIT
    keys = {(r["model"], r["task"], r["example_id"], r["repeat"]) for r in records}
    assert len(keys) == len(records)
    for r in records:
        assert r["run_id"] == folder.name
        assert r["input_tokens"] > 0 and 1 <= r["output_tokens"]
        assert 0 < r["ttft_s"] <= r["latency_s"]
        assert r["truncated"] == (r["finish_reason"] == "length")
        assert 0.0 <= r["score"] <= 1.0 and r["score_reason"]
        assert len(r["prompt_sha256"]) == 64 and "output" in r and "extracted" in r and r["target"]
        assert r["token_source"] == "tokenizer" and r["error"] is None
    # one rendered prompt per example, the same for every model
    by_ex = {}
    for r in records:
        by_ex.setdefault((r["task"], r["example_id"]), set()).add(r["prompt_sha256"])
    assert all(len(v) == 1 for v in by_ex.values())


def test_summary_agrees_with_records_and_cells(run):
    _, folder, _ = run
    records = [json.loads(line) for line in (folder / "records.jsonl").read_text().splitlines()]
    cells = [json.loads(line) for line in (folder / "cells.jsonl").read_text().splitlines()]
    rows = list(csv.DictReader((folder / "summary.csv").open()))
    assert len(rows) == len(cells) == 4 * len(local_tasks(TASKS))
    for row in rows:
        recs = [r for r in records if r["model"] == row["model"] and r["task"] == row["task"]]
        cell = next(c for c in cells if c["model"] == row["model"] and c["task"] == row["task"])
        if row["model"] in ("missing", "broken"):
            assert row["status"] == "skipped" and row["n"] == "0" and "cannot be loaded" in row["reason"]
            continue
        assert row["status"] == "ok" and int(row["n"]) == len(recs) == LIMIT
        assert math.isclose(float(row["accuracy"]), sum(r["score"] for r in recs) / len(recs))
        assert float(row["ci_low"]) <= float(row["accuracy"]) <= float(row["ci_high"])
        assert int(row["truncated"]) == sum(r["finish_reason"] == "length" for r in recs)
        tokens = sum(r["output_tokens"] for r in recs)
        assert int(row["output_tokens"]) == tokens == cell["output_tokens"]
        assert math.isclose(float(row["output_tokens_per_s"]), tokens / cell["wall_s"])
        assert float(row["latency_p50_s"]) <= float(row["latency_p90_s"]) <= float(row["latency_p95_s"]) <= float(row["latency_p99_s"])
        assert cell["peak_rss_bytes"] > 0 and cell["load_s"] > 0 and cell["batch_size"] == 4
    md = (folder / "summary.md").read_text()
    assert "| tiny-chat | invoice_fields | ok |" in md and f"missing x {', '.join(local_tasks(TASKS))}" in md


def test_output_tokens_match_a_recount(run):
    """Re-generate each batch with a bare generate() and recount tokens with the tokenizer."""
    torch = pytest.importorskip("torch")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from bench.backends.transformers import TransformersBackend, greedy_kwargs
    from bench.config import TransformersModel
    from bench.prepare import tasks
    from bench.prepare.planning import plan
    from bench.prepare.taskfiles import load_task

    _, folder, models = run
    records = {(r["model"], r["task"], r["example_id"]): r
               for r in map(json.loads, (folder / "records.jsonl").read_text().splitlines())}
    for name, path in models.items():
        tok = AutoTokenizer.from_pretrained(path)
        model = AutoModelForCausalLM.from_pretrained(path)
        b = TransformersBackend(TransformersModel(backend="transformers", model=str(path), device="cpu"))
        b.load()  # only for prompt rendering and padding, shared with the run
        eos = {tok.eos_token_id}
        for task_name in local_tasks(TASKS):
            data = tasks.load(load_task(TASKS / f"{task_name}.toml"), limit=LIMIT)
            stop = tuple(data.task.spec.generation.stop)
            max_new = data.task.spec.generation.max_new_tokens
            reqs = plan(data).requests
            for i in range(0, len(reqs), 4):
                batch = reqs[i:i + 4]
                enc = b.encode(batch)
                with torch.inference_mode():
                    out = model.generate(**enc, **greedy_kwargs(b.tokenizer, max_new))
                for req, ids in zip(batch, out[:, enc["input_ids"].shape[1]:].tolist()):
                    n = next((k for k in range(1, len(ids) + 1) if ids[k - 1] in eos
                              or (stop and any(s in tok.decode(ids[:k]) for s in stop))), min(len(ids), max_new))
                    rec = records[(name, data.task.name, req.example_id)]
                    assert rec["output_tokens"] == n, (name, data.task.name, req.example_id)
                    assert rec["input_tokens"] == int(enc["attention_mask"][batch.index(req)].sum())


def test_demo_runs_anywhere(tmp_path):
    proc = cli("demo", "--limit", "3", "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert "DEMO" in proc.stdout and "demo-tiny" in proc.stdout and "demo-small" in proc.stdout
    (folder,) = tmp_path.iterdir()
    m = json.loads((folder / "manifest.json").read_text())
    assert m["title"] == "DEMO run" and "RANDOM weights" in m["notes"][0]
    assert m["models"]["demo-small"]["parameters"] > m["models"]["demo-tiny"]["parameters"]
    threads = int(os.environ.get("OMP_NUM_THREADS", "1"))  # one CPU thread each, unless the user says otherwise
    assert [m["models"][n]["runtime"]["torch_threads"] for n in ("demo-tiny", "demo-small")] == [threads] * 2
    assert "RANDOM weights" in (folder / "summary.md").read_text()
    shipped = local_tasks(TASKS)  # the Hub tasks are left out: the demo downloads nothing
    assert m["options"]["tasks"] == shipped
    assert {json.loads(line)["task"] for line in (folder / "records.jsonl").read_text().splitlines()} == set(shipped)
    assert len((folder / "records.jsonl").read_text().splitlines()) == 2 * 3 * len(shipped)


def test_validate_and_list(tiny_models, tmp_path):
    config = write_models_toml(tmp_path / "models.toml", tiny_models)
    proc = cli("validate", "--config", str(config), "--tasks-dir", str(TASKS))
    n_local = len(local_tasks(TASKS))  # the Hub tasks are skipped offline, each with a line on stderr
    assert proc.returncode == 0 and f"ok: 2 model(s), {n_local} task(s)" in proc.stdout
    assert "skipped task gsm8k:" in proc.stderr
    proc = cli("list", "--config", str(config), "--tasks-dir", str(TASKS))
    assert proc.returncode == 0 and proc.stdout.count("local folder") == 2 and "ticket_routing" in proc.stdout
    proc = cli("list", "--config", str(ROOT / "models.toml"), "--tasks-dir", str(TASKS), "--models", "smollm2-135m")
    assert "not cached, and offline" in proc.stdout


def test_help_is_clear_and_imports_nothing_heavy():
    proc = cli("--help")
    assert proc.returncode == 0 and "exit codes" in proc.stdout and "demo" in proc.stdout
    proc = cli("run", "--help")
    assert "--limit" in proc.stdout and "--device" in proc.stdout
    probe = subprocess.run([sys.executable, "-c", "import sys, bench.cli; from bench.cli import parser; parser(); "
                            "print(sorted(m for m in ('torch', 'transformers', 'openai', 'anthropic', 'datasets') "
                            "if m in sys.modules))"], capture_output=True, text=True, cwd=ROOT)
    assert probe.stdout.strip() == "[]"


def test_hub_id_loads_from_the_hub_cache_and_records_its_commit(tiny_models, tmp_path):
    """A Hub id goes through the Hub cache exactly as a user's download would; the manifest
    records the commit that was loaded, and `bench list` reports the model as cached."""
    import shutil

    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "hub" / "models--acme--tiny-chat"
    shutil.copytree(tiny_models["tiny-chat"], repo / "snapshots" / commit)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    config = tmp_path / "models.toml"
    config.write_text('[models.acme]\nbackend = "transformers"\nmodel = "acme/tiny-chat"\ndevice = "cpu"\n')
    hub = {"HF_HUB_CACHE": str(tmp_path / "hub")}
    proc = cli("list", "--config", str(config), "--tasks-dir", str(TASKS), **hub)
    assert "acme/tiny-chat  [cached]" in proc.stdout
    proc = cli("--config", str(config), "--tasks-dir", str(TASKS), "--tasks", "ticket_routing", "--limit", "2",
               "--out", str(tmp_path / "res"), **hub)
    assert proc.returncode == 0, proc.stderr
    (folder,) = (tmp_path / "res").iterdir()
    m = json.loads((folder / "manifest.json").read_text())
    assert m["models"]["acme"]["resolved_revision"] == commit


def test_repeats_time_every_repeat_and_score_the_first(tiny_models, tmp_path):
    config = write_models_toml(tmp_path / "models.toml", {"tiny-plain": tiny_models["tiny-plain"]}, batch_size=2)
    proc = cli("--config", str(config), "--tasks-dir", str(TASKS), "--tasks", "ticket_routing", "--limit", "3",
               "--repeats", "3", "--speed", "--out", str(tmp_path / "res"))
    assert proc.returncode == 0, proc.stderr
    (folder,) = (tmp_path / "res").iterdir()
    records = [json.loads(line) for line in (folder / "records.jsonl").read_text().splitlines()]
    assert sorted((r["example_id"], r["repeat"]) for r in records) == sorted(
        (e, k) for e in {r["example_id"] for r in records} for k in range(3))
    assert all(r["output_tokens"] == 8 for r in records)  # --speed: max_new_tokens of ticket_routing
    (row,) = list(csv.DictReader((folder / "summary.csv").open()))
    assert row["n"] == "3" and row["timed_requests"] == "9" and row["repeats"] == "3"
    assert row["output_tokens_per_s_sd"] != "" and float(row["cold_start_s"]) > 0  # 3 repeats: a spread
    assert int(row["output_tokens"]) == 9 * 8  # all repeats, the population of tokens/s
    m = json.loads((folder / "manifest.json").read_text())
    assert m["options"]["repeats"] == 3 and m["options"]["speed"] is True
    assert m["models"]["tiny-plain"]["cold_start_s"] > 0 and m["models"]["tiny-plain"]["weights_bytes"] > 0
