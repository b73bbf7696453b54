"""The run folder's tables load into pandas with the one-liners of docs/metrics.md and write to
Parquet: every column holds one type, for every shipped task and scorer kind, local and API models,
failed requests included. Run folders written by earlier versions still report and resume."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import TASKS, write_models_toml
from e2e.test_e2e import cli
from fakeapi import FakeAPI

from bench import scoring
from bench.backends.base import Completion
from bench.core.types import Cell
from bench.demo import local_tasks
from bench.execute.recording import Recorder
from bench.prepare import tasks
from bench.prepare.planning import Plan, plan
from bench.prepare.taskfiles import load_task, load_tasks
from bench.runfolder.store import RunStore
from bench.scorers.user import user as wrap_user

pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")
pytest.importorskip("openai")
pytest.importorskip("anthropic")

LIMIT = 2
KEY = "sk-pandas-SENTINEL-1a2b3c"


# the one-line loads documented in docs/metrics.md
def load_records(folder: Path):
    return pd.read_json(folder / "records.jsonl", lines=True, dtype=False)


def load_cells(folder: Path):
    return pd.read_json(folder / "cells.jsonl", lines=True, dtype=False)


def load_summary(folder: Path):
    return pd.read_csv(folder / "summary.csv")


def assert_one_type_per_column(df, name: str) -> None:
    """No column of Python objects of several kinds (or of lists and dicts): only strings may be objects."""
    for col in df.columns:
        if df[col].dtype == object:
            kinds = {type(v).__name__ for v in df[col] if v is not None and v == v}
            assert kinds <= {"str"}, f"{name}: column {col!r} holds {sorted(kinds)}"


def assert_parquet_round_trip(df, path: Path) -> None:
    df.to_parquet(path)
    back = pd.read_parquet(path)
    assert back.shape == df.shape and list(back.columns) == list(df.columns)


def right_answers() -> dict[str, str]:
    """The reference answer of each shipped local task's first examples, by the prompt's last message:
    the fake API answers them, so `extracted` holds objects (json_fields), lists (span_f1), numbers,
    labels and SQL."""
    out = {}
    for name in local_tasks(TASKS):
        p = plan(tasks.load(load_task(TASKS / f"{name}.toml"), limit=LIMIT))
        out.update({r.messages[-1]["content"]: p.targets[r.example_id] for r in p.requests})
    return out


@pytest.fixture(scope="module")
def run(tiny_models, tmp_path_factory):
    """Every shipped task (the Hub ones are skipped offline) on a tiny local model and two API models;
    every 5th API request fails (no retries). The server stays up for the tests that resume."""
    tmp = tmp_path_factory.mktemp("pandas")
    answers = right_answers()
    with FakeAPI(reply=lambda messages: answers.get(messages[-1]["content"], "no idea"),
                 fault=lambda i: "500" if i % 5 == 4 else None) as api:
        apis = (f'\n[models.gpt-fake]\nbackend = "openai"\nmodel = "gpt-fake"\nbase_url = "{api.base_url}"\n'
                f'api_key_env = "E2E_KEY"\nmax_attempts = 1\nusd_per_mtok_in = 0.25\nusd_per_mtok_out = 2.0\n'
                f'prices_as_of = "2026-11-01"\n'
                f'\n[models.claude-fake]\nbackend = "anthropic"\nmodel = "claude-fake"\nbase_url = "{api.root_url}"\n'
                f'api_key_env = "E2E_KEY"\nmax_attempts = 1\n')
        config = write_models_toml(tmp / "models.toml", {"tiny-chat": tiny_models["tiny-chat"]}, extra=apis)
        proc = cli("--config", str(config), "--tasks-dir", str(TASKS), "--limit", str(LIMIT),
                   "--out", str(tmp / "res"), E2E_KEY=KEY)
        (folder,) = (tmp / "res").iterdir()
        yield proc, folder


def test_records_cells_and_summary_load_into_pandas_and_parquet(run, tmp_path):
    proc, folder = run
    assert proc.returncode in (0, 3) and "Traceback" not in proc.stderr, proc.stderr
    records, cells, summary = load_records(folder), load_cells(folder), load_summary(folder)
    for name, df in (("records", records), ("cells", cells), ("summary", summary)):
        assert_one_type_per_column(df, name)
        assert_parquet_round_trip(df, tmp_path / f"{name}.parquet")

    assert set(records["task"]) >= set(local_tasks(TASKS))  # every shipped task with local data ...
    assert {"label", "number", "json_fields", "sql_execution", "rouge_l", "span_f1"} <= {
        load_task(TASKS / f"{t}.toml").spec.score.scorer for t in records["task"].unique()}
    assert set(records["model"]) == {"tiny-chat", "gpt-fake", "claude-fake"}
    assert records["error"].notna().any() and records["error"].isna().any()  # failed requests among them
    for col in ("example_id", "target", "output"):  # strings, even where they look like numbers
        assert records[col].map(type).eq(str).all(), col
    assert records["score"].dtype == float and records["truncated"].dtype == bool
    answered = records[records["model"].isin(["gpt-fake", "claude-fake"]) & records["error"].isna()]
    by_task = dict(zip(answered["task"], answered["extracted"]))
    assert json.loads(by_task["invoice_fields"]).keys()  # an object, stored as its JSON text
    assert isinstance(json.loads(by_task["pii_redaction"]), list)
    assert isinstance(json.loads(by_task["order_math"]), float)
    assert isinstance(json.loads(answered["score_details"].dropna().iloc[0]), dict)

    assert set(cells["run_id"]) == {folder.name}
    assert "memory" not in cells and "energy_unavailable_reason" in cells
    local = cells[(cells["model"] == "tiny-chat") & (cells["status"] == "ok")]
    assert len(local) == len(local_tasks(TASKS)) and (local["peak_rss_bytes"] > 0).all()
    assert local["energy_j"].isna().all() == local["energy_source"].isna().all()  # a counter, or why none
    assert (local["energy_source"].notna() | local["energy_unavailable_reason"].notna()).all()
    assert set(cells["task"]) == {t.name for t in load_tasks(TASKS)}  # the Hub tasks too (skipped offline)
    assert {"energy_source", "energy_unavailable_reason", "gpu_other_processes"} <= set(summary.columns)
    assert summary["accuracy"].dtype == float and summary["model"].map(type).eq(str).all()


def downgrade(folder: Path) -> None:
    """Rewrite a run folder as earlier versions wrote it (format 1): objects, lists and numbers in
    `extracted`, `score_details` as an object, `memory` nested, `energy_source` holding a reason,
    `gpu_other_pids` a list, no `run_id` in cells; the manifest without `format`, skipped tasks only
