"""The pieces that keep a run alive and its folder sound: the lock, the out-of-memory back-off, torn
lines, hostile model output in records and in the summary, a scorer that raises."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest

from bench import scoring
from bench.backends.oom import generate_with_backoff, is_oom
from bench.core.types import Cell
from bench.errors import EXIT_INTERRUPTED, InputError
from bench.execute.recording import OUTPUT_CAP_CHARS, Recorder
from bench.prepare.planning import Plan
from bench.report import summary
from bench.runfolder.lock import LOCK, RunLock
from bench.runfolder.resume import changes, fingerprint, load_records
from bench.runfolder.store import RECORDS, RunStore, drop_torn_tail, read_jsonl

torch = pytest.importorskip("torch")


# ---------------------------------------------------------------- lock


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_second_writer_is_refused(tmp_path):
    with RunLock(tmp_path).acquire():
        with pytest.raises(InputError, match=f"being written by pid {os.getpid()} on {socket.gethostname()}"):
            RunLock(tmp_path).acquire()
    assert not (tmp_path / LOCK).exists()  # released


def test_a_stale_lock_from_a_dead_process_is_taken_over_with_a_notice(tmp_path):
    pid = dead_pid()
    (tmp_path / LOCK).write_text(json.dumps({"pid": pid, "host": socket.gethostname(), "started_utc": "x"}))
    notes = []
    lock = RunLock(tmp_path).acquire(warn=notes.append)
    assert json.loads((tmp_path / LOCK).read_text())["pid"] == os.getpid()
    assert notes and f"pid {pid}" in notes[0] and "no longer running" in notes[0]
    lock.release()


def test_a_reused_pid_is_not_mistaken_for_the_writer(tmp_path):
    # our own pid, but with another start time: the process that wrote the lock is gone
    (tmp_path / LOCK).write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "start_ticks": 1}))
    RunLock(tmp_path).acquire(warn=lambda m: None).release()


def test_a_lock_from_another_host_is_respected(tmp_path):
    (tmp_path / LOCK).write_text(json.dumps({"pid": dead_pid(), "host": "some-other-host", "started_utc": "x"}))
    with pytest.raises(InputError, match="some-other-host"):
        RunLock(tmp_path).acquire()


def test_a_torn_lock_file_is_stale(tmp_path):
    (tmp_path / LOCK).write_text('{"pid": 12')
    RunLock(tmp_path).acquire(warn=lambda m: None).release()


# ---------------------------------------------------------------- out of memory


def fake_generate(limit: int, calls: list[int]):
    """Fails like CUDA does above `limit` rows; answers each row with its own value otherwise."""
    def generate(rows):
        calls.append(len(rows))
        if len(rows) > limit:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return [r * 10 for r in rows]
    return generate


def test_out_of_memory_halves_the_batch_until_it_fits():
    calls, released = [], []
    out, size = generate_with_backoff(fake_generate(3, calls), list(range(8)), 8, release=lambda: released.append(1))
    assert out == [r * 10 for r in range(8)]  # every row, in order
    assert size == 2 and calls == [8, 4, 2, 2, 2, 2] and len(released) == 2


def test_the_size_that_worked_is_kept_for_the_next_batch():
    calls = []
    _, size = generate_with_backoff(fake_generate(5, calls), list(range(8)), 8)
    assert size == 4
    calls.clear()
    out, size = generate_with_backoff(fake_generate(5, calls), list(range(8, 16)), size)
    assert calls == [4, 4] and size == 4 and out == [r * 10 for r in range(8, 16)]


def test_out_of_memory_on_one_row_gives_up():
    with pytest.raises(torch.OutOfMemoryError):
        generate_with_backoff(fake_generate(0, []), [1, 2, 3], 3)


def test_other_errors_are_not_retried():
    calls = []

    def broken(rows):
        calls.append(len(rows))
        raise ValueError("bad input")
    with pytest.raises(ValueError):
        generate_with_backoff(broken, [1, 2, 3, 4], 4)
    assert calls == [4]


def test_is_oom():
    assert is_oom(torch.OutOfMemoryError("x"))
    assert is_oom(RuntimeError("MPS backend out of memory (MPS allocated: 1 GB)"))
    assert not is_oom(RuntimeError("shape mismatch"))


# ---------------------------------------------------------------- records


def test_a_torn_tail_is_cut_to_the_last_complete_line(tmp_path):
    path = tmp_path / RECORDS
    path.write_bytes(b'{"a": 1}\n{"a": 2}\n{"a": 3, "b"')
    assert drop_torn_tail(path) == len(b'{"a": 3, "b"')
    assert path.read_bytes() == b'{"a": 1}\n{"a": 2}\n'
    assert drop_torn_tail(path) == 0


def test_damage_in_the_middle_is_not_forgiven(tmp_path):
    rec = json.dumps({"model": "m", "task": "t", "example_id": "1", "repeat": 0})
    (tmp_path / RECORDS).write_text(rec + "\nGARBAGE\x00\x01\n" + rec + "\n")
    with pytest.raises(InputError, match=rf"{RECORDS}:2: corrupted record"):
        load_records(tmp_path)


def plan_for(scorer) -> Plan:
    return Plan(requests=[], targets={"1": "billing", "2": "billing"}, prompt_sha256={"1": "h", "2": "h"},
                scorer=scorer)


def completion(text: str) -> dict:
    return {"text": text, "input_tokens": 3, "output_tokens": 2, "finish_reason": "stop", "error": None,
            "retries": 0}


HOSTILE = "ok\x00\x1b[2J\x07 | col |\r\nline\u2028sep\x85\ud800 lone \udfff end"


def test_hostile_output_is_stored_as_valid_utf8_json_lines(tmp_path):
    store = RunStore(tmp_path)
    cell = Cell("m", "t")
    big = "x" * (3 * 2**20)
    Recorder(store, {"t": plan_for(scoring.label(labels=["billing"]))}).record(
        cell, ["1", "2"], [completion(HOSTILE), completion(big)])
    raw = (tmp_path / RECORDS).read_bytes()
    raw.decode("utf-8")  # strict: no lone surrogates, no invalid bytes
    assert raw.count(b"\n") == 2 and len(raw.decode().splitlines()) == 2  # no line breaks inside a record
    first, second = read_jsonl(tmp_path / RECORDS)
    assert first["output"].startswith("ok\x00\x1b[2J") and "\ufffd lone \ufffd" in first["output"]
    assert first["output_capped"] is False
    assert second["output_capped"] is True and second["output_chars"] == len(big)
    assert len(second["output"]) == OUTPUT_CAP_CHARS and len(raw) < 2 * OUTPUT_CAP_CHARS + 4096


def test_a_scorer_that_raises_fails_that_example_only(tmp_path):
    def scorer(output, target):
        if "boom" in output:
            raise ValueError("cannot parse")
        return scoring.Score(1.0, output, "ok")
    cell = Cell("m", "t")
    recorder = Recorder(RunStore(tmp_path), {"t": plan_for(scorer)})
    recorder.record(cell, ["1", "2"], [completion("boom"), completion("a")])
    bad, good = read_jsonl(tmp_path / RECORDS)
    assert bad["score"] == 0.0 and bad["score_reason"] == "scoring failed: ValueError: cannot parse"
    assert good["score"] == 1.0
    assert cell.score_errors == 1 and "example '1' could not be scored" in cell.reason


def test_hostile_text_never_breaks_the_summary():
    row = {"model": "m|x", "task": "t", "status": "failed", "reason": HOSTILE, "accuracy": 0.5}
    table = summary.rows([], [Cell.from_json(row)])
    md = summary.to_markdown(table, "title", [])
    text = summary.to_text(table)
    for out in (md, text):
        assert "\x1b" not in out and "\x00" not in out and "\x07" not in out and "\u2028" not in out
    assert "| m\\|x | t | failed |" in md
    assert "\\| col \\|" in md  # the reason's pipes cannot open table columns
    body = [line for line in md.splitlines() if line.startswith("|")]
    assert all(line.count("|") - line.count("\\|") == body[0].count("|") for line in body[2:])


# ---------------------------------------------------------------- resume fingerprints


def manifest(**over) -> dict:
    m = {"options": {"models": ["a"], "tasks": ["t"], "limit": 5, "repeats": 1, "speed": False, "device": None},
         "tasks": {"t": {"sha256": "1", "data_sha256": "2", "prompts_sha256": "3", "examples_run": 5,
                         "fewshot_ids": []}},
         "models": {"a": {"config": {"model": "org/a", "revision": "main", "batch_size": 4}}}}
    for k, v in over.items():
        section, _, key = k.partition("__")
        target = m[section] if section == "options" else m[section][next(iter(m[section]))]
        if section == "models":
            target = target["config"]
        target[key] = v
    return m


@pytest.mark.parametrize("over, said", [
    ({"options__limit": 6}, "--limit: 5 -> 6"),
    ({"tasks__data_sha256": "X"}, "task t: data changed"),
    ({"tasks__prompts_sha256": "X"}, "task t: rendered prompts changed"),
    ({"tasks__sha256": "X"}, "task t: task file changed"),
    ({"models__revision": "v2"}, "model a: revision 'main' -> 'v2'"),
    ({"options__repeats": 3}, "--repeats: 1 -> 3"),
])
def test_changes_name_what_changed(over, said):
    assert changes(fingerprint(manifest()), fingerprint(manifest(**over))) == [said]
    assert changes(fingerprint(manifest()), fingerprint(manifest())) == []


# ---------------------------------------------------------------- resume: skipped tasks, scorer files, cells


def project(tmp_path, api=None, concurrency: int = 3):
    """A tasks folder with ticket_routing and 'hubby' (the same task, standing in for a Hub task whose
    data may be unreachable), and a models.toml with one API model on the fake server."""
    import shutil

    from conftest import TASKS

    tasks_dir = tmp_path / "tasks"
    (tasks_dir / "data").mkdir(parents=True)
    shutil.copy(TASKS / "data" / "ticket_routing.jsonl", tasks_dir / "data")
    for name in ("ticket_routing", "hubby"):
        shutil.copy(TASKS / "ticket_routing.toml", tasks_dir / f"{name}.toml")
    url = api.base_url if api else "http://127.0.0.1:9/v1"
    config = tmp_path / "models.toml"
    config.write_text(f'[models.fake]\nbackend = "openai"\nmodel = "fake"\nbase_url = "{url}"\n'
                      f'api_key_env = "ROBUST_KEY"\nbackoff_s = 0.01\nconcurrency = {concurrency}\n', encoding="utf-8")
    return tasks_dir, config


def unreachable(monkeypatch, *names: str) -> None:
    """tasks.load raises DataUnavailable for these tasks, as for a Hub dataset while offline."""
    from bench.prepare import tasks

    real = tasks.__dict__.get("_real_load", tasks.load)
    monkeypatch.setattr(tasks, "_real_load", real, raising=False)

    def load(task, limit=None):
        if task.name in names:
            raise tasks.DataUnavailable(f"dataset 'org/{task.name}': the Hub is unreachable (test)")
        return real(task, limit)

    monkeypatch.setattr(tasks, "load", load)


def cell_lines(run) -> list[dict]:
    return [json.loads(x) for x in (run / "cells.jsonl").read_text(encoding="utf-8").splitlines()]


def quiet(*args, **kwargs) -> None:
    pass


@pytest.fixture
def fake_api(monkeypatch):
    pytest.importorskip("openai")
    from fakeapi import FakeAPI

    monkeypatch.setenv("ROBUST_KEY", "sk-test")
    with FakeAPI(reply=lambda messages: "billing") as api:
        yield api


def test_a_task_skipped_at_the_start_runs_when_its_data_loads_on_resume(tmp_path, monkeypatch, fake_api):
    from bench.execute.options import Options, resumed_options
    from bench.run import execute

    tasks_dir, config = project(tmp_path, fake_api)
    unreachable(monkeypatch, "hubby")
    run, _ = execute(Options(config=config, tasks_dir=tasks_dir, limit=3, out=tmp_path / "res"), echo=quiet)
    man = json.loads((run / "manifest.json").read_text())
    assert man["options"]["tasks"] == ["hubby", "ticket_routing"]  # selected, loaded or not
    assert list(man["skipped_tasks"]) == ["hubby"] and "hubby" not in man["tasks"]
    monkeypatch.undo()  # the Hub is reachable again
    monkeypatch.setenv("ROBUST_KEY", "sk-test")
    _, code = execute(resumed_options(run), echo=quiet)
    assert code == 0
    cells = cell_lines(run)
    assert sorted((c["model"], c["task"], c["status"]) for c in cells) == [
        ("fake", "hubby", "ok"), ("fake", "ticket_routing", "ok")]  # one line per cell, the skip gone
    assert {r["task"] for r in read_jsonl(run / RECORDS)} == {"hubby", "ticket_routing"}
    man = json.loads((run / "manifest.json").read_text())
    assert man["skipped_tasks"] == {} and "hubby" in man["tasks"]


def test_a_task_whose_data_is_unreachable_on_resume_is_not_a_changed_selection(tmp_path, monkeypatch, fake_api):
    from bench.execute.options import Options, resumed_options
    from bench.run import execute

    tasks_dir, config = project(tmp_path, fake_api)
    run, _ = execute(Options(config=config, tasks_dir=tasks_dir, limit=3, out=tmp_path / "res"), echo=quiet)
    records = read_jsonl(run / RECORDS)
    with (run / RECORDS).open("w", encoding="utf-8") as f:  # a crash before ticket_routing's last answer
        f.writelines(json.dumps(r) + "\n" for r in records if r["task"] == "hubby" or r["example_id"] != records[-1]["example_id"])
    (run / "cells.jsonl").write_text("".join(json.dumps(c) + "\n" for c in cell_lines(run) if c["task"] == "hubby"))
    unreachable(monkeypatch, "hubby")  # resumed offline: no --tasks given, so none changed
    _, code = execute(resumed_options(run), echo=quiet)
    cells = {c["task"]: c for c in cell_lines(run)}
    assert len(cell_lines(run)) == 2 and cells["ticket_routing"]["status"] == "ok"
    assert cells["hubby"]["status"] == "ok"  # finished in the first session: kept, not turned into a skip
    man = json.loads((run / "manifest.json").read_text())
    assert man["options"]["tasks"] == ["hubby", "ticket_routing"] and "hubby" in man["skipped_tasks"]
    assert "hubby" in man["tasks"]  # what ran of it stays described
    assert code == 0


def test_a_task_skipped_in_every_session_stays_one_skipped_cell(tmp_path, monkeypatch, fake_api):
    from bench.execute.options import Options, resumed_options
    from bench.run import execute

    tasks_dir, config = project(tmp_path, fake_api)
    unreachable(monkeypatch, "hubby")
    run, _ = execute(Options(config=config, tasks_dir=tasks_dir, limit=2, out=tmp_path / "res"), echo=quiet)
    for _ in range(2):
        _, code = execute(resumed_options(run), echo=quiet)
    cells = cell_lines(run)
    assert sorted((c["task"], c["status"]) for c in cells) == [("hubby", "skipped"), ("ticket_routing", "ok")]
    assert code == 3


def test_a_cell_rebuilt_from_its_records_keeps_the_models_concurrency(tmp_path, fake_api):
    from bench.execute.options import Options, resumed_options
    from bench.run import execute

    tasks_dir, config = project(tmp_path, fake_api, concurrency=5)
    run, _ = execute(Options(config=config, tasks_dir=tasks_dir, tasks="ticket_routing", limit=2,
                             out=tmp_path / "res"), echo=quiet)
    (run / "cells.jsonl").write_text("")  # the crash came after the last record, before the cell's line
    execute(resumed_options(run), echo=quiet)
    (cell,) = cell_lines(run)
    assert (cell["status"], cell["concurrency"], cell["batch_size"], cell["resumed_examples"]) == ("ok", 5, 1, 2)


def test_a_resumed_run_keeps_its_title_and_notes(tmp_path, fake_api):
    from bench.execute.options import Options, resumed_options
    from bench.run import execute

    tasks_dir, config = project(tmp_path, fake_api)
    run, _ = execute(Options(config=config, tasks_dir=tasks_dir, tasks="ticket_routing", limit=2, title="DEMO run",
                             notes=["random weights: accuracy means nothing"], out=tmp_path / "res"), echo=quiet)
    opts = resumed_options(run)
    assert (opts.title, opts.notes) == ("DEMO run", ["random weights: accuracy means nothing"])
    execute(opts, echo=quiet)
    man = json.loads((run / "manifest.json").read_text())
    assert (man["title"], man["notes"]) == ("DEMO run", ["random weights: accuracy means nothing"])
    md = (run / "summary.md").read_text()
    assert "DEMO run" in md and "random weights: accuracy means nothing" in md


def test_an_interrupted_demo_says_to_run_the_demo_again(tmp_path, monkeypatch, capsys, fake_api):
    from bench import demo
    from bench import run as run_mod
    from bench.execute.options import resumed_options

    _, config = project(tmp_path, fake_api)
    monkeypatch.setattr(demo, "write_models", lambda model_dir, tasks_dir: config)

    def stop(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(run_mod, "_run", stop)
    folder, code = demo.run_demo(tasks="ticket_routing", limit=2, out=tmp_path / "res")
    err = capsys.readouterr().err
    assert code == EXIT_INTERRUPTED
    assert "--resume" not in err and "run `bench demo` again" in err, err
    with pytest.raises(InputError, match="run `bench demo` again"):
        resumed_options(folder)


@pytest.mark.parametrize("kind", ["database", "module"])
def test_a_changed_scorer_file_is_refused_on_resume(tmp_path, kind):
    import shutil

    from conftest import TASKS

    from bench.execute.options import Options, prepare
    from bench.runfolder import manifest as manifest_mod
    from bench.runfolder.resume import check_unchanged

    tasks_dir, config = project(tmp_path)
    if kind == "database":
        for name in ("text_to_sql.jsonl", "sales.sql"):
            shutil.copy(TASKS / "data" / name, tasks_dir / "data")
        shutil.copy(TASKS / "text_to_sql.toml", tasks_dir / "text_to_sql.toml")
        task, changed = "text_to_sql", tasks_dir / "data" / "sales.sql"
    else:
        text = (tasks_dir / "ticket_routing.toml").read_text()
        start = text.index("[score]")
        (tasks_dir / "mine.toml").write_text(text[:start] + '[score]\nscorer = "robust_scorer_xyz:score"\n'
                                             'target = "{queue}"\n', encoding="utf-8")
        (tasks_dir / "robust_scorer_xyz.py").write_text("def score(output, target):\n    return output == target\n")
        task, changed = "mine", tasks_dir / "robust_scorer_xyz.py"
    opts = Options(config=config, tasks_dir=tasks_dir, tasks=task, limit=2)
    old = manifest_mod.build("r", opts, prepare(opts))
    assert old["tasks"][task]["scorer_sha256"]
    check_unchanged(tmp_path, old, manifest_mod.build("r", opts, prepare(opts)), False, quiet)  # unchanged: fine
    changed.write_text(changed.read_text() + "\n-- edited\n" if kind == "database" else
                       changed.read_text() + "\n# edited\n")
    new = manifest_mod.build("r", opts, prepare(opts))
    with pytest.raises(InputError, match=f"task {task}: scorer {kind} changed"):
        check_unchanged(tmp_path, old, new, False, quiet)
    warned = []
    assert check_unchanged(tmp_path, old, new, True, warned.append) == [f"task {task}: scorer {kind} changed"]
