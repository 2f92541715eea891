"""The audit trail: the one helper every feature records with (and `refuse`, its refusals).

Every view and change of case data is recorded (who, when, what, where) in the unit of work
that makes or shows it, so it is kept exactly when the change commits. The trail is
append-only: the port has no way to change or remove an event, and the database refuses
UPDATE and DELETE on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.domain.audit import AuditEvent, AuditVerb
from bot.domain.errors import NotAllowed
from bot.domain.policy import Act, Decision, Refusal
from bot.kernel import access
from bot.kernel.router import Reply, Request

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from datetime import datetime

    from bot.domain.panel import Member
    from bot.kernel.ports import UnitOfWork

MAX_DETAIL = 500


@dataclass(frozen=True)
class Actor:
    """Who did it, in which panel, and where (a conversation kind, or e.g. "seed-demo")."""

    panel_id: str
    aad_object_id: str
    member_id: str | None = None
    where: str | None = None

    @classmethod
    def of(cls, request: Request) -> Actor:
        """The person behind a request; the request must be resolved to a panel."""
        if request.panel is None:
            raise ValueError("an audit event belongs to a panel")
        aad = request.caller.aad_object_id or request.caller.teams_user_id or "unknown"
        member_id = request.member.id if request.member else None
        return cls(request.panel.id, aad, member_id, request.where.kind.value)

    @classmethod
    def member(cls, member: Member, where: str | None = None) -> Actor:
        """A member acting (or acted for) outside a request, e.g. from a job."""
        return cls(member.panel_id, member.aad_object_id, member.id, where)


async def record(
    uow: UnitOfWork,
    who: Actor | Request,
    verb: AuditVerb,
    entity: str,
    entity_id: str | None,
    detail: str | None = None,
    *,
    at: datetime,
) -> AuditEvent:
    """Append one event to the trail, in `uow` (kept only if it commits).

    `detail` says what happened in a few words ("accepted: CM-2026-014"); it is kept short
    and should name no subject.
    """
    actor = who if isinstance(who, Actor) else Actor.of(who)
    event = AuditEvent(
        panel_id=actor.panel_id,
        at=at,
        actor_aad_object_id=actor.aad_object_id[:128],
        actor_member_id=actor.member_id,
        verb=verb,
        entity=entity[:64],
        entity_id=entity_id[:64] if entity_id else None,
        where=actor.where[:64] if actor.where else None,
        detail=detail[:MAX_DETAIL] if detail else None,
    )
    await uow.audit.append(event)
    return event


async def refuse(
    uow: UnitOfWork,
    request: Request,
    decision: Decision,
    *,
    act: Act,
    entity: str,
    entity_id: str | None,
    at: datetime,
    next_step: Mapping[str, Any] | None = None,
    title: str | None = None,
    facts: Iterable[tuple[str, str]] = (),
) -> Reply:
    """Record the policy's refusal (committing `uow`) and answer it.

    When only the agreement is missing, the answer is the agreement to accept, and
    accepting runs `next_step` (opening what was asked for). Otherwise NotAllowed is raised
    with the policy's reason. Nothing else should be pending in `uow`: it is committed.
    """
    panel, member = request.panel, request.member
    if panel is not None:
        refusal = decision.refusal.value if decision.refusal else "refused"
        await record(
            uow, request, AuditVerb.REFUSE, entity, entity_id, f"{act.value}: {refusal}", at=at
        )
        await uow.commit()
    if decision.refusal is Refusal.AGREEMENT and panel is not None and member is not None:
        card = await access.agreement_card(
            uow,
            panel,
            member,
            reason=decision.reason,
            next_step=next_step,
            title=title,
            facts=facts,
        )
        return Reply(card=card)
    raise NotAllowed(decision.reason, audited=panel is not None)
