"""A disk that refuses a write (full, over quota, a file size limit): the run ends with one line
naming the file and the resume command (exit 5), leaves no temporary file, and a resume completes
it once there is room, with every example exactly once.

Three ways to make the disk refuse: an injected ENOSPC from fsync at the store boundary
(in-process, any file), RLIMIT_FSIZE in a subprocess (the kernel's EFBIG, no privileges needed),
and a real full tmpfs (needs root; skipped with the reason where it cannot be mounted)."""

from __future__ import annotations

import errno
import json
import os
import re
import resource
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from bench.errors import EXIT_STORAGE, StorageError
from bench.runfolder.store import append_bytes, atomic_write

pytest.importorskip("openai")
from conftest import ROOT, TASKS, write_models_toml  # noqa: E402
from fakeapi import FakeAPI  # noqa: E402

TICKETS = [json.loads(line) for line in (TASKS / "data" / "ticket_routing.jsonl").read_text().splitlines()]


def right_queue(messages: list[dict]) -> str:
    return next(t["queue"] for t in TICKETS if t["text"] in messages[-1]["content"])


def long_answer(messages: list[dict]) -> str:
    return right_queue(messages) + " " + "x" * 3000  # one "token" of 3 kB: records fill a disk fast


def full_at(monkeypatch, name: str, after: int = 0) -> None:
    """fsync of a file named `name` fails as a full disk reports it (delayed allocation), from its
    `after`-th write on."""
    real, seen = os.fsync, [0]

    def fsync(fd: int) -> None:
        if os.readlink(f"/proc/self/fd/{fd}").endswith("/" + name):
            seen[0] += 1
            if seen[0] > after:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)


def leftovers(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.name.endswith(".tmp") or p.name == "run.lock"]


# ---------------------------------------------------------------- the store boundary


def test_a_refused_replacement_keeps_the_old_file_and_no_tmp(tmp_path, monkeypatch):
    path = tmp_path / "manifest.json"
    atomic_write(path, b"old")
    full_at(monkeypatch, "manifest.json.tmp")
    with pytest.raises(StorageError, match=rf"^no space left on .* while writing {path}$") as caught:
        atomic_write(path, b"new")
    assert caught.value.path == path and caught.value.fix == "free space"
    assert path.read_bytes() == b"old" and list(tmp_path.iterdir()) == [path]


def test_a_refused_append_leaves_no_torn_line(tmp_path, monkeypatch):
    path = tmp_path / "records.jsonl"
    append_bytes(path, b'{"a": 1}\n')
    full_at(monkeypatch, "records.jsonl")
    with pytest.raises(StorageError, match="records.jsonl"):
        append_bytes(path, b'{"b": 2}\n' * 1000)
    assert path.read_bytes() == b'{"a": 1}\n'


def test_the_report_writer_goes_through_the_same_place(tmp_path, monkeypatch):
    from bench.report import build

    full_at(monkeypatch, "b.svg.tmp")
    with pytest.raises(StorageError, match=r"while writing .*plots/b\.svg$"):
        build.write(tmp_path, {"a.txt": b"a", "plots/b.svg": b"b"})
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a.txt", "plots"]


# ---------------------------------------------------------------- a run, in-process


def project(tmp_path: Path, api: FakeAPI) -> Path:
    return write_models_toml(tmp_path / "models.toml", {}, extra=(
        f'\n[models.fake]\nbackend = "openai"\nmodel = "fake"\nbase_url = "{api.base_url}"\n'
        f'api_key_env = "DISK_KEY"\nbackoff_s = 0.01\nconcurrency = 4\n'))


@pytest.mark.parametrize("session, where", [
    ("first", "records.jsonl"), ("first", "cells.jsonl"), ("first", "manifest.json.tmp"), ("first", "report.html.tmp"),
    ("resume", "records.jsonl"), ("resume", "manifest.json.tmp"), ("resume", "summary.csv.tmp")])
