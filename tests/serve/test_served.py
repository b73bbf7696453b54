"""Managed servers (backend = "served"): config errors, the vLLM command line and metrics against
recorded /metrics text, runs against a stand-in server started as a command (and as a fake `vllm`
executable), every way a server can fail, cleanup after Ctrl-C and kill -9, pricing by wall time,
and one real `transformers serve` run of a tiny model."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT, TASKS
from e2e.test_e2e import cli

from bench.config import ServedModel
from bench.serve import servermetrics
from bench.serve.server import ServerUnavailable, command_line, public_command

FAKE = ROOT / "tests" / "fakeserver.py"
DATA = ROOT / "tests" / "data"


def served_toml(tmp_path: Path, *, server: str = "command", command: str | None = None, rate: float = 0.5,
                concurrency: int = 4, **options) -> Path:
    if server == "command" and command is None:
        command = f"{sys.executable} {FAKE} --port {{port}} --model {{model}} --ttft-s 0.005 --itl-s 0.001"
    lines = ["[hardware.box]", f"usd_per_hour = {rate}", "", "[models.srv]", 'backend = "served"',
             f'server = "{server}"', 'model = "fake-model"', 'hardware = "box"', f"concurrency = {concurrency}"]
    if command is not None:
        lines.append(f"command = {json.dumps(command)}")
    lines += [f"{k} = {json.dumps(v)}" for k, v in options.items()]
    path = tmp_path / "models.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run(tmp_path: Path, config: Path, limit: int = 8, **env) -> tuple[subprocess.CompletedProcess, Path | None]:
    proc = cli("--config", str(config), "--tasks-dir", str(TASKS), "--tasks", "ticket_routing", "--limit",
               str(limit), "--out", str(tmp_path / "res"), **env)
    folders = list((tmp_path / "res").glob("*")) if (tmp_path / "res").exists() else []
    return proc, folders[0] if folders else None


def jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def port_free(port: int) -> bool:
    """Nothing listens on the port any more."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1.0).close()
    except ConnectionRefusedError:
        return True
    return False


def pid_gone(pid: int, within_s: float = 10.0) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        try:  # a zombie waiting for its (dead) parent's reaper counts as gone
            if Path(f"/proc/{pid}/stat").read_text().split(") ")[1].startswith("Z"):
                return True
        except (OSError, IndexError):
            return True
        time.sleep(0.1)
    return False


# ---------------------------------------------------------------- config mistakes: exit 2, one line


@pytest.mark.parametrize("server,command,options,expected", [
    ("command", "python serve.py --model {model}", {}, "key 'models.srv.command': the command must contain {port}"),
    ("command", "python serve.py --port {port} --gpu {gpu}", {}, "unknown placeholder {gpu}"),
    ("command", "python 'serve.py --port {port}", {}, "cannot read the command line"),
    ("vllm", "vllm serve x --port {port}", {}, "'command' is only for server = \"command\""),
    ("command", None, {}, 'server = "command" needs command'),
    ("sglang", None, {}, "key 'models.srv.server'"),
    ("vllm", None, {"ready_path": "health"}, "must be a URL path starting with '/'"),
])
def test_config_mistakes_are_one_line_and_exit_2(tmp_path, server, command, options, expected):
    config = served_toml(tmp_path, server=server, command=command, **options)
    if command is None and server == "command":
        text = config.read_text().replace("command = ", "# command = ")
        config.write_text(text)
    proc = cli("validate", "--config", str(config), "--tasks-dir", str(TASKS))
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {config}:") and expected in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr


# ---------------------------------------------------------------- vLLM: command line and metrics, no GPU


def test_vllm_command_line(tmp_path, monkeypatch):
    fake = tmp_path / "bin" / "vllm"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(fake.parent))
    spec = ServedModel(backend="served", server="vllm", model="Qwen/Qwen2.5-0.5B-Instruct", served_model_name="qwen",
                       args=["--max-model-len", "4096", "--api-key", "sk-SECRET"])
    argv = command_line(spec, 8123)
    assert argv == [str(fake), "serve", "Qwen/Qwen2.5-0.5B-Instruct", "--host", "127.0.0.1", "--port", "8123",
                    "--served-model-name", "qwen", "--max-model-len", "4096", "--api-key", "sk-SECRET"]
    assert public_command(argv)[-1] == "[redacted]" and "sk-SECRET" not in " ".join(public_command(argv))
    assert public_command(["srv", "--hf-token=abc", "--port", "1"]) == ["srv", "--hf-token=[redacted]", "--port", "1"]
    monkeypatch.setenv("PATH", str(tmp_path))  # no vllm anywhere
    with pytest.raises(ServerUnavailable, match="vllm is not installed"):
        command_line(spec, 8123)


