"""A local run of tiny models and an API run against the test server, merged by `bench report`:
every plot, a report.html that renders in headless Chromium, and records priced as written."""

from __future__ import annotations

import json

import pytest

from conftest import TASKS, write_models_toml
from fakeapi import FakeAPI
from e2e.test_e2e import cli
from e2e.test_e2e_api import TICKETS
from test_report import render

pytest.importorskip("openai")

TASK_NAMES = ("order_math", "ticket_routing")
PLOTS = ["accuracy_vs_cost_overall", "accuracy_vs_latency", "speed", "memory", "accuracy_heatmap",
         *[f"accuracy_vs_cost_{t}" for t in TASK_NAMES], *[f"monthly_cost_{t}" for t in TASK_NAMES]]


ORDERS = [json.loads(line) for line in (TASKS / "data" / "order_math.jsonl").read_text().splitlines()]


def answer(messages: list[dict]) -> str:
    """The fake model routes every ticket right and gets every other order total right."""
    prompt = messages[-1]["content"]
    for t in TICKETS:
        if t["text"] in prompt:
            return t["queue"]  # the queue name only, as the prompt asks (the strict label reading)
    for i, o in enumerate(ORDERS):
        if o["question"] in prompt:
            return f"The total is {o['answer'] if i % 2 == 0 else o['answer'] + 1}"
    return "I do not know"


def records(folder) -> list[dict]:
    return [json.loads(line) for line in (folder / "records.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def runs(tiny_models, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("merge")
    common = ["--tasks-dir", str(TASKS), "--tasks", ",".join(TASK_NAMES), "--limit", "4"]
    local_cfg = write_models_toml(tmp / "local.toml", tiny_models, batch_size=4)
    local = cli("--config", str(local_cfg), *common, "--out", str(tmp / "gpu"))
    assert local.returncode == 0, local.stderr
    with FakeAPI(ttft_s=0.02, itl_s=0.002, reply=answer) as api:
        api_cfg = tmp / "api.toml"
        api_cfg.write_text(f'[models.gpt-fake]\nbackend = "openai"\nmodel = "gpt-fake"\nbase_url = "{api.base_url}"\n'
                           f'api_key_env = "E2E_KEY"\nconcurrency = 4\nusd_per_mtok_in = 0.25\n'
                           f'usd_per_mtok_cached_in = 0.025\nusd_per_mtok_out = 2.0\nprices_as_of = "2026-11-01"\n')
        remote = cli("--config", str(api_cfg), *common, "--out", str(tmp / "laptop"), E2E_KEY="k")
    assert remote.returncode == 0, remote.stderr
    (gpu,), (laptop,) = (tmp / "gpu").iterdir(), (tmp / "laptop").iterdir()
    return tmp, local, gpu, laptop


def test_the_run_writes_its_report_and_prices_its_records(runs):
    _, local, gpu, laptop = runs
    assert f"report: {gpu / 'report.html'}" in local.stdout and "$ / 1k req" in local.stdout
    for folder in (gpu, laptop):
        assert (folder / "report.html").is_file() and (folder / "plots" / "speed.svg").is_file()
    for r in records(gpu):  # conftest's hardware: 0.5 USD/h; a row pays its share of its batch's wall time
        assert r["batch_wall_s"] >= r["latency_s"] > 0
        assert r["batch_wall_rows"] == r["batch_size"]  # no out-of-memory split here
        assert r["cost_usd"] == pytest.approx(r["batch_wall_s"] / r["batch_wall_rows"] * 0.5 / 3600, rel=1e-12)
    for r in records(laptop):  # (uncached input x 0.25 + cached x 0.025 + output x 2.0) / 1e6
        uncached = r["input_tokens"] - r["cached_input_tokens"]
        expected = (uncached * 0.25 + r["cached_input_tokens"] * 0.025 + r["output_tokens"] * 2.0) / 1e6
        assert r["cost_usd"] == pytest.approx(expected, rel=1e-12) and r["cost_usd"] > 0


def test_merged_report_has_every_plot_and_renders_in_chromium(runs):
    tmp, _, gpu, laptop = runs
    out = tmp / "merged"
    proc = cli("report", str(gpu), str(laptop), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    for name in PLOTS:
        for ext in ("png", "svg"):
            assert (out / "plots" / f"{name}.{ext}").stat().st_size > 5_000, f"{name}.{ext}"
    md = (out / "summary.md").read_text()
    assert "| gpt-fake | ticket_routing |" in md and "| tiny-chat | order_math |" in md and "## All 2 tasks pooled" in md
    page = (out / "report.html").read_text()
    assert gpu.name in page and laptop.name in page and "Definitions" in page
    dom, shot = render(out / "report.html", tmp)
    confusions = sorted(p.name for p in (out / "plots").glob("confusion_*.png"))  # ticket_routing is a label task
    assert confusions == sorted(f"confusion_ticket_routing_{m}.png" for m in ("gpt-fake", "tiny-chat", "tiny-plain"))
    assert dom.count('src="data:image/png;base64,') == len(PLOTS) + len(confusions)
    assert dom.count("<table") >= 3 and "gpt-fake" in dom and "tiny-plain" in dom
    assert shot.startswith(b"\x89PNG") and len(shot) > 50_000
    proc = cli("recommend", "--task", "ticket_routing", "--min-accuracy", "0.9", str(gpu), str(laptop))
    assert proc.returncode == 0 and "recommended: gpt-fake" in proc.stdout and "it is the most accurate" in proc.stdout
