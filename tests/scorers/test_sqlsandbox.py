"""The SQL sandbox against hostile and broken queries, and execution-accuracy scoring. Each test
builds its own small database; the database file's bytes must never change."""

from __future__ import annotations

import hashlib
import sqlite3
import time
from pathlib import Path

import pytest

from bench.scorers import sqlsandbox
from bench.scoring import sql_execution

SCRIPT = """
CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, country TEXT);
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER, total REAL, placed TEXT);
INSERT INTO customers VALUES (1, 'Acme', 'DE'), (2, 'Globex', 'US'), (3, 'Initech', 'US');
INSERT INTO orders VALUES (1, 1, 100.0, '2026-01-05'), (2, 1, 50.5, '2026-02-01'),
                          (3, 2, 20.25, '2026-02-03'), (4, 3, 75.0, '2026-03-09');
CREATE TABLE t (x INTEGER);
"""
SCRIPT += "INSERT INTO t VALUES " + ",".join(f"({i})" for i in range(300)) + ";\n"


@pytest.fixture
def source(tmp_path) -> Path:
    path = tmp_path / "sales.sql"
    path.write_text(SCRIPT, encoding="utf-8")
    return path


@pytest.fixture
def db(source) -> Path:
    return sqlsandbox.prepare(source)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


HOSTILE = [
    "INSERT INTO customers VALUES (9, 'Evil', 'XX')",
    "UPDATE orders SET total = 0",
    "DELETE FROM orders",
    "DROP TABLE orders",
    "CREATE TABLE x (a)",
    "CREATE TEMP TABLE x (a)",
    "ATTACH DATABASE '/tmp/bench-evil.sqlite' AS evil",
    "PRAGMA writable_schema=1",
    "PRAGMA journal_mode=DELETE",
    "SELECT load_extension('/tmp/evil.so')",
    "SELECT 1; DROP TABLE orders",
    "SELECT 1; SELECT 2",
    "BEGIN",
    "VACUUM",
    "REINDEX",
    "ANALYZE",
    "SELECT zeroblob(1000000000)",
    "SELECT * FROM nope",
    "SELEC 1",
    "",
]


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_query_fails_and_changes_nothing(db, source, query):
    before, script_before = digest(db), digest(source)
    result = sqlsandbox.run(db, query)
    assert result.rows is None and result.error, query
    assert digest(db) == before and digest(source) == script_before
    # the data is all still there
    assert sqlsandbox.run(db, "SELECT count(*) FROM orders").rows == [(4,)]


def test_recursive_cte_loop_stops_at_the_row_limit(db):
    t0 = time.perf_counter()
    result = sqlsandbox.run(db, "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) SELECT * FROM c")
    assert result.rows is None and "more than 10000 rows" in result.error
    assert time.perf_counter() - t0 < 3


def test_recursive_cte_loop_stops_at_the_time_limit(db):
    t0 = time.perf_counter()
    result = sqlsandbox.run(db, "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) "
                                "SELECT count(*) FROM c", time_limit_s=0.5)
    elapsed = time.perf_counter() - t0
    assert result.rows is None and "time limit" in result.error
    assert 0.4 < elapsed < 2.0


def test_huge_cross_join_stops_at_the_time_limit(db):
    # 300^4 = 8.1e9 rows to count: hours without the limit
    t0 = time.perf_counter()
    result = sqlsandbox.run(db, "SELECT count(*) FROM t a, t b, t c, t d", time_limit_s=0.5)
    assert result.rows is None and "time limit" in result.error
    assert time.perf_counter() - t0 < 2.0


def test_a_legitimate_recursive_query_runs(db):
    result = sqlsandbox.run(db, "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 5) "
                                "SELECT sum(x) FROM c")
    assert result.rows == [(15,)]


def test_the_connection_is_read_only_even_without_the_authorizer(db):
    con = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        con.execute("DELETE FROM orders")
    con.close()


