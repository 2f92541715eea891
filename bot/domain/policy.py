"""Need to know: who may see and do what, as one table.

The table gives, for each act and each role, the relations to the case under which someone
holding that role may do it. Around the table stand three global rules:

1. only an active member of the panel may do anything;
2. no case detail to anyone who has not accepted the panel's current information sharing
   agreement (ISA) — the acts in `NEEDS_AGREEMENT`, save the few pairs in
   `AGREEMENT_NOT_NEEDED`, where nothing shared by others is shown;
3. a person with several roles or several relations to a case may do what any one of them
   allows.

`decide` is pure and answers with a reason written for the person, safe to show: it names
no case detail and no other person.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from bot.domain.panel import Member, Role

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping


class Act(StrEnum):
    """What a person asks to do."""

    VIEW_CASE_DETAIL = "view_case_detail"
    VIEW_CASE_SUMMARY = "view_case_summary"
    VIEW_REFERRAL = "view_referral"
    TRIAGE = "triage"
    ANSWER_INFO_REQUEST = "answer_info_request"
    CAPTURE_ACTION = "capture_action"
    UPDATE_ACTION = "update_action"
    PUBLISH_AGENDA = "publish_agenda"
    RUN_MEETING = "run_meeting"
    MANAGE_MEMBERS = "manage_members"
    VIEW_AUDIT = "view_audit"
    EXPORT_SAR = "export_sar"
    ERASE = "erase"
    VIEW_STATS = "view_stats"
    REFER = "refer"
    EDIT_REFERRAL = "edit_referral"
    VIEW_PANEL = "view_panel"
    MANAGE_SCHEDULE = "manage_schedule"
    START_MEETING = "start_meeting"
    ATTEND_MEETING = "attend_meeting"
    APPROVE_MINUTES = "approve_minutes"
    SIGN_MINUTES = "sign_minutes"
    VIEW_ACTIONS = "view_actions"
    OVERSEE_ACTIONS = "oversee_actions"
    SET_AWAY = "set_away"
    MANAGE_REMINDERS = "manage_reminders"
    ACCEPT_AGREEMENT = "accept_agreement"
    CREATE_PANEL = "create_panel"
    VIEW_CASELOAD = "view_caseload"
    SEARCH_SUBJECTS = "search_subjects"
    VIEW_RISK_MATRIX = "view_risk_matrix"


class Relation(StrEnum):
    """How a person stands to the case (or referral) in question."""

    CORE_AGENCY = "core_agency"  # their agency is one of the panel's core agencies
    INVITED_AGENCY = "invited_agency"  # their agency was invited for this case
    ACTION_OWNER = "action_owner"  # their agency owns an action on this case
    REFERRER = "referrer"  # they referred it
    NONE = "none"  # none of these


ANY: frozenset[Relation] = frozenset(Relation)
INVOLVED: frozenset[Relation] = frozenset(
    {Relation.CORE_AGENCY, Relation.INVITED_AGENCY, Relation.ACTION_OWNER}
)
AGENCY: frozenset[Relation] = frozenset({Relation.CORE_AGENCY, Relation.INVITED_AGENCY})
OWNER: frozenset[Relation] = frozenset({Relation.ACTION_OWNER})
OWN: frozenset[Relation] = frozenset({Relation.REFERRER})
NEVER: frozenset[Relation] = frozenset()

C, H, S, D, R = Role.COORDINATOR, Role.CHAIR, Role.SPOC, Role.DEPUTY, Role.REFERRER

# Act × role → the relations to the case under which the role may do the act. Acts that do
# not concern one case (members, stats, agenda) are asked with Relation.NONE, so a role
# that may do them has ANY.
TABLE: Mapping[Act, Mapping[Role, frozenset[Relation]]] = {
    #                          coordinator chair  SPOC      deputy    referrer
    Act.VIEW_CASE_DETAIL: {C: ANY, H: ANY, S: INVOLVED, D: INVOLVED, R: NEVER},
    Act.VIEW_CASE_SUMMARY: {C: ANY, H: ANY, S: ANY, D: ANY, R: ANY},
    Act.VIEW_REFERRAL: {C: ANY, H: ANY, S: INVOLVED | OWN, D: INVOLVED | OWN, R: OWN},
    Act.TRIAGE: {C: ANY, H: NEVER, S: NEVER, D: NEVER, R: NEVER},
    Act.ANSWER_INFO_REQUEST: {C: NEVER, H: NEVER, S: AGENCY, D: AGENCY, R: NEVER},
    Act.CAPTURE_ACTION: {C: ANY, H: ANY, S: NEVER, D: NEVER, R: NEVER},
    # Answering an action's card is its agency's; the panel changes actions at the meeting.
    Act.UPDATE_ACTION: {C: NEVER, H: NEVER, S: OWNER, D: OWNER, R: NEVER},
    Act.PUBLISH_AGENDA: {C: ANY, H: NEVER, S: NEVER, D: NEVER, R: NEVER},
    Act.RUN_MEETING: {C: ANY, H: ANY, S: NEVER, D: NEVER, R: NEVER},
    Act.MANAGE_MEMBERS: {C: ANY, H: NEVER, S: NEVER, D: NEVER, R: NEVER},
    Act.VIEW_AUDIT: {C: ANY, H: NEVER, S: NEVER, D: NEVER, R: NEVER},
    Act.EXPORT_SAR: {C: ANY, H: NEVER, S: NEVER, D: NEVER, R: NEVER},
    Act.ERASE: {C: ANY, H: NEVER, S: NEVER, D: NEVER, R: NEVER},
    Act.VIEW_STATS: {C: ANY, H: ANY, S: NEVER, D: NEVER, R: NEVER},
    Act.REFER: {C: ANY, H: ANY, S: ANY, D: ANY, R: ANY},
    Act.EDIT_REFERRAL: {C: OWN, H: OWN, S: OWN, D: OWN, R: OWN},
    Act.VIEW_PANEL: {C: ANY, H: ANY, S: ANY, D: ANY, R: ANY},
    Act.MANAGE_SCHEDULE: {C: ANY, H: NEVER, S: NEVER, D: NEVER, R: NEVER},
    Act.START_MEETING: {C: ANY, H: ANY, S: NEVER, D: NEVER, R: NEVER},
    Act.ATTEND_MEETING: {C: ANY, H: ANY, S: ANY, D: ANY, R: ANY},
    Act.APPROVE_MINUTES: {C: ANY, H: NEVER, S: NEVER, D: NEVER, R: NEVER},
    # Reading the minutes and signing them off: which of the two must sign is the panel's
    # MINUTES_SIGNOFF (bot.features.meetings.minutes); editing them is APPROVE_MINUTES.
    Act.SIGN_MINUTES: {C: ANY, H: ANY, S: NEVER, D: NEVER, R: NEVER},
    Act.VIEW_ACTIONS: {C: ANY, H: ANY, S: AGENCY | OWNER, D: AGENCY | OWNER, R: NEVER},
    Act.OVERSEE_ACTIONS: {C: ANY, H: ANY, S: NEVER, D: NEVER, R: NEVER},
    Act.SET_AWAY: {C: ANY, H: NEVER, S: ANY, D: ANY, R: NEVER},
    Act.MANAGE_REMINDERS: {C: ANY, H: NEVER, S: NEVER, D: NEVER, R: NEVER},
    Act.ACCEPT_AGREEMENT: {C: ANY, H: ANY, S: ANY, D: ANY, R: ANY},
    # No panel role creates a panel: the deployment's administrators do (bot.settings).
    Act.CREATE_PANEL: {C: NEVER, H: NEVER, S: NEVER, D: NEVER, R: NEVER},
    # The caseload at a glance (references, agencies, counts, dates): the panel's overseers.
    Act.VIEW_CASELOAD: {C: ANY, H: ANY, S: NEVER, D: NEVER, R: NEVER},
    # Searching subjects by name or postcode. A SPOC or deputy checking whether someone their
    # agency works with is known to the panel may search too, but each hit is then decided
    # as VIEW_CASE_DETAIL (a case) or VIEW_REFERRAL (a referral not yet a case): they find
    # only what their agency already may see. A referrer finds nothing beyond their own.
    Act.SEARCH_SUBJECTS: {C: ANY, H: ANY, S: ANY, D: ANY, R: NEVER},
    # The panel's risk matrix (questions, scores, threshold): configuration, no case detail.
    Act.VIEW_RISK_MATRIX: {C: ANY, H: NEVER, S: NEVER, D: NEVER, R: NEVER},
}

# The acts that show or change case detail: they need the current agreement.
NEEDS_AGREEMENT: frozenset[Act] = frozenset(
    {
        Act.VIEW_CASE_DETAIL,
        Act.VIEW_REFERRAL,
        Act.ANSWER_INFO_REQUEST,
        Act.CAPTURE_ACTION,
        Act.UPDATE_ACTION,
        Act.RUN_MEETING,
        Act.VIEW_AUDIT,
        Act.EXPORT_SAR,
        Act.ERASE,
        Act.APPROVE_MINUTES,
        Act.SIGN_MINUTES,
        Act.VIEW_ACTIONS,
        Act.OVERSEE_ACTIONS,
        Act.VIEW_CASELOAD,
        Act.SEARCH_SUBJECTS,
    }
)

# Where a person is shown only what they themselves (or their own agency) brought, nothing
# another agency shared: a referrer's own referral; an agency's own answer to the panel's
# request (the request's detail, the people named, is VIEW_CASE_DETAIL and needs it).
AGREEMENT_NOT_NEEDED: frozenset[tuple[Act, Relation]] = frozenset(
    {(Act.VIEW_REFERRAL, Relation.REFERRER)}
    | {(Act.ANSWER_INFO_REQUEST, relation) for relation in AGENCY}
)

# What each act is, in the words of "Only the panel's … can <phrase>."
PHRASES: Mapping[Act, str] = {
    Act.VIEW_CASE_DETAIL: "see a case in full",
    Act.VIEW_CASE_SUMMARY: "see a case's reference and risk level",
    Act.VIEW_REFERRAL: "see a referral",
    Act.TRIAGE: "triage referrals",
    Act.ANSWER_INFO_REQUEST: "answer the panel's information requests",
    Act.CAPTURE_ACTION: "record actions for a case",
    Act.UPDATE_ACTION: "update an action",
    Act.PUBLISH_AGENDA: "publish the agenda",
    Act.RUN_MEETING: "run the panel meeting",
    Act.MANAGE_MEMBERS: "manage the panel's members, agencies and agreement",
    Act.VIEW_AUDIT: "read the audit trail",
    Act.EXPORT_SAR: "export what is held about a person",
    Act.ERASE: "erase a person's data",
    Act.VIEW_STATS: "see the panel's statistics",
    Act.REFER: "make referrals",
    Act.EDIT_REFERRAL: "change a referral",
    Act.VIEW_PANEL: "see the panel's meetings and agenda",
    Act.MANAGE_SCHEDULE: "move or cancel meetings",
    Act.START_MEETING: "start the panel meeting",
    Act.ATTEND_MEETING: "attend the panel meeting",
    Act.APPROVE_MINUTES: "edit and approve the minutes",
    Act.SIGN_MINUTES: "sign off the minutes",
    Act.VIEW_ACTIONS: "see an agency's actions",
    Act.OVERSEE_ACTIONS: "see every agency's actions",
    Act.SET_AWAY: "hand an agency's cards to its deputy while its SPOC is away",
    Act.MANAGE_REMINDERS: "see and set the reminders",
    Act.ACCEPT_AGREEMENT: "accept the information sharing agreement",
    Act.CREATE_PANEL: "create a panel",
    Act.VIEW_CASELOAD: "see the panel's caseload",
    Act.SEARCH_SUBJECTS: "search the people referred",
    Act.VIEW_RISK_MATRIX: "see the panel's risk matrix",
}

ROLE_NAMES: Mapping[Role, str] = {
    Role.COORDINATOR: "coordinators",
    Role.CHAIR: "chairs",
    Role.SPOC: "SPOCs",
    Role.DEPUTY: "deputies",
    Role.REFERRER: "referrers",
}


class Refusal(StrEnum):
    """Why a decision said no: services show the agreement to accept for AGREEMENT."""

    NOT_MEMBER = "not_member"
    INACTIVE = "inactive"
    ROLE = "role"
    NEED_TO_KNOW = "need_to_know"
    AGREEMENT = "agreement"


@dataclass(frozen=True)
class PolicySubject:
    """The person asking, as far as the policy cares."""

    member: bool
    active: bool
    roles: frozenset[Role]
    agreement_accepted: bool
    agreement_version: str = ""

    @classmethod
    def of(
        cls, member: Member | None, *, accepted_version: str | None, current_version: str
    ) -> PolicySubject:
        """A member (or None for someone outside the panel) and the agreement they
        accepted last, against the panel's current version."""
        if member is None:
            return cls(
                member=False,
                active=False,
                roles=frozenset(),
                agreement_accepted=False,
                agreement_version=current_version,
            )
        return cls(
            member=True,
            active=member.active,
            roles=member.roles,
            agreement_accepted=accepted_version == current_version,
            agreement_version=current_version,
        )


