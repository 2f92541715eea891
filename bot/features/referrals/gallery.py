"""The referrals feature's cards rendered with invented data: for `python -m bot cards`, the
card tests and the channel gate's walk. Every person, place and referral here is invented."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bot.domain.intake_rules import (
    CHILD_KEYS,
    MAX_SUBJECTS,
    NEXT_KEY,
    SUBJECT_KEYS,
    F,
    Step,
    add_subject,
    new_draft_inputs,
    read_referral,
    risk_field,
    row_field,
    subject_keys,
    validate_step,
)
from bot.domain.panel import Agency, AgencyKind, Member, Panel, Role
from bot.domain.referral import (
    CATEGORY_LABELS,
    DECLINE_LABELS,
    DeclineReason,
    Referral,
    ReferralCategory,
    SubjectRole,
)
from bot.domain.risk import RiskItem, RiskMatrix, RiskOption
from bot.features.referrals.intake import Setting, draft_note, intake_view, make_setting
from bot.features.referrals.matrix import matrix_view
from bot.features.referrals.notices import ReferralEvent, notice_card, referral_summary
from bot.features.referrals.triage import CHANGED_MEANWHILE, MEETINGS_PLANNED
from bot.features.referrals.views import DEFAULT_INFO_QUESTION, OTHER_MEETINGS
from bot.kernel.config import RiskBook, load_risk_matrix
from cards.info_request import (
    AnsweredNoticeView,
    InfoAnsweredView,
    InfoRequestView,
    RequestSubject,
    render_answered_notice,
    render_info_answered,
    render_info_request,
)
from cards.intake import (
    SubmittedView,
    render_discard_question,
    render_discarded,
    render_intake,
    render_saved,
    render_submitted,
)
from cards.referrals import MineView, MyLine, PendingLine, PendingView, render_mine, render_pending
from cards.risk_matrix import render_risk_matrix
from cards.triage import (
    ACCEPT_FORM,
    AGENCIES_INPUT,
    ASK_FORM,
    DECLINE_FORM,
    DECLINE_REASON_INPUT,
    MEETING_INPUT,
    OTHER_MEETING_INPUT,
    QUESTION_INPUT,
    ChannelNoticeView,
    Choice,
    MatchLine,
    OutcomeView,
    SubjectLine,
    TriageView,
    render_channel_notice,
    render_triage,
    render_triage_outcome,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from cards.kit import Card

DEMO_PANEL = "Riverside Community MARAC"

# ---- the referrer's intake card -------------------------------------------------------

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def _setting() -> tuple[Setting, Referral]:
    panel = Panel(
        name=DEMO_PANEL,
        team_id="19:gallery@thread.tacv2",
        tenant_id="gallery",
        created_at=NOW,
    )
    agencies = [
        Agency(panel_id=panel.id, name=name, kind=kind)
        for name, kind in (
            ("Riverside Police", AgencyKind.CORE),
            ("Riverside Homes (Housing)", AgencyKind.CORE),
            ("Adult Social Care", AgencyKind.CORE),
            ("Victim Support", AgencyKind.CORE),
            ("Riverside Fire and Rescue", AgencyKind.INVITED),
        )
    ]
    member = Member(
        panel_id=panel.id,
        aad_object_id="gallery-referrer",
        name="Aisha Bello",
        agency_id=agencies[3].id,
        roles=frozenset({Role.REFERRER}),
    )
    referral = Referral(
        panel_id=panel.id,
        reference="RF-2026-0053",
        referrer_member_id=member.id,
        referring_agency_id=member.agency_id,
        created_at=NOW,
    )
    return make_setting(panel, member, agencies, load_risk_matrix(), NOW), referral


def _inputs(setting: Setting) -> dict[str, Any]:
    """A draft as an invented referrer might have typed it; every person is invented."""
    matrix = setting.ctx.matrix
    inputs: dict[str, Any] = {
        SUBJECT_KEYS: ["s1", "s2"],
        CHILD_KEYS: ["c1"],
        NEXT_KEY: 4,
        F.CATEGORY: ReferralCategory.ASB_VULNERABLE.value,
        F.DISCUSSED_WITH: "Team leader, Victim Support",
        F.TRIED_ALREADY: "Two warning letters from the landlord; a police visit in October.",
        F.MEETING_HELD: "true",
        "s1.role": "victim",
        "s1.name": "Noor Haddad",
        "s1.dob": "1979-04-12",
        "s1.address": "Flat 9, 3 Mill Lane, Riverside",
        "s1.postcode": "RV3 2PN",
        "s1.phone": "020 7946 0456",
        "s1.safe_to_call": "true",
        "s1.vulnerabilities": "Anxiety; recently bereaved",
        "s1.language": "Arabic",
        "s1.interpreter": "true",
        "s2.role": "perpetrator",
        "s2.name": "Callum Reid",
        "s2.aliases": "Cal",
        "c1.name": "Sami Haddad",
        "c1.dob": "2016-02-03",
        F.RELATIONSHIP: "Neighbours on the same landing",
        F.INCIDENTS: "5",
        F.INCIDENTS_RISING: "true",
        F.AGENCIES: setting.agencies[0].id,
        F.CONSENT_AWARE: "true",
        F.CONSENT_GIVEN: "true",
    }
    for n, item in enumerate(matrix.items):
        inputs[risk_field(item.id)] = item.options[2 if n % 3 else 1].value
    return inputs


def _referrer_cards(setting: Setting, base: Referral) -> dict[str, Card]:
    inputs = _inputs(setting)
    submitted = copy.deepcopy(base)
    read_referral(inputs, setting.ctx).apply_to(submitted)
    submitted.submit(NOW)
    sent_back = copy.deepcopy(submitted)
    sent_back.ask_for_more_information("Has the landlord started tenancy enforcement?")
    accepted = copy.deepcopy(submitted)
    accepted.accept("gallery-case", NOW)
    declined = copy.deepcopy(submitted)
    declined.decline(DeclineReason.MORE_APPROPRIATE_MEETING, "Domestic abuse MARAC", NOW)
    out_of_area = copy.deepcopy(submitted)
    out_of_area.decline(DeclineReason.OUT_OF_AREA, None, NOW)
    panel = setting.panel
    return {
        "intake-submitted": render_submitted(
            SubmittedView(submitted.reference, panel.name, referral_summary(submitted))
        ),
        "intake-more-info": render_intake(
            intake_view(
                setting, sent_back, {**inputs, F.ANSWER: "Yes: a notice was served."}, Step.REVIEW
            )
        ),
        "referrer-received": notice_card(panel, submitted, ReferralEvent.RECEIVED),
        "referrer-more-info": notice_card(panel, sent_back, ReferralEvent.MORE_INFO_NEEDED),
        "referrer-accepted": notice_card(
            panel,
            accepted,
            ReferralEvent.ACCEPTED,
            case_reference="CM-2026-015",
            meeting_starts_at=datetime(2026, 12, 8, 10, 0, tzinfo=UTC),
        ),
        "referrer-declined": notice_card(panel, declined, ReferralEvent.DECLINED),
        "referrer-declined-out-of-area": notice_card(panel, out_of_area, ReferralEvent.DECLINED),
    }


def intake_cards() -> dict[str, Card]:
    """The referrer's intake card at each step, and the notices that tell them."""
    setting, referral = _setting()
    ctx = setting.ctx
    filled = _inputs(setting)

    def step(step: Step, inputs: Mapping[str, Any], **extra: Any) -> Card:
        return render_intake(intake_view(setting, referral, inputs, step, **extra))

    def with_errors(at: Step, inputs: Mapping[str, Any]) -> Card:
        return step(at, inputs, errors=validate_step(at, inputs, ctx))

    mistakes = {
        **filled,
        "s1.dob": "2031-01-01",
        "s1.postcode": "RV3 2P",
        "s1.phone": "0770 nine",
        "s2.name": "",
        "c1.dob": "2001-05-05",
        F.INCIDENTS: "",
        F.CONSENT_GIVEN: "false",
        F.JUDGEMENT: "true",
        F.JUSTIFICATION: "Worried.",
    }
    ten = new_draft_inputs()
    while len(subject_keys(ten)) < MAX_SUBJECTS:
        ten = add_subject(ten)
    for n, key in enumerate(subject_keys(ten), 1):
        ten[row_field(key, "role")] = SubjectRole.WITNESS.value
        ten[row_field(key, "name")] = f"Invented Witness {n}"
        ten[row_field(key, "address")] = f"{n} Orchard Row, Riverside"
        ten[row_field(key, "vulnerabilities")] = "Frightened to leave the flat after dark"
    half_risk = {k: v for k, v in filled.items() if not k.startswith("risk.")}
    half_risk.update({risk_field(i.id): filled[risk_field(i.id)] for i in ctx.matrix.items[::2]})
    no_criteria = {
        **filled,
        **{risk_field(i.id): i.options[0].value for i in ctx.matrix.items},
        F.INCIDENTS: "1",
        F.INCIDENTS_RISING: "false",
    }
    cards: dict[str, Card] = {
        "intake-about-new": step(Step.ABOUT, new_draft_inputs(), other_drafts=["RF-2026-0050"]),
        "intake-about-errors": with_errors(Step.ABOUT, new_draft_inputs()),
        "intake-subjects": step(Step.SUBJECTS, filled),
        "intake-subjects-errors": with_errors(Step.SUBJECTS, mistakes),
        "intake-subjects-ten": step(Step.SUBJECTS, ten, notice="A referral can name at most 10."),
        "intake-household": step(Step.HOUSEHOLD, filled),
        "intake-household-errors": with_errors(Step.HOUSEHOLD, mistakes),
        "intake-consent-errors": with_errors(Step.CONSENT, mistakes),
        "intake-risk": step(Step.RISK, half_risk),
        "intake-risk-errors": with_errors(Step.RISK, half_risk),
        "intake-review": step(Step.REVIEW, filled),
        "intake-review-errors": with_errors(Step.REVIEW, mistakes),
        "intake-review-no-criteria": step(
            Step.REVIEW,
            no_criteria,
            notice=(
                "This referral meets none of the panel's criteria: high risk (a risk total "
                "above the threshold), potential escalation, or professional judgement with "
                "a written justification."
            ),
        ),
        "intake-saved": render_saved(draft_note(referral, Step.HOUSEHOLD)),
        "intake-discard-question": render_discard_question(draft_note(referral, Step.ABOUT)),
        "intake-discarded": render_discarded(draft_note(referral, Step.ABOUT)),
    }
    cards.update(_referrer_cards(setting, referral))
    return cards


