"""Inline SVG charts, drawn at build time: no JavaScript, nothing fetched.

`progress_chart` draws progress across check-ins against the cycle's pace line
(from 0 at the start to 100% at the end) with confidence as a second, dotted
line; `sparkline` is its small multiple. Colours come from CSS classes, so the
theme's light and dark palettes apply. Every chart carries a text alternative
(`<title>` and `<desc>`); pages add a data table next to it. All text is
escaped: titles come from authors.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence

from markupsafe import Markup

from okrsite.escaping import escape
from okrsite.model import Cycle
from okrsite.rollup import Point

Series = Sequence[tuple[dt.date, float]]


def _pct(value: float) -> str:
    return f"{round(value * 100)}%"


@functools.lru_cache(maxsize=4096)  # a site shows few distinct dates, many times
def day(date: dt.date) -> str:
    """A date as pages show it: "3 Nov 2026"."""
    return date.strftime("%-d %b %Y")


def progress_of(history: Sequence[Point]) -> list[tuple[dt.date, float]]:
    """A key result's history (rollup points) as a progress series."""
    return [(p.date, p.progress) for p in history]


def confidence_of(history: Sequence[Point]) -> list[tuple[dt.date, float]]:
    """The points of a key result's history that carry a confidence."""
    return [(p.date, p.confidence) for p in history if p.confidence is not None]


def history_rows(history: Sequence[Point]) -> list[tuple[dt.date, float, float | None]]:
    """A key result's chart data table: (date, progress, confidence) a point."""
    return [(p.date, p.progress, p.confidence) for p in history]


def series_rows(series: Series, confidence: Series) -> list[tuple[dt.date, float, float | None]]:
    """A progress series' chart data table, with the confidence of each date (or None)."""
    by_date = dict(confidence)
    return [(d, v, by_date.get(d)) for d, v in series]


def _with_start(series: Series, cycle: Cycle) -> list[tuple[dt.date, float]]:
    """Progress starts at 0 on the first day of the cycle."""
    points = [(d, v) for d, v in series if cycle.start <= d <= cycle.end]
    if not points or points[0][0] > cycle.start:
        points.insert(0, (cycle.start, 0.0))
    return points


def describe(series: Series, cycle: Cycle, today: dt.date, confidence: Series = ()) -> str:
    """A sentence saying what the chart shows (its text alternative)."""
    phase = cycle.phase(today)
    checkins = len(series)
    if not series:
        text = "No check-ins yet: progress 0%."
    else:
        date, value = series[-1]
        text = f"Progress {_pct(value)} on {day(date)}, after {checkins} check-in"
        text += "s." if checkins != 1 else "."
        if len(series) > 1:
            text += f" It was {_pct(series[0][1])} on {day(series[0][0])}."
    if phase == "running":
        pace = (today - cycle.start).days / max(1, (cycle.end - cycle.start).days)
        text += f" The pace line expects {_pct(min(1.0, pace))} today ({day(today)})."
    elif phase == "after":
        text += " The cycle is closed."
    else:
        text += " The cycle has not started."
    if confidence:
        text += f" Latest confidence {_pct(confidence[-1][1])}."
    return text


class _Frame:
    """A chart's plot area: dates across (the cycle, clamped), progress up (0–100 %)."""

    def __init__(self, cycle: Cycle, width: float, height: float, pad: tuple[float, ...]):
        self.width, self.height = width, height
        self.top, self.right, self.bottom, self.left = pad
        self.days = max(1, (cycle.end - cycle.start).days)
        self._start = cycle.start.toordinal()
        self._plot_width = width - self.left - self.right
        self._plot_height = height - self.top - self.bottom
        self.label_y = height - self.bottom + 18  # baseline of the labels under the plot

    def x(self, date: dt.date) -> float:
        share = min(1.0, max(0.0, (date.toordinal() - self._start) / self.days))
        return round(self.left + share * self._plot_width, 1)

    def y(self, value: float) -> float:
        value = min(1.0, max(0.0, value))
        return round(self.top + (1 - value) * self._plot_height, 1)

    def pace(self, cycle: Cycle) -> str:
        """The pace line: from 0 at the cycle's start to 100 % at its end."""
        return (
            f'<line class="pace" x1="{self.x(cycle.start)}" y1="{self.y(0)}" '
            f'x2="{self.x(cycle.end)}" y2="{self.y(1)}"/>'
        )

    def coordinates(self, series: Series) -> list[tuple[float, float]]:
        """`(x, y)` of each point, for the line and its dots alike."""
        x, y = self.x, self.y
        return [(x(d), y(v)) for d, v in series]