under `skipped_tasks`, no scorer file hashes."""
    recs = [json.loads(x) for x in (folder / "records.jsonl").read_text().splitlines()]
    recs = [r for r in recs if not r["error"]]  # nothing for the resume to drop: it rewrites them all the same
    for r in recs:
        if r["task"] in ("invoice_fields", "pii_redaction", "order_math") and r["extracted"] is not None:
            r["extracted"] = json.loads(r["extracted"])
        if r["score_details"] is not None:
            r["score_details"] = json.loads(r["score_details"])
    cells = [json.loads(x) for x in (folder / "cells.jsonl").read_text().splitlines()]
    for c in cells:
        c.pop("run_id")
        c["memory"] = {k: c.pop(k) for k in ("peak_rss_bytes", "nvml_used_peak_bytes", "torch_allocated_bytes",
                                             "torch_allocated_peak_bytes", "torch_reserved_peak_bytes")}
        c["energy_source"] = c["energy_source"] or c.pop("energy_unavailable_reason")
        c.pop("energy_unavailable_reason", None)
        c["gpu_other_pids"] = None if c.pop("gpu_other_processes") is None else []
    (folder / "records.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))
    (folder / "cells.jsonl").write_text("".join(json.dumps(c) + "\n" for c in cells))
    manifest = json.loads((folder / "manifest.json").read_text())
    del manifest["format"]  # earlier versions wrote no format: format 1
    assert manifest["skipped_tasks"]  # the Hub tasks, offline: named only there, not in options.tasks
    manifest["options"]["tasks"] = [t for t in manifest["options"]["tasks"] if t not in manifest["skipped_tasks"]]
    for entry in manifest["tasks"].values():  # scorer files were not hashed
        for key in ("scorer_file", "scorer_kind", "scorer_sha256"):
            entry.pop(key)
    (folder / "manifest.json").write_text(json.dumps(manifest))
    assert any(isinstance(r["extracted"], dict) for r in recs)


def test_a_run_of_an_earlier_version_resumes_into_the_new_shape(run, tmp_path):
    _, folder = run
    old = tmp_path / folder.name
    shutil.copytree(folder, old)
    downgrade(old)
    proc = cli("--resume", str(old), E2E_KEY=KEY)  # the examples whose request failed are run again
    assert proc.returncode in (0, 3) and "Traceback" not in proc.stderr, proc.stderr
    records, cells = load_records(old), load_cells(old)
    for name, df in (("records", records), ("cells", cells)):
        assert_one_type_per_column(df, name)
        assert_parquet_round_trip(df, tmp_path / f"{name}.parquet")
    assert set(cells["run_id"]) == {old.name} and "memory" not in cells
    assert (cells.loc[(cells["model"] == "tiny-chat") & (cells["status"] == "ok"), "peak_rss_bytes"] > 0).all()
    assert len(records) == len(load_records(folder))


def test_every_scorer_kind_writes_one_type_per_column(tmp_path):
    """Each built-in scorer and a user scorer, right, wrong, failed and raising, through the Recorder."""
    sql = json.loads((TASKS / "data" / "text_to_sql.jsonl").read_text().splitlines()[0])["sql"]
    kinds = {  # name -> (scorer, target, inputs, answers)
        "exact": (scoring.make("exact"), "Paris", {}, ["Paris", "Lyon"]),
        "number": (scoring.make("number"), "42", {}, ["It is 42.", "none"]),
        "label": (scoring.make("label", labels=["a", "b"]), "a", {}, ["a", "I think b"]),
        "choice": (scoring.make("choice"), "B", {}, ["B", "maybe"]),
        "json_fields": (scoring.make("json_fields", fields=["x", "y"]), '{"x": 1, "y": "z"}', {},
                        ['{"x": 1, "y": "z"}', "no json"]),
        "sql_execution": (scoring.make("sql_execution", database=TASKS / "data" / "sales.sql"), sql, {},
                          [sql, "SELECT nonsense FROM nowhere"]),
        "rouge_l": (scoring.make("rouge_l"), "Acme owes 1,200", {"facts": ["Acme"]}, ["Acme owes 1,200", "x"]),
        "token_f1": (scoring.make("token_f1"), "the red house", {}, ["red house", "blue"]),
        "span_f1": (scoring.make("span_f1"), '[{"type": "NAME", "text": "Bo"}]', {},
                    ['[{"type": "NAME", "text": "Bo"}]', "[]"]),
        "regex": (scoring.make("regex", pattern=r"answer: (\w+)"), "yes", {}, ["answer: yes", "nothing"]),
        "user": (wrap_user(lambda out, tgt: scoring.Score(True, {"seen": [out]}, 7, {"n": 1}), "m:f"), "t", {},
                 ["anything", "else"]),
        "raising": (wrap_user(lambda out, tgt: 1 / 0, "m:g"), "t", {}, ["anything", "else"]),
    }
    store = RunStore(tmp_path / "run")
    store.path.mkdir()
    plans = {k: Plan([], {"e1": t, "e2": t, "e3": t}, dict.fromkeys(("e1", "e2", "e3"), "0" * 64), s,
                     {e: inputs for e in ("e1", "e2", "e3")} if inputs else {}, k == "label")
             for k, (s, t, inputs, _) in kinds.items()}
    recorder = Recorder(store, plans)
    for kind, (_, _, _, answers) in kinds.items():
        comps = [Completion(a, 10, 3).to_dict() for a in answers]
        comps.append(Completion("", 10, None, finish_reason="error", error="APIError: boom").to_dict())
        recorder.record(Cell("m", kind), ["e1", "e2", "e3"], comps)
    records = load_records(store.path)
    assert len(records) == 3 * len(kinds)
    assert_one_type_per_column(records, "records")
    assert_parquet_round_trip(records, tmp_path / "records.parquet")
    got = dict(zip(records["task"] + records["example_id"], records["extracted"]))
    assert json.loads(got["json_fieldse1"]) == {"x": 1, "y": "z"} and json.loads(got["numbere1"]) == 42.0
    assert json.loads(got["span_f1e1"]) == [["NAME", "bo"]] and json.loads(got["usere1"]) == {"seen": ["anything"]}
    assert records.loc[records["task"] == "user", "score"].tolist()[:2] == [1.0, 1.0]  # a bool score as a float


def write_old_run(folder: Path) -> Path:
    """A run folder as an earlier version wrote it, by hand."""
    folder.mkdir(parents=True)
    manifest = {"run_id": folder.name, "title": "Old run", "notes": [],
                "models": {"m": {"config": {"backend": "transformers", "model": "/m", "hardware": "box",
                                            "batch_size": 2}}},
                "hardware": {"box": {"usd_per_hour": 0.5}},
                "tasks": {"invoice_fields": {"sha256": "t" * 64, "data_sha256": "d" * 64}}}
    base = {"run_id": folder.name, "model": "m", "task": "invoice_fields", "repeat": 0, "target": '{"vendor": "Acme"}',
            "truncated": False, "input_tokens": 50, "output_tokens": 9, "ttft_s": 0.1, "latency_s": 0.3,
            "tpot_s": 0.02, "finish_reason": "stop", "token_source": "tokenizer", "batch_size": 2, "retries": 0,
            "batch_wall_s": 0.3, "error": None}
    records = [base | {"example_id": "e1", "output": '{"vendor": "Acme"}', "extracted": {"vendor": "Acme"},
                       "score": 1.0, "score_reason": "1/1 fields match",
                       "score_details": {"valid_json": True, "fields": {"vendor": True}}},
               base | {"example_id": "e2", "output": "dunno", "extracted": None, "score": 0.0,
                       "score_reason": "no valid JSON object in the output", "score_details": {"valid_json": False}}]
    cells = [{"model": "m", "task": "invoice_fields", "status": "ok", "n": 2, "repeats": 1, "batch_size": 2,
              "wall_s": 0.6, "output_tokens_per_s": 30.0, "load_s": 1.0, "device": "cpu", "dtype": "float32",
              "memory": {"peak_rss_bytes": 400 * 2**20, "nvml_used_peak_bytes": None, "torch_allocated_bytes": None,
                         "torch_allocated_peak_bytes": None, "torch_reserved_peak_bytes": None},
              "energy_j": None, "energy_source": "no readable RAPL package counters (absent, or readable by root only)",
              "gpu_other_pids": [4242, 4343]}]
    (folder / "manifest.json").write_text(json.dumps(manifest))
    (folder / "records.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    (folder / "cells.jsonl").write_text("".join(json.dumps(c) + "\n" for c in cells))
    return folder


def test_a_run_of_an_earlier_version_still_reports(tmp_path):
    folder = write_old_run(tmp_path / "2025-01-01T00-00-00Z-0ld0")
    proc = cli("report", str(folder))
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    summary = load_summary(folder)
    assert_one_type_per_column(summary, "summary")
    assert_parquet_round_trip(summary, tmp_path / "summary.parquet")
    row = summary.iloc[0]
    assert row["peak_rss_bytes"] == 400 * 2**20 and row["valid_json"] == 0.5 and row["gpu_other_processes"] == 2
    assert pd.isna(row["energy_source"]) and row["energy_unavailable_reason"].startswith("no readable RAPL")
    assert "pids 4242, 4343" in (folder / "summary.md").read_text()
    html = (folder / "report.html").read_text()
    assert "answer read</th><td><code>{&quot;vendor&quot;: &quot;Acme&quot;}</code>" in html  # JSON, not a Python repr


def test_rows_of_an_earlier_version_read_in_the_new_shape_and_new_rows_stay_as_they_are():
    from bench.core.types import Record
    from bench.runfolder.migrate import FORMAT, migrate

    old = {"model": "m", "task": "t", "status": "ok", "memory": {"peak_rss_bytes": 5}, "energy_j": 2.0,
           "energy_source": "rapl_package", "gpu_other_pids": [7, 8]}
    why = {"energy_j": None, "energy_source": "NVML not available", "gpu_other_pids": None}
    rec = {"example_id": "e", "extracted": {"a": [1, "é"]}, "score_details": {"valid_json": True}, "target": "x"}
    man, (up, num, none), (new, why) = migrate({"run_id": "run1"}, [rec, {"extracted": 3.5}, {"extracted": None}],
                                               [old, why])
    assert man["format"] == FORMAT
    assert new["run_id"] == "run1" and "memory" not in new and new["peak_rss_bytes"] == 5
    assert new["torch_reserved_peak_bytes"] is None and new["energy_source"] == "rapl_package"
    assert new["energy_unavailable_reason"] is None
    assert new["gpu_other_pids"] == "7 8" and new["gpu_other_processes"] == 2
    assert why["energy_source"] is None and why["energy_unavailable_reason"] == "NVML not available"
    assert why["gpu_other_processes"] is None and why["gpu_other_pids"] is None
    assert up["extracted"] == '{"a": [1, "é"]}' and json.loads(up["score_details"]) == {"valid_json": True}
    assert num["extracted"] == "3.5" and none["extracted"] is None
    assert Record.from_json({"run_id": "r", "model": "m", "task": "t", "score": 1, **up}).details == {"valid_json": True}
    # already in shape: unchanged (a format-1 run's rows may be, a resumed one's partly)
    assert migrate({"run_id": "other"}, [up], [new]) == ({"run_id": "other", "format": FORMAT}, [up], [new])
    # a run in today's format is not touched, whatever its rows hold
    assert migrate({"format": FORMAT}, [rec], [old]) == ({"format": FORMAT}, [rec], [old])
