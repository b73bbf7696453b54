"""choice and regex: the answers people and models actually write."""

from __future__ import annotations

import pytest

from bench.scoring import choice, regex

OPTIONS = ["London", "Paris", "Berlin", "Madrid"]


@pytest.mark.parametrize("out", [
    "B", "b", "(B)", "B)", "B.", "[B]", "**B**", "Answer: B", "answer: (B)", "The answer is B.",
    "The correct answer is (B) Paris", "B) Paris", "B. Paris", "B: Paris", "Option B", "  B\n",
    "B) Paris is the capital of France.",
])
def test_choice_accepts(out):
    s = choice()(out, "B", options=OPTIONS)
    assert s.value == 1.0 and s.extracted == "B", s.reason


@pytest.mark.parametrize("out", ["Paris", "paris.", "**Paris**"])
def test_choice_option_text_alone(out):
    s = choice()(out, "B", options=OPTIONS)
    assert s.value == 1.0 and s.extracted == "B"
    assert "option's text" in s.reason


def test_choice_option_text_needs_the_options():
    assert choice()("Paris", "B").value == 0.0


@pytest.mark.parametrize("out, why", [
    ("A or B", "more than one"), ("B or C", "more than one"), ("B, C", "more than one"),
    ("(B) and (C)", "more than one"), ("B/C", "more than one"),
    ("B) London", "text of option A"),
    ("E", "no option letter"), ("I don't know", "no option letter"), ("", "no option letter"),
    ("Because Paris is the capital, B", "no option letter"),
])
def test_choice_rejects(out, why):
    s = choice()(out, "B", options=OPTIONS)
    assert s.value == 0.0
    assert why in s.reason, s.reason


def test_choice_wrong_letter():
    s = choice()("C) Berlin", "B", options=OPTIONS)
    assert s.value == 0.0 and s.extracted == "C" and "expected B" in s.reason


def test_choice_lowercase_letter_followed_by_words_is_not_a_letter():
    # "a" is an English word: "a good question" must not read as option A
    assert choice()("a good question, but B", "A").extracted is None


@pytest.mark.parametrize("pattern, out, target, ok", [
    (r"Order #(\d+)", "Your order #4471 ships today", "4471", False),  # case matters in the pattern
    (r"(?i)order #(\d+)", "Your order #4471 ships today", "4471", True),
    (r"[A-Z]{2}-\d{4}", "ref: AB-1234 and CD-9999", "ab-1234", True),  # the first match, normalised
    (r"[A-Z]{2}-\d{4}", "ref: CD-9999 and AB-1234", "AB-1234", False),
    (r"Total: (\S+)", "Total: 12.50.", "12.50", True),  # final punctuation dropped by normalisation
])
def test_regex(pattern, out, target, ok):
    s = regex(pattern=pattern)(out, target)
    assert s.value == float(ok), s.reason


def test_regex_no_match():
    s = regex(pattern=r"\d{5}")("no zip code", "12345")
    assert s.value == 0.0 and s.extracted is None and "does not match" in s.reason


def test_regex_optional_group_that_did_not_take_part():
    s = regex(pattern=r"code(?: (\d+))?")("code", "")
    assert s.extracted == "" and s.value == 1.0


def test_choice_sentence_starting_with_a_capital_a_is_not_option_a():
    options = ["A mix of four elements.", "A survey.", "Pricing.", "A brand."]
    assert choice()("A mix of four elements.", "A", options=options).value == 1.0  # the option's text
    assert choice()("A brand.", "D", options=options).extracted == "D"
    assert choice()("A good question; I would say C", "C", options=options).extracted is None
    assert choice()("B because pricing matters", "B").extracted is None  # a bare letter then words...
    assert choice()("The answer is B because pricing matters", "B").value == 1.0  # ...after "answer is"
