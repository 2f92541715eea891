"""Referrals, their subjects and children, and the repeat-referral check."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from bot.domain.referral import (
    Child,
    ReferralStatus,
    Subject,
    SubjectRole,
    normalise_postcode,
)
from storage import ConstraintViolation

from . import builders as make

if TYPE_CHECKING:
    from bot.kernel.ports import Storage


async def test_a_referral_comes_back_with_every_field_its_subjects_and_children(
    storage: Storage,
) -> None:
    (panel,) = await make.stored_panels(storage)
    referral = make.referral(panel)
    async with storage.unit_of_work() as uow:
        await uow.referrals.save(referral)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        loaded = await uow.referrals.get(panel.id, referral.id)
    assert loaded == referral
    assert loaded is not None
    assert [s.id for s in loaded.subjects] == [s.id for s in referral.subjects]
    assert loaded.children[1].date_of_birth is None
    assert loaded.subjects[0].aliases == ("Zoe Smith", "Zed")
    assert loaded.agencies_involved == ("police", "housing")
    for instant in (loaded.created_at, loaded.submitted_at, loaded.decided_at):
        assert instant is not None
        assert instant.utcoffset() is not None


async def test_a_bare_draft_referral_comes_back_as_it_was(storage: Storage) -> None:
    (panel,) = await make.stored_panels(storage)
    draft = make.referral(
        panel,
        referring_agency_id=None,
        status=ReferralStatus.DRAFT,
        subjects=[],
        children=[],
        relationship=None,
        agencies_involved=(),
        risk_answers={},
        risk_matrix_version=None,
        risk_total=None,
        decline_reason=None,
        decline_note=None,
        more_info_question=None,
        case_id=None,
        submitted_at=None,
        decided_at=None,
        draft_inputs={},
        draft_step=None,
    )
    async with storage.unit_of_work() as uow:
        await uow.referrals.save(draft)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert await uow.referrals.get(panel.id, draft.id) == draft


async def test_saving_a_referral_again_replaces_its_subjects_and_children(
    storage: Storage,
) -> None:
    (panel,) = await make.stored_panels(storage)
    referral = make.referral(panel)
    async with storage.unit_of_work() as uow:
        await uow.referrals.save(referral)
        await uow.commit()
    victim, _perpetrator = referral.subjects
    victim.name = "Zoe Smith"
    witness = make.subject(role=SubjectRole.WITNESS, name="Ann Lee", date_of_birth=None)
    referral.subjects = [witness, victim]
    referral.children = [Child(name="Ben")]
    referral.risk_answers = {"q1": "no"}
    referral.status = ReferralStatus.ACCEPTED
    async with storage.unit_of_work() as uow:
        await uow.referrals.save(referral)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        loaded = await uow.referrals.get(panel.id, referral.id)
    assert loaded == referral
    assert loaded is not None
    assert [s.name for s in loaded.subjects] == ["Ann Lee", "Zoe Smith"]


async def test_a_referral_is_found_by_its_reference_whatever_the_case(storage: Storage) -> None:
    (panel,) = await make.stored_panels(storage)
    referral = make.referral(panel, reference="NB-R-2026-007")
    async with storage.unit_of_work() as uow:
        await uow.referrals.save(referral)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert await uow.referrals.by_reference(panel.id, "NB-R-2026-007") == referral
        assert await uow.referrals.by_reference(panel.id, "nb-r-2026-007") == referral
        assert await uow.referrals.by_reference(panel.id, "NB-R-2026-008") is None


async def test_two_referrals_of_one_panel_cannot_share_a_reference(storage: Storage) -> None:
    first, second = await make.stored_panels(storage, 2)
    async with storage.unit_of_work() as uow:
        await uow.referrals.save(make.referral(first, reference="NB-R-2026-001"))
        await uow.referrals.save(make.referral(second, reference="NB-R-2026-001"))
        with pytest.raises(ConstraintViolation):
            await uow.referrals.save(make.referral(first, reference="nb-r-2026-001"))


async def test_referrals_are_listed_oldest_first_and_by_status(storage: Storage) -> None:
    (panel,) = await make.stored_panels(storage)
    newer = make.referral(panel, status=ReferralStatus.SUBMITTED, created_at=make.at(days=2))
    older = make.referral(panel, status=ReferralStatus.SUBMITTED, created_at=make.at(days=1))
    draft = make.referral(panel, status=ReferralStatus.DRAFT, created_at=make.at())
    async with storage.unit_of_work() as uow:
        for referral in (newer, older, draft):
            await uow.referrals.save(referral)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        everything = await uow.referrals.all(panel.id)
        submitted = await uow.referrals.all(panel.id, status=ReferralStatus.SUBMITTED)
        declined = await uow.referrals.all(panel.id, status=ReferralStatus.DECLINED)
    assert [r.id for r in everything] == [draft.id, older.id, newer.id]
    assert [r.id for r in submitted] == [older.id, newer.id]
    assert declined == []


async def test_a_referrers_referrals_are_listed_oldest_first(storage: Storage) -> None:
    (panel,) = await make.stored_panels(storage)
    mine = [
        make.referral(panel, referrer_member_id="me", created_at=make.at(days=d)) for d in (3, 1)
    ]
    async with storage.unit_of_work() as uow:
        for referral in [*mine, make.referral(panel, referrer_member_id="someone-else")]:
            await uow.referrals.save(referral)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        listed = await uow.referrals.by_referrer(panel.id, "me")
    assert [r.id for r in listed] == [mine[1].id, mine[0].id]


async def test_referrals_are_counted_per_calendar_year(storage: Storage) -> None:
    (panel,) = await make.stored_panels(storage)
    new_year = datetime(2027, 1, 1, tzinfo=UTC)
    offsets = [timedelta(days=-365), timedelta(seconds=-1), timedelta(0), timedelta(days=30)]
    async with storage.unit_of_work() as uow:
        for offset in offsets:
            await uow.referrals.save(make.referral(panel, created_at=new_year + offset))
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert await uow.referrals.count_created_in_year(panel.id, 2027) == 2
        assert await uow.referrals.count_created_in_year(panel.id, 2026) == 2
        assert await uow.referrals.count_created_in_year(panel.id, 2025) == 0


async def test_a_subject_with_the_same_name_and_date_of_birth_is_a_match(
    storage: Storage,
) -> None:
    (panel,) = await make.stored_panels(storage)
    earlier = make.referral(
        panel, subjects=[make.subject(name="John Smith", date_of_birth=date(1990, 1, 2))]
    )
    async with storage.unit_of_work() as uow:
        await uow.referrals.save(earlier)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        matches = await uow.referrals.subject_matches(
            panel.id,
            dates_of_birth=[date(1990, 1, 2)],
            match_postcode=normalise_postcode("ZZ9 9ZZ"),
        )
    assert [(r.id, s.id) for r, s in matches] == [(earlier.id, earlier.subjects[0].id)]
    assert matches[0][0] == earlier
    assert matches[0][1] == earlier.subjects[0]


async def test_a_subject_with_the_same_name_and_postcode_is_a_match(storage: Storage) -> None:
    (panel,) = await make.stored_panels(storage)
    earlier = make.referral(
        panel,
        subjects=[make.subject(name="Zoë O'Brien", date_of_birth=None, postcode="nb1  2ab")],
    )
    async with storage.unit_of_work() as uow:
        await uow.referrals.save(earlier)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        matches = await uow.referrals.subject_matches(
            panel.id,
            dates_of_birth=[date(2001, 1, 1)],
            match_postcode=normalise_postcode("NB1 2AB"),
        )
    assert [r.id for r, _ in matches] == [earlier.id]


async def test_a_name_alone_or_another_birthday_elsewhere_is_not_in_the_block(
    storage: Storage,
) -> None:
    (panel,) = await make.stored_panels(storage)
    earlier = make.referral(
        panel,
        subjects=[make.subject(name="John Smith", date_of_birth=date(1990, 1, 2), postcode=None)],
    )
    async with storage.unit_of_work() as uow:
        await uow.referrals.save(earlier)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        name_only = await uow.referrals.subject_matches(
            panel.id, dates_of_birth=[], match_postcode=None
        )
        other_birthday = await uow.referrals.subject_matches(
            panel.id, dates_of_birth=[date(1990, 1, 3)], match_postcode="NB12AB"
        )
        # The block holds everyone born that day or one of the days asked, whatever the name:
        # the domain compares names (bot/domain/matching.py).
        swapped_day = await uow.referrals.subject_matches(
            panel.id, dates_of_birth=[date(1990, 2, 1), date(1990, 1, 2)], match_postcode=None
        )
    assert name_only == other_birthday == []
    assert [r.id for r, _ in swapped_day] == [earlier.id]


async def test_the_referral_being_checked_is_not_its_own_match(storage: Storage) -> None:
    (panel,) = await make.stored_panels(storage)
    person = make.subject(name="Sam Hill", date_of_birth=date(1970, 7, 7))
    earlier = make.referral(panel, subjects=[person], created_at=make.at(days=-5))
    current = make.referral(
        panel, subjects=[make.subject(name="Sam Hill", date_of_birth=date(1970, 7, 7))]
    )
    async with storage.unit_of_work() as uow:
        await uow.referrals.save(earlier)
        await uow.referrals.save(current)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        matches = await uow.referrals.subject_matches(
            panel.id,
            dates_of_birth=[date(1970, 7, 7)],
            match_postcode=None,
            exclude_referral_id=current.id,
        )
    assert [r.id for r, _ in matches] == [earlier.id]


async def test_matches_come_oldest_referral_first_then_in_subject_order(storage: Storage) -> None:
    (panel,) = await make.stored_panels(storage)

    def twin() -> Subject:
        return make.subject(name="Kim Lee", date_of_birth=date(1999, 9, 9))

    newest = make.referral(panel, subjects=[twin()], created_at=make.at(days=3))
    oldest = make.referral(panel, subjects=[twin(), twin()], created_at=make.at(days=1))
    async with storage.unit_of_work() as uow:
        await uow.referrals.save(newest)
        await uow.referrals.save(oldest)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        matches = await uow.referrals.subject_matches(
            panel.id, dates_of_birth=[date(1999, 9, 9)], match_postcode=None
        )
    assert [(r.id, s.id) for r, s in matches] == [
        (oldest.id, oldest.subjects[0].id),
        (oldest.id, oldest.subjects[1].id),
        (newest.id, newest.subjects[0].id),
    ]


async def test_referrals_of_one_panel_are_invisible_from_another(storage: Storage) -> None:
    mine, theirs = await make.stored_panels(storage, 2)
    referral = make.referral(
        mine,
        referrer_member_id="shared-member",
        subjects=[make.subject(name="Ada Stone", date_of_birth=date(1980, 1, 1))],
    )
    async with storage.unit_of_work() as uow:
        await uow.referrals.save(referral)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert await uow.referrals.get(theirs.id, referral.id) is None
        assert await uow.referrals.by_reference(theirs.id, referral.reference) is None
        assert await uow.referrals.all(theirs.id) == []
        assert await uow.referrals.by_referrer(theirs.id, "shared-member") == []
        assert await uow.referrals.count_created_in_year(theirs.id, 2026) == 0
        matches = await uow.referrals.subject_matches(
            theirs.id,
            dates_of_birth=[date(1980, 1, 1)],
            match_postcode=referral.subjects[0].match_postcode,
        )
        assert matches == []
