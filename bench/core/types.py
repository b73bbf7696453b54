"""The core data of a run: a record (one answer), a cell (one model on one task), a summary row,
usage, and the helpers every reader shares. Each type is read from and written to its JSON line
or CSV row in one place; the meaning and unit of every field is in docs/metrics.md."""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from typing import Iterable

from bench.core.pricing import CellCost, Pricing


def _plus(a, b):
    """A sum that stays unknown (None) when either part is."""
    return None if a is None or b is None else a + b


@dataclass(frozen=True)
class Usage:
    """What one request (or, summed, many) used and cost; `sum(usages)` totals them."""

    input_tokens: int | None = 0  # prompt tokens, cached ones included; None: unknown
    cached_input_tokens: int = 0  # prompt tokens served from the provider's cache (part of input_tokens)
    output_tokens: int | None = 0  # generated tokens, hidden reasoning included; None: unknown
    reasoning_tokens: int = 0  # hidden reasoning tokens (part of output_tokens, billed as output)
    cost_usd: float | None = 0.0  # USD with the run's prices; None: a price or a count is unknown

    def __add__(self, other: Usage) -> Usage:
        return Usage(*(_plus(getattr(self, f.name), getattr(other, f.name)) for f in dataclasses.fields(self)))

    def __radd__(self, other) -> Usage:  # sum() starts from 0
        return self if other == 0 else NotImplemented


# records.jsonl keys written only when they hold a value (capped answers, label tasks, local or served models)
_ONLY_WHEN_SET = ("output_chars", "score_lenient", "batch_wall_s", "batch_wall_rows", "wall_share_s")


@dataclass
class Record:
    """One line of records.jsonl: one answer to one example, scored and priced."""

    run_id: str  # the run folder's name
    model: str  # name in models.toml
    task: str  # the task file's name
    example_id: str  # the example's stable id, always a string
    repeat: int = 0  # 0 for the first run of an example; 1.. for --repeats
    prompt_sha256: str | None = None  # SHA-256 of the rendered chat messages
    output: str = ""  # generated text cut before the first stop string, stored capped; "" when failed
    output_capped: bool = False  # the stored output was cut to OUTPUT_CAP_CHARS
    output_chars: int | None = None  # full length of a capped answer (capped records only)
    extracted: str | None = None  # what the scorer read, as text (JSON text for structured readings)
    target: str | None = None  # the reference answer as the scorer takes it
    score: float = 0.0  # 1.0 correct, 0.0 wrong, a fraction for partial credit
    score_lenient: float | None = None  # label tasks: the first label mentioned
    score_reason: str = ""  # why, in one short phrase
    score_details: str | None = None  # per-field or per-fact results as JSON text
    truncated: bool = False  # finish_reason is "length"
    input_tokens: int | None = None  # prompt tokens (no padding); None when unknown
    output_tokens: int | None = None  # generated tokens up to and including the last; None when unknown
    cached_input_tokens: int = 0  # prompt tokens served from the provider's cache
    reasoning_tokens: int = 0  # hidden reasoning tokens (part of output_tokens)
    ttft_s: float | None = None  # s, request sent to first non-empty token
    ttft_answer_s: float | None = None  # s, request sent to first non-empty answer token
    latency_s: float | None = None  # s, request sent to last token (final attempt)
    tpot_s: float | None = None  # s, time per output token after the first
    queue_s: float | None = None  # s, waiting for a slot before the first attempt
    finish_reason: str = "stop"  # stop | length | error
    token_source: str = "tokenizer"  # server | tokenizer | none: who counted the tokens
    batch_size: int = 1  # requests generated together with this one
    retries: int = 0  # failed attempts before the final one
    retry_wait_s: float = 0.0  # s, failed attempts and backoff sleeps
    error: str | None = None  # "ErrorClass: message" when the request failed
    batch_wall_s: float | None = None  # s, local: wall time of the request's batch (cost is split over its rows)
    batch_wall_rows: int | None = None  # local: the rows batch_wall_s is split over
    wall_share_s: float | None = None  # s, served: the cell's wall time since the previous answer
    cost_usd: float | None = None  # USD with the run's prices; None when a price or a count is unknown

    @classmethod
    def from_json(cls, row: dict) -> Record:
        """A records.jsonl line (already in today's shape, bench.runfolder.migrate); keys it does not know are ignored."""
        known = {k: v for k, v in row.items() if k in _RECORD_FIELDS}
        return cls(**{**known, "example_id": str(row["example_id"]), "repeat": int(row.get("repeat") or 0)})

    def to_json(self) -> dict:
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None or k not in _ONLY_WHEN_SET}

    @property
    def details(self) -> dict:
        """score_details read back as a dict; {} when there are none."""
        try:
            value = json.loads(self.score_details) if isinstance(self.score_details, str) else None
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}

    @property
    def usage(self) -> Usage:
        return Usage(self.input_tokens, self.cached_input_tokens or 0, self.output_tokens, self.reasoning_tokens or 0,
                     self.cost_usd)


