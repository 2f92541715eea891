"""The `audit` command: who viewed and changed a case or referral, newest first.

Events are recorded by bot.kernel.audit.record; this is the read side, for coordinators.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.domain.audit import AuditEvent, AuditVerb
from bot.domain.case import Case
from bot.domain.delivery import ConversationKind
from bot.domain.errors import NotFound
from bot.domain.panel import Agency, Member, Panel
from bot.domain.policy import Act
from bot.features.governance.commands import AUDIT_USAGE, ShowTrail
from bot.kernel.audit import record
from bot.kernel.guard import NOT_MEETINGS, Access, Target
from bot.kernel.localtime import when_text
from bot.kernel.ports import UnitOfWork
from bot.kernel.router import CommandSpec, Deps, Reply, Request, Router, VerbSpec
from cards.audit import (
    MAX_CARD_BYTES,
    AuditLine,
    AuditView,
    render_audit,
)
from cards.kit import Card
from cards.verbs import Verb

# Events fetched for one page; fewer are shown when the card would not fit.
PAGE = 40

VERB_WORDS: Mapping[AuditVerb, str] = {
    AuditVerb.VIEW: "viewed",
    AuditVerb.CREATE: "created",
    AuditVerb.UPDATE: "changed",
    AuditVerb.DELETE: "deleted",
    AuditVerb.REFUSE: "was refused",
    AuditVerb.EXPORT: "exported",
}
WHERE_WORDS: Mapping[str, str] = {
    ConversationKind.PERSONAL.value: "private chat",
    ConversationKind.CHANNEL.value: "team channel",
    ConversationKind.GROUP_CHAT.value: "group chat",
    ConversationKind.MEETING.value: "meeting chat",
}


# ---- the audit command ----------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """Whose trail: a case (with its referral, requests and actions), a referral, or all."""

    reference: str  # "" for the whole panel
    title: str
    entities: list[tuple[str, str]] | None
    viewed: tuple[str, str]  # the record the view itself is recorded on


async def _scope(uow: UnitOfWork, panel: Panel, reference: str) -> Scope:
    if not reference:
        return Scope("", f"Audit trail of {panel.name}", None, ("panel", panel.id))
    case = await uow.cases.by_reference(panel.id, reference)
    if case is not None:
        return Scope(
            case.reference,
            f"Audit trail for {case.reference}",
            await case_entities(uow, panel, case),
            ("case", case.id),
        )
    referral = await uow.referrals.by_reference(panel.id, reference)
    if referral is not None:
        entities = [("referral", referral.id)]
        if referral.case_id:
            case = await uow.cases.get(panel.id, referral.case_id)
            if case is not None:
                entities = await case_entities(uow, panel, case)
        return Scope(
            referral.reference,
            f"Audit trail for {referral.reference}",
            entities,
            ("referral", referral.id),
        )
    raise NotFound(f"There is no case or referral {reference} in this panel.")


async def case_entities(uow: UnitOfWork, panel: Panel, case: Case) -> list[tuple[str, str]]:
    """The records a case's trail covers: the case, its referral, requests and actions."""
    entities = [("case", case.id)]
    if case.referral_id:
        entities.append(("referral", case.referral_id))
    for info in await uow.information_requests.for_case(panel.id, case.id):
        entities.append(("information_request", info.id))
    for action in await uow.actions.for_case(panel.id, case.id):
        entities.append(("action", action.id))
    return entities


async def _labels(
    uow: UnitOfWork, panel: Panel, events: Sequence[AuditEvent]
) -> dict[tuple[str, str], str]:
    """What each event's record is called: "case CM-2026-014", "member Gemma Hartley"."""
    labels: dict[tuple[str, str], str] = {}
    members = {m.id: m for m in await uow.members.all(panel.id)}
    agencies = {a.id: a for a in await uow.agencies.all(panel.id)}
    case_ids = sorted({e.entity_id for e in events if e.entity == "case" and e.entity_id})
    for case in await uow.cases.by_ids(panel.id, case_ids):
        labels[("case", case.id)] = f"case {case.reference}"
    for event in events:
        key = (event.entity, event.entity_id or "")
        if key in labels or not event.entity_id:
            continue
        labels[key] = await _label(uow, panel, event, members, agencies)
    return labels


