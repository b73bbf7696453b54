"""A toy scorer: 1 when the target appears in the output. Its [score] option `case_sensitive`
(default false) is its own; its target check refuses an empty target."""

from __future__ import annotations

from bench.scorers.base import Score, ScoreOptions, Scorer, empty_target


def contains(*, case_sensitive: bool = False) -> Scorer:
    def score(output: str, target: str) -> Score:
        found = target in output if case_sensitive else target.casefold() in output.casefold()
        return Score(float(found), None, "the target is in the output" if found else f"no {target!r} in the output")

    return score


class ContainsOptions(ScoreOptions):
    case_sensitive: bool = False

    def kwargs(self, base):
        return {"case_sensitive": self.case_sensitive}

    def target_problem(self, target, base):
        return empty_target(target)
