"""Where a local model's worker runs: the Launcher starts bench.execute.worker.main somewhere and hands back
a WorkerHandle, the parent's only view of it (its messages, whether it ended, why, how to stop it).
LocalLauncher runs it in a spawned process of this machine; bench/execute/ray_exec.py runs it on a Ray node."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import socket
from pathlib import Path
from typing import Protocol

from bench.backends import registry
from bench.execute.worker import Job
from bench.execute.worker import main as worker_main


class Stopped(Exception):
    """The run is stopping (Ctrl-C, SIGTERM, a failure elsewhere): a model's thread ends here, its
    worker stopped and what it answered kept."""


class WorkerHandle(Protocol):
    where: str  # "pid 1234 on host X", "ray node 10.0.0.3": for messages

    def get(self, timeout: float):
        """The next bench.execute.messages message; raises queue.Empty after `timeout` seconds without one."""

    def exited(self) -> bool:
        """The worker has ended, normally or not (messages it sent may still be waiting in get)."""

    def death(self) -> str | None:
        """Why it ended abnormally ("signal SIGKILL; ...", "exit code 1", "node ... died"); None if
        it is running or ended normally."""

    def stop(self) -> None:
        """End it now (terminate, then kill) and free its resources; idempotent."""


class Launcher(Protocol):
    def start(self, spec, device: str | None, spec_dir: Path, jobs: list[Job],
              gpus: tuple[int, ...]) -> WorkerHandle:
        """Start bench.execute.worker.main(spec, device, spec_dir, jobs, channel) on `gpus` (none: CPU or the
        device as given); it runs while the caller reads its messages."""


def exit_reason(exitcode: int | None) -> str:
    """A process's exit status in words."""
    if exitcode is None:
        return "did not exit"
    if exitcode < 0:
        sig = signal.Signals(-exitcode).name
        hint = "; killed by the system, often for lack of memory" if sig == "SIGKILL" else ""
        return f"signal {sig}{hint}"
    return f"exit code {exitcode}"


def gpu_env(gpus: tuple[int, ...]) -> dict[str, str]:
    """The environment that shows a worker (or a server) only its GPUs, numbered as this process
    sees them (through its own CUDA_VISIBLE_DEVICES); empty: leave it as it is."""
    if not gpus:
        return {}
    from bench.execute.devices import visible_gpus

    shown = visible_gpus()
    return {"CUDA_VISIBLE_DEVICES": ",".join(shown[g] if g < len(shown) else str(g) for g in gpus)}


def _child(env: dict[str, str], spec, device, spec_dir, jobs, queue, factory: str) -> None:
    # before anything imports torch: CUDA reads CUDA_VISIBLE_DEVICES once, at its initialisation
    os.environ.update(env)
    worker_main(spec, device, spec_dir, jobs, queue, factory)


class LocalHandle:
    """A spawned process of this machine and its multiprocessing queue."""

    def __init__(self, proc, queue):
        self.proc, self.queue, self._stopped = proc, queue, False
        self.where = f"pid {proc.pid} on host {socket.gethostname()}"

    def get(self, timeout: float):
        return self.queue.get(timeout=timeout)

    def exited(self) -> bool:
        return not self.proc.is_alive()

    def death(self) -> str | None:
        code = self.proc.exitcode
        return None if code in (None, 0) else exit_reason(code)

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        if self.proc.is_alive():
            self.proc.terminate()
        self.proc.join(timeout=30)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join()
        self.queue.close()


class LocalLauncher:
    """Each worker in a fresh spawned interpreter of this machine (no torch state inherited)."""

    def start(self, spec, device: str | None, spec_dir: Path, jobs: list[Job],
              gpus: tuple[int, ...] = ()) -> LocalHandle:
        ctx = mp.get_context("spawn")
        queue = ctx.Queue()
        proc = ctx.Process(target=_child, args=(gpu_env(gpus), spec, device, spec_dir, jobs, queue,
                                                  registry.of(spec).factory), daemon=True)
        proc.start()
        return LocalHandle(proc, queue)
