"""Files people send the bot in a personal chat, fetched within limits.

Teams hands a bot a file a person attached in their personal chat as an attachment of type
`application/vnd.microsoft.teams.file.download.info` whose content carries a short-lived
`downloadUrl` on the sender's OneDrive (`https://<tenant>-my.sharepoint.com/...`; the app's
manifest must set `supportsFiles`). The coordinator sends the members CSV this way.

The URL is input like any other: `fetch_text` fetches only over HTTPS from the file hosts
allowed (FILE_HOSTS, `.sharepoint.com` by default: bots receive files only in the commercial
and GCC clouds, both on SharePoint Online), follows at most three redirects by hand,
re-checking each, resolves each host itself and connects only to addresses on the public
internet (never loopback, private, link-local, multicast, reserved or unspecified: a name
that resolves to one is refused, and the connection goes to the address checked, so DNS
cannot swap it in between), and stops at a size and a time limit. Its messages never
repeat the URL, a host or anything the file holds.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver
from yarl import URL

from bot.domain.errors import DomainError

if TYPE_CHECKING:
    from collections.abc import Collection, Sequence

    from botbuilder.schema import Activity

FILE_DOWNLOAD_INFO = "application/vnd.microsoft.teams.file.download.info"
MAX_FILE_BYTES = 256 * 1024
TIMEOUT_SECONDS = 15.0
MAX_REDIRECTS = 3
_CHUNK = 16 * 1024
# Where Teams keeps a file sent to a bot in a personal chat: the sender's OneDrive, on
# SharePoint Online (GCC High, DoD and 21Vianet bots cannot receive files at all).
DEFAULT_FILE_HOSTS: tuple[str, ...] = (".sharepoint.com",)
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
NOT_FROM_TEAMS = "I can only take files Teams sends me. Attach the file again."
COULD_NOT_FETCH = "I could not fetch the file from Teams. Attach it again."

log = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


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


def host_allowed(host: str, hosts: Sequence[str]) -> bool:
    """Whether `host` is one of `hosts`: an entry with a leading dot allows every name under
    it (`.sharepoint.com`: contoso-my.sharepoint.com, not sharepoint.com.evil.example), any
    other entry that one host."""
    name = host.lower().rstrip(".")
    for entry in hosts:
        allowed = entry.lower().rstrip(".")
        if allowed.startswith(".") and name.endswith(allowed) and len(name) > len(allowed):
            return True
        if name == allowed:
            return True
    return False


def public_address(address: IPAddress) -> bool:
    """Whether an address is on the public internet: not loopback, private, link-local,
    shared, multicast, reserved or unspecified, nor such an address inside an IPv6 one
    (IPv4-mapped, 6to4, Teredo)."""
    if not address.is_global or address.is_multicast or address.is_reserved:
        return False
    if isinstance(address, ipaddress.IPv6Address):
        inside: list[ipaddress.IPv4Address | None] = [address.ipv4_mapped, address.sixtofour]
        if address.teredo is not None:
            inside += list(address.teredo)
        return all(public_address(v4) for v4 in inside if v4 is not None)
    return True


class _CheckedResolver(AbstractResolver):
    """Resolves a host and refuses it unless every address it has may be reached; aiohttp
    then connects to the addresses returned here, the ones checked."""

    def __init__(self, inner: AbstractResolver, trusted: frozenset[IPAddress]) -> None:
        self._inner = inner
        self._trusted = trusted

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self._inner.resolve(host, port, family)
        for result in found:
            address = ipaddress.ip_address(result["host"].split("%")[0])
            if address not in self._trusted and not public_address(address):
                raise _Refused("a file host resolved to an address that is not public")
        return found

    async def close(self) -> None:
        await self._inner.close()


class _Refused(OSError):
    """Raised inside a fetch to stop it; `reason` is for the log (no URL, no address)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _refusal_in(err: BaseException) -> _Refused | None:
    """The refusal behind an error, also when aiohttp wrapped the resolver's in its own."""
    seen: BaseException | None = err
    for _ in range(8):  # a chain is two or three deep; never loop on a cycle
        if seen is None or isinstance(seen, _Refused):
            return seen
        seen = seen.__cause__ or getattr(seen, "os_error", None)
    return None


