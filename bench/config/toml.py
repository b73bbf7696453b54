"""Reading a TOML file and turning every mistake into one line naming the file, the line and the
key: the line finder, pydantic's errors rewritten for people, and the base class of every table."""

from __future__ import annotations

import datetime
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from pydantic import BaseModel, ConfigDict, ValidationError

from bench.errors import InputError
from bench.safetext import visible

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

NAME_RE = r"^[A-Za-z0-9][A-Za-z0-9._-]*\Z"  # \Z: "$" would let a trailing newline through


class Strict(BaseModel):
    # inf and nan are valid TOML floats; a price of inf makes every cost "-" without a word
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class KeyProblem(ValueError):
    """A cross-field error raised inside a validator that knows the key it is about."""

    def __init__(self, loc: tuple, msg: str):
        super().__init__(msg)
        self.loc = loc


def name_problem(name: str) -> str | None:
    """Why a model, hardware or task name is refused, or None: names become file names and table
    cells, so letters, digits, '.', '_' and '-', starting with a letter or a digit."""
    if re.match(NAME_RE, name):
        return None
    if not name:
        return "is empty"
    if set(name) == {"."}:
        return "cannot be only dots; start it with a letter or a digit"
    bad = next((c for c in name if not re.match(r"[A-Za-z0-9._-]", c)), None)
    if bad is not None:
        return f"must use letters, digits, '.', '_' or '-' only (not {bad!r})"
    return "must start with a letter or a digit"


def iso_date(value: Any) -> Any:
    """A real calendar date written YYYY-MM-DD; a TOML date (unquoted) is taken as one."""
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, str):
        try:
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) and datetime.date.fromisoformat(value):
                return value
        except ValueError:
            pass
        raise ValueError(f"{value!r} is not a date; write the day the prices were checked as YYYY-MM-DD")
    return value  # None, or another type: the str field says what it expects


def read_toml(path: Path) -> tuple[dict, str]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: cannot read ({e})") from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as e:
        raise InputError(f"{path}: TOML syntax error: {e}. Fix the syntax at that line.") from None


def key_line(text: str, loc: tuple) -> int | None:
    """The 1-based line of a dotted key (e.g. ('models', 'x', 'dtype')) in TOML text, best effort:
    the line of the key itself, else of the deepest table header that contains it."""
    loc = tuple(str(p) for p in loc)
    best_line, best_depth, section = None, 0, ()
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        header = re.match(r"^\[+\s*([^\]]+?)\s*\]+", line)
        key = re.match(r"^((?:[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*'))*)\s*=",
                       line)
        if header:
            section = full = _parts(header.group(1))
        elif key:
            full = section + _parts(key.group(1))
        else:
            continue
        n = 0
        while n < min(len(full), len(loc)) and full[n] == loc[n]:
            n += 1
        if n == min(len(full), len(loc)) and n > best_depth:
            best_line, best_depth = lineno, n
    return best_line


def _parts(dotted: str) -> tuple:
    """Split a TOML dotted key, keeping quoted parts whole: 'models."qwen2.5".dtype' has 3 parts."""
    return tuple(_unquote(q) if q[:1] == '"' else q[1:-1] if q[:1] == "'" else q
                 for q in re.findall(r'"[^"]*"|\'[^\']*\'|[^.\s"\']+', dotted))


def _unquote(q: str) -> str:
    """A TOML basic-string key with its escapes ("gpu\\n" is a newline), best effort."""
    try:
        return json.loads(q)
    except ValueError:
        return q[1:-1]


def where(path: Path, text: str, loc: tuple) -> str:
    line = key_line(text, loc)
    key = ".".join(str(p) for p in loc if p != "")
    key = visible(key)  # one line, even for a key holding "\n"
    return f"{path}" + (f":{line}" if line else "") + (f": key '{key}'" if key else "")


def _user_loc(data: Any, loc: tuple) -> tuple:
    """The key path as the user wrote it: pydantic appends the member it tried to each error of a
    union ('temperature', 'float'), which is no key of the file. The path is followed through the
    data; what follows a plain value (or a key that is missing) is dropped."""
    out, node = [], data
    for part in loc:
        if isinstance(node, dict):
            out.append(part)
            if part not in node:
                break
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            out.append(part)
            node = node[part]
        else:
            break
    return tuple(out)


