"""Spending safely, through the CLI against the local test server: the plan and --dry-run (nothing
sent, no folder), the estimate against a finished run's cost, the --max-usd cap at concurrency > 1
and its resume, the confirmation threshold, and the bad inputs."""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import TASKS
from e2e.test_e2e import cli
from fakeapi import FakeAPI, pretokens

from bench.backends.base import Request
from bench.errors import InputError
from bench.spend import budget, estimate
from bench.spend.cost import Pricing

pytest.importorskip("openai")

KEY = "sk-budget-test-0123456789"
LOCAL_TASKS = ["ticket_routing", "review_sentiment", "invoice_fields", "order_math", "text_to_sql",
               "pii_redaction", "email_summary"]
IN, OUT = 0.25, 2.0  # USD per 1M tokens, as in the test config


def targets_by_prompt(tasks: list[str], limit: int | None = None) -> dict[str, str]:
    """The reference answer of every rendered prompt: a fake model that answers exactly that."""
    from bench.execute.options import Options, prepare_tasks

    _, plans, _ = prepare_tasks(Options(tasks_dir=TASKS, tasks=",".join(tasks), limit=limit))
    return {json.dumps(r.messages): p.targets[r.example_id] for p in plans.values() for r in p.requests}


def models_toml(tmp_path: Path, api: FakeAPI, **options) -> str:
    extra = "".join(f"{k} = {json.dumps(v)}\n" for k, v in options.items())
    text = (f'[models.gpt-fake]\nbackend = "openai"\nmodel = "gpt-fake"\nbase_url = "{api.base_url}"\n'
            f'api_key_env = "BUDGET_KEY"\nbackoff_s = 0.01\nusd_per_mtok_in = {IN}\nusd_per_mtok_out = {OUT}\n'
            f'prices_as_of = "2026-11-01"\n{extra}')
    path = tmp_path / "models.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def bench(*args: str):
    return cli(*args, BUDGET_KEY=KEY)


def records(folder: Path) -> list[dict]:
    return [json.loads(x) for x in (folder / "records.jsonl").read_text().splitlines()]


def totals(plan_stdout: str) -> tuple[float, float]:
    """The plan's expected and worst-case totals."""
    m = re.search(r"total \(per-token priced\).*?\$([0-9.]+)\s+\$([0-9.]+)", plan_stdout)
    return float(m.group(1)), float(m.group(2))


def worst_request_usd(tasks: list[str]) -> float:
    from bench.execute.options import Options, prepare_tasks

    _, plans, _ = prepare_tasks(Options(tasks_dir=TASKS, tasks=",".join(tasks)))
    spec = SimpleNamespace(backend="openai", max_tokens=None, thinking_budget_tokens=None)
    g = budget.Gate(budget.Budget(1.0), spec, Pricing(usd_per_mtok_in=IN, usd_per_mtok_out=OUT))
    return max(g.worst_usd(r) for p in plans.values() for r in p.requests)


def spent(stderr: str) -> float:
    return float(re.search(r"spent \$([0-9.]+) of --max-usd", stderr).group(1))


def test_dry_run_sends_nothing_and_makes_no_folder(tmp_path):
    with FakeAPI() as api:
        proc = bench("--config", models_toml(tmp_path, api), "--tasks-dir", str(TASKS), "--tasks",
                     "ticket_routing,order_math", "--out", str(tmp_path / "res"), "--dry-run")
        assert api.log == []  # not even the warm-up
    assert proc.returncode == 0, proc.stderr
    assert not (tmp_path / "res").exists()
    assert "gpt-fake" in proc.stdout and "519 +1 warm-up" in proc.stdout  # 264 + 255 examples
    assert "dry run: nothing was sent" in proc.stdout


