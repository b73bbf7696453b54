"""`bench report` on constructed run folders: costs by hand, re-pricing, merging, bad input, and
a report.html that stays safe with hostile outputs."""

from __future__ import annotations

import csv
import re
import shutil
import subprocess

import pytest

from fakerun import api_model, local_model, make_run
from e2e.test_e2e import cli

SCORES_BIG = [1.0] * 18 + [0.0] * 2  # 90%
SCORES_SMALL = [1.0] * 15 + [0.0] * 5  # 75%


def rows_of(folder) -> dict[str, dict]:
    return {r["model"]: r for r in csv.DictReader((folder / "summary.csv").open())}


def two_model_run(tmp_path, name="run-a"):
    return make_run(tmp_path / name, {"big": api_model(1.0, 4.0), "small": local_model()},
                    {("big", "t1"): SCORES_BIG, ("small", "t1"): SCORES_SMALL})


PRICES = """\
[hardware.box]
usd_per_hour = 0.72

[models.big]
backend = "openai"
model = "big"
base_url = "http://localhost:1/v1"
usd_per_mtok_in = 2.0
usd_per_mtok_out = 8.0
prices_as_of = "2026-12-01"

[models.small]
backend = "transformers"
model = "/nowhere"
hardware = "box"
"""


def test_costs_match_a_hand_computation_and_repricing_changes_them(tmp_path):
    run = two_model_run(tmp_path)
    proc = cli("report", str(run), "--out", str(tmp_path / "rep"))
    assert proc.returncode == 0, proc.stderr
    rows = rows_of(tmp_path / "rep")
    big, small = rows["big"], rows["small"]
    # big, per request: (1,000 input x 1.0 + 100 output x 4.0) / 1e6 = 0.0014 USD -> 1.40 per 1k;
    # 20 requests = 0.028 USD; per 1M output tokens: 0.028 / 2,000 x 1e6 = 14; per correct 0.0014 / 0.9
    assert float(big["usd_per_1k_requests"]) == pytest.approx(1.4)
    assert float(big["cost_usd"]) == pytest.approx(0.028)
    assert float(big["usd_per_mtok_out"]) == pytest.approx(14.0)
    assert float(big["usd_per_correct"]) == pytest.approx(0.0014 / 0.9)
    # small: batches of 4 rows taking 2.0 s: 0.5 s per request x 0.36 USD/h / 3600 = 0.00005 USD -> 0.05 per 1k;
    # one busy box serves 1 / 0.5 s = 2 requests/s
    assert float(small["usd_per_1k_requests"]) == pytest.approx(0.05)
    assert float(small["requests_per_s"]) == pytest.approx(2.0)
    # break-even vs big at 50% utilisation: a box costs 0.36 x 730 = 262.8 USD/month and serves
    # 2 x 0.5 x 730 x 3600 = 2,628,000 requests; the API costs 0.0014 each: 262.8 / 0.0014 = 187,714.3
    assert small["break_even_vs"] == "big"
    assert float(small["break_even_requests_per_month"]) == pytest.approx(262.8 / 0.0014)
    assert big["prices_as_of"] == "2026-11-01" and big["price_source"] == "run run-a"

    prices = tmp_path / "prices.toml"
    prices.write_text(PRICES)
    proc = cli("report", str(run), "--config", str(prices), "--out", str(tmp_path / "rep2"))
    assert proc.returncode == 0, proc.stderr
    rows = rows_of(tmp_path / "rep2")
    # big re-priced: (1,000 x 2.0 + 100 x 8.0) / 1e6 = 0.0028 -> 2.80 per 1k
    assert float(rows["big"]["usd_per_1k_requests"]) == pytest.approx(2.8)
    assert rows["big"]["prices_as_of"] == "2026-12-01" and rows["big"]["price_source"] == str(prices)
    # small at 0.72 USD/h: 0.5 s x 0.72 / 3600 = 0.0001 -> 0.10 per 1k; break-even 525.6 / 0.0028 = 187,714.3
    assert float(rows["small"]["usd_per_1k_requests"]) == pytest.approx(0.1)
    assert float(rows["small"]["break_even_requests_per_month"]) == pytest.approx(0.72 * 730 / 0.0028)
    md = (tmp_path / "rep2" / "summary.md").read_text()
    assert "## Cost" in md and "| small | t1 |" in md and "Re-priced with" in md


def test_one_run_reports_into_its_own_folder(tmp_path):
    run = two_model_run(tmp_path)
    proc = cli("report", str(run))
    assert proc.returncode == 0, proc.stderr
    assert (run / "report.html").is_file() and (run / "plots" / "accuracy_vs_cost_t1.png").is_file()
    assert f"report: {run / 'report.html'}" in proc.stdout


def test_merging_runs_takes_each_cell_from_the_run_that_ran_it(tmp_path):
    local = make_run(tmp_path / "gpu-box", {"small": local_model(), "big": api_model(), "ghost": local_model()},
                     {("small", "t1"): SCORES_SMALL}, statuses={("big", "t1"): "no_key", ("ghost", "t1"): "skipped"})
    api = make_run(tmp_path / "laptop", {"big": api_model()}, {("big", "t1"): SCORES_BIG})
    proc = cli("report", str(local), str(api), "--out", str(tmp_path / "rep"))
    assert proc.returncode == 0, proc.stderr
    rows = rows_of(tmp_path / "rep")
    assert rows["big"]["status"] == "ok" and rows["big"]["run_id"] == "laptop"
    assert rows["small"]["run_id"] == "gpu-box" and rows["small"]["break_even_vs"] == "big"
    assert rows["ghost"]["status"] == "skipped" and rows["ghost"]["cost_usd"] == ""
    md = (tmp_path / "rep" / "summary.md").read_text()
    assert "ghost x t1: not run" in md and "tasks pooled" not in md  # one task: no pooled table repeating it

    again = make_run(tmp_path / "again", {"small": local_model()}, {("small", "t1"): SCORES_BIG})
    proc = cli("report", str(local), str(again), "--out", str(tmp_path / "rep3"))
    assert proc.returncode == 2 and "small x t1 also has results in run gpu-box" in proc.stderr
    assert not (tmp_path / "rep3").exists()