# ---- triage -----------------------------------------------------------------------------


def _demo_view() -> TriageView:
    return TriageView(
        referral_id="demo-referral",
        version=3,
        reference="RF-2026-0052",
        panel_name=DEMO_PANEL,
        referrer="Aisha Bello",
        agency="Victim Support",
        submitted_on="Wed 18 Nov 2026",
        category=CATEGORY_LABELS[ReferralCategory.ASB_VULNERABLE],
        subjects=[
            SubjectLine(
                "Samuel Achebe",
                "victim",
                "30 Nov 1972",
                "RV3 1AB",
                vulnerabilities="uses a walking frame; hard of hearing",
            ),
            SubjectLine("Jordan Pike", "perpetrator"),
        ],
        children=2,
        incidents="5 in the last 12 months, rising",
        consent="aware, consented",
        risk="36 (above 31 is high; matrix example-2026.1)",
        risk_level="High",
        criteria=["high risk", "potential escalation"],
        explanation="The threats moved from the stairwell to his door in the last fortnight.",
        tried_already="Two warning letters from Riverside Homes; a community trigger review.",
        matches=[],
        meetings=[
            Choice("m-dec", "Tue 8 Dec 2026, 10:00 (referrals due Mon 30 Nov 2026)"),
            Choice("m-jan", "Tue 12 Jan 2027, 10:00 (referrals due Mon 4 Jan 2027)"),
        ],
        default_meeting="m-dec",
        agencies=[
            Choice("a-police", "Riverside Police"),
            Choice("a-housing", "Riverside Homes (Housing)"),
            Choice("a-asc", "Adult Social Care"),
            Choice("a-victims", "Victim Support"),
            Choice("a-fire", "Riverside Fire and Rescue (invited)"),
        ],
        default_agencies=["a-police", "a-housing", "a-asc"],
        info_question=DEFAULT_INFO_QUESTION,
        decline_reasons=[Choice(r.value, label) for r, label in DECLINE_LABELS.items()],
        other_meetings=[Choice(k, label) for k, label in OTHER_MEETINGS.items()],
    )


