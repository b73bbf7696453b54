"""Spending safely: the plan printed before the first request (and `--dry-run`), the confirmation
asked for over a threshold, and the cap of `--max-usd`: each request of a per-token priced model
reserves its worst-case cost before it is sent, the reservation becomes the server-reported cost
when the answer comes, and nothing more is sent once the next request could cross the cap."""

from __future__ import annotations

import math
import os
import sys
import threading
from dataclasses import replace
from typing import Callable

from bench.backends import registry
from bench.core.types import Usage
from bench.errors import InputError
from bench.runfolder import resume
from bench.spend import cost, estimate

DEFAULT_CONFIRM_OVER_USD = 10.0
CONFIRM_ENV = "BENCH_CONFIRM_OVER_USD"


class Budget:
    """This session's spend against its cap, shared by the API models running at the same time
    (each in its own thread and event loop): every change holds the lock."""

    def __init__(self, cap_usd: float):
        self._lock = threading.Lock()
        self.cap_usd = cap_usd
        self.spent_usd = 0.0  # settled: the servers' usage x prices (reservations where usage is missing)
        self.reserved_usd = 0.0  # worst cases of the requests in flight
        self.stopped = False  # a request was refused: nothing more is sent in this session
        self.unsent = 0  # requests refused

    def reserve(self, usd: float, count_refusal: bool = False) -> bool:
        """Reserve `usd` if the cap allows it; a refusal stops all sending (and counts as an unsent
        request when asked)."""
        with self._lock:
            if self.stopped or self.spent_usd + self.reserved_usd + usd > self.cap_usd:
                self.stopped = True
                self.unsent += count_refusal
                return False
            self.reserved_usd += usd
            return True

    def settle(self, reserved_usd: float, actual_usd: float | None) -> None:
        """An answer came: its reservation is replaced by what it cost (kept whole when unknown)."""
        with self._lock:
            self.reserved_usd = max(0.0, self.reserved_usd - reserved_usd)
            self.spent_usd += reserved_usd if actual_usd is None else actual_usd

    def not_sent(self, n: int) -> None:
        with self._lock:
            self.unsent += n


class Gate:
    """One per-token priced model's way to the budget."""

    def __init__(self, budget: Budget, spec, pricing: cost.Pricing):
        self.budget, self.spec, self.pricing = budget, spec, pricing

    def worst_usd(self, request) -> float:
        return cost.token_cost_usd(estimate.input_tokens_worst(request.messages), 0,
                                   estimate.output_ceiling(self.spec, request.max_new_tokens), self.pricing)

    def admit(self, request) -> bool:
        """Called with a concurrency slot held, right before the request is sent."""
        return self.budget.reserve(self.worst_usd(request), count_refusal=True)

    def settle(self, request, completion: dict) -> None:
        used = Usage(completion["input_tokens"], completion.get("cached_input_tokens") or 0, completion["output_tokens"])
        self.budget.settle(self.worst_usd(request), cost.usage_cost_usd(used, self.pricing, bool(completion.get("error"))))

    def admit_warm_up(self, request, n: int) -> bool:
        """The API runner's n untimed one-token requests (billed, not recorded)."""
        return self.budget.reserve(n * self.worst_usd(replace(request, max_new_tokens=1)))

    def settle_warm_up(self, request, attempts: list) -> None:
        worst = self.worst_usd(replace(request, max_new_tokens=1))
        for att in attempts:
            used = Usage(None, 0, None) if att is None else Usage(att.input_tokens, att.cached_input_tokens or 0,
                                                                   att.output_tokens)
            self.budget.settle(worst, cost.usage_cost_usd(used, self.pricing, failed=att is None))


def gate(budget: Budget | None, spec, pricing: cost.Pricing) -> Gate | None:
    """A gate for a per-token priced API model under a cap; None for models the cap does not meter
    (local models and self-hosted servers are priced by time)."""
    if budget is None or registry.of(spec).priced != "tokens" or pricing.hourly or not pricing.known:
        return None
    return Gate(budget, spec, pricing)


