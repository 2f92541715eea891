"""Download links are capabilities (SECURITY.md, principle 7): signed per purpose,
short-lived, bound to the member and re-checked at download, never logged; secrets rotate.

Issue 11, finding 10: download tokens were written to the access log; the calendar token
never expired and still worked after its member was removed; a non-ASCII token gave a 500.

Everything runs through the real app behind a real aiohttp server on SQLite: the invented
Northbrook panel (tests/support/dataprotection.py) with approved minutes, a subject access
search of its coordinator Nadia, and a housing SPOC, Owen Price; the clock stands at
Fri 20 Nov 2026 10:00 UTC. Every name is invented.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from aiohttp import web
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from yarl import URL

from bot.access_log import AIOHTTP_LOGGERS, PathOnlyAccessLogger, RedactTokens, redact_tokens
from bot.demo import seed_demo
from bot.domain.common import FixedClock
from bot.domain.panel import IsaAcceptance, Member, Role
from bot.domain.retention import SubjectAccessExport
from bot.domain.stats import Quarter
from bot.features.meetings import calendar, minutes, minutes_config
from bot.features.records import dataprotection, dataprotection_config, stats, stats_config
from bot.kernel.feature import Setup
from bot.kernel.links import LIFETIMES, MAX_TOKEN_LENGTH, Links, Purpose
from bot.settings import Settings, SettingsError
from storage import migrate_async, open_storage
from tests.support import activities as acts
from tests.support import cards
from tests.support.dataprotection import History, seed_history
from tests.support.world import serve, start_bot

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from aiohttp.test_utils import TestClient

    from bot.kernel.ports import Storage
    from tests.conftest import Connector

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
PUBLIC_URL = "https://bot.example.org"
NEW_SECRET = "links-test-secret-new-0123456789abcdef"
OLD_SECRET = "links-test-secret-old-0123456789abcdef"
SETTINGS = Settings(public_url=PUBLIC_URL, link_secrets=(NEW_SECRET, OLD_SECRET))
QUARTER = Quarter.parse("2026-Q4")
ROUTES = ("calendar", "minutes", "sar.docx", "sar.json", "stats")


# ---- the world -----------------------------------------------------------------------------


@dataclass
class World:
    client: TestClient[Any, Any]
    storage: Storage
    history: History
    owen: Member  # the housing SPOC
    export: SubjectAccessExport  # Nadia's subject access search
    links: dict[str, str]  # route → Nadia's genuine link (path and query)

    @property
    def panel_id(self) -> str:
        return self.history.panel.id

    async def get(self, path_and_query: str) -> int:
        response = await self.client.get(URL(path_and_query, encoded=True))
        await response.read()
        return response.status

    async def set_member(self, member: Member) -> None:
        async with self.storage.unit_of_work() as uow:
            await uow.members.save(member)
            await uow.commit()


def local(url: str | None) -> str:
    """A link as the test client fetches it: path and query."""
    assert url is not None
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == PUBLIC_URL
    return f"{parts.path}?{parts.query}"


def path_of(link: str) -> str:
    return link.partition("?")[0]


def token_of(link: str) -> str:
    (token,) = parse_qs(urlsplit(link).query)["token"]
    return token


def issued_links(
    settings: Settings, history: History, export: SubjectAccessExport, member_id: str, at: datetime
) -> dict[str, str]:
    """The links each feature issues, built by the features' own functions."""
    panel_id = history.panel.id
    meeting_id = history.old_meeting.id
    sar = dataprotection_config(Setup(settings))
    return {
        "calendar": local(calendar.ics_url(Setup(settings).links(), panel_id, member_id, at)),
        "minutes": local(
            minutes.minutes_url(
                minutes_config(Setup(settings)), panel_id, meeting_id, member_id, at
            )
        ),
        "sar.docx": local(dataprotection.sar_url(sar, export, "docx")),
        "sar.json": local(dataprotection.sar_url(sar, export, "json")),
        "stats": local(
            stats.csv_url(stats_config(Setup(settings)), panel_id, QUARTER, member_id, at)
        ),
    }


# The server options `python -m bot serve` uses.
PATH_ONLY = {"access_log_class": PathOnlyAccessLogger}


