"""Cards that tell a referrer what happened to their referral, queued in the outbox."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from bot.kernel.localtime import when_text
from bot.kernel.notify import card_to_member
from cards.referrer import (
    AcceptedView,
    DeclinedView,
    MoreInfoView,
    ReceivedView,
    render_accepted,
    render_declined,
    render_more_info,
    render_received,
)

if TYPE_CHECKING:
    from datetime import datetime

    from bot.domain.panel import Panel
    from bot.domain.referral import Referral
    from bot.kernel.ports import UnitOfWork
    from cards.kit import Card


class ReferralEvent(StrEnum):
    RECEIVED = "received"
    MORE_INFO_NEEDED = "more_info_needed"
    ACCEPTED = "accepted"
    DECLINED = "declined"


def referral_summary(referral: Referral) -> tuple[tuple[str, str], ...]:
    """What the referrer sent, in a few facts: no names, so it reads the same anywhere."""
    criteria = referral.criteria
    met = [
        name
        for name, on in (
            ("high risk", criteria.high_risk),
            ("potential escalation", criteria.potential_escalation),
            ("professional judgement", bool(criteria.professional_judgement)),
        )
        if on
    ]
    total = "not scored" if referral.risk_total is None else str(referral.risk_total)
    return (
        ("Risk total", f"{total}{' (high risk)' if criteria.high_risk else ''}"),
        ("Criteria met", ", ".join(met) or "none"),
        ("Subjects", str(len(referral.subjects))),
        ("Children in the household", str(len(referral.children))),
    )


def notice_card(
    panel: Panel,
    referral: Referral,
    event: ReferralEvent,
    *,
    case_reference: str | None = None,
    meeting_starts_at: datetime | None = None,
) -> Card:
    """The card that tells the referrer of `event`."""
    if event is ReferralEvent.RECEIVED:
        return render_received(
            ReceivedView(
                reference=referral.reference,
                panel_name=panel.name,
                submitted=when_text(referral.submitted_at, panel) if referral.submitted_at else "",
                summary=referral_summary(referral),
                resubmitted=referral.more_info_question is not None,
            )
        )
    if event is ReferralEvent.MORE_INFO_NEEDED:
        return render_more_info(
            MoreInfoView(
                referral_id=referral.id,
                reference=referral.reference,
                panel_name=panel.name,
                question=referral.more_info_question or "",
            )
        )
    if event is ReferralEvent.ACCEPTED:
        if case_reference is None:
            raise ValueError("an accepted referral's notice needs the case reference")
        return render_accepted(
            AcceptedView(
                reference=referral.reference,
                panel_name=panel.name,
                case_reference=case_reference,
                meeting=when_text(meeting_starts_at, panel) if meeting_starts_at else None,
            )
        )
    return render_declined(
        DeclinedView(
            reference=referral.reference,
            panel_name=panel.name,
            reason=referral.decline_reason,
            note=referral.decline_note,
        )
    )


async def tell_referrer(
    uow: UnitOfWork,
    panel: Panel,
    referral: Referral,
    event: ReferralEvent,
    now: datetime,
    *,
    case_reference: str | None = None,
    meeting_starts_at: datetime | None = None,
) -> None:
    """Queue the card that tells the referrer of `event` (in the same unit of work).

    The key names the referral's version, so a retried turn or job queues nothing twice
    while a later event of the same kind (a second resubmission) is still told.
    """
    card = notice_card(
        panel,
        referral,
        event,
        case_reference=case_reference,
        meeting_starts_at=meeting_starts_at,
    )
    await card_to_member(
        uow,
        panel_id=panel.id,
        member_id=referral.referrer_member_id,
        card=card,
        key=f"referrer:{referral.id}:{event.value}:{referral.version}",
        now=now,
    )
