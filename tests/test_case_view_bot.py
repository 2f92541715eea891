"""`case CM-2026-014` through the real app: Teams activity JSON in, cards out.

Need to know decides who sees the case (bot.domain.policy); every view and every refusal
is in the audit trail.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.domain.audit import AuditEvent, AuditVerb
from bot.domain.panel import Role
from bot.kernel.channel_gate import SENT_PRIVATELY
from cards.kit import card_text, teams_findings
from tests.support import cards
from tests.support import governance as g

if TYPE_CHECKING:
    from tests.conftest import BotUnderTest


async def trail(bot: BotUnderTest, reference: str = g.CASE) -> list[AuditEvent]:
    panel = await g.demo_panel(bot.storage)
    async with bot.storage.unit_of_work() as uow:
        case = await uow.cases.by_reference(panel.id, reference)
        assert case is not None
        return await uow.audit.for_entity(panel.id, "case", case.id)


async def test_the_coordinator_opens_a_case_in_full_and_the_view_is_audited(
    bot: BotUnderTest,
) -> None:
    await g.post(bot, f"case {g.CASE.lower()}")
    card = bot.last_card()
    text = card_text(card)
    assert teams_findings(card) == []
    assert f"Case {g.CASE}" in text
    assert "Open · Medium risk" in text
    # subjects, the referral, agency returns, actions, decisions, history
    assert "**Rosa Lindqvist** — victim; born 2 Sep 1986; Flat 3, 40 Canal Street" in text
    assert "Elin Lindqvist, born 20 May 2015" in text
    assert f"{g.CASE_REFERRAL}" in text and "Aisha Bello, Victim Support" in text
    assert "**Riverside Homes (Housing)** — awaiting an answer, due" in text
    assert "Invited agencies" in text and "Riverside Fire and Rescue" in text
    assert f"Accepted: case {g.CASE} opened" in text
    assert cards.button(card, "Audit trail")["data"]["command"] == f"audit {g.CASE}"
    (*_, viewed) = await trail(bot)
    assert (viewed.verb, viewed.detail, viewed.where) == (AuditVerb.VIEW, "case view", "personal")
    priya = await g.member_of(bot.storage, g.PRIYA)
    assert viewed.actor_member_id == priya.id


async def test_a_heard_case_shows_its_actions_updates_and_lead_agency(bot: BotUnderTest) -> None:
    await g.post(bot, f"case {g.HEARD_CASE}")
    text = card_text(bot.last_card())
    assert "Visit Mrs Ellison and fit a door camera" in text
    assert "Camera ordered; fitting booked. (Gemma Hartley)" in text
    assert "Complete a Care Act needs assessment.** — Adult Social Care" in text
    assert "overdue" in text
    assert "Lead agency: Riverside Homes (Housing) (lead officer Gemma Hartley)" in text


async def test_a_core_agencys_spoc_sees_the_case_without_the_audit_button(
    bot: BotUnderTest,
) -> None:
    await g.post(bot, f"case {g.CASE}", aad=g.GEMMA)
    card = bot.last_card()
    assert "Rosa Lindqvist" in card_text(card)
    assert "actions" not in card  # the audit trail is for coordinators


async def test_no_case_detail_until_the_agreement_is_accepted_then_it_opens(
    bot: BotUnderTest,
) -> None:
    """Daniel (Housing deputy) accepted only version 1 of the agreement; version 2 is current."""
    await g.post(bot, f"case {g.CASE}", aad=g.DANIEL)
    card = bot.last_card()
    text = card_text(card)
    assert "Accept the information sharing agreement first" in text
    assert "(version 2)" in text and "You accepted version 1" in text
    for personal in ("Rosa", "Lindqvist", "1986", "Canal Street", "RV2"):
        assert personal not in text
    refused = (await trail(bot))[-1]
    assert (refused.verb, refused.detail) == (AuditVerb.REFUSE, "view_case_detail: agreement")

    accept = cards.button(card, "Accept and continue")
    body = await g.invoke(bot, accept["verb"], accept["data"], aad=g.DANIEL)
    assert f"Case {g.CASE}" in cards.text(body)
    assert "Rosa Lindqvist" in cards.text(body)
    daniel = await g.member_of(bot.storage, g.DANIEL)
    async with bot.storage.unit_of_work() as uow:
        accepted = await uow.isa.latest(daniel.panel_id, daniel.id)
    assert accepted is not None and accepted.version == "2"
    # from now on the case opens at once
    await g.post(bot, f"case {g.CASE}", aad=g.DANIEL)
    assert "Rosa Lindqvist" in card_text(bot.last_card())
    assert [e.verb for e in (await trail(bot))[-3:]] == [
        AuditVerb.REFUSE,
        AuditVerb.VIEW,
        AuditVerb.VIEW,
    ]


async def test_a_member_of_an_uninvolved_agency_is_refused_and_the_refusal_audited(
    bot: BotUnderTest,
) -> None:
    """Ola is the SPOC of an invited agency that is not invited to CM-2026-014."""
    await g.add_member(
        bot.storage,
        g.OLA,
        "Riverside Recovery (drug and alcohol)",
        frozenset({Role.SPOC}),
        accepted="2",
    )
    await g.post(bot, f"case {g.CASE}", aad=g.OLA)
    assert bot.last_text() == (
        "Your agency is not involved in this case, so I can't show it to you. If it should "
        "be, ask the panel's coordinator."
    )
    refused = (await trail(bot))[-1]
    assert (refused.verb, refused.detail) == (AuditVerb.REFUSE, "view_case_detail: need_to_know")


async def test_the_agency_invited_to_the_case_sees_it(bot: BotUnderTest) -> None:
    await g.add_member(
        bot.storage, g.FARID, "Riverside Fire and Rescue", frozenset({Role.SPOC}), accepted="2"
    )
    await g.post(bot, f"case {g.CASE}", aad=g.FARID)
    assert "Rosa Lindqvist" in card_text(bot.last_card())
    await g.post(bot, f"case {g.HEARD_CASE}", aad=g.FARID)  # not invited to that one
    assert bot.last_text().startswith("Your agency is not involved in this case")


async def test_a_referrer_is_told_who_sees_a_case_in_full(bot: BotUnderTest) -> None:
    await g.post(bot, f"case {g.CASE}", aad=g.AISHA)
    assert bot.last_text() == (
        "Only the panel's coordinators, chairs, SPOCs and deputies can see a case in full."
    )
    assert (await trail(bot))[-1].verb is AuditVerb.REFUSE


async def test_strangers_unknown_cases_and_bad_input_get_plain_answers(bot: BotUnderTest) -> None:
    await g.post(bot, f"case {g.CASE}", aad=g.STRANGER)
    assert bot.last_text() == "`case` is for panel members. Ask your panel coordinator to add you."
    await g.post(bot, "case CM-2026-099")
    assert bot.last_text() == "There is no case CM-2026-099 in this panel."
    await g.post(bot, "case")
    assert bot.last_text() == "Write it as: case CM-2026-014."


async def test_asked_in_the_channel_the_case_goes_to_the_private_chat(bot: BotUnderTest) -> None:
    await g.post(bot, "help")  # Priya has a private chat with the bot
    private_chat = bot.connector.sent[-1]["_conversation"]
    activity = g.channel_message(bot.service_url, f"case {g.CASE}", aad=g.PRIYA, name="Priya")
    await bot.post(activity)
    posted = bot.connector.sent[-1]
    assert posted["_conversation"].startswith(g.DEMO_TEAM)
    assert posted["text"] == SENT_PRIVATELY
    assert not posted.get("attachments")
    assert await bot.deliver() == 1
    delivered = bot.connector.sent[-1]
    assert delivered["_conversation"] == private_chat
    assert "Rosa Lindqvist" in card_text(delivered["attachments"][0]["content"])
    panel = await g.demo_panel(bot.storage)
    async with bot.storage.unit_of_work() as uow:
        (withheld, *_) = await uow.audit.recent(panel.id)
    assert withheld.entity == "shared_post"
    # Case detail asked in a shared chat goes private whatever the card looks like.
    assert withheld.detail == "reply sent in private instead: a card not meant for shared chats"
    assert "Rosa" not in withheld.detail


async def test_asked_in_a_group_chat_the_case_goes_to_the_private_chat(bot: BotUnderTest) -> None:
    await bot.post(g.group_message(bot.service_url, f"case {g.CASE}", aad=g.GEMMA, name="Gemma"))
    assert bot.connector.sent[-1]["text"] == SENT_PRIVATELY
    assert "Rosa" not in str(bot.connector.sent[-1])
    assert await bot.deliver() == 1
    assert "Rosa Lindqvist" in card_text(bot.connector.cards()[-1])


def test_a_subject_s_details_read_as_one_sentence_without_doubled_stops() -> None:
    """'Uses a walking frame.' then the language used to read 'walking frame.; speaks
    English'."""
    from bot.domain.referral import Subject, SubjectRole
    from bot.features.governance.views import _subject

    block = _subject(
        Subject(
            role=SubjectRole.VICTIM,
            name="Mabel Ashworth",
            vulnerabilities="Uses a walking frame. ",
            language="English",
        )
    )
    assert "; ".join(block.details) == "Uses a walking frame; speaks English"
