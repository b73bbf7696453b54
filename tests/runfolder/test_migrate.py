"""A run folder of an earlier format (1: written before manifest.json had `format`; 2: before
local and served models had `gpus`), with the field layout of each earlier version, reads, resumes
and reports as the same run written today."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import TASKS, write_models_toml
from report.fakerun import api_model, local_model, make_run

from bench.cli import main
from bench.execute.options import resumed_options
from bench.report import build
from bench.runfolder import resume
from bench.runfolder.migrate import FORMAT, format_of, migrate
from bench.runfolder.store import read_run

MODELS = {"api": api_model(), "local": local_model()}
SCORES = {("api", "t"): [1.0, 0.0, 1.0], ("local", "t"): [0.5, 1.0, 0.0]}


def today(folder: Path) -> Path:
    """A run as this version writes it: `format`, every selected task in options.tasks, rows in shape."""
    make_run(folder, MODELS, SCORES)
    man = json.loads((folder / "manifest.json").read_text())
    man |= {"format": FORMAT, "skipped_tasks": {"hub": "offline"},
            "options": {"models": ["api", "local"], "tasks": ["t", "hub"], "limit": None, "repeats": 1,
                        "speed": False, "device": None}}
    man["tasks"]["t"] |= {"scorer_file": None, "scorer_kind": None, "scorer_sha256": None}
    man["models"]["local"]["config"]["gpus"] = 1
    (folder / "manifest.json").write_text(json.dumps(man))
    rows = [json.loads(x) for x in (folder / "records.jsonl").read_text().splitlines()]
    for r in rows:
        r["score_details"] = json.dumps({"valid_json": r["score"] > 0})
        r["extracted"] = json.dumps({"answer": r["output"]})
    (folder / "records.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    cells = [json.loads(x) for x in (folder / "cells.jsonl").read_text().splitlines()]
    for c in cells:
        c |= {"run_id": folder.name, "nvml_used_peak_bytes": None, "torch_allocated_bytes": None,
              "torch_allocated_peak_bytes": None, "torch_reserved_peak_bytes": None, "energy_source": None,
              "energy_unavailable_reason": "no NVML", "gpu_other_processes": 2, "gpu_other_pids": "41 42"}
    (folder / "cells.jsonl").write_text("".join(json.dumps(c) + "\n" for c in cells))
    return folder


def format_1(new: Path, folder: Path) -> Path:
    """The same run as format 1: no `format`; skipped tasks only under skipped_tasks; no scorer
    hashes, no `gpus`; `extracted` and `score_details` as JSON values; cells without run_id, memory nested
    under `memory`, the reason for no energy in `energy_source`, other GPU pids as a list."""
    folder.mkdir(parents=True)
    man = json.loads((new / "manifest.json").read_text())
    del man["format"]
    man["options"]["tasks"] = ["t"]
    for key in ("scorer_file", "scorer_kind", "scorer_sha256"):
        del man["tasks"]["t"][key]
    del man["models"]["local"]["config"]["gpus"]
    (folder / "manifest.json").write_text(json.dumps(man))
    rows = [json.loads(x) for x in (new / "records.jsonl").read_text().splitlines()]
    for r in rows:
        r["score_details"], r["extracted"] = json.loads(r["score_details"]), json.loads(r["extracted"])
    (folder / "records.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    cells = [json.loads(x) for x in (new / "cells.jsonl").read_text().splitlines()]
    for c in cells:
        del c["run_id"]
        c["memory"] = {k: c.pop(k) for k in ("peak_rss_bytes", "nvml_used_peak_bytes", "torch_allocated_bytes",
                                             "torch_allocated_peak_bytes", "torch_reserved_peak_bytes")}
        c["energy_source"] = c.pop("energy_unavailable_reason")
        c["gpu_other_pids"] = [int(p) for p in c["gpu_other_pids"].split()]
        del c["gpu_other_processes"]
    (folder / "cells.jsonl").write_text("".join(json.dumps(c) + "\n" for c in cells))
    return folder


def pair(tmp_path: Path) -> tuple[Path, Path]:
    new = today(tmp_path / "new" / "run1")
    return new, format_1(new, tmp_path / "old" / "run1")


def test_a_format_1_run_reads_as_the_same_run_in_todays_format(tmp_path):
    new, old = pair(tmp_path)
    assert format_of(json.loads((old / "manifest.json").read_text())) == 1
    assert read_run(old) == read_run(new)


def test_a_format_1_run_reports_exactly_as_today(tmp_path):
    new, old = pair(tmp_path)
    files_old, _ = build.render(build.load([old], None), title="t", notes=[])
    files_new, _ = build.render(build.load([new], None), title="t", notes=[])
    for name in ("summary.csv", "summary.md"):
        assert files_old[name] == files_new[name], name
    assert b"pids 41, 42" in files_old["summary.md"] and b"no NVML" in files_old["summary.csv"]


def test_a_format_1_run_resumes_with_its_selection_and_unchanged_configuration(tmp_path):
    new, old = pair(tmp_path)
    opts = resumed_options(old)
    assert opts.tasks == "t,hub" == resumed_options(new).tasks  # the skipped task runs once its data loads
    man_old, man_new = resume.read_manifest(old), resume.read_manifest(new)
    assert man_old["format"] == FORMAT
    # a resume compares the run it continues with a manifest written today: no change is seen
    assert resume.changes(resume.fingerprint(man_old), resume.fingerprint(man_new)) == []
    man_new["tasks"]["t"]["scorer_sha256"] = "a" * 64  # hashed today, never then: not a change
    assert resume.changes(resume.fingerprint(man_old), resume.fingerprint(man_new)) == []
    assert resume.old_cells(old) == resume.old_cells(new)


def test_format_2_models_had_no_gpus_and_took_one():
    man = {"format": 2, "models": {"local": {"config": {"backend": "transformers", "model": "/m"}},
                                   "srv": {"config": {"backend": "served", "model": "m", "gpus": 2}},
                                   "api": {"config": {"backend": "openai", "model": "m"}, "prices": {}}}}
    up, _, _ = migrate(man)
    assert up["format"] == FORMAT and up["models"]["local"]["config"] == {"backend": "transformers", "model": "/m",
                                                                         "gpus": 1}
    assert up["models"]["srv"] == man["models"]["srv"] and up["models"]["api"] == man["models"]["api"]
    assert "gpus" not in man["models"]["local"]["config"]  # the caller's manifest is not changed


def test_a_format_2_run_without_gpus_resumes_as_unchanged(tiny_models, tmp_path, capsys):
    """A local model's run stopped before `gpus` existed: today's configuration (gpus = 1, the
    default) is the one it ran with, so the resume continues instead of refusing a change."""
    config = write_models_toml(tmp_path / "models.toml", {"tiny": tiny_models["tiny-chat"]}, batch_size=2)
    argv = ["--config", str(config), "--tasks-dir", str(TASKS), "--tasks", "ticket_routing", "--limit", "3"]
    assert main(["run", *argv, "--out", str(tmp_path / "res")]) == 0
    (folder,) = (tmp_path / "res").iterdir()
    man = json.loads((folder / "manifest.json").read_text())
    assert man["models"]["tiny"]["config"]["gpus"] == 1
    del man["models"]["tiny"]["config"]["gpus"]
    man |= {"format": 2, "finished_utc": None}
    (folder / "manifest.json").write_text(json.dumps(man))
    records = (folder / "records.jsonl").read_text().splitlines()
    (folder / "records.jsonl").write_text("\n".join(records[:-1]) + "\n")  # stopped before its last answer
    (folder / "cells.jsonl").unlink()
    capsys.readouterr()
    code = main(["--resume", str(folder)])
    err = capsys.readouterr().err
    assert code == 0 and "configuration changed" not in err, err
    assert len((folder / "records.jsonl").read_text().splitlines()) == 3
    assert json.loads((folder / "manifest.json").read_text())["models"]["tiny"]["config"]["gpus"] == 1
