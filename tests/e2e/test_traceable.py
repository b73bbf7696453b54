"""Traceable to the user's rows, through the command line: `task init --id` on a CSV whose ids
look like numbers, a run of a toy API model (tests/toys/shout_api.py), and records, inputs.jsonl,
report.html and summary.md that name each example by the user's own id and show its input."""

from __future__ import annotations

import csv
import json

from bench.cli import main
from tests.test_registry import SHOUT, toys  # noqa: F401 (a fixture)


def test_the_users_ids_and_inputs_reach_the_records_and_the_report(tmp_path, capsys, monkeypatch, toys):  # noqa: F811
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SHOUT_TEST_KEY", "k")
    data = tmp_path / "tickets.csv"
    queues = ["billing", "refunds", "shipping"]
    with data.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["ref", "message", "queue"])
        w.writerows([f"{i:03d}", f"message {i} <b>bold</b>", queues[i % 3]] for i in range(15))
    assert main(["task", "init", str(data), "--input", "message", "--target", "queue", "--id", "ref"]) == 0
    assert "example ids: column 'ref' (--id)" in capsys.readouterr().out
    (tmp_path / "models.toml").write_text(SHOUT, encoding="utf-8")
    code = main(["run", "--out", str(tmp_path / "res"), "--yes"])
    assert code == 0, capsys.readouterr().err
    folder = next((tmp_path / "res").iterdir())
    records = [json.loads(x) for x in (folder / "records.jsonl").read_text(encoding="utf-8").splitlines()]
    assert sorted(r["example_id"] for r in records) == [f"{i:03d}" for i in range(15)]
    inputs = [json.loads(x) for x in (folder / "inputs.jsonl").read_text(encoding="utf-8").splitlines()]
    assert {r["example_id"]: r["inputs"] for r in inputs}["007"] == {"message": "message 7 <b>bold</b>"}
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert "<code>000</code>" in page  # the first example shown, by the user's id
    assert "input: message</th><td>message " in page and "&lt;b&gt;bold&lt;/b&gt;" in page
    assert "<h2 id='labels'>Per label</h2>" in page and "alt='confusion_tickets_loud'" in page
    assert "id='disagree'" not in page  # one model: no pair to compare
    assert "| tickets | loud | billing | 5 |" in (folder / "summary.md").read_text(encoding="utf-8")