def test_a_full_disk_anywhere_ends_in_one_line_and_the_run_resumes(tmp_path, monkeypatch, where, session):
    """records.jsonl is written from the API client's threads; the others from the main thread."""
    from bench.execute.options import Options, resumed_options
    from bench.run import execute

    monkeypatch.setenv("DISK_KEY", "sk-disk")
    said: list[str] = []

    def echo(*args, **kwargs):
        said.append(" ".join(map(str, args)))

    with FakeAPI(reply=right_queue) as api:
        opts = Options(config=project(tmp_path, api), tasks_dir=TASKS, tasks="ticket_routing", limit=6,
                       out=tmp_path / "res")
        if session == "resume":  # a first session that stopped early: the resume has work to do
            run, code = execute(opts, echo=lambda *a, **k: None)
            lines = (run / "records.jsonl").read_text().splitlines()
            (run / "records.jsonl").write_text("\n".join(lines[:2]) + "\n")
            (run / "cells.jsonl").write_text("")
            opts = resumed_options(run)
        with monkeypatch.context() as m:
            full_at(m, where, after=1 if (session, where) == ("first", "manifest.json.tmp") else 0)
            run, code = execute(opts, echo=echo)
        assert code == EXIT_STORAGE, said
        errors = [s for s in said if s.startswith("error:")]
        assert len(errors) == 1 and re.fullmatch(
            rf"error: no space left on .+ while writing {re.escape(str(run / where.removesuffix('.tmp')))}; what was "
            rf"written is kept; free space and resume with: python -m bench --resume {re.escape(str(run))}",
            errors[0]), said
        assert leftovers(run) == []
        assert all(line.endswith("}") for line in (run / "records.jsonl").read_text().splitlines())
        run, code = execute(resumed_options(run), echo=lambda *a, **k: None)
    assert code == 0
    recs = [json.loads(x) for x in (run / "records.jsonl").read_text().splitlines()]
    assert sorted(r["example_id"] for r in recs) == sorted(t["id"] for t in TICKETS[:6])
    assert (run / "report.html").is_file() and leftovers(run) == []


def test_a_disk_full_before_anything_was_written_says_run_again(tmp_path, monkeypatch):
    from bench.execute.options import Options
    from bench.run import execute

    monkeypatch.setenv("DISK_KEY", "sk-disk")
    said = []
    with FakeAPI(reply=right_queue) as api:
        opts = Options(config=project(tmp_path, api), tasks_dir=TASKS, tasks="ticket_routing", limit=2,
                       out=tmp_path / "res")
        full_at(monkeypatch, "manifest.json.tmp")
        _, code = execute(opts, echo=lambda *a, **k: said.append(a[0]))
    assert code == EXIT_STORAGE
    assert said[-1].endswith("; nothing was run; free space and run again"), said
    assert list((tmp_path / "res").iterdir()) == []  # the empty run folder is gone


# ---------------------------------------------------------------- through the command line


