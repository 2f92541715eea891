"""The panel's quarterly figures as a card people read at a glance.

Adaptive Cards 1.5 has no chart element, so each chart is drawn with ColumnSets: a row per
item, with its label, a coloured bar whose width is proportional to its count (a weighted
Column beside an empty one), and the count itself, so the bar is never the only way to
read the number. Counts only: nothing on this card concerns a person.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from adaptive_cards import card as ac
from adaptive_cards import types as t

from cards.kit import Card, build, facts, heading, paragraph
from cards.verbs import Verb

if TYPE_CHECKING:
    from collections.abc import Sequence

CSV_BUTTON = "Download CSV"
PREVIOUS_BUTTON = "Previous quarter"
NEXT_BUTTON = "Next quarter"
# The quarter buttons' data, read back by bot.features.records.commands: e.g. "2026-Q3".
QUARTER_KEY = "quarter"
BAR_HEIGHT = "12px"
# Widths of a chart row, as weights: label, bar, count.
LABEL, BAR, COUNT = 40, 48, 12
NBSP = "\u00a0"
# Under the Teams validator's 28 KB, with room to spare; long charts keep their top rows.
MAX_CARD_BYTES = 26 * 1024
ROW_LIMITS = (None, 10, 6, 3)

# The colours a bar may take (Adaptive Cards container styles, as Teams renders them).
ACCENT = "accent"
GOOD = "good"
WARNING = "warning"
ATTENTION = "attention"
EMPHASIS = "emphasis"
# A legend's text colour for each bar colour (emphasis has no text colour: the default).
_COLOURS = {
    ACCENT: t.Colors.ACCENT,
    GOOD: t.Colors.GOOD,
    WARNING: t.Colors.WARNING,
    ATTENTION: t.Colors.ATTENTION,
    EMPHASIS: t.Colors.DEFAULT,
}
_STYLES = {
    ACCENT: t.ContainerStyle.ACCENT,
    GOOD: t.ContainerStyle.GOOD,
    WARNING: t.ContainerStyle.WARNING,
    ATTENTION: t.ContainerStyle.ATTENTION,
    EMPHASIS: t.ContainerStyle.EMPHASIS,
}


def stats_title(quarter: str) -> str:
    """e.g. "Panel statistics, 2026-Q4"."""
    return f"Panel statistics, {quarter}"


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    text: str | None = None  # what is written beside the bar; the count by default
    style: str | None = None  # the chart's colour by default


@dataclass(frozen=True)
class Chart:
    """A titled set of bars, all drawn to the same scale."""

    title: str
    bars: Sequence[Bar]
    style: str = ACCENT
    empty: str = "None this quarter."
    note: str | None = None


@dataclass(frozen=True)
class Segment:
    value: int
    style: str


@dataclass(frozen=True)
class StackedBar:
    """One row of a stacked chart: e.g. an agency's actions by outcome."""

    label: str
    segments: Sequence[Segment]
    text: str


@dataclass(frozen=True)
class StackedChart:
    title: str
    rows: Sequence[StackedBar]
    legend: Sequence[tuple[str, str]]  # (style, what it means)
    empty: str = "None this quarter."


@dataclass(frozen=True)
class StatsView:
    panel_name: str
    quarter: str  # "2026-Q4"
    period: str  # "1 Oct – 31 Dec 2026 (to date)"
    headline: Sequence[tuple[str, str]]
    charts: Sequence[Chart]
    stacked: Sequence[StackedChart] = ()
    csv_url: str | None = None
    previous: str | None = None  # quarter labels for the buttons
    next: str | None = None
    notes: Sequence[str] = field(default_factory=tuple)


def _filled(width: int, style: str | None) -> Any:
    """One segment of a bar: an empty column, coloured by its style, `width` units wide."""
    return ac.Column(
        width=width,
        style=_STYLES[style] if style else None,
        min_height=BAR_HEIGHT,
        items=[],
        spacing=t.Spacing.NONE,
    )


def _bar(segments: Sequence[Segment], scale: int) -> Any:
    """Segments side by side, then the empty rest of the scale."""
    columns = [_filled(s.value, s.style) for s in segments if s.value > 0]
    rest = scale - sum(s.value for s in segments if s.value > 0)
    if rest > 0 or not columns:
        columns.append(_filled(max(rest, 1), None))
    return ac.ColumnSet(columns=columns, spacing=t.Spacing.NONE)


