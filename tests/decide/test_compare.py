"""`bench compare` on real runs against the local test server: two clean runs pass, a run made worse
on purpose (a server failing half its requests, a max_tokens that cuts answers) fails, and bad
inputs exit 2 with one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import TASKS
from e2e.test_e2e import cli
from fakeapi import FakeAPI
from spend.test_budget import targets_by_prompt

pytest.importorskip("openai")

KEY = "sk-compare-test-0123456789"


def toml(name: str, api: FakeAPI, **options) -> str:
    extra = "".join(f"{k} = {json.dumps(v)}\n" for k, v in options.items())
    return (f'[models."{name}"]\nbackend = "openai"\nmodel = "m"\nbase_url = "{api.base_url}"\n'
            f'api_key_env = "CMP_KEY"\nbackoff_s = 0.01\nconcurrency = 8\nusd_per_mtok_in = 0.25\n'
            f'usd_per_mtok_out = 2.0\nprices_as_of = "2026-11-01"\n{extra}')


def run(tmp_path: Path, label: str, api: FakeAPI, task: str, limit: int, name: str = "gpt-fake", **options) -> Path:
    cfg = tmp_path / f"{label}.toml"
    cfg.write_text(toml(name, api, **options), encoding="utf-8")
    out = tmp_path / label
    proc = cli("--config", str(cfg), "--tasks-dir", str(TASKS), "--tasks", task, "--limit", str(limit),
               "--out", str(out), CMP_KEY=KEY)
    assert proc.returncode in (0, 3), proc.stderr
    (folder,) = out.iterdir()
    return folder


def compare(*args) -> object:
    return cli("compare", *map(str, args))


@pytest.fixture(scope="module")
def routing(tmp_path_factory):
    """Two clean runs of the same model and one against a server failing half its requests (each
    answer takes 0.3 s, well above a loaded machine's jitter, so the p95 ratio of clean runs is ~1)."""
    tmp = tmp_path_factory.mktemp("cmp")
    answers = targets_by_prompt(["ticket_routing"], limit=60)
    with FakeAPI(ttft_s=0.3, reply=lambda m: answers[json.dumps(m)]) as api:
        base = run(tmp, "base", api, "ticket_routing", 60)
        clean = run(tmp, "clean", api, "ticket_routing", 60)
        api.faults_at_rate(0.5, seed=1, kinds=("500",))
        failing = run(tmp, "failing", api, "ticket_routing", 60, max_attempts=1)
    return tmp, base, clean, failing


def test_two_clean_runs_of_the_same_model_pass(routing):
    _, base, clean, _ = routing
    proc = compare(base, clean)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "| gpt-fake | ticket_routing | 60 | 100.0 | 100.0 | +0.0 |" in proc.stdout
    assert "No regression in 1 cell(s)." in proc.stdout


def test_a_server_failing_half_its_requests_is_a_regression(routing):
    _, base, _, failing = routing
    proc = compare(base, failing)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    row = next(line for line in proc.stdout.splitlines() if line.startswith("| gpt-fake"))
    assert "WORSE: accuracy -" in row and "mcnemar_exact" in row
    assert "**1 of 1 cell(s) worse** than allowed" in proc.stdout
    # a tolerance larger than the drop lets it pass; the reverse direction is an accuracy gain (but
    # a cost increase: failed requests cost nothing, so the failing run was the cheaper one)
    loose = ("--max-latency-increase", 1000)  # latency is not what these check
    assert compare(base, failing, "--max-accuracy-drop", 90, *loose).returncode == 0
    back = compare(failing, base, *loose)
    assert back.returncode == 1 and "cost x" in back.stdout and "accuracy -" not in back.stdout
    assert compare(failing, base, "--max-cost-increase", 1000, *loose).returncode == 0


def test_answers_cut_by_a_shorter_max_tokens_are_a_regression(tmp_path):
    answers = targets_by_prompt(["invoice_fields"], limit=30)
    with FakeAPI(reply=lambda m: answers[json.dumps(m)]) as api:
        base = run(tmp_path, "base", api, "invoice_fields", 30)
        short = run(tmp_path, "short", api, "invoice_fields", 30, max_tokens=4)
    proc = compare(base, short, "--max-latency-increase", 1000)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "WORSE: accuracy -" in proc.stdout


def test_a_renamed_model_is_paired_with_model_flags(routing, tmp_path):
    _, base, _, _ = routing
    answers = targets_by_prompt(["ticket_routing"], limit=60)
    with FakeAPI(ttft_s=0.3, reply=lambda m: answers[json.dumps(m)]) as api:
        renamed = run(tmp_path, "renamed", api, "ticket_routing", 60, name="gpt-fake-v2")
    assert compare(base, renamed).returncode == 2  # no cell in common by name
    proc = compare(base, renamed, "--model-base", "gpt-fake", "--model-new", "gpt-fake-v2")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "| gpt-fake -> gpt-fake-v2 | ticket_routing | 60 |" in proc.stdout


def test_names_from_run_folders_are_escaped_in_the_table():
    from bench.core.types import SummaryRow
    from bench.decide.compare import Limits, Pair, markdown

    row = SummaryRow("a|b", "t", "ok", 3, accuracy=1.0, latency_p95_s=0.1, usd_per_1k_requests=0.5)
    test = {"method": "mcnemar_exact", "difference": 0.0, "p_value": 1.0, "significant": False}
    pair = Pair("a|b", "a|b", "t<script>\nx", 3, row, row, test, 1.0, 1.0)
    text = markdown([pair], Path("runs/b|ase"), Path("new"), Limits())
    assert "| a\\|b | t&lt;script> x | 3 |" in text and "b\\|ase" in text


@pytest.mark.parametrize("args, message", [
    (["{tmp}", "{base}"], "error: {tmp}: not a run folder (no manifest.json)"),
    (["{base}", "{base}", "--task", "nope"], "error: --task 'nope': not a task both runs have (common: ticket_routing)"),
    (["{base}", "{base}", "--max-cost-increase", "-5"], "error: --max-cost-increase -5.0: must be a number, 0 or more"),
    (["{base}", "{base}", "--model-base", "gpt-fake"], "error: --model-base and --model-new go together"),
    (["{base}", "{base}", "--model-base", "x", "--model-new", "gpt-fake"], "error: --model-base 'x': no such model"),
])
def test_bad_input_exits_2_with_one_line(routing, args, message):
    tmp, base, _, _ = routing
    fill = {"tmp": tmp, "base": base}
    proc = compare(*[a.format(**fill) for a in args])
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.startswith(message.format(**fill)) and len(proc.stderr.strip().splitlines()) == 1
    assert proc.stdout == ""
