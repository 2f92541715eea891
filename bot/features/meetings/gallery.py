"""The meetings' cards rendered with invented data: for `python -m bot cards`, the card
tests and the channel gate's walk. Every person, place and case here is invented."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.domain.agenda import SECTION_NAMES, UNMET_TITLE
from bot.domain.case import CLOSURE_LABELS
from bot.domain.meeting import AgendaItemKind, Meeting, MeetingStatus, call_urgent
from bot.domain.minutes import (
    ActionLine,
    AttendanceLine,
    CaseMinutes,
    Minutes,
    SignOff,
    UnmetOutcome,
)
from bot.domain.panel import Member, Panel, Role
from bot.domain.schedule import next_meetings, schedule_from_data
from bot.features.meetings.calendar import DEFAULT_SCHEDULE_DATA, PLANNED_AHEAD
from bot.features.meetings.shared import STATEMENT
from bot.features.meetings.views import (
    KIND_LABELS,
    PRIVATE_ONLY,
    RISK_LABELS,
    meeting_line,
    minutes_view,
)
from cards.agenda import (
    AgendaLine,
    AgendaView,
    AnnouncedCase,
    AnnouncementView,
    InvitationView,
    render_agenda,
    render_agenda_announcement,
    render_agenda_invitation,
)
from cards.chair import (
    DESCRIPTION_INPUT,
    ActionCapturedView,
    ActionText,
    CaseDetail,
    ChairView,
    ConfidentialityView,
    IsaPromptView,
    MeetingEndedView,
    Option,
    UnmetLine,
    render_action_captured,
    render_chair,
    render_confidentiality,
    render_isa_prompt,
    render_meeting_ended,
)
from cards.kit import with_refresh
from cards.minutes import (
    FileAnswerView,
    MinutesReadyView,
    render_file_answer,
    render_minutes,
    render_minutes_ready,
)
from cards.schedule import (
    CalendarLinkView,
    MeetingCancelledView,
    MeetingMovedView,
    ScheduleView,
    UrgentAnnouncementView,
    UrgentCalledView,
    UrgentForm,
    UrgentFormView,
    render_calendar_link,
    render_meeting_cancelled,
    render_meeting_moved,
    render_schedule,
    render_urgent_announcement,
    render_urgent_called,
    render_urgent_form,
)
from cards.verbs import ACTION_ID_KEY, MEETING_KEY, VIEW_KEY, Verb

if TYPE_CHECKING:
    from cards.kit import Card

DEMO_PANEL = "Riverside Community MARAC"
DEMO_LABEL = "Tue 8 Dec 2026, 10:00"


def gallery_cards() -> dict[str, Card]:
    """Every card the meetings feature sends, rendered with invented data."""
    return {**calendar_cards(), **agenda_cards(), **meeting_cards(), **minutes_cards()}


# --- the calendar ------------------------------------------------------------------------


def calendar_cards() -> dict[str, Card]:
    """The schedule and its confirmations."""
    panel = DEMO_PANEL
    zone = ZoneInfo("Europe/London")
    now = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    schedule = schedule_from_data(DEFAULT_SCHEDULE_DATA)
    meetings: list[Meeting] = []
    for index, plan in enumerate(next_meetings(schedule, now, PLANNED_AHEAD)):
        meeting = Meeting(
            id=f"demo-meeting-{index}",
            panel_id="demo-panel",
            starts_at=plan.starts_at,
            ends_at=plan.ends_at,
            referral_deadline=plan.referral_deadline,
        )
        if index == 0:
            meeting.status = MeetingStatus.AGENDA_PUBLISHED
        if index < 2:
            meeting.join_url = f"https://teams.microsoft.com/l/meetup-join/demo-{index}"
            meeting.teams_meeting_id = f"demo-online-{index}"
        if index == 3:
            meeting.status = MeetingStatus.CANCELLED
        meetings.append(meeting)
    urgent = call_urgent(
        panel_id="demo-panel",
        starts_at=datetime(2026, 12, 10, 14, 0, tzinfo=zone),
        now=datetime(2026, 12, 1, 9, 0, tzinfo=UTC),  # called on 1 Dec
        reason="Threats escalating at the address",
        case_count=1,
        others=meetings,
    )
    # six lines: the first planned meeting, the urgent one, the next four planned
    meetings = [meetings[0], replace(urgent, id="demo-meeting-urgent"), *meetings[1:5]]
    url = "https://bot.example.org/panels/demo-panel/meetings.ics?token=demo-token"
    open_cases = [
        ("demo-case-14", "CM-2026-014 · High risk"),
        ("demo-case-13", "CM-2026-013 · Medium risk"),
    ]

    def view(coordinator: bool, ics: str | None) -> ScheduleView:
        return ScheduleView(
            panel_name=panel,
            pattern=schedule.describe(),
            timezone="Europe/London",
            meetings=[meeting_line(m, zone, now, coordinator) for m in meetings],
            ics_url=ics,
            coordinator=coordinator,
            urgent=UrgentForm(open_cases) if coordinator else None,
        )

    return {
        "schedule-member": render_schedule(view(False, url)),
        "schedule-coordinator": render_schedule(view(True, url)),
        "schedule-none-planned": render_schedule(
            ScheduleView(panel, schedule.describe(), "Europe/London", [], None, False)
        ),
        "schedule-meeting-moved": render_meeting_moved(
            MeetingMovedView(
                panel_name=panel,
                before="Tue 8 Dec 2026, 10:00",
                after="Thu 10 Dec 2026, 14:00–16:00",
                deadline="Wed 2 Dec 2026, 14:00",
                teams_note="Its Teams meeting is being moved too.",
            )
        ),
        "schedule-meeting-cancelled": render_meeting_cancelled(
            MeetingCancelledView(
                panel_name=panel,
                when="Tue 9 Mar 2027, 10:00",
                reason="Chair and deputy chair both at a court hearing.",
                teams_note="Its Teams meeting is being deleted too.",
            )
        ),
        "schedule-calendar-link": render_calendar_link(
            CalendarLinkView(panel, url, "Thu 18 Feb 2027")
        ),
        "schedule-urgent-form": render_urgent_form(
            UrgentFormView(
                panel,
                UrgentForm(
                    open_cases,
                    date_value="2026-12-02",
                    time_value="14:00",
                    reason="Threats escalating at the address",
                    error="The panel has another meeting at that time.",
                ),
            )
        ),
        "schedule-urgent-called": render_urgent_called(
            UrgentCalledView(
                panel_name=panel,
                when="Wed 2 Dec 2026, 14:00–15:00",
                cases=["CM-2026-014"],
                reason="Threats escalating at the address",
                invited=[
                    "Riverside Police (Tom Okafor)",
                    "Riverside Homes (Housing) (Gemma Hartley)",
                ],
                announced=True,
            )
        ),
        "schedule-urgent-called-for-the-chair": render_urgent_called(
            UrgentCalledView(
                panel_name=panel,
                when="Wed 2 Dec 2026, 14:00–15:00",
                cases=["CM-2026-013"],
                reason=None,
                invited=["Riverside Homes (Housing) (Gemma Hartley)"],
                announced=True,
                called_by="Priya Raman",
            )
        ),
        "schedule-urgent-announcement": render_urgent_announcement(
            UrgentAnnouncementView(when="Wed 2 Dec, 14:00", cases=1)
        ),
    }


# --- the agenda --------------------------------------------------------------------------


def _demo_lines(coordinator: bool) -> list[AgendaLine]:
    def line(
        item_id: str,
        number: int | None,
        kind: AgendaItemKind,
        text: str,
        minutes: int,
        state: str | None = None,
    ) -> AgendaLine:
        movable = kind in {
            AgendaItemKind.NEW_CASE,
            AgendaItemKind.REVIEW_CASE,
            AgendaItemKind.OTHER_BUSINESS,
        }
        active = number is not None
        return AgendaLine(
            item_id=item_id,
            number=number,
            section=SECTION_NAMES[kind],
            text=text,
            minutes=minutes,
            kind=kind.value,
            state=state,
            can_move=coordinator and movable and active,
            can_remove=coordinator and movable and active,
            can_defer=coordinator and active and kind in KIND_LABELS,
        )

    return [
        line("i1", 1, AgendaItemKind.CONFIDENTIALITY, "Welcome and confidentiality statement", 5),
        line("i2", 2, AgendaItemKind.UNMET_ACTIONS, f"{UNMET_TITLE} (2)", 5),
        line(
            "i3",
            3,
            AgendaItemKind.NEW_CASE,
            "CM-2026-014 · new case · medium risk · invited: Riverside Fire and Rescue",
            15,
        ),
        line("i4", 4, AgendaItemKind.NEW_CASE, "CM-2026-015 · new case · high risk", 15),
        line("i5", 5, AgendaItemKind.REVIEW_CASE, "CM-2026-013 · review · high risk", 15),
        line(
            "i6",
            None,
            AgendaItemKind.REVIEW_CASE,
            "CM-2026-009 · review · standard risk",
            15,
            "deferred to the next meeting: police officer in court",
        ),
        line("i7", 6, AgendaItemKind.OTHER_BUSINESS, "Quarterly figures for the board", 5),
    ]


def agenda_cards() -> dict[str, Card]:
    """The agenda (the coordinator's and a member's), its announcement and invitation."""

    def view(coordinator: bool, **changes: Any) -> AgendaView:
        base = AgendaView(
            panel_name=DEMO_PANEL,
            meeting_id="demo-meeting",
            meeting_label="Tue 8 Dec 2026",
            time_label="10:00–12:00",
            status="Not published yet" if coordinator else "Published Fri 20 Nov 2026",
            lines=_demo_lines(coordinator),
            planned_minutes=60,
            meeting_minutes=120,
            coordinator=coordinator,
        )
        return replace(base, **changes)

    announced = AnnouncementView(
        meeting_label="Tue 8 Dec 2026, 10:00–12:00",
        cases=[
            AnnouncedCase("CM-2026-014", "new case", "Medium", ("Riverside Fire and Rescue",)),
            AnnouncedCase("CM-2026-015", "new case", "High"),
            AnnouncedCase("CM-2026-013", "review", "High"),
        ],
        unmet_actions=2,
        other_business=1,
        planned_minutes=60,
        join_url="https://teams.microsoft.com/l/meetup-join/demo-0",
    )
    return {
        "agenda-coordinator": render_agenda(view(True)),
        "agenda-coordinator-notice": render_agenda(
            view(True, notice="Moved “CM-2026-015” up.", published=True)
        ),
        "agenda-overrun": render_agenda(
            view(True, planned_minutes=135, notice="Added CM-2026-016 to the agenda.")
        ),
        "agenda-member": render_agenda(view(False)),
        "agenda-none": render_agenda(view(False, lines=[], planned_minutes=0)),
        "agenda-announcement": render_agenda_announcement(announced),
        "agenda-announcement-updated": render_agenda_announcement(
            replace(announced, republished=True, join_url=None)
        ),
        # As a shared chat gets it, with its refresh; and a SPOC's own view of it.
        "shared-agenda-base": _shared(
            render_agenda(view(False)), {VIEW_KEY: "agenda", MEETING_KEY: "demo-meeting"}, 5
        ),
        "shared-agenda-spoc-view": _shared(
            render_agenda(
                view(
                    False,
                    personal=True,
                    lines=[
                        replace(
                            line,
                            detail=(
                                "Lead agency: Riverside Police",
                                "Open action · Riverside Homes (Housing): Fit a door camera "
                                "and a letterbox guard. (due Mon 11 Jan 2027)",
                            ),
                        )
                        if line.text.startswith("CM-2026-014")
                        else line
                        for line in _demo_lines(False)
                    ],
                )
            ),
            {VIEW_KEY: "agenda", MEETING_KEY: "demo-meeting"},
            5,
        ),
        # With its refresh, as the channel gets it; and a SPOC's own view of it.
        "shared-agenda-announcement-base": _shared(
            render_agenda_announcement(announced),
            {VIEW_KEY: "agenda_announcement", MEETING_KEY: "demo-meeting"},
            5,
        ),
        "shared-agenda-announcement-spoc-view": _shared(
            render_agenda_announcement(
                replace(
                    announced,
                    personal=True,
                    cases=[
                        replace(
                            announced.cases[0],
                            detail=(
                                "Lead agency: Riverside Police",
                                "Open action · Riverside Homes (Housing): Fit a door camera "
                                "and a letterbox guard. (due Mon 11 Jan 2027)",
                            ),
                        ),
                        *announced.cases[1:],
                    ],
                )
            ),
            {VIEW_KEY: "agenda_announcement", MEETING_KEY: "demo-meeting"},
            5,
        ),
        "agenda-invitation": render_agenda_invitation(
            InvitationView(
                panel_name=DEMO_PANEL,
                agency="Riverside Fire and Rescue",
                meeting_label="Tue 8 Dec 2026, 10:00",
                cases=[("CM-2026-014", "Medium")],
                join_url="https://teams.microsoft.com/l/meetup-join/demo-0",
            )
        ),
    }


# --- running the meeting -----------------------------------------------------------------


def _demo_chair(**changes: Any) -> ChairView:
    base = ChairView(
        panel_name=DEMO_PANEL,
        meeting_id="demo-meeting",
        meeting_label=DEMO_LABEL,
        item_id="i3",
        step=4,
        token="demo-token",  # noqa: S106 (a card token, not a secret)
        in_confidence=True,
        number=3,
        total=7,
        title="CM-2026-014 (new case)",
        kind=AgendaItemKind.NEW_CASE.value,
        case=CaseDetail(
            reference="CM-2026-014",
            kind="new case",
            risk_level="Medium",
            status="open",
            lead="not nominated",
            children="yes",
            decision="none yet: reviewed at the next meeting unless decided",
            returns=[
                (
                    "Riverside Homes (Housing)",
                    "Tenant since 2019; two complaints about the flat above.",
                ),
                ("Riverside Police", "Three calls since August; one arrest for criminal damage."),
                ("Children's Services", "not answered yet"),
            ],
            earlier=[],
            agreed=[
                ActionText(
                    "Riverside Homes (Housing)",
                    "Fit a door camera and a letterbox guard.",
                    "Mon 11 Jan 2027",
                    "open",
                )
            ],
            open_actions=[
                Option(
                    "demo-action",
                    "Riverside Homes (Housing): Fit a door camera and a letterbox guard. "
                    "(due Mon 11 Jan 2027)",
                )
            ],
        ),
        agencies=[
            Option("a-police", "Riverside Police"),
            Option("a-housing", "Riverside Homes (Housing)"),
            Option("a-children", "Children's Services"),
            Option("a-fire", "Riverside Fire and Rescue"),
        ],
        risk_levels=[Option(level.value, label) for level, label in RISK_LABELS.items()],
        review_meetings=[
            Option("m-jan", "Tue 12 Jan 2027, 10:00"),
            Option("m-feb", "Tue 9 Feb 2027, 10:00"),
        ],
        closure_reasons=[Option(r.value, label) for r, label in CLOSURE_LABELS.items()],
        default_due="2027-01-11",
    )
    return replace(base, **changes)


def meeting_cards() -> dict[str, Card]:
    """The confidentiality card, the chair card at each kind of item, the meeting's end."""
    unmet = [
        UnmetLine(
            action_id="a1",
            reference="CM-2026-013",
            owner="Adult Social Care",
            description="Complete a Care Act needs assessment.",
            due="Sun 15 Nov 2026",
            state="open",
            is_open=True,
            carry_to="2027-01-11",
        ),
        UnmetLine(
            action_id="a2",
            reference="CM-2026-013",
            owner="Riverside Homes (Housing)",
            description="Visit and report on tenancy action.",
            due="Mon 7 Dec 2026",
            state="Carried forward to Mon 11 Jan 2027. Circumstances changed.",
            is_open=False,
            carry_to="2027-01-11",
        ),
    ]
    confidentiality = ConfidentialityView(
        panel_name=DEMO_PANEL,
        meeting_id="demo-meeting",
        meeting_label=DEMO_LABEL,
        statement=STATEMENT.format(version="2"),
        attendance=["Riverside Homes (Housing) (1)", "Riverside Police (1)"],
    )
    demo = _demo_chair()
    assert demo.case is not None
    channel_case = replace(
        demo.case,
        returns=[
            ("Riverside Homes (Housing)", f"answered {PRIVATE_ONLY}"),
            ("Children's Services", "not answered yet"),
        ],
        agreed=[replace(demo.case.agreed[0], description=PRIVATE_ONLY)],
        open_actions=[
            Option(
                "demo-action", f"Riverside Homes (Housing): {PRIVATE_ONLY} (due Mon 11 Jan 2027)"
            )
        ],
    )
    ended = MeetingEndedView(
        panel_name=DEMO_PANEL,
        meeting_label=DEMO_LABEL,
        discussed=6,
        items=7,
        actions=4,
        agencies=5,
    )
    return {
        "meeting-confidentiality": render_confidentiality(confidentiality),
        "meeting-confidentiality-acknowledged": render_confidentiality(
            replace(
                confidentiality,
                acknowledged=True,
                notice="Thank you, Gemma Hartley: you are recorded as attending for Riverside "
                "Homes (Housing).",
            )
        ),
        "meeting-isa-prompt": render_isa_prompt(
            IsaPromptView(
                panel_name=DEMO_PANEL,
                meeting_id="demo-meeting",
                member_name="Daniel Reyes",
                isa_version="2",
                isa_text="Members share information only as far as needed to reduce risk. "
                "(Invented demo agreement.)",
                accepted_version="1",
            )
        ),
        "chair-confidentiality": render_chair(
            _demo_chair(
                item_id="i1",
                number=1,
                title="Welcome and confidentiality statement",
                kind=AgendaItemKind.CONFIDENTIALITY.value,
                case=None,
                attendance=confidentiality.attendance,
            )
        ),
        "chair-unmet-actions": render_chair(
            _demo_chair(
                item_id="i2",
                number=2,
                title="Unmet actions from earlier meetings",
                kind=AgendaItemKind.UNMET_ACTIONS.value,
                case=None,
                unmet=unmet,
                notice="Carried forward to Mon 11 Jan 2027.",
            )
        ),
        "chair-new-case": render_chair(demo),
        "chair-new-case-saved": render_chair(
            _demo_chair(
                notice="Action added for Riverside Homes (Housing), due Mon 11 Jan 2027; the "
                "agency has its card.",
                summary="Threats at the door continue; the children are staying with an aunt.",
            )
        ),
        "chair-form-refused": render_chair(
            _demo_chair(
                notice="Choose an agency from the list.",
                error=True,
                typed={DESCRIPTION_INPUT: "Refer the children to Early Help."},
            )
        ),
        "chair-in-channel": render_chair(_demo_chair(case=channel_case, in_confidence=False)),
        "chair-case-closed": render_chair(
            _demo_chair(
                notice="CM-2026-014 is closed: Safeguarding concerns reduced. Open actions: 1 "
                "passed back to their agencies, 0 cancelled.",
                case=replace(demo.case, status="closed", closed=True, open_actions=[])
                if demo.case
                else None,
            )
        ),
        "chair-other-business": render_chair(
            _demo_chair(
                item_id="i7",
                number=7,
                title="Quarterly figures for the board",
                kind=AgendaItemKind.OTHER_BUSINESS.value,
                case=None,
            )
        ),
        "meeting-ended": render_meeting_ended(ended),
        **shared_view_cards(demo, channel_case, confidentiality, ended),
    }


