"""Microsoft Graph client: msal client credentials + aiohttp.

Implements the kernel's `PanelCalendar` port (bot.kernel.ports): each panel meeting is an
event on the organizer's calendar with a Teams meeting (`/users/{organizer}/events`,
Calendars.ReadWrite), and the bot is installed into that meeting's chat (the online meeting
found by its join link, OnlineMeetings.Read.All under an application access policy; then
`/chats/{id}/installedApps`, TeamsAppInstallation.ReadWriteAndConsentSelfForChat.All, consenting
to the manifest's chat-scoped resource-specific permissions). Meetings linked
before calendar events keep their bare online meeting (`/users/{organizer}/onlineMeetings`,
OnlineMeetings.ReadWrite.All). `install_for_user` installs the bot for a member the bot
cannot message yet (`/users/{id}/teamwork/installedApps`,
TeamsAppInstallation.ReadWriteSelfForUser.All): bot.teams.conversations calls it before
opening a 1:1 chat. Installing needs the app's id in the organisation's app catalog, which
is not the manifest's id: it is looked up once (AppCatalog.Read.All) unless configured.
It is no botbuilder code, so it lives outside bot/teams.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import ssl
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import aiohttp
import msal
import requests  # type: ignore[import-untyped,unused-ignore]  # msal's own HTTP library

from bot.kernel.ports import (
    CalendarDenied,
    CalendarError,
    CalendarEvent,
    CalendarNotFound,
    EventRequest,
)
from manifest import RSC_PERMISSIONS

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Collection

log = logging.getLogger(__name__)

# The manifest's resource-specific permissions granted in a chat, consented to on install.
CHAT_CONSENT: dict[str, Any] = {
    "resourceSpecificPermissions": [
        {"permissionValue": name, "permissionType": kind.lower()}
        for name, kind in RSC_PERMISSIONS
        if name.endswith(".Chat")
    ]
}

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
    # The Teams app's id in its manifest (TEAMS_APP_ID), to install the bot; and, when
    # known, its id in the organisation's app catalog (else looked up once by the former).
    teams_app_id: str = ""
    catalog_app_id: str = ""

    @property
    def authority(self) -> str:
        return f"{self.authority_host.rstrip('/')}/{self.tenant_id}"

    @property
    def organizer_path(self) -> str:
        return f"/v1.0/users/{quote(self.organizer_user_id, safe='')}"

    @property
    def meetings_path(self) -> str:
        return f"{self.organizer_path}/onlineMeetings"

    @property
    def events_path(self) -> str:
        return f"{self.organizer_path}/events"


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


def _graph_local(at: datetime, timezone: str) -> dict[str, str]:
    """Graph's dateTimeTimeZone: the wall-clock time in the panel's zone (an IANA name,
    which Graph accepts), so Outlook shows the meeting at its local hour across DST."""
    local = at.astimezone(ZoneInfo(timezone))
    return {"dateTime": local.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": timezone}


def transaction_id(key: str) -> str:
    """The event's transactionId for a meeting: the same for every try of its create."""
    return f"community-marac-{key}"


def _attendee(attendee: dict[str, Any]) -> dict[str, Any]:
    email = attendee.get("emailAddress")
    kind = attendee.get("type")
    return {
        "emailAddress": email if isinstance(email, dict) else {},
        "type": kind if kind in ("required", "optional", "resource") else "required",
    }


def _address_of(attendee: dict[str, Any]) -> str:
    email = attendee.get("emailAddress")
    address = email.get("address") if isinstance(email, dict) else None
    return address if isinstance(address, str) else ""


def _odata_text(value: str) -> str:
    """An OData string literal (single quotes, a quote inside doubled)."""
    return "'" + value.replace("'", "''") + "'"


