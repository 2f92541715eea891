"""Malformed input at the HTTP endpoint, through the real app: a body too large or nested
too deep is refused before it is parsed, every invoke the bot does not handle gets a plain
4xx (whatever its value), and nothing logs a traceback or changes."""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

import pytest

from bot.teams.web import MAX_BODY_BYTES, MAX_JSON_DEPTH, json_too_deep
from tests.support import activities as acts

if TYPE_CHECKING:
    from tests.conftest import BotUnderTest

# Every invoke name botbuilder's TeamsActivityHandler (and ActivityHandler) dispatches, and
# some it does not know; but fileConsent/invoke, which the bot handles (the minutes as a Word
# file: tests/test_minutes_file_bot.py).
INVOKE_NAMES = (
    "",
    "actionableMessage/executeAction",
    "composeExtension/queryLink",
    "composeExtension/anonymousQueryLink",
    "composeExtension/query",
    "composeExtension/selectItem",
    "composeExtension/submitAction",
    "composeExtension/fetchTask",
    "composeExtension/querySettingUrl",
    "composeExtension/setting",
    "composeExtension/onCardButtonClicked",
    "task/fetch",
    "task/submit",
    "tab/fetch",
    "tab/submit",
    "config/fetch",
    "config/submit",
    "signin/verifyState",
    "signin/tokenExchange",
    "healthCheck",
    "handoff/action",
    "application/search",
    "made/up",
)
VALUES: tuple[Any, ...] = ("a string", ["a", "list"], 42, None, True, {"an": "object"}, {})


