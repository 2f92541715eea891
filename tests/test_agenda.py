"""The agenda's rules: order, timing, which cases are due, and the coordinator's changes;
and the agenda cards."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.domain.agenda import (
    CONFIDENTIALITY_TITLE,
    UNMET_TITLE,
    AgendaTiming,
    build_agenda,
    due_at,
    item_number,
    listed_elsewhere,
    move_item,
    neighbour,
    other_business,
    removed_by_hand,
    renumber,
    running_items,
    timing,
)
from bot.domain.case import Case, CaseStatus
from bot.domain.errors import InvalidInput, InvalidTransition
from bot.domain.meeting import (
    AgendaItem,
    AgendaItemKind,
    AgendaItemStatus,
    Meeting,
    MeetingStatus,
)
from bot.domain.risk import RiskLevel
from bot.features.meetings.gallery import agenda_cards
from cards.kit import card_text, teams_findings
from cards.verbs import Verb
from tests.support import cards

T0 = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)
PANEL = "panel-1"


def meeting(
    starts_at: datetime = T0, *, minutes: int = 120, status: MeetingStatus = MeetingStatus.SCHEDULED
) -> Meeting:
    return Meeting(
        panel_id=PANEL,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=minutes),
        referral_deadline=starts_at - timedelta(days=8),
        status=status,
    )


def case(reference: str, **fields: Any) -> Case:
    values: dict[str, Any] = {
        "panel_id": PANEL,
        "reference": reference,
        "opened_at": T0 - timedelta(days=20),
    }
    return Case(**(values | fields))


def item(of: Meeting, kind: AgendaItemKind, position: int, **fields: Any) -> AgendaItem:
    values: dict[str, Any] = {
        "panel_id": PANEL,
        "meeting_id": of.id,
        "kind": kind,
        "position": position,
        "title": fields.pop("title", kind.value),
    }
    return AgendaItem(**(values | fields))


def titles(items: list[AgendaItem], cases: dict[str, Case]) -> list[str]:
    return [cases[i.case_id].reference if i.case_id else i.title for i in items]


def test_the_agenda_follows_the_domain_order_with_children_first_then_risk_score() -> None:
    m = meeting()
    low_with_children = case("CM-1", has_children=True, risk_score=12)
    high = case("CM-2", risk_score=40)
    higher_with_children = case("CM-3", has_children=True, risk_score=35)
    medium = case("CM-4", risk_score=25)
    review = case("CM-0", status=CaseStatus.HEARD, risk_level=RiskLevel.HIGH)
    cases = {c.id: c for c in (low_with_children, high, higher_with_children, medium, review)}
    # triage listed CM-4 first, as referrals were accepted
    listed = [item(m, AgendaItemKind.NEW_CASE, 1, case_id=medium.id)]
    aob = item(m, AgendaItemKind.OTHER_BUSINESS, 2, title="Board figures")
    built = build_agenda(
        m,
        [*listed, aob],
        cases,
        due=[
            (low_with_children, AgendaItemKind.NEW_CASE),
            (high, AgendaItemKind.NEW_CASE),
            (review, AgendaItemKind.REVIEW_CASE),
            (higher_with_children, AgendaItemKind.NEW_CASE),
            (medium, AgendaItemKind.NEW_CASE),
        ],
        unmet_action_ids=["a1", "a2"],
        timing=AgendaTiming(),
    )
    assert titles(built, cases) == [
        CONFIDENTIALITY_TITLE,
        UNMET_TITLE,
        "CM-3",
        "CM-1",
        "CM-2",
        "CM-4",
        "CM-0",
        "Board figures",
    ]
    assert [i.position for i in built] == list(range(1, 9))
    assert built[1].action_ids == ("a1", "a2")
    assert sum(1 for i in built if i.case_id == medium.id) == 1


def test_estimates_follow_the_configured_minutes_and_a_long_agenda_is_flagged() -> None:
    m = meeting(minutes=60)
    cases = {c.id: c for c in (case(f"CM-{n}") for n in range(4))}
    built = build_agenda(
        m,
        [],
        cases,
        due=[(c, AgendaItemKind.NEW_CASE) for c in cases.values()],
        unmet_action_ids=["a1", "a2", "a3"],
        timing=AgendaTiming(minutes_per_case=12, minutes_per_unmet_action=3),
    )
    assert [i.minutes_estimate for i in built] == [5, 9, 12, 12, 12, 12]
    plan = timing(m, built)
    assert (plan.planned_minutes, plan.meeting_minutes, plan.fits) == (62, 60, False)
    assert plan.overrun_minutes == 2
    assert timing(meeting(minutes=120), built).fits


def test_the_default_plans_fifteen_minutes_a_case_and_refuses_silly_settings() -> None:
    assert AgendaTiming().minutes_per_case == 15
    with pytest.raises(InvalidInput):
        AgendaTiming(minutes_per_case=0)


def test_building_again_keeps_what_the_coordinator_removed_and_deferred() -> None:
    m = meeting()
    removed, deferred = case("CM-1"), case("CM-2")
    cases = {removed.id: removed, deferred.id: deferred}
    items = [
        item(
            m,
            AgendaItemKind.NEW_CASE,
            1,
            case_id=removed.id,
            status=AgendaItemStatus.REMOVED,
            note="listed in error",
        ),
        item(m, AgendaItemKind.NEW_CASE, 2, case_id=deferred.id, status=AgendaItemStatus.DEFERRED),
    ]
    built = build_agenda(
        m,
        items,
        cases,
        due=[(removed, AgendaItemKind.NEW_CASE), (deferred, AgendaItemKind.NEW_CASE)],
        unmet_action_ids=[],
        timing=AgendaTiming(),
    )
    assert len(built) == 3
    assert [i.title for i in running_items(built)] == [CONFIDENTIALITY_TITLE]
    assert {i.status for i in built if i.case_id} == {
        AgendaItemStatus.REMOVED,
        AgendaItemStatus.DEFERRED,
    }


def test_the_unmet_actions_item_follows_the_actions_still_open() -> None:
    m = meeting()
    built = build_agenda(m, [], {}, due=[], unmet_action_ids=["a1"], timing=AgendaTiming())
    unmet = next(i for i in built if i.kind is AgendaItemKind.UNMET_ACTIONS)
    again = build_agenda(m, built, {}, due=[], unmet_action_ids=[], timing=AgendaTiming())
    assert unmet in again
    assert (unmet.status, unmet.action_ids) == (AgendaItemStatus.REMOVED, ())
    third = build_agenda(m, again, {}, due=[], unmet_action_ids=["a2"], timing=AgendaTiming())
    assert (unmet.status, unmet.action_ids) == (AgendaItemStatus.PENDING, ("a2",))
    assert len(third) == 2


def test_once_reordered_by_hand_new_items_join_the_end_of_their_section() -> None:
    m = meeting()
    a = case("CM-A", risk_score=10)
    b = case("CM-B", risk_score=20)
    c = case("CM-C", risk_score=30, has_children=True)
    cases = {x.id: x for x in (a, b, c)}
    built = build_agenda(
        m,
        [],
        cases,
        due=[(a, AgendaItemKind.NEW_CASE), (b, AgendaItemKind.NEW_CASE)],
        unmet_action_ids=[],
        timing=AgendaTiming(),
    )
    assert titles(built, cases)[1:] == ["CM-B", "CM-A"]
    low = next(i for i in built if i.case_id == a.id)
    built = move_item(built, low.id, up=True)
    m.agenda_manual = True
    built = build_agenda(
        m,
        built,
        cases,
        due=[(c, AgendaItemKind.NEW_CASE)],
        unmet_action_ids=[],
        timing=AgendaTiming(),
    )
    # CM-C has children and would lead; the coordinator's order is kept instead
    assert titles(built, cases)[1:] == ["CM-A", "CM-B", "CM-C"]
    assert [i.position for i in built] == [1, 2, 3, 4]


def test_moving_stays_within_a_section_and_says_why_not() -> None:
    m = meeting()
    first, second = case("CM-1", risk_score=30), case("CM-2", risk_score=20)
    review = case("CM-3", status=CaseStatus.HEARD)
    cases = {x.id: x for x in (first, second, review)}
    built = build_agenda(
        m,
        [],
        cases,
        due=[
            (first, AgendaItemKind.NEW_CASE),
            (second, AgendaItemKind.NEW_CASE),
            (review, AgendaItemKind.REVIEW_CASE),
        ],
        unmet_action_ids=[],
        timing=AgendaTiming(),
    )
    by_ref = {cases[i.case_id].reference: i for i in built if i.case_id}
    with pytest.raises(InvalidInput, match="already first among new cases"):
        move_item(built, by_ref["CM-1"].id, up=True)
    with pytest.raises(InvalidInput, match="already last among cases due for review"):
        move_item(built, by_ref["CM-3"].id, up=False)
    with pytest.raises(InvalidInput, match="keeps its place"):
        move_item(built, built[0].id, up=False)
    moved = move_item(built, by_ref["CM-2"].id, up=True)
    assert titles(moved, cases) == [CONFIDENTIALITY_TITLE, "CM-2", "CM-1", "CM-3"]


def test_a_case_is_removed_or_deferred_with_a_reason_and_only_while_pending() -> None:
    m = meeting()
    target = item(m, AgendaItemKind.NEW_CASE, 1, case_id="c1")
    with pytest.raises(InvalidInput, match="Give a reason"):
        target.set_aside(AgendaItemStatus.DEFERRED, "   ")
    target.set_aside(AgendaItemStatus.DEFERRED, " police  in court ")
    assert (target.status, target.note) == (AgendaItemStatus.DEFERRED, "police in court")
    with pytest.raises(InvalidTransition):
        target.set_aside(AgendaItemStatus.REMOVED, "again")
    aob = item(m, AgendaItemKind.OTHER_BUSINESS, 2)
    with pytest.raises(InvalidInput, match="Only a case"):
        aob.set_aside(AgendaItemStatus.DEFERRED, "later")
    statement = item(m, AgendaItemKind.CONFIDENTIALITY, 0)
    with pytest.raises(InvalidInput, match="stays on the agenda"):
        statement.set_aside(AgendaItemStatus.REMOVED, "no")


def test_any_other_business_needs_a_title_and_a_meeting_not_started() -> None:
    m = meeting()
    added = other_business(m, [], "  Quarterly   figures ", minutes=10)
    assert (added.title, added.minutes_estimate, added.kind) == (
        "Quarterly figures",
        10,
        AgendaItemKind.OTHER_BUSINESS,
    )
    with pytest.raises(InvalidInput):
        other_business(m, [], " ", minutes=5)
    with pytest.raises(InvalidInput):
        other_business(m, [], "x", minutes=0)
    with pytest.raises(InvalidTransition):
        other_business(meeting(status=MeetingStatus.IN_PROGRESS), [], "x", minutes=5)


def test_a_new_case_is_due_and_a_heard_case_is_reviewed_at_the_meeting_set_for_it() -> None:
    this, earlier, later = (
        meeting(),
        meeting(T0 - timedelta(days=28)),
        meeting(T0 + timedelta(days=35)),
    )
    assert due_at(case("CM-1"), this, None) is AgendaItemKind.NEW_CASE
    heard = case("CM-2", status=CaseStatus.HEARD)
    assert due_at(heard, this, None) is AgendaItemKind.REVIEW_CASE  # none set: the next one
    heard.review_meeting_id = later.id
    assert due_at(heard, this, later) is None
    assert due_at(heard, later, later) is AgendaItemKind.REVIEW_CASE
    heard.review_meeting_id = earlier.id  # that meeting went by without hearing it
    assert due_at(heard, this, earlier) is AgendaItemKind.REVIEW_CASE
    later.status = MeetingStatus.CANCELLED
    heard.review_meeting_id = later.id
    assert due_at(heard, this, later) is AgendaItemKind.REVIEW_CASE
    closed = case("CM-3", status=CaseStatus.CLOSED)
    assert due_at(closed, this, None) is None


def test_a_case_waiting_on_a_later_agenda_or_taken_off_by_hand_is_not_listed_again() -> None:
    this, later = meeting(), meeting(T0 + timedelta(days=35))
    c = case("CM-1")
    waiting = item(later, AgendaItemKind.NEW_CASE, 1, case_id=c.id)
    meetings = {this.id: this, later.id: later}
    assert listed_elsewhere(c, this, [waiting], meetings)
    later.status = MeetingStatus.CANCELLED
    assert not listed_elsewhere(c, this, [waiting], meetings)
    removed = item(this, AgendaItemKind.NEW_CASE, 1, case_id=c.id, status=AgendaItemStatus.REMOVED)
    assert removed_by_hand(c, [removed], meetings)
    assert not removed_by_hand(c, [waiting], meetings)


def test_the_running_agenda_numbers_items_and_finds_neighbours() -> None:
    m = meeting()
    items = renumber(
        [
            item(m, AgendaItemKind.CONFIDENTIALITY, 1),
            item(m, AgendaItemKind.NEW_CASE, 2, case_id="c1", status=AgendaItemStatus.DEFERRED),
            item(m, AgendaItemKind.NEW_CASE, 3, case_id="c2"),
            item(m, AgendaItemKind.OTHER_BUSINESS, 4),
        ],
        {},
        manual=True,
    )
    running = running_items(items)
    assert len(running) == 3
    assert item_number(items, running[1].id) == (2, 3)
    assert neighbour(items, running[1].id, forward=True) is running[2]
    assert neighbour(items, running[0].id, forward=False) is None
    assert neighbour(items, running[2].id, forward=True) is None


# --- the cards -----------------------------------------------------------------------------

CARDS = agenda_cards()


@pytest.mark.parametrize("name", sorted(CARDS))
def test_every_agenda_card_passes_the_teams_validator(name: str) -> None:
    assert teams_findings(CARDS[name]) == []


def test_the_agenda_cards_buttons_carry_known_verbs() -> None:
    verbs = {v.value for v in Verb}

    for card in CARDS.values():
        assert {str(cards.verb_of(b)) for b in cards.buttons(card)} <= verbs


@pytest.mark.parametrize("name", ["agenda-announcement", "agenda-announcement-updated"])
def test_the_channel_announcement_carries_references_and_levels_only(name: str) -> None:
    text = card_text(CARDS[name])
    assert "CM-2026-014" in text and "Medium risk" in text
    assert "invited: Riverside Fire and Rescue" in text
    assert "Quarterly figures" not in text  # any other business appears as a count
    for invented_person in ("Margaret", "Ellison", "Rosa", "Lindqvist", "Gemma", "Priya"):
        assert invented_person not in text


def test_the_coordinator_card_offers_the_controls_and_warns_of_an_overrun() -> None:
    text = card_text(CARDS["agenda-overrun"])
    assert "135 of 120 minutes planned: the agenda runs 15 minutes over the meeting" in text
    for label in ("Publish agenda", "Move up", "Move down", "Defer…", "Remove…"):
        assert label in card_text(CARDS["agenda-coordinator"])
    assert "Move up" not in card_text(CARDS["agenda-member"])
