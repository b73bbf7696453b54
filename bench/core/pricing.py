"""How a model is priced and what a cell cost, as data: bench/spend/cost.py computes them, the
summary rows (bench/core/types.py) carry them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Pricing:
    """How one model is priced: per token (a hosted API) or per hour of a machine (a local model or
    a self-hosted server, which names `hardware`)."""

    usd_per_mtok_in: float | None = None  # per 1M input tokens that were not served from a cache
    usd_per_mtok_cached_in: float | None = None  # per 1M cached input tokens; None: billed as input
    usd_per_mtok_out: float | None = None  # per 1M output tokens, hidden reasoning included
    prices_as_of: str | None = None  # YYYY-MM-DD the prices were checked
    hardware: str | None = None  # name of the hardware profile when priced by the hour
    usd_per_hour: float | None = None  # the machine, whether busy or idle
    usd_per_kwh: float | None = None  # electricity, for the energy cost shown beside (never added)

    @property
    def hourly(self) -> bool:
        return self.hardware is not None

    @property
    def known(self) -> bool:
        if self.hourly:
            return self.usd_per_hour is not None
        return self.usd_per_mtok_in is not None and self.usd_per_mtok_out is not None



@dataclass
class CellCost:
    """Cost figures of one cell (or of several cells pooled), over every record of every repeat."""

    cost_usd: float | None  # sum of the records' costs; None if any record's cost is unknown
    requests: int  # records priced (every repeat)
    unknown: int  # records whose cost is unknown
    usd_per_request: float | None
    usd_per_1k_requests: float | None
    usd_per_mtok_out: float | None  # cost / output tokens * 1e6
    usd_per_correct: float | None  # usd_per_request / accuracy (None at accuracy 0)
    box_s_per_request: float | None  # hourly-priced models: machine seconds per request, busy
    requests_per_s: float | None  # hourly-priced: one busy machine's capacity, 1 / box_s_per_request
    energy_j: float | None  # the cells' measured energy; None when any cell's is unavailable
    energy_usd: float | None  # energy_j / 3.6e6 * usd_per_kwh: shown beside the cost, never added
