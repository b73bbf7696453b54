"""The decision reaches the rest of the report: its verdicts title the figures (a takeaway per
task), its reference chooses the pairs of "where they disagree", and a one-task report has no
pooled table repeating its only task."""

from __future__ import annotations

from fakerun import api_model, local_model, make_run

from bench.report import build, decisiontext, plots
from bench.report.decision import Question, decide

BIG = [1.0] * 18 + [0.0] * 2  # 90% of 20


def _decided(folder, **given):
    merged = build.load([folder], None)
    rows, _, _ = build.tables(merged, 0.5, None)
    return decide(rows, merged.records, Question.of(given), merged.overlapped)


def test_the_takeaway_states_the_candidate_against_the_reference(tmp_path):
    run = make_run(tmp_path / "r", {"big": api_model(1.0, 4.0), "small": local_model()},
                   {("big", "t1"): BIG, ("small", "t1"): [1.0] * 14 + [0.0] * 6})
    (d,) = _decided(run, volume_per_month=10_000_000)
    c = d.candidate("small")
    ratio = d.candidate("big").usd_per_1k_at_volume / c.usd_per_1k_at_volume
    assert ratio > 10  # whole numbers past 10x, never "1e+01x"
    assert decisiontext.takeaway(d) == (f"small: 20.0 pp less accurate than big, {ratio:,.0f}x cheaper at 10M/month "
                                        f"({'worse beyond the 5 pp margin' if c.verdict == 'worse' else 'inconclusive'})")
    assert decisiontext.takeaways([d]) == {"t1": decisiontext.takeaway(d)}


def test_a_dearer_candidate_and_one_model_alone(tmp_path):
    run = make_run(tmp_path / "r", {"big": api_model(1.0, 4.0), "small": local_model()},
                   {("big", "t1"): BIG, ("small", "t1"): BIG})
    (d,) = _decided(run, volume_per_month=1000)  # one machine for 1,000 requests: dearer than the API
    assert decisiontext.takeaway(d).startswith("small: as accurate as big, ")
    assert decisiontext.takeaway(d).endswith(" dearer at 1k/month (inconclusive)")  # 20 pairs cannot show 5 pp
    alone = make_run(tmp_path / "one", {"big": api_model()}, {("big", "t1"): BIG})
    assert decisiontext.takeaways(_decided(alone)) == {} and decisiontext.pairs(_decided(alone)) == {"t1": []}


def test_the_figures_and_the_disagreements_follow_the_decision(tmp_path):
    # "small" is the most accurate, but the reference asked for is "big": the disagreement list
    # pairs every model with "big", and the accuracy-vs-cost figure carries the decision's title
    run = make_run(tmp_path / "r", {"big": api_model(1.0, 4.0), "small": local_model(), "mid": local_model()},
                   {("big", "t1"): BIG, ("small", "t1"): [1.0] * 20, ("mid", "t1"): [1.0] * 10 + [0.0] * 10})
    (d,) = _decided(run, reference="big")
    assert decisiontext.pairs([d]) == {"t1": [("small", "big"), ("mid", "big")]}
    seen = {}
    real = plots.draw_all

    def spy(merged, rows, overall, baselines, utilisation, volume=None, takeaway=None):
        seen.update(takeaway or {})
        return real(merged, rows, overall, baselines, utilisation, volume, takeaway)

    plots.draw_all = spy
    try:
        files, _ = build.render(build.load([run], None), title="T", notes=[], question=Question.of({"reference": "big"}))
    finally:
        plots.draw_all = real
    assert seen == {"t1": decisiontext.takeaway(d)}
    md = files["summary.md"].decode()
    assert "| small | big |" in md.replace("`", "") or "small" in md.split("disagree", 1)[1]
    assert "tasks pooled" not in md and b"<h3>All 1 tasks pooled" not in files["report.html"]  # one task: no pooled table


def test_two_tasks_keep_their_pooled_table(tmp_path):
    run = make_run(tmp_path / "r", {"big": api_model(), "small": local_model()},
                   {("big", "t1"): BIG, ("small", "t1"): BIG, ("big", "t2"): BIG, ("small", "t2"): BIG})
    files, _ = build.render(build.load([run], None), title="T", notes=[])
    assert "All 2 tasks pooled" in files["summary.md"].decode() and b"<h3>All 2 tasks pooled" in files["report.html"]


def test_partial_scores_on_one_example_give_no_firm_verdict(tmp_path):
    """Equal paired differences resample to one value: the interval must not shrink to a point (nor
    p to 0) and call a single example decisive; 0/1 scores on one example are inconclusive too."""
    from bench.core import stats

    one = stats.paired_difference([0.5], [0.9])
    assert one["low"] < -0.4 - 1.5 and one["high"] > -0.4 + 1.5 and one["p_value"] >= 1 / 2001
    run = make_run(tmp_path / "r", {"big": api_model(), "same": local_model(), "less": local_model()},
                   {("big", "t1"): [0.6], ("same", "t1"): [0.6], ("less", "t1"): [0.2]})
    (d,) = _decided(run)
    assert {c.model: c.verdict for c in d.candidates} == {"big": "reference", "same": "inconclusive",
                                                          "less": "inconclusive"}
    many = [0.5] * 40
    wide = stats.paired_difference(many, [0.9] * 40)  # 40 pairs: the floor is 1.96 x sqrt(1/40)/sqrt(40) = 4.9 pp
    assert wide["high"] - wide["low"] > 0.09 and wide["high"] < 0  # still shown below zero


def test_an_error_naming_a_tampered_model_reaches_the_terminal_as_one_plain_line(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    run = make_run(tmp_path / "r", {"big": api_model(), "evil\x1b[2Jname": local_model()},
                   {("big", "t1"): BIG, ("evil\x1b[2Jname", "t1"): BIG})
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run([sys.executable, "-m", "bench", "report", str(run), "--reference", "nosuch"],
                          env=dict(os.environ, PYTHONPATH=str(root), HF_HUB_OFFLINE="1"), capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2 and "evil [2Jname" in proc.stderr and "\x1b" not in proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
