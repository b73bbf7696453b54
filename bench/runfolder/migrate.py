"""The run format's version and the one upgrade of older runs. manifest.json carries `format`; a
run without it is format 1. Wherever a run is read (store.read_run, resume, the report), its
manifest, records and cells pass through migrate() and come out in today's format."""

from __future__ import annotations

from bench.core.shapes import ENERGY_COUNTERS, MEMORY_COLUMNS, as_text, pids_text

FORMAT = 3  # the format this version writes


def format_of(manifest: dict) -> int:
    return manifest.get("format", 1) if isinstance(manifest, dict) else 1


def migrate(manifest: dict, records: list[dict] = (), cells: list[dict] = (), *,
            run_id: str | None = None) -> tuple[dict, list[dict], list[dict]]:
    """A run's manifest, records and cells upgraded step by step to FORMAT (run_id: the folder's
    name, for a manifest that lacks one). Rows already in today's shape come back equal."""
    manifest, records, cells = dict(manifest), [dict(r) for r in records], [dict(c) for c in cells]
    version = format_of(manifest)
    while version < FORMAT:
        manifest, records, cells = _STEPS[version](manifest, records, cells, manifest.get("run_id", run_id))
        version += 1
    manifest["format"] = max(version, FORMAT)
    return manifest, records, cells


def _from_1(manifest: dict, records: list[dict], cells: list[dict], run_id) -> tuple:
    """Format 1 (runs before `format`), as each earlier version wrote it."""
    options = manifest.get("options")
    if isinstance(options, dict) and isinstance(options.get("tasks"), list):
        # options.tasks lists every selected task; skipped ones were only under skipped_tasks
        options = manifest["options"] = {**options, "tasks": list(options["tasks"])}
        options["tasks"] += [t for t in manifest.get("skipped_tasks") or {} if t not in options["tasks"]]
    for entry in (manifest.get("tasks") or {}).values():
        for key in ("scorer_file", "scorer_kind", "scorer_sha256") if isinstance(entry, dict) else ():
            entry.setdefault(key, None)  # scorer files were not hashed: a resume does not compare them
    return manifest, [_record_1(r) for r in records], [_cell_1(c, run_id) for c in cells]


def _record_1(r: dict) -> dict:
    """The scorer's reading (`extracted`), `target` and `score_details` were JSON values of any
    type; an example id could be a number."""
    for key in ("extracted", "score_details", "target"):
        if key in r:
            r[key] = as_text(r[key])
    if isinstance(r.get("example_id"), int) and not isinstance(r["example_id"], bool):
        r["example_id"] = str(r["example_id"])
    return r


def _cell_1(c: dict, run_id) -> dict:
    """`run_id` absent; memory nested under `memory`; `energy_source` holding the reason none was
    measured; `gpu_other_pids` a list."""
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


def _from_2(manifest: dict, records: list[dict], cells: list[dict], run_id) -> tuple:
    """Format 2: local (transformers) and served models had no `gpus` setting; they took one GPU,
    which is the setting's default (a resume sees no change of configuration)."""
    models = manifest.get("models")
    if isinstance(models, dict):
        manifest["models"] = {name: _with_gpus(entry) for name, entry in models.items()}
    return manifest, records, cells


def _with_gpus(entry):
    config = entry.get("config") if isinstance(entry, dict) else None
    if not isinstance(config, dict) or config.get("backend") not in ("transformers", "served"):
        return entry  # the backends that had `gpus` when it was added; API models have none
    return {**entry, "config": {**config, "gpus": config.get("gpus", 1)}}


_STEPS = {1: _from_1, 2: _from_2}  # format N -> N + 1
