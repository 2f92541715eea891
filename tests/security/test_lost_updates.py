"""No lost updates (issue 11, finding 9): every click that changes a record carries the
version its card was rendered from, and a save is a compare-and-set on it.

Through the real app and storage, on SQLite and PostgreSQL:
- "Done" on one copy of an action card and "Add an update" on another at the same moment;
- two answers to one information request at the same moment;
- the same clicks seconds apart, from a card that was out of date by then.
Each time exactly one wins, the other person gets the card as it is now with a line saying
what changed meanwhile and what they typed, kept; the stored state is one coherent outcome,
and the audit trail holds both the change and the refusal.

The two concurrent turns are held at a rendezvous as each loads the record (the guard's
look-up, then the handler's), so that both have read the same version before either saves:
the unlucky interleaving, every time. (A rendezvous at the save would deadlock on SQLite,
whose single writer lock the first turn holds from its first write.)
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import pytest

from bot.domain.action import Action, ActionStatus, InformationRequest, RequestStatus
from bot.domain.audit import AuditEvent, AuditVerb
from bot.kernel.versions import STALE_DETAIL
from bot.settings import Settings
from cards.actions import MARK_DONE, SAVE_UPDATE
from cards.info_request import ANSWERED_TITLE, SEND_ANSWER
from cards.kit import Card, card_text
from cards.verbs import VERSION_KEY, Verb
from tests import test_meeting_run_bot as run
from tests.support import activities as acts
from tests.support import cards
from tests.support import governance as g
from tests.support.world import demo_world, serving

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from bot.domain.common import FixedClock
    from bot.kernel.ports import Storage, UnitOfWork
    from tests.conftest import BotUnderTest, Connector

HOUSING = "Riverside Homes (Housing)"
DONE_NOTE = "Camera fitted; tenant shown how to use it."
UPDATE_NOTE = "Fitter booked for Tuesday morning."
GEMMA_ANSWER = "Tenant since 2019; two noise complaints this year."
DANIEL_ANSWER = "Housing officer visited in October; no concerns recorded."
CHANGED = "while you were typing; here it is now."


# --- holding two turns at the load ----------------------------------------------------------


class _Rendezvous:
    """The first `budget` calls wait for each other in pairs (the guard's two look-ups,
    then the handlers' two loads); later calls pass."""

    def __init__(self, budget: int = 4) -> None:
        self._barrier = asyncio.Barrier(2)
        self._left = budget

    async def meet(self) -> None:
        if self._left <= 0:
            return
        self._left -= 1
        async with asyncio.timeout(10):
            await self._barrier.wait()


class _HeldGets:
    def __init__(self, inner: Any, rendezvous: _Rendezvous) -> None:
        self._inner = inner
        self._rendezvous = rendezvous

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def get(self, panel_id: str, record_id: str) -> Any:
        found = await self._inner.get(panel_id, record_id)
        await self._rendezvous.meet()
        return found


class _HeldUnitOfWork:
    def __init__(self, inner: UnitOfWork, storage: HeldStorage) -> None:
        self._inner = inner
        self._storage = storage

    def __getattr__(self, name: str) -> Any:
        found = getattr(self._inner, name)
        if self._storage.holding is not None and name == self._storage.holding:
            return _HeldGets(found, self._storage.rendezvous)
        return found

    async def __aenter__(self) -> _HeldUnitOfWork:
        await self._inner.__aenter__()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self._inner.__aexit__(*exc)


class HeldStorage:
    """The real storage; while `holding` names a repository, its loads meet in pairs."""

    def __init__(self, inner: Storage) -> None:
        self._inner = inner
        self.holding: str | None = None
        self.rendezvous = _Rendezvous()

    def hold(self, repository: str) -> None:
        self.holding, self.rendezvous = repository, _Rendezvous()

    def unit_of_work(self) -> Any:
        return _HeldUnitOfWork(self._inner.unit_of_work(), self)

    async def ping(self) -> bool:
        return await self._inner.ping()

    async def close(self) -> None:
        await self._inner.close()


@pytest.fixture
async def bot_storage(database: Storage, clock: FixedClock) -> Storage:
    """conftest's `bot` on SQLite and PostgreSQL, held at the rendezvous; Daniel (Housing's
    deputy) has accepted the current agreement, so that both of Housing's contacts may
    answer for it."""
    world = await demo_world(database, clock)
    await world.accepts_agreement("Daniel")
    return HeldStorage(database)  # type: ignore[return-value]


def held(bot: BotUnderTest) -> HeldStorage:
    assert isinstance(bot.storage, HeldStorage)
    return bot.storage


# --- helpers ------------------------------------------------------------------------------


async def housing_action(bot: BotUnderTest) -> Action:
    gemma = await g.member_of(bot.storage, g.GEMMA)
    async with bot.storage.unit_of_work() as uow:
        (action,) = await uow.actions.open_for_agency(gemma.panel_id, gemma.agency_id or "")
    return action


async def stored_action(bot: BotUnderTest, action_id: str) -> Action:
    panel = await g.demo_panel(bot.storage)
    async with bot.storage.unit_of_work() as uow:
        action = await uow.actions.get(panel.id, action_id)
    assert action is not None
    return action


async def housing_request(bot: BotUnderTest) -> InformationRequest:
    gemma = await g.member_of(bot.storage, g.GEMMA)
    async with bot.storage.unit_of_work() as uow:
        (request, *_) = await uow.information_requests.open_for_agency(
            gemma.panel_id, gemma.agency_id or ""
        )
    return request


async def stored_request(bot: BotUnderTest, request_id: str) -> InformationRequest:
    panel = await g.demo_panel(bot.storage)
    async with bot.storage.unit_of_work() as uow:
        request = await uow.information_requests.get(panel.id, request_id)
    assert request is not None
    return request


async def trail(bot: BotUnderTest, entity: str, entity_id: str) -> list[AuditEvent]:
    panel = await g.demo_panel(bot.storage)
    async with bot.storage.unit_of_work() as uow:
        return await uow.audit.for_entity(panel.id, entity, entity_id)


async def gemmas_action_list(bot: BotUnderTest) -> dict[str, Any]:
    """Gemma's `actions` list, as a card in her chat (Housing has one open action)."""
    await g.post(bot, "actions", g.GEMMA)
    card = bot.last_card()
    assert f"Open actions of {HOUSING}" in card_text(card)
    return card


async def request_card(bot: BotUnderTest, aad: str, request_id: str) -> dict[str, Any]:
    """The request card as its Open button gives it to one of Housing's contacts."""
    body = await g.invoke(bot, Verb.INFO_OPEN.value, {"request_id": request_id}, aad=aad)
    card = body["value"]
    assert isinstance(card, dict) and SEND_ANSWER in card_text(card), body
    return card


def no_failure(bot: BotUnderTest, *bodies: dict[str, Any]) -> None:
    for body in bodies:
        assert "went wrong" not in cards.text(body)
    assert not any("went wrong" in t for t in bot.connector.texts())


# --- an action: Done on one copy, Add an update on another ------------------------------------


async def test_done_and_an_update_at_the_same_moment_one_wins_the_other_is_told(
    bot: BotUnderTest,
) -> None:
    first, second = await gemmas_action_list(bot), await gemmas_action_list(bot)
    action = await housing_action(bot)
    assert action.status is ActionStatus.OPEN
    updates_before = len(action.updates)
    done_verb, done = cards.press(first, MARK_DONE, **{"note-0": DONE_NOTE})
    update_verb, update = cards.press(second, SAVE_UPDATE, **{"update-0": UPDATE_NOTE})
    assert done[VERSION_KEY] == update[VERSION_KEY] == action.version

    held(bot).hold("actions")
    done_body, update_body = await asyncio.gather(
        g.invoke(bot, done_verb, done, aad=g.GEMMA),
        g.invoke(bot, update_verb, update, aad=g.DANIEL),
    )
    no_failure(bot, done_body, update_body)

    now = await stored_action(bot, action.id)
    notes = [u.note for u in now.updates]
    shown = {"done": cards.text(done_body), "update": cards.text(update_body)}
    won = "done" if now.status is ActionStatus.DONE else "update"
    lost = "update" if won == "done" else "done"
    # One coherent outcome: the winner's change whole, nothing of the loser's.
    assert now.version == action.version + 1
    assert len(now.updates) == updates_before + 1
    if won == "done":
        assert notes[-1] == DONE_NOTE and UPDATE_NOTE not in notes
        assert "Marked done. Thank you." in shown["done"]
        assert f"This action was marked done by {HOUSING}" in shown["update"]
        # The update typed is not lost: quoted back in her private chat (no box any more).
        assert UPDATE_NOTE in shown["update"]
    else:
        assert now.status is ActionStatus.OPEN
        assert notes[-1] == UPDATE_NOTE and DONE_NOTE not in notes
        assert "Update saved." in shown["update"]
        assert f"This action was given an update by {HOUSING}" in shown["done"]
        assert DONE_NOTE in shown["done"]
    assert CHANGED in shown[lost]
    assert "Nothing of yours was saved" in shown[lost]

    events = await trail(bot, "action", action.id)
    changes = [e for e in events if e.verb is AuditVerb.UPDATE]
    refusals = [e for e in events if e.verb is AuditVerb.REFUSE]
    assert [e.detail for e in changes] == ["done" if won == "done" else "update added"]
    assert [e.detail for e in refusals] == [
        STALE_DETAIL.format(rendered=action.version, current=action.version + 1)
    ]
    loser = await g.member_of(bot.storage, g.DANIEL if won == "done" else g.GEMMA)
    assert refusals[0].actor_member_id == loser.id


async def test_a_click_on_a_card_out_of_date_by_seconds_is_refused_and_keeps_the_text(
    bot: BotUnderTest,
) -> None:
    first, second = await gemmas_action_list(bot), await gemmas_action_list(bot)
    action = await housing_action(bot)
    verb, data = cards.press(first, SAVE_UPDATE, **{"update-0": "Letter sent to the tenant."})
    saved = await g.invoke(bot, verb, data, aad=g.GEMMA)
    assert "Update saved." in cards.text(saved)

    # Later, Daniel adds an update from the other copy, rendered before Gemma's.
    verb, data = cards.press(second, SAVE_UPDATE, **{"update-0": UPDATE_NOTE})
    refused = await g.invoke(bot, verb, data, aad=g.DANIEL)
    shown = cards.text(refused)
    assert f"This action was given an update by {HOUSING} at 10:00 {CHANGED}" in shown
    # The refreshed list shows Gemma's update, and quotes Daniel's text back to him.
    assert "Letter sent to the tenant." in shown
    assert f"You had typed: \u201c{UPDATE_NOTE}\u201d" in shown
    now = await stored_action(bot, action.id)
    assert [u.note for u in now.updates].count(UPDATE_NOTE) == 0
    assert now.version == action.version + 1

    # The refreshed card is current: from it, the update is saved.
    verb, data = cards.press(refused["value"], SAVE_UPDATE, **{"update-0": UPDATE_NOTE})
    assert data[VERSION_KEY] == now.version
    again = await g.invoke(bot, verb, data, aad=g.DANIEL)
    assert "Update saved." in cards.text(again)
    assert (await stored_action(bot, action.id)).updates[-1].note == UPDATE_NOTE


async def test_done_on_a_stale_copy_after_done_reopens_nothing(bot: BotUnderTest) -> None:
    first, second = await gemmas_action_list(bot), await gemmas_action_list(bot)
    action = await housing_action(bot)
    verb, data = cards.press(first, MARK_DONE, **{"note-0": DONE_NOTE})
    assert "Marked done. Thank you." in cards.text(await g.invoke(bot, verb, data, aad=g.GEMMA))
    verb, data = cards.press(second, SAVE_UPDATE, **{"update-0": UPDATE_NOTE})
    shown = cards.text(await g.invoke(bot, verb, data, aad=g.DANIEL))
    assert f"This action was marked done by {HOUSING} at 10:00 {CHANGED}" in shown
    assert UPDATE_NOTE in shown  # quoted back: a done action has no box
    now = await stored_action(bot, action.id)
    assert now.status is ActionStatus.DONE
    assert UPDATE_NOTE not in [u.note for u in now.updates]


# --- an information request: two answers --------------------------------------------------------


async def test_two_answers_to_one_request_at_the_same_moment_one_is_returned_one_is_told(
    bot: BotUnderTest,
) -> None:
    request = await housing_request(bot)
    gemmas = await request_card(bot, g.GEMMA, request.id)
    daniels = await request_card(bot, g.DANIEL, request.id)
    verb, mine = cards.press(gemmas, SEND_ANSWER, answer=GEMMA_ANSWER)
    _, theirs = cards.press(daniels, SEND_ANSWER, answer=DANIEL_ANSWER)
    assert mine[VERSION_KEY] == theirs[VERSION_KEY] == request.version

    held(bot).hold("information_requests")
    gemma_body, daniel_body = await asyncio.gather(
        g.invoke(bot, verb, mine, aad=g.GEMMA), g.invoke(bot, verb, theirs, aad=g.DANIEL)
    )
    no_failure(bot, gemma_body, daniel_body)

    now = await stored_request(bot, request.id)
    assert now.status is RequestStatus.ANSWERED
    assert now.answer in (GEMMA_ANSWER, DANIEL_ANSWER)
    assert now.version == request.version + 1
    won_gemma = now.answer == GEMMA_ANSWER
    winner, loser = (gemma_body, daniel_body) if won_gemma else (daniel_body, gemma_body)
    lost_text = DANIEL_ANSWER if won_gemma else GEMMA_ANSWER
    # Both see the answer that was returned; only the winner is thanked for their own.
    assert ANSWERED_TITLE in cards.text(winner) and CHANGED not in cards.text(winner)
    told = cards.text(loser)
    assert f"This request was answered by {HOUSING}" in told and CHANGED in told
    assert now.answer in told  # the answer returned, as the card shows it
    assert lost_text in told  # and theirs, quoted back to them in private: nothing lost

    events = await trail(bot, "information_request", request.id)
    assert [e.detail for e in events if e.verb is AuditVerb.UPDATE] == ["answered"]
    refusals = [e for e in events if e.verb is AuditVerb.REFUSE]
    assert [e.detail for e in refusals] == [
        STALE_DETAIL.format(rendered=request.version, current=request.version + 1)
    ]
    loser_member = await g.member_of(bot.storage, g.DANIEL if won_gemma else g.GEMMA)
    assert refusals[0].actor_member_id == loser_member.id
    # The coordinators heard of one answer, once.
    notices = [d for d in bot.connector.texts() if "answered the request" in d]
    assert len(notices) <= 1


async def test_an_answer_from_a_card_out_of_date_by_seconds_is_refused(
    bot: BotUnderTest,
) -> None:
    request = await housing_request(bot)
    gemmas = await request_card(bot, g.GEMMA, request.id)
    daniels = await request_card(bot, g.DANIEL, request.id)
    verb, mine = cards.press(gemmas, SEND_ANSWER, answer=GEMMA_ANSWER)
    assert ANSWERED_TITLE in cards.text(await g.invoke(bot, verb, mine, aad=g.GEMMA))
    _, theirs = cards.press(daniels, SEND_ANSWER, answer=DANIEL_ANSWER)
    told = cards.text(await g.invoke(bot, verb, theirs, aad=g.DANIEL))
    assert f"This request was answered by {HOUSING} at 10:00 {CHANGED}" in told
    assert GEMMA_ANSWER in told and DANIEL_ANSWER in told
    now = await stored_request(bot, request.id)
    assert now.answer == GEMMA_ANSWER


# --- the chair card: the chair and the coordinator each with a card -------------------------


@pytest.fixture
async def meeting_bot(
    database: Storage, connector: Connector, clock: FixedClock
) -> AsyncIterator[BotUnderTest]:
    """The demo panel, its agenda published and the meeting started in its chat (as
    tests/test_meeting_run_bot.py has it)."""
    settings = Settings(public_url="https://bot.example.org", ics_signing_secret=run.SECRET)
    async with serving(database, connector, clock, settings=settings) as bot:
        await bot.post(acts.bot_installed_in_team(bot.service_url))
        await bot.post(acts.personal_message(bot.service_url, "agenda"))
        verb, data = cards.press(bot.connector.cards()[-1], "Publish agenda")
        await bot.invoke(acts.card_invoke(bot.service_url, verb, data, name="Priya Raman"))
        await bot.post(run.group_message(bot.service_url, "start", who="Tom", meeting=True))
        yield bot


async def click_in_meeting(
    bot: BotUnderTest, card: Card, title: str, *, who: str, **typed: str
) -> dict[str, Any]:
    """`who` clicks `title` on a card in the meeting's chat; the invoke response's body."""
    verb, data = cards.press(card, title, **typed)
    return await bot.invoke(run.group_invoke(bot.service_url, verb, data, who=who))


async def chair_card_at_the_new_case(bot: BotUnderTest, who: str) -> Card:
    """`who` types chair in the meeting's chat and opens their own view of the card it
    posts (the chat reads the base; Teams would fetch their view by itself)."""
    await bot.post(run.group_message(bot.service_url, "chair", who=who, meeting=True))
    base = bot.connector.to_conversation(run.MEETING_CHAT)[-1]["attachments"][0]["content"]
    card = cards.card(await click_in_meeting(bot, base, "Open the chair card", who=who))
    assert isinstance(card, dict)
    return card


async def test_a_chair_card_older_than_the_meeting_is_refused_with_what_changed(
    meeting_bot: BotUnderTest,
) -> None:
    bot = meeting_bot
    chair = await chair_card_at_the_new_case(bot, "Tom")
    chair = cards.card(await click_in_meeting(bot, chair, "Next", who="Tom"))
    chair = cards.card(await click_in_meeting(bot, chair, "Next", who="Tom"))
    assert card_text(chair).startswith("Item 3 of 4: CM-2026-014 (new case)")
    coordinators = await chair_card_at_the_new_case(bot, "Priya")
    housing = (await g.member_of(bot.storage, g.GEMMA)).agency_id

    # Tom sets the risk level; then Priya, from her card rendered before, the lead agency.
    saved = cards.card(
        await click_in_meeting(bot, chair, "Save risk level", who="Tom", risk_level="high")
    )
    assert "Risk level of CM-2026-014: High." in card_text(saved)
    body = await click_in_meeting(
        bot, coordinators, "Save lead agency", who="Priya", lead_agency_id=housing
    )
    told = card_text(cards.card(body))
    assert f"This item was given a new risk level by Riverside Police at 10:00 {CHANGED}" in told
    assert "Nothing of yours was saved." in told
    panel = await g.demo_panel(bot.storage)
    async with bot.storage.unit_of_work() as uow:
        case = await uow.cases.by_reference(panel.id, g.CASE)
        assert case is not None
        assert case.lead_agency_id != housing  # nothing of the stale click was saved
        meeting_trail = await uow.audit.trail(
            panel.id, [("meeting", chair_meeting(chair))], limit=5
        )
    assert any(
        e.verb is AuditVerb.REFUSE and (e.detail or "").startswith("stale card")
        for e in meeting_trail
    )
    # From the card she was given back, it is saved.
    again = cards.card(
        await click_in_meeting(
            bot, cards.card(body), "Save lead agency", who="Priya", lead_agency_id=housing
        )
    )
    assert f"Lead agency for CM-2026-014: {HOUSING}." in card_text(again)


def chair_meeting(card: Card) -> str:
    meeting_id: str = cards.button(card, "Next")["data"]["meeting_id"]
    return meeting_id