class GraphClient:
    """The panel's meetings as Outlook events with Teams meetings (as the organizer
    account), and the bot installed for members and into meeting chats."""

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
        self._catalog_id = settings.catalog_app_id
        self._catalog_lock = asyncio.Lock()

    # --- the PanelCalendar port ---

    async def create_event(self, event: EventRequest) -> CalendarEvent:
        """POST the event with a Teams meeting and its attendees; returns its id and join
        link. Its transactionId is the meeting's key, so Graph answers a retried create
        with the event it made already."""
        body = {
            "subject": event.subject,
            "body": {"contentType": "text", "content": event.body},
            "start": _graph_local(event.starts_at, event.timezone),
            "end": _graph_local(event.ends_at, event.timezone),
            "attendees": [
                {"emailAddress": {"address": address}, "type": "required"}
                for address in event.attendees
            ],
            "isOnlineMeeting": True,
            "onlineMeetingProvider": "teamsForBusiness",
            "allowNewTimeProposals": False,
            "transactionId": transaction_id(event.key),
        }
        answer = await self._request("POST", self.settings.events_path, "create event", body)
        event_id = answer.get("id") if answer else None
        online = answer.get("onlineMeeting") if answer else None
        join_url = online.get("joinUrl") if isinstance(online, dict) else None
        if not isinstance(event_id, str) or not isinstance(join_url, str) or not join_url:
            # Not stored: the next sync's create (same transactionId) returns this event.
            raise CalendarError("Graph created an event but sent no id or Teams join link")
        return CalendarEvent(id=event_id, join_url=join_url)

    async def move_event(
        self, event_id: str, *, starts_at: datetime, ends_at: datetime, timezone: str
    ) -> None:
        """PATCH the event's start and end (Outlook sends the attendees the update)."""
        body = {"start": _graph_local(starts_at, timezone), "end": _graph_local(ends_at, timezone)}
        await self._request("PATCH", self._event_path(event_id), "move event", body)

    async def cancel_event(self, event_id: str, *, comment: str) -> None:
        """Cancel the event: the attendees get the cancellation with the comment."""
        path = f"{self._event_path(event_id)}/cancel"
        await self._request("POST", path, "cancel event", {"comment": comment})

    async def update_attendees(
        self, event_id: str, *, wanted: Collection[str], unwanted: Collection[str]
    ) -> bool:
        """Read the event's attendees, then PATCH the list when someone is to be added or
        taken off (each other attendee kept as the organizer left them)."""
        answer = await self._request(
            "GET",
            self._event_path(event_id),
            "read event attendees",
            params={"$select": "attendees"},
        )
        found = answer.get("attendees") if answer else None
        current = [a for a in (found if isinstance(found, list) else []) if isinstance(a, dict)]
        drop = {address.lower() for address in unwanted}
        kept = [a for a in current if _address_of(a).lower() not in drop]
        present = {_address_of(a).lower() for a in kept}
        added = [
            {"emailAddress": {"address": address}, "type": "required"}
            for address in wanted
            if address.lower() not in present
        ]
        if not added and len(kept) == len(current):
            return False
        # Only what an attendee is written with (their response status is Graph's own).
        body = {"attendees": [_attendee(a) for a in kept] + added}
        await self._request("PATCH", self._event_path(event_id), "update event attendees", body)
        return True

    async def install_in_meeting_chat(self, join_url: str) -> str:
        """Find the meeting's chat by its join link, then install the bot there (409,
        installed already, is success); returns the chat's thread id."""
        answer = await self._request(
            "GET",
            self.settings.meetings_path,
            "find online meeting",
            params={"$filter": f"JoinWebUrl eq {_odata_text(join_url)}"},
        )
        found = answer.get("value") if answer else None
        meeting = found[0] if isinstance(found, list) and found else None
        chat = meeting.get("chatInfo") if isinstance(meeting, dict) else None
        thread_id = chat.get("threadId") if isinstance(chat, dict) else None
        if not isinstance(thread_id, str) or not thread_id:
            raise CalendarNotFound("Graph knows no online meeting (or chat) with that join link")
        path = f"/v1.0/chats/{quote(thread_id, safe='')}/installedApps"
        # The app asks for resource-specific permissions (the meeting start and end events):
        # installing it consents to the chat-scoped ones, which only the ...AndConsent...
        # permission may do (the plain ReadWriteSelfForChat.All is refused for such an app).
        body = {**await self._install_body(), "consentedPermissionSet": CHAT_CONSENT}
        await self._request("POST", path, "install app in meeting chat", body, accept={409})
        return thread_id

    async def move_online_meeting(
        self, online_meeting_id: str, *, starts_at: datetime, ends_at: datetime
    ) -> None:
        """PATCH a bare online meeting's start and end (meetings linked before events)."""
        body = {"startDateTime": _graph_time(starts_at), "endDateTime": _graph_time(ends_at)}
        await self._request("PATCH", self._meeting_path(online_meeting_id), "move meeting", body)

    async def delete_online_meeting(self, online_meeting_id: str) -> None:
        """DELETE a bare online meeting (meetings linked before events)."""
        await self._request("DELETE", self._meeting_path(online_meeting_id), "delete meeting")

    # --- installing the bot for a member ---

    async def install_for_user(self, aad_object_id: str) -> None:
        """Install the bot for the user (409, installed already, is success), so that a
        1:1 chat with them can be opened (bot.teams.conversations)."""
        path = f"/v1.0/users/{quote(aad_object_id, safe='')}/teamwork/installedApps"
        body = await self._install_body()
        try:
            await self._request("POST", path, "install app for a user", body, accept={409})
        except CalendarDenied as exc:
            raise CalendarDenied(
                f"{exc}: the app registration needs TeamsAppInstallation.ReadWriteSelfForUser.All "
                "(application, with admin consent), and the app must be allowed for the user"
            ) from None

    async def catalog_app_id(self) -> str:
        """The app's id in the organisation's app catalog: configured, or looked up once by
        its manifest id (an org-published app's catalog id is not its manifest id)."""
        async with self._catalog_lock:
            if not self._catalog_id:
                self._catalog_id = await self._look_up_catalog_id()
            return self._catalog_id

    async def _look_up_catalog_id(self) -> str:
        manifest_id = self.settings.teams_app_id
        if not manifest_id:
            raise CalendarError("TEAMS_APP_ID is not set: the bot cannot be installed")
        answer = await self._request(
            "GET",
            "/v1.0/appCatalogs/teamsApps",
            "find the app in the catalog",
            params={"$filter": f"externalId eq {_odata_text(manifest_id)}"},
        )
        found = answer.get("value") if answer else None
        ids = [
            app["id"]
            for app in (found if isinstance(found, list) else [])
            if isinstance(app, dict) and isinstance(app.get("id"), str) and app["id"]
        ]
        if not ids:
            raise CalendarNotFound(
                f"the Teams app {manifest_id} is not in the organisation's app catalog: "
                "publish it (Teams admin centre) or set TEAMS_CATALOG_APP_ID"
            )
        return str(ids[0])

    async def _install_body(self) -> dict[str, Any]:
        catalog_id = await self.catalog_app_id()
        app = f"{self.settings.graph_url.rstrip('/')}/v1.0/appCatalogs/teamsApps"
        return {"teamsApp@odata.bind": f"{app}/{quote(catalog_id, safe='')}"}

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
            raise CalendarDenied(f"token refused: {error}: {description}")
        raise CalendarError(f"no token: {error}: {description}")

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
            raise CalendarError(f"the authority {s.authority} is unusable: {exc}") from None

    # --- HTTP ---

    def _meeting_path(self, online_meeting_id: str) -> str:
        return f"{self.settings.meetings_path}/{quote(online_meeting_id, safe='')}"

    def _event_path(self, event_id: str) -> str:
        return f"{self.settings.events_path}/{quote(event_id, safe='')}"

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            context = ssl.create_default_context(cafile=self.settings.ca_bundle)
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(ssl=context),
                timeout=aiohttp.ClientTimeout(total=self.settings.timeout_seconds),
            )
        return self._session

    async def _request(
        self,
        method: str,
        path: str,
        what: str,
        body: dict[str, Any] | None = None,
        *,
        params: dict[str, str] | None = None,
        accept: frozenset[int] | set[int] = frozenset(),
    ) -> dict[str, Any] | None:
        """One Graph call, retried on throttling and passing trouble. `what` names it in
        errors and the log (never an id or a body); a status in `accept` (409: installed
        already) counts as done."""
        url = f"{self.settings.graph_url.rstrip('/')}{path}"
        attempts = max(1, self.settings.max_attempts)
        for attempt in range(1, attempts + 1):
            token = await self.access_token()
            try:
                async with self._http().request(
                    method,
                    url,
                    json=body,
                    params=params,
                    headers={"Authorization": f"Bearer {token}"},
                ) as response:
                    if response.status in (200, 201):
                        raw = await response.read()
                        if not raw.strip():
                            return None  # e.g. 201 Created for an installation
                        answer: dict[str, Any] = json.loads(raw)
                        return answer
                    if response.status in (202, 204) or response.status in accept:
                        return None
                    code = await _error_code(response)
                    if response.status in (401, 403):
                        raise CalendarDenied(f"{what}: Graph answered {response.status} {code}")
                    if response.status == 404:
                        raise CalendarNotFound(f"{what}: Graph answered 404 {code}")
                    if response.status not in RETRY_STATUSES:
                        raise CalendarError(f"{what}: Graph answered {response.status} {code}")
                    problem = f"{response.status} {code}"
                    asked = _retry_after(response)
                    delay = asked if asked is not None else self._backoff(attempt)
            except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
                problem = f"{type(exc).__name__}"
                delay = self._backoff(attempt)
            if attempt == attempts:
                raise CalendarError(f"{what} failed {attempts} times; last: {problem}")
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
