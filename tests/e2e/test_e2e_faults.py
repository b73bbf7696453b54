"""Through the real command line: Ctrl-C during local and API cells, a sentinel API key through
success, refusal, server errors, rate limits, a kill and a resume, and hostile answers from a server."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT, TASKS, write_models_toml
from fakeapi import FakeAPI

pytest.importorskip("openai")
pytest.importorskip("anthropic")

TICKETS = [json.loads(line) for line in (TASKS / "data" / "ticket_routing.jsonl").read_text().splitlines()]
SENTINEL = "sk-9d1c4e7a2b6f0358e1d2c3b4a5968778"


def ticket(messages: list[dict]) -> dict:
    return next(t for t in TICKETS if t["text"] in messages[-1]["content"])


def right_queue(messages: list[dict]) -> str:
    return ticket(messages)["queue"]  # the queue name only, as the prompt asks


def api_table(name: str, server: FakeAPI, backend: str = "openai", **options) -> str:
    url = server.base_url if backend == "openai" else server.root_url
    extra = "".join(f"{k} = {json.dumps(v)}\n" for k, v in options.items())
    return (f'\n[models.{name}]\nbackend = "{backend}"\nmodel = "{name}"\nbase_url = "{url}"\n'
            f'api_key_env = "E2E_KEY"\nbackoff_s = 0.01\n{extra}')


def _as_from_a_terminal() -> None:
    # a test run started in the background inherits SIGINT ignored; a terminal's program does not
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start(args: list[str], log: Path) -> subprocess.Popen:
    """The CLI in its own process group, as a terminal runs it (Ctrl-C goes to the whole group)."""
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT), E2E_KEY=SENTINEL)
    return subprocess.Popen([sys.executable, "-m", "bench", *args], cwd=ROOT, env=env, stdout=log.open("w"),
                            stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=_as_from_a_terminal)


def records(folder: Path) -> list[dict]:
    """The complete records; a last line still being written while the run is alive is left out."""
    path = folder / "records.jsonl"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    return [json.loads(x) for x in text[:text.rfind("\n") + 1].splitlines()]


def wait_for(predicate, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    t0 = time.monotonic()
    while not predicate():
        assert proc.poll() is None, "the run ended before the moment the test waits for"
        assert time.monotonic() - t0 < timeout
        time.sleep(0.01)


def children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def worker_of(pid: int) -> int | None:
    """A local model's worker process among the run's children (not multiprocessing's helper)."""
    for child in children(pid):
        try:
            cmd = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if b"spawn_main" in cmd and b"resource_tracker" not in cmd:
            return child
    return None


def kill_the_worker(proc: subprocess.Popen, res: Path) -> None:
    """SIGKILL to tiny-chat's worker once it has answered twice, as the out-of-memory killer would;
    then the run's end."""
    wait_for(lambda: res.exists() and any(sum(r["model"] == "tiny-chat" for r in records(f)) >= 2
                                          for f in res.iterdir()), proc)
    os.kill(worker_of(proc.pid), signal.SIGKILL)
    proc.wait(timeout=120)


def gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state == "Z"


@pytest.mark.parametrize("during, sig", [("local", signal.SIGINT), ("api", signal.SIGINT), ("api", signal.SIGTERM)])
def test_ctrl_c_stops_cleanly_and_the_run_resumes(tiny_models, tmp_path, during, sig):
    """SIGINT to the process group, as a terminal's Ctrl-C sends it; SIGTERM to the run alone, as a
    scheduler or `kill` sends it."""
    with FakeAPI(ttft_s=0.3, itl_s=0.01, reply=right_queue) as api:
        cfg = write_models_toml(tmp_path / "models.toml", {"tiny-chat": tiny_models["tiny-chat"]}, batch_size=1,
                                extra=api_table("gpt-fake", api, concurrency=2))
        args = ["--config", str(cfg), "--tasks-dir", str(TASKS), "--tasks", "ticket_routing", "--limit", "10"]
        proc = start([*args, "--out", str(tmp_path / "res")], tmp_path / "out1.txt")
        res = tmp_path / "res"

        def folder() -> Path | None:
            found = list(res.iterdir()) if res.exists() else []
            return found[0] if found else None

        def n_from(model: str) -> int:
            f = folder()
            return sum(r["model"] == model for r in records(f)) if f else 0

        wait_for(lambda: n_from("tiny-chat" if during == "local" else "gpt-fake") >= 2, proc)
        helpers = children(proc.pid)  # the model's worker (local) or none but the resource tracker
        t0 = time.monotonic()
        if sig == signal.SIGINT:
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)
        proc.wait(timeout=30)
        stopped_in = time.monotonic() - t0
        api_answers = sum(1 for s in api.log if s.completed and s.body.get("max_completion_tokens") != 1)
        in_flight = sum(1 for s in api.log if not s.completed)
    out = (tmp_path / "out1.txt").read_text()
    run = folder()
    assert proc.returncode == 130, out
    assert f"interrupted; what finished is saved; resume with: python -m bench --resume {run}" in out
    assert "Traceback" not in out, out
    assert stopped_in < 10  # in-flight requests are dropped, not waited for (each takes 0.3 s and more)
    assert not (run / "run.lock").exists()
    time.sleep(0.5)
    assert all(gone(pid) for pid in helpers), "a worker outlived the interrupted run"
    recs = records(run)  # every line parses: nothing half-written
    assert (run / "records.jsonl").read_text(encoding="utf-8").endswith("\n")
    man = json.loads((run / "manifest.json").read_text())
    assert man["interrupted_utc"] and not man["finished_utc"]
    if during == "api":
        # every answer the client received is on disk; in flight at Ctrl-C: at most the concurrency
        assert sum(r["model"] == "gpt-fake" for r in recs) == api_answers and in_flight <= 2

    with FakeAPI(reply=right_queue) as api2:  # the same run, its server back at the same config
        cfg.write_text(cfg.read_text().replace(api.base_url, api2.base_url))
        proc = start(["--resume", str(run), "--force"], tmp_path / "out2.txt")
        proc.wait(timeout=120)
    out = (tmp_path / "out2.txt").read_text()
    assert proc.returncode == 0, out
    keys = [(r["model"], r["example_id"]) for r in records(run)]
    assert len(keys) == len(set(keys)) == 20


