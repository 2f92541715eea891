"""Faults: the database going away mid-turn, and the bot restarted in the middle of a meeting.

- **The database fails in the middle of a turn.** Priya accepts referral RF-…-0049: one unit
  of work updates the referral, opens the case, lists it on the agenda, asks Housing for
  information, queues cards and writes the audit trail. The database fails at the fourth of
  those writes. On SQLite the failure is injected into the engine (the driver raises the
  error a failing disk or a lost file gives); on PostgreSQL the session's server process is
  killed with `pg_terminate_backend`, so the connection really goes. Either way she is told
  that nothing was changed and to try again, nothing of the turn is stored, and her second
  click, once the database is back, does it all.
- **The database is gone for a while.** Every statement fails: people are told to try again,
  /readyz says 503; when it comes back the bot carries on, with no restart.
- **The process restarts in the middle of a meeting.** Tom starts the meeting and moves the
  chair card to item 2; the app stops; a new app on the same database answers `chair` at
  item 2.

Connector failures during a fan-out (429 with Retry-After, 5xx and time-outs retried, 403
stops, 404 opens a new chat, a send caught in flight when the process dies) are covered by
the delivery tests: tests/test_delivery_failures.py, tests/test_delivery_resume.py,
tests/test_delivery_ratelimit.py, tests/test_outbox_delivery.py and, on PostgreSQL,
tests/test_delivery_postgres.py.
"""

from __future__ import annotations

import asyncio
import sqlite3
from typing import TYPE_CHECKING, Any

import asyncpg
import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.util import await_only

from bot.demo import seed_demo
from bot.domain.referral import ReferralStatus
from bot.features.referrals import triage
from cards.kit import card_text
from storage import SqlStorage, open_storage
from tests.conftest import BotUnderTest, Connector, start_bot
from tests.contract.conftest import POSTGRES_URL
from tests.support import activities as acts
from tests.support import cards
from tests.support.activities import MEETING_CHAT, group_invoke, group_message
from tests.support.world import Backend, opened, serving
from tests.test_triage_bot import REFERENCE, agency_id, triage_card

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable
    from pathlib import Path

    from bot.domain.common import FixedClock
    from bot.kernel.ports import Storage

TRY_AGAIN = "Sorry, something went wrong on my side and nothing was changed. Please try again"
# What the turn may keep when it fails: the id of the activity (so that Teams' redelivery of
# a turn that did not fail is ignored) and the conversation reference, each committed on
# its own before the turn's work starts.
KEPT_BEFORE_THE_WORK = ("processed_activities", "conversation_refs")


@pytest.fixture(autouse=True)
def referrer_not_told(monkeypatch: pytest.MonkeyPatch) -> None:
    """The referrer's notice belongs to the intake feature; not under test here."""

    async def nothing(*_args: Any, **_kwargs: Any) -> None:
        return None

    monkeypatch.setattr(triage, "tell_referrer", nothing)


