"""`bench recommend` on a constructed run: the cheapest model meeting every bar, the paired
verdict against the most accurate model, and the bar each rejected model missed."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "report"))

from e2e.test_e2e import cli  # noqa: E402
from fakerun import api_model, local_model, make_run  # noqa: E402


def run(tmp_path, mid_scores):
    """big: API, 90% (18/20), 2.0 s, 1.40 USD per 1k; mid: API, 0.5 s, (500 + 200) / 1e6 = 0.70 per 1k;
    small: local, 40%, 0.3 s, 0.05 per 1k."""
    return make_run(tmp_path / "run", {"big": api_model(1.0, 4.0), "mid": api_model(0.5, 2.0), "small": local_model()},
                    {("big", "t1"): [1.0] * 18 + [0.0] * 2, ("mid", "t1"): mid_scores,
                     ("small", "t1"): [1.0] * 8 + [0.0] * 12},
                    latency={"big": 2.0, "mid": 0.5, "small": 0.3})


def test_cheapest_model_meeting_every_bar_is_tied_with_the_best(tmp_path):
    folder = run(tmp_path, [1.0] * 17 + [0.0] * 3)  # 85%: differs from big on one example only
    proc = cli("recommend", "--task", "t1", "--min-accuracy", "0.8", "--max-p95-latency-ms", "1000", str(folder))
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "recommended: mid: accuracy 85.0%" in out and "$0.7 per 1k requests at 100,000/month" in out
    # Newcombe's paired interval of -1/20 (both right 17, only big 1, both wrong 2): [-23.0, +11.7]
    assert "vs the reference, big (90.0%): -5.0 points [-23.0, +11.7], p = 1" in out and "statistically tied" in out
    # one discordant pair in 20 (the variance floor 1/n): 2.8016 x sqrt(0.05 / 20) = 14.0 points
    assert "the smallest difference 20 paired examples detect at 80% power is 14.0 points" in out
    assert "  big: p95 latency 2,000 ms > 1,000 ms target (over by 1,000 ms)" in out
    assert "  small: accuracy 40.0% < 80.0% (short by 40.0 points)" in out


def test_a_significantly_worse_cheapest_model_is_called_so(tmp_path):
    # 50%: wrong on 10 that big got right, right on the 2 that big got wrong
    folder = run(tmp_path, [1.0] * 8 + [0.0] * 10 + [1.0] * 2)
    proc = cli("recommend", "--task", "t1", "--min-accuracy", "0.45", str(folder))
    assert proc.returncode == 0, proc.stderr
    # exact McNemar on the 12 discordant pairs, 10 against 2: p = 2 x (C(12,0) + C(12,1) + C(12,2)) / 2^12
    # = 2 x 79 / 4096 = 0.0386
    assert "recommended: mid" in proc.stdout and "-40.0 points [-63.5, -7.2], p = 0.0386 (mcnemar_exact" in proc.stdout
    assert "significantly less accurate" in proc.stdout and "verdict at a 5 pp margin: worse" in proc.stdout


def test_no_model_meets_every_bar_and_volume_prices_whole_machines(tmp_path):
    folder = run(tmp_path, [1.0] * 17 + [0.0] * 3)
    proc = cli("recommend", "--task", "t1", "--min-accuracy", "0.8", "--max-usd-per-1k", "0.5", str(folder))
    assert proc.returncode == 1
    assert "no model meets every bar" in proc.stdout
    assert "  mid: cost $0.7 per 1k requests at 100,000/month > $0.5 (over by $0.2)" in proc.stdout
    # at 1,000 requests/month one whole machine (0.36 x 730 = 262.8 USD) costs 262.8 per 1k requests
    proc = cli("recommend", "--task", "t1", "--volume-per-month", "1000", "--max-usd-per-1k", "1", str(folder))
    assert proc.returncode == 0 and "recommended: mid" in proc.stdout
    assert "cost $262.8 per 1k requests at 1,000/month > $1 (over by $261.8)" in proc.stdout


def test_unknown_task_and_no_runs_exit_2(tmp_path):
    folder = run(tmp_path, [1.0] * 20)
    proc = cli("recommend", "--task", "nope", str(folder))
    assert proc.returncode == 2 and "--task 'nope': not in these runs (tasks: t1)" in proc.stderr
    proc = cli("recommend", "--task", "t1")
    assert proc.returncode == 2 and "RUN" in proc.stderr
    proc = cli("recommend", "--task", "t1", "--min-accuracy", "80", str(folder))
    assert proc.returncode == 2 and "fraction" in proc.stderr


def test_a_model_worse_than_the_reference_is_not_endorsed_unless_a_minimum_accuracy_says_so(tmp_path):
    folder = run(tmp_path, [1.0] * 8 + [0.0] * 10 + [1.0] * 2)  # mid: 50%, significantly below big's 90%
    proc = cli("recommend", "--task", "t1", str(folder))
    assert proc.returncode == 0, proc.stderr
    assert "recommended: big" in proc.stdout and "it is the reference (default: the most accurate token-priced" in proc.stdout
    assert ("  mid: less accurate than big beyond the 5 pp margin: -40.0 points [-63.5, -7.2] (a --min-accuracy of "
            "your own accepts it)") in proc.stdout
    assert "recommended: mid" in cli("recommend", "--task", "t1", "--min-accuracy", "0.45", str(folder)).stdout


def test_every_model_meeting_the_bars_is_listed_cheapest_first(tmp_path):
    folder = run(tmp_path, [1.0] * 17 + [0.0] * 3)
    # at 10,000,000 requests/month small needs ceil(1e7 / 2,628,000) = 4 boxes of 262.8 USD: 0.105 per 1k
    proc = cli("recommend", "--task", "t1", "--min-accuracy", "0.35", "--volume-per-month", "1e7", str(folder))
    assert proc.returncode == 0, proc.stderr
    assert "recommended: small: accuracy 40.0%" in proc.stdout and "$0.1051 per 1k requests at 10,000,000/month" in proc.stdout
    assert "met every bar, cheapest first at 10,000,000/month: small $0.11, mid $0.70, big $1.40" in proc.stdout
    assert "machines sized by 2 req/s per machine from run; at capacity (machine busy) $0.05" in proc.stdout


def test_a_model_at_0_percent_is_never_the_most_accurate(tmp_path):
    folder = make_run(tmp_path / "zero", {"big": api_model(), "small": local_model()},
                      {("big", "t1"): [0.0] * 10, ("small", "t1"): [0.0] * 10})
    proc = cli("recommend", "--task", "t1", str(folder))
    assert proc.returncode == 1, proc.stderr
    assert "most accurate" not in proc.stdout.split("question:")[1].split("\n", 1)[1]
    assert "ALARM: every model scored 0% on t1" in proc.stdout and "no model meets every bar" in proc.stdout
    assert "no model answered any example of t1 correctly" in proc.stdout
    assert "  small: accuracy 0%: it answered no example correctly" in proc.stdout
