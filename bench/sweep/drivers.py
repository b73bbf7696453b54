"""How `bench sweep` drives one model at one load level: the LevelDriver interface and a driver for
each way a backend runs (API, served, local), chosen by the backend's registry entry. Another engine
plugs in with its own driver."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from bench.backends import registry
from bench.backends.base import Request
from bench.core import measure
from bench.errors import one_line


class SweepFailed(Exception):
    """The model could not be driven at all (not loadable, no key, server did not start)."""


@dataclass
class LevelResult:
    wall_s: float  # first request sent to last answer, load and warm-up excluded
    completions: list[tuple[str, dict]]  # (example id, Completion.to_dict()) in the order sent
    level_used: int | None = None  # a batch size halved after out-of-memory, when it was


class LevelDriver(Protocol):
    """Drives one model at a given load. `kind` names what the level is ("concurrency" or
    "batch_size"); run_level sends every request at that level and returns when all have answered."""

    kind: str

    def run_level(self, level: int, requests: list[Request]) -> LevelResult: ...

    def close(self) -> None: ...


class ApiDriver:
    """API and served models: `level` requests in flight at once, through the run's own client."""

    kind = "concurrency"

    def __init__(self, spec):
        self.spec = spec

    def run_level(self, level: int, requests: list[Request]) -> LevelResult:
        from bench.backends.api import MissingKey
        from bench.execute.api_runner import make_backend

        backend = make_backend(self.spec.model_copy(update={"concurrency": level}))
        try:
            backend.load()
        except MissingKey as e:
            raise SweepFailed(f"{e}; set it to sweep this model") from None
        except Exception as e:  # a missing SDK, a tokenizer that cannot load: as `bench run` skips the model
            raise SweepFailed(f"model could not be set up: {one_line(e)}") from None
        return asyncio.run(_api_level(backend, requests))

    def close(self) -> None:
        pass


async def _api_level(backend, requests: list[Request]) -> LevelResult:
    backend.open()
    try:
        await backend.warm_up(requests[0])
        t0 = measure.now()
        comps = await asyncio.gather(*(backend.complete(r, t0) for r in requests))
        wall = measure.now() - t0
    finally:
        await backend.aclose()
    return LevelResult(wall, [(r.example_id, c.to_dict()) for r, c in zip(requests, comps)])


class ServedDriver(ApiDriver):
    """A served model: its server started once for the whole sweep, its log in the sweep folder."""

    def __init__(self, spec, log: Path):
        from bench.execute.served import client_spec, started
        from bench.serve.server import ServerError, ServerUnavailable

        self._server = started(spec, log)
        try:
            server = self._server.__enter__()
        except (ServerError, ServerUnavailable) as e:
            raise SweepFailed(str(e)) from None
        self.server_info = server.info()
        super().__init__(client_spec(spec, server.port))

    def close(self) -> None:
        self._server.__exit__(None, None, None)


class LocalDriver:
    """A local transformers model: the level is its `batch_size`, which is the batch size of the
    static engine and the requests in flight of the continuous one. Each level runs in a fresh
    worker process (the model loaded and warmed up there, untimed), so each level's memory is its own."""

    def __init__(self, spec, device: str | None, spec_dir: Path):
        self.spec, self.device, self.spec_dir = spec, device, spec_dir
        self.kind = "concurrency" if spec.engine == "continuous" else "batch_size"

    def run_level(self, level: int, requests: list[Request]) -> LevelResult:
        from bench.execute.launch import LocalLauncher
        from bench.execute.local_runner import drain
        from bench.execute.worker import Job
        from bench.prepare.planning import batches

        spec = self.spec.model_copy(update={"batch_size": level})
        handle = LocalLauncher().start(spec, self.device, self.spec_dir, [Job("sweep", [batches(requests, level)])])
        level_run = _Level(level)
        try:
            if not drain(handle, level_run.handle):
                raise SweepFailed(f"worker process died ({handle.death() or 'it ended before its level'})")
        finally:
            handle.stop()
        return LevelResult(level_run.wall, level_run.comps, level_used=level_run.used)

    def close(self) -> None:
        pass


class _Level:
    """One sweep level's answers and wall time, from its worker's messages."""

    def __init__(self, level: int):
        self.comps, self.wall, self.used = [], None, level

    def handle(self, msg) -> None:
        from bench.execute.messages import Batch, CellDone, CellFailed, LoadFailed

        if isinstance(msg, LoadFailed):
            raise SweepFailed(f"model cannot be loaded: {msg.reason}")
        if isinstance(msg, Batch):
            self.comps += list(zip(msg.example_ids, msg.completions))
            self.used = min(self.used, msg.batch_size_used)
        elif isinstance(msg, CellDone):
            self.wall = msg.figures["wall_s"]
        elif isinstance(msg, CellFailed):
            raise SweepFailed(msg.reason)


def driver_for(name: str, spec, *, device: str | None, spec_dir: Path, folder: Path) -> LevelDriver:
    """The driver for how the model's backend runs (bench/backends/registry.py)."""
    runs = registry.of(spec).runs
    if runs == "local":
        return LocalDriver(spec, device, spec_dir)
    if runs == "served":
        from bench.execute.served import SERVERS_DIR

        return ServedDriver(spec, folder / SERVERS_DIR / f"{name}.log")
    return ApiDriver(spec)
