"""Scorers that compare short answers as text: exact, label, choice and regex."""

from __future__ import annotations

import re
from typing import Any, ClassVar, Literal

from pydantic import Field

from bench.config.toml import KeyProblem
from bench.scorers.base import Score, ScoreOptions, Scorer, compile_option, empty_target, normalize


def exact() -> Scorer:
    """Equal after normalize(): "Paris." matches "paris", but "Paris, France" does not."""

    def score(output: str, target: str) -> Score:
        got, want = normalize(output), normalize(target)
        ok = got == want
        return Score(float(ok), got, "equal after normalisation" if ok else f"expected {want!r}")

    return score


def label(*, labels: list[str], primary: str = "strict") -> Scorer:
    """Two readings of a classification answer. Strict: the whole normalised answer must be a label
    ("Billing." is billing; "Queue: billing" is not). Lenient: the first label mentioned as a whole
    word, longer labels first ("Queue: billing" reads as billing; "card payment" beats "card").
    `primary` says which one is the score; the other is kept beside it."""
    by_norm = {normalize(lab): lab for lab in labels}
    pattern = re.compile(r"(?<!\w)(" + "|".join(re.escape(n) for n in sorted(by_norm, key=len, reverse=True))
                         + r")(?!\w)")

    def score(output: str, target: str) -> Score:
        norm, want = normalize(output), normalize(target)
        strict = float(norm == want)
        m = pattern.search(norm)
        lenient_label = by_norm[m.group(1)] if m else None
        lenient = float(lenient_label is not None and normalize(lenient_label) == want)
        if norm in by_norm:
            how = "the whole answer is a label"
        elif m:
            how = f"first label mentioned: {lenient_label!r} (strict: the answer is not just a label)"
        else:
            how = "no known label in the output"
        verdict = "" if (strict if primary == "strict" else lenient) else f"; expected {target!r}"
        value = strict if primary == "strict" else lenient
        return Score(value, lenient_label, how + verdict, {"strict": strict}, lenient)

    return score


LETTERS = "ABCD"
_PREFIX = re.compile(r"^(?:(?:the\s+)?(?:correct\s+|final\s+)?(?:answer|option|choice)\s*(?:is|:)?\s*"
                     r"(?:option\s+|choice\s+)?)", re.I)
_MULTI = re.compile(r"^[(\[]?[A-D][)\].]?\s*(?:or|and|/|,|&|\+)\s*[(\[]?[A-D](?![a-z])", re.I)
_DELIMITED = re.compile(r"^[(\[]?([A-Da-d])(?:[)\]]|[.:](?=\s|$)|$)\s*(.*)$", re.S)  # B, (B), B), B. Paris
_BARE = re.compile(r"^([A-D])\s+(.*)$", re.S)  # "B because ...": only after "the answer is"


def choice(*, letters: str = LETTERS) -> Scorer:
    """A multiple-choice letter. Accepted: "B", "(B)", "B)", "B.", "**B**", "Answer: B", "The answer
    is B because ...", "B) Paris" and, when the task gives the options, the option text alone
    ("Paris"). Rejected: more than one letter ("A or B", "B, C"); a letter whose text is another
    option's ("B) London" when London is A); a capital starting a sentence ("A blending of ...")
    unless that sentence is an option's text, which then reads as that option."""

    def score(output: str, target: str, options: list[str] | None = None) -> Score:
        want = target.strip().upper()
        text = re.sub(r"[*_`]", "", str(output)).strip()
        norm_options = [normalize(o) for o in options or []]
        got, reason = None, ""
        if normalize(text) in norm_options:
            got, reason = letters[norm_options.index(normalize(text))], "the answer is an option's text"
        else:
            unprefixed = _PREFIX.sub("", text, count=1).strip()
            if _MULTI.match(unprefixed):
                return Score(0.0, None, "more than one option named")
            m = _DELIMITED.match(unprefixed)
            if m and not m.group(1).isupper() and m.group(2):  # "a good point": a word, not option a
                m = None
            if m is None and unprefixed != text:
                m = _BARE.match(unprefixed)
            if m:
                letter, rest = m.group(1).upper(), normalize(m.group(2))
                if rest in norm_options and norm_options.index(rest) != letters.index(letter):
                    return Score(0.0, None, f"letter {letter} but the text of option "
                                            f"{letters[norm_options.index(rest)]}")
                got, reason = letter, "the answer starts with a letter"
        if got is None:
            return Score(0.0, None, "no option letter at the start of the answer")
        ok = got == want
        return Score(float(ok), got, reason if ok else f"{reason}: {got}, expected {want}")

    return score


