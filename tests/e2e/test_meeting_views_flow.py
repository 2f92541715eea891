"""The meeting chat's cards as each reader sees them: the chair runs the meeting while two
SPOCs of different agencies watch the same chat, each shown what the need-to-know table
allows them.

One bot and one Agents Playground configured as Tom Okafor (chair, police): he is the only
one who types. The Playground's group chat stands in for the meeting's chat (the Playground
has no meeting chat). Four Chromium pages are open on that group chat: Tom's; Gemma Hartley's
(Housing's SPOC, a core agency: every case on the agenda in full); Sam Whitfield's (SPOC of
Riverside Fire and Rescue, an agency invited to CM-…-014 only: that case in full, the base
on every other item); and Aisha Bello's (a referrer, whom the cards' refresh does not list:
she keeps the base). Sam is made a Fire and Rescue SPOC who accepted the current agreement by
test setup through the storage layer, as `members` add would store him: the Playground has no
people picker to add him by the product's own flow. Before the meeting Tom, Gemma and Sam
each type `whoami` in their own private chat (Gemma and Sam from a Playground of their own),
so the bot knows the Teams id each card's `refresh.userIds` names them by.

Tom types `start`, opens the chair card from the confidentiality statement, walks the agenda
with Next, captures an action on CM-…-014 for Fire and Rescue, reviews CM-…-013 and ends the
meeting. After each post or edit of the bot, every page does what a Teams client does with a
card's `refresh`: if its user is in `userIds`, it asks the bot for its own view (an
`adaptiveCard/action` invoke with trigger "automatic") and shows the answer in that page
only. **The test fires that automatic refresh, not the Playground**: Agents Playground 0.2.28
never sends it (it shows "User specific view is not supported yet in Microsoft 365 Agents
playground") and never reads `userIds`. The test dispatches the Playground's own card-click
action in each page's Redux store with trigger "automatic", and makes a page act as another
mock user by rewriting the Playground's `/_internal/v1/config` answer: both lean on the
Playground's internals (tests/e2e/harness.py: `watch_as`, `emulate_refresh`), and the test
fails with a message saying so when the store is not found. A pass-through in front of the
bot records what reached it: one refresh per listed viewer per card posted or edited, each
with trigger "automatic". The same views through the real adapter, without the Playground:
tests/test_shared_views.py.

Screenshots: each page at each step, and `NN-side-by-side-<step>.png` with the chair's, the
core SPOC's and the invited SPOC's views next to each other. Everyone and every case is
invented; the scenario needs the demo panel as seeded (the harness's own bot).
"""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio
from PIL import Image
from playwright.async_api import expect

from bot.demo import DEMO_TEAM
from bot.domain.audit import AuditVerb
from bot.domain.panel import IsaAcceptance, Member, Role
from bot.features.meetings.views import PRIVATE_ONLY  # a base's stand-in for a narrative
from storage import open_storage

from . import harness
from .harness import ActivityRecorder, Chat, HarnessError, PlaygroundPool

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterator
    from pathlib import Path

    from .harness import BotServer, Refresh, Shots

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

STEP = 25.0
LONDON = ZoneInfo("Europe/London")
VERB = "view.refresh"
TOM, GEMMA, SAM, AISHA = "Tom Okafor", "Gemma Hartley", "Sam Whitfield", "Aisha Bello"
WATCHERS = (GEMMA, SAM, AISHA)
THREE = (TOM, GEMMA, SAM)
FIRE = "Riverside Fire and Rescue"
SAM_AAD = "3d9b6c1e-1a2f-4c3b-8d4e-5f6a7b8c9d06"
ON_13_ASSESSMENT = "Complete a Care Act needs assessment."
ON_13_CAMERA = "Visit Mrs Ellison and fit a door camera"
NEW_ACTION = "Fit smoke alarms and agree a fire escape plan with the family."


def mri(name: str) -> str:
    """The Teams id the Playground gives `name` (its configuration's `id`)."""
    return harness.person(name)["id"]


