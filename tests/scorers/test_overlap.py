"""token_f1 (SQuAD) and rouge_l, with hand-computed values."""

from __future__ import annotations

import json

import pytest

from bench.scoring import rouge_l, squad_normalize, token_f1
from bench.scorers.overlap import lcs_length


@pytest.mark.parametrize("text, want", [
    ("The Denver Broncos!", "denver broncos"),
    ("an apple, a pear", "apple pear"),
    ("  Theatre  ", "theatre"),  # 'the' only as a whole word
    ("U.S.A.", "usa"),
])
def test_squad_normalize(text, want):
    assert squad_normalize(text) == want


def test_token_f1_values():
    sc = token_f1()
    assert sc("Denver Broncos", "Denver Broncos").value == 1.0
    assert sc("the Denver Broncos.", "Denver Broncos").value == 1.0
    # pred {broncos}, ref {denver, broncos}: P = 1, R = 1/2, F1 = 2/3
    assert sc("Broncos", "Denver Broncos").value == pytest.approx(2 / 3)
    # pred {denver, broncos, won, 24, 10}: P = 2/5, R = 1, F1 = 4/7
    assert sc("Denver Broncos won 24 10", "Denver Broncos").value == pytest.approx(4 / 7)
    assert sc("Carolina Panthers", "Denver Broncos").value == 0.0
    assert sc("", "Denver Broncos").value == 0.0


def test_token_f1_best_of_several_answers():
    target = json.dumps(["Denver Broncos", "Broncos", "Denver"])
    s = token_f1()("Broncos", target)
    assert s.value == 1.0 and s.details["exact"]
    s = token_f1()("the team from Denver", target)
    # best against "Denver": pred {team, from, denver}: P = 1/3, R = 1 -> 0.5
    assert s.value == pytest.approx(0.5) and "'Denver'" in s.reason


def test_token_f1_repeated_tokens_count_once_each():
    # pred: 308 308 308, ref: 308 -> common 1, P = 1/3, R = 1 -> 0.5
    assert token_f1()("308 308 308", "308").value == pytest.approx(0.5)


def test_lcs_length():
    assert lcs_length(list("abcbdab"), list("bdcaba")) == 4
    assert lcs_length([], ["a"]) == 0


def test_rouge_l_values():
    ref = "the invoice of 1200 EUR is due on 3 March"
    sc = rouge_l()
    assert sc(ref, ref).value == pytest.approx(1.0)
    # output 5 words, all in order in the 10-word reference: P = 1, R = 0.5 -> 2/3
    assert sc("invoice 1200 EUR 3 March", ref).value == pytest.approx(2 / 3)
    # order matters: reversed words share an LCS of 1
    assert sc("march 3 on due", "due on 3 march").value == pytest.approx(2 * 1 / 8)
    assert sc("", ref).value == 0.0


def test_rouge_l_facts():
    ref = "Acme asks Globex to pay invoice INV-77 of $1,200 by 3 March."
    facts = ["Acme", "INV-77", "$1,200", "3 March"]
    s = rouge_l()("Globex must pay ACME's inv-77 ($1,200) by 3  March.", ref, facts=facts)
    assert s.details["facts"] == {"Acme": True, "INV-77": True, "$1,200": True, "3 March": True}
    assert s.details["fact_recall"] == 1.0
    s = rouge_l()("Acme wants money for INV-77.", ref, facts=facts)
    assert s.details["fact_recall"] == 0.5 and "2/4 facts" in s.reason
    assert s.details["facts"]["$1,200"] is False
    assert rouge_l()("x", ref).details.get("facts") is None  # no facts asked, none reported
