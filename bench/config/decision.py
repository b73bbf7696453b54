"""The user's question, declared once: the `[decision]` table of models.toml (the reference model,
the monthly volume, the p95 latency target, a minimum accuracy, the non-inferiority margin) and
the flags of `run`, `report` and `recommend` that override it. Only the values given are kept:
bench/report/decision.py fills in the defaults and says which were used."""

from __future__ import annotations

import math

from pydantic import Field

from bench.config.toml import Strict
from bench.errors import InputError

# key -> its flag (recommend also takes --max-p95-latency-ms, the older name of --p95-target-ms)
FLAGS = {"reference": "--reference", "volume_per_month": "--volume-per-month", "p95_target_ms": "--p95-target-ms",
         "min_accuracy": "--min-accuracy", "margin_points": "--margin-points"}


class DecisionTable(Strict):
    """[decision] in models.toml; every key optional (docs/models.md)."""

    reference: str | None = Field(default=None, min_length=1, description="the model the others are weighed against")
    volume_per_month: float | None = Field(default=None, gt=0, description="requests a month")
    p95_target_ms: float | None = Field(default=None, gt=0, description="p95 latency target, ms")
    min_accuracy: float | None = Field(default=None, ge=0, le=1, description="fraction, 0.9 = 90%")
    margin_points: float | None = Field(default=None, ge=0, le=100, description="non-inferiority margin, points")

    def given(self) -> dict:
        """The keys the file sets."""
        return self.model_dump(exclude_none=True)


def _number(flag: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"{flag} {text!r}: not a number") from None
    if not math.isfinite(value):
        raise InputError(f"{flag} {text}: must be a finite number")
    return value


def _check(key: str, value: float, flag: str) -> None:
    if key in ("volume_per_month", "p95_target_ms") and value <= 0:
        raise InputError(f"{flag} {value:g}: must be above 0")
    if key == "min_accuracy" and not 0 <= value <= 1:
        raise InputError(f"{flag} {value:g}: give a fraction between 0 and 1 (0.8 = 80%)")
    if key == "margin_points" and not 0 <= value <= 100:
        raise InputError(f"{flag} {value:g}: give percentage points between 0 and 100 (5 = 5 points)")


def from_flags(values: dict[str, str | None], names: dict[str, str] | None = None) -> dict:
    """The question's flags as typed (text; None when not given) checked and converted; an
    InputError names the flag. `names` overrides a key's flag name in messages."""
    out: dict = {}
    for key, text in values.items():
        if text is None:
            continue
        flag = (names or {}).get(key, FLAGS[key])
        if key == "reference":
            if not str(text).strip():
                raise InputError(f"{flag}: give a model name")
            out[key] = str(text)
            continue
        out[key] = _number(flag, str(text)) if not isinstance(text, (int, float)) else float(text)
        if not math.isfinite(out[key]):
            raise InputError(f"{flag} {text}: must be a finite number")
        _check(key, out[key], flag)
    return out