async def _make_sam_a_fire_and_rescue_spoc(database_url: str) -> str:
    """Sam Whitfield as the invited agency's SPOC, agreement accepted: stored as `members`
    add stores a member (the Playground has no people picker). Returns the agency's id."""
    storage = open_storage(database_url)
    try:
        async with storage.unit_of_work() as uow:
            panel = await uow.panels.by_team(DEMO_TEAM)
            assert panel is not None, "the demo panel is seeded"
            fire = await uow.agencies.by_name(panel.id, FIRE)
            assert fire is not None
            member = Member(
                panel_id=panel.id,
                aad_object_id=SAM_AAD,
                name=SAM,
                agency_id=fire.id,
                roles=frozenset({Role.SPOC}),
            )
            await uow.members.save(member)
            await uow.isa.save(
                IsaAcceptance(
                    panel_id=panel.id,
                    member_id=member.id,
                    version=panel.isa_version,
                    accepted_at=datetime.now(UTC) - timedelta(days=3),
                )
            )
            await uow.commit()
            return fire.id
    finally:
        await storage.close()


async def _case_views(database_url: str) -> dict[str, set[str]]:
    """From the audit trail: which case references each member's own views showed in full."""
    storage = open_storage(database_url)
    try:
        async with storage.unit_of_work() as uow:
            panel = await uow.panels.by_team(DEMO_TEAM)
            assert panel is not None
            members = {m.aad_object_id: m.name for m in await uow.members.all(panel.id)}
            events = await uow.audit.recent(panel.id, limit=1000)
            shown: dict[str, set[str]] = {}
            for event in events:
                if event.verb is AuditVerb.VIEW and (event.detail or "").startswith("shared view"):
                    case = await uow.cases.get(panel.id, event.entity_id)
                    who = members.get(event.actor_aad_object_id, event.actor_aad_object_id)
                    shown.setdefault(who, set()).add(case.reference if case else "?")
            return shown
    finally:
        await storage.close()


@pytest.fixture(scope="module")
def bot_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BotServer]:
    """This module's bot, editing a clicked shared view for everyone as it does in Teams
    (SHARED_VIEW_EDITS; off by default in local mode, as the Playground shows no user's own
    view by itself: here the test brings each reader's own view back)."""
    problem = ""
    try:
        bot = harness.start_bot(
            tmp_path_factory.mktemp("bot"), settings={"SHARED_VIEW_EDITS": "true"}
        )
    except HarnessError as exc:
        problem = f"could not start the bot: {exc}"
    if problem:
        pytest.fail(problem, pytrace=False)
    yield bot
    bot.stop()


@pytest.fixture(scope="module")
def recorder(bot_server: BotServer) -> Iterator[ActivityRecorder]:
    """What reaches the bot from the Playgrounds, kept."""
    passing = ActivityRecorder(bot_server.base_url)
    yield passing
    passing.close()


@pytest.fixture(scope="module")
def watched(
    e2e_ready: None, recorder: ActivityRecorder, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PlaygroundPool]:
    """Playgrounds talking to the bot through the recorder."""
    pool = PlaygroundPool(recorder.messages_url, tmp_path_factory.mktemp("playground"))
    yield pool
    pool.close()


@pytest_asyncio.fixture(loop_scope="session")
async def open_as(
    watched: PlaygroundPool, pages: Callable[..., Awaitable[Any]], shots: Shots
) -> Callable[..., Awaitable[Chat]]:
    """`await open_as(playground_of, watch=None)`: a page on that person's Playground,
    believing it is `watch` when given."""

    async def opener(playground_of: str, watch: str | None = None) -> Chat:
        try:
            playground = watched.get(playground_of)
        except HarnessError as exc:
            pytest.fail(f"could not start the Agents Playground: {exc}", pytrace=False)
        return Chat(await pages(watch), playground, shots)

    return opener


