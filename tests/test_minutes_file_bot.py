"""Approved minutes as a Word file through Teams' file consent flow (issue 14, item 6),
through the real app: Teams activity JSON in, messages out through the fake Bot Connector,
and the file PUT to a fake OneDrive upload endpoint on 127.0.0.1.

Tom Okafor chairs the meeting in its chat and Gemma Hartley (Riverside Homes) attends; Priya
Raman, the coordinator, approves the minutes. Gemma receives a card saying so and a file
consent card; she allows it, Teams (here, the test) hands the bot an upload URL, the bot
PUTs the document there and shows the file.
"""

from __future__ import annotations

import asyncio
import io
import zipfile
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.app import build_router
from bot.domain.file_offer import OfferState
from bot.settings import Settings
from bot.teams.replies import FILE_CONSENT_CONTENT_TYPE, FILE_INFO_CONTENT_TYPE
from bot.teams.upload import OneDriveUploads
from cards.kit import Card, card_text
from tests.support import activities as acts
from tests.support import cards
from tests.support.activities import MEETING_CHAT, group_invoke, group_message
from tests.support.governance import demo_panel
from tests.support.world import AAD, serving
from tests.test_card_panel_bot import second_panel

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from bot.domain.common import FixedClock
    from bot.kernel.ports import Storage
    from tests.conftest import BotUnderTest, Connector

SETTINGS = Settings(public_url="https://bot.example.org", ics_signing_secret="file-bot-secret")


@dataclass
class OneDrive:
    """A fake upload session endpoint: it keeps what each PUT carried, and answers the
    statuses queued in `failures` first."""

    url: str = ""
    puts: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    failures: list[int] = field(default_factory=list)

    async def put(self, request: web.Request) -> web.Response:
        body = await request.read()
        if self.failures:
            return web.Response(status=self.failures.pop(0))
        self.puts.append((dict(request.headers), body))
        return web.json_response({"id": "drive-item-1"}, status=201)

    def upload_url(self, name: str = "session-1") -> str:
        return f"{self.url}/upload/{name}"


@pytest.fixture
async def onedrive() -> AsyncIterator[OneDrive]:
    drive = OneDrive()
    app = web.Application()
    app.router.add_put("/upload/{session}", drive.put)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    drive.url = str(server.make_url("")).rstrip("/")
    yield drive
    await server.close()


@asynccontextmanager
async def running(
    storage: Storage, connector: Connector, clock: FixedClock
) -> AsyncIterator[BotUnderTest]:
    """The app with the production router but an uploader that may reach the local fake
    (plain HTTP on 127.0.0.1: the bot's own never does)."""
    uploads = OneDriveUploads(
        ("127.0.0.1",), allow_http=True, trusted_addresses=("127.0.0.1",), backoff=0.01
    )
    router = build_router(SETTINGS, None, uploads)
    async with serving(storage, connector, clock, settings=SETTINGS, router=router) as b:
        yield b


@pytest.fixture
async def bot(
    sqlite_storage: Storage, connector: Connector, clock: FixedClock, onedrive: OneDrive
) -> AsyncIterator[BotUnderTest]:
    async with running(sqlite_storage, connector, clock) as b:
        yield b


def chat_of(who: str) -> str:
    return f"a:personal-{AAD[who]}"


def sent_to(bot: BotUnderTest, who: str) -> list[dict[str, Any]]:
    return bot.connector.to_conversation(chat_of(who))


def attachments(bot: BotUnderTest, who: str, content_type: str) -> list[dict[str, Any]]:
    return [
        a
        for activity in sent_to(bot, who)
        for a in activity.get("attachments") or []
        if a.get("contentType") == content_type
    ]


def texts_to(bot: BotUnderTest, who: str) -> str:
    found: list[str] = []
    for activity in sent_to(bot, who):
        found.append(activity.get("text") or "")
        for a in activity.get("attachments") or []:
            if a.get("contentType") == "application/vnd.microsoft.card.adaptive":
                found.append(card_text(a["content"]))
    return "\n".join(found)


