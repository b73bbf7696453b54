"""What every report figure shares: one slide shape (16:9, 1920 x 1080 px at 150 dpi), one set of
font sizes (one rcParams context), a header (the takeaway as the title, what is plotted beneath),
a footnote, labels placed where they overlap nothing, and the PNG and SVG bytes. matplotlib is
imported inside the functions: a report with no figure never loads it."""

from __future__ import annotations

import contextlib
import io
import math
import textwrap

SLIDE = (12.8, 7.2)  # inches, 16:9; 1920 x 1080 px at DPI
DPI = 150
TITLE = 16  # the takeaway
TEXT = 12  # everything else a reader reads: subtitle, axes, ticks, legends, labels on points
NOTE = 9  # the footnote and the small numbers on points (load levels, bar values)
LOCAL, API = "#1f77b4", "#d62728"  # self-hosted (machine time) and token-priced models
STYLE = {"font.size": TEXT, "axes.titlesize": TEXT, "axes.labelsize": TEXT, "xtick.labelsize": TEXT,
         "ytick.labelsize": TEXT, "legend.fontsize": TEXT, "legend.title_fontsize": TEXT,
         "figure.titlesize": TITLE, "figure.labelsize": TEXT, "svg.fonttype": "path", "text.usetex": False,
         "axes.spines.top": False, "axes.spines.right": False, "figure.figsize": SLIDE, "figure.dpi": DPI,
         "savefig.dpi": DPI}
