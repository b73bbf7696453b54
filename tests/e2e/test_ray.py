"""`--executor ray` through the real command line on a real local Ray cluster (CPU, loopback only):
the same records as the local executor, kill -9 of the driver then --resume with every example
once, a worker killed mid-model failing only that model's cells, and the bad inputs (exit 2)."""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from conftest import ROOT, TASKS, write_models_toml
from fakeapi import FakeAPI

pytest.importorskip("openai")

KEY = "sk-ray-SENTINEL-5f4e3d2c1b0a"
TICKETS = [json.loads(line) for line in (TASKS / "data" / "ticket_routing.jsonl").read_text().splitlines()]
# a test cluster speaks loopback only (RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 makes Ray's node address
# 127.0.0.1), and without Ray's token authentication, which a driver of another session would lack
RAY_ENV = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}
HEAD = """
import sys, ray
ctx = ray.init(address="local", num_cpus=2, num_gpus=0, include_dashboard=False, log_to_driver=False,
               logging_level="ERROR")
print(ctx.address_info["gcs_address"], flush=True)
sys.stdin.read()  # until the test closes our stdin
ray.shutdown()
"""


def needs_ray():
    pytest.importorskip("ray", reason='ray is not installed: pip install -e ".[ray]" runs these tests')


@pytest.fixture(scope="module")
def cluster():
    """One Ray cluster for the module: (its address, the pid of the process that owns it)."""
    needs_ray()
    head = subprocess.Popen([sys.executable, "-c", HEAD], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, env=dict(os.environ, **RAY_ENV))
    address = head.stdout.readline().strip()
    assert address, "the Ray head did not start"
    yield address, head.pid
    head.stdin.close()
    head.wait(timeout=60)


def start(args: list[str], log: Path) -> subprocess.Popen:
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT), E2E_KEY=KEY, **RAY_ENV)
    return subprocess.Popen([sys.executable, "-m", "bench", *args], cwd=ROOT, env=env, stdout=log.open("w"),
                            stderr=subprocess.STDOUT)


def reply(messages: list[dict]) -> str:
    ticket = next(t for t in TICKETS if t["text"] in messages[-1]["content"])
    return ticket["queue"] if sum(map(ord, ticket["id"])) % 3 else "no idea"


def config(tmp_path: Path, tiny_models, api: FakeAPI, batch_size: int = 2) -> Path:
    # concurrency 1: the API model answers one example at a time, as in tests/runfolder/test_resume.py
    table = (f'\n[models.gpt-fake]\nbackend = "openai"\nmodel = "gpt-fake"\nbase_url = "{api.base_url}"\n'
             f'api_key_env = "E2E_KEY"\nconcurrency = 1\nbackoff_s = 0.01\n')
    return write_models_toml(tmp_path / "models.toml", {"tiny-chat": tiny_models["tiny-chat"]}, batch_size, table)


def args(cfg: Path, out: Path, limit: int, *more: str) -> list[str]:
    return ["--config", str(cfg), "--tasks-dir", str(TASKS), "--tasks", "ticket_routing", "--limit", str(limit),
            "--out", str(out), *more]


def records(folder: Path) -> list[dict]:
    path = folder / "records.jsonl"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    return [json.loads(x) for x in text[:text.rfind("\n") + 1].splitlines()]


def run_folder(out: Path) -> Path | None:
    found = list(out.iterdir()) if out.exists() else []
    return found[0] if found else None


def answered(api: FakeAPI) -> Counter:
    """Completed answers per example; warm-ups (one token) are not examples."""
    return Counter(next(t["id"] for t in TICKETS if t["text"] in s.body["messages"][-1]["content"])
                   for s in api.log if s.completed
                   and (s.body.get("max_completion_tokens") or s.body.get("max_tokens")) != 1)


def ray_workers(owner: int) -> list[int]:
    """Processes running our Ray task (its title is ray::_run_on_node) under the cluster's owner."""
    def parent(pid: int) -> int:
        try:
            return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            return 0

    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        pid = int(cmdline.parent.name)
        try:
            if not cmdline.read_bytes().startswith(b"ray::_run_on_node"):
                continue
        except OSError:
            continue
        p = pid
        while p > 1 and p != owner:
            p = parent(p)
        if p == owner:
            found.append(pid)
    return found


def wait_for(predicate, proc: subprocess.Popen | None = None, timeout: float = 120.0):
    t0 = time.monotonic()
    while not (value := predicate()):
        assert proc is None or proc.poll() is None, "the run ended before the moment the test waits for"
        assert time.monotonic() - t0 < timeout, "timed out"
        time.sleep(0.005)
    return value


def table(folder: Path) -> list[tuple]:
    rows = csv.DictReader((folder / "summary.csv").open(encoding="utf-8"))
    return sorted((r["model"], r["task"], r["status"], r["n"], r["accuracy"], r["errors"], r["ci_low"]) for r in rows)


def by_key(recs: list[dict]) -> dict:
    return {(r["model"], r["task"], r["example_id"], r["repeat"]): r for r in recs}


