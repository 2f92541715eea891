"""Running the meeting: the domain's rules for a meeting under way, the decisions on a case
and an unmet action, and the meeting cards."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from bot.domain.action import Action, ActionStatus, UpdateKind
from bot.domain.case import Case, CaseStatus, ClosureReason
from bot.domain.errors import InvalidInput, InvalidTransition
from bot.domain.meeting import Attendance, Meeting, MeetingStatus
from bot.domain.risk import RiskLevel
from bot.features.meetings.gallery import meeting_cards
from cards.kit import card_text, teams_findings
from cards.verbs import Verb
from tests.support import cards

T0 = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)


def meeting(status: MeetingStatus = MeetingStatus.SCHEDULED) -> Meeting:
    return Meeting(
        panel_id="p",
        starts_at=T0,
        ends_at=T0 + timedelta(hours=2),
        referral_deadline=T0 - timedelta(days=8),
        status=status,
    )


def action(**fields: Any) -> Action:
    values: dict[str, Any] = {
        "panel_id": "p",
        "case_id": "c",
        "owner_agency_id": "housing",
        "description": "Fit a door camera",
        "due_on": date(2026, 12, 7),
        "created_at": T0 - timedelta(days=28),
    }
    return Action(**(values | fields))


def test_a_meeting_starts_at_its_first_item_and_counts_every_move() -> None:
    m = meeting()
    m.start(T0, conversation_id="19:group", first_item_id="i1")
    assert (m.status, m.current_item_id, m.step, m.started_at) == (
        MeetingStatus.IN_PROGRESS,
        "i1",
        0,
        T0,
    )
    m.go_to("i2")
    m.go_to("i1")
    assert (m.current_item_id, m.step) == ("i1", 2)
    m.end(T0 + timedelta(hours=2))
    assert (m.status, m.ended_at) == (MeetingStatus.ENDED, T0 + timedelta(hours=2))
    with pytest.raises(InvalidTransition):
        m.go_to("i3")
    with pytest.raises(InvalidTransition):
        m.start(T0, conversation_id=None, first_item_id="i1")


def test_an_agenda_can_be_published_again_until_the_meeting_starts() -> None:
    m = meeting()
    m.publish_agenda(T0 - timedelta(days=7))
    m.publish_agenda(T0 - timedelta(days=6))
    assert (m.status, m.agenda_published_at) == (
        MeetingStatus.AGENDA_PUBLISHED,
        T0 - timedelta(days=6),
    )
    m.start(T0, conversation_id=None, first_item_id="i1")
    with pytest.raises(InvalidTransition):
        m.publish_agenda(T0)


def test_a_case_is_set_for_review_its_risk_changed_and_closing_clears_the_review() -> None:
    case = Case(panel_id="p", reference="CM-1", opened_at=T0)
    case.review_at("m-jan")
    case.set_risk_level(RiskLevel.HIGH)
    assert (case.review_meeting_id, case.risk_level) == ("m-jan", RiskLevel.HIGH)
    with pytest.raises(InvalidInput, match="Say why"):
        case.close(ClosureReason.OTHER, " ", T0)
    case.close(ClosureReason.OTHER, "Moved out of the borough", T0)
    assert (case.status, case.review_meeting_id) == (CaseStatus.CLOSED, None)
    with pytest.raises(InvalidInput):
        case.review_at("m-feb")
    with pytest.raises(InvalidInput):
        case.set_risk_level(RiskLevel.STANDARD)


def test_an_unmet_action_is_escalated_or_cancelled_recording_why() -> None:
    escalated = action()
    escalated.escalate(
        "to the housing manager", circumstances_changed=False, at=T0, by_member_id="tom"
    )
    update = escalated.updates[-1]
    assert escalated.escalated and escalated.status is ActionStatus.OPEN
    assert (update.kind, update.circumstances_changed) == (UpdateKind.ESCALATED, False)
    assert update.note == "Escalated: to the housing manager (the agency did not act)."
    with pytest.raises(InvalidInput):
        escalated.escalate(" ", circumstances_changed=True, at=T0)
    cancelled = action()
    cancelled.cancel("Tenant moved away", at=T0, circumstances_changed=True)
    assert cancelled.updates[-1].circumstances_changed is True
    with pytest.raises(InvalidInput):
        cancelled.escalate("too late", circumstances_changed=True, at=T0)


def test_attendance_needs_an_aware_time() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Attendance(
            panel_id="p",
            meeting_id="m",
            member_id="x",
            acknowledged_at=datetime(2026, 12, 8),  # noqa: DTZ001 (naive on purpose: it must be refused)
        )


# --- the cards -------------------------------------------------------------------------------

CARDS = meeting_cards()


@pytest.mark.parametrize("name", sorted(CARDS))
def test_every_meeting_card_passes_the_teams_validator_within_budget(name: str) -> None:
    assert teams_findings(CARDS[name]) == []
    assert len(json.dumps(CARDS[name]).encode()) < 28 * 1024


@pytest.mark.parametrize("name", sorted(CARDS))
def test_every_meeting_button_carries_a_known_verb(name: str) -> None:
    verbs = {v.value for v in Verb}
    assert {a["verb"] for a in cards.actions(CARDS[name], "Action.Execute")} <= verbs


def test_every_chair_button_carries_the_item_the_step_and_a_token() -> None:
    for name in ("chair-new-case", "chair-unmet-actions"):
        for button in cards.actions(CARDS[name], "Action.Execute"):
            assert {"meeting_id", "item_id", "step", "token"} <= set(button["data"]), button


def test_the_chair_card_says_where_the_meeting_is_and_ends_on_the_last_item() -> None:
    text = card_text(CARDS["chair-new-case"])
    assert text.startswith("Item 3 of 7: CM-2026-014 (new case)")
    for label in ("Back", "Next", "Add an action…", "Save action", "Lead agency…", "Close case…"):
        assert label in text
    last = card_text(CARDS["chair-other-business"])
    assert "End the meeting" in last and "Next" not in last


def test_the_chair_card_in_a_channel_leaves_out_narratives() -> None:
    text = card_text(CARDS["chair-in-channel"])
    assert "Tenant since 2019" not in text
    assert "Fit a door camera" not in text
    assert "answered (in the own view of those who may see it)" in text


def test_the_meeting_ended_card_carries_counts_only() -> None:
    text = card_text(CARDS["meeting-ended"])
    assert "Items discussed" in text and "6 of 7" in text
    assert "CM-2026" not in text