def _points(coordinates: list[tuple[float, float]]) -> str:
    """An SVG polyline's `points`."""
    return " ".join([f"{x},{y}" for x, y in coordinates])


@functools.lru_cache(maxsize=64)
def _progress_frame(cycle: Cycle) -> tuple[_Frame, str]:
    """A progress chart's frame, and what every chart of the cycle draws alike:
    the grid, the axis labels and the pace line."""
    f = _Frame(cycle, 640, 240, (12, 16, 34, 46))
    parts = []
    for value in (0, 0.25, 0.5, 0.75, 1):
        y = f.y(value)
        parts.append(
            f'<line class="grid" x1="{f.left}" x2="{f.width - f.right}" y1="{y}" y2="{y}"/>'
        )
        parts.append(
            f'<text class="axis" x="{f.left - 6}" y="{y + 4}" text-anchor="end">{_pct(value)}</text>'
        )
    parts.append(
        f'<text class="axis" x="{f.left}" y="{f.label_y}">{escape(day(cycle.start))}</text>'
    )
    parts.append(
        f'<text class="axis" x="{f.width - f.right}" y="{f.label_y}" text-anchor="end">'
        f"{escape(day(cycle.end))}</text>"
    )
    parts.append(f.pace(cycle))
    return f, "".join(parts)


def progress_chart(
    series: Series,
    cycle: Cycle,
    today: dt.date,
    *,
    chart_id: str,
    title: str,
    confidence: Series = (),
) -> Markup:
    """A progress-over-time chart with the pace line, today and confidence."""
    f, axes = _progress_frame(cycle)
    t_id, d_id = f"{chart_id}-title", f"{chart_id}-desc"
    parts = [
        f'<svg class="chart" viewBox="0 0 {f.width} {f.height}" role="img" '
        f'aria-labelledby="{escape(t_id)} {escape(d_id)}">',
        f'<title id="{escape(t_id)}">{escape(title)}</title>',
        f'<desc id="{escape(d_id)}">{escape(describe(series, cycle, today, confidence))}</desc>',
        axes,
    ]
    if cycle.phase(today) == "running":
        x = f.x(today)
        parts.append(f'<line class="today" x1="{x}" x2="{x}" y1="{f.top}" y2="{f.y(0)}"/>')
        anchor = "end" if x > f.width * 0.8 else "middle"
        parts.append(
            f'<text class="axis" x="{x}" y="{f.label_y}" text-anchor="{anchor}">today</text>'
            if f.width * 0.2 < x
            else ""
        )
    if confidence:
        confidence_xy = f.coordinates(confidence)
        parts.append(f'<polyline class="conf" points="{_points(confidence_xy)}"/>')
        for (d, v), (x, y) in zip(confidence, confidence_xy, strict=True):
            parts.append(
                f'<rect class="conf-dot" x="{x - 3}" y="{y - 3}" width="6" height="6">'
                f"<title>{escape(day(d))}: confidence {_pct(v)}</title></rect>"
            )
    line = _with_start(series, cycle)
    parts.append(f'<polyline class="line" points="{_points(f.coordinates(line))}"/>')
    # A dot for each check-in, clamped to the cycle (the line keeps the points in it).
    for (d, v), (x, y) in zip(series, f.coordinates(series), strict=True):
        parts.append(
            f'<circle class="dot" cx="{x}" cy="{y}" r="4">'
            f"<title>{escape(day(d))}: progress {_pct(v)}</title></circle>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


@functools.lru_cache(maxsize=64)
def _spark_frame(cycle: Cycle) -> tuple[_Frame, str]:
    """A sparkline's frame, and its pace line: the same on every sparkline of the cycle."""
    f = _Frame(cycle, 120, 28, (3, 3, 3, 3))
    return f, f.pace(cycle)


def sparkline(series: Series, cycle: Cycle, today: dt.date, *, label: str) -> Markup:
    """A small progress line against the pace line, for tables and lists."""
    f, pace = _spark_frame(cycle)
    text = escape(f"{label}: {describe(series, cycle, today)}")
    line = f.coordinates(_with_start(series, cycle))
    last_x, last_y = line[-1]
    return Markup(
        f'<svg class="spark" viewBox="0 0 {f.width} {f.height}" width="{f.width}" '
        f'height="{f.height}" role="img" aria-label="{text}">'
        f"<title>{text}</title>{pace}"
        f'<polyline class="line" points="{_points(line)}"/>'
        f'<circle class="dot" cx="{last_x}" cy="{last_y}" r="2.5"/></svg>'
    )