def test_the_estimate_is_within_its_documented_error_of_the_actual_cost(tmp_path):
    """Every shipped local task, a fake model answering exactly the reference answer: the plan's
    expected cost against the cost the server's usage gave (docs/cost.md, "Measured error"). The
    test server counts words, not characters, so this checks the estimate's plumbing (requests,
    warm-ups, prices, output rule) end to end; the real tokenizer's error is measured apart."""
    answers = targets_by_prompt(LOCAL_TASKS, limit=20)
    with FakeAPI(reply=lambda messages: answers[json.dumps(messages)], count_tokens=pretokens) as api:
        cfg = models_toml(tmp_path, api, concurrency=8, max_tokens=512)
        args = ["--config", cfg, "--tasks-dir", str(TASKS), "--tasks", ",".join(LOCAL_TASKS), "--limit", "20",
                "--out", str(tmp_path / "res")]
        plan = bench(*args, "--dry-run")
        proc = bench(*args, "--max-usd", "10")
    assert proc.returncode == 0, proc.stderr
    expected, worst = totals(plan.stdout)
    actual = spent(proc.stderr)
    (folder,) = (tmp_path / "res").iterdir()
    recs = records(folder)
    assert len(recs) == 140 and all(r["extracted"] is not None or r["score"] >= 0 for r in recs)
    assert sum(r["cost_usd"] for r in recs) <= actual  # the spend also counts the warm-up
    assert actual <= worst  # the worst case is an upper bound
    print(f"expected ${expected:.6f}, actual ${actual:.6f}, worst ${worst:.6f}")  # for docs/cost.md
    assert abs(expected - actual) / actual <= 0.30, (expected, actual)  # docs/cost.md, "Measured error"


def test_the_cap_is_never_crossed_and_a_resume_finishes_every_example_once(tmp_path):
    """Concurrency 8, a cap that stops the run about halfway: exit 6, the spend under the cap (and
    not far under: at most the requests in flight), nothing sent that was not recorded; then a
    resume with a new cap finishes with every example recorded once and sent once."""
    answers = targets_by_prompt(["ticket_routing"])
    with FakeAPI(ttft_s=0.01, reply=lambda m: answers[json.dumps(m)]) as api:
        cfg = models_toml(tmp_path, api, concurrency=8)
        args = ["--config", cfg, "--tasks-dir", str(TASKS), "--tasks", "ticket_routing", "--out", str(tmp_path / "res")]
        plan = bench(*args, "--dry-run")
        expected, _ = totals(plan.stdout)
        cap = round(expected / 2, 6)  # reservations are worst cases, but they are settled as answers come
        proc = bench(*args, "--max-usd", str(cap))
        sent_first = len(api.log)
        (folder,) = (tmp_path / "res").iterdir()
        first = records(folder)
        assert proc.returncode == 6, proc.stderr
        assert f"resume with: python -m bench --resume {folder} --max-usd" in proc.stderr
        assert "Traceback" not in proc.stderr
        used = spent(proc.stderr)
        assert sum(r["cost_usd"] for r in first) <= used <= cap
        # refused only when the next request's worst case did not fit beside the 7 others in flight
        assert used >= cap - 8 * worst_request_usd(["ticket_routing"])
        assert 0 < len(first) < 264 and sent_first == len(first) + 1  # + the warm-up; none sent unrecorded
        cells = [json.loads(x) for x in (folder / "cells.jsonl").read_text().splitlines()]
        assert cells[-1]["status"] == "stopped" and "--max-usd reached" in cells[-1]["reason"]

        again = bench("--resume", str(folder), "--max-usd", "5")
        assert again.returncode == 0, again.stderr
        final = records(folder)
        sent_total = len(api.log)
    ids = [r["example_id"] for r in final]
    assert len(ids) == len(set(ids)) == 264
    assert sent_total == 264 + 2  # each example sent once, one warm-up per session
    assert all(r["score"] == 1.0 for r in final)