_RECORD_FIELDS = {f.name for f in dataclasses.fields(Record)}


def by_cell(records: Iterable[Record]) -> dict[tuple[str, str], list[Record]]:
    """Records grouped by (model, task), in the order they came."""
    out: dict[tuple[str, str], list[Record]] = {}
    for r in records:
        out.setdefault((r.model, r.task), []).append(r)
    return out


def first_repeat(records: Iterable[Record]) -> list[Record]:
    """The records of each example's first run: accuracy and counts use these, timing every repeat."""
    return [r for r in records if r.repeat == 0]


def first_scores(records: Iterable[Record]) -> dict[str, float]:
    """Example id -> score of the first repeat (for paired comparisons)."""
    return {r.example_id: float(r.score) for r in first_repeat(records)}


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

    @classmethod
    def from_json(cls, row: dict) -> Cell:
        """A cells.jsonl line (in today's shape, bench.runfolder.migrate): the inverse of row()."""
        names = {v: k for k, v in _SERVER_NAMES.items()}
        server = {names.get(k, k[len("server_"):]): v for k, v in row.items() if k.startswith("server_")}
        known = {k: v for k, v in row.items() if k in _CELL_FIELDS and k not in ("tokens_by_repeat", "server_metrics")}
        return cls(**known, server_metrics=server or None)

    def finish(self, first_error: str | None = None) -> None:
        """Status and reason of a cell that ran to its end, from its counts; records kept from an
        earlier session count as answered."""
        answered = self.resumed_examples + self.recorded - self.errors
        self.status = status_of(answered, self.errors, self.score_errors)
        if self.status == "failed":
            self.reason = f"every request failed; first error: {first_error}"
        elif self.errors:
            self.reason = failed_reason(self.errors, first_error)


_CELL_FIELDS = {f.name for f in dataclasses.fields(Cell)}
_SERVER_NAMES = {"source": "server_metrics_url", "unavailable": "server_metrics_unavailable"}


def server_columns(metrics: dict | None) -> dict:
    """A served cell's server metrics as flat columns: server_running_mean, server_ttft_p95_s, ...;
    where they came from as server_metrics_url, or why there are none as server_metrics_unavailable."""
    return {_SERVER_NAMES.get(k, f"server_{k}"): v for k, v in (metrics or {}).items()}


def status_of(answered: int, failed: int, score_errors: int) -> str:
    """The status of a cell that ran to its end (the one rule, for a run and for its resumption):
    failed when no example has an answer, partial when any example failed (no answer after the
    retries) or could not be scored, else ok."""
    if answered <= 0:
        return "failed"
    return "partial" if failed or score_errors else "ok"


def failed_reason(failed: int, first_error: str | None) -> str:
    return f"{failed} example(s) got no answer (first error: {first_error}); --resume runs them again"


_COST = {"columns": "cost"}  # summary.csv's cost columns (docs/cost.md): set when the report prices the row
_NOT_A_COLUMN = {"columns": None}


