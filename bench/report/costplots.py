"""The cost figures: accuracy against cost per 1,000 requests (one per task and one pooled), and
monthly cost against monthly volume with the break-evens. Both say which cost basis they use: at
capacity (a self-hosted machine busy all the time) or at the user's monthly volume (whole machines,
idle time paid)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from bench.core.types import PooledRow, SummaryRow
from bench.report import figstyle as fs
from bench.spend import cost


@dataclass(frozen=True)
class Basis:
    """How a self-hosted model's cost per request is counted in a figure."""

    volume: float | None  # requests a month; None: at capacity
    utilisation: float

    @property
    def short(self) -> str:
        return f"at {self.volume:,.0f} requests/month" if self.volume else "at capacity (machine busy)"

    @property
    def long(self) -> str:
        if self.volume:
            return (f"{self.short}: self-hosted models pay for whole machines at {self.utilisation:.0%} "
                    f"utilisation, idle time included")
        return f"{self.short}: a self-hosted model pays only the machine time its requests took"

    def usd_per_1k(self, r: SummaryRow | PooledRow) -> float | None:
        if isinstance(r, SummaryRow):
            per_request, rps = r.cost.usd_per_request, r.requests_per_s
        else:  # pooled: one machine's capacity over the pooled mix, 1 / its machine seconds per request
            per_request = None if r.usd_per_1k_requests is None else r.usd_per_1k_requests / 1000
            hourly = r.pricing.usd_per_hour
            rps = hourly / (3600 * per_request) if per_request and hourly else None
        return cost.usd_per_1k_at_volume(per_request, r.pricing, rps, self.volume, self.utilisation)


def pareto(points: list[tuple[float, float, str]]) -> list[tuple[float, float, str]]:
    """Points no other point beats on both cost (lower) and accuracy (higher), by cost."""
    front, best = [], -math.inf
    for x, y, name in sorted(points, key=lambda p: (p[0], -p[1])):
        if y > best:
            front.append((x, y, name))
            best = y
    return front


def cost_takeaway(priced: list[tuple[float, float, str]], basis: Basis) -> str:
    """The plain default title: the most accurate and the cheapest model, with both figures."""
    if not priced:
        return "No model here has a price: nothing to place on a cost axis"
    most = max(priced, key=lambda p: (p[1], -p[0]))
    cheap = min(priced, key=lambda p: (p[0], -p[1]))
    at = "at capacity" if basis.volume is None else f"at {basis.volume:,.0f} requests/month"
    if most is cheap:
        return f"{most[2]}: the most accurate ({most[1]:.0f}%) and the cheapest ({fs.usd(most[0])}/1k requests {at})"
    return (f"Most accurate: {most[2]} ({most[1]:.0f}%, {fs.usd(most[0])}/1k); cheapest: {cheap[2]} "
            f"({cheap[1]:.0f}%, {fs.usd(cheap[0])}/1k), {at}")


