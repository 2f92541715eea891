"""The audit trail through the real app: `audit CM-2026-014`, its pages, who may read it,
and the refusals every feature records."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.domain.audit import AuditEvent, AuditVerb
from bot.features.governance.views import PAGE
from bot.kernel.audit import Actor, record
from cards.audit import OLDER_BUTTON
from cards.kit import card_text, teams_findings
from tests.conftest import NOW, BotUnderTest
from tests.support import cards
from tests.support import governance as g

if TYPE_CHECKING:
    from bot.domain.common import FixedClock


def lines(card: dict[str, object]) -> list[str]:
    """The trail's lines as the coordinator reads them, top to bottom."""
    return [line for line in card_text(card).splitlines() if line.startswith("**")]


async def test_the_coordinator_reads_a_cases_trail_newest_first(
    bot: BotUnderTest, clock: FixedClock
) -> None:
    await g.post(bot, f"case {g.CASE}", aad=g.DANIEL)  # refused: outdated agreement
    clock.advance(NOW + timedelta(minutes=5))
    await g.post(bot, f"case {g.CASE}", aad=g.GEMMA)  # seen
    clock.advance(NOW + timedelta(minutes=10))
    await g.post(bot, f"audit {g.CASE}")
    card = bot.last_card()
    assert teams_findings(card) == []
    assert f"Audit trail for {g.CASE}" in card_text(card)
    assert lines(card) == [
        f"**Fri 20 Nov 2026, 10:10** · Priya Raman viewed case {g.CASE} · private chat — "
        f"audit trail of {g.CASE}",
        f"**Fri 20 Nov 2026, 10:05** · Gemma Hartley viewed case {g.CASE} · private chat — "
        "case view",
        f"**Fri 20 Nov 2026, 10:00** · Daniel Reyes was refused case {g.CASE} · private chat — "
        "view_case_detail: agreement",
        f"**Tue 10 Nov 2026, 10:00** · Priya Raman created case {g.CASE} · seed-demo",
    ]
    assert OLDER_BUTTON not in card_text(card)


async def test_a_referrals_trail_covers_the_case_it_became(bot: BotUnderTest) -> None:
    await g.post(bot, f"audit {g.CASE_REFERRAL.lower()}")
    text = card_text(bot.last_card())
    assert f"Audit trail for {g.CASE_REFERRAL}" in text
    assert f"Priya Raman created case {g.CASE}" in text


async def test_only_coordinators_read_the_trail_and_the_refusal_is_audited(
    bot: BotUnderTest,
) -> None:
    await g.post(bot, f"audit {g.CASE}", aad=g.GEMMA)
    assert bot.last_text() == "Only the panel's coordinators can read the audit trail."
    panel = await g.demo_panel(bot.storage)
    async with bot.storage.unit_of_work() as uow:
        (refused, *_) = await uow.audit.recent(panel.id)
        case = await uow.cases.by_reference(panel.id, g.CASE)
    assert case is not None
    gemma = await g.member_of(bot.storage, g.GEMMA)
    assert (refused.verb, refused.entity, refused.entity_id) == (
        AuditVerb.REFUSE,
        "case",
        case.id,
    )
    assert refused.detail == "view_audit: role"
    assert refused.actor_member_id == gemma.id


