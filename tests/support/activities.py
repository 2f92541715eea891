"""Teams activity JSON as Teams (and the Agents Playground) sends it; all people invented."""

from __future__ import annotations

import itertools
from typing import Any

from tests.support.world import AAD

TENANT = "6f1c2a9e-3b7d-4e58-9a21-0c4d5e6f7a80"
TEAM = "19:riverside-cmarac@thread.tacv2"
BOT_ID = "28:marac-bot"
PRIYA = "3d9b6c1e-1a2f-4c3b-8d4e-5f6a7b8c9d01"
GEMMA = "3d9b6c1e-1a2f-4c3b-8d4e-5f6a7b8c9d03"
STRANGER = "9e8d7c6b-0000-4000-8000-00000000abcd"

_ids = itertools.count(1)


def _base(
    service_url: str,
    *,
    aad: str,
    name: str,
    conversation: dict[str, Any],
    channel_data: dict[str, Any],
    activity_id: str | None,
) -> dict[str, Any]:
    return {
        "id": activity_id or f"act-{next(_ids)}",
        "channelId": "msteams",
        "serviceUrl": service_url,
        "timestamp": "2026-11-20T10:00:00.000Z",
        "from": {"id": f"29:{aad}", "aadObjectId": aad, "name": name},
        "recipient": {"id": BOT_ID, "name": "Community MARAC"},
        "conversation": conversation,
        "channelData": channel_data,
        "locale": "en-GB",
    }


def personal_message(
    service_url: str,
    text: str,
    *,
    aad: str = PRIYA,
    name: str = "Priya Raman",
    activity_id: str | None = None,
    value: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A message typed in the personal chat with the bot."""
    activity = _base(
        service_url,
        aad=aad,
        name=name,
        conversation={
            "id": f"a:personal-{aad}",
            "conversationType": "personal",
            "tenantId": TENANT,
        },
        channel_data={"tenant": {"id": TENANT}},
        activity_id=activity_id,
    )
    activity.update({"type": "message", "text": text})
    if value is not None:
        activity["value"] = value
    return activity


def channel_message(
    service_url: str, text: str, *, aad: str = PRIYA, name: str = "Priya Raman"
) -> dict[str, Any]:
    """A message in the team's General channel that mentions the bot."""
    activity = _base(
        service_url,
        aad=aad,
        name=name,
        conversation={
            "id": f"{TEAM};messageid=1700000000000",
            "conversationType": "channel",
            "isGroup": True,
            "tenantId": TENANT,
        },
        channel_data={
            "tenant": {"id": TENANT},
            "team": {"id": TEAM, "name": "Riverside Community MARAC"},
            "channel": {"id": TEAM, "name": "General"},
        },
        activity_id=None,
    )
    activity.update(
        {
            "type": "message",
            "text": f"<at>Community MARAC</at> {text}",
            "entities": [
                {
                    "type": "mention",
                    "text": "<at>Community MARAC</at>",
                    "mentioned": {"id": BOT_ID, "name": "Community MARAC"},
                }
            ],
        }
    )
    return activity


def card_invoke(
    service_url: str,
    verb: str,
    data: dict[str, Any],
    *,
    aad: str = PRIYA,
    name: str = "Priya Raman",
    activity_id: str | None = None,
) -> dict[str, Any]:
    """An Action.Execute click in the personal chat."""
    activity = _base(
        service_url,
        aad=aad,
        name=name,
        conversation={
            "id": f"a:personal-{aad}",
            "conversationType": "personal",
            "tenantId": TENANT,
        },
        channel_data={"tenant": {"id": TENANT}, "source": {"name": "message"}},
        activity_id=activity_id,
    )
    activity.update(
        {
            "type": "invoke",
            "name": "adaptiveCard/action",
            "value": {"action": {"type": "Action.Execute", "verb": verb, "data": data}},
        }
    )
    return activity


def bot_installed_personal(service_url: str, *, aad: str = PRIYA) -> dict[str, Any]:
    """The conversationUpdate Teams sends when a person adds the bot."""
    activity = _base(
        service_url,
        aad=aad,
        name="Priya Raman",
        conversation={
            "id": f"a:personal-{aad}",
            "conversationType": "personal",
            "tenantId": TENANT,
        },
        channel_data={"tenant": {"id": TENANT}},
        activity_id=None,
    )
    activity.update({"type": "conversationUpdate", "membersAdded": [{"id": BOT_ID}]})
    return activity


def bot_installed_in_team(service_url: str, *, team: str = TEAM) -> dict[str, Any]:
    """The conversationUpdate Teams sends when the bot is added to a team."""
    activity = _base(
        service_url,
        aad=PRIYA,
        name="Priya Raman",
        conversation={"id": team, "conversationType": "channel", "isGroup": True},
        channel_data={
            "tenant": {"id": TENANT},
            "team": {"id": team, "name": "Some team"},
            "eventType": "teamMemberAdded",
        },
        activity_id=None,
    )
    activity.update({"type": "conversationUpdate", "membersAdded": [{"id": BOT_ID}]})
    return activity


# ---- the group chat and the Teams meeting's chat ------------------------------------------

GROUP_CHAT = "19:riverside-group-chat@thread.v2"
MEETING_CHAT = "19:meeting_NzY4ZGYxMmMtMjQ1Ny00@thread.v2"
TEAMS_MEETING = "MCMjMjg6Y29tbXVuaXR5LW1hcmFj"
_group_ids = itertools.count(1)


def group_message(
    service_url: str, text: str, *, who: str, meeting: bool = False
) -> dict[str, Any]:
    """A message that mentions the bot in the Playground's group chat (no team there), or
    in a Teams meeting's chat (a group chat whose channelData names the meeting)."""
    channel_data: dict[str, Any] = {"tenant": {"id": TENANT}}
    if meeting:
        channel_data["meeting"] = {"id": TEAMS_MEETING}
    return {
        "id": f"group-{next(_group_ids)}",
        "channelId": "msteams",
        "serviceUrl": service_url,
        "timestamp": "2026-11-20T10:00:00.000Z",
        "from": {"id": f"29:{AAD[who]}", "aadObjectId": AAD[who], "name": who},
        "recipient": {"id": BOT_ID, "name": "Community MARAC"},
        "conversation": {
            "id": MEETING_CHAT if meeting else GROUP_CHAT,
            "conversationType": "groupChat",
            "isGroup": True,
            "tenantId": TENANT,
        },
        "channelData": channel_data,
        "locale": "en-GB",
        "type": "message",
        "text": f"<at>Community MARAC</at> {text}",
        "entities": [
            {
                "type": "mention",
                "text": "<at>Community MARAC</at>",
                "mentioned": {"id": BOT_ID, "name": "Community MARAC"},
            }
        ],
    }


def group_invoke(
    service_url: str,
    verb: str,
    data: dict[str, Any],
    *,
    who: str,
    activity_id: str | None = None,
    meeting: bool = True,
) -> dict[str, Any]:
    """An Action.Execute click on a card in the meeting's chat (or the group chat)."""
    activity = group_message(service_url, "", who=who, meeting=meeting)
    activity.pop("entities")
    activity.pop("text")
    activity.update(
        {
            "id": activity_id or f"group-invoke-{next(_group_ids)}",
            "type": "invoke",
            "name": "adaptiveCard/action",
            "value": {"action": {"type": "Action.Execute", "verb": verb, "data": data}},
        }
    )
    return activity
