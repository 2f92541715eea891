"""Need to know, applied: who the caller is to the policy, how they stand to a case, and
the agreement they are shown when it is all they are missing.

The rules themselves are in bot.domain.policy; this module loads what they need. A refusal
is recorded and answered by bot.kernel.audit.refuse.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.domain.panel import AgencyKind, Member, Panel
from bot.domain.policy import Act, Decision, PolicySubject, Relation, decide
from cards.isa import IsaView, render_isa

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from bot.domain.case import Case
    from bot.domain.referral import Referral
    from bot.kernel.ports import UnitOfWork
    from cards.kit import Card


async def subject_for(uow: UnitOfWork, panel: Panel, member: Member | None) -> PolicySubject:
    """The caller as the policy sees them, with the agreement they last accepted."""
    accepted = await uow.isa.latest(panel.id, member.id) if member is not None else None
    return PolicySubject.of(
        member,
        accepted_version=accepted.version if accepted else None,
        current_version=panel.isa_version,
    )


async def relations_to_case(
    uow: UnitOfWork, panel: Panel, member: Member | None, case: Case
) -> frozenset[Relation]:
    """How the member stands to the case: their agency core, invited for it or owning an
    action on it; they referred it; or none of these."""
    if member is None:
        return frozenset({Relation.NONE})
    found: set[Relation] = set()
    if member.agency_id is not None:
        agency = await uow.agencies.get(panel.id, member.agency_id)
        if agency is not None and agency.active and agency.kind is AgencyKind.CORE:
            found.add(Relation.CORE_AGENCY)
        if member.agency_id in case.invited_agency_ids:
            found.add(Relation.INVITED_AGENCY)
        actions = await uow.actions.for_case(panel.id, case.id)
        if any(action.owner_agency_id == member.agency_id for action in actions):
            found.add(Relation.ACTION_OWNER)
    if case.referral_id is not None:
        referral = await uow.referrals.get(panel.id, case.referral_id)
        if referral is not None and referral.referrer_member_id == member.id:
            found.add(Relation.REFERRER)
    return frozenset(found or {Relation.NONE})


async def relations_to_referral(
    uow: UnitOfWork, panel: Panel, member: Member | None, referral: Referral
) -> frozenset[Relation]:
    """A referral that became a case is seen as that case; until then only its referrer
    stands in any relation to it."""
    if referral.case_id is not None:
        case = await uow.cases.get(panel.id, referral.case_id)
        if case is not None:
            return await relations_to_case(uow, panel, member, case)
    if member is not None and referral.referrer_member_id == member.id:
        return frozenset({Relation.REFERRER})
    return frozenset({Relation.NONE})


async def relation_of_agency(uow: UnitOfWork, panel: Panel, agency_id: str) -> Relation:
    """How an agency stands to the panel's cases in general: core, or invited."""
    agency = await uow.agencies.get(panel.id, agency_id)
    if agency is not None and agency.active and agency.kind is AgencyKind.CORE:
        return Relation.CORE_AGENCY
    return Relation.INVITED_AGENCY


async def decide_for(
    uow: UnitOfWork,
    panel: Panel,
    member: Member | None,
    act: Act,
    relations: Relation | Iterable[Relation] = Relation.NONE,
) -> Decision:
    """The policy's decision for this member, loading their agreement status."""
    return decide(await subject_for(uow, panel, member), act, relations)


async def agreement_card(
    uow: UnitOfWork,
    panel: Panel,
    member: Member,
    *,
    reason: str | None = None,
    next_step: Mapping[str, Any] | None = None,
    title: str | None = None,
    facts: Iterable[tuple[str, str]] = (),
    notice: str | None = None,
) -> Card:
    """The agreement as `member` sees it: text, their status, and the Accept button."""
    accepted = await uow.isa.latest(panel.id, member.id)
    zone = ZoneInfo(panel.timezone)
    on = accepted.accepted_at.astimezone(zone) if accepted else None
    return render_isa(
        IsaView(
            panel_name=panel.name,
            version=panel.isa_version,
            text=panel.isa_text or "The panel has not written its agreement yet.",
            accepted_version=accepted.version if accepted else None,
            accepted_on=f"{on.day} {on:%b %Y}" if on else None,
            reason=reason,
            title=title,
            facts=tuple(facts),
            next_step=next_step,
            notice=notice,
        )
    )
