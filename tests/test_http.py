"""The web surface: health, readiness, bad requests, and authentication."""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import jwt
import pytest
from aiohttp.test_utils import TestClient, TestServer
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.app import create_app
from bot.settings import Settings
from storage import open_storage
from tests.support import activities as acts
from tests.support.world import serving

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from tests.conftest import BotUnderTest, Connector

APP_ID = "0b7c9f2e-5d4a-4c1b-9e8f-1a2b3c4d5e6f"


async def test_healthz_says_alive(bot: BotUnderTest) -> None:
    response = await bot.client.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"status": "ok"}


async def test_readyz_says_ready_when_the_database_answers(bot: BotUnderTest) -> None:
    response = await bot.client.get("/readyz")
    assert response.status == 200
    assert (await response.json())["database"] == "ok"


async def test_readyz_says_not_ready_when_the_database_is_unreachable() -> None:
    # a PostgreSQL URL on a loopback port where nothing listens
    storage = open_storage("postgresql+asyncpg://nobody@127.0.0.1:9/none")
    app = create_app(Settings(), storage=storage)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        response = await client.get("/readyz")
        assert response.status == 503
        assert (await response.json())["database"] == "unreachable"
    await storage.close()


async def test_a_body_that_is_not_json_is_a_400(bot: BotUnderTest) -> None:
    response = await bot.client.post(
        "/api/messages", data=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status == 400


async def test_a_body_of_another_type_is_a_415(bot: BotUnderTest) -> None:
    response = await bot.client.post("/api/messages", data=b"help")
    assert response.status == 415


@pytest.mark.parametrize("body", [[], {"text": "no type"}, {"type": 7}])
async def test_json_that_is_no_activity_is_a_400(bot: BotUnderTest, body: Any) -> None:
    response = await bot.client.post(
        "/api/messages", data=json.dumps(body), headers={"Content-Type": "application/json"}
    )
    assert response.status == 400
    assert bot.connector.sent == []


async def test_local_mode_accepts_a_message_without_a_token(bot: BotUnderTest) -> None:
    response = await bot.post(acts.personal_message(bot.service_url, "help"))
    assert response.status in (200, 201)
    assert bot.connector.cards()


# --- with an app id configured, every request needs a valid token ----------------------


def _jwk(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    return {**public, "kid": kid, "use": "sig", "alg": "RS256", "endorsements": ["msteams"]}


@pytest.fixture
def openid() -> Iterator[tuple[str, rsa.RSAPrivateKey]]:
    """A local OpenID metadata and JWKS endpoint standing in for Microsoft's.

    It runs in its own thread: botbuilder fetches keys with blocking `requests` calls, which
    would deadlock a server sharing the bot's event loop.
    """
    trusted = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            base = f"http://127.0.0.1:{self.server.server_address[1]}"
            if self.path == "/metadata":
                body = {"issuer": "https://api.botframework.com", "jwks_uri": f"{base}/keys"}
            elif self.path == "/keys":
                body = {"keys": [_jwk(trusted, "trusted-key")]}
            else:
                self.send_error(404)
                return
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/metadata", trusted
    server.shutdown()
    server.server_close()


@pytest.fixture
async def secured_bot(
    sqlite_storage: Any, connector: Connector, clock: Any, openid: tuple[str, Any]
) -> AsyncIterator[BotUnderTest]:
    settings = Settings(
        app_id=APP_ID,
        app_password="not-a-real-secret",
        app_tenant_id=acts.TENANT,
        openid_metadata_url=openid[0],
    )
    async with serving(sqlite_storage, connector, clock, settings=settings, demo=False) as bot:
        yield bot


def _claims(**claims: Any) -> dict[str, Any]:
    """What a Bot Framework token for this bot says, valid now, with `claims` changed."""
    now = int(time.time())
    return {
        "iss": "https://api.botframework.com",
        "aud": APP_ID,
        "iat": now,
        "nbf": now - 5,
        "exp": now + 600,
        "serviceurl": "http://127.0.0.1",
        **claims,
    }


def _token(key: rsa.RSAPrivateKey, kid: str, **claims: Any) -> str:
    return jwt.encode(_claims(**claims), key, algorithm="RS256", headers={"kid": kid})


async def test_with_an_app_id_a_message_without_a_token_is_a_401(
    secured_bot: BotUnderTest,
) -> None:
    response = await secured_bot.post(acts.personal_message(secured_bot.service_url, "help"))
    assert response.status == 401
    assert secured_bot.connector.sent == []


async def test_with_an_app_id_a_garbage_token_is_a_401(secured_bot: BotUnderTest) -> None:
    response = await secured_bot.post(
        acts.personal_message(secured_bot.service_url, "help"),
        Authorization="Bearer not.a.token",
    )
    assert response.status == 401
    assert secured_bot.connector.sent == []


async def test_with_an_app_id_a_token_signed_by_another_key_is_a_401(
    secured_bot: BotUnderTest,
) -> None:
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    for kid in ("trusted-key", "forged-key"):
        response = await secured_bot.post(
            acts.personal_message(secured_bot.service_url, "help"),
            Authorization=f"Bearer {_token(forger, kid)}",
        )
        assert response.status == 401, kid
    assert secured_bot.connector.sent == []


async def test_with_an_app_id_an_unsigned_token_is_a_401(secured_bot: BotUnderTest) -> None:
    """A token with every right claim but no signature (alg "none", or RS256 with the
    signature cut off) is refused."""
    claims = _claims(serviceurl=secured_bot.service_url)
    activity = acts.bot_installed_personal(secured_bot.service_url)
    activity["membersAdded"] = []
    unsigned = jwt.encode(claims, None, algorithm="none", headers={"kid": "trusted-key"})
    header = base64.urlsafe_b64encode(
        json.dumps({"alg": "RS256", "typ": "JWT", "kid": "trusted-key"}).encode()
    )
    body = base64.urlsafe_b64encode(json.dumps(claims).encode())
    stripped = f"{header.decode().rstrip('=')}.{body.decode().rstrip('=')}."
    for token in (unsigned, stripped):
        response = await secured_bot.post(activity, Authorization=f"Bearer {token}")
        assert response.status == 401, token
    assert secured_bot.connector.sent == []


async def test_with_an_app_id_a_token_signed_by_the_published_key_is_accepted(
    secured_bot: BotUnderTest, openid: tuple[str, Any]
) -> None:
    # a conversation update with nobody added needs no reply, so no outbound token either
    activity = acts.bot_installed_personal(secured_bot.service_url)
    activity["membersAdded"] = []
    token = _token(openid[1], "trusted-key", serviceurl=secured_bot.service_url)
    response = await secured_bot.post(activity, Authorization=f"Bearer {token}")
    assert response.status == 201


@pytest.mark.parametrize(
    ("claims", "why"),
    [
        ({"exp": int(time.time()) - 3600, "nbf": int(time.time()) - 7200}, "expired"),
        ({"aud": "11111111-2222-4333-8444-555555555555"}, "another bot's audience"),
        ({"iss": "https://evil.example.org"}, "an unknown issuer"),
        ({"serviceurl": "http://127.0.0.1:1/elsewhere"}, "another service url"),
    ],
    ids=["expired", "wrong-audience", "wrong-issuer", "wrong-service-url"],
)
async def test_with_an_app_id_a_token_signed_by_the_published_key_but_wrong_is_a_401(
    secured_bot: BotUnderTest, openid: tuple[str, Any], claims: dict[str, Any], why: str
) -> None:
    activity = acts.bot_installed_personal(secured_bot.service_url)
    activity["membersAdded"] = []
    token = _token(openid[1], "trusted-key", **{"serviceurl": secured_bot.service_url, **claims})
    response = await secured_bot.post(activity, Authorization=f"Bearer {token}")
    assert response.status == 401, why


async def test_the_app_secret_never_reaches_the_logs(
    secured_bot: BotUnderTest, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        await secured_bot.post(
            acts.personal_message(secured_bot.service_url, "help"),
            Authorization="Bearer not.a.token",
        )
        await secured_bot.post(acts.personal_message(secured_bot.service_url, "help"))
    assert caplog.records  # the refusals were logged...
    assert all("not-a-real-secret" not in r.getMessage() for r in caplog.records)
    assert "not-a-real-secret" not in caplog.text  # ...without the secret
