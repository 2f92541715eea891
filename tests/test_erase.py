"""Erasure: on a lawful request, one person's personal data goes after a confirmation with a
recorded reason; everyone else's stays; it is audited, and twice is once.

On the in-memory storage with a fixed clock. Jonas Berg (born 4 March 2008) is a child in
his mother Karin's referral and a victim in a later one, with Lee Grant. All invented.
"""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest

from bot.domain.audit import AuditVerb
from bot.domain.referral import Child
from bot.domain.retention import ERASED, Person, SubjectAccessExport
from bot.domain.stats import Quarter
from bot.features.records import dataprotection
from bot.features.records.dataprotection import REASON_NAMES_PERSON, REASON_NEEDED
from bot.features.records.views import quarter_figures
from cards.dataprotection import ERASE_BUTTON, REASON_LABEL
from cards.kit import card_text, teams_findings
from tests.support import cards
from tests.support.dataprotection import NOW, Setting, open_setting

REASON = "Erasure request under UK GDPR Art. 17, letter of 3 Nov 2026"


@pytest.fixture
async def setting() -> Setting:
    return await open_setting()


@pytest.fixture
def feature() -> dataprotection.DataProtectionFeature:
    return dataprotection.DataProtectionFeature()


async def preview(
    setting: Setting, feature: dataprotection.DataProtectionFeature, who: str = "Jonas Berg"
) -> dict[str, object]:
    """`erase Jonas Berg 2008-03-04`: the confirmation card's Erase button data."""
    reply = await feature.erase(
        await setting.request("Nadia", args=f"{who} 2008-03-04"), setting.deps
    )
    assert reply.card is not None
    (erase,) = reply.card["actions"]
    assert erase["title"] == ERASE_BUTTON
    return dict(erase["data"])


async def confirm(
    setting: Setting,
    feature: dataprotection.DataProtectionFeature,
    data: dict[str, object],
    reason: str | None = REASON,
) -> str:
    reply = await feature.erase_confirm(
        await setting.request("Nadia", {**data, "reason": reason}), setting.deps
    )
    assert reply.card is not None
    return card_text(reply.card)


async def audit_count(setting: Setting) -> int:
    async with setting.storage.unit_of_work() as uow:
        return len(await uow.audit.recent(setting.history.panel.id, limit=1000))


async def test_nothing_is_erased_before_the_confirmation(
    setting: Setting, feature: dataprotection.DataProtectionFeature
) -> None:
    reply = await feature.erase(
        await setting.request("Nadia", args="Jonas Berg 2008-03-04"), setting.deps
    )
    card = reply.card
    assert card is not None and teams_findings(card) == []
    text = card_text(card)
    assert "Erase Jonas Berg's personal data?" in text
    assert "Child in the household in RF-2026-0040 (declined)" in text
    assert "Victim in RF-2026-0051 (accepted): case CM-2026-051, open" in text
    assert REASON_LABEL in text and "This cannot be undone." in text
    (reason,) = [b for b in card["body"] if b.get("id") == "reason"]
    assert reason["isRequired"] is True
    (erase,) = card["actions"]
    assert (erase["type"], erase["style"]) == ("Action.Execute", "destructive")
    async with setting.storage.unit_of_work() as uow:
        later = await uow.referrals.get(setting.history.panel.id, setting.history.later_referral.id)
    assert later == setting.history.later_referral


async def test_the_reason_is_required_and_must_not_name_the_person(
    setting: Setting, feature: dataprotection.DataProtectionFeature
) -> None:
    data = await preview(setting, feature)
    before = await audit_count(setting)
    assert REASON_NEEDED in await confirm(setting, feature, data, reason=None)
    assert REASON_NAMES_PERSON in await confirm(setting, feature, data, reason="Jonas asked")
    assert REASON_NAMES_PERSON in await confirm(setting, feature, data, reason="Jonny B's letter")
    assert REASON_NAMES_PERSON in await confirm(setting, feature, data, reason="Born 04/03/2008")
    assert REASON_NAMES_PERSON in await confirm(setting, feature, data, reason="At NB3 1AB")
    assert await audit_count(setting) == before
    async with setting.storage.unit_of_work() as uow:
        later = await uow.referrals.get(setting.history.panel.id, setting.history.later_referral.id)
    assert later == setting.history.later_referral


