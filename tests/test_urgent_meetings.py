"""Urgent meetings (issue 15, item 5): the domain's rules, the typed command, and the use
case through the app's router on the demo panel (in memory; a fixed clock at Friday 20 Nov
2026 10:00 UTC; the next regular meetings on Tue 8 Dec 2026 and Tue 12 Jan 2027 at 10:00).

Priya Raman is the coordinator, Tom Okafor the chair (and the police's SPOC), Gemma Hartley
Housing's SPOC. CM-2026-014 (new, medium risk) has information requests to Housing, the
police and Children's Services and Fire and Rescue invited; CM-2026-013 (heard, high risk)
has an action of Adult Social Care's still open. Every name here is invented.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.agenda import AgendaTiming, build_agenda
from bot.domain.audit import AuditVerb
from bot.domain.case import Case, CaseStatus
from bot.domain.errors import InvalidInput, NotAllowed
from bot.domain.meeting import (
    AgendaItem,
    AgendaItemKind,
    Meeting,
    MeetingStatus,
    call_urgent,
)
from bot.features.actions import reminders
from bot.features.meetings.calendar import meetings_ics
from bot.features.meetings.commands import CallUrgentMeeting, schedule_command
from bot.features.meetings.views import meeting_after
from cards.kit import card_text, teams_findings
from cards.schedule import (
    URGENT_CASES_INPUT,
    URGENT_DATE_INPUT,
    URGENT_REASON_INPUT,
    URGENT_TIME_INPUT,
)
from cards.verbs import Verb
from tests.support import cards
from tests.support.world import NOW, World, demo_world

LONDON = ZoneInfo("Europe/London")
CASE = f"CM-{NOW.year}-014"
HEARD_CASE = f"CM-{NOW.year}-013"
REASON = "Threats escalating at the address"
TYPED = f"schedule urgent 2026-12-02 14:00 {REASON} for {CASE}"


def at(day: date, hour: int = 14) -> datetime:
    return datetime.combine(day, time(hour), LONDON)


def regular(day: date, hour: int = 10) -> Meeting:
    starts = at(day, hour)
    return Meeting(
        panel_id="p",
        starts_at=starts,
        ends_at=starts + timedelta(hours=2),
        referral_deadline=starts - timedelta(days=8),
    )


# --- the domain's rules ---------------------------------------------------------------------


def test_an_urgent_meeting_is_called_with_a_reason_within_two_weeks() -> None:
    meeting = call_urgent(
        panel_id="p",
        starts_at=at(date(2026, 12, 2)),
        now=NOW,
        reason=f"  {REASON} ",
        case_count=1,
        others=[regular(date(2026, 12, 8))],
    )
    assert meeting.urgent
    assert meeting.status is MeetingStatus.SCHEDULED
    assert meeting.length_minutes == 60
    # No referral is due for it: triage never offers it as the meeting referrals wait for.
    assert meeting.referral_deadline == NOW
    assert not meeting.accepts_referrals_at(NOW + timedelta(minutes=1))
    assert meeting.planned_on is None


@pytest.mark.parametrize(
    ("starts", "reason", "count", "field"),
    [
        (at(date(2026, 11, 20), 9), REASON, 1, "date"),  # 09:00 London is before NOW
        (at(date(2026, 12, 7)), REASON, 1, "date"),  # 17 days ahead
        (at(date(2026, 12, 2)), "   ", 1, "reason"),
        (at(date(2026, 12, 2)), "x" * 201, 1, "reason"),
        (at(date(2026, 12, 2)), REASON, 0, "cases"),
        (at(date(2026, 12, 2)), REASON, 11, "cases"),
    ],
    ids=["past", "too-far", "no-reason", "long-reason", "no-case", "too-many-cases"],
)
def test_refused_urgent_meetings_say_which_input_is_wrong(
    starts: datetime, reason: str, count: int, field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        call_urgent(
            panel_id="p", starts_at=starts, now=NOW, reason=reason, case_count=count, others=[]
        )
    assert field in refused.value.fields


def test_an_urgent_meeting_may_not_sit_on_top_of_another_but_a_cancelled_one_does_not_count() -> (
    None
):
    monthly = regular(date(2026, 12, 1), 13)  # 13:00 to 15:00
    with pytest.raises(InvalidInput, match="another meeting at that time"):
        call_urgent(
            panel_id="p",
            starts_at=at(date(2026, 12, 1), 14),
            now=NOW,
            reason=REASON,
            case_count=1,
            others=[monthly],
        )
    # Right after it ends is fine; so is the same time once it is cancelled.
    call_urgent(
        panel_id="p",
        starts_at=at(date(2026, 12, 1), 15),
        now=NOW,
        reason=REASON,
        case_count=1,
        others=[monthly],
    )
    monthly.status = MeetingStatus.CANCELLED
    call_urgent(
        panel_id="p",
        starts_at=at(date(2026, 12, 1), 14),
        now=NOW,
        reason=REASON,
        case_count=1,
        others=[monthly],
    )


def test_a_case_heard_at_an_urgent_meeting_is_a_review_on_the_monthly_agenda() -> None:
    monthly = regular(date(2026, 12, 8))
    case = Case(panel_id="p", reference=CASE, opened_at=NOW - timedelta(days=10))
    item = AgendaItem(
        panel_id="p",
        meeting_id=monthly.id,
        kind=AgendaItemKind.NEW_CASE,
        position=1,
        title=CASE,
        case_id=case.id,
    )
    built = build_agenda(
        monthly, [item], {case.id: case}, due=[], unmet_action_ids=[], timing=AgendaTiming()
    )
    assert [i.kind for i in built if i.case_id] == [AgendaItemKind.NEW_CASE]
    case.mark_heard(NOW)
    built = build_agenda(
        monthly, [item], {case.id: case}, due=[], unmet_action_ids=[], timing=AgendaTiming()
    )
    assert [i.kind for i in built if i.case_id] == [AgendaItemKind.REVIEW_CASE]


# --- the typed command ----------------------------------------------------------------------


def test_the_typed_command_reads_date_time_reason_and_cases() -> None:
    today = date(2026, 11, 20)
    command = schedule_command(
        f"urgent 2 Dec 14:00 {REASON} for {CASE.lower()}, {HEARD_CASE}", today
    )
    assert command == CallUrgentMeeting(
        day=date(2026, 12, 2),
        start=time(14, 0),
        reason=REASON,
        references=(CASE, HEARD_CASE),
    )
    assert command.complete
    without_cases = schedule_command(f"urgent 2026-12-02 14:00 {REASON}", today)
    assert isinstance(without_cases, CallUrgentMeeting)
    assert without_cases.reason == REASON and not without_cases.complete
    assert schedule_command("urgent", today) == CallUrgentMeeting()
    with pytest.raises(InvalidInput, match="start time"):
        schedule_command(f"urgent 2 Dec {REASON}", today)


def test_the_form_reads_the_ticked_cases() -> None:
    command = CallUrgentMeeting.of(
        {
            URGENT_DATE_INPUT: "2026-12-02",
            URGENT_TIME_INPUT: "14:00",
            URGENT_REASON_INPUT: REASON,
            URGENT_CASES_INPUT: "case-a,case-b",
        }
    )
    assert command.case_ids == ("case-a", "case-b")
    assert command.complete
    assert not CallUrgentMeeting.of({URGENT_DATE_INPUT: "2026-12-02"}).complete


# --- through the app's router ------------------------------------------------------------------


async def urgent_meetings(world: World) -> list[Meeting]:
    return [m for m in await world.meetings() if m.urgent]


async def test_priya_calls_an_urgent_meeting_for_one_case() -> None:
    world = await demo_world()
    await world.add_channel()
    await world.command("Priya", "schedule")  # the regular meetings, planned
    reply = await world.command("Priya", TYPED)
    assert reply.card is not None
    text = card_text(reply.card)
    assert "Urgent meeting called" in text
    assert "Wed 2 Dec 2026, 14:00–15:00" in text
    assert CASE in text and REASON in text
    assert teams_findings(reply.card) == []

    (meeting,) = await urgent_meetings(world)
    assert meeting.status is MeetingStatus.AGENDA_PUBLISHED
    # Its own agenda: the statement and the case named, nothing else (no review of
    # CM-…-013, no unmet action).
    items = await world.agenda(meeting)
    case = await world.case(CASE)
    assert [(i.kind, i.case_id) for i in items] == [
        (AgendaItemKind.CONFIDENTIALITY, None),
        (AgendaItemKind.NEW_CASE, case.id),
    ]
    # The reason is in the audit trail, and the case's history says where it is heard.
    async with world.storage.unit_of_work() as uow:
        trail = await uow.audit.for_entity(world.panel.id, "meeting", meeting.id)
        history = await uow.audit.for_entity(world.panel.id, "case", case.id)
    assert any(e.verb is AuditVerb.CREATE and REASON in (e.detail or "") for e in trail)
    assert any("urgent meeting on Wed 2 Dec 2026" in (e.detail or "") for e in history)

    # The channel hears when and how many cases, nothing else.
    queued = await world.queued()
    channel = [d for d in queued if d.recipient_member_id is None]
    assert len(channel) == 1
    posted = json.dumps(channel[0].payload, ensure_ascii=False)
    assert "Urgent panel meeting called for Wed 2 Dec, 14:00: 1 case" in posted
    assert CASE not in posted and REASON not in posted
    # Only the agencies concerned are invited: Housing (Gemma) and the police (Tom) were asked
    # about CM-…-014; Adult Social Care, concerned only with CM-…-013, is not.
    invited = {d.recipient_member_id for d in queued if "urgent-invite" in d.key}
    gemma, tom = await world.member("Gemma"), await world.member("Tom")
    assert invited == {gemma.id, tom.id}
    invitation = next(d for d in queued if d.recipient_member_id == gemma.id)
    invited_text = json.dumps(invitation.payload, ensure_ascii=False)
    assert "Urgent meeting, Wed 2 Dec 2026, 14:00" in invited_text
    assert REASON not in invited_text


async def test_the_chair_may_call_one_and_a_spoc_may_not() -> None:
    world = await demo_world()
    await world.command("Tom", TYPED)
    assert len(await urgent_meetings(world)) == 1
    with pytest.raises(NotAllowed):
        await world.command("Gemma", TYPED.replace("14:00", "16:00"))
    assert len(await urgent_meetings(world)) == 1
    # Nor a second on top of the first.
    reply = await world.command("Priya", TYPED.replace("14:00", "14:30"))
    assert "another meeting at that time" in card_text(reply.card or {})
    assert len(await urgent_meetings(world)) == 1


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        (f"schedule urgent 2026-11-19 14:00 {REASON} for {CASE}", "in the past"),
        (f"schedule urgent 2026-12-18 14:00 {REASON} for {CASE}", "within 14 days"),
        (f"schedule urgent 2026-12-02 14:00 for {CASE}", "Say why"),
        (f"schedule urgent 2026-12-02 14:00 {REASON} for CM-2026-099", "no case CM-2026-099"),
    ],
    ids=["past", "too-far", "no-reason", "unknown-case"],
)
async def test_a_refused_call_shows_the_form_again_with_the_reason_and_changes_nothing(
    typed: str, says: str
) -> None:
    world = await demo_world()
    await world.command("Priya", "schedule")
    before = len(await world.queued())
    reply = await world.command("Priya", typed)
    assert reply.card is not None
    text = card_text(reply.card)
    assert "Call an urgent meeting" in text and says in text
    assert await urgent_meetings(world) == []
    assert len(await world.queued()) == before


async def test_a_closed_case_is_refused() -> None:
    world = await demo_world()
    case = await world.case(CASE)
    case.status = CaseStatus.CLOSED
    await world.save(case)
    reply = await world.command("Priya", TYPED)
    assert "is closed" in card_text(reply.card or {})
    assert await urgent_meetings(world) == []


async def test_the_form_lists_the_open_cases_to_tick_and_calls_the_meeting() -> None:
    world = await demo_world()
    reply = await world.command("Priya", f"schedule urgent 2 Dec 14:00 {REASON}")
    assert reply.card is not None
    text = card_text(reply.card)
    assert "Call an urgent meeting" in text
    assert f"{HEARD_CASE} · High risk" in text and f"{CASE} · Medium risk" in text
    assert teams_findings(reply.card) == []
    (submit,) = [
        b for b in cards.buttons(reply.card) if b.get("title") == "Call the urgent meeting"
    ]
    assert submit["data"]["verb"] == Verb.SCHEDULE_URGENT.value
    heard, new = await world.case(HEARD_CASE), await world.case(CASE)
    clicked = await world.click(
        "Priya",
        Verb.SCHEDULE_URGENT,
        {
            **submit["data"],
            URGENT_DATE_INPUT: "2026-12-02",
            URGENT_TIME_INPUT: "14:00",
            URGENT_REASON_INPUT: REASON,
            URGENT_CASES_INPUT: f"{heard.id},{new.id}",
        },
    )
    assert "Urgent meeting called" in card_text(clicked.card or {})
    (meeting,) = await urgent_meetings(world)
    kinds = {i.case_id: i.kind for i in await world.agenda(meeting) if i.case_id}
    assert kinds == {heard.id: AgendaItemKind.REVIEW_CASE, new.id: AgendaItemKind.NEW_CASE}


async def test_the_schedule_and_the_calendar_show_it_as_urgent() -> None:
    world = await demo_world()
    await world.command("Priya", TYPED)
    reply = await world.command("Gemma", "schedule")
    text = card_text(reply.card or {})
    assert "Urgent: Wed 2 Dec 2026, 14:00–15:00" in text
    assert "Urgent meeting…" not in text  # the form is the coordinator's and the chair's
    assert "Urgent meeting…" in card_text((await world.command("Tom", "schedule")).card or {})
    ics = meetings_ics(world.panel, await world.meetings(), NOW)
    assert "SUMMARY:Urgent Community MARAC panel meeting" in ics
    assert ics.count("SUMMARY:Community MARAC panel meeting") >= 2  # the regular ones


async def test_after_the_urgent_meeting_the_monthly_agenda_reviews_the_case() -> None:
    world = await demo_world()
    await world.command("Priya", "schedule")
    await world.command("Priya", TYPED)
    (urgent,) = await urgent_meetings(world)
    monthly = next(m for m in await world.meetings() if m.starts_at > NOW and not m.urgent)
    case = await world.case(CASE)
    # While it waits for the urgent meeting, the monthly agenda does not list it too.
    await world.command("Priya", "agenda")
    assert urgent.starts_at < monthly.starts_at
    async with world.storage.unit_of_work() as uow:
        assert await meeting_after(uow, world.panel.id, urgent) == monthly
    # Heard there (the chair's decision marks it heard) and the meeting over:
    case.mark_heard(urgent.starts_at)
    await world.save(case)
    urgent = await world.meeting(urgent.id)
    urgent.move_to(MeetingStatus.IN_PROGRESS)
    urgent.move_to(MeetingStatus.ENDED)
    await world.save(urgent)
    world.clock.advance(urgent.ends_at + timedelta(hours=1))
    reply = await world.command("Priya", "agenda")
    text = card_text(reply.card or {})
    assert f"{CASE} · review" in text
    kinds = {i.case_id: i.kind for i in await world.agenda(monthly) if i.case_id}
    assert kinds[case.id] is AgendaItemKind.REVIEW_CASE


async def test_an_urgent_meeting_takes_no_date_from_the_schedule() -> None:
    world = await demo_world()
    # Saved before the planner reached Tue 9 Feb 2027 (a second Tuesday), that afternoon:
    urgent = call_urgent(
        panel_id=world.panel.id,
        starts_at=at(date(2027, 2, 9), 15),
        now=at(date(2027, 2, 1)),
        reason=REASON,
        case_count=1,
        others=[],
    )
    await world.save(urgent)
    await world.command("Priya", "schedule")
    on_the_day = {
        m.starts_at: m.urgent
        for m in await world.meetings()
        if m.starts_at.astimezone(LONDON).date() == date(2027, 2, 9)
    }
    assert on_the_day == {at(date(2027, 2, 9), 15): True, at(date(2027, 2, 9), 10): False}


async def test_the_quarters_statistics_count_the_urgent_meetings() -> None:
    world = await demo_world()
    await world.command("Priya", TYPED)
    reply = await world.command("Priya", "stats 2026-Q4")
    assert "Urgent meetings\n1" in card_text(reply.card or {})
    assert "Urgent meetings\n0" in card_text(
        (await world.command("Priya", "stats 2027-Q1")).card or {}
    )


async def test_the_chair_hears_who_called_it_but_not_why() -> None:
    world = await demo_world()
    # CM-…-013 concerns Housing (its lead, an open action) and Adult Social Care (no
    # contact): Tom, the chair, is not invited for the police, so he is told as the chair.
    await world.command("Priya", TYPED.replace(CASE, HEARD_CASE))
    (told,) = [d for d in await world.queued_to("Tom") if "urgent-called" in d.key]
    text = json.dumps(told.payload, ensure_ascii=False)
    assert "Urgent meeting called" in text and "Priya Raman" in text
    assert HEARD_CASE in text and REASON not in text
    assert [d for d in await world.queued_to("Priya") if "urgent" in d.key] == []


async def test_triage_offers_an_urgent_meeting_by_name_but_never_first() -> None:
    world = await demo_world()
    await world.command("Priya", "schedule")
    await world.command("Priya", TYPED)
    (urgent,) = await urgent_meetings(world)
    reply = await world.command("Priya", f"referrals RF-{NOW.year}-0049")
    triage = reply.card or {}
    (meeting_input,) = [n for n in cards.walk(triage) if n.get("id") == "meeting_id"]
    labels = {c["value"]: c["title"] for c in meeting_input["choices"]}
    assert labels[urgent.id] == "Urgent meeting, Wed 2 Dec 2026, 14:00"
    assert meeting_input.get("value") != urgent.id  # referrals are not due for it


async def test_the_caseload_never_makes_a_case_due_at_an_urgent_meeting() -> None:
    world = await demo_world()
    await world.command("Priya", "schedule")
    await world.command("Priya", TYPED)  # for CM-…-014 only
    text = card_text((await world.command("Priya", "cases")).card or {})
    # CM-…-014 is heard there; CM-…-013 is due at the monthly meeting, not the urgent one.
    assert "Wed 2 Dec 2026" in text
    assert "Tue 8 Dec 2026 (due)" in text


async def test_an_urgent_meeting_moved_or_cancelled_takes_no_date_of_the_schedules() -> None:
    world = await demo_world()
    await world.command("Priya", "schedule")
    await world.command("Priya", TYPED)
    reply = await world.command("Priya", "schedule move 2 Dec 3 Dec 15:00")
    assert "Meeting moved" in card_text(reply.card or {})
    (moved,) = await urgent_meetings(world)
    assert moved.urgent and moved.planned_on is None
    assert moved.starts_at == at(date(2026, 12, 3), 15)
    await world.command("Priya", "schedule cancel 3 Dec the case was heard at court")
    (cancelled,) = await urgent_meetings(world)
    assert cancelled.status is MeetingStatus.CANCELLED
    # Its case waits for the monthly meeting again, as a new case.
    monthly = next(m for m in await world.meetings() if m.starts_at > NOW and not m.urgent)
    await world.command("Priya", "agenda")
    case = await world.case(CASE)
    kinds = {i.case_id: i.kind for i in await world.agenda(monthly) if i.case_id}
    assert kinds[case.id] is AgendaItemKind.NEW_CASE


async def test_no_status_round_before_an_urgent_meeting() -> None:
    world = await demo_world()
    await world.command("Priya", TYPED)  # Wed 2 Dec; a status round runs five days before
    world.clock.advance(datetime(2026, 11, 27, 10, tzinfo=LONDON))
    report = await reminders.run_due(world.deps)
    assert report.failed == 0
    texts = [json.dumps(d.payload, ensure_ascii=False) for d in await world.queued()]
    assert not [t for t in texts if "Status request before the meeting on Wed 2 Dec" in t]