@pytest.fixture
async def world(sqlite_storage: Storage, connector: Connector) -> AsyncIterator[World]:
    history = await seed_history(sqlite_storage)
    panel = history.panel
    owen = Member(
        panel_id=panel.id,
        aad_object_id="aad-owen-price",
        name="Owen Price",
        agency_id=history.housing.id,
        roles=frozenset({Role.SPOC}),
    )
    export = SubjectAccessExport(
        panel_id=panel.id,
        member_id=history.coordinator.id,
        name="Rosa Lindqvist",
        date_of_birth=date(1986, 9, 2),
        created_at=NOW,
        expires_at=NOW + LIFETIMES[Purpose.SAR],
    )
    async with sqlite_storage.unit_of_work() as uow:
        await uow.members.save(owen)
        for member in (history.coordinator, owen):
            await uow.isa.save(
                IsaAcceptance(
                    panel_id=panel.id,
                    member_id=member.id,
                    version=panel.isa_version,
                    accepted_at=NOW,
                )
            )
        await uow.data_protection.save_export(export)
        await uow.commit()
    bot = await start_bot(
        sqlite_storage, connector, FixedClock(NOW), settings=SETTINGS, server=PATH_ONLY
    )
    links = issued_links(SETTINGS, history, export, history.coordinator.id, NOW)
    yield World(bot.client, sqlite_storage, history, owen, export, links)
    await bot.client.close()


# ---- the genuine links ---------------------------------------------------------------------


async def test_every_genuine_link_downloads(world: World) -> None:
    for route, link in world.links.items():
        assert await world.get(link) == 200, route


def test_each_purpose_has_its_lifetime() -> None:
    expected = {
        Purpose.CALENDAR: timedelta(days=90),
        Purpose.MINUTES: timedelta(days=7),
        Purpose.SAR: timedelta(hours=24),
        Purpose.STATS: timedelta(days=7),
    }
    assert expected == LIFETIMES


@pytest.mark.parametrize("purpose", list(Purpose))
def test_a_token_works_for_its_lifetime_and_not_a_second_longer(purpose: Purpose) -> None:
    links = Links.of(PUBLIC_URL, [NEW_SECRET])
    token = links.token(purpose, ["panel", "thing"], "member-1", NOW)
    assert links.holder(purpose, ["panel", "thing"], token, NOW) == "member-1"
    end = NOW + LIFETIMES[purpose]
    assert links.holder(purpose, ["panel", "thing"], token, end) == "member-1"
    assert links.holder(purpose, ["panel", "thing"], token, end + timedelta(seconds=1)) is None
    # Issued "in the future" (a clock set back, or a forged time): refused as well.
    assert links.holder(purpose, ["panel", "thing"], token, NOW - timedelta(seconds=1)) is None


# ---- finding 10: the calendar link expires and dies with the membership --------------------


async def test_the_calendar_link_expires_after_ninety_days(world: World) -> None:
    old = issued_links(
        SETTINGS,
        world.history,
        world.export,
        world.history.coordinator.id,
        NOW - LIFETIMES[Purpose.CALENDAR] - timedelta(seconds=1),
    )
    assert await world.get(old["calendar"]) == 404
    fresh = issued_links(
        SETTINGS,
        world.history,
        world.export,
        world.history.coordinator.id,
        NOW - LIFETIMES[Purpose.CALENDAR] + timedelta(hours=1),
    )
    assert await world.get(fresh["calendar"]) == 200


async def test_a_removed_members_calendar_link_stops_working(world: World) -> None:
    link = issued_links(SETTINGS, world.history, world.export, world.owen.id, NOW)["calendar"]
    assert await world.get(link) == 200
    await world.set_member(replace(world.owen, active=False))  # what `members` remove does
    assert await world.get(link) == 404


async def test_a_calendar_link_names_its_member(world: World) -> None:
    links = Setup(SETTINGS).links()
    panel_id = world.panel_id
    # Signed with our own secret, but for someone who is no member of this panel.
    stranger = links.url(
        Purpose.CALENDAR, calendar.ics_path(panel_id), (panel_id,), "not-a-member", NOW
    )
    assert await world.get(local(stranger)) == 404
    # And a member's link opens only the panel it was issued for.
    other_panel = links.url(
        Purpose.CALENDAR, calendar.ics_path("another-panel"), (panel_id,), world.owen.id, NOW
    )
    assert await world.get(local(other_panel)) == 404


