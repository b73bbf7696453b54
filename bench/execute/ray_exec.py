"""Local models' workers as Ray tasks (`--executor ray`): each task asks the cluster for the GPUs
its model needs (one CPU on a CPU-only cluster), runs bench.execute.worker.main on whichever node has them,
and streams its messages back through a Ray queue; the driver alone writes the run folder."""

from __future__ import annotations

import os
import queue as queue_mod
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from bench.backends import registry
from bench.errors import InputError, one_line

INSTALL = 'pip install -e ".[ray]"'
CONNECT_TIMEOUT_S = 5.0  # a Ray address that does not answer a TCP connect in this long is unreachable
DEFAULT_PORT = 6379  # the GCS port of `ray start --head`


@dataclass(frozen=True)
class OnNode:
    """The task's first message, read by RayHandle itself: where it runs (the driver's messages name it)."""

    node_ip: str
    host: str
    pid: int


def require_ray():
    """The ray module, or InputError saying how to install it."""
    try:
        import ray
    except ImportError:
        raise InputError(f"--executor ray needs Ray, which is not installed: {INSTALL}") from None
    return ray


def check_reachable(address: str, timeout_s: float = CONNECT_TIMEOUT_S) -> None:
    """InputError unless something listens at a HOST:PORT (or ray://HOST:PORT) address: ray.init
    itself would wait minutes for an address that never answers."""
    if address == "auto":
        return  # the cluster this machine belongs to: ray.init says at once when there is none
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host:
        host, port = port, str(DEFAULT_PORT)
    if not port.isdigit():
        raise InputError(f"--ray-address {address}: use HOST:PORT (the head's GCS address, port {DEFAULT_PORT} "
                         f"by default), ray://HOST:PORT or auto")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s).close()
    except OSError as e:
        raise InputError(f"--ray-address {address}: no Ray cluster answers there within {timeout_s:.0f} s "
                         f"({e.strerror or e}); start one with `ray start --head` or check the address") from None


def connect(address: str | None):
    """Join the cluster at `address`, or start a local Ray instance when None; the ray module."""
    ray = require_ray()
    if ray.is_initialized():
        return ray
    if address is not None:
        check_reachable(address)
    try:  # worker output stays on the nodes: everything the driver needs comes as messages.
        # "local": a new instance even where `ray start` left one running (--ray-address auto joins that)
        ray.init(address=address or "local", log_to_driver=False, logging_level="ERROR",
                 **({} if address else {"include_dashboard": False}))
    except (ConnectionError, RuntimeError, ValueError) as e:
        where = f"--ray-address {address}" if address else "--executor ray"
        raise InputError(f"{where}: cannot connect to Ray: {one_line(e)}") from None
    return ray


def cluster_gpus(ray) -> list[int]:
    """The GPUs of each alive node of the cluster."""
    return [int(n["Resources"].get("GPU", 0)) for n in ray.nodes() if n.get("Alive")]


def gpus_needed(spec, device: str | None, has_gpus: bool) -> int:
    """GPUs a local model's task asks for: none on CPU (or MPS, or `auto` on a cluster without
    GPUs), else the model's `gpus` (a device_map model spreads over them)."""
    effective = device if device is not None and spec.follows_device_flag() else spec.device
    return 0 if effective in ("cpu", "mps") or (effective == "auto" and not has_gpus) else spec.gpu_count()


def check_fits(ray, models: dict, device: str | None) -> None:
    """InputError for the first local model asking for more GPUs than any one node of the cluster
    has (Ray would wait for such a node for ever)."""
    per_node = cluster_gpus(ray)
    most = max(per_node, default=0)
    for name, spec in models.items():
        wanted = gpus_needed(spec, device, most > 0)
        if wanted > most:
            raise InputError(f"model {name!r} needs {wanted} GPU{'s' if wanted > 1 else ''} on one node, but no node "
                             f"of the Ray cluster has {'any' if most == 0 else f'more than {most}'} "
                             f"({len(per_node)} node(s)); add a node with that many GPUs, or lower the model's "
                             f"'gpus' (or its device)")


def _run_on_node(spec, device, spec_dir, jobs, channel, factory: str) -> None:
    """The Ray task: say where it runs, then be the worker (on the Ray worker's main thread, so the
    worker's SIGINT handler can be set; its parent-death signal binds it to the node's raylet)."""
    import ray

    from bench.execute.worker import main as worker_main

    channel.put(OnNode(ray.util.get_node_ip_address(), socket.gethostname(), os.getpid()))
    worker_main(spec, device, Path(spec_dir), jobs, channel, factory)


