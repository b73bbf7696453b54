"""The figures are fit to publish (issue 20, items 5 and 8): 16:9 slides at one set of font sizes
whatever the number of models and tasks; a title that states the takeaway above a subtitle that says
what is plotted and on which cost basis; no cut legend, no overlapping label, no text off the
figure; no pooled figure or heatmap for one task; throughput bars that say the load they were
measured at. Read back from the matplotlib figures (texts and their drawn extents) and the PNGs."""

from __future__ import annotations

import dataclasses
import itertools
import re
import struct

import pytest
from fakerun import api_model, local_model, make_run
from matplotlib.text import Text

from bench.report import build, figstyle, perfplots, plots, sweepplot

pytestmark = pytest.mark.filterwarnings("ignore:More than 20 figures")  # the module's figures stay open to be read

HARDWARE = {"box": {"usd_per_hour": 0.36, "usd_per_kwh": None, "description": "cpu box"},
            "box2": {"usd_per_hour": 0.40, "usd_per_kwh": None, "description": "a dearer box"},
            "gpu": {"usd_per_hour": 2.5, "usd_per_kwh": None, "description": "gpu"}}
LOCAL = "qwen2.5-0.5b-instruct-on-the-cpu-box"  # long: the old monthly-cost legend cut it with "..."
OTHER = "llama-3.2-1b-instruct-on-the-dearer-box"


def served() -> dict:
    return {"config": {"backend": "served", "model": "/m", "hardware": "gpu"}}


def one_task(tmp_path):
    return make_run(tmp_path / "one", {"big-api": api_model(), "tiny": local_model()},
                    {("big-api", "tickets"): [1.0] * 26 + [0.0] * 4, ("tiny", "tickets"): [1.0] * 20 + [0.0] * 10},
                    hardware=HARDWARE, latency={"big-api": 0.9, "tiny": 0.4})


def three_tasks(tmp_path):
    """An API model, a served one and two local models on two boxes whose break-evens with the API
    fall close together (188,000 and 209,000 requests a month): their labels compete for one spot."""
    models = {"big-api": api_model(), "qwen-7b-served": served(), LOCAL: local_model("box"), OTHER: local_model("box2")}
    scores = {(m, t): [1.0] * max(0, acc - k) + [0.0] * (30 - max(0, acc - k))
              for t, k in (("tickets", 0), ("order_math", 5), ("extract_fields", 9))
              for m, acc in (("big-api", 27), ("qwen-7b-served", 24), (LOCAL, 15), (OTHER, 19))}
    return make_run(tmp_path / "three", models, scores, hardware=HARDWARE,
                    latency={"big-api": 0.9, "qwen-7b-served": 0.3, LOCAL: 0.4, OTHER: 0.6})


def drawn(run, volume=None, takeaway=None) -> dict:
    """{name: Figure} as draw_all draws them, drawn once (extents are final), kept open."""
    merged = build.load([run], None)
    rows, overall, baselines = build.tables(merged, 0.5, None)
    with figstyle.style() as plt:
        figs = dict(plots.figures(plt, merged, rows, overall, baselines, 0.5, volume, takeaway))
        for fig in figs.values():
            fig.canvas.draw()
    return figs


def closing(figs: dict):
    yield figs
    plt = figstyle.pyplot()
    for fig in figs.values():
        plt.close(fig)


SAID = {"tickets": "tiny: 20 points less accurate than big-api, $5.26 vs $1.4 per 1k at 50k/month"}


@pytest.fixture(scope="module")
def one(tmp_path_factory):
    yield from closing(drawn(one_task(tmp_path_factory.mktemp("one"))))


@pytest.fixture(scope="module")
def one_at_volume(tmp_path_factory):
    yield from closing(drawn(one_task(tmp_path_factory.mktemp("one")), volume=50_000, takeaway=SAID))


@pytest.fixture(scope="module")
def three(tmp_path_factory):
    yield from closing(drawn(three_tasks(tmp_path_factory.mktemp("three"))))


def texts(fig) -> list:
    """Every text the figure shows: its own, and each axes' title, labels, texts, legend, and the
    tick labels inside the axis limits (matplotlib keeps others, undrawn)."""
    out = list(fig.texts)
    for ax in fig.axes:
        out += [ax.title, ax._left_title, ax._right_title, ax.xaxis.label, ax.yaxis.label] + list(ax.texts)
        out += list(ax.get_legend().texts) if ax.get_legend() else []
        for axis, (lo, hi) in ((ax.xaxis, sorted(ax.get_xlim())), (ax.yaxis, sorted(ax.get_ylim()))):
            out += [t for tick, t in zip(axis.get_majorticklocs(), axis.get_majorticklabels()) if lo <= tick <= hi]
    return [t for t in out if t.get_visible() and t.get_text().strip()]


