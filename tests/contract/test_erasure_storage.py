"""What erasure and retention need of storage (storage.inventory), on the fake, SQLite and
PostgreSQL: a finished delivery keeps no card, old deliveries and ledger keys are pruned, the
outbox is searched for a person, the panel's free text swept, and a person found by name in
subjects, aliases, children and drafts. Every person is invented."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from typing import TYPE_CHECKING

import pytest

from bot.domain.action import ActionStatus
from bot.domain.delivery import DeliveryState, OutgoingDelivery
from bot.domain.referral import Child, ReferralStatus
from bot.domain.reminders import ActionCardCopy
from bot.domain.retention import ERASED, Person, SubjectAccessExport
from storage import MemoryStorage
from storage.sql.models import SubjectAccessExportRow

from . import builders as make

if TYPE_CHECKING:
    from bot.kernel.ports import Storage

# Revision 0010: a search may have no date of birth, and keeps a postcode instead.
WITHOUT_BIRTH_DATE = "postcode" in SubjectAccessExportRow.__table__.c
CARD = {"card": {"type": "AdaptiveCard", "body": [{"text": "Ingrid Vasquez-Ohlsson"}]}}


def sent(delivery: OutgoingDelivery, days: float = 0) -> OutgoingDelivery:
    delivery.claim(make.at(days=days))
    delivery.sent(201, make.at(days=days), activity_id="1:act", conversation_id="a:chat")
    return delivery


async def test_a_finished_delivery_keeps_no_card_or_text_but_its_update_of(
    storage: Storage,
) -> None:
    (panel,) = await make.stored_panels(storage)
    delivered = make.delivery(panel, payload={**CARD, "text": "Ingrid", "update_of": "row-1"})
    failed = make.delivery(panel, payload=dict(CARD))
    unreachable = make.delivery(panel, payload=dict(CARD))
    waiting = make.delivery(panel, payload=dict(CARD))
    async with storage.unit_of_work() as uow:
        for row in (delivered, failed, unreachable, waiting):
            assert await uow.outbox.enqueue(row)
        await uow.commit()
    sent(delivered)
    failed.claim()
    failed.give_up(400, unreachable=False)
    unreachable.claim()
    unreachable.give_up(403, unreachable=True)
    waiting.claim()
    waiting.retry_later(503, make.at(minutes=5))
    async with storage.unit_of_work() as uow:
        for row in (delivered, failed, unreachable, waiting):
            await uow.outbox.save(row)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        loaded = {r.id: await uow.outbox.get(panel.id, r.id) for r in (delivered, failed)}
        third = await uow.outbox.get(panel.id, unreachable.id)
        fourth = await uow.outbox.get(panel.id, waiting.id)
    assert loaded[delivered.id] == dataclasses.replace(delivered, payload={"update_of": "row-1"})
    assert loaded[failed.id] == dataclasses.replace(failed, payload={})
    assert third is not None and third.payload == {}
    assert (third.state, third.last_status) == (DeliveryState.UNREACHABLE, 403)
    assert fourth == waiting  # still to be sent: the card stays


async def test_old_finished_deliveries_go_but_not_unsent_recent_or_an_open_actions_card(
    storage: Storage,
) -> None:
    (panel,) = await make.stored_panels(storage)
    async with storage.unit_of_work() as uow:  # the pruning reads every panel's outbox
        await uow.data_protection.prune_deliveries(make.at(days=30), limit=10_000)
        await uow.commit()
    case = make.case(panel)
    open_action = make.action(case)
    done_action = make.action(case, status=ActionStatus.DONE, completed_at=make.at(days=2))
    old = sent(make.delivery(panel, created_at=make.at(), not_before=make.at()))
    old_done_card = sent(make.delivery(panel))
    old_open_card = sent(make.delivery(panel))
    recent = sent(make.delivery(panel, created_at=make.at(days=40), not_before=make.at(days=40)))
    unsent = make.delivery(panel)
    async with storage.unit_of_work() as uow:
        await uow.cases.save(case)
        for action in (open_action, done_action):
            await uow.actions.save(action)
        for row in (old, old_done_card, old_open_card, recent, unsent):
            assert await uow.outbox.enqueue(row)
            await uow.outbox.save(row)
        for action, row in ((done_action, old_done_card), (open_action, old_open_card)):
            await uow.actions.record_card(
                ActionCardCopy(
                    panel_id=panel.id,
                    action_id=action.id,
                    delivery_id=row.id,
                    member_id=row.recipient_member_id,
                    created_at=make.at(),
                )
            )
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert await uow.data_protection.prune_deliveries(make.at(days=30), limit=1) == 1
        gone = await uow.data_protection.prune_deliveries(make.at(days=30), limit=100)
        await uow.commit()
    assert gone == 1
    async with storage.unit_of_work() as uow:
        left = {
            row.id
            for row in (old, old_done_card, old_open_card, recent, unsent)
            if await uow.outbox.get(panel.id, row.id) is not None
        }
        done_cards = await uow.actions.card_deliveries(panel.id, done_action.id)
        open_cards = await uow.actions.card_deliveries(panel.id, open_action.id)
        again = await uow.data_protection.prune_deliveries(make.at(days=30), limit=100)
    assert left == {old_open_card.id, recent.id, unsent.id}
    assert done_cards == [] and [d.id for d in open_cards] == [old_open_card.id]
    assert again == 0


async def test_activity_keys_are_forgotten_after_their_keeping(storage: Storage) -> None:
    async with storage.unit_of_work() as uow:
        assert await uow.activities.first_time("msteams:a:old-chat:1", make.at())
        assert await uow.activities.first_time("msteams:a:new-chat:2", make.at(days=8))
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert await uow.data_protection.prune_activities(make.at(days=7), limit=100) >= 1
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert await uow.activities.first_time("msteams:a:old-chat:1", make.at(days=9))
        assert not await uow.activities.first_time("msteams:a:new-chat:2", make.at(days=9))


async def test_deliveries_naming_someone_are_found_whatever_the_case_in_their_panel_only(
    storage: Storage,
) -> None:
    mine, theirs = await make.stored_panels(storage, 2)
    naming = make.delivery(mine, payload={"text": "New referral about INGRID Vasquez-Ohlsson"})
    by_phone = make.delivery(mine, payload={"card": {"body": [{"text": "Call 07700 900842"}]}})
    other = make.delivery(mine, payload={"text": "Agenda published"})
    elsewhere = make.delivery(theirs, payload={"text": "Ingrid Vasquez-Ohlsson"})
    async with storage.unit_of_work() as uow:
        for row in (naming, by_phone, other, elsewhere):
            assert await uow.outbox.enqueue(row)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        found = await uow.data_protection.deliveries_naming(
            mine.id, ["Ingrid Vasquez-Ohlsson", "07700 900842"]
        )
        nothing = await uow.data_protection.deliveries_naming(mine.id, [])
    assert [d.id for d in found] == [naming.id, by_phone.id]
    assert nothing == []


async def test_the_sweep_rewrites_the_panels_free_text_and_documents_but_not_subjects(
    storage: Storage,
) -> None:
    mine, theirs = await make.stored_panels(storage, 2)
    namesake = make.subject(name="Ingrid Vasquez-Ohlsson", aliases=())
    mentioning = make.referral(
        mine,
        subjects=[namesake],
        tried_already="Spoke to ingrid vasquez-ohlsson's landlord",
        draft_inputs={"s1.name": "Ingrid Vasquez-Ohlsson", "note": ["at 12 Kiln Row"]},
        children=[Child(name="Ingrid Vasquez-Ohlsson", date_of_birth=date(2019, 1, 1))],
    )
    case = make.case(mine, closure_note="Ingrid Vasquez-Ohlsson moved away")
    action = make.action(case, description="Visit 12 Kiln Row")
    untouched = make.referral(theirs, tried_already="Ingrid Vasquez-Ohlsson")
    async with storage.unit_of_work() as uow:
        await uow.referrals.save(mentioning)
        await uow.referrals.save(untouched)
        await uow.cases.save(case)
        await uow.actions.save(action)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        changed = await uow.data_protection.sweep(
            mine.id, ["Ingrid Vasquez-Ohlsson", "12 Kiln Row", "Al"], ERASED
        )
        await uow.commit()
    assert changed == 3
    async with storage.unit_of_work() as uow:
        swept = await uow.referrals.get(mine.id, mentioning.id)
        kept = await uow.referrals.get(theirs.id, untouched.id)
        closed = await uow.cases.get(mine.id, case.id)
        (visit,) = await uow.actions.for_case(mine.id, case.id)
    assert swept is not None and kept is not None and closed is not None
    assert swept.tried_already == "Spoke to [erased]'s landlord"
    assert swept.draft_inputs == {"s1.name": "[erased]", "note": ["at [erased]"]}
    assert swept.children == [Child(name="[erased]", date_of_birth=date(2019, 1, 1))]
    assert swept.subjects == [namesake]  # a subject's own row is erase_person's, not the sweep's
    assert closed.closure_note == "[erased] moved away"
    assert visit.description == "Visit [erased]"
    assert kept.tried_already == "Ingrid Vasquez-Ohlsson"


async def test_referrals_naming_someone_are_found_by_name_alias_child_or_draft_row(
    storage: Storage,
) -> None:
    mine, theirs = await make.stored_panels(storage, 2)
    by_name = make.referral(mine, subjects=[make.subject(name="Ingrid Vasquez", aliases=())])
    by_alias = make.referral(mine, subjects=[make.subject(name="I V", aliases=("Ingrid Vasquez",))])
    as_child = make.referral(mine, subjects=[], children=[Child(name="ingrid  vasquez")])
    in_draft = make.referral(
        mine,
        status=ReferralStatus.DRAFT,
        subjects=[],
        children=[],
        draft_inputs={"subject_keys": ["s1"], "s1.name": "Ingrid Vásquez", "s1.dob": ""},
    )
    someone_else = make.referral(mine)
    elsewhere = make.referral(theirs, subjects=[make.subject(name="Ingrid Vasquez")])
    async with storage.unit_of_work() as uow:
        for referral in (by_name, by_alias, as_child, in_draft, someone_else, elsewhere):
            await uow.referrals.save(referral)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        found = await uow.data_protection.referrals_naming(mine.id, ["ingrid vasquez"])
        without_birth = await uow.data_protection.referrals_concerning(
            mine.id, Person("Ingrid Vasquez", None)
        )
    assert {r.id for r in found} == {by_name.id, by_alias.id, as_child.id, in_draft.id}
    # The builders' subjects have a postcode; the child and the draft's row have none.
    assert {r.id for r in without_birth} == {as_child.id, in_draft.id}


async def test_a_search_for_someone_without_a_date_of_birth_keeps_their_postcode(
    storage: Storage,
) -> None:
    if not isinstance(storage, MemoryStorage) and not WITHOUT_BIRTH_DATE:
        pytest.skip("needs revision 0010, which waits for 0009")
    (panel,) = await make.stored_panels(storage)
    search = SubjectAccessExport(
        panel_id=panel.id,
        member_id="m1",
        name="Ingrid Vasquez",
        date_of_birth=None,
        postcode="nb1 2ab",
        created_at=make.at(),
        expires_at=make.at() + timedelta(days=1),
    )
    async with storage.unit_of_work() as uow:
        await uow.data_protection.save_export(search)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        loaded = await uow.data_protection.export(panel.id, search.id)
    assert loaded == search
    assert loaded is not None and loaded.person == Person("Ingrid Vasquez", None, "NB12AB")