@pytest.fixture
def errors(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """What the app logs at ERROR or above (a traceback is logged there)."""
    caplog.set_level(logging.WARNING)
    return caplog.records


def _logged_errors(records: list[logging.LogRecord]) -> list[str]:
    return [r.getMessage() for r in records if r.levelno >= logging.ERROR]


async def _post_raw(bot: BotUnderTest, raw: bytes) -> tuple[int, Any]:
    response = await bot.client.post(
        "/api/messages", data=raw, headers={"Content-Type": "application/json"}
    )
    try:
        body = await response.json()
    except Exception:
        body = await response.text()
    return response.status, body


def _with_nested(activity: dict[str, Any], depth: int) -> bytes:
    """The activity as JSON, its `value` nested `depth` deep (json.dumps cannot go so deep)."""
    deep = '{"k": [' * (depth // 2) + '"bottom"' + "]}" * (depth // 2)
    return json.dumps({**activity, "value": "DEEP"}).replace('"DEEP"', deep).encode()


# ---- depth and size, before parsing --------------------------------------------------------


async def test_a_body_nested_a_thousand_deep_is_refused_before_it_is_parsed(
    bot: BotUnderTest, errors: list[logging.LogRecord]
) -> None:
    activity = acts.personal_message(bot.service_url, "help")
    status, body = await _post_raw(bot, _with_nested(activity, 1000))
    assert status == 400
    assert body == {"error": f"The JSON is nested deeper than {MAX_JSON_DEPTH} levels"}
    assert _logged_errors(errors) == []
    assert bot.connector.sent == []


@pytest.mark.parametrize("opener", [b"[", b"{", b'{"a":'])
async def test_bare_deep_json_of_every_shape_gets_a_400_not_a_500(
    bot: BotUnderTest, opener: bytes, errors: list[logging.LogRecord]
) -> None:
    status, body = await _post_raw(bot, opener * 100_000)
    assert status == 400, body
    assert _logged_errors(errors) == []


async def test_brackets_inside_strings_do_not_count_as_depth(bot: BotUnderTest) -> None:
    text = 'help [[[{{{ "quoted \\" [[[[ ' + "[" * 500
    status, _ = await _post_raw(
        bot, json.dumps(acts.personal_message(bot.service_url, text)).encode()
    )
    assert status == 201
    assert len(bot.connector.sent) == 1


async def test_a_reasonable_depth_is_accepted(bot: BotUnderTest) -> None:
    activity = acts.personal_message(bot.service_url, "help")
    status, _ = await _post_raw(bot, _with_nested(activity, MAX_JSON_DEPTH - 2))
    assert status == 201


@pytest.mark.parametrize("where", ["id", "conversation"])
@pytest.mark.parametrize("control", ["\x00", "\x01", "\n", "\x7f", "\u2028"])
async def test_an_activity_whose_ids_hold_control_characters_gets_a_400_and_changes_nothing(
    bot: BotUnderTest, errors: list[logging.LogRecord], where: str, control: str
) -> None:
    activity = acts.personal_message(bot.service_url, "refer")
    if where == "id":
        activity["id"] = f"f:1{control}2"
    else:
        activity["conversation"] = {**activity["conversation"], "id": f"a:1{control}2"}
    status, body = await _post_raw(bot, json.dumps(activity).encode())
    assert status == 400
    assert "printable" in json.dumps(body)
    assert bot.connector.sent == []  # no reply, so no turn ran
    assert _logged_errors(errors) == []
    # The same activity with clean ids is answered (it was its ids, nothing else).
    activity["id"] = "f:12"
    activity["conversation"] = {**activity["conversation"], "id": "a:12"}
    status, _ = await _post_raw(bot, json.dumps(activity).encode())
    assert status == 201
    assert bot.connector.sent


def test_the_depth_scan_counts_structure_only() -> None:
    assert not json_too_deep(b'{"a": [1, {"b": "[[[[[[[[["}]}', 3)
    assert json_too_deep(b'{"a": [1, {"b": [[]]}]}', 3)
    assert not json_too_deep(b'"\\\\" [ ]', 1)  # an escaped backslash ends before the quote
    assert json_too_deep(b"[" * 65, 64)
    assert not json_too_deep(b"[" * 64 + b"]" * 64, 64)


async def test_a_body_over_the_limit_is_refused_with_413(
    bot: BotUnderTest, errors: list[logging.LogRecord]
) -> None:
    activity = acts.personal_message(bot.service_url, "help")
    activity["channelData"]["padding"] = "x" * MAX_BODY_BYTES
    status, body = await _post_raw(bot, json.dumps(activity).encode())
    assert status == 413
    assert body == {"error": f"The body is larger than {MAX_BODY_BYTES // 1024} KB"}
    assert bot.connector.sent == []
    assert _logged_errors(errors) == []


async def test_a_chunked_body_over_the_limit_is_refused_without_a_length(
    bot: BotUnderTest,
) -> None:
    async def chunks() -> Any:
        for _ in range(MAX_BODY_BYTES // 1024 + 2):
            yield b" " * 1024

    response = await bot.client.post(
        "/api/messages", data=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status == 413


# ---- invokes -------------------------------------------------------------------------------


def _invoke(bot: BotUnderTest, name: str, value: Any) -> dict[str, Any]:
    activity = acts.card_invoke(bot.service_url, "help", {})
    if name:
        activity["name"] = name
    else:
        del activity["name"]
    activity["value"] = value
    return activity


async def test_a_file_consent_answer_whatever_its_value_is_answered_plainly(
    bot: BotUnderTest, errors: list[logging.LogRecord]
) -> None:
    for value in VALUES:
        response = await bot.post(_invoke(bot, "fileConsent/invoke", value))
        assert response.status == 200, (value, response.status)
    said = " ".join(bot.connector.texts())
    assert "Teams sent an answer I can't read." in said
    assert "went wrong" not in said
    assert _logged_errors(errors) == []


@pytest.mark.parametrize("name", INVOKE_NAMES)
async def test_every_invoke_the_bot_does_not_handle_gets_a_4xx_whatever_its_value(
    bot: BotUnderTest, name: str, errors: list[logging.LogRecord]
) -> None:
    for value in VALUES:
        response = await bot.post(_invoke(bot, name, value))
        body = await response.json()
        assert 400 <= response.status < 500, (name, value, response.status, body)
        assert body["value"]["message"] == "This bot does not handle that request.", body
        assert "went wrong" not in json.dumps(body)
    assert _logged_errors(errors) == []
    assert bot.connector.sent == []


@pytest.mark.parametrize("value", VALUES[:5])
async def test_an_action_execute_whose_value_is_not_an_object_gets_a_400(
    bot: BotUnderTest, value: Any, errors: list[logging.LogRecord]
) -> None:
    response = await bot.post(_invoke(bot, "adaptiveCard/action", value))
    assert response.status == 400
    assert _logged_errors(errors) == []


def test_two_activities_with_a_huge_channel_id_are_not_taken_for_one_redelivery() -> None:
    """Found by the fuzz test: a key cut at 400 characters made the second of two such
    activities look like a redelivery of the first, and it went unanswered."""
    from botbuilder.schema import Activity, ConversationAccount

    from bot.teams.activity import dedupe_key

    def activity(activity_id: str) -> Activity:
        return Activity(
            id=activity_id,
            channel_id="x" * 1000,
            conversation=ConversationAccount(id="a:personal-invented"),
        )

    first, second = dedupe_key(activity("fuzz-1")), dedupe_key(activity("fuzz-2"))
    assert first is not None and second is not None
    assert first != second and len(first) <= 400
    assert dedupe_key(activity("fuzz-1")) == first  # a real redelivery is still caught
