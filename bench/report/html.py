"""report.html: one self-contained file (plots as base64 PNG, inline CSS, no script, nothing
fetched). Every piece of text that comes from a run (outputs, names, configs) is escaped, control
characters are shown as escapes, and long outputs are cut, so a hostile output stays inert text.
The embedded docs are Markdown rendered by markdown-it-py with raw HTML off."""

from __future__ import annotations

import base64
import json
import re
from urllib.parse import urlsplit

from bench.core.types import PooledRow, SummaryRow
from bench.report import examples, summary, table
from bench.report.decision import Question
from bench.safetext import esc, visible

SHOWN_CHARS = 600  # of one example output
NO_PLOTS = "No plots: no cell has results (every one was skipped or failed; the summary says why)."

CSS = """
body{font:15px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:2em auto;max-width:1200px;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:13px}th,td{border:1px solid #ccc;padding:3px 7px;text-align:right}
th{background:#f0f0f0}td:nth-child(-n+2),th:nth-child(-n+2){text-align:left;white-space:nowrap}
img{max-width:100%;border:1px solid #ddd;margin:.5em 0}pre{background:#f6f6f6;padding:.6em;overflow-x:auto;white-space:pre-wrap;word-break:break-all}
.doc td,.doc th{text-align:left;white-space:normal}.ok{color:#176d2c}.bad{color:#a0161b}details{margin:.4em 0}code{background:#f3f3f3;padding:0 3px}
.ex td,.ex th{text-align:left;white-space:normal;vertical-align:top}.ex th{width:11em}.ex{width:100%}.ex pre{margin:0}
"""

def cut(text, limit: int = SHOWN_CHARS) -> str:
    text = "" if text is None else str(text)
    return text if len(text) <= limit else text[:limit] + f" [... {len(text) - limit:,} more characters]"


