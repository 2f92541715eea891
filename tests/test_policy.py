"""Need to know: the policy table, walked in full against an expectation written apart.

`expected` below restates DOMAIN.md's rules in plain code, without looking at the table, so
that a slip in either shows up as a difference.
"""

from __future__ import annotations

import itertools

import pytest

from bot.domain.panel import Member, Role
from bot.domain.policy import (
    TABLE,
    Act,
    Decision,
    PolicySubject,
    Refusal,
    Relation,
    decide,
    role_reason,
)

COORDINATOR_ONLY = {
    Act.TRIAGE,
    Act.PUBLISH_AGENDA,
    Act.MANAGE_MEMBERS,
    Act.VIEW_AUDIT,
    Act.EXPORT_SAR,
    Act.ERASE,
    Act.MANAGE_SCHEDULE,
    Act.APPROVE_MINUTES,
    Act.MANAGE_REMINDERS,
    Act.VIEW_RISK_MATRIX,
}
SHOWS_CASE_DETAIL = {
    Act.APPROVE_MINUTES,
    Act.SIGN_MINUTES,
    Act.VIEW_ACTIONS,
    Act.OVERSEE_ACTIONS,
    Act.VIEW_CASE_DETAIL,
    Act.VIEW_REFERRAL,
    Act.ANSWER_INFO_REQUEST,
    Act.CAPTURE_ACTION,
    Act.UPDATE_ACTION,
    Act.RUN_MEETING,
    Act.VIEW_AUDIT,
    Act.EXPORT_SAR,
    Act.ERASE,
    Act.VIEW_CASELOAD,
    Act.SEARCH_SUBJECTS,
}


def may_by_role(role: Role, act: Act, relation: Relation) -> bool:
    """What a role may do, before the agreement is considered."""
    involved = relation in {
        Relation.CORE_AGENCY,
        Relation.INVITED_AGENCY,
        Relation.ACTION_OWNER,
    }
    if act in {Act.REFER, Act.VIEW_CASE_SUMMARY, Act.VIEW_PANEL}:
        return True  # every member refers; references, risk levels and dates are for everyone
    if act in {Act.ATTEND_MEETING, Act.ACCEPT_AGREEMENT}:
        return True  # every member may attend and accept the agreement
    if act is Act.EDIT_REFERRAL:
        return relation is Relation.REFERRER  # only the person who made it changes it
    if act is Act.CREATE_PANEL:
        return False  # no panel role: the deployment's administrators make panels
    if act is Act.SEARCH_SUBJECTS:
        # Any officer or agency member searches; each hit is decided as the record's view.
        return role is not Role.REFERRER
    if act in {Act.START_MEETING, Act.OVERSEE_ACTIONS, Act.VIEW_CASELOAD, Act.SIGN_MINUTES}:
        return role in {Role.COORDINATOR, Role.CHAIR}
    if act is Act.SET_AWAY:
        return role in {Role.COORDINATOR, Role.SPOC, Role.DEPUTY}
    if act is Act.VIEW_ACTIONS:
        # An agency's own people see its actions; the panel's officers see every agency's.
        return role in {Role.COORDINATOR, Role.CHAIR} or (
            role in {Role.SPOC, Role.DEPUTY} and involved
        )
    if act in COORDINATOR_ONLY:
        return role is Role.COORDINATOR
    if act is Act.VIEW_STATS or act is Act.RUN_MEETING or act is Act.CAPTURE_ACTION:
        return role in {Role.COORDINATOR, Role.CHAIR}
    if act is Act.VIEW_CASE_DETAIL:
        # The panel's officers see every case; an agency's people only the cases their
        # agency is core to, invited to, or owns an action on; a referrer never in full.
        if role in {Role.COORDINATOR, Role.CHAIR}:
            return True
        return role in {Role.SPOC, Role.DEPUTY} and involved
    if act is Act.VIEW_REFERRAL:
        # Whoever made a referral sees it, whatever their role.
        if role in {Role.COORDINATOR, Role.CHAIR} or relation is Relation.REFERRER:
            return True
        if role in {Role.SPOC, Role.DEPUTY}:
            return involved
        return relation is Relation.REFERRER
    if act is Act.ANSWER_INFO_REQUEST:
        # Only an agency's SPOC or deputy answers for it, and only a core or invited one.
        return role in {Role.SPOC, Role.DEPUTY} and relation in {
            Relation.CORE_AGENCY,
            Relation.INVITED_AGENCY,
        }
    if act is Act.UPDATE_ACTION:
        # An action's card is answered by its agency; the chair changes actions at the meeting.
        return role in {Role.SPOC, Role.DEPUTY} and relation is Relation.ACTION_OWNER
    raise AssertionError(f"no expectation written for {act}")


def expected(role: Role, act: Act, relation: Relation, accepted: bool) -> bool:
    if not may_by_role(role, act, relation):
        return False
    if accepted or act not in SHOWS_CASE_DETAIL:
        return True
    # Without the agreement: only what the person (or their agency) brought themselves.
    if act is Act.VIEW_REFERRAL and relation is Relation.REFERRER:
        return True
    return act is Act.ANSWER_INFO_REQUEST