def consent_answer(
    bot: BotUnderTest,
    who: str,
    context: Any,
    *,
    action: str = "accept",
    upload_url: str | None = None,
) -> dict[str, Any]:
    """The invoke Teams sends when `who` answers a file consent card."""
    person = next(name for name in AAD if name.startswith(who) and " " in name)
    activity = acts.card_invoke(bot.service_url, "", {}, aad=AAD[who], name=person)
    value: dict[str, Any] = {"type": "fileUpload", "action": action, "context": context}
    if upload_url is not None:
        value["uploadInfo"] = {
            "contentUrl": "https://riverside-my.sharepoint.com/personal/gemma/Minutes.docx",
            "name": "Minutes Fri 20 Nov 2026.docx",
            "uploadUrl": upload_url,
            "uniqueId": "1150D938-8870-4044-9F2C-5BBDEBA70C9D",
            "fileType": "docx",
        }
    activity.update({"name": "fileConsent/invoke", "value": value})
    return activity


async def answer(bot: BotUnderTest, activity: dict[str, Any]) -> None:
    response = await bot.post(activity)
    assert response.status == 200, response.status


async def in_meeting(bot: BotUnderTest, card: Card, label: str, who: str) -> Card:
    verb, data = cards.press(card, label)
    return cards.card(await bot.invoke(group_invoke(bot.service_url, verb, data, who=who)))


async def in_private(bot: BotUnderTest, card: Card, label: str, who: str) -> Card:
    verb, data = cards.press(card, label)
    person = next(name for name in AAD if name.startswith(who) and " " in name)
    body = await bot.invoke(
        acts.card_invoke(bot.service_url, verb, data, aad=AAD[who], name=person)
    )
    return cards.card(body)


def last_card_in(bot: BotUnderTest, who: str) -> Card:
    found = [
        a["content"]
        for activity in sent_to(bot, who)
        for a in activity.get("attachments") or []
        if a.get("contentType") == "application/vnd.microsoft.card.adaptive"
    ]
    return found[-1]  # type: ignore[no-any-return]


async def approved_minutes(bot: BotUnderTest) -> Card:
    """Run the meeting (Gemma attends) and have Priya approve its minutes; her card."""
    await bot.post(acts.bot_installed_in_team(bot.service_url))
    for who in ("Priya Raman", "Tom Okafor", "Gemma Hartley"):  # each has a private chat
        await bot.post(acts.personal_message(bot.service_url, "whoami", aad=AAD[who], name=who))
    await bot.post(group_message(bot.service_url, "start", who="Tom", meeting=True))
    statement = bot.connector.to_conversation(MEETING_CHAT)[-1]["attachments"][0]["content"]
    await in_meeting(bot, statement, "I acknowledge", "Gemma")
    await in_meeting(bot, statement, "Open the chair card", "Tom")
    await bot.post(group_message(bot.service_url, "end", who="Tom", meeting=True))
    await bot.deliver()
    approved = await in_private(bot, last_card_in(bot, "Priya"), "Approve minutes", "Priya")
    assert "The Word document goes in private chat to Gemma Hartley" in card_text(approved)
    await bot.deliver()
    return approved


async def whoami(bot: BotUnderTest, who: str) -> dict[str, Any]:
    """What `whoami` answers `who` in private chat (it names the panel they act for)."""
    person = next(name for name in AAD if name.startswith(who) and " " in name)
    await bot.post(acts.personal_message(bot.service_url, "whoami", aad=AAD[who], name=person))
    return bot.connector.sent[-1]


def offer_context(bot: BotUnderTest, who: str = "Gemma") -> dict[str, Any]:
    (consent,) = attachments(bot, who, FILE_CONSENT_CONTENT_TYPE)
    context: dict[str, Any] = consent["content"]["acceptContext"]
    assert consent["content"]["declineContext"] == context
    return context


