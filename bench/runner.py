"""Model x task cells, their plans and their records: the parent scores every completion and is the
only writer of results (bench/local_runner.py and bench/api_runner.py run the cells)."""

from __future__ import annotations

import dataclasses
import sys
import threading
from dataclasses import dataclass, field

from bench import cost, scoring, tasks
from bench.backends.base import Request
from bench.errors import InputError, one_line
from bench.shapes import as_text
from bench.store import RECORDS, RunStore


@dataclass
class Cell:
    """The outcome of one (model, task) cell as written to cells.jsonl."""

    model: str
    task: str
    status: str = "pending"  # ok | partial (some examples failed or could not be scored) | failed (crashed
    #                           while running, or not one answer) | skipped (could not load) | no_key | stopped
    #                           (--max-usd reached before every request was sent)
    reason: str | None = None
    n: int = 0  # examples planned
    resumed_examples: int = 0  # (example, repeat) records kept from before a resume; figures below cover the rest
    repeats: int = 1  # times each example ran (timing statistics use them all, accuracy the first)
    recorded: int = 0  # records written
    errors: int = 0
    score_errors: int = 0  # answers the scorer raised on (scored 0, the reason in the record)
    retries: int = 0  # failed attempts that were retried (API models)
    output_tokens: int = 0  # known output tokens of the cell
    tokens_unknown: int = 0  # answers whose token count nobody reported (no usage, no tokenizer)
    wall_s: float | None = None  # first batch start to last batch end in the worker; load excluded
    output_tokens_per_s: float | None = None
    output_tokens_per_s_sd: float | None = None  # spread of the per-repeat figures (sample sd, >= 2 repeats)
    tokens_by_repeat: dict = field(default_factory=dict)  # repeat -> known output tokens
    load_s: float | None = None
    cold_start_s: float | None = None  # the model's untimed warm-up batch (local models)
    weights_bytes: int | None = None  # the loaded model's parameters and buffers
    batch_size: int | None = None  # static engine: rows per generate(); continuous: requests in flight
    engine: str | None = None  # local models: static | continuous (docs/models.md)
    batch_size_used: int | None = None  # the smallest batch size that fitted (halved after out-of-memory)
    concurrency: int | None = None  # requests in flight (API models)
    client_lag_p99_s: float | None = None  # p99 event-loop lag of the API client; > 10 ms means client-bound
    client_lag_samples: int | None = None  # how many 5 ms ticks that p99 is over
    device: str | None = None
    dtype: str | None = None
    # memory, in bytes, one column per meter (shapes.MEMORY_COLUMNS, docs/metrics.md); None: not measured
    peak_rss_bytes: int | None = None
    nvml_used_peak_bytes: int | None = None
    torch_allocated_bytes: int | None = None
    torch_allocated_peak_bytes: int | None = None
    torch_reserved_peak_bytes: int | None = None
    energy_j: float | None = None  # energy counter delta over the cell's generation; None: unavailable
    energy_source: str | None = None  # which counter measured energy_j (None when none did)
    energy_unavailable_reason: str | None = None  # why energy_j is None, when a meter was tried
    joules_per_output_token: float | None = None
    gpu_other_processes: int | None = None  # other processes on the GPU when the cell started (None: no NVML)
    gpu_other_pids: str | None = None  # their pids, space-separated ("" for none; None: no NVML)
    # served models: the server's own figures over the cell (servermetrics.summary), written flat as
    # server_* columns so that cells.jsonl keeps one type per column
    server_metrics: dict | None = None

    def row(self, run_id: str) -> dict:
        """The cell as written to cells.jsonl: one JSON type per column (bookkeeping for the spread
        across repeats left out)."""
        row = {k: v for k, v in self.__dict__.items() if k not in ("tokens_by_repeat", "server_metrics")}
        return {"run_id": run_id, **row, **server_columns(self.server_metrics)}

    def finish(self, first_error: str | None = None) -> None:
        """Status and reason of a cell that ran to its end, from its counts; records kept from an
        earlier session count as answered."""
        answered = self.resumed_examples + self.recorded - self.errors
        self.status = status_of(answered, self.errors, self.score_errors)
        if self.status == "failed":
            self.reason = f"every request failed; first error: {first_error}"
        elif self.errors:
            self.reason = failed_reason(self.errors, first_error)