def _row(label: str, bar: Any, text: str) -> Any:
    return ac.ColumnSet(
        columns=[
            ac.Column(
                width=LABEL,
                items=[ac.TextBlock(text=label, wrap=True, size=t.FontSize.SMALL)],
                vertical_content_alignment=t.VerticalAlignment.CENTER,
            ),
            ac.Column(
                width=BAR, items=[bar], vertical_content_alignment=t.VerticalAlignment.CENTER
            ),
            ac.Column(
                width=COUNT,
                items=[
                    ac.TextBlock(
                        text=text,
                        size=t.FontSize.SMALL,
                        weight=t.FontWeight.BOLDER,
                        horizontal_alignment=t.HorizontalAlignment.RIGHT,
                    )
                ],
                vertical_content_alignment=t.VerticalAlignment.CENTER,
            ),
        ],
        spacing=t.Spacing.SMALL,
    )


def _section(title: str) -> Any:
    return ac.TextBlock(
        text=title, weight=t.FontWeight.BOLDER, wrap=True, separator=True, spacing=t.Spacing.MEDIUM
    )


def _chart(chart: Chart) -> list[Any]:
    items: list[Any] = [_section(chart.title)]
    if not chart.bars:
        items.append(paragraph(chart.empty, subtle=True))
    scale = max((bar.value for bar in chart.bars), default=0)
    for bar in chart.bars:
        segments = [Segment(bar.value, bar.style or chart.style)]
        items.append(_row(bar.label, _bar(segments, scale), bar.text or str(bar.value)))
    if chart.note:
        items.append(paragraph(chart.note, subtle=True))
    return items


def _stacked(chart: StackedChart) -> list[Any]:
    items: list[Any] = [_section(chart.title)]
    if not chart.rows:
        items.append(paragraph(chart.empty, subtle=True))
        return items
    scale = max(sum(s.value for s in row.segments) for row in chart.rows)
    items += [_row(row.label, _bar(row.segments, scale), row.text) for row in chart.rows]
    items.append(
        ac.RichTextBlock(
            inlines=[
                run
                for style, meaning in chart.legend
                for run in (
                    ac.TextRun(text="■ ", color=_COLOURS[style], size=t.FontSize.SMALL),
                    ac.TextRun(text=f"{meaning}   ", size=t.FontSize.SMALL, is_subtle=True),
                )
            ]
        )
    )
    return items


def _shorter_chart(chart: Chart, limit: int) -> Chart:
    if len(chart.bars) <= limit:
        return chart
    kept, rest = chart.bars[: limit - 1], chart.bars[limit - 1 :]
    other = Bar(f"{len(rest)} others", sum(bar.value for bar in rest))
    return replace(chart, bars=[*kept, other])


def _shorter_stack(chart: StackedChart, limit: int) -> StackedChart:
    if len(chart.rows) <= limit:
        return chart
    kept, rest = chart.rows[: limit - 1], chart.rows[limit - 1 :]
    width = max(len(row.segments) for row in rest)
    merged = [
        Segment(
            sum(row.segments[i].value for row in rest if i < len(row.segments)),
            next(row.segments[i].style for row in rest if i < len(row.segments)),
        )
        for i in range(width)
    ]
    other = StackedBar(f"{len(rest)} others", merged, "")
    return replace(chart, rows=[*kept, other])


def _render(view: StatsView) -> Card:
    title = stats_title(view.quarter)
    body: list[Any] = [*heading(title, f"{view.panel_name} · {view.period}"), facts(view.headline)]
    for chart in view.charts:
        body += _chart(chart)
    for stacked in view.stacked:
        body += _stacked(stacked)
    body += [paragraph(note, subtle=True) for note in view.notes]
    actions: list[Any] = []
    if view.csv_url:
        actions.append(ac.ActionOpenUrl(title=CSV_BUTTON, url=view.csv_url))
    if view.previous:
        actions.append(
            ac.ActionExecute(
                title=PREVIOUS_BUTTON,
                verb=Verb.STATS_QUARTER.value,
                data={QUARTER_KEY: view.previous},
            )
        )
    if view.next:
        actions.append(
            ac.ActionExecute(
                title=NEXT_BUTTON, verb=Verb.STATS_QUARTER.value, data={QUARTER_KEY: view.next}
            )
        )
    return build(body, actions, fallback=title, full_width=True)


def render_stats(view: StatsView) -> Card:
    """The quarter's figures: headline facts, then a bar chart per question. A chart with
    too many rows to fit Teams' size budget keeps its first rows and sums the rest as
    "N others" (the CSV has them all)."""
    card: Card = {}
    for limit in ROW_LIMITS:
        shown = view
        if limit is not None:
            shown = replace(
                view,
                charts=[_shorter_chart(c, limit) for c in view.charts],
                stacked=[_shorter_stack(c, limit) for c in view.stacked],
            )
        card = _render(shown)
        if len(json.dumps(card).encode()) <= MAX_CARD_BYTES:
            break
    return card
