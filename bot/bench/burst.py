"""A meeting's attendees acknowledging the confidentiality statement all at once.

The chair types `start` in the meeting's chat (a group chat whose channelData names the
Teams meeting) and the bot posts the confidentiality card there; then `attendees` members
of the panel press "I acknowledge" on it within `spread` seconds of one another (evenly
spaced, each click a separate request, all in flight together), as a room full of people
does when the chair asks. Each click is timed from its POST to its answer (the card the
bot answers the invoke with). Every acknowledgement must then be in the database exactly
once: one attendance row per attendee, and one audit event for each.

Before the burst, the coordinator acknowledges too (untimed), so that the measured clicks
find a warm process, as they would in a bot that has been running all morning.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import aiohttp

from bot.bench.seed import BENCH_TENANT, BenchMember
from bot.bench.turns import BOT_ACCOUNT, percentile, post
from bot.domain.audit import AuditVerb
from bot.domain.panel import Role
from cards.chair import ACK_BUTTON, CONFIDENTIALITY_TITLE
from cards.verbs import MEETING_KEY

if TYPE_CHECKING:
    from collections.abc import Sequence

    from bot.bench.connector import FakeConnector
    from bot.bench.seed import SeededPanel
    from storage import SqlStorage

RECORDED = "recorded as attending"
_ids = itertools.count(1)


@dataclass(frozen=True)
class MeetingChat:
    """The Teams meeting's chat the burst happens in."""

    conversation_id: str
    meeting_id: str


def _base(service_url: str, member: BenchMember, chat: MeetingChat) -> dict[str, Any]:
    return {
        "id": f"burst-{next(_ids)}-{time.monotonic_ns()}",
        "channelId": "msteams",
        "serviceUrl": service_url,
        "timestamp": "2026-01-01T10:00:00.000Z",
        "from": {
            "id": f"29:{member.aad_object_id}",
            "aadObjectId": member.aad_object_id,
            "name": member.name,
        },
        "recipient": dict(BOT_ACCOUNT),
        "conversation": {
            "id": chat.conversation_id,
            "conversationType": "groupChat",
            "isGroup": True,
            "tenantId": BENCH_TENANT,
        },
        "channelData": {"tenant": {"id": BENCH_TENANT}, "meeting": {"id": chat.meeting_id}},
        "locale": "en-GB",
    }


def meeting_message(
    service_url: str, member: BenchMember, chat: MeetingChat, text: str
) -> dict[str, Any]:
    """A message in the meeting's chat, mentioning the bot."""
    mention = f"<at>{BOT_ACCOUNT['name']}</at>"
    return {
        **_base(service_url, member, chat),
        "type": "message",
        "text": f"{mention} {text}",
        "entities": [{"type": "mention", "text": mention, "mentioned": dict(BOT_ACCOUNT)}],
    }


def meeting_invoke(
    service_url: str, member: BenchMember, chat: MeetingChat, verb: str, data: dict[str, Any]
) -> dict[str, Any]:
    """An Action.Execute click on a card in the meeting's chat."""
    return {
        **_base(service_url, member, chat),
        "type": "invoke",
        "name": "adaptiveCard/action",
        "value": {"action": {"type": "Action.Execute", "verb": verb, "data": data}},
    }


@dataclass
class BurstResult:
    """The clicks' round trips, what failed, and what the database holds afterwards."""

    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    attendees: int = 0
    # Attendance rows and audit events of the burst's attendees, and distinct attendees.
    attendance_rows: int = 0
    distinct_attendees: int = 0
    audit_events: int = 0

    @property
    def recorded_once(self) -> bool:
        """Every attendee's acknowledgement in the database, each exactly once."""
        return (
            not self.errors
            and self.attendance_rows == self.attendees
            and self.distinct_attendees == self.attendees
            and self.audit_events == self.attendees
        )

    def p99_ms(self) -> float:
        return percentile(self.latencies, 99) * 1000

    def details(self) -> dict[str, Any]:
        return {
            "attendees": self.attendees,
            "answered": len(self.latencies),
            "attendance_rows": self.attendance_rows,
            "distinct_attendees": self.distinct_attendees,
            "audit_events": self.audit_events,
            "p50_ms": round(percentile(self.latencies, 50) * 1000, 1),
            "p99_ms": round(self.p99_ms(), 1),
            "errors": self.errors[:5],
        }