# Invented Teams user ids (MRIs) of the panel members a shared card concerns.
DEMO_MRIS = tuple(f"29:demo-member-{n:02d}" for n in range(1, 65))


def _shared(card: Card, data: dict[str, Any], users: int) -> Card:
    return with_refresh(card, Verb.VIEW_REFRESH.value, data, DEMO_MRIS[:users])


def shared_view_cards(
    demo: ChairView,
    channel_case: CaseDetail,
    confidentiality: ConfidentialityView,
    ended: MeetingEndedView,
) -> dict[str, Card]:
    """The meeting chat's shared views (bot.kernel.views): each card's base, which everyone
    reads, with its refresh, and each reader's own view: the chair's controls, a SPOC's case
    detail; past 60 readers concerned, the base's "Show my view" button."""
    meeting = {MEETING_KEY: "demo-meeting"}
    chair = {VIEW_KEY: "chair", **meeting}
    base_chair = replace(demo, case=channel_case, in_confidence=False, controls=False, opener=True)
    action = {VIEW_KEY: "action_captured", ACTION_ID_KEY: "demo-action"}
    captured = ActionCapturedView(
        panel_name=DEMO_PANEL,
        meeting_label=DEMO_LABEL,
        reference="CM-2026-014",
        agency="Riverside Homes (Housing)",
        due="Mon 11 Jan 2027",
        hidden=PRIVATE_ONLY,
    )
    ended_data = {VIEW_KEY: "meeting_ended", **meeting}
    statement = {VIEW_KEY: "confidentiality", **meeting}
    return {
        "shared-chair-base": _shared(render_chair(base_chair), chair, 5),
        "shared-chair-base-many-readers": _shared(render_chair(base_chair), chair, 64),
        "shared-chair-spoc-view": _shared(
            render_chair(replace(demo, controls=False, opener=False)), chair, 5
        ),
        "shared-chair-chair-view": _shared(render_chair(demo), chair, 5),
        "shared-confidentiality-base": _shared(
            render_confidentiality(confidentiality), statement, 5
        ),
        "shared-confidentiality-spoc-view": _shared(
            render_confidentiality(
                replace(
                    confidentiality,
                    notice="Cases on the agenda you will see in full "
                    "here: CM-2026-014, CM-2026-013.",
                )
            ),
            statement,
            5,
        ),
        "shared-action-captured-base": _shared(render_action_captured(captured), action, 5),
        "shared-action-captured-spoc-view": _shared(
            render_action_captured(
                replace(
                    captured, description="Fit a door camera and a letterbox guard.", state="open"
                )
            ),
            action,
            5,
        ),
        "shared-meeting-ended-base": _shared(render_meeting_ended(ended), ended_data, 5),
        "shared-meeting-ended-spoc-view": _shared(
            render_meeting_ended(
                replace(
                    ended,
                    detail=True,
                    agreed=(
                        "CM-2026-014 · Riverside Homes (Housing): Fit a door camera and a "
                        "letterbox guard. — due Mon 11 Jan 2027",
                    ),
                )
            ),
            ended_data,
            5,
        ),
    }