def server_columns(metrics: dict | None) -> dict:
    """A served cell's server metrics as flat columns: server_running_mean, server_ttft_p95_s, ...;
    where they came from as server_metrics_url, or why there are none as server_metrics_unavailable."""
    names = {"source": "server_metrics_url", "unavailable": "server_metrics_unavailable"}
    return {names.get(k, f"server_{k}"): v for k, v in (metrics or {}).items()}


def status_of(answered: int, failed: int, score_errors: int) -> str:
    """The status of a cell that ran to its end (the one rule, for a run and for its resumption):
    failed when no example has an answer, partial when any example failed (no answer after the
    retries) or could not be scored, else ok."""
    if answered <= 0:
        return "failed"
    return "partial" if failed or score_errors else "ok"


def failed_reason(failed: int, first_error: str | None) -> str:
    return f"{failed} example(s) got no answer (first error: {first_error}); --resume runs them again"


@dataclass
class Plan:
    requests: list[Request]
    targets: dict[str, str]  # example id -> reference answer
    prompt_sha256: dict[str, str]  # example id -> hash of the rendered messages
    scorer: scoring.Scorer
    inputs: dict[str, dict] = field(default_factory=dict)  # example id -> options/facts for the scorer
    lenient: bool = False  # the scorer gives a lenient score beside the strict one (label)


def plan(data: tasks.TaskData) -> Plan:
    """Every prompt rendered and every target checked, so that a bad template or reference answer
    stops the run before a model loads (InputError naming the task file and the example)."""
    spec = data.task.spec
    sc = spec.score
    requests, targets, hashes, inputs = [], {}, {}, {}
    base = data.task.path.parent
    try:
        scorer = scoring.from_spec(sc, base)
    except (ValueError, OSError, UnicodeDecodeError) as e:  # a user scorer that stopped importing, a bad .sql
        raise InputError(f"{data.task.path}: key 'score': cannot build scorer {sc.scorer!r}: {e}") from None
    for ex in data.examples:
        try:
            messages = tasks.render(data, ex)
            targets[ex.id] = tasks.target(data, ex)
            inputs[ex.id] = tasks.score_inputs(data, ex)
        except (KeyError, IndexError, ValueError, AttributeError, TypeError) as e:
            raise InputError(f"{data.task.path}: example {ex.id!r}: a template cannot be filled "
                             f"({type(e).__name__}: {e}); check the {{field}} placeholders and format specs") from None
        problem = scoring.target_problem(sc, targets[ex.id], base, inputs[ex.id])
        if problem:
            raise InputError(f"{data.task.path}: example {ex.id!r}: {problem} (scorer {sc.scorer!r}); "
                             f"fix the data or the [score] table")
        requests.append(Request(ex.id, messages, spec.generation.max_new_tokens, tuple(spec.generation.stop)))
        hashes[ex.id] = tasks.messages_sha256(messages)
    return Plan(requests, targets, hashes, scorer, {k: v for k, v in inputs.items() if v}, sc.scorer == "label")


def batches(requests: list[Request], size: int) -> list[list[Request]]:
    """Consecutive batches in example order (no length sorting: a batch is reproducible)."""
    return [requests[i:i + size] for i in range(0, len(requests), size)]