SIZES = {TITLE, TEXT, NOTE}
PLATE = {"boxstyle": "square,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8}  # a label over a line stays legible  # every text of every figure is at one of these


def pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


@contextlib.contextmanager
def style():
    """The rcParams every figure is drawn and saved under; yields pyplot."""
    plt = pyplot()
    with plt.rc_context(STYLE):
        yield plt


def label(name: str, limit: int | None = 60) -> str:
    """Data text made inert for matplotlib ('$' would start mathtext) and kept short."""
    text = str(name).replace("\\", "\\\\").replace("$", r"\$")
    return text if limit is None or len(text) <= limit else text[: limit - 3] + "..."


def count(v: float) -> str:
    """A volume for a reader, to 3 significant figures: 187,714 -> 188,000."""
    return f"{float(f'{v:.3g}'):,.0f}"


def usd(v: float) -> str:
    """A dollar figure for a title: $1,234, $12.3, $0.0162 (header() makes the $ inert)."""
    return f"${v:,.0f}" if v >= 100 else f"${v:.3g}"


def wrap(text: str, width: int, hyphens: bool = False) -> str:
    """Lines of at most `width` characters; a name (hyphens=True) may break after its hyphens."""
    return "\n".join(textwrap.wrap(text, width, break_on_hyphens=hyphens)) or text


def figure(plt, nrows: int = 1, ncols: int = 1, **kw):
    """A slide-shaped figure and its axes (squeezed as plt.subplots does)."""
    return plt.subplots(nrows, ncols, figsize=SLIDE, dpi=DPI, **kw)


def header(fig, title: str, subtitle: str) -> float:
    """The takeaway at the top left, what is plotted beneath it (both wrapped, never cut); returns
    the figure fraction under them, where the axes may start."""
    t = _fitted(fig, 0.985, label(title, None), fontsize=TITLE, fontweight="bold")
    below = t.get_window_extent(fig.canvas.get_renderer()).y0 / fig.bbox.height
    s = _fitted(fig, below - 0.008, label(subtitle, None), fontsize=TEXT, color="#333")
    return s.get_window_extent(fig.canvas.get_renderer()).y0 / fig.bbox.height - 0.01


def _fitted(fig, y: float, text: str, **kw):
    """Text at the top left from y down, wrapped at the widest width that fits the figure."""
    renderer = fig.canvas.get_renderer()
    for width in range(160, 20, -6):
        t = fig.text(0.012, y, wrap(text, width), va="top", ha="left", **kw)
        if t.get_window_extent(renderer).x1 <= 0.99 * fig.bbox.width:
            return t
        t.remove()
    return fig.text(0.012, y, wrap(text, 20), va="top", ha="left", **kw)


def footnote(fig, text: str) -> float:
    """The runs, machines and prices at the bottom left; returns the figure fraction above it."""
    t = fig.text(0.012, 0.008, "\n".join(textwrap.wrap(text, 200)[:4]), fontsize=NOTE, color="#444", va="bottom")
    return t.get_window_extent(fig.canvas.get_renderer()).y1 / fig.bbox.height + 0.01


def lay_out(fig, top: float, bottom: float, right: float = 1.0) -> None:
    """Axes, their tick labels, axis labels and legends fitted between the header and the footnote,
    then frozen, so that labels placed afterwards stay where they were placed."""
    fig.tight_layout(rect=(0.005, bottom, right, top))
    fig.set_layout_engine("none")


def to_bytes(plt, fig, name: str, out: dict) -> None:
    """The figure as {name}.png and {name}.svg in out; the figure closed."""
    for fmt in ("png", "svg"):
        buf = io.BytesIO()
        fig.savefig(buf, format=fmt, dpi=DPI)
        out[f"{name}.{fmt}"] = buf.getvalue()
    plt.close(fig)


def footnote_text(merged, rows, prices: bool = True) -> str:
    """The runs and their machines; with `prices`, the prices' dates and the hourly rates too."""
    runs = []
    for m, f in zip(merged.manifests, merged.folders):
        env = m.get("environment") or {}
        gpus = ", ".join(g.get("name", "?") for g in env.get("gpus") or [])
        machine = gpus or f"{env.get('cpu') or 'CPU'} ({env.get('cpu_count') or '?'} cores)"
        runs.append(f"{m.get('run_id', f.name)} on {machine}")
    dates = sorted({r.pricing.prices_as_of for r in rows if r.pricing.prices_as_of})
    hourly = sorted({f"{r.pricing.hardware} ${r.pricing.usd_per_hour:g}/h" for r in rows
                     if r.pricing.hourly and r.pricing.usd_per_hour is not None})
    if not prices:
        return label(f"Runs: {'; '.join(runs)}.", None)
    text = (f"Runs: {'; '.join(runs)}. Prices as of: {', '.join(dates) or 'not dated'}"
            + (f"; machines: {', '.join(hourly)}" if hourly else "") + ".")
    return label(text, None)


def error_bars(spans: list[tuple[float, float, float]]) -> list[list[float]]:
    """matplotlib's [[below, ...], [above, ...]] for (value, low, high) triples. Each distance is
    clamped at 0 and a missing or infinite bound draws no bar, so no interval (rounding noise, a bound
    on the wrong side of its value, nan) can stop a figure: matplotlib refuses a negative length."""

    def gap(d: float) -> float:
        return d if math.isfinite(d) and d > 0 else 0.0

    return [[gap(v - lo) for v, lo, _ in spans], [gap(hi - v) for v, _, hi in spans]]


def span_samples(x: float, low: float, high: float, n: int = 9) -> list[tuple[float, float]]:
    """Points along a vertical error bar, for labels to keep off it (none for a missing bound)."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return []
    return [(x, low + (high - low) * i / (n - 1)) for i in range(n)]


def log(ax, which: str = "x") -> None:
    """A log axis whose minor ticks carry no text (laying them out is most of a figure's time)."""
    from matplotlib.ticker import NullFormatter

    for name in which:
        getattr(ax, f"set_{name}scale")("log")
        getattr(ax, f"{name}axis").set_minor_formatter(NullFormatter())


def log_xlim(ax, low: float, high: float) -> None:
    """Limits of a log x axis, labelled in plain numbers (0.05, 2, 500): at 1, 2 and 5 x 10^k when
    it spans fewer than three powers of ten (fewer would show one number or none), else at each
    power of ten."""
    from matplotlib.ticker import FixedLocator, NullLocator

    ax.set_xlim(low, high)
    first, last = math.floor(math.log10(low)), math.ceil(math.log10(high))
    steps = (1, 2, 5) if math.log10(high / low) < 3 else (1,)
    ax.xaxis.set_major_locator(FixedLocator([m * 10.0**k for k in range(first, last + 1) for m in steps
                                             if low <= m * 10.0**k <= high]))
    plain(ax.xaxis)
    if len(steps) > 1:
        ax.xaxis.set_minor_locator(NullLocator())


def short(v: float) -> str:
    """A tick number: 0.05, 2, 500, 5000, 10k, 1M, 1B."""
    for size, unit in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= max(size, 1e4):
            return f"{v / size:g}{unit}"
    return f"{v:g}"


def plain(axis, prefix: str = "") -> None:
    """Tick labels as short plain numbers (`prefix` before each, e.g. a dollar sign)."""
    from matplotlib.ticker import FuncFormatter

    axis.set_major_formatter(FuncFormatter(lambda v, _: label(prefix + short(v), None)))


def _offsets() -> list[tuple[float, float]]:
    """Where a label may go from its point, in points: close first, then in rings further out."""
    near = [(8, 4), (8, -4), (-8, 4), (-8, -4), (8, 16), (-8, 16), (8, -16), (-8, -16)]
    rings = [(r * math.cos(a * math.pi / 8), r * math.sin(a * math.pi / 8))
             for r in (30, 45, 60, 80, 100, 125, 150, 180) for a in range(16)]
    return near + rings


def _box_at(px: float, py: float, dx: float, dy: float, w: float, h: float, scale: float):
    """The box of a w x h label whose corner nearest the point is (dx, dy) points from it."""
    from matplotlib.transforms import Bbox

    x = px + dx * scale
    y = py + dy * scale
    x0 = x if dx >= 0 else x - w
    y0 = y if dy >= 0 else y - h
    return Bbox([[x0, y0], [x0 + w, y0 + h]])


def _line_samples(ax, lines) -> list:
    """Display points every few pixels along each line, so that a label can keep off it."""
    import numpy as np
    from matplotlib.cbook import STEP_LOOKUP_MAP

    out = []
    for line in lines:  # as drawn: steps as steps, an axvline in its own blended coordinates
        x, y = STEP_LOOKUP_MAP[line.get_drawstyle()](*(np.asarray(v, dtype=float) for v in line.get_data()))
        xy = line.get_transform().transform(np.column_stack([x, y]))
        xy = xy[np.isfinite(xy).all(axis=1)]
        for a, b in zip(xy[:-1], xy[1:]):
            steps = max(1, min(200, int(np.hypot(*(b - a)) // 6)))
            out += [a + (b - a) * i / steps for i in range(steps)]
        out += list(xy[-1:])
    return out


def _free(box, taken: list, marks, pad: float) -> int:
    """How many placed boxes and marks a candidate box covers."""
    return sum(box.overlaps(b) for b in taken) + int(
        ((marks[:, 0] > box.x0 - pad) & (marks[:, 0] < box.x1 + pad)
         & (marks[:, 1] > box.y0 - pad) & (marks[:, 1] < box.y1 + pad)).sum())


def _crossings(px: float, py: float, box, taken: list) -> int:
    """Placed boxes a leader line from the point to the box's nearest corner would cross."""
    return sum(any(b.contains(x, y) for x, y in _leader(px, py, box)) for b in taken)


def _leader(px: float, py: float, box) -> list[tuple[float, float]]:
    """Points along the leader line from a point to the nearest corner of its label's box."""
    cx, cy = min(max(px, box.x0), box.x1), min(max(py, box.y0), box.y1)
    return [(px + (cx - px) * i / 12, py + (cy - py) * i / 12) for i in range(1, 12)]


def _plan(ax, spots: list, order: list[int], taken: list, marks, pad: float, scale: float):
    """Each label's offset in `order`, greedily: the first free spot, else the least crowded.
    spots[i] = (px, py, w, h) in pixels. Returns (overlaps left, {i: (dx, dy)})."""
    import numpy as np

    area, taken, placed, left = ax.bbox, list(taken), {}, 0
    for i in order:
        px, py, w, h = spots[i]
        best = None
        for dx, dy in _offsets():
            box = _box_at(px, py, dx, dy, w, h, scale)
            if not (area.x0 <= box.x0 and box.x1 <= area.x1 and area.y0 <= box.y0 and box.y1 <= area.y1):
                continue
            far = math.hypot(dx, dy) > 25
            hits = _free(box, taken, marks, pad) + (_crossings(px, py, box, taken) if far else 0)
            if best is None or hits < best[0]:
                best = (hits, dx, dy, box, far)
            if hits == 0:
                break
        hits, dx, dy, box, far = best or (0, 8, 4, _box_at(px, py, 8, 4, w, h, scale), False)
        left += hits
        placed[i] = (dx, dy)
        taken.append(box)
        if far:  # a later label keeps off this one's leader line
            marks = np.vstack([marks, np.array(_leader(px, py, box))])
    return left, placed


def place_labels(ax, points: list[tuple[float, float, str]], taken: list | None = None,
                 fontsize: float = TEXT, avoid: list[tuple[float, float]] = (), lines=()) -> None:
    """Texts beside points (data coordinates), each where it stays inside the axes and overlaps no
    other label (nor a box in `taken`, a legend's), no point, none of the `avoid` points (an error
    bar's samples) and none of the `lines`; far ones get a leader line that crosses no label. Tried
    in a few orders (top first, bottom first, left first, right first), the first that leaves
    nothing overlapping kept, else the one leaving least. Call it after lay_out: it places by the
    final layout."""
    import numpy as np

    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    scale, pad = fig.dpi / 72, 4.0  # pixels per point; room kept around a point
    data = np.array([(x, y) for x, y, _ in points] + list(avoid), dtype=float).reshape(-1, 2)
    marks = np.vstack([ax.transData.transform(data)] + [np.array(_line_samples(ax, lines)).reshape(-1, 2)])
    spots = []
    for x, y, text in points:
        probe = ax.text(0, 0, text, fontsize=fontsize)
        size = probe.get_window_extent(renderer)
        probe.remove()
        spots.append((*ax.transData.transform((x, y)), size.width + 2 * pad, size.height + 2 * pad))
    top = sorted(range(len(points)), key=lambda i: (-points[i][1], points[i][0]))
    left = sorted(range(len(points)), key=lambda i: (points[i][0], -points[i][1]))
    best = None
    for order in (top, top[::-1], left, left[::-1]):
        plan = _plan(ax, spots, order, list(taken or []), marks, pad, scale)
        if best is None or plan[0] < best[0]:
            best = plan
        if plan[0] == 0:
            break
    for i, (dx, dy) in (best[1] if best else {}).items():
        x, y, text = points[i]
        ax.annotate(text, (x, y), xytext=(dx + math.copysign(pad / scale, dx), dy + math.copysign(pad / scale, dy)),
                    textcoords="offset points", fontsize=fontsize, ha="left" if dx >= 0 else "right",
                    va="bottom" if dy >= 0 else "top", bbox=PLATE,
                    arrowprops={"arrowstyle": "-", "color": "#888", "lw": 0.8, "shrinkA": 0}
                    if math.hypot(dx, dy) > 25 else None)
