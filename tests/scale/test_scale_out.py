"""Three real bot processes on one PostgreSQL database behind nginx, all on 127.0.0.1.

The rig (bot/bench/cluster.py): a PostgreSQL database of its own (migrated with `python -m
bot migrate`, the demo panel added with `python -m bot seed-demo`), three `python -m bot
serve` processes in local mode with OUTBOX_LEASE_SECONDS at its least (30), Debian's nginx
in front of them (round robin), and the fake Bot Connector in this process as every
activity's serviceUrl, enforcing Teams' limits (per conversation, and 50/s for the tenant).
Turns go in through nginx as Teams would send them; the connector notes which process sent
each request (the sending socket's owner, from /proc), and each process's access log says
which turns it served.

- A meeting, from the coordinator's agenda to the chair's action, spreads over the three
  and each person gets the right reply in the right conversation.
- 1,100 reminders to 1,000 SPOCs (50 of them get three, queued apart), all three
  dispatching: never more than 50 requests in any sliding second, at least 0.9 of that
  overall, nothing lost, nothing twice, each conversation's in order, each process sent some.
- One process killed (SIGKILL) in the middle of a fan-out: nothing lost, and the copies
  sent twice are only what it had sent without recording it, at most its rows in flight.
- Three coordinators ask for the schedule of a new panel at the same instant, one on each
  process: the six meetings are created once.

Every person and panel here is invented.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from bot.bench.cluster import (
    NGINX,
    Cluster,
    Watch,
    bot_command,
    busiest_second,
    cluster,
    fresh_database,
    watched_connector,
)
from bot.bench.fanout import Fleet, reminder_card, seed_spocs, states
from bot.demo import DEMO_TEAM
from bot.domain.delivery import DeliveryState
from bot.domain.panel import Agency, IsaAcceptance, Member, Panel, Role
from bot.kernel import notify
from bot.teams.outbox import DeliveryPolicy
from cards.kit import Card, card_text
from storage import open_storage
from tests.contract.conftest import POSTGRES_URL, require_postgres
from tests.support import activities as acts
from tests.support import cards
from tests.support.activities import MEETING_CHAT, group_invoke, group_message
from tests.support.world import GEMMA, PRIYA

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterable, Iterator

    from bot.kernel.ports import Storage

pytestmark = pytest.mark.postgres
log = logging.getLogger(__name__)

INSTANCES = 3
LEASE_SECONDS = 30  # the least OUTBOX_LEASE_SECONDS allows
TENANT_RATE = 50  # Teams' per-tenant limit, which the fake connector enforces
SPOCS = 1000
THRICE = 50  # SPOCs who get three reminders, not one


@dataclass
class Rig:
    cluster: Cluster
    watch: Watch
    service_url: str
    storage: Storage


@pytest.fixture(scope="module")
async def rig(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Rig]:
    await require_postgres()
    if not NGINX.exists():
        problem = f"{NGINX} is missing: ./dev.sh test installs Debian's nginx"
        if os.environ.get("CI"):
            pytest.fail(problem)
        pytest.skip(problem)
    directory = tmp_path_factory.mktemp("cluster")
    async with (
        watched_connector() as (watch, service_url),
        fresh_database(POSTGRES_URL, label="scale") as database_url,
    ):
        await bot_command(database_url, "seed-demo")
        async with cluster(
            database_url,
            directory,
            instances=INSTANCES,
            env={"OUTBOX_LEASE_SECONDS": str(LEASE_SECONDS)},
        ) as running:
            watch.track(running.pids())
            storage = open_storage(database_url)
            try:
                yield Rig(running, watch, service_url, storage)
            finally:
                await storage.close()


@pytest.fixture(scope="module")
async def fleet(rig: Rig) -> Fleet:
    """1,000 SPOCs of an invented panel, each with a personal chat with the bot."""
    return await seed_spocs(rig.storage, SPOCS, rig.service_url, now=datetime.now(UTC))


class Teams:
    """Posts activities through nginx as Teams would; what each turn said, and where."""

    def __init__(self, rig: Rig, session: aiohttp.ClientSession) -> None:
        self.rig = rig
        self.session = session
        self.posted = 0

    async def post(self, activity: dict[str, Any]) -> tuple[int, Any]:
        async with self.session.post(self.rig.cluster.messages_url, json=activity) as response:
            body = await response.json() if response.content_type == "application/json" else None
            self.posted += 1
            return response.status, body

    async def message(self, activity: dict[str, Any], conversation: str) -> dict[str, Any]:
        """Post a message; the one reply to it, which must have gone to `conversation`."""
        status, _ = await self.post(activity)
        assert status in (200, 201), status
        replies = [a for a in self.rig.watch.fake.sent if a.get("replyToId") == activity["id"]]
        assert len(replies) == 1, [cards.text(a) for a in replies]
        assert replies[0]["_conversation"] == conversation, replies[0]["_conversation"]
        return replies[0]

    async def click(self, activity: dict[str, Any]) -> Card:
        """Post a card click; the card it answered with."""
        status, body = await self.post(activity)
        assert status == 200, (status, body)
        return cards.card(body)


async def served_by_each(cluster_: Cluster, before: list[int], total: int) -> list[int]:
    """The turns each process served since `before`, once their access logs hold `total`
    (a line is written just after the answer)."""
    for _ in range(50):
        served = [now - then for now, then in zip(cluster_.turns_served(), before, strict=True)]
        if sum(served) >= total:
            return served
        await asyncio.sleep(0.1)
    return served


async def test_a_meeting_through_nginx_is_served_by_every_instance_and_answers_each_person(
    rig: Rig,
) -> None:
    url = rig.service_url
    before = rig.cluster.turns_served()
    priya_chat = f"a:personal-{PRIYA}"
    async with aiohttp.ClientSession() as session:
        teams = Teams(rig, session)
        # The bot is added to the panel's team; Priya (coordinator) asks for the agenda.
        status, _ = await teams.post(acts.bot_installed_in_team(url, team=DEMO_TEAM))
        assert status in (200, 201)
        agenda = await teams.message(acts.personal_message(url, "agenda"), priya_chat)
        agenda_card = cards.card(agenda)
        assert card_text(agenda_card).startswith("Agenda for "), card_text(agenda_card)
        assert "CM-2026-014" in card_text(agenda_card)
        verb, data = cards.press(agenda_card, "Publish agenda")
        published = await teams.click(acts.card_invoke(url, verb, data))
        assert "Published" in card_text(published), card_text(published)

        # Tom (chair) starts the meeting in its chat; Gemma and Tom acknowledge there.
        started = await teams.message(
            group_message(url, "start", who="Tom", meeting=True), MEETING_CHAT
        )
        statement = cards.card(started)
        assert card_text(statement).startswith("Confidentiality statement")
        for who, agency in (("Gemma", "Riverside Homes (Housing)"), ("Tom", "Riverside Police")):
            verb, data = cards.press(statement, "I acknowledge")
            said = await teams.click(group_invoke(url, verb, data, who=who))
            assert f"recorded as attending for {agency}" in card_text(said), card_text(said)

        # Tom walks to the new case and captures an action for housing.
        verb, data = cards.press(statement, "Open the chair card")
        chair = await teams.click(group_invoke(url, verb, data, who="Tom"))
        assert card_text(chair).startswith("Item 1 of 4"), card_text(chair)
        for _ in range(2):
            verb, data = cards.press(chair, "Next")
            chair = await teams.click(group_invoke(url, verb, data, who="Tom"))
        assert card_text(chair).startswith("Item 3 of 4: CM-2026-014 (new case)")
        housing = await _agency_id(rig.storage, "Riverside Homes (Housing)")
        verb, data = cards.press(
            chair, "Save action", description="Fit a door camera.", owner_agency_id=housing
        )
        saved = await teams.click(group_invoke(url, verb, data, who="Tom"))
        assert "Action added for Riverside Homes (Housing)" in card_text(saved)
        verb, data = cards.press(saved, "Next")
        last = await teams.click(group_invoke(url, verb, data, who="Tom"))
        assert card_text(last).startswith("Item 4 of 4"), card_text(last)
        verb, data = cards.press(last, "End the meeting")
        ended = await teams.click(group_invoke(url, verb, data, who="Tom"))
        assert card_text(ended).startswith("Meeting ended"), card_text(ended)

        # Gemma asks for her actions in private: she sees the one just captured.
        gemma_chat = f"a:personal-{GEMMA}"
        listed = await teams.message(
            acts.personal_message(url, "actions", aad=GEMMA, name="Gemma Hartley"), gemma_chat
        )
        assert "Fit a door camera." in cards.text(listed)

    # The draft minutes reach Priya in private, sent by whichever process claimed them.
    draft = await _arrives(rig, priya_chat, "Draft minutes")
    assert rig.watch.sender(rig.watch.fake.sent.index(draft)) is not None

    served = await served_by_each(rig.cluster, before, teams.posted)
    assert sum(served) == teams.posted, (served, teams.posted)
    assert all(n > 0 for n in served), served
    nginx = rig.cluster.nginx
    assert nginx is not None
    assert sorted(nginx.served().values())[0] > 0
    for instance in rig.cluster.instances:
        assert instance.errors() == [], instance.errors()[:3]
    # Nothing of the case reached the team's channel.
    for activity in rig.watch.fake.to_conversation(DEMO_TEAM):
        assert "Margaret" not in cards.text(activity)


async def _agency_id(storage: Storage, name: str) -> str:
    async with storage.unit_of_work() as uow:
        panel = await uow.panels.by_team(DEMO_TEAM)
        assert panel is not None
        agency = await uow.agencies.by_name(panel.id, name)
    assert agency is not None
    return agency.id


async def _arrives(
    rig: Rig, conversation: str, starts: str, within: float = 30.0
) -> dict[str, Any]:
    """The first activity in `conversation` whose text holds `starts`, waiting for it."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while loop.time() < deadline:
        for activity in rig.watch.fake.to_conversation(conversation):
            if starts in cards.text(activity):
                return activity
        await asyncio.sleep(0.2)
    seen = [cards.text(a)[:60] for a in rig.watch.fake.to_conversation(conversation)]
    raise AssertionError(f"nothing starting {starts!r} reached {conversation}: {seen}")