# --- the minutes -------------------------------------------------------------------------


def demo_minutes(*, approved: bool = False) -> Minutes:
    """Invented minutes, for the gallery and the document's tests."""
    drafted = datetime(2026, 12, 8, 12, 5, tzinfo=UTC)
    minutes = Minutes(
        id="demo-minutes",
        panel_id="demo-panel",
        meeting_id="demo-meeting",
        meeting_starts_at=datetime(2026, 12, 8, 10, 0, tzinfo=UTC),
        drafted_at=drafted,
        version=1,
        meeting_label="Tue 8 Dec 2026, 10:00",
        attendance=[
            AttendanceLine("Community Safety (Riverside Council)", ("Priya Raman",)),
            AttendanceLine("Riverside Homes (Housing)", ("Gemma Hartley",)),
            AttendanceLine("Riverside Police", ("Tom Okafor",)),
        ],
        cases=[
            CaseMinutes(
                item_id="i3",
                case_id="c14",
                reference="CM-2026-014",
                review=False,
                discussed=True,
                summary="Threats at the door continue; the children are staying with an aunt.",
                risk_level="High",
                lead_agency="Riverside Homes (Housing)",
                lead_officer="Gemma Hartley",
                decision="Review at the next meeting",
                actions=[
                    ActionLine(
                        "a1",
                        "Fit a door camera and a letterbox guard.",
                        "Riverside Homes (Housing)",
                        date(2027, 1, 11),
                    ),
                    ActionLine(
                        "a2",
                        "Refer the children to Early Help.",
                        "Children's Services",
                        date(2027, 1, 11),
                    ),
                ],
            ),
            CaseMinutes(
                item_id="i5",
                case_id="c13",
                reference="CM-2026-013",
                review=True,
                discussed=True,
                summary="The tenancy warning worked; no incident since October.",
                risk_level="Medium",
                lead_agency="Riverside Police",
                decision="Closed: Safeguarding concerns reduced",
            ),
        ],
        unmet=[
            UnmetOutcome(
                "a0",
                "CM-2026-013",
                "Complete a Care Act needs assessment.",
                "Adult Social Care",
                "Carried forward to Mon 11 Jan 2027. The agency did not act.",
            )
        ],
        other_business=["Quarterly figures for the board"],
    )
    if approved:
        minutes.approve(by_member_id="demo-priya", by_name="Priya Raman", at=drafted)
    return minutes


