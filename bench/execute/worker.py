"""The process that runs one local model: load it, generate every batch sent, report back.

It never writes results: each batch's completions go to the parent over a queue, and the parent
scores and stores them. A crash or out-of-memory here ends this model's cells, not the run.
"""

from __future__ import annotations

import os
import signal
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.backends.base import Request
from bench.backends.oom import generate_with_backoff, release_cuda
from bench.config import TransformersModel
from bench.core import measure
from bench.core.meters import EnergyMeter, GpuMemorySampler
from bench.errors import one_line
from bench.execute.messages import Batch, CellDone, CellFailed, CellStarted, Done, Loaded, LoadFailed


@dataclass
class Job:
    task: str
    rounds: list[list[list[Request]]]  # per repeat, its batches (empty for a repeat already recorded)
    speed: bool = False  # every row runs to max_new_tokens


def _die_with_parent() -> None:
    """Linux: the kernel kills this worker if the parent dies (kill -9 leaves no one to stop it)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def main(spec: TransformersModel, device: str | None, spec_dir: Path, jobs: list[Job], queue,
         factory: str | None = None) -> None:
    """Load the model with its backend's factory ("module:Class", passed in: a backend registered
    in the parent, a test's toy, is not in a fresh interpreter's registry), run every job, and put
    bench.execute.messages on `queue` (its only use of it)."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent decides
    _die_with_parent()
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
        from bench.backends import registry

        make = registry.load_object(factory or registry.of(spec).factory)
        backend = make(spec, device=device, spec_dir=spec_dir)
        info = backend.load()
    except Exception as e:  # not cached, gated, missing, out of memory, bad template file ...
        queue.put(LoadFailed(one_line(e)))
        return
    run_rounds = _static(backend, queue)
    if spec.engine == "continuous":
        from bench.backends.continuous import ContinuousEngine

        run_rounds = _continuous(ContinuousEngine(backend), queue)
    _warm_up(run_rounds, jobs, spec.batch_size, info)
    info.runtime["engine"] = spec.engine
    if spec.engine == "continuous":
        info.runtime["attn_implementation"] = getattr(run_rounds, "engine").attn_implementation
    queue.put(Loaded(asdict(info), measure.fingerprint()))
    size = spec.batch_size  # halved on out-of-memory, and kept for the batches after
    for job in jobs:
        queue.put(CellStarted(job.task))
        try:
            figures, size = _measured(backend, run_rounds, job, size)
            queue.put(CellDone(job.task, figures))
        except Exception as e:
            queue.put(CellFailed(job.task, one_line(e), traceback.format_exc(limit=3)))
    backend.close()
    queue.put(Done())


def _warm_up(run_rounds, jobs: list[Job], size: int, info) -> None:
    """One untimed batch: kernel selection, allocator growth and lazy init happen here."""
    first = next(((j, b[0]) for j in jobs for b in j.rounds if b), None)
    if first is None:
        return
    try:
        t0 = measure.now()
        run_rounds(Job(first[0].task, [[first[1]]], first[0].speed), size, send=False)
        info.cold_start_s = measure.now() - t0
    except Exception:  # the same failure will be met, and reported, on the first timed batch
        pass


def _measured(backend, run_rounds, job: Job, size: int) -> tuple[dict, int]:
    """One job's rounds under the energy and memory meters: its figures, and the batch size after."""
    measure.reset_peaks(backend.device)
    energy, gpu_memory = EnergyMeter(backend.device), GpuMemorySampler(backend.device)
    others = gpu_memory.start()
    energy.start()
    try:
        walls, size = run_rounds(job, size)
    finally:  # the meters' threads stop whatever happened
        joules, nvml_peak = energy.stop(), gpu_memory.stop()
    return {"wall_s": sum(walls), "wall_s_per_repeat": walls, "energy_j": joules, "energy_source": energy.source,
            "energy_unavailable_reason": None if energy.source else energy.why, "gpu_other_pids": others,
            "peak_rss_bytes": measure.peak_rss_bytes(), "nvml_used_peak_bytes": nvml_peak,
            **measure.torch_memory(backend.device)}, size


def _static(backend, queue):
    """Fixed batches through generate(); each batch's rows share its wall time (cost)."""

    def run_rounds(job: Job, size: int, send: bool = True) -> tuple[list[float], int]:
        walls = []
        for repeat, batches in enumerate(job.rounds):
            t0 = measure.now()
            for batch in batches:
                tb = measure.now()
                completions, size = generate_with_backoff(
                    lambda rows: backend.generate_batch(rows, speed=job.speed), batch, size, release=release_cuda)
                # tokenising, decoding and any out-of-memory retries included: what cost is charged on
                batch_wall_s = measure.now() - tb
                if send:
                    queue.put(Batch(job.task, repeat, [r.example_id for r in batch],
                                    [c.to_dict() | {"batch_wall_s": batch_wall_s, "batch_wall_rows": len(batch)}
                                     for c in completions], size))
            walls.append(measure.now() - t0)
        return walls, size

    return run_rounds


def _continuous(engine, queue):
    """Every request of a repeat through the continuous engine, `size` in flight (halved on
    out-of-memory); the requests finished together share the box time since the previous ones
    finished, so that summed over a cell it is the cell's wall time (cost)."""

    def run_rounds(job: Job, size: int, send: bool = True) -> tuple[list[float], int]:
        walls = []
        for repeat, batches in enumerate(job.rounds):
            todo = [r for batch in batches for r in batch]

            def deliver(rows, wall_s, repeat=repeat):
                if send:
                    queue.put(Batch(job.task, repeat, [r.example_id for r, _ in rows],
                                    [c.to_dict() | {"batch_wall_s": wall_s, "batch_wall_rows": len(rows)}
                                     for _, c in rows], rows[0][1].batch_size))

            size, wall_s = engine.run(todo, size, job.speed, deliver)
            walls.append(wall_s)
        return walls, size

    run_rounds.engine = engine
    return run_rounds
