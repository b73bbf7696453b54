"""The decision per task (bench/report/decision.py) on constructed runs: the verdicts and their
rules, the default reference, the costs at the user's volume beside the costs at capacity, the
cheapest replacement and the models that met the bars, the alarms, and how it is rendered."""

from __future__ import annotations

import json

import pytest
from fakerun import api_model, local_model, make_run

from bench.report import build, decisiontext
from bench.report.decision import Question, decide

BIG = [1.0] * 180 + [0.0] * 20  # 90% of 200


def rewrite(path, change) -> None:
    """Apply change(row) to every JSON line of a run file."""
    rows = [json.loads(x) for x in path.read_text().splitlines()]
    path.write_text("".join(json.dumps(change(r) or r) + "\n" for r in rows))


def decided(folder, question: Question | None = None, **given):
    merged = build.load([folder], None)
    rows, _, _ = build.tables(merged, 0.5, None)
    return decide(rows, merged.records, question or Question.of(given), merged.overlapped), rows


def test_each_verdict_by_its_rule(tmp_path):
    # close: 2 + 2 discordant of 200 -> 0.0 pp, Newcombe [-2.6, +2.6] above -5: can replace;
    # far: 50% -> worse; few: 20 examples, -15 pp [-35.2, +4.5] straddles -5: inconclusive
    close = BIG[:178] + [0.0, 0.0] + [1.0, 1.0] + [0.0] * 18
    run = make_run(tmp_path / "r", {"big": api_model(1.0, 4.0), "close": local_model(), "far": local_model(),
                                    "slow": api_model(2.0, 8.0)},
                   {("big", "t1"): BIG, ("close", "t1"): close, ("far", "t1"): [1.0, 0.0] * 100,
                    ("slow", "t1"): BIG}, latency={"slow": 3.0})
    (d,), _ = decided(run, p95_target_ms=1000)
    assert d.reference == "big" and d.reference_basis == "most accurate token-priced model"
    by = {c.model: c for c in d.candidates}
    assert [c.model for c in d.candidates] == ["big", "close", "far", "slow"] and by["big"].verdict == "reference"
    c = by["close"]
    assert c.verdict == "can replace" and c.diff_points == pytest.approx(0.0) and c.n_paired == 200
    assert c.ci_points[0] > -5 and c.ci_points == pytest.approx((-2.64, 2.64), abs=0.01)
    assert c.test == "mcnemar_exact" and c.p_value == 1.0 and c.ci_method == "newcombe"
    far = by["far"]
    assert far.verdict == "worse" and far.ci_points[1] < -5 and far.diff_points == pytest.approx(-40.0)
    slow = by["slow"]  # as accurate as the reference (the same answers) but over the p95 target
    assert slow.verdict == "misses a bar" and slow.meets_p95 is False
    assert slow.missed == ["p95 latency 3,000 ms > 1,000 ms target (over by 2,000 ms)"]
    line = decisiontext.verdict_line(d, c)
    assert line == ("close can replace big on t1: +0.0 pp [-2.6, +2.6] (McNemar p = 1, n = 200), margin 5 pp; "
                    "$2.63 vs $1.40 per 1,000 at 100,000/month")
    assert decisiontext.verdict_line(d, far).startswith(
        f"far is worse than big on t1: -40.0 pp [{far.ci_points[0]:+.1f}, {far.ci_points[1]:+.1f}] (McNemar p < 0.001")
    assert f"at least {-far.ci_points[1]:.1f} pp less accurate, beyond the 5 pp margin" in decisiontext.verdict_line(d, far)
    # the margin decides: at 0 points, "close" is no longer shown within it
    (d0,), _ = decided(run, margin_points=0)
    assert d0.candidate("close").verdict == "inconclusive"


def test_inconclusive_says_how_many_examples_and_raises_the_alarm(tmp_path):
    run = make_run(tmp_path / "r", {"big": api_model(), "small": api_model(0.1, 0.4)},
                   {("big", "t1"): [1.0] * 18 + [0.0] * 2, ("small", "t1"): [1.0] * 15 + [0.0] * 5})
    (d,), _ = decided(run)
    c = d.candidate("small")
    # 3 discordant of 20: d = -0.15, s^2 = 0.15 - 0.0225 = 0.1275; 7.84888 x 0.1275 / (-0.15 + 0.05)^2 = 100.07
    assert c.verdict == "inconclusive" and c.n_needed == 101 and c.ci_points == pytest.approx((-35.2, 4.5), abs=0.05)
    assert [a.kind for a in d.alarms] == ["too_few"]
    assert d.alarms[0].message == "small vs big on t1: 20 paired examples cannot tell a 5 pp margin apart"
    assert d.alarms[0].action == "about 101 are needed at 80% power: run more examples"
    assert "about 101 paired examples would tell at 80% power" in decisiontext.verdict_line(d, c)