async def _label(
    uow: UnitOfWork,
    panel: Panel,
    event: AuditEvent,
    members: Mapping[str, Member],
    agencies: Mapping[str, Agency],
) -> str:
    entity, entity_id = event.entity, event.entity_id or ""
    if entity == "referral":
        referral = await uow.referrals.get(panel.id, entity_id)
        return f"referral {referral.reference}" if referral else "a referral"
    if entity == "information_request":
        info = await uow.information_requests.get(panel.id, entity_id)
        asked = agencies.get(info.agency_id) if info else None
        return f"information request to {asked.name if asked else 'an agency'}"
    if entity == "action":
        action = await uow.actions.get(panel.id, entity_id)
        owner = agencies.get(action.owner_agency_id) if action else None
        return f"action of {owner.name if owner else 'an agency'}"
    if entity == "member":
        member = members.get(entity_id)
        return f"member {member.name}" if member else "a member"
    if entity == "agency":
        agency = agencies.get(entity_id)
        return f"agency {agency.name}" if agency else "an agency"
    if entity == "panel":
        return "the panel"
    if entity == "command":
        return f"the command {entity_id}"
    return entity.replace("_", " ")


def _who(event: AuditEvent, members: Mapping[str, Member]) -> str:
    member = members.get(event.actor_member_id) if event.actor_member_id else None
    if member is not None:
        return member.name
    return f"someone outside the panel ({event.actor_aad_object_id[:40]})"


def _line(
    event: AuditEvent,
    panel: Panel,
    members: Mapping[str, Member],
    labels: Mapping[tuple[str, str], str],
) -> AuditLine:
    what = labels.get((event.entity, event.entity_id or ""), event.entity.replace("_", " "))
    return AuditLine(
        when=when_text(event.at, panel),
        who=_who(event, members),
        did=VERB_WORDS.get(event.verb, event.verb.value),
        what=what,
        where=WHERE_WORDS.get(event.where or "", event.where or ""),
        detail=event.detail,
    )


def fit(view: AuditView) -> tuple[Card, int]:
    """The card with as many of the view's lines as fit the budget; how many it shows."""
    shown = len(view.lines)
    while True:
        card = render_audit(view, shown=shown)
        if shown <= 1 or len(json.dumps(card).encode()) <= MAX_CARD_BYTES:
            return card, shown
        shown = max(1, shown * 3 // 4)


async def show_trail(request: Request, deps: Deps, command: ShowTrail) -> Reply:
    """One page of a trail, newest first (the guard checked the caller may read it)."""
    panel, _ = request.admitted()  # VIEW_AUDIT, checked by the guard (see `register`)
    reference, before_id = command.reference, command.before
    now = deps.clock.now()
    async with deps.uow() as uow:
        scope = await _scope(uow, panel, reference)
        if before_id is None:
            detail = "audit trail" + (f" of {scope.reference}" if scope.reference else "")
            await record(uow, request, AuditVerb.VIEW, *scope.viewed, detail, at=now)
        events = await uow.audit.trail(
            panel.id, scope.entities, limit=PAGE + 1, before_id=before_id
        )
        page, more = events[:PAGE], len(events) > PAGE
        members = {m.id: m for m in await uow.members.all(panel.id)}
        labels = await _labels(uow, panel, page)
        await uow.commit()
    lines = [_line(e, panel, members, labels) for e in page]
    view = AuditView(
        title=scope.title,
        subtitle=panel.name,
        lines=lines,
        reference=scope.reference,
        event_ids=[e.id for e in page],
        more=more,
        continued=before_id is not None,
    )
    card, _ = fit(view)
    return Reply(card=card)


async def audit(request: Request, deps: Deps) -> Reply:
    """`audit CM-2026-014`: the case's trail, newest first; `audit`: the panel's."""
    return await show_trail(request, deps, ShowTrail.typed(request.args))


async def older(request: Request, deps: Deps) -> Reply:
    """The Older events button: the next page of the same trail."""
    return await show_trail(request, deps, ShowTrail.of(request.data))


def register(router: Router) -> None:
    """Register `audit` and its Older events button."""
    router.command(
        CommandSpec(
            name="audit",
            summary="Coordinators: who viewed and changed a case, newest first.",
            handler=audit,
            usage=AUDIT_USAGE,
            access=Access(Act.VIEW_AUDIT, NOT_MEETINGS, targets=(Target.RECORD_IN_ARGS,)),
            in_manifest=False,
        )
    )
    router.verb(
        VerbSpec(
            Verb.AUDIT_PAGE.value, older, Access(Act.VIEW_AUDIT, NOT_MEETINGS, (Target.RECORD,))
        )
    )
