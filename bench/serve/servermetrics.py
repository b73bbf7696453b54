"""A served model's own metrics, scraped from its Prometheus endpoint (vLLM's /metrics) while a
cell runs: requests running and waiting, KV-cache usage, and the server's TTFT histogram over the
cell (the difference between the scrapes before and after it). Parsing is pure; the sampler is a
thread that polls the endpoint."""

from __future__ import annotations

import math
import re
import threading
import urllib.request

RUNNING = "vllm:num_requests_running"
WAITING = "vllm:num_requests_waiting"
KV_USAGE = ("vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc")  # the name changed in vLLM 0.10
TTFT = "vllm:time_to_first_token_seconds"

_SAMPLE = re.compile(r'^([A-Za-z_:][A-Za-z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\S+)?\s*$')
_LABEL = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Prometheus text exposition: metric name -> [(labels, value)]; comments and bad lines skipped."""
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        if not m:
            continue
        try:
            value = float(m.group(4))
        except ValueError:
            continue
        labels = dict(_LABEL.findall(m.group(3) or ""))
        out.setdefault(m.group(1), []).append((labels, value))
    return out


def _total(samples: dict, name: str) -> float | None:
    """A gauge summed over its label sets (one per engine or model name), None when absent."""
    rows = samples.get(name)
    return None if not rows else sum(v for _, v in rows)


def gauges(samples: dict) -> dict[str, float | None]:
    kv = next((_total(samples, n) for n in KV_USAGE if n in samples), None)
    if kv is not None:
        kv /= max(1, len(next(samples[n] for n in KV_USAGE if n in samples)))  # a fraction: mean over engines
    return {"running": _total(samples, RUNNING), "waiting": _total(samples, WAITING), "kv_cache_usage": kv}


def histogram(samples: dict, name: str) -> dict:
    """Cumulative buckets (upper bound -> count, summed over label sets), count and sum."""
    buckets: dict[float, float] = {}
    for labels, v in samples.get(name + "_bucket", []):
        le = float(labels.get("le", "nan").replace("+Inf", "inf"))
        if not math.isnan(le):
            buckets[le] = buckets.get(le, 0.0) + v
    return {"buckets": buckets, "count": _total(samples, name + "_count") or 0.0,
            "sum": _total(samples, name + "_sum") or 0.0}


def difference(after: dict, before: dict) -> dict:
    """What a cumulative histogram gained between two scrapes."""
    return {"buckets": {le: c - before["buckets"].get(le, 0.0) for le, c in after["buckets"].items()},
            "count": after["count"] - before["count"], "sum": after["sum"] - before["sum"]}


def quantile(h: dict, q: float) -> float | None:
    """Prometheus' histogram_quantile: linear within the bucket that holds the q-th observation;
    the highest finite bound when it falls in the +Inf bucket."""
    if h["count"] <= 0 or not h["buckets"]:
        return None
    rank = q * h["count"]
    lower, below = 0.0, 0.0
    for le in sorted(h["buckets"]):
        count = h["buckets"][le]
        if count >= rank:
            if math.isinf(le):
                return lower
            return lower + (le - lower) * ((rank - below) / (count - below) if count > below else 0.0)
        lower, below = le, count
    return lower


def summary(before: dict, after: dict, gauge_samples: list[dict]) -> dict:
    """The cell's server-side figures from the scrapes before and after it and the gauges between."""
    out: dict = {"scrapes": len(gauge_samples)}
    for key in ("running", "waiting", "kv_cache_usage"):
        values = [g[key] for g in gauge_samples if g.get(key) is not None]
        out[f"{key}_mean"] = sum(values) / len(values) if values else None
        out[f"{key}_max"] = max(values) if values else None
    h = difference(histogram(after, TTFT), histogram(before, TTFT))
    out["ttft_count"] = int(h["count"])
    out["ttft_mean_s"] = h["sum"] / h["count"] if h["count"] > 0 else None
    out["ttft_p50_s"], out["ttft_p95_s"] = quantile(h, 0.5), quantile(h, 0.95)
    return out


def scrape(url: str, timeout_s: float = 2.0) -> dict:
    with urllib.request.urlopen(url, timeout=timeout_s) as r:
        return parse(r.read().decode("utf-8", errors="replace"))


class Sampler:
    """Scrapes `url` when started, every interval_s while a cell runs, and when stopped."""

    def __init__(self, url: str, interval_s: float = 0.5):
        self.url, self.interval_s = url, interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._before: dict = {}
        self._gauges: list[dict] = []
        self.error: str | None = None

    def _scrape(self) -> dict:
        try:
            return scrape(self.url)
        except Exception as e:  # an endpoint that is missing or slow: the cell runs on, without metrics
            self.error = self.error or f"{type(e).__name__}: {e}"
            return {}

    def start(self) -> None:
        self._before = self._scrape()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while not self._stop.wait(self.interval_s):
            samples = self._scrape()
            if samples:
                self._gauges.append(gauges(samples))

    def stop(self) -> dict:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        after = self._scrape()
        if after:
            self._gauges.append(gauges(after))
        if not self._before or not after:
            return {"source": self.url, "unavailable": self.error or "no metrics"}
        return {"source": self.url, **summary(self._before, after, self._gauges)}