def test_a_ray_run_gives_the_records_of_a_local_run(tiny_models, tmp_path):
    """The default --executor ray starts a Ray instance here; outputs and scores equal the local run's."""
    needs_ray()
    with FakeAPI(reply=reply) as api:
        cfg = config(tmp_path, tiny_models, api)
        runs = {name: start(args(cfg, tmp_path / name, 6, *extra), tmp_path / f"{name}.txt")  # side by side
                for name, extra in (("local", []), ("ray", ["--executor", "ray"]))}
        for name, proc in runs.items():
            assert proc.wait(timeout=300) == 0, (tmp_path / f"{name}.txt").read_text()
    local, ray = by_key(records(run_folder(tmp_path / "local"))), by_key(records(run_folder(tmp_path / "ray")))
    assert len(local) == 12 and local.keys() == ray.keys()
    same = ("output", "extracted", "target", "score", "output_tokens", "input_tokens", "finish_reason", "error")
    assert {k: [r[f] for f in same] for k, r in ray.items()} == {k: [r[f] for f in same] for k, r in local.items()}
    folder = run_folder(tmp_path / "ray")
    man = json.loads((folder / "manifest.json").read_text())
    assert man["options"]["executor"] == "ray" and man["options"]["ray_address"] is None
    host = man["models"]["tiny-chat"]["host"]
    node = man["nodes"][host]  # the fingerprint the worker took on its node
    assert node["host"] == host and node["versions"]["torch"] and "gpus" in node
    assert table(folder) == table(run_folder(tmp_path / "local"))


def test_kill_9_of_the_driver_then_resume_records_every_example_once(cluster, tiny_models, tmp_path):
    """The driver dies while its model runs on the cluster: Ray ends that task, and --resume (which
    joins the same cluster, from the manifest) runs only what has no record; nothing is paid twice."""
    address, owner = cluster
    gate = threading.Event()  # API answers wait until the driver is dead: none is in flight at the kill

    def gated(messages):
        gate.wait(60)
        return reply(messages)

    limit = 8
    with FakeAPI(reply=gated, itl_s=0.004) as api:
        cfg = config(tmp_path, tiny_models, api, batch_size=1)
        out = tmp_path / "res"
        proc = start(args(cfg, out, limit, "--executor", "ray", "--ray-address", address), tmp_path / "1.txt")
        wait_for(lambda: (f := run_folder(out)) and sum(r["model"] == "tiny-chat" for r in records(f)) >= 2, proc)
        worker = ray_workers(owner)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        gate.set()
        folder = run_folder(out)
        before = [r for r in records(folder) if r["model"] == "tiny-chat"]
        assert 2 <= len(before) < limit, "the kill must land while the local model runs"
        assert worker and wait_for(lambda: not ray_workers(owner), timeout=60) is True  # Ray ended its task
        proc = start(["--resume", str(folder)], tmp_path / "2.txt")
        assert proc.wait(timeout=300) == 0, (tmp_path / "2.txt").read_text()
        counts = answered(api)
    recs = records(folder)
    keys = [(r["model"], r["example_id"], r["repeat"]) for r in recs]
    assert len(keys) == len(set(keys)) == 2 * limit
    assert [r for r in recs if r["model"] == "tiny-chat"][:len(before)] == before  # kept, not run again
    assert set(counts.values()) == {1} and len(counts) == limit  # every API answer paid for once
    man = json.loads((folder / "manifest.json").read_text())
    assert man["options"]["ray_address"] == address and man["resumes"]
    cells = [json.loads(x) for x in (folder / "cells.jsonl").read_text().splitlines()]
    assert {(c["model"], c["status"]) for c in cells} == {("tiny-chat", "ok"), ("gpt-fake", "ok")}


def test_a_worker_killed_on_its_node_fails_only_its_model_and_resume_reruns_it(cluster, tiny_models, tmp_path):
    address, owner = cluster
    limit = 8
    with FakeAPI(reply=reply) as api:
        cfg = config(tmp_path, tiny_models, api, batch_size=1)
        out = tmp_path / "res"
        proc = start(args(cfg, out, limit, "--executor", "ray", "--ray-address", address), tmp_path / "1.txt")
        (pid,) = wait_for(lambda: ray_workers(owner), proc)
        wait_for(lambda: (f := run_folder(out)) and any(r["model"] == "tiny-chat" for r in records(f)), proc)
        os.kill(pid, signal.SIGKILL)
        assert proc.wait(timeout=300) == 3, (tmp_path / "1.txt").read_text()
        text = (tmp_path / "1.txt").read_text()
        folder = run_folder(out)
        cells = {c["model"]: c for c in map(json.loads, (folder / "cells.jsonl").read_text().splitlines())}
        assert cells["tiny-chat"]["status"] == "failed" and cells["gpt-fake"]["status"] == "ok"
        reason = re.compile(rf"worker process died \(Ray worker crashed\) after \d of {limit} examples "
                            rf"\(pid {pid} on Ray node 127\.0\.0\.1 \(.+\)\)")
        assert reason.fullmatch(cells["tiny-chat"]["reason"]) and reason.search(text)
        sent = len(api.log)
        proc = start(["--resume", str(folder)], tmp_path / "2.txt")
        assert proc.wait(timeout=300) == 0, (tmp_path / "2.txt").read_text()
        assert len(api.log) == sent  # the API model's cell was complete: nothing sent again
    keys = [(r["model"], r["example_id"]) for r in records(folder)]
    assert len(keys) == len(set(keys)) == 2 * limit


