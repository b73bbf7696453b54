"""The registries: a toy local backend, a toy API backend and a toy scorer, each one module
(tests/toys/) plus one register() line, run end to end through the command line; an unknown
backend is refused (file:line:key, exit 2), never turned into another one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from bench.backends import registry as backends
from bench.backends.registry import BackendEntry
from bench.cli import main
from bench.scorers import registry as scorers
from bench.scorers.registry import ScorerEntry
from tests.config.test_config import Project, assert_bad_input, bench, line_of
from tests.toys.contains_scorer import ContainsOptions, contains
from tests.toys.echo_backend import EchoModel
from tests.toys.shout_api import ShoutModel

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def toys():
    backends.register(BackendEntry("echo", EchoModel, "tests.toys.echo_backend:EchoBackend", "local", "hourly",
                                   "tests.toys.echo_backend:availability"))
    backends.register(BackendEntry("shout", ShoutModel, "tests.toys.shout_api:ShoutBackend", "client", "tokens",
                                   "bench.backends.api:availability"))
    scorers.register(ScorerEntry("contains", ContainsOptions, contains))
    yield
    backends.unregister("echo")
    backends.unregister("shout")
    scorers.unregister("contains")


@pytest.fixture
def project(tmp_path, monkeypatch) -> Project:
    monkeypatch.chdir(tmp_path)
    return Project(tmp_path)


ECHO = '[hardware.ci]\nusd_per_hour = 0.5\n\n[models.parrot]\nbackend = "echo"\nbatch_size = 2\nhardware = "ci"\n'
SHOUT = ('[models.loud]\nbackend = "shout"\nmodel = "loud-1"\napi_key_env = "SHOUT_TEST_KEY"\nconcurrency = 2\n'
         'usd_per_mtok_in = 1.0\nusd_per_mtok_out = 2.0\nprices_as_of = "2026-01-01"\n')


def run(p: Project, capsys, *extra: str) -> tuple[int, Path | None]:
    code, _ = bench(p, capsys, "run", *extra)
    folders = list(p.out.iterdir()) if p.out.exists() else []
    return code, folders[0] if folders else None


def records(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "records.jsonl").read_text(encoding="utf-8").splitlines()]


def test_a_toy_local_backend_runs_end_to_end(project, capsys, toys):
    project.models.write_text(ECHO, encoding="utf-8")
    project.edit(project.task, 'user = "Ticket: {text}"', 'user = "{queue}"')  # the echo is the right label
    code, folder = run(project, capsys)
    assert code == 0
    rows = records(folder)
    assert [r["model"] for r in rows] == ["parrot"] * 3
    assert all(r["score"] == 1.0 and r["output"] == r["target"] for r in rows), rows
    assert all(r["cost_usd"] is not None and r["batch_size"] in (1, 2) for r in rows)  # priced by the hour
    cell = json.loads((folder / "cells.jsonl").read_text(encoding="utf-8"))
    assert cell["status"] == "ok" and cell["batch_size"] == 2 and cell["concurrency"] is None
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["models"]["parrot"]["config"]["backend"] == "echo"
    assert "prices" not in manifest["models"]["parrot"]


def test_a_toy_api_backend_runs_end_to_end(project, capsys, toys, monkeypatch):
    monkeypatch.setenv("SHOUT_TEST_KEY", "k")
    project.models.write_text(SHOUT, encoding="utf-8")
    project.edit(project.task, 'user = "Ticket: {text}"', 'user = "{queue}"')
    code, folder = run(project, capsys)
    assert code == 0
    rows = records(folder)
    assert [r["output"] for r in rows] == [r["target"].upper() for r in rows]
    assert all(r["score"] == 1.0 and r["token_source"] == "server" for r in rows)  # label reads case-folded
    assert all(r["cost_usd"] == pytest.approx((1 * 1.0 + 1 * 2.0) / 1e6) for r in rows)  # priced per token
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["models"]["loud"]["api_model_reported"] == "loud-1"
    assert manifest["models"]["loud"]["prices"]["usd_per_mtok_out"] == 2.0


def test_a_toy_api_backend_without_its_key_is_skipped_with_the_reason(project, capsys, toys, monkeypatch):
    monkeypatch.delenv("SHOUT_TEST_KEY", raising=False)
    project.models.write_text(SHOUT, encoding="utf-8")
    code, err = bench(project, capsys, "run")
    assert code == 4, err
    assert "skipping 1 API model, environment variable SHOUT_TEST_KEY is not set: loud" in err
    assert not project.out.exists() or not any(project.out.iterdir())


def test_bench_list_asks_the_toy_backends_for_their_availability(project, capsys, toys, monkeypatch):
    monkeypatch.delenv("SHOUT_TEST_KEY", raising=False)
    project.models.write_text(ECHO + "\n" + SHOUT, encoding="utf-8")
    assert main(["list", "--config", str(project.models), "--tasks-dir", str(project.tasks)]) == 0
    out = capsys.readouterr().out
    assert "[echo: always here]" in out
    assert "[shout API; key missing: set SHOUT_TEST_KEY]" in out


def test_a_toy_scorer_with_its_own_option_runs_end_to_end(project, capsys, toys):
    project.models.write_text(ECHO, encoding="utf-8")
    project.edit(project.task, 'user = "Ticket: {text}"', 'user = "it is {queue}, {text}"')
    text = project.task.read_text(encoding="utf-8")
    project.task.write_text(text[:text.index("[score]")] + '[score]\nscorer = "contains"\ntarget = "{queue}"\n'
                            'case_sensitive = true\n', encoding="utf-8")
    code, folder = run(project, capsys)
    assert code == 0
    rows = records(folder)
    assert all(r["score"] == 1.0 and r["score_reason"] == "the target is in the output" for r in rows), rows


@pytest.mark.parametrize("body, key, said", [
    ('scorer = "contains"\ntarget = "{queue}"\ncase_sensitive = "maybe"\n', "case_sensitive", "valid boolean"),
    ('scorer = "contains"\ntarget = "{queue}"\nlabels = ["a", "b"]\n', "labels",
     "'labels' is not an option of scorer 'contains' (its options: case_sensitive, target, target_pattern)"),
    ('scorer = "label"\ntarget = "{queue}"\nlabels = ["billing", "refunds"]\ncase_sensitive = true\n',
     "case_sensitive", "'case_sensitive' is not an option of scorer 'label'"),
    ('scorer = "contains"\ntarget = "{queue}"\ncase_sensitve = true\n', "case_sensitve", "unknown key"),
])
def test_a_toy_scorers_options_are_checked_like_the_builtin_ones(project, capsys, toys, body, key, said):
    text = project.task.read_text(encoding="utf-8")
    project.task.write_text(text[:text.index("[score]")] + "[score]\n" + body, encoding="utf-8")
    code, err = bench(project, capsys, "validate")
    assert_bad_input(project, code, err, file=project.task, line=line_of(project.task, f"{key} ="),
                     key=f"score.{key}", contains=(said,))


def test_a_toy_scorers_target_check_stops_the_run_before_a_model_loads(project, capsys, toys):
    project.models.write_text(ECHO, encoding="utf-8")
    text = project.task.read_text(encoding="utf-8")
    project.task.write_text(text[:text.index("[score]")] + '[score]\nscorer = "contains"\ntarget = "{text:.0}"\n',
                            encoding="utf-8")
    code, err = bench(project, capsys, "run")
    assert_bad_input(project, code, err, file=project.task, contains=("the target is empty", "scorer 'contains'"))


def test_an_unknown_backend_is_refused_by_python_m_bench(project):
    project.models.write_text('[models.x]\nbackend = "echo"\nmodel = "m"\n', encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "bench", "validate", "--config", str(project.models),
                           "--tasks-dir", str(project.tasks)], capture_output=True, text=True, cwd=project.root,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith(f"error: {project.models}:2: key 'models.x.backend': unknown or missing backend "
                                  f"(known: transformers, openai, anthropic, served)"), proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_registered_backend_is_known_and_its_table_checked(project, capsys, toys):
    project.models.write_text(ECHO.replace("batch_size = 2", "batch_size = 0"), encoding="utf-8")
    code, err = bench(project, capsys, "validate")
    assert_bad_input(project, code, err, file=project.models, line=line_of(project.models, "batch_size"),
                     key="models.parrot.batch_size", contains=("greater than or equal to 1",))
    project.models.write_text('[models.x]\nbackend = "whisper"\n', encoding="utf-8")
    code, err = bench(project, capsys, "validate")
    assert_bad_input(project, code, err, file=project.models, key="models.x.backend",
                     contains=("known: transformers, openai, anthropic, served, echo, shout",))


def test_an_api_client_for_an_unknown_backend_is_an_error_not_another_provider():
    from bench.execute.api_runner import make_backend

    with pytest.raises(ValueError, match="unknown backend 'vllm'"):
        make_backend(SimpleNamespace(backend="vllm", model="m"))


def test_register_refuses_a_config_class_that_names_another_backend():
    with pytest.raises(ValueError, match="Literal"):
        backends.register(BackendEntry("parrot", EchoModel, "x:Y", "local", "hourly", "x:y"))
    assert "parrot" not in backends.names()
