"""The members CSV as Teams hands it over: the attachment read from the activity, and the
file fetched from a real (local) HTTP server within limits."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from botbuilder.schema import Activity

from bot.teams.files import FILE_DOWNLOAD_INFO, FileRefused, FileUpload, fetch_text, uploads_of

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

# The test server is on loopback over plain HTTP, which the bot never fetches from unless a
# test opts in like this (tests/security/test_files.py shows that it refuses it otherwise).
LOCAL: dict[str, Any] = {
    "hosts": ("127.0.0.1",),
    "allow_http": True,
    "trusted_addresses": ("127.0.0.1",),
}

CSV = (
    "name,email,aad_object_id,agency,roles\n"
    "Nia Clarke,,5a6b7c8d-0000-4000-8000-0000000000e1,,referrer\n"
)


async def _file(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    if name == "members.csv":
        return web.Response(body=CSV.encode("utf-8-sig"), content_type="text/csv")
    if name == "excel.csv":
        return web.Response(body="name\nRenée\n".encode("cp1252"), content_type="text/csv")
    if name == "big.csv":
        return web.Response(body=b"x" * 5000, content_type="text/csv")
    if name == "streamed.csv":
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        for _ in range(10):
            await response.write(b"y" * 1000)
        await response.write_eof()
        return response
    if name == "picture.png":
        return web.Response(body=b"\x89PNG\x00\x00", content_type="image/png")
    if name == "moved.csv":
        raise web.HTTPFound("/files/members.csv")
    raise web.HTTPNotFound()


@pytest.fixture
async def files() -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_get("/files/{name}", _file)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield str(server.make_url("/files/"))
    await server.close()


async def test_a_csv_file_is_fetched_as_text(files: str) -> None:
    assert await fetch_text(files + "members.csv", **LOCAL) == CSV
    assert await fetch_text(files + "moved.csv", **LOCAL) == CSV  # redirects followed


async def test_an_older_excel_file_is_read_as_windows_1252(files: str) -> None:
    assert await fetch_text(files + "excel.csv", **LOCAL) == "name\nRenée\n"


@pytest.mark.parametrize("name", ["big.csv", "streamed.csv"])
async def test_a_file_over_the_limit_is_refused_without_reading_it_all(
    files: str, name: str
) -> None:
    with pytest.raises(FileRefused, match="larger than 4 KB"):
        await fetch_text(files + name, limit=4096, **LOCAL)


@pytest.mark.parametrize(
    ("name", "says"),
    [("missing.csv", "status 404"), ("picture.png", "not a text file")],
)
async def test_a_missing_or_binary_file_is_refused_plainly(
    files: str, name: str, says: str
) -> None:
    with pytest.raises(FileRefused, match=says):
        await fetch_text(files + name, **LOCAL)


async def test_only_https_addresses_are_fetched(files: str) -> None:
    with pytest.raises(FileRefused, match="only take files Teams sends me"):
        await fetch_text(files + "members.csv")
    with pytest.raises(FileRefused, match="only take files Teams sends me"):
        await fetch_text("file:///etc/passwd")


async def test_an_unreachable_address_is_refused_plainly() -> None:
    with pytest.raises(FileRefused, match="could not fetch the file"):
        await fetch_text("http://127.0.0.1:9/members.csv", seconds=2, **LOCAL)


def test_the_files_attached_to_a_message_are_read_from_the_activity() -> None:
    activity = Activity().deserialize(
        {
            "type": "message",
            "text": "",
            "attachments": [
                {
                    "contentType": FILE_DOWNLOAD_INFO,
                    "name": "members.csv",
                    "content": {
                        "downloadUrl": "https://contoso.sharepoint.com/download?token=abc",
                        "uniqueId": "1150D938-8870-4044-9F2C-5BBDEBA70C8C",
                        "fileType": "csv",
                    },
                },
                {"contentType": "text/html", "content": "<p>hello</p>"},
            ],
        }
    )
    assert uploads_of(activity) == [
        FileUpload("members.csv", "csv", "https://contoso.sharepoint.com/download?token=abc")
    ]
