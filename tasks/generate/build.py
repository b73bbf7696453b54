"""Rebuild every generated data file of the shipped tasks, byte for byte, from fixed seeds.

    python -m tasks.generate [--out DIR]     (or: python tasks/generate/build.py [--out DIR])
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `tasks.generate` importable from the repo root
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    __package__ = "tasks.generate"

from tasks.generate import emails, invoices, order_math, pii, reviews, sql, tickets  # noqa: E402
from tasks.generate.common import dumps  # noqa: E402

# one seed per generator, so changing one task's generator never changes another task's data
GENERATORS = {"ticket_routing": (tickets, 1001), "review_sentiment": (reviews, 1002), "invoice_fields": (invoices, 1003),
              "order_math": (order_math, 1004), "pii_redaction": (pii, 1005), "email_summary": (emails, 1006),
              "text_to_sql": (sql, 1007)}
DATA = Path(__file__).resolve().parents[1] / "data"


def files() -> dict[str, str]:
    """File name -> exact text, for every generated file."""
    out: dict[str, str] = {}
    for module, seed in GENERATORS.values():
        for name, content in module.build(random.Random(seed)).items():
            out[name] = content if isinstance(content, str) else dumps(content)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DATA, help=f"folder to write into (default {DATA})")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in files().items():
        (args.out / name).write_text(text, encoding="utf-8", newline="\n")
        print(f"{args.out / name}: {text.count(chr(10))} lines, {len(text.encode())} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
