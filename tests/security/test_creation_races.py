"""Two people (or two windows) creating the same thing at once: one wins, the other is told
plainly, never an IntegrityError or an error reference.

Through the real app on SQLite and PostgreSQL, with the two turns held at a rendezvous just
before each saves, so that both have checked ("no panel for this team yet") before either
writes: the unlucky interleaving, every time. A referral's number comes from the panel's
counter: the two turns are held just before each takes one, so that both ask at once. The
storage's side (a broken unique rule refused as AlreadyExists on every backend) is
test_duplicate_records.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import pytest

from bot.demo import seed_demo
from bot.settings import Settings
from tests.support import governance as g
from tests.support.world import serving

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from bot.domain.common import FixedClock
    from bot.kernel.ports import Storage, UnitOfWork
    from tests.conftest import BotUnderTest, Connector

NEW_TEAM = "19:eastborough-cmarac@thread.tacv2"
NIA = "5a6b7c8d-0000-4000-8000-0000000000e1"
OMAR = "5a6b7c8d-0000-4000-8000-0000000000e2"


class _HeldRepository:
    """A repository whose first `parties` saves wait for each other."""

    def __init__(self, inner: Any, gate: _Gate) -> None:
        self._inner = inner
        self._gate = gate

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def save(self, record: Any) -> None:
        await self._gate.meet()
        await self._inner.save(record)

    async def next(self, panel_id: str, kind: str, year: int) -> int:
        """A counter's next number (the counters repository), taken at the rendezvous."""
        await self._gate.meet()
        number: int = await self._inner.next(panel_id, kind, year)
        return number


class _Gate:
    def __init__(self, parties: int = 2) -> None:
        self._barrier = asyncio.Barrier(parties)
        self._left = parties

    async def meet(self) -> None:
        if self._left <= 0:
            return
        self._left -= 1
        async with asyncio.timeout(10):
            await self._barrier.wait()


class _HeldUnitOfWork:
    def __init__(self, inner: UnitOfWork, repository: str, gate: _Gate) -> None:
        self._inner = inner
        self._repository = repository
        self._gate = gate

    def __getattr__(self, name: str) -> Any:
        found = getattr(self._inner, name)
        return _HeldRepository(found, self._gate) if name == self._repository else found

    async def __aenter__(self) -> _HeldUnitOfWork:
        await self._inner.__aenter__()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self._inner.__aexit__(*exc)


class HeldStorage:
    """The real storage, with saves to one repository held until two turns reach them."""

    def __init__(self, inner: Storage, repository: str) -> None:
        self._inner = inner
        self._repository = repository
        self.gate = _Gate()

    def unit_of_work(self) -> Any:
        return _HeldUnitOfWork(self._inner.unit_of_work(), self._repository, self.gate)

    async def ping(self) -> bool:
        return await self._inner.ping()

    async def close(self) -> None:
        await self._inner.close()


@pytest.fixture
async def held(
    database: Storage, connector: Connector, clock: FixedClock, request: Any
) -> AsyncIterator[BotUnderTest]:
    """The demo panel served by the real app, saves to `request.param` held in pairs."""
    await seed_demo(database.unit_of_work, clock)
    storage = HeldStorage(database, request.param)
    # Both are administrators the council authorised to make a team a panel.
    settings = Settings(panel_admins=frozenset({NIA, OMAR}))
    async with serving(storage, connector, clock, settings=settings, demo=False) as running:  # type: ignore[arg-type]
        yield running


def _no_failure(bot: BotUnderTest) -> None:
    texts = bot.connector.texts()
    assert not any("went wrong" in t for t in texts), texts


async def _references_of(storage: Storage, aad: str) -> list[str]:
    member = await g.member_of(storage, aad)
    async with storage.unit_of_work() as uow:
        drafts = await uow.referrals.by_referrer(member.panel_id, member.id)
    return sorted(d.reference for d in drafts)


@pytest.mark.parametrize("held", ["counters"], indirect=True)
async def test_two_refer_new_at_once_each_get_their_own_draft(held: BotUnderTest) -> None:
    bot = held
    before = await _references_of(bot.storage, g.AISHA)
    first, second = await asyncio.gather(
        bot.post(g.say(bot, "refer new", g.AISHA)), bot.post(g.say(bot, "refer new", g.AISHA))
    )
    assert (first.status, second.status) == (201, 201)
    _no_failure(bot)
    after = await _references_of(bot.storage, g.AISHA)
    assert len(after) == len(before) + 2  # each asked for a new draft and got one
    assert len(bot.connector.cards()) == 2


@pytest.mark.parametrize("held", ["counters"], indirect=True)
async def test_two_referrers_starting_at_once_get_different_references(
    held: BotUnderTest,
) -> None:
    bot = held
    await asyncio.gather(
        bot.post(g.say(bot, "refer new", g.AISHA)), bot.post(g.say(bot, "refer new", g.PRIYA))
    )
    _no_failure(bot)
    mine = set(await _references_of(bot.storage, g.AISHA))
    theirs = set(await _references_of(bot.storage, g.PRIYA))
    assert mine and theirs and not mine & theirs


@pytest.mark.parametrize("held", ["panels"], indirect=True)
async def test_two_setup_at_once_make_one_panel_and_tell_the_other_plainly(
    held: BotUnderTest,
) -> None:
    bot = held
    first, second = await asyncio.gather(
        bot.post(
            g.channel_message(bot.service_url, "setup", aad=NIA, name="Nia Clarke", team=NEW_TEAM)
        ),
        bot.post(
            g.channel_message(bot.service_url, "setup", aad=OMAR, name="Omar Haddad", team=NEW_TEAM)
        ),
    )
    assert (first.status, second.status) == (201, 201)
    _no_failure(bot)
    async with bot.storage.unit_of_work() as uow:
        panel = await uow.panels.by_team(NEW_TEAM)
        assert panel is not None
        members = await uow.members.all(panel.id)
    assert len(members) == 1  # one coordinator: whoever won
    assert len(bot.connector.cards()) == 1  # the winner's "Panel set up"
    (told,) = bot.connector.texts()
    assert told.startswith("Someone else just set this team up as the panel")


@pytest.mark.parametrize("held", ["conversations"], indirect=True)
async def test_the_first_two_messages_of_a_new_chat_at_once_are_both_answered(
    held: BotUnderTest,
) -> None:
    """Each turn keeps the chat's reference; on PostgreSQL both find none and both insert."""
    bot = held
    first, second = (g.say(bot, text, g.AISHA) for text in ("help", "whoami"))
    for activity in (first, second):
        activity["conversation"]["id"] = "a:personal-a-new-chat"
    answers = await asyncio.gather(bot.post(first), bot.post(second))
    assert [a.status for a in answers] == [201, 201]
    _no_failure(bot)
    assert len(bot.connector.sent) == 2
    member = await g.member_of(bot.storage, g.AISHA)
    async with bot.storage.unit_of_work() as uow:
        kept = await uow.conversations.by_conversation(member.panel_id, "a:personal-a-new-chat")
    assert kept is not None
