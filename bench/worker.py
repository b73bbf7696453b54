"""The process that runs one local model: load it, generate every batch sent, report back.

It never writes results: each batch's completions go to the parent over a queue, and the parent
scores and stores them. A crash or out-of-memory here ends this model's cells, not the run.
"""

from __future__ import annotations

import os
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path

from bench import measure
from bench.meters import EnergyMeter, GpuMemorySampler
from bench.backends.base import Request
from bench.config import TransformersModel
from bench.errors import one_line


@dataclass
class Job:
    task: str
    batches: list[list[Request]]
    repeats: int = 1  # every batch generated this many times (timing statistics use them all)
    speed: bool = False  # every row runs to max_new_tokens


def main(spec: TransformersModel, device: str | None, spec_dir: Path, jobs: list[Job], queue) -> None:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
        from bench.backends.transformers import TransformersBackend

        backend = TransformersBackend(spec, device=device, spec_dir=spec_dir)
        info = backend.load()
    except Exception as e:  # not cached, gated, missing, out of memory, bad template file ...
        queue.put(("load_failed", one_line(e)))
        return
    if jobs and jobs[0].batches:
        try:  # one untimed batch: kernel selection, allocator growth and lazy init happen here
            t0 = measure.now()
            backend.generate_batch(jobs[0].batches[0], speed=jobs[0].speed)
            info.cold_start_s = measure.now() - t0
        except Exception:  # the same failure will be met, and reported, on the first timed batch
            pass
    queue.put(("loaded", asdict(info)))
    for job in jobs:
        try:
            measure.reset_peaks(backend.device)
            energy, gpu_memory = EnergyMeter(backend.device), GpuMemorySampler(backend.device)
            others = gpu_memory.start()
            energy.start()
            walls = []
            try:
                for repeat in range(job.repeats):
                    t0 = measure.now()
                    for batch in job.batches:
                        tb = measure.now()
                        completions = backend.generate_batch(batch, speed=job.speed)
                        batch_wall_s = measure.now() - tb  # tokenising and decoding included: what cost is charged on
                        queue.put(("batch", job.task, repeat, [r.example_id for r in batch],
                                   [c.to_dict() | {"batch_wall_s": batch_wall_s} for c in completions]))
                    walls.append(measure.now() - t0)
            finally:  # the meters' threads stop whatever happened
                joules, nvml_peak = energy.stop(), gpu_memory.stop()
            queue.put(("cell", job.task, {"wall_s": sum(walls), "wall_s_per_repeat": walls,
                                          "energy_j": joules, "energy_source": energy.source or energy.why,
                                          "gpu_other_pids": others,
                                          "memory": {"peak_rss_bytes": measure.peak_rss_bytes(),
                                                     "nvml_used_peak_bytes": nvml_peak,
                                                     **measure.torch_memory(backend.device)}}))
        except Exception as e:
            queue.put(("cell_failed", job.task, one_line(e), traceback.format_exc(limit=3)))
    backend.close()
    queue.put(("done",))
