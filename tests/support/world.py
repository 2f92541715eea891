"""The one world the tests stand in, and the one way they start the bot.

Service-level tests use a `World`: a storage (in memory, a SQLite file or a PostgreSQL
schema, as asked), a fixed clock at Fri 20 Nov 2026 10:00 UTC, the seeded demo panel
(bot.demo) with its members and agencies looked up by name, the app's `deps`
(bot.app.make_deps) and router, and `request(...)` for a Request as a given member in a given
kind of chat.

Bot-level tests start the real app (bot.app.create_app) behind aiohttp's TestServer with the
fake Bot Connector (tests/support/connector.py): `start_bot`, or `serving` around it. By
default create_app builds the router from the settings it is given, so the download routes
and the features' configuration come from FEATURES as in production.

Every person is invented. The demo panel: Priya Raman coordinator, Tom Okafor chair and
police SPOC, Gemma Hartley housing SPOC, Daniel Reyes housing deputy who accepted only
version 1 of the agreement (version 2 is current), Aisha Bello referrer (Victim Support) who
never accepted it; Sam Stranger is on no panel.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from aiohttp.test_utils import TestClient, TestServer

from bot.app import DISPATCHER, build_router, create_app, make_deps
from bot.demo import DEMO_TEAM, PEOPLE, seed_demo
from bot.domain.action import Action, InformationRequest
from bot.domain.case import Case
from bot.domain.common import FixedClock
from bot.domain.delivery import ConversationKind, ConversationRef, OutgoingDelivery
from bot.domain.meeting import AgendaItem, Meeting
from bot.domain.panel import Agency, IsaAcceptance, Member, Panel
from bot.domain.referral import Referral
from bot.kernel.dispatch import run_command, run_verb
from bot.kernel.router import Caller, Deps, Reply, Request, Router, Where
from bot.settings import Settings
from storage import MemoryStorage, migrate_async, open_storage
from tests.support.connector import ConnectorLimits, FakeConnector, start_connector

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Mapping
    from pathlib import Path

    from aiohttp import ClientResponse, web

    from bot.kernel.ports import Storage

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)  # a Friday; London is on GMT
# Far enough ahead that everything queued is due.
LATER = NOW + timedelta(days=3650)
STRANGER = "9e8d7c6b-0000-4000-8000-00000000abcd"  # Sam Stranger, on no panel
# The demo panel's people by full and first name; Sam Stranger too.
AAD: dict[str, str] = {
    **{person.name: person.aad_object_id for person in PEOPLE},
    **{person.name.split()[0]: person.aad_object_id for person in PEOPLE},
    "Sam Stranger": STRANGER,
    "Sam": STRANGER,
}
NAMES: dict[str, str] = {
    **{person.aad_object_id: person.name for person in PEOPLE},
    STRANGER: "Sam Stranger",
}
PRIYA, TOM, GEMMA, DANIEL, AISHA = (AAD[n] for n in ("Priya", "Tom", "Gemma", "Daniel", "Aisha"))
HOUSING = "Riverside Homes (Housing)"
POLICE = "Riverside Police"
# The demo panel's personal data that must never reach a shared chat.
PERSONAL = ("Margaret", "Ellison", "Kyle", "Dawson", "Rosa", "Lindqvist", "Samuel", "Achebe")


class Backend(StrEnum):
    MEMORY = "memory"
    SQLITE = "sqlite"
    POSTGRES = "postgres"


@asynccontextmanager
async def opened(
    backend: Backend | str = Backend.MEMORY, directory: Path | None = None, *, label: str = "world"
) -> AsyncIterator[Storage]:
    """A fresh storage of the kind asked for: in memory, a migrated SQLite file in
    `directory`, or a migrated PostgreSQL schema of its own (skipped, or failed under CI,
    when the server cannot be reached); closed (and the schema dropped) afterwards."""
    if backend == Backend.MEMORY:
        yield MemoryStorage()
        return
    if backend == Backend.SQLITE:
        assert directory is not None, "a SQLite file needs a directory"
        url = f"sqlite+aiosqlite:///{(directory / 'bot.sqlite3').as_posix()}"
        await migrate_async(url)
        storage = open_storage(url)
        try:
            yield storage
        finally:
            await storage.close()
        return
    from tests.contract.conftest import (
        POSTGRES_URL,
        drop_schema,
        require_postgres,
        unique_schema,
    )

    await require_postgres()
    schema = unique_schema(label)
    await migrate_async(POSTGRES_URL, schema=schema)
    storage = open_storage(POSTGRES_URL, schema=schema)
    try:
        yield storage
    finally:
        await storage.close()
        await drop_schema(schema)


def conversation_of(kind: ConversationKind, aad: str) -> str:
    """The conversation id a kind of chat has in the tests (the demo team for a channel)."""
    return {
        ConversationKind.PERSONAL: f"a:personal-{aad}",
        ConversationKind.CHANNEL: DEMO_TEAM,
        ConversationKind.GROUP_CHAT: "19:group-chat@thread.v2",
        ConversationKind.MEETING: "19:meeting-chat@thread.v2",
    }[kind]


@dataclass
class World:
    """The demo panel in a storage, a fixed clock and the app's router and deps."""

    storage: Storage
    clock: FixedClock
    panel: Panel
    router: Router = field(default_factory=build_router)

    @property
    def deps(self) -> Deps:
        """The app's collaborators (bot.app.make_deps), on this storage and clock."""
        return make_deps(uow=self.storage.unit_of_work, clock=self.clock)

    async def member(self, who: str) -> Member:
        """A member of the panel by name (full or first) or Entra object id."""
        found = await self._find(who)
        assert found is not None, f"{who} is not a member of {self.panel.name}"
        return found

    async def _find(self, who: str) -> Member | None:
        async with self.storage.unit_of_work() as uow:
            found = await uow.members.by_aad(self.panel.id, AAD.get(who, who))
            if found is None:
                found = next(
                    (
                        m
                        for m in await uow.members.all(self.panel.id)
                        if who in (m.name, m.name.split()[0])
                    ),
                    None,
                )
        return found

    async def agency(self, name: str) -> Agency:
        """One of the panel's agencies by name."""
        async with self.storage.unit_of_work() as uow:
            found = await uow.agencies.by_name(self.panel.id, name)
        assert found is not None, name
        return found

    async def case(self, reference: str) -> Case:
        """One of the panel's cases by reference."""
        async with self.storage.unit_of_work() as uow:
            found = await uow.cases.by_reference(self.panel.id, reference)
        assert found is not None, reference
        return found

    async def meetings(self) -> list[Meeting]:
        """The panel's meetings from two months before the demo's today (NOW) on."""
        async with self.storage.unit_of_work() as uow:
            return await uow.meetings.upcoming(self.panel.id, NOW - timedelta(days=60), 50)

    async def next_meeting(self) -> Meeting:
        """The first meeting after the demo's today (NOW), wherever the clock was moved."""
        return next(m for m in await self.meetings() if m.starts_at > NOW)

    async def meeting(self, meeting_id: str) -> Meeting:
        async with self.storage.unit_of_work() as uow:
            found = await uow.meetings.get(self.panel.id, meeting_id)
        assert found is not None, meeting_id
        return found

    async def agenda(self, meeting: Meeting | None = None) -> list[AgendaItem]:
        """The agenda of a meeting (the next one unless told)."""
        meeting = meeting or await self.next_meeting()
        async with self.storage.unit_of_work() as uow:
            return await uow.meetings.agenda(self.panel.id, meeting.id)

    async def request(
        self,
        who: str | Member,
        data: Mapping[str, Any] | None = None,
        *,
        kind: ConversationKind = ConversationKind.PERSONAL,
        args: str = "",
        conversation_id: str | None = None,
    ) -> Request:
        """What the Teams layer would hand a handler: `who` (a member, a name or an Entra
        object id) asking in a kind of chat, with a click's data or a command's arguments;
        the panel as it is stored now, and the membership if `who` is a member."""
        found = who if isinstance(who, Member) else await self._find(who)
        if found is not None:
            aad, name = found.aad_object_id, found.name
        else:
            aad = AAD.get(str(who), str(who))
            name = NAMES.get(aad, str(who))
        async with self.storage.unit_of_work() as uow:
            panel = await uow.panels.get(self.panel.id)
            member = await uow.members.by_aad(self.panel.id, aad)
        return Request(
            caller=Caller(f"29:{aad}", aad, name),
            where=Where(kind, conversation_id or conversation_of(kind, aad)),
            panel=panel if member is not None or kind is ConversationKind.CHANNEL else None,
            member=member,
            args=args,
            data=dict(data or {}),
        )

    async def command(
        self, who: str | Member, text: str, kind: ConversationKind = ConversationKind.PERSONAL
    ) -> Reply:
        """`who` types `text` to the bot; the reply."""
        head, _, args = text.partition(" ")
        request = await self.request(who, kind=kind)
        return await run_command(self.router, request, head, args, self.deps)

    async def click(
        self,
        who: str | Member,
        verb: str,
        data: Mapping[str, Any],
        kind: ConversationKind = ConversationKind.PERSONAL,
    ) -> Reply:
        """`who` clicks a button that sends `verb` with `data`; the reply."""
        request = await self.request(who, kind=kind)
        return await run_verb(
            self.router, request, getattr(verb, "value", verb), dict(data), self.deps
        )

    async def save(self, *records: Any) -> None:
        """Store records of the kinds tests make (in one unit of work)."""
        async with self.storage.unit_of_work() as uow:
            for record in records:
                if isinstance(record, Member):
                    await uow.members.save(record)
                elif isinstance(record, Agency):
                    await uow.agencies.save(record)
                elif isinstance(record, IsaAcceptance):
                    await uow.isa.save(record)
                elif isinstance(record, Case):
                    await uow.cases.save(record)
                elif isinstance(record, Referral):
                    await uow.referrals.save(record)
                elif isinstance(record, Action):
                    await uow.actions.save(record)
                elif isinstance(record, InformationRequest):
                    await uow.information_requests.save(record)
                elif isinstance(record, AgendaItem):
                    await uow.meetings.save_agenda_item(record)
                elif isinstance(record, Meeting):
                    await uow.meetings.save(record)
                elif isinstance(record, ConversationRef):
                    await uow.conversations.save(record)
                elif isinstance(record, OutgoingDelivery):
                    await uow.outbox.save(record)
                elif isinstance(record, Panel):
                    await uow.panels.save(record)
                else:
                    raise TypeError(f"World.save does not store {type(record).__name__}")
            await uow.commit()

    async def accepts_agreement(self, who: str | Member, version: str | None = None) -> None:
        """`who` accepts the panel's agreement (the current version unless told)."""
        member = who if isinstance(who, Member) else await self.member(who)
        accepted = IsaAcceptance(
            panel_id=self.panel.id,
            member_id=member.id,
            version=version or self.panel.isa_version,
            accepted_at=self.clock.now(),
        )
        await self.save(accepted)

    async def add_channel(self, channel_id: str = DEMO_TEAM) -> None:
        """The bot was added to the team: the panel knows its channel and can post there."""
        async with self.storage.unit_of_work() as uow:
            panel = await uow.panels.get(self.panel.id)
            assert panel is not None
            panel.channel_id = channel_id
            await uow.panels.save(panel)
            await uow.conversations.save(
                ConversationRef(
                    panel_id=panel.id,
                    kind=ConversationKind.CHANNEL,
                    conversation_id=channel_id,
                    service_url="https://smba.example/",
                    reference={"conversation": {"id": channel_id}},
                    updated_at=self.clock.now(),
                )
            )
            await uow.commit()
        self.panel = panel

    async def queued(self) -> list[OutgoingDelivery]:
        """Every card queued for delivery, due now or later."""
        async with self.storage.unit_of_work() as uow:
            return await uow.outbox.due(LATER, 10_000)

    async def queued_to(self, who: str | Member) -> list[OutgoingDelivery]:
        """The cards queued for one member."""
        member = who if isinstance(who, Member) else await self.member(who)
        return [d for d in await self.queued() if d.recipient_member_id == member.id]


