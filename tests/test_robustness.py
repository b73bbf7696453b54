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
from bench.errors import InputError
from bench.lock import LOCK, RunLock
from bench.oom import generate_with_backoff, is_oom
from bench.report import summary
from bench.resume import changes, fingerprint, load_records
from bench.runner import OUTPUT_CAP_CHARS, Cell, Plan, Recorder
from bench.store import RECORDS, RunStore, drop_torn_tail, read_jsonl

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
    table = summary.rows([], [row])
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