def _table(head: list[str], body: list[list[str]]) -> str:
    return ("<table><tr>" + "".join(f"<th>{esc(h)}</th>" for h in head) + "</tr>"
            + "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in body) + "</table>")


def doc_anchor(name: str) -> str:
    """The in-page id of an embedded doc: cost.md -> doc-cost-md."""
    return "doc-" + re.sub(r"[^A-Za-z0-9_-]", "-", name)


def _link_target(href: str, anchors: dict[str, str]) -> str | None:
    """A link's in-page target: a relative link to an embedded doc (cost.md, docs/cost.md#x) goes to
    that doc's section; anything else (other files, the network, javascript:) has none."""
    parts = urlsplit(href.strip())
    if parts.scheme or parts.netloc or not parts.path:
        return None
    name = parts.path.rsplit("/", 1)[-1]
    return f"#{anchors[name]}" if name in anchors else None


def _inline(tokens: list, anchors: dict[str, str]) -> list:
    """An inline token list with links resolved: kept as in-page anchors, else reduced to their text;
    images reduced to their alt text (a self-contained page fetches nothing)."""
    out, kept = [], []
    for t in tokens:
        if t.type == "link_open":
            target = _link_target(t.attrGet("href") or "", anchors)
            kept.append(target is not None)
            if target is not None:
                t.attrs = {"href": target}
                out.append(t)
        elif t.type == "link_close":
            if kept.pop():
                out.append(t)
        elif t.type == "image":
            out += _inline(t.children or [], anchors)
        else:
            out.append(t)
    return out


def markdown(text: str, anchors: dict[str, str] | None = None) -> str:
    """A doc's Markdown (CommonMark and tables) as HTML. Raw HTML is off, so `<script>` in a doc stays
    text; links go only to the docs embedded in this page (anchors: file name -> id), other links and
    images keep their text; control characters show as escapes; headings sit below the page's own."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    tokens = md.parse(visible(text, keep_layout=True))
    for t in tokens:
        if t.type in ("heading_open", "heading_close"):
            t.tag = f"h{min(6, int(t.tag[1]) + 2)}"
        if t.children:
            t.children = _inline(t.children, anchors or {})
    return md.renderer.render(tokens, md.options, {})


def build(*, title: str, merged, rows: list[SummaryRow], overall: list[PooledRow], plots: dict[str, bytes],
          definitions: list[tuple[str, str]], notes: list[str], utilisation: float,
          capacity_html: str = "", sweeps_html: str = "", traced: str = "", lead: str = "",
          volume: float = Question.volume_per_month) -> str:
    """capacity_html, sweeps_html: with a sweep given, the capacity each cost used (under the cost
    note) and the section on the sweeps (after the cost tables); bench/report/sweeps.py makes both.
    traced: the label and disagreement sections (bench/report/trace.py). lead: the decision's HTML
    (bench/report/decisiontext.py), the page's first section."""
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
             f"<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">"
             f"<title>{esc(title)}</title><style>{CSS}</style></head><body>",
             f"<h1>{esc(title)}</h1>",
             "<p>Runs: " + ", ".join(f"<code>{esc(r)}</code>" for r in merged.run_ids) + "</p>"]
    parts += [f"<p><b>{esc(n)}</b></p>" for n in notes]
    parts += [lead] if lead else []
    parts.append("<h2 id='summary'>Summary</h2>")
    columns = summary.display(rows)
    parts.append(_table([h for h, _, _ in columns], [summary.cells(r, columns) for r in rows]))
    for head, lines in (("Cells that did not finish", summary.unfinished(rows)), ("Warnings", summary.warnings(rows))):
        if lines:
            parts.append(f"<p>{head}:</p><ul>" + "".join(f"<li>{esc(x)}</li>" for x in lines) + "</ul>")
    parts.append("<h2 id='cost'>Cost</h2>")
    parts.append(_table(*table.cost_table(rows, volume, utilisation)))
    parts.append(f"<p>{esc(table.COST_NOTE.format(u=utilisation, v=volume))}</p>")
    if capacity_html:
        parts.append(capacity_html)
    if overall:
        parts.append(f"<h3>{esc(table.pooled_title(overall).capitalize())}</h3>")
        parts.append(_table(table.OVERALL_HEAD, [table.overall_cells(r) for r in overall]))
    if sweeps_html:
        parts.append(sweeps_html)
    parts.append("<h2 id='plots'>Plots</h2>")
    if not plots:
        parts.append(f"<p>{esc(NO_PLOTS)}</p>")
    for name, data in plots.items():
        if name.endswith(".png"):
            parts.append(f"<figure><img alt='{esc(name)}' src='data:image/png;base64,{base64.b64encode(data).decode()}'>"
                         f"<figcaption>{esc(name)} (SVG beside it in plots/)</figcaption></figure>")
    parts.append(traced)  # per-label accuracy, confusion matrices, where models disagree (bench/report/trace.py)
    parts.append("<h2 id='examples'>Example outputs</h2>")
    parts.append(examples.section(merged.records, merged.inputs, [(r.model, r.task) for r in rows]))
    parts.append("<h2 id='definitions'>Definitions</h2>")
    anchors = {name: doc_anchor(name) for name, _ in definitions}
    for name, text in definitions:
        # the id inside the closed <details>: following a link to it opens it (the HTML standard's
        # ancestor-details revealing, which Chromium does; checked with --dump-dom)
        parts.append(f"<details><summary>{esc(name)}</summary>"
                     f"<div class='doc' id='{anchors[name]}'>{markdown(text, anchors)}</div></details>")
    parts.append("<h2 id='manifest'>Manifest</h2>")
    for m in merged.manifests:
        parts.append(f"<details><summary>run {esc(m.get('run_id'))}</summary><pre>"
                     f"{esc(cut(json.dumps(m, indent=2, ensure_ascii=False, default=str), 200_000))}</pre></details>")
    prices = {m: {"source": merged.price_source.get(m), **p.__dict__} for m, p in merged.pricing.items()}
    parts.append("<h3>Prices used in this report</h3><pre>" + esc(json.dumps(prices, indent=2)) + "</pre>")
    parts.append("</body></html>")
    return "\n".join(parts)


