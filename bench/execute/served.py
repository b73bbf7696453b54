"""Runs a served model's cells: start its server, send every task through the OpenAI-compatible
client at the model's concurrency, scrape the server's metrics per cell, and stop the server
whatever happens (a failure, Ctrl-C). A server that cannot start fails or skips the model's cells
with the reason; the other models run."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from bench.config import ClientOptions, OpenAIModel, ServedModel
from bench.core.types import Cell
from bench.execute.launch import Stopped, gpu_env
from bench.execute.recording import Recorder
from bench.execute.timeline import chained
from bench.prepare.planning import Plan
from bench.serve.server import METRICS_PATH, ManagedServer, ServerError, ServerUnavailable

SERVERS_DIR = "servers"  # in the run folder: one log per served model


def client_spec(spec: ServedModel, port: int) -> OpenAIModel:
    """The OpenAI-compatible client's settings for the server on `port` (no key: it is ours, local)."""
    shared = {k: getattr(spec, k) for k in ClientOptions.model_fields}
    shared["model"] = spec.served_model_name or spec.model
    return OpenAIModel(backend="openai", base_url=f"http://127.0.0.1:{port}/v1", **shared)


def log_path(run_dir: Path, name: str) -> Path:
    return run_dir / SERVERS_DIR / f"{name}.log"


@contextmanager
def started(spec: ServedModel, log: Path, env: dict[str, str] | None = None,
            stop: threading.Event | None = None) -> Iterator[ManagedServer]:
    """A ready server, stopped on the way out; ServerUnavailable / ServerError when it cannot be.
    env: added to the server's environment (CUDA_VISIBLE_DEVICES: the GPUs it was given). stop:
    set when the run stops; the wait for readiness then ends at once and launch.Stopped is raised."""
    server = ManagedServer(spec, log, env)
    try:
        server.start()
        if server.wait_ready(stop) is None:
            raise Stopped()
        yield server
    finally:
        server.stop()


def metrics_observer(spec: ServedModel, server: ManagedServer) -> Callable | None:
    """observe(cell) for the API runner: samples the server's metrics while the cell runs."""
    path = spec.metrics_path or METRICS_PATH.get(spec.server)
    if path is None:
        return None
    from bench.serve.servermetrics import Sampler

    def observe(cell: Cell) -> Callable[[], None]:
        sampler = Sampler(server.url + path)
        sampler.start()

        def finish() -> None:
            cell.server_metrics = sampler.stop()
        return finish
    return observe


def run_served_model(name: str, spec: ServedModel, plans: dict[str, Plan], recorder: Recorder, *,
                     run_dir: Path, on_model: Callable, progress: Callable, repeats: int = 1,
                     done: dict[str, set[tuple[str, int]]] | None = None, gpus: tuple[int, ...] = (),
                     observe: Callable | None = None, stop=None) -> list[Cell]:
    """Every planned task on one served model; done: per task, the (example id, repeat) pairs
    already recorded. gpus: the GPUs its server may see; observe and stop: as run_api_model's."""
    from bench.execute.api_runner import run_api_model

    def failed(status: str, why: str) -> list[Cell]:
        cells = [Cell(name, t, status=status, reason=why, n=len(p.requests), concurrency=spec.concurrency,
                      batch_size=1, repeats=repeats, resumed_examples=len((done or {}).get(t, ())))
                 for t, p in plans.items()]
        on_model(name, {"status": "skipped" if status == "skipped" else "failed", "reason": why})
        return cells

    try:
        with started(spec, log_path(run_dir, name), gpu_env(gpus), stop) as server:
            info = {**server.info(), "log": f"{SERVERS_DIR}/{name}.log"}  # relative to the run folder

            def with_server(model: str, entry: dict) -> None:
                on_model(model, {**entry, "server": info})

            cells = run_api_model(name, client_spec(spec, server.port), plans, recorder, on_model=with_server,
                                  progress=progress, repeats=repeats, done=done,
                                  observe=chained(observe, metrics_observer(spec, server)), wall_shares=True,
                                  stop=stop)
            code = server.exit_code()
            if code is not None:  # it died under load: say so rather than leave "connection refused"
                why = f"the server exited during the run; last log lines: {server.tail()}"
                for c in cells:  # the status stays the one rule's (failed only with no answer at all)
                    if c.status not in ("ok", "partial") or c.errors:
                        c.reason = why if c.status != "partial" else f"{c.reason}; {why}"
            return cells
    except ServerUnavailable as e:
        return failed("skipped", f"server cannot be started here: {e}")
    except ServerError as e:
        return failed("failed", str(e))
