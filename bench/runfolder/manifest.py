"""What manifest.json records about a run: environment, versions, configs as run, data hashes.

Secrets stay out: models.toml is recorded as its hash and the validated settings of the models
that ran (base URLs without credentials), not as raw text.
"""

from __future__ import annotations

import hashlib
import sys
from datetime import datetime, timezone
from pathlib import Path

from bench import __version__
from bench.backends import registry
from bench.core import measure
from bench.runfolder.migrate import FORMAT

ROOT = Path(__file__).resolve().parent.parent


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build(run_id: str, opts, prep) -> dict:
    return {
        "format": FORMAT,  # the run format's version (bench.runfolder.migrate upgrades older runs)
        "run_id": run_id,
        "title": opts.title,
        "notes": opts.notes,
        "created_utc": utc_now(),
        "finished_utc": None,
        "command": sys.argv,
        "bench": {"version": __version__, "git_commit": measure.git_commit(ROOT)},
        "versions": measure.versions(),
        "environment": measure.environment(),
        "options": {"limit": opts.limit, "device": opts.device, "repeats": opts.repeats, "speed": opts.speed,
                    "parallel": opts.parallel, "devices": list(prep.pool),  # this session's, not resumed
                    "executor": opts.executor, "ray_address": opts.ray_address,
                    "models": prep.models,
                    # every selected task, its data loaded or not: a resume runs a skipped one once it loads
                    "tasks": prep.selected or [d.task.name for d in prep.tasks] + list(prep.skipped_tasks),
                    "config": str(opts.config.resolve()), "tasks_dir": str(opts.tasks_dir.resolve())},  # for --resume
        "models_config": {"path": str(opts.config), "sha256": _sha256(opts.config)},
        "hardware": {k: v.model_dump() for k, v in prep.models_cfg.hardware.items()},
        "tasks": {d.task.name: {"path": str(d.task.path), "sha256": _sha256(d.task.path),
                                "text": d.task.path.read_text(encoding="utf-8"), "data_sha256": d.data_sha256,
                                "source": d.source, "examples_run": len(d.examples),
                                "prompts_sha256": prompts_sha256(prep.plans[d.task.name].prompt_sha256),
                                "fewshot_ids": [e.id for e in d.fewshot], **scorer_entry(d.task)}
                  for d in prep.tasks},
        "skipped_tasks": dict(prep.skipped_tasks),  # task name -> why its data could not be loaded
        "models": {name: model_entry(prep.models_cfg.models[name]) for name in prep.models},
        "question": dict(prep.question),  # the decision's question as declared (no defaults)
    }


def scorer_entry(task) -> dict:
    """The file outside the task file that decides its scores (an sql_execution task's database,
    a user scorer's module), for the manifest: a resume refuses a changed database or module."""
    found = task.spec.score.scorer_file(task.path.parent)
    if found is None or not found[1].is_file():
        return {"scorer_file": None, "scorer_kind": None, "scorer_sha256": None}
    kind, path = found
    return {"scorer_file": str(path), "scorer_kind": kind, "scorer_sha256": _sha256(path)}


def prompts_sha256(per_example: dict[str, str]) -> str:
    """One hash over every example's rendered prompt, in order: a resumed run must send the same prompts."""
    return hashlib.sha256("\n".join(f"{k}\t{v}" for k, v in per_example.items()).encode()).hexdigest()


def model_entry(spec) -> dict:
    """A model's settings as run; for API models the base URL without credentials and the prices."""
    entry = {"config": spec.model_dump()}
    # a served model's server name, version and command line are added when it starts
    if registry.of(spec).priced == "tokens":
        from bench.backends.api import public_url

        entry["config"]["base_url"] = public_url(spec.base_url)
        entry["prices"] = {k: getattr(spec, k) for k in ("usd_per_mtok_in", "usd_per_mtok_cached_in",
                                                          "usd_per_mtok_out", "prices_as_of")}
    return entry