async def test_every_link_dies_with_its_members_membership(world: World) -> None:
    await world.set_member(replace(world.history.coordinator, active=False))
    for route, link in world.links.items():
        assert await world.get(link) == 404, route


async def test_a_coordinator_no_longer_one_keeps_only_what_a_spoc_may_download(
    world: World,
) -> None:
    demoted = replace(world.history.coordinator, roles=frozenset({Role.SPOC}))
    await world.set_member(demoted)
    got = {route: await world.get(link) for route, link in world.links.items()}
    assert got == {
        "calendar": 200,
        "minutes": 200,  # SPOCs receive the minutes
        "sar.docx": 404,  # subject access is the coordinator's
        "sar.json": 404,
        "stats": 404,  # statistics are the coordinator's and the chair's
    }


async def test_a_minutes_link_needs_a_member_who_may_still_read_case_summaries(
    world: World,
) -> None:
    link = issued_links(SETTINGS, world.history, world.export, world.owen.id, NOW)["minutes"]
    assert await world.get(link) == 200
    await world.set_member(replace(world.owen, roles=frozenset()))  # no role left on the panel
    assert await world.get(link) == 404


# ---- finding 10: a bad token is a 404, never a 500 ------------------------------------------


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(
    "raw",
    [
        "%C3%A9",  # é
        "%E2%80%94" * 40,  # em dashes
        "caf%C3%A9." + "A" * 40,
        "%00",
        "%FF%FE",  # not UTF-8 at all
        "%F0%9F%94%91",  # an emoji
    ],
)
async def test_a_non_ascii_token_is_a_404_not_a_500(world: World, route: str, raw: str) -> None:
    assert await world.get(f"{path_of(world.links[route])}?token={raw}") == 404


def tampered(token: str) -> str:
    """The payload with one character changed (a leading dot marks a compressed one)."""
    lead = "." if token.startswith(".") else ""
    payload, dot, rest = token.removeprefix(lead).partition(".")
    middle = len(payload) // 2
    changed = "B" if payload[middle] != "B" else "C"
    return lead + payload[:middle] + changed + payload[middle + 1 :] + dot + rest


@pytest.mark.parametrize("route", ROUTES)
async def test_every_kind_of_bad_token_is_a_404(world: World, route: str) -> None:
    link = world.links[route]
    path, token = path_of(link), token_of(link)
    nadia = world.history.coordinator.id
    unknown = Settings(public_url=PUBLIC_URL, link_secrets=("s" * 40,))
    expired = NOW - timedelta(days=91)
    wrong_purpose = next(token_of(other) for name, other in world.links.items() if name != route)
    bad = {
        "no token": path,
        "empty": f"{path}?token=",
        "huge": f"{path}?token={'A' * (MAX_TOKEN_LENGTH * 10)}",
        "just over the limit": f"{path}?token={token}{'A' * (MAX_TOKEN_LENGTH - len(token) + 1)}",
        "truncated": f"{path}?token={token[:-3]}",
        "half": f"{path}?token={token[: len(token) // 2]}",
        "tampered payload": f"{path}?token={tampered(token)}",
        "tampered signature": f"{path}?token={token[:-1]}{'A' if token[-1] != 'A' else 'B'}",
        "another link's token": f"{path}?token={wrong_purpose}",
        "expired": issued_links(SETTINGS, world.history, world.export, nadia, expired)[route],
        "issued in the future": issued_links(
            SETTINGS, world.history, world.export, nadia, NOW + timedelta(minutes=5)
        )[route],
        "unknown secret": issued_links(unknown, world.history, world.export, nadia, NOW)[route],
        "two tokens": f"{path}?token=x&token={token}",
        "dots only": f"{path}?token=...",
    }
    if route.startswith("sar"):
        # the export was made at NOW: its links cannot be issued at other times
        bad.pop("expired")
        bad.pop("issued in the future")
    for what, wrong in bad.items():
        assert await world.get(wrong) == 404, what
    assert await world.get(link) == 200


async def test_a_calendar_token_does_not_open_the_minutes(world: World) -> None:
    """The same subject and member, signed for another purpose: the salt tells them apart."""
    links = Setup(SETTINGS).links()
    panel_id, meeting_id = world.panel_id, world.history.old_meeting.id
    nadia = world.history.coordinator.id
    path = minutes.minutes_path(panel_id, meeting_id)
    for purpose in (Purpose.CALENDAR, Purpose.SAR, Purpose.STATS):
        forged = links.token(purpose, (panel_id, meeting_id), nadia, NOW)
        assert await world.get(f"{path}?token={forged}") == 404, purpose
    genuine = links.token(Purpose.MINUTES, (panel_id, meeting_id), nadia, NOW)
    assert await world.get(f"{path}?token={genuine}") == 200


