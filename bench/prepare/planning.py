"""Planning a cell before any model loads: every prompt rendered and every target checked, then the
requests cut into batches, and on a resume only those not yet recorded."""

from __future__ import annotations

from dataclasses import dataclass, field

from bench import scoring
from bench.backends.base import Request
from bench.errors import InputError
from bench.prepare import tasks


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
    return Plan(requests, targets, hashes, scorer, {k: v for k, v in inputs.items() if v}, sc.gives_lenient)


def batches(requests: list[Request], size: int) -> list[list[Request]]:
    """Consecutive batches in example order (no length sorting: a batch is reproducible)."""
    return [requests[i:i + size] for i in range(0, len(requests), size)]


def missing(requests: list[Request], repeats: int, done: set[tuple[str, int]]) -> list[list[Request]]:
    """Per repeat, the requests not yet recorded (a resumed run runs only these)."""
    return [[r for r in requests if (r.example_id, rep) not in done] for rep in range(repeats)]

