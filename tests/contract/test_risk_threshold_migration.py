"""Revision 0016 keeps, with each scored referral, the threshold of the matrix version it was
scored with: referrals of the shipped example's version get its threshold; a referral of
another version, or not scored, gets none. Their level is then what it was, whatever matrix
the panel moves to; undone, every referral stays."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from alembic import command
from sqlalchemy import Connection, func, insert, inspect, select, text

from bot.domain.referral import Criteria, ReferralStatus, assessed_risk_level
from bot.domain.risk import RiskLevel, RiskMatrix
from bot.kernel.config import example_matrix
from storage import open_storage
from storage.schema import migrate_async, run_alembic
from storage.sql import mapping as m
from storage.sql.engine import create_engine
from storage.sql.models import Base, PanelRow, ReferralRow

from . import builders as make
from .conftest import POSTGRES_URL, drop_schema, require_postgres, unique_schema

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from bot.domain.referral import Referral

BEFORE = "0012"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[str, str | None]]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'threshold.sqlite3'}", None
        return
    await require_postgres()
    schema = unique_schema("risk_threshold_migration")
    try:
        yield POSTGRES_URL, schema
    finally:
        await drop_schema(schema)


async def columns(url: str, schema: str | None, table: str) -> set[str]:
    engine = create_engine(url, schema=schema)

    def look(conn: Connection) -> set[str]:
        return {column["name"] for column in inspect(conn).get_columns(table)}

    try:
        async with engine.connect() as conn:
            return await conn.run_sync(look)
    finally:
        await engine.dispose()


def values(row: Base, present: set[str]) -> dict[str, Any]:
    """A row's column values, for the columns the table has at this revision."""
    mapper = inspect(type(row))
    found = {
        prop.columns[0].name: getattr(row, prop.key)
        for prop in mapper.column_attrs
        if prop.columns[0].name in present
    }
    return {name: value for name, value in found.items() if value is not None}


async def test_existing_referrals_keep_the_threshold_they_were_scored_with(
    database: tuple[str, str | None],
) -> None:
    url, schema = database
    await run_alembic(url, lambda config: command.upgrade(config, BEFORE), schema=schema)
    assert "risk_threshold" not in await columns(url, schema, "referrals")
    example = example_matrix()
    panel = make.panel()

    def scored(
        total: int | None, version: str | None, criteria: Criteria | None = None
    ) -> Referral:
        return make.referral(
            panel,
            status=ReferralStatus.SUBMITTED,
            risk_total=total,
            risk_matrix_version=version,
            risk_threshold=None,
            criteria=criteria or Criteria(),
        )

    high = scored(example.threshold + 1, example.version)
    below = scored(example.threshold, example.version)
    other = scored(example.threshold + 1, "borough-2025")
    unscored = scored(None, None, criteria=Criteria(potential_escalation=True))
    referrals = (high, below, other, unscored)
    panel_row = PanelRow(id=panel.id)
    m.fill_panel(panel_row, panel)
    present = {table: await columns(url, schema, table) for table in ("panels", "referrals")}
    engine = create_engine(url, schema=schema)
    try:
        async with engine.begin() as conn:
            await conn.execute(insert(PanelRow).values(values(panel_row, present["panels"])))
            for each in referrals:
                row = ReferralRow(id=each.id, version=1)
                m.fill_referral(row, each)
                await conn.execute(insert(ReferralRow).values(values(row, present["referrals"])))
    finally:
        await engine.dispose()

    await migrate_async(url, schema=schema)
    storage = open_storage(url, schema=schema)
    try:
        async with storage.unit_of_work() as uow:
            loaded = {each.id: await uow.referrals.get(panel.id, each.id) for each in referrals}
    finally:
        await storage.close()
    stored = {key: found.risk_threshold for key, found in loaded.items() if found}
    assert stored == {
        high.id: example.threshold,
        below.id: example.threshold,
        other.id: None,
        unscored.id: None,
    }
    # The panel's file moves on: a new version with a higher threshold, or a lower one.
    for today in (
        RiskMatrix("borough-2027", example.threshold + 20, example.items),
        RiskMatrix("borough-2027", 0, example.items),
    ):
        levels = {key: assessed_risk_level(found, today) for key, found in loaded.items() if found}
        assert levels == {
            high.id: RiskLevel.HIGH,
            below.id: RiskLevel.STANDARD,
            other.id: RiskLevel.STANDARD,  # its version's threshold is not known
            unscored.id: RiskLevel.MEDIUM,
        }

    await run_alembic(url, lambda config: command.downgrade(config, BEFORE), schema=schema)
    assert "risk_threshold" not in await columns(url, schema, "referrals")
    engine = create_engine(url, schema=schema)
    try:
        async with engine.connect() as conn:
            kept = await conn.scalar(select(func.count()).select_from(text("referrals")))
    finally:
        await engine.dispose()
    assert kept == len(referrals)