def _death_reason(e: BaseException) -> str:
    """Ray's exception for a task that did not return, in words (the caller adds where it ran)."""
    from ray import exceptions as rx

    if isinstance(e, (rx.NodeDiedError, rx.LocalRayletDiedError)):
        return "its Ray node died"
    if isinstance(e, rx.OutOfMemoryError):
        return "killed by Ray's memory monitor for lack of memory"
    if isinstance(e, rx.TaskCancelledError):
        return "cancelled"
    if isinstance(e, rx.WorkerCrashedError):
        return "Ray worker crashed"
    if isinstance(e, rx.RayActorError):
        return f"its message queue died: {one_line(e, 160)}"
    if isinstance(e, rx.RayTaskError):
        return f"raised {one_line(e.as_instanceof_cause(), 200)}"
    return one_line(e, 200)


class RayHandle:
    """One model's Ray task and the queue actor its messages come through."""

    def __init__(self, ref, channel, started_at: float):
        self.ref, self.channel, self.started_at = ref, channel, started_at
        self.where = "a Ray task not yet placed on a node"
        self.startup_s: float | None = None  # submitted -> running on its node (scheduling and process start)
        self._stopped, self._death = False, None

    def get(self, timeout: float):
        deadline = time.monotonic() + timeout
        while True:
            try:
                msg = self.channel.get(timeout=max(0.0, deadline - time.monotonic()))
            except Exception:  # a timeout, or the queue actor gone with its node: as silent as a dead worker
                raise queue_mod.Empty from None
            if not isinstance(msg, OnNode):
                return msg
            self.startup_s = time.monotonic() - self.started_at
            self.where = f"pid {msg.pid} on Ray node {msg.node_ip} ({msg.host})"

    def exited(self) -> bool:
        import ray

        return bool(ray.wait([self.ref], timeout=0)[0])

    def death(self) -> str | None:
        import ray

        if self._death is None and self.exited():
            try:
                ray.get(self.ref, timeout=0)
                self._death = ""
            except Exception as e:
                self._death = _death_reason(e)
        return self._death or None

    def stop(self) -> None:
        import ray

        if self._stopped:
            return
        self._stopped = True
        try:
            if not self.exited():
                ray.cancel(self.ref, force=True)  # the task's process ends; its GPUs return to the cluster
            ray.kill(self.channel.actor)
        except Exception:  # already gone with its node, or the driver is leaving the cluster
            pass


class RayLauncher:
    """Starts each local model's worker as a Ray task on the cluster at `address` (None: a local
    Ray instance started here)."""

    def __init__(self, address: str | None = None):
        self.address = address
        self.ray = connect(address)
        self.has_gpus = any(cluster_gpus(self.ray))
        self._task = self.ray.remote(max_retries=0, max_calls=1)(_run_on_node)

    def start(self, spec, device: str | None, spec_dir: Path, jobs, gpus: tuple[int, ...] = ()) -> RayHandle:
        from ray.util.queue import Queue
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        started_at = time.monotonic()
        wanted = gpus_needed(spec, device, self.has_gpus)
        # the queue lives on the driver's node: a worker node that dies takes only its task with it
        here = NodeAffinitySchedulingStrategy(self.ray.get_runtime_context().get_node_id(), soft=False)
        channel = Queue(actor_options={"num_cpus": 0, "scheduling_strategy": here})
        if wanted and spec.follows_device_flag() and (device or spec.device).startswith("cuda:"):
            device = "cuda:0"  # Ray shows the task only its own GPUs, numbered from 0
        task = self._task.options(num_gpus=wanted, num_cpus=1)
        return RayHandle(task.remote(spec, device, str(spec_dir), jobs, channel, registry.of(spec).factory), channel, started_at)

    def describe(self) -> str:
        """One line for the run's start: which cluster, how big."""
        nodes = [n for n in self.ray.nodes() if n.get("Alive")]
        cpus = sum(int(n["Resources"].get("CPU", 0)) for n in nodes)
        where = f"the Ray cluster at {self.address}" if self.address else "a Ray instance started here"
        return (f"local models run as Ray tasks on {where}: {len(nodes)} node(s), {cpus} CPUs, "
                f"{sum(cluster_gpus(self.ray))} GPUs")

    def close(self) -> None:
        self.ray.shutdown()


def launcher_for(address: str | None, device: str | None, models: dict) -> RayLauncher | None:
    """The launcher of a run's local models (None when it has none: API and served models run on
    the driver whatever the executor); InputError when Ray is not installed, the address does not
    answer or no node has the GPUs a model needs."""
    require_ray()
    local = {n: spec for n, spec in models.items() if registry.of(spec).local}
    if not local:
        return None
    launcher = RayLauncher(address)
    try:
        check_fits(launcher.ray, local, device)
    except BaseException:
        launcher.close()
        raise
    return launcher