# --- the fan-out --------------------------------------------------------------------------


@dataclass(frozen=True)
class Queued:
    conversation: str
    text: str


async def queue(
    storage: Storage, fleet: Fleet, label: str, spocs: int, thrice: int = 0
) -> dict[str, Queued]:
    """One reminder for each of the first `spocs` SPOCs and two more for the first `thrice`,
    queued in one transaction, the second and third of a conversation some 80 and 160 rows
    after its first (so another process may claim them); what each row says, by its id, in
    the order queued."""
    now = datetime.now(UTC)
    order: list[tuple[int, Member, int, int]] = []
    for n, member in enumerate(fleet.members[:spocs]):
        copies = 3 if n < thrice else 1
        order += [(n * 10 + k * 800, member, k + 1, copies) for k in range(copies)]
    order.sort(key=lambda row: row[0])
    chats = {ref.member_id: ref.conversation_id for ref in fleet.chats}
    by_key: dict[str, Queued] = {}
    async with storage.unit_of_work() as uow:
        for _, member, k, copies in order:
            text = f"{label}: reminder {k} of {copies} for {member.name}"
            key = f"{label}:{member.id}:{k}"
            queued = await notify.card_to_member(
                uow,
                panel_id=fleet.panel.id,
                member_id=member.id,
                card=reminder_card(text),
                key=key,
                now=now,
            )
            assert queued
            by_key[key] = Queued(chats[member.id], text)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        due = await uow.outbox.due(now + timedelta(seconds=1), 1_000_000)
    rows = {d.id: by_key[d.key] for d in due if d.key in by_key}
    assert list(rows.values()) == list(by_key.values())
    return rows


