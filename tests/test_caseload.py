"""The caseload (bot.features.caseload) through the app's router and dispatch on the demo
panel: `cases` with each filter and its pages, `find` by a name written differently and by
postcode within need to know, the refusals and the audit trail. Every person is invented.

The demo panel holds CM-2026-013 (high risk, led by Housing, one overdue action of Adult
Social Care's, a police action done) and CM-2026-014 (medium risk, no lead, Fire and Rescue
invited), and the referral RF-2026-0049 still waiting for a decision."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest

from bot.domain.case import Case
from bot.domain.delivery import ConversationKind
from bot.domain.errors import InvalidInput, NotAllowed
from bot.domain.meeting import AgendaItem, AgendaItemKind, AgendaItemStatus
from bot.domain.panel import Member, Role
from bot.domain.referral import Referral, ReferralStatus, Subject, SubjectRole
from bot.domain.risk import RiskLevel
from bot.features.caseload.commands import TOO_SHORT, ListCases, agency_matches
from bot.features.caseload.search import MAX_HITS
from bot.kernel.guard import PRIVATE
from bot.kernel.localtime import day_text
from cards.caseload import FILTER_KEY, MORE_BUTTON, PAGE_KEY
from cards.verbs import Verb
from tests.support import cards
from tests.support.world import NOW, demo_world

if TYPE_CHECKING:
    from bot.domain.audit import AuditEvent
    from bot.kernel.ports import Storage
    from bot.kernel.router import Reply
    from tests.support.world import World

HOUSING = "Riverside Homes (Housing)"


def lines(reply: Reply) -> list[str]:
    """The case references the card lists, in order (from their Open buttons)."""
    return [
        title.removeprefix("Open ")
        for title in cards.titles(cards.card(reply))
        if title.startswith("Open ")
    ]


async def audit_details(world: World) -> list[AuditEvent]:
    async with world.storage.unit_of_work() as uow:
        return await uow.audit.recent(world.panel.id, 200)


async def more_cases(world: World, count: int, risk: RiskLevel = RiskLevel.STANDARD) -> None:
    """`count` more open cases, CM-2026-101 on."""
    await world.save(
        *(
            Case(
                panel_id=world.panel.id,
                reference=world.panel.case_reference(2026, 101 + n),
                risk_level=risk,
                opened_at=NOW - timedelta(days=n + 1),
            )
            for n in range(count)
        )
    )


def referral_about(world: World, member: Member, name: str, n: int, **subject: Any) -> Referral:
    """A submitted referral about one invented person, by `member`."""
    return Referral(
        panel_id=world.panel.id,
        reference=f"RF-2026-{900 + n:04d}",
        referrer_member_id=member.id,
        status=ReferralStatus.SUBMITTED,
        subjects=[Subject(role=SubjectRole.VICTIM, name=name, **subject)],
        created_at=NOW - timedelta(days=n + 1),
        submitted_at=NOW - timedelta(days=n + 1),
    )


# --- cases ---------------------------------------------------------------------------------


async def test_the_coordinator_sees_the_open_cases_highest_risk_first(world: World) -> None:
    case = await world.case("CM-2026-014")
    meeting = await world.next_meeting()
    await world.save(
        AgendaItem(
            panel_id=world.panel.id,
            meeting_id=meeting.id,
            kind=AgendaItemKind.NEW_CASE,
            position=1,
            title="CM-2026-014",
            case_id=case.id,
        )
    )
    reply = await world.command("Priya", "cases")
    said = cards.shown(reply)
    assert lines(reply) == ["CM-2026-013", "CM-2026-014"]
    hearing = day_text(meeting.starts_at, world.panel)
    # Not on an agenda yet, but due for review at the next meeting by the panel's rules.
    assert (
        "**CM-2026-013** · High risk · lead: Riverside Homes (Housing) · "
        f"next hearing: {hearing} (due) · 1 overdue action"
    ) in said
    assert (
        f"**CM-2026-014** · Medium risk · lead: not set · next hearing: {hearing} · "
        "no overdue action"
    ) in said
    assert "no overdue action" in said
    # No personal data: references, agencies, counts and dates only.
    for person in ("Margaret", "Ellison", "Kyle", "Rosa", "Lindqvist", "Achebe"):
        assert person not in said
    # Each line opens its case with the existing command.
    verb, data = cards.press(cards.card(reply), "Open CM-2026-013")
    opened = await world.click("Priya", verb, data)
    assert "Margaret Ellison" in cards.shown(opened)


async def test_a_case_taken_off_the_agenda_is_not_listed_and_a_review_waits_for_its_meeting(
    world: World,
) -> None:
    heard, new = await world.case("CM-2026-013"), await world.case("CM-2026-014")
    first, second, *_ = [m for m in await world.meetings() if m.starts_at > NOW]
    heard.review_at(second.id)
    await world.save(
        heard,
        AgendaItem(
            panel_id=world.panel.id,
            meeting_id=first.id,
            kind=AgendaItemKind.NEW_CASE,
            position=1,
            title="CM-2026-014",
            case_id=new.id,
            status=AgendaItemStatus.REMOVED,
        ),
    )
    said = cards.shown(await world.command("Priya", "cases"))
    later = day_text(second.starts_at, world.panel)
    assert (
        "**CM-2026-013** · High risk · lead: Riverside Homes (Housing) · "
        f"next hearing: {later} (due)"
    ) in said
    assert "**CM-2026-014** · Medium risk · lead: not set · next hearing: not listed" in said


async def test_the_chair_sees_the_caseload_and_each_view_is_audited(world: World) -> None:
    await world.command("Tom", "cases overdue")
    tom = await world.member("Tom")
    views = [
        e
        for e in await audit_details(world)
        if e.actor_member_id == tom.id and e.entity == "panel" and e.verb.value == "view"
    ]
    assert [e.detail for e in views] == [
        "caseload viewed, filtered by overdue: page 1 of 1, 1 cases"
    ]


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("overdue", ["CM-2026-013"]),
        ("high", ["CM-2026-013"]),
        ("MEDIUM", ["CM-2026-014"]),
        ("standard", []),
        ("Housing", ["CM-2026-013"]),  # the lead agency, by a word of its name
        ("riverside homes", ["CM-2026-013"]),  # by the start of its name
        ("adult", ["CM-2026-013"]),  # an open action of Adult Social Care's
        ("police", []),  # its action on CM-2026-013 is done
        ("Fire", []),  # invited to CM-2026-014, but neither its lead nor acting on it
    ],
)
async def test_each_filter_keeps_the_cases_it_names(
    world: World, typed: str, shown: list[str]
) -> None:
    reply = await world.command("Priya", f"cases {typed}")
    assert lines(reply) == shown


async def test_an_unknown_agency_or_an_empty_filter_says_so(world: World) -> None:
    reply = await world.command("Priya", "cases Probation")
    assert "No agency of the panel is called “Probation”" in cards.shown(reply)
    reply = await world.command("Priya", "cases police")
    assert "No open case is led by Riverside Police or has an open action of theirs." in (
        cards.shown(reply)
    )


async def test_the_caseload_comes_ten_a_page_and_more_carries_the_page_and_filter(
    world: World,
) -> None:
    await more_cases(world, 12)
    await more_cases_high(world)
    first = await world.command("Priya", "cases")
    assert len(lines(first)) == 10
    assert "16 cases · page 1 of 2" in cards.shown(first)
    assert lines(first)[:4] == ["CM-2026-013", "CM-2026-201", "CM-2026-202", "CM-2026-014"]
    verb, data = cards.press(cards.card(first), MORE_BUTTON)
    assert verb == Verb.CASES_PAGE.value
    assert (data[PAGE_KEY], data[FILTER_KEY]) == (2, "")
    second = await world.click("Priya", verb, data)
    assert len(lines(second)) == 6
    assert "page 2 of 2" in cards.shown(second)
    assert cards.with_verb(cards.card(second), Verb.CASES_PAGE) == []
    assert set(lines(first)).isdisjoint(lines(second))

    standard = await world.command("Priya", "cases standard")
    verb, data = cards.press(cards.card(standard), MORE_BUTTON)
    assert (data[PAGE_KEY], data[FILTER_KEY]) == (2, "standard")
    rest = await world.click("Priya", verb, data)
    assert lines(rest) == ["CM-2026-111", "CM-2026-112"]


async def more_cases_high(world: World) -> None:
    """Two more high-risk cases, CM-2026-201 and 202, after the demo's own."""
    await world.save(
        *(
            Case(
                panel_id=world.panel.id,
                reference=world.panel.case_reference(2026, 201 + n),
                risk_level=RiskLevel.HIGH,
                opened_at=NOW - timedelta(days=1),
            )
            for n in range(2)
        )
    )


