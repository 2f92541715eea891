"""A file put into a member's OneDrive, where Teams' file consent flow says.

When a member allows a file the bot offered (the file consent card, bot.teams.handler),
Teams creates an upload session on their OneDrive and hands the bot its `uploadUrl`. The
address comes in the invoke, which anyone can forge: `OneDriveUploads` PUTs only over HTTPS
to the upload hosts allowed (UPLOAD_HOSTS, `.sharepoint.com` by default: OneDrive for
Business is SharePoint Online), to addresses on the public internet (the checks of
bot.teams.files: a name resolving to a private address is refused, and the connection goes
to the address checked), follows no redirect, and sends the whole file in one request
(`Content-Range: bytes 0-{n-1}/{n}`, as Microsoft's samples do for files under 4 MB). A
429 or 5xx is tried again a few times, after Retry-After or a growing pause. Nothing it logs
or raises names the address.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp.resolver import DefaultResolver
from yarl import URL

from bot.kernel import notify
from bot.kernel.guard import MAX_ID
from bot.kernel.ports import UploadFailed, UploadRefused
from bot.teams.files import _check_url, _CheckedResolver, _refusal_in, _Refused
from bot.teams.ratelimit import retry_after_seconds
from bot.teams.replies import OFFER_CONTEXT_KEY, PANEL_CONTEXT_KEY
from cards.kit import CARD_PANEL

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Collection, Sequence

    from aiohttp.abc import AbstractResolver

# Where a member's OneDrive takes uploads: SharePoint Online.
DEFAULT_UPLOAD_HOSTS: tuple[str, ...] = (".sharepoint.com",)
# Statuses worth another try: throttled, or the service failed for now.
AGAIN = frozenset({429, 500, 502, 503, 504})
ATTEMPTS = 4
# The longest pause between tries: the member waits for the file in the chat.
MAX_WAIT = 5.0
TIMEOUT_SECONDS = 30.0
# Files larger than this need a chunked upload session; the minutes are far smaller.
MAX_UPLOAD_BYTES = 4 * 1024 * 1024

log = logging.getLogger(__name__)


class OneDriveUploads:
    """Puts a file at a OneDrive upload URL within the allow-list (bot.kernel.ports.FileUploads).

    Tests only: `allow_http` takes plain HTTP, `trusted_addresses` lets these addresses
    (a local server's 127.0.0.1) be reached, and `resolver` stands in for DNS.
    """

    def __init__(
        self,
        hosts: Sequence[str] = DEFAULT_UPLOAD_HOSTS,
        *,
        attempts: int = ATTEMPTS,
        backoff: float = 0.5,
        seconds: float = TIMEOUT_SECONDS,
        allow_http: bool = False,
        trusted_addresses: Collection[str] = (),
        resolver: AbstractResolver | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._hosts = tuple(hosts)
        self._attempts = max(1, attempts)
        self._backoff = backoff
        self._seconds = seconds
        self._allow_http = allow_http
        self._trusted = frozenset(ipaddress.ip_address(a) for a in trusted_addresses)
        self._resolver = resolver
        self._sleep = sleep
        self._now = now

    async def upload(self, url: str, body: bytes) -> None:
        """PUT `body` to `url` whole: UploadRefused before anything is sent to an address not
        allowed, UploadFailed when it did not go through after the retries."""
        if not body or len(body) > MAX_UPLOAD_BYTES:
            raise UploadFailed("the file is empty or too large for one request")
        # As Teams sent it: its signed query must reach OneDrive byte for byte.
        try:
            target = URL(url, encoded=True)
            _check_url(target, self._hosts, self._allow_http, self._trusted)
        except _Refused as refused:
            log.info("upload refused: %s", refused.reason)
            raise UploadRefused(refused.reason) from None
        except ValueError:
            raise UploadRefused("not a URL") from None
        size = len(body)
        headers = {"Content-Length": str(size), "Content-Range": f"bytes 0-{size - 1}/{size}"}
        last = "no attempt"
        for attempt in range(self._attempts):
            wait: float | None = None
            try:
                status, retry_after = await self._put(target, body, headers)
            except _Refused as refused:
                log.info("upload refused: %s", refused.reason)
                raise UploadRefused(refused.reason) from None
            except (aiohttp.ClientError, OSError, TimeoutError) as err:
                # The error's text may name the host or address: the log gets its type only.
                last = type(err).__name__
                log.info("upload attempt %d failed: %s", attempt + 1, last)
            else:
                if 200 <= status < 300:
                    return
                last = f"status {status}"
                log.info("upload attempt %d answered %d", attempt + 1, status)
                if status not in AGAIN:
                    raise UploadFailed(last)
                wait = retry_after
            if attempt + 1 < self._attempts:
                await self._sleep(wait if wait is not None else self._backoff * 2**attempt)
        raise UploadFailed(last)

    async def _put(
        self, target: URL, body: bytes, headers: dict[str, str]
    ) -> tuple[int, float | None]:
        """One PUT: the status and the Retry-After in seconds, if any."""
        connector = aiohttp.TCPConnector(
            resolver=_CheckedResolver(self._resolver or DefaultResolver(), self._trusted),
            use_dns_cache=False,
        )
        try:
            async with (
                asyncio.timeout(self._seconds),
                aiohttp.ClientSession(connector=connector) as session,
                session.put(target, data=body, headers=headers, allow_redirects=False) as answer,
            ):
                await answer.read()
                waited = retry_after_seconds(answer.headers.get("Retry-After"), self._now())
                return answer.status, None if waited is None else min(waited, MAX_WAIT)
        except (aiohttp.ClientError, OSError) as err:
            refused = _refusal_in(err)
            if refused is not None:
                raise refused from None
            raise


# The invoke Teams sends when a member answers a file consent card.
FILE_CONSENT_INVOKE = "fileConsent/invoke"
# What a field of the answer may hold at most (Teams' URLs are long: signed SharePoint ones).
_LIMITS = {
    notify.UPLOAD_URL: 4000,
    notify.CONTENT_URL: 4000,
    notify.FILE_NAME: 200,
    notify.UNIQUE_ID: 200,
    notify.FILE_TYPE: 20,
}


def consent_answer(value: object) -> dict[str, Any]:
    """The data the file consent answer's verb runs with, from the invoke's value
    (`{type: "fileUpload", action, context: {offer, panel}, uploadInfo: {uploadUrl, contentUrl,
    name, uniqueId, fileType}}`): strings only, each within its limit; anything else is
    left out, and the verb refuses what it then lacks."""
    found: dict[str, Any] = {}
    if not isinstance(value, dict):
        return found
    context = value.get("context")
    offer = context.get(OFFER_CONTEXT_KEY) if isinstance(context, dict) else None
    if isinstance(offer, str) and 0 < len(offer) <= MAX_ID:
        found[notify.OFFER_ID] = offer
    panel = context.get(PANEL_CONTEXT_KEY) if isinstance(context, dict) else None
    if isinstance(panel, str) and 0 < len(panel) <= MAX_ID:
        found[CARD_PANEL] = panel  # bot.kernel.turns.acting_for: the offer's panel answers
    action = value.get("action")
    if action in ("accept", "decline"):
        found[notify.ANSWER] = action
    info = value.get("uploadInfo")
    if not isinstance(info, dict):
        return found
    for key, field in (
        (notify.UPLOAD_URL, "uploadUrl"),
        (notify.CONTENT_URL, "contentUrl"),
        (notify.FILE_NAME, "name"),
        (notify.UNIQUE_ID, "uniqueId"),
        (notify.FILE_TYPE, "fileType"),
    ):
        text = info.get(field)
        if isinstance(text, str) and 0 < len(text) <= _LIMITS[key]:
            found[key] = text
    # The file card opens contentUrl in the member's client: only an https address goes.
    if not found.get(notify.CONTENT_URL, "https://").startswith("https://"):
        del found[notify.CONTENT_URL]
    return found