@dataclass(frozen=True)
class Decision:
    """Allowed, or refused with a reason safe to show to the person."""

    allowed: bool
    reason: str = ""
    refusal: Refusal | None = None


ALLOWED = Decision(True)

NOT_A_MEMBER = "This is for members of the panel. Ask your panel coordinator to add you."
NOT_ACTIVE = (
    "Your membership of this panel is not active, so I can show you nothing of it. "
    "Ask your panel coordinator."
)
NOT_INVOLVED = (
    "Your agency is not involved in this case, so I can't show it to you. If it should be, "
    "ask the panel's coordinator."
)


def agreement_reason(version: str) -> str:
    """Why case detail is withheld until the agreement is accepted."""
    shown = f" (version {version})" if version else ""
    return (
        f"You have not accepted the panel's information sharing agreement{shown} yet, so I "
        "can't show you case detail. Read it and accept it to go on."
    )


def roles_for(act: Act) -> list[Role]:
    """The roles that may do `act` under some relation, in the order of `Role`."""
    return [role for role in Role if TABLE[act][role]]


def role_reason(act: Act) -> str:
    """e.g. "Only the panel's coordinators can triage referrals."."""
    names = [ROLE_NAMES[role] for role in roles_for(act)]
    if not names:
        return f"Nobody can {PHRASES[act]} here."
    who = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    return f"Only the panel's {who} can {PHRASES[act]}."


