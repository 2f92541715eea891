"""The Graph client against a fake Entra token endpoint and Graph API on 127.0.0.1 (TLS).

The real msal acquires the token (OpenID discovery, then client credentials) and the real
GraphClient creates, moves and deletes the online meetings; the calendar's use cases store
and forget the links in the in-memory storage.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from bot.features.meetings import calendar
from bot.features.meetings.calendar import Calendar, CalendarConfig
from bot.graph import GraphClient, GraphSettings
from bot.kernel.ports import OnlineMeetingDenied, OnlineMeetingError, OnlineMeetingNotFound
from tests.support.fake_graph import (
    CLIENT_ID,
    CLIENT_SECRET,
    ORGANIZER,
    TENANT,
    RunningFakeGraph,
    start_fake_graph,
)
from tests.support.world import NOW, World, demo_world

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from bot.domain.meeting import Meeting

LONDON = ZoneInfo("Europe/London")
STARTS = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)


@dataclass
class Sleeps:
    """Stands in for asyncio.sleep: records the back-off instead of waiting."""

    seconds: list[float] = field(default_factory=list)

    async def __call__(self, delay: float) -> None:
        self.seconds.append(delay)


@pytest.fixture
async def fake(tmp_path: Path) -> AsyncIterator[RunningFakeGraph]:
    running = await start_fake_graph(tmp_path)
    yield running
    await running.server.close()


def settings(fake: RunningFakeGraph, **changes: Any) -> GraphSettings:
    values: dict[str, Any] = {
        "tenant_id": TENANT,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "organizer_user_id": ORGANIZER,
        "authority_host": fake.base_url,
        "graph_url": fake.base_url,
        "ca_bundle": str(fake.ca_bundle),
        "max_attempts": 3,
        "backoff_seconds": 0.5,
        "max_backoff_seconds": 4.0,
    }
    values.update(changes)
    return GraphSettings(**values)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
async def client(fake: RunningFakeGraph, sleeps: Sleeps) -> AsyncIterator[GraphClient]:
    graph = GraphClient(settings(fake), sleep=sleeps)
    yield graph
    await graph.close()


# --- the client on its own ------------------------------------------------------------------


async def test_the_token_comes_from_msal_through_the_token_endpoint(
    fake: RunningFakeGraph, client: GraphClient
) -> None:
    await client.create(subject="s", starts_at=STARTS, ends_at=STARTS + timedelta(hours=2))
    assert fake.fake.discovery_requests == 1
    (token_request,) = fake.fake.token_requests
    assert token_request["grant_type"] == "client_credentials"
    assert token_request["client_id"] == CLIENT_ID
    assert token_request["client_secret"] == CLIENT_SECRET
    assert token_request["scope"] == "https://graph.microsoft.com/.default"
    (call,) = fake.fake.calls
    assert call.authorization in {f"Bearer {t}" for t in fake.fake.issued_tokens}


async def test_the_msal_app_and_its_token_are_reused(
    fake: RunningFakeGraph, client: GraphClient
) -> None:
    for _ in range(3):
        await client.create(subject="s", starts_at=STARTS, ends_at=STARTS + timedelta(hours=1))
    assert fake.fake.discovery_requests == 1
    assert len(fake.fake.token_requests) == 1
    assert len(fake.fake.graph_calls("POST")) == 3


async def test_creating_posts_the_subject_and_utc_times_and_returns_the_join_link(
    fake: RunningFakeGraph, client: GraphClient
) -> None:
    local_start = datetime(2026, 6, 9, 10, 0, tzinfo=LONDON)  # 09:00 UTC in summer
    created = await client.create(
        subject="Community MARAC panel meeting",
        starts_at=local_start,
        ends_at=local_start + timedelta(hours=2),
    )
    (call,) = fake.fake.graph_calls("POST")
    assert call.path == f"/v1.0/users/{ORGANIZER}/onlineMeetings"
    assert call.body == {
        "subject": "Community MARAC panel meeting",
        "startDateTime": "2026-06-09T09:00:00Z",
        "endDateTime": "2026-06-09T11:00:00Z",
    }
    assert created.join_url == f"https://teams.microsoft.com/l/meetup-join/{created.id}"


async def test_a_throttled_call_waits_as_told_then_succeeds(
    fake: RunningFakeGraph, client: GraphClient, sleeps: Sleeps
) -> None:
    fake.fake.fail_next(429, retry_after="2")
    created = await client.create(subject="s", starts_at=STARTS, ends_at=STARTS + timedelta(1))
    assert created.join_url
    assert len(fake.fake.graph_calls("POST")) == 2
    assert sleeps.seconds == [2.0]


async def test_server_errors_are_retried_with_bounded_backoff_then_given_up(
    fake: RunningFakeGraph, client: GraphClient, sleeps: Sleeps
) -> None:
    fake.fake.fail_next(503, times=10)
    with pytest.raises(OnlineMeetingError, match="failed 3 times; last: 503"):
        await client.create(subject="s", starts_at=STARTS, ends_at=STARTS + timedelta(1))
    assert len(fake.fake.graph_calls("POST")) == 3
    assert len(sleeps.seconds) == 2
    assert 0.25 <= sleeps.seconds[0] <= 0.5 and 0.5 <= sleeps.seconds[1] <= 1.0


async def test_a_long_retry_after_is_capped(
    fake: RunningFakeGraph, client: GraphClient, sleeps: Sleeps
) -> None:
    fake.fake.fail_next(429, retry_after="3600")
    await client.create(subject="s", starts_at=STARTS, ends_at=STARTS + timedelta(1))
    assert sleeps.seconds == [4.0]


@pytest.mark.parametrize("status", [400, 409])
async def test_other_client_errors_are_not_retried(
    fake: RunningFakeGraph, client: GraphClient, status: int
) -> None:
    fake.fake.fail_next(status)
    with pytest.raises(OnlineMeetingError, match=f"answered {status} Injected"):
        await client.create(subject="s", starts_at=STARTS, ends_at=STARTS + timedelta(1))
    assert len(fake.fake.graph_calls("POST")) == 1


async def test_forbidden_is_reported_as_denied_without_retrying(
    fake: RunningFakeGraph, client: GraphClient
) -> None:
    fake.fake.fail_next(403)
    with pytest.raises(OnlineMeetingDenied, match="answered 403"):
        await client.create(subject="s", starts_at=STARTS, ends_at=STARTS + timedelta(1))
    assert len(fake.fake.graph_calls("POST")) == 1


async def test_a_wrong_client_secret_is_denied_and_never_shown(
    fake: RunningFakeGraph, sleeps: Sleeps
) -> None:
    graph = GraphClient(settings(fake, client_secret="wrong-secret"), sleep=sleeps)
    try:
        with pytest.raises(OnlineMeetingDenied, match="invalid_client") as denied:
            await graph.create(subject="s", starts_at=STARTS, ends_at=STARTS + timedelta(1))
    finally:
        await graph.close()
    assert "wrong-secret" not in str(denied.value)
    assert "wrong-secret" not in repr(graph.settings)
    assert fake.fake.calls == []


async def test_the_fake_graph_refuses_calls_without_its_token(fake: RunningFakeGraph) -> None:
    url = f"{fake.base_url}/v1.0/users/{ORGANIZER}/onlineMeetings"
    connector = aiohttp.TCPConnector(ssl=False)
    async with (
        aiohttp.ClientSession(connector=connector) as session,
        session.post(url, json={}, headers={"Authorization": "Bearer forged"}) as response,
    ):
        assert response.status == 401


# --- with the calendar's use cases ----------------------------------------------------------


async def meetings(world: World) -> list[Meeting]:
    async with world.storage.unit_of_work() as uow:
        return await uow.meetings.upcoming(world.panel.id, NOW, limit=50)


async def on(world: World, day: date) -> Meeting:
    """The panel's one meeting on `day` (London)."""
    (found,) = [m for m in await meetings(world) if m.starts_at.astimezone(LONDON).date() == day]
    return found


