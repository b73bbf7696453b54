"""Models at the same time on one box: a local model and an API model run together and give the
records a sequential run gives; every cell says where and beside what it ran; --devices and
--parallel are checked before anything starts; Ctrl-C and a killed worker stay what they were."""

from __future__ import annotations

import json
import os
import signal
import socket
import time
from pathlib import Path

import pytest
from conftest import TASKS, write_models_toml
from e2e.test_e2e import cli
from e2e.test_e2e_faults import (
    SENTINEL,
    api_table,
    children,
    gone,
    kill_the_worker,
    records,
    right_queue,
    start,
    wait_for,
)
from fakeapi import FakeAPI

from bench.errors import InputError
from bench.execute import devices
from bench.execute.devices import Need
from bench.execute.schedule import Slots
from bench.execute.timeline import Timeline

pytest.importorskip("openai")

ARGS = ["--tasks-dir", str(TASKS), "--tasks", "ticket_routing", "--limit", "6"]


def cells_of(folder: Path) -> list[dict]:
    return [json.loads(x) for x in (folder / "cells.jsonl").read_text().splitlines()]


def answers(folder: Path) -> dict:
    return {(r["model"], r["task"], r["example_id"]): (r["output"], r["score"]) for r in records(folder)}


def config(tmp_path: Path, tiny_models, api: FakeAPI, batch_size: int = 2) -> Path:
    return write_models_toml(tmp_path / "models.toml", {"tiny-chat": tiny_models["tiny-chat"]}, batch_size=batch_size,
                             extra=api_table("gpt-fake", api, concurrency=1))


def after_a_local_answer(out: Path):
    """A reply that waits until the local model has written an answer in a run under `out`: in a
    parallel run the API model's cell then starts while the local one is still running."""

    def reply(messages: list[dict]) -> str:
        t0 = time.monotonic()
        while time.monotonic() - t0 < 300 and not any(
                r["model"] == "tiny-chat" for f in (out.iterdir() if out.exists() else []) for r in records(f)):
            time.sleep(0.02)
        return right_queue(messages)
    return reply


def test_local_and_api_at_once_give_the_sequential_records_and_say_what_overlapped(tiny_models, tmp_path):
    with FakeAPI(reply=after_a_local_answer(tmp_path / "seq")) as api:
        cfg = config(tmp_path, tiny_models, api, batch_size=1)
        seq = cli("--config", str(cfg), *ARGS, "--out", str(tmp_path / "seq"), "--parallel", "1", E2E_KEY=SENTINEL)
    with FakeAPI(reply=after_a_local_answer(tmp_path / "par")) as api:
        cfg = config(tmp_path, tiny_models, api, batch_size=1)
        par = cli("--config", str(cfg), *ARGS, "--out", str(tmp_path / "par"), E2E_KEY=SENTINEL)
    assert seq.returncode == 0 and par.returncode == 0, seq.stderr + par.stderr
    (seq_run,), (par_run,) = (tmp_path / "seq").iterdir(), (tmp_path / "par").iterdir()
    assert answers(par_run) == answers(seq_run) and len(answers(par_run)) == 12
    for run in (seq_run, par_run):
        cells = cells_of(run)
        assert [(c["model"], c["task"]) for c in cells] == [("tiny-chat", "ticket_routing"),
                                                            ("gpt-fake", "ticket_routing")]  # plan order
        assert all(c["host"] and c["gpus"] is None and c["started_utc"] < c["finished_utc"] for c in cells)
        local, remote = cells
        meet = local["started_utc"] < remote["finished_utc"] and remote["started_utc"] < local["finished_utc"]
        assert local["overlapped"] == ("gpt-fake/ticket_routing" if meet else "")
        assert remote["overlapped"] == ("tiny-chat/ticket_routing" if meet else "")
        assert [c["overlapped_cells"] for c in cells] == [int(meet)] * 2
        assert json.loads((run / "manifest.json").read_text())["models"]["tiny-chat"]["host"] == local["host"]
    assert "" == cells_of(seq_run)[0]["overlapped"]  # one after another: nothing beside it
    assert cells_of(par_run)[0]["overlapped"] == "gpt-fake/ticket_routing"  # the API model did not wait
    man = json.loads((par_run / "manifest.json").read_text())
    assert list(man["nodes"]) == [cells_of(par_run)[0]["host"]] and man["nodes"][cells_of(par_run)[0]["host"]]["versions"]


