"""`schedule` through the real app: Teams activity JSON in, cards out to the fake connector.

The demo panel on SQLite; the clock stands at Friday 20 Nov 2026 10:00 UTC. Priya Raman is
the coordinator, Gemma Hartley the housing SPOC.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest

from bot.domain.meeting import Meeting, MeetingStatus
from bot.features.meetings.calendar import ics_path
from bot.settings import Settings
from cards.kit import card_text, teams_findings
from cards.schedule import field_id
from tests.conftest import NOW, BotUnderTest
from tests.support import activities as acts
from tests.support import governance as g

if TYPE_CHECKING:
    from bot.domain.common import FixedClock

LONDON = ZoneInfo("Europe/London")
SECRET = "test-calendar-link-secret-of-32-characters"
PUBLIC_URL = "https://bot.example.org"


SETTINGS = Settings(public_url=PUBLIC_URL, link_secrets=(SECRET,))


@pytest.fixture
def bot_settings() -> Settings:
    """The calendar's links signed with SECRET (conftest's `bot`)."""
    return SETTINGS


async def meetings(bot: BotUnderTest) -> list[Meeting]:
    async with bot.storage.unit_of_work() as uow:
        panel = (await uow.members.memberships(acts.PRIYA))[0].panel_id
        return await uow.meetings.upcoming(panel, NOW, limit=50)


def on(found: list[Meeting], day: date) -> Meeting:
    (meeting,) = [m for m in found if m.starts_at.astimezone(LONDON).date() == day]
    return meeting


async def test_priya_the_coordinator_sees_six_meetings_with_move_and_cancel(
    bot: BotUnderTest,
) -> None:
    await bot.post(acts.personal_message(bot.service_url, "schedule"))
    card = bot.last_card()
    text = card_text(card)
    assert "Panel meetings" in text
    assert "Tue 8 Dec 2026, 10:00–12:00" in text
    assert "Mon 30 Nov 2026, 10:00" in text
    assert "Tue 11 May 2027, 10:00–12:00" in text
    assert "Move…" in text and "Cancel…" in text
    assert card["actions"][0]["title"] == "Add to calendar"
    assert teams_findings(card) == []
    assert len(await meetings(bot)) == 6  # the four missing ones were planned


async def test_gemma_the_spoc_sees_the_schedule_without_the_coordinators_forms(
    bot: BotUnderTest,
) -> None:
    await bot.post(
        acts.personal_message(bot.service_url, "/schedule", aad=acts.GEMMA, name="Gemma Hartley")
    )
    text = card_text(bot.last_card())
    assert "Tue 12 Jan 2027, 10:00–12:00" in text
    assert "Move…" not in text
    assert "Cancel…" not in text


async def test_gemma_may_not_cancel_a_meeting(bot: BotUnderTest) -> None:
    await bot.post(
        acts.personal_message(
            bot.service_url, "schedule cancel 8 Dec no reason", aad=acts.GEMMA, name="Gemma"
        )
    )
    assert bot.connector.texts()[-1] == "Only the panel's coordinators can move or cancel meetings."
    assert (await g.last_refusal(bot.storage, acts.GEMMA)).detail == "manage_schedule: role"
    assert on(await meetings(bot), date(2026, 12, 8)).status is MeetingStatus.SCHEDULED


async def test_priya_cancels_a_meeting_by_typing(bot: BotUnderTest) -> None:
    await bot.post(acts.personal_message(bot.service_url, "schedule cancel 12 Jan Chair at court"))
    text = card_text(bot.last_card())
    assert "Meeting cancelled" in text
    assert "Chair at court" in text
    assert on(await meetings(bot), date(2027, 1, 12)).status is MeetingStatus.CANCELLED
    await bot.post(acts.personal_message(bot.service_url, "schedule"))
    assert "Tue 12 Jan 2027, 10:00–12:00 — cancelled" in card_text(bot.last_card())


async def test_priya_moves_a_meeting_with_the_cards_form(bot: BotUnderTest) -> None:
    await bot.post(acts.personal_message(bot.service_url, "schedule"))
    december = on(await meetings(bot), date(2026, 12, 8))
    value = {
        "verb": "schedule.move",
        "meeting_id": december.id,
        field_id("new_date", december.id): "2026-12-10",
        field_id("new_time", december.id): "14:00",
    }
    await bot.post(acts.personal_message(bot.service_url, "", value=value))
    text = card_text(bot.last_card())
    assert "Meeting moved" in text
    assert "Thu 10 Dec 2026, 14:00–16:00" in text
    moved = on(await meetings(bot), date(2026, 12, 10))
    assert moved.id == december.id


async def test_gemma_cannot_use_the_cancel_form_either(bot: BotUnderTest) -> None:
    await bot.post(acts.personal_message(bot.service_url, "schedule"))
    december = on(await meetings(bot), date(2026, 12, 8))
    value = {
        "verb": "schedule.cancel",
        "meeting_id": december.id,
        field_id("reason", december.id): "x",
    }
    await bot.post(
        acts.personal_message(bot.service_url, "", aad=acts.GEMMA, name="Gemma", value=value)
    )
    assert bot.connector.texts()[-1] == "Only the panel's coordinators can move or cancel meetings."
    assert (await g.last_refusal(bot.storage, acts.GEMMA)).detail == "manage_schedule: role"
    assert on(await meetings(bot), date(2026, 12, 8)).status is MeetingStatus.SCHEDULED


async def test_a_move_onto_a_bank_holiday_is_refused_plainly(bot: BotUnderTest) -> None:
    await bot.post(acts.personal_message(bot.service_url, "schedule move 8 Dec 28 Dec"))
    assert bot.connector.texts()[-1] == ("Mon 28 Dec 2026 is a bank holiday in England and Wales.")


async def test_someone_outside_the_panel_is_told_the_schedule_is_for_members(
    bot: BotUnderTest,
) -> None:
    await bot.post(
        acts.personal_message(bot.service_url, "schedule", aad=acts.STRANGER, name="Sam")
    )
    assert bot.connector.texts()[-1] == (
        "`schedule` is for panel members. Ask your panel coordinator to add you."
    )


async def test_the_schedule_can_be_shown_in_the_team_channel(bot: BotUnderTest) -> None:
    await bot.post(acts.channel_message(bot.service_url, "schedule"))
    text = card_text(bot.last_card())
    assert "Tue 8 Dec 2026" in text
    assert "Move…" not in text  # forms are for the private chat
    for invented_person in ("Priya", "Gemma", "Margaret", "Ellison", "Rosa"):
        assert invented_person not in text


async def test_help_lists_the_schedule_for_members(bot: BotUnderTest) -> None:
    await bot.post(acts.personal_message(bot.service_url, "help", aad=acts.GEMMA, name="Gemma"))
    assert "schedule [ics | move" in card_text(bot.last_card())


async def test_schedule_ics_gives_a_link_that_downloads_the_calendar(
    bot: BotUnderTest, clock: FixedClock
) -> None:
    await bot.post(acts.personal_message(bot.service_url, "schedule ics"))
    card = bot.last_card()
    (download,) = card["actions"]
    assert download["type"] == "Action.OpenUrl"
    url: str = download["url"]
    assert url.startswith(f"{PUBLIC_URL}/panels/")
    path_and_query = url.removeprefix(PUBLIC_URL)
    # The app's own route (bot/app.py), signed with the same secret.
    response = await bot.client.get(path_and_query)
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    body = await response.text()
    assert body.startswith("BEGIN:VCALENDAR\r\n")
    assert body.count("BEGIN:VEVENT") >= 2
    panel_id = path_and_query.split("/")[2]
    assert path_and_query.startswith(ics_path(panel_id))
    forged = await bot.client.get(f"{ics_path(panel_id)}?token=guess")
    assert forged.status == 404
