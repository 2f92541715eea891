"""`stats`: the panel's quarterly figures (bot.domain.stats) as a card with bar charts, and
as a CSV file through a signed link (the same pattern as the minutes' download).

For the coordinator and the chair, in private chat. Counts only: no personal data, so the
figures need no information sharing agreement; the card is still of no kind the channel
gate lets through, and looking is audited like any other report.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo

from bot.domain.audit import AuditVerb
from bot.domain.case import CLOSURE_LABELS, ClosureReason
from bot.domain.delivery import ConversationKind
from bot.domain.errors import InvalidInput, NotAllowed
from bot.domain.panel import Agency, Panel
from bot.domain.policy import Act
from bot.domain.referral import DECLINE_LABELS, DeclineReason
from bot.domain.risk import RiskLevel
from bot.domain.stats import Quarter, QuarterStats, quarter_stats
from bot.features.records.commands import STATS_USAGE, ShowStats
from bot.kernel import access, audit
from bot.kernel.guard import PRIVATE, Access
from bot.kernel.links import Links, Purpose
from bot.kernel.localtime import local_day
from bot.kernel.ports import UnitOfWork, UnitOfWorkFactory
from bot.kernel.router import CommandSpec, Deps, Reply, Request, Router, VerbSpec
from cards.stats import (
    ACCENT,
    ATTENTION,
    EMPHASIS,
    GOOD,
    WARNING,
    Bar,
    Chart,
    Segment,
    StackedBar,
    StackedChart,
    StatsView,
    render_stats,
)
from cards.verbs import Verb

CSV_CONTENT_TYPE = "text/csv"
# Where the audit trail says a download was made (a signed link, outside any chat).
DOWNLOAD = "download"
PRIVATE_ONLY = "The panel's statistics are shown in our private chat."
NOT_A_MEMBER = "The panel's statistics are for its coordinators and chairs."
NO_AGENCY = "No agency recorded"
RISK_STYLES: Mapping[RiskLevel, str] = {
    RiskLevel.HIGH: ATTENTION,
    RiskLevel.MEDIUM: WARNING,
    RiskLevel.STANDARD: GOOD,
}
ACTION_PARTS: tuple[tuple[str, str, str], ...] = (
    ("on_time", GOOD, "done on time"),
    ("late", WARNING, "done late"),
    ("overdue", ATTENTION, "overdue"),
    ("open", ACCENT, "not yet due"),
    ("cancelled", EMPHASIS, "cancelled"),
)
NOTES = (
    "Received: referrals sent to the panel in the quarter. Decisions: made in the quarter. "
    "Risk levels and children: cases opened in the quarter. A repeat: one of its people had "
    "a case that closed in the 12 months before. Actions: those due in the quarter.",
    "Counts only: nothing here names or describes a person.",
)


@dataclass(frozen=True)
class StatsConfig:
    """The CSV's signed links (none when unconfigured)."""

    links: Links = field(default_factory=Links)