def test_a_sentinel_key_appears_nowhere(tiny_models, tmp_path):
    """Success, 401, 500 and 429 with Retry-After, dropped streams; then kill -9 and a resume: no file
    of the run folder (lock and manifest included) and no line printed holds the key or a piece of it."""
    with FakeAPI(itl_s=0.001, reply=right_queue, retry_after_s=0.01, expected_key=SENTINEL) as good, \
            FakeAPI(expected_key="some-other-key") as refusing:
        good.faults_at_rate(0.4, seed=11, kinds=("429", "500", "drop"))
        cfg = write_models_toml(tmp_path / "models.toml", {}, extra=(
            api_table("gpt-fake", good, concurrency=1, max_attempts=3)
            + api_table("claude-fake", good, backend="anthropic", concurrency=2, max_attempts=2)
            + api_table("refused", refusing)))
        args = ["--config", str(cfg), "--tasks-dir", str(TASKS), "--tasks", "ticket_routing", "--limit", "12"]
        proc = start([*args, "--out", str(tmp_path / "res")], tmp_path / "out1.txt")
        res = tmp_path / "res"
        wait_for(lambda: res.exists() and any(records(f) for f in res.iterdir()), proc)
        (run,) = res.iterdir()
        lock = (run / "run.lock").read_text()
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc = start(["--resume", str(run)], tmp_path / "out2.txt")
        proc.wait(timeout=120)
        statuses = [s.fault for s in good.log]
    printed = (tmp_path / "out1.txt").read_text() + (tmp_path / "out2.txt").read_text()
    assert proc.returncode == 3, printed  # the refused model's cells failed
    assert {"429", "500", "drop"} <= set(statuses) and None in statuses
    recs = records(run)
    assert any(r["retries"] for r in recs) and any("401" in (r["error"] or "") for r in recs)
    assert "resuming" in printed and set(json.loads(lock)) == {"pid", "host", "started_utc", "start_ticks"}
    everything = [lock, printed] + [p.read_bytes().decode("utf-8", "replace") for p in run.rglob("*") if p.is_file()]
    pieces = {SENTINEL[i:i + 8] for i in range(len(SENTINEL) - 7)}
    for text in everything:
        assert not any(piece in text for piece in pieces)