async def test_a_more_button_with_a_page_the_bot_never_wrote_is_out_of_date(
    world: World,
) -> None:
    for data in ({PAGE_KEY: 0}, {PAGE_KEY: "two"}, {PAGE_KEY: True}, {PAGE_KEY: 2, FILTER_KEY: 7}):
        with pytest.raises(InvalidInput, match="out of date"):
            await world.click("Priya", Verb.CASES_PAGE, data)
    # A page past the end shows the last one.
    last = await world.click("Priya", Verb.CASES_PAGE, {PAGE_KEY: 9, FILTER_KEY: ""})
    assert lines(last) == ["CM-2026-013", "CM-2026-014"]


async def test_a_spoc_a_referrer_and_a_shared_chat_are_refused_the_caseload(
    world: World,
) -> None:
    for who in ("Gemma", "Aisha"):
        with pytest.raises(NotAllowed, match="caseload"):
            await world.command(who, "cases")
    with pytest.raises(NotAllowed, match="private chat"):
        await world.command("Priya", "cases", ConversationKind.CHANNEL)
    with pytest.raises(NotAllowed):
        await world.click("Gemma", Verb.CASES_PAGE, {PAGE_KEY: 2, FILTER_KEY: ""})
    refusals = [e for e in await audit_details(world) if e.verb.value == "refuse"]
    assert len(refusals) == 4


