"""Text from outside bench (a model's output, a server's reply, a name or key from a file) made safe
to show. One set of control characters, and the three places text is shown: one plain line (the
terminal, CSV), a Markdown table cell, and HTML.

The set, CONTROL: C0 controls (U+0000-U+001F: NUL, escape, newline, ...), DEL and the C1 controls
(U+007F-U+009F, NEL among them), the line and paragraph separators U+2028 and U+2029 (line ends to
str.splitlines, editors and JavaScript), lone surrogates (U+D800-U+DFFF: not encodable as UTF-8)
and the non-characters U+FFFE and U+FFFF. Shown text never carries one raw: it becomes a space
(`plain`) or its visible Python escape (`visible`: \\n, \\x1b, \\u2028); multi-line HTML keeps tab,
newline and carriage return, its layout.
"""

from __future__ import annotations

import html
import re

CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufffe\uffff]")
_CONTROL_RUN = re.compile(CONTROL.pattern + "+")
_CONTROL_NOT_LAYOUT = re.compile("(?![\t\n\r])" + CONTROL.pattern)  # what multi-line text escapes


def _escape(m: re.Match) -> str:
    return repr(m.group())[1:-1]  # "\n" -> \n, ESC -> \x1b, U+2028 -> \u2028


def visible(text: str, *, keep_layout: bool = False) -> str:
    """Each control character as its Python escape (a key holding "\\n" reads gpu\\n): one line,
    or, with keep_layout, tab and line breaks kept as they are."""
    return (_CONTROL_NOT_LAYOUT if keep_layout else CONTROL).sub(_escape, str(text))


def plain(text: str) -> str:
    """Text as one printable line: each run of control characters (terminal escapes, NUL, newlines)
    becomes one space."""
    return _CONTROL_RUN.sub(" ", str(text))


def md_cell(text: str) -> str:
    """A Markdown table cell or list item: one line; pipes, backslashes and "<" (no raw HTML) escaped."""
    return plain(text).replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;")


def esc(value) -> str:
    """Text safe in HTML, inside an element or a quoted attribute: control characters as visible
    escapes (layout kept, for <pre>), then html.escape. None is the empty string."""
    text = "" if value is None else str(value)
    return html.escape(visible(text, keep_layout=True), quote=True)


def markdown_table(head: list[str], body: list[list[str]]) -> list[str]:
    """Every cell one escaped Markdown line (md_cell): names from a run folder stay inert text."""
    def row(cols: list[str]) -> str:
        return "| " + " | ".join(md_cell(c) for c in cols) + " |"

    return [row(head), "|" + "|".join("---" for _ in head) + "|"] + [row(b) for b in body]


def text_table(head: list[str], body: list[list[str]], left: int = 2) -> str:
    """A fixed-width terminal table; every cell plain (no terminal escapes, no line breaks)."""
    head, body = [plain(c) for c in head], [[plain(c) for c in b] for b in body]
    widths = [max(len(x) for x in col) for col in zip(head, *body)]

    def fmt(cols: list[str]) -> str:
        return "  ".join(c.ljust(w) if i < left else c.rjust(w) for i, (c, w) in enumerate(zip(cols, widths)))

    return "\n".join([fmt(head), fmt(["-" * w for w in widths])] + [fmt(b) for b in body])
