"""What a local model's worker tells the parent, one picklable dataclass per kind of message.

The worker only puts these on its channel; the parent (bench/execute/local_runner.py) handles each kind in
its own method. Completions travel as plain dicts (Completion.to_dict plus the batch's wall share).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Loaded:
    info: dict  # backends.base.LoadInfo as a dict: load_s, device, dtype, cold_start_s, weights_bytes, ...
    environment: dict = field(default_factory=dict)  # the machine that loaded it (measure.fingerprint)


@dataclass(frozen=True)
class LoadFailed:
    reason: str  # one line: not cached, gated, out of memory, bad template file ...


@dataclass(frozen=True)
class CellStarted:
    task: str  # the worker begins this task's timed batches (after load and warm-up)


@dataclass(frozen=True)
class Batch:
    task: str
    repeat: int
    example_ids: list[str]
    completions: list[dict]  # one per example id, in the same order
    batch_size_used: int  # the batch size (or requests in flight) after any out-of-memory halving


@dataclass(frozen=True)
class CellDone:
    task: str
    figures: dict  # wall_s, wall_s_per_repeat, energy and memory meters, gpu_other_pids


@dataclass(frozen=True)
class CellFailed:
    task: str
    reason: str  # one line
    traceback: str  # the last frames, printed for the user


@dataclass(frozen=True)
class Done:
    """Every job ran (or failed on its own): nothing more will come."""


Message = Loaded | LoadFailed | CellStarted | Batch | CellDone | CellFailed | Done
