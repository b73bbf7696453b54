"""span_f1: typed spans as JSON, as in PII redaction."""

from __future__ import annotations

import json

import pytest

from bench.scoring import span_f1

TARGET = json.dumps([{"type": "NAME", "text": "Anna Berg"}, {"type": "EMAIL", "text": "anna@berg.se"},
                     {"type": "PHONE", "text": "+46 70 123 45 67"}])


def spans(*pairs) -> str:
    return json.dumps([{"type": t, "text": x} for t, x in pairs])


def test_span_f1_perfect_in_any_order_and_case():
    out = "```json\n" + spans(("phone", "+46 70 123 45 67"), ("NAME", "anna berg"), ("EMAIL", "anna@berg.se")) + "\n```"
    s = span_f1()(out, TARGET)
    assert s.value == 1.0 and s.details["valid_json"] and s.details["missed"] == []


def test_span_f1_partial():
    # 2 right, 1 missed, 1 wrong type: P = 2/3, R = 2/3
    out = spans(("NAME", "Anna Berg"), ("EMAIL", "anna@berg.se"), ("NAME", "+46 70 123 45 67"))
    s = span_f1()(out, TARGET)
    assert s.value == pytest.approx(2 / 3)
    assert s.details["missed"] == ["PHONE:+46 70 123 45 67"] and s.details["extra"] == ["NAME:+46 70 123 45 67"]


def test_span_f1_duplicates_count_once():
    out = spans(("NAME", "Anna Berg"), ("NAME", "Anna Berg"))
    # 1 hit of 2 predicted (P = 1/2) and of 3 expected (R = 1/3): F1 = 0.4
    assert span_f1()(out, TARGET).value == pytest.approx(0.4)


def test_span_f1_empty_cases():
    assert span_f1()("[]", "[]").value == 1.0
    assert span_f1()("No PII found: []", "[]").value == 1.0
    assert span_f1()(spans(("NAME", "Bob")), "[]").value == 0.0
    assert span_f1()("[]", TARGET).value == 0.0


@pytest.mark.parametrize("out", ["none", "{\"type\": \"NAME\"}", "[{\"type\": \"NAME\", \"text\": "])
def test_span_f1_no_json_array(out):
    s = span_f1()(out, TARGET)
    assert s.value == 0.0 and s.details == {"valid_json": False}