@pytest.mark.parametrize("flags, visible, says", [
    (["--devices", "0"], "", "error: --devices 0: no GPU 0 here; CUDA_VISIBLE_DEVICES shows no GPU"),
    (["--devices", "0,2"], "0,1", "error: --devices 0,2: no GPU 2 here; CUDA_VISIBLE_DEVICES shows 2 GPU(s): 0, 1"),
    (["--devices", "a"], "0", "error: --devices 'a': use GPU numbers separated by commas, like 0,1,2,3"),
    (["--parallel", "0"], "", "error: --parallel 0: must be at least 1 (1 runs one model at a time: isolated timings)"),
])
def test_bad_devices_or_parallel_stop_before_anything(tiny_models, tmp_path, flags, visible, says):
    cfg = write_models_toml(tmp_path / "models.toml", {"tiny-chat": tiny_models["tiny-chat"]})
    out = cli("--config", str(cfg), *ARGS, "--out", str(tmp_path / "res"), *flags, CUDA_VISIBLE_DEVICES=visible)
    assert out.returncode == 2 and out.stderr.strip() == says, out.stderr
    assert not (tmp_path / "res").exists()


def test_the_demo_takes_the_placing_flags(tmp_path):
    """`bench demo --parallel/--devices/--executor` reach its run (the way to try them anywhere)."""
    out = cli("demo", "--tasks", "ticket_routing", "--limit", "1", "--parallel", "0", "--out", str(tmp_path / "res"))
    assert out.returncode == 2 and out.stderr.strip().endswith(
        "error: --parallel 0: must be at least 1 (1 runs one model at a time: isolated timings)"), out.stderr
    assert not (tmp_path / "res").exists()


def test_a_model_needing_more_gpus_than_the_run_has_is_bad_input(tiny_models, tmp_path):
    cfg = tmp_path / "models.toml"
    cfg.write_text(f'[models.big]\nbackend = "transformers"\nmodel = "{tiny_models["tiny-chat"]}"\n'
                   f'device_map = "auto"\ngpus = 4\n')
    out = cli("--config", str(cfg), *ARGS, "--out", str(tmp_path / "res"), CUDA_VISIBLE_DEVICES="0,1")
    assert out.returncode == 2, out.stderr
    assert out.stderr.strip() == (f"error: {cfg}: key 'models.big.gpus': model big needs 4 GPU(s) (its 'gpus') but "
                                  f"the run has 2 GPU(s) (0, 1); lower 'gpus' or pass --devices")
    assert not (tmp_path / "res").exists()