def test_prepare_builds_once_and_copies_sqlite_files(source, tmp_path):
    first = sqlsandbox.prepare(source)
    assert sqlsandbox.prepare(source) == first
    copy = tmp_path / "copy.sqlite"
    copy.write_bytes(first.read_bytes())
    same_content = sqlsandbox.prepare(copy)
    assert same_content != copy  # a private copy, never the user's file
    assert sqlsandbox.run(same_content, "SELECT name FROM customers WHERE id = 2").rows == [("Globex",)]


def test_broken_script_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.sql"
    bad.write_text("CREATE TABLE a (x); INSERT INTO nope VALUES (1);", encoding="utf-8")
    with pytest.raises(ValueError, match="bad.sql: the database script fails"):
        sqlsandbox.prepare(bad)


@pytest.mark.parametrize("text, want", [
    ("SELECT 1", "SELECT 1"),
    ("SELECT 1;", "SELECT 1"),
    ("```sql\nSELECT name\nFROM customers;\n```", "SELECT name\nFROM customers"),
    ("Here you go:\n```\nSELECT 2\n```\nThis counts rows.", "SELECT 2"),
    ("SQL: SELECT 3", "SELECT 3"),
    ("SELECT 'a;b' AS x; DROP TABLE orders;", "SELECT 'a;b' AS x"),
])
def test_first_statement(text, want):
    assert sqlsandbox.first_statement(text) == want


@pytest.mark.parametrize("query, ordered", [
    ("SELECT * FROM t ORDER BY x", True),
    ("select * from t order   by x desc limit 3", True),
    ("SELECT * FROM (SELECT * FROM t ORDER BY x) LIMIT 3", False),
    ("SELECT 'order by' FROM t", False),
    ("SELECT group_concat(x) OVER (ORDER BY x) FROM t", False),
])
def test_ordered(query, ordered):
    assert sqlsandbox.ordered(query) is ordered


# ---------------------------------------------------------------- execution accuracy


REF = "SELECT c.name, sum(o.total) FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY c.name"


def test_same_rows_in_any_order_score_1(source):
    sc = sql_execution(database=source)
    out = ("```sql\nSELECT name AS customer, SUM(total) AS revenue FROM orders JOIN customers "
           "ON customers.id = orders.customer_id GROUP BY name ORDER BY revenue DESC;\n```")
    s = sc(out, REF)
    assert s.value == 1.0 and "same result" in s.reason and s.extracted.startswith("SELECT name")


def test_order_matters_when_the_reference_orders(source):
    sc = sql_execution(database=source)
    ref = "SELECT name FROM customers ORDER BY name"
    assert sc("SELECT name FROM customers ORDER BY name ASC", ref).value == 1.0
    s = sc("SELECT name FROM customers ORDER BY name DESC", ref)
    assert s.value == 0.0 and "another order" in s.reason


def test_numbers_compared_after_rounding(source):
    sc = sql_execution(database=source)
    assert sc("SELECT sum(total) + 0.001 FROM orders", "SELECT sum(total) FROM orders").value == 1.0
    assert sc("SELECT 245", "SELECT 245.0").value == 1.0
    assert sc("SELECT sum(total) + 0.01 FROM orders", "SELECT sum(total) FROM orders").value == 0.0


def test_multiset_not_set(source):
    sc = sql_execution(database=source)
    s = sc("SELECT DISTINCT country FROM customers", "SELECT country FROM customers")
    assert s.value == 0.0 and "2 rows, expected 3" in s.reason


def test_wrong_and_hostile_answers_score_0(source):
    sc = sql_execution(database=source)
    db = sqlsandbox.prepare(source)
    before = digest(db)
    for out in ["SELECT name FROM customers", "DROP TABLE orders", "I cannot write SQL.", "",
                "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) SELECT * FROM c"]:
        s = sc(out, REF)
        assert s.value == 0.0 and s.reason, out
    assert digest(db) == before
    assert sc(REF, REF).value == 1.0


def test_a_failing_reference_is_an_error_not_a_zero(source):
    with pytest.raises(ValueError, match="reference query fails"):
        sql_execution(database=source)("SELECT 1", "SELECT * FROM nope")
