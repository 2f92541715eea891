"""Storage for data protection and the quarterly figures (revision 0007), on the fake, SQLite
and PostgreSQL: what retention has still to do, its marks, the repeat answers kept, finding
one person, rewriting an action's text, subject access searches, and the figures' reads."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from bot.domain.case import CaseStatus
from bot.domain.referral import Child, ReferralStatus
from bot.domain.retention import Person, SubjectAccessExport

from . import builders as make

if TYPE_CHECKING:
    from bot.kernel.ports import Storage

ZOE = Person("zoe o'brien smith", date(1984, 2, 29))  # the builders' first subject


async def test_the_cases_retention_has_still_to_do_are_closed_before_the_cutoff_and_unmarked(
    storage: Storage,
) -> None:
    mine, theirs = await make.stored_panels(storage, 2)
    cutoff = make.at(days=100)
    oldest = make.case(mine, closed_at=make.at(days=10))
    older = make.case(mine, closed_at=make.at(days=50))
    marked = make.case(mine, closed_at=make.at(days=20))
    recent = make.case(mine, closed_at=make.at(days=150))
    still_open = make.case(mine, status=CaseStatus.OPEN, closed_at=None, closure_reason=None)
    elsewhere = make.case(theirs, closed_at=make.at(days=10))
    async with storage.unit_of_work() as uow:
        for case in (older, oldest, marked, recent, still_open, elsewhere):
            await uow.cases.save(case)
        assert await uow.data_protection.mark_anonymised(mine.id, "case", marked.id, cutoff)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        due = await uow.data_protection.cases_due(mine.id, cutoff, limit=10)
        first = await uow.data_protection.cases_due(mine.id, cutoff, limit=1)
        again = await uow.data_protection.mark_anonymised(mine.id, "case", marked.id, cutoff)
    assert [c.id for c in due] == [oldest.id, older.id]
    assert due[0] == oldest
    assert [c.id for c in first] == [oldest.id]
    assert again is False


async def test_referrals_that_never_became_a_case_are_due_after_their_decision_or_start(
    storage: Storage,
) -> None:
    (panel,) = await make.stored_panels(storage)
    cutoff = make.at(days=100)
    declined = make.referral(panel, status=ReferralStatus.DECLINED, decided_at=make.at(days=5))
    withdrawn = make.referral(
        panel, status=ReferralStatus.WITHDRAWN, decided_at=make.at(days=6), case_id=None
    )
    draft = make.referral(
        panel, status=ReferralStatus.DRAFT, submitted_at=None, decided_at=None, case_id=None
    )
    declined_late = make.referral(
        panel, status=ReferralStatus.DECLINED, decided_at=make.at(days=120)
    )
    accepted = make.referral(panel, status=ReferralStatus.ACCEPTED, decided_at=make.at(days=5))
    pending = make.referral(panel, status=ReferralStatus.SUBMITTED, decided_at=None)
    async with storage.unit_of_work() as uow:
        for referral in (declined, withdrawn, draft, declined_late, accepted, pending):
            await uow.referrals.save(referral)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        due = await uow.data_protection.referrals_due(panel.id, cutoff, limit=10)
        assert {r.id for r in due} == {declined.id, withdrawn.id, draft.id}
        assert next(r for r in due if r.id == declined.id) == declined
        await uow.data_protection.mark_anonymised(panel.id, "referral", declined.id, cutoff)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        later = await uow.data_protection.referrals_due(panel.id, cutoff, limit=10)
    assert {r.id for r in later} == {withdrawn.id, draft.id}


async def test_a_referrals_repeat_answer_is_kept_once(storage: Storage) -> None:
    mine, theirs = await make.stored_panels(storage, 2)
    async with storage.unit_of_work() as uow:
        assert await uow.data_protection.freeze_repeat(mine.id, "r1", True, make.at())
        assert await uow.data_protection.freeze_repeat(mine.id, "r2", False, make.at())
        assert await uow.data_protection.freeze_repeat(theirs.id, "r3", True, make.at())
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert not await uow.data_protection.freeze_repeat(mine.id, "r1", False, make.at(days=1))
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert await uow.data_protection.frozen_repeats(mine.id) == {"r1": True, "r2": False}


async def test_one_person_is_found_by_name_alias_or_as_a_child_with_their_date_of_birth(
    storage: Storage,
) -> None:
    mine, theirs = await make.stored_panels(storage, 2)
    as_subject = make.referral(mine, created_at=make.at(days=1))
    by_alias = make.referral(
        mine,
        created_at=make.at(days=2),
        subjects=[make.subject(name="Zed Smith-Jones", aliases=("Zoe O'Brien Smith",))],
        children=[],
    )
    as_child = make.referral(
        mine,
        created_at=make.at(days=3),
        subjects=[make.subject(name="Ann Parent", aliases=(), date_of_birth=date(1960, 1, 1))],
        children=[Child(name="Zoë O’Brien-Smith", date_of_birth=date(1984, 2, 29))],
    )
    other_birthday = make.referral(
        mine,
        created_at=make.at(days=4),
        subjects=[make.subject(date_of_birth=date(1984, 3, 1))],
        children=[Child(name="Zoe O'Brien Smith", date_of_birth=date(1990, 1, 1))],
    )
    elsewhere = make.referral(theirs, created_at=make.at(days=1))
    async with storage.unit_of_work() as uow:
        for referral in (as_child, other_birthday, by_alias, as_subject, elsewhere):
            await uow.referrals.save(referral)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        found = await uow.data_protection.referrals_concerning(mine.id, ZOE)
        nobody = await uow.data_protection.referrals_concerning(
            mine.id, Person("Nobody Known", date(1984, 2, 29))
        )
    assert [r.id for r in found] == [as_subject.id, by_alias.id, as_child.id]
    assert found[0] == as_subject
    assert nobody == []


async def test_rewriting_an_action_changes_its_text_and_its_updates_notes_only(
    storage: Storage,
) -> None:
    (panel,) = await make.stored_panels(storage)
    case = make.case(panel)
    action = make.action(case)
    action.updates = [make.action_update(action), make.action_update(action, note="Second")]
    other = make.action(case, description="Untouched")
    async with storage.unit_of_work() as uow:
        await uow.actions.save(action)
        await uow.actions.save(other)
        await uow.commit()
    action.description = "[anonymised]"
    action.cancel_reason = "[anonymised]"
    for update in action.updates:
        update.note = "[anonymised]"
    async with storage.unit_of_work() as uow:
        await uow.data_protection.rewrite_action(action)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        loaded = await uow.actions.get(panel.id, action.id)
        untouched = await uow.actions.get(panel.id, other.id)
    assert loaded == action
    assert untouched == other


async def test_subject_access_searches_are_kept_listed_and_deleted(storage: Storage) -> None:
    mine, theirs = await make.stored_panels(storage, 2)
    first = SubjectAccessExport(
        panel_id=mine.id,
        member_id="m1",
        name="Zoë O'Brien-Smith",
        date_of_birth=date(1984, 2, 29),
        created_at=make.at(),
        expires_at=make.at(days=7),
    )
    second = SubjectAccessExport(
        panel_id=mine.id,
        member_id="m1",
        name="Dan Black",
        date_of_birth=date(1970, 1, 1),
        created_at=make.at(hours=1),
        expires_at=make.at(days=7, hours=1),
    )
    theirs_too = SubjectAccessExport(
        panel_id=theirs.id,
        member_id="m9",
        name="Dan Black",
        date_of_birth=date(1970, 1, 1),
        created_at=make.at(),
        expires_at=make.at(days=7),
    )
    async with storage.unit_of_work() as uow:
        for export in (second, first, theirs_too):
            await uow.data_protection.save_export(export)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert await uow.data_protection.export(mine.id, first.id) == first
        assert await uow.data_protection.export(mine.id, theirs_too.id) is None
        assert await uow.data_protection.exports(mine.id) == [first, second]
        assert await uow.data_protection.delete_exports(mine.id, [first.id, theirs_too.id]) == 1
        assert await uow.data_protection.delete_exports(mine.id, []) == 0
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert await uow.data_protection.exports(mine.id) == [second]
        assert await uow.data_protection.exports(theirs.id) == [theirs_too]


async def test_the_figures_read_every_case_and_the_actions_due_in_a_period(
    storage: Storage,
) -> None:
    mine, theirs = await make.stored_panels(storage, 2)
    later = make.case(mine, opened_at=make.at(days=3))
    earlier = make.case(mine, opened_at=make.at(days=1))
    elsewhere = make.case(theirs)
    first, last = date(2026, 7, 1), date(2026, 7, 31)
    on_first = make.action(earlier, due_on=first)
    on_last = make.action(later, due_on=last)
    before = make.action(earlier, due_on=first - timedelta(days=1))
    after = make.action(earlier, due_on=last + timedelta(days=1))
    theirs_due = make.action(elsewhere, due_on=first)
    on_last.updates = [make.action_update(on_last)]
    async with storage.unit_of_work() as uow:
        for case in (later, earlier, elsewhere):
            await uow.cases.save(case)
        for action in (on_last, before, on_first, after, theirs_due):
            await uow.actions.save(action)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert await uow.reports.cases(mine.id) == [earlier, later]
        due = await uow.reports.actions_due_between(mine.id, first, last)
    assert due == [on_first, on_last]
