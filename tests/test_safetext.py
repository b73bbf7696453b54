"""One set of control characters and the ways bench shows outside text: a plain line, a Markdown
cell, a visible escape (config keys) and HTML. The set is the union of the three the terminal,
config and report.html used to apply each on its own."""

from __future__ import annotations

from bench.config import where
from bench.safetext import CONTROL, esc, md_cell, plain, visible

# each of the former sets: summary/config (C0, DEL, C1, U+2028/9), report.html (C0 but layout, DEL,
# C1, lone surrogates, U+FFFE/F)
ONE_LINE = [chr(c) for c in [*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029]]
HTML = [chr(c) for c in [*range(0x20), *range(0x7F, 0xA0), *range(0xD800, 0xE000), 0xFFFE, 0xFFFF]
        if chr(c) not in "\t\n\r"]
UNION = sorted(set(ONE_LINE) | set(HTML) | {"\t", "\n", "\r"})


def test_the_set_is_the_union_of_the_former_three_and_nothing_printable():
    assert all(CONTROL.fullmatch(ch) for ch in UNION)
    assert not [c for c in range(0x110000) if CONTROL.fullmatch(chr(c)) and chr(c) not in UNION]


def test_no_control_character_reaches_any_output_raw():
    for ch in UNION:
        text, shown = f"a{ch}b", "a" + repr(ch)[1:-1] + "b"  # U+2028 -> a\u2028b
        assert plain(text) == "a b" and md_cell(text) == "a b", hex(ord(ch))
        assert visible(text) == shown and shown.isprintable(), hex(ord(ch))
        assert esc(text) == (text if ch in "\t\n\r" else shown), hex(ord(ch))  # HTML keeps its layout


def test_plain_makes_each_run_of_controls_one_space():
    assert plain("ok\x00\x1b[2J\x07 | col |\r\nline\u2028sep\ud800 end") == "ok [2J  | col | line sep  end"


def test_md_cell_escapes_table_syntax_and_raw_html():
    assert md_cell("a|b\\c<img src=x>\n# h") == "a\\|b\\\\c&lt;img src=x> # h"


def test_esc_escapes_html_and_quotes_and_shows_escapes():
    assert esc("<script>'\"&\x1b[31m\u2028") == "&lt;script&gt;&#x27;&quot;&amp;\\x1b[31m\\u2028"
    assert esc(None) == "" and esc(0.5) == "0.5"


def test_a_config_key_with_controls_stays_one_line(tmp_path):
    said = where(tmp_path / "models.toml", "", ("hardware", "gpu\n\ufffe\ud800"))
    assert said.endswith("key 'hardware.gpu\\n\\ufffe\\ud800'") and said.isprintable()
