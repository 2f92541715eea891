"""The minutes: what a draft holds, the rules for editing and approving, the stored
document, the Word export and the signed download links; and the minutes cards."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from docx import Document

from bot.domain.action import Action
from bot.domain.case import Case, CaseStatus, ClosureReason
from bot.domain.errors import InvalidInput, InvalidTransition
from bot.domain.meeting import (
    AgendaItem,
    AgendaItemKind,
    AgendaItemStatus,
    Attendance,
    Meeting,
    MeetingStatus,
)
from bot.domain.minutes import (
    MeetingRecord,
    Minutes,
    draft_minutes,
    unmet_outcome,
    unmet_settled,
)
from bot.domain.panel import Agency, Member, Role
from bot.domain.risk import RiskLevel
from bot.features.meetings.docx_export import minutes_docx
from bot.features.meetings.gallery import demo_minutes, minutes_cards
from bot.kernel.links import Links, Purpose
from cards.kit import card_text, teams_findings

LONDON = ZoneInfo("Europe/London")
T0 = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)
P = "panel"


def record() -> MeetingRecord:
    """A meeting that heard two cases, reviewed one unmet action and skipped one case."""
    meeting = Meeting(
        panel_id=P,
        starts_at=T0,
        ends_at=T0 + timedelta(hours=2),
        referral_deadline=T0 - timedelta(days=8),
        status=MeetingStatus.ENDED,
        started_at=T0,
        ended_at=T0 + timedelta(hours=2),
    )
    january = Meeting(
        panel_id=P,
        starts_at=T0 + timedelta(days=35),
        ends_at=T0 + timedelta(days=35, hours=2),
        referral_deadline=T0 + timedelta(days=27),
    )
    housing = Agency(panel_id=P, name="Riverside Homes (Housing)")
    police = Agency(panel_id=P, name="Riverside Police")
    gemma = Member(
        panel_id=P,
        aad_object_id="g",
        name="Gemma Hartley",
        agency_id=housing.id,
        roles=frozenset({Role.SPOC}),
    )
    tom = Member(
        panel_id=P, aad_object_id="t", name="Tom Okafor", agency_id=police.id, roles=frozenset()
    )
    heard = Case(
        panel_id=P,
        reference="CM-2026-014",
        status=CaseStatus.HEARD,
        risk_level=RiskLevel.HIGH,
        lead_agency_id=housing.id,
        lead_officer="Gemma Hartley",
        review_meeting_id=january.id,
        opened_at=T0 - timedelta(days=10),
    )
    closed = Case(panel_id=P, reference="CM-2026-013", opened_at=T0 - timedelta(days=60))
    closed.close(ClosureReason.OTHER, "Moved away", T0 + timedelta(minutes=40))
    skipped = Case(panel_id=P, reference="CM-2026-016", opened_at=T0 - timedelta(days=3))
    agreed = Action(
        panel_id=P,
        case_id=heard.id,
        owner_agency_id=housing.id,
        description="Fit a door camera",
        due_on=date(2027, 1, 11),
        meeting_id=meeting.id,
        created_at=T0 + timedelta(minutes=20),
    )
    earlier = Action(
        panel_id=P,
        case_id=closed.id,
        owner_agency_id=police.id,
        description="Serve a warning",
        due_on=date(2026, 12, 1),
        created_at=T0 - timedelta(days=28),
    )
    earlier.carry_forward(
        date(2027, 1, 11), circumstances_changed=True, at=T0 + timedelta(minutes=5)
    )

    def item(position: int, kind: AgendaItemKind, **fields: object) -> AgendaItem:
        return AgendaItem(
            panel_id=P,
            meeting_id=meeting.id,
            kind=kind,
            position=position,
            title=str(fields.pop("title", kind.value)),
            **fields,  # type: ignore[arg-type]
        )

    items = [
        item(1, AgendaItemKind.CONFIDENTIALITY, status=AgendaItemStatus.DISCUSSED),
        item(
            2,
            AgendaItemKind.UNMET_ACTIONS,
            status=AgendaItemStatus.DISCUSSED,
            action_ids=(earlier.id,),
        ),
        item(
            3,
            AgendaItemKind.NEW_CASE,
            case_id=heard.id,
            status=AgendaItemStatus.DISCUSSED,
            summary="Threats continue.",
        ),
        item(4, AgendaItemKind.REVIEW_CASE, case_id=closed.id, status=AgendaItemStatus.DISCUSSED),
        item(5, AgendaItemKind.NEW_CASE, case_id=skipped.id),
        item(6, AgendaItemKind.OTHER_BUSINESS, title="Board figures"),
        item(7, AgendaItemKind.OTHER_BUSINESS, title="Dropped", status=AgendaItemStatus.REMOVED),
    ]
    return MeetingRecord(
        meeting=meeting,
        items=items,
        cases={c.id: c for c in (heard, closed, skipped)},
        actions_by_case={heard.id: [agreed], closed.id: [earlier], skipped.id: []},
        unmet_actions=[earlier],
        attendance=[
            Attendance(
                panel_id=P,
                meeting_id=meeting.id,
                member_id=tom.id,
                agency_id=police.id,
                acknowledged_at=T0 + timedelta(minutes=1),
            ),
            Attendance(
                panel_id=P,
                meeting_id=meeting.id,
                member_id=gemma.id,
                agency_id=housing.id,
                acknowledged_at=T0,
            ),
        ],
        agencies={a.id: a for a in (housing, police)},
        members={m.id: m for m in (gemma, tom)},
        meetings={meeting.id: meeting, january.id: january},
        zone=LONDON,
    )


def drafted() -> Minutes:
    return draft_minutes(record(), now=T0 + timedelta(hours=2))


def test_the_draft_holds_attendance_by_agency_each_case_and_the_unmet_outcomes() -> None:
    minutes = drafted()
    assert minutes.meeting_label == "Tue 8 Dec 2026, 10:00"
    assert [(a.agency, a.people) for a in minutes.attendance] == [
        ("Riverside Homes (Housing)", ("Gemma Hartley",)),
        ("Riverside Police", ("Tom Okafor",)),
    ]
    heard, closed, skipped = minutes.cases
    assert (heard.reference, heard.review, heard.summary, heard.risk_level) == (
        "CM-2026-014",
        False,
        "Threats continue.",
        "High",
    )
    assert (heard.lead_agency, heard.lead_officer) == ("Riverside Homes (Housing)", "Gemma Hartley")
    assert heard.decision == "Review at the meeting on Tue 12 Jan 2027"
    assert [(a.description, a.owner, a.due_on) for a in heard.actions] == [
        ("Fit a door camera", "Riverside Homes (Housing)", date(2027, 1, 11))
    ]
    assert closed.decision == "Closed: Other (Moved away)"
    assert closed.actions == []  # its action came from an earlier meeting
    assert skipped.decision == "Not reached: listed again at the next meeting"
    (unmet,) = minutes.unmet
    assert (unmet.reference, unmet.owner, unmet.outcome) == (
        "CM-2026-013",
        "Riverside Police",
        "Carried forward to Mon 11 Jan 2027. Circumstances changed.",
    )
    assert minutes.other_business == ["Board figures"]
    assert [ref for ref, _ in minutes.actions] == ["CM-2026-014"]


def test_summaries_are_edited_until_the_minutes_are_approved() -> None:
    minutes = drafted()
    item_id = minutes.cases[0].item_id
    minutes.edit_summary(item_id, "  Threats continue; camera agreed.  ")
    assert minutes.cases[0].summary == "Threats continue; camera agreed."
    with pytest.raises(InvalidInput):
        minutes.edit_summary(item_id, "x" * 4001)
    with pytest.raises(InvalidInput):
        minutes.edit_summary("no-such-item", "text")
    minutes.approve(by_member_id="priya", by_name="Priya Raman", at=T0 + timedelta(days=1))
    assert (minutes.approved, minutes.approved_by) == (True, "Priya Raman")
    with pytest.raises(InvalidTransition):
        minutes.edit_summary(item_id, "later")
    with pytest.raises(InvalidTransition):
        minutes.approve(by_member_id="priya", by_name="Priya Raman", at=T0)


def test_the_stored_document_gives_back_the_same_minutes() -> None:
    minutes = drafted()
    copy = Minutes(
        id=minutes.id,
        panel_id=minutes.panel_id,
        meeting_id=minutes.meeting_id,
        meeting_starts_at=minutes.meeting_starts_at,
        drafted_at=minutes.drafted_at,
    )
    copy.fill_from(minutes.document())
    assert copy == minutes


def test_the_word_document_opens_and_lists_attendance_and_every_action() -> None:
    minutes = drafted()
    minutes.approve(by_member_id="priya", by_name="Priya Raman", at=T0 + timedelta(days=1))
    document = Document(io.BytesIO(minutes_docx(minutes, "Riverside Community MARAC")))
    paragraphs = [p.text for p in document.paragraphs]
    assert paragraphs[0] == "Riverside Community MARAC: minutes"
    assert "Meeting: Tue 8 Dec 2026, 10:00" in paragraphs
    assert "Approved by Priya Raman on Wed 9 Dec 2026." in paragraphs
    assert "CM-2026-014 (new case)" in paragraphs
    assert "Threats continue." in paragraphs
    rows = [[cell.text for cell in row.cells] for table in document.tables for row in table.rows]
    assert ["Agency", "Attended"] in rows
    assert ["Riverside Homes (Housing)", "Gemma Hartley"] in rows
    assert ["Action", "Owner", "Due by"] in rows
    assert ["Fit a door camera", "Riverside Homes (Housing)", "Mon 11 Jan 2027"] in rows
    assert ["Decision", "Closed: Other (Moved away)"] in rows
    assert ["Decision", "Review at the meeting on Tue 12 Jan 2027"] in rows
    assert ["Decision", ""] not in rows  # the decision row is never the empty header
    assert "Signed off" in paragraphs
    assert ["Priya Raman", "Coordinator", "Wed 9 Dec 2026"] in rows
    assert [
        "CM-2026-013",
        "Serve a warning",
        "Riverside Police",
        "Carried forward to Mon 11 Jan 2027. Circumstances changed.",
    ] in rows
    assert document.sections[0].header.paragraphs[0].text.startswith("OFFICIAL-SENSITIVE")
    assert document.core_properties.title == (
        "Minutes: Riverside Community MARAC, Tue 8 Dec 2026, 10:00"
    )


def test_a_download_token_names_its_member_and_expires() -> None:
    links = Links.of("https://bot.example.org", ["secret"])
    token = links.token(Purpose.MINUTES, ["panel", "meeting"], "member-1", T0)
    assert links.holder(Purpose.MINUTES, ["panel", "meeting"], token, T0) == "member-1"
    expired = T0 + timedelta(days=7, seconds=1)
    assert links.holder(Purpose.MINUTES, ["panel", "meeting"], token, expired) is None
    other = Links.of("https://bot.example.org", ["other"])
    assert other.holder(Purpose.MINUTES, ["panel", "meeting"], token, T0) is None
    assert links.holder(Purpose.MINUTES, ["panel", "another-meeting"], token, T0) is None
    assert Links().holder(Purpose.MINUTES, ["panel", "meeting"], token, T0) is None
    assert links.holder(Purpose.MINUTES, ["panel", "meeting"], "garbage", T0) is None


# --- the cards -------------------------------------------------------------------------------

CARDS = minutes_cards()


@pytest.mark.parametrize("name", sorted(CARDS))
def test_every_minutes_card_passes_the_teams_validator(name: str) -> None:
    assert teams_findings(CARDS[name]) == []


def test_the_draft_card_offers_editing_and_approval_and_the_approved_one_the_document() -> None:
    draft = card_text(CARDS["minutes-draft"])
    assert draft.startswith("Draft minutes: Tue 8 Dec 2026, 10:00")
    assert "Edit summary…" in draft and "Approve minutes" in draft
    approved = card_text(CARDS["minutes-approved"])
    assert approved.startswith("Minutes: Tue 8 Dec 2026, 10:00")
    assert "Approve minutes" not in approved and "Edit summary…" not in approved
    assert "Download the minutes (.docx)" in approved


def test_the_demo_minutes_export_too() -> None:
    document = Document(io.BytesIO(minutes_docx(demo_minutes(approved=True), "Riverside")))
    rows = [[c.text for c in row.cells] for t in document.tables for row in t.rows]
    assert ["Refer the children to Early Help.", "Children's Services", "Mon 11 Jan 2027"] in rows


def test_each_unmet_action_outcome_reads_as_the_meeting_decided_it() -> None:
    def open_action() -> Action:
        return Action(
            panel_id=P,
            case_id="c",
            owner_agency_id="a",
            description="Serve a warning",
            due_on=date(2026, 12, 1),
            created_at=T0 - timedelta(days=30),
        )

    untouched = open_action()
    assert unmet_outcome(untouched, T0) == "Not reviewed; still open, due Tue 1 Dec 2026."
    assert not unmet_settled(untouched, T0)
    escalated = open_action()
    escalated.escalate("to the inspector", circumstances_changed=False, at=T0)
    assert unmet_outcome(escalated, T0) == "Escalated: to the inspector (the agency did not act)."
    cancelled = open_action()
    cancelled.cancel("No longer needed.", at=T0, circumstances_changed=True)
    assert unmet_outcome(cancelled, T0) == "Cancelled: No longer needed. Circumstances changed."
    done_before = open_action()
    done_before.complete(by_agency_id="a", at=T0 - timedelta(days=2))
    assert unmet_outcome(done_before, T0) == "Done before the meeting."
    assert unmet_settled(done_before, T0)
    carried_earlier = open_action()
    carried_earlier.carry_forward(
        date(2026, 12, 5), circumstances_changed=True, at=T0 - timedelta(days=3)
    )
    # a carry-forward at an earlier meeting is not this meeting's decision
    assert not unmet_settled(carried_earlier, T0)
    # Carried forward, then passed back when the meeting closed its case: both are said.
    carried_then_closed = open_action()
    carried_then_closed.carry_forward(date(2027, 1, 11), circumstances_changed=True, at=T0)
    carried_then_closed.pass_back("CM-2026-013", at=T0 + timedelta(minutes=40), by_member_id=None)
    assert unmet_outcome(carried_then_closed, T0) == (
        "Carried forward to Mon 11 Jan 2027. Circumstances changed. Then passed back to the "
        "agency: the panel closed CM-2026-013."
    )
    passed_back = open_action()
    passed_back.pass_back("CM-2026-013", at=T0, by_member_id=None)
    assert unmet_outcome(passed_back, T0) == (
        "Passed back to the agency: the panel closed CM-2026-013."
    )
