"""Records: retention, subject access, erasure and the panel's statistics."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from bot.domain.retention import RetentionPolicy
from bot.features.records import dataprotection, gallery, stats
from bot.features.records.erasure_ledger import ErasureLedger
from bot.kernel.feature import Download, Feature, Job, Route, Setup
from bot.kernel.links import token_of

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from bot.kernel.router import Deps, Router


def dataprotection_config(setup: Setup) -> dataprotection.DataProtectionConfig:
    """Subject access downloads (signed links) and retention."""
    settings = setup.settings
    if settings is None:
        return dataprotection.DataProtectionConfig()
    return dataprotection.DataProtectionConfig(
        links=setup.links(),
        retention=RetentionPolicy(
            settings.retention_years,
            outbox_days=settings.outbox_keep_days,
            ledger_days=settings.activity_ledger_keep_days,
        ),
        retention_every=timedelta(hours=settings.retention_interval_hours),
        ledger=ErasureLedger(settings.erasure_ledger) if settings.erasure_ledger else None,
        housekeeping_every=timedelta(hours=settings.housekeeping_interval_hours),
    )


def stats_config(setup: Setup) -> stats.StatsConfig:
    """The statistics' CSV download (a signed link)."""
    return stats.StatsConfig(links=setup.links())


def register(router: Router, setup: Setup) -> None:
    """`sar`, `erase`, `retention`, `stats` and their buttons."""
    dataprotection.register(router, dataprotection_config(setup) if setup.settings else None)
    stats.register(router, stats_config(setup) if setup.settings else None)


def routes(setup: Setup, deps: Deps) -> Sequence[Route]:
    """Subject access exports (Word and JSON) and a quarter's statistics (CSV)."""
    links = setup.links()

    def sar(fmt: str) -> Route:
        async def export(path: Mapping[str, str], query: Mapping[str, str]) -> Download | None:
            found = await dataprotection.sar_file(
                deps.uow,
                links,
                path["panel_id"],
                path["export_id"],
                fmt,
                token_of(query),
                deps.clock.now(),
            )
            if found is None:
                return None  # the same answer for a bad link and an unknown export
            body, content_type, file_name = found
            return Download(body, content_type, file_name)

        return Route(dataprotection.sar_route(fmt), export)

    async def csv(path: Mapping[str, str], query: Mapping[str, str]) -> Download | None:
        body = await stats.stats_file(
            deps.uow,
            links,
            path["panel_id"],
            path["quarter"],
            token_of(query),
            deps.clock.now(),
        )
        if body is None:
            return None
        return Download(body, stats.CSV_CONTENT_TYPE, "panel-statistics.csv", "utf-8")

    return (sar("docx"), sar("json"), Route(stats.CSV_ROUTE, csv))


# A new database's first retention run waits a minute after start-up, out of its way.
RETENTION_FIRST_AFTER = timedelta(minutes=1)


def jobs(setup: Setup, deps: Deps, _kick: Callable[[], None]) -> Sequence[Job]:
    """Retention, every RETENTION_INTERVAL_HOURS, and housekeeping (the outbox's delivered
    rows and the activity ledger), every HOUSEKEEPING_INTERVAL_HOURS: once across instances
    (bot.kernel.jobs), and each case is marked once all the same."""
    config = dataprotection_config(setup)

    async def retention() -> None:
        await dataprotection.run_retention(deps, deps.clock.now(), policy=config.retention)

    async def housekeeping() -> None:
        await dataprotection.run_housekeeping(deps, deps.clock.now(), policy=config.retention)

    return (
        Job("retention", config.retention_every, retention, RETENTION_FIRST_AFTER),
        Job("housekeeping", config.housekeeping_every, housekeeping),
    )


FEATURE = Feature("records", register, gallery.gallery, routes=routes, jobs=jobs)