def test_a_worst_case_over_the_threshold_needs_yes_off_a_terminal(tmp_path):
    with FakeAPI() as api:
        args = ["--config", models_toml(tmp_path, api), "--tasks-dir", str(TASKS), "--tasks", "ticket_routing",
                "--limit", "3", "--out", str(tmp_path / "res"), "--confirm-over-usd", "0.000001"]
        refused = bench(*args)
        assert api.log == []
        assert refused.returncode == 2
        assert refused.stderr.strip().splitlines()[-1].startswith("error: this run may spend up to $")
        assert "pass --yes to proceed, or --max-usd to cap the spend" in refused.stderr
        assert not (tmp_path / "res").exists()
        assert bench(*args, "--yes").returncode == 0
        assert len(api.log) == 3 + 1


@pytest.mark.parametrize("flags, message", [
    (["--max-usd", "-1"], "error: --max-usd -1.0: must be a number above 0"),
    (["--max-usd", "0"], "error: --max-usd 0.0: must be a number above 0"),
    (["--confirm-over-usd", "-2"], "error: --confirm-over-usd -2.0: must be a number, 0 or more"),
])
def test_bad_spending_flags_exit_2_with_one_line(tmp_path, flags, message):
    with FakeAPI() as api:
        proc = bench("--config", models_toml(tmp_path, api), "--tasks-dir", str(TASKS), "--tasks", "ticket_routing",
                     "--out", str(tmp_path / "res"), *flags)
        assert api.log == []
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert proc.stderr.startswith(message)


def test_a_cap_refuses_an_api_model_without_prices(tmp_path):
    with FakeAPI() as api:
        cfg = Path(models_toml(tmp_path, api))
        cfg.write_text(re.sub(r"usd_per_mtok_\w+ = .*\n|prices_as_of = .*\n", "", cfg.read_text()))
        proc = bench("--config", str(cfg), "--tasks-dir", str(TASKS), "--tasks", "ticket_routing",
                     "--out", str(tmp_path / "res"), "--max-usd", "1")
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("error: --max-usd: model gpt-fake has no per-token prices")
    assert not (tmp_path / "res").exists()


# ---------------------------------------------------------------- the pieces


def request(text: str, max_new_tokens: int = 10) -> Request:
    return Request("x", [{"role": "user", "content": text}], max_new_tokens)


def test_worst_input_is_at_least_the_utf8_bytes_and_the_expected_uses_the_character_rule():
    msgs = [{"role": "system", "content": "ab"}, {"role": "user", "content": "é" * 8}]
    assert estimate.input_tokens_worst(msgs) >= 2 + 16
    assert estimate.input_tokens_expected(msgs) == 1 + 2 + 2 * estimate.MESSAGE_OVERHEAD_TOKENS + estimate.REPLY_OVERHEAD_TOKENS
    spec = SimpleNamespace(max_tokens=None, thinking_budget_tokens=2048)
    assert estimate.output_ceiling(spec, 16) == 16 + 2048
    assert estimate.output_expected("billing", 64) == 3 and estimate.output_expected("x" * 400, 64) == 64


def test_reservations_become_actual_costs_and_the_cap_refuses_the_request_that_could_cross_it():
    spec = SimpleNamespace(backend="openai", max_tokens=None, thinking_budget_tokens=None)
    b = budget.Budget(cap_usd=1.0)
    g = budget.gate(b, spec, Pricing(usd_per_mtok_in=1e6, usd_per_mtok_out=1e6))  # $1 a token
    r = request("abcd", max_new_tokens=0)  # worst: 4 bytes + 2x overheads = 4 + 8 + 6 = 18 tokens = $18
    assert g.worst_usd(r) == 18.0
    assert not g.admit(r) and b.stopped and b.unsent == 1  # $18 > $1: refused, and the session stops
    b2 = budget.Budget(cap_usd=40.0)
    g2 = budget.gate(b2, spec, Pricing(usd_per_mtok_in=1e6, usd_per_mtok_out=1e6))
    assert g2.admit(r) and g2.admit(r) and b2.reserved_usd == 36.0
    assert not g2.admit(r)  # 36 + 18 > 40, with two in flight
    g2.settle(r, {"input_tokens": 3, "output_tokens": 1, "cached_input_tokens": 0, "error": None})
    g2.settle(r, {"input_tokens": None, "output_tokens": None, "error": "HTTP 500"})  # not billed
    assert b2.spent_usd == 4.0 and b2.reserved_usd == 0.0
    assert budget.gate(b2, spec, Pricing(hardware="box", usd_per_hour=1.0)) is None  # priced by time: not metered
    assert budget.gate(None, spec, Pricing(usd_per_mtok_in=1, usd_per_mtok_out=1)) is None


