"""The shipped task data: rebuilt byte for byte by its seeded generator, large and varied enough,
balanced, and with gold answers that check out independently of the generator and of the scorers."""

from __future__ import annotations

import ast
import collections
import datetime as dt
import json
import re
import sqlite3
import string
import subprocess
import sys
from decimal import ROUND_HALF_UP, Decimal

import pytest
import tomllib
from conftest import ROOT, TASKS

DATA = TASKS / "data"
SHIPPED = {  # task -> (data file, input field, scorer)
    "ticket_routing": ("ticket_routing.jsonl", "text", "label"),
    "review_sentiment": ("review_sentiment.jsonl", "text", "label"),
    "invoice_fields": ("invoice_fields.jsonl", "text", "json_fields"),
    "order_math": ("order_math.jsonl", "question", "number"),
    "text_to_sql": ("text_to_sql.jsonl", "question", "sql_execution"),
    "pii_redaction": ("pii_redaction.jsonl", "text", "span_f1"),
    "email_summary": ("email_summary.jsonl", "email", "rouge_l"),
}


def rows(name: str) -> list[dict]:
    return [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines()]


def test_generator_rebuilds_every_file_byte_for_byte(tmp_path):
    for how, out in ((["-m", "tasks.generate"], tmp_path / "a"), (["tasks/generate/build.py"], tmp_path / "b")):
        proc = subprocess.run([sys.executable, *how, "--out", str(out)], cwd=ROOT, capture_output=True, text=True,
                              timeout=120)
        assert proc.returncode == 0, proc.stderr
        built = sorted(p.name for p in out.iterdir())
        assert built == sorted(p.name for p in DATA.iterdir()), "every data file is generated, and nothing else"
        for name in built:
            assert (out / name).read_bytes() == (DATA / name).read_bytes(), f"{name} differs from its generator's output"


@pytest.mark.parametrize("task", sorted(SHIPPED))
def test_size_ids_and_no_duplicate_inputs(task):
    file, field, _ = SHIPPED[task]
    data = rows(file)
    assert len(data) >= 200
    assert len({r["id"] for r in data}) == len(data)
    norm = [" ".join(r[field].lower().split()) for r in data]
    assert len(set(norm)) == len(norm), [t for t, n in collections.Counter(norm).items() if n > 1][:3]
    assert (DATA / file).stat().st_size < 600_000


@pytest.mark.parametrize("task", sorted(SHIPPED))
def test_task_file_matches_its_data(task):
    file, _, scorer = SHIPPED[task]
    spec = tomllib.loads((TASKS / f"{task}.toml").read_text(encoding="utf-8"))
    assert spec["data"]["path"] == f"data/{file}" and spec["score"]["scorer"] == scorer
    fields = set(rows(file)[0])
    templates = [spec["prompt"]["user"], spec["prompt"].get("system", ""), spec["score"].get("target", "")]
    templates += list(spec["score"].get("fields", {}).values()) + [spec["score"].get("facts", "")]
    for template in templates:
        for _, name, _, _ in string.Formatter().parse(template):
            assert name is None or name in fields, f"{task}: placeholder {{{name}}} is not a data field"
    assert all(set(r) == fields for r in rows(file)), "every example has the same fields"


@pytest.mark.parametrize("file,field,labels", [("ticket_routing.jsonl", "queue", 8), ("review_sentiment.jsonl", "sentiment", 3)])
def test_classes_are_balanced(file, field, labels):
    counts = collections.Counter(r[field] for r in rows(file))
    assert len(counts) == labels and max(counts.values()) <= 1.2 * min(counts.values()), counts


def test_task_labels_match_the_data():
    for task, field in (("ticket_routing", "queue"), ("review_sentiment", "sentiment")):
        spec = tomllib.loads((TASKS / f"{task}.toml").read_text(encoding="utf-8"))
        assert set(spec["score"]["labels"]) == {r[field] for r in rows(SHIPPED[task][0])}


def money_forms(x: float) -> set[str]:
    """How a total can be written: 1,234.56  1.234,56  1 234,56  1'234.56  1,23,456.00  1,235 (yen)."""
    us = f"{x:,.2f}"
    whole, cents = us.split(".")
    digits = whole.replace(",", "")
    head, tail = digits[:-3], digits[-3:]
    indian = re.sub(r"(\d)(?=(\d\d)+$)", r"\1,", head) + ("," if head else "") + tail
    return {us, whole.replace(",", ".") + "," + cents, whole.replace(",", " ") + "," + cents,
            whole.replace(",", "'") + "." + cents, f"{indian}.{cents}", f"{round(x):,}" if x == round(x) else us}


def test_invoice_gold_fields_are_in_the_text():
    data = rows("invoice_fields.jsonl")
    for r in data:
        assert r["vendor"] in r["text"] and r["invoice_number"] in r["text"], r["id"]
        dt.date.fromisoformat(r["date"])
        assert r["currency"] in {"USD", "EUR", "GBP", "CHF", "JPY", "INR", "AUD", "CAD"}
        assert any(form in r["text"] for form in money_forms(r["total"])), (r["id"], r["total"])
    assert len({r["currency"] for r in data}) >= 7 and len({r["layout"] for r in data}) >= 10