def check_flags(max_usd: float | None, confirm_over_usd: float | None) -> float:
    """The confirmation threshold to use; InputError for a bad cap or threshold."""
    if max_usd is not None and not (max_usd > 0 and math.isfinite(max_usd)):
        raise InputError(f"--max-usd {max_usd}: must be a number above 0 (the most this session may spend, USD)")
    if confirm_over_usd is None:
        raw = os.environ.get(CONFIRM_ENV)
        try:
            confirm_over_usd = DEFAULT_CONFIRM_OVER_USD if raw is None else float(raw)
        except ValueError:
            raise InputError(f"{CONFIRM_ENV}={raw!r}: not a number (USD)") from None
    if not (confirm_over_usd >= 0 and math.isfinite(confirm_over_usd)):
        raise InputError(f"--confirm-over-usd {confirm_over_usd}: must be a number, 0 or more (USD)")
    return confirm_over_usd


def recorded(folder) -> set:
    """Keys a resume will not send again (read only: the resume itself settles the folder)."""
    records, _ = resume.load_records(folder)
    return {resume.key(r) for r in records if not r.get("error")}


class Spending:
    """A session's plan, confirmation and budget. Made before anything is written: a bad flag or a
    model the cap cannot meter is an InputError here."""

    def __init__(self, opts, prep):
        self.threshold = check_flags(opts.max_usd, opts.confirm_over_usd)
        self.opts = opts
        self.plans = estimate.plan_run(prep, opts.repeats, recorded(opts.resume) if opts.resume else set())
        # only what the cap meters must be priced: API models (local and served ones are never metered)
        metered = {n for n in prep.models if registry.of(prep.models_cfg.models[n]).priced == "tokens"}
        unpriced = [p.model for p in self.plans if p.kind == "unpriced" and p.requests and p.model in metered]
        if opts.max_usd is not None and unpriced:
            raise InputError(f"--max-usd: model {unpriced[0]} has no per-token prices, so its spend cannot be "
                             f"capped; set usd_per_mtok_in and usd_per_mtok_out (or hardware, for a self-hosted "
                             f"server) in {opts.config}, or leave it out with --models")
        self.budget = Budget(opts.max_usd) if opts.max_usd is not None else None

    def show(self, echo: Callable, file=None) -> None:
        for line in estimate.table(self.plans):
            echo(line, file=file or sys.stderr)

    def confirm(self, echo: Callable, ask: Callable = input, isatty: Callable = lambda: sys.stdin.isatty()) -> None:
        """Over the threshold: ask on a terminal (showing the plan), else require --yes; InputError if not."""
        worst = estimate.total(self.plans)
        cap = self.opts.max_usd
        exposure = worst if cap is None else min(worst, cap)
        if exposure <= self.threshold or self.opts.yes:
            return
        what = (f"this run may spend up to ${exposure:,.2f} (worst case{', capped by --max-usd' if exposure < worst else ''}), "
                f"over the ${self.threshold:,.2f} confirmation threshold (--confirm-over-usd, {CONFIRM_ENV})")
        if not isatty():
            raise InputError(f"{what}; pass --yes to proceed, or --max-usd to cap the spend")
        self.show(echo)
        try:
            answer = ask(f"{what}. Send the requests? [y/N] ")
        except EOFError:
            answer = ""
        if answer.strip().lower() not in ("y", "yes"):
            raise InputError("not confirmed; nothing was sent and no run folder was made")


def end_line(budget: Budget, run_dir) -> str:
    """The session's spend; when the cap stopped it, how to go on."""
    spent = f"spent ${budget.spent_usd:.6f} of --max-usd ${budget.cap_usd:g} in this session (servers' usage)"
    if not budget.stopped:
        return spent
    return (f"budget reached: {spent}; {budget.unsent} request(s) not sent; resume with: "
            f"python -m bench --resume {run_dir} --max-usd AMOUNT")