def subject(*roles: Role, accepted: bool = True, active: bool = True) -> PolicySubject:
    return PolicySubject(
        member=True,
        active=active,
        roles=frozenset(roles),
        agreement_accepted=accepted,
        agreement_version="2",
    )


COMBINATIONS = list(itertools.product(Role, Act, Relation, (True, False)))


def test_the_table_names_every_role_for_every_act() -> None:
    assert set(TABLE) == set(Act)
    for act, rows in TABLE.items():
        assert set(rows) == set(Role), act


def test_the_whole_table_matches_the_rules_written_apart() -> None:
    differences = []
    for role, act, relation, accepted in COMBINATIONS:
        decision = decide(subject(role, accepted=accepted), act, relation)
        if decision.allowed != expected(role, act, relation, accepted):
            differences.append((role.value, act.value, relation.value, accepted))
    assert differences == []
    assert len(COMBINATIONS) == 5 * len(Act) * 5 * 2


@pytest.mark.parametrize(("role", "act", "relation", "accepted"), COMBINATIONS)
def test_every_refusal_says_why_in_words_safe_to_show(
    role: Role, act: Act, relation: Relation, accepted: bool
) -> None:
    decision = decide(subject(role, accepted=accepted), act, relation)
    if decision.allowed:
        assert decision == Decision(True)
        return
    assert decision.refusal is not None
    assert decision.reason.endswith(".")
    assert 20 < len(decision.reason) < 300
    if decision.refusal is Refusal.AGREEMENT:
        assert "information sharing agreement (version 2)" in decision.reason
    elif decision.refusal is Refusal.ROLE:
        assert decision.reason == role_reason(act)
    else:
        assert decision.refusal is Refusal.NEED_TO_KNOW
        assert "not involved" in decision.reason


def test_an_uninvolved_agency_is_refused_before_being_asked_to_accept_the_agreement() -> None:
    decision = decide(subject(Role.SPOC, accepted=False), Act.VIEW_CASE_DETAIL, Relation.NONE)
    assert decision.refusal is Refusal.NEED_TO_KNOW


def test_no_case_detail_without_the_current_agreement() -> None:
    member = Member(panel_id="p", aad_object_id="a", name="Daniel", roles=frozenset({Role.CHAIR}))
    outdated = PolicySubject.of(member, accepted_version="1", current_version="2")
    current = PolicySubject.of(member, accepted_version="2", current_version="2")
    never = PolicySubject.of(member, accepted_version=None, current_version="2")
    for person in (outdated, never):
        refused = decide(person, Act.VIEW_CASE_DETAIL, Relation.CORE_AGENCY)
        assert refused.refusal is Refusal.AGREEMENT
        # what carries no personal data stays open to them
        assert decide(person, Act.VIEW_CASE_SUMMARY, Relation.CORE_AGENCY).allowed
    assert decide(current, Act.VIEW_CASE_DETAIL, Relation.CORE_AGENCY).allowed


@pytest.mark.parametrize("act", list(Act))
def test_inactive_members_and_strangers_may_do_nothing(act: Act) -> None:
    gone = Member(
        panel_id="p",
        aad_object_id="a",
        name="Former member",
        roles=frozenset({Role.COORDINATOR}),
        active=False,
    )
    inactive = PolicySubject.of(gone, accepted_version="2", current_version="2")
    stranger = PolicySubject.of(None, accepted_version=None, current_version="2")
    for relation in Relation:
        assert decide(inactive, act, relation).refusal is Refusal.INACTIVE
        assert decide(stranger, act, relation).refusal is Refusal.NOT_MEMBER


def test_several_roles_and_relations_allow_what_any_one_allows() -> None:
    chair_and_spoc = subject(Role.CHAIR, Role.SPOC)
    assert decide(chair_and_spoc, Act.VIEW_CASE_DETAIL, Relation.NONE).allowed  # as chair
    assert decide(chair_and_spoc, Act.ANSWER_INFO_REQUEST, Relation.CORE_AGENCY).allowed
    spoc = subject(Role.SPOC, accepted=False)
    both = {Relation.ACTION_OWNER, Relation.REFERRER}
    # own referral without the agreement, though the case's detail needs it
    assert decide(spoc, Act.VIEW_REFERRAL, both).allowed
    assert decide(spoc, Act.VIEW_CASE_DETAIL, both).refusal is Refusal.AGREEMENT
    assert decide(spoc, Act.VIEW_CASE_DETAIL, []).refusal is Refusal.NEED_TO_KNOW


def test_a_role_refusal_names_who_may() -> None:
    assert role_reason(Act.TRIAGE) == "Only the panel's coordinators can triage referrals."
    assert role_reason(Act.VIEW_CASE_DETAIL) == (
        "Only the panel's coordinators, chairs, SPOCs and deputies can see a case in full."
    )
