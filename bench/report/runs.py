"""Run folders read back for a report: cells and records merged across runs, and each model's
pricing, from the run's own manifest or re-priced from another models.toml.

Merging: a (model, task) cell may come from one run only. A cell that did not run (no records:
skipped, no key) gives way to the same cell with records in another run; two runs that both have
records for the same cell are an error, so no figure is ever silently replaced. Older runs are
read in today's format (store.read_run applies bench.runfolder.migrate), so old run folders still report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

from bench.core.types import Cell, Record, by_cell
from bench.errors import InputError
from bench.runfolder import inputs
from bench.runfolder.store import CELLS, RECORDS, read_run
from bench.spend.cost import Pricing, pricing_of

SWEEP = "sweep.jsonl"  # bench.sweep.capacity.SWEEP (not imported: the report needs nothing of the sweep runner)

RECORD_KEYS = {"model": str, "task": str, "example_id": str, "score": (int, float)}
CELL_KEYS = {"model": str, "task": str, "status": str}
# a sweep's level row: what its table and plot read (a figure a level did not measure is null)
LEVEL_KEYS = {"model": str, "task": str, "kind": str, "level": int, "errors": (int, type(None)),
              **{k: (int, float, type(None)) for k in ("requests_per_s", "output_tokens_per_s", "latency_p50_s",
                                                       "latency_p95_s", "ttft_p50_s", "accuracy")}}


@dataclass
class Merged:
    manifests: list[dict]  # one per run, in the order given
    folders: list[Path]
    cells: list[Cell]  # one per (model, task), in run order then the order each run wrote them
    records: list[Record]
    pricing: dict[str, Pricing] = field(default_factory=dict)  # model -> pricing used for the report
    price_source: dict[str, str] = field(default_factory=dict)  # model -> where its prices came from
    run_of: dict[tuple[str, str], str] = field(default_factory=dict)  # (model, task) -> run id
    capacity: dict[tuple[str, str], dict] = field(default_factory=dict)  # (model, task) -> a sweep's capacity row
    sweeps: list[dict] = field(default_factory=list)  # each sweep folder: sweep_id, slo_p95_ms, levels, capacities
    inputs: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)  # (task, example id) -> input fields
    overlapped: dict[tuple[str, str], str] = field(default_factory=dict)  # (model, task) -> cells beside it

    @property
    def run_ids(self) -> list[str]:
        return [m.get("run_id", f.name) for m, f in zip(self.manifests, self.folders)]


def _line_of(path: Path, index: int) -> int:
    """The file line of the index-th non-blank line (read_jsonl skips blank lines)."""
    seen = -1
    with path.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            seen += bool(line.strip())
            if seen == index:
                return lineno
    return index + 1


def _check_rows(path: Path, rows: list[dict], keys: dict, only: str | None = None) -> None:
    """only: check just the rows whose "row" is this (a sweep's "level" or "capacity"), counting lines over all."""
    for i, row in enumerate(rows):
        if only is not None and not (isinstance(row, dict) and row.get("row") == only):
            continue
        for key, kind in keys.items():
            if not isinstance(row, dict) or not isinstance(row.get(key), kind) or isinstance(row.get(key), bool):
                raise InputError(f"{path}:{_line_of(path, i)}: key '{key}' is missing or not a "
                                 f"{getattr(kind, '__name__', 'number')}; the file is corrupted")


def read_one(folder: Path) -> tuple[dict, list[Record], list[Cell], dict[tuple[str, str], str]]:
    """A run folder, checked enough that a report can trust its rows, and the cells that ran beside
    each cell (cells.jsonl's `overlapped`, written by bench/execute/timeline.py)."""
    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder; pass a run folder (results/<run id>)")
    manifest, records, cells = read_run(folder)
    if not isinstance(manifest, dict) or not isinstance(manifest.get("models"), dict):
        raise InputError(f"{folder / 'manifest.json'}: key 'models' is missing; not a manifest written by bench")
    _check_rows(folder / RECORDS, records, RECORD_KEYS)
    _check_rows(folder / CELLS, cells, CELL_KEYS)
    if not cells:
        raise InputError(f"{folder}: no {CELLS}: the run has no finished cell to report")
    beside = {(c["model"], c["task"]): str(c["overlapped"]) for c in cells if c.get("overlapped")}
    return manifest, [Record.from_json(r) for r in records], [Cell.from_json(c) for c in cells], beside


def _check_tasks(folder: Path, manifest: dict, run_id: str, task_ids: dict) -> None:
    for name, t in (manifest.get("tasks") or {}).items():
        ident = (t.get("sha256"), t.get("data_sha256"))
        if name in task_ids and task_ids[name][0] != ident:
            raise InputError(f"{folder / 'manifest.json'}: task '{name}' differs from the one in run "
                             f"{task_ids[name][1]} (task file or data changed); its accuracies cannot be compared")
        task_ids.setdefault(name, (ident, run_id))


def read_sweep(folder: Path) -> tuple[dict, list[dict], list[dict]]:
    """A sweep folder (bench sweep): its manifest, its capacity rows and its level rows."""
    from bench.runfolder.store import read_jsonl

    manifest, _, _ = read_run(folder)
    if not isinstance(manifest, dict):
        raise InputError(f"{folder / 'manifest.json'}: missing or corrupted; not a sweep written by bench")
    rows = read_jsonl(folder / SWEEP)
    _check_rows(folder / SWEEP, rows, {"model": str, "task": str}, only="capacity")
    _check_rows(folder / SWEEP, rows, LEVEL_KEYS, only="level")
    caps = [r for r in rows if isinstance(r, dict) and r.get("row") == "capacity"]
    levels = [r for r in rows if isinstance(r, dict) and r.get("row") == "level"]
    return manifest, caps, levels


def sweep_entry(folder: Path, sweep_id: str, manifest: dict, caps: list[dict], levels: list[dict]) -> dict:
    """One sweep folder as the report keeps it; its latency target and its capacities checked, so a
    corrupted sweep stops the report before anything is written."""
    target = (manifest.get("sweep") or {}).get("slo_p95_ms")
    if target is None:
        target = next((c.get("slo_p95_ms") for c in caps), None)
    if isinstance(target, bool) or not isinstance(target, (int, float)) or not target > 0:
        raise InputError(f"{folder / 'manifest.json'}: key 'sweep.slo_p95_ms' is missing or not a number above 0; "
                         f"not a sweep written by bench")
    for cap in caps:
        if cap.get("capacity_requests_per_s") and not any(
                (r["model"], r["task"], r["level"]) == (cap["model"], cap["task"], cap.get("capacity_level"))
                for r in levels):
            raise InputError(f"{folder / 'sweep.jsonl'}: {cap['model']} x {cap['task']}: capacity_level "
                             f"{cap.get('capacity_level')!r} is none of its levels; the file is corrupted")
    return {"sweep_id": sweep_id, "slo_p95_ms": float(target), "levels": levels, "capacities": caps}


def merge(folders: list[Path]) -> Merged:
    if not folders:
        raise InputError("no run folder given; pass one or more results/<run id> folders")
    manifests, chosen, records_of, overlapped = [], {}, {}, {}
    task_ids: dict[str, tuple[str, str]] = {}
    sweeps = [f for f in folders if (f / SWEEP).is_file()]
    runs = [f for f in folders if f not in sweeps]
    if sweeps and not runs:
        raise InputError(f"{sweeps[0]}: a sweep folder, not a run; pass it beside a run folder: "
                         f"bench report results/<run id> {sweeps[0]}")
    for folder in runs:
        manifest, records, cells, beside = read_one(folder)
        run_id = manifest.get("run_id", folder.name)
        manifests.append(manifest)
        _check_tasks(folder, manifest, run_id, task_ids)
        grouped = by_cell(records)
        latest = {(c.model, c.task): c for c in cells}  # a cell written twice: the later one
        for key, cell in latest.items():
            recs = grouped.get(key, [])
            if key in chosen:
                if recs and records_of[key]:
                    raise InputError(f"{folder}: {key[0]} x {key[1]} also has results in run {chosen[key][0]}; "
                                     f"a cell may come from one run only: leave one of the runs out")
                if not recs:
                    continue  # it did not run here; keep the other run's
            chosen[key] = (run_id, cell)
            records_of[key] = recs
            overlapped[key] = beside.get(key, "")
    merged = Merged(manifests, list(runs), [], [])
    for folder in runs:
        merged.inputs.update(inputs.load(folder))  # a task is the same data in every run (_check_tasks)
    for key, (run_id, cell) in chosen.items():
        merged.cells.append(cell)
        merged.records.extend(records_of[key])
        merged.run_of[key] = run_id
        if overlapped[key]:
            merged.overlapped[key] = overlapped[key]
    for folder in sweeps:
        manifest, caps, levels = read_sweep(folder)
        sweep_id = manifest.get("run_id", folder.name)
        _check_tasks(folder, manifest, sweep_id, task_ids)
        merged.sweeps.append(sweep_entry(folder, sweep_id, manifest, caps, levels))
        for row in caps:
            key = (row["model"], row["task"])
            if key in merged.capacity:
                raise InputError(f"{folder}: {key[0]} x {key[1]} also has a capacity in sweep "
                                 f"{merged.capacity[key]['sweep_id']}; leave one of the sweeps out")
            if row.get("capacity_requests_per_s"):
                merged.capacity[key] = {**row, "sweep_id": sweep_id}
    _stored_prices(merged)
    return merged


def _stored_prices(merged: Merged) -> None:
    """Each model priced as its run recorded it (the manifest of the run its cells came from)."""
    run_manifest = {m.get("run_id", f.name): m for m, f in zip(merged.manifests, merged.folders)}
    for (model, _), run_id in merged.run_of.items():
        if model in merged.pricing:
            continue
        m = run_manifest[run_id]
        entry = (m.get("models") or {}).get(model) or {}
        config = entry.get("config") or {}
        hardware = m.get("hardware") or {}
        if config.get("hardware") is not None and config["hardware"] not in hardware:
            raise InputError(f"{merged.folders[list(run_manifest).index(run_id)] / 'manifest.json'}: model "
                             f"'{model}' names hardware '{config['hardware']}' that the manifest does not define")
        spec = SimpleNamespace(**{"backend": None, "hardware": None, "usd_per_mtok_in": None,
                                  "usd_per_mtok_cached_in": None, "usd_per_mtok_out": None,
                                  "prices_as_of": None, **config})
        merged.pricing[model] = pricing_of(spec, hardware)
        merged.price_source[model] = f"run {run_id}"


def reprice(merged: Merged, config: Path) -> None:
    """Prices from another models.toml for every model it defines; the others keep their run's."""
    from bench.config import load_models

    cfg = load_models(config)
    for model in list(merged.pricing):
        if model in cfg.models:
            merged.pricing[model] = pricing_of(cfg.models[model], cfg.hardware)
            merged.price_source[model] = str(config)
