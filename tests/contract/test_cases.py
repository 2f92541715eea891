"""Cases: references, open cases, invited agencies, yearly numbering."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from bot.domain.case import CaseStatus, ClosureReason
from bot.domain.risk import RiskLevel
from storage import ConstraintViolation

from . import builders as make

if TYPE_CHECKING:
    from bot.kernel.ports import Storage


async def test_a_case_comes_back_with_every_field_and_its_invited_agencies(
    storage: Storage,
) -> None:
    (panel,) = await make.stored_panels(storage)
    case = make.case(panel)
    bare = make.case(
        panel,
        referral_id=None,
        status=CaseStatus.OPEN,
        risk_level=RiskLevel.STANDARD,
        risk_score=None,
        has_children=False,
        lead_agency_id=None,
        lead_officer=None,
        keeps_victim_informed=None,
        victim_last_updated_at=None,
        invited_agency_ids=frozenset(),
        closure_reason=None,
        closure_note=None,
        first_heard_at=None,
        closed_at=None,
    )
    async with storage.unit_of_work() as uow:
        await uow.cases.save(case)
        await uow.cases.save(bare)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert await uow.cases.get(panel.id, case.id) == case
        assert await uow.cases.get(panel.id, bare.id) == bare


async def test_saving_a_case_again_updates_it_and_its_invited_agencies(storage: Storage) -> None:
    (panel,) = await make.stored_panels(storage)
    case = make.case(panel)
    async with storage.unit_of_work() as uow:
        await uow.cases.save(case)
        await uow.commit()
    case.reopen()
    case.invited_agency_ids = frozenset({"only-this-one"})
    case.nominate_lead("lead-agency", "DS Patel")
    async with storage.unit_of_work() as uow:
        await uow.cases.save(case)
        await uow.commit()
    case.invite("and-this-one")
    case.close(ClosureReason.CONCERNS_REDUCED, None, at=make.at(days=90))
    async with storage.unit_of_work() as uow:
        await uow.cases.save(case)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        loaded = await uow.cases.get(panel.id, case.id)
    assert loaded == case
    assert loaded is not None
    assert loaded.invited_agency_ids == {"only-this-one", "and-this-one"}


async def test_a_case_is_found_by_its_reference_whatever_the_case(storage: Storage) -> None:
    (panel,) = await make.stored_panels(storage)
    case = make.case(panel, reference="CM-2026-014")
    async with storage.unit_of_work() as uow:
        await uow.cases.save(case)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert await uow.cases.by_reference(panel.id, "CM-2026-014") == case
        assert await uow.cases.by_reference(panel.id, "cm-2026-014") == case
        assert await uow.cases.by_reference(panel.id, "Cm-2026-014") == case
        assert await uow.cases.by_reference(panel.id, "CM-2026-015") is None


async def test_two_cases_of_one_panel_cannot_share_a_reference(storage: Storage) -> None:
    first, second = await make.stored_panels(storage, 2)
    async with storage.unit_of_work() as uow:
        await uow.cases.save(make.case(first, reference="CM-2026-001"))
        await uow.cases.save(make.case(second, reference="CM-2026-001"))
        with pytest.raises(ConstraintViolation):
            await uow.cases.save(make.case(first, reference="cm-2026-001"))


async def test_open_cases_are_listed_oldest_first_without_closed_ones(storage: Storage) -> None:
    (panel,) = await make.stored_panels(storage)
    heard = make.case(panel, status=CaseStatus.HEARD, opened_at=make.at(days=2))
    opened = make.case(panel, status=CaseStatus.OPEN, opened_at=make.at(days=1))
    closed = make.case(panel, status=CaseStatus.CLOSED, opened_at=make.at())
    async with storage.unit_of_work() as uow:
        for case in (heard, opened, closed):
            await uow.cases.save(case)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert [c.id for c in await uow.cases.list_open(panel.id)] == [opened.id, heard.id]


async def test_cases_are_fetched_by_ids_oldest_first_ignoring_unknown_ids(
    storage: Storage,
) -> None:
    (panel,) = await make.stored_panels(storage)
    cases = [make.case(panel, opened_at=make.at(days=d)) for d in (3, 1, 2)]
    async with storage.unit_of_work() as uow:
        for case in cases:
            await uow.cases.save(case)
        await uow.commit()
    wanted = [cases[0].id, "no-such-case", cases[1].id, cases[0].id]
    async with storage.unit_of_work() as uow:
        found = await uow.cases.by_ids(panel.id, wanted)
        assert await uow.cases.by_ids(panel.id, []) == []
    assert [c.id for c in found] == [cases[1].id, cases[0].id]
    assert found[1] == cases[0]


async def test_cases_are_counted_per_calendar_year_of_opening(storage: Storage) -> None:
    (panel,) = await make.stored_panels(storage)
    new_year = datetime(2030, 1, 1, tzinfo=UTC)
    offsets = [timedelta(seconds=-1), timedelta(0), timedelta(days=364, hours=23)]
    async with storage.unit_of_work() as uow:
        for offset in offsets:
            await uow.cases.save(make.case(panel, opened_at=new_year + offset))
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert await uow.cases.count_opened_in_year(panel.id, 2029) == 1
        assert await uow.cases.count_opened_in_year(panel.id, 2030) == 2
        assert await uow.cases.count_opened_in_year(panel.id, 2031) == 0


async def test_cases_of_one_panel_are_invisible_from_another(storage: Storage) -> None:
    mine, theirs = await make.stored_panels(storage, 2)
    case = make.case(mine, status=CaseStatus.OPEN, opened_at=datetime(2031, 5, 1, tzinfo=UTC))
    async with storage.unit_of_work() as uow:
        await uow.cases.save(case)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert await uow.cases.get(theirs.id, case.id) is None
        assert await uow.cases.by_reference(theirs.id, case.reference) is None
        assert await uow.cases.list_open(theirs.id) == []
        assert await uow.cases.by_ids(theirs.id, [case.id]) == []
        assert await uow.cases.count_opened_in_year(theirs.id, 2031) == 0
        assert await uow.cases.count_opened_in_year(mine.id, 2031) == 1