async def test_the_persons_data_goes_and_everyone_elses_stays(
    setting: Setting, feature: dataprotection.DataProtectionFeature
) -> None:
    history = setting.history
    text = await confirm(setting, feature, await preview(setting, feature))
    assert "Personal data erased" in text and REASON in text
    assert "Jonas" not in text  # the outcome names nobody
    panel = history.panel.id
    async with setting.storage.unit_of_work() as uow:
        karin = await uow.referrals.get(panel, history.karin_referral.id)
        later = await uow.referrals.get(panel, history.later_referral.id)
        (request,) = await uow.information_requests.for_case(panel, history.later_case.id)
        (action,) = await uow.actions.for_case(panel, history.later_case.id)
        (item,) = await uow.meetings.items_for_cases(panel, [history.later_case.id])
        old = await uow.referrals.get(panel, history.old_referral.id)
        found = await uow.data_protection.referrals_concerning(
            panel, Person("Jonas Berg", date(2008, 3, 4))
        )
    assert karin is not None and later is not None
    assert karin.children == [Child(name=ERASED)]
    assert karin.subjects == history.karin_referral.subjects  # his mother stays
    jonas, lee = later.subjects
    assert (jonas.name, jonas.aliases, jonas.date_of_birth, jonas.address, jonas.phone) == (
        ERASED,
        (),
        None,
        None,
        None,
    )
    assert lee == history.later_referral.subjects[1]
    assert later.tried_already == later.relationship == ERASED
    assert (request.answer, action.description, item.summary) == (ERASED, ERASED, ERASED)
    assert [u.note for u in action.updates] == [ERASED]
    # the skeleton stays
    assert (later.reference, later.status, later.risk_total) == ("RF-2026-0051", "accepted", 34)
    assert (action.due_on, action.owner_agency_id) == (
        history.later_action.due_on,
        history.later_action.owner_agency_id,
    )
    assert old == history.old_referral  # another person's referral
    assert found == []


async def test_the_erasure_is_audited_with_its_reason(
    setting: Setting, feature: dataprotection.DataProtectionFeature
) -> None:
    history = setting.history
    await confirm(setting, feature, await preview(setting, feature))
    async with setting.storage.unit_of_work() as uow:
        case_trail = await uow.audit.for_entity(history.panel.id, "case", history.later_case.id)
        referral_trail = await uow.audit.for_entity(
            history.panel.id, "referral", history.karin_referral.id
        )
    detail = f"one person's data erased: {REASON}"
    assert [(e.verb, e.detail) for e in case_trail] == [(AuditVerb.DELETE, detail)]
    assert [(e.verb, e.detail) for e in referral_trail] == [(AuditVerb.DELETE, detail)]
    assert case_trail[0].actor_member_id == history.coordinator.id


async def test_pressing_erase_twice_erases_once(
    setting: Setting, feature: dataprotection.DataProtectionFeature
) -> None:
    data = await preview(setting, feature)
    assert "Personal data erased" in await confirm(setting, feature, data)
    after_first = await audit_count(setting)
    again = await confirm(setting, feature, data)
    assert "Already erased" in again and "nothing more was changed" in again
    assert await audit_count(setting) == after_first


async def test_two_clicks_at_once_erase_once(
    setting: Setting, feature: dataprotection.DataProtectionFeature
) -> None:
    data = await preview(setting, feature)
    texts = await asyncio.gather(confirm(setting, feature, data), confirm(setting, feature, data))
    assert sorted("Already erased" in text for text in texts) == [False, True]
    async with setting.storage.unit_of_work() as uow:
        deletes = [
            e
            for e in await uow.audit.recent(setting.history.panel.id, limit=100)
            if e.verb is AuditVerb.DELETE
        ]
    assert len(deletes) == 3  # two referrals and one case, once


async def test_the_persons_subject_access_searches_go_too(
    setting: Setting, feature: dataprotection.DataProtectionFeature
) -> None:
    panel = setting.history.panel.id
    searches = [
        SubjectAccessExport(
            panel_id=panel,
            member_id=setting.history.coordinator.id,
            name=name,
            date_of_birth=born,
            created_at=NOW,
            expires_at=NOW + timedelta(days=7),
        )
        for name, born in (("jonas berg", date(2008, 3, 4)), ("Rosa Lindqvist", date(1986, 9, 2)))
    ]
    async with setting.storage.unit_of_work() as uow:
        for search in searches:
            await uow.data_protection.save_export(search)
        await uow.commit()
    text = await confirm(setting, feature, await preview(setting, feature))
    assert "Subject access searches removed\n1" in text
    async with setting.storage.unit_of_work() as uow:
        assert await uow.data_protection.exports(panel) == searches[1:]


async def test_erasing_someone_leaves_the_statistics_as_they_were(
    setting: Setting, feature: dataprotection.DataProtectionFeature
) -> None:
    history = setting.history

    async def figures() -> list[object]:
        quarter, last = Quarter.of(history.panel.created_at.date()), Quarter.of(NOW.date())
        found = []
        async with setting.storage.unit_of_work() as uow:
            while quarter <= last:
                found.append(await quarter_figures(uow, history.panel, quarter, NOW))
                quarter = quarter.next()
        return found

    before = await figures()
    reply = await feature.erase(
        await setting.request("Nadia", args="Rosa Lindqvist 1986-09-02"), setting.deps
    )
    assert reply.card is not None
    data = dict(reply.card["actions"][0]["data"])
    await confirm(setting, feature, data)
    assert await figures() == before