async def test_a_long_trail_comes_in_pages_that_fit_a_card_and_do_not_overlap(
    bot: BotUnderTest,
) -> None:
    panel = await g.demo_panel(bot.storage)
    gemma = await g.member_of(bot.storage, g.GEMMA)
    async with bot.storage.unit_of_work() as uow:
        case = await uow.cases.by_reference(panel.id, g.CASE)
        assert case is not None
        for minute in range(PAGE + 25):
            await record(
                uow,
                Actor.member(gemma, "personal"),
                AuditVerb.VIEW,
                "case",
                case.id,
                "case view " + "x" * 400,  # long details: fewer lines fit a card
                at=NOW - timedelta(days=1) + timedelta(minutes=minute),
            )
        await uow.commit()
    await g.post(bot, f"audit {g.CASE}")
    first = bot.last_card()
    assert len(json.dumps(first).encode()) < 28 * 1024
    older = cards.button(first, OLDER_BUTTON)
    second = (await g.invoke(bot, older["verb"], older["data"]))["value"]
    assert "older events" in card_text(second)
    assert teams_findings(second) == []
    seen = lines(first) + lines(second)
    assert len(seen) == len(set(seen))  # no line on both pages
    pages = [first, second]
    while OLDER_BUTTON in card_text(pages[-1]):
        more = cards.button(pages[-1], OLDER_BUTTON)
        pages.append((await g.invoke(bot, more["verb"], more["data"]))["value"])
    every = [line for page in pages for line in lines(page)]
    assert len(every) == PAGE + 25 + 2  # Gemma's views, the seed's, Priya's viewing
    assert every[-1].endswith("created case " + g.CASE + " · seed-demo")


async def test_the_panels_whole_trail_is_shown_without_a_reference(bot: BotUnderTest) -> None:
    await g.post(bot, f"case {g.CASE}")
    await g.post(bot, "audit")
    text = card_text(bot.last_card())
    assert "Audit trail of Riverside Community MARAC" in text
    assert "Priya Raman viewed the panel" in text
    assert f"Priya Raman viewed case {g.CASE}" in text


async def test_an_unknown_reference_is_answered_plainly(bot: BotUnderTest) -> None:
    await g.post(bot, "audit CM-2026-099")
    assert bot.last_text() == "There is no case or referral CM-2026-099 in this panel."


async def test_a_command_refused_for_its_place_is_audited_too(bot: BotUnderTest) -> None:
    channel = g.channel_message(bot.service_url, "referrals", aad=g.GEMMA, name="Gemma")
    await bot.post(channel)
    assert bot.last_text() == "`referrals` works in our private chat, not here."
    panel = await g.demo_panel(bot.storage)
    async with bot.storage.unit_of_work() as uow:
        (refused, *_) = await uow.audit.recent(panel.id)
    assert (refused.entity_id, refused.detail, refused.where) == (
        "referrals",
        "not here",
        "channel",
    )


def event_fields(event: AuditEvent) -> tuple[object, ...]:
    return (event.verb, event.entity, event.detail)


async def test_every_view_and_change_of_case_data_is_audited(bot: BotUnderTest) -> None:
    """Opening a triage card, accepting (the case, its requests), answering, viewing."""
    await g.post(bot, f"referrals RF-{NOW.year}-0049")
    card = bot.last_card()
    housing = next(
        c["value"] for c in _choices(card, "agency_ids") if c["title"].startswith("Riverside Homes")
    )
    accept = cards.button(card, "Accept and send requests")
    meeting = _choices(card, "meeting_id")[0]["value"]
    body = await g.invoke(
        bot,
        accept["verb"],
        {**accept["data"], "meeting_id": meeting, "agency_ids": housing, "info_question": "?"},
    )
    assert "Accepted as" in cards.text(body)
    panel = await g.demo_panel(bot.storage)
    async with bot.storage.unit_of_work() as uow:
        recent = await uow.audit.recent(panel.id, limit=5)
    assert [event_fields(e) for e in reversed(recent)][-4:] == [
        (AuditVerb.VIEW, "referral", None),
        (AuditVerb.CREATE, "case", f"RF-{NOW.year}-0049"),
        (AuditVerb.CREATE, "information_request", "asked Riverside Homes (Housing)"),
        (AuditVerb.UPDATE, "referral", f"accepted: CM-{NOW.year}-015"),
    ]


def _choices(card: object, input_id: str) -> list[dict[str, str]]:
    choices: list[dict[str, str]] = cards.inputs(card)[input_id].get("choices") or []
    return choices