def _check_url(
    url: URL, hosts: Sequence[str], allow_http: bool, trusted: frozenset[IPAddress]
) -> None:
    """Refuse (_Refused) a URL the bot must not fetch, before anything is sent."""
    if url.scheme != "https" and not (allow_http and url.scheme == "http"):
        raise _Refused("not https")
    if url.scheme == "https" and url.explicit_port not in (None, 443):
        raise _Refused("a port other than 443")
    if url.user is not None or url.password is not None:
        raise _Refused("credentials in the URL")
    host = url.raw_host or ""
    if not host or not host_allowed(host, hosts):
        raise _Refused("a host not in FILE_HOSTS")
    try:
        literal = ipaddress.ip_address(host.strip("[]").split("%")[0])
    except ValueError:
        return  # a name: the resolver checks what it resolves to
    # aiohttp connects to an address given literally without asking the resolver.
    if literal not in trusted and not public_address(literal):
        raise _Refused("an address that is not public")


async def fetch_text(
    url: str,
    *,
    hosts: Sequence[str] = DEFAULT_FILE_HOSTS,
    limit: int = MAX_FILE_BYTES,
    seconds: float = TIMEOUT_SECONDS,
    allow_http: bool = False,
    trusted_addresses: Collection[str] = (),
    resolver: AbstractResolver | None = None,
) -> str:
    """The file at `url` as text (UTF-8, or Windows-1252 as older Excel writes it).

    Refuses (FileRefused) a URL or redirect that is not HTTPS or not on `hosts`, a host
    that resolves to an address not on the public internet, an answer other than 200, and a
    file over `limit` bytes, stopping the download as soon as it is known to be too large.

    Tests only: `allow_http` takes plain HTTP, `trusted_addresses` lets these addresses
    (a local server's 127.0.0.1) be reached, and `resolver` stands in for DNS.
    """
    trusted = frozenset(ipaddress.ip_address(a) for a in trusted_addresses)
    too_large = FileRefused(
        f"The file is larger than {limit // 1024} KB. Split it and send each part."
    )
    body = bytearray()
    connector = aiohttp.TCPConnector(
        resolver=_CheckedResolver(resolver or DefaultResolver(), trusted),
        use_dns_cache=False,
    )
    try:
        async with (
            asyncio.timeout(seconds),  # for all the hops together
            aiohttp.ClientSession(connector=connector) as session,
        ):
            # As Teams sent it: its signed query must reach SharePoint byte for byte.
            target = URL(url, encoded=True)
            for _hop in range(MAX_REDIRECTS + 1):
                _check_url(target, hosts, allow_http, trusted)
                async with session.get(target, allow_redirects=False) as response:
                    location = response.headers.get("Location")
                    if response.status in _REDIRECTS and location:
                        target = target.join(URL(location, encoded=True))
                        continue
                    if response.status != 200:
                        raise FileRefused(
                            f"Teams did not give me the file (status {response.status}). "
                            "Attach it again."
                        )
                    if (response.content_length or 0) > limit:
                        raise too_large
                    async for chunk in response.content.iter_chunked(_CHUNK):
                        body += chunk
                        if len(body) > limit:
                            raise too_large
                    break
            else:
                raise _Refused("more than three redirects")
    except (aiohttp.ClientError, OSError, TimeoutError, ValueError) as err:
        refused = _refusal_in(err)
        if refused is not None:
            log.info("file fetch refused: %s", refused.reason)
            raise FileRefused(NOT_FROM_TEAMS) from None
        # The error's text may name the host or address: the log gets its type only.
        log.info("file fetch failed: %s", type(err).__name__)
        raise FileRefused(COULD_NOT_FETCH) from None
    raw = bytes(body)
    if b"\x00" in raw:
        raise FileRefused("That is not a text file. Send the members as a CSV file.")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")