def test_vllm_metrics_from_recorded_pages():
    before = servermetrics.parse((DATA / "vllm_metrics_before.txt").read_text())
    after = servermetrics.parse((DATA / "vllm_metrics_after.txt").read_text())
    assert servermetrics.gauges(after) == {"running": 12.0, "waiting": 3.0, "kv_cache_usage": 0.42}
    old = servermetrics.gauges(servermetrics.parse((DATA / "vllm_metrics_old_names.txt").read_text()))
    assert old["kv_cache_usage"] == 0.125  # vLLM < 0.10 called it gpu_cache_usage_perc
    s = servermetrics.summary(before, after, [servermetrics.gauges(before), servermetrics.gauges(after)])
    # 100 requests in the cell (4 warm-up ones before it): 60 in (0.1, 0.25], 30 in (0.25, 0.5], 10 in (0.5, 0.75]
    assert s["ttft_count"] == 100
    assert s["ttft_mean_s"] == pytest.approx(0.267)
    assert s["ttft_p50_s"] == pytest.approx(0.1 + 0.15 * 50 / 60)  # histogram_quantile's interpolation
    assert s["ttft_p95_s"] == pytest.approx(0.5 + 0.25 * 5 / 10)
    assert s["running_max"] == 12.0 and s["running_mean"] == 6.0 and s["kv_cache_usage_max"] == 0.42


def test_histogram_quantile_edges():
    h = {"buckets": {0.1: 0.0, 1.0: 0.0, float("inf"): 0.0}, "count": 0.0, "sum": 0.0}
    assert servermetrics.quantile(h, 0.5) is None
    h = {"buckets": {0.1: 0.0, 1.0: 2.0, float("inf"): 4.0}, "count": 4.0, "sum": 9.0}
    assert servermetrics.quantile(h, 0.95) == 1.0  # in the +Inf bucket: the highest finite bound


# ---------------------------------------------------------------- a served run, end to end


def test_served_run_records_log_metrics_and_prices_by_wall_time(tmp_path):
    config = served_toml(tmp_path, metrics_path="/metrics")
    proc, folder = run(tmp_path, config, limit=12)
    assert proc.returncode == 0, proc.stderr
    (cell,) = jsonl(folder / "cells.jsonl")
    records = jsonl(folder / "records.jsonl")
    assert cell["status"] == "ok" and cell["concurrency"] == 4 and len(records) == 12
    assert all(r["score"] == 1.0 and r["token_source"] == "server" for r in records)  # the fake answers right
    # the box is the run's alone: each answer's share of the wall time, summing to the cell's
    assert sum(r["wall_share_s"] for r in records) == pytest.approx(cell["wall_s"], rel=0.05, abs=0.01)
    assert sum(r["cost_usd"] for r in records) == pytest.approx(sum(r["wall_share_s"] for r in records) * 0.5 / 3600)
    assert cell["server_ttft_count"] == 12 and cell["server_ttft_p50_s"] is not None
    assert cell["server_running_max"] is not None and cell["server_metrics_url"].endswith("/metrics")
    log = (folder / "servers" / "srv.log").read_text()
    assert "fake server: listening on 127.0.0.1" in log and log.startswith("# started ")
    server = json.loads((folder / "manifest.json").read_text())["models"]["srv"]["server"]
    assert server["name"] == "command" and server["log"] == "servers/srv.log" and str(FAKE) in server["command"]
    assert port_free(server["port"])  # stopped
    # re-priced from the records alone: twice the hourly rate, twice the cost
    (tmp_path / "p2").mkdir()
    proc2 = cli("report", str(folder), "--config", str(served_toml(tmp_path / "p2", rate=1.0)),
                "--out", str(tmp_path / "rep"))
    assert proc2.returncode == 0, proc2.stderr
    import csv

    (row,) = list(csv.DictReader((tmp_path / "rep" / "summary.csv").open()))
    (old,) = list(csv.DictReader((folder / "summary.csv").open()))
    assert float(row["usd_per_1k_requests"]) == pytest.approx(2 * float(old["usd_per_1k_requests"]))
    assert float(row["requests_per_s"]) == pytest.approx(12 / sum(r["wall_share_s"] for r in records))


