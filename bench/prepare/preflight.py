"""Checks of this machine and of the local models' own limits, made before any model loads: every
device asked for exists here, and each task's max_new_tokens fits each local model's context
length (read from its config.json when that is on disk: nothing is downloaded)."""

from __future__ import annotations

import functools
from pathlib import Path

from bench.backends import registry
from bench.config import ModelsConfig, TransformersModel, task_text, where
from bench.errors import InputError


def check(config: Path, models_cfg: ModelsConfig, names: list[str], device_flag: str | None, task_data,
          devices_here: bool = True) -> None:
    """Raise InputError naming the flag, or the file, line and key, for the first problem found.
    devices_here: local models run on this machine (not on a cluster's nodes), so its devices count."""
    local = {n: models_cfg.models[n] for n in names if registry.of(models_cfg.models[n]).local}
    if local:
        if devices_here:
            _check_devices(config, local, device_flag)
        _check_context(config.parent, local, task_data)


def device_problem(device: str, cuda_count: int, mps: bool) -> str | None:
    """What is wrong with running on `device` on a machine with `cuda_count` CUDA GPUs (and an MPS
    device or not), or None."""
    kind, _, index = device.partition(":")
    if kind == "cuda":
        if cuda_count == 0:
            return "this machine has no CUDA GPU; use cpu (or auto)"
        if index and int(index) >= cuda_count:
            gpus = ", ".join(f"cuda:{i}" for i in range(cuda_count))
            return f"this machine has {cuda_count} GPU{'s' if cuda_count > 1 else ''}: {gpus}"
    if kind == "mps" and not mps:
        return "this machine has no MPS device (an Apple silicon GPU); use cpu (or auto)"
    return None


@functools.lru_cache(maxsize=1)
def _machine() -> tuple[int, bool] | None:
    """(CUDA GPUs visible, MPS available); None without torch (a local model cannot run then, and
    its worker says so). torch is imported only here: `--help` and API-only runs stay fast."""
    import warnings

    try:
        import torch
    except ImportError:
        return None
    with warnings.catch_warnings():  # a CUDA build without a driver warns; the count (0) says it all
        warnings.simplefilter("ignore")
        cuda = torch.cuda.device_count() if torch.cuda.is_available() else 0
    mps = getattr(torch.backends, "mps", None)
    return cuda, bool(mps and mps.is_available())


def _problem(device: str) -> str | None:
    if device in ("auto", "cpu"):
        return None
    machine = _machine()
    return device_problem(device, *machine) if machine else None


def _check_devices(config: Path, local: dict[str, TransformersModel], flag: str | None) -> None:
    # --device moves every model but those a device_map places (backends/transformers.py)
    if flag and any(s.follows_device_flag() for s in local.values()):
        problem = _problem(flag)
        if problem:
            raise InputError(f"--device {flag}: {problem}")
    for name, spec in local.items():
        if flag and spec.follows_device_flag():
            continue
        problem = _problem(spec.device)
        if problem:
            text = config.read_text(encoding="utf-8")
            raise InputError(f"{where(config, text, ('models', name, 'device'))}: device {spec.device!r}: {problem}")


def _check_context(base: Path, local: dict[str, TransformersModel], task_data) -> None:
    for name, spec in local.items():
        found = spec.context_limit(base)
        if found is None:
            continue
        limit, key, file = found
        for data in task_data:
            task = data.task
            wanted = task.spec.generation.max_new_tokens
            if wanted >= limit:
                raise InputError(
                    f"{where(task.path, task_text(task), ('generation', 'max_new_tokens'))}: {wanted} tokens do "
                    f"not fit model {name!r}: its context length is {limit} tokens ({key} in {file}), the prompt "
                    f"included; lower max_new_tokens, or leave {name!r} out with --models")
