"""The minutes signed off as each panel's terms of reference say (MINUTES_SIGNOFF), who
receives the approved minutes, and minutes of a meeting held early (issue 15, item 8).

The demo panel runs its 8 December meeting on Friday 20 November (the demo's day): Gemma
Hartley (Housing SPOC), Tom Okafor (chair, attending for the police) and Priya Raman
(coordinator) acknowledge the statement; one action is agreed on CM-2026-014.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from docx import Document

from bot.domain.audit import AuditVerb
from bot.domain.delivery import ConversationKind
from bot.domain.errors import InvalidInput
from bot.domain.meeting import Meeting, MeetingStatus
from bot.domain.minutes import (
    Minutes,
    MinutesStatus,
    SignOff,
    SignOffBook,
    held_label,
    sign_off_book,
)
from bot.domain.panel import Member, Role
from bot.features.governance.views import case_view, read_case
from bot.features.meetings import agenda, meeting_run, minutes
from bot.features.meetings.docx_export import minutes_docx
from bot.kernel.links import Links
from bot.kernel.router import Router
from bot.settings import Settings, SettingsError
from cards.kit import card_text
from tests.support import cards
from tests.support.world import NOW, World, demo_world

GROUP = ConversationKind.GROUP_CHAT
LINKS = Links.of("https://bot.example.org", ["minutes-signoff-test-secret"])
HELD = "Fri 20 Nov 2026, 10:00 (planned for Tue 8 Dec 2026)"


async def world_signed_off_by(rule: SignOff) -> World:
    router = Router()
    agenda.register(router)
    meeting_run.register(router)
    config = minutes.MinutesConfig(links=LINKS, sign_offs=SignOffBook(default=rule))
    minutes.register(router, config)
    return await demo_world(router=router)


async def run_meeting(world: World, attending: tuple[str, ...] = ("Gemma", "Tom", "Priya")) -> str:
    """Start, some attend, one action on CM-2026-014, end; returns the meeting id."""
    reply = await world.command("Tom", "start", GROUP)
    for offset, name in enumerate(attending, start=1):
        world.clock.advance(NOW + timedelta(minutes=offset))
        await world.click(name, *cards.press(reply.card, "I acknowledge"), GROUP)
    chair = await world.click("Tom", *cards.press(reply.card, "Open the chair card"), GROUP)
    chair = await world.click("Tom", *cards.press(chair.card, "Next"), GROUP)
    chair = await world.click("Tom", *cards.press(chair.card, "Next"), GROUP)
    housing = (await world.member("Gemma")).agency_id
    chair = await world.click(
        "Tom",
        *cards.press(
            chair.card, "Save action", description="Fit a camera.", owner_agency_id=housing
        ),
        GROUP,
    )
    await world.command("Tom", "end", GROUP)
    return (await world.agenda())[0].meeting_id


async def stored(world: World, meeting_id: str) -> Minutes:
    async with world.storage.unit_of_work() as uow:
        found = await uow.meetings.minutes(world.panel.id, meeting_id)
    assert found is not None
    return found


async def audited(world: World, minutes_id: str) -> list[str]:
    async with world.storage.unit_of_work() as uow:
        events = await uow.audit.for_entity(world.panel.id, "minutes", minutes_id)
    return [e.detail for e in events if e.verb is AuditVerb.UPDATE]


async def cards_to(world: World, who: str, prefix: str) -> list[dict[str, object]]:
    return [d.payload["card"] for d in await world.queued_to(who) if d.key.startswith(prefix)]


# --- the setting ---------------------------------------------------------------------------


def test_the_setting_names_one_sign_off_or_one_a_team() -> None:
    assert sign_off_book("") == SignOffBook()
    assert sign_off_book(" Both ").for_team("any") is SignOff.BOTH
    book = sign_off_book('{"default": "chair", "teams": {"19:abc@thread.tacv2": "both"}}')
    assert book.for_team("19:abc@thread.tacv2") is SignOff.BOTH
    assert book.for_team("19:other@thread.tacv2") is SignOff.CHAIR
    assert sign_off_book('{"teams": {"t": "chair"}}').for_team("u") is SignOff.COORDINATOR
    for bad, says in (
        ("the chair", "is not coordinator, chair or both"),
        ('{"teams": {"t": "vice-chair"}}', "team t"),
        ('{"defaults": "chair"}', "unknown key defaults"),
        ('{"default": ', "not valid JSON"),
    ):
        with pytest.raises(InvalidInput, match=says):
            sign_off_book(bad)
    assert Settings.from_env({"MINUTES_SIGNOFF": "both"}, dotenv=None).minutes_signoff == "both"
    assert Settings.from_env({}, dotenv=None).minutes_signoff == "coordinator"
    with pytest.raises(SettingsError, match="MINUTES_SIGNOFF"):
        Settings.from_env({"MINUTES_SIGNOFF": "everyone"}, dotenv=None)


# --- both sign ---------------------------------------------------------------------------------


async def test_with_both_the_coordinator_signs_then_the_chair_gets_them_and_approves() -> None:
    world = await world_signed_off_by(SignOff.BOTH)
    meeting_id = await run_meeting(world)
    priya, tom = await world.member("Priya"), await world.member("Tom")
    draft = (await world.command("Priya", "minutes")).card
    assert "signed off by the coordinator and the chair" in card_text(draft)
    signed = await world.click("Priya", *cards.press(draft, "Sign off the minutes"))
    text = cards.text(signed)
    assert "Signed off. Waiting for the chair: sent to Tom Okafor in private chat." in text
    assert "Priya Raman (coordinator), Fri 20 Nov 2026" in text
    assert "Sign off the minutes" not in text  # she has signed: nothing more for her
    after = await stored(world, meeting_id)
    assert not after.approved
    assert [(s.member_id, s.role) for s in after.signatures] == [(priya.id, Role.COORDINATOR)]

    # A second sign-off of hers signs nothing: both means two people.
    again = await world.click(
        "Priya", "minutes.approve", {"meeting_id": meeting_id, "version": after.version}
    )
    assert "You have signed already: waiting for the coordinator and the chair." in (
        cards.text(again)
    )
    assert len((await stored(world, meeting_id)).signatures) == 1

    # The chair has them in private chat, to sign; he cannot edit them.
    (for_tom,) = await cards_to(world, "Tom", "minutes-sign:")
    assert "Sign off the minutes" in card_text(for_tom)
    assert "Edit summary" not in card_text(for_tom)
    world.clock.advance(NOW + timedelta(days=1))
    approved = await world.click("Tom", *cards.press(for_tom, "Sign off the minutes"))
    text = cards.text(approved)
    assert text.startswith(f"Minutes: {HELD}")
    assert "Approved. The Word document goes in private chat to Gemma Hartley (Riverside " in text
    assert "Tom Okafor (chair), Sat 21 Nov 2026" in text
    final = await stored(world, meeting_id)
    assert final.approved and final.approved_by == "Priya Raman and Tom Okafor"
    assert [(s.name, s.role) for s in final.signatures] == [
        ("Priya Raman", Role.COORDINATOR),
        ("Tom Okafor", Role.CHAIR),
    ]
    assert (await world.meeting(meeting_id)).status is MeetingStatus.MINUTES_APPROVED
    assert await audited(world, final.id) == [
        "signed off by Priya Raman as coordinator",
        "signed off by Tom Okafor as chair",
        "approved, signed off by Priya Raman (coordinator) and Tom Okafor (chair)",
    ]
    # The Word document says who signed, in which role, when.
    rows = [
        [c.text for c in row.cells]
        for t in Document(io.BytesIO(minutes_docx(final, world.panel.name))).tables
        for row in t.rows
    ]
    assert ["Priya Raman", "Coordinator", "Fri 20 Nov 2026"] in rows
    assert ["Tom Okafor", "Chair", "Sat 21 Nov 2026"] in rows
    (ready,) = await cards_to(world, "Gemma", "minutes-ready:")
    assert "Priya Raman (coordinator) and Tom Okafor (chair)" in card_text(ready)
    assert tom.id  # the approving chair has the link on his own card
    assert "Download the minutes (.docx)" in text


async def test_with_both_the_chair_may_sign_first_and_a_later_edit_withdraws_it() -> None:
    world = await world_signed_off_by(SignOff.BOTH)
    meeting_id = await run_meeting(world)
    first = await world.click(
        "Tom", *cards.press((await world.command("Tom", "minutes")).card, "Sign off the minutes")
    )
    assert "Waiting for the coordinator: sent to Priya Raman in private chat." in cards.text(first)
    assert len(await cards_to(world, "Priya", "minutes-sign:")) == 1

    # The coordinator rewrites a summary: the chair signed other words, so his sign-off goes.
    draft = (await world.command("Priya", "minutes")).card
    item_id = (await stored(world, meeting_id)).cases[0].item_id
    saved = await world.click(
        "Priya",
        *cards.press(draft, "Save the summary", nth=0, **{f"summary-{item_id}": "Camera agreed."}),
    )
    assert (
        "Summary of CM-2026-014 saved. The sign-off given (Tom Okafor (chair)) is withdrawn: "
        "they sign the new text."
    ) in cards.text(saved)
    assert (await stored(world, meeting_id)).signatures == []
    details = await audited(world, (await stored(world, meeting_id)).id)
    assert "sign-off withdrawn, the summary changed after it: Tom Okafor (chair)" in details

    signed = await world.click("Priya", *cards.press(saved.card, "Sign off the minutes"))
    assert "Waiting for the chair: sent to Tom Okafor" in cards.text(signed)
    # the chair is asked again, with the new text
    asked = await cards_to(world, "Tom", "minutes-sign:")
    assert len(asked) == 1 and "Camera agreed." in card_text(asked[0])
    done = await world.click("Tom", *cards.press(asked[0], "Sign off the minutes"))
    assert "Approved." in cards.text(done)
    assert (await stored(world, meeting_id)).approved


async def test_with_both_one_person_holding_both_roles_signs_once() -> None:
    world = await world_signed_off_by(SignOff.BOTH)
    priya = await world.member("Priya")
    priya.grant(Role.CHAIR)
    await world.save(priya)
    meeting_id = await run_meeting(world)
    draft = (await world.command("Priya", "minutes")).card
    signed = await world.click("Priya", *cards.press(draft, "Sign off the minutes"))
    assert "Waiting for the chair: sent to Tom Okafor" in cards.text(signed)
    assert [s.role for s in (await stored(world, meeting_id)).signatures] == [Role.COORDINATOR]


# --- the chair signs ---------------------------------------------------------------------


async def test_with_the_chair_the_coordinator_sends_her_draft_and_the_chair_approves() -> None:
    world = await world_signed_off_by(SignOff.CHAIR)
    meeting_id = await run_meeting(world)
    draft = (await world.command("Priya", "minutes")).card
    assert "Sign off the minutes" not in card_text(draft)
    assert "Edit summary" in card_text(draft)
    sent = await world.click("Priya", *cards.press(draft, "Send to the chair to sign off"))
    assert "Sent to the chair (Tom Okafor) to sign off in private chat." in cards.text(sent)
    minutes_now = await stored(world, meeting_id)
    assert not minutes_now.approved and minutes_now.signatures == []
    assert "sent to the chair to sign off (Tom Okafor)" in await audited(world, minutes_now.id)

    (for_tom,) = await cards_to(world, "Tom", "minutes-sign:")
    approved = await world.click("Tom", *cards.press(for_tom, "Sign off the minutes"))
    assert "Approved. The Word document goes in private chat to " in cards.text(approved)
    final = await stored(world, meeting_id)
    assert [(s.name, s.role) for s in final.signatures] == [("Tom Okafor", Role.CHAIR)]
    # the coordinator, who attended, receives the document like every other attendee
    assert len(await cards_to(world, "Priya", "minutes-ready:")) == 1
    assert await cards_to(world, "Tom", "minutes-ready:") == []  # his card has the link


async def test_the_coordinator_alone_approves_as_before_and_the_chair_only_reads() -> None:
    world = await world_signed_off_by(SignOff.COORDINATOR)
    meeting_id = await run_meeting(world)
    chair_view = await world.command("Tom", "minutes")
    assert "Approve minutes" not in cards.text(chair_view)
    assert "Sign off the minutes" not in cards.text(chair_view)
    draft = (await world.command("Priya", "minutes")).card
    await world.click("Priya", *cards.press(draft, "Approve minutes"))
    final = await stored(world, meeting_id)
    assert [(s.name, s.role) for s in final.signatures] == [("Priya Raman", Role.COORDINATOR)]


# --- who receives them --------------------------------------------------------------------


async def test_every_attending_member_entitled_receives_them_and_the_card_names_them() -> None:
    world = await world_signed_off_by(SignOff.COORDINATOR)
    # The chair attends for the police without being its SPOC (the finding: he got nothing).
    tom = await world.member("Tom")
    tom.revoke(Role.SPOC)
    # Sam is the SPOC of an agency invited for CM-2026-014 only; Aisha is a referrer. Both
    # accepted the agreement and attend, but the minutes hold cases they may not read.
    fire = await world.agency("Riverside Fire and Rescue")
    sam = Member(
        panel_id=world.panel.id,
        aad_object_id="00000000-0000-4000-8000-00000000f1re",
        name="Sam Fenwick",
        agency_id=fire.id,
        roles=frozenset({Role.SPOC}),
    )
    await world.save(tom, sam)
    await world.accepts_agreement(sam)
    await world.accepts_agreement("Aisha")
    meeting_id = await run_meeting(world, ("Gemma", "Tom", "Sam Fenwick", "Aisha", "Priya"))
    async with world.storage.unit_of_work() as uow:
        present = {a.member_id for a in await uow.meetings.attendance(world.panel.id, meeting_id)}
    gemma, aisha = await world.member("Gemma"), await world.member("Aisha")
    assert {gemma.id, tom.id, sam.id, aisha.id} <= present

    # A new agreement before approval: Tom accepts it, Gemma not yet.
    async with world.storage.unit_of_work() as uow:
        panel = await uow.panels.get(world.panel.id)
        assert panel is not None
        panel.isa_version = "3"
        await uow.panels.save(panel)
        await uow.commit()
    world.panel = panel
    await world.accepts_agreement(tom)
    await world.accepts_agreement("Priya")

    draft = (await world.command("Priya", "minutes")).card
    reply = await world.click("Priya", *cards.press(draft, "Approve minutes"))
    assert (
        "Approved. The Word document goes in private chat to Tom Okafor (Riverside Police)."
    ) in cards.text(reply)
    ready = [d for d in await world.queued() if d.key.startswith("minutes-ready:")]
    assert [d.recipient_member_id for d in ready] == [tom.id]
    assert all(d.conversation_ref_id is None for d in ready)  # private chat only

    # The same rule at download: Gemma's own link gives nothing until she accepts.
    link = minutes.minutes_url(
        minutes.MinutesConfig(links=LINKS), world.panel.id, meeting_id, gemma.id, NOW
    )
    assert link is not None
    (token,) = parse_qs(urlsplit(link).query)["token"]
    fetch = world.storage.unit_of_work
    now = world.clock.now()
    assert await minutes.minutes_file(fetch, LINKS, world.panel.id, meeting_id, token, now) is None
    await world.accepts_agreement(gemma)
    body = await minutes.minutes_file(fetch, LINKS, world.panel.id, meeting_id, token, now)
    assert body is not None


async def test_nobody_else_entitled_says_so() -> None:
    world = await world_signed_off_by(SignOff.COORDINATOR)
    await run_meeting(world, ("Priya",))
    draft = (await world.command("Priya", "minutes")).card
    reply = await world.click("Priya", *cards.press(draft, "Approve minutes"))
    assert "Approved. No other attending member may receive them." in cards.text(reply)


# --- a meeting held early ----------------------------------------------------------------------


def test_minutes_name_the_day_a_meeting_was_held() -> None:
    zone = ZoneInfo("Europe/London")
    planned = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)
    meeting = Meeting(
        panel_id="p",
        starts_at=planned,
        ends_at=planned + timedelta(hours=2),
        referral_deadline=planned - timedelta(days=8),
    )
    assert held_label(meeting, zone) == "Tue 8 Dec 2026, 10:00"
    meeting.started_at = planned + timedelta(minutes=4)  # on the day: the planned time
    assert held_label(meeting, zone) == "Tue 8 Dec 2026, 10:00"
    meeting.started_at = datetime(2026, 11, 30, 14, 5, tzinfo=UTC)
    assert held_label(meeting, zone) == "Mon 30 Nov 2026, 14:05 (planned for Tue 8 Dec 2026)"
    meeting.started_at, meeting.urgent = planned, True
    assert held_label(meeting, zone) == "Urgent meeting, Tue 8 Dec 2026, 10:00"


async def test_a_meeting_held_early_is_dated_and_ordered_on_its_day_with_its_decision() -> None:
    world = await world_signed_off_by(SignOff.COORDINATOR)
    meeting_id = await run_meeting(world)
    drafted = await stored(world, meeting_id)
    assert drafted.meeting_label == HELD
    (case,) = [c for c in drafted.cases if c.reference == "CM-2026-014"]
    assert case.decision  # the Decision row is filled
    rows = [
        [c.text for c in row.cells]
        for t in Document(io.BytesIO(minutes_docx(drafted, world.panel.name))).tables
        for row in t.rows
    ]
    assert ["Decision", case.decision] in rows
    assert ["Decision", ""] not in rows

    async with world.storage.unit_of_work() as uow:
        panel = await uow.panels.get(world.panel.id)
        found = await uow.cases.by_reference(world.panel.id, "CM-2026-014")
        assert panel is not None and found is not None
        view = case_view(await read_case(uow, panel, found), world.clock.now())
    lines = [f"{h.when}: {h.text}" for h in view.history]
    heard = next(i for i, line in enumerate(lines) if line.startswith("Fri 20 Nov 2026: On the"))
    agreed = next(i for i, line in enumerate(lines) if "Action agreed for" in line)
    assert heard < agreed, lines
    assert not any("Tue 8 Dec 2026: On the panel's agenda" in line for line in lines)
    assert any(d.startswith("Fri 20 Nov 2026: ") for d in view.decisions)


def test_minutes_approved_before_sign_offs_were_kept_read_as_the_coordinators() -> None:
    approved_at = datetime(2026, 10, 14, 9, 0, tzinfo=UTC)
    old = Minutes(
        panel_id="p",
        meeting_id="m",
        meeting_starts_at=approved_at,
        drafted_at=approved_at,
        status=MinutesStatus.APPROVED,
        approved_at=approved_at,
        approved_by_member_id="priya",
    )
    document = {"meeting_label": "Tue 13 Oct 2026, 10:00", "approved_by": "Priya Raman"}
    old.fill_from(document)
    assert [(s.member_id, s.name, s.role, s.at) for s in old.signatures] == [
        ("priya", "Priya Raman", Role.COORDINATOR, approved_at)
    ]
    assert old.sign_off is SignOff.COORDINATOR
    # and what is stored now reads back the same
    again = Minutes(
        panel_id="p",
        meeting_id="m",
        meeting_starts_at=approved_at,
        drafted_at=approved_at,
        status=MinutesStatus.APPROVED,
        approved_at=approved_at,
        approved_by_member_id="priya",
    )
    again.fill_from(old.document())
    assert again.signatures == old.signatures