@pytest.fixture
async def demo() -> World:
    """The demo panel in memory (tests/support/world.py)."""
    return await demo_world()


async def test_each_upcoming_meeting_gets_one_teams_meeting_however_often_synced(
    fake: RunningFakeGraph, client: GraphClient, demo: World
) -> None:
    report = await calendar.sync_online_meetings(demo.deps.uow, demo.panel.id, client, NOW)
    assert (report.created, report.failed, report.denied) == (2, 0, False)  # 8 Dec, 12 Jan
    december = await on(demo, date(2026, 12, 8))
    assert december.teams_meeting_id in fake.fake.meetings
    assert december.join_url == fake.fake.meetings[december.teams_meeting_id]["joinWebUrl"]
    again = await calendar.sync_online_meetings(demo.deps.uow, demo.panel.id, client, NOW)
    assert again.created == 0
    assert len(fake.fake.graph_calls("POST")) == 2


async def test_moving_a_meeting_patches_its_teams_meeting(
    fake: RunningFakeGraph, client: GraphClient, demo: World
) -> None:
    feature = Calendar(CalendarConfig(online_meetings=client))
    await feature.sync(demo.deps, demo.panel.id)
    december = await on(demo, date(2026, 12, 8))
    reply = await feature.move(
        await demo.request("Priya"),
        demo.deps,
        demo.panel,
        day=date(2026, 12, 8),
        new_day=date(2026, 12, 10),
        start=None,
    )
    assert "Its Teams meeting is being moved too." in str(reply.card)
    assert fake.fake.graph_calls("PATCH") == []  # after the turn, not during it
    await feature.sync_all(demo.deps)  # the Graph sync job, which the turn woke
    (patch,) = fake.fake.graph_calls("PATCH")
    assert patch.path.endswith(f"/onlineMeetings/{december.teams_meeting_id}")
    assert patch.body == {
        "startDateTime": "2026-12-10T10:00:00Z",
        "endDateTime": "2026-12-10T12:00:00Z",
    }
    moved = await on(demo, date(2026, 12, 10))
    assert moved.join_url == december.join_url


