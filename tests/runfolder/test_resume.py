"""kill -9 at random points, resume each time: the run ends with one record per (model, task,
example, repeat), the accuracy table of an uninterrupted run, and no example answered twice by the
API (the test server counts the answers it completed)."""

from __future__ import annotations

import csv
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest
from conftest import ROOT, TASKS, write_models_toml
from fakeapi import FakeAPI

pytest.importorskip("openai")

KEY = "sk-resume-SENTINEL-0a1b2c3d4e5f"
TICKETS = [json.loads(line) for line in (TASKS / "data" / "ticket_routing.jsonl").read_text().splitlines()]
LIMIT, REPEATS = 8, 2


def example_of(messages: list[dict]) -> str:
    """Which example a request is about, from its last user message."""
    prompt = messages[-1]["content"]
    return next(t["id"] for t in TICKETS if t["text"] in prompt)


def reply(messages: list[dict]) -> str:
    """The right queue, except for every third ticket: an accuracy table that is not all ones."""
    ex = example_of(messages)
    queue = next(t["queue"] for t in TICKETS if t["id"] == ex)
    return f"Queue: {queue}" if sum(map(ord, ex)) % 3 else "Queue: no idea"


def start(args: list[str], log, **env_vars: str) -> subprocess.Popen:
    """The CLI in a subprocess; its output goes to a file (a pipe nobody reads could block it)."""
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT), E2E_KEY=KEY, **env_vars)
    return subprocess.Popen([sys.executable, "-m", "bench", *args], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT)


def lines(path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def kill_when(proc: subprocess.Popen, folder_of, point: tuple[str, float]) -> bool:
    """SIGKILL the run at `point`: ("s", seconds after start) or ("records", n on disk). False if it
    finished first."""
    kind, at = point
    t0 = time.monotonic()
    while proc.poll() is None:
        folder = folder_of()
        if (kind == "s" and time.monotonic() - t0 >= at) or \
                (kind == "records" and folder is not None and lines(folder / "records.jsonl") >= at):
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return True
        time.sleep(0.003)
    return False


def table(folder) -> list[tuple]:
    rows = csv.DictReader((folder / "summary.csv").open(encoding="utf-8"))
    return sorted((r["model"], r["task"], r["status"], r["n"], r["accuracy"], r["errors"], r["ci_low"]) for r in rows)


def records(folder) -> list[dict]:
    return [json.loads(x) for x in (folder / "records.jsonl").read_text(encoding="utf-8").splitlines()]


def answered(api: FakeAPI) -> Counter:
    """Completed answers per (example, repeat-blind) request; warm-ups (one token) are not examples."""
    return Counter(example_of(s.body["messages"]) for s in api.log
                   if s.completed and (s.body.get("max_completion_tokens") or s.body.get("max_tokens")) != 1)


def test_kill_9_at_random_points_then_resume(tiny_models, tmp_path):
    # 0.1 s to the first token: time for the test to kill the run before the next answer is complete
    with FakeAPI(ttft_s=0.1, itl_s=0.004, reply=reply) as clean_api, FakeAPI(ttft_s=0.1, itl_s=0.004,
                                                                           reply=reply) as api:
        def config(server: FakeAPI, name: str) -> str:
            # concurrency 1: a kill just after a record lands cannot fall between another answer
            # leaving the server and reaching the disk, the one window no client can close (README)
            api_table = (f'\n[models.gpt-fake]\nbackend = "openai"\nmodel = "gpt-fake"\n'
                         f'base_url = "{server.base_url}"\napi_key_env = "E2E_KEY"\nconcurrency = 1\nbackoff_s = 0.01\n')
            return str(write_models_toml(tmp_path / name, {"tiny-chat": tiny_models["tiny-chat"]}, batch_size=2,
                                         extra=api_table))

        common = ["--tasks-dir", str(TASKS), "--tasks", "ticket_routing", "--limit", str(LIMIT),
                  "--repeats", str(REPEATS)]
        log = open(tmp_path / "output.txt", "w+")
        clean = start(["--config", config(clean_api, "clean.toml"), *common, "--out", str(tmp_path / "clean")], log)
        clean.wait(timeout=120)
        assert clean.returncode == 0, (tmp_path / "output.txt").read_text()
        (clean_folder,) = (tmp_path / "clean").iterdir()

        res = tmp_path / "res"
        cfg = config(api, "models.toml")

        def folder_of():
            found = list(res.iterdir()) if res.exists() else []
            return found[0] if found else None

        total = 2 * LIMIT * REPEATS  # models x examples x repeats
        rng = random.Random(20261125)
        points = [("s", rng.uniform(0.2, 1.5)),  # early: starting up, loading, or the first batches
                  ("records", rng.randint(3, total // 3)),  # local model mid-run
                  ("records", rng.randint(total // 2 + 1, total // 2 + 8)),  # API model mid-run
                  ("records", total - rng.randint(1, 3))]  # late
        proc = start(["--config", cfg, *common, "--out", str(res)], log)
        kills, torn = 0, False
        for i, point in enumerate(points):
            if kill_when(proc, folder_of, point):
                kills += 1
            folder = folder_of()
            if folder is None:  # killed before the run folder existed: start again, nothing to resume
                proc = start(["--config", cfg, *common, "--out", str(res)], log)
                continue
            if i == 1 and (folder / "records.jsonl").exists():
                # a kill inside write(): half of a record without its newline is left behind
                line = (folder / "records.jsonl").read_bytes().splitlines()[0]
                with open(folder / "records.jsonl", "ab") as f:
                    f.write(line[: len(line) // 2])
                torn = True
            proc = start(["--resume", str(folder)], log)
        proc.wait(timeout=120)
        log.seek(0)
        err = log.read()
        assert proc.returncode == 0, err
        assert kills >= 3, "the kill points must land before the run ends"
        assert torn and "dropped a torn last line" in err
        counts = answered(api)
        clean_counts = answered(clean_api)

    folder = folder_of()
    recs = records(folder)
    keys = [(r["model"], r["task"], r["example_id"], r["repeat"]) for r in recs]
    assert len(keys) == len(set(keys)) == total
    assert table(folder) == table(clean_folder)
    by_key = {(r["model"], r["task"], r["example_id"], r["repeat"]): r["score"] for r in records(clean_folder)}
    assert {k: r["score"] for k, r in zip(keys, recs)} == by_key
    # every API request answered exactly as often as in the clean run: nothing paid for twice
    assert counts == clean_counts and set(counts.values()) == {REPEATS}
    cells = [json.loads(x) for x in (folder / "cells.jsonl").read_text().splitlines()]
    assert sorted((c["model"], c["task"]) for c in cells) == sorted(
        (m, "ticket_routing") for m in ("tiny-chat", "gpt-fake"))
    man = json.loads((folder / "manifest.json").read_text())
    assert man["finished_utc"] and len(man["resumes"]) >= kills - 1
    assert not (folder / "run.lock").exists()
