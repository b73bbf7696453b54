"""Recording answers: each completion scored, priced and appended to records.jsonl as a Record,
its cell's totals kept; a cell's throughput at its end. The one writer of records, safe to call
from several threads (bench/execute/schedule.py appends each model's cells.jsonl rows)."""

from __future__ import annotations

import dataclasses
import statistics
import threading

from bench import scoring
from bench.core.shapes import as_text
from bench.core.types import Cell, Record
from bench.errors import one_line
from bench.prepare.planning import Plan
from bench.runfolder.store import RECORDS, RunStore
from bench.spend import cost

OUTPUT_CAP_CHARS = 65536  # longer answers are stored cut, with output_capped and their full length


def capped(text: str) -> tuple[str, dict]:
    if len(text) <= OUTPUT_CAP_CHARS:
        return text, {"output_capped": False}
    return text[:OUTPUT_CAP_CHARS], {"output_capped": True, "output_chars": len(text)}


def _text_capped(value) -> str | None:
    text = as_text(value)
    return None if text is None else capped(text)[0]


def _numeric(score: scoring.Score) -> scoring.Score:
    """The score as a float (a user scorer may give an int or a bool); TypeError/ValueError if it is none."""
    lenient = None if score.lenient is None else float(score.lenient)
    return dataclasses.replace(score, value=float(score.value), lenient=lenient)


class Recorder:
    """Turns completions into scored records and appends them; tracks each cell's totals."""

    def __init__(self, store: RunStore, plans: dict[str, Plan], pricing: dict[str, cost.Pricing] | None = None):
        self.store, self.plans, self.pricing = store, plans, pricing or {}
        self._lock = threading.Lock()  # cells' counts and the append, when cells record from several threads

    def _score(self, cell: Cell, p: Plan, ex_id: str, comp: dict) -> scoring.Score:
        """The answer's score (scored whole, stored capped); a failed request or a scorer that
        raises scores 0 with the reason, and is counted on the cell."""
        if comp.get("error"):
            cell.errors += 1
            return scoring.Score(0.0, None, "no output: " + comp["error"], lenient=0.0 if p.lenient else None)
        try:
            return _numeric(p.scorer(comp["text"], p.targets[ex_id], **p.inputs.get(ex_id, {})))
        except Exception as e:  # a scorer bug or an answer it cannot handle: this example only
            cell.score_errors += 1
            cell.reason = cell.reason or f"example {ex_id!r} could not be scored: {one_line(e)}"
            return scoring.Score(0.0, None, f"scoring failed: {one_line(e)}", lenient=0.0 if p.lenient else None)

    def record(self, cell: Cell, example_ids: list[str], completions: list[dict], repeat: int = 0) -> None:
        p = self.plans[cell.task]
        pricing = self.pricing.get(cell.model, cost.Pricing())
        with self._lock:
            rows = []
            for ex_id, comp in zip(example_ids, completions):
                score = self._score(cell, p, ex_id, comp)
                if comp["output_tokens"] is None and not comp.get("error"):
                    cell.tokens_unknown += 1
                cell.output_tokens += comp["output_tokens"] or 0
                cell.tokens_by_repeat[repeat] = cell.tokens_by_repeat.get(repeat, 0) + (comp["output_tokens"] or 0)
                cell.retries += comp.get("retries") or 0
                text, cap = capped(comp["text"])
                record = Record(
                    run_id=self.store.run_id, model=cell.model, task=cell.task, example_id=ex_id, repeat=repeat,
                    prompt_sha256=p.prompt_sha256[ex_id], output=text, **cap,
                    # one JSON type per column (pandas, Parquet): a structured reading is stored as its JSON text
                    extracted=_text_capped(score.extracted), target=p.targets[ex_id], score=score.value,
                    score_lenient=score.lenient, score_reason=str(score.reason),
                    score_details=as_text(score.details), truncated=comp["finish_reason"] == "length",
                    **{k: v for k, v in comp.items() if k != "text"})
                # priced as written; `bench report` re-prices from the same fields
                record.cost_usd = cost.request_cost_usd(record, pricing, cell.concurrency)
                rows.append(record.to_json())
            self.store.append(RECORDS, rows)
            cell.recorded += len(rows)


def throughput(cell: Cell, walls: list[float]) -> None:
    """Cell tokens/s over all repeats, and its spread across repeats."""
    cell.wall_s = sum(walls)
    if cell.tokens_unknown or not cell.output_tokens or cell.wall_s <= 0:
        return
    cell.output_tokens_per_s = cell.output_tokens / cell.wall_s
    per = [cell.tokens_by_repeat.get(r, 0) / w for r, w in enumerate(walls) if w > 0]
    cell.output_tokens_per_s_sd = statistics.stdev(per) if len(per) > 1 else None