async def test_cancelling_a_meeting_deletes_its_teams_meeting_and_forgets_the_link(
    fake: RunningFakeGraph, client: GraphClient, demo: World
) -> None:
    feature = Calendar(CalendarConfig(online_meetings=client))
    await feature.sync(demo.deps, demo.panel.id)
    january = await on(demo, date(2027, 1, 12))
    await feature.cancel(
        await demo.request("Priya"), demo.deps, demo.panel, day=date(2027, 1, 12), reason="Ill"
    )
    assert fake.fake.graph_calls("DELETE") == []  # after the turn, not during it
    await feature.sync_all(demo.deps)
    (delete,) = fake.fake.graph_calls("DELETE")
    assert delete.path.endswith(f"/onlineMeetings/{january.teams_meeting_id}")
    assert january.teams_meeting_id not in fake.fake.meetings
    cancelled = await on(demo, date(2027, 1, 12))
    assert (cancelled.join_url, cancelled.teams_meeting_id) == (None, None)


async def test_an_online_meeting_already_gone_is_forgotten_all_the_same(
    fake: RunningFakeGraph, client: GraphClient, demo: World
) -> None:
    await calendar.sync_online_meetings(demo.deps.uow, demo.panel.id, client, NOW)
    december = await on(demo, date(2026, 12, 8))
    assert december.teams_meeting_id is not None
    fake.fake.meetings.pop(december.teams_meeting_id)
    with pytest.raises(OnlineMeetingNotFound):
        await client.delete(december.teams_meeting_id)
    assert await calendar.remove_online_meeting(demo.deps.uow, demo.panel.id, december.id, client)
    assert (await on(demo, date(2026, 12, 8))).join_url is None


async def test_forbidden_leaves_the_meetings_without_links_and_says_why_in_the_log(
    fake: RunningFakeGraph, client: GraphClient, demo: World, caplog: pytest.LogCaptureFixture
) -> None:
    fake.fake.fail_next(403, times=5)
    with caplog.at_level(logging.ERROR):
        report = await calendar.sync_online_meetings(demo.deps.uow, demo.panel.id, client, NOW)
    assert report.denied
    assert report.created == 0
    assert len(fake.fake.graph_calls("POST")) == 1  # no point trying the others
    assert all(m.join_url is None for m in await meetings(demo))
    assert "Graph refused to create Teams meetings" in caplog.text
    assert "OnlineMeetings.ReadWrite.All" in caplog.text
    assert CLIENT_SECRET not in caplog.text


async def test_throttling_during_a_sync_still_links_every_meeting(
    fake: RunningFakeGraph, client: GraphClient, demo: World
) -> None:
    fake.fake.fail_next(429, retry_after="0")
    report = await calendar.sync_online_meetings(demo.deps.uow, demo.panel.id, client, NOW)
    assert report.created == 2
    assert len(fake.fake.graph_calls("POST")) == 3