def triage_cards() -> dict[str, Card]:
    """The coordinator's triage card, its outcomes, the channel notice and the lists."""
    view = _demo_view()
    with_matches = replace(
        view,
        matches=[
            MatchLine(
                "Possible duplicate",
                "Samuel Achebe — referral RF-2026-0049, pending since Wed 18 Nov 2026 "
                "(same name and date of birth)",
            ),
            MatchLine(
                "Repeat",
                "Samuel Achebe — case CM-2026-004, closed Fri 6 Mar 2026 (same name and postcode)",
            ),
            MatchLine(
                "Earlier history",
                "Jordan Pike — referral RF-2024-0107, declined Mon 2 Dec 2024 "
                "(same name and date of birth)",
            ),
        ],
        previous_question="Has the housing officer visited since the last incident?",
    )
    return {
        "triage": render_triage(view),
        "triage-meetings-planned": render_triage(
            replace(view, notice=MEETINGS_PLANNED, open_form=ACCEPT_FORM)
        ),
        "triage-with-matches": render_triage(with_matches),
        "triage-accept-error": render_triage(
            replace(
                view,
                open_form=ACCEPT_FORM,
                values={MEETING_INPUT: "m-gone", AGENCIES_INPUT: "a-police,a-elsewhere"},
                errors={
                    MEETING_INPUT: "Choose one of the panel's upcoming meetings.",
                    AGENCIES_INPUT: "Choose agencies from the list: one is not an agency of "
                    "this panel.",
                },
            )
        ),
        "triage-ask-error": render_triage(
            replace(
                view,
                open_form=ASK_FORM,
                errors={QUESTION_INPUT: "Write the question for the referrer."},
            )
        ),
        "triage-decline-error": render_triage(
            replace(
                view,
                open_form=DECLINE_FORM,
                values={DECLINE_REASON_INPUT: DeclineReason.MORE_APPROPRIATE_MEETING.value},
                errors={OTHER_MEETING_INPUT: "Name the more appropriate meeting."},
            )
        ),
        "triage-changed-meanwhile": render_triage(replace(view, notice=CHANGED_MEANWHILE)),
        "triage-no-meeting": render_triage(replace(view, meetings=[], default_meeting=None)),
        "triage-accepted": render_triage_outcome(
            OutcomeView(
                title="Accepted as CM-2026-015 for Tue 8 Dec",
                subtitle=DEMO_PANEL,
                facts=[
                    ("Referral", "RF-2026-0052"),
                    ("Meeting", "Tue 8 Dec 2026, 10:00"),
                    (
                        "Agencies asked",
                        "Riverside Police (Tom Okafor); Riverside Homes (Housing) (Gemma "
                        "Hartley); Adult Social Care (no SPOC or deputy: ask them yourself)",
                    ),
                    ("Answers due", "Mon 30 Nov 2026"),
                ],
                note="The case is on the meeting's agenda and Aisha Bello has been told.",
            )
        ),
        "triage-sent-back": render_triage_outcome(
            OutcomeView(
                title="Sent back to Aisha Bello",
                subtitle=DEMO_PANEL,
                facts=[
                    ("Referral", "RF-2026-0052"),
                    ("Question", "Has the housing officer visited since the last incident?"),
                ],
                note="It comes back to you for triage when they resubmit it.",
            )
        ),
        "triage-declined": render_triage_outcome(
            OutcomeView(
                title="Declined: A more appropriate meeting exists",
                subtitle=DEMO_PANEL,
                facts=[
                    ("Referral", "RF-2026-0052"),
                    ("Reason", "A more appropriate meeting exists"),
                    ("Note", "Domestic-abuse MARAC. Partners in the same household."),
                ],
                note="Aisha Bello has been told.",
            )
        ),
        "triage-already-accepted": render_triage_outcome(
            OutcomeView(
                title="Already accepted by Priya Raman as CM-2026-015",
                subtitle=DEMO_PANEL,
                facts=[("Referral", "RF-2026-0052"), ("Decided", "Fri 20 Nov 2026")],
                note="Nothing was changed by this click.",
            )
        ),
        "triage-channel-notice": render_channel_notice(
            ChannelNoticeView(reference="RF-2026-0052", agency="Victim Support", risk_level="High")
        ),
        "triage-channel-notice-resubmitted": render_channel_notice(
            ChannelNoticeView(
                reference="RF-2026-0052",
                agency="Victim Support",
                risk_level="Medium",
                resubmitted=True,
            )
        ),
        "referrals-coordinator": render_pending(
            PendingView(
                panel_name=DEMO_PANEL,
                lines=[
                    PendingLine("RF-2026-0049", "Victim Support", "medium", 2, "awaiting triage"),
                    PendingLine(
                        "RF-2026-0050",
                        "Riverside Police",
                        "high",
                        1,
                        "waiting for the referrer's answer",
                    ),
                    PendingLine("RF-2026-0052", "Victim Support", "high", 0, "awaiting triage"),
                ],
            )
        ),
        "referrals-coordinator-none": render_pending(PendingView(panel_name=DEMO_PANEL, lines=[])),
        "referrals-referrer": render_mine(
            MineView(
                panel_name=DEMO_PANEL,
                lines=[
                    MyLine("RF-2026-0053", "Fri 20 Nov 2026", "draft, not sent yet"),
                    MyLine(
                        "RF-2026-0052", "Wed 18 Nov 2026", "submitted, waiting for the coordinator"
                    ),
                    MyLine(
                        "RF-2026-0050",
                        "Mon 16 Nov 2026",
                        "more information needed: “Has the housing officer visited?”",
                    ),
                    MyLine("RF-2026-0047", "Sun 8 Nov 2026", "accepted as CM-2026-014"),
                    MyLine(
                        "RF-2026-0044",
                        "Fri 30 Oct 2026",
                        "declined: A more appropriate meeting exists (MAPPA)",
                    ),
                ],
            )
        ),
        "referrals-referrer-none": render_mine(MineView(panel_name=DEMO_PANEL, lines=[])),
    }