def minutes_cards() -> dict[str, Card]:
    """The draft and approved minutes under each sign-off, and the card an attending member
    receives."""
    panel = Panel(
        id="demo-panel",
        name=DEMO_PANEL,
        team_id="demo-team",
        tenant_id="demo-tenant",
        created_at=datetime(2025, 1, 1, tzinfo=UTC),
    )
    url = "https://bot.example.org/panels/demo-panel/minutes/demo-meeting.docx?token=demo-token"
    priya = Member(
        id="demo-priya",
        panel_id=panel.id,
        aad_object_id="demo-aad-priya",
        name="Priya Raman",
        roles=frozenset({Role.COORDINATOR}),
    )
    tom = Member(
        id="demo-tom",
        panel_id=panel.id,
        aad_object_id="demo-aad-tom",
        name="Tom Okafor",
        agency_id="demo-police",
        roles=frozenset({Role.CHAIR, Role.SPOC}),
    )
    signed_by_priya = demo_minutes()
    signed_by_priya.sign(
        SignOff.BOTH,
        member_id=priya.id,
        name=priya.name,
        roles=priya.roles,
        at=datetime(2026, 12, 8, 14, 30, tzinfo=UTC),
    )
    signed_by_both = demo_minutes()
    for signer, day in ((priya, 8), (tom, 9)):
        signed_by_both.sign(
            SignOff.BOTH,
            member_id=signer.id,
            name=signer.name,
            roles=signer.roles,
            at=datetime(2026, 12, day, 14, 30, tzinfo=UTC),
        )
    return {
        "minutes-draft": render_minutes(minutes_view(panel, demo_minutes(), editable=True)),
        # the chair's sign-off: the coordinator sends her draft on
        "minutes-draft-to-chair": render_minutes(
            minutes_view(panel, demo_minutes(), editable=True, rule=SignOff.CHAIR, viewer=priya)
        ),
        # both sign: the coordinator has, the chair receives them to sign in private chat
        "minutes-draft-coordinator-signed": render_minutes(
            minutes_view(
                panel,
                signed_by_priya,
                editable=True,
                rule=SignOff.BOTH,
                viewer=priya,
                notice="Signed off. Waiting for the chair: sent to Tom Okafor in private chat.",
            )
        ),
        "minutes-draft-for-the-chair": render_minutes(
            minutes_view(panel, signed_by_priya, editable=True, rule=SignOff.BOTH, viewer=tom)
        ),
        "minutes-approved-by-both": render_minutes(
            minutes_view(
                panel,
                signed_by_both,
                editable=True,
                rule=SignOff.BOTH,
                viewer=tom,
                download_url=url,
                notice="Approved. The Word document goes in private chat to Priya Raman "
                "(Community Safety (Riverside Council)), Gemma Hartley (Riverside Homes "
                "(Housing)).",
            )
        ),
        "minutes-draft-saved": render_minutes(
            minutes_view(
                panel, demo_minutes(), editable=True, notice="Summary of CM-2026-014 saved."
            )
        ),
        "minutes-approved": render_minutes(
            minutes_view(
                panel,
                demo_minutes(approved=True),
                editable=True,
                download_url=url,
                notice="Approved. The Word document goes in private chat to Gemma Hartley "
                "(Riverside Homes (Housing)), Tom Okafor (Riverside Police).",
            )
        ),
        "minutes-ready": render_minutes_ready(
            MinutesReadyView(
                panel_name=panel.name,
                meeting_label="Tue 8 Dec 2026, 10:00",
                download_url=url,
                cases=2,
                actions=2,
                expires="Fri 8 Jan 2027",
                signed_off="Priya Raman (coordinator)",
            )
        ),
        "minutes-ready-signed-by-both": render_minutes_ready(
            MinutesReadyView(
                panel_name=panel.name,
                meeting_label="Mon 30 Nov 2026, 14:00 (planned for Tue 8 Dec 2026)",
                download_url=url,
                cases=2,
                actions=2,
                expires="Wed 16 Dec 2026",
                signed_off="Priya Raman (coordinator) and Tom Okafor (chair)",
            )
        ),
        "minutes-ready-no-download": render_minutes_ready(
            MinutesReadyView(
                panel_name=panel.name,
                meeting_label="Tue 8 Dec 2026, 10:00",
                download_url=None,
                cases=2,
                actions=2,
            )
        ),
        **minutes_file_cards(panel, priya, url),
    }


