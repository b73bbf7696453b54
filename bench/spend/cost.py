"""What a request, a cell and a month of traffic cost, from stored token counts and times.

Pure functions: the same records priced with other prices give the re-priced figures. Every
formula and assumption is written out in docs/cost.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from bench.core.pricing import CellCost, Pricing
from bench.core.types import Record, Usage

HOURS_PER_MONTH = 730  # 365 * 24 / 12: a box is paid for every hour of the month, busy or not
SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600
JOULES_PER_KWH = 3.6e6


def pricing_of(spec, hardware: dict) -> Pricing:
    """A model's pricing from its validated models.toml settings and the hardware table
    (`hardware` maps a name to an object or a dict with usd_per_hour, usd_per_kwh, prices_as_of)."""
    hw_name = getattr(spec, "hardware", None)
    if hw_name is not None:
        hw = hardware[hw_name]
        hw = hw if isinstance(hw, dict) else hw.model_dump()
        return Pricing(hardware=hw_name, usd_per_hour=hw.get("usd_per_hour"), usd_per_kwh=hw.get("usd_per_kwh"),
                       prices_as_of=hw.get("prices_as_of"))
    from bench.backends.registry import find

    entry = find(getattr(spec, "backend", None))
    if entry is not None and entry.priced == "hourly":
        return Pricing()  # a local or served model with no hardware profile: unpriced
    return Pricing(usd_per_mtok_in=spec.usd_per_mtok_in, usd_per_mtok_cached_in=spec.usd_per_mtok_cached_in,
                   usd_per_mtok_out=spec.usd_per_mtok_out, prices_as_of=spec.prices_as_of)


def token_cost_usd(input_tokens: int, cached_input_tokens: int, output_tokens: int, p: Pricing) -> float | None:
    """API cost of one request: uncached input, cached input and output tokens times their prices.
    `cached_input_tokens` is part of `input_tokens`; reasoning tokens are part of `output_tokens`."""
    if p.usd_per_mtok_in is None or p.usd_per_mtok_out is None:
        return None
    cached_price = p.usd_per_mtok_in if p.usd_per_mtok_cached_in is None else p.usd_per_mtok_cached_in
    cached = min(cached_input_tokens or 0, input_tokens)
    return ((input_tokens - cached) * p.usd_per_mtok_in + cached * cached_price
            + output_tokens * p.usd_per_mtok_out) / 1e6


def box_seconds(record: Record, concurrency: int | None) -> float | None:
    """Seconds of the machine one request is charged for. Local (no concurrency): its batch's wall
    time split evenly over the batch's rows (`batch_wall_s` over `batch_wall_rows`, else `latency_s`
    over `batch_size` in runs made before batch_wall_s was recorded). Self-hosted server: its latency over the concurrency used, i.e.
    one of `concurrency` slots held for the request's duration. Served (a server the run started):
    `wall_share_s`, the cell's wall time up to its answer since the previous answer, so that a
    cell's records sum to its wall time and the box is charged whether busy or not."""
    if record.wall_share_s is not None:  # a served model: the box is the run's alone
        return record.wall_share_s
    if concurrency is None:
        if record.batch_wall_s is not None:  # rows of the batch: more than one generate() call
            rows = record.batch_wall_rows or record.batch_size  # after an out-of-memory back-off
            return record.batch_wall_s / max(1, rows or 1)
        wall = record.latency_s
        return None if wall is None else wall / max(1, record.batch_size or 1)
    if record.latency_s is None:
        return 0.0 if record.error else None  # a failed request held its slot for no answer
    return record.latency_s / concurrency


def usage_cost_usd(usage: Usage, p: Pricing, failed: bool = False) -> float | None:
    """A token-priced request's cost from its usage; None when its tokens are unknown. Providers do
    not bill a request that failed with an HTTP error (`failed`): 0."""
    if usage.input_tokens is None or usage.output_tokens is None:
        return 0.0 if failed else None
    return token_cost_usd(usage.input_tokens, usage.cached_input_tokens or 0, usage.output_tokens, p)


def request_cost_usd(record: Record, p: Pricing, concurrency: int | None) -> float | None:
    """One record's cost; None when its price or its tokens/time are unknown."""
    if not p.known:
        return None
    if p.hourly:
        seconds = box_seconds(record, concurrency)
        return None if seconds is None else seconds * p.usd_per_hour / 3600
    return usage_cost_usd(record.usage, p, failed=bool(record.error))