def _mutate(token: str, at: int, char: str, how: str) -> str:
    at %= len(token) + 1
    if how == "cut":
        return token[:at]
    if how == "replace":
        return token[:at] + char + token[at + 1 :]
    if how == "insert":
        return token[:at] + char + token[at:]
    return token + char


TOKEN_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."


@settings(
    max_examples=120,
    deadline=timedelta(seconds=10),
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
@example(data=None)  # the genuine tokens themselves
async def test_arbitrary_tokens_on_every_route_are_404_or_the_genuine_200(
    world: World, data: st.DataObject | None
) -> None:
    genuine = {route: token_of(link) for route, link in world.links.items()}
    if data is None:
        candidates = list(genuine.values())
    else:
        any_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=700)
        token_like = st.text(st.sampled_from(TOKEN_CHARS), max_size=300)
        near_genuine = st.builds(
            _mutate,
            st.sampled_from(sorted(genuine.values())),
            st.integers(0, 400),
            st.characters(exclude_categories=("Cs",)),
            st.sampled_from(["cut", "replace", "insert", "append"]),
        )
        candidates = [data.draw(st.one_of(any_text, token_like, near_genuine), label="token")]
    for token in candidates:
        for route, link in world.links.items():
            status = await world.get(f"{path_of(link)}?token={quote(token, safe='')}")
            assert status == (200 if token == genuine[route] else 404), (route, token)