def test_vllm_server_started_through_its_command_line(tmp_path):
    """A fake `vllm` on PATH that runs the stand-in server: bench's own vllm command line starts it,
    and the /metrics page in vLLM's format lands in the cell."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "vllm").write_text(f'#!/bin/sh\nexec {sys.executable} {FAKE} "$@" --ttft-s 0.005\n')
    (bin_dir / "vllm").chmod(0o755)
    config = served_toml(tmp_path, server="vllm", command=None, args=["--max-model-len", "2048"])
    proc, folder = run(tmp_path, config, limit=6, PATH=f"{bin_dir}:{os.environ['PATH']}")
    assert proc.returncode == 0, proc.stderr
    (cell,) = jsonl(folder / "cells.jsonl")
    assert cell["status"] == "ok" and cell["server_ttft_count"] == 6
    server = json.loads((folder / "manifest.json").read_text())["models"]["srv"]["server"]
    assert server["name"] == "vllm" and server["command"][1:3] == ["serve", "fake-model"]
    assert server["command"][-2:] == ["--max-model-len", "2048"]


def test_missing_vllm_skips_the_model_with_the_reason(tmp_path):
    """Known before the run starts: with nothing else to run, one grouped line, exit 4, no folder."""
    config = served_toml(tmp_path, server="vllm", command=None)
    proc, folder = run(tmp_path, config, limit=2, PATH=str(Path(sys.executable).parent.parent / "nothing-here"))
    assert proc.returncode == 4
    assert "skipping 1 served model, server cannot be started here: vllm is not installed" in proc.stderr
    assert "pip install vllm" in proc.stderr and "Traceback" not in proc.stderr
    assert folder is None


# ---------------------------------------------------------------- runtime failures: a failed cell with the reason


@pytest.mark.parametrize("case", ["exits_at_once", "never_ready", "port_in_use", "no_such_program"])
def test_server_failures_fail_the_cell_with_the_reason(tmp_path, case):
    base = f"{sys.executable} {FAKE} --port {{port}}"
    options, holder = {}, None
    if case == "exits_at_once":
        command, expected = base + " --exit-code 3", ["exited (exit code 3) before it was ready",
                                                      "fake server: fatal: cannot load fake-model"]
        command += " --model {model}"
    elif case == "never_ready":
        command, options = base + " --never-ready", {"ready_timeout_s": 1.5}
        expected = ["not ready after 1.5 s", "GET /health never answered 200", "fake server: listening"]
        options["ready_path"] = "/health"
    elif case == "port_in_use":
        holder = socket.socket()
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        command, options = base, {"port": holder.getsockname()[1]}
        expected = [f"port {options['port']} on 127.0.0.1 is already in use"]
    else:
        command, expected = "no-such-server-xyz --port {port}", ["cannot start the server: no-such-server-xyz"]
    try:
        proc, folder = run(tmp_path, served_toml(tmp_path, command=command, **options), limit=2)
    finally:
        if holder is not None:
            holder.close()
    assert proc.returncode == 4, proc.stderr
    (cell,) = jsonl(folder / "cells.jsonl")
    assert cell["status"] == "failed"
    for text in expected:
        assert text in cell["reason"], cell["reason"]
    assert "Traceback" not in proc.stderr and "srv failed: " in proc.stderr


# ---------------------------------------------------------------- cleanup: nothing left running


def _bench(config: Path, limit: int, tmp_path: Path) -> subprocess.Popen:
    """A run of ticket_routing on the served model of `config`, started in the background."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    return subprocess.Popen([sys.executable, "-m", "bench", "--config", str(config), "--tasks-dir", str(TASKS),
                             "--tasks", "ticket_routing", "--limit", str(limit), "--out", str(tmp_path / "res")],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _start_slow_run(tmp_path: Path, extra: str = "") -> tuple[subprocess.Popen, Path]:
    pid_file = tmp_path / "server.pid"
    command = f"{sys.executable} {FAKE} --port {{port}} --ttft-s 0.3 --pid-file {pid_file}{extra}"
    proc = _bench(served_toml(tmp_path, command=command, concurrency=1), 50, tmp_path)
    deadline = time.monotonic() + 60
    while not (list((tmp_path / "res").glob("*/records.jsonl")) and pid_file.exists()):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.1)
    return proc, pid_file