@dataclass
class SummaryRow:
    """One row of summary.csv: a cell's figures recomputed from its records (docs/metrics.md, "Summary"),
    then, once priced, its cost (docs/cost.md). Fields in column order; the last three are not columns."""

    model: str  # name in models.toml
    task: str  # the task file's name
    status: str  # as in cells.jsonl
    n: int  # records of the cell's first repeat
    accuracy: float = math.nan  # fraction 0-1: mean score of the first repeat, errors as 0; nan: no records
    ci_low: float = math.nan  # fraction 0-1: lower bound of the accuracy's 95% interval
    ci_high: float = math.nan  # fraction 0-1: upper bound of the accuracy's 95% interval
    ci_method: str = ""  # wilson (every score 0 or 1) | bootstrap (otherwise) | "" (no records)
    accuracy_lenient: float | None = None  # fraction 0-1, label tasks: mean score_lenient, errors as 0
    accuracy_strict: float | None = None  # fraction 0-1, label tasks scoring the lenient reading: the whole answer
    valid_json: float | None = None  # fraction 0-1, json_fields and span_f1: outputs holding the JSON value
    fact_recall: float | None = None  # fraction 0-1, rouge_l with facts: mean share of key facts found
    truncated: int = 0  # first-repeat records with finish_reason = length
    errors: int = 0  # first-repeat records with an error
    retries: int = 0  # sum of the first-repeat records' retries
    latency_mean_s: float = math.nan  # s, over the requests of every repeat, errored ones excluded
    latency_p50_s: float = math.nan  # s, same population
    latency_p90_s: float = math.nan  # s, same population
    latency_p95_s: float = math.nan  # s, same population
    latency_p99_s: float = math.nan  # s, same population
    ttft_p50_s: float = math.nan  # s, requests of every repeat with a ttft
    ttft_p90_s: float = math.nan  # s, same population
    ttft_p95_s: float = math.nan  # s, same population
    ttft_p99_s: float = math.nan  # s, same population
    tpot_p50_s: float = math.nan  # s per token, requests of every repeat with a tpot
    timed_requests: int = 0  # records with a latency, all repeats
    repeats: int = 1  # as in cells.jsonl
    output_tokens: int = 0  # over all repeats (the population of output_tokens_per_s)
    output_tokens_per_s: float | None = None  # from here to dtype: from the cell, as in cells.jsonl
    output_tokens_per_s_sd: float | None = None
    batch_size: int | None = None
    engine: str | None = None
    load_s: float | None = None
    cold_start_s: float | None = None
    weights_bytes: int | None = None
    peak_rss_bytes: int | None = None
    torch_allocated_peak_bytes: int | None = None
    torch_reserved_peak_bytes: int | None = None
    nvml_used_peak_bytes: int | None = None
    energy_j: float | None = None
    joules_per_output_token: float | None = None
    energy_source: str | None = None
    energy_unavailable_reason: str | None = None
    gpu_other_processes: int | None = None
    client_lag_p99_s: float | None = None
    client_lag_samples: int | None = None
    device: str | None = None
    dtype: str | None = None
    reason: str = ""  # why the cell did not finish ("" when it did)
    cost_usd: float | None = field(default=None, metadata=_COST)  # USD, every record of every repeat
    usd_per_1k_requests: float | None = field(default=None, metadata=_COST)  # USD, 1000 x cost_usd / records
    usd_per_mtok_out: float | None = field(default=None, metadata=_COST)  # USD per 1M output tokens
    usd_per_correct: float | None = field(default=None, metadata=_COST)  # USD per request / accuracy
    energy_usd: float | None = field(default=None, metadata=_COST)  # USD, energy_j x usd_per_kwh (never added)
    requests_per_s: float | None = field(default=None, metadata=_COST)  # requests/s one machine serves (hourly)
    capacity_source: str | None = field(default=None, metadata=_COST)  # "sweep <id>: ..." or "run"
    break_even_vs: str | None = field(default=None, metadata=_COST)  # the API model weighed against
    break_even_requests_per_month: float | None = field(default=None, metadata=_COST)  # requests a month
    self_hosted_cheaper_from_per_month: float | None = field(default=None, metadata=_COST)  # requests a month
    price_source: str | None = field(default=None, metadata=_COST)  # the run (or --config file) priced from
    prices_as_of: str | None = field(default=None, metadata=_COST)  # YYYY-MM-DD of the prices
    run_id: str | None = field(default=None, metadata=_COST)  # the run the cell came from
    gpu_other_pids: str | None = field(default=None, metadata=_NOT_A_COLUMN)  # as in cells.jsonl (warnings)
    cost: CellCost | None = field(default=None, metadata=_NOT_A_COLUMN)  # the cell's cost figures, once priced
    pricing: Pricing | None = field(default=None, metadata=_NOT_A_COLUMN)  # how the model is priced, once priced


def _columns(group: str) -> list[str]:
    return [f.name for f in dataclasses.fields(SummaryRow) if f.metadata.get("columns", "summary") == group]


SUMMARY_COLUMNS = _columns("summary")  # summary.csv without prices (a run whose report failed)
COST_COLUMNS = _columns("cost")  # appended to them once the report prices the rows


@dataclass
class PooledRow:
    """One model over the tasks every model finished, their examples pooled (the report's pooled table)."""

    model: str  # name in models.toml
    pooled_tasks: list[str]  # the tasks pooled: those every model finished
    tasks_reported: int  # tasks in the report
    n: int  # first-repeat records pooled
    accuracy: float  # fraction 0-1, mean first-repeat score
    ci_low: float  # fraction 0-1, 95% interval
    ci_high: float  # fraction 0-1
    ci_method: str  # wilson | bootstrap
    latency_p95_s: float  # s, over every repeat's requests
    usd_per_1k_requests: float | None  # USD, each task's records priced at its cell's concurrency
    usd_per_correct: float | None  # USD per request / accuracy
    pricing: Pricing  # how the model is priced

    @property
    def tasks(self) -> int:
        return len(self.pooled_tasks)
