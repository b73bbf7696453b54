"""`bench task init`: the suggested scorer for each kind of target, the written file passing
`bench validate`, and refusals (existing file, unknown column) with exit code 2."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import tomllib

from bench.cli import main
from bench.prepare import planning, tasks
from bench.prepare.taskfiles import load_task
from tests.prepare.test_tasks import write_jsonl, write_parquet

ROOT = Path(__file__).resolve().parents[2]


def init(tmp_path: Path, capsys, data: Path, *extra: str) -> tuple[int, str, str]:
    code = main(["task", "init", str(data), *extra, "--out", str(tmp_path / "tasks")])
    out = capsys.readouterr()
    return code, out.out, out.err


def written(tmp_path: Path, name: str) -> tuple[dict, tasks.TaskData, planning.Plan]:
    path = tmp_path / "tasks" / f"{name}.toml"
    data = tasks.load(load_task(path))
    return tomllib.loads(path.read_text(encoding="utf-8")), data, planning.plan(data)


def label_rows(n_per: int = 6) -> list[dict]:
    return [{"id": f"r{q}{i}", "review text": f"{word} product, take {i}", "verdict": q}
            for q, word in (("positive", "Great"), ("negative", "Awful"), ("neutral", "Okay")) for i in range(n_per)]


def test_labels_from_a_csv(tmp_path, capsys):
    path = tmp_path / "reviews.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=["id", "review text", "verdict"])
        w.writeheader()
        w.writerows(label_rows())
    code, out, err = init(tmp_path, capsys, path, "--input", "review text", "--target", "verdict")
    assert code == 0, err
    assert "3 distinct target values over 18 rows -> label (labels: negative, neutral, positive)" in out
    assert "example ids: column 'id'" in out and "wrote " in out
    toml, data, plan = written(tmp_path, "reviews")
    assert toml["score"] == {"scorer": "label", "target": "{verdict}", "labels": ["negative", "neutral", "positive"]}
    assert toml["data"]["fields"] == {"input": "review text"}  # a column name with a space is mapped
    assert toml["data"]["path"] == "../reviews.csv"
    assert "negative, neutral, positive" in toml["prompt"]["user"]
    assert tasks.render(data, data.examples[0])[-1]["content"].startswith("Great product, take 0\n\n")
    assert plan.targets["rpositive0"] == "positive"
    # the file passes `bench validate`
    assert main(["validate", "--config", str(ROOT / "models.toml"), "--tasks-dir", str(tmp_path / "tasks")]) == 0


def test_numbers_from_jsonl(tmp_path, capsys):
    path = write_jsonl(tmp_path / "orders.jsonl", [{"q": f"{i} boxes at 2.50", "total": f"{2.5 * i:.2f}"}
                                                   for i in range(1, 30)])
    code, out, err = init(tmp_path, capsys, path, "--input", "q", "--target", "total", "--name", "boxes")
    assert code == 0, err
    assert "all 29 targets are numbers -> number" in out and "within 0.005" in out
    toml, data, plan = written(tmp_path, "boxes")
    assert toml["score"]["scorer"] == "number" and toml["score"]["tolerance"] == 0.005
    assert "Answer: <number>" in toml["prompt"]["user"]
    assert plan.scorer("so the answer is $5.00", plan.targets[data.examples[1].id]).value == 1.0


def test_integer_numbers_are_exact(tmp_path, capsys):
    path = write_jsonl(tmp_path / "n.jsonl", [{"q": f"q{i}", "a": i * 7} for i in range(12)])
    code, out, _ = init(tmp_path, capsys, path, "--input", "q", "--target", "a")
    assert code == 0 and "exactly" in out
    toml, _, _ = written(tmp_path, "n")
    assert "tolerance" not in toml["score"]


def test_json_objects(tmp_path, capsys):
    rows = [{"text": f"Invoice {i} from Acme, total {i}.50", "fields": {"vendor": "Acme", "total": i + 0.5,
                                                                      "note": "x"} | ({"extra": 1} if i else {})}
            for i in range(8)]
    path = write_jsonl(tmp_path / "inv.jsonl", rows)
    code, out, err = init(tmp_path, capsys, path, "--input", "text", "--target", "fields")
    assert code == 0, err
    assert "json_fields over its keys (vendor, total, note)" in out  # 'extra' is not in every row
    toml, data, plan = written(tmp_path, "inv")
    assert toml["score"]["fields"] == {"vendor": "{fields[vendor]}", "total": "{fields[total]}",
                                       "note": "{fields[note]}"}
    target = plan.targets[data.examples[3].id]
    assert json.loads(target) == {"vendor": "Acme", "total": 3.5, "note": "x"}
    assert plan.scorer('```json\n{"vendor": "ACME", "total": "3.50", "note": "x"}\n```', target).value == 1.0


def test_short_answers_use_exact_and_long_text_rouge(tmp_path, capsys):
    rows = [{"q": f"capital number {i}", "a": f"City {i}"} for i in range(20)]
    code, out, _ = init(tmp_path, capsys, write_jsonl(tmp_path / "caps.jsonl", rows), "--input", "q", "--target", "a")
    assert code == 0 and "-> exact" in out
    long = [{"email": f"Email {i} " * 20, "summary": f"Customer {i} asks for a refund of order {i} placed last week"}
            for i in range(10)]
    code, out, _ = init(tmp_path, capsys, write_parquet(tmp_path / "mails.parquet", long),
                        "--input", "email", "--target", "summary")
    assert code == 0 and "-> rouge_l" in out
    toml, _, _ = written(tmp_path, "mails")
    assert toml["score"] == {"scorer": "rouge_l", "target": "{summary}"}


def test_labels_with_braces_do_not_break_the_prompt(tmp_path, capsys):
    rows = [{"t": f"text {i}", "y": ["{a}", "b}"][i % 2]} for i in range(20)]
    code, _, err = init(tmp_path, capsys, write_jsonl(tmp_path / "b.jsonl", rows), "--input", "t", "--target", "y")
    assert code == 0, err
    _, data, _ = written(tmp_path, "b")
    assert "labels only: b}, {a}." in tasks.render(data, data.examples[0])[-1]["content"]


@pytest.mark.parametrize("args, message", [
    (["--input", "nope", "--target", "verdict"], "--input 'nope': no such column"),
    (["--input", "review text", "--target", "verdict", "--name", "bad name!"], "--name 'bad name!'"),
    (["--input", "verdict", "--target", "verdict"], "the same column"),
    (["--input", "review text", "--target", "verdict", "--name", ".."], "--name '..': a task name cannot be only dots"),
])
def test_bad_arguments(tmp_path, capsys, args, message):
    path = write_jsonl(tmp_path / "r.jsonl", label_rows())
    code, out, err = init(tmp_path, capsys, path, *args)
    assert code == 2 and err.startswith("error: ") and message in err, err
    assert not (tmp_path / "tasks").exists() or not any((tmp_path / "tasks").iterdir())


def test_refuses_to_overwrite(tmp_path, capsys):
    path = write_jsonl(tmp_path / "r.jsonl", label_rows())
    assert init(tmp_path, capsys, path, "--input", "review text", "--target", "verdict")[0] == 0
    before = (tmp_path / "tasks" / "r.toml").read_text()
    code, _, err = init(tmp_path, capsys, path, "--input", "review text", "--target", "verdict")
    assert code == 2 and "already exists; refusing to overwrite" in err
    assert (tmp_path / "tasks" / "r.toml").read_text() == before


def test_empty_target_is_refused(tmp_path, capsys):
    rows = label_rows()
    rows[4]["verdict"] = " "
    code, _, err = init(tmp_path, capsys, write_jsonl(tmp_path / "r.jsonl", rows), "--input", "review text",
                        "--target", "verdict")
    assert code == 2 and "row 5 has no value in the target column 'verdict'" in err


def test_missing_file(tmp_path, capsys):
    code, _, err = init(tmp_path, capsys, tmp_path / "nope.csv", "--input", "a", "--target", "b")
    assert code == 2 and "data file not found" in err


def test_an_id_column_is_used_only_when_unique(tmp_path, capsys):
    rows = [dict(r, ticket_id=f"T-{i}", group_id="g1") for i, r in enumerate(label_rows())]
    for r in rows:
        del r["id"]
    code, out, _ = init(tmp_path, capsys, write_jsonl(tmp_path / "r.jsonl", rows), "--input", "review text",
                        "--target", "verdict")
    assert code == 0 and "example ids: column 'ticket_id'" in out
    toml, _, _ = written(tmp_path, "r")
    assert toml["data"]["id"] == "ticket_id"


def test_out_that_is_a_file(tmp_path, capsys):
    path = write_jsonl(tmp_path / "r.jsonl", label_rows())
    (tmp_path / "tasks").write_text("a file where the folder should be")
    code, _, err = init(tmp_path, capsys, path, "--input", "review text", "--target", "verdict")
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    assert f"--out {tmp_path / 'tasks'}: this is a file" in err
    assert (tmp_path / "tasks").read_text() == "a file where the folder should be"


def test_out_below_a_file(tmp_path, capsys):
    path = write_jsonl(tmp_path / "r.jsonl", label_rows())
    (tmp_path / "afile").write_text("x")
    code = main(["task", "init", str(path), "--input", "review text", "--target", "verdict",
                 "--out", str(tmp_path / "afile" / "tasks")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: --out ") and "cannot write" in err and "Traceback" not in err, err
