"""Structured logs (bot/observability/logs.py): every line of a turn carries the turn's
context, JSON lines parse, extras are kept, secrets never print, and a referral's subject
never reaches the log. Every person, date of birth and secret here is invented."""

from __future__ import annotations

import io
import json
import logging
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import pytest

from bot.observability import logs
from bot.observability.logs import JsonFormatter, Redactor, TextFormatter, formatter, secrets_of
from bot.settings import Settings, SettingsError
from cards.verbs import Verb
from tests.support import activities as acts
from tests.support import cards
from tests.test_intake_service import ABOUT, CONSENT, HOUSEHOLD, REVIEW, RISK_SOME

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from bot.kernel.ports import Storage
    from tests.conftest import BotUnderTest

log = logging.getLogger("tests.logs")

APP_PASSWORD = "Zq8~invented-app-password-4471"
DB_PASSWORD = "invented-db-pass-9921"
JWT = (
    "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJpbnZlbnRlZCJ9."
    "c2lnbmF0dXJlLWludmVudGVkLWZvci10aGUtdGVzdA"
)
SECRET_SETTINGS = Settings(
    app_id="0b7c9f2e-5d4a-4c1b-9e8f-1a2b3c4d5e6f",
    app_password=APP_PASSWORD,
    app_tenant_id="6f1c2a9e-3b7d-4e58-9a21-0c4d5e6f7a80",
    database_url=f"postgresql+asyncpg://bot:{DB_PASSWORD}@db.invalid/marac",
    link_secrets=("an-invented-link-secret-of-more-than-32-characters",),
)
# The subject of the referral walked below: invented, and in no other test.
SUBJECT = {
    "s1.role": "victim",
    "s1.name": "Ottoline Marchbanks",
    "s1.aliases": "Lina Marchbanks",
    "s1.dob": "1961-09-14",
    "s1.address": "12 Quillon Row, Riverside",
    "s1.postcode": "rv9 4qx",
    "s1.phone": "020 7946 0314",
    "s1.safe_to_call": "true",
    "s1.vulnerabilities": "Hard of hearing",
    "s1.language": "English",
    "s1.interpreter": "false",
}
PERSONAL = (
    "Ottoline",
    "Marchbanks",
    "1961-09-14",
    "14/09/1961",
    "14 September 1961",
    "14 Sep 1961",
    "Quillon",
    "RV9 4QX",
    "rv9 4qx",
    "7946 0314",
)
AISHA = acts.AAD["Aisha"]


@contextmanager
def captured(
    made: logging.Formatter, level: int = logging.INFO
) -> Iterator[Callable[[], list[str]]]:
    """Every line the process logs meanwhile, through `made`, at `level` and above."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(made)
    root = logging.getLogger()
    before = root.level
    root.addHandler(handler)
    root.setLevel(level)
    try:
        yield lambda: stream.getvalue().splitlines()
    finally:
        root.removeHandler(handler)
        root.setLevel(before)


def parsed(lines: list[str]) -> list[dict[str, Any]]:
    """Each line as the JSON object it must be."""
    entries = []
    for line in lines:
        entry = json.loads(line)
        assert isinstance(entry, dict), line
        entries.append(entry)
    return entries


class LoggingStorage:
    """The real storage, logging a line each time a unit of work is opened: a line logged
    from deep inside every turn, by a module that knows nothing of turns."""

    def __init__(self, inner: Storage) -> None:
        self._inner = inner

    def unit_of_work(self) -> Any:
        log.info("unit of work opened")
        return self._inner.unit_of_work()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


@pytest.fixture
def bot_storage(sqlite_storage: Storage) -> Storage:
    """conftest's `bot` on a SQLite file whose units of work log a line."""
    return LoggingStorage(sqlite_storage)  # type: ignore[return-value]


# --- through the real app --------------------------------------------------------------------


async def test_every_line_of_a_turn_is_json_with_its_activity_panel_command_and_reference(
    bot: BotUnderTest,
) -> None:
    with captured(JsonFormatter()) as lines:
        response = await bot.post(
            acts.personal_message(bot.service_url, "case cm-2026-014", activity_id="act-case-1")
        )
        assert response.status in (200, 201)
    entries = parsed(lines())
    inside = [e for e in entries if e["message"] == "unit of work opened"]
    assert inside, entries
    async with bot.storage.unit_of_work() as uow:
        panel = await uow.panels.by_team(acts.TEAM)
    assert panel is not None
    for entry in inside:
        assert entry["level"] == "INFO"
        assert entry["logger"] == "tests.logs"
        assert entry["time"].endswith("+00:00")
        assert entry["activity_key"]
        assert entry["conversation"] == "personal"
    # From the moment each is known: the panel once the caller is resolved, the command and
    # its reference once dispatch has found the command.
    assert inside[-1]["panel_id"] == panel.id
    assert inside[-1]["command"] == "case"
    assert inside[-1]["reference"] == "CM-2026-014"
    assert len({e["activity_key"] for e in inside}) == 1