# ---- information requests -------------------------------------------------------------


def info_request_cards() -> dict[str, Card]:
    """The information request cards, with invented data."""
    request = InfoRequestView(
        request_id="demo-request",
        case_reference="CM-2026-015",
        panel_name=DEMO_PANEL,
        agency="Riverside Homes (Housing)",
        risk_level="Medium",
        meeting="Tue 8 Dec 2026, 10:00",
        due="Mon 30 Nov 2026",
        subjects=[
            RequestSubject("Samuel Achebe", "victim", "30 Nov 1972"),
            RequestSubject("Jordan Pike", "perpetrator"),
        ],
        question="What does your agency know about the people named, and what is it doing now?",
    )
    notice = AnsweredNoticeView(
        agency="Riverside Homes (Housing)", case_reference="CM-2026-015", answered=2, asked=3
    )
    return {
        "info-request": render_info_request(request),
        "info-request-error": render_info_request(
            replace(request, answer="", error="Write the agency's information.")
        ),
        "info-request-answered": render_info_answered(
            InfoAnsweredView(
                case_reference="CM-2026-015",
                agency="Riverside Homes (Housing)",
                answered_by="Gemma Hartley",
                answered_on="Fri 27 Nov 2026",
                answer="Tenant since 2019; two noise complaints logged against the flat above.",
            )
        ),
        "info-request-answered-notice": render_answered_notice(notice),
        "info-request-all-answered-notice": render_answered_notice(
            AnsweredNoticeView(
                agency="Victim Support", case_reference="CM-2026-015", answered=3, asked=3
            )
        ),
    }


