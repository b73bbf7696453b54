"""The public-benchmark task files (banking77, gsm8k, MMLU business, xquad English). The Hub is not
reachable in tests, so each shipped task's prompt and [score] table run on the copies in
../shared/data (next to the repository), with a [data] table pointing at them; reference answers
must score 1 and wrong answers 0. Without network the Hub tasks themselves are skipped, not errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bench.cli import main
from bench.prepare import planning, tasks
from bench.prepare.taskfiles import load_task, load_tasks

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data"
HUB_TASKS = ("banking77", "gsm8k", "mmlu_business", "xquad_en")


def shared(rel: str) -> Path:
    path = SHARED / rel
    if not path.exists():
        pytest.skip(f"shared dataset copy not found: {path} (expected in ../shared/data next to the repository)")
    return path


def local_variant(tmp_path: Path, name: str, data_table: str) -> tasks.TaskData:
    """The shipped task file with its [data] table replaced: the same prompt and scorer."""
    text = (ROOT / "tasks" / f"{name}.toml").read_text(encoding="utf-8")
    start = text.index("[data]")
    end = text.index("\n[", start + 1)
    path = tmp_path / f"{name}_local.toml"
    path.write_text(text[:start] + "[data]\n" + data_table.strip() + "\n" + text[end:], encoding="utf-8")
    return tasks.load(load_task(path))


def check(data: tasks.TaskData, right, wrong, n: int = 25) -> planning.Plan:
    """The task plans (every prompt renders, every reference is scorable); the first n examples
    score 1 with right(example, target) and 0 with wrong(example, target) as the model's output."""
    plan = planning.plan(data)
    for ex in data.examples[:n]:
        target, inputs = plan.targets[ex.id], plan.inputs.get(ex.id, {})
        good = plan.scorer(right(ex, target), target, **inputs)
        bad = plan.scorer(wrong(ex, target), target, **inputs)
        assert good.value == 1.0, (ex.id, target, good)
        assert bad.value == 0.0, (ex.id, target, bad)
    return plan


def test_hub_task_files_pin_a_dataset():
    for name in HUB_TASKS:
        spec = load_task(ROOT / "tasks" / f"{name}.toml").spec.data
        assert spec.hf and spec.revision, name
        assert re.fullmatch(r"[0-9a-f]{40}", spec.revision) or spec.revision == "refs/convert/parquet", name


def test_banking77(tmp_path):
    csv = shared("banking77/test.csv")
    data = local_variant(tmp_path, "banking77", f'path = "{csv}"\nfields = {{ label = "category" }}')
    assert len(data.examples) == 3080
    labels = data.task.spec.score.labels
    assert set(json.loads(shared("banking77/categories.json").read_text())) == set(labels)
    assert "77" not in data.task.spec.prompt.user and all(lab in data.task.spec.prompt.user for lab in labels)
    plan = check(data, lambda ex, t: t, lambda ex, t: next(lab for lab in labels if lab != t))
    first = data.examples[0]
    assert plan.targets[first.id] == "card_arrival"
    assert "Message: How do I locate my card?" in tasks.render(data, first)[-1]["content"]
    # strict and lenient: a sentence around the right intent
    s = plan.scorer("The intent is card_arrival.", "card_arrival")
    assert (s.value, s.lenient) == (0.0, 1.0)


def test_banking77_class_labels_become_names(tmp_path):
    """The Hub copy stores the intent as a class-label integer; loaded through `datasets` (a Parquet
    folder with the Hub's features), the target is the intent's name."""
    datasets = pytest.importorskip("datasets")
    rows = list(__import__("csv").DictReader(shared("banking77/test.csv").open(encoding="utf-8")))[:40:8]
    names = sorted(json.loads(shared("banking77/categories.json").read_text()))
    folder = tmp_path / "banking77_hub"
    folder.mkdir()
    features = datasets.Features({"text": datasets.Value("string"), "label": datasets.ClassLabel(names=names)})
    ds = datasets.Dataset.from_dict({"text": [r["text"] for r in rows],
                                     "label": [names.index(r["category"]) for r in rows]}, features=features)
    ds.to_parquet(str(folder / "test.parquet"))
    data = local_variant(tmp_path, "banking77", f'hf = "{folder}"\nsplit = "test"')
    plan = check(data, lambda ex, t: t, lambda ex, t: "refund_not_showing_up" if t != "refund_not_showing_up"
                 else "card_arrival")
    assert [plan.targets[e.id] for e in data.examples] == [r["category"] for r in rows]


def test_gsm8k(tmp_path):
    jsonl = shared("gsm8k/test.jsonl")
    data = local_variant(tmp_path, "gsm8k", f'path = "{jsonl}"')
    assert len(data.examples) == 1319
    plan = check(data, lambda ex, t: f"Let me work it out.\nAnswer: {t}",
                 lambda ex, t: f"Answer: {float(t.replace(',', '')) + 1}")
    targets = list(plan.targets.values())
    assert targets[:3] == ["18", "3", "70000"]
    # every reference is a plain number, also the ones written with thousands separators
    assert all(re.fullmatch(r"-?[\d,]+(\.\d+)?", t) for t in targets)


