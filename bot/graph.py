"""Microsoft Graph client for Teams online meetings: msal client credentials + aiohttp.

Implements bot.features.meetings.calendar's `OnlineMeetings` port with
`/users/{organizer}/onlineMeetings` (application permission OnlineMeetings.ReadWrite.All,
plus an application access policy that lets the app act for the organizer).
It is no botbuilder code, so it lives outside bot/teams.
"""

from __future__ import annotations

import asyncio
import logging
import random
import ssl
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import aiohttp
import msal
import requests  # type: ignore[import-untyped,unused-ignore]  # msal's own HTTP library

from bot.kernel.ports import (
    OnlineMeeting,
    OnlineMeetingDenied,
    OnlineMeetingError,
    OnlineMeetingNotFound,
)

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

GRAPH_SCOPE = "https://graph.microsoft.com/.default"
PUBLIC_AUTHORITY = "https://login.microsoftonline.com"
PUBLIC_GRAPH = "https://graph.microsoft.com"
# Graph throttles with 429 and has passing trouble with these; anything else is final.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# msal errors that mean the app's credentials or registration are wrong, not a hiccup.
DENIED_TOKEN_ERRORS = frozenset(
    {"invalid_client", "unauthorized_client", "invalid_request", "invalid_scope"}
)


@dataclass(frozen=True)
class GraphSettings:
    """Where and as whom to call Graph; the hosts are overridable for tests and clouds."""

    tenant_id: str
    client_id: str
    client_secret: str = field(repr=False)
    organizer_user_id: str
    authority_host: str = PUBLIC_AUTHORITY
    graph_url: str = PUBLIC_GRAPH
    # A CA bundle to trust instead of the system's (a test server's self-signed certificate).
    ca_bundle: str | None = None
    max_attempts: int = 4
    backoff_seconds: float = 1.0
    max_backoff_seconds: float = 30.0
    timeout_seconds: float = 15.0

    @property
    def authority(self) -> str:
        return f"{self.authority_host.rstrip('/')}/{self.tenant_id}"

    @property
    def meetings_path(self) -> str:
        return f"/v1.0/users/{quote(self.organizer_user_id, safe='')}/onlineMeetings"


