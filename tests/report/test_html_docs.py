"""The docs embedded in report.html: real Markdown (links, tables, code) with raw HTML off. Links to
a doc embedded in the page become in-page anchors, every other link and image keeps only its
text, so hostile Markdown in a doc or an output stays inert and the page fetches nothing."""

from __future__ import annotations

import re
import subprocess

from bench.report import build, html
from fakerun import api_model, local_model, make_run
from test_report import chromium

ANCHORS = {"cost.md": "doc-cost-md", "metrics.md": "doc-metrics-md"}

HOSTILE = """\
# Title <script>alert(1)</script>

See [cost.md](cost.md), [the break-even](../docs/cost.md#break-even) and [models.md](models.md).
[click](javascript:alert(1)) [data](data:text/html;base64,PHNjcmlwdD4=) [web](https://example.com/x)
<img src=x onerror=alert(2)> ![pixel](https://tracker.example/p.png) <javascript:alert(3)>
<a href="javascript:alert(4)">raw</a> bell\x07 [nested ![i](x.png)](metrics.md)

| field | meaning |
| --- | --- |
| `cost_usd` | see [cost.md](cost.md) |

```
<script>alert(5)</script>
```
"""


def test_links_to_embedded_docs_become_in_page_anchors():
    out = html.markdown("Formulas: [cost.md](cost.md); [docs/metrics.md](docs/metrics.md#ttft)", ANCHORS)
    assert '<a href="#doc-cost-md">cost.md</a>' in out
    assert '<a href="#doc-metrics-md">docs/metrics.md</a>' in out
    assert "[cost.md]" not in out and "](" not in out


def test_hostile_markdown_in_a_doc_stays_inert():
    out = html.markdown(HOSTILE, ANCHORS)
    assert not re.search(r"<(script|img|iframe)", out, re.I)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out and "&lt;script&gt;alert(5)&lt;/script&gt;" in out
    assert "&lt;img src=x onerror=alert(2)&gt;" in out and "&lt;a href=" in out  # raw HTML shown as text
    hrefs = re.findall(r'href="([^"]*)"', out)
    assert hrefs == ["#doc-cost-md", "#doc-cost-md", "#doc-metrics-md", "#doc-cost-md"], hrefs
    assert "javascript:" not in "".join(hrefs) and "https://" not in out and "tracker" not in out
    for text in ("models.md", "click", "data", "web", "pixel", "nested i"):
        assert re.search(rf">[^<]*{text}|{text}[^<]*<", out), text  # the link's text is kept
    assert "\x07" not in out and "bell\\x07" in out
    assert "<h3>Title" in out  # under the page's own h1 and h2


def test_tables_code_and_emphasis_render():
    out = html.markdown("| a | b |\n| --- | ---: |\n| `x` | **1** |\n\n- one\n- two\n", ANCHORS)
    assert "<table>" in out and "<th>a</th>" in out and '<td style="text-align:right"><strong>1</strong></td>' in out
    assert "<td><code>x</code></td>" in out and "<ul>\n<li>one</li>\n<li>two</li>\n</ul>" in out


def test_report_links_its_docs_and_keeps_hostile_docs_and_outputs_inert(tmp_path, monkeypatch):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "metrics.md").write_text(HOSTILE)
    (docs / "cost.md").write_text("# Cost: exact formulas\n\n## Break-even\n\nSee [metrics.md](metrics.md).\n")
    monkeypatch.setattr(build, "DOCS", docs)
    run = make_run(tmp_path / "run", {"big": api_model(), "small": local_model()},
                   {("big", "t1"): [1.0, 0.0], ("small", "t1"): [0.0, 1.0]},
                   outputs={"big": "[click](javascript:alert(1)) <script>alert(6)</script>"})
    files, _ = build.render(build.load([run], None), title="t", notes=[])
    page = files["report.html"].decode()
    assert "<div class='doc' id='doc-cost-md'>" in page and "<div class='doc' id='doc-metrics-md'>" in page
    assert '<a href="#doc-metrics-md">metrics.md</a>' in page and '<a href="#doc-cost-md">cost.md</a>' in page
    assert "[click](javascript:alert(1)) &lt;script&gt;alert(6)&lt;/script&gt;" in page  # an output: literal text
    assert not re.search(r"<script|javascript:alert\(\d\)\"|href=\"javascript", page, re.I)


def test_shipped_docs_render_with_working_links_in_chromium(tmp_path):
    run = make_run(tmp_path / "run", {"big": api_model()}, {("big", "t1"): [1.0, 0.0]})
    files, _ = build.render(build.load([run], None), title="t", notes=[])
    page = files["report.html"].decode()
    assert "[cost.md](cost.md)" not in page and '<a href="#doc-cost-md">cost.md</a>' in page
    assert page.count("<table>") >= 4  # metrics.md's and cost.md's own tables
    out = tmp_path / "report.html"
    out.write_bytes(files["report.html"])
    dom = _dump_dom(out.as_uri() + "#doc-cost-md", tmp_path)
    # following the link opens the cost.md section (the id sits inside its <details>)
    assert re.search(r'<details open="">\s*<summary>cost\.md</summary>', dom), dom[-2000:]
    assert not re.search(r'<details open="">\s*<summary>metrics\.md</summary>', dom)


def _dump_dom(url: str, tmp_path) -> str:
    """The DOM after Chromium opened the URL (fragment navigation included)."""
    base = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            f"--user-data-dir={tmp_path / 'chrome-profile'}"]
    return subprocess.run(base + ["--dump-dom", url], capture_output=True, text=True, timeout=180).stdout
