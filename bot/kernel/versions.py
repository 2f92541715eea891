"""The optimistic lock as people meet it.

Every card whose buttons change a record carries the version it was rendered from (under
`cards.verbs.VERSION_KEY`). A click from an older rendering, or one that loses a race at
the save (storage raises `StaleVersion`), changes nothing: it is audited as a refusal and
answered with the record as it is now, a line saying what changed meanwhile (from the audit
trail: what, by which agency, when) and what the person typed, kept.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.domain.audit import AuditEvent, AuditVerb
from bot.domain.minutes import day_label
from bot.kernel import audit
from cards.verbs import VERSION_KEY

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from datetime import datetime

    from bot.domain.panel import Panel
    from bot.kernel.ports import UnitOfWork
    from bot.kernel.router import Request

# The audit trail's verbs that change a record.
CHANGES = frozenset({AuditVerb.CREATE, AuditVerb.UPDATE, AuditVerb.DELETE})
# How far back the trail is searched for the change that made a card stale.
LOOK_BACK = 20
# What an audit detail says, as the line about it says it ("was marked done").
DONE_WORDS: Mapping[str, str] = {
    "done": "marked done",
    "update added": "given an update",
    "can't do this": "marked as one the agency can't do",
    "carried forward": "carried forward",
    "escalated": "escalated",
    "cancelled": "cancelled",
    "answered": "answered",
    "summary": "given a summary",
}
# Details that begin so, said so ("lead agency Riverside Police" is "given a lead agency").
DONE_PREFIXES: Sequence[tuple[str, str]] = (
    ("lead agency", "given a lead agency"),
    ("risk level", "given a new risk level"),
    ("review at", "set for review"),
    ("closed", "closed"),
    ("for ", "given a new action"),
    ("agenda published", "published"),
    ("aob", "given another item"),
)
STALE_DETAIL = "stale card: version {rendered}, now {current}"
NOT_SAVED = "Nothing of yours was saved"


def rendered_version(data: Mapping[str, Any]) -> int | None:
    """The version the clicked card was rendered from; None when it carries none (a card
    from before versions, or data made up), which no stored version equals."""
    raw = data.get(VERSION_KEY)
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int) and raw >= 0:
        return raw
    if isinstance(raw, str) and raw.strip().isdigit() and len(raw.strip()) < 12:
        return int(raw.strip())
    return None


def is_stale(data: Mapping[str, Any], current: int) -> bool:
    """Whether the card was rendered from another version than the one stored now."""
    return rendered_version(data) != current


async def latest_change(
    uow: UnitOfWork, panel: Panel, entities: Sequence[tuple[str, str]]
) -> AuditEvent | None:
    """The newest change the audit trail holds on any of `entities` ((entity, id) pairs)."""
    events = await uow.audit.trail(panel.id, list(entities), limit=LOOK_BACK)
    return next((e for e in events if e.verb in CHANGES), None)


def _done(detail: str | None) -> str:
    text = (detail or "").strip().casefold()
    if text in DONE_WORDS:
        return DONE_WORDS[text]
    for prefix, words in DONE_PREFIXES:
        if text.startswith(prefix):
            return words
    return "changed"


async def _by(uow: UnitOfWork, panel: Panel, event: AuditEvent, me: str | None) -> str:
    """Who made the change, as the card already shows people: their agency."""
    if event.actor_member_id is not None and event.actor_member_id == me:
        return "you"
    member = (
        await uow.members.get(panel.id, event.actor_member_id) if event.actor_member_id else None
    )
    agency = (
        await uow.agencies.get(panel.id, member.agency_id) if member and member.agency_id else None
    )
    if agency is not None:
        return agency.name
    return "the panel's coordinator" if member is not None else "the panel"


def _when(at: datetime, panel: Panel, now: datetime) -> str:
    zone = ZoneInfo(panel.timezone)
    local, today = at.astimezone(zone), now.astimezone(zone).date()
    if local.date() == today:
        return f"at {local:%H:%M}"
    return f"on {day_label(local.date())} at {local:%H:%M}"


async def changed_meanwhile(
    uow: UnitOfWork,
    panel: Panel,
    what: str,
    entities: Sequence[tuple[str, str]],
    *,
    now: datetime,
    me: str | None = None,
) -> str:
    """The line a refused stale click starts with, e.g. "This action was marked done by
    Riverside Homes (Housing) at 10:42 while you were typing; here it is now." `what` is
    e.g. "This action"; nothing is named that the card does not show already."""
    event = await latest_change(uow, panel, entities)
    if event is None:
        return f"{what} was changed while you were typing; here it is now."
    by = await _by(uow, panel, event, me)
    return (
        f"{what} was {_done(event.detail)} by {by} {_when(event.at, panel, now)} "
        "while you were typing; here it is now."
    )


async def record_refusal(
    uow: UnitOfWork,
    request: Request,
    entity: str,
    entity_id: str,
    *,
    current: int,
    at: datetime,
) -> None:
    """Audit a stale click (in `uow`; the caller commits): the trail then holds both the
    change that won and the click that was refused, with the version the card showed."""
    rendered = rendered_version(request.data)
    detail = STALE_DETAIL.format(rendered="none" if rendered is None else rendered, current=current)
    await audit.record(uow, request, AuditVerb.REFUSE, entity, entity_id, detail, at=at)


def kept(typed: str | None, *, in_the_box: bool) -> str:
    """What the line says of the person's text: kept in the card's box, or quoted back
    (the cards that do this go to private chats only)."""
    if not typed:
        return f"{NOT_SAVED}."
    if in_the_box:
        return f"{NOT_SAVED}; what you typed is kept in the box below."
    return f"{NOT_SAVED}. You had typed: \u201c{typed}\u201d"