@pytest.mark.parametrize("how", ["ctrl_c", "kill_9"])
def test_stopping_the_run_stops_the_server(tmp_path, how):
    proc, pid_file = _start_slow_run(tmp_path)
    pid = int(pid_file.read_text())
    if how == "ctrl_c":
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 130 and "resume with" in err
    else:
        proc.kill()
        proc.communicate()
    assert pid_gone(pid), f"server {pid} outlived the run ({how})"


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_stopping_the_run_while_its_server_loads_stops_at_once(tmp_path, sig):
    """The server is in its own session (Ctrl-C does not reach it) and the model runs in a thread
    of the parent: the wait for readiness must hear the stop, not last ready_timeout_s."""
    pid_file = tmp_path / "server.pid"
    command = f"{sys.executable} {FAKE} --port {{port}} --never-ready --pid-file {pid_file}"
    proc = _bench(served_toml(tmp_path, command=command, ready_timeout_s=300), 2, tmp_path)
    deadline = time.monotonic() + 60
    while not pid_file.exists():
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.1)
    time.sleep(1.0)  # the parent polls readiness
    t0 = time.monotonic()
    proc.send_signal(sig)
    try:
        out, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail("the run went on waiting for its server after the stop")
    assert proc.returncode == 130 and "resume with" in err, err
    assert time.monotonic() - t0 < 30
    assert pid_gone(int(pid_file.read_text())), "the server outlived the run"


def test_a_server_ignoring_sigterm_is_killed_after_the_grace_period(tmp_path):
    pid_file = tmp_path / "server.pid"
    command = f"{sys.executable} {FAKE} --port {{port}} --ignore-term --pid-file {pid_file}"
    t0 = time.monotonic()
    proc, folder = run(tmp_path, served_toml(tmp_path, command=command, stop_grace_s=0.5), limit=2)
    assert proc.returncode == 0, proc.stderr
    assert pid_gone(int(pid_file.read_text()), within_s=1.0)
    assert time.monotonic() - t0 < 60


# ---------------------------------------------------------------- the real thing: transformers serve


@pytest.mark.skipif(importlib.util.find_spec("fastapi") is None or importlib.util.find_spec("uvicorn") is None,
                    reason="transformers serve needs the 'served' extra: pip install -e '.[served]'")
def test_transformers_serve_runs_a_tiny_model(tmp_path, tiny_models):
    import transformers

    config = tmp_path / "models.toml"
    config.write_text(
        '[hardware.box]\nusd_per_hour = 0.5\n\n[models.tiny-served]\nbackend = "served"\nserver = "transformers"\n'
        f'model = "{tiny_models["tiny-chat"]}"\nargs = ["--device", "cpu"]\nconcurrency = 2\nhardware = "box"\n'
        "ready_timeout_s = 300\n", encoding="utf-8")
    proc, folder = run(tmp_path, config, limit=4)
    assert proc.returncode == 0, proc.stderr
    (cell,) = jsonl(folder / "cells.jsonl")
    records = jsonl(folder / "records.jsonl")
    assert cell["status"] == "ok" and len(records) == 4
    assert all(r["token_source"] == "server" and r["output_tokens"] >= 1 and r["ttft_s"] > 0 for r in records)
    server = json.loads((folder / "manifest.json").read_text())["models"]["tiny-served"]["server"]
    assert server["name"] == "transformers" and server["version"] == transformers.__version__
    assert server["command"][1:4] == ["-m", "transformers.cli.transformers", "serve"]
    assert "--continuous-batching" in server["command"]
    assert "Uvicorn running on http://127.0.0.1" in (folder / "servers" / "tiny-served.log").read_text()
    assert not any(k.startswith("server_") for k in cell)  # transformers serve has no metrics endpoint
    assert port_free(server["port"])


def test_a_server_that_dies_mid_run_leaves_a_partial_cell_with_the_reason(tmp_path):
    """Answers before the crash count: the cell is partial (the one status rule, resumable), not
    failed, and its reason says the server exited, with its last log lines."""
    command = f"{sys.executable} {FAKE} --port {{port}} --model {{model}} --die-after 3"
    config = served_toml(tmp_path, command=command, concurrency=1, max_attempts=2, backoff_s=0.01)
    proc, folder = run(tmp_path, config, limit=6)
    assert proc.returncode == 3, proc.stderr
    (cell,) = jsonl(folder / "cells.jsonl")
    assert cell["status"] == "partial" and 0 < cell["errors"] < cell["recorded"] == 6, cell  # warm-up took one
    assert "the server exited during the run" in cell["reason"] and "fake server: crashed" in cell["reason"]
    assert "Traceback" not in proc.stderr
