"""Energy and GPU-memory meters: the right counter is chosen, deltas are right, and a machine
without counters says so instead of estimating."""

from __future__ import annotations

import pytest

from bench.core.meters import EnergyMeter, GpuMemorySampler, RaplCounter


def fake_rapl(root, values, max_range=1000):
    for i, v in enumerate(values):
        d = root / f"intel-rapl:{i}"
        d.mkdir(parents=True, exist_ok=True)
        (d / "name").write_text(f"package-{i}\n")
        (d / "energy_uj").write_text(f"{v}\n")
        (d / "max_energy_range_uj").write_text(f"{max_range}\n")
        sub = root / f"intel-rapl:{i}:0"  # a sub-domain (core): part of the package, not added again
        sub.mkdir(exist_ok=True)
        (sub / "energy_uj").write_text("999\n")
    psys = root / f"intel-rapl:{len(values)}"  # the whole platform: contains the packages, not added
    psys.mkdir(exist_ok=True)
    (psys / "name").write_text("psys\n")
    (psys / "energy_uj").write_text("123456\n")


def test_rapl_package_counters_and_wraparound(tmp_path):
    fake_rapl(tmp_path, [100, 900])
    meter = EnergyMeter("cpu", rapl_root=tmp_path)
    assert meter.source == "rapl_package"
    meter.start()
    fake_rapl(tmp_path, [400, 50])  # the second package wrapped around at 1000
    assert meter.stop() == pytest.approx((300 + 150) / 1e6)


def test_rapl_is_read_often_enough_to_see_every_wrap(tmp_path):
    fake_rapl(tmp_path, [0], max_range=1000)
    meter = EnergyMeter("cpu", rapl_root=tmp_path, rapl_every_s=3600)
    meter.start()
    for v in (600, 100, 700):  # two wraps between start and stop, each seen by a reading
        fake_rapl(tmp_path, [v], max_range=1000)
        meter.sample()  # what the reader thread does every rapl_every_s
    fake_rapl(tmp_path, [200], max_range=1000)
    assert meter.stop() == pytest.approx(2200 / 1e6)
    assert meter._thread is None  # the reader stopped


def test_unreadable_or_absent_rapl_is_unavailable_not_estimated(tmp_path):
    meter = EnergyMeter("cpu", rapl_root=tmp_path / "absent")
    assert meter.source is None and "RAPL" in meter.why
    meter.start()
    assert meter.stop() is None
    fake_rapl(tmp_path, [1])
    (tmp_path / "intel-rapl:0" / "energy_uj").chmod(0)
    import os

    if os.geteuid() != 0:  # root reads anything: only an unprivileged user sees the permission wall
        assert not RaplCounter(tmp_path).readable()


def test_cuda_without_nvml_names_the_missing_extra(monkeypatch):
    import bench.core.meters as meters

    monkeypatch.setattr(meters, "_nvml", lambda: None)
    meter = EnergyMeter("cuda:0")
    assert meter.source is None and "nvidia-ml-py" in meter.why
    sampler = GpuMemorySampler("cuda:0")
    assert sampler.start() is None and sampler.stop() is None


def test_cpu_has_no_gpu_memory_meter():
    sampler = GpuMemorySampler("cpu")
    assert sampler.start() is None and sampler.stop() is None


class FakeNvml:
    """Stands in for the pynvml module (a driver this machine lacks), with counters we control."""

    def __init__(self):
        self.energy_mj, self.used, self.pids = 5_000, 2**30, [4242]

    def nvmlInit(self):
        pass

    def nvmlDeviceGetHandleByIndex(self, i):
        return i

    def nvmlDeviceGetTotalEnergyConsumption(self, h):
        return self.energy_mj

    def nvmlDeviceGetMemoryInfo(self, h):
        return type("Mem", (), {"used": self.used})()

    def nvmlDeviceGetComputeRunningProcesses(self, h):
        return [type("Proc", (), {"pid": p})() for p in self.pids]


def test_nvml_energy_delta_memory_peak_and_other_processes(monkeypatch):
    import time

    import bench.core.meters as meters

    fake = FakeNvml()
    monkeypatch.setattr(meters, "_nvml", lambda: fake)
    monkeypatch.setattr(meters, "nvml_handles", lambda nvml, device: [0])
    monkeypatch.setattr(meters, "pid_visible", lambda pid: True)  # pid 4242 "exists" in this namespace
    energy, memory = EnergyMeter("cuda:0"), GpuMemorySampler("cuda:0", every_s=0.005)
    assert energy.source == "nvml_total_energy"
    assert memory.start() == [4242]  # another process was on the GPU
    energy.start()
    fake.energy_mj += 1_500
    fake.used = 3 * 2**30
    time.sleep(0.05)
    fake.used = 2**30  # the peak is kept after usage falls back
    assert energy.stop() == pytest.approx(1.5)
    assert memory.stop() == 3 * 2**30


def test_gpus_are_matched_to_nvml_by_uuid_not_by_index(monkeypatch):
    torch = pytest.importorskip("torch")
    import bench.core.meters as meters

    uuids = {0: "GPU-bbbb", 1: "aaaa"}  # torch may or may not include the GPU- prefix
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda i: type("P", (), {"uuid": uuids[i]})())

    class Nvml:
        def nvmlDeviceGetHandleByUUID(self, uuid):
            return {"GPU-aaaa": "physical-0", "GPU-bbbb": "physical-1"}[uuid]

    assert meters.nvml_handles(Nvml(), "cuda:0,1") == ["physical-1", "physical-0"]
    assert meters.cuda_indices("cuda:2") == [2]
