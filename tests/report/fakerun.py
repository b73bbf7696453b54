"""Constructed run folders, written the way the runner writes them, with figures chosen so that
every cost and verdict can be computed by hand."""

from __future__ import annotations

import json
from pathlib import Path

TASK = {"sha256": "t" * 64, "data_sha256": "d" * 64, "examples_run": 20}


def api_model(usd_in=1.0, usd_out=4.0, date="2026-11-01") -> dict:
    config = {"backend": "openai", "model": "x", "hardware": None, "usd_per_mtok_in": usd_in,
              "usd_per_mtok_cached_in": None, "usd_per_mtok_out": usd_out, "prices_as_of": date}
    return {"config": config, "prices": {k: v for k, v in config.items() if k.startswith(("usd", "prices"))}}


def local_model(hardware="box") -> dict:
    return {"config": {"backend": "transformers", "model": "/m", "hardware": hardware, "batch_size": 4}}


def record(model: str, task: str, i: int, score: float, *, local: bool, latency_s: float = 0.5,
           output: str = "answer", input_tokens: int = 1000, output_tokens: int = 100,
           example_id: str | None = None) -> dict:
    r = {"run_id": "x", "model": model, "task": task, "example_id": example_id or f"e{i}", "repeat": 0, "output": output,
         "extracted": output, "target": "answer", "score": score, "score_reason": "ok" if score else "wrong",
         "truncated": False, "input_tokens": input_tokens, "output_tokens": output_tokens, "cached_input_tokens": 0,
         "reasoning_tokens": 0, "ttft_s": latency_s / 2, "latency_s": latency_s, "tpot_s": 0.01,
         "finish_reason": "stop", "token_source": "server", "retries": 0, "error": None}
    if local:
        r |= {"batch_size": 4, "batch_wall_s": 2.0, "token_source": "tokenizer"}
    return r


def make_run(folder: Path, models: dict[str, dict], scores: dict[tuple[str, str], list[float]],
             *, hardware: dict | None = None, latency: dict[str, float] | None = None,
             outputs: dict[str, str] | None = None, statuses: dict[tuple[str, str], str] | None = None,
             example_ids: list[str] | None = None) -> Path:
    """models: name -> manifest entry; scores: (model, task) -> one score per example;
    example_ids: the ids of examples 0, 1, ... (default e0, e1, ...)."""
    folder.mkdir(parents=True)
    tasks = sorted({t for _, t in scores} | {t for _, t in (statuses or {})})
    manifest = {"run_id": folder.name, "title": "Constructed run", "notes": [], "models": models,
                "hardware": hardware if hardware is not None else {"box": {"usd_per_hour": 0.36, "usd_per_kwh": None,
                                                                       "description": "test box"}},
                "environment": {"cpu": "Test CPU", "cpu_count": 2, "gpus": []},
                "tasks": {t: dict(TASK) for t in tasks}}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    records, cells = [], []
    for (model, task), values in scores.items():
        local = models[model]["config"]["backend"] == "transformers"
        lat = (latency or {}).get(model, 0.5)
        out = (outputs or {}).get(model, "answer")
        records += [record(model, task, i, s, local=local, latency_s=lat, output=out,
                           example_id=example_ids[i] if example_ids else None) for i, s in enumerate(values)]
        cells.append({"model": model, "task": task, "status": "ok", "n": len(values), "repeats": 1,
                      "concurrency": None if local else 8, "batch_size": 4 if local else 1, "wall_s": 10.0,
                      "output_tokens_per_s": 40.0, "peak_rss_bytes": 500 * 2**20 if local else None,
                      "weights_bytes": 100 * 2**20 if local else None, "energy_j": None})
    for (model, task), status in (statuses or {}).items():
        cells.append({"model": model, "task": task, "status": status, "n": 0, "reason": "not run"})
    (folder / "records.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    (folder / "cells.jsonl").write_text("".join(json.dumps(c) + "\n" for c in cells))
    return folder
