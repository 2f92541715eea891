"""The `/api/messages` endpoint: authenticate, then hand the activity to the bot.

We do not use botbuilder's `CloudAdapter.process` or `aiohttp_error_middleware`: they turn
a missing header into a 500 and a KeyError into a 404. Here bad requests get 4xx and
anything that cannot be authenticated gets 401 (fail closed).
"""

from __future__ import annotations

import importlib
import json
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from aiohttp import web
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
)
from botbuilder.schema import Activity
from botframework.connector.auth import AuthenticationConstants

from bot.teams.handler import MaracBot
from bot.teams.outbox import DeliveryPolicy, OutboxDispatcher
from bot.teams.ratelimit import RateLimits
from bot.teams.typing import TypingWhileSlow

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from bot.kernel.router import Deps, Router
    from bot.settings import Settings
    from bot.teams.conversations import InstallForUser

log = logging.getLogger(__name__)


class _BotConfig:
    """The attribute names botbuilder reads its configuration from."""

    def __init__(self, settings: Settings) -> None:
        self.APP_ID = settings.app_id
        self.APP_PASSWORD = settings.app_password
        # botbuilder's SingleTenant factory insists on an app id; local mode has none.
        self.APP_TYPE = settings.app_type if settings.app_id else "MultiTenant"
        self.APP_TENANTID = settings.app_tenant_id
        if settings.openid_metadata_url:
            # Any override switches botbuilder to its parameterised mode, which needs the
            # public cloud's other endpoints spelt out.
            self.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL = settings.openid_metadata_url
            self.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL = settings.openid_metadata_url
            self.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER = (
                settings.token_issuer or AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER
            )
            self.TO_CHANNEL_FROM_BOT_LOGIN_URL = (
                AuthenticationConstants.TO_CHANNEL_FROM_BOT_LOGIN_URL
            )
            self.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE = (
                AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE
            )
            self.OAUTH_URL = AuthenticationConstants.OAUTH_URL


def speed_up_connector_clients() -> None:
    """Make botbuilder's connector clients cheap to build; the app calls it once at start.

    botbuilder builds a new connector client for every reply and proactive message, and
    msrest's retry policy then computes its status list with 500,000 list look-ups (about
    4 ms of CPU in the event loop, twice per message). The same list from a set: the result
    is unchanged. Idempotent.
    """
    retry = importlib.import_module("msrest.universal_http.requests").ClientRetryPolicy
    if not isinstance(retry.safe_codes, frozenset):
        retry.safe_codes = frozenset(retry.safe_codes)
    _serialise_plain_values_as_they_are()


# What msrest's serialize_basic turns a value of each basic type into, by the type's name.
_BASIC_TYPES: dict[str, type] = {"str": str, "int": int, "float": float, "bool": bool}


def _serialise_plain_values_as_they_are() -> None:
    """msrest serialises every string of an activity by trying it as an enum (catching an
    AttributeError), then as Python 2's `unicode` (catching a NameError), before returning
    `str()` of it; and every number by `eval`-ing its type's name. Each turn pays that for
    every string of its reply and of its conversation reference (a fifth of the bot's own
    CPU per turn, found with py-spy on `python -m bot bench`). A value of exactly the named
    type is returned as it is, which is what msrest returns for it; anything else (an enum,
    XML, a custom serialiser) still goes msrest's way. Idempotent.
    """
    serializer = importlib.import_module("msrest.serialization").Serializer
    original = serializer.serialize_basic
    if getattr(original, "plain_first", False):
        return

    def serialize_basic(_cls: Any, /, data: Any, data_type: str, **kwargs: Any) -> Any:
        if (
            type(data) is _BASIC_TYPES.get(data_type)
            and not kwargs.get("is_xml")
            and not kwargs.get("basic_types_serializers")
        ):
            return data
        return original(data, data_type, **kwargs)

    serialize_basic.plain_first = True  # type: ignore[attr-defined]
    serialize_basic.msrest_original = original  # type: ignore[attr-defined]
    serializer.serialize_basic = classmethod(serialize_basic)


def make_adapter(settings: Settings) -> CloudAdapter:
    """A CloudAdapter configured from settings; no app id means local mode."""
    config = _BotConfig(settings)
    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(config))

    async def on_turn_error(_context: Any, error: Exception) -> None:
        # MaracBot's own boundary answers the person; this only catches adapter failures.
        log.error("adapter error: %s", type(error).__name__, exc_info=error)

    adapter.on_turn_error = on_turn_error
    adapter.use(TypingWhileSlow(delay=settings.typing_delay_ms / 1000))
    return adapter


