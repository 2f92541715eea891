"""The msrest speed-ups for botbuilder's connector clients: installed by create_app, not by
importing anything, with the same retry status list as msrest's own, and serialising every
activity exactly as msrest alone does."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from botbuilder.core import TurnContext
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    ChannelAccount,
    ConversationAccount,
    Mention,
    TextFormatTypes,
)
from msrest.serialization import Serializer
from msrest.universal_http.requests import ClientRetryPolicy

from bot.app import create_app
from bot.settings import Settings
from storage import MemoryStorage

if TYPE_CHECKING:
    import pytest

ROOT = Path(__file__).resolve().parents[1]
MSREST_SAFE_CODES = [i for i in range(500) if i != 408] + [501, 505]


def test_create_app_installs_the_speed_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ClientRetryPolicy, "safe_codes", list(MSREST_SAFE_CODES))

    create_app(Settings(), storage=MemoryStorage(), deliver_in_background=False)

    assert isinstance(ClientRetryPolicy.safe_codes, frozenset)
    assert ClientRetryPolicy.safe_codes == frozenset(MSREST_SAFE_CODES)


def test_the_speed_up_leaves_the_retry_status_list_as_msrest_makes_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ClientRetryPolicy, "safe_codes", list(MSREST_SAFE_CODES))
    before = ClientRetryPolicy().policy.status_forcelist

    create_app(Settings(), storage=MemoryStorage(), deliver_in_background=False)

    assert ClientRetryPolicy().policy.status_forcelist == before
    assert 408 in before and 500 in before and 503 in before and 404 not in before


def test_importing_the_app_and_the_teams_layer_leaves_msrest_alone() -> None:
    probe = (
        "import bot.app, bot.teams.web, bot.teams.outbox, bot.bench.fanout\n"
        "from msrest.universal_http.requests import ClientRetryPolicy\n"
        "from msrest.serialization import Serializer\n"
        "print(type(ClientRetryPolicy.safe_codes).__name__)\n"
        "print(hasattr(Serializer.serialize_basic, 'plain_first'))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert result.stdout.split() == ["list", "False"]


def _activity() -> Activity:
    """A reply as the bot sends one: strings, an enum, numbers, booleans, nested models."""
    return Activity(
        type=ActivityTypes.message,
        id="1700000000000",
        text="Agenda for Tue 8 Dec 2026 · élevé",
        text_format=TextFormatTypes.markdown,
        channel_id="msteams",
        service_url="https://smba.example.org/uk/",
        from_property=ChannelAccount(id="28:bot", name="Community MARAC"),
        recipient=ChannelAccount(id="29:someone", name="Gemma Hartley", aad_object_id="3d9b"),
        conversation=ConversationAccount(
            id="a:1x", conversation_type="personal", tenant_id="t-1", is_group=False
        ),
        entities=[Mention(text="<at>Gemma</at>", type="mention")],
        channel_data={"notification": {"alert": True}, "count": 3, "ratio": 0.5},
        locale="en-GB",
    )


def _serialised(monkeypatch: pytest.MonkeyPatch, *, msrest_alone: bool) -> list[object]:
    if msrest_alone:
        monkeypatch.setattr(
            Serializer, "serialize_basic", Serializer.serialize_basic.msrest_original
        )
    activity = _activity()
    serializer = Serializer()
    return [
        activity.serialize(),
        TurnContext.get_conversation_reference(activity).serialize(),
        serializer.serialize_data(True, "bool", is_xml=True),
        serializer.serialize_data(7, "str"),
        serializer.serialize_data("7", "int"),
        serializer.serialize_data(TextFormatTypes.xml, "str"),
    ]


def test_activities_are_serialised_exactly_as_msrest_alone_would(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    create_app(Settings(), storage=MemoryStorage(), deliver_in_background=False)
    assert getattr(Serializer.serialize_basic, "plain_first", False)
    fast = _serialised(monkeypatch, msrest_alone=False)
    slow = _serialised(monkeypatch, msrest_alone=True)
    assert not getattr(Serializer.serialize_basic, "plain_first", False)
    assert repr(fast) == repr(slow)
    assert fast[2:] == ["true", "7", 7, "xml"]