async def row_states(storage: Storage, fleet: Fleet, ids: Iterable[str]) -> dict[str, str]:
    """Each row's state now."""
    found = {}
    async with storage.unit_of_work() as uow:
        for row_id in ids:
            delivery = await uow.outbox.get(fleet.panel.id, row_id)
            found[row_id] = delivery.state.value if delivery is not None else "missing"
    return found


@contextlib.contextmanager
def judge_undisturbed() -> Iterator[None]:
    """While a fan-out is judged, this process's garbage collector does not stop the event
    loop that times the requests: a full collection over the test session's heap paused it
    for up to 0.4 s, and requests that came apart were stamped together (51 to 57 in a
    second, and 429s the bots never caused). The bots freeze their own heaps at start-up."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


class Arrived:
    """The activities of one fan-out the connector accepted, read as they come: each poll
    reads only the new ones, so the judge's own event loop (which also serves the fake
    connector and times its requests) stays free."""

    def __init__(self, watch: Watch, label: str) -> None:
        self.watch = watch
        self.label = f"{label}: "
        self.read_up_to = len(watch.fake.sent)
        self.found: list[tuple[int, Queued]] = []
        self.distinct: set[Queued] = set()

    def poll(self) -> list[tuple[int, Queued]]:
        """Every activity of this fan-out accepted so far: its index and what it was."""
        sent = self.watch.fake.sent
        for n in range(self.read_up_to, len(sent)):
            text = cards.body_text(sent[n])
            if text.startswith(self.label):
                queued = Queued(sent[n]["_conversation"], text)
                self.found.append((n, queued))
                self.distinct.add(queued)
        self.read_up_to = len(sent)
        return self.found

    async def until(self, count: int, within: float) -> list[tuple[int, Queued]]:
        """Once `count` distinct messages have arrived, or the time is up."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        self.poll()
        while len(self.distinct) < count and loop.time() < deadline:
            await asyncio.sleep(0.5)
            self.poll()
        return self.found


