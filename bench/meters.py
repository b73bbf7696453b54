"""Energy and GPU-memory meters that read real counters or report that they cannot.

Energy: NVML's total-energy counter on a GPU that has one; on CPU the RAPL package counters when
the kernel exposes them readably. Otherwise unavailable (None, with the reason): never an estimate.
GPU memory as the driver sees it (NVML), sampled during a cell for its peak.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

RAPL_ROOT = Path("/sys/class/powercap")


def _nvml():
    """The pynvml module, initialised, or None (not installed: the `gpu` extra; or no driver)."""
    try:
        import pynvml

        pynvml.nvmlInit()
        return pynvml
    except Exception:  # ImportError, NVMLError_LibraryNotFound, DriverNotLoaded ...
        return None


def cuda_indices(device: str) -> list[int]:
    """The GPUs a device string covers ('cuda:1' one, plain 'cuda' every visible one)."""
    import torch

    return [int(device.split(":")[1])] if ":" in device else list(range(torch.cuda.device_count()))


class RaplCounter:
    """Sum of the RAPL package-domain energy counters (microjoules), wrap-around handled."""

    def __init__(self, root: Path = RAPL_ROOT):
        self.domains = sorted(d for d in root.glob("intel-rapl:*") if d.name.count(":") == 1) if root.is_dir() else []

    def readable(self) -> bool:
        try:
            return bool(self.domains) and all(int((d / "energy_uj").read_text()) >= 0 for d in self.domains)
        except (OSError, ValueError):  # present but root-only on most kernels since 2020
            return False

    def read(self) -> list[int]:
        return [int((d / "energy_uj").read_text()) for d in self.domains]

    def joules(self, before: list[int], after: list[int]) -> float:
        total = 0
        for d, b, a in zip(self.domains, before, after):
            total += a - b if a >= b else a + int((d / "max_energy_range_uj").read_text()) - b
        return total / 1e6


class EnergyMeter:
    """Joules between start() and stop(); `source` says which counter, `why` why there is none."""

    def __init__(self, device: str, rapl_root: Path = RAPL_ROOT):
        self.source, self.why = None, None
        self._start = None
        if device.startswith("cuda"):
            self.nvml = _nvml()
            if self.nvml is None:
                self.why = "NVML not available: pip install nvidia-ml-py (the gpu extra)"
                return
            self.handles = [self.nvml.nvmlDeviceGetHandleByIndex(i) for i in cuda_indices(device)]
            try:
                [self.nvml.nvmlDeviceGetTotalEnergyConsumption(h) for h in self.handles]
                self.source = "nvml_total_energy"
            except Exception:  # GPUs before Volta have no energy counter
                self.why = "this GPU has no total-energy counter"
        else:
            self.rapl = RaplCounter(rapl_root)
            if self.rapl.readable():
                self.source = "rapl_package"
            else:
                self.why = "no readable RAPL counters (absent, or readable by root only)"

    def _read(self):
        if self.source == "nvml_total_energy":
            return [self.nvml.nvmlDeviceGetTotalEnergyConsumption(h) for h in self.handles]  # millijoules
        return self.rapl.read()

    def start(self) -> None:
        self._start = self._read() if self.source else None

    def stop(self) -> float | None:
        if self._start is None:
            return None
        end = self._read()
        if self.source == "nvml_total_energy":
            return sum(e - s for s, e in zip(self._start, end)) / 1e3
        return self.rapl.joules(self._start, end)


class GpuMemorySampler:
    """Peak device memory used (NVML, all processes on the GPUs) over an interval, sampled every
    `every_s` in a thread; also which other processes were using the GPUs when it started."""

    def __init__(self, device: str, every_s: float = 0.05):
        self.nvml = _nvml() if device.startswith("cuda") else None
        self.handles = [self.nvml.nvmlDeviceGetHandleByIndex(i) for i in cuda_indices(device)] if self.nvml else []
        self.every_s, self.peak, self._stop = every_s, None, threading.Event()
        self._thread = None

    def used(self) -> int:
        return sum(self.nvml.nvmlDeviceGetMemoryInfo(h).used for h in self.handles)

    def other_processes(self) -> list[int]:
        pids = set()
        for h in self.handles:
            for p in self.nvml.nvmlDeviceGetComputeRunningProcesses(h):
                pids.add(p.pid)
        return sorted(pids - {os.getpid()})

    def start(self) -> list[int] | None:
        """Begin sampling; returns the pids of other processes on the GPUs (None without NVML)."""
        if not self.handles:
            return None
        self.peak = self.used()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self.other_processes()

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            self.peak = max(self.peak, self.used())

    def stop(self) -> int | None:
        if self._thread is None:
            return None
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.used())
        return self.peak
