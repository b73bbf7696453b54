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


# ---------------------------------------------------------------- example ids (--id)


def id_rows(ids: list) -> list[dict]:
    rows = label_rows()[: len(ids)]
    return [{"ref": i, "review text": r["review text"], "verdict": r["verdict"]} for i, r in zip(ids, rows)]


def test_id_names_the_column_and_numbers_stay_text(tmp_path, capsys):
    ids = [f"{i:03d}" for i in range(18)]  # "007" is an id, not the number 7
    path = tmp_path / "r.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=["ref", "review text", "verdict"])
        w.writeheader()
        w.writerows(id_rows(ids))
    code, out, err = init(tmp_path, capsys, path, "--input", "review text", "--target", "verdict", "--id", "ref")
    assert code == 0, err
    assert "example ids: column 'ref' (--id)" in out
    toml, data, plan = written(tmp_path, "r")
    assert toml["data"]["id"] == "ref"
    assert [e.id for e in data.examples] == ids and "007" in plan.targets


def test_id_with_one_row(tmp_path, capsys):
    path = write_jsonl(tmp_path / "one.jsonl", [{"key": 7, "q": "two plus two", "a": "4"}])
    code, out, err = init(tmp_path, capsys, path, "--input", "q", "--target", "a", "--id", "key")
    assert code == 0, err
    _, data, _ = written(tmp_path, "one")
    assert [e.id for e in data.examples] == ["7"]


@pytest.mark.parametrize("ids, flag, message", [
    ([f"k{i}" for i in range(18)], "nope", "--id 'nope': no such column in "),
    ([f"k{i}" for i in range(17)] + ["k3"], "ref", "--id 'ref': not unique: 'k3' is in rows 4 and 18"),
    ([1] + [f"{i}" for i in range(1, 18)], "ref", "--id 'ref': not unique: '1' is in rows 1 and 2"),
    ([f"k{i}" for i in range(5)] + [""] + [f"k{i}" for i in range(6, 18)], "ref", "--id 'ref': row 6 has no value"),
    ([f"k{i}" for i in range(5)] + [" "] + [f"k{i}" for i in range(6, 18)], "ref", "--id 'ref': row 6 has no value"),
    ([f"k{i}" for i in range(5)] + [None] + [f"k{i}" for i in range(6, 18)], "ref", "--id 'ref': row 6 has no value"),
    ([f"k{i}" for i in range(5)] + [[1]] + [f"k{i}" for i in range(6, 18)], "ref", "row 6 holds a list, not an id"),
    ([f"k{i}" for i in range(18)], "review text", "--id 'review text': the same column as --input"),
    ([f"k{i}" for i in range(18)], "verdict", "--id 'verdict': the same column as --target"),
])
def test_a_bad_id_column_is_refused_and_nothing_written(tmp_path, capsys, ids, flag, message):
    path = write_jsonl(tmp_path / "r.jsonl", id_rows(ids))
    code, out, err = init(tmp_path, capsys, path, "--input", "review text", "--target", "verdict", "--id", flag)
    assert code == 2 and err.startswith("error: ") and message in err, err
    assert err.count("\n") == 1 and out == ""
    assert not (tmp_path / "tasks").exists() or not any((tmp_path / "tasks").iterdir())


@pytest.mark.parametrize("column", ["id", "ID", "uid", "example_id", "ticket-id", "ticket id", "ticketId"])
def test_a_column_named_like_an_id_is_used_and_the_output_says_why(tmp_path, capsys, column):
    rows = [{column: f"T-{i}", "review text": r["review text"], "verdict": r["verdict"]}
            for i, r in enumerate(label_rows())]
    code, out, err = init(tmp_path, capsys, write_jsonl(tmp_path / "r.jsonl", rows), "--input", "review text",
                          "--target", "verdict")
    assert code == 0, err
    assert f"example ids: column {column!r} (named like an id, unique, none empty; --id COLUMN picks another)" in out
    toml, data, _ = written(tmp_path, "r")
    assert toml["data"]["id"] == column and data.examples[2].id == "T-2"


def test_a_column_named_like_an_id_that_cannot_be_one_is_not_used_and_the_output_says_why(tmp_path, capsys):
    rows = [dict(r, id="same" if i in (2, 9) else f"r{i}", paid=f"p{i}") for i, r in enumerate(label_rows())]
    code, out, err = init(tmp_path, capsys, write_jsonl(tmp_path / "r.jsonl", rows), "--input", "review text",
                          "--target", "verdict")
    assert code == 0, err
    assert ("example ids: a hash of each row, as no column named like an id can be one ('id' not unique: 'same' "
            "is in rows 3 and 10 (ids must be unique)); --id COLUMN names one") in out
    toml, data, _ = written(tmp_path, "r")
    assert "id" not in toml["data"] and len(data.examples[0].id) == 12  # 'paid' is not named like an id


def test_without_an_id_like_column_the_output_says_ids_are_hashes(tmp_path, capsys):
    rows = [{k: v for k, v in r.items() if k != "id"} for r in label_rows()]
    code, out, err = init(tmp_path, capsys, write_jsonl(tmp_path / "r.jsonl", rows), "--input", "review text",
                          "--target", "verdict")
    assert code == 0, err
    assert "example ids: a hash of each row (no column is named like an id); --id COLUMN keeps your own" in out