# ---- the panel's risk matrix ------------------------------------------------------------

# An invented panel's own matrix: three questions, its own version and threshold.
OWN_MATRIX = RiskMatrix(
    version="riverside-2027.1",
    threshold=4,
    items=tuple(
        RiskItem(
            item_id,
            question,
            (
                RiskOption("none", "No / not known", 0),
                RiskOption("some", "Some concern", 1),
                RiskOption("serious", "Serious concern", 3),
            ),
        )
        for item_id, question in (
            ("harm", "Has the victim been harmed or threatened?"),
            ("repeat", "Is the behaviour repeated or getting worse?"),
            ("vulnerable", "Is the victim vulnerable (health, age, isolation)?"),
        )
    ),
)


def matrix_cards() -> dict[str, Card]:
    """`matrix`: the shipped example (labelled so) and a panel's own, invented."""
    panel = Panel(name=DEMO_PANEL, team_id="gallery-team", tenant_id="gallery", created_at=NOW)
    own = RiskBook(by_team={panel.team_id: OWN_MATRIX})
    return {
        "risk-matrix-example": render_risk_matrix(matrix_view(panel, RiskBook())),
        "risk-matrix-own": render_risk_matrix(matrix_view(panel, own)),
    }


def gallery_cards() -> dict[str, Card]:
    """Every card the referrals feature sends, with invented data."""
    return {**intake_cards(), **triage_cards(), **info_request_cards(), **matrix_cards()}