def unwrap(text: str) -> str:
    """A wrapped text on one line again (a name may have been broken after a hyphen)."""
    return re.sub(r"(?<=-)\n", "", text).replace("\n", " ")


def header(fig) -> tuple[str, str]:
    """The title (the takeaway) and the subtitle: the figure's first two texts, unwrapped."""
    return unwrap(fig.texts[0].get_text()), unwrap(fig.texts[1].get_text())


def png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(b"\x89PNG")
    return struct.unpack(">II", data[16:24])


def test_every_figure_is_a_16_9_slide_at_one_set_of_font_sizes_whatever_the_models_and_tasks(tmp_path, one, three):
    models = {f"model-{i}": api_model() if i % 2 else local_model() for i in range(8)}
    scores = {(m, f"task-{t}"): [1.0] * (3 + i + t) + [0.0] * (9 - i) for i, m in enumerate(models) for t in range(5)}
    merged = build.load([make_run(tmp_path / "many", models, scores)], None)
    rows, overall, _ = build.tables(merged, 0.5, None)
    with figstyle.style() as plt:  # six panels (five tasks and the pooled one) and 8 models x 5 tasks of cells
        many = {"accuracy_vs_latency": perfplots.accuracy_vs_latency(plt, rows, overall, "pooled", None, ""),
                "accuracy_heatmap": plots.heatmap(plt, rows, None, "")}
        files = {}
        for name, fig in many.items():
            figstyle.to_bytes(plt, fig, name, files)
    assert {name: png_size(files[f"{name}.png"]) for name in many} == dict.fromkeys(many, (1920, 1080))
    for name, fig in [*one.items(), *three.items()]:  # the old latency figure grew to 1650 x 2520, the old heatmap shrank
        assert tuple(fig.get_size_inches() * fig.dpi) == (1920, 1080), name
    for name, fig in [*one.items(), *three.items()]:
        used = {t.get_fontsize() for t in texts(fig)}
        assert used <= figstyle.SIZES, (name, used)  # the old heatmap wrote at its own sizes, on a smaller page


def test_titles_state_the_takeaway_and_the_cost_basis(one, one_at_volume):
    title, subtitle = header(one["accuracy_vs_cost_tickets"])
    assert title == r"Most accurate: big-api (87%, \$1.4/1k); cheapest: tiny (67%, \$0.05/1k), at capacity"
    assert subtitle.startswith("tickets: accuracy (bars: 95% interval) against cost per 1,000 requests at capacity")
    assert one["accuracy_vs_cost_tickets"].axes[0].get_xlabel().endswith(", at capacity (machine busy)")
    assert header(one["monthly_cost_tickets"])[0] == "tiny costs less than big-api from 188,000 requests/month"
    assert header(one["speed"])[0].startswith("Highest throughput: ")

    for name in ("accuracy_vs_cost_tickets", "monthly_cost_tickets"):  # the decision's sentence, $ kept inert
        assert header(one_at_volume[name])[0] == SAID["tickets"].replace("$", r"\$")
    fig = one_at_volume["accuracy_vs_cost_tickets"]
    assert "at 50,000 requests/month: self-hosted models pay for whole machines at 50% utilisation" in header(fig)[1]
    assert fig.axes[0].get_xlabel().endswith(", at 50,000 requests/month")
    # tiny's box: 0.36 USD/h x 730 h = 262.8 USD for its one machine a month, / 50 = 5.256 USD per 1,000
    squares = [line for line in fig.axes[0].get_lines() if line.get_marker() == "s" and len(line.get_xdata())]
    assert [tuple(line.get_xydata()[0]) for line in squares] == [pytest.approx((5.256, 100 * 20 / 30))]
    legend = one_at_volume["monthly_cost_tickets"].axes[0].get_legend()
    assert "your volume: 50,000/month" in [t.get_text() for t in legend.texts]


def overlaps(boxes: list) -> list:
    return [(a, b) for (a, ba), (b, bb) in itertools.combinations(boxes, 2) if ba.overlaps(bb)]