HOSTILE = f"Queue: {TICKETS[0]['queue']}\x00\x1b[31m\x07\ud800 | evil | \u2028\x85 end\r\nafter the stop string"


def test_hostile_answers_are_stored_safely_and_the_summary_holds(tmp_path):
    """Control characters, NUL, a lone surrogate (JSON "\\ud800"), 300 kB of text, and bytes that
    are not UTF-8 at all (the SDKs refuse those: that example is recorded as failed, with why)."""
    def reply(messages):
        i = TICKETS.index(ticket(messages))
        return {0: HOSTILE, 1: "y" * 300_000, 2: "Queue: BADBYTES"}.get(i) or right_queue(messages)

    with FakeAPI(reply=reply, wire_swaps={b"BADBYTES": b"\xff\xfe\xc3("}) as api:
        cfg = write_models_toml(tmp_path / "models.toml", {}, extra=(
            api_table("gpt-fake", api) + api_table("claude-fake", api, backend="anthropic")))
        proc = start(["--config", str(cfg), "--tasks-dir", str(TASKS), "--tasks", "ticket_routing", "--limit", "4",
                      "--out", str(tmp_path / "res")], tmp_path / "out.txt")
        proc.wait(timeout=120)
    out = (tmp_path / "out.txt").read_text(encoding="utf-8")
    assert proc.returncode == 3, out  # the example whose answer was not UTF-8 got none: partial cells
    (run,) = (tmp_path / "res").iterdir()
    raw = (run / "records.jsonl").read_bytes()
    raw.decode("utf-8")  # strict
    assert len(raw.decode("utf-8").splitlines()) == 8
    recs = records(run)
    hostile = [r for r in recs if r["example_id"] == TICKETS[0]["id"]]
    assert all(r["error"] is None and r["output"].startswith(HOSTILE[:HOSTILE.index("\ud800")] + "\ufffd | evil | \u2028\x85")
               for r in hostile)
    huge = [r for r in recs if r["example_id"] == TICKETS[1]["id"]]
    assert all(r["output_capped"] and r["output_chars"] == 300_000 and len(r["output"]) == 65536 for r in huge)
    invalid = [r for r in recs if r["example_id"] == TICKETS[2]["id"]]
    assert all("UnicodeDecodeError" in r["error"] and r["score_reason"].startswith("no output") for r in invalid)
    md = (run / "summary.md").read_text(encoding="utf-8")
    assert "\x1b" not in md and "\x1b" not in out
    table = md.split("## Summary\n\n")[1].split("\n\n")[0].splitlines()  # the summary table, after the decision
    rows = [line for line in table if line.startswith("| ")]
    assert len(rows) == 3 and len({line.count(" | ") for line in rows}) == 1  # header and two whole rows
    head = rows[0].strip("| ").split(" | ")
    for model in ("gpt-fake", "claude-fake"):  # one failed example among four, counted
        row = dict(zip(head, next(line for line in rows if line.startswith(f"| {model} |")).strip("| ").split(" | ")))
        assert (row["task"], row["status"], row["n"], row["err"]) == ("ticket_routing", "partial", "4", "1")
        # the hostile answer starts with its label but is not only the label: lenient reads it, strict does not
        assert (row["acc %"], row["lenient %"]) == ("25.0", "50.0")  # strict: example 3; lenient: 0 and 3


