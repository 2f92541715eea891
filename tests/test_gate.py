"""The gate in front of team channels and group chats: its detector, its second lock on every
card of the gallery, and the queued channel posts and replies it turns away."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

import pytest

from bot.app import build_router
from bot.domain.audit import AuditVerb
from bot.domain.gate import (
    SHARED_CHAT_KINDS,
    Finding,
    SharedKind,
    SharedPost,
    SubjectNames,
    judge,
    personal_data_in,
)
from bot.gallery import gallery
from bot.kernel.channel_gate import SENT_PRIVATELY, kind_of
from bot.kernel.channel_gate import judge as judge_post
from bot.kernel.notify import card_to_channel
from cards.kit import Card, card_text
from cards.triage import ChannelNoticeView, render_channel_notice
from tests.conftest import NOW, Connector
from tests.support import governance as g
from tests.support.world import World, serving
from tests.test_card_invariants import GALLERY_SUBJECTS, demo_subject_names

if TYPE_CHECKING:
    from bot.domain.common import FixedClock
    from bot.kernel.ports import Storage

TODAY = date(2026, 11, 20)
NAMES = SubjectNames(["Margaret Ellison", "Kyle Dawson", "KD", "Rosa Lindqvist", "Ann May"])


def found(text: str) -> list[Finding]:
    return personal_data_in(text, NAMES, TODAY)


@pytest.mark.parametrize(
    ("text", "finding"),
    [
        ("Visit Mrs Ellison on Tuesday", Finding.SUBJECT_NAME),
        ("ROSA LINDQVIST called", Finding.SUBJECT_NAME),
        ("kyle  dawson's flat", Finding.SUBJECT_NAME),
        ("born 2 Sep 1986", Finding.DATE_OF_BIRTH),
        ("DOB: 02/09/1986", Finding.DATE_OF_BIRTH),
        ("1948-03-14", Finding.DATE_OF_BIRTH),
        ("date of birth 3 May 2020", Finding.DATE_OF_BIRTH),
        ("Flat 3, RV2 7LD", Finding.POSTCODE),
        ("rv27ld", Finding.POSTCODE),
        ("SW1A 1AA", Finding.POSTCODE),
        ("Call 07700 900123", Finding.PHONE),
        ("+44 7700 900123", Finding.PHONE),
        ("(020) 7946 0123", Finding.PHONE),
    ],
)
def test_the_detector_finds_personal_data(text: str, finding: Finding) -> None:
    assert finding in found(text)


@pytest.mark.parametrize(
    "text",
    [
        "New referral RF-2026-0049 · Victim Support · Medium risk",
        "Tue 8 Dec 2026, 10:00–12:00 (referrals due Mon 30 Nov 2026)",
        "2026-12-08 at 10:00",
        "CM-2026-014 · review · High risk · 3 of 7 answered",
        "Agenda for Tue 12 May 2026",  # a month, not Ann May
        "KD",  # too short to be told from initials in ordinary text
        "https://teams.microsoft.com/l/meetup-join/19%3ameeting_abc%40thread.v2/0?context=1",
    ],
)
def test_the_detector_leaves_references_dates_and_counts_alone(text: str) -> None:
    assert found(text) == []


def test_the_card_kind_is_a_lock_of_its_own() -> None:
    harmless = "Nothing personal here."
    for kind in SharedKind:
        assert kind in SHARED_CHAT_KINDS
        assert judge(SharedPost(True, kind, harmless), NAMES, TODAY).allowed
    refused = judge(SharedPost(True, None, harmless), NAMES, TODAY)
    assert refused.findings == (Finding.NOT_FOR_SHARED_CHATS,)
    assert judge(SharedPost(False, None, harmless), NAMES, TODAY).allowed  # plain text
    narrative = judge(SharedPost(True, SharedKind.HELP, harmless, ("He shouts",)), NAMES, TODAY)
    assert narrative.findings == (Finding.FILLED_FREE_TEXT,)


# ---- every gallery card (that each card meant for a shared chat passes the gate and every
# other is refused: test_card_invariants) ---------------------------------------------------


def every_card() -> dict[str, Card]:
    return dict(gallery(build_router()))


async def test_the_detector_alone_catches_every_card_naming_a_subject() -> None:
    """The second lock: a card with a subject's name is refused even if its kind were
    allowed in a channel."""
    subjects = [*await demo_subject_names(), *GALLERY_SUBJECTS]
    names = SubjectNames(subjects)
    naming = {
        name: card
        for name, card in every_card().items()
        if any(person in card_text(card) for person in subjects)
    }
    assert len(naming) > 10
    for name, card in naming.items():
        assert Finding.SUBJECT_NAME in personal_data_in(card_text(card), names, TODAY), name


def test_a_cards_kind_is_read_from_its_title() -> None:
    cards = every_card()
    assert kind_of(cards["triage-channel-notice"]) is SharedKind.REFERRAL_NOTICE
    assert kind_of(cards["setup-done"]) is SharedKind.PANEL_SETUP
    assert kind_of(cards["triage"]) is None
    assert kind_of(cards["case"]) is None


# ---- queued channel posts and replies ----------------------------------------------------


async def test_a_queued_channel_card_with_personal_data_is_not_queued_but_audited(
    world: World,
) -> None:
    storage, panel = world.storage, world.panel
    async with storage.unit_of_work() as uow:
        panel.channel_id = "19:general@thread.tacv2"
        notice = render_channel_notice(
            ChannelNoticeView(reference="RF-2026-0049", agency="Rosa Lindqvist", risk_level="High")
        )
        verdict = await judge_post(uow, panel, card=notice, text=None, now=NOW)
        assert verdict.findings == (Finding.SUBJECT_NAME,)
        queued = await card_to_channel(uow, panel=panel, card=notice, key="leak", now=NOW)
        await uow.commit()
    assert queued is False
    async with storage.unit_of_work() as uow:
        assert await uow.outbox.due(NOW + timedelta(days=1), 10) == []
        (event,) = await uow.audit.recent(panel.id, limit=1)
    assert (event.verb, event.entity) == (AuditVerb.REFUSE, "shared_post")
    assert event.detail == "channel card leak withheld from a shared chat: a subject's name"


async def test_a_reply_not_meant_for_the_channel_goes_to_the_private_chat(
    sqlite_storage: Storage, connector: Connector, clock: FixedClock
) -> None:
    async with serving(sqlite_storage, connector, clock) as bot:
        await bot.post(g.channel_message(bot.service_url, "whoami", aad=g.GEMMA, name="Gemma"))
        assert bot.connector.sent[-1]["text"] == SENT_PRIVATELY
        await bot.post(g.channel_message(bot.service_url, "help", aad=g.GEMMA, name="Gemma"))
        assert "Commands you can use" in card_text(bot.connector.cards()[-1])
        assert await bot.deliver() == 1
        assert "Your membership" in card_text(bot.connector.cards()[-1])