def test_costs_at_the_volume_and_at_capacity_and_the_cheapest_first(tmp_path):
    close = BIG[:178] + [0.0, 0.0] + [1.0, 1.0] + [0.0] * 18
    run = make_run(tmp_path / "r", {"big": api_model(1.0, 4.0), "local": local_model()},
                   {("big", "t1"): BIG, ("local", "t1"): close})
    # local: 0.05 USD per 1k busy (0.5 s of a 0.36 USD/h box); 2 req/s per box, at most 50% busy:
    # 2,628,000 requests a box a month. 100,000/month: one box, 0.36 x 730 = 262.8 USD -> 2.628 per 1k
    (d,), _ = decided(run)
    local = d.candidate("local")
    assert local.usd_per_1k_at_capacity == pytest.approx(0.05) and local.usd_per_1k_at_volume == pytest.approx(2.628)
    assert local.capacity_rps == pytest.approx(2.0) and local.capacity_source == "run"
    assert d.met_bars == ["big", "local"] and d.cheapest_replacement == "local"  # big costs 1.40 at any volume
    assert ("cheapest that can replace big: local, but it is not cheaper: $2.63 vs $1.40 per 1,000 at 100,000/month"
            in decisiontext.summary_lines(d))
    # 10,000,000/month: ceil(1e7 / 2,628,000) = 4 boxes: 4 x 262.8 / 1e7 x 1000 = 0.10512 per 1k
    (d,), _ = decided(run, volume_per_month=1e7)
    assert d.candidate("local").usd_per_1k_at_volume == pytest.approx(0.10512)
    assert d.met_bars == ["local", "big"] and d.candidate("big").usd_per_1k_at_volume == pytest.approx(1.4)
    assert ("cheapest that can replace big: local, $0.11 vs $1.40 per 1,000 at 10,000,000/month (13.3x cheaper)"
            in decisiontext.summary_lines(d))


def test_min_accuracy_lets_a_worse_model_meet_the_bars_but_not_replace(tmp_path):
    run = make_run(tmp_path / "r", {"big": api_model(), "cheap": api_model(0.1, 0.4)},
                   {("big", "t1"): BIG, ("cheap", "t1"): [1.0] * 150 + [0.0] * 50})
    (d,), _ = decided(run)
    assert d.candidate("cheap").verdict == "worse" and d.met_bars == ["big"] and d.cheapest_replacement is None
    (d,), _ = decided(run, min_accuracy=0.7)
    assert d.candidate("cheap").verdict == "worse" and d.met_bars == ["cheap", "big"]
    (d,), _ = decided(run, min_accuracy=0.8)
    assert d.met_bars == ["big"] and d.candidate("cheap").meets_min_accuracy is False


def test_the_default_reference_and_a_given_one(tmp_path):
    # two token-priced models equally accurate: the cheaper is the reference; a more accurate local
    # model does not take its place (the reference is what a smaller model would replace)
    run = make_run(tmp_path / "r", {"dear": api_model(2.0, 8.0), "cheap": api_model(1.0, 4.0), "local": local_model()},
                   {("dear", "t1"): BIG, ("cheap", "t1"): BIG, ("local", "t1"): [1.0] * 200})
    (d,), _ = decided(run)
    assert d.reference == "cheap"
    (d,), _ = decided(run, reference="local")
    assert d.reference == "local" and d.reference_basis == "given" and d.candidates[0].model == "local"
    only_local = make_run(tmp_path / "l", {"a": local_model(), "b": local_model()},
                          {("a", "t1"): [1.0] * 5 + [0.0] * 5, ("b", "t1"): [1.0] * 7 + [0.0] * 3})
    (d,), _ = decided(only_local)
    assert d.reference == "b" and d.reference_basis == "most accurate model"


