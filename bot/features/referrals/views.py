"""The referrals feature's read side: what the coordinator's triage card and the `referrals`
lists show, read from storage in the caller's unit of work. Nothing here changes a record.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.domain.audit import AuditVerb
from bot.domain.matching import MatchBasis, MatchKind, SubjectMatch, classify_matches, swapped
from bot.domain.meeting import Meeting, MeetingStatus
from bot.domain.panel import Agency, AgencyKind, Member, Panel
from bot.domain.referral import (
    CATEGORY_LABELS,
    DECLINE_LABELS,
    Referral,
    ReferralStatus,
    Subject,
    assessed_risk_level,
    meets_high_risk,
    scored_threshold,
)
from bot.kernel.config import example_matrix
from bot.kernel.localtime import born_text, day_text, when_text
from cards.referrals import MineView, MyLine, PendingLine, PendingView, render_mine, render_pending
from cards.triage import (
    Choice,
    MatchLine,
    OutcomeView,
    SubjectLine,
    TriageView,
    render_triage_outcome,
)

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    from bot.domain.case import Case
    from bot.domain.risk import RiskLevel
    from bot.kernel.ports import UnitOfWork
    from cards.kit import Card

PENDING = (ReferralStatus.SUBMITTED, ReferralStatus.MORE_INFO_REQUESTED)
LISTABLE = frozenset({MeetingStatus.SCHEDULED, MeetingStatus.AGENDA_PUBLISHED})
DEFAULT_INFO_QUESTION = (
    "What does your agency know about the people named, and what is it doing now? Include "
    "any risk to staff who visit."
)
# DOMAIN.md: the meetings a referral may belong to instead.
OTHER_MEETINGS: dict[str, str] = {
    "domestic_abuse_marac": "Domestic-abuse MARAC",
    "mappa": "MAPPA",
    "channel_prevent": "Channel / Prevent",
    "adult_safeguarding": "Adult safeguarding",
    "childrens_safeguarding": "Children's safeguarding",
}
MATCH_LABELS: dict[MatchKind, str] = {
    MatchKind.POSSIBLE_DUPLICATE: "Possible duplicate",
    MatchKind.REPEAT: "Repeat",
    MatchKind.EARLIER: "Earlier history",
}
BASIS_LABELS: dict[MatchBasis, str] = {
    MatchBasis.DATE_OF_BIRTH: "same date of birth",
    MatchBasis.SWAPPED_DATE_OF_BIRTH: "date of birth with day and month swapped",
    MatchBasis.POSTCODE: "same postcode",
    MatchBasis.POSTCODE_NEAR_DATE: "same postcode, dates of birth a digit apart",
}


def risk_level(referral: Referral) -> RiskLevel:
    """The referral's assessed risk level under the matrix version it was scored with (a
    rule of the domain): the threshold stored with it; a referral stored without one was
    scored with the shipped example, the only matrix before thresholds were kept."""
    return assessed_risk_level(referral, example_matrix())


async def find_matches(uow: UnitOfWork, referral: Referral, now: datetime) -> list[SubjectMatch]:
    """The panel's earlier referrals and cases on the same people, classified."""
    hits: list[tuple[Subject, Referral, Subject]] = []
    for subject in referral.subjects:
        born = subject.date_of_birth
        flipped = swapped(born) if born is not None else None
        found = await uow.referrals.subject_matches(
            referral.panel_id,
            dates_of_birth=[day for day in (born, flipped) if day is not None],
            match_postcode=subject.match_postcode,
            exclude_referral_id=referral.id,
        )
        hits += [(subject, earlier, earlier_subject) for earlier, earlier_subject in found]
    case_ids = sorted({r.case_id for _, r, _ in hits if r.case_id})
    cases = await uow.cases.by_ids(referral.panel_id, case_ids) if case_ids else []
    return classify_matches(referral, hits, {c.id: c for c in cases}, now)


def _match_line(match: SubjectMatch, panel: Panel) -> MatchLine:
    earlier, case = match.earlier, match.case
    if case is not None and case.closed_at is not None and not case.is_open:
        where = f"case {case.reference}, closed {day_text(case.closed_at, panel)}"
    elif case is not None:
        where = f"case {case.reference}, open"
    elif earlier.status in PENDING:
        sent = earlier.submitted_at or earlier.created_at
        where = f"referral {earlier.reference}, pending since {day_text(sent, panel)}"
    else:
        decided = f" {day_text(earlier.decided_at, panel)}" if earlier.decided_at else ""
        where = f"referral {earlier.reference}, {_status_word(earlier.status)}{decided}"
    return MatchLine(
        kind=MATCH_LABELS[match.kind],
        text=f"{match.subject.name} — {where} ({_why(match)})",
    )


def _why(match: SubjectMatch) -> str:
    """Why the subject was taken for the earlier one, and how strongly, in plain words:
    "as John Smith: a familiar form of a first name; same date of birth; 96% alike"."""
    found = match.resemblance
    basis = BASIS_LABELS[match.basis]
    if found is None or (match.exact and found.alias is None):
        return f"same name, {basis}; exact"
    names = found.names.reason
    if match.earlier_subject.name != match.subject.name:
        names = f"as {match.earlier_subject.name}: {names}"
    if found.alias is not None:
        names = f"alias {found.alias}, {names}"
    return f"{names}; {basis}; {round(found.strength * 100)}% alike"


