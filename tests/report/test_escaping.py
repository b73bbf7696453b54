"""A tampered run folder cannot inject terminal escapes, raw HTML or line breaks into summary.md or
the terminal: every table (summary, cost, pooled), the title, the notes and `bench recommend`'s lines
carry names from records and the manifest as inert one-line text."""

from __future__ import annotations

import json
import re

from fakerun import api_model, local_model, make_run
from e2e.test_e2e import cli

EVIL = "gpt\x1b[2J<img src=x>\n# injected |x"
EVIL_BOX = "box\x1b[31m<img src=y>\r\n| boxed"
EVIL_TASK = "t\x1b]0;pwn\x07<img src=z>\u2028# task |y"


def tampered_run(tmp_path):
    scores = [1.0] * 18 + [0.0] * 2
    run = make_run(tmp_path / "tampered", {EVIL: api_model(), "small": local_model(hardware=EVIL_BOX)},
                   {(EVIL, EVIL_TASK): scores, ("small", EVIL_TASK): scores[2:] + [0.0, 0.0]},
                   hardware={EVIL_BOX: {"usd_per_hour": 0.36, "usd_per_kwh": None, "description": "x"}})
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["title"] = "Title\x1b[2J<img src=t>\n# injected title"
    manifest["notes"] = ["note\x1b[2J<img src=n>\n# injected note | cell"]
    (run / "manifest.json").write_text(json.dumps(manifest))
    return run


def _pipes(line: str) -> int:
    """The column separators of a Markdown table row: '|' not escaped by a backslash."""
    return re.sub(r"\\.", "", line).count("|")


def test_names_from_a_tampered_run_stay_one_inert_line(tmp_path):
    run = tampered_run(tmp_path)
    proc = cli("report", str(run))
    assert proc.returncode == 0, proc.stderr
    md = (run / "summary.md").read_text(encoding="utf-8")
    assert "\x1b" not in md and "\x07" not in md and "\r" not in md and "\u2028" not in md
    assert "<img" not in md.lower()
    # names sit in table rows, the title, the notes, and the decision's list items and task heading
    assert not [line for line in md.splitlines() if "injected" in line
                and not line.startswith(("|", "# Title", "> note", "- ", "### Task t "))]
    assert not [line for line in md.splitlines() if line.startswith(("- ", "### ")) and _pipes(line)]
    # three tables (decision, summary, cost: one task, so no pooled one), each row with its header's
    # number of separators
    tables: list[list[str]] = []
    previous = ""
    for line in md.splitlines():
        if line.startswith("|"):
            if not previous.startswith("|"):
                tables.append([])
            tables[-1].append(line)
        previous = line
    # then where they disagree: the pairs, the pair's examples
    assert len(tables) == 5, md
    for rows in tables[:3]:
        assert len(rows) == 4, rows  # header, rule, one row per model
    for rows in tables:
        assert len({_pipes(r) for r in rows}) == 1, rows
    assert sum(EVIL_BOX.split("\x1b")[0] in r and "boxed" in r for r in tables[2]) == 1  # priced by, one line
    assert md.count("injected |x") == 0 and md.count("injected \\|x") >= 3  # model: decision, summary, cost (+ vs API)

    out = proc.stdout
    assert "\x1b" not in out and "\x07" not in out and "\r" not in out and "\u2028" not in out
    assert not [line for line in out.splitlines() if line.lstrip().startswith(("# injected", "# task", "| boxed"))]
    for table in out.split("\n\n")[:2]:  # the summary and cost tables: every row one line, as wide as the rule
        lines = table.splitlines()
        assert len(lines) == 4 and len({len(line.rstrip()) for line in lines[:2]}) == 1, table

    rec = cli("recommend", "--task", EVIL_TASK, str(run))
    assert rec.returncode == 0, rec.stderr
    assert "\x1b" not in rec.stdout and "\x07" not in rec.stdout and "\u2028" not in rec.stdout
    assert rec.stdout.count("\n") == len(rec.stdout.splitlines()) and "recommended: " in rec.stdout
    assert not [line for line in rec.stdout.splitlines() if line.lstrip().startswith("# ")]
