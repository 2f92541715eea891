"""A fake Entra token endpoint and Graph API over HTTPS on 127.0.0.1: the organizer's
calendar events (with Teams meetings, deduplicated by transactionId, cancelled with a
comment), online meetings (created, found by join link), the organisation's app catalog, and
installing the app for a user or into a chat (409 when installed already).

msal only talks to an https authority, so the fake serves TLS with a self-signed
certificate made for 127.0.0.1; the client trusts it through GraphSettings.ca_bundle. The
real msal fetches the fake's OpenID configuration and asks its token endpoint for a
client-credentials token; the real GraphClient then calls the fake Graph with it.
"""

from __future__ import annotations

import ipaddress
import itertools
import ssl
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

if TYPE_CHECKING:
    from pathlib import Path

TENANT = "6f1c2a9e-3b7d-4e58-9a21-0c4d5e6f7a80"
CLIENT_ID = "0b8c1d2e-1111-4222-8333-944455566677"
CLIENT_SECRET = "fake-secret-for-tests"
ORGANIZER = "7a6b5c4d-2222-4333-8444-955566677788"
# The Teams app: its manifest id and the id the organisation's catalog gave it on publishing.
MANIFEST_APP_ID = "3c2d1e0f-5555-4666-8777-98889990aaab"
CATALOG_APP_ID = "e1d2c3b4-6666-4777-8888-a9990001112b"


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate and key for 127.0.0.1, valid for a day; returns (cert, key) paths."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "fake-graph.pem", directory / "fake-graph.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@dataclass
class GraphCall:
    method: str
    path: str
    body: dict[str, Any] | None
    authorization: str
    query: dict[str, str] = field(default_factory=dict)


@dataclass
class Failure:
    status: int
    headers: dict[str, str]
    # Only a call whose path contains this (None: any Graph call).
    path_contains: str | None = None