def _problem(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


@dataclass(frozen=True)
class TeamsEndpoint:
    """The POST /api/messages handler and the dispatcher that delivers queued cards."""

    handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    dispatcher: OutboxDispatcher


def teams_endpoint(
    settings: Settings,
    router: Router,
    deps: Deps,
    *,
    install_for_user: InstallForUser | None = None,
) -> TeamsEndpoint:
    """Build the Teams side of the app: adapter, bot, /api/messages handler, dispatcher."""
    adapter = make_adapter(settings)
    dispatcher = OutboxDispatcher(
        adapter,
        deps,
        settings.app_id,
        limits=RateLimits.parse(
            settings.teams_rate_per_conversation, settings.teams_rate_per_tenant
        ),
        policy=DeliveryPolicy(
            concurrency=settings.outbox_concurrency,
            lease=timedelta(seconds=settings.outbox_lease_seconds),
        ),
        install_for_user=install_for_user,
    )
    bot = MaracBot(
        router,
        deps,
        after_turn=dispatcher.kick,
        file_hosts=settings.file_hosts,
        edit_shared_views=settings.edits_shared_views,
    )

    async def messages(request: web.Request) -> web.StreamResponse:
        if "application/json" not in request.headers.get("Content-Type", ""):
            return _problem(415, "Content-Type must be application/json")
        # Bounded before parsing: json.loads and msrest recurse per level, and a body nested
        # a thousand deep would end in a RecursionError (a 500) before anyone is authenticated.
        raw = await _read_at_most(request, MAX_BODY_BYTES)
        if raw is None:
            return _problem(413, f"The body is larger than {MAX_BODY_BYTES // 1024} KB")
        if json_too_deep(raw, MAX_JSON_DEPTH):
            return _problem(400, f"The JSON is nested deeper than {MAX_JSON_DEPTH} levels")
        try:
            body = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
            return _problem(400, "The body is not JSON")
        if not isinstance(body, dict) or not isinstance(body.get("type"), str):
            return _problem(400, "The body is not an activity")
        if not _answerable(body):
            return _problem(400, "The activity names no conversation or service URL to answer")
        if not _printable_ids(body):
            return _problem(400, "The activity's ids must be printable text")
        try:
            activity = Activity().deserialize(body)
        except Exception:
            return _problem(400, "The body is not a well-formed activity")
        auth_header = request.headers.get("Authorization", "")
        try:
            auth = await adapter.bot_framework_authentication.authenticate_request(
                activity, auth_header
            )
        except PermissionError as refused:
            log.info("request refused: %s", refused)
            return _problem(401, "Unauthorized")
        except Exception:
            ref = secrets.token_hex(4)
            log.warning("authentication could not be completed [ref %s]", ref, exc_info=True)
            return _problem(401, f"Unauthorized (ref {ref})")
        invoke_response = await adapter.process_activity(auth, activity, bot.on_turn)
        if invoke_response is not None:
            return web.json_response(
                data=_serialise(invoke_response.body), status=invoke_response.status
            )
        return web.Response(status=201)

    return TeamsEndpoint(messages, dispatcher)


# A Teams activity is a few KB; a card's inputs at their longest stay well under this.
MAX_BODY_BYTES = 512 * 1024
# Activities nest about ten deep (an Adaptive Card in an attachment, twenty or so).
MAX_JSON_DEPTH = 64
# A string (possessive, so a string left open runs to the end once, never rescanned from
# each quote inside it) or a bracket.
_STRUCTURE = re.compile(rb'"(?:[^"\\]++|\\.)*+(?:"|\\?\Z)|[\[\]{}]', re.DOTALL)
_CHUNK = 64 * 1024


async def _read_at_most(request: web.Request, limit: int) -> bytes | None:
    """The request's body, or None as soon as it is known to be over `limit` bytes (by its
    Content-Length, or while a chunked body streams in)."""
    if request.content_length is not None and request.content_length > limit:
        return None
    body = bytearray()
    async for chunk in request.content.iter_chunked(_CHUNK):
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


def json_too_deep(raw: bytes, limit: int) -> bool:
    """Whether JSON text opens more than `limit` arrays or objects inside each other,
    counting the brackets outside strings; a scan of the raw bytes, without parsing."""
    depth = 0
    for match in _STRUCTURE.finditer(raw):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        elif token in (b"]", b"}"):
            depth -= 1
    return False


def _answerable(body: dict[str, Any]) -> bool:
    """Whether the activity says where a reply goes, as every Teams activity does: its
    conversation's id and an http(s) service URL. Without them botbuilder fails mid-turn, or
    falls back to the public Bot Framework URL and sends the reply to the internet."""
    conversation = body.get("conversation")
    service_url = body.get("serviceUrl")
    return (
        isinstance(conversation, dict)
        and isinstance(conversation.get("id"), str)
        and bool(conversation["id"].strip())
        and isinstance(service_url, str)
        and service_url.startswith(("https://", "http://"))
    )


def _printable_ids(body: dict[str, Any]) -> bool:
    """Whether the ids a reply is addressed by (the activity's, its conversation's) are
    printable, as Teams' always are: a control character in one would reach the connector
    in the reply's URL and fail the turn after the use case had run."""
    conversation = body.get("conversation")
    ids = [body.get("id"), conversation.get("id") if isinstance(conversation, dict) else None]
    return all(value is None or (isinstance(value, str) and value.isprintable()) for value in ids)


def _serialise(body: Any) -> Any:
    if body is None:
        return None
    if hasattr(body, "serialize"):
        return body.serialize()
    return body
