"""Accepting the panel's information sharing agreement: the one place it is recorded, from
the `isa` card, the agreement shown instead of a refused card, or the meeting's statement."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.domain.audit import AuditVerb
from bot.domain.panel import IsaAcceptance, Member, Panel
from bot.kernel.audit import Actor, record

if TYPE_CHECKING:
    from datetime import datetime

    from bot.kernel.ports import UnitOfWork


async def accept_current(
    uow: UnitOfWork, panel: Panel, member: Member, now: datetime, *, where: str | None = None
) -> IsaAcceptance:
    """Record that `member` accepts the panel's current version (once: accepting again
    returns the acceptance already stored), audited, in `uow`."""
    latest = await uow.isa.latest(panel.id, member.id)
    if latest is not None and latest.version == panel.isa_version:
        return latest
    acceptance = IsaAcceptance(
        panel_id=panel.id, member_id=member.id, version=panel.isa_version, accepted_at=now
    )
    await uow.isa.save(acceptance)
    await record(
        uow,
        Actor.member(member, where),
        AuditVerb.CREATE,
        "isa_acceptance",
        acceptance.id,
        f"accepted version {panel.isa_version}",
        at=now,
    )
    return acceptance
