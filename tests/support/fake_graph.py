"""A fake Entra token endpoint and Graph onlineMeetings API over HTTPS on 127.0.0.1.

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


@dataclass
class FakeGraph:
    """Records every call; `fail_next` makes the next Graph calls answer with errors."""

    base_url: str = ""
    token_requests: list[dict[str, str]] = field(default_factory=list)
    discovery_requests: int = 0
    calls: list[GraphCall] = field(default_factory=list)
    meetings: dict[str, dict[str, Any]] = field(default_factory=dict)
    issued_tokens: set[str] = field(default_factory=set)
    failures: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def fail_next(self, status: int, *, retry_after: str | None = None, times: int = 1) -> None:
        """Answer the next `times` Graph calls with `status` (and a Retry-After header)."""
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        self.failures.extend([(status, headers)] * times)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get(
            "/{tenant}/v2.0/.well-known/openid-configuration", self._openid_configuration
        )
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self._token)
        app.router.add_post("/v1.0/users/{user}/onlineMeetings", self._create)
        app.router.add_patch("/v1.0/users/{user}/onlineMeetings/{meeting}", self._update)
        app.router.add_delete("/v1.0/users/{user}/onlineMeetings/{meeting}", self._delete)
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
        self.calls.append(GraphCall(request.method, request.path, body, authorization))
        token = authorization.removeprefix("Bearer ")
        if not authorization.startswith("Bearer ") or token not in self.issued_tokens:
            return _graph_error(401, "InvalidAuthenticationToken")
        if request.match_info["user"] != ORGANIZER:
            return _graph_error(404, "UserNotFound")
        if self.failures:
            status, headers = self.failures.pop(0)
            code = "ThrottledRequest" if status == 429 else "Injected"
            return _graph_error(status, code, headers)
        return None

    async def _create(self, request: web.Request) -> web.Response:
        if (refused := await self._record(request)) is not None:
            return refused
        body = self.calls[-1].body or {}
        meeting_id = f"MSo{next(self._ids)}fake"
        meeting = {
            "id": meeting_id,
            "subject": body.get("subject"),
            "startDateTime": body.get("startDateTime"),
            "endDateTime": body.get("endDateTime"),
            "joinWebUrl": f"https://teams.microsoft.com/l/meetup-join/{meeting_id}",
        }
        self.meetings[meeting_id] = meeting
        return web.json_response(meeting, status=201)

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

    def graph_calls(self, method: str) -> list[GraphCall]:
        """The Graph calls of one HTTP method, in order."""
        return [call for call in self.calls if call.method == method]


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