@settings(
    max_examples=60,
    deadline=timedelta(seconds=10),
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(raw=st.binary(max_size=120))
async def test_any_bytes_percent_encoded_in_the_query_are_a_404(world: World, raw: bytes) -> None:
    encoded = "".join(f"%{byte:02X}" for byte in raw)
    for route, link in world.links.items():
        assert await world.get(f"{path_of(link)}?token={encoded}") == 404, route


# ---- rotation -----------------------------------------------------------------------------


async def test_secrets_rotate_the_first_signs_and_every_one_verifies(
    sqlite_storage: Storage, connector: Connector, world: World
) -> None:
    nadia = world.history.coordinator.id
    before = Settings(public_url=PUBLIC_URL, link_secrets=(OLD_SECRET,))
    old_links = issued_links(before, world.history, world.export, nadia, NOW)
    # The app runs with NEW_SECRET first and OLD_SECRET still listed: old links still work.
    for route, link in old_links.items():
        assert await world.get(link) == 200, route
    # New links are signed with the first secret alone.
    only_new = Setup(Settings(public_url=PUBLIC_URL, link_secrets=(NEW_SECRET,))).links()
    panel_id = world.panel_id
    (token,) = parse_qs(urlsplit(world.links["calendar"]).query)["token"]
    assert only_new.holder(Purpose.CALENDAR, (panel_id,), token, NOW) == nadia
    # Once OLD_SECRET is dropped, the old links stop.
    after = Settings(public_url=PUBLIC_URL, link_secrets=(NEW_SECRET,))
    rotated = await start_bot(
        sqlite_storage, connector, FixedClock(NOW), settings=after, server=PATH_ONLY
    )
    client = rotated.client
    try:
        for route, link in old_links.items():
            response = await client.get(URL(link, encoded=True))
            assert response.status == 404, route
        response = await client.get(URL(world.links["calendar"], encoded=True))
        assert response.status == 200
    finally:
        await client.close()


def test_link_secrets_are_read_newest_first_and_fall_back_to_the_ics_secret() -> None:
    env = {"LINK_SECRETS": f" {NEW_SECRET} , {OLD_SECRET} ,", "ICS_SIGNING_SECRET": "legacy"}
    read = Settings.from_env(env, dotenv=None)
    assert read.download_secrets == (NEW_SECRET, OLD_SECRET)
    legacy = Settings.from_env({"ICS_SIGNING_SECRET": "legacy"}, dotenv=None)
    assert legacy.download_secrets == ("legacy",)  # deployments from before LINK_SECRETS
    assert Settings.from_env({}, dotenv=None).download_secrets == ()
    assert "links-test-secret" not in repr(read)


def test_a_short_link_secret_stops_the_start() -> None:
    with pytest.raises(SettingsError, match="LINK_SECRETS"):
        Settings.from_env({"LINK_SECRETS": f"{NEW_SECRET},short"}, dotenv=None)


def test_one_link_has_one_token() -> None:
    """Base64's spare bits: changing the last character of any part of a token, to any
    other character, never gives a second token that opens the same link."""
    links = Links.of(PUBLIC_URL, [NEW_SECRET])
    for n in range(20):
        subject, member = (f"panel-{n:04d}-{'x' * n}",), f"member-{n}"
        token = links.token(Purpose.CALENDAR, subject, member, NOW)
        assert links.holder(Purpose.CALENDAR, subject, token, NOW) == member
        ends = [i - 1 for i, char in enumerate(token) if char == "." and i > 0] + [len(token) - 1]
        for end in ends:
            for char in TOKEN_CHARS.replace(".", ""):
                if char != token[end]:
                    changed = token[:end] + char + token[end + 1 :]
                    assert links.holder(Purpose.CALENDAR, subject, changed, NOW) is None


def test_without_a_secret_or_an_address_there_are_no_links() -> None:
    assert Links.of(PUBLIC_URL, []).url(Purpose.CALENDAR, "/x", ("p",), "m", NOW) is None
    assert Links.of("", [NEW_SECRET]).url(Purpose.CALENDAR, "/x", ("p",), "m", NOW) is None
    token = Links.of(PUBLIC_URL, [NEW_SECRET]).token(Purpose.CALENDAR, ("p",), "m", NOW)
    assert Links().holder(Purpose.CALENDAR, ("p",), token, NOW) is None


# ---- never logged --------------------------------------------------------------------------


@dataclass
class Served:
    app: web.Application
    options: dict[str, Any]


@pytest.fixture
def served_by_main(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, sqlite_storage: Storage
) -> list[Served]:
    """`python -m bot serve` run for real up to `web.run_app`, which records its app and
    options instead of serving (the app is then served by the test with those options)."""
    monkeypatch.chdir(tmp_path)
    for name in ("APP_ID", "MicrosoftAppId", "APP_PASSWORD", "MicrosoftAppPassword", "HOST"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LINK_SECRETS", f"{NEW_SECRET},{OLD_SECRET}")
    monkeypatch.setenv("PUBLIC_URL", PUBLIC_URL)
    calls: list[Served] = []

    def run_app(app: web.Application, **options: Any) -> None:
        calls.append(Served(app, options))

    monkeypatch.setattr(web, "run_app", run_app)
    return calls


def records_text(records: list[logging.LogRecord]) -> str:
    """Everything a log handler could write of these records: message, args, extras."""
    return "\n".join(
        f"{record.getMessage()} {record.args!r} {record.__dict__!r} {record.exc_text or ''}"
        for record in records
    )


async def test_the_served_app_logs_requests_without_their_query(
    served_by_main: list[Served],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = f"sqlite+aiosqlite:///{(tmp_path / 'served.sqlite3').as_posix()}"
    await migrate_async(url)
    storage = open_storage(url)
    try:
        history = await seed_history(storage)
    finally:
        await storage.close()
    monkeypatch.setenv("DATABASE_URL", url)
    from bot.__main__ import main

    for name in AIOHTTP_LOGGERS:
        monkeypatch.setattr(logging.getLogger(name), "filters", [])
    assert main(["serve", "--host", "127.0.0.1", "--port", "3978"]) == 0
    (served,) = served_by_main
    for name in AIOHTTP_LOGGERS:
        assert any(isinstance(f, RedactTokens) for f in logging.getLogger(name).filters)
    options = {k: v for k, v in served.options.items() if k not in {"host", "port", "print"}}
    assert options.get("access_log_class") is PathOnlyAccessLogger
    # The served app's clock is the system's: issue the link now.
    now = datetime.now(UTC)
    links = Setup(SETTINGS).links()
    link = local(calendar.ics_url(links, history.panel.id, history.coordinator.id, now))
    token = token_of(link)
    client = await serve(served.app, **options)
    try:
        with caplog.at_level(logging.DEBUG, logger="aiohttp.access"):
            ok = await client.get(URL(link, encoded=True))
            assert ok.status == 200
            refused = await client.get(URL(f"{path_of(link)}?token={token[:-2]}", encoded=True))
            assert refused.status == 404
    finally:
        await client.close()
    access = [r for r in caplog.records if r.name == "aiohttp.access"]
    assert len(access) == 2
    logged = records_text(access)
    assert path_of(link) in logged and " 200 " in logged and " 404 " in logged
    assert token not in logged and token[:-2] not in logged and "token=" not in logged


@pytest.fixture
def redacted(monkeypatch: pytest.MonkeyPatch) -> None:
    """aiohttp's loggers with the filter `python -m bot serve` installs (undone after)."""
    for name in AIOHTTP_LOGGERS:
        monkeypatch.setattr(logging.getLogger(name), "filters", [])
    redact_tokens()


async def test_a_request_line_too_long_is_refused_without_logging_its_token(
    world: World, redacted: None, caplog: pytest.LogCaptureFixture
) -> None:
    """aiohttp refuses a request line over 8 KiB before any handler, and logs the first
    bytes of it as an error: the token there is blanked."""
    link = world.links["calendar"]
    with caplog.at_level(logging.DEBUG):
        assert await world.get(link + "A" * 9000) == 400
        assert await world.get(link) == 200
    assert any("LineTooLong" in (r.exc_text or "") for r in caplog.records)
    assert token_of(link) not in records_text(caplog.records)


async def test_aiohttps_default_access_log_would_have_logged_the_token(
    world: World, connector: Connector, caplog: pytest.LogCaptureFixture
) -> None:
    """Why the server needs its own access logger: `%r` is the request line, query and all."""
    # aiohttp's defaults
    client = (await start_bot(world.storage, connector, FixedClock(NOW), settings=SETTINGS)).client
    try:
        with caplog.at_level(logging.INFO, logger="aiohttp.access"):
            response = await client.get(URL(world.links["calendar"], encoded=True))
            assert response.status == 200
    finally:
        await client.close()
    assert token_of(world.links["calendar"]) in records_text(caplog.records)


async def test_no_log_line_carries_a_token_from_issue_to_download(
    sqlite_storage: Storage,
    connector: Connector,
    clock: FixedClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Priya asks for her calendar link and the quarter's statistics in private chat and
    downloads both: neither token appears in any log record (ours at any level, anyone's
    at INFO and above, the access log included)."""
    await seed_demo(sqlite_storage.unit_of_work, clock)
    bot = await start_bot(sqlite_storage, connector, clock, settings=SETTINGS, server=PATH_ONLY)
    client = bot.client
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="bot")
    try:
        await bot.post(acts.personal_message(bot.service_url, "schedule ics"))
        await bot.post(acts.personal_message(bot.service_url, "stats"))
        urls = [
            action["url"]
            for card in bot.connector.cards()
            for action in card.get("actions", [])
            if action.get("type") == "Action.OpenUrl" and "token=" in action.get("url", "")
        ]
        urls += [
            element["url"]
            for card in bot.connector.cards()
            for element in cards.walk(card)
            if isinstance(element.get("url"), str) and "token=" in element["url"]
        ]
        tokens = {token_of(url) for url in urls}
        assert len(tokens) == 2, urls  # the calendar's and the statistics' CSV
        for url in {local(u) for u in urls}:
            response = await client.get(URL(url, encoded=True))
            assert response.status == 200, url
    finally:
        await client.close()
    logged = records_text(caplog.records)
    assert "/meetings.ics" in logged  # the access log was captured
    for token in tokens:
        assert token not in logged


# ---- in private chat only ------------------------------------------------------------------


async def test_the_calendar_link_is_never_posted_to_a_channel(
    sqlite_storage: Storage, connector: Connector, clock: FixedClock
) -> None:
    await seed_demo(sqlite_storage.unit_of_work, clock)
    bot = await start_bot(sqlite_storage, connector, clock, settings=SETTINGS, server=PATH_ONLY)
    client = bot.client
    try:
        await bot.post(acts.channel_message(bot.service_url, "schedule"))
        await bot.post(acts.channel_message(bot.service_url, "schedule ics"))
    finally:
        await client.close()
    sent = str(bot.connector.cards()) + str(bot.connector.texts())
    assert "meetings.ics" not in sent and "token=" not in sent