def _status_word(status: ReferralStatus) -> str:
    return {
        ReferralStatus.ACCEPTED: "accepted",
        ReferralStatus.DECLINED: "declined",
        ReferralStatus.WITHDRAWN: "withdrawn",
        ReferralStatus.SUBMITTED: "submitted",
        ReferralStatus.MORE_INFO_REQUESTED: "sent back for more information",
        ReferralStatus.DRAFT: "draft",
    }[status]


def listable(meeting: Meeting, now: datetime) -> bool:
    """Whether a new case may still be listed on the meeting: scheduled and not started."""
    return meeting.status in LISTABLE and meeting.starts_at > now


async def _upcoming(uow: UnitOfWork, panel: Panel, now: datetime) -> list[Meeting]:
    return [m for m in await uow.meetings.upcoming(panel.id, now) if listable(m, now)]


def _meeting_choice(meeting: Meeting, panel: Panel, now: datetime) -> Choice:
    if meeting.urgent:  # called for the cases it names: a case accepted here joins them
        return Choice(meeting.id, f"Urgent meeting, {when_text(meeting.starts_at, panel)}")
    deadline = day_text(meeting.referral_deadline, panel)
    due = f"referrals due {deadline}" if meeting.accepts_referrals_at(now) else "deadline passed"
    return Choice(meeting.id, f"{when_text(meeting.starts_at, panel)} ({due})")


def _agency_name(agencies: Mapping[str, Agency], agency_id: str | None) -> str:
    agency = agencies.get(agency_id) if agency_id else None
    return agency.name if agency else "no agency given"


def _consent(referral: Referral) -> str:
    consent = referral.consent
    aware = "aware" if consent.aware else "not aware"
    if consent.consented:
        return f"{aware}, consented"
    return f"{aware}, shared without consent: {consent.without_consent_reason or 'no reason'}"


def _criteria(referral: Referral) -> list[str]:
    met = []
    if meets_high_risk(referral, example_matrix()):
        met.append("high risk")
    if referral.criteria.potential_escalation:
        met.append("potential escalation")
    if (referral.criteria.professional_judgement or "").strip():
        met.append("professional judgement")
    return met


async def triage_view(
    uow: UnitOfWork,
    panel: Panel,
    referral: Referral,
    now: datetime,
    *,
    notice: str | None = None,
    open_form: str | None = None,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
) -> TriageView:
    """Everything on the triage card, read in one unit of work."""
    referrer = await uow.members.get(panel.id, referral.referrer_member_id)
    agencies = {a.id: a for a in await uow.agencies.all(panel.id) if a.active}
    meetings = await _upcoming(uow, panel, now)
    default = next((m for m in meetings if m.accepts_referrals_at(now)), None)
    if default is None and meetings:
        default = meetings[0]
    matches = await find_matches(uow, referral, now)
    incidents = f"{referral.incidents_last_12_months} in the last 12 months"
    if referral.incidents_rising:
        incidents += ", rising"
    threshold = scored_threshold(referral, example_matrix())
    if referral.risk_total is None:
        risk = "not scored"
    elif threshold is None:
        risk = f"{referral.risk_total} (matrix {referral.risk_matrix_version or 'unknown'}, "
        risk += "whose threshold is not known)"
    else:
        risk = f"{referral.risk_total} (above {threshold} is high; matrix "
        risk += f"{referral.risk_matrix_version or 'unknown'})"
    return TriageView(
        referral_id=referral.id,
        version=referral.version,
        reference=referral.reference,
        panel_name=panel.name,
        referrer=referrer.name if referrer else "unknown referrer",
        agency=_agency_name(agencies, referral.referring_agency_id),
        submitted_on=day_text(referral.submitted_at or referral.created_at, panel),
        category=CATEGORY_LABELS[referral.category],
        subjects=[
            SubjectLine(
                name=s.name,
                role=s.role.value,
                born=born_text(s.date_of_birth) if s.date_of_birth else None,
                postcode=s.postcode,
                vulnerabilities=(s.vulnerabilities or "").strip().rstrip(".;") or None,
            )
            for s in referral.subjects
        ],
        children=len(referral.children),
        incidents=incidents,
        consent=_consent(referral),
        risk=risk,
        risk_level=risk_level(referral).value.capitalize(),
        criteria=_criteria(referral),
        explanation=referral.criteria.explained,
        tried_already=(referral.tried_already or "").strip() or None,
        matches=[_match_line(m, panel) for m in matches],
        meetings=[_meeting_choice(m, panel, now) for m in meetings],
        default_meeting=default.id if default else None,
        agencies=[
            Choice(a.id, a.name + (" (invited)" if a.kind is AgencyKind.INVITED else ""))
            for a in agencies.values()
        ],
        default_agencies=[
            a.id
            for a in agencies.values()
            if a.kind is AgencyKind.CORE and a.id != referral.referring_agency_id
        ],
        info_question=DEFAULT_INFO_QUESTION,
        decline_reasons=[Choice(r.value, label) for r, label in DECLINE_LABELS.items()],
        other_meetings=[Choice(k, label) for k, label in OTHER_MEETINGS.items()],
        previous_question=referral.more_info_question,
        notice=notice,
        open_form=open_form,
        values=dict(values or {}),
        errors=dict(errors or {}),
    )


