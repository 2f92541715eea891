"""Fetch nothing you were not meant to: a file URL from an activity is fetched only over
HTTPS from the allowed file hosts, never from an address off the public internet (given
literally, by a name that resolves to one, or by a redirect), redirects are re-checked and
bounded, and no message repeats the URL or what was fetched.

A local test server on 127.0.0.1 stands in for SharePoint; it can be reached only when a
test opts in (`allow_http`, `trusted_addresses`), and it counts every request, so the
refusals below are shown to happen before anything is contacted.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.test_utils import TestServer

from bot.features.governance.membership import import_members, parse_members_csv
from bot.settings import Settings, SettingsError
from bot.teams.files import (
    COULD_NOT_FETCH,
    DEFAULT_FILE_HOSTS,
    NOT_FROM_TEAMS,
    FileRefused,
    fetch_text,
    host_allowed,
    public_address,
)
from cards.kit import card_text
from tests.support import activities as acts
from tests.test_membership_csv import world

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Mapping

    from tests.conftest import BotUnderTest

CSV = "name,email,aad_object_id,agency,roles\n"
FILE_HOST = "contoso-my.sharepoint.com"


@dataclass
class Stand:
    """The stand-in file server: where it listens and every path it was asked for."""

    port: int
    asked: list[str] = field(default_factory=list)
    raw: list[str] = field(default_factory=list)
    redirects: dict[str, str] = field(default_factory=dict)

    def url(self, path: str, host: str = FILE_HOST) -> str:
        return f"http://{host}:{self.port}{path}"


@pytest.fixture
async def stand() -> AsyncIterator[Stand]:
    served = Stand(port=0)

    async def answer(request: web.Request) -> web.StreamResponse:
        served.asked.append(request.path)
        served.raw.append(request.raw_path)
        if request.path in served.redirects:
            raise web.HTTPFound(served.redirects[request.path])
        return web.Response(text=CSV, content_type="text/csv")

    app = web.Application()
    app.router.add_get("/{tail:.*}", answer)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    assert server.port is not None
    served.port = server.port
    yield served
    await server.close()


class FakeDns(AbstractResolver):
    """DNS as a test wants it: each name to the addresses given, and every lookup noted."""

    def __init__(self, names: Mapping[str, tuple[str, ...]]) -> None:
        self.names = names
        self.looked_up: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.looked_up.append(host)
        if host not in self.names:
            raise OSError(f"no such name: {host}")
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=port,
                family=socket.AF_INET6 if ":" in address else socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
            for address in self.names[host]
        ]

    async def close(self) -> None:
        return None


def opted_in(dns: FakeDns | None = None, **overrides: Any) -> dict[str, Any]:
    """What a test passes to reach the stand-in server: plain HTTP, its loopback address
    trusted, its name allowed and resolved to it."""
    return {
        "hosts": (".sharepoint.com",),
        "allow_http": True,
        "trusted_addresses": ("127.0.0.1",),
        "resolver": dns or FakeDns({FILE_HOST: ("127.0.0.1",)}),
        "seconds": 5,
        **overrides,
    }


async def refused(url: str, **options: Any) -> str:
    with pytest.raises(FileRefused) as told:
        await fetch_text(url, **options)
    return told.value.message


# ---- the stand-in works when a test opts in ----------------------------------------------


async def test_an_opted_in_test_reaches_the_stand_in_server(stand: Stand) -> None:
    assert await fetch_text(stand.url("/members.csv"), **opted_in()) == CSV
    assert stand.asked == ["/members.csv"]


async def test_the_signed_query_reaches_the_file_host_byte_for_byte(stand: Stand) -> None:
    path = "/_layouts/15/download.aspx?UniqueId=1150d938%2D8870&tempauth=eyJ0eX%2BA%3D"
    assert await fetch_text(stand.url(path), **opted_in()) == CSV
    assert stand.raw == [path]


# ---- by default: loopback, private, link-local are refused before any contact --------------


@pytest.mark.parametrize(
    "address", ["127.0.0.1", "10.1.2.3", "169.254.169.254", "::1", "192.168.1.5", "0.0.0.0"]
)
async def test_a_name_resolving_to_an_address_off_the_internet_is_refused(
    stand: Stand, address: str
) -> None:
    dns = FakeDns({FILE_HOST: (address,)})
    # http allowed and the name allowed: only the address check stands in the way.
    said = await refused(stand.url("/members.csv"), **opted_in(dns, trusted_addresses=()))
    assert said == NOT_FROM_TEAMS
    assert dns.looked_up == [FILE_HOST]
    assert stand.asked == []


async def test_every_address_of_a_name_is_checked_not_just_the_first(stand: Stand) -> None:
    dns = FakeDns({FILE_HOST: ("52.108.1.1", "127.0.0.1")})
    said = await refused(stand.url("/members.csv"), **opted_in(dns, trusted_addresses=()))
    assert said == NOT_FROM_TEAMS
    assert stand.asked == []


@pytest.mark.parametrize("host", ["127.0.0.1", "10.1.2.3", "169.254.169.254", "[::1]"])
async def test_an_address_given_literally_is_refused_without_asking_dns(
    stand: Stand, host: str
) -> None:
    dns = FakeDns({})
    url = stand.url("/members.csv", host=host)
    literal = host.strip("[]")
    said = await refused(url, **opted_in(dns, hosts=(literal,), trusted_addresses=()))
    assert said == NOT_FROM_TEAMS
    assert stand.asked == [] and dns.looked_up == []


@pytest.mark.parametrize(
    "url",
    [
        "http://contoso-my.sharepoint.com/members.csv",  # not https
        "https://127.0.0.1/members.csv",  # not a file host
        "https://contoso.sharepoint.com.evil.example/members.csv",
        "https://evil-sharepoint.com/members.csv",
        "https://sharepoint.com/members.csv",  # the suffix alone is no tenant's host
        "https://contoso-my.sharepoint.com:8443/members.csv",  # another port
        "https://someone:secret@contoso-my.sharepoint.com/members.csv",
        "file:///etc/passwd",
        "ftp://contoso-my.sharepoint.com/members.csv",
        "not a url at all",
    ],
)
async def test_with_the_defaults_only_https_to_a_sharepoint_host_is_tried(url: str) -> None:
    dns = FakeDns({})  # a lookup would show that the URL got past the checks
    said = await refused(url, resolver=dns)
    assert said in (NOT_FROM_TEAMS, COULD_NOT_FETCH)
    assert dns.looked_up == []
    assert "evil" not in said and "sharepoint" not in said  # the URL is never repeated


async def test_the_default_file_hosts_are_sharepoint_online_only() -> None:
    assert DEFAULT_FILE_HOSTS == (".sharepoint.com",)
    assert Settings().file_hosts == DEFAULT_FILE_HOSTS


# ---- redirects: by hand, each hop re-checked, at most three -------------------------------


@pytest.mark.parametrize(
    "location",
    [
        "http://evil.example/members.csv",  # out of the allow-list
        "http://127.0.0.1:{port}/members.csv",  # to loopback, by address (not a file host)
        "http://metadata.sharepoint.com/latest",  # an allowed name resolving to link-local
        "ftp://contoso-my.sharepoint.com/members.csv",  # to another scheme
        "file:///etc/passwd",
    ],
)
async def test_each_redirect_is_checked_like_the_first_url(stand: Stand, location: str) -> None:
    dns = FakeDns({FILE_HOST: ("127.0.0.1",), "metadata.sharepoint.com": ("169.254.169.254",)})
    stand.redirects["/moved.csv"] = location.format(port=stand.port)
    said = await refused(stand.url("/moved.csv"), **opted_in(dns))
    assert said == NOT_FROM_TEAMS
    assert stand.asked == ["/moved.csv"]  # the first hop only: nothing it pointed to
    expected = [FILE_HOST, "metadata.sharepoint.com"] if "metadata" in location else [FILE_HOST]
    assert dns.looked_up == expected


async def test_three_redirects_are_followed_and_a_fourth_is_refused(stand: Stand) -> None:
    for n in range(1, 5):
        stand.redirects[f"/hop{n}"] = f"/hop{n + 1}"
    stand.redirects["/hop4"] = "/members.csv"
    assert await fetch_text(stand.url("/hop2"), **opted_in()) == CSV  # 3 redirects
    stand.asked.clear()
    said = await refused(stand.url("/hop1"), **opted_in())  # 4 redirects
    assert said == NOT_FROM_TEAMS
    assert stand.asked == ["/hop1", "/hop2", "/hop3", "/hop4"]


# ---- the rules themselves ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("contoso-my.sharepoint.com", True),
        ("CONTOSO.SharePoint.com.", True),
        ("sharepoint.com", False),
        ("contoso.sharepoint.com.evil.example", False),
        ("evilsharepoint.com", False),
    ],
)
def test_a_leading_dot_allows_the_names_under_it(host: str, allowed: bool) -> None:
    assert host_allowed(host, (".sharepoint.com",)) is allowed


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("52.108.1.1", True),
        ("2603:1020::1", True),
        ("127.0.0.1", False),
        ("10.0.0.1", False),
        ("172.16.0.1", False),
        ("192.168.0.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("255.255.255.255", False),
        ("::1", False),
        ("::", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("ff02::1", False),
        ("::ffff:127.0.0.1", False),
        ("2002:7f00:1::1", False),  # 6to4 around 127.0.0.1
        ("64:ff9b::a00:1", False),  # NAT64 around 10.0.0.1
    ],
)
def test_only_public_addresses_are_reached(address: str, public: bool) -> None:
    assert public_address(ipaddress.ip_address(address)) is public


@pytest.mark.parametrize("hosts", ["*", ".com", "https://x.sharepoint.com", "a/b", " , "])
def test_a_file_host_setting_that_would_open_too_much_is_refused(hosts: str) -> None:
    with pytest.raises(SettingsError, match="FILE_HOSTS"):
        Settings.from_env({"FILE_HOSTS": hosts}, dotenv=None)


def test_file_hosts_are_read_from_the_environment() -> None:
    settings = Settings.from_env({"FILE_HOSTS": ".sharepoint.com, files.example.org"}, None)
    assert settings.file_hosts == (".sharepoint.com", "files.example.org")


# ---- through the app: the coordinator's upload pointing at loopback -----------------------


async def test_an_upload_pointing_at_loopback_is_refused_without_contacting_it(
    bot: BotUnderTest, stand: Stand
) -> None:
    activity = acts.personal_message(bot.service_url, "")
    for url in (
        stand.url("/members.csv", host="127.0.0.1"),
        f"https://127.0.0.1:{stand.port}/members.csv",
        f"https://localhost:{stand.port}/members.csv",
    ):
        activity["id"] = f"upload-{len(bot.connector.sent)}"
        activity["attachments"] = [
            {
                "contentType": "application/vnd.microsoft.teams.file.download.info",
                "name": "members.csv",
                "content": {"downloadUrl": url, "uniqueId": "1", "fileType": "csv"},
            }
        ]
        response = await bot.post(activity)
        assert response.status == 201
        said = bot.connector.texts()[-1]
        assert said == NOT_FROM_TEAMS
        assert "127.0.0.1" not in said and "localhost" not in said
    assert stand.asked == []


# ---- what the file holds is never repeated back --------------------------------------------

MARKER = "SECRET-FROM-THE-FILE"


@pytest.mark.parametrize(
    "text",
    [
        # an internal page or a stranger's file in place of the members CSV
        f"<html><title>{MARKER}</title></html>\nrow\n",
        f"name,email,aad_object_id,agency,roles,{MARKER}\nA,,{acts.STRANGER},,referrer\n",
        f"name,email,aad_object_id,agency,{MARKER}\n",
        f"name,email,aad_object_id,agency,roles\nA,,{MARKER},,referrer\n",
        f"name,email,aad_object_id,agency,roles\nA,,{acts.STRANGER},{MARKER},referrer\n",
        f"name,email,aad_object_id,agency,roles\nA,,{acts.STRANGER},,{MARKER}\n",
        f'name,email,aad_object_id,agency,roles\n"{MARKER},x\n',
    ],
    ids=["html", "extra-column", "wrong-column", "id", "agency", "role", "broken-quote"],
)
async def test_an_import_refused_never_quotes_the_file(text: str) -> None:
    _, deps, request = await world()
    reply = await import_members(request, deps, text, "members.csv")
    shown = card_text(reply.card) if reply.card is not None else reply.text or ""
    assert shown  # it says what is wrong...
    assert MARKER not in shown and MARKER.casefold() not in shown.casefold()  # ...not what


def test_unknown_columns_are_counted_and_the_accepted_ones_listed() -> None:
    header = "name,email,aad_object_id,agency,roles,shoe size,favourite colour\n"
    _, problems = parse_members_csv(header + "A,,x,,referrer,1,2\n", {})
    (problem,) = problems
    assert "2 columns were not recognised" in problem.message
    assert "name, email, aad_object_id, agency, roles" in problem.message
    assert "shoe" not in problem.message and "colour" not in problem.message