@dataclass
class FakeGraph:
    """Records every call; `fail_next` makes the next Graph calls answer with errors."""

    base_url: str = ""
    token_requests: list[dict[str, str]] = field(default_factory=list)
    discovery_requests: int = 0
    calls: list[GraphCall] = field(default_factory=list)
    meetings: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    # The users Graph knows (besides the organizer), and the apps installed for each user
    # and in each chat (catalog ids).
    users: set[str] = field(default_factory=set)
    user_apps: dict[str, set[str]] = field(default_factory=dict)
    chat_apps: dict[str, set[str]] = field(default_factory=dict)
    # The org catalog: manifest id -> catalog id (the app published to the organisation).
    catalog: dict[str, str] = field(default_factory=lambda: {MANIFEST_APP_ID: CATALOG_APP_ID})
    issued_tokens: set[str] = field(default_factory=set)
    failures: list[Failure] = field(default_factory=list)
    # Events created whose answer is then lost (a 504 after the work was done), as when a
    # gateway times out: the client cannot tell it from an event never made.
    lose_event_answers: int = 0
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def fail_next(
        self,
        status: int,
        *,
        retry_after: str | None = None,
        times: int = 1,
        path_contains: str | None = None,
    ) -> None:
        """Answer the next `times` Graph calls (whose path contains `path_contains`) with
        `status` (and a Retry-After header)."""
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        self.failures.extend([Failure(status, headers, path_contains)] * times)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get(
            "/{tenant}/v2.0/.well-known/openid-configuration", self._openid_configuration
        )
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self._token)
        app.router.add_post("/v1.0/users/{user}/onlineMeetings", self._create)
        app.router.add_get("/v1.0/users/{user}/onlineMeetings", self._find_meeting)
        app.router.add_patch("/v1.0/users/{user}/onlineMeetings/{meeting}", self._update)
        app.router.add_delete("/v1.0/users/{user}/onlineMeetings/{meeting}", self._delete)
        app.router.add_post("/v1.0/users/{user}/events", self._create_event)
        app.router.add_get("/v1.0/users/{user}/events/{event}", self._read_event)
        app.router.add_patch("/v1.0/users/{user}/events/{event}", self._update_event)
        app.router.add_post("/v1.0/users/{user}/events/{event}/cancel", self._cancel_event)
        app.router.add_get("/v1.0/appCatalogs/teamsApps", self._catalog)
        app.router.add_post("/v1.0/users/{user}/teamwork/installedApps", self._install_for_user)
        app.router.add_post("/v1.0/chats/{chat}/installedApps", self._install_in_chat)
        return app

    # --- Entra ---

    async def _openid_configuration(self, request: web.Request) -> web.Response:
        self.discovery_requests += 1
        tenant = request.match_info["tenant"]
        if tenant != TENANT:
            return web.json_response({"error": "invalid_tenant"}, status=400)
        root = f"{self.base_url}/{tenant}"
        return web.json_response(
            {
                "issuer": f"{root}/v2.0",
                "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
                "token_endpoint": f"{root}/oauth2/v2.0/token",
                "device_authorization_endpoint": f"{root}/oauth2/v2.0/devicecode",
                "jwks_uri": f"{root}/discovery/v2.0/keys",
                "response_types_supported": ["code", "id_token", "token"],
                "token_endpoint_auth_methods_supported": ["client_secret_post"],
            }
        )

    async def _token(self, request: web.Request) -> web.Response:
        form = {k: str(v) for k, v in (await request.post()).items()}
        self.token_requests.append(form)
        if form.get("grant_type") != "client_credentials":
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return web.json_response(
                {"error": "invalid_client", "error_description": "AADSTS7000215: bad secret"},
                status=401,
            )
        if form.get("scope") != "https://graph.microsoft.com/.default":
            return web.json_response({"error": "invalid_scope"}, status=400)
        token = f"fake-access-token-{next(self._ids)}"
        self.issued_tokens.add(token)
        return web.json_response(
            {"token_type": "Bearer", "expires_in": 3599, "access_token": token}
        )

    # --- Graph ---

    async def _record(self, request: web.Request) -> web.Response | None:
        body = await request.json() if request.can_read_body else None
        authorization = request.headers.get("Authorization", "")
        self.calls.append(
            GraphCall(request.method, request.path, body, authorization, dict(request.query))
        )
        token = authorization.removeprefix("Bearer ")
        if not authorization.startswith("Bearer ") or token not in self.issued_tokens:
            return _graph_error(401, "InvalidAuthenticationToken")
        user = request.match_info.get("user")
        if user is not None and user != ORGANIZER and user not in self.users:
            return _graph_error(404, "UserNotFound")
        for failure in self.failures:
            if failure.path_contains is None or failure.path_contains in request.path:
                self.failures.remove(failure)
                code = "ThrottledRequest" if failure.status == 429 else "Injected"
                return _graph_error(failure.status, code, failure.headers)
        return None

    def _organizer_only(self, request: web.Request) -> web.Response | None:
        if request.match_info["user"] != ORGANIZER:
            return _graph_error(403, "ErrorAccessDenied")  # the access policy names one user
        return None

    def _new_online_meeting(self, subject: Any, start: Any, end: Any) -> dict[str, Any]:
        meeting_id = f"MSo{next(self._ids)}fake"
        meeting = {
            "id": meeting_id,
            "subject": subject,
            "startDateTime": start,
            "endDateTime": end,
            "joinWebUrl": f"https://teams.microsoft.com/l/meetup-join/{meeting_id}",
            "chatInfo": {"threadId": f"19:meeting_{meeting_id}@thread.v2"},
        }
        self.meetings[meeting_id] = meeting
        self.chat_apps[meeting["chatInfo"]["threadId"]] = set()
        return meeting

    async def _create(self, request: web.Request) -> web.Response:
        if (refused := await self._record(request)) is not None:
            return refused
        if (refused := self._organizer_only(request)) is not None:
            return refused
        body = self.calls[-1].body or {}
        meeting = self._new_online_meeting(
            body.get("subject"), body.get("startDateTime"), body.get("endDateTime")
        )
        return web.json_response(meeting, status=201)

    async def _find_meeting(self, request: web.Request) -> web.Response:
        """GET onlineMeetings?$filter=JoinWebUrl eq '...': the one with that join link."""
        if (refused := await self._record(request)) is not None:
            return refused
        if (refused := self._organizer_only(request)) is not None:
            return refused
        wanted = _odata_eq(request.query.get("$filter", ""), "JoinWebUrl")
        if wanted is None:
            return _graph_error(400, "BadRequest")
        found = [m for m in self.meetings.values() if m["joinWebUrl"] == wanted]
        return web.json_response({"value": found})

    async def _update(self, request: web.Request) -> web.Response:
        if (refused := await self._record(request)) is not None:
            return refused
        meeting = self.meetings.get(request.match_info["meeting"])
        if meeting is None:
            return _graph_error(404, "NotFound")
        meeting.update(self.calls[-1].body or {})
        return web.json_response(meeting)

    async def _delete(self, request: web.Request) -> web.Response:
        if (refused := await self._record(request)) is not None:
            return refused
        if self.meetings.pop(request.match_info["meeting"], None) is None:
            return _graph_error(404, "NotFound")
        return web.Response(status=204)

    async def _create_event(self, request: web.Request) -> web.Response:
        """An event with a Teams meeting; a transactionId seen before answers with the
        event made then (Graph's guard against a retried create)."""
        if (refused := await self._record(request)) is not None:
            return refused
        if (refused := self._organizer_only(request)) is not None:
            return refused
        body = self.calls[-1].body or {}
        transaction = body.get("transactionId")
        for event in self.events.values():
            if transaction and event.get("transactionId") == transaction:
                return self._created(event)
        event_id = f"AAMkAG{next(self._ids)}fake="
        event = {
            **body,
            "id": event_id,
            "isCancelled": False,
            "onlineMeeting": None,
        }
        if body.get("isOnlineMeeting") and body.get("onlineMeetingProvider") == "teamsForBusiness":
            meeting = self._new_online_meeting(
                body.get("subject"), body.get("start"), body.get("end")
            )
            event["onlineMeeting"] = {"joinUrl": meeting["joinWebUrl"]}
        self.events[event_id] = event
        return self._created(event)

    def _created(self, event: dict[str, Any]) -> web.Response:
        if self.lose_event_answers > 0:
            self.lose_event_answers -= 1
            return _graph_error(504, "GatewayTimeout")
        return web.json_response(event, status=201)

    async def _read_event(self, request: web.Request) -> web.Response:
        """The event, or only the properties $select names (with its id)."""
        if (refused := await self._record(request)) is not None:
            return refused
        event = self.events.get(request.match_info["event"])
        if event is None:
            return _graph_error(404, "ErrorItemNotFound")
        selected = request.query.get("$select")
        if not selected:
            return web.json_response(event)
        names = {"id", *selected.split(",")}
        return web.json_response({k: v for k, v in event.items() if k in names})

    async def _update_event(self, request: web.Request) -> web.Response:
        if (refused := await self._record(request)) is not None:
            return refused
        event = self.events.get(request.match_info["event"])
        if event is None:
            return _graph_error(404, "ErrorItemNotFound")
        event.update(self.calls[-1].body or {})
        return web.json_response(event)

    async def _cancel_event(self, request: web.Request) -> web.Response:
        if (refused := await self._record(request)) is not None:
            return refused
        event = self.events.get(request.match_info["event"])
        if event is None:
            return _graph_error(404, "ErrorItemNotFound")
        event["isCancelled"] = True
        event["cancelComment"] = (self.calls[-1].body or {}).get("comment")
        return web.Response(status=202)

    async def _catalog(self, request: web.Request) -> web.Response:
        if (refused := await self._record(request)) is not None:
            return refused
        wanted = _odata_eq(request.query.get("$filter", ""), "externalId")
        if wanted is None:
            return _graph_error(400, "BadRequest")
        catalog_id = self.catalog.get(wanted)
        found = (
            []
            if catalog_id is None
            else [
                {
                    "id": catalog_id,
                    "externalId": wanted,
                    "displayName": "Community MARAC",
                    "distributionMethod": "organization",
                }
            ]
        )
        return web.json_response({"value": found})

    def _bound_app(self, request: web.Request) -> str | None:
        """The catalog id in the body's teamsApp@odata.bind, when it is well formed."""
        bind = (self.calls[-1].body or {}).get("teamsApp@odata.bind", "")
        prefix = f"{self.base_url}/v1.0/appCatalogs/teamsApps/"
        if not isinstance(bind, str) or not bind.startswith(prefix):
            return None
        app_id = bind.removeprefix(prefix)
        return app_id if app_id in self.catalog.values() else None

    async def _install_for_user(self, request: web.Request) -> web.Response:
        if (refused := await self._record(request)) is not None:
            return refused
        app_id = self._bound_app(request)
        if app_id is None:
            return _graph_error(400, "BadRequest")
        installed = self.user_apps.setdefault(request.match_info["user"], set())
        if app_id in installed:
            return _graph_error(409, "Conflict")
        installed.add(app_id)
        return web.Response(status=201)

    async def _install_in_chat(self, request: web.Request) -> web.Response:
        if (refused := await self._record(request)) is not None:
            return refused
        installed = self.chat_apps.get(request.match_info["chat"])
        if installed is None:
            return _graph_error(404, "NotFound")
        app_id = self._bound_app(request)
        if app_id is None:
            return _graph_error(400, "BadRequest")
        if not await _consents_to_chat_permissions(request):
            # Graph refuses to install an app asking for resource-specific permissions
            # into a chat without consenting to them.
            return _graph_error(403, "Forbidden")
        if app_id in installed:
            return _graph_error(409, "Conflict")
        installed.add(app_id)
        return web.Response(status=201)

    def graph_calls(self, method: str, path_contains: str = "") -> list[GraphCall]:
        """The Graph calls of one HTTP method (and path), in order."""
        return [c for c in self.calls if c.method == method and path_contains in c.path]


