"""Structured logs: every line carries what its turn is about, and never a secret.

A turn (bot.teams.handler) opens a `TurnLog` in a context variable; the handler notes the
chat and the panel, dispatch notes the command or verb and the case or referral reference
it names (CM-/RF- numbers: no person's data). Every line logged while the turn runs, in any
module, carries those fields, and the fields a call passes as `extra`.

`LOG_FORMAT=json` writes one JSON object a line (time, level, logger, message, the turn's
fields, the extras, the traceback as one string); `text`, the default, the familiar line
with the same fields appended. Both formatters blank secrets: the configured ones (the app
password, Graph's secret, link secrets, a database URL's password) wherever they appear,
bearer and basic credentials, JSON web tokens, `token=`/`password=`/`secret=` values and
any extra whose name says it holds one. Personal data is kept out at the source: the code
logs ids and references, never a name or a date of birth (tests/test_logs.py checks a
turn's lines for its subject's).
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import sys
from contextvars import ContextVar, Token
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from bot.settings import Settings

FORMATS: Final = ("text", "json")
REDACTED: Final = "[redacted]"
TEXT_FORMAT: Final = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# A case or referral reference as people type it (CM-2026-014, RF-2026-0049).
_REFERENCE = re.compile(r"\b(?:CM|RF)-\d{4}-\d{1,6}\b", re.IGNORECASE)


@dataclass(slots=True)
class TurnLog:
    """What the turn running in this context is about; no person's data."""

    activity_key: str | None = None
    panel_id: str | None = None
    conversation: str | None = None  # the kind of chat: personal, channel, groupChat, ...
    command: str | None = None  # the command or card verb, as registered
    reference: str | None = None  # the case or referral it names
    outcome: str = "ok"  # ok, refused, declined, failed, redelivered

    def fields(self) -> dict[str, str]:
        """The fields a log line carries (those known)."""
        found = {
            "activity_key": self.activity_key,
            "panel_id": self.panel_id,
            "conversation": self.conversation,
            "command": self.command,
            "reference": self.reference,
        }
        return {name: value for name, value in found.items() if value is not None}


_TURN: ContextVar[TurnLog | None] = ContextVar("marac_turn", default=None)


def begin_turn(activity_key: str | None) -> tuple[TurnLog, Token[TurnLog | None]]:
    """Open the turn's log context; give the token to `end_turn` when the turn is over."""
    turn = TurnLog(activity_key=activity_key)
    return turn, _TURN.set(turn)


def end_turn(token: Token[TurnLog | None]) -> None:
    """Close the turn's log context."""
    _TURN.reset(token)


def current() -> TurnLog | None:
    """The turn running in this context, if any."""
    return _TURN.get()


def note_where(conversation: str, panel_id: str | None) -> None:
    """The turn's chat (its kind) and the panel it acts for."""
    turn = _TURN.get()
    if turn is not None:
        turn.conversation = conversation
        turn.panel_id = panel_id


def note_command(name: str, args: str = "", data: Mapping[str, Any] | None = None) -> None:
    """The command or verb the turn runs (its registered name), and the case or referral
    reference its arguments or card data name, if any."""
    turn = _TURN.get()
    if turn is None:
        return
    turn.command = name
    found = _REFERENCE.search(args) if args else None
    if found is None and data:
        value = data.get("reference")
        found = _REFERENCE.fullmatch(value.strip()) if isinstance(value, str) else None
    if found is not None:
        turn.reference = found.group().upper()


def note_outcome(outcome: str) -> None:
    """How the turn ended, when not simply ok (refused, declined, failed, redelivered)."""
    turn = _TURN.get()
    if turn is not None:
        turn.outcome = outcome


# --- secrets -----------------------------------------------------------------------------

