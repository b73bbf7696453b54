"""What a new user meets first: a machine where nothing can run (grouped reasons, what to do, no
empty run folder), skipped models and tasks reported once per reason, progress that reads well
in a log, a demo that prints no noise, the shipped tasks and models.toml found from any folder, and
every command the tool suggests working as printed."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, TASKS, write_models_toml

from bench.config import load_models


def bench(*args: str, cwd: Path, **env_vars: str) -> subprocess.CompletedProcess:
    """The CLI with stderr and stdout piped (not a terminal), as in CI logs."""
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env.update(HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT), **env_vars)
    return subprocess.run([sys.executable, "-m", "bench", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)


def test_nothing_can_run_says_why_in_a_few_grouped_lines_and_makes_no_folder(tmp_path):
    """The shipped registry on a machine with no keys, no Hub and nothing cached."""
    keys = {spec.api_key_env for spec in load_models(ROOT / "models.toml").models.values()
            if getattr(spec, "api_key_env", None)}
    env = {k: v for k, v in os.environ.items() if k not in keys}
    proc = subprocess.run([sys.executable, "-m", "bench", "--config", str(ROOT / "models.toml"), "--tasks-dir",
                           str(TASKS), "--out", str(tmp_path / "results")], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300,
                          env={**env, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf"), "PYTHONPATH": str(ROOT)})
    out = proc.stdout + proc.stderr
    assert proc.returncode == 4, out
    assert len(out.splitlines()) <= 20, out
    assert not (tmp_path / "results").exists()  # nothing ran: no empty run folder
    assert re.search(r"^skipping 9 local models, not cached, and offline \(HF_HUB_OFFLINE is set\): smollm2-135m, ",
                     out, re.M), out
    assert "skipping 4 Hub tasks, data not cached, and offline (HF_HUB_OFFLINE is set): banking77, gsm8k" in out
    assert "skipping 3 API models, environment variable OPENAI_API_KEY is not set: gpt-5_4-nano" in out
    assert "nothing can run now (no run folder was made)" in out
    assert "set ANTHROPIC_API_KEY, OPENAI_API_KEY or VLLM_API_KEY" in out  # every key the registry names
    assert "unset HF_HUB_OFFLINE" in out and "hf auth login" in out
    assert "`python -m bench demo`" in out
    assert "Traceback" not in out


@pytest.fixture(scope="module")
def partial(tiny_models, tmp_path_factory):
    """One model that runs, two that are not cached, two API models without their key, a Hub task."""
    tmp = tmp_path_factory.mktemp("partial")
    api = "".join(f'\n[models.{n}]\nbackend = "openai"\nmodel = "m"\nbase_url = "http://127.0.0.1:9/v1"\n'
                  f'api_key_env = "BENCH_NEWUSER_UNSET_KEY"\n' for n in ("api-a", "api-b"))
    config = write_models_toml(tmp / "models.toml", {"tiny-chat": tiny_models["tiny-chat"],
                                                      "missing-a": "acme/no-such-model", "missing-b": "acme/other"},
                               extra=api)
    proc = bench("--config", str(config), "--tasks-dir", str(TASKS), "--tasks", "ticket_routing,gsm8k",
                 "--limit", "2", "--out", str(tmp / "res"), cwd=tmp, HF_HOME=str(tmp / "hf"))
    (folder,) = (tmp / "res").iterdir()
    return proc, folder


def test_skipped_models_and_tasks_are_reported_once_per_reason_and_recorded(partial):
    proc, folder = partial
    assert proc.returncode == 3, proc.stderr
    skipping = [line for line in proc.stderr.splitlines() if line.startswith("skipping")]
    assert skipping == [
        "skipping 2 local models, not cached, and offline (HF_HUB_OFFLINE is set): missing-a, missing-b",
        "skipping 2 API models, environment variable BENCH_NEWUSER_UNSET_KEY is not set: api-a, api-b",
        "skipping 1 Hub task, data not cached, and offline (HF_HUB_OFFLINE is set): gsm8k",
    ], proc.stderr
    cells = {(c["model"], c["task"]): c for c in map(json.loads, (folder / "cells.jsonl").read_text().splitlines())}
    assert len(cells) == 5 * 2
    assert cells[("tiny-chat", "ticket_routing")]["status"] == "ok"
    assert cells[("missing-a", "ticket_routing")]["status"] == "skipped"
    assert cells[("missing-a", "ticket_routing")]["reason"].startswith("model cannot be loaded: not cached")
    assert cells[("api-b", "ticket_routing")]["status"] == "no_key"
    assert all(cells[(m, "gsm8k")]["status"] == "skipped" for m in ("tiny-chat", "missing-a", "api-a"))
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["models"]["missing-b"]["status"] == "skipped" and manifest["models"]["api-a"]["status"] == "no_key"
    # the terminal table shows what ran; the skipped cells stay in the files
    assert "missing-a" not in proc.stdout and "tiny-chat" in proc.stdout
    assert "(9 skipped cell(s), reported above, are in summary.md and cells.jsonl)" in proc.stdout
    assert "missing-a" in (folder / "summary.md").read_text()


def test_progress_in_a_log_is_one_line_per_cell_without_carriage_returns(partial):
    proc, _ = partial
    assert "\r" not in proc.stderr
    assert re.search(r"^tiny-chat x ticket_routing: 2/2 examples$", proc.stderr, re.M), proc.stderr


def test_training_the_demo_tokenizer_prints_nothing(capfd):
    from bench.backends import tinymodel

    capfd.readouterr()
    tinymodel.train_tokenizer(["a few words", "to train on"] * 50, vocab_size=300)
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_tasks_default_to_the_shipped_copy_outside_a_project(tmp_path, monkeypatch, capsys):
    from bench.cli import main
    from bench.prepare.shipped import default_tasks_dir, packaged_tasks_dir

    monkeypatch.chdir(tmp_path)
    (tmp_path / "models.toml").write_text("", encoding="utf-8")
    assert main(["list", "--config", "models.toml"]) == 0
    captured = capsys.readouterr()
    shipped = packaged_tasks_dir()
    assert f"no ./tasks folder here: using the tasks shipped with bench ({shipped})" in captured.err
    assert f"tasks (from {shipped}):" in captured.out and "ticket_routing" in captured.out
    (tmp_path / "tasks").mkdir()  # a folder of the user's own tasks wins
    assert default_tasks_dir() == (Path("tasks"), None)


def _commands(text: str) -> list[list[str]]:
    """Every `python -m bench ...` the output tells the user to run: after "then: " on a "next:"
    line, and in backticks; split as a shell would."""
    found = [line.split("then: ", 1)[1] for line in text.splitlines() if line.startswith("next:") and "then: " in line]
    found += re.findall(r"`(python -m bench[^`]*)`", text)
    return [shlex.split(c) for c in found]


def test_every_command_the_tool_suggests_works_as_printed_in_a_fresh_folder(tmp_path):
    """A user's own CSV in an empty folder (no models.toml, no tasks/), the folder name with a
    space: each command `task init` and then a run print as the next step runs from that folder
    as printed (the demo with --limit and --tasks added: it builds and runs models)."""
    folder = tmp_path / "my project"
    folder.mkdir()
    rows = [f"t{i},{word} thing number {i},{label}" for i in range(12) for word, label in (("good", "pos"), ("bad", "neg"))]
    (folder / "reviews.csv").write_text("id,text,label\n" + "\n".join(rows) + "\n", encoding="utf-8")
    env = {"HF_HOME": str(tmp_path / "hf")}  # nothing cached: the shipped local models cannot load
    printed = []
    for extra in ([], ["--out", "my tasks", "--name", "reviews2"]):
        proc = bench("task", "init", "reviews.csv", "--input", "text", "--target", "label", *extra, cwd=folder, **env)
        assert proc.returncode == 0, proc.stderr
        printed += _commands(proc.stdout)
    assert len(printed) == 2
    proc = bench("--tasks", "reviews", "--limit", "2", cwd=folder, **env)  # the shipped registry: nothing can run
    assert proc.returncode == 4 and "nothing can run now" in proc.stderr, proc.stderr
    assert "no ./models.toml here: using the models.toml shipped with bench" in proc.stderr
    printed += _commands(proc.stderr)
    assert {c[3] if len(c) > 3 else "" for c in printed} >= {"validate", "demo", "list"}, printed
    for argv in printed:
        assert argv[:3] == ["python", "-m", "bench"], argv
        if argv[3:] == ["demo"]:
            argv = [*argv, "--limit", "1", "--tasks", "reviews"]
        done = bench(*argv[3:], cwd=folder, **env)
        out = done.stdout + done.stderr
        assert done.returncode == 0 and "not found" not in out and "Traceback" not in out, (argv, out)
    assert (folder / "my tasks" / "reviews2.toml").is_file()


def test_an_explicit_config_that_does_not_exist_stays_an_error(tmp_path):
    proc = bench("validate", "--config", "mine.toml", cwd=tmp_path)
    assert proc.returncode == 2 and "mine.toml: file not found" in proc.stderr, proc.stderr
    assert "models.toml shipped" not in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_models_toml_here_wins_over_the_shipped_one(tmp_path, monkeypatch, capsys):
    from bench.cli import main
    from bench.prepare.shipped import default_config, packaged_config

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    shipped = packaged_config()
    assert shipped is not None and shipped.name == "models.toml"
    assert default_config() == (shipped, f"no ./models.toml here: using the models.toml shipped with bench ({shipped})")
    (tmp_path / "models.toml").write_text('[models.mine]\nbackend = "transformers"\nmodel = "acme/x"\n', encoding="utf-8")
    assert default_config() == (Path("models.toml"), None)
    assert main(["list", "--tasks", "ticket_routing"]) == 0
    captured = capsys.readouterr()
    assert "mine" in captured.out and "smollm2" not in captured.out
    assert "models.toml shipped" not in captured.err