def test_a_ray_address_without_the_ray_executor_is_bad_input(tmp_path):
    """--ray-address alone would run every model here, silently: on a new run and on a resume
    (whose executor is the run's), it is one line and exit 2; --executor local on the resume of
    a Ray run drops the run's address."""
    with FakeAPI(reply=right_queue) as api:
        cfg = tmp_path / "models.toml"
        cfg.write_text(api_table("gpt-fake", api), encoding="utf-8")
        out = cli("--config", str(cfg), *ARGS, "--limit", "2", "--out", str(tmp_path / "res"),
                  "--ray-address", "10.0.0.5:6379", E2E_KEY=SENTINEL)
        assert out.returncode == 2 and out.stderr.strip() == (
            "error: --ray-address 10.0.0.5:6379: only used with --executor ray; add --executor ray to run "
            "local models on that Ray cluster"), out.stderr
        assert not (tmp_path / "res").exists()
        done = cli("--config", str(cfg), *ARGS, "--limit", "2", "--out", str(tmp_path / "res"), E2E_KEY=SENTINEL)
        assert done.returncode == 0, done.stderr
        (run,) = (tmp_path / "res").iterdir()
        before = (run / "manifest.json").read_bytes()
        again = cli("--resume", str(run), "--ray-address", "10.0.0.5:6379", E2E_KEY=SENTINEL)
        assert again.returncode == 2 and again.stderr.strip().startswith(
            "error: --ray-address 10.0.0.5:6379: only used with --executor ray"), again.stderr
        assert (run / "manifest.json").read_bytes() == before  # nothing written
        man = json.loads(before)
        man["options"].update(executor="ray", ray_address="10.0.0.5:6379")  # as a Ray run's manifest says
        (run / "manifest.json").write_text(json.dumps(man), encoding="utf-8")
        local = cli("--resume", str(run), "--executor", "local", E2E_KEY=SENTINEL)
    assert local.returncode == 0, local.stderr
    options = json.loads((run / "manifest.json").read_text())["options"]
    assert (options["executor"], options["ray_address"]) == ("local", None)


def test_ctrl_c_in_a_parallel_run_stops_every_model_and_resumes(tiny_models, tmp_path):
    with FakeAPI(ttft_s=0.5, reply=right_queue) as api:
        cfg = config(tmp_path, tiny_models, api)
        proc = start(["--config", str(cfg), *ARGS, "--limit", "10", "--out", str(tmp_path / "res")], tmp_path / "1.txt")
        res = tmp_path / "res"

        def both_answering() -> bool:
            found = list(res.iterdir()) if res.exists() else []
            models = [r["model"] for r in records(found[0])] if found else []
            return models.count("tiny-chat") >= 2 and "gpt-fake" in models

        wait_for(both_answering, proc)
        helpers = children(proc.pid)
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=30)
        answered = sum(1 for s in api.log if s.completed and s.body.get("max_completion_tokens") != 1)
    out = (tmp_path / "1.txt").read_text()
    (run,) = res.iterdir()
    assert proc.returncode == 130 and "Traceback" not in out, out
    assert f"interrupted; what finished is saved; resume with: python -m bench --resume {run}" in out
    time.sleep(0.5)
    assert all(gone(pid) for pid in helpers), "a worker outlived the interrupted run"
    assert sum(r["model"] == "gpt-fake" for r in records(run)) == answered  # every answer received is kept
    with FakeAPI(reply=right_queue) as api2:
        cfg.write_text(cfg.read_text().replace(api.base_url, api2.base_url))
        proc = start(["--resume", str(run), "--force"], tmp_path / "2.txt")
        proc.wait(timeout=180)
    assert proc.returncode == 0, (tmp_path / "2.txt").read_text()
    keys = [(r["model"], r["example_id"]) for r in records(run)]
    assert len(keys) == len(set(keys)) == 20
    assert [(c["model"], c["status"]) for c in cells_of(run)] == [("tiny-chat", "ok"), ("gpt-fake", "ok")]


def test_a_killed_worker_in_a_parallel_run_fails_only_its_own_cells(tiny_models, tmp_path):
    with FakeAPI(ttft_s=0.3, reply=right_queue) as api:
        cfg = config(tmp_path, tiny_models, api)
        proc = start(["--config", str(cfg), *ARGS, "--limit", "10", "--out", str(tmp_path / "res")], tmp_path / "1.txt")
        res = tmp_path / "res"
        kill_the_worker(proc, res)
    out = (tmp_path / "1.txt").read_text()
    (run,) = res.iterdir()
    assert proc.returncode == 3, out
    assert "worker process died (signal SIGKILL; killed by the system, often for lack of memory) after " in out
    assert "examples (pid " in out and f" on host {socket.gethostname()})" in out  # which worker, where
    assert [(c["model"], c["status"]) for c in cells_of(run)] == [("tiny-chat", "failed"), ("gpt-fake", "ok")]
    assert sum(r["model"] == "gpt-fake" for r in records(run)) == 10


