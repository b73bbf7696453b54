"""The shape of a row in records.jsonl and cells.jsonl: every column holds one JSON type (string,
number or boolean) or null, so that pandas loads the files and Parquet takes them; and rows written by
earlier versions (objects and lists in `extracted`, nested `memory`, ...) read into that shape."""

from __future__ import annotations

import json
from typing import Any

# cells.jsonl: the memory meters, one column each, in bytes (docs/metrics.md)
MEMORY_COLUMNS = ("peak_rss_bytes", "nvml_used_peak_bytes", "torch_allocated_bytes", "torch_allocated_peak_bytes",
                  "torch_reserved_peak_bytes")
ENERGY_COUNTERS = ("nvml_total_energy", "rapl_package")  # what energy_source can name (bench.meters)


def as_text(value: Any) -> str | None:
    """A value as one string: text as it is; a number, list or object as its JSON text (json.loads
    gives it back); None stays None."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def details(record: dict) -> dict:
    """A record's score_details as a dict: stored as JSON text, an object in runs before that."""
    value = record.get("score_details")
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return value if isinstance(value, dict) else {}


def pids_text(pids: list[int] | None) -> str | None:
    """Process ids as "12 345" ("" for none); None (not known) stays None."""
    return None if pids is None else " ".join(str(p) for p in pids)


def record(r: dict) -> dict:
    """A record in the current shape. Earlier runs stored the scorer's reading (`extracted`) and
    `score_details` as JSON values of any type; both are JSON text now. Rows already in shape come
    back equal."""
    out = dict(r)
    for key in ("extracted", "score_details", "target"):
        if key in out:
            out[key] = as_text(out[key])
    if "example_id" in out and not isinstance(out["example_id"], str):
        out["example_id"] = str(out["example_id"])
    return out


def cell(c: dict, run_id: str) -> dict:
    """A cells.jsonl row in the current shape: `run_id` set; the nested `memory` of earlier runs as
    *_bytes columns; `energy_source` that held a reason split into `energy_unavailable_reason`;
    `gpu_other_pids` as text with its count in `gpu_other_processes`."""
    out = {"run_id": run_id, **c}
    memory = out.pop("memory", None)
    for key in MEMORY_COLUMNS:
        out.setdefault(key, memory.get(key) if isinstance(memory, dict) else None)
    if "energy_unavailable_reason" not in out:
        source = out.get("energy_source")
        named = source in ENERGY_COUNTERS
        out["energy_source"], out["energy_unavailable_reason"] = (source, None) if named else (None, source)
    pids = out.get("gpu_other_pids")
    if isinstance(pids, list):
        out["gpu_other_pids"], out["gpu_other_processes"] = pids_text(pids), len(pids)
    out.setdefault("gpu_other_pids", None)
    out.setdefault("gpu_other_processes", None)
    return out