def test_resume_retries_failed_examples_and_never_repeats_answered_ones(tmp_path):
    with FakeAPI(itl_s=0.001, reply=right_queue, slow_s=1.0, retry_after_s=0.01) as api:
        api.faults_at_rate(0.3, seed=5)  # 429 with Retry-After, 500, dropped streams, timeouts
        cfg = write_models_toml(tmp_path / "models.toml", {}, extra=api_table("gpt-fake", api, concurrency=4,
                                                                               max_attempts=1, timeout_s=0.3))
        proc = start(["--config", str(cfg), "--tasks-dir", str(TASKS), "--tasks", "ticket_routing", "--limit", "16",
                      "--out", str(tmp_path / "res")], tmp_path / "out1.txt")
        proc.wait(timeout=120)
        (run,) = (tmp_path / "res").iterdir()
        first = records(run)
        failed = {r["example_id"] for r in first if r["error"]}
        assert failed and len(failed) < 16 and all(r["error"] for r in first if r["example_id"] in failed)
        seen = len(api.log)
        api.fault = lambda index: None  # the provider recovers
        proc = start(["--resume", str(run)], tmp_path / "out2.txt")
        proc.wait(timeout=120)
        again = [ticket(s.body["messages"])["id"] for s in api.log[seen:] if s.body.get("max_completion_tokens") != 1]
    out = (tmp_path / "out2.txt").read_text()
    assert proc.returncode == 0, out
    assert f"{len(failed)} failed example(s) will be run again" in out
    assert sorted(again) == sorted(failed)  # only the failed ones were sent again
    final = records(run)
    assert len(final) == 16 == len({r["example_id"] for r in final}) and not any(r["error"] for r in final)


def test_a_killed_worker_loses_only_its_own_cells_and_resume_completes_them(tiny_models, tmp_path):
    """What the kernel's out-of-memory killer does to a worker (SIGKILL): that model's cells fail
    with the reason, the other model runs, and a resume runs only the examples the dead one missed."""
    cfg = write_models_toml(tmp_path / "models.toml", tiny_models, batch_size=1)
    args = ["--config", str(cfg), "--tasks-dir", str(TASKS), "--tasks", "ticket_routing", "--limit", "6",
            "--out", str(tmp_path / "res")]
    proc = start(args, tmp_path / "out1.txt")
    res = tmp_path / "res"
    kill_the_worker(proc, res)
    out = (tmp_path / "out1.txt").read_text()
    (run,) = res.iterdir()
    assert proc.returncode == 3, out
    assert "tiny-chat x ticket_routing: worker process died (signal SIGKILL; killed by the system, often for " \
           "lack of memory) after" in out
    cells = {(c["model"], c["task"]): c for c in map(json.loads, (run / "cells.jsonl").read_text().splitlines())}
    assert {c["status"] for (m, _), c in cells.items() if m == "tiny-chat"} == {"failed"}
    assert {c["status"] for (m, _), c in cells.items() if m == "tiny-plain"} == {"ok"}
    plain_before = [r for r in records(run) if r["model"] == "tiny-plain"]

    proc = start(["--resume", str(run)], tmp_path / "out2.txt")
    proc.wait(timeout=120)
    assert proc.returncode == 0, (tmp_path / "out2.txt").read_text()
    final = records(run)
    keys = [(r["model"], r["task"], r["example_id"]) for r in final]
    assert len(keys) == len(set(keys)) == 2 * 6
    assert [r for r in final if r["model"] == "tiny-plain"] == plain_before  # not run again
    cells = [json.loads(x) for x in (run / "cells.jsonl").read_text().splitlines()]
    assert len(cells) == 2 and {c["status"] for c in cells} == {"ok"}
    assert any(c["model"] == "tiny-chat" and c["resumed_examples"] > 0 for c in cells)


def last_lines(text: str, n: int = 2) -> list[str]:
    return [line for line in text.splitlines() if line.strip()][-n:]


