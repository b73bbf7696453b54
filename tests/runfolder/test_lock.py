"""The run lock under contention: many processes reaching for the same run folder at the same
moment, in-process (forked) and through the command line (two `--resume` of one run)."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.errors import InputError
from bench.runfolder.lock import LOCK, RunLock

PROCESSES, ROUNDS = 12, 3


def _contender(folder: str, start, hold_s: float, results) -> None:
    start.wait()
    try:
        lock = RunLock(Path(folder)).acquire(warn=lambda m: None)
    except InputError as e:
        results.put(("refused", str(e)))
        return
    except BaseException as e:  # noqa: BLE001 - whatever it is, the test reports it
        results.put(("crashed", f"{type(e).__name__}: {e}"))
        return
    results.put(("won", os.getpid()))
    time.sleep(hold_s)  # everyone else tries while it is held
    lock.release()


def race(folder: Path, n: int, hold_s: float = 0.5) -> list[tuple[str, object]]:
    ctx = mp.get_context("fork")  # cheap to start, so that they really arrive together
    start, results = ctx.Barrier(n), ctx.Queue()
    procs = [ctx.Process(target=_contender, args=(str(folder), start, hold_s, results)) for _ in range(n)]
    for p in procs:
        p.start()
    out = [results.get(timeout=30) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    return out


@pytest.mark.parametrize("before", ["nothing", "a dead writer's lock", "an empty lock file"])
def test_exactly_one_of_many_simultaneous_writers_wins(tmp_path, before):
    """Bounded (a few seconds): rounds of processes released together by a barrier."""
    for round_ in range(ROUNDS):
        folder = tmp_path / f"run{round_}"
        folder.mkdir()
        if before == "a dead writer's lock":
            proc = subprocess.Popen([sys.executable, "-c", "pass"])
            proc.wait()
            (folder / LOCK).write_text(json.dumps({"pid": proc.pid, "host": socket.gethostname(), "started_utc": "x"}))
        elif before == "an empty lock file":  # a writer killed between creating the file and filling it
            (folder / LOCK).write_text("")
        outcomes = race(folder, PROCESSES)
        kinds = [k for k, _ in outcomes]
        assert kinds.count("won") == 1, outcomes
        assert kinds.count("refused") == PROCESSES - 1, outcomes
        winner = next(v for k, v in outcomes if k == "won")
        for kind, message in outcomes:
            if kind == "refused":
                assert "this run is being written by" in message and "\n" not in message, message
                assert str(winner) in message or "another process" in message, message
        assert not (folder / LOCK).exists()  # released by the winner


def test_the_lock_is_released_when_its_holder_dies(tmp_path):
    """kill -9 leaves the file; the kernel releases the OS lock, so the next writer takes over with a notice."""
    code = ("import sys, time; from pathlib import Path; from bench.runfolder.lock import RunLock; "
            "RunLock(Path(sys.argv[1])).acquire(); print('held', flush=True); time.sleep(60)")
    proc = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True,
                            env=dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2])))
    assert proc.stdout.readline().strip() == "held"
    with pytest.raises(InputError, match=f"being written by pid {proc.pid} "):
        RunLock(tmp_path).acquire()
    proc.kill()
    proc.wait()
    assert (tmp_path / LOCK).exists()
    notes = []
    with RunLock(tmp_path).acquire(warn=notes.append):
        assert json.loads((tmp_path / LOCK).read_text())["pid"] == os.getpid()
    assert len(notes) == 1 and f"pid {proc.pid}" in notes[0] and "no longer running" in notes[0]


def _churn(folder: str, start, until: float, results) -> None:
    """Take and release the lock again and again; inside it, claim a marker that only one may hold."""
    start.wait()
    marker, wins, overlaps = Path(folder) / "inside", 0, 0
    while time.monotonic() < until:
        try:
            lock = RunLock(Path(folder)).acquire(warn=lambda m: None)
        except InputError:
            continue
        try:
            os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            overlaps += 1  # someone else believes it holds the lock too
        else:
            wins += 1
            time.sleep(0.001)
            marker.unlink()
        lock.release()
    results.put((wins, overlaps))


def test_taking_and_releasing_in_a_tight_loop_never_gives_two_holders(tmp_path):
    """Releasing deletes the file: a process that opened it just before must not end up holding a
    lock on the deleted file while another locks the new one."""
    ctx = mp.get_context("fork")
    n = 6
    start, results = ctx.Barrier(n), ctx.Queue()
    until = time.monotonic() + 3.0
    procs = [ctx.Process(target=_churn, args=(str(tmp_path), start, until, results)) for _ in range(n)]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=30) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    assert sum(o for _, o in outcomes) == 0, outcomes
    assert sum(w for w, _ in outcomes) > 20, outcomes  # the lock really changed hands many times


def test_two_resumes_of_one_run_at_once_one_refused_in_one_line(tmp_path):
    """Through the command line: the run's failed examples make each resume send requests (slowly),
    so the two overlap; one continues the run, the other is refused with one line, exit 2."""
    pytest.importorskip("openai")
    from conftest import ROOT, TASKS, write_models_toml
    from fakeapi import FakeAPI

    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT), LOCK_KEY="sk-lock")
    with FakeAPI(reply=lambda messages: "billing", ttft_s=0.4) as api:
        api.fault = lambda index: "500"  # the first session: every request fails, so all are left to do
        cfg = write_models_toml(tmp_path / "models.toml", {}, extra=(
            f'\n[models.fake]\nbackend = "openai"\nmodel = "fake"\nbase_url = "{api.base_url}"\n'
            f'api_key_env = "LOCK_KEY"\nbackoff_s = 0.01\nmax_attempts = 1\nconcurrency = 1\n'))
        first = subprocess.run([sys.executable, "-m", "bench", "--config", str(cfg), "--tasks-dir", str(TASKS),
                                "--tasks", "ticket_routing", "--limit", "8", "--out", str(tmp_path / "res")],
                               cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert first.returncode == 4, first.stderr
        (run,) = (tmp_path / "res").iterdir()
        api.fault = lambda index: None
        procs = [subprocess.Popen([sys.executable, "-m", "bench", "--resume", str(run)], cwd=ROOT, env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
        outs = [p.communicate(timeout=120) for p in procs]
    codes = sorted(p.returncode for p in procs)
    assert codes == [0, 2], outs
    for _, err in outs:
        assert "Traceback" not in err, err
    out, err = outs[[p.returncode for p in procs].index(2)]
    assert out == "" and err.count("\n") == 1 and "this run is being written by" in err, err
    recs = [json.loads(x) for x in (run / "records.jsonl").read_text().splitlines()]
    assert len(recs) == 8 == len({r["example_id"] for r in recs}) and not any(r["error"] for r in recs)