class Room:
    """The four pages on Tom's group chat, and what each step checks in all of them."""

    def __init__(self, chats: dict[str, Chat], recorder: ActivityRecorder) -> None:
        self.chats = chats
        self.recorder = recorder
        self.shots = chats[TOM].shots
        # Each page's automatic refreshes answered: the Playground's page posts the invoke to
        # its server, which answers with the bot's answer.
        self.answered = dict.fromkeys(chats, 0)
        for who, chat in chats.items():
            chat.page.on("requestfinished", self._counter(who))

    def _counter(self, who: str) -> Callable[[Any], None]:
        def count(request: Any) -> None:
            body = request.post_data or ""
            if request.method == "POST" and '"automatic"' in body and VERB in body:
                self.answered[who] += 1

        return count

    def card(self, who: str, heading: str | re.Pattern[str]) -> Any:
        """The card in `who`'s page whose first lines include `heading`."""
        page = self.chats[who].page
        text = heading if isinstance(heading, re.Pattern) else re.compile(re.escape(heading))
        block = page.locator(".ac-textBlock").filter(has_text=text)
        return page.locator(".ac-adaptiveCard").filter(has=block).last

    async def arrived(self, heading: str | re.Pattern[str]) -> None:
        """Wait until every page shows a card reading `heading` (posted or edited)."""
        for who in self.chats:
            await expect(self.card(who, heading), f"{who}'s page").to_be_visible(
                timeout=STEP * 1000
            )

    async def refresh(self, cards: int, listed: tuple[str, ...]) -> list[Refresh]:
        """Every page does what Teams does with the `cards` cards just posted or edited:
        those listed in `userIds` ask for their own view. Checks the refresh each card
        carries and returns what Tom's page saw."""
        before = len(self.recorder.refresh_invokes(VERB))
        answered = dict(self.answered)
        seen: dict[str, list[Refresh]] = {}
        for who, chat in self.chats.items():
            try:
                seen[who] = await harness.emulate_refresh(chat.page)
            except HarnessError as exc:
                pytest.fail(str(exc), pytrace=False)
        for who, found in seen.items():
            assert len(found) == cards, (who, found)
            for card in found:
                assert card.verb == VERB, card
                assert card.user_ids == tuple(mri(p) for p in listed), (who, card)
                assert card.refreshed is (who in listed), (who, card)
        # What reached the bot: one automatic refresh per listed viewer per card.
        expected = sorted(mri(p) for p in listed for _ in range(cards))
        deadline = asyncio.get_running_loop().time() + STEP
        while True:
            sent = self.recorder.refresh_invokes(VERB)[before:]
            if len(sent) >= len(expected) or asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(0.2)
        assert sorted(a["from"]["id"] for a in sent) == expected, sent
        assert all(a["value"].get("trigger") == "automatic" for a in sent), sent
        # Each page has its answers (a click on a card still being redrawn would be lost).
        for who in self.chats:
            wanted = answered[who] + (cards if who in listed else 0)
            while self.answered[who] < wanted:
                if asyncio.get_running_loop().time() > deadline:
                    raise AssertionError(f"{who}'s page got no answer to its refresh")
                await asyncio.sleep(0.1)
            assert self.answered[who] == wanted, (who, self.answered[who], wanted)
        await asyncio.sleep(0.5)  # the page draws the answer
        return seen[TOM]

    async def settle(self) -> None:
        for chat in self.chats.values():
            await harness.settle_views(chat.page)

    async def photograph(self, step: str, heading: str | re.Pattern[str]) -> None:
        """Each page's view of the card, then the three views side by side."""
        taken: list[Path] = []
        for who, chat in self.chats.items():
            card = self.card(who, heading)
            path = await chat.shot(f"{step}-{who.split()[0].lower()}", card)
            if who in THREE:
                taken.append(path)
        side_by_side(
            taken, self.shots.folder / f"{self.shots.count + 1:02d}-side-by-side-{step}.png"
        )
        self.shots.count += 1


def side_by_side(paths: list[Path], out: Path) -> None:
    """The pictures next to each other, each cropped to the chat pane, on one image."""
    images = []
    for path in paths:
        with Image.open(path) as image:
            width, height = image.size
            # the chat pane: right of the chat list, left of the Playground's log panel
            images.append(image.crop((330, 50, min(width, 1070), height)))
    width = sum(i.width for i in images) + 8 * (len(images) - 1)
    canvas = Image.new("RGB", (width, max(i.height for i in images)), "white")
    x = 0
    for image in images:
        canvas.paste(image, (x, 0))
        x += image.width + 8
    canvas.save(out)


