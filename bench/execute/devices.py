"""Which GPUs a run may use and what each model needs of them: `--devices`, `--parallel`, a local
model's `gpus`. Read without importing torch: CUDA_VISIBLE_DEVICES, else nvidia-smi's list."""

from __future__ import annotations

import os
from dataclasses import dataclass

from bench.errors import InputError


def visible_gpus() -> list[str]:
    """The GPUs this process may use, as CUDA numbers them for it (entry i is CUDA device i): the
    entries of CUDA_VISIBLE_DEVICES (up to one CUDA would stop at), else every GPU nvidia-smi lists."""
    raw = os.environ.get("CUDA_VISIBLE_DEVICES")
    if raw is None:
        from bench.core.measure import gpus

        return [str(i) for i in range(len(gpus()))]
    entries = []
    for entry in (e.strip() for e in raw.split(",")):
        if not entry or entry.startswith("-"):  # CUDA ignores this entry and every one after it
            break
        entries.append(entry)
    return entries


def parse_parallel(value: int | None) -> int | None:
    if value is not None and value < 1:
        raise InputError(f"--parallel {value}: must be at least 1 (1 runs one model at a time: isolated timings)")
    return value


def parse_devices(text: str | None, visible: list[str]) -> tuple[int, ...]:
    """The GPU indices a run may use: those of --devices, else every visible one."""
    if text is None:
        return tuple(range(len(visible)))
    source = "CUDA_VISIBLE_DEVICES shows" if "CUDA_VISIBLE_DEVICES" in os.environ else "nvidia-smi lists"
    shown = (f"{source} {len(visible)} GPU(s): {', '.join(map(str, range(len(visible))))}" if visible
             else f"{source} no GPU")
    try:
        wanted = tuple(int(x) for x in text.split(","))
    except ValueError:
        raise InputError(f"--devices {text!r}: use GPU numbers separated by commas, like 0,1,2,3") from None
    if len(set(wanted)) != len(wanted):
        raise InputError(f"--devices {text}: a GPU is named twice")
    missing = [g for g in wanted if not 0 <= g < len(visible)]
    if missing:
        raise InputError(f"--devices {text}: no GPU {missing[0]} here; {shown}")
    return wanted


@dataclass(frozen=True)
class Need:
    """What one model takes while it runs: nothing (an API client), a CPU slot, or GPUs."""

    gpus: int = 0  # GPUs from the run's pool
    pinned: int | None = None  # the GPU its device names (cuda:N)
    cpu: bool = False  # a CPU slot (a local model without a GPU)
    pinned_outside: int | None = None  # a cuda:N device outside the run's GPUs (an error when it has any)


def need_of(device: str, gpus: int, pool: tuple[int, ...]) -> Need:
    """A model running on this machine on `device` (auto, cpu, mps, cuda, cuda:N) that asks for
    `gpus` GPUs, given the run's pool: auto without GPUs runs on the CPU."""
    if device.startswith("cuda:") and int(device.split(":")[1]) in pool:
        return Need(pinned=int(device.split(":")[1]))
    if device.startswith("cuda:"):  # a GPU the run's list does not have (need_problem says so when it has one)
        return Need(cpu=True, pinned_outside=int(device.split(":")[1]))
    if device in ("cpu", "mps") or (device == "auto" and not pool):
        return Need(cpu=True)
    return Need(gpus=gpus)


def need_problem(name: str, need: Need, pool: tuple[int, ...]) -> str | None:
    """Why a model can never get what it needs from the pool (bad input), or None."""
    if need.pinned_outside is not None and pool:
        return (f"model {name} runs on cuda:{need.pinned_outside} (its device), which the run's GPUs "
                f"({', '.join(map(str, pool))}) leave out")
    if need.gpus > len(pool):
        have = f"{len(pool)} GPU(s) ({', '.join(map(str, pool))})" if pool else "no GPU"
        return f"model {name} needs {need.gpus} GPU(s) (its 'gpus') but the run has {have}; lower 'gpus' or pass --devices"
    return None