async def test_a_command_button_names_the_command_it_runs_and_a_redelivery_its_activity(
    bot: BotUnderTest,
) -> None:
    click = acts.card_invoke(
        bot.service_url, Verb.COMMAND.value, {"command": "help"}, activity_id="act-click-7"
    )
    with captured(JsonFormatter()) as lines:
        assert (await bot.post(click)).status == 200
    first = [e for e in parsed(lines()) if e["message"] == "unit of work opened"]
    assert first and first[-1]["command"] == "help"  # the button runs `help`, as typed
    with captured(JsonFormatter()) as lines:
        assert (await bot.post(click)).status == 200  # Teams delivers it again
    again = [e for e in parsed(lines()) if e["message"] == "redelivered activity ignored"]
    assert len(again) == 1
    assert again[0]["activity_key"] == first[0]["activity_key"]
    assert "command" not in again[0]  # it ran nothing


async def test_lines_outside_a_turn_carry_no_turn_context() -> None:
    with captured(JsonFormatter()) as lines:
        log.info("between turns")
    (entry,) = parsed(lines())
    assert set(entry) == {"time", "level", "logger", "message"}


async def test_a_referral_walked_to_triage_logs_nothing_of_its_subject(
    bot: BotUnderTest,
) -> None:
    """Every line the bot's own modules log (DEBUG up) and everything else logs (INFO up)
    while a referral is made, corrected, submitted, triaged and its cards delivered."""
    text_lines = io.StringIO()
    text_handler = logging.StreamHandler(text_lines)
    text_handler.setFormatter(TextFormatter())
    own = [logging.getLogger(name) for name in ("bot", "storage", "cards", "tests")]
    levels = [logger.level for logger in own]
    for logger in own:
        logger.setLevel(logging.DEBUG)
    logging.getLogger().addHandler(text_handler)
    try:
        with captured(JsonFormatter()) as lines:
            await walk_a_referral(bot)
    finally:
        logging.getLogger().removeHandler(text_handler)
        for logger, level in zip(own, levels, strict=True):
            logger.setLevel(level)
    entries = parsed(lines())
    assert len(entries) > 20, "the walk logged too little to show anything"
    assert {e.get("command") for e in entries} >= {"refer", Verb.REFER_NEXT.value, "referrals"}
    logged = "\n".join(lines()) + "\n" + text_lines.getvalue()
    for personal in PERSONAL:
        assert personal.lower() not in logged.lower(), personal


async def walk_a_referral(bot: BotUnderTest) -> None:
    """Aisha refers Ottoline Marchbanks (a mistake on the way), submits, and the
    coordinator's triage card and the notices go out."""
    await bot.post(acts.personal_message(bot.service_url, "refer", aad=AISHA, name="Aisha Bello"))
    card = bot.connector.cards()[-1]
    referral_id = str(cards.button(card, "Next")["data"]["referral_id"])
    wrong = {**SUBJECT, "s1.dob": "1961-14-09"}
    for step, typed in (
        ("about", ABOUT),
        ("subjects", wrong),
        ("subjects", SUBJECT),
        ("household", HOUSEHOLD),
        ("consent", CONSENT),
        ("risk", RISK_SOME),
    ):
        await click(bot, Verb.REFER_NEXT, {"referral_id": referral_id, "step": step, **typed})
    body = await click(
        bot, Verb.REFER_SUBMIT, {"referral_id": referral_id, "step": "review", **REVIEW}
    )
    assert "submitted" in json.dumps(body)
    await bot.deliver()
    # The coordinator opens the referrals waiting for her.
    await bot.post(acts.personal_message(bot.service_url, "referrals"))
    await bot.deliver()


async def click(bot: BotUnderTest, verb: Verb, data: dict[str, Any]) -> dict[str, Any]:
    activity = acts.card_invoke(bot.service_url, verb.value, data, aad=AISHA, name="Aisha Bello")
    response = await bot.post(activity)
    assert response.status == 200
    body: dict[str, Any] = await response.json()
    return body


async def test_a_refused_request_logs_neither_its_token_nor_the_app_password(
    sqlite_storage: Storage, connector: Any, clock: Any
) -> None:
    from tests.support.world import serving

    settings = Settings(
        app_id=SECRET_SETTINGS.app_id,
        app_password=APP_PASSWORD,
        app_tenant_id=SECRET_SETTINGS.app_tenant_id,
        # Nothing answers here: authentication cannot complete, and says so in the log.
        openid_metadata_url="http://127.0.0.1:9/.well-known/openid-configuration",
    )
    made = formatter("json", secrets_of(settings))
    async with serving(sqlite_storage, connector, clock, settings=settings) as running:
        with captured(made) as lines:
            response = await running.post(
                acts.personal_message(running.service_url, "help"),
                Authorization=f"Bearer {JWT}",
            )
    assert response.status == 401
    entries = parsed(lines())
    assert entries, "the refusal was not logged"
    logged = "\n".join(lines())
    assert JWT not in logged
    assert JWT.split(".")[0] not in logged
    assert APP_PASSWORD not in logged