# --- find ----------------------------------------------------------------------------------


async def test_find_recognises_a_name_written_differently(world: World) -> None:
    reply = await world.command("Priya", "find Ellison, Maggie")
    said = cards.shown(reply)
    assert "**CM-2026-013** · case, heard · victim: **Margaret Ellison**" in said
    assert "a familiar form of a first name" in said
    assert lines(reply) == ["CM-2026-013"]
    # A slip of the keyboard in the family name, the given name whole.
    said = cards.shown(await world.command("Priya", "find Kyle Dawsno"))
    assert "perpetrator: **Kyle Dawson**" in said
    assert "spelt differently" in said


async def test_find_by_postcode_however_it_is_written(world: World) -> None:
    reply = await world.command("Tom", "find rv27ld")
    said = cards.shown(reply)
    assert "searched by postcode · 1 found" in said
    assert "**CM-2026-014** · case, open · victim: **Rosa Lindqvist** · same postcode" in said


async def test_find_and_cases_on_sqlite_and_postgresql(database: Storage) -> None:
    """The same searches on the SQL repositories: the block by name part, familiar form,
    alias and postcode, and the caseload's queries."""
    world = await demo_world(database)
    said = cards.shown(await world.command("Priya", "find Ellison, Maggie"))
    assert "victim: **Margaret Ellison**" in said
    said = cards.shown(await world.command("Priya", "find RV2 7LD"))
    assert "victim: **Rosa Lindqvist** · same postcode" in said
    priya = await world.member("Priya")
    await world.save(referral_about(world, priya, "Ann Quennell", 1, aliases=("Annie Smythe",)))
    said = cards.shown(await world.command("Priya", "find Anne Smythe"))
    assert "alias Annie Smythe" in said
    assert lines(await world.command("Priya", "cases adult")) == ["CM-2026-013"]


async def test_find_reaches_a_referral_not_yet_a_case_for_the_coordinator(world: World) -> None:
    reply = await world.command("Priya", "find samuel achebe")
    assert "**RF-2026-0049** · referral, waiting for a decision" in cards.shown(reply)
    # The coordinator opens its triage card from the hit; the chair sees it, but triage is
    # not hers, so her hit has no button.
    verb, data = cards.press(cards.card(reply), "Open RF-2026-0049")
    assert "Samuel Achebe" in cards.shown(await world.click("Priya", verb, data))
    chairs = await world.command("Tom", "find samuel achebe")
    assert "**RF-2026-0049**" in cards.shown(chairs)
    assert lines(chairs) == []