# ---------------------------------------------------------------- the pieces, without a run


def test_slots_give_each_model_its_gpus_and_keep_the_cap():
    s = Slots((0, 1, 2, 3), parallel=None, models=5)
    assert s.take(Need(gpus=2)) == (0, 1) and s.take(Need(gpus=1)) == (2,)
    assert s.take(Need(gpus=2)) is None  # one GPU left
    assert s.take(Need()) == () and s.take(Need(pinned=3)) == (3,) and s.take(Need(pinned=3)) is None
    s.give(Need(gpus=2), (0, 1))
    assert s.take(Need(gpus=2)) == (0, 1)
    one = Slots((0, 1), parallel=1, models=3)
    assert one.take(Need()) == () and one.take(Need(gpus=1)) is None  # --parallel 1: one model at a time
    cpu = Slots((), parallel=None, models=3)
    assert cpu.take(Need(cpu=True)) == () and cpu.take(Need(cpu=True)) is None and cpu.take(Need()) == ()


def test_needs_and_visible_gpus(monkeypatch):
    assert devices.need_of("auto", 2, (0, 1)) == Need(gpus=2)
    assert devices.need_of("auto", 1, ()) == Need(cpu=True)  # no GPU: the CPU, one model at a time
    assert devices.need_of("cuda:1", 1, (0, 1)) == Need(pinned=1)
    assert "leave out" in devices.need_problem("m", devices.need_of("cuda:3", 1, (0, 1)), (0, 1))
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "GPU-a1,GPU-b2,-1,3")
    assert devices.visible_gpus() == ["GPU-a1", "GPU-b2"]  # CUDA stops at the first invalid entry
    from bench.execute.launch import gpu_env

    assert gpu_env((1,)) == {"CUDA_VISIBLE_DEVICES": "GPU-b2"} and gpu_env(()) == {}
    with pytest.raises(InputError):
        devices.parse_devices("0,0", ["0", "1"])


def test_device_flag_leaves_a_device_map_model_on_its_gpus():
    """--device cpu moves every model but one that a device_map places (docs): that one still
    takes its GPUs from the pool, so that no other model is given them at the same time."""
    from types import SimpleNamespace

    from bench.config import TransformersModel
    from bench.execute.schedule import needs

    specs = {"big": TransformersModel(backend="transformers", model="m", device_map="auto", gpus=2),
             "small": TransformersModel(backend="transformers", model="m", device="cuda")}
    prep = SimpleNamespace(models=list(specs), models_cfg=SimpleNamespace(models=specs), blocked={})
    opts = SimpleNamespace(executor="local", device="cpu", config=Path("models.toml"))
    assert needs(opts, prep, (0, 1, 2)) == {"big": Need(gpus=2), "small": Need(cpu=True)}


def test_timeline_lists_the_cells_that_overlapped_each_one(monkeypatch):
    clock = iter([0.0, 1.0, 2.0, 3.0, 5.0, 6.0])
    monkeypatch.setattr("bench.execute.timeline.time.time", lambda: next(clock))
    t = Timeline()
    t.place("a", host="h", gpus="0")

    class C:
        def __init__(self, task):
            self.task = task

    end_a1 = t.observer("a")(C("x"))  # a/x: 0 .. 2
    end_b = t.observer("b")(C("x"))  # b/x: 1 .. 5
    end_a1()
    end_a2 = t.observer("a")(C("y"))  # a/y: 3 .. 6
    end_b()
    end_a2()
    assert t.columns("a", "x")["overlapped"] == "b/x" and t.columns("a", "y")["overlapped_cells"] == 1
    assert t.columns("b", "x")["overlapped"] == "a/x a/y" and t.columns("b", "x")["host"] is None
    assert t.columns("a", "x")["gpus"] == "0" and t.columns("c", "x") == dict.fromkeys(t.columns("c", "x"))