def cell_cost(records: list[Record], p: Pricing, concurrency: int | None, accuracy: float | None,
              energy_j: float | None = None) -> CellCost:
    """Price every record, then the per-request, per-1k, per-1M-output-token and per-correct figures."""
    costs = [request_cost_usd(r, p, concurrency) for r in records]
    unknown = sum(c is None for c in costs)
    n = len(records)
    total = None if unknown or not n else sum(costs)
    per_request = None if total is None else total / n
    out_tokens = sum(r.output_tokens or 0 for r in records)
    box = None
    if p.hourly and n:
        secs = [box_seconds(r, concurrency) for r in records]
        box = None if any(s is None for s in secs) else sum(secs) / n
    return CellCost(
        cost_usd=total, requests=n, unknown=unknown, usd_per_request=per_request,
        usd_per_1k_requests=None if per_request is None else 1000 * per_request,
        usd_per_mtok_out=None if total is None or not out_tokens else total / out_tokens * 1e6,
        usd_per_correct=None if per_request is None or not accuracy else per_request / accuracy,
        box_s_per_request=box, requests_per_s=None if not box else 1 / box,
        energy_j=energy_j,
        energy_usd=None if energy_j is None or p.usd_per_kwh is None else energy_j / JOULES_PER_KWH * p.usd_per_kwh,
    )


# ---------------------------------------------------------------- a month of traffic


def monthly_capacity(requests_per_s: float, utilisation: float) -> float:
    """Requests one machine serves in a month when busy `utilisation` of the time."""
    return requests_per_s * utilisation * SECONDS_PER_MONTH


def boxes_needed(volume: float, requests_per_s: float, utilisation: float) -> int:
    """Machines needed for `volume` requests a month (a machine is bought whole)."""
    if volume <= 0:
        return 0
    return math.ceil(volume / monthly_capacity(requests_per_s, utilisation))


def self_hosted_monthly_usd(volume: float, usd_per_hour: float, requests_per_s: float, utilisation: float) -> float:
    """Machines needed x usd_per_hour x 730 h: every machine is paid whether busy or not."""
    return boxes_needed(volume, requests_per_s, utilisation) * usd_per_hour * HOURS_PER_MONTH


def api_monthly_usd(volume: float, usd_per_request: float) -> float:
    return volume * usd_per_request


def usd_per_1k_at_volume(usd_per_request: float | None, p: Pricing, requests_per_s: float | None,
                         volume: float | None, utilisation: float) -> float | None:
    """Cost per 1,000 requests at `volume` requests a month: a self-hosted model pays for whole
    machines, idle time included (self_hosted_monthly_usd / volume). Without a volume, or for a
    token-priced model or one with no measured capacity, the cost at capacity (machine busy):
    1000 x usd_per_request."""
    if usd_per_request is None:
        return None
    if not volume or not p.hourly or not requests_per_s or p.usd_per_hour is None:
        return 1000 * usd_per_request
    return 1000 * self_hosted_monthly_usd(volume, p.usd_per_hour, requests_per_s, utilisation) / volume


@dataclass(frozen=True)
class BreakEven:
    first_volume: float  # requests/month from which one machine costs no more than the API
    always_from: float  # requests/month from which self-hosting is cheaper at every higher volume


def break_even(api_usd_per_request: float, usd_per_hour: float, requests_per_s: float,
               utilisation: float) -> BreakEven | None:
    """The monthly volume at which self-hosting becomes no dearer than the API, or None when it
    never does (one busy machine's requests cost more than the same requests from the API).

    One machine costs m = usd_per_hour x 730 a month and serves c requests; the API costs a per
    request. It breaks even at V = m / a if that is within one machine's capacity. Past c a second
    machine is bought and the API wins again until V = 2m / a; from k0 = ceil(m / (a c - m))
    machines on, every extra machine pays for itself at once, so self-hosting stays cheaper from
    V = k0 m / a (derivation in docs/cost.md)."""
    m = usd_per_hour * HOURS_PER_MONTH
    c = monthly_capacity(requests_per_s, utilisation)
    a = api_usd_per_request
    if m == 0:
        return BreakEven(0.0, 0.0)
    if a <= 0 or a * c < m:
        return None
    first = m / a
    if a * c == m:  # one machine exactly matches the API at full capacity and never beats it
        return BreakEven(first, math.inf)
    k0 = max(1, math.ceil(m / (a * c - m)))
    return BreakEven(first, k0 * first)
