"""Execution accuracy for text-to-SQL: the model's query and the reference query are both run in
the sandbox and their result sets compared."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from pydantic import Field

from bench.config.toml import KeyProblem
from bench.scorers import sqlsandbox
from bench.scorers.base import Score, ScoreOptions, Scorer


def sql_execution(*, database: Path) -> Scorer:
    """1 when the first SQL statement of the output returns the same rows as the reference query:
    as a multiset of rows, in order only when the reference has a top-level ORDER BY; numbers
    rounded to 2 decimals; column names ignored. A query that fails, writes, runs past the time
    limit or returns too many rows scores 0 with the reason."""
    db = sqlsandbox.prepare(database)
    reference: dict[str, sqlsandbox.Result] = {}

    def score(output: str, target: str) -> Score:
        if target not in reference:
            reference[target] = sqlsandbox.run(db, target)
        want = reference[target]
        if want.rows is None:
            raise ValueError(f"the reference query fails: {want.error}")
        query = sqlsandbox.first_statement(output)
        if not query:
            return Score(0.0, None, "no SQL in the output")
        got = sqlsandbox.run(db, query)
        if got.rows is None:
            return Score(0.0, query, f"the query fails: {got.error}")
        a, b = sqlsandbox.canonical(got.rows), sqlsandbox.canonical(want.rows)
        in_order = sqlsandbox.ordered(target)
        same = a == b if in_order else Counter(a) == Counter(b)
        if same:
            return Score(1.0, query, "same result" + (" in the same order" if in_order else " set"))
        why = (f"{len(a)} rows, expected {len(b)}" if len(a) != len(b)
               else "same rows in another order" if in_order and Counter(a) == Counter(b) else "different rows")
        return Score(0.0, query, f"different result: {why}", {"rows": len(a), "expected_rows": len(b)})

    return score


def reference_problem(database: Path, target: str) -> str | None:
    """Why a reference query cannot serve as the answer key, or None."""
    result = sqlsandbox.run(sqlsandbox.prepare(database), target)
    return None if result.rows is not None else f"the reference query fails in the sandbox: {result.error}"


class SqlOptions(ScoreOptions):
    database: str | None = Field(default=None, description="sql_execution: .sql script or .sqlite file")

    def check(self) -> None:
        if not self.database:
            raise KeyProblem(("database",), "scorer 'sql_execution' needs 'database', a .sql script or "
                                            ".sqlite file relative to the task file")

    def file_problem(self, base):
        db = base / self.database
        if not db.is_file():
            return "database", f"database file {db} not found (the path is relative to the task file)"
        if db.suffix.lower() not in (".sql", ".sqlite", ".sqlite3", ".db"):
            return "database", f"use a .sql script or a .sqlite/.db file, not {db.suffix!r}"
        return None

    def scorer_file(self, base):
        return "database", base / self.database

    def kwargs(self, base):
        return {"database": base / self.database}

    def target_problem(self, target, base):
        return reference_problem(base / self.database, target)