async def test_the_member_allows_the_file_and_it_lands_in_their_onedrive(
    bot: BotUnderTest, onedrive: OneDrive
) -> None:
    await approved_minutes(bot)
    said = texts_to(bot, "Gemma")
    assert "Minutes approved: Fri 20 Nov 2026" in said
    assert "decline it and I send you a download link" in said
    assert "Download the minutes (.docx)" not in said  # no link until she declines
    (consent,) = attachments(bot, "Gemma", FILE_CONSENT_CONTENT_TYPE)
    assert consent["name"].startswith("Minutes Fri 20 Nov 2026")
    assert consent["name"].endswith(".docx")
    assert consent["content"]["sizeInBytes"] > 1000
    context = offer_context(bot)
    riverside = await demo_panel(bot.storage)
    # An opaque id, and the panel's (its answer is taken for that panel): nothing else.
    assert context == {"offer": context["offer"], "panel": riverside.id}

    await answer(bot, consent_answer(bot, "Gemma", context, upload_url=onedrive.upload_url()))

    (headers, body) = onedrive.puts[0]
    assert len(onedrive.puts) == 1
    size = len(body)
    assert headers["Content-Range"] == f"bytes 0-{size - 1}/{size}"
    assert headers["Content-Length"] == str(size)
    with zipfile.ZipFile(io.BytesIO(body)) as document:
        xml = document.read("word/document.xml").decode("utf-8")
    assert "Riverside" in xml
    await bot.deliver()
    (info,) = attachments(bot, "Gemma", FILE_INFO_CONTENT_TYPE)
    assert info["name"] == "Minutes Fri 20 Nov 2026.docx"
    assert info["contentUrl"].startswith("https://riverside-my.sharepoint.com/")
    assert info["content"] == {
        "uniqueId": "1150D938-8870-4044-9F2C-5BBDEBA70C9D",
        "fileType": "docx",
    }
    # The consent card is answered in place: it cannot be allowed twice.
    (update,) = [u for u in bot.connector.updated if u["attachments"]]
    assert "Saved in your OneDrive" in card_text(update["attachments"][0]["content"])

    await answer(bot, consent_answer(bot, "Gemma", context, upload_url=onedrive.upload_url("2")))
    assert len(onedrive.puts) == 1  # nothing uploaded again
    assert "I have already sent you these minutes" in texts_to(bot, "Gemma")


async def test_another_member_answering_with_the_same_context_gets_nothing(
    bot: BotUnderTest, onedrive: OneDrive
) -> None:
    await approved_minutes(bot)
    context = offer_context(bot)
    await answer(bot, consent_answer(bot, "Tom", context, upload_url=onedrive.upload_url()))
    await answer(bot, consent_answer(bot, "Daniel", context, upload_url=onedrive.upload_url()))
    await answer(bot, consent_answer(bot, "Sam", context, upload_url=onedrive.upload_url()))
    assert onedrive.puts == []
    assert "That file was offered to someone else." in texts_to(bot, "Tom")
    # Forged or missing contexts are refused plainly too.
    for forged in ({"offer": "made-up"}, {}, "not an object", None):
        await answer(bot, consent_answer(bot, "Gemma", forged, upload_url=onedrive.upload_url()))
    assert onedrive.puts == []
    said = texts_to(bot, "Gemma")
    assert "I can't find that file." in said
    assert "Teams sent an answer I can't read." in said
    # Gemma's own offer is still open.
    await answer(bot, consent_answer(bot, "Gemma", context, upload_url=onedrive.upload_url()))
    assert len(onedrive.puts) == 1


async def test_a_member_acting_for_another_panel_allows_the_file_without_switching(
    bot: BotUnderTest, onedrive: OneDrive
) -> None:
    """Gemma is on a second panel and acts for it when she allows Riverside's minutes: the
    answer is taken for the offer's panel, and she still acts for the other one."""
    await approved_minutes(bot)
    context = offer_context(bot)
    await second_panel(bot.storage, "Northbank Panel", "19:northbank-panel-team@thread.tacv2")

    await answer(bot, consent_answer(bot, "Gemma", context, upload_url=onedrive.upload_url()))

    assert len(onedrive.puts) == 1, texts_to(bot, "Gemma")
    riverside = await demo_panel(bot.storage)
    async with bot.storage.unit_of_work() as uow:
        offer = await uow.file_offers.get(riverside.id, context["offer"])
    assert offer is not None and offer.state is OfferState.SENT
    assert "Northbank" in cards.text(await whoami(bot, "Gemma"))
    # The same context naming a panel she is not on is refused, and nothing is sent again.
    forged = {**context, "panel": "made-up-panel"}
    await answer(bot, consent_answer(bot, "Gemma", forged, upload_url=onedrive.upload_url("2")))
    assert len(onedrive.puts) == 1


@pytest.mark.parametrize(
    "where",
    [
        "https://evil.example.org/upload/session-1",  # not an allowed host
        "ftp://127.0.0.1/upload/session-1",  # not HTTP(S)
        "http://user:pw@127.0.0.1/upload/session-1",  # credentials in the URL
    ],
)
async def test_an_upload_url_off_the_allow_list_is_refused_and_nothing_is_sent(
    bot: BotUnderTest, onedrive: OneDrive, where: str
) -> None:
    await approved_minutes(bot)
    context = offer_context(bot)
    await answer(bot, consent_answer(bot, "Gemma", context, upload_url=where))
    assert onedrive.puts == []
    said = texts_to(bot, "Gemma")
    assert "I could not save the Word file in your OneDrive." in said
    assert "evil.example.org" not in said
    # The offer was not used up: allowed again with Teams' own URL, it goes.
    await answer(bot, consent_answer(bot, "Gemma", context, upload_url=onedrive.upload_url()))
    assert len(onedrive.puts) == 1