async def _expect_lines(card: Any, shows: tuple[str, ...], hides: tuple[str, ...]) -> None:
    for text in shows:
        await expect(card).to_contain_text(text, timeout=STEP * 1000)
    for text in hides:
        await expect(card).not_to_contain_text(text)


async def _no_buttons(card: Any) -> None:
    await expect(card.get_by_role("button")).to_have_count(0)


def _label(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b %Y}"


async def test_each_reader_of_the_meeting_chat_sees_their_own_view(
    bot_server: BotServer,
    recorder: ActivityRecorder,
    open_as: Callable[..., Awaitable[Chat]],
) -> None:
    assert bot_server.database_url, "the harness started its own bot"
    fire_id = await _make_sam_a_fire_and_rescue_spoc(bot_server.database_url)
    assert fire_id

    # 1. Before the meeting each of them has talked to the bot in private, so it knows
    # their Teams ids. Gemma and Sam type in a Playground of their own.
    for name in (GEMMA, SAM):
        own = await open_as(name)
        await own.open()
        await own.open_personal_chat()
        await own.send("whoami")
        await own.wait_for_card("Your membership", timeout=STEP)
        await own.page.context.close()

    # 2. Four pages on Tom's Playground, all in the group chat before the bot posts (the
    # Playground's pages keep no history): Tom's own, and three watching as someone else.
    tom = await open_as(TOM)
    await tom.open()
    await tom.open_personal_chat()
    await tom.send("whoami")
    await tom.wait_for_card("Your membership", timeout=STEP)
    await tom.open_group_chat()
    chats = {TOM: tom}
    for name in WATCHERS:
        chat = await open_as(TOM, watch=name)
        await chat.open()
        await expect(chat.page.get_by_text(name, exact=True).first).to_be_visible()
        await chat.open_group_chat()
        chats[name] = chat
    room = Room(chats, recorder)
    # Those the statement concerns: the chair first, then whoever may see a case on the
    # agenda in full; not Aisha, a referrer, who may see none.
    listed = (TOM, GEMMA, SAM)

    # 3. Tom starts the meeting: the statement, base for the chat, each listed reader's
    # own view telling them which cases they will see in full.
    await tom.send("start")
    await room.arrived("Confidentiality statement")
    (statement,) = await room.refresh(1, listed)
    year = datetime.now(LONDON).date().year
    case13, case14 = f"CM-{year}-013", f"CM-{year}-014"
    yours = "Cases on the agenda you will see in full here:"
    await _expect_lines(room.card(TOM, "Confidentiality statement"), (yours, case13, case14), ())
    await _expect_lines(room.card(GEMMA, "Confidentiality statement"), (yours, case13, case14), ())
    await _expect_lines(room.card(SAM, "Confidentiality statement"), (yours, case14), (case13,))
    await _expect_lines(room.card(AISHA, "Confidentiality statement"), (), (yours,))
    await room.settle()
    await room.photograph("statement", "Confidentiality statement")

    # 4. Tom opens the chair card: the statement's message becomes the chair card's base
    # for everyone, and each listed reader's client asks again.
    await tom.click_card_button("Open the chair card", room.card(TOM, "Confidentiality statement"))
    item1 = re.compile(r"^\s*Item 1 of \d: Welcome and confidentiality statement")
    await room.arrived(item1)
    # An item of no case concerns those who run the meeting only: the others keep the base.
    await room.refresh(1, (TOM,))
    await expect(room.card(TOM, item1).get_by_role("button", name="Next")).to_be_visible()
    for name in WATCHERS:
        await expect(
            room.card(name, item1).get_by_role("button", name="Open the chair card")
        ).to_be_visible()
        await expect(room.card(name, item1).get_by_role("button", name="Next")).to_have_count(0)
    await room.settle()
    await room.photograph("chair-1-statement", item1)

    # 5. The unmet actions (CM-…-013's): the core agency's SPOC reads them, the invited
    # agency's SPOC (not invited to CM-…-013) and the referrer the base.
    await tom.click_card_button("Next", room.card(TOM, item1))
    item2 = re.compile(r"^\s*Item 2 of \d: Unmet actions")
    await room.arrived(item2)
    await room.refresh(1, (TOM, GEMMA))
    unmet = (ON_13_ASSESSMENT,)
    await _expect_lines(room.card(TOM, item2), unmet, ())
    await _expect_lines(room.card(GEMMA, item2), unmet, (PRIVATE_ONLY,))
    await _no_buttons(room.card(GEMMA, item2))
    for name in (SAM, AISHA):
        await _expect_lines(room.card(name, item2), (PRIVATE_ONLY,), unmet)
    await room.settle()
    await room.photograph("chair-2-unmet-actions", item2)

    # 6. CM-…-014, the case Fire and Rescue was invited to: Tom captures an action for it.
    await tom.click_card_button("Next", room.card(TOM, item2))
    item3 = re.compile(rf"^\s*Item 3 of \d: {case14}")
    await room.arrived(item3)
    await room.refresh(1, listed)
    await room.settle()
    chair = room.card(TOM, item3)
    due = datetime.now(LONDON).date() + timedelta(days=28)
    await tom.click_card_button("Add an action…", chair)
    await tom.fill(chair, "Action", NEW_ACTION)
    await tom.choose(chair, "Owner agency", FIRE)
    await tom.fill_date(chair, "Due by", due.isoformat())
    await tom.click_card_button("Save action", chair)
    agreed = f"Action agreed for {case14}"
    await room.arrived(agreed)
    await expect(room.card(AISHA, item3)).to_contain_text(PRIVATE_ONLY, timeout=STEP * 1000)
    # Two cards changed: the chair card (edited) and the action agreed (posted).
    await room.refresh(2, listed)
    for name in (TOM, GEMMA, SAM):
        await _expect_lines(room.card(name, item3), (NEW_ACTION,), ())
        await _expect_lines(room.card(name, agreed), (NEW_ACTION, FIRE, _label(due)), ())
    for name in (GEMMA, SAM):
        await _no_buttons(room.card(name, item3))
    await expect(room.card(TOM, item3).get_by_role("button", name="Next")).to_be_visible()
    await _expect_lines(room.card(AISHA, item3), (PRIVATE_ONLY,), (NEW_ACTION,))
    await _expect_lines(room.card(AISHA, agreed), (FIRE,), (NEW_ACTION,))
    await room.settle()
    await room.photograph("chair-3-invited-case", item3)
    await room.photograph("action-agreed", agreed)

    # 7. CM-…-013 for review: Gemma reads it, Sam the base.
    await tom.click_card_button("Next", room.card(TOM, item3))
    item4 = re.compile(rf"^\s*Item 4 of \d: {case13}")
    await room.arrived(item4)
    await room.refresh(1, (TOM, GEMMA))
    await _expect_lines(room.card(GEMMA, item4), (ON_13_CAMERA,), ())
    for name in (SAM, AISHA):
        await _expect_lines(room.card(name, item4), (PRIVATE_ONLY,), (ON_13_CAMERA,))
    await room.settle()
    await room.photograph("chair-4-review", item4)

    # 8. Tom ends the meeting: each reader's own view lists the actions of their cases.
    await tom.click_card_button("End the meeting", room.card(TOM, item4))
    await room.arrived("Meeting ended")
    await room.refresh(1, listed)
    for name in (TOM, GEMMA, SAM):
        await _expect_lines(room.card(name, "Meeting ended"), (NEW_ACTION,), ())
    await _expect_lines(room.card(AISHA, "Meeting ended"), (), (NEW_ACTION,))
    await room.settle()
    await room.photograph("meeting-ended", "Meeting ended")

    # The audit trail: each case shown in full to someone, as the bot recorded it.
    shown = await _case_views(bot_server.database_url)
    assert shown.get(SAM) == {case14}, shown
    assert shown.get(GEMMA) == {case13, case14}, shown
    assert AISHA not in shown, shown
    assert statement.heading == "Confidentiality statement"