# --- the formatters ---------------------------------------------------------------------------


def record(message: str, *args: Any, **extra: Any) -> logging.LogRecord:
    made = logging.LogRecord("bot.example", logging.WARNING, __file__, 1, message, args, None)
    for name, value in extra.items():
        setattr(made, name, value)
    return made


def test_extras_are_kept_as_fields_of_their_own() -> None:
    line = JsonFormatter().format(record("sent %s", "d-1", delivery_id="d-1", attempt=2))
    entry = json.loads(line)
    assert entry["message"] == "sent d-1"
    assert entry["delivery_id"] == "d-1"
    assert entry["attempt"] == 2
    assert entry["level"] == "WARNING"
    text = TextFormatter().format(record("sent", delivery_id="d-1"))
    assert text.endswith("bot.example: sent [delivery_id=d-1]")


def test_a_traceback_is_one_field_of_one_line() -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        with captured(JsonFormatter()) as lines:
            log.exception("failed [ref %s]", "ab12cd34")
    (line,) = lines()
    entry = json.loads(line)
    assert entry["message"] == "failed [ref ab12cd34]"
    assert "RuntimeError: boom" in entry["exception"]


SECRET_LINES = [
    record("signing in with %s", APP_PASSWORD),
    record("header Authorization: Bearer %s", JWT),
    record("raw token %s", JWT),
    record("GET /panels/p/meetings.ics?token=invented-capability-123&x=1"),
    record("connecting to postgresql://bot:%s@db.invalid/marac", DB_PASSWORD),
    record("headers", authorization=f"Bearer {JWT}", client_secret="x", access_token="y"),
    record("form client_secret=%s&grant_type=client_credentials", APP_PASSWORD),
    record("{'Authorization': 'Basic aW52ZW50ZWQ6c2VjcmV0'}"),
]


@pytest.mark.parametrize("log_format", ["json", "text"])
@pytest.mark.parametrize("line", SECRET_LINES, ids=lambda r: r.msg[:24])
def test_secrets_never_print(log_format: str, line: logging.LogRecord) -> None:
    printed = formatter(log_format, secrets_of(SECRET_SETTINGS)).format(line)
    for secret in (
        APP_PASSWORD,
        JWT,
        JWT.split(".")[1],
        DB_PASSWORD,
        "invented-capability-123",
        "aW52ZW50ZWQ6c2VjcmV0",
    ):
        assert secret not in printed, printed
    assert "[redacted]" in printed
    if log_format == "json":
        json.loads(printed)


def test_a_secret_in_a_traceback_never_prints() -> None:
    try:
        raise ValueError(f"could not sign in with {APP_PASSWORD}")
    except ValueError:
        with captured(formatter("json", secrets_of(SECRET_SETTINGS))) as lines:
            log.exception("sign-in failed")
    (line,) = lines()
    assert APP_PASSWORD not in line
    assert "[redacted]" in json.loads(line)["exception"]


def test_the_settings_secrets_are_all_found() -> None:
    found = secrets_of(SECRET_SETTINGS)
    assert APP_PASSWORD in found
    assert DB_PASSWORD in found
    assert SECRET_SETTINGS.link_secrets[0] in found


def test_short_values_are_not_blanked_everywhere() -> None:
    # A six-character minimum: "abc" as a secret would blank every "abc" in every line.
    assert Redactor(["abc"])("abc is fine") == "abc is fine"


def test_log_format_is_text_or_json() -> None:
    assert Settings.from_env({"LOG_FORMAT": "JSON"}, dotenv=None).log_format == "json"
    assert Settings.from_env({}, dotenv=None).log_format == "text"
    with pytest.raises(SettingsError, match="LOG_FORMAT"):
        Settings.from_env({"LOG_FORMAT": "xml"}, dotenv=None)


def test_configure_puts_one_handler_on_the_root_in_the_asked_format() -> None:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        console = logging.StreamHandler()
        root.addHandler(console)  # as logging.basicConfig leaves it
        logs.configure(Settings(log_format="json", log_level="WARNING"))
        consoles = [h for h in root.handlers if type(h) is logging.StreamHandler]
        assert len(consoles) == 1
        assert consoles[0] is not console
        assert isinstance(consoles[0].formatter, JsonFormatter)
        assert root.level == logging.WARNING
        # Others' handlers are left be (a plain console handler is the one it replaces: an
        # earlier test in the same run may have left one).
        others = {h for h in handlers if type(h) is not logging.StreamHandler}
        assert others <= set(root.handlers)
    finally:
        for added in list(root.handlers):
            root.removeHandler(added)
        for old in handlers:
            root.addHandler(old)
        root.setLevel(level)