async def all_sent(
    storage: Storage, fleet: Fleet, ids: list[str], within: float = 30.0
) -> Counter[str]:
    """The rows' states once all are SENT (or the time is up): outcomes are written just
    after the connector's answer."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    found = await states(storage, fleet.panel.id, ids)
    while found[DeliveryState.SENT.value] < len(ids) and loop.time() < deadline:
        await asyncio.sleep(1)
        found = await states(storage, fleet.panel.id, ids)
    return found


async def test_a_fan_out_of_1100_reminders_by_three_instances_keeps_teams_limits_in_total(
    rig: Rig, fleet: Fleet
) -> None:
    watch = rig.watch
    with judge_undisturbed():
        first_arrival, began = len(watch.arrivals), asyncio.get_running_loop().time()
        arrived = Arrived(watch, "fan-out")
        rows = await queue(rig.storage, fleet, "fan-out", SPOCS, THRICE)
        ids, expected = list(rows), list(rows.values())
        assert len(expected) == SPOCS + 2 * THRICE

        found = await arrived.until(len(expected), within=len(expected) / TENANT_RATE * 3 + 30)
        final = await all_sent(rig.storage, fleet, ids)

    delivered = Counter(q for _, q in found)
    lost = set(expected) - set(delivered)
    twice = {q: n for q, n in delivered.items() if n > 1}
    # Each conversation's reminders arrive in the order they were queued.
    by_chat: dict[str, list[str]] = defaultdict(list)
    for _, q in found:
        by_chat[q.conversation].append(q.text)
    wanted: dict[str, list[str]] = defaultdict(list)
    for q in expected:
        wanted[q.conversation].append(q.text)
    out_of_order = [c for c, texts in wanted.items() if by_chat[c] != texts]
    # The tenant's limit holds in total: in no sliding second do more than 50 requests reach
    # the connector (accepted or not), and the three together use at least 0.9 of it from
    # the first acceptance to the last. A request is timed when this process's event loop
    # gets to it: the figures say how late that loop was at worst, since a late loop (on a
    # machine whose cores are all busy) bunches requests that came apart.
    chats = {ref.conversation_id for ref in fleet.chats}
    sends = [a for a in watch.arrivals[first_arrival:] if a.conversation in chats]
    busiest = busiest_second(sends)
    throttled = sum(1 for a in sends if a.status == 429)
    accepted_at = [watch.fake.accepted_at[n] for n, _ in found]
    rate = (len(accepted_at) - 1) / (max(accepted_at) - min(accepted_at))
    by_instance = Counter(watch.sender(n) for n, _ in found)
    start = min(accepted_at)
    each_second = Counter(int(at - start) for at in accepted_at)
    figures = (
        f"{len(lost)} lost, {len(twice)} sent twice, {len(out_of_order)} conversations out "
        f"of order; busiest second {busiest} requests, {rate:.1f}/s accepted = "
        f"{rate / TENANT_RATE:.2f} of the limit, {throttled} 429s; sent by instance "
        f"{dict(by_instance)}; rows {dict(final)}; accepted in each second "
        f"{[each_second[n] for n in range(max(each_second) + 1)]}; this judge's event loop "
        f"late by {watch.worst_lag(began) * 1000:.0f} ms at worst"
    )
    log.info(figures)
    assert not lost, f"{figures}; e.g. {sorted(lost, key=str)[:3]}"
    assert not twice, f"{figures}; e.g. {list(twice)[:3]}"
    assert final == Counter({DeliveryState.SENT.value: len(ids)}), figures
    assert not out_of_order, f"{figures}; e.g. {by_chat[out_of_order[0]]}"
    assert busiest <= TENANT_RATE, figures
    assert rate >= 0.9 * TENANT_RATE, figures
    assert None not in by_instance, figures
    assert all(by_instance[i] > 0 for i in range(INSTANCES)), figures


async def test_three_coordinators_asking_for_a_new_panels_schedule_at_once_create_each_meeting_once(
    rig: Rig,
) -> None:
    now = datetime.now(UTC)
    suffix = uuid.uuid4().hex[:8]
    panel = Panel(
        name=f"Northgate Community MARAC {suffix}",
        team_id=f"19:northgate-{suffix}@thread.tacv2",
        tenant_id=acts.TENANT,
        created_at=now,
    )
    agency = Agency(panel_id=panel.id, name="Northgate Community Safety")
    coordinators = [
        Member(
            panel_id=panel.id,
            aad_object_id=str(uuid.uuid4()),
            name=name,
            agency_id=agency.id,
            roles=frozenset({Role.COORDINATOR}),
        )
        for name in ("Ines Calder", "Joel Marsh", "Keira Pell")
    ]
    async with rig.storage.unit_of_work() as uow:
        await uow.panels.save(panel)
        await uow.agencies.save(agency)
        for member in coordinators:
            await uow.members.save(member)
            await uow.isa.save(
                IsaAcceptance(
                    panel_id=panel.id,
                    member_id=member.id,
                    version=panel.isa_version,
                    accepted_at=now,
                )
            )
        await uow.commit()

    before = rig.cluster.turns_served()
    async with aiohttp.ClientSession() as session:
        teams = Teams(rig, session)
        asked = [
            acts.personal_message(rig.service_url, "schedule", aad=m.aad_object_id, name=m.name)
            for m in coordinators
        ]
        replies = await asyncio.gather(
            *(
                teams.message(activity, f"a:personal-{m.aad_object_id}")
                for activity, m in zip(asked, coordinators, strict=True)
            )
        )
    served = await served_by_each(rig.cluster, before, len(asked))
    assert served == [1] * INSTANCES, f"the three turns were not one on each process: {served}"

    async with rig.storage.unit_of_work() as uow:
        meetings = await uow.meetings.upcoming(panel.id, now - timedelta(days=1), 100)
    zone = ZoneInfo(panel.timezone)
    days = Counter(m.starts_at.astimezone(zone).date() for m in meetings)
    assert len(days) == 6, sorted(days)
    assert max(days.values()) == 1, f"meetings created twice: {days}"
    first = min(days).strftime("%-d %b %Y")
    for reply in replies:
        assert first in cards.text(reply), cards.text(reply)[:300]
    for instance in rig.cluster.instances:
        assert instance.errors() == [], instance.errors()[:3]


async def test_a_process_killed_in_the_middle_of_a_fan_out_loses_nothing(
    rig: Rig, fleet: Fleet
) -> None:
    """SIGKILL leaves the rows the process had claimed SENDING; once their lease has run
    out (30 s) another process takes them back and sends them. Those it had already sent
    (accepted by the connector, their outcome not yet written) arrive twice: nothing tells
    the others the connector took them. So a copy twice is only ever of a row the killed
    process held when it died: at most its rows in flight (max_in_flight, 100). Measured
    here: none to about 20 (its sends of the last second or so, whose outcomes were still
    waiting for their group commit)."""
    watch = rig.watch
    victim = INSTANCES - 1
    spocs = 600
    since = len(watch.fake.sent)
    arrived = Arrived(watch, "kill")
    rows = await queue(rig.storage, fleet, "kill", spocs)
    expected = list(rows.values())

    loop = asyncio.get_running_loop()
    deadline = loop.time() + 60
    while loop.time() < deadline:
        if sum(watch.sender(n) == victim for n, _ in arrived.poll()) >= 20:
            break
        await asyncio.sleep(0.1)
    await rig.cluster.kill(victim)
    killed_at, kill_time = len(watch.fake.sent), loop.time()
    # Still SENDING just after: the rows it held (and some the others are sending).
    held = {
        rows[row_id]
        for row_id, state in (await row_states(rig.storage, fleet, rows)).items()
        if state == DeliveryState.SENDING.value
    }

    found = await arrived.until(len(expected), within=spocs / TENANT_RATE * 3 + 3 * LEASE_SECONDS)
    final = await all_sent(rig.storage, fleet, list(rows))
    delivered = Counter(q for _, q in found)
    lost = set(expected) - set(delivered)
    senders: dict[Queued, list[tuple[int, int | None]]] = defaultdict(list)
    for n, q in found:
        senders[q].append((n, watch.sender(n)))
    twice = {q: s for q, s in senders.items() if len(s) > 1}
    by_instance = Counter(watch.sender(n) for n, _ in found)
    figures = (
        f"{len(lost)} lost, {len(twice)} arrived twice ({len(held)} rows were SENDING at the "
        f"kill); sent by instance {dict(by_instance)}, {killed_at - since} accepted before "
        f"the kill; rows {dict(final)}"
    )
    log.info(figures)
    assert not lost, f"{figures}; e.g. {sorted(lost, key=str)[:3]}"
    assert final == Counter({DeliveryState.SENT.value: len(rows)}), figures
    assert len(twice) <= DeliveryPolicy().max_in_flight, figures
    for queued, copies in twice.items():
        assert queued in held, (queued, copies, figures)
        (first_n, first_by), *again = sorted(copies)
        # The first copy was the killed process's, before it died (a request still on its
        # way when it died has no sender left to find); the others another's, after.
        assert first_n < killed_at, (copies, figures)
        assert first_by == victim or (
            first_by is None and abs(watch.fake.accepted_at[first_n] - kill_time) < 1
        ), (copies, figures)
        assert all(by not in (victim, None) for _, by in again), (copies, figures)
    assert all(by_instance[i] > 0 for i in range(INSTANCES)), figures

    # Started again, the process serves as before.
    await rig.cluster.start_instance(victim)
    watch.track(rig.cluster.pids())
