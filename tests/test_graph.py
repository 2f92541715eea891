"""The Graph client against a fake Entra token endpoint and Graph API on 127.0.0.1 (TLS).

The real msal acquires the token (OpenID discovery, then client credentials) and the real
GraphClient creates, moves and cancels the panel's calendar events (each with its Teams
meeting and attendees), installs the bot into each meeting's chat and for a user; the
calendar's use cases store and forget the links in the in-memory demo panel (Priya Raman
the coordinator, Tom Okafor the chair and the police's SPOC, Gemma Hartley Housing's SPOC,
Daniel Reyes her deputy, Aisha Bello a referrer; every name is invented).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from bot.domain.panel import Member, Role
from bot.features.meetings import calendar
from bot.features.meetings.calendar import Calendar, CalendarConfig
from bot.graph import GraphClient, GraphSettings
from bot.kernel.ports import CalendarDenied, CalendarError, CalendarNotFound, EventRequest
from tests.support.fake_graph import (
    CATALOG_APP_ID,
    CLIENT_ID,
    CLIENT_SECRET,
    MANIFEST_APP_ID,
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
        "teams_app_id": MANIFEST_APP_ID,
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


def event(**changes: Any) -> EventRequest:
    values: dict[str, Any] = {
        "key": "meeting-1",
        "subject": "Community MARAC panel meeting",
        "body": "New referrals are due by Mon 30 Nov 2026, 10:00.",
        "starts_at": STARTS,
        "ends_at": STARTS + timedelta(hours=2),
        "timezone": "Europe/London",
        "attendees": ("priya.raman@riverside.example", "tom.okafor@riverside.example"),
    }
    values.update(changes)
    return EventRequest(**values)


async def test_the_token_comes_from_msal_through_the_token_endpoint(
    fake: RunningFakeGraph, client: GraphClient
) -> None:
    await client.create_event(event())
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
    for n in range(3):
        await client.create_event(event(key=f"meeting-{n}"))
    assert fake.fake.discovery_requests == 1
    assert len(fake.fake.token_requests) == 1
    assert len(fake.fake.graph_calls("POST")) == 3


async def test_an_event_is_posted_in_the_panels_time_zone_with_attendees_and_a_teams_meeting(
    fake: RunningFakeGraph, client: GraphClient
) -> None:
    local_start = datetime(2026, 6, 9, 10, 0, tzinfo=LONDON)  # 09:00 UTC in summer
    created = await client.create_event(
        event(starts_at=local_start, ends_at=local_start + timedelta(hours=2))
    )
    (call,) = fake.fake.graph_calls("POST")
    assert call.path == f"/v1.0/users/{ORGANIZER}/events"
    assert call.body == {
        "subject": "Community MARAC panel meeting",
        "body": {
            "contentType": "text",
            "content": "New referrals are due by Mon 30 Nov 2026, 10:00.",
        },
        "start": {"dateTime": "2026-06-09T10:00:00", "timeZone": "Europe/London"},
        "end": {"dateTime": "2026-06-09T12:00:00", "timeZone": "Europe/London"},
        "attendees": [
            {"emailAddress": {"address": "priya.raman@riverside.example"}, "type": "required"},
            {"emailAddress": {"address": "tom.okafor@riverside.example"}, "type": "required"},
        ],
        "isOnlineMeeting": True,
        "onlineMeetingProvider": "teamsForBusiness",
        "allowNewTimeProposals": False,
        "transactionId": "community-marac-meeting-1",
    }
    assert created.id in fake.fake.events
    assert created.join_url == fake.fake.events[created.id]["onlineMeeting"]["joinUrl"]
    assert created.join_url.startswith("https://teams.microsoft.com/l/meetup-join/")


async def test_a_create_whose_answer_was_lost_is_retried_without_a_second_event(
    fake: RunningFakeGraph, client: GraphClient, sleeps: Sleeps
) -> None:
    fake.fake.lose_event_answers = 1  # Graph made the event, then the gateway timed out
    created = await client.create_event(event())
    assert len(fake.fake.graph_calls("POST")) == 2
    assert list(fake.fake.events) == [created.id]  # the retry got the same event back
    assert len(sleeps.seconds) == 1


async def test_a_throttled_call_waits_as_told_then_succeeds(
    fake: RunningFakeGraph, client: GraphClient, sleeps: Sleeps
) -> None:
    fake.fake.fail_next(429, retry_after="2")
    created = await client.create_event(event())
    assert created.join_url
    assert len(fake.fake.graph_calls("POST")) == 2
    assert sleeps.seconds == [2.0]


async def test_server_errors_are_retried_with_bounded_backoff_then_given_up(
    fake: RunningFakeGraph, client: GraphClient, sleeps: Sleeps
) -> None:
    fake.fake.fail_next(503, times=10)
    with pytest.raises(CalendarError, match="create event failed 3 times; last: 503"):
        await client.create_event(event())
    assert len(fake.fake.graph_calls("POST")) == 3
    assert len(sleeps.seconds) == 2
    assert 0.25 <= sleeps.seconds[0] <= 0.5 and 0.5 <= sleeps.seconds[1] <= 1.0
    assert fake.fake.events == {}


async def test_a_long_retry_after_is_capped(
    fake: RunningFakeGraph, client: GraphClient, sleeps: Sleeps
) -> None:
    fake.fake.fail_next(429, retry_after="3600")
    await client.create_event(event())
    assert sleeps.seconds == [4.0]


@pytest.mark.parametrize("status", [400, 409])
async def test_other_client_errors_are_not_retried(
    fake: RunningFakeGraph, client: GraphClient, status: int
) -> None:
    fake.fake.fail_next(status)
    with pytest.raises(CalendarError, match=f"create event: Graph answered {status} Injected"):
        await client.create_event(event())
    assert len(fake.fake.graph_calls("POST")) == 1


async def test_forbidden_is_reported_as_denied_without_retrying(
    fake: RunningFakeGraph, client: GraphClient
) -> None:
    fake.fake.fail_next(403)
    with pytest.raises(CalendarDenied, match="answered 403"):
        await client.create_event(event())
    assert len(fake.fake.graph_calls("POST")) == 1


async def test_a_wrong_client_secret_is_denied_and_never_shown(
    fake: RunningFakeGraph, sleeps: Sleeps
) -> None:
    graph = GraphClient(settings(fake, client_secret="wrong-secret"), sleep=sleeps)
    try:
        with pytest.raises(CalendarDenied, match="invalid_client") as denied:
            await graph.create_event(event())
    finally:
        await graph.close()
    assert "wrong-secret" not in str(denied.value)
    assert "wrong-secret" not in repr(graph.settings)
    assert fake.fake.calls == []


async def test_the_fake_graph_refuses_calls_without_its_token(fake: RunningFakeGraph) -> None:
    url = f"{fake.base_url}/v1.0/users/{ORGANIZER}/events"
    connector = aiohttp.TCPConnector(ssl=False)
    async with (
        aiohttp.ClientSession(connector=connector) as session,
        session.post(url, json={}, headers={"Authorization": "Bearer forged"}) as response,
    ):
        assert response.status == 401


async def test_moving_an_event_patches_its_local_times_and_cancelling_sends_the_comment(
    fake: RunningFakeGraph, client: GraphClient
) -> None:
    created = await client.create_event(event())
    winter = datetime(2026, 12, 10, 10, 0, tzinfo=LONDON)
    await client.move_event(
        created.id, starts_at=winter, ends_at=winter + timedelta(hours=2), timezone="Europe/London"
    )
    (patch,) = fake.fake.graph_calls("PATCH")
    assert patch.path == f"/v1.0/users/{ORGANIZER}/events/{created.id}"
    assert patch.body == {
        "start": {"dateTime": "2026-12-10T10:00:00", "timeZone": "Europe/London"},
        "end": {"dateTime": "2026-12-10T12:00:00", "timeZone": "Europe/London"},
    }
    await client.cancel_event(created.id, comment="Cancelled.")
    cancel = fake.fake.graph_calls("POST", "/cancel")[0]
    assert cancel.path == f"/v1.0/users/{ORGANIZER}/events/{created.id}/cancel"
    assert cancel.body == {"comment": "Cancelled."}
    assert fake.fake.events[created.id]["isCancelled"]
    fake.fake.events.pop(created.id)
    with pytest.raises(CalendarNotFound):
        await client.cancel_event(created.id, comment="Again.")


async def test_attendees_are_added_and_taken_off_leaving_whom_the_organizer_invited(
    fake: RunningFakeGraph, client: GraphClient
) -> None:
    created = await client.create_event(event())
    guest = {"emailAddress": {"address": "adviser@partner.example"}, "type": "optional"}
    fake.fake.events[created.id]["attendees"].append({**guest, "status": {"response": "none"}})
    changed = await client.update_attendees(
        created.id,
        wanted=("PRIYA.RAMAN@riverside.example", "gemma.hartley@riverside.example"),
        unwanted={"tom.okafor@riverside.example"},
    )
    assert changed
    (read,) = fake.fake.graph_calls("GET", "/events/")
    assert read.query == {"$select": "attendees"}
    (patch,) = fake.fake.graph_calls("PATCH")
    assert patch.body == {
        "attendees": [
            {"emailAddress": {"address": "priya.raman@riverside.example"}, "type": "required"},
            guest,  # the organizer's own guest stays, as they were invited
            {"emailAddress": {"address": "gemma.hartley@riverside.example"}, "type": "required"},
        ]
    }
    again = await client.update_attendees(
        created.id, wanted=("gemma.hartley@riverside.example",), unwanted=set()
    )
    assert not again
    assert len(fake.fake.graph_calls("PATCH")) == 1  # nothing to change: only read


async def test_the_bot_is_installed_for_a_user_through_the_catalog_id_looked_up_once(
    fake: RunningFakeGraph, client: GraphClient
) -> None:
    newcomer, other = "5e6f7a8b-0000-4000-8000-000000000001", "5e6f7a8b-0000-4000-8000-0000000002"
    fake.fake.users |= {newcomer, other}
    await client.install_for_user(newcomer)
    await client.install_for_user(other)
    (lookup,) = fake.fake.graph_calls("GET")
    assert lookup.path == "/v1.0/appCatalogs/teamsApps"
    assert lookup.query == {"$filter": f"externalId eq '{MANIFEST_APP_ID}'"}
    installs = fake.fake.graph_calls("POST", "/teamwork/installedApps")
    assert [c.path for c in installs] == [
        f"/v1.0/users/{newcomer}/teamwork/installedApps",
        f"/v1.0/users/{other}/teamwork/installedApps",
    ]
    assert installs[0].body == {
        "teamsApp@odata.bind": f"{fake.base_url}/v1.0/appCatalogs/teamsApps/{CATALOG_APP_ID}"
    }
    assert fake.fake.user_apps == {newcomer: {CATALOG_APP_ID}, other: {CATALOG_APP_ID}}
    await client.install_for_user(newcomer)  # installed already: Graph's 409 is success
    assert len(fake.fake.graph_calls("POST", "/teamwork/installedApps")) == 3


async def test_a_configured_catalog_id_needs_no_lookup(
    fake: RunningFakeGraph, sleeps: Sleeps
) -> None:
    fake.fake.users.add("5e6f7a8b-0000-4000-8000-000000000003")
    graph = GraphClient(settings(fake, catalog_app_id=CATALOG_APP_ID), sleep=sleeps)
    try:
        await graph.install_for_user("5e6f7a8b-0000-4000-8000-000000000003")
    finally:
        await graph.close()
    assert fake.fake.graph_calls("GET") == []
    assert fake.fake.user_apps["5e6f7a8b-0000-4000-8000-000000000003"] == {CATALOG_APP_ID}


async def test_an_app_missing_from_the_catalog_says_how_to_fix_it(
    fake: RunningFakeGraph, client: GraphClient
) -> None:
    fake.fake.catalog.clear()  # never published to the organisation
    with pytest.raises(CalendarNotFound, match=r"publish it .* or set TEAMS_CATALOG_APP_ID"):
        await client.install_for_user("5e6f7a8b-0000-4000-8000-000000000004")
    assert fake.fake.graph_calls("POST") == []


async def test_the_bot_is_installed_into_a_meetings_chat_found_by_its_join_link(
    fake: RunningFakeGraph, client: GraphClient
) -> None:
    created = await client.create_event(event())
    thread_id = await client.install_in_meeting_chat(created.join_url)
    (find,) = fake.fake.graph_calls("GET", "/onlineMeetings")
    assert find.path == f"/v1.0/users/{ORGANIZER}/onlineMeetings"
    assert find.query == {"$filter": f"JoinWebUrl eq '{created.join_url}'"}
    (install,) = fake.fake.graph_calls("POST", "/chats/")
    assert install.path == f"/v1.0/chats/{thread_id}/installedApps"
    assert fake.fake.chat_apps[thread_id] == {CATALOG_APP_ID}
    assert await client.install_in_meeting_chat(created.join_url) == thread_id  # 409: done
    with pytest.raises(CalendarNotFound, match="no online meeting"):
        await client.install_in_meeting_chat("https://teams.microsoft.com/l/meetup-join/x'y")


async def test_a_bare_online_meeting_made_before_events_is_moved_and_deleted(
    fake: RunningFakeGraph, client: GraphClient
) -> None:
    old = fake.fake._new_online_meeting("s", "2026-12-08T10:00:00Z", "2026-12-08T12:00:00Z")
    await client.move_online_meeting(
        old["id"], starts_at=STARTS + timedelta(days=2), ends_at=STARTS + timedelta(days=2, hours=2)
    )
    (patch,) = fake.fake.graph_calls("PATCH")
    assert patch.body == {
        "startDateTime": "2026-12-10T10:00:00Z",
        "endDateTime": "2026-12-10T12:00:00Z",
    }
    await client.delete_online_meeting(old["id"])
    assert old["id"] not in fake.fake.meetings
    with pytest.raises(CalendarNotFound):
        await client.delete_online_meeting(old["id"])


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


SITTING = [
    "daniel.reyes@riverside.example",
    "gemma.hartley@riverside.example",
    "priya.raman@riverside.example",
    "tom.okafor@riverside.example",
]


def invited(fake: RunningFakeGraph, event_id: str | None) -> list[str]:
    assert event_id is not None
    attendees = fake.fake.events[event_id]["attendees"]
    assert {a["type"] for a in attendees} == {"required"}
    return [a["emailAddress"]["address"] for a in attendees]


async def test_each_upcoming_meeting_gets_one_event_and_the_bot_in_its_chat_however_often_synced(
    fake: RunningFakeGraph, client: GraphClient, demo: World
) -> None:
    feature = Calendar(CalendarConfig(panel_calendar=client))
    # Someone invited but not joined, a referrer (Aisha) and an unusable address: none of
    # them is sent the panel's invitation.
    social_care = await demo.agency("Adult Social Care")
    await demo.save(
        Member(
            panel_id=demo.panel.id,
            aad_object_id="9a8b7c6d-0000-4000-8000-00000000000a",
            name="Lena Fischer",
            email="lena.fischer@riverside.example",
            agency_id=social_care.id,
            roles=frozenset({Role.SPOC}),
            invited=True,
        ),
        Member(
            panel_id=demo.panel.id,
            aad_object_id="9a8b7c6d-0000-4000-8000-00000000000b",
            name="Omar Haddad",
            email="not an address",
            agency_id=social_care.id,
            roles=frozenset({Role.DEPUTY}),
        ),
    )
    report = await feature.sync_all(demo.deps)
    assert (report.created, report.failed, report.denied, report.chats) == (2, 0, False, 2)
    december = await on(demo, date(2026, 12, 8))
    assert december.calendar_event_id in fake.fake.events
    created = fake.fake.events[december.calendar_event_id]
    assert december.join_url == created["onlineMeeting"]["joinUrl"]
    assert created["subject"] == "Community MARAC panel meeting"
    assert created["start"] == {"dateTime": "2026-12-08T10:00:00", "timeZone": "Europe/London"}
    assert created["transactionId"] == f"community-marac-{december.id}"
    assert sorted(invited(fake, december.calendar_event_id)) == SITTING
    # The bot is in the meeting's chat, so `start` and the meeting events reach it.
    assert december.teams_chat_id is not None
    assert fake.fake.chat_apps[december.teams_chat_id] == {CATALOG_APP_ID}
    again = await feature.sync_all(demo.deps)
    assert (again.created, again.chats) == (0, 0)
    assert len(fake.fake.graph_calls("POST", "/events")) == 2
    assert len(fake.fake.graph_calls("POST", "/installedApps")) == 2


async def test_a_member_who_joins_is_invited_and_one_removed_is_taken_off_at_the_next_sync(
    fake: RunningFakeGraph, client: GraphClient, demo: World
) -> None:
    feature = Calendar(CalendarConfig(panel_calendar=client))
    await feature.sync_all(demo.deps)
    assert fake.fake.graph_calls("PATCH") == []  # the invitations were right already
    social_care = await demo.agency("Adult Social Care")
    daniel = await demo.member("Daniel")
    daniel.active = False  # removed from the panel: the join link must stop reaching him
    await demo.save(
        daniel,
        Member(
            panel_id=demo.panel.id,
            aad_object_id="9a8b7c6d-0000-4000-8000-00000000000d",
            name="Marek Nowak",
            email="marek.nowak@riverside.example",
            agency_id=social_care.id,
            roles=frozenset({Role.SPOC}),
        ),
    )
    december = await on(demo, date(2026, 12, 8))
    guest = {"emailAddress": {"address": "adviser@partner.example"}, "type": "optional"}
    fake.fake.events[str(december.calendar_event_id)]["attendees"].append(guest)

    report = await feature.sync_all(demo.deps)

    assert report.invitations == 2  # December's and January's events
    attendees = fake.fake.events[str(december.calendar_event_id)]["attendees"]
    addresses = sorted(a["emailAddress"]["address"] for a in attendees)
    assert addresses == [
        "adviser@partner.example",  # whom the organizer added stays
        "gemma.hartley@riverside.example",
        "marek.nowak@riverside.example",
        "priya.raman@riverside.example",
        "tom.okafor@riverside.example",
    ]
    assert (await feature.sync_all(demo.deps)).invitations == 0


async def test_a_create_lost_on_the_way_back_is_found_again_at_the_next_sync(
    fake: RunningFakeGraph, client: GraphClient, demo: World
) -> None:
    fake.fake.lose_event_answers = 3  # every try of December's create: made, then lost
    first = await calendar.sync_calendar_events(demo.deps.uow, demo.panel.id, client, NOW)
    assert (first.created, first.failed) == (1, 1)
    assert (await on(demo, date(2026, 12, 8))).join_url is None
    assert len(fake.fake.events) == 2  # December's exists in Graph all the same
    second = await calendar.sync_calendar_events(demo.deps.uow, demo.panel.id, client, NOW)
    assert second.created == 1
    assert len(fake.fake.events) == 2  # no second event for December
    december = await on(demo, date(2026, 12, 8))
    assert december.calendar_event_id in fake.fake.events


async def test_moving_a_meeting_patches_its_event(
    fake: RunningFakeGraph, client: GraphClient, demo: World
) -> None:
    feature = Calendar(CalendarConfig(panel_calendar=client))
    await feature.sync(demo.deps, demo.panel.id)
    december = await on(demo, date(2026, 12, 8))
    reply = await feature.move(
        await demo.request("Priya"),
        demo.deps,
        demo.panel,
        day=date(2026, 12, 8),
        new_day=date(2026, 12, 10),
        start=time(14, 0),
    )
    assert "Its Outlook invitation and Teams meeting are being moved too." in str(reply.card)
    assert fake.fake.graph_calls("PATCH") == []  # after the turn, not during it
    await feature.sync_all(demo.deps)  # the Graph sync job, which the turn woke
    (patch,) = fake.fake.graph_calls("PATCH")
    assert patch.path == f"/v1.0/users/{ORGANIZER}/events/{december.calendar_event_id}"
    assert patch.body == {
        "start": {"dateTime": "2026-12-10T14:00:00", "timeZone": "Europe/London"},
        "end": {"dateTime": "2026-12-10T16:00:00", "timeZone": "Europe/London"},
    }
    moved = await on(demo, date(2026, 12, 10))
    assert (moved.join_url, moved.teams_outdated) == (december.join_url, False)


async def test_cancelling_a_meeting_cancels_its_event_for_everyone_and_forgets_the_link(
    fake: RunningFakeGraph, client: GraphClient, demo: World
) -> None:
    feature = Calendar(CalendarConfig(panel_calendar=client))
    await feature.sync(demo.deps, demo.panel.id)
    january = await on(demo, date(2027, 1, 12))
    reply = await feature.cancel(
        await demo.request("Priya"),
        demo.deps,
        demo.panel,
        day=date(2027, 1, 12),
        reason="Chair unwell",
    )
    assert "Its Outlook invitation and Teams meeting are being cancelled too." in str(reply.card)
    assert fake.fake.graph_calls("POST", "/cancel") == []  # after the turn, not during it
    await feature.sync_all(demo.deps)
    (cancel,) = fake.fake.graph_calls("POST", "/cancel")
    assert cancel.path.endswith(f"/events/{january.calendar_event_id}/cancel")
    assert cancel.body == {"comment": calendar.CANCEL_COMMENT}
    assert "unwell" not in json.dumps(cancel.body)  # the reason stays in the audit trail
    assert january.calendar_event_id is not None
    assert fake.fake.events[january.calendar_event_id]["isCancelled"]
    cancelled = await on(demo, date(2027, 1, 12))
    assert (cancelled.join_url, cancelled.calendar_event_id) == (None, None)


async def test_an_event_already_gone_is_forgotten_all_the_same(
    fake: RunningFakeGraph, client: GraphClient, demo: World
) -> None:
    await calendar.sync_calendar_events(demo.deps.uow, demo.panel.id, client, NOW)
    december = await on(demo, date(2026, 12, 8))
    assert december.calendar_event_id is not None
    fake.fake.events.pop(december.calendar_event_id)
    assert await calendar.remove_event(demo.deps.uow, demo.panel.id, december.id, client)
    assert (await on(demo, date(2026, 12, 8))).join_url is None


async def test_forbidden_leaves_the_meetings_without_links_and_says_why_in_the_log(
    fake: RunningFakeGraph, client: GraphClient, demo: World, caplog: pytest.LogCaptureFixture
) -> None:
    fake.fake.fail_next(403, times=5)
    with caplog.at_level(logging.ERROR):
        report = await calendar.sync_calendar_events(demo.deps.uow, demo.panel.id, client, NOW)
    assert report.denied
    assert report.created == 0
    assert len(fake.fake.graph_calls("POST")) == 1  # no point trying the others
    assert all(m.join_url is None for m in await meetings(demo))
    assert "Graph refused to create calendar events" in caplog.text
    assert "Calendars.ReadWrite" in caplog.text
    assert CLIENT_SECRET not in caplog.text


async def test_a_chat_the_bot_may_not_join_is_logged_once_and_tried_again_at_the_next_sync(
    fake: RunningFakeGraph, client: GraphClient, demo: World, caplog: pytest.LogCaptureFixture
) -> None:
    feature = Calendar(CalendarConfig(panel_calendar=client))
    fake.fake.fail_next(403, times=2, path_contains="/chats/")
    with caplog.at_level(logging.WARNING, logger=calendar.__name__):
        first = await feature.sync_all(demo.deps)
        second = await feature.sync_all(demo.deps)
    assert (first.created, first.chats, second.chats) == (2, 0, 0)  # events made all the same
    refusals = [r for r in caplog.records if "install the bot into meeting chats" in r.message]
    assert [r.levelno for r in refusals] == [logging.ERROR]  # once, not at every run
    assert "TeamsAppInstallation.ReadWriteAndConsentSelfForChat.All" in refusals[0].message
    assert all(m.teams_chat_id is None for m in await meetings(demo))
    third = await feature.sync_all(demo.deps)  # the permission granted meanwhile
    assert third.chats == 2
    assert all(m.teams_chat_id for m in await meetings(demo))


async def test_throttling_during_a_sync_still_links_every_meeting(
    fake: RunningFakeGraph, client: GraphClient, demo: World
) -> None:
    fake.fake.fail_next(429, retry_after="0")
    report = await calendar.sync_calendar_events(demo.deps.uow, demo.panel.id, client, NOW)
    assert report.created == 2
    assert len(fake.fake.graph_calls("POST")) == 3
    assert len(fake.fake.events) == 2


async def test_an_urgent_meetings_event_invites_only_the_agencies_concerned(
    fake: RunningFakeGraph, client: GraphClient, demo: World
) -> None:
    """CM-…-014 concerns Housing, the police, Children's Services and Fire and Rescue: Adult
    Social Care's SPOC is not invited; the chair and the coordinator are."""
    social_care = await demo.agency("Adult Social Care")
    await demo.save(
        Member(
            panel_id=demo.panel.id,
            aad_object_id="9a8b7c6d-0000-4000-8000-00000000000c",
            name="Marek Nowak",
            email="marek.nowak@riverside.example",
            agency_id=social_care.id,
            roles=frozenset({Role.SPOC}),
        )
    )
    await demo.add_channel()
    await demo.command("Priya", f"schedule urgent 2026-12-02 14:00 Threats for CM-{NOW.year}-014")
    (urgent,) = [m for m in await meetings(demo) if m.urgent]
    await calendar.sync_calendar_events(demo.deps.uow, demo.panel.id, client, NOW)
    urgent = await demo.meeting(urgent.id)
    created = fake.fake.events[str(urgent.calendar_event_id)]
    assert created["subject"] == "Urgent Community MARAC panel meeting"
    assert sorted(invited(fake, urgent.calendar_event_id)) == SITTING  # no Marek
    december = await on(demo, date(2026, 12, 8))
    assert "marek.nowak@riverside.example" in invited(fake, december.calendar_event_id)
