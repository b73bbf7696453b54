"""The task shapes the shipped library uses (see the [score] tables in docs/tasks.md): span_f1 over
a JSON list field, rouge_l with a facts list, sql_execution over a .sql script, label with
primary = "lenient". Each is planned like a real run (templates, targets, scorer inputs) and its
reference answers must score 1."""

from __future__ import annotations

import json
from pathlib import Path

from bench.prepare import planning, tasks
from bench.prepare.taskfiles import load_task


def task(tmp_path: Path, name: str, rows: list[dict], score: str, files: dict[str, str] = {}) -> planning.Plan:
    (tmp_path / "data").mkdir(exist_ok=True)
    (tmp_path / "data" / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    for rel, text in files.items():
        (tmp_path / rel).write_text(text, encoding="utf-8")
    path = tmp_path / f"{name}.toml"
    path.write_text(f'[data]\npath = "data/{name}.jsonl"\nid = "id"\n\n[prompt]\nuser = "{{text}}"\n\n'
                    f"[score]\n{score}\n", encoding="utf-8")
    return planning.plan(tasks.load(load_task(path)))


def test_pii_spans(tmp_path):
    rows = [{"id": "p1", "text": "Mail Zoë Krüger at zoe@kr.de", "spans": [{"type": "NAME", "text": "Zoë Krüger"},
                                                                           {"type": "EMAIL", "text": "zoe@kr.de"}]},
            {"id": "p2", "text": "No personal data here.", "spans": []}]
    plan = task(tmp_path, "pii", rows, 'scorer = "span_f1"\ntarget = "{spans}"')
    assert json.loads(plan.targets["p1"]) == rows[0]["spans"] and "Zoë" in plan.targets["p1"]
    assert plan.targets["p2"] == "[]"
    for ex_id, target in plan.targets.items():
        assert plan.scorer(f"```json\n{target}\n```", target).value == 1.0
    assert plan.scorer('[{"type": "NAME", "text": "Zoë Krüger"}]', plan.targets["p1"]).value == 2 / 3


def test_email_summary_with_facts(tmp_path):
    rows = [{"id": "e1", "text": "long email", "summary": "Acme asks Globex to pay INV-77 of $1,200 by 3 March.",
             "facts": ["Acme", "INV-77", "$1,200", "3 March"]}]
    plan = task(tmp_path, "mail", rows, 'scorer = "rouge_l"\ntarget = "{summary}"\nfacts = "{facts}"')
    assert plan.inputs["e1"] == {"facts": rows[0]["facts"]}
    s = plan.scorer(rows[0]["summary"], plan.targets["e1"], **plan.inputs["e1"])
    assert s.value == 1.0 and s.details["fact_recall"] == 1.0


def test_text_to_sql(tmp_path):
    script = ("CREATE TABLE sales (region TEXT, amount REAL);\n"
              "INSERT INTO sales VALUES ('north', 10.5), ('south', 20), ('north', 4.5);\n")
    rows = [{"id": "q1", "text": "Revenue by region?",
             "sql": "SELECT region, SUM(amount) FROM sales GROUP BY region ORDER BY region"}]
    plan = task(tmp_path, "sql", rows, 'scorer = "sql_execution"\ntarget = "{sql}"\ndatabase = "data/sales.sql"',
                {"data/sales.sql": script})
    target = plan.targets["q1"]
    assert plan.scorer(f"```sql\n{target};\n```", target).value == 1.0
    assert plan.scorer("SELECT region, SUM(amount) FROM sales GROUP BY region ORDER BY region DESC", target).value == 0
    assert (tmp_path / "data" / "sales.sql").read_text() == script


def test_label_primary_lenient(tmp_path):
    rows = [{"id": "r1", "text": "Love it", "sentiment": "positive"}]
    plan = task(tmp_path, "rev", rows, 'scorer = "label"\ntarget = "{sentiment}"\n'
                                       'labels = ["positive", "neutral", "negative"]\nprimary = "lenient"')
    s = plan.scorer("Sentiment: positive", "positive")
    assert s.value == 1.0 and s.lenient == 1.0 and s.details == {"strict": 0.0}
    assert plan.lenient
