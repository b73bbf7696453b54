"""`bench report` at the edges a real run reaches: cells at 0% and 100% (whose intervals touch 0 and 1),
a run where every cell was skipped, one example, one cell, and names and ids that look like numbers.
Each gives every figure it can and a report.html, exit 0."""

from __future__ import annotations

import csv
import math

import pytest

from bench.report import build, html, plots
from fakerun import api_model, local_model, make_run
from e2e.test_e2e import cli

EVERY_PLOT = ["accuracy_vs_latency", "speed", "memory"]
SEVERAL_TASKS = ["accuracy_vs_cost_overall", "accuracy_heatmap"]  # a pooled figure and a heatmap need two tasks


def plot_files(task_stems: list[str]) -> list[str]:
    names = EVERY_PLOT + (SEVERAL_TASKS if len(task_stems) > 1 else [])
    names += [f"{kind}_{t}" for t in task_stems for kind in ("accuracy_vs_cost", "monthly_cost")]
    return [f"{n}.{ext}" for n in names for ext in ("png", "svg")]


def test_error_bars_are_never_negative_whatever_the_interval():
    value_lo_hi = [(100.0, 77.2, 100.00000000000001), (0.0, 7e-16, 43.4), (50.0, 60.0, 40.0),
                   (50.0, math.nan, math.nan), (50.0, -math.inf, math.inf), (30.0, 10.0, 70.0)]
    below, above = plots.error_bars(value_lo_hi)
    assert below == pytest.approx([22.8, 0.0, 0.0, 0.0, 0.0, 20.0])
    assert above == pytest.approx([1e-14, 43.4, 0.0, 0.0, 0.0, 40.0], abs=1e-13)
    assert all(x >= 0 and math.isfinite(x) for x in below + above)


def test_a_0_and_a_100_percent_cell_give_every_plot_and_the_report(tmp_path):
    # 5 wrong and 13 right: n where the old Wilson bounds came out as 7e-18 and 0.9999999999999999
    run = make_run(tmp_path / "edges", {"big": api_model(), "small": local_model()},
                   {("big", "t1"): [1.0] * 13, ("small", "t1"): [0.0] * 5,
                    ("big", "t2"): [1.0] * 19, ("small", "t2"): [0.0] * 17})
    proc = cli("report", str(run))
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and "could not" not in proc.stdout + proc.stderr
    for name in plot_files(["t1", "t2"]):
        assert (run / "plots" / name).stat().st_size > 5_000, name
    rows = {(r["model"], r["task"]): r for r in csv.DictReader((run / "summary.csv").open())}
    assert rows["big", "t1"]["ci_high"] == "1.0" and rows["small", "t1"]["ci_low"] == "0.0"
    assert rows["big", "t2"]["ci_high"] == "1.0" and rows["small", "t2"]["ci_low"] == "0.0"
    page = (run / "report.html").read_text()
    assert page.count("data:image/png;base64,") == len(plot_files(["t1", "t2"])) // 2
    assert "$ / 1k req" in proc.stdout  # the cost table, which a failed figure used to take with it


def test_every_plot_survives_intervals_on_the_wrong_side_or_missing(tmp_path):
    """Whatever the stats hand over (rounding noise, a bound past its value, nan), a figure is drawn."""
    run = make_run(tmp_path / "run", {"big": api_model(), "small": local_model()},
                   {("big", "t1"): [1.0] * 10 + [0.5], ("small", "t1"): [0.0] * 4 + [0.5]})
    merged = build.load([run], None)
    rows, overall, baselines = build.tables(merged, 0.5, None)
    for r, (lo, hi) in zip(rows + overall, [(1.0, 0.9), (math.nan, math.nan), (0.5, 0.2), (-1e-17, math.inf)]):
        r.ci_low, r.ci_high = lo, hi
    figures = plots.draw_all(merged, rows, overall, baselines, 0.5)
    assert sorted(figures) == sorted(plot_files(["t1"]))


def test_a_run_where_every_cell_was_skipped_reports_that_there_is_nothing_to_plot(tmp_path):
    run = make_run(tmp_path / "skipped", {"big": api_model(), "small": local_model()}, {},
                   statuses={("big", "t1"): "no_key", ("small", "t1"): "skipped"})
    proc = cli("report", str(run))
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and html.NO_PLOTS in proc.stdout
    assert not (run / "plots").exists()
    page = (run / "report.html").read_text()
    assert html.NO_PLOTS in page and "data:image/png" not in page
    assert "Cells that did not finish:" in page and "big x t1: not run" in page


def test_one_example_one_cell_and_names_that_look_like_numbers(tmp_path):
    run = make_run(tmp_path / "tiny", {"1.5": api_model()}, {("1.5", "2024"): [1.0]}, example_ids=["007"])
    proc = cli("report", str(run))
    assert proc.returncode == 0, proc.stderr
    for name in plot_files(["2024"]):
        assert (run / "plots" / name).is_file(), name
    row, = csv.DictReader((run / "summary.csv").open())
    assert (row["model"], row["task"], row["n"], row["ci_high"]) == ("1.5", "2024", "1", "1.0")
    assert "<code>007</code>" in (run / "report.html").read_text()  # the id as written, not the number 7

    ids = make_run(tmp_path / "ids", {"1e3": api_model(), "0x10": local_model()},
                   {("1e3", "nan"): [0.0, 1.0, 1.0], ("0x10", "nan"): [1.0, 0.0, 0.0]},
                   example_ids=["1", "1.0", "1e3"])
    proc = cli("report", str(ids))
    assert proc.returncode == 0, proc.stderr
    assert (ids / "plots" / "accuracy_vs_cost_nan.png").is_file()
    rows = {r["model"]: r for r in csv.DictReader((ids / "summary.csv").open())}
    assert set(rows) == {"1e3", "0x10"} and rows["1e3"]["task"] == "nan"


def test_a_log_axis_narrower_than_two_decades_still_shows_numbers():
    plt = plots._plt()
    fig, (narrow, wide) = plt.subplots(1, 2)
    for ax in (narrow, wide):
        plots._log(ax)
    plots._log_xlim(narrow, 1300.0, 7000.0)  # no power of ten inside: it used to show no number at all
    plots._log_xlim(wide, 50.0, 5000.0)
    fig.canvas.draw()
    shown = [t.get_text() for t in narrow.get_xticklabels() if t.get_text() and 1300 <= t.get_position()[0] <= 7000]
    assert shown == ["2000", "5000"]
    assert [t.get_text() for t in wide.get_xticklabels() if 50 <= t.get_position()[0] <= 5000] == [
        "50", "100", "200", "500", "1000", "2000", "5000"]  # two decades: 1, 2, 5 x 10^k, plain
    plots._log_xlim(wide, 0.01, 50.0)
    fig.canvas.draw()
    assert [t.get_text() for t in wide.get_xticklabels() if 0.01 <= t.get_position()[0] <= 50] == [
        "0.01", "0.1", "1", "10"]  # more than three decades: each power of ten, plain
    plt.close(fig)