class _PinnedSession(requests.Session):  # type: ignore[misc,unused-ignore]
    """msal's HTTP session, trusting the configured CA bundle.

    msal's own `verify=` is set on its session, and requests lets REQUESTS_CA_BUNDLE or
    CURL_CA_BUNDLE replace a session's setting (psf/requests#3829), so the bundle is passed
    with every request instead.
    """

    def __init__(self, ca_bundle: str, timeout: float) -> None:
        super().__init__()
        self._ca_bundle = ca_bundle
        self._timeout = timeout

    def request(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("verify", self._ca_bundle)
        kwargs.setdefault("timeout", self._timeout)
        return super().request(*args, **kwargs)


def _graph_time(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class GraphClient:
    """Creates, moves and deletes Teams online meetings as the panel's organizer account."""

    def __init__(
        self,
        settings: GraphSettings,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.settings = settings
        self._sleep = sleep
        self._msal: msal.ConfidentialClientApplication | None = None
        self._msal_lock = asyncio.Lock()
        self._session: aiohttp.ClientSession | None = None

    # --- the OnlineMeetings port ---

    async def create(
        self, *, subject: str, starts_at: datetime, ends_at: datetime
    ) -> OnlineMeeting:
        """POST an online meeting; returns its id and join link."""
        body = {
            "subject": subject,
            "startDateTime": _graph_time(starts_at),
            "endDateTime": _graph_time(ends_at),
        }
        answer = await self._request("POST", self.settings.meetings_path, body)
        meeting_id = answer.get("id") if answer else None
        join_url = answer.get("joinWebUrl") if answer else None
        if not isinstance(meeting_id, str) or not isinstance(join_url, str):
            raise OnlineMeetingError("Graph created a meeting but sent no id or joinWebUrl")
        return OnlineMeeting(id=meeting_id, join_url=join_url)

    async def reschedule(
        self, online_meeting_id: str, *, starts_at: datetime, ends_at: datetime
    ) -> None:
        """PATCH the online meeting's start and end."""
        body = {"startDateTime": _graph_time(starts_at), "endDateTime": _graph_time(ends_at)}
        await self._request("PATCH", self._meeting_path(online_meeting_id), body)

    async def delete(self, online_meeting_id: str) -> None:
        """DELETE the online meeting."""
        await self._request("DELETE", self._meeting_path(online_meeting_id))

    async def close(self) -> None:
        """Close the HTTP sessions, ours and msal's (on app shutdown)."""
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._msal is not None:
            # msal keeps a requests session (its token endpoint's connections) until closed.
            self._msal.http_client.close()
            self._msal = None

    # --- tokens ---

    async def access_token(self) -> str:
        """An app-only Graph token from msal (its cache answers until the token expires).

        msal is synchronous and may go to the network, so it runs in a worker thread.
        """
        app = await self._app()
        result: dict[str, Any] = await asyncio.to_thread(
            app.acquire_token_for_client, scopes=[GRAPH_SCOPE]
        )
        token = result.get("access_token")
        if isinstance(token, str) and token:
            return token
        error = str(result.get("error") or "unknown_error")
        # error_description may echo the client id, never the secret.
        description = str(result.get("error_description") or "")[:200]
        if error in DENIED_TOKEN_ERRORS:
            raise OnlineMeetingDenied(f"token refused: {error}: {description}")
        raise OnlineMeetingError(f"no token: {error}: {description}")

    async def _app(self) -> msal.ConfidentialClientApplication:
        async with self._msal_lock:
            if self._msal is None:
                # Construction fetches the authority's OpenID configuration: a network call.
                self._msal = await asyncio.to_thread(self._build_app)
            return self._msal

    def _build_app(self) -> msal.ConfidentialClientApplication:
        s = self.settings
        public = s.authority_host.rstrip("/") == PUBLIC_AUTHORITY
        try:
            return msal.ConfidentialClientApplication(
                s.client_id,
                client_credential=s.client_secret,
                authority=s.authority,
                # An authority msal does not know (a sovereign cloud, a test server) is taken
                # as configured instead of being checked against login.microsoftonline.com.
                instance_discovery=None if public else False,
                timeout=s.timeout_seconds,
                http_client=_PinnedSession(s.ca_bundle, s.timeout_seconds) if s.ca_bundle else None,
            )
        except ValueError as exc:
            raise OnlineMeetingError(f"the authority {s.authority} is unusable: {exc}") from None

    # --- HTTP ---

    def _meeting_path(self, online_meeting_id: str) -> str:
        return f"{self.settings.meetings_path}/{quote(online_meeting_id, safe='')}"

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            context = ssl.create_default_context(cafile=self.settings.ca_bundle)
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(ssl=context),
                timeout=aiohttp.ClientTimeout(total=self.settings.timeout_seconds),
            )
        return self._session

    async def _request(
        self, method: str, path: str, body: dict[str, Any] | None = None
    ) -> dict[str, Any] | None:
        url = f"{self.settings.graph_url.rstrip('/')}{path}"
        what = f"{method} {path.split('/onlineMeetings')[0]}/onlineMeetings"
        attempts = max(1, self.settings.max_attempts)
        for attempt in range(1, attempts + 1):
            token = await self.access_token()
            try:
                async with self._http().request(
                    method, url, json=body, headers={"Authorization": f"Bearer {token}"}
                ) as response:
                    if response.status in (200, 201):
                        answer: dict[str, Any] = await response.json()
                        return answer
                    if response.status in (202, 204):
                        return None
                    code = await _error_code(response)
                    if response.status in (401, 403):
                        raise OnlineMeetingDenied(f"{what} answered {response.status} {code}")
                    if response.status == 404:
                        raise OnlineMeetingNotFound(f"{what} answered 404 {code}")
                    if response.status not in RETRY_STATUSES:
                        raise OnlineMeetingError(f"{what} answered {response.status} {code}")
                    problem = f"{response.status} {code}"
                    asked = _retry_after(response)
                    delay = asked if asked is not None else self._backoff(attempt)
            except (aiohttp.ClientError, TimeoutError) as exc:
                problem = f"{type(exc).__name__}"
                delay = self._backoff(attempt)
            if attempt == attempts:
                raise OnlineMeetingError(f"{what} failed {attempts} times; last: {problem}")
            delay = min(delay, self.settings.max_backoff_seconds)
            log.info("Graph %s: %s; retrying in %.1f s", what, problem, delay)
            await self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _backoff(self, attempt: int) -> float:
        # Exponential with full jitter, as Microsoft's throttling guidance suggests.
        base: float = self.settings.backoff_seconds * 2 ** (attempt - 1)
        return base / 2 + random.uniform(0, base / 2)  # noqa: S311 - jitter, not security


def _retry_after(response: aiohttp.ClientResponse) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


async def _error_code(response: aiohttp.ClientResponse) -> str:
    """Graph's error code (e.g. Forbidden, ThrottledRequest) for the log; never the body."""
    try:
        data = await response.json(content_type=None)
    except (ValueError, aiohttp.ClientError):
        return ""
    error = data.get("error") if isinstance(data, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    return str(code)[:80] if code else ""