def ack_button(card: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The verb and data of the card's "I acknowledge" button."""
    for action in card.get("actions", []):
        if action.get("title") == ACK_BUTTON:
            return str(action["verb"]), dict(action.get("data") or {})
    raise RuntimeError("the confidentiality card has no acknowledge button")


def _confidentiality_card(fake: FakeConnector, conversation_id: str) -> dict[str, Any] | None:
    for activity in reversed(fake.to_conversation(conversation_id)):
        for attachment in activity.get("attachments") or []:
            content = attachment.get("content")
            if isinstance(content, dict) and content.get("fallbackText") == CONFIDENTIALITY_TITLE:
                return content
    return None


def _answered(status: int, body: Any) -> bool:
    return (
        status == 200
        and isinstance(body, dict)
        and body.get("statusCode") == 200
        and RECORDED in str(body.get("value"))
    )


async def burst(
    *,
    url: str,
    service_url: str,
    fake: FakeConnector,
    storage: SqlStorage,
    panel: SeededPanel,
    attendees: int,
    spread: float,
) -> BurstResult:
    """Start the panel's next meeting in a chat of its own, then have `attendees` members
    acknowledge within `spread` seconds; the clicks' latencies and what was recorded."""
    chair = next(m for m in panel.members if Role.CHAIR in m.roles)
    others = [m for m in panel.members if m is not chair and Role.COORDINATOR not in m.roles]
    if len(others) + 1 < attendees:
        raise ValueError(f"the panel has {len(panel.members)} members, too few for the burst")
    clicking = [chair, *others][:attendees]
    suffix = panel.panel_id[:8]
    chat = MeetingChat(f"19:meeting_bench-{suffix}@thread.v2", f"MCMjbench{suffix}")
    result = BurstResult(attendees=attendees)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=60)
    ) as session:
        _, status, _ = await post(session, url, meeting_message(service_url, chair, chat, "start"))
        card = _confidentiality_card(fake, chat.conversation_id)
        if status not in (200, 201) or card is None:
            raise RuntimeError(f"`start` in the meeting chat did not post the card (HTTP {status})")
        verb, data = ack_button(card)
        meeting_id = str(data[MEETING_KEY])
        # The warm-up click (untimed), by someone who is not among the attendees measured.
        _, status, body = await post(
            session, url, meeting_invoke(service_url, panel.coordinator, chat, verb, data)
        )
        if not _answered(status, body):
            raise RuntimeError(f"the warm-up acknowledgement failed: HTTP {status} {body!r:.200}")

        async def click(n: int, member: BenchMember) -> None:
            await asyncio.sleep(spread * n / attendees)
            activity = meeting_invoke(service_url, member, chat, verb, data)
            try:
                elapsed, status, body = await post(session, url, activity)
            except (aiohttp.ClientError, TimeoutError) as error:
                result.errors.append(f"{member.name}: {type(error).__name__}")
                return
            if _answered(status, body):
                result.latencies.append(elapsed)
            else:
                result.errors.append(f"{member.name}: HTTP {status} {str(body)[:120]}")

        await asyncio.gather(*(click(n, member) for n, member in enumerate(clicking)))
    await _count(storage, panel, meeting_id, clicking, result)
    return result


async def _count(
    storage: SqlStorage,
    panel: SeededPanel,
    meeting_id: str,
    clicking: Sequence[BenchMember],
    result: BurstResult,
) -> None:
    """What the database holds for the attendees measured: attendance rows and audit events."""
    ids = {m.id for m in clicking}
    async with storage.unit_of_work() as uow:
        present = [
            a
            for a in await uow.meetings.attendance(panel.panel_id, meeting_id)
            if a.member_id in ids
        ]
        trail = await uow.audit.trail(
            panel.panel_id, [("attendance", meeting_id)], limit=10 * len(clicking) + 10
        )
    result.attendance_rows = len(present)
    result.distinct_attendees = len({a.member_id for a in present})
    result.audit_events = sum(
        1 for e in trail if e.verb is AuditVerb.CREATE and e.actor_member_id in ids
    )