def cli(args: list[str], fsize_bytes: int | None = None) -> subprocess.CompletedProcess:
    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG for the writer instead of death
        resource.setrlimit(resource.RLIMIT_FSIZE, (fsize_bytes, fsize_bytes))

    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT), DISK_KEY="sk-disk",
               PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run([sys.executable, "-m", "bench", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300, preexec_fn=limit if fsize_bytes else None)


def one_error_line(proc: subprocess.CompletedProcess) -> str:
    assert "Traceback" not in proc.stderr, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, proc.stderr
    return errors[0]


@pytest.mark.parametrize("fsize, fails_at", [(60_000, "records.jsonl"), (150_000, "report")])
def test_a_file_size_limit_stops_the_run_cleanly_and_it_resumes(tmp_path, fsize, fails_at):
    """RLIMIT_FSIZE: the kernel refuses writes past the limit (EFBIG), as a full disk refuses them."""
    limit = 60 if fails_at == "records.jsonl" else 4
    with FakeAPI(reply=long_answer if fails_at == "records.jsonl" else right_queue) as api:
        cfg = project(tmp_path, api)
        args = ["--config", str(cfg), "--tasks-dir", str(TASKS), "--tasks", "ticket_routing", "--limit", str(limit)]
        proc = cli([*args, "--out", str(tmp_path / "res")], fsize)
        (run,) = (tmp_path / "res").iterdir()
        line = one_error_line(proc)
        assert proc.returncode == EXIT_STORAGE, proc.stderr
        assert line.startswith("error: file size limit reached on ") and f"while writing {run}/" in line, line
        assert fails_at in line and line.endswith(f"; what was written is kept; raise the file size limit "
                                                  f"(ulimit -f) and resume with: python -m bench --resume {run}")
        assert leftovers(run) == []
        if fails_at == "report":
            again = cli(["report", str(run)], fsize)
            assert again.returncode == EXIT_STORAGE and "the runs' records are untouched" in one_error_line(again)
            assert leftovers(run) == []
        proc = cli(["--resume", str(run)])
        served = [s for s in api.log if s.completed and s.body.get("max_completion_tokens") != 1]
    assert proc.returncode == 0, proc.stderr
    recs = [json.loads(x) for x in (run / "records.jsonl").read_text().splitlines()]
    assert sorted(r["example_id"] for r in recs) == sorted(t["id"] for t in TICKETS[:limit])
    assert (run / "report.html").is_file() and leftovers(run) == []
    assert len(served) >= limit  # answers lost with the refused write were asked for again


def test_a_real_full_disk(tmp_path):
    """A 256 kB tmpfs fills with records; grown to 16 MB, the run resumes to its end."""
    mnt = tmp_path / f"disk-{uuid.uuid4().hex[:6]}"
    mnt.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mnt)], capture_output=True,
                             text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {mounted.stderr.strip()}")
    try:
        with FakeAPI(reply=long_answer) as api:
            cfg = project(tmp_path, api)
            proc = cli(["--config", str(cfg), "--tasks-dir", str(TASKS), "--tasks", "ticket_routing", "--limit",
                        "150", "--out", str(mnt / "res")])
            (run,) = (mnt / "res").iterdir()
            line = one_error_line(proc)
            assert proc.returncode == EXIT_STORAGE, proc.stderr
            assert line.startswith(f"error: no space left on tmpfs at {mnt} while writing {run}/"), line
            assert line.endswith(f"; what was written is kept; free space and resume with: "
                                 f"python -m bench --resume {run}")
            assert leftovers(run) == []
            subprocess.run(["mount", "-o", "remount,size=16m", str(mnt)], check=True)
            proc = cli(["--resume", str(run)])
        assert proc.returncode == 0, proc.stderr
        recs = [json.loads(x) for x in (run / "records.jsonl").read_text().splitlines()]
        assert sorted(r["example_id"] for r in recs) == sorted(t["id"] for t in TICKETS[:150])
        assert leftovers(run) == []
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def test_a_full_disk_during_a_local_model_stops_its_worker_and_the_run_resumes(tmp_path, monkeypatch, tiny_models):
    """Local records are written in the main process between batches: the worker is stopped, the
    same line is printed, and the resume runs only what is missing."""
    from bench.execute.options import Options, resumed_options
    from bench.run import execute

    cfg = write_models_toml(tmp_path / "models.toml", {"tiny-chat": tiny_models["tiny-chat"]}, batch_size=2)
    said = []
    opts = Options(config=cfg, tasks_dir=TASKS, tasks="ticket_routing", limit=6, out=tmp_path / "res")
    with monkeypatch.context() as m:
        full_at(m, "records.jsonl", after=1)  # the second batch does not fit
        run, code = execute(opts, echo=lambda *a, **k: said.append(a[0]))
    assert code == EXIT_STORAGE and said[-1].startswith("error: no space left on "), said
    assert said[-1].endswith(f"resume with: python -m bench --resume {run}") and leftovers(run) == []
    assert len((run / "records.jsonl").read_text().splitlines()) == 2
    run, code = execute(resumed_options(run), echo=lambda *a, **k: None)
    assert code == 0
    recs = [json.loads(x) for x in (run / "records.jsonl").read_text().splitlines()]
    assert sorted(r["example_id"] for r in recs) == sorted(t["id"] for t in TICKETS[:6])
