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
    """The torch GPU indices a device string covers: 'cuda:1' one, 'cuda:0,1' (a model spread by
    device_map) several, plain 'cuda' the current one."""
    if ":" in device:
        return [int(i) for i in device.split(":", 1)[1].split(",")]
    import torch

    return [torch.cuda.current_device()]


def nvml_handles(nvml, device: str) -> list:
    """NVML handles of the device's GPUs, matched by UUID: NVML numbers GPUs in PCI order and
    ignores CUDA_VISIBLE_DEVICES, so torch's index i is not NVML's index i in general."""
    import torch

    handles = []
    for i in cuda_indices(device):
        uuid = str(torch.cuda.get_device_properties(i).uuid)
        handles.append(nvml.nvmlDeviceGetHandleByUUID(uuid if uuid.startswith("GPU-") else "GPU-" + uuid))
    return handles


def _name(domain: Path) -> str:
    try:
        return (domain / "name").read_text().strip()
    except OSError:
        return ""


class RaplCounter:
    """Sum of the RAPL package-domain energy counters (microjoules), wrap-around handled."""

    def __init__(self, root: Path = RAPL_ROOT):
        # package domains only: a top-level 'psys' domain (the whole platform) already contains them
        self.domains = sorted(d for d in root.glob("intel-rapl:*")
                              if d.name.count(":") == 1 and _name(d).startswith("package")) if root.is_dir() else []

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

    def __init__(self, device: str, rapl_root: Path = RAPL_ROOT, rapl_every_s: float = 5.0):
        self.source, self.why = None, None
        self._last, self._total, self._stop, self._thread = None, 0.0, threading.Event(), None
        self.rapl_every_s = rapl_every_s
        if device.startswith("cuda"):
            self.nvml = _nvml()
            if self.nvml is None:
                self.why = "NVML not available: pip install nvidia-ml-py (the gpu extra)"
                return
            try:
                self.handles = nvml_handles(self.nvml, device)
                [self.nvml.nvmlDeviceGetTotalEnergyConsumption(h) for h in self.handles]
                self.source = "nvml_total_energy"
            except Exception as e:  # GPUs before Volta have no energy counter; vGPU, MIG ...
                self.why = f"no NVML energy counter for this GPU ({type(e).__name__})"
        else:
            self.rapl = RaplCounter(rapl_root)
            if self.rapl.readable():
                self.source = "rapl_package"
            else:
                self.why = "no readable RAPL package counters (absent, or readable by root only)"

    def _read(self):
        if self.source == "nvml_total_energy":
            return [self.nvml.nvmlDeviceGetTotalEnergyConsumption(h) for h in self.handles]  # millijoules
        return self.rapl.read()

    def sample(self) -> None:
        """Add the energy since the last reading (the RAPL reader thread calls it every few seconds)."""
        now = self._read()
        if self.source == "nvml_total_energy":  # a 64-bit counter since driver load: no wrap
            self._total += sum(e - s for s, e in zip(self._last, now)) / 1e3
        else:
            self._total += self.rapl.joules(self._last, now)
        self._last = now

    def _run(self) -> None:
        # RAPL counters wrap every few tens of minutes under load: read often enough to see each wrap
        while not self._stop.wait(self.rapl_every_s):
            self.sample()

    def start(self) -> None:
        if not self.source:
            return
        try:
            self._last, self._total = self._read(), 0.0
        except Exception as e:  # a counter that stops answering: unavailable, not a failed cell
            self.source, self.why = None, f"energy counter unreadable ({type(e).__name__})"
            return
        if self.source == "rapl_package":
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, daemon=True)
            self._thread.start()

    def stop(self) -> float | None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None
        if not self.source or self._last is None:
            return None
        try:
            self.sample()
        except Exception as e:
            self.source, self.why = None, f"energy counter unreadable ({type(e).__name__})"
            return None
        return self._total


def pid_visible(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


class GpuMemorySampler:
    """Peak device memory used (NVML, all processes on the GPUs) over an interval, sampled every
    `every_s` in a thread; also which other processes were using the GPUs when it started."""

    def __init__(self, device: str, every_s: float = 0.05):
        self.nvml = _nvml() if device.startswith("cuda") else None
        self.handles, self.why = [], None
        if self.nvml is not None:
            try:
                self.handles = nvml_handles(self.nvml, device)
            except Exception as e:
                self.why = f"no NVML handle for this GPU ({type(e).__name__})"
        self.every_s, self.peak, self._stop = every_s, None, threading.Event()
        self._thread = None

    def used(self) -> int:
        return sum(self.nvml.nvmlDeviceGetMemoryInfo(h).used for h in self.handles)

    def other_processes(self) -> list[int] | None:
        """Other processes on the GPUs. NVML gives host PIDs: inside a container only those that
        also exist in this PID namespace can be told apart from the worker, so only they count."""
        try:
            pids = {p.pid for h in self.handles for p in self.nvml.nvmlDeviceGetComputeRunningProcesses(h)}
        except Exception:  # not supported on some drivers, vGPU, MIG
            return None
        return sorted(p for p in pids - {os.getpid()} if pid_visible(p))

    def start(self) -> list[int] | None:
        """Begin sampling; returns the pids of other processes on the GPUs (None without NVML)."""
        if not self.handles:
            return None
        try:
            self.peak = self.used()
        except Exception as e:
            self.handles, self.why = [], f"NVML memory unreadable ({type(e).__name__})"
            return None
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self.other_processes()

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            try:
                self.peak = max(self.peak, self.used())
            except Exception:  # keep the peak seen so far
                return

    def stop(self) -> int | None:
        if self._thread is None:
            return None
        self._stop.set()
        self._thread.join()
        self._thread = None
        try:
            self.peak = max(self.peak, self.used())
        except Exception:
            pass
        return self.peak