def test_failed_requests_make_the_cell_partial_and_say_how_to_resume(tmp_path):
    """Requests that still fail after their retries: the cell is partial (exit 3) and the run ends by
    saying how many examples got no answer and how to run them again. A resume whose retries all
    fail again keeps the answers of the first session: still partial, never "every request failed"."""
    n = 20
    with FakeAPI(itl_s=0.001, reply=right_queue) as api:
        api.faults_at_rate(0.4, seed=3, kinds=("500",))
        cfg = write_models_toml(tmp_path / "models.toml", {}, extra=api_table("gpt-fake", api, concurrency=4,
                                                                               max_attempts=1))
        proc = start(["--config", str(cfg), "--tasks-dir", str(TASKS), "--tasks", "ticket_routing", "--limit", str(n),
                      "--out", str(tmp_path / "res")], tmp_path / "out1.txt")
        proc.wait(timeout=120)
        (run,) = (tmp_path / "res").iterdir()
        out = (tmp_path / "out1.txt").read_text()
        failed = sum(1 for r in records(run) if r["error"])
        assert 0 < failed < n
        assert proc.returncode == 3, out
        (cell,) = [json.loads(x) for x in (run / "cells.jsonl").read_text().splitlines()]
        assert (cell["status"], cell["errors"]) == ("partial", failed)
        assert f"{failed} example(s) got no answer" in cell["reason"]
        assert last_lines(out) == [f"{failed} of {n} example(s) got no answer, in 1 cell(s); what was answered is saved",
                                   f"run them again with: python -m bench --resume {run}"], out

        api.fault = lambda index: "500"  # every retry fails
        proc = start(["--resume", str(run)], tmp_path / "out2.txt")
        proc.wait(timeout=120)
        out = (tmp_path / "out2.txt").read_text()
        assert proc.returncode == 3, out
        (cell,) = [json.loads(x) for x in (run / "cells.jsonl").read_text().splitlines()]
        assert (cell["status"], cell["errors"], cell["recorded"]) == ("partial", failed, n), cell
        assert "every request failed" not in out and f"{failed} of {n} example(s) got no answer" in out
        summary = {r["model"]: r for r in csv.DictReader((run / "summary.csv").open(encoding="utf-8"))}
        assert summary["gpt-fake"]["status"] == "partial"

        api.fault = lambda index: None  # the provider recovers
        proc = start(["--resume", str(run)], tmp_path / "out3.txt")
        proc.wait(timeout=120)
        out = (tmp_path / "out3.txt").read_text()
    assert proc.returncode == 0, out
    assert "got no answer" not in out and "--resume" not in out
    (cell,) = [json.loads(x) for x in (run / "cells.jsonl").read_text().splitlines()]
    assert (cell["status"], cell["errors"], cell["reason"]) == ("ok", 0, None)
    assert sorted(r["example_id"] for r in records(run)) == sorted(t["id"] for t in TICKETS[:n])


def test_a_cell_whose_every_request_failed_has_failed_and_the_run_ran_nothing(tmp_path):
    with FakeAPI(reply=right_queue) as api:
        api.fault = lambda index: "500"
        cfg = write_models_toml(tmp_path / "models.toml", {}, extra=api_table("gpt-fake", api, max_attempts=1))
        proc = start(["--config", str(cfg), "--tasks-dir", str(TASKS), "--tasks", "ticket_routing", "--limit", "3",
                      "--out", str(tmp_path / "res")], tmp_path / "out.txt")
        proc.wait(timeout=120)
    out = (tmp_path / "out.txt").read_text()
    (run,) = (tmp_path / "res").iterdir()
    (cell,) = [json.loads(x) for x in (run / "cells.jsonl").read_text().splitlines()]
    assert proc.returncode == 4, out
    assert cell["status"] == "failed" and cell["reason"].startswith("every request failed; first error: ")
    assert last_lines(out)[-1] == f"run them again with: python -m bench --resume {run}"
