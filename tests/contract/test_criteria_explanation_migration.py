"""Revision 0019 keeps the explanation typed in a referral's justification whenever it was
typed: a referral stored before it kept the text only with professional judgement, and that
text becomes its explanation; one without keeps none. Undone, every referral stays."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from alembic import command
from sqlalchemy import func, insert, select, text

from bot.domain.referral import Criteria, ReferralStatus
from storage import open_storage
from storage.schema import migrate_async, run_alembic
from storage.sql import mapping as m
from storage.sql.engine import create_engine
from storage.sql.models import PanelRow, ReferralRow

from . import builders as make
from .conftest import POSTGRES_URL, drop_schema, require_postgres, unique_schema
from .test_risk_threshold_migration import columns, values

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

BEFORE = "0016"
JUDGEMENT = "The threats moved from the stairwell to her door this month."


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[str, str | None]]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'explanation.sqlite3'}", None
        return
    await require_postgres()
    schema = unique_schema("criteria_explanation_migration")
    try:
        yield POSTGRES_URL, schema
    finally:
        await drop_schema(schema)


async def test_a_professional_judgement_stored_before_becomes_the_explanation(
    database: tuple[str, str | None],
) -> None:
    url, schema = database
    await run_alembic(url, lambda config: command.upgrade(config, BEFORE), schema=schema)
    assert "criteria_explanation" not in await columns(url, schema, "referrals")
    panel = make.panel()
    judged = make.referral(
        panel,
        status=ReferralStatus.SUBMITTED,
        criteria=Criteria(professional_judgement=JUDGEMENT),
    )
    escalating = make.referral(
        panel, status=ReferralStatus.SUBMITTED, criteria=Criteria(potential_escalation=True)
    )
    referrals = (judged, escalating)
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
    kept = {key: found.criteria for key, found in loaded.items() if found}
    assert kept[judged.id].explanation == JUDGEMENT == kept[judged.id].explained
    assert kept[escalating.id].explanation is None is kept[escalating.id].explained

    await run_alembic(url, lambda config: command.downgrade(config, BEFORE), schema=schema)
    assert "criteria_explanation" not in await columns(url, schema, "referrals")
    engine = create_engine(url, schema=schema)
    try:
        async with engine.connect() as conn:
            count = await conn.scalar(select(func.count()).select_from(text("referrals")))
    finally:
        await engine.dispose()
    assert count == len(referrals)