async def _decided_by(uow: UnitOfWork, panel: Panel, referral: Referral) -> str | None:
    """Who made the referral's last decision, from the audit trail."""
    trail = await uow.audit.for_entity(panel.id, "referral", referral.id)
    for event in reversed(trail):
        if event.verb is AuditVerb.UPDATE and event.actor_member_id:
            member = await uow.members.get(panel.id, event.actor_member_id)
            return member.name if member else None
    return None


async def state_card(
    uow: UnitOfWork, panel: Panel, referral: Referral, *, already: bool
) -> Card | None:
    """What became of a referral that is no longer waiting for triage; None while it is."""
    if referral.status is ReferralStatus.SUBMITTED:
        return None
    who = await _decided_by(uow, panel, referral)
    by = f" by {who}" if who else ""
    lead = "Already " if already else ""
    pairs: list[tuple[str, str]] = [("Referral", referral.reference)]
    if referral.decided_at:
        pairs.append(("Decided", day_text(referral.decided_at, panel)))
    if referral.status is ReferralStatus.ACCEPTED:
        case = await uow.cases.get(panel.id, referral.case_id) if referral.case_id else None
        as_case = f" as {case.reference}" if case else ""
        title = f"{lead}accepted{by}{as_case}"
    elif referral.status is ReferralStatus.DECLINED:
        title = f"{lead}declined{by}"
        if referral.decline_reason:
            pairs.append(("Reason", DECLINE_LABELS[referral.decline_reason]))
        if referral.decline_note:
            pairs.append(("Note", referral.decline_note))
    elif referral.status is ReferralStatus.MORE_INFO_REQUESTED:
        referrer = await uow.members.get(panel.id, referral.referrer_member_id)
        to = referrer.name if referrer else "the referrer"
        title = f"{lead}sent back to {to}{by}"
        pairs.append(("Question", referral.more_info_question or ""))
    else:
        title = f"{lead}withdrawn by the referrer"
    return render_triage_outcome(
        OutcomeView(
            title=title[0].upper() + title[1:],
            subtitle=panel.name,
            facts=pairs,
            note="Nothing was changed by this click." if already else None,
        )
    )


async def pending_card(uow: UnitOfWork, panel: Panel, now: datetime) -> Card:
    """The coordinators' `referrals`: every referral waiting for a decision, oldest first."""
    agencies = {a.id: a for a in await uow.agencies.all(panel.id)}
    waiting = [r for status in PENDING for r in await uow.referrals.all(panel.id, status=status)]
    waiting.sort(key=lambda r: (r.submitted_at or r.created_at, r.reference))
    lines = [
        PendingLine(
            reference=r.reference,
            agency=_agency_name(agencies, r.referring_agency_id),
            risk_level=risk_level(r).value,
            age_days=(now - (r.submitted_at or r.created_at)).days,
            state="awaiting triage"
            if r.status is ReferralStatus.SUBMITTED
            else "waiting for the referrer's answer",
        )
        for r in waiting
    ]
    return render_pending(PendingView(panel_name=panel.name, lines=lines))


async def mine_card(uow: UnitOfWork, panel: Panel, member: Member) -> Card:
    """A referrer's `referrals`: their own referrals, newest first, with what became of each."""
    mine = await uow.referrals.by_referrer(panel.id, member.id)
    case_ids = [r.case_id for r in mine if r.case_id]
    cases = {c.id: c for c in await uow.cases.by_ids(panel.id, case_ids)} if case_ids else {}
    lines = [
        MyLine(
            reference=r.reference,
            started_on=day_text(r.created_at, panel),
            state=_state_for_referrer(r, cases),
        )
        for r in reversed(mine)
    ]
    return render_mine(MineView(panel_name=panel.name, lines=lines))


def _state_for_referrer(referral: Referral, cases: Mapping[str, Case]) -> str:
    status = referral.status
    if status is ReferralStatus.DRAFT:
        return "draft, not sent yet"
    if status is ReferralStatus.SUBMITTED:
        return "submitted, waiting for the coordinator"
    if status is ReferralStatus.MORE_INFO_REQUESTED:
        return f"more information needed: “{referral.more_info_question or ''}”"
    if status is ReferralStatus.ACCEPTED:
        case = cases.get(referral.case_id) if referral.case_id else None
        return f"accepted as {case.reference}" if case else "accepted"
    if status is ReferralStatus.DECLINED:
        reason = DECLINE_LABELS[referral.decline_reason] if referral.decline_reason else ""
        note = f" ({referral.decline_note})" if referral.decline_note else ""
        return f"declined: {reason}{note}" if reason else "declined"
    return "withdrawn"