def test_on_a_terminal_the_run_asks_and_only_yes_proceeds(tmp_path):
    from bench.execute.options import Options, prepare

    cfg = tmp_path / "models.toml"
    cfg.write_text('[models.m]\nbackend = "openai"\nmodel = "m"\nbase_url = "http://127.0.0.1:9/v1"\n'
                   'usd_per_mtok_in = 1000\nusd_per_mtok_out = 1000\nprices_as_of = "2026-11-01"\n')
    opts = Options(config=cfg, tasks_dir=TASKS, tasks="ticket_routing", limit=5, confirm_over_usd=0.01)
    prep = prepare(opts)
    asked = []

    def ask(answer):
        return lambda prompt: asked.append(prompt) or answer

    shown = []
    echo = lambda *a, **k: shown.append(a)  # noqa: E731
    with pytest.raises(InputError, match="not confirmed"):
        budget.Spending(opts, prep).confirm(echo, ask=ask("n"), isatty=lambda: True)
    budget.Spending(opts, prep).confirm(echo, ask=ask("y"), isatty=lambda: True)
    assert len(asked) == 2 and "[y/N]" in asked[0]
    assert any("cost worst case" in str(line) for line in shown)  # the plan is shown before the question
    opts.max_usd = 0.005  # capped under the threshold: nothing to confirm
    spending = budget.Spending(opts, prep)
    spending.confirm(echo, ask=ask("n"), isatty=lambda: True)
    assert len(asked) == 2 and spending.budget.cap_usd == 0.005


def test_a_cap_reached_before_a_model_starts_counts_all_its_requests_as_unsent(tmp_path):
    """The closing line counts every request not sent, including those of a model the cap stopped
    before it started (its cells `stopped`, none of its requests sent)."""
    with FakeAPI() as api:
        config = models_toml(tmp_path, api)
        text = Path(config).read_text(encoding="utf-8")
        Path(config).write_text(text + text.replace("[models.gpt-fake]", "[models.gpt-fake-2]"), encoding="utf-8")
        proc = bench("--config", config, "--tasks-dir", str(TASKS), "--tasks", "ticket_routing", "--limit", "3",
                     "--out", str(tmp_path / "res"), "--max-usd", "0.000000001")
        assert api.log == []
    assert proc.returncode == 6, proc.stderr
    assert "6 request(s) not sent" in proc.stderr, proc.stderr
    (folder,) = (tmp_path / "res").iterdir()
    cells = [json.loads(x) for x in (folder / "cells.jsonl").read_text().splitlines()]
    assert {c["model"]: c["status"] for c in cells} == {"gpt-fake": "stopped", "gpt-fake-2": "stopped"}


def test_a_cap_with_a_local_model_that_has_no_hardware_is_not_refused(tmp_path):
    """--max-usd meters API models only: a local model without prices is not a reason to refuse it."""
    with FakeAPI() as api:
        config = models_toml(tmp_path, api)
        with open(config, "a", encoding="utf-8") as f:
            f.write('\n[models.local]\nbackend = "transformers"\nmodel = "some-org/some-model"\n')
        proc = bench("--config", config, "--tasks-dir", str(TASKS), "--tasks", "ticket_routing", "--limit", "2",
                     "--out", str(tmp_path / "res"), "--max-usd", "1", "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert "dry run: nothing was sent" in proc.stdout + proc.stderr