async def demo_world(
    storage: Storage | None = None,
    clock: FixedClock | None = None,
    *,
    router: Router | None = None,
) -> World:
    """The demo panel seeded into `storage` (a fresh in-memory one unless given)."""
    storage = storage if storage is not None else MemoryStorage()
    clock = clock or FixedClock(NOW)
    await seed_demo(storage.unit_of_work, clock)
    async with storage.unit_of_work() as uow:
        panel = await uow.panels.by_team(DEMO_TEAM)
    assert panel is not None
    return World(storage, clock, panel, router or build_router())


# ---- the real app ---------------------------------------------------------------------------


@dataclass
class Connector:
    """The fake Bot Connector service and the address the bot reaches it at."""

    fake: FakeConnector
    url: str


@asynccontextmanager
async def connecting(limits: ConnectorLimits | None = None) -> AsyncIterator[Connector]:
    """The fake Bot Connector on a free port (with Teams' rate limits unless told)."""
    fake, server, url = await start_connector(limits)
    try:
        yield Connector(fake, url)
    finally:
        await server.close()


@dataclass
class BotUnderTest:
    """The running bot and the fake connector its replies go to."""

    client: TestClient[Any, Any]
    connector: FakeConnector
    service_url: str
    storage: Storage

    async def deliver(self) -> int:
        """Run the outbox dispatcher until nothing is due; returns how many rows it tried."""
        total = 0
        while sent := await self.client.app[DISPATCHER].run_once():
            total += sent
        return total

    async def post(self, activity: dict[str, Any], **headers: str) -> ClientResponse:
        """POST an activity to /api/messages as Teams would."""
        return await self.client.post(
            "/api/messages",
            json=activity,
            headers={"Content-Type": "application/json", **headers},
        )

    def last_card(self) -> dict[str, Any]:
        """The last card the bot sent through the connector."""
        sent = self.connector.cards()
        assert sent, f"no card was sent; texts: {self.connector.texts()}"
        return sent[-1]

    def last_text(self) -> str:
        """The last plain message the bot sent through the connector."""
        said = self.connector.texts()
        assert said, "no message was sent"
        return said[-1]

    async def invoke(self, activity: dict[str, Any]) -> dict[str, Any]:
        """POST an invoke activity; its response's body (the status must be 200)."""
        response = await self.post(activity)
        assert response.status == 200, response.status
        body: dict[str, Any] = await response.json()
        return body