def missing(requests: list[Request], repeats: int, done: set[tuple[str, int]]) -> list[list[Request]]:
    """Per repeat, the requests not yet recorded (a resumed run runs only these)."""
    return [[r for r in requests if (r.example_id, rep) not in done] for rep in range(repeats)]


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

    def record(self, cell: Cell, example_ids: list[str], completions: list[dict], repeat: int = 0) -> None:
        p = self.plans[cell.task]
        rows = []
        for ex_id, comp in zip(example_ids, completions):
            target = p.targets[ex_id]
            text, cap = capped(comp["text"])
            if comp.get("error"):
                score = scoring.Score(0.0, None, "no output: " + comp["error"], lenient=0.0 if p.lenient else None)
                cell.errors += 1
            else:
                try:  # scored on the whole answer, stored capped
                    score = _numeric(p.scorer(comp["text"], target, **p.inputs.get(ex_id, {})))
                except Exception as e:  # a scorer bug or an answer it cannot handle: this example only
                    score = scoring.Score(0.0, None, f"scoring failed: {one_line(e)}", lenient=0.0 if p.lenient else None)
                    cell.score_errors += 1
                    cell.reason = cell.reason or f"example {ex_id!r} could not be scored: {one_line(e)}"
            if comp["output_tokens"] is None and not comp.get("error"):
                cell.tokens_unknown += 1
            cell.output_tokens += comp["output_tokens"] or 0
            cell.tokens_by_repeat[repeat] = cell.tokens_by_repeat.get(repeat, 0) + (comp["output_tokens"] or 0)
            cell.retries += comp.get("retries") or 0
            rows.append({
                "run_id": self.store.run_id, "model": cell.model, "task": cell.task, "example_id": ex_id,
                "repeat": repeat, "prompt_sha256": p.prompt_sha256[ex_id],
                "output": text, **cap,
                # one JSON type per column (pandas, Parquet): a structured reading is stored as its JSON text
                "extracted": _text_capped(score.extracted), "target": target,
                "score": score.value, **({} if score.lenient is None else {"score_lenient": score.lenient}),
                "score_reason": str(score.reason), "score_details": as_text(score.details),
                "truncated": comp["finish_reason"] == "length",
                **{k: v for k, v in comp.items() if k != "text"},
            })
        for row in rows:  # priced as written; `bench report` re-prices from the same fields
            row["cost_usd"] = cost.request_cost_usd(row, self.pricing.get(cell.model, cost.Pricing()), cell.concurrency)
        self.store.append(RECORDS, rows)
        cell.recorded += len(rows)


def throughput(cell: Cell, walls: list[float]) -> None:
    """Cell tokens/s over all repeats, and its spread across repeats."""
    import statistics

    cell.wall_s = sum(walls)
    if cell.tokens_unknown or not cell.output_tokens or cell.wall_s <= 0:
        return
    cell.output_tokens_per_s = cell.output_tokens / cell.wall_s
    per = [cell.tokens_by_repeat.get(r, 0) / w for r, w in enumerate(walls) if w > 0]
    cell.output_tokens_per_s_sd = statistics.stdev(per) if len(per) > 1 else None


def stderr_progress(total: int, desc: str):
    """A live bar on a terminal; in a file or a pipe (CI logs), one line per finished cell instead
    of the bar's carriage-return frames."""
    if getattr(sys.stderr, "isatty", lambda: False)():
        from tqdm import tqdm

        return tqdm(total=total, desc=desc, unit="ex", file=sys.stderr, leave=True, dynamic_ncols=True)
    return LineProgress(total, desc)


_PRINTING = threading.Lock()


class LineProgress:
    """The progress bar's interface (update, set_postfix, close), printing one line when closed:
    'model x task: 16/16 examples (retries=3)'. No time: a local cell's bar starts at its first
    batch, so its span would understate the cell; the table has the cell's wall time."""

    def __init__(self, total: int, desc: str):
        self.total, self.desc, self.n, self.postfix, self._closed = total, desc, 0, {}, False

    def update(self, n: int = 1) -> None:
        self.n += n

    def set_postfix(self, values: dict, refresh: bool = True) -> None:
        self.postfix = dict(values)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        extra = ", ".join(f"{k}={v}" for k, v in self.postfix.items() if v)
        line = f"{self.desc}: {self.n}/{self.total} examples" + (f" ({extra})" if extra else "")
        with _PRINTING:  # models running at once close their cells from several threads: whole lines
            sys.stderr.write(line + "\n")
            sys.stderr.flush()