def test_no_shared_examples_cannot_compare_and_one_model_has_nothing_to_compare(tmp_path):
    run = make_run(tmp_path / "r", {"big": api_model(), "small": local_model()},
                   {("big", "t1"): [1.0] * 10, ("small", "t1"): [1.0] * 10, ("big", "t2"): [1.0, 0.0]})
    rewrite(run / "records.jsonl", lambda r: {**r, "example_id": "other-" + r["example_id"]}
            if r["model"] == "small" else r)
    (d1, d2), _ = decided(run)
    assert d1.candidate("small").verdict == "not comparable" and d1.candidate("small").n_paired == 0
    assert d1.note == "no model shares examples with big on t1: cannot compare"
    assert "small vs big on t1: no shared examples, cannot compare" in decisiontext.verdict_line(d1, d1.candidates[1])
    assert d1.met_bars == ["big"] and d1.cheapest_replacement is None
    assert d2.note == "only big finished t2: nothing to compare" and d2.alarms == []
    (d1, _), _ = decided(run, min_accuracy=0.5)  # a minimum of the user's own judges it alone
    assert "small" in d1.met_bars


def test_alarms_before_the_verdict(tmp_path):
    run = make_run(tmp_path / "r", {"big": api_model(), "small": local_model()},
                   {("big", "t0"): [0.0] * 4, ("small", "t0"): [0.0] * 4,
                    ("big", "t1"): [1.0] * 4, ("small", "t1"): [1.0] * 4,
                    ("big", "t2"): [1.0] * 10, ("small", "t2"): [0.0] * 10})
    rewrite(run / "records.jsonl", lambda r: {**r, "truncated": True, "finish_reason": "length"}
            if (r["model"], r["task"]) == ("small", "t2") and r["example_id"] != "e0" else None)
    rewrite(run / "records.jsonl", lambda r: {**r, "error": "APIError: 500", "output": ""}
            if (r["model"], r["task"]) == ("big", "t2") and r["example_id"] in ("e1", "e2") else None)
    rewrite(run / "cells.jsonl", lambda c: {**c, "overlapped": "big/t2", "overlapped_cells": 1}
            if (c["model"], c["task"]) == ("small", "t2") else None)
    d0, d1, d2 = decided(run)[0]
    assert [(a.kind, a.model) for a in d0.alarms] == [("all_zero", None)]
    assert d0.alarms[0].message == "every model scored 0% on t0" and "check the prompt" in d0.alarms[0].action
    assert [(a.kind, a.model) for a in d1.alarms] == [("all_perfect", None)]
    kinds = [(a.kind, a.model) for a in d2.alarms]
    assert kinds == [("zero", "small"), ("errors", "big"), ("truncated", "small"), ("overlapped", "small")]
    text = {a.kind: f"{a.message}: {a.action}" for a in d2.alarms}
    assert text["truncated"].startswith("small: 9/10 answers on t2 were cut at max_new_tokens: raise the task's")
    assert text["errors"].startswith("big: 2/10 requests on t2 failed (counted as wrong)")
    assert "timed beside other work (big/t2)" in text["overlapped"] and "--parallel 1" in text["overlapped"]
    assert d0.candidate("small").verdict == "inconclusive"  # 4 examples, but the task-wide alarm says it all
    # the alarms come before the verdicts in every rendering
    lines = decisiontext.summary_lines(d2)
    assert lines[1].startswith("ALARM: small scored 0% on t2") and lines[-3].startswith("small is worse than big")


def test_rendered_first_in_markdown_and_html_and_as_json(tmp_path):
    run = make_run(tmp_path / "r", {"big": api_model(), "small": local_model()},
                   {("big", "t1"): BIG, ("small", "t1"): BIG})
    merged = build.load([run], None)
    rows, overall, _ = build.tables(merged, 0.5, None)
    decisions = build.decisions(merged, rows, Question.of({"volume_per_month": 50_000.0}))
    md = build.markdown("T", ["a note"], rows, overall, 0.5, decisions, 50_000.0)
    headings = [line for line in md.splitlines() if line.startswith("## ")]
    assert headings[:3] == ["## Decision", "## Summary", "## Cost"]
    assert md.index("> a note") < md.index("## Decision") < md.index("| model | task | status")
    assert "- small can replace big on t1: +0.0 pp [-1.8, +1.8] (McNemar p = 1, n = 200)" in md
    assert "| $ / 1k req at capacity (machine busy) | $ / 1k req at 50,000 req/month |" in md  # the cost table
    page = decisiontext.html(decisions)
    assert page.startswith("<h2 id='decision'>Decision</h2>") and "volume: 50,000 requests/month;" in page
    (obj,) = json.loads(decisiontext.to_json(decisions))
    assert obj["question"]["defaults"] == ["reference", "p95_target_ms", "min_accuracy", "margin_points"]
    # at 50,000/month the local model's one box (262.8 USD) costs 5.256 per 1k: dearer than big's 1.40
    assert obj["cheapest_replacement"] == "small" and obj["met_bars"] == ["big", "small"]