async def _consents_to_chat_permissions(request: web.Request) -> bool:
    """Whether the install's body consents to every chat-scoped permission the manifest asks."""
    from manifest import RSC_PERMISSIONS

    body = await request.json()
    consent = body.get("consentedPermissionSet") if isinstance(body, dict) else None
    given = consent.get("resourceSpecificPermissions") if isinstance(consent, dict) else None
    names = {
        (p.get("permissionValue"), p.get("permissionType"))
        for p in (given if isinstance(given, list) else [])
        if isinstance(p, dict)
    }
    wanted = {(name, kind.lower()) for name, kind in RSC_PERMISSIONS if name.endswith(".Chat")}
    return bool(wanted) and wanted <= names


def _odata_eq(text: str, name: str) -> str | None:
    """The literal of `name eq '...'` (a doubled quote inside is one), else None."""
    prefix = f"{name} eq '"
    if not text.startswith(prefix) or not text.endswith("'"):
        return None
    return text[len(prefix) : -1].replace("''", "'")


def _graph_error(status: int, code: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(
        {"error": {"code": code, "message": f"fake Graph answered {status}"}},
        status=status,
        headers=headers or {},
    )


@dataclass
class RunningFakeGraph:
    fake: FakeGraph
    server: TestServer
    base_url: str
    ca_bundle: Path


async def start_fake_graph(directory: Path) -> RunningFakeGraph:
    """Serve the fake over TLS on a free loopback port."""
    cert, key = self_signed_certificate(directory)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    fake = FakeGraph()
    server = TestServer(fake.app(), host="127.0.0.1", scheme="https")
    await server.start_server(ssl=context)
    fake.base_url = f"https://127.0.0.1:{server.port}"
    return RunningFakeGraph(fake, server, fake.base_url, cert)