def one_line_exit_2(proc: subprocess.Popen, log: Path, out: Path) -> str:
    assert proc.wait(timeout=120) == 2, log.read_text()
    lines = [x for x in log.read_text().splitlines() if x.strip()]
    assert len(lines) == 1, lines
    assert not out.exists() or not any(out.iterdir())  # no run folder
    return lines[0]


def test_an_unreachable_ray_address_is_bad_input(tiny_models, tmp_path):
    needs_ray()
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cfg = write_models_toml(tmp_path / "models.toml", {"tiny-chat": tiny_models["tiny-chat"]})
    proc = start(args(cfg, tmp_path / "res", 2, "--executor", "ray", "--ray-address", f"127.0.0.1:{port}"),
                 tmp_path / "out.txt")
    line = one_line_exit_2(proc, tmp_path / "out.txt", tmp_path / "res")
    assert line.startswith(f"error: --ray-address 127.0.0.1:{port}: no Ray cluster answers there within 5 s")


def test_a_model_needing_more_gpus_than_any_node_has_is_bad_input(cluster, tiny_models, tmp_path):
    address, _ = cluster
    cfg = write_models_toml(tmp_path / "models.toml", {"tiny-chat": tiny_models["tiny-chat"]})
    cfg.write_text(cfg.read_text().replace('device = "cpu"', 'device = "cuda"'))
    proc = start(args(cfg, tmp_path / "res", 2, "--executor", "ray", "--ray-address", address), tmp_path / "out.txt")
    line = one_line_exit_2(proc, tmp_path / "out.txt", tmp_path / "res")
    assert line == ("error: model 'tiny-chat' needs 1 GPU on one node, but no node of the Ray cluster has any "
                    "(1 node(s)); add a node with that many GPUs, or lower the model's 'gpus' (or its device)")


def test_executor_ray_without_ray_installed_says_how_to_install(tiny_models, tmp_path):
    """Runs with or without Ray: a stand-in `ray` package that fails to import, first on the path."""
    stub = tmp_path / "stub" / "ray"
    stub.mkdir(parents=True)
    (stub / "__init__.py").write_text('raise ImportError("No module named ray (stand-in)")\n')
    cfg = write_models_toml(tmp_path / "models.toml", {"tiny-chat": tiny_models["tiny-chat"]})
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=f"{stub.parent}{os.pathsep}{ROOT}")
    log = tmp_path / "out.txt"
    proc = subprocess.Popen([sys.executable, "-m", "bench", *args(cfg, tmp_path / "res", 2, "--executor", "ray")],
                            cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    line = one_line_exit_2(proc, log, tmp_path / "res")
    assert line == 'error: --executor ray needs Ray, which is not installed: pip install -e ".[ray]"'


def test_gpu_needs_are_checked_against_the_largest_alive_node():
    """No cluster needed: check_fits reads ray.nodes(), given here as a dead 8-GPU node and two alive ones."""
    from bench.config import TransformersModel
    from bench.errors import InputError
    from bench.execute.ray_exec import check_fits

    class Cluster:
        def nodes(self):
            return [{"Alive": False, "Resources": {"GPU": 8.0}}, {"Alive": True, "Resources": {"CPU": 4.0}},
                    {"Alive": True, "Resources": {"GPU": 2.0, "CPU": 8.0}}]

    def model(**kw):
        return TransformersModel(backend="transformers", model="m", **kw)

    check_fits(Cluster(), {"a": model(device="cuda", gpus=2), "b": model(device="cpu", gpus=4)}, None)
    check_fits(Cluster(), {"c": model(device="cuda", gpus=4)}, "cpu")  # --device cpu: no GPU asked for
    with pytest.raises(InputError) as e:
        check_fits(Cluster(), {"big": model(device="auto", device_map="auto", gpus=3)}, None)
    assert str(e.value) == ("model 'big' needs 3 GPUs on one node, but no node of the Ray cluster has more than 2 "
                            "(2 node(s)); add a node with that many GPUs, or lower the model's 'gpus' (or its device)")


def test_a_plugin_local_backend_is_placed_by_its_own_table():
    """A registered local backend's table (tests/toys/echo_backend.py) has no transformers keys
    such as device_map: its GPUs are read through the table's own methods, as everywhere else."""
    from bench.execute.ray_exec import check_fits, gpus_needed
    from tests.toys.echo_backend import EchoModel

    class Cluster:
        def nodes(self):
            return [{"Alive": True, "Resources": {"CPU": 4.0}}]

    echo = EchoModel(backend="echo")
    assert gpus_needed(echo, None, has_gpus=False) == 0  # device = "cpu"
    assert gpus_needed(echo, "cuda", has_gpus=True) == 1  # --device moves it (follows_device_flag)
    check_fits(Cluster(), {"echo": echo}, None)