async def test_onedrive_failing_for_a_moment_is_tried_again(
    bot: BotUnderTest, onedrive: OneDrive
) -> None:
    await approved_minutes(bot)
    onedrive.failures = [503, 429]
    await answer(
        bot, consent_answer(bot, "Gemma", offer_context(bot), upload_url=onedrive.upload_url())
    )
    assert len(onedrive.puts) == 1
    assert onedrive.failures == []
    await bot.deliver()
    assert len(attachments(bot, "Gemma", FILE_INFO_CONTENT_TYPE)) == 1


async def test_onedrive_failing_for_good_leaves_a_link_and_the_offer_open(
    bot: BotUnderTest, onedrive: OneDrive
) -> None:
    await approved_minutes(bot)
    onedrive.failures = [503, 503, 503, 503]
    context = offer_context(bot)
    await answer(bot, consent_answer(bot, "Gemma", context, upload_url=onedrive.upload_url()))
    assert onedrive.puts == []
    card = last_card_in(bot, "Gemma")
    assert "I could not save the Word file in your OneDrive." in card_text(card)
    assert any(a.get("title") == "Download the minutes (.docx)" for a in card["actions"])


async def test_a_declined_file_is_answered_with_a_link_while_links_are_on(
    bot: BotUnderTest, onedrive: OneDrive
) -> None:
    await approved_minutes(bot)
    context = offer_context(bot)
    await answer(bot, consent_answer(bot, "Gemma", context, action="decline"))
    card = last_card_in(bot, "Gemma")
    assert "You declined the Word file. Here is a download link instead." in card_text(card)
    url = next(
        a["url"] for a in card["actions"] if a.get("title") == "Download the minutes (.docx)"
    )
    parts = urlsplit(url)
    fetched = await bot.client.get(f"{parts.path}?{parts.query}")
    assert fetched.status == 200
    await bot.deliver()
    (update,) = [u for u in bot.connector.updated if u["attachments"]]
    assert "You declined the Word file." in card_text(update["attachments"][0]["content"])
    # Declined is final for this offer: allowing it afterwards uploads nothing.
    await answer(bot, consent_answer(bot, "Gemma", context, upload_url=onedrive.upload_url()))
    assert onedrive.puts == []
    assert "You declined this file." in texts_to(bot, "Gemma")


async def test_with_links_off_no_link_is_made_or_served_and_the_file_is_offered_again(
    bot: BotUnderTest, onedrive: OneDrive
) -> None:
    approved = await approved_minutes(bot)
    own_link = next(
        a["url"] for a in approved["actions"] if a.get("title") == "Download the minutes (.docx)"
    )
    turned = await in_private(bot, approved, "Turn download links off", "Priya")
    assert "Download links are off" in card_text(turned)
    assert not any(a.get("title") == "Download the minutes (.docx)" for a in turned["actions"])
    parts = urlsplit(own_link)
    assert (await bot.client.get(f"{parts.path}?{parts.query}")).status == 404

    await answer(bot, consent_answer(bot, "Gemma", offer_context(bot), action="decline"))
    card = last_card_in(bot, "Gemma")
    assert "Your coordinator can offer it again" in card_text(card)
    assert not any(a.get("type") == "Action.OpenUrl" for a in card.get("actions", []))

    again = await in_private(bot, turned, "Offer the file again to attendees", "Priya")
    assert "The Word file is offered again to Gemma Hartley" in card_text(again)
    await bot.deliver()
    offers = attachments(bot, "Gemma", FILE_CONSENT_CONTENT_TYPE)
    assert len(offers) == 2
    fresh = offers[-1]["content"]["acceptContext"]
    await answer(bot, consent_answer(bot, "Gemma", fresh, upload_url=onedrive.upload_url()))
    assert len(onedrive.puts) == 1
    # Offered again while she has it: nobody is left to offer it to.
    again = await in_private(bot, again, "Offer the file again to attendees", "Priya")
    assert "Everyone attending has the file, or an offer still open." in card_text(again)

    back = await in_private(bot, again, "Turn download links on", "Priya")
    assert "Download links are on" in card_text(back)
    assert (await bot.client.get(f"{parts.path}?{parts.query}")).status == 200