def decimal_eval(expr: str) -> Decimal:
    """Evaluate + - * / and parentheses over Decimal literals; anything else is refused."""
    def ev(node):
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return Decimal(ast.get_source_segment(expr, node))
        if isinstance(node, ast.BinOp) and type(node.op) in OPS:
            return OPS[type(node.op)](ev(node.left), ev(node.right))
        raise ValueError(f"unexpected {ast.dump(node)} in {expr}")
    OPS = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b, ast.Div: lambda a, b: a / b}
    return ev(ast.parse(expr, mode="eval"))


def numbers_in(text: str) -> set[Decimal]:
    return {Decimal(t.replace(",", "")) for t in re.findall(r"\d[\d,]*(?:\.\d+)?", text)}


def test_order_math_answers_recompute():
    data, demos = rows("order_math.jsonl"), rows("order_math_fewshot.jsonl")
    for r in data + demos:
        want = decimal_eval(r["solution"]).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        assert Decimal(str(r["answer"])) == want, r["id"]
        extra = {Decimal(1), Decimal(100)}  # "1 - 15/100" is how a percentage enters the arithmetic
        for lit in re.findall(r"\d+(?:\.\d+)?", r["solution"]):
            assert Decimal(lit) in numbers_in(r["question"]) | extra, (r["id"], lit)
    assert collections.Counter(r["level"] for r in data).keys() == {1, 2, 3, 4}
    assert min(collections.Counter(r["level"] for r in data).values()) >= 40
    assert not {r["question"] for r in demos} & {r["question"] for r in data}


def iban_valid(iban: str) -> bool:
    code = iban.replace(" ", "")
    moved = code[4:] + code[:4]
    return re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]+", code) is not None and int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def test_iban_check_known_values():
    assert iban_valid("DE89 3704 0044 0532 0130 00") and iban_valid("GB82WEST12345698765432")
    assert not iban_valid("DE88 3704 0044 0532 0130 00")


def test_pii_spans():
    data = rows("pii_redaction.jsonl")
    types = collections.Counter()
    for r in data:
        for span in r["spans"]:
            assert span["type"] in {"NAME", "EMAIL", "PHONE", "IBAN"} and r["text"].count(span["text"]) == 1, r["id"]
            types[span["type"]] += 1
            if span["type"] == "IBAN":
                assert iban_valid(span["text"]), span["text"]
            if span["type"] == "EMAIL":
                assert re.fullmatch(r"[\w.+-]+@[\w-]+(\.[\w-]+)+", span["text"]), span["text"]
            if span["type"] == "PHONE":
                assert len(re.sub(r"\D", "", span["text"])) >= 9, span["text"]
    empty = sum(not r["spans"] for r in data) / len(data)
    assert 0.10 <= empty <= 0.20
    assert min(types.values()) >= 40, types


def test_email_facts_are_in_email_and_summary():
    data = rows("email_summary.jsonl")
    for r in data:
        assert r["facts"] and "\n" not in r["summary"] and r["summary"].endswith(".")
        for fact in r["facts"]:
            assert fact in r["email"] and fact in r["summary"], (r["id"], fact)
        assert len(r["summary"]) < 0.7 * len(r["email"])
    assert len({r["scenario"] for r in data}) >= 10


@pytest.fixture(scope="module")
def sales_db():
    con = sqlite3.connect(":memory:")
    con.executescript((DATA / "sales.sql").read_text(encoding="utf-8"))
    yield con
    con.close()


def test_sales_database_size(sales_db):
    counts = {t: sales_db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
              for t in ("regions", "customers", "products", "orders", "order_items")}
    assert all(counts.values()) and 300 <= sum(counts.values()) <= 4000, counts
    assert sales_db.execute("PRAGMA foreign_key_check").fetchall() == []


def test_every_reference_query_returns_rows(sales_db):
    data = rows("text_to_sql.jsonl")
    assert len({r["sql"] for r in data}) == len(data)
    for r in data:
        assert r["sql"].lstrip().upper().startswith("SELECT"), r["id"]
        result = sales_db.execute(r["sql"]).fetchall()
        assert result and any(v is not None for v in result[0]), (r["id"], r["sql"])


def test_sql_prompt_carries_the_schema():
    spec = tomllib.loads((TASKS / "text_to_sql.toml").read_text(encoding="utf-8"))
    assert spec["score"]["database"] == "data/sales.sql"
    script = (DATA / "sales.sql").read_text(encoding="utf-8")
    for table in re.findall(r"CREATE TABLE (\w+) \((.*?)\n\);", script, re.S):
        assert f"CREATE TABLE {table[0]} ({table[1]}\n);" in spec["prompt"]["user"], table[0]