async def test_nobody_to_erase_is_said_plainly(
    setting: Setting, feature: dataprotection.DataProtectionFeature
) -> None:
    from bot.domain.errors import NotFound

    with pytest.raises(NotFound, match="holds nothing about Nobody Known, born 1 Jan 1990"):
        await feature.erase(
            await setting.request("Nadia", args="Nobody Known 1990-01-01"), setting.deps
        )


async def add_referral_without_birth_date(setting: Setting) -> None:
    """Ruth Okonkwo-Bell, recorded with a postcode and no date of birth (invented)."""
    from bot.domain.referral import Referral, Subject, SubjectRole

    history = setting.history
    referral = Referral(
        panel_id=history.panel.id,
        reference="RF-2026-0060",
        referrer_member_id=history.coordinator.id,
        subjects=[
            Subject(
                role=SubjectRole.VICTIM,
                name="Ruth Okonkwo-Bell",
                address="3 Weir Cottages",
                postcode="NB4 2XT",
                phone="07700 900321",
            )
        ],
        relationship="Ruth's neighbours at 3 Weir Cottages",
        created_at=NOW - timedelta(days=3),
    )
    async with setting.storage.unit_of_work() as uow:
        await uow.referrals.save(referral)
        await uow.commit()


async def test_someone_recorded_without_a_date_of_birth_is_found_and_erased(
    setting: Setting, feature: dataprotection.DataProtectionFeature
) -> None:
    await add_referral_without_birth_date(setting)
    listed = await feature.erase(
        await setting.request("Nadia", args="Ruth Okonkwo-Bell"), setting.deps
    )
    assert listed.card is not None
    text = card_text(listed.card)
    assert "1 person recorded under “Ruth Okonkwo-Bell”" in text
    assert "date of birth not recorded · NB4 2XT" in text and "Victim in RF-2026-0060" in text
    choose = cards.button(listed.card, verb="dp.erase_preview")
    preview = await feature.erase_preview(
        await setting.request("Nadia", choose["data"]), setting.deps
    )
    assert preview.card is not None
    assert "Erase Ruth Okonkwo-Bell's personal data?" in card_text(preview.card)
    (erase,) = preview.card["actions"]
    done = await confirm(setting, feature, dict(erase["data"]))
    assert "Personal data erased" in done
    async with setting.storage.unit_of_work() as uow:
        left = await uow.data_protection.referrals_naming(
            setting.history.panel.id, ["ruth okonkwo bell"]
        )
        (referral,) = [
            r
            for r in await uow.referrals.all(setting.history.panel.id)
            if r.reference == "RF-2026-0060"
        ]
    assert left == []  # nobody of that name is left
    assert referral.relationship == ERASED and referral.subjects[0].address is None


async def test_a_name_alone_lists_the_people_it_may_mean(
    setting: Setting, feature: dataprotection.DataProtectionFeature
) -> None:
    listed = await feature.sar(await setting.request("Nadia", args="Rosa Lindqvist"), setting.deps)
    assert listed.card is not None and teams_findings(listed.card) == []
    text = card_text(listed.card)
    assert "born 2 Sep 1986" in text
    assert "Victim in RF-2020-0001" in text and "Victim in RF-2020-0009" in text
    async with setting.storage.unit_of_work() as uow:
        (event, *_) = await uow.audit.recent(setting.history.panel.id, limit=1)
    assert event.detail == "search by name: 1 person listed"  # names nobody


async def test_cards_naming_the_person_are_withdrawn_or_emptied(
    setting: Setting, feature: dataprotection.DataProtectionFeature
) -> None:
    from bot.domain.delivery import WITHDRAWN, DeliveryState, OutgoingDelivery

    panel = setting.history.panel.id

    def card(key: str, words: str) -> OutgoingDelivery:
        return OutgoingDelivery(
            panel_id=panel,
            key=key,
            payload={"card": {"body": [{"text": words}]}},
            not_before=NOW,
            created_at=NOW,
        )

    queued, other = card("q", "New: Jonas Berg, 9 Ferry Road"), card("o", "Agenda published")
    async with setting.storage.unit_of_work() as uow:
        for row in (queued, other):
            await uow.outbox.enqueue(row)
        await uow.commit()
    text = await confirm(setting, feature, await preview(setting, feature))
    assert "Messages withdrawn or emptied\n1" in text
    async with setting.storage.unit_of_work() as uow:
        withdrawn = await uow.outbox.get(panel, queued.id)
        kept = await uow.outbox.get(panel, other.id)
    assert withdrawn is not None and kept is not None
    assert (withdrawn.state, withdrawn.last_status, withdrawn.payload) == (
        DeliveryState.FAILED,
        WITHDRAWN,
        {},
    )
    assert kept == other
