"""`stats`: the panel's quarterly figures (bot.domain.stats) as a card with bar charts, and
as a CSV file through a signed link (the same pattern as the minutes' download).

For the coordinator and the chair, in private chat. Counts only: no personal data, so the
figures need no information sharing agreement; the card is still of no kind the channel
gate lets through, and looking is audited like any other report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import quote

from bot.domain.audit import AuditVerb
from bot.domain.errors import InvalidInput
from bot.domain.policy import Act
from bot.domain.stats import Quarter
from bot.features.records.commands import STATS_USAGE, ShowStats
from bot.features.records.views import quarter_figures, stats_csv, stats_view
from bot.kernel import access, audit
from bot.kernel.guard import PRIVATE, Access
from bot.kernel.links import Links, Purpose
from bot.kernel.localtime import local_day
from bot.kernel.router import CommandSpec, Deps, Reply, Request, Router, VerbSpec
from cards.stats import (
    render_stats,
)
from cards.verbs import Verb

if TYPE_CHECKING:
    from datetime import datetime

    from bot.kernel.ports import UnitOfWorkFactory

CSV_CONTENT_TYPE = "text/csv"
# Where the audit trail says a download was made (a signed link, outside any chat).
DOWNLOAD = "download"


@dataclass(frozen=True)
class StatsConfig:
    """The CSV's signed links (none when unconfigured)."""

    links: Links = field(default_factory=Links)


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
        panel, member = request.admitted()  # VIEW_STATS in private: checked by the guard
        now = deps.clock.now()
        quarter = command.quarter or Quarter.of(local_day(now, panel))
        async with deps.uow() as uow:
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