def drop_tags(data: Any, loc: tuple, tags: set[str]) -> tuple:
    """The key path without the registry names pydantic inserts after a union's location (the
    member it tried: ('models', 'x', 'openai', 'model')). A name is dropped only where the data
    has no such key, so a model named like a backend keeps its name."""
    out, node = [], data
    for part in loc:
        if isinstance(node, dict) and part not in node and isinstance(part, str) and part in tags:
            continue
        out.append(part)
        node = node.get(part) if isinstance(node, dict) else (
            node[part] if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node) else None)
    return tuple(out)


def _union_message(errors: list[dict]) -> str:
    """One message for a value that matched no member of a union: 'Input should be a valid number
    or 'default', got 'hot''."""
    wants = []
    for e in errors:
        msg = e["msg"].removeprefix("Input should be ")
        wants.append(msg if e["type"] == "literal_error" else msg.split(",")[0])
    return f"Input should be {' or '.join(dict.fromkeys(wants))}, got {errors[0]['input']!r}"


@dataclass(frozen=True)
class Choice:
    """A table whose kind one of its keys chooses among a registry's names (a model's `backend`,
    a task's `scorer`): how to say that the key names no entry."""

    error_types: tuple[str, ...]  # the pydantic errors its union's discriminator raises
    key: str  # the key that chooses
    message: Callable[[Any], str]  # the table as written -> what is wrong with its key


def _message(e: dict, loc: tuple, choices: tuple[Choice, ...]) -> tuple[tuple, str]:
    """One pydantic error as (key path, message for a person)."""
    msg = e["msg"].removeprefix("Value error, ")
    choice = next((c for c in choices if e["type"] in c.error_types), None)
    if choice is not None:
        return (loc if loc[-1:] == (choice.key,) else loc + (choice.key,)), choice.message(e["input"])
    if e["type"] == "extra_forbidden":
        msg = "unknown key; remove it or check its spelling (see docs/models.md and docs/tasks.md)"
    elif e["type"] == "missing":
        msg = "required key is missing"
    elif e["type"] == "finite_number":
        msg = f"must be a finite number, not {e['input']!r}"
    elif e["type"] == "literal_error":
        msg = f"{msg}, got {e['input']!r}"
    elif e["type"] == "string_pattern_mismatch" and loc[-1:] == ("device",):
        msg = f"invalid device {e['input']!r}; use auto, cpu, cuda, cuda:N or mps"
    return loc, msg


def _validation_message(path: Path, text: str, err: ValidationError, data: Any, tags: set[str],
                        choices: tuple[Choice, ...]) -> str:
    lines, by_loc = [], {}
    for e in err.errors():
        loc = drop_tags(data, e["loc"], tags)
        if not any(e["type"] in c.error_types for c in choices):
            loc = _user_loc(data, loc)
        by_loc.setdefault(loc, []).append({**e, "loc": loc})
    for loc, errors in by_loc.items():
        if len(errors) > 1 and all(x["type"] not in ("extra_forbidden", "missing") for x in errors):
            lines.append(f"{where(path, text, loc)}: {_union_message(errors)}")
            continue
        loc, msg = _message(errors[0], loc, choices)
        lines.append(f"{where(path, text, loc)}: {msg}")
    return "\n".join(lines)


def validate(cls: type[BaseModel], data: dict, path: Path, text: str, tags: set[str] = frozenset(),
             choices: tuple[Choice, ...] = ()) -> Any:
    """`data` (read from `path`, whose text is `text`) as a `cls`, or InputError naming the file,
    line and key of each mistake. `tags`: the names of registry entries, which pydantic puts in
    the path of an error inside a union member and which are no key of the file."""
    try:
        return cls.model_validate(data)
    except ValidationError as e:
        # a KeyProblem raised inside a validator arrives wrapped; unwrap it to keep its key
        for err in e.errors():
            ctx = err.get("ctx", {}).get("error")
            if isinstance(ctx, KeyProblem):
                # its loc is relative to the table that raised it (a model's), unless it names the table
                at = drop_tags(data, err["loc"], tags)
                loc = ctx.loc if ctx.loc[:len(at)] == at else at + ctx.loc
                raise InputError(f"{where(path, text, loc)}: {ctx}") from None
        raise InputError(_validation_message(path, text, e, data, tags, choices)) from None
