"""A user's own scorer, module:function: loading, wrapping its result, and its failures."""

from __future__ import annotations

import textwrap

import pytest

from bench.scoring import Score, make
from bench.scorers.user import load


@pytest.fixture
def module_dir(tmp_path):
    (tmp_path / "acme_scorers.py").write_text(textwrap.dedent("""
        from bench.scoring import Score

        def startswith(output, target):
            return output.lower().startswith(target.lower())

        def half(output, target):
            return 0.5

        def rich(output, target):
            return Score(0.25, output[:3], "custom reason", {"k": 1})

        def broken(output, target):
            raise KeyError("boom")

        def text(output, target):
            return "yes"

        def three(output, target, extra):
            return 1
    """), encoding="utf-8")
    return tmp_path


def test_results_become_scores(module_dir):
    sc = make("acme_scorers:startswith", search_dir=module_dir)
    assert sc("Billing please", "billing").value == 1.0
    assert sc("refunds", "billing").value == 0.0
    assert make("acme_scorers:half", search_dir=module_dir)("x", "y").value == 0.5
    assert make("acme_scorers:rich", search_dir=module_dir)("abcdef", "y") == Score(0.25, "abc", "custom reason", {"k": 1})


def test_a_failing_scorer_scores_0_with_the_reason(module_dir):
    s = make("acme_scorers:broken", search_dir=module_dir)("x", "y")
    assert s.value == 0.0 and "raised KeyError" in s.reason and "boom" in s.reason
    s = make("acme_scorers:text", search_dir=module_dir)("x", "y")
    assert s.value == 0.0 and "returned str" in s.reason


@pytest.mark.parametrize("spec, message", [
    ("acme_scorers:three", "must take two arguments"),
    ("acme_scorers:missing", "has no function 'missing'"),
    ("acme_nope:f", "cannot import module 'acme_nope'"),
])
def test_unusable_scorers(module_dir, spec, message):
    with pytest.raises(ValueError, match=message):
        load(spec, module_dir)
