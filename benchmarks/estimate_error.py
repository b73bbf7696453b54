"""How far the plan's estimate (bench/spend/estimate.py: characters / 4) is from a real tokenizer's count,
on the shipped tasks: input tokens, expected output tokens and the expected cost, per task.

A real tokenizer is not a dependency of the project (tiktoken downloads its encodings at first use),
so the counting is done outside it, in two steps:

    python benchmarks/estimate_error.py dump texts.jsonl          # every message and reference answer
    # count each line's "text" with the tokenizer you want, one {"tokens": N} line per input line, e.g.
    # o200k_base (GPT-4o, GPT-5) with the npm package gpt-tokenizer:
    #   npm install gpt-tokenizer && node -e 'const {encode}=require("gpt-tokenizer/cjs/encoding/o200k_base");
    #   for (const l of require("fs").readFileSync(process.argv[1],"utf8").trim().split("\n"))
    #   console.log(JSON.stringify({tokens: encode(JSON.parse(l).text).length}))' texts.jsonl > counts.jsonl
    python benchmarks/estimate_error.py report texts.jsonl counts.jsonl

The real input of a request is its messages' tokens plus OpenAI's documented chat overhead (3 per
message, 3 to prime the reply); the real output is the reference answer's tokens plus the one that
ends it (a model that answers exactly the reference). Costs at gpt-5_4-mini's prices in models.toml.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.execute.options import Options, prepare_tasks  # noqa: E402
from bench.spend import estimate  # noqa: E402

TASKS = ["ticket_routing", "review_sentiment", "invoice_fields", "order_math", "text_to_sql", "pii_redaction",
         "email_summary"]
USD_IN, USD_OUT = 0.75, 4.50  # per 1M tokens
CHAT_PER_MESSAGE, CHAT_REPLY = 3, 3


def dump(out: Path) -> None:
    _, plans, _ = prepare_tasks(Options(tasks_dir=ROOT / "tasks", tasks=",".join(TASKS)))
    with out.open("w", encoding="utf-8") as f:
        for task, p in plans.items():
            for r in p.requests:
                for m in r.messages:
                    f.write(json.dumps({"task": task, "id": r.example_id, "kind": "message", "text": m["content"]}) + "\n")
                f.write(json.dumps({"task": task, "id": r.example_id, "kind": "target", "text": p.targets[r.example_id],
                                    "max_new_tokens": r.max_new_tokens}) + "\n")


def report(texts: Path, counts: Path) -> None:
    rows = [json.loads(x) for x in texts.read_text(encoding="utf-8").splitlines()]
    tokens = [json.loads(x)["tokens"] for x in counts.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == len(tokens), "one count per text line"
    per: dict[str, dict] = {}
    for row, n in zip(rows, tokens):
        t = per.setdefault(row["task"], {"est_in": 0, "real_in": 0, "est_out": 0, "real_out": 0, "ids": set()})
        t["ids"].add(row["id"])
        if row["kind"] == "message":
            t["est_in"] += estimate.text_tokens(row["text"]) + estimate.MESSAGE_OVERHEAD_TOKENS
            t["real_in"] += n + CHAT_PER_MESSAGE
        else:
            t["est_in"] += estimate.REPLY_OVERHEAD_TOKENS
            t["real_in"] += CHAT_REPLY
            t["est_out"] += estimate.output_expected(row["text"], row["max_new_tokens"])
            t["real_out"] += min(row["max_new_tokens"], n + 1)
    print("| task | requests | input est / real | output est / real | expected cost est / real |")
    print("|---|---|---|---|---|")
    totals = {"est": 0.0, "real": 0.0}
    for task, t in per.items():
        est = (t["est_in"] * USD_IN + t["est_out"] * USD_OUT) / 1e6
        real = (t["real_in"] * USD_IN + t["real_out"] * USD_OUT) / 1e6
        totals["est"] += est
        totals["real"] += real
        print(f"| {task} | {len(t['ids'])} | {t['est_in']:,} / {t['real_in']:,} ({_pct(t['est_in'], t['real_in'])}) | "
              f"{t['est_out']:,} / {t['real_out']:,} ({_pct(t['est_out'], t['real_out'])}) | "
              f"${est:.4f} / ${real:.4f} ({_pct(est, real)}) |")
    print(f"| all | | | | ${totals['est']:.4f} / ${totals['real']:.4f} ({_pct(totals['est'], totals['real'])}) |")


def _pct(est: float, real: float) -> str:
    return f"{100 * (est - real) / real:+.0f}%"


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "dump":
        dump(Path(sys.argv[2]))
    elif len(sys.argv) == 4 and sys.argv[1] == "report":
        report(Path(sys.argv[2]), Path(sys.argv[3]))
    else:
        sys.exit(__doc__)