def regex(*, pattern: str) -> Scorer:
    """The output's first match of `pattern` (its group 1 if it has a group) against the target,
    both normalised. No match scores 0."""
    compiled = re.compile(pattern)

    def score(output: str, target: str) -> Score:
        m = compiled.search(str(output))
        if m is None:
            return Score(0.0, None, "the pattern does not match the output")
        got = m.group(1) if compiled.groups else m.group(0)
        got = "" if got is None else got
        ok = normalize(got) == normalize(target)
        return Score(float(ok), got, "match equals the target" if ok else f"matched {got!r}, expected {target!r}")

    return score


# ---------------------------------------------------------------- their [score] options


class ExactOptions(ScoreOptions):
    def target_problem(self, target, base):
        return empty_target(target)


class LabelOptions(ScoreOptions):
    labels: list[str] = []
    primary: Literal["strict", "lenient"] = Field(default="strict", description="label: which reading is 'score'")

    gives_lenient: ClassVar[bool] = True

    def check(self) -> None:
        if len(self.labels) < 2:
            raise KeyProblem(("labels",), "scorer 'label' needs 'labels', a list of at least two labels")
        _distinct_labels(self.labels)

    def kwargs(self, base):
        return {"labels": list(self.labels), "primary": self.primary}

    def target_problem(self, target, base):
        if normalize(target) not in {normalize(lab) for lab in self.labels}:
            return f"target {target!r} is not one of the labels"
        return None


def _distinct_labels(labels: list[str]) -> None:
    """Labels the scorer can tell apart: it reads answers case-folded, with spaces and final
    punctuation ignored, so 'travel' and 'Travel.' would be one label counted twice."""
    seen: dict[str, str] = {}
    for lab in labels:
        norm = normalize(lab)
        if not norm:
            raise KeyProblem(("labels",), f"label {lab!r} is empty once spaces and punctuation are ignored")
        if norm in seen:
            first = seen[norm]
            said = (f"label {lab!r} is listed twice" if first == lab else
                    f"labels {first!r} and {lab!r} are the same label to the scorer (it ignores case, spaces "
                    f"and final punctuation)")
            raise KeyProblem(("labels",), f"{said}; keep one")
        seen[norm] = lab


class ChoiceOptions(ScoreOptions):
    options: str | None = Field(default=None, description="choice: template of the option texts (a list field)")

    per_example: ClassVar[tuple[str, ...]] = ("options",)

    def target_problem(self, target, base):
        if target.strip().upper() not in LETTERS:
            return f"target {target!r} is not an option letter ({', '.join(LETTERS)})"
        return None

    def inputs_problem(self, inputs: dict[str, Any]) -> str | None:
        if inputs and len(inputs.get("options", [])) != len(LETTERS):
            return f"'options' has {len(inputs['options'])} items; a choice task has {len(LETTERS)}"
        return None


class RegexOptions(ScoreOptions):
    pattern: str | None = Field(default=None, description="regex: what to read out of the output")

    def check(self) -> None:
        if not self.pattern:
            raise KeyProblem(("pattern",), "scorer 'regex' needs 'pattern', a regular expression")
        compile_option("pattern", self.pattern)

    def kwargs(self, base):
        return {"pattern": self.pattern}

    def target_problem(self, target, base):
        return empty_target(target)