async def test_only_the_coordinator_turns_links_off_and_only_in_private(
    bot: BotUnderTest,
) -> None:
    approved = await approved_minutes(bot)
    verb, data = cards.press(approved, "Turn download links off")
    said = await bot.invoke(
        acts.card_invoke(bot.service_url, verb, data, aad=AAD["Tom"], name="Tom Okafor")
    )
    assert "Only the panel's coordinators can edit and approve the minutes." in cards.text(said)
    said = await bot.invoke(
        acts.card_invoke(bot.service_url, verb, data, aad=AAD["Gemma"], name="Gemma Hartley")
    )
    assert "coordinators" in cards.text(said)
    said = await bot.invoke(group_invoke(bot.service_url, verb, data, who="Priya"))
    assert "private chat" in cards.text(said)
    own_link = next(
        a["url"] for a in approved["actions"] if a.get("title") == "Download the minutes (.docx)"
    )
    parts = urlsplit(own_link)
    assert (await bot.client.get(f"{parts.path}?{parts.query}")).status == 200


async def test_the_coordinator_saves_her_own_copy(bot: BotUnderTest, onedrive: OneDrive) -> None:
    approved = await approved_minutes(bot)
    mine = await in_private(bot, approved, "Save the Word file in my OneDrive", "Priya")
    assert "The Word file follows" in card_text(mine)
    await bot.deliver()
    context = offer_context(bot, "Priya")
    await answer(bot, consent_answer(bot, "Priya", context, upload_url=onedrive.upload_url()))
    assert len(onedrive.puts) == 1


async def test_an_offer_lapses_after_thirty_days(
    bot: BotUnderTest, onedrive: OneDrive, clock: FixedClock
) -> None:
    await approved_minutes(bot)
    context = offer_context(bot)
    clock.advance(clock.now() + timedelta(days=30, minutes=1))
    await answer(bot, consent_answer(bot, "Gemma", context, upload_url=onedrive.upload_url()))
    assert onedrive.puts == []
    assert "This offer has lapsed." in texts_to(bot, "Gemma")


async def test_a_member_no_longer_entitled_gets_nothing(
    bot: BotUnderTest, onedrive: OneDrive
) -> None:
    await approved_minutes(bot)
    context = offer_context(bot)
    # A new agreement she has not accepted yet: no case detail for her until she does.
    async with bot.storage.unit_of_work() as uow:
        (panel,) = await uow.panels.list_all()
        panel.isa_version = "2027-01"
        await uow.panels.save(panel)
        await uow.commit()
    await answer(bot, consent_answer(bot, "Gemma", context, upload_url=onedrive.upload_url()))
    assert onedrive.puts == []
    assert "You may no longer read every case in these minutes" in texts_to(bot, "Gemma")


async def test_two_allows_at_once_upload_once(
    database: Storage, connector: Connector, clock: FixedClock, onedrive: OneDrive
) -> None:
    """Teams, or someone replaying it, answering one offer twice at once: one upload (on
    SQLite and PostgreSQL)."""
    async with running(database, connector, clock) as bot:
        await approved_minutes(bot)
        context = offer_context(bot)
        both = [
            consent_answer(bot, "Gemma", context, upload_url=onedrive.upload_url(name))
            for name in ("a", "b")
        ]
        responses = await asyncio.gather(*(bot.post(activity) for activity in both))
        assert [r.status for r in responses] == [200, 200]
        assert len(onedrive.puts) == 1
        said = texts_to(bot, "Gemma")
        assert "already on their way" in said or "already sent you" in said


async def test_an_upload_cut_short_can_be_offered_again(
    bot: BotUnderTest, onedrive: OneDrive, clock: FixedClock
) -> None:
    """The process stopped mid-upload: the offer stays 'uploading'; ten minutes on, the
    coordinator may offer the file again."""
    approved = await approved_minutes(bot)
    context = offer_context(bot)
    async with bot.storage.unit_of_work() as uow:
        (panel,) = await uow.panels.list_all()
        assert await uow.file_offers.move(
            panel.id, context["offer"], OfferState.OFFERED, OfferState.UPLOADING, clock.now()
        )
        await uow.commit()
    again = await in_private(bot, approved, "Offer the file again to attendees", "Priya")
    assert "Everyone attending has the file, or an offer still open." in card_text(again)
    clock.advance(clock.now() + timedelta(minutes=11))
    again = await in_private(bot, again, "Offer the file again to attendees", "Priya")
    assert "The Word file is offered again to Gemma Hartley" in card_text(again)
