"""Clocks, memory meters and the environment fingerprint. Torch is imported only where needed."""

from __future__ import annotations

import os
import platform
import resource
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

from bench.core.meters import cuda_indices

now = time.perf_counter  # the one clock for every duration we report


def sync(device: str) -> None:
    """Wait for queued GPU work so that a clock read after it means the work is done."""
    if device.startswith("cuda"):
        import torch

        for i in cuda_indices(device):
            torch.cuda.synchronize(i)
    elif device == "mps":
        import torch

        torch.mps.synchronize()


def _status_kib(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def peak_rss_bytes() -> int:
    """Peak resident set size of this process so far. On Linux VmHWM, which belongs to this
    process's address space: getrusage's ru_maxrss survives exec, so a spawned worker would
    report its parent's peak if the parent's was higher."""
    hwm = _status_kib("VmHWM")
    if hwm is not None:
        return hwm * 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def rss_bytes() -> int | None:
    """Resident set size now (Linux only; None elsewhere)."""
    rss = _status_kib("VmRSS")
    return None if rss is None else rss * 1024


def torch_memory(device: str) -> dict[str, int | None]:
    """Torch's own counters, summed over the device's GPUs: allocated now and at peak, reserved at
    peak, in bytes (CUDA only)."""
    if not device.startswith("cuda"):
        return {"torch_allocated_bytes": None, "torch_allocated_peak_bytes": None,
                "torch_reserved_peak_bytes": None}
    import torch

    gpus = cuda_indices(device)
    return {"torch_allocated_bytes": sum(torch.cuda.memory_allocated(i) for i in gpus),
            "torch_allocated_peak_bytes": sum(torch.cuda.max_memory_allocated(i) for i in gpus),
            "torch_reserved_peak_bytes": sum(torch.cuda.max_memory_reserved(i) for i in gpus)}


def reset_peaks(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        for i in cuda_indices(device):
            torch.cuda.reset_peak_memory_stats(i)


def versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {"python": platform.python_version()}
    for pkg in ("slm-bench", "torch", "transformers", "accelerate", "datasets", "tokenizers",
                "huggingface_hub", "pydantic", "openai", "anthropic"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = None
    return out


def git_commit(root: Path) -> str | None:
    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=5)
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    return out.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def gpus() -> list[dict[str, str]]:
    """GPUs as nvidia-smi reports them; empty when there is none (or no driver)."""
    query = "name,memory.total,driver_version,power.limit,mig.mode.current"
    try:
        out = subprocess.run(["nvidia-smi", f"--query-gpu={query}", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return []
    if out.returncode != 0:
        return []
    keys = ["name", "memory_total", "driver", "power_limit", "mig_mode"]
    return [dict(zip(keys, (v.strip() for v in line.split(",")))) for line in out.stdout.strip().splitlines()]


def environment() -> dict:
    mem_bytes = None
    try:
        mem_bytes = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        pass
    return {"os": platform.platform(), "cpu": cpu_model(), "cpu_count": os.cpu_count(),
            "ram_bytes": mem_bytes, "gpus": gpus()}


def fingerprint() -> dict:
    """The machine a model ran on, as the worker there sees it: host name, hardware (GPUs with
    their driver) and library versions. Each cell's host, and the manifest's list of nodes, come from it."""
    import socket

    return {"host": socket.gethostname(), **environment(), "versions": versions()}

