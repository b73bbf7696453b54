"""Scorers for free text against a reference: token_f1 (SQuAD-style extractive QA) and rouge_l
(summaries, with an optional check of key facts)."""

from __future__ import annotations

import re
import string
import unicodedata
from collections import Counter
from typing import ClassVar

from pydantic import Field

from bench.scorers.base import Score, ScoreOptions, Scorer, as_list, empty_target

_PUNCT = set(string.punctuation)


def squad_normalize(text: str) -> str:
    """SQuAD v1.1's answer normalisation: lower case, punctuation removed, articles (a, an, the)
    removed, whitespace collapsed."""
    text = "".join(ch for ch in str(text).lower() if ch not in _PUNCT)
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def _f1(pred: list[str], ref: list[str]) -> float:
    if not pred or not ref:
        return float(pred == ref)
    common = sum((Counter(pred) & Counter(ref)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def token_f1() -> Scorer:
    """SQuAD token F1 between the normalised output and the reference. A target rendered from a
    list (a JSON array) holds several acceptable answers: the best F1 counts. "The Broncos." against
    "Denver Broncos" scores 0.67; an empty answer scores 1 only against an empty reference."""

    def score(output: str, target: str) -> Score:
        refs = as_list(target)
        refs = [str(r) for r in refs] if refs else [target]
        pred = squad_normalize(output).split()
        best, best_ref = max((_f1(pred, squad_normalize(r).split()), r) for r in refs)
        exact = " ".join(pred) == squad_normalize(best_ref)
        reason = "exact match after SQuAD normalisation" if exact else f"token F1 {best:.2f} against {best_ref!r}"
        return Score(best, " ".join(pred), reason, {"exact": exact})

    return score


def _tokens(text: str) -> list[str]:
    return re.findall(r"\w+", unicodedata.normalize("NFKC", str(text)).casefold())


def lcs_length(a: list[str], b: list[str]) -> int:
    """Length of the longest common subsequence, O(len(a) * len(b)) time, O(len(b)) memory."""
    if not a or not b:
        return 0
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b, 1):
            cur.append(prev[j - 1] + 1 if x == y else max(prev[j], cur[j - 1]))
        prev = cur
    return prev[-1]


def _squash(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", str(text)).casefold().split())


def rouge_l() -> Scorer:
    """ROUGE-L F1 (beta = 1) over lower-cased word tokens: the longest common subsequence of the
    output and the reference, as precision against the output and recall against the reference.
    With `facts` (a list of short strings from the reference), details record which facts appear in
    the output (case and whitespace ignored) and their share, `fact_recall`; the score is ROUGE-L."""

    def score(output: str, target: str, facts: list[str] | None = None) -> Score:
        out, ref = _tokens(output), _tokens(target)
        lcs = lcs_length(out, ref)
        f1 = 2 * lcs / (len(out) + len(ref)) if lcs else 0.0  # = 2PR/(P+R) with P=lcs/|out|, R=lcs/|ref|
        details: dict = {"lcs": lcs}
        reason = f"ROUGE-L F1 {f1:.2f} (LCS {lcs} of {len(out)} output / {len(ref)} reference words)"
        if facts is not None:
            text = _squash(output)
            found = {f: _squash(f) in text for f in facts}
            details["facts"] = found
            details["fact_recall"] = sum(found.values()) / len(found) if found else None
            reason += f"; {sum(found.values())}/{len(found)} facts present"
        return Score(f1, None, reason, details)

    return score


class TokenF1Options(ScoreOptions):
    def target_problem(self, target, base):
        return empty_target(target)


class RougeLOptions(ScoreOptions):
    facts: str | None = Field(default=None, description="rouge_l: template of the key facts (a list field)")

    per_example: ClassVar[tuple[str, ...]] = ("facts",)

    def target_problem(self, target, base):
        return empty_target(target)
