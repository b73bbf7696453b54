"""Running untrusted SQL (a model's answer) against a task's SQLite database without letting it
change anything or hang the run: a read-only connection, an authorizer that allows reading only,
one statement, a time limit per query and a row limit."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sqlite3
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

TIME_LIMIT_S = 2.0  # per query, planning and fetching included
MAX_ROWS = 10_000  # a larger result scores 0: no reference answer of a task is that long
MAX_VALUE_BYTES = 10_000_000  # the largest string or blob a query may build (zeroblob(1e12) stops here)

# Reading only: SELECT, reading a column, calling a function, and recursive CTEs (which read too;
# the time and row limits bound them). Everything else (writes, ATTACH, PRAGMA, temp tables,
# transactions) is refused before it runs.
_ALLOWED = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION, sqlite3.SQLITE_RECURSIVE}
_DENIED_FUNCTIONS = {"load_extension", "readfile", "writefile", "edit", "fts3_tokenizer"}

_built: dict[str, Path] = {}  # content hash -> database file, once per process


@dataclass(frozen=True)
class Result:
    rows: list[tuple] | None  # None when the query failed
    error: str | None = None  # why it failed, one line


def prepare(source: Path) -> Path:
    """A private SQLite file with the database's content: a .sql script is run once into a fresh
    file; a .sqlite/.db file is copied. Cached per process and on disk by content hash, so the
    task's own file is never opened for writing."""
    data = source.read_bytes()
    digest = hashlib.sha256(data).hexdigest()[:20]
    if digest in _built and _built[digest].is_file():
        return _built[digest]
    cache = Path(tempfile.gettempdir()) / "bench-sql"
    cache.mkdir(exist_ok=True)
    target = cache / f"{digest}.sqlite"
    if not target.is_file():
        fd, tmp = tempfile.mkstemp(dir=cache, suffix=".part")
        os.close(fd)
        try:
            if source.suffix.lower() == ".sql":
                con = sqlite3.connect(tmp)
                try:
                    con.executescript(data.decode("utf-8"))
                    con.commit()
                except (sqlite3.Error, UnicodeDecodeError) as e:
                    raise ValueError(f"{source}: the database script fails: {e}") from None
                finally:
                    con.close()
            else:
                shutil.copyfile(source, tmp)
            os.replace(tmp, target)  # atomic: another process never sees a half-built file
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    _built[digest] = target
    return target


def _authorize(action: int, arg1, arg2, db_name, trigger) -> int:
    if action not in _ALLOWED:
        return sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_FUNCTION and str(arg2).lower() in _DENIED_FUNCTIONS:
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


def run(db: Path, query: str, *, time_limit_s: float = TIME_LIMIT_S, max_rows: int = MAX_ROWS) -> Result:
    """Run one read-only statement; never raises for a bad query, returns the error instead."""
    head = re.sub(r"^(?:\s+|--[^\n]*(?:\n|$)|/\*.*?\*/)*", "", query, flags=re.S)
    if not re.match(r"(?:\(\s*)*(?:select|with|values)\b", head, re.I):
        return Result(None, "only a SELECT (or WITH ... SELECT) query is run")
    if not sqlite3.complete_statement(query.rstrip().rstrip(";") + ";"):
        return Result(None, "not a complete SQL statement")
    try:
        con = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)
    except sqlite3.Error as e:
        return Result(None, f"cannot open the database: {e}")
    try:
        con.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)
        con.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
        con.set_authorizer(_authorize)
        deadline = time.perf_counter() + time_limit_s
        con.set_progress_handler(lambda: int(time.perf_counter() > deadline), 1000)
        try:
            cur = con.execute(query)  # sqlite3 refuses a second statement ("one statement at a time")
            rows = cur.fetchmany(max_rows + 1)
        except sqlite3.Error as e:
            if time.perf_counter() > deadline:
                return Result(None, f"over the time limit of {time_limit_s:g} s")
            return Result(None, f"{type(e).__name__}: {' '.join(str(e).split())}")
        except (OverflowError, ValueError, MemoryError) as e:  # values Python cannot hold
            return Result(None, f"{type(e).__name__}: {e}")
        if len(rows) > max_rows:
            return Result(None, f"more than {max_rows} rows")
        return Result([tuple(r) for r in rows])
    finally:
        con.close()


def first_statement(text: str) -> str:
    """The first SQL statement of a model's answer: inside a ```sql fence if there is one, without
    a leading "SQL:" label; everything after its ';' is dropped (and never run)."""
    fence = re.search(r"```[ \t]*(?:sql|sqlite)?[ \t]*\n?(.*?)(?:```|$)", text, re.S | re.I)
    body = fence.group(1) if fence else text
    body = re.sub(r"^\s*(?:sql|query)\s*:\s*", "", body, flags=re.I).strip()
    statement = ""
    for part in body.split(";"):  # ';' inside a string literal is not an end: complete_statement knows
        statement += part + ";"
        if sqlite3.complete_statement(statement):
            return statement.rstrip(";").strip()
    return body.strip()


def ordered(query: str) -> bool:
    """Whether the query's result order is part of its meaning: a top-level ORDER BY (outside
    parentheses and string literals)."""
    text = re.sub(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"", "''", query)
    depth, top = 0, []
    for ch in text:
        depth += ch == "("
        top.append(ch if depth == 0 else " ")
        depth -= ch == ")"
    return re.search(r"\border\s+by\b", "".join(top), re.I) is not None


def canonical(rows: list[tuple]) -> list[tuple]:
    """Rows with numbers rounded to 2 decimals (3, 3.0 and 3.0000001 are equal); other values as
    they are."""
    return [tuple(round(float(v), 2) if isinstance(v, (int, float)) and not isinstance(v, bool) else v
                  for v in row) for row in rows]
