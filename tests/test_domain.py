"""The domain's own rules, without any storage."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.domain.action import Action, ActionStatus, InformationRequest, UpdateKind
from bot.domain.case import Case, CaseStatus, ClosureReason
from bot.domain.common import FixedClock
from bot.domain.delivery import DeliveryState, OutgoingDelivery
from bot.domain.errors import InvalidInput, InvalidTransition, NotAllowed
from bot.domain.meeting import AgendaItem, AgendaItemKind, Meeting
from bot.domain.panel import Member, Panel, Role
from bot.domain.referral import (
    Consent,
    Criteria,
    DeclineReason,
    Referral,
    ReferralStatus,
    Subject,
    SubjectRole,
    normalise_name,
    normalise_postcode,
)
from bot.domain.risk import RiskMatrix
from bot.kernel.config import load_risk_matrix

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def referral(**overrides: object) -> Referral:
    fields: dict[str, object] = {
        "panel_id": "p1",
        "reference": "RF-2026-0001",
        "referrer_member_id": "m1",
        "subjects": [Subject(role=SubjectRole.VICTIM, name="Ann Example")],
        "criteria": Criteria(potential_escalation=True),
        "consent": Consent(aware=True, consented=True),
        "created_at": NOW,
    }
    fields.update(overrides)
    return Referral(**fields)  # type: ignore[arg-type]


def action(**overrides: object) -> Action:
    fields: dict[str, object] = {
        "panel_id": "p1",
        "case_id": "c1",
        "owner_agency_id": "housing",
        "description": "Visit the victim",
        "due_on": date(2026, 12, 7),
        "created_at": NOW,
    }
    fields.update(overrides)
    return Action(**fields)  # type: ignore[arg-type]


def test_a_referral_meeting_no_criterion_is_refused_with_the_criteria_explained() -> None:
    draft = referral(criteria=Criteria())
    with pytest.raises(InvalidInput, match=r"high risk .* potential escalation.* professional"):
        draft.submit(NOW)
    assert draft.status is ReferralStatus.DRAFT


def test_professional_judgement_needs_words_not_just_a_tick() -> None:
    assert not Criteria(professional_judgement="   ").any
    assert Criteria(professional_judgement="Serious concern after home visit").any


def test_sharing_without_consent_needs_a_reason() -> None:
    draft = referral(consent=Consent(aware=False, consented=False))
    with pytest.raises(InvalidInput) as caught:
        draft.submit(NOW)
    assert caught.value.fields == {"consent.without_consent_reason": "required"}


def test_a_referral_moves_only_along_its_lifecycle() -> None:
    draft = referral()
    draft.submit(NOW)
    draft.ask_for_more_information("Which school does the child attend?")
    assert draft.status is ReferralStatus.MORE_INFO_REQUESTED
    with pytest.raises(InvalidTransition):
        draft.accept("case-1", NOW)
    draft.submit(NOW)
    draft.accept("case-1", NOW)
    with pytest.raises(InvalidTransition):
        draft.decline(DeclineReason.OUT_OF_AREA, None, NOW)


def test_declining_for_a_more_appropriate_meeting_names_it() -> None:
    submitted = referral()
    submitted.submit(NOW)
    with pytest.raises(InvalidInput):
        submitted.decline(DeclineReason.MORE_APPROPRIATE_MEETING, "", NOW)
    submitted.decline(DeclineReason.MORE_APPROPRIATE_MEETING, "Domestic-abuse MARAC", NOW)
    assert submitted.status is ReferralStatus.DECLINED


def test_names_and_postcodes_are_normalised_for_matching() -> None:
    assert normalise_name("  Zoë  O'Brien-Smith ") == "zoe o brien smith"
    assert normalise_postcode("rv1  4qt") == "RV14QT"


def test_the_example_matrix_has_twenty_items_and_is_high_above_31() -> None:
    matrix = load_risk_matrix()
    assert matrix.example and len(matrix.items) == 20
    assert not matrix.is_high(31) and matrix.is_high(32)
    answers = {item.id: "none" for item in matrix.items}
    answers["weapons"] = "severe"
    assert matrix.score(answers) == 3


def test_the_matrix_refuses_missing_unknown_and_invalid_answers() -> None:
    matrix = load_risk_matrix()
    with pytest.raises(InvalidInput, match="Every risk question"):
        matrix.score({})
    full = {item.id: "none" for item in matrix.items}
    with pytest.raises(InvalidInput, match="does not have"):
        matrix.score({**full, "made_up": "none"})
    with pytest.raises(InvalidInput, match="not an answer"):
        matrix.score({**full, "weapons": "extreme"})


def test_malformed_matrix_data_is_refused() -> None:
    with pytest.raises(InvalidInput):
        RiskMatrix.from_data({"version": "1", "threshold": "x", "items": []})


def test_only_the_owning_agency_completes_an_action() -> None:
    job = action()
    with pytest.raises(NotAllowed):
        job.complete(by_agency_id="police", at=NOW)
    job.complete(by_agency_id="housing", at=NOW, note="Visited")
    assert job.status is ActionStatus.DONE
    assert [u.kind for u in job.updates] == [UpdateKind.DONE]
    with pytest.raises(InvalidTransition):
        job.complete(by_agency_id="housing", at=NOW)


def test_carrying_an_unmet_action_forward_records_why() -> None:
    job = action()
    assert job.is_unmet_at(date(2026, 12, 8))
    assert not job.is_unmet_at(date(2026, 12, 6))
    with pytest.raises(InvalidInput):
        job.carry_forward(date(2026, 12, 1), circumstances_changed=True, at=NOW)
    job.carry_forward(date(2027, 1, 11), circumstances_changed=False, at=NOW)
    assert job.due_on == date(2027, 1, 11)
    assert job.updates[-1].circumstances_changed is False
    assert "did not act" in job.updates[-1].note


def test_an_information_request_is_answered_once_by_its_agency() -> None:
    request = InformationRequest(
        panel_id="p1", case_id="c1", agency_id="police", question="Known?", due_at=NOW
    )
    with pytest.raises(NotAllowed):
        request.answer_with("x", by_agency_id="housing", by_member_id="m", at=NOW)
    request.answer_with("Two call-outs", by_agency_id="police", by_member_id="m", at=NOW)
    with pytest.raises(InvalidInput):
        request.answer_with("again", by_agency_id="police", by_member_id="m", at=NOW)


def test_closing_a_case_for_another_reason_needs_a_note_and_it_can_reopen() -> None:
    case = Case(panel_id="p1", reference="CM-2026-014", opened_at=NOW)
    with pytest.raises(InvalidInput):
        case.close(ClosureReason.OTHER, None, NOW)
    case.close(ClosureReason.CONCERNS_REDUCED, None, NOW)
    assert not case.is_open
    case.reopen()
    assert case.status is CaseStatus.OPEN and case.closure_reason is None


def test_a_meeting_must_end_after_it_starts_and_take_referrals_before() -> None:
    with pytest.raises(InvalidInput):
        Meeting(panel_id="p", starts_at=NOW, ends_at=NOW, referral_deadline=NOW)
    with pytest.raises(InvalidInput):
        Meeting(
            panel_id="p",
            starts_at=NOW,
            ends_at=NOW + timedelta(hours=2),
            referral_deadline=NOW + timedelta(days=1),
        )
    meeting = Meeting(
        panel_id="p",
        starts_at=NOW,
        ends_at=NOW + timedelta(hours=2),
        referral_deadline=NOW - timedelta(days=8),
    )
    assert meeting.length_minutes == 120
    assert meeting.accepts_referrals_at(NOW - timedelta(days=9))
    assert not meeting.accepts_referrals_at(NOW - timedelta(days=7))


def test_case_items_and_only_case_items_name_a_case() -> None:
    with pytest.raises(InvalidInput):
        AgendaItem(
            panel_id="p", meeting_id="m", kind=AgendaItemKind.NEW_CASE, position=1, title="x"
        )
    with pytest.raises(InvalidInput):
        AgendaItem(
            panel_id="p",
            meeting_id="m",
            kind=AgendaItemKind.OTHER_BUSINESS,
            position=1,
            title="x",
            case_id="c",
        )


def test_spoc_and_deputy_roles_need_an_agency() -> None:
    with pytest.raises(InvalidInput):
        Member(panel_id="p", aad_object_id="a", name="N", roles=frozenset({Role.SPOC}))
    member = Member(panel_id="p", aad_object_id="a", name="N")
    with pytest.raises(InvalidInput):
        member.grant(Role.DEPUTY)
    member.grant(Role.DEPUTY, agency_id="housing")
    assert member.has(Role.DEPUTY) and member.agency_id == "housing"


def test_a_panel_formats_case_references() -> None:
    panel = Panel(name="Riverside", team_id="t", tenant_id="x", created_at=NOW)
    assert panel.case_reference(2026, 14) == "CM-2026-014"


def test_naive_datetimes_are_refused_everywhere() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Panel(name="R", team_id="t", tenant_id="x", created_at=datetime(2026, 1, 1))  # noqa: DTZ001
    with pytest.raises(ValueError, match="timezone-aware"):
        FixedClock(datetime(2026, 1, 1))  # noqa: DTZ001 (naive on purpose: it must be refused)


def test_a_delivery_moves_from_queued_to_sent_counting_attempts() -> None:
    delivery = OutgoingDelivery(panel_id="p", key="k", payload={}, not_before=NOW, created_at=NOW)
    delivery.claim()
    delivery.retry_later(503, NOW + timedelta(seconds=5))
    delivery.claim()
    delivery.sent(201, NOW)
    assert delivery.state is DeliveryState.SENT and delivery.attempts == 2
    with pytest.raises(InvalidTransition):
        delivery.claim()