def _relations(case_relation: Relation | Iterable[Relation]) -> frozenset[Relation]:
    if isinstance(case_relation, Relation):
        return frozenset({case_relation})
    found = frozenset(case_relation)
    return found or frozenset({Relation.NONE})


def decide(
    subject: PolicySubject, action: Act, case_relation: Relation | Iterable[Relation]
) -> Decision:
    """May `subject` do `action`, standing in `case_relation` (one or several) to the case?"""
    if not subject.member:
        return Decision(False, NOT_A_MEMBER, Refusal.NOT_MEMBER)
    if not subject.active:
        return Decision(False, NOT_ACTIVE, Refusal.INACTIVE)
    rows = TABLE[action]
    if not any(rows[role] for role in subject.roles):
        return Decision(False, role_reason(action), Refusal.ROLE)
    relations = _relations(case_relation)
    granted = {
        relation for role in subject.roles for relation in rows[role] if relation in relations
    }
    if not granted:
        return Decision(False, NOT_INVOLVED, Refusal.NEED_TO_KNOW)
    if (
        action in NEEDS_AGREEMENT
        and not subject.agreement_accepted
        and not any((action, relation) in AGREEMENT_NOT_NEEDED for relation in granted)
    ):
        return Decision(False, agreement_reason(subject.agreement_version), Refusal.AGREEMENT)
    return ALLOWED