def minutes_file_cards(panel: Panel, coordinator: Member, url: str) -> dict[str, Card]:
    """The approved minutes as a Word file (the file consent card itself is Teams' own):
    the coordinator's buttons, the card each attending member receives before the file, and
    what is put over the consent card once answered."""
    label = "Tue 8 Dec 2026, 10:00"
    view = minutes_view(
        panel,
        demo_minutes(approved=True),
        editable=True,
        download_url=url,
        viewer=coordinator,
        notice="Approved. The Word document goes in private chat to Gemma Hartley "
        "(Riverside Homes (Housing)).",
    )
    ready = MinutesReadyView(
        panel_name=panel.name,
        meeting_label=label,
        download_url=None,
        cases=2,
        actions=2,
        signed_off="Priya Raman (coordinator)",
        as_file=True,
        link_if_declined=True,
    )
    return {
        "minutes-approved-file-buttons": render_minutes(
            replace(view, save_file=True, offer_again=True, links_allowed=True)
        ),
        "minutes-approved-links-off": render_minutes(
            replace(view, download_url=None, save_file=True, offer_again=True, links_allowed=False)
        ),
        "minutes-ready-as-file": render_minutes_ready(ready),
        "minutes-ready-as-file-links-off": render_minutes_ready(
            replace(ready, link_if_declined=False)
        ),
        "minutes-file-saved": render_file_answer(
            FileAnswerView(
                label, panel.name, "Saved in your OneDrive: open it from the card below."
            )
        ),
        "minutes-file-declined-with-link": render_file_answer(
            FileAnswerView(
                label,
                panel.name,
                "You declined the Word file. Here is a download link instead.",
                url,
                "Fri 8 Jan 2027",
            )
        ),
        "minutes-file-declined-links-off": render_file_answer(
            FileAnswerView(
                label,
                panel.name,
                "You declined the Word file. Your coordinator can offer it again (type "
                "minutes, Offer the file again).",
            )
        ),
    }
