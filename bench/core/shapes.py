"""The shape of a row in records.jsonl and cells.jsonl: every column holds one JSON type (string,
number or boolean) or null, so that pandas loads the files and Parquet takes them (rows of older
runs are brought to this shape by bench.runfolder.migrate)."""

from __future__ import annotations

import json
from typing import Any

# cells.jsonl: the memory meters, one column each, in bytes (docs/metrics.md)
MEMORY_COLUMNS = ("peak_rss_bytes", "nvml_used_peak_bytes", "torch_allocated_bytes", "torch_allocated_peak_bytes",
                  "torch_reserved_peak_bytes")
ENERGY_COUNTERS = ("nvml_total_energy", "rapl_package")  # what energy_source can name (bench.core.meters)


def as_text(value: Any) -> str | None:
    """A value as one string: text as it is; a number, list or object as its JSON text (json.loads
    gives it back); None stays None."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def pids_text(pids: list[int] | None) -> str | None:
    """Process ids as "12 345" ("" for none); None (not known) stays None."""
    return None if pids is None else " ".join(str(p) for p in pids)