class Outage:
    """Makes the database fail under the engine: at the first statement that starts with
    `at`, or at every statement while `down`. `fail(connection)` is what failing means: raise
    what the driver would, or kill the connection so the statement meets a dead one."""

    def __init__(self, storage: SqlStorage, fail: Callable[[Any], None]) -> None:
        self.at: str | None = None
        self.down = False
        self.failed = 0
        self._fail = fail
        event.listen(storage.engine.sync_engine, "before_cursor_execute", self._hook)

    def _hook(self, conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        if self.down or (self.at is not None and statement.startswith(self.at)):
            self.at = None  # a statement fails once; `down` fails them all
            self.failed += 1
            self._fail(conn)


def disk_failure(_connection: Any) -> None:
    """What SQLite's driver raises when the file cannot be read or written any more."""
    raise sqlite3.OperationalError("disk I/O error")


async def rows(storage: SqlStorage) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows but the ones a failed turn may keep."""
    async with storage.engine.connect() as conn:
        if storage.dialect == "sqlite":
            names_sql = (
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
            )
        else:
            names_sql = (
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
            )
        names = (await conn.execute(text(names_sql))).scalars().all()
        found = {}
        for name in sorted(names):
            if name in KEPT_BEFORE_THE_WORK:
                continue
            result = await conn.execute(text(f'SELECT * FROM "{name}"'))
            found[name] = sorted((tuple(r) for r in result), key=repr)
    return found


async def accept(bot: BotUnderTest, card: dict[str, Any], housing: str) -> dict[str, Any]:
    _, data = cards.press(card, verb="triage.accept", agency_ids=housing)
    response = await bot.post(acts.card_invoke(bot.service_url, "triage.accept", data))
    assert response.status == 200
    body: dict[str, Any] = await response.json()
    return body


async def referral_status(storage: Storage) -> ReferralStatus:
    async with storage.unit_of_work() as uow:
        panel = await uow.panels.by_team(acts.TEAM)
        assert panel is not None
        referral = await uow.referrals.by_reference(panel.id, REFERENCE)
    assert referral is not None
    return referral.status


async def fail_mid_accept_then_recover(bot: BotUnderTest, outage: Outage) -> None:
    """The scenario both databases run: the fourth write of the accept fails."""
    storage = bot.storage
    assert isinstance(storage, SqlStorage)
    card = await triage_card(bot)
    housing = await agency_id(bot, "Riverside Homes (Housing)")
    before = await rows(storage)

    outage.at = "INSERT INTO information_requests"
    body = await accept(bot, card, housing)

    assert outage.failed == 1
    assert body["type"] == "application/vnd.microsoft.activity.message"
    assert body["value"].startswith(TRY_AGAIN)
    assert await rows(storage) == before, "the failed turn left records behind"
    assert await referral_status(storage) is ReferralStatus.SUBMITTED

    # The database is back: the same click again (a new activity) does it all, once.
    again = await accept(bot, card, housing)
    assert again["type"] == "application/vnd.microsoft.card.adaptive", again
    assert "Accepted as CM-" in card_text(again["value"])
    assert await referral_status(storage) is ReferralStatus.ACCEPTED
    after = await rows(storage)
    assert len(after["cases"]) == len(before["cases"]) + 1
    assert len(after["information_requests"]) == len(before["information_requests"]) + 1


async def test_sqlite_failing_mid_turn_keeps_nothing_of_it_and_the_next_click_works(
    bot: BotUnderTest, caplog: pytest.LogCaptureFixture
) -> None:
    assert isinstance(bot.storage, SqlStorage)
    outage = Outage(bot.storage, disk_failure)
    await fail_mid_accept_then_recover(bot, outage)
    failures = [r for r in caplog.records if r.getMessage().startswith("turn failed")]
    assert len(failures) == 1  # logged once, with the reference the person saw


async def test_while_the_database_is_gone_people_are_told_and_afterwards_it_carries_on(
    bot: BotUnderTest,
) -> None:
    assert isinstance(bot.storage, SqlStorage)
    outage = Outage(bot.storage, disk_failure)
    outage.down = True

    await bot.post(acts.personal_message(bot.service_url, "agenda"))
    assert bot.connector.texts()[-1].startswith(TRY_AGAIN)
    response = await bot.post(acts.card_invoke(bot.service_url, "command", {"command": "help"}))
    assert (await response.json())["value"].startswith(TRY_AGAIN)
    assert (await bot.client.get("/readyz")).status == 503

    outage.down = False
    assert (await bot.client.get("/readyz")).status == 200
    await bot.post(acts.personal_message(bot.service_url, "agenda"))
    assert card_text(bot.connector.cards()[-1]).startswith("Agenda for")


# --- PostgreSQL: the server kills the session mid-turn --------------------------------------


@pytest.fixture
async def postgres_bot(
    tmp_path: Path, connector: Connector, clock: FixedClock
) -> AsyncIterator[BotUnderTest]:
    """The demo panel on a PostgreSQL schema of its own, served by the real app."""
    async with (
        opened(Backend.POSTGRES, tmp_path, label="faults") as storage,
        serving(storage, connector, clock) as bot,
    ):
        yield bot


@pytest.mark.postgres
async def test_postgres_losing_the_connection_mid_turn_keeps_nothing_and_recovers(
    postgres_bot: BotUnderTest,
) -> None:
    storage = postgres_bot.storage
    assert isinstance(storage, SqlStorage)
    url = make_url(POSTGRES_URL)
    killer = await asyncpg.connect(
        host=url.host, port=url.port, user=url.username, database=url.database
    )
    killed: list[int] = []

    def kill_this_session(conn: Any) -> None:
        """Terminate the server process behind the statement's connection, and wait until
        it is gone, so the statement meets a dead connection."""
        pid = conn.connection.driver_connection.get_server_pid()
        await_only(killer.execute("SELECT pg_terminate_backend($1)", pid))
        for _ in range(200):
            alive = await_only(
                killer.fetchval("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid)
            )
            if not alive:
                break
            await_only(asyncio.sleep(0.01))
        killed.append(pid)

    outage = Outage(storage, kill_this_session)
    try:
        await fail_mid_accept_then_recover(postgres_bot, outage)
    finally:
        await killer.close()
    assert len(killed) == 1


# --- a restart in the middle of a meeting ---------------------------------------------------


async def test_after_a_restart_mid_meeting_the_chair_carries_on_where_it_stopped(
    sqlite_storage: Storage, connector: Connector, clock: FixedClock, tmp_path: Path
) -> None:
    await seed_demo(sqlite_storage.unit_of_work, clock)
    bot = await start_bot(sqlite_storage, connector, clock)
    await bot.post(acts.channel_message(bot.service_url, "help"))
    await bot.post(acts.personal_message(bot.service_url, "agenda"))
    verb, data = cards.press(bot.connector.cards()[-1], "Publish agenda")
    await bot.post(acts.card_invoke(bot.service_url, verb, data))
    await bot.post(group_message(bot.service_url, "start", who="Tom", meeting=True))
    confidentiality = bot.connector.to_conversation(MEETING_CHAT)[-1]["attachments"][0]["content"]

    chair = await click_on(bot, confidentiality, "Open the chair card")
    assert card_text(chair).startswith("Item 1 of 4")
    chair = await click_on(bot, chair, "Next")
    assert card_text(chair).startswith("Item 2 of 4: Unmet actions")

    # The process stops: the server, its connections, everything in memory.
    await bot.client.close()
    assert isinstance(sqlite_storage, SqlStorage)
    url = sqlite_storage.engine.url.render_as_string(hide_password=False)
    await sqlite_storage.close()

    reopened = open_storage(url)
    restarted = await start_bot(reopened, connector, clock)
    try:
        await restarted.post(group_message(restarted.service_url, "chair", who="Tom", meeting=True))
        # What the chat reads (the chair's controls are his own view, opened from it).
        card = restarted.connector.to_conversation(MEETING_CHAT)[-1]["attachments"][0]["content"]
        assert card_text(card).startswith("Item 2 of 4: Unmet actions")
        card = await click_on(restarted, card, "Open the chair card")
        after = await click_on(restarted, card, "Next")
        assert card_text(after).startswith("Item 3 of 4")
    finally:
        await restarted.client.close()
        await reopened.close()


async def click_on(bot: BotUnderTest, card: dict[str, Any], label: str) -> dict[str, Any]:
    verb, data = cards.press(card, label)
    return cards.card(await bot.invoke(group_invoke(bot.service_url, verb, data, who="Tom")))