def _one_error_line(proc) -> str:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    return proc.stderr


def test_bad_input_exits_2_naming_the_place_and_writes_nothing(tmp_path):
    run = two_model_run(tmp_path)
    before = sorted(p.name for p in run.iterdir())
    out = tmp_path / "out"
    assert "not a run folder" in _one_error_line(cli("report", str(tmp_path), "--out", str(out)))
    assert "not a folder" in _one_error_line(cli("report", str(tmp_path / "nope"), "--out", str(out)))

    broken = tmp_path / "broken"
    shutil.copytree(run, broken)
    lines = (broken / "records.jsonl").read_text().splitlines()
    (broken / "records.jsonl").write_text("\n".join(lines[:2] + ['{"model": "big", "tas'] + lines[3:]) + "\n")
    assert f"{broken / 'records.jsonl'}:3: corrupted line" in _one_error_line(cli("report", str(broken)))
    (broken / "records.jsonl").write_text("\n".join(lines[:1] + ['{"model": "big", "task": "t1"}'] + lines[2:]))
    assert f"{broken / 'records.jsonl'}:2: key 'example_id'" in _one_error_line(cli("report", str(broken)))
    assert not (broken / "report.html").exists() and not (broken / "plots").exists()

    bad = tmp_path / "bad.toml"
    bad.write_text(PRICES.replace("usd_per_hour = 0.72", "usd_per_hour = -1"))
    err = _one_error_line(cli("report", str(run), "--config", str(bad), "--out", str(out)))
    assert f"{bad}:2: key 'hardware.box.usd_per_hour'" in err
    bad.write_text("[models.big\n")
    assert f"{bad}: TOML syntax error" in _one_error_line(cli("report", str(run), "--config", str(bad)))
    assert "--utilisation" in _one_error_line(cli("report", str(run), "--utilisation", "0"))
    assert "--baseline 'nobody'" in _one_error_line(cli("report", str(run), "--baseline", "nobody"))
    afile = tmp_path / "afile"
    afile.write_text("")
    assert _one_error_line(cli("report", str(run), "--out", str(afile / "out"))).strip() == (
        f"error: {afile / 'out'}: cannot write the report here; pass --out with a folder you can write")
    assert not out.exists() and sorted(p.name for p in run.iterdir()) == before


HOSTILE = "<script>alert(1)</script>\x00\x07\x1b[31m" + "A" * 1_000_000


def hostile_run(tmp_path):
    return make_run(tmp_path / "hostile", {"big": api_model(), "evil$x<b>bold</b>": local_model()},
                    {("big", "t1"): SCORES_BIG, ("evil$x<b>bold</b>", "t1"): SCORES_SMALL},
                    outputs={"big": HOSTILE, "evil$x<b>bold</b>": "</pre><script>alert(2)</script>"})


def test_hostile_outputs_and_names_stay_inert_text(tmp_path):
    run = hostile_run(tmp_path)
    odd = make_run(tmp_path / "odd", {"m": api_model()}, {("m", "../../escape"): [1.0]})
    assert cli("report", str(odd)).returncode == 0
    assert (odd / "plots" / "accuracy_vs_cost_______escape.png").is_file() and not (tmp_path / "escape.png").exists()
    proc = cli("report", str(run))
    assert proc.returncode == 0, proc.stderr
    page = (run / "report.html").read_text()
    assert not re.search(r"<script", page, re.I) and "<b>bold</b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;\\x00\\x07\\x1b[31m" in page
    assert "more characters]" in page and len(page) < 2_000_000  # the 1 MB output is cut for display
    assert "evil$x&lt;b&gt;bold&lt;/b&gt;" in page
    assert "http://" not in page.replace("http://localhost", "") and "https://" not in page  # nothing fetched


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if shutil.which(name):
            return shutil.which(name)
    pytest.skip("no headless Chromium on this machine (apt-get install chromium); report.html not rendered")


def render(page, tmp_path) -> tuple[str, bytes]:
    """The DOM after Chromium parsed the page, and a screenshot of it."""
    base = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            f"--user-data-dir={tmp_path / 'chrome-profile'}"]
    dom = subprocess.run(base + ["--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=180)
    shot = tmp_path / "shot.png"
    subprocess.run(base + [f"--screenshot={shot}", "--window-size=1300,2000", page.as_uri()], capture_output=True,
                   timeout=180)
    return dom.stdout, shot.read_bytes() if shot.exists() else b""


def test_hostile_report_renders_in_chromium_without_running_anything(tmp_path):
    run = hostile_run(tmp_path)
    assert cli("report", str(run)).returncode == 0
    dom, shot = render(run / "report.html", tmp_path)
    assert "<table" in dom and dom.count('src="data:image/png;base64,') == 5  # one task: no pooled figure, no heatmap
    assert "<script" not in dom.lower() and "<b>bold</b>" not in dom
    assert shot.startswith(b"\x89PNG") and len(shot) > 20_000
