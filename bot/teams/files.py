"""Files people send the bot in a personal chat, fetched within limits.

Teams hands a bot a file a person attached in their personal chat as an attachment of type
`application/vnd.microsoft.teams.file.download.info` whose content carries a short-lived
`downloadUrl` (the app's manifest must set `supportsFiles`). The coordinator sends the
members CSV this way; `fetch_text` reads it, refusing anything too large, not HTTPS, or
not text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp
from botbuilder.schema import Activity

from bot.domain.errors import DomainError

FILE_DOWNLOAD_INFO = "application/vnd.microsoft.teams.file.download.info"
MAX_FILE_BYTES = 256 * 1024
TIMEOUT_SECONDS = 15.0
MAX_REDIRECTS = 3
_CHUNK = 16 * 1024


class FileRefused(DomainError):
    """The file could not be taken: the message says why and what to do."""


@dataclass(frozen=True)
class FileUpload:
    name: str
    file_type: str  # "csv", as Teams gives it
    download_url: str


def _field(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


def uploads_of(activity: Activity) -> list[FileUpload]:
    """The files attached to a message, as Teams describes them to a bot."""
    found: list[FileUpload] = []
    for attachment in activity.attachments or []:
        if _field(attachment, "content_type") != FILE_DOWNLOAD_INFO:
            continue
        content = _field(attachment, "content")
        url = _field(content, "downloadUrl")
        if not isinstance(url, str) or not url:
            continue
        name = _field(attachment, "name")
        file_type = _field(content, "fileType")
        found.append(
            FileUpload(
                name=str(name or "file")[:200],
                file_type=str(file_type or "").lower()[:20],
                download_url=url,
            )
        )
    return found


async def fetch_text(
    url: str,
    *,
    limit: int = MAX_FILE_BYTES,
    seconds: float = TIMEOUT_SECONDS,
    allow_http: bool = False,
) -> str:
    """The file at `url` as text (UTF-8, or Windows-1252 as older Excel writes it).

    Refuses (FileRefused) a URL that is not HTTPS (unless `allow_http`, for tests), an
    answer other than 200, and a file over `limit` bytes, stopping the download as soon as
    it is known to be too large.
    """
    if not (url.startswith("https://") or (allow_http and url.startswith("http://"))):
        raise FileRefused("I can only take files Teams sends me. Attach the file again.")
    too_large = FileRefused(
        f"The file is larger than {limit // 1024} KB. Split it and send each part."
    )
    body = bytearray()
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=seconds)) as session,
            session.get(url, allow_redirects=True, max_redirects=MAX_REDIRECTS) as response,
        ):
            if response.url.scheme != "https" and not allow_http:
                raise FileRefused("I can only take files Teams sends me. Attach the file again.")
            if response.status != 200:
                raise FileRefused(
                    f"Teams did not give me the file (status {response.status}). Attach it again."
                )
            if (response.content_length or 0) > limit:
                raise too_large
            async for chunk in response.content.iter_chunked(_CHUNK):
                body += chunk
                if len(body) > limit:
                    raise too_large
    except (aiohttp.ClientError, TimeoutError) as err:
        raise FileRefused("I could not fetch the file from Teams. Attach it again.") from err
    raw = bytes(body)
    if b"\x00" in raw:
        raise FileRefused("That is not a text file. Send the members as a CSV file.")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")
