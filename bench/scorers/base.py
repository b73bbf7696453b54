"""What every scorer returns, and the text normalisation most of them share."""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Callable


@dataclass(frozen=True)
class Score:
    value: float  # the score that counts: 1.0 correct, 0.0 wrong, fractions for partial credit
    extracted: Any  # what the scorer read out of the output (None when nothing usable)
    reason: str  # one short phrase a person can check the score against
    details: dict[str, Any] | None = None  # per-field or per-fact results, valid_json, ...
    lenient: float | None = None  # the lenient reading's score, for scorers that have one (label)


Scorer = Callable[..., Score]  # (output, target, **per-example inputs such as facts or options) -> Score


def normalize(text: str) -> str:
    """Case-folded, NFKC, whitespace collapsed, surrounding quotes and final punctuation removed."""
    text = unicodedata.normalize("NFKC", str(text)).casefold().strip()
    text = re.sub(r"\s+", " ", text)
    while True:  # '"Paris".' and '**Paris**.' both end as 'paris'
        stripped = text.strip(" \"'`*").rstrip(".!?;:,")
        if stripped == text:
            return text
        text = stripped


def first_json(text: str, kind: type) -> Any | None:
    """The first JSON value of the given kind (dict or list) in the text; code fences and chatter
    around it are ignored."""
    decoder = json.JSONDecoder()
    for m in re.finditer(r"\{" if kind is dict else r"\[", text):
        try:
            obj, _ = decoder.raw_decode(text, m.start())
        except json.JSONDecodeError:
            continue
        if isinstance(obj, kind):
            return obj
    return None


def as_list(target: str) -> list | None:
    """A target rendered from a list field (a JSON array), else None."""
    if not target.lstrip().startswith("["):
        return None
    try:
        value = json.loads(target)
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, list) else None