def accuracy_vs_cost(plt, rows: list[SummaryRow] | list[PooledRow], scope: str, basis: Basis,
                     takeaway: str | None, foot: str):
    """One figure: each priced model's accuracy (95% interval) against its cost per 1,000 requests
    on the basis given, the Pareto frontier, names beside the points."""
    pts, unpriced = [], []
    for r in rows:
        c = basis.usd_per_1k(r)
        if c is None or math.isnan(r.accuracy):
            unpriced.append(r.model)
        else:
            pts.append((c, 100 * r.accuracy, r))
    fig, ax = fs.figure(plt)
    top = fs.header(fig, takeaway or cost_takeaway([(c, a, r.model) for c, a, r in pts], basis),
                    f"{scope}: accuracy (bars: 95% interval) against cost per 1,000 requests {basis.long}.")
    positive = [c for c, _, _ in pts if c > 0]
    floor = (min(positive) / 10) if positive else 1e-3
    named, bars = [], []
    for c, y, r in pts:
        x = c if c > 0 else floor
        ax.errorbar([x], [y], yerr=fs.error_bars([(y, 100 * r.ci_low, 100 * r.ci_high)]), capsize=4, lw=1.5, ms=9,
                    fmt="s" if r.pricing.hourly else "o", color=fs.LOCAL if r.pricing.hourly else fs.API,
                    mfc="white" if c == 0 else None)
        named.append((x, y, fs.wrap(fs.label(r.model + (" ($0)" if c == 0 else ""), None), 24, hyphens=True)))
        bars += fs.span_samples(x, 100 * r.ci_low, 100 * r.ci_high)
    front = pareto(named)
    if len(front) > 1:
        ax.step([p[0] for p in front], [p[1] for p in front], where="post", color="#2ca02c", lw=2, alpha=0.7,
                label="Pareto frontier")
    fs.log(ax)
    if named:
        fs.log_xlim(ax, min(p[0] for p in named) / 3, max(p[0] for p in named) * 3)
    ax.set_ylim(-5, 108)
    ax.set_xlabel(f"cost per 1,000 requests (USD, log scale), {basis.short}")
    ax.set_ylabel("accuracy (%)")
    ax.plot([], [], "s", color=fs.LOCAL, label="local / self-hosted (machine time)")
    ax.plot([], [], "o", color=fs.API, label="API (tokens)")
    legend = ax.legend(loc="lower right", framealpha=0.9)
    ax.grid(True, which="major", alpha=0.3)
    note = f" Not shown (no price): {', '.join(unpriced)}." if unpriced else ""
    fs.lay_out(fig, top, fs.footnote(fig, foot + fs.label(note, None)))
    fs.place_labels(ax, named, [legend.get_window_extent(fig.canvas.get_renderer())], avoid=bars,
                    lines=[line for line in ax.get_lines() if line.get_label() == "Pareto frontier"])
    return fig


API_SHADES = ["#d62728", "#ff7f0e", "#8c564b", "#e377c2", "#bcbd22"]  # API lines: reds, as API points elsewhere
LOCAL_SHADES = ["#1f77b4", "#17becf", "#9467bd", "#2ca02c", "#7f7f7f"]  # self-hosted steps: blues


def _monthly_line(ax, r: SummaryRow, volumes, utilisation: float, baseline: SummaryRow | None, color: str):
    """One model's monthly cost: an API line or a self-hosted step; its break-even star, if any.
    Returns (drawn, star (volume, usd, text) or None)."""
    c, p = r.cost, r.pricing
    if not p.hourly:
        if not c.usd_per_request:
            return False, None
        ax.plot(volumes, volumes * c.usd_per_request, lw=2.5 if r is baseline else 2, color=color,
                label=fs.wrap(fs.label(f"{r.model}: API, {fs.usd(1000 * c.usd_per_request)}/1k requests", None), 38,
                              hyphens=True))
        return True, None
    rps = r.requests_per_s  # a sweep's capacity at its latency target when there is one
    if not rps or not p.usd_per_hour:
        return False, None
    source = "sweep capacity" if (r.capacity_source or "").startswith("sweep") else "run throughput"
    ax.step(volumes, [cost.self_hosted_monthly_usd(v, p.usd_per_hour, rps, utilisation) for v in volumes],
            where="post", lw=2, ls="--", color=color, label=fs.wrap(fs.label(
                f"{r.model}: {p.hardware} {fs.usd(p.usd_per_hour)}/h, {rps * utilisation:.3g} req/s per machine "
                f"({source})", None), 38, hyphens=True))
    v = r.break_even_requests_per_month
    if baseline is None or v is None or not 1e3 <= v <= 1e9:
        return True, None
    return True, (v, cost.self_hosted_monthly_usd(v, p.usd_per_hour, rps, utilisation), r.model)


