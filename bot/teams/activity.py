"""Reading what matters out of a Bot Framework activity, defensively."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from bot.domain.delivery import ConversationKind
from bot.kernel.router import Caller, Where

if TYPE_CHECKING:
    from botbuilder.schema import Activity

MAX_TEXT = 4000


def _get(obj: Any, *path: str) -> Any:
    """Follow keys or attributes, returning None as soon as one is missing."""
    for key in path:
        if obj is None:
            return None
        obj = obj.get(key) if isinstance(obj, dict) else getattr(obj, key, None)
    return obj


def caller_of(activity: Activity) -> Caller:
    """Who sent the activity."""
    sender = activity.from_property
    return Caller(
        teams_user_id=str(_get(sender, "id") or ""),
        aad_object_id=_get(sender, "aad_object_id") or None,
        name=str(_get(sender, "name") or "there"),
    )


def base_conversation_id(conversation_id: str) -> str:
    """A channel thread's id carries ';messageid=…'; the channel is the part before it."""
    return conversation_id.split(";", 1)[0]


def where_of(activity: Activity) -> Where:
    """The conversation the activity came from."""
    channel_data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    conversation = activity.conversation
    raw_kind = _get(conversation, "conversation_type") or "personal"
    meeting_id = _get(channel_data, "meeting", "id")
    if meeting_id:
        kind = ConversationKind.MEETING
    elif raw_kind == "channel":
        kind = ConversationKind.CHANNEL
    elif raw_kind == "groupChat":
        kind = ConversationKind.GROUP_CHAT
    else:
        kind = ConversationKind.PERSONAL
    team_id = _get(channel_data, "team", "id")
    tenant_id = _get(channel_data, "tenant", "id") or _get(conversation, "tenant_id")
    raw_id = str(_get(conversation, "id") or "")
    return Where(
        kind=kind,
        # A channel meeting's chat is its own thread of the channel: kept whole, so that the
        # meeting is bound to that thread and not to the whole channel.
        conversation_id=raw_id
        if kind is ConversationKind.MEETING
        else base_conversation_id(raw_id),
        team_id=str(team_id) if team_id else None,
        tenant_id=str(tenant_id) if tenant_id else None,
    )


def message_text(activity: Activity) -> str:
    """The typed text, bounded in length."""
    text = activity.text if isinstance(activity.text, str) else ""
    return text[:MAX_TEXT]


def dedupe_key(activity: Activity) -> str | None:
    """A key that is the same when Teams delivers the same activity again."""
    if not activity.id:
        return None
    conversation_id = _get(activity.conversation, "id") or ""
    key = f"{activity.channel_id}:{conversation_id}:{activity.id}"
    if len(key) > 400:
        # Cut short, two different activities could share a key (and the second be ignored
        # as a redelivery): a long key is stood for by its digest instead.
        key = "sha256:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
    return key