async def test_find_shows_a_spoc_only_what_their_agency_may_see(world: World) -> None:
    fire = await world.agency("Riverside Fire and Rescue")
    officer = Member(
        panel_id=world.panel.id,
        aad_object_id="5e0c1d2f-0000-4000-8000-00000000f1re",
        name="Wendy Ashdown",
        agency_id=fire.id,
        roles=frozenset({Role.SPOC}),
    )
    await world.save(officer)
    await world.accepts_agreement(officer)
    # Invited to CM-2026-014: Rosa Lindqvist is found.
    said = cards.shown(await world.command(officer, "find Rosa Lindqvist"))
    assert "Rosa Lindqvist" in said
    assert "only the cases and referrals your agency is involved in" in said
    # Not involved in CM-2026-013, nor in the referral waiting: nothing, and nothing named.
    for name in ("Margaret Ellison", "Samuel Achebe", "RV1 4QT"):
        said = cards.shown(await world.command(officer, f"find {name}"))
        assert "0 found" in said
        assert "Ellison" not in said
        assert "Achebe" not in said
    # A core agency's SPOC sees the cases, but not a referral before the panel accepts it.
    assert "Margaret Ellison" in cards.shown(await world.command("Gemma", "find Ellison"))
    assert "0 found" in cards.shown(await world.command("Gemma", "find Samuel Achebe"))


async def test_find_without_the_agreement_shows_the_agreement_instead(world: World) -> None:
    reply = await world.command("Daniel", "find Margaret Ellison")
    said = cards.shown(reply)
    assert "information sharing agreement" in said
    assert "Margaret Ellison" not in said
    with pytest.raises(NotAllowed):
        await world.command("Aisha", "find Margaret Ellison")


@pytest.mark.parametrize("typed", ["", "Jo", "J. O.", "12 34"])
async def test_an_empty_or_too_short_search_is_explained(world: World, typed: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        await world.command("Priya", f"find {typed}".strip())
    assert refused.value.message == TOO_SHORT


async def test_a_search_shows_at_most_twenty_hits_strongest_first(world: World) -> None:
    priya = await world.member("Priya")
    await world.save(
        *(referral_about(world, priya, "Oswin Tredgold", n) for n in range(MAX_HITS + 4)),
        referral_about(world, priya, "Tredgold, Oswyn", 40),
    )
    reply = await world.command("Priya", "find Oswin Tredgold")
    said = cards.shown(reply)
    assert f"{MAX_HITS} found" in said
    assert "Only the strongest matches are shown" in said
    assert "Oswyn" not in said  # exact matches first, and there are more than twenty


async def test_every_search_is_audited_without_what_was_searched_for(world: World) -> None:
    before = len(await audit_details(world))
    await world.command("Priya", "find Ellison, Maggie")
    await world.command("Priya", "find Nobody Knownhere")
    events = (await audit_details(world))[: len(await audit_details(world)) - before]
    details = sorted(e.detail or "" for e in events)
    assert details == [
        "found by a search",
        "searched the people referred, by name: 0 found",
        "searched the people referred, by name: 1 found (CM-2026-013)",
    ]
    case = await world.case("CM-2026-013")
    found = next(e for e in events if e.detail == "found by a search")
    assert (found.entity, found.entity_id) == ("case", case.id)
    for event in events:
        for typed in ("Ellison", "Maggie", "Nobody", "Knownhere"):
            assert typed not in (event.detail or "")


def test_the_caseload_commands_are_private_and_read_what_they_are_given() -> None:
    assert ListCases.typed("  Riverside   Homes ") == ListCases("Riverside Homes")
    assert ListCases.clicked({PAGE_KEY: "3", FILTER_KEY: "high"}) == ListCases("high", 3)
    assert agency_matches(HOUSING, "housing")
    assert agency_matches(HOUSING, "Homes (Hous")
    assert not agency_matches(HOUSING, "ousing")
    assert frozenset({ConversationKind.PERSONAL}) == PRIVATE
