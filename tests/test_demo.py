"""`bench demo`'s own choices: its workers run torch on one CPU thread unless the user says
otherwise, and its models are written without torch in this process."""

from __future__ import annotations

import os

from bench import demo


def test_the_demo_workers_get_one_thread_and_the_environment_is_restored(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    with demo.one_thread():
        assert os.environ["OMP_NUM_THREADS"] == "1"  # what the spawned workers inherit
    assert "OMP_NUM_THREADS" not in os.environ
    monkeypatch.setenv("OMP_NUM_THREADS", "3")  # the user's choice wins
    with demo.one_thread():
        assert os.environ["OMP_NUM_THREADS"] == "3"
    assert os.environ["OMP_NUM_THREADS"] == "3"


def test_the_demo_runs_its_models_inside_one_thread(monkeypatch, tmp_path):
    seen = {}

    def execute(opts):
        seen["threads"] = os.environ.get("OMP_NUM_THREADS")
        seen["config"] = opts.config.read_text(encoding="utf-8")
        return tmp_path, 0

    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(demo, "execute", execute)
    from conftest import TASKS

    assert demo.run_demo(tasks_dir=TASKS, tasks="ticket_routing", limit=1, out=tmp_path) == (tmp_path, 0)
    assert seen["threads"] == "1" and "OMP_NUM_THREADS" not in os.environ
    assert "[models.demo-tiny]" in seen["config"] and "[models.demo-small]" in seen["config"]
