"""Send nothing where you were not meant to: the upload URL in a file consent answer is the
client's, so the Word file is PUT only over HTTPS to the allowed upload hosts, never to an
address off the public internet (given literally or by a name that resolves to one), never
after a redirect, and each refusal comes before anything is sent. 429 and 5xx are tried
again a few times; other answers are not.

A local server on 127.0.0.1 stands in for OneDrive; it is reached only when a test opts in
(`allow_http`, `trusted_addresses`), and it counts every request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.kernel.ports import UploadFailed, UploadRefused
from bot.settings import Settings, SettingsError
from bot.teams.upload import DEFAULT_UPLOAD_HOSTS, OneDriveUploads, consent_answer
from tests.security.test_files import FakeDns

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

UPLOAD_HOST = "contoso-my.sharepoint.com"
DOCUMENT = b"PK\x03\x04 an invented document"


@dataclass
class Drive:
    """The stand-in OneDrive: every request it had, and the answers queued for the next."""

    port: int = 0
    had: list[tuple[str, str, dict[str, str], bytes]] = field(default_factory=list)
    answers: list[tuple[int, dict[str, str]]] = field(default_factory=list)

    def url(self, path: str = "/upload/session-1", host: str = UPLOAD_HOST) -> str:
        return f"http://{host}:{self.port}{path}"


@pytest.fixture
async def drive() -> AsyncIterator[Drive]:
    served = Drive()

    async def answer(request: web.Request) -> web.StreamResponse:
        served.had.append(
            (request.method, request.raw_path, dict(request.headers), await request.read())
        )
        if served.answers:
            status, headers = served.answers.pop(0)
            return web.Response(status=status, headers=headers)
        return web.json_response({"id": "item"}, status=201)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    assert server.port is not None
    served.port = server.port
    yield served
    await server.close()


def uploads(dns: FakeDns | None = None, **overrides: Any) -> OneDriveUploads:
    """An uploader that may reach the stand-in: plain HTTP, its loopback address trusted,
    its name allowed and resolved to it; pauses between tries noted, not slept."""
    options: dict[str, Any] = {
        "allow_http": True,
        "trusted_addresses": ("127.0.0.1",),
        "resolver": dns or FakeDns({UPLOAD_HOST: ("127.0.0.1",)}),
        "seconds": 5,
        "sleep": _no_sleep,
        **overrides,
    }
    return OneDriveUploads(options.pop("hosts", DEFAULT_UPLOAD_HOSTS), **options)


PAUSES: list[float] = []


async def _no_sleep(seconds: float) -> None:
    PAUSES.append(seconds)


async def test_the_file_is_put_whole_with_its_range_and_the_signed_query_kept(
    drive: Drive,
) -> None:
    path = "/upload/session-1?tempauth=eyJ0eX%2BA%3D&guid=1150d938%2D8870"
    await uploads().upload(drive.url(path), DOCUMENT)
    ((method, raw, headers, body),) = drive.had
    assert (method, raw, body) == ("PUT", path, DOCUMENT)
    assert headers["Content-Range"] == f"bytes 0-{len(DOCUMENT) - 1}/{len(DOCUMENT)}"
    assert headers["Content-Length"] == str(len(DOCUMENT))


@pytest.mark.parametrize(
    "address", ["127.0.0.1", "10.1.2.3", "169.254.169.254", "::1", "192.168.1.5"]
)
async def test_a_name_resolving_to_an_address_off_the_internet_is_refused(
    drive: Drive, address: str
) -> None:
    dns = FakeDns({UPLOAD_HOST: (address,)})
    with pytest.raises(UploadRefused):
        await uploads(dns, trusted_addresses=()).upload(drive.url(), DOCUMENT)
    assert dns.looked_up == [UPLOAD_HOST]
    assert drive.had == []


@pytest.mark.parametrize(
    "url",
    [
        "http://contoso-my.sharepoint.com/upload",  # not https
        "https://127.0.0.1/upload",  # not an upload host
        "https://contoso.sharepoint.com.evil.example/upload",
        "https://sharepoint.com/upload",  # the suffix alone is no tenant's host
        "https://contoso-my.sharepoint.com:8443/upload",  # another port
        "https://someone:secret@contoso-my.sharepoint.com/upload",
        "file:///etc/passwd",
        "not a url at all",
    ],
)
async def test_with_the_defaults_only_https_to_a_sharepoint_host_is_tried(url: str) -> None:
    dns = FakeDns({})  # a lookup would show that the URL got past the checks
    with pytest.raises(UploadRefused) as told:
        await OneDriveUploads(resolver=dns).upload(url, DOCUMENT)
    assert dns.looked_up == []
    assert "evil" not in str(told.value) and "sharepoint" not in str(told.value)


async def test_a_redirect_is_not_followed(drive: Drive) -> None:
    drive.answers = [(307, {"Location": "http://169.254.169.254/latest/meta-data"})]
    with pytest.raises(UploadFailed, match="status 307"):
        await uploads().upload(drive.url(), DOCUMENT)
    assert len(drive.had) == 1


async def test_throttling_and_server_errors_are_tried_again_then_it_goes(drive: Drive) -> None:
    PAUSES.clear()
    drive.answers = [(429, {"Retry-After": "2"}), (503, {}), (500, {})]
    await uploads(backoff=0.25).upload(drive.url(), DOCUMENT)
    assert len(drive.had) == 4
    assert all(body == DOCUMENT for *_, body in drive.had)
    assert PAUSES == [2.0, 0.5, 1.0]  # Retry-After, then 0.25 doubling


async def test_it_gives_up_after_its_tries_and_at_once_on_other_answers(drive: Drive) -> None:
    drive.answers = [(503, {})] * 4
    with pytest.raises(UploadFailed, match="status 503"):
        await uploads().upload(drive.url(), DOCUMENT)
    assert len(drive.had) == 4
    drive.had.clear()
    drive.answers = [(403, {})]
    with pytest.raises(UploadFailed, match="status 403"):
        await uploads().upload(drive.url(), DOCUMENT)
    assert len(drive.had) == 1


async def test_an_empty_file_is_not_sent(drive: Drive) -> None:
    with pytest.raises(UploadFailed):
        await uploads().upload(drive.url(), b"")
    assert drive.had == []


def test_the_default_upload_hosts_are_sharepoint_online_only() -> None:
    assert DEFAULT_UPLOAD_HOSTS == (".sharepoint.com",)
    assert Settings().upload_hosts == DEFAULT_UPLOAD_HOSTS
    settings = Settings.from_env({"UPLOAD_HOSTS": ".sharepoint.com, files.example.org"}, None)
    assert settings.upload_hosts == (".sharepoint.com", "files.example.org")
    with pytest.raises(SettingsError, match="UPLOAD_HOSTS"):
        Settings.from_env({"UPLOAD_HOSTS": ".com"}, dotenv=None)


def test_a_consent_answer_keeps_only_strings_within_their_limits() -> None:
    value = {
        "type": "fileUpload",
        "action": "accept",
        "context": {"offer": "offer-1", "more": "ignored"},
        "uploadInfo": {
            "uploadUrl": "https://contoso-my.sharepoint.com/upload",
            "contentUrl": ["not", "a", "string"],
            "name": "x" * 201,
            "uniqueId": "1150D938",
            "fileType": "docx",
        },
    }
    assert consent_answer(value) == {
        "offer_id": "offer-1",
        "answer": "accept",
        "upload_url": "https://contoso-my.sharepoint.com/upload",
        "unique_id": "1150D938",
        "file_type": "docx",
    }
    assert consent_answer({"action": "delete", "context": {"offer": "x" * 65}}) == {}
    opened = consent_answer({"uploadInfo": {"contentUrl": "javascript:alert(1)"}})
    assert opened == {}
    opened = consent_answer({"uploadInfo": {"contentUrl": "https://contoso-my.sharepoint.com/f"}})
    assert opened == {"content_url": "https://contoso-my.sharepoint.com/f"}
    assert consent_answer(["not", "an", "object"]) == {}
