"""The quarterly figures on a small invented data set, each worked out by hand; the card's
charts and the CSV say the same.

Quarter 2026-Q3 (1 July to 30 September), Europe/London, read on 20 November 2026.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.action import Action, ActionStatus
from bot.domain.case import Case, CaseStatus, ClosureReason
from bot.domain.errors import InvalidInput
from bot.domain.panel import Agency, Panel
from bot.domain.referral import DeclineReason, Referral, ReferralStatus, Subject, SubjectRole
from bot.domain.risk import RiskLevel
from bot.domain.stats import ActionTally, Quarter, QuarterStats, linked_referrals, quarter_stats
from bot.features.records.views import stats_csv, stats_view
from cards.kit import card_text, teams_findings
from cards.stats import render_stats

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
Q3 = Quarter(2026, 3)
POLICE, HOUSING, VICTIMS = "police", "housing", "victims"
PANEL = Panel(
    id="p",
    name="Northbrook Community MARAC",
    team_id="t",
    tenant_id="x",
    created_at=datetime(2024, 1, 1, tzinfo=UTC),
)
AGENCIES = {
    POLICE: Agency(id=POLICE, panel_id="p", name="Northbrook Police"),
    HOUSING: Agency(id=HOUSING, panel_id="p", name="Northbrook Homes"),
    VICTIMS: Agency(id=VICTIMS, panel_id="p", name="Victim Support"),
}


def at(day: str, hour: int = 10) -> datetime:
    """An instant on a day, London time."""
    return datetime.combine(date.fromisoformat(day), datetime.min.time(), LONDON).replace(hour=hour)


def person(name: str, born: str) -> Subject:
    return Subject(role=SubjectRole.VICTIM, name=name, date_of_birth=date.fromisoformat(born))


def _letters(ref: str) -> str:
    """R10 → "Rba": names are matched without their digits."""
    return "".join(chr(ord("a") + int(c)) if c.isdigit() else c for c in ref)


def referral(
    ref: str,
    agency: str | None,
    sent: str | None,
    status: ReferralStatus,
    decided: str | None = None,
    who: Subject | None = None,
    reason: DeclineReason | None = None,
    created: str | None = None,
) -> Referral:
    return Referral(
        id=ref,
        panel_id="p",
        reference=ref,
        referrer_member_id="m",
        referring_agency_id=agency,
        status=status,
        subjects=[who or person(f"Person {_letters(ref)}", "1980-01-01")],
        created_at=at(created or sent or "2026-07-01"),
        submitted_at=at(sent) if sent else None,
        decided_at=at(decided) if decided else None,
        decline_reason=reason,
    )


def case(
    ref: str,
    referral_id: str | None,
    opened: str,
    risk: RiskLevel,
    *,
    children: bool = False,
    heard: str | None = None,
    closed: str | None = None,
    reason: ClosureReason | None = None,
) -> Case:
    return Case(
        id=ref,
        panel_id="p",
        reference=ref,
        referral_id=referral_id,
        status=CaseStatus.CLOSED if closed else CaseStatus.OPEN,
        risk_level=risk,
        has_children=children,
        opened_at=at(opened),
        first_heard_at=at(heard) if heard else None,
        closed_at=at(closed) if closed else None,
        closure_reason=reason,
    )


def action(ref: str, agency: str, due: str, status: ActionStatus, done: datetime | None = None):  # type: ignore[no-untyped-def]
    return Action(
        id=ref,
        panel_id="p",
        case_id="C1",
        owner_agency_id=agency,
        description="An action",
        due_on=date.fromisoformat(due),
        status=status,
        created_at=at("2026-06-01"),
        completed_at=done,
    )


SAM = person("Sam Rivers", "1990-01-01")
OLD_TIMER = person("Old Timer", "1950-05-05")
ANN = person("Ann Twice", "1975-04-04")

REFERRALS = [
    # before the quarter: Sam's first case closed on 1 March 2026; Old Timer's in 2024
    referral("R0", POLICE, "2025-09-01", ReferralStatus.ACCEPTED, "2025-09-05", SAM),
    referral("R00", POLICE, "2023-06-01", ReferralStatus.ACCEPTED, "2023-06-02", OLD_TIMER),
    # Ann: sent in Q2, accepted on 1 July (a Q3 decision); her case was still open when
    # R1 about her came, so R1 is a possible duplicate, not a repeat
    referral("R6", POLICE, "2026-06-20", ReferralStatus.ACCEPTED, "2026-07-01", ANN),
    # received in Q3
    referral("R1", POLICE, "2026-07-05", ReferralStatus.ACCEPTED, "2026-07-10", ANN),
    referral(
        "R2",
        HOUSING,
        "2026-08-01",
        ReferralStatus.DECLINED,
        "2026-08-03",
        OLD_TIMER,
        DeclineReason.CRITERIA_NOT_MET,
    ),
    referral(
        "R3",
        POLICE,
        "2026-08-15",
        ReferralStatus.DECLINED,
        "2026-08-20",
        reason=DeclineReason.MORE_APPROPRIATE_MEETING,
    ),
    referral("R4", VICTIMS, "2026-09-01", ReferralStatus.ACCEPTED, "2026-09-02", SAM),
    referral("R5", POLICE, "2026-09-29", ReferralStatus.SUBMITTED),
    referral("R8", VICTIMS, "2026-07-20", ReferralStatus.WITHDRAWN, "2026-07-25"),
    # never sent: a draft, and a draft withdrawn in Q3
    referral("R7", POLICE, None, ReferralStatus.DRAFT, created="2026-08-01"),
    referral("R9", POLICE, None, ReferralStatus.WITHDRAWN, "2026-08-02", created="2026-08-01"),
    # received in Q4
    referral("R10", HOUSING, "2026-10-02", ReferralStatus.SUBMITTED),
]
CASES = [
    case(
        "C0",
        "R0",
        "2025-09-05",
        RiskLevel.HIGH,
        heard="2025-09-09",
        closed="2026-03-01",
        reason=ClosureReason.CONCERNS_REDUCED,
    ),
    case(
        "C00",
        "R00",
        "2023-06-02",
        RiskLevel.HIGH,
        heard="2023-06-13",
        closed="2024-01-01",
        reason=ClosureReason.CONCERNS_REDUCED,
    ),
    case("C6", "R6", "2026-07-01", RiskLevel.STANDARD, children=True, heard="2026-07-14"),
    case(
        "C1",
        "R1",
        "2026-07-10",
        RiskLevel.HIGH,
        children=True,
        heard="2026-07-19",
        closed="2026-09-20",
        reason=ClosureReason.SUPPORT_PLAN_IN_PLACE,
    ),
    case("C4", "R4", "2026-09-02", RiskLevel.MEDIUM, heard="2026-09-08"),
    # opened before the quarter, closed in it
    case(
        "C9",
        None,
        "2026-01-10",
        RiskLevel.MEDIUM,
        closed="2026-08-10",
        reason=ClosureReason.PASSED_BACK_NO_ENGAGEMENT,
    ),
]
for _case in CASES:  # an accepted referral names its case
    for _referral in REFERRALS:
        if _referral.id == _case.referral_id:
            _referral.case_id = _case.id

ACTIONS = [
    action("a1", POLICE, "2026-07-31", ActionStatus.DONE, at("2026-07-30")),
    action("a2", POLICE, "2026-08-15", ActionStatus.DONE, at("2026-08-20")),
    action("a3", HOUSING, "2026-09-10", ActionStatus.OPEN),
    # done at 23:30 on its due day, London time (22:30 UTC): on time
    action(
        "a4", HOUSING, "2026-09-30", ActionStatus.DONE, at("2026-09-30", 23) + timedelta(minutes=30)
    ),
    action("a5", VICTIMS, "2026-08-01", ActionStatus.CANCELLED),
]


def figures(frozen: dict[str, bool] | None = None, now: datetime = NOW) -> QuarterStats:
    return quarter_stats(
        Q3,
        referrals=REFERRALS,
        cases=CASES,
        actions=ACTIONS,
        frozen_repeats=frozen or {},
        zone=LONDON,
        now=now,
    )


def test_quarters_are_read_and_named_like_2026_q3() -> None:
    assert Quarter.parse("2026-Q3") == Quarter.parse("q3 2026") == Quarter.parse("2026q3") == Q3
    assert (Q3.first_day, Q3.last_day) == (date(2026, 7, 1), date(2026, 9, 30))
    assert (Q3.previous().label, Q3.next().label) == ("2026-Q2", "2026-Q4")
    assert (Quarter(2026, 1).previous(), Quarter(2026, 4).next()) == (
        Quarter(2025, 4),
        Quarter(2027, 1),
    )
    assert Quarter.of(date(2026, 11, 20)) == Quarter(2026, 4)
    with pytest.raises(InvalidInput, match="like 2026-Q3"):
        Quarter.parse("autumn")


def test_referrals_received_in_the_quarter_by_agency() -> None:
    # R1, R2, R3, R4, R5 and R8 were sent in Q3; R6 in June, R10 in October; R7 and R9 never
    stats = figures()
    assert stats.received == 6
    assert stats.by_agency == {POLICE: 3, HOUSING: 1, VICTIMS: 2}


def test_decisions_made_in_the_quarter_with_the_decline_reasons() -> None:
    # accepted: R6 (1 July), R1, R4; declined: R2, R3; withdrawn: R8 (R9 was never sent)
    stats = figures()
    assert (stats.accepted, stats.declined, stats.withdrawn) == (3, 2, 1)
    assert stats.decline_reasons == {
        DeclineReason.CRITERIA_NOT_MET: 1,
        DeclineReason.MORE_APPROPRIATE_MEETING: 1,
    }


def test_risk_levels_and_children_of_the_cases_opened_in_the_quarter() -> None:
    # C6 (1 July, standard, children), C1 (high, children), C4 (medium)
    stats = figures()
    assert stats.risk_levels == {RiskLevel.STANDARD: 1, RiskLevel.HIGH: 1, RiskLevel.MEDIUM: 1}
    assert (stats.new_cases, stats.with_children) == (3, 2)


def test_the_repeat_rate_counts_matches_whose_case_closed_in_the_year_before() -> None:
    # R4 (Sam): his case C0 closed on 1 March, six months before: a repeat.
    # R2 (Old Timer): C00 closed in January 2024, more than a year before: not one.
    # R1 (Ann): C6 was open when R1 came: a possible duplicate, not a repeat.
    stats = figures()
    assert stats.repeats == 1
    assert stats.repeat_ids == {"R4"}
    assert stats.repeat_rate == pytest.approx(1 / 6)


def test_a_kept_repeat_answer_wins_over_matching_now() -> None:
    stats = figures(frozen={"R4": False, "R2": True})
    assert stats.repeat_ids == {"R2"}


def test_days_from_referral_to_first_hearing_median_and_longest() -> None:
    # first heard in Q3: C6 (20 Jun → 14 Jul: 24), C1 (5 → 19 Jul: 14), C4 (1 → 8 Sep: 7)
    stats = figures()
    assert list(stats.days_to_first_hearing) == [7, 14, 24]
    assert (stats.median_days, stats.longest_days) == (14, 24)


def test_actions_due_in_the_quarter_by_agency() -> None:
    stats = figures()
    assert stats.actions == {
        POLICE: ActionTally(on_time=1, late=1),
        HOUSING: ActionTally(on_time=1, overdue=1),
        VICTIMS: ActionTally(cancelled=1),
    }


def test_an_open_action_is_overdue_only_once_its_due_date_has_passed() -> None:
    due_20th = [action("a6", HOUSING, "2026-09-20", ActionStatus.OPEN)]

    def tally(now: datetime) -> ActionTally:
        stats = quarter_stats(
            Q3,
            referrals=[],
            cases=[],
            actions=due_20th,
            frozen_repeats={},
            zone=LONDON,
            now=now,
        )
        return stats.actions[HOUSING]

    assert tally(at("2026-09-20")) == ActionTally(open=1)
    assert tally(at("2026-09-21")) == ActionTally(overdue=1)


def test_closures_by_reason() -> None:
    # C1 (20 Sep, support plan) and C9 (10 Aug, passed back); C0 closed in March
    stats = figures()
    assert stats.closures == {
        ClosureReason.SUPPORT_PLAN_IN_PLACE: 1,
        ClosureReason.PASSED_BACK_NO_ENGAGEMENT: 1,
    }


def test_an_empty_quarter_has_no_rates_to_divide_by() -> None:
    stats = quarter_stats(
        Quarter(2020, 1),
        referrals=REFERRALS,
        cases=CASES,
        actions=[],
        frozen_repeats={},
        zone=LONDON,
        now=NOW,
    )
    assert (stats.received, stats.repeat_rate, stats.median_days, stats.longest_days) == (
        0,
        None,
        None,
        None,
    )


def test_the_referrals_linked_to_a_persons_case_are_theirs_and_every_match() -> None:
    # Sam's first referral R0: his second (R4) hangs on it; R7 was never sent
    by_id = {r.id: r for r in REFERRALS}
    assert linked_referrals([by_id["R0"]], REFERRALS) == {"R0", "R4"}
    assert linked_referrals([by_id["R7"]], REFERRALS) == set()


def test_the_card_draws_each_figure_as_a_bar_and_says_the_number() -> None:
    view = stats_view(PANEL, figures(), AGENCIES, csv_url="https://x.example/s.csv", now=NOW)
    card = render_stats(view)
    assert teams_findings(card) == []
    assert len(json.dumps(card).encode()) < 28 * 1024
    text = card_text(card)
    assert "Panel statistics, 2026-Q3" in text
    assert "1 Jul – 30 Sep 2026" in text and "(to date)" not in text
    assert "Referrals received\n6" in text
    assert "3 · 2 · 1 (of 6 decided)" in text
    assert "1 of 6 (17%)" in text
    assert "median 14, longest 24 (3 cases)" in text
    assert "2 of 3 (67%)" in text
    assert "Northbrook Police\n3" in text  # label, bar, count
    assert "Does not meet the panel's criteria\n1" in text
    assert "Northbrook Homes" in text and "1/2" in text  # actions done on time of all
    actions = card["actions"]
    assert (actions[0]["type"], actions[0]["title"], actions[0]["url"]) == (
        "Action.OpenUrl",
        "Download CSV",
        "https://x.example/s.csv",
    )
    assert [a["data"]["quarter"] for a in actions[1:]] == ["2026-Q2", "2026-Q4"]


def test_the_bars_are_as_wide_as_their_counts() -> None:
    view = stats_view(PANEL, figures(), AGENCIES, csv_url=None, now=NOW)
    card = render_stats(view)

    def widths(row: dict) -> list[tuple[object, object]]:  # type: ignore[type-arg]
        bar = row["columns"][1]["items"][0]
        return [(c["width"], c.get("style")) for c in bar["columns"]]

    rows = [b for b in card["body"] if b.get("type") == "ColumnSet"]
    # by agency: police 3 (the scale), victims 2, housing 1
    assert widths(rows[0]) == [(3, "accent")]
    assert widths(rows[1]) == [(2, "accent"), (1, None)]
    assert widths(rows[2]) == [(1, "accent"), (2, None)]


def test_many_agencies_still_fit_on_one_card() -> None:
    many = {f"a{n}": Agency(id=f"a{n}", panel_id="p", name=f"Agency number {n}") for n in range(40)}
    stats = QuarterStats(
        quarter=Q3,
        to_date=False,
        received=400,
        by_agency={f"a{n}": 10 for n in range(40)},
        accepted=1,
        declined=1,
        withdrawn=0,
        decline_reasons={},
        risk_levels={},
        repeats=0,
        days_to_first_hearing=[],
        actions={f"a{n}": ActionTally(on_time=1, late=1, overdue=1, open=1) for n in range(40)},
        closures={},
        new_cases=0,
        with_children=0,
    )
    card = render_stats(stats_view(PANEL, stats, many, csv_url=None, now=NOW))
    assert teams_findings(card) == []
    assert "others" in card_text(card)


def test_the_csv_has_every_figure() -> None:
    body = stats_csv(PANEL, figures(), AGENCIES).decode("utf-8")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0] == ["panel", "quarter", "measure", "group", "value"]
    values = {(r[2], r[3]): r[4] for r in rows[1:]}
    assert all(r[:2] == ["Northbrook Community MARAC", "2026-Q3"] for r in rows[1:])
    assert values[("referrals_received", "")] == "6"
    assert values[("referrals_by_agency", "Northbrook Police")] == "3"
    assert values[("decisions", "declined")] == "2"
    assert values[("declined_by_reason", "Out of area")] == "0"
    assert values[("new_cases_by_risk_level", "high")] == "1"
    assert values[("repeat_rate_percent", "")] == "16.7"
    assert values[("days_to_first_hearing_median", "")] == "14"
    assert values[("actions_overdue", "Northbrook Homes")] == "1"
    assert values[("cases_closed_by_reason", "support_plan_in_place")] == "1"
    assert values[("new_cases_with_children", "")] == "2"


def test_a_cell_a_spreadsheet_would_run_as_a_formula_is_quoted() -> None:
    evil = {POLICE: Agency(id=POLICE, panel_id="p", name="=HYPERLINK(1)")}
    body = stats_csv(PANEL, figures(), evil).decode("utf-8")
    assert "'=HYPERLINK(1)" in body


def test_every_statistics_card_is_valid_small_and_kept_out_of_shared_chats() -> None:
    from bot.domain.gate import SubjectNames, judge
    from bot.features.records import gallery
    from bot.kernel.channel_gate import kind_of, shared_post

    for name, card in gallery.stats_cards().items():
        assert teams_findings(card) == [], name
        assert len(json.dumps(card).encode()) < 28 * 1024, name
        assert kind_of(card) is None, name
        assert not judge(shared_post(card, None), SubjectNames([]), NOW.date()).allowed, name
