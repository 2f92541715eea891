"""What the referrals feature writes to the audit trail, through the real app.

Each event is pinned field by field (verb, entity, id, detail, where, who): a draft is
recorded as written in the referrer's private chat wherever `refer` was typed; a triage
decision where the coordinator clicked; an information request's opening and answer with
no place. The demo panel on SQLite: coordinator Priya Raman, Housing SPOC Gemma Hartley,
referrer Aisha Bello and the pending referral RF-…-0049.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.domain.audit import AuditEvent, AuditVerb
from bot.features.referrals import triage
from cards.verbs import REQUEST_ID_KEY
from tests.support import activities as acts
from tests.support import cards
from tests.test_intake_bot import AISHA
from tests.test_triage_bot import REFERENCE, agency_id, invoke, queued, triage_card

if TYPE_CHECKING:
    from tests.conftest import BotUnderTest

Row = tuple[AuditVerb, str, str | None, str | None, str | None, str | None]


async def trail(bot: BotUnderTest, entity: str, entity_id: str) -> list[Row]:
    """The entity's events as (verb, entity, id, detail, where, acting member's aad)."""
    async with bot.storage.unit_of_work() as uow:
        panel = await uow.panels.by_team(acts.TEAM)
        assert panel is not None
        events = await uow.audit.for_entity(panel.id, entity, entity_id)
        members = {m.id: m.aad_object_id for m in await uow.members.all(panel.id)}
    return [_row(e, members) for e in events]


def _row(event: AuditEvent, members: dict[str, str]) -> Row:
    who = members.get(event.actor_member_id or "")
    assert who == event.actor_aad_object_id
    return (event.verb, event.entity, event.entity_id, event.detail, event.where, who)


async def referral_id(bot: BotUnderTest, reference: str) -> str:
    async with bot.storage.unit_of_work() as uow:
        panel = await uow.panels.by_team(acts.TEAM)
        assert panel is not None
        referral = await uow.referrals.by_reference(panel.id, reference)
    assert referral is not None
    return referral.id


async def test_a_draft_typed_for_in_a_channel_is_recorded_as_written_in_private(
    bot: BotUnderTest,
) -> None:
    await bot.post(acts.channel_message(bot.service_url, "refer", aad=AISHA, name="Aisha Bello"))
    (delivery,) = [d for d in await queued(bot) if d.key.startswith("intake:")]
    data = next(
        a["data"] for a in delivery.payload["card"]["actions"] if a.get("verb") == "refer.save"
    )
    body = await invoke(bot, "refer.save", data, aad=AISHA, name="Aisha Bello")
    assert body["type"] == "application/vnd.microsoft.card.adaptive"
    assert await trail(bot, "referral", data["referral_id"]) == [
        (AuditVerb.CREATE, "referral", data["referral_id"], "draft started", "personal", AISHA),
        (
            AuditVerb.UPDATE,
            "referral",
            data["referral_id"],
            "draft saved and closed at step About the referral",
            "personal",
            AISHA,
        ),
    ]


async def test_accepting_records_the_case_each_request_and_the_decision_where_clicked(
    bot: BotUnderTest, monkeypatch: Any
) -> None:
    async def nothing(*_: Any, **__: Any) -> None:
        return None

    monkeypatch.setattr(triage, "tell_referrer", nothing)
    card = await triage_card(bot)
    rid = await referral_id(bot, REFERENCE)
    assert await trail(bot, "referral", rid) == [
        (AuditVerb.VIEW, "referral", rid, None, "personal", acts.PRIYA)
    ]
    housing = await agency_id(bot, "Riverside Homes (Housing)")
    await invoke(bot, *cards.press(card, verb="triage.accept", agency_ids=housing))
    async with bot.storage.unit_of_work() as uow:
        panel = await uow.panels.by_team(acts.TEAM)
        assert panel is not None
        referral = await uow.referrals.get(panel.id, rid)
        assert referral is not None and referral.case_id is not None
        case = await uow.cases.get(panel.id, referral.case_id)
        (request,) = await uow.information_requests.for_case(panel.id, referral.case_id)
    assert case is not None
    assert (await trail(bot, "referral", rid))[1:] == [
        (AuditVerb.UPDATE, "referral", rid, f"accepted: {case.reference}", "personal", acts.PRIYA)
    ]
    assert await trail(bot, "case", case.id) == [
        (AuditVerb.CREATE, "case", case.id, REFERENCE, "personal", acts.PRIYA)
    ]
    asked = (
        AuditVerb.CREATE,
        "information_request",
        request.id,
        "asked Riverside Homes (Housing)",
        "personal",
        acts.PRIYA,
    )
    assert await trail(bot, "information_request", request.id) == [asked]

    (delivery,) = [d for d in await queued(bot) if d.key.startswith("inforeq:")]
    _, data = cards.press(delivery.payload["card"], verb="info.answer", answer="Tenant since 2019.")
    await invoke(bot, "info.open", {REQUEST_ID_KEY: request.id}, aad=acts.GEMMA, name="Gemma")
    await invoke(bot, "info.answer", data, aad=acts.GEMMA, name="Gemma Hartley")
    assert await trail(bot, "information_request", request.id) == [
        asked,
        (AuditVerb.VIEW, "information_request", request.id, "opened", None, acts.GEMMA),
        (AuditVerb.UPDATE, "information_request", request.id, "answered", None, acts.GEMMA),
    ]


async def test_sending_back_is_recorded_where_the_coordinator_clicked(
    bot: BotUnderTest, monkeypatch: Any
) -> None:
    async def nothing(*_: Any, **__: Any) -> None:
        return None

    monkeypatch.setattr(triage, "tell_referrer", nothing)
    card = await triage_card(bot)
    rid = await referral_id(bot, REFERENCE)
    await invoke(bot, *cards.press(card, verb="triage.ask", question="Told the landlord?"))
    assert (await trail(bot, "referral", rid))[-1] == (
        AuditVerb.UPDATE,
        "referral",
        rid,
        "more information requested",
        "personal",
        acts.PRIYA,
    )


async def test_declining_is_recorded_with_the_reason(bot: BotUnderTest, monkeypatch: Any) -> None:
    async def nothing(*_: Any, **__: Any) -> None:
        return None

    monkeypatch.setattr(triage, "tell_referrer", nothing)
    card = await triage_card(bot)
    rid = await referral_id(bot, REFERENCE)
    await invoke(bot, *cards.press(card, verb="triage.decline", decline_reason="duplicate"))
    assert (await trail(bot, "referral", rid))[-1] == (
        AuditVerb.UPDATE,
        "referral",
        rid,
        "declined: duplicate",
        "personal",
        acts.PRIYA,
    )


async def test_the_intake_s_audit_lines_speak_in_plain_words(bot: BotUnderTest) -> None:
    """Not the card's verbs and step keys ('draft saved (refer.add_child at household)')."""
    await bot.post(acts.channel_message(bot.service_url, "refer", aad=AISHA, name="Aisha Bello"))
    (delivery,) = [d for d in await queued(bot) if d.key.startswith("intake:")]
    data = next(
        a["data"] for a in delivery.payload["card"]["actions"] if a.get("verb") == "refer.next"
    )
    await invoke(bot, "refer.next", data, aad=AISHA, name="Aisha Bello")
    details = [row[3] for row in await trail(bot, "referral", data["referral_id"])]
    assert "draft saved, moving on at step About the referral" in details
    assert not [d for d in details if "refer." in d or "(" in d]