def _percent(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else "—"


def _days(figures: QuarterStats) -> str:
    heard = len(figures.days_to_first_hearing)
    if not heard:
        return "no case first heard"
    median = figures.median_days
    shown = f"{median:g}" if median is not None else "—"
    cases = "case" if heard == 1 else "cases"
    return f"median {shown}, longest {figures.longest_days} ({heard} {cases})"


def period_text(quarter: Quarter, to_date: bool) -> str:
    """e.g. "1 Oct – 31 Dec 2026 (to date)"."""
    first, last = quarter.first_day, quarter.last_day
    text = f"{first.day} {first:%b} – {last.day} {last:%b %Y}"
    return text + (" (to date)" if to_date else "")


def _agency_name(agencies: Mapping[str, Agency], agency_id: str | None) -> str:
    found = agencies.get(agency_id or "")
    return found.name if found else NO_AGENCY


def stats_view(
    panel: Panel,
    figures: QuarterStats,
    agencies: Mapping[str, Agency],
    *,
    csv_url: str | None,
    now: datetime,
) -> StatsView:
    """The card's content: headline facts, then one chart per question."""
    quarter = figures.quarter
    by_agency = sorted(
        ((_agency_name(agencies, a), n) for a, n in figures.by_agency.items()),
        key=lambda pair: (-pair[1], pair[0]),
    )
    decided = figures.accepted + figures.declined + figures.withdrawn
    headline = [
        ("Referrals received", str(figures.received)),
        (
            "Accepted · declined · withdrawn",
            f"{figures.accepted} · {figures.declined} · {figures.withdrawn}"
            + (f" (of {decided} decided)" if decided else ""),
        ),
        (
            "Repeat referrals",
            f"{figures.repeats} of {figures.received} "
            f"({_percent(figures.repeats, figures.received)})",
        ),
        ("Days from referral to first hearing", _days(figures)),
        (
            "New cases with children",
            f"{figures.with_children} of {figures.new_cases} "
            f"({_percent(figures.with_children, figures.new_cases)})",
        ),
    ]
    charts = [
        Chart(
            "Referrals received, by agency",
            [Bar(name, n) for name, n in by_agency],
            style=ACCENT,
        ),
        Chart(
            "Declined, by reason",
            [
                Bar(label, figures.decline_reasons[reason])
                for reason, label in DECLINE_LABELS.items()
                if figures.decline_reasons.get(reason)
            ],
            style=WARNING,
        ),
        Chart(
            "New cases, by risk level",
            [
                Bar(level.value.capitalize(), figures.risk_levels[level], style=RISK_STYLES[level])
                for level in (RiskLevel.HIGH, RiskLevel.MEDIUM, RiskLevel.STANDARD)
                if figures.risk_levels.get(level)
            ],
        ),
        Chart(
            "Cases closed, by reason",
            [
                Bar(label, figures.closures[reason])
                for reason, label in CLOSURE_LABELS.items()
                if figures.closures.get(reason)
            ],
            style=GOOD,
        ),
    ]
    rows = []
    for agency_id, tally in sorted(
        figures.actions.items(),
        key=lambda pair: (-pair[1].total, _agency_name(agencies, pair[0])),
    ):
        segments = [Segment(getattr(tally, part), style) for part, style, _ in ACTION_PARTS]
        rows.append(
            StackedBar(
                _agency_name(agencies, agency_id),
                segments,
                f"{tally.on_time}/{tally.total}",
            )
        )
    stacked = StackedChart(
        "Actions due this quarter, by agency (done on time / all)",
        rows,
        legend=[(style, meaning) for _, style, meaning in ACTION_PARTS],
    )
    current = Quarter.of(local_day(now, panel))
    created = Quarter.of(local_day(panel.created_at, panel))
    return StatsView(
        panel_name=panel.name,
        quarter=quarter.label,
        period=period_text(quarter, figures.to_date),
        headline=headline,
        charts=charts,
        stacked=[stacked],
        csv_url=csv_url,
        previous=quarter.previous().label if quarter > created else None,
        next=quarter.next().label if quarter < current else None,
        notes=NOTES,
    )


def _cell(value: str) -> str:
    """A spreadsheet reads a cell starting = + - @ as a formula: never let it."""
    return f"'{value}" if value[:1] in {"=", "+", "-", "@"} else value


def stats_csv(panel: Panel, figures: QuarterStats, agencies: Mapping[str, Agency]) -> bytes:
    """The figures as CSV: one row per measure (panel, quarter, measure, group, value)."""
    rows: list[tuple[str, str, str]] = [("referrals_received", "", str(figures.received))]
    rows += [
        ("referrals_by_agency", _agency_name(agencies, a), str(n))
        for a, n in sorted(figures.by_agency.items(), key=lambda p: _agency_name(agencies, p[0]))
    ]
    rows += [
        ("decisions", "accepted", str(figures.accepted)),
        ("decisions", "declined", str(figures.declined)),
        ("decisions", "withdrawn", str(figures.withdrawn)),
    ]
    rows += [
        ("declined_by_reason", DECLINE_LABELS[reason], str(figures.decline_reasons.get(reason, 0)))
        for reason in DeclineReason
    ]
    rows += [
        ("new_cases_by_risk_level", level.value, str(figures.risk_levels.get(level, 0)))
        for level in RiskLevel
    ]
    rate = figures.repeat_rate
    rows += [
        ("repeat_referrals", "", str(figures.repeats)),
        ("repeat_rate_percent", "", f"{100 * rate:.1f}" if rate is not None else ""),
        ("cases_first_heard", "", str(len(figures.days_to_first_hearing))),
        (
            "days_to_first_hearing_median",
            "",
            f"{figures.median_days:g}" if figures.median_days is not None else "",
        ),
        (
            "days_to_first_hearing_longest",
            "",
            str(figures.longest_days) if figures.longest_days is not None else "",
        ),
    ]
    for agency_id, tally in sorted(
        figures.actions.items(), key=lambda p: _agency_name(agencies, p[0])
    ):
        name = _agency_name(agencies, agency_id)
        rows += [
            (f"actions_{part}", name, str(getattr(tally, part))) for part, _, _ in ACTION_PARTS
        ]
    rows += [
        ("cases_closed_by_reason", reason.value, str(figures.closures.get(reason, 0)))
        for reason in ClosureReason
    ]
    rows += [
        ("new_cases", "", str(figures.new_cases)),
        ("new_cases_with_children", "", str(figures.with_children)),
    ]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(("panel", "quarter", "measure", "group", "value"))
    for measure, group, value in rows:
        writer.writerow((_cell(panel.name), figures.quarter.label, measure, _cell(group), value))
    return out.getvalue().encode("utf-8")


async def quarter_figures(
    uow: UnitOfWork, panel: Panel, quarter: Quarter, now: datetime
) -> QuarterStats:
    """Load what the figures are counted from and count them (five statements)."""
    return quarter_stats(
        quarter,
        referrals=await uow.referrals.all(panel.id),
        cases=await uow.reports.cases(panel.id),
        actions=await uow.reports.actions_due_between(
            panel.id, quarter.first_day, quarter.last_day
        ),
        frozen_repeats=await uow.data_protection.frozen_repeats(panel.id),
        zone=ZoneInfo(panel.timezone),
        now=now,
    )


# Where a quarter's CSV is downloaded: the route the feature serves, and the links' path.
CSV_ROUTE = "/panels/{panel_id}/stats/{quarter}.csv"


def csv_path(panel_id: str, quarter: Quarter) -> str:
    """The path of one quarter's CSV."""
    return CSV_ROUTE.format(panel_id=quote(panel_id, safe=""), quarter=quarter.label)


def csv_url(
    config: StatsConfig, panel_id: str, quarter: Quarter, member_id: str, now: datetime
) -> str | None:
    """The member's signed link to the quarter's CSV, or None without downloads."""
    path = csv_path(panel_id, quarter)
    return config.links.url(Purpose.STATS, path, (panel_id, quarter.label), member_id, now)


async def stats_file(
    uow_factory: UnitOfWorkFactory,
    links: Links,
    panel_id: str,
    quarter_label: str,
    token: str,
    now: datetime,
) -> bytes | None:
    """The quarter's figures as CSV, for a valid link of a member who may still see them;
    None for anything else. Each download is audited."""
    try:
        quarter = Quarter.parse(quarter_label)
    except InvalidInput:
        return None
    member_id = links.holder(Purpose.STATS, (panel_id, quarter.label), token, now)
    if member_id is None:
        return None
    async with uow_factory() as uow:
        panel = await uow.panels.get(panel_id)
        member = await uow.members.get(panel_id, member_id) if panel else None
        if panel is None or member is None:
            return None
        if not (await access.decide_for(uow, panel, member, Act.VIEW_STATS)).allowed:
            return None
        figures = await quarter_figures(uow, panel, quarter, now)
        agencies = {a.id: a for a in await uow.agencies.all(panel.id)}
        await audit.record(
            uow,
            audit.Actor.member(member, DOWNLOAD),
            AuditVerb.EXPORT,
            "panel",
            panel.id,
            f"statistics {quarter.label} (csv)",
            at=now,
        )
        await uow.commit()
    return stats_csv(panel, figures, agencies)


class StatsFeature:
    """`stats` and the card's quarter buttons."""

    def __init__(self, config: StatsConfig | None = None) -> None:
        self.config = config or StatsConfig()

    async def command(self, request: Request, deps: Deps) -> Reply:
        """`stats`: this quarter; `stats 2026-Q3`: that one."""
        return await self.show(request, deps, ShowStats.typed(request.args))

    async def quarter_verb(self, request: Request, deps: Deps) -> Reply:
        """Previous quarter / Next quarter."""
        return await self.show(request, deps, ShowStats.of(request.data))

    async def show(self, request: Request, deps: Deps, command: ShowStats) -> Reply:
        """The quarter's figures as a card, the view audited."""
        panel, member = request.panel, request.member
        if panel is None or member is None:
            raise NotAllowed(NOT_A_MEMBER)
        if request.where.kind is not ConversationKind.PERSONAL:
            raise NotAllowed(PRIVATE_ONLY)
        now = deps.clock.now()
        quarter = command.quarter or Quarter.of(local_day(now, panel))
        async with deps.uow() as uow:  # VIEW_STATS: checked by the guard
            figures = await quarter_figures(uow, panel, quarter, now)
            agencies = {a.id: a for a in await uow.agencies.all(panel.id)}
            await audit.record(
                uow,
                request,
                AuditVerb.VIEW,
                "panel",
                panel.id,
                f"statistics {quarter.label}",
                at=now,
            )
            await uow.commit()
        url = csv_url(self.config, panel.id, quarter, member.id, now)
        view = stats_view(panel, figures, agencies, csv_url=url, now=now)
        return Reply(card=render_stats(view))


def register(router: Router, config: StatsConfig | None = None) -> StatsFeature:
    """Register `stats` and its quarter buttons."""
    feature = StatsFeature(config)
    router.command(
        CommandSpec(
            name="stats",
            summary="Coordinators and chairs: the quarter's figures, as a chart and CSV.",
            handler=feature.command,
            usage=STATS_USAGE,
            access=Access(Act.VIEW_STATS, PRIVATE),
            in_manifest=False,
        )
    )
    router.verb(
        VerbSpec(Verb.STATS_QUARTER.value, feature.quarter_verb, Access(Act.VIEW_STATS, PRIVATE))
    )
    return feature