def _star_labels(stars: list[tuple[float, float, str]], baseline: SummaryRow) -> list[tuple[float, float, str]]:
    """One label per break-even point: models that break even at the same volume and cost (one
    machine each, same price and throughput) share it."""
    at: dict[tuple[float, float], list[str]] = {}
    for v, y, model in stars:
        at.setdefault((float(f"{v:.6g}"), float(f"{y:.6g}")), []).append(model)
    return [(v, y, fs.wrap(fs.label(f"{', '.join(models)} break{'s' if len(models) == 1 else ''} even with "
                                    f"{baseline.model} at {fs.count(v)}/month", None), 30, hyphens=True))
            for (v, y), models in at.items()]


def monthly_takeaway(rows: list[SummaryRow], baseline: SummaryRow | None, basis: Basis) -> str:
    """The plain default title: the cheapest at the user's volume, else the earliest break-even."""
    if basis.volume:
        monthly = [(basis.usd_per_1k(r) * basis.volume / 1000, r.model) for r in rows
                   if basis.usd_per_1k(r) is not None]
        if monthly:
            (best, name), *_ = sorted(monthly)
            dearest = max(monthly)
            return (f"At {basis.volume:,.0f} requests/month the cheapest is {name} ({fs.usd(best)}/month)"
                    + (f"; the dearest, {dearest[1]}, {fs.usd(dearest[0])}/month" if dearest[1] != name else ""))
    local = [r for r in rows if r.pricing.hourly and r.requests_per_s and r.pricing.usd_per_hour]
    if baseline is None or not local:
        return "Monthly cost grows with volume: " + ", ".join(r.model for r in rows)
    evens = [r for r in local if r.break_even_requests_per_month is not None]
    if not evens:
        return f"No self-hosted model costs less than {baseline.model} at any volume"
    first = min(r.break_even_requests_per_month for r in evens)
    names = [r.model for r in evens if fs.count(r.break_even_requests_per_month) == fs.count(first)]
    return (f"{', '.join(names)} cost{'s' if len(names) == 1 else ''} less than {baseline.model} "
            f"from {fs.count(first)} requests/month")


def monthly_cost(plt, rows: list[SummaryRow], baseline: SummaryRow | None, basis: Basis, task: str,
                 takeaway: str | None, foot: str):
    """API cost lines against self-hosted steps, the break-evens with the baseline starred and
    labelled where no label overlaps another, the user's volume drawn when given."""
    import numpy as np

    volumes = np.logspace(3, 9, 600)
    fig, ax = fs.figure(plt)
    u = basis.utilisation
    top = fs.header(fig, takeaway or monthly_takeaway(rows, baseline, basis),
                    f"{task}: cost per month against requests per month (log-log). API: price x volume; "
                    f"self-hosted: whole machines at {u:.0%} utilisation, each paid 730 h a month, idle or not.")
    drawn, free, stars = 0, [], []
    for r in rows:
        shades = LOCAL_SHADES if r.pricing.hourly else API_SHADES
        used = sum(x.pricing.hourly == r.pricing.hourly for x in rows[:rows.index(r)])
        ok, star = _monthly_line(ax, r, volumes, u, baseline, shades[used % len(shades)])
        drawn += ok
        if not ok and r.cost.usd_per_request == 0:
            free.append(r.model)
        if star:
            stars.append(star)
    for v, y, _ in stars:
        ax.plot([v], [y], "k*", ms=14, zorder=5)
    if basis.volume and 1e3 <= basis.volume <= 1e9:
        ax.axvline(basis.volume, color="#555", ls=":", lw=1.5, label=f"your volume: {basis.volume:,.0f}/month")
    fs.log(ax, "xy")
    fs.plain(ax.xaxis)
    fs.plain(ax.yaxis, "$")
    ax.set_xlabel("requests per month (log scale)")
    ax.set_ylabel("cost per month (USD, log scale)")
    ax.grid(True, which="major", alpha=0.3)
    if drawn:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0, frameon=False)
    note = f" Free, not drawn: {', '.join(free)}." if free else ""
    fs.lay_out(fig, top, fs.footnote(fig, foot + fs.label(note, None)))
    fs.place_labels(ax, _star_labels(stars, baseline) if stars else [], lines=ax.get_lines())
    return fig