_SECRET_PATTERNS: Final = (
    # Authorization header values, wherever they are quoted
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9\-._~+/]+=*"), rf"\1 {REDACTED}"),
    # a JSON web token on its own (three base64url parts, the first a JSON header)
    (re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"), REDACTED),
    # name=value in URLs, forms and messages
    (
        re.compile(
            r"(?i)\b((?:access_|id_|refresh_)?token|client_secret|password|passwd|secret|sig)"
            r"=[^&\s'\"\\,]+"
        ),
        rf"\1={REDACTED}",
    ),
    # "Authorization: ..." / 'authorization': '...'
    (re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?)[^'\"\n,}]+"), rf"\1{REDACTED}"),
    # a password in a URL (postgresql://user:password@host)
    (re.compile(r"(\b[a-z][a-z0-9+.-]*://[^:/@\s]+:)[^@\s/]+@"), rf"\1{REDACTED}@"),
)
_SECRET_NAME = re.compile(r"(?i)authori[sz]ation|token|password|secret|cookie|credential|api_?key")
# Shorter values are too likely to appear in ordinary text to be blanked everywhere.
_MIN_SECRET = 6


class Redactor:
    """Blanks secrets in log text: the given values, and credentials by their shape."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        values = sorted({s for s in secrets if len(s) >= _MIN_SECRET}, key=len, reverse=True)
        self._values = re.compile("|".join(map(re.escape, values))) if values else None

    def __call__(self, text: str) -> str:
        """The text with every secret blanked."""
        if self._values is not None:
            text = self._values.sub(REDACTED, text)
        for pattern, replacement in _SECRET_PATTERNS:
            text = pattern.sub(replacement, text)
        return text

    def value(self, name: str, value: Any) -> Any:
        """An `extra` value as logged: blanked when its name says it holds a secret, its
        text redacted, anything not JSON's own kind as text."""
        if _SECRET_NAME.search(name):
            return REDACTED
        if value is None or isinstance(value, bool | int | float):
            return value
        return self(value if isinstance(value, str) else str(value))


def secrets_of(settings: Settings) -> tuple[str, ...]:
    """Every secret the settings hold, for the formatters to blank wherever it appears."""
    found = [
        settings.app_password,
        settings.graph_client_secret,
        settings.ics_signing_secret,
        *settings.link_secrets,
        settings.applicationinsights_connection_string,
    ]
    with contextlib.suppress(ValueError):  # a URL that does not parse holds none we can find
        found.append(urlsplit(settings.database_url).password or "")
    return tuple(s for s in found if s)


# --- formatters ----------------------------------------------------------------------------

# What every LogRecord has; anything else on a record came from `extra`.
_STANDARD: Final = frozenset(
    {*vars(logging.LogRecord("", 0, "", 0, "", (), None)), "message", "asctime", "taskName"}
)


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, the turn's fields, extras."""

    def __init__(self, redact: Redactor | None = None) -> None:
        super().__init__()
        self._redact = redact or Redactor()

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON, secrets blanked."""
        redact = self._redact
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        turn = _TURN.get()
        if turn is not None:
            entry.update(turn.fields())
        for name, value in _extras(record).items():
            entry[name] = redact.value(name, value)
        if record.exc_info:
            record.exc_text = record.exc_text or self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = redact(record.exc_text)
        if record.stack_info:
            entry["stack"] = redact(self.formatStack(record.stack_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """The familiar line, with the turn's fields and the extras appended as name=value."""

    def __init__(self, redact: Redactor | None = None) -> None:
        super().__init__(TEXT_FORMAT)
        self._redact = redact or Redactor()

    def format(self, record: logging.LogRecord) -> str:
        """The record as text, secrets blanked."""
        line = super().format(record)
        turn = _TURN.get()
        fields = {**(turn.fields() if turn is not None else {}), **_extras(record)}
        if fields:
            pairs = " ".join(f"{k}={self._redact.value(k, v)}" for k, v in fields.items())
            head, newline, rest = line.partition("\n")
            line = f"{head} [{pairs}]{newline}{rest}"
        return self._redact(line)


def formatter(log_format: str, secrets: Iterable[str] = ()) -> logging.Formatter:
    """The formatter for LOG_FORMAT (`text` or `json`)."""
    if log_format not in FORMATS:
        raise ValueError(f"LOG_FORMAT must be one of {', '.join(FORMATS)}")
    redact = Redactor(secrets)
    return JsonFormatter(redact) if log_format == "json" else TextFormatter(redact)


def configure(settings: Settings) -> None:
    """The process's logging as the settings ask: one handler on standard error, in
    LOG_FORMAT, at LOG_LEVEL, blanking the settings' secrets; it replaces the console
    handler logging.basicConfig set up, and leaves any other handler be."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(settings.log_format, secrets_of(settings)))
    root = logging.getLogger()
    for old in list(root.handlers):
        if type(old) is logging.StreamHandler:  # logging.basicConfig's, or ours before
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.log_level)
