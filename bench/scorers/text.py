"""Scorers that compare short answers as text: exact, label, choice and regex."""

from __future__ import annotations

import re

from bench.scorers.base import Score, Scorer, normalize


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