def test_no_cut_legend_no_overlapping_label_and_no_text_off_the_figure(three, one_at_volume):
    figs = {**three, **{f"one {k}": v for k, v in one_at_volume.items()}}
    for name, fig in figs.items():
        renderer = fig.canvas.get_renderer()
        page = fig.bbox
        for t in texts(fig):  # nothing cut at the figure's edges (a title ran off the right once)
            box = t.get_window_extent(renderer)
            assert page.x0 - 1 <= box.x0 and box.x1 <= page.x1 + 1 and page.y0 - 1 <= box.y0 and box.y1 <= page.y1 + 1, (
                name, t.get_text())
        for ax in fig.axes:
            if ax.get_legend():
                assert not [t.get_text() for t in ax.get_legend().texts if t.get_text().endswith("...")], name
            labels = [(t.get_text(), Text.get_window_extent(t, renderer))  # the text, not its leader line
                      for t in ax.texts if t.get_text().strip()]
            if ax.get_legend():
                labels.append(("legend", ax.get_legend().get_window_extent(renderer)))
            if not name.startswith("accuracy_heatmap"):  # a heatmap's numbers sit in their own cells
                assert not overlaps(labels), (name, overlaps(labels))
            plotted = ax.get_tightbbox(renderer)
            assert not any(t.get_window_extent(renderer).overlaps(plotted) for t in fig.texts[:2]), name
    # two boxes at 0.36 and 0.40 USD/h break even with big-api at 188,000 and 209,000 requests a month (and the
    # served model at 1,300,000): three stars close together, three labels, none over another
    breaks = [unwrap(t.get_text()) for t in three["monthly_cost_tickets"].axes[0].texts]
    assert sorted(breaks) == sorted([f"{LOCAL} breaks even with big-api at 188,000/month",
                                     f"{OTHER} breaks even with big-api at 209,000/month",
                                     "qwen-7b-served breaks even with big-api at 1,300,000/month"])


def test_a_single_task_gets_no_pooled_figure_and_no_heatmap(one, three):
    assert sorted(one) == ["accuracy_vs_cost_tickets", "accuracy_vs_latency", "memory", "monthly_cost_tickets",
                           "speed"]
    panels = [ax for ax in one["accuracy_vs_latency"].axes if ax.axison]
    assert len(panels) == 1 and "pooled" not in " ".join(t.get_text() for t in texts(one["accuracy_vs_latency"]))
    assert {"accuracy_vs_cost_overall", "accuracy_heatmap"} <= set(three)
    titles = [ax.get_title() for ax in three["accuracy_vs_latency"].axes]
    assert titles == ["tickets", "order_math", "extract_fields", "all 3 tasks pooled"]


def test_throughput_bars_say_the_load_they_were_measured_at(tmp_path):
    run = three_tasks(tmp_path)
    merged = build.load([run], None)
    engines = {LOCAL: ("static", 4, 2), OTHER: ("continuous", 16, None)}
    merged.cells[:] = [dataclasses.replace(c, engine=engines[c.model][0], batch_size=engines[c.model][1],
                                           batch_size_used=engines[c.model][2]) if c.model in engines else c
                       for c in merged.cells]
    rows, _, _ = build.tables(merged, 0.5, None)
    cells = {(c.model, c.task): c for c in merged.cells}
    with figstyle.style() as plt:
        fig = perfplots.speed(plt, rows, merged.records, cells, None, "")
        ticks = [t.get_text() for t in fig.axes[0].get_yticklabels()]
        assert "not like for like" in header(fig)[1]
        plt.close(fig)
    # the local box that ran out of memory halved its batch of 4 to 2: the load it was measured at
    assert ticks == ["big-api\nconcurrency 8", "qwen-7b-served\nconcurrency 8",
                     f"{LOCAL}\nstatic batch of 2", f"{OTHER}\n16 in flight (continuous)"]


def test_the_sweep_figure_is_a_slide_whose_title_is_the_capacity():
    levels = [{"row": "level", "model": m, "task": "tickets", "kind": "concurrency", "level": lv,
               "latency_p95_s": p95, "requests_per_s": rps}
              for m, pts in (("api", [(1, 0.2, 4.0), (4, 0.3, 12.0), (8, 0.7, 15.0)]),
                             ("srv", [(1, 0.1, 8.0), (4, 0.2, 25.0), (8, 0.35, 31.0)]))
              for lv, p95, rps in pts]
    caps = [{"row": "capacity", "model": "api", "task": "tickets", "kind": "concurrency", "capacity_level": 4,
             "capacity_requests_per_s": 12.0},
            {"row": "capacity", "model": "srv", "task": "tickets", "kind": "concurrency", "capacity_level": 8,
             "capacity_requests_per_s": 31.0}]
    files = sweepplot.draw(levels + caps, 500, "sweep-1")
    assert png_size(files["plots/sweep_tickets.png"]) == (1920, 1080)
    assert sweepplot.takeaway(caps, 500) == ("Capacity at p95 <= 500 ms: srv 31 req/s (concurrency 8); "
                                             "api 12 req/s (concurrency 4)")