def test_mmlu_business(tmp_path):
    subjects = load_task(ROOT / "tasks" / "mmlu_business.toml").spec.data.config
    assert subjects == ["business_ethics", "management", "marketing", "professional_accounting"]
    counts = {}
    for subject in subjects:
        csv = shared(f"mmlu/test/{subject}_test.csv")
        data = local_variant(tmp_path, "mmlu_business", f'''
path = "{csv}"
columns = ["question", "A", "B", "C", "D", "answer"]
fields = {{ choices = ["A", "B", "C", "D"] }}''')
        counts[subject] = len(data.examples)
        letters = "ABCD"
        plan = check(data, lambda ex, t: f"({t})", lambda ex, t: letters[(letters.index(t) + 1) % 4])
        # the text of the right option alone, when no other option has the same text, reads as its letter
        for ex in data.examples[:25]:
            target, options = plan.targets[ex.id], plan.inputs[ex.id]["options"]
            text = options["ABCD".index(target)]
            if [o.strip().lower() for o in options].count(text.strip().lower()) == 1:
                assert plan.scorer(text, target, options=options).value == 1.0, (ex.id, text)
    assert counts == {"business_ethics": 100, "management": 103, "marketing": 234, "professional_accounting": 282}
    first = tasks.render(data, data.examples[0])[-1]["content"]
    assert "\nA. " in first and "\nD. " in first and "{" not in first


def test_xquad_en(tmp_path):
    squad = json.loads(shared("xquad_en/xquad.en.json").read_text(encoding="utf-8"))
    # the Hub's xquad.en rows: one per question, answers as {"text": [...], "answer_start": [...]}
    rows = [{"id": qa["id"], "context": para["context"], "question": qa["question"],
             "answers": {"text": [a["text"] for a in qa["answers"]],
                         "answer_start": [a["answer_start"] for a in qa["answers"]]}}
            for article in squad["data"] for para in article["paragraphs"] for qa in para["qas"]]
    flat = tmp_path / "xquad_en.jsonl"
    flat.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    data = local_variant(tmp_path, "xquad_en", f'path = "{flat}"\nid = "id"')
    assert len(data.examples) == 1190
    plan = check(data, lambda ex, t: json.loads(t)[0] + ".", lambda ex, t: "zzyzx")
    first = data.examples[0]
    assert json.loads(plan.targets[first.id]) == ["308"]
    assert plan.scorer("308 points", plan.targets[first.id]).value == pytest.approx(2 / 3)


def test_hub_tasks_are_skipped_offline_not_errors(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.chdir(tmp_path)
    code = main(["validate", "--config", str(ROOT / "models.toml"), "--tasks-dir", str(ROOT / "tasks"),
                 "--tasks", ",".join(HUB_TASKS)])
    err = capsys.readouterr().err
    assert code == 0, err
    for name in HUB_TASKS:
        assert re.search(rf"^skipped task {name}: .*cannot be fetched now", err, re.M), err


def test_a_run_skips_an_unreachable_hub_task_and_runs_the_rest(tmp_path, monkeypatch, capsys, tiny_models):
    from tests.conftest import write_models_toml

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    config = write_models_toml(tmp_path / "models.toml", {"tiny-chat": tiny_models["tiny-chat"]})
    code = main(["run", "--config", str(config), "--tasks-dir", str(ROOT / "tasks"), "--tasks",
                 "gsm8k,ticket_routing", "--limit", "2", "--out", str(tmp_path / "res")])
    captured = capsys.readouterr()
    assert code == 3, captured.err  # some cells skipped
    assert re.search(r"^skipping 1 Hub task, data not cached, and offline .*: gsm8k$", captured.err, re.M), captured.err
    run = next((tmp_path / "res").iterdir())
    cells = {c["task"]: c for c in map(json.loads, (run / "cells.jsonl").read_text().splitlines())}
    assert cells["ticket_routing"]["status"] == "ok"
    assert cells["gsm8k"]["status"] == "skipped" and "task data unavailable" in cells["gsm8k"]["reason"]
    records = [json.loads(line) for line in (run / "records.jsonl").read_text().splitlines()]
    assert {r["task"] for r in records} == {"ticket_routing"}
    assert all("score_lenient" in r for r in records)  # a label task: both readings recorded
    assert "gsm8k" in json.loads((run / "manifest.json").read_text())["skipped_tasks"]


def test_list_shows_where_each_task_comes_from(capsys, tmp_path):
    (tmp_path / "models.toml").write_text("", encoding="utf-8")
    assert main(["list", "--config", str(tmp_path / "models.toml"), "--tasks-dir", str(ROOT / "tasks")]) == 0
    out = capsys.readouterr().out
    for name in HUB_TASKS:
        assert re.search(rf"^  {name} .* Hub \S+", out, re.M), out
    assert "Hub google/xquad [xquad.en] split validation @ 51adfef1c1287aab1d2d91b5bead9bcfb9c68583" in out
    local = [t.name for t in load_tasks(ROOT / "tasks") if t.spec.data.path]
    for name in local:
        assert re.search(rf"^  {name} .* \d+ examples from data/", out, re.M), out