async def serve(app: web.Application, **server: Any) -> TestClient[Any, Any]:
    """An app behind aiohttp's TestServer on a free loopback port; `server` holds options
    for the server (e.g. the access log class `python -m bot serve` uses)."""
    test_server = TestServer(app, host="127.0.0.1")
    if server:
        await test_server.start_server(**server)
    client: TestClient[Any, Any] = TestClient(test_server)
    await client.start_server()
    return client


async def start_bot(
    storage: Storage,
    connector: Connector,
    clock: FixedClock,
    *,
    settings: Settings | None = None,
    router: Router | None = None,
    server: Mapping[str, Any] | None = None,
) -> BotUnderTest:
    """Serve the real app on a free loopback port, delivering only when told (`deliver`).

    Without a router, create_app builds the app's own from `settings`, so the download
    routes and the features' configuration are the ones production has."""
    app = create_app(
        settings or Settings(),
        storage=storage,
        clock=clock,
        router=router,
        deliver_in_background=False,
    )
    client = await serve(app, **dict(server or {}))
    return BotUnderTest(client, connector.fake, connector.url, storage)


@asynccontextmanager
async def serving(
    storage: Storage,
    connector: Connector,
    clock: FixedClock,
    *,
    settings: Settings | None = None,
    router: Router | None = None,
    server: Mapping[str, Any] | None = None,
    demo: bool = True,
) -> AsyncIterator[BotUnderTest]:
    """The demo panel (unless `demo` is False) served by the real app; closed afterwards."""
    if demo:
        await seed_demo(storage.unit_of_work, clock)
    running = await start_bot(
        storage, connector, clock, settings=settings, router=router, server=server
    )
    try:
        yield running
    finally:
        await running.client.close()
