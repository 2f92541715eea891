"""Triage and information requests as use cases, on the in-memory storage and a fixed clock.

The demo panel is the starting point (coordinator Priya Raman; pending referral RF-2026-0049
from Aisha Bello of Victim Support), with a second coordinator added so that two people can
decide at once.

`tell_referrer` belongs to the intake feature and is not built yet: these tests replace
`bot.features.referrals.triage.tell_referrer` with a recording function (the `told` fixture).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pytest

from bot.app import build_router, make_deps
from bot.domain.action import InformationRequest, RequestStatus
from bot.domain.audit import AuditVerb
from bot.domain.errors import NotAllowed
from bot.domain.meeting import AgendaItemKind, Meeting, MeetingStatus
from bot.domain.panel import Agency, AgencyKind, Member, Panel, Role
from bot.domain.referral import (
    DECLINE_LABELS,
    Consent,
    Criteria,
    DeclineReason,
    Referral,
    ReferralStatus,
    Subject,
    SubjectRole,
    assessed_risk_level,
)
from bot.domain.risk import RiskLevel
from bot.features.referrals import gallery, info_requests, triage
from bot.features.referrals.notices import ReferralEvent
from bot.kernel.config import load_risk_matrix
from bot.kernel.dispatch import run_verb
from cards.kit import card_text
from tests.support import cards
from tests.support.world import AISHA, DANIEL, GEMMA, HOUSING, NOW, PRIYA, TOM, World, demo_world

if TYPE_CHECKING:
    from bot.domain.case import Case

MARCUS = "3d9b6c1e-1a2f-4c3b-8d4e-5f6a7b8c9d06"
MATRIX = load_risk_matrix()


@dataclass
class Told:
    """What the referrer would have been told, recorded instead of queued."""

    calls: list[dict[str, Any]] = field(default_factory=list)

    async def __call__(
        self,
        uow: Any,
        panel: Panel,
        referral: Referral,
        event: ReferralEvent,
        now: datetime,
        *,
        case_reference: str | None = None,
        meeting_starts_at: datetime | None = None,
    ) -> None:
        self.calls.append(
            {
                "reference": referral.reference,
                "event": event,
                "case_reference": case_reference,
                "meeting_starts_at": meeting_starts_at,
            }
        )


async def stored_referral(world: World, reference: str = "RF-2026-0049") -> Referral:
    async with world.storage.unit_of_work() as uow:
        found = await uow.referrals.by_reference(world.panel.id, reference)
    assert found is not None
    return found


async def meetings(world: World) -> list[Meeting]:
    async with world.storage.unit_of_work() as uow:
        return await uow.meetings.upcoming(world.panel.id, NOW)


async def cases(world: World) -> list[Case]:
    async with world.storage.unit_of_work() as uow:
        return await uow.cases.list_open(world.panel.id)


async def requests_for(world: World, case: Case) -> list[InformationRequest]:
    async with world.storage.unit_of_work() as uow:
        return await uow.information_requests.for_case(world.panel.id, case.id)


async def snapshot(world: World, told: Told) -> tuple[Any, ...]:
    """Everything a triage decision could change."""
    pending = await stored_referral(world)
    async with world.storage.unit_of_work() as uow:
        agendas = [
            len(await uow.meetings.agenda(world.panel.id, m.id)) for m in await meetings(world)
        ]
        requests = await uow.information_requests.open_for_agency(
            world.panel.id, (await world.agency(HOUSING)).id
        )
    return (
        pending.status,
        pending.version,
        len(await cases(world)),
        len(await world.queued()),
        agendas,
        len(requests),
        len(told.calls),
    )


@pytest.fixture
def told(monkeypatch: pytest.MonkeyPatch) -> Told:
    recorder = Told()
    monkeypatch.setattr(triage, "tell_referrer", recorder)
    return recorder


@pytest.fixture
async def world(told: Told) -> World:
    """The demo panel in memory, with a second coordinator (Marcus Webb) so that two people
    can decide at once, and the team's channel known; the referrer told through `told`."""
    world = await demo_world()
    community_safety = await world.agency("Community Safety (Riverside Council)")
    await world.save(
        Member(
            panel_id=world.panel.id,
            aad_object_id=MARCUS,
            name="Marcus Webb",
            agency_id=community_safety.id,
            roles=frozenset({Role.COORDINATOR}),
        )
    )
    await world.add_channel("19:general@thread.tacv2")
    return world


async def accept_data(world: World, *agencies: str, **extra: Any) -> dict[str, Any]:
    referral = await stored_referral(world)
    december = (await meetings(world))[0]
    ids = [(await world.agency(name)).id for name in agencies]
    return {
        "referral_id": referral.id,
        "version": referral.version,
        "meeting_id": december.id,
        "agency_ids": ",".join(ids),
        "info_question": "What do you know of Mr Achebe's neighbours?",
        **extra,
    }


# ---- the triage card and the channel notice -------------------------------------------


async def submit(world: World, referral: Referral, *, times: int = 1) -> None:
    """What intake does: save the submitted referral, then announce it, in one unit."""
    async with world.storage.unit_of_work() as uow:
        await uow.referrals.save(referral)
        for _ in range(times):
            await triage.referral_submitted(uow, world.panel, referral, NOW)
        await uow.commit()


async def test_a_submitted_referral_reaches_every_coordinator_and_the_channel_once(
    world: World,
) -> None:
    referral = await stored_referral(world)
    await submit(world, referral, times=2)  # announced twice: queued once
    queued = await world.queued()
    priya, marcus = await world.member(PRIYA), await world.member(MARCUS)
    keys = sorted(d.key for d in queued)
    assert keys == sorted(
        [
            f"triage:{referral.id}:{referral.version}:{priya.id}",
            f"triage:{referral.id}:{referral.version}:{marcus.id}",
            f"triage-channel:{referral.id}:{referral.version}",
        ]
    )
    card = next(d for d in queued if d.recipient_member_id == priya.id).payload["card"]
    text = card_text(card)
    assert "Triage referral RF-2026-0049" in text
    assert "Samuel Achebe" in text
    assert "Aisha Bello, Victim Support" in text
    # Under the matrix's threshold and eligible by escalation: medium.
    assert assessed_risk_level(referral, MATRIX) is RiskLevel.MEDIUM
    assert "Medium" in text
    assert MATRIX.version in text


async def test_a_resubmitted_referral_is_announced_again_with_the_earlier_question(
    world: World,
) -> None:
    referral = await stored_referral(world)
    await triage.ask(
        await world.request(
            PRIYA, {"referral_id": referral.id, "version": referral.version, "question": "Who?"}
        ),
        world.deps,
    )
    referral = await stored_referral(world)
    referral.submit(NOW)
    await submit(world, referral)
    queued = [d for d in await world.queued() if f":{referral.version}" in d.key]
    assert len(queued) == 3
    texts = {d.key.split(":")[0]: cards.text(d) for d in queued}
    assert "Resubmitted after the question: “Who?”" in texts["triage"]
    assert "Resubmitted with more information" in texts["triage-channel"]


async def test_the_channel_notice_carries_no_personal_data(world: World) -> None:
    referral = await stored_referral(world)
    referral.subjects[0].address = "14 Mill Lane, Riverside"
    referral.tried_already = "Mediation with the neighbour upstairs"
    await submit(world, referral)
    notice = next(d for d in await world.queued() if d.conversation_ref_id is not None)
    text = cards.text(notice)
    assert "New referral RF-2026-0049" in text
    assert "Victim Support" in text
    assert assessed_risk_level(referral, MATRIX) is RiskLevel.MEDIUM
    assert "Medium" in text
    assert "Awaiting triage" in text
    for personal in (
        "Samuel",
        "Achebe",
        "1972",
        "30 Nov",
        "RV3",
        "Mill Lane",
        "Mediation",
        "Aisha",
        "Bello",
        "victim",
    ):
        assert personal not in text, personal


async def test_a_high_matrix_total_makes_the_referral_high_risk(world: World) -> None:
    referral = await stored_referral(world)
    referral.risk_total = MATRIX.threshold + 1
    assert assessed_risk_level(referral, MATRIX) is RiskLevel.HIGH
    referral.risk_total = MATRIX.threshold
    assert assessed_risk_level(referral, MATRIX) is RiskLevel.MEDIUM


async def test_the_triage_card_shows_the_coordinator_matches_in_the_panels_records(
    world: World,
) -> None:
    aisha = await world.member(AISHA)
    again = Referral(
        panel_id=world.panel.id,
        reference="RF-2026-0052",
        referrer_member_id=aisha.id,
        referring_agency_id=aisha.agency_id,
        status=ReferralStatus.SUBMITTED,
        subjects=[
            Subject(
                role=SubjectRole.VICTIM, name="SAMUEL ACHEBE", date_of_birth=date(1972, 11, 30)
            ),
            Subject(role=SubjectRole.VICTIM, name="Rosa Lindqvist", postcode="rv2 7ld"),
        ],
        criteria=Criteria(potential_escalation=True),
        consent=Consent(aware=True, consented=True),
        created_at=NOW,
        submitted_at=NOW,
    )
    await submit(world, again)
    priya = await world.member(PRIYA)
    card = next(
        d.payload["card"]
        for d in await world.queued()
        if d.recipient_member_id == priya.id and again.id in d.key
    )
    text = card_text(card)
    assert "Possible duplicate" in text
    assert "referral RF-2026-0049, pending since" in text
    assert "case CM-2026-014, open" in text  # Rosa's open case
    assert "same name, same postcode; exact" in text
    channel = next(d for d in await world.queued() if again.id in d.key and d.conversation_ref_id)
    assert "duplicate" not in cards.text(channel).lower()


# ---- accept ---------------------------------------------------------------------------


async def test_accept_opens_a_case_on_the_meeting_and_asks_each_chosen_agency(
    world: World,
    told: Told,
) -> None:
    data = await accept_data(world, "Riverside Homes (Housing)", "Riverside Police")
    reply = await triage.accept(await world.request(PRIYA, data), world.deps)

    referral = await stored_referral(world)
    assert referral.status is ReferralStatus.ACCEPTED
    case = next(c for c in await cases(world) if c.referral_id == referral.id)
    assert case.reference == "CM-2026-015"  # the demo's last case this year is CM-2026-014
    assert case.risk_level is RiskLevel.MEDIUM
    assert case.risk_score == referral.risk_total
    assert case.opened_at == NOW
    assert referral.case_id == case.id
    december = (await meetings(world))[0]
    async with world.storage.unit_of_work() as uow:
        agenda = await uow.meetings.agenda(world.panel.id, december.id)
        trail = await uow.audit.for_entity(world.panel.id, "case", case.id)
    assert [(i.kind, i.title, i.case_id, i.minutes_estimate) for i in agenda] == [
        (AgendaItemKind.NEW_CASE, "CM-2026-015", case.id, 15)
    ]
    assert [e.verb for e in trail] == [AuditVerb.CREATE]
    requests = await requests_for(world, case)
    housing = await world.agency("Riverside Homes (Housing)")
    police = await world.agency("Riverside Police")
    assert {r.agency_id for r in requests} == {housing.id, police.id}
    assert all(r.due_at == december.referral_deadline for r in requests)
    assert all(r.question == "What do you know of Mr Achebe's neighbours?" for r in requests)
    gemma, tom = await world.member(GEMMA), await world.member(TOM)
    sent_to = {d.recipient_member_id: d for d in await world.queued()}
    assert set(sent_to) == {gemma.id, tom.id}
    assert "Information request for CM-2026-015" in cards.text(sent_to[gemma.id])
    assert "Samuel Achebe" in cards.text(sent_to[gemma.id])
    assert told.calls == [
        {
            "reference": "RF-2026-0049",
            "event": ReferralEvent.ACCEPTED,
            "case_reference": "CM-2026-015",
            "meeting_starts_at": december.starts_at,
        }
    ]
    text = cards.shown(reply)
    assert "Accepted as CM-2026-015 for Tue 8 Dec" in text
    assert "Riverside Homes (Housing) (Gemma Hartley)" in text
    assert "Riverside Police (Tom Okafor)" in text


async def test_accept_goes_last_on_an_agenda_that_has_items(world: World) -> None:
    first = await triage.accept(await world.request(PRIYA, await accept_data(world)), world.deps)
    assert "Accepted as" in cards.shown(first)
    aisha = await world.member(AISHA)
    second = Referral(
        panel_id=world.panel.id,
        reference="RF-2026-0050",
        referrer_member_id=aisha.id,
        referring_agency_id=aisha.agency_id,
        status=ReferralStatus.SUBMITTED,
        subjects=[Subject(role=SubjectRole.VICTIM, name="Ann Example")],
        criteria=Criteria(potential_escalation=True),
        consent=Consent(aware=True, consented=True),
        created_at=NOW,
        submitted_at=NOW,
    )
    await submit(world, second)
    data = {**(await accept_data(world)), "referral_id": second.id, "version": second.version}
    await triage.accept(await world.request(PRIYA, data), world.deps)
    december = (await meetings(world))[0]
    async with world.storage.unit_of_work() as uow:
        agenda = await uow.meetings.agenda(world.panel.id, december.id)
    assert [(i.position, i.title) for i in agenda] == [(1, "CM-2026-015"), (2, "CM-2026-016")]


async def test_an_invited_agency_asked_for_information_is_invited_to_the_case(
    world: World,
) -> None:
    data = await accept_data(world, "Riverside Fire and Rescue")
    await triage.accept(await world.request(PRIYA, data), world.deps)
    fire = await world.agency("Riverside Fire and Rescue")
    case = next(c for c in await cases(world) if c.reference == "CM-2026-015")
    assert case.invited_agency_ids == frozenset({fire.id})


async def test_the_deputy_receives_the_request_while_the_spoc_is_away(world: World) -> None:
    async with world.storage.unit_of_work() as uow:
        gemma = await uow.members.by_aad(world.panel.id, GEMMA)
        assert gemma is not None
        gemma.away_until = date(2026, 11, 27)
        await uow.members.save(gemma)
        await uow.commit()
    data = await accept_data(world, "Riverside Homes (Housing)")
    reply = await triage.accept(await world.request(PRIYA, data), world.deps)
    daniel = await world.member(DANIEL)
    assert [d.recipient_member_id for d in await world.queued()] == [daniel.id]
    assert "Riverside Homes (Housing) (Daniel Reyes)" in cards.shown(reply)


async def test_an_agency_with_nobody_to_receive_the_request_is_named_on_the_outcome(
    world: World,
) -> None:
    data = await accept_data(world, "Adult Social Care")
    reply = await triage.accept(await world.request(PRIYA, data), world.deps)
    assert "Adult Social Care (no SPOC or deputy: ask them yourself)" in cards.shown(reply)
    case = next(c for c in await cases(world) if c.reference == "CM-2026-015")
    assert len(await requests_for(world, case)) == 1
    assert await world.queued() == []


async def test_answers_are_due_two_days_before_a_meeting_whose_deadline_passed_on_a_working_day(
    world: World,
) -> None:
    """Tue 8 Dec's meeting: two days before is Sunday 6 Dec, so answers are due on Friday
    4 Dec at the same time (nobody answers on a Sunday)."""
    december = (await meetings(world))[0]
    assert december.starts_at.astimezone(ZoneInfo("Europe/London")).date() == date(2026, 12, 8)
    world.clock.advance(december.referral_deadline + timedelta(hours=1))
    data = await accept_data(world, "Riverside Police")
    await triage.accept(await world.request(PRIYA, data), world.deps)
    case = next(c for c in await cases(world) if c.reference == "CM-2026-015")
    (request,) = await requests_for(world, case)
    assert request.due_at == december.starts_at - timedelta(days=4)
    assert request.due_at.astimezone(ZoneInfo("Europe/London")).weekday() == 4  # a Friday


# ---- ask and decline ------------------------------------------------------------------


async def test_asking_for_more_information_sends_the_referral_back_to_its_referrer(
    world: World,
    told: Told,
) -> None:
    referral = await stored_referral(world)
    data = {
        "referral_id": referral.id,
        "version": referral.version,
        "question": "Has the housing officer visited since the last incident?",
    }
    reply = await triage.ask(await world.request(PRIYA, data), world.deps)
    stored = await stored_referral(world)
    assert stored.status is ReferralStatus.MORE_INFO_REQUESTED
    assert stored.more_info_question == data["question"]
    assert [c["event"] for c in told.calls] == [ReferralEvent.MORE_INFO_NEEDED]
    assert "Sent back to Aisha Bello" in cards.shown(reply)
    assert await cases(world) != [] and all(
        c.referral_id != referral.id for c in await cases(world)
    )


@pytest.mark.parametrize(
    ("reason", "extra", "note"),
    [
        (DeclineReason.CRITERIA_NOT_MET, {}, None),
        (
            DeclineReason.MORE_APPROPRIATE_MEETING,
            {"other_meeting": "mappa", "decline_note": "Known to probation."},
            "MAPPA. Known to probation.",
        ),
        (DeclineReason.OUT_OF_AREA, {"decline_note": "Lives in Eastborough."}, None),
        (DeclineReason.DUPLICATE, {"decline_note": "Same as CM-2026-014."}, None),
    ],
    ids=lambda v: v.value if isinstance(v, DeclineReason) else None,
)
async def test_declining_records_the_reason_and_tells_the_referrer(
    world: World, reason: DeclineReason, extra: dict[str, str], note: str | None, told: Told
) -> None:
    referral = await stored_referral(world)
    data = {
        "referral_id": referral.id,
        "version": referral.version,
        "decline_reason": reason.value,
        **extra,
    }
    reply = await triage.decline(await world.request(PRIYA, data), world.deps)
    stored = await stored_referral(world)
    assert stored.status is ReferralStatus.DECLINED
    assert stored.decline_reason is reason
    assert stored.decline_note == (note or extra.get("decline_note"))
    assert [c["event"] for c in told.calls] == [ReferralEvent.DECLINED]
    assert "Declined: " in cards.shown(reply)
    assert DECLINE_LABELS[reason] in cards.shown(reply)


# ---- refusals and bad input: nothing changes ------------------------------------------


@pytest.mark.parametrize("aad", [AISHA, GEMMA, TOM], ids=["referrer", "spoc", "chair"])
@pytest.mark.parametrize("verb", ["accept", "ask", "decline"])
async def test_only_coordinators_may_triage_and_a_refusal_is_audited(
    world: World, aad: str, verb: str, told: Told
) -> None:
    before = await snapshot(world, told)
    data = await accept_data(world, "Riverside Police")
    data.update(question="Why?", decline_reason="out_of_area")
    # Through the dispatcher, as every click goes: the guard decides before the handler.
    with pytest.raises(NotAllowed, match="Only the panel's coordinators"):
        await run_verb(
            build_router(), await world.request(aad, data), f"triage.{verb}", data, world.deps
        )
    assert await snapshot(world, told) == before
    async with world.storage.unit_of_work() as uow:
        trail = await uow.audit.for_entity(world.panel.id, "referral", data["referral_id"])
    assert [e.verb for e in trail] == [AuditVerb.REFUSE]


async def other_panel(world: World) -> tuple[Meeting, Agency]:
    """A second panel, with a meeting and an agency of its own."""
    async with world.storage.unit_of_work() as uow:
        panel = Panel(name="Eastborough CMARAC", team_id="19:east", tenant_id="t", created_at=NOW)
        await uow.panels.save(panel)
        starts = NOW + timedelta(days=20)
        meeting = Meeting(
            panel_id=panel.id,
            starts_at=starts,
            ends_at=starts + timedelta(hours=2),
            referral_deadline=starts - timedelta(days=8),
        )
        agency = Agency(panel_id=panel.id, name="Eastborough Police", kind=AgencyKind.CORE)
        await uow.meetings.save(meeting)
        await uow.agencies.save(agency)
        await uow.commit()
    return meeting, agency


@pytest.mark.parametrize(
    ("case", "field_error"),
    [
        ("unknown meeting", "Choose one of the panel's upcoming meetings."),
        ("meeting of another panel", "Choose one of the panel's upcoming meetings."),
        ("meeting that ended", "That meeting has started, ended or been cancelled"),
        ("no meeting", "Choose one of the panel's upcoming meetings."),
        ("agency of another panel", "one is not an agency of this panel"),
        ("agency ids not text", "one is not an agency of this panel"),
    ],
)
async def test_accept_with_bad_input_shows_the_card_again_and_changes_nothing(
    world: World, case: str, field_error: str, told: Told
) -> None:
    data = await accept_data(world, "Riverside Police")
    their_meeting, their_agency = await other_panel(world)
    async with world.storage.unit_of_work() as uow:
        ended = next(
            m
            for m in await uow.meetings.upcoming(world.panel.id, NOW - timedelta(days=60))
            if m.status is MeetingStatus.ENDED
        )
    changes: dict[str, dict[str, Any]] = {
        "unknown meeting": {"meeting_id": "no-such-meeting"},
        "meeting of another panel": {"meeting_id": their_meeting.id},
        "meeting that ended": {"meeting_id": ended.id},
        "no meeting": {"meeting_id": ""},
        "agency of another panel": {"agency_ids": f"{data['agency_ids']},{their_agency.id}"},
        "agency ids not text": {"agency_ids": {"police": True}},
    }
    data.update(changes[case])
    before = await snapshot(world, told)
    reply = await triage.accept(await world.request(PRIYA, data), world.deps)
    assert await snapshot(world, told) == before
    text = cards.shown(reply)
    assert "Triage referral RF-2026-0049" in text
    assert field_error in text
    assert "Accept and send requests" in text  # the form is shown open, ready to correct


async def test_asking_without_a_question_shows_the_card_again_and_changes_nothing(
    world: World,
    told: Told,
) -> None:
    referral = await stored_referral(world)
    before = await snapshot(world, told)
    for question in (None, "", "   "):
        data = {"referral_id": referral.id, "version": referral.version, "question": question}
        reply = await triage.ask(await world.request(PRIYA, data), world.deps)
        assert "Write the question for the referrer." in cards.shown(reply)
    assert await snapshot(world, told) == before


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({}, "Choose a reason from the list."),
        ({"decline_reason": "because"}, "Choose a reason from the list."),
        ({"decline_reason": "more_appropriate_meeting"}, "Name the more appropriate meeting."),
        (
            {"decline_reason": "more_appropriate_meeting", "other_meeting": "book club"},
            "Choose a meeting from the list.",
        ),
        ({"decline_reason": "out_of_area", "decline_note": "x" * 2001}, "under 2000 characters"),
    ],
    ids=["no-reason", "unknown-reason", "no-meeting", "unknown-meeting", "note-too-long"],
)
async def test_decline_with_bad_input_shows_the_card_again_and_changes_nothing(
    world: World, fields: dict[str, str], error: str, told: Told
) -> None:
    referral = await stored_referral(world)
    before = await snapshot(world, told)
    data = {"referral_id": referral.id, "version": referral.version, **fields}
    reply = await triage.decline(await world.request(PRIYA, data), world.deps)
    assert error in cards.shown(reply)
    assert "Decline the referral" in cards.shown(reply)
    assert await snapshot(world, told) == before


# ---- two coordinators -----------------------------------------------------------------


async def test_a_click_on_a_referral_already_decided_says_who_decided_it(
    world: World, told: Told
) -> None:
    data = await accept_data(world, "Riverside Police")
    await triage.accept(await world.request(PRIYA, data), world.deps)
    before = await snapshot(world, told)
    for verb in (triage.accept, triage.ask, triage.decline):
        reply = await verb(
            await world.request(MARCUS, {**data, "question": "?", "decline_reason": "duplicate"}),
            world.deps,
        )
        assert "Already accepted by Priya Raman as CM-2026-015" in cards.shown(reply)
    assert await snapshot(world, told) == before
    assert len([c for c in await cases(world) if c.referral_id == data["referral_id"]]) == 1


async def test_a_card_for_an_older_version_is_shown_again_instead_of_acting(
    world: World,
    told: Told,
) -> None:
    data = await accept_data(world, "Riverside Police")
    data["version"] = data["version"] + 5
    before = await snapshot(world, told)
    reply = await triage.accept(await world.request(PRIYA, data), world.deps)
    assert await snapshot(world, told) == before
    text = cards.shown(reply)
    assert "Triage referral RF-2026-0049" in text
    assert "Someone changed this referral while you were deciding" in text


class PausingUnitOfWork:
    """A unit of work that stops after loading a referral until told to go on: the first
    coordinator's click is read before the second one commits."""

    def __init__(self, inner: Any, loaded: asyncio.Event, go: asyncio.Event) -> None:
        self._inner = inner
        self._loaded = loaded
        self._go = go
        self._get = inner.referrals.get
        inner.referrals.get = self._paused_get

    async def _paused_get(self, panel_id: str, referral_id: str) -> Referral | None:
        referral = await self._get(panel_id, referral_id)
        self._loaded.set()
        await self._go.wait()
        return referral

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def __aenter__(self) -> Any:
        await self._inner.__aenter__()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self._inner.__aexit__(*exc)


async def test_two_coordinators_accepting_at_once_open_exactly_one_case(
    world: World, told: Told
) -> None:
    data = await accept_data(world, "Riverside Police")
    loaded, go = asyncio.Event(), asyncio.Event()
    first_unit = [True]

    def slow_factory() -> Any:
        uow = world.storage.unit_of_work()
        if first_unit.pop() if first_unit else False:
            return PausingUnitOfWork(uow, loaded, go)
        return uow

    marcus_deps = make_deps(uow=slow_factory, clock=world.clock)
    marcus = asyncio.create_task(triage.accept(await world.request(MARCUS, data), marcus_deps))
    await loaded.wait()  # Marcus has read the referral, still submitted
    priya = await triage.accept(await world.request(PRIYA, data), world.deps)
    go.set()
    results = await asyncio.gather(marcus, return_exceptions=True)

    assert "Accepted as CM-2026-015" in cards.shown(priya)
    mine = [c for c in await cases(world) if c.referral_id == data["referral_id"]]
    assert len(mine) == 1
    assert len(await requests_for(world, mine[0])) == 1
    assert len(told.calls) == 1
    (loser,) = results
    if isinstance(loser, BaseException):
        raise loser
    assert "Already accepted by Priya Raman as CM-2026-015" in cards.shown(loser)


# ---- information requests -------------------------------------------------------------


async def accepted_case(world: World, *agencies: str) -> tuple[Case, list[InformationRequest]]:
    data = await accept_data(world, *agencies)
    await triage.accept(await world.request(PRIYA, data), world.deps)
    case = next(c for c in await cases(world) if c.referral_id == data["referral_id"])
    return case, await requests_for(world, case)


async def test_the_asked_agencys_spoc_answers_and_the_coordinators_hear_of_it(
    world: World,
) -> None:
    case, requests = await accepted_case(world, "Riverside Homes (Housing)", "Riverside Police")
    housing = await world.agency("Riverside Homes (Housing)")
    request = next(r for r in requests if r.agency_id == housing.id)
    data = {
        "request_id": request.id,
        "version": request.version,
        "answer": "Tenant since 2019; two noise complaints.",
    }
    reply = await info_requests.answer_request(await world.request(GEMMA, data), world.deps)

    assert "Thank you — returned to the panel" in cards.shown(reply)
    stored = next(r for r in await requests_for(world, case) if r.id == request.id)
    assert stored.status is RequestStatus.ANSWERED
    assert stored.answer == "Tenant since 2019; two noise complaints."
    assert stored.answered_by_member_id == (await world.member(GEMMA)).id
    priya, marcus = await world.member(PRIYA), await world.member(MARCUS)
    notices = [d for d in await world.queued() if d.key.startswith("inforeq-answered:")]
    assert {d.recipient_member_id for d in notices} == {priya.id, marcus.id}
    assert cards.text(notices[0]).startswith(
        "Riverside Homes (Housing) answered the request for CM-2026-015 (1 of 2 agencies answered)"
    )
    # a second click (or a second person) changes nothing and queues nothing more; Daniel,
    # who has not accepted the current agreement, is shown the agreement, not the request
    again = await info_requests.answer_request(
        await world.request(DANIEL, {**data, "answer": "Something else"}), world.deps
    )
    assert "needs your acceptance" in cards.shown(again)
    assert "Tenant since 2019" not in cards.shown(again)
    again = await info_requests.answer_request(
        await world.request(GEMMA, {**data, "answer": "Something else"}), world.deps
    )
    assert "Gemma Hartley" in cards.shown(again)
    assert len([d for d in await world.queued() if d.key.startswith("inforeq-answered:")]) == 2


async def test_the_deputy_may_answer_for_the_agency(world: World) -> None:
    _, (request,) = await accepted_case(world, "Riverside Homes (Housing)")
    data = {"request_id": request.id, "version": request.version, "answer": "Nothing known."}
    reply = await info_requests.answer_request(await world.request(DANIEL, data), world.deps)
    assert "Thank you — returned to the panel" in cards.shown(reply)


@pytest.mark.parametrize(
    ("aad", "agency"),
    [(TOM, "Riverside Homes (Housing)"), (AISHA, "Victim Support"), (PRIYA, "Riverside Police")],
    ids=["another-agencys-spoc", "same-agency-not-spoc", "coordinator"],
)
async def test_only_the_asked_agencys_spoc_or_deputy_may_answer(
    world: World, aad: str, agency: str
) -> None:
    case, (request,) = await accepted_case(world, agency)
    before = len(await world.queued())
    data = {"request_id": request.id, "answer": "Here you go."}
    # Through the dispatcher, as every click goes: the guard decides before the handler.
    with pytest.raises(NotAllowed, match=r"another agency|Only the panel.s SPOCs and deputies"):
        await run_verb(
            build_router(), await world.request(aad, data), "info.answer", data, world.deps
        )
    (stored,) = await requests_for(world, case)
    assert stored.status is RequestStatus.OPEN
    assert len(await world.queued()) == before


async def test_an_empty_answer_shows_the_request_again_with_the_error(world: World) -> None:
    case, (request,) = await accepted_case(world, "Riverside Homes (Housing)")
    reply = await info_requests.answer_request(
        await world.request(
            GEMMA, {"request_id": request.id, "version": request.version, "answer": "  "}
        ),
        world.deps,
    )
    text = cards.shown(reply)
    assert "Information request for CM-2026-015" in text
    assert "Write the agency's information." in text
    (stored,) = await requests_for(world, case)
    assert stored.status is RequestStatus.OPEN


# ---- the referrals command ------------------------------------------------------------


async def test_a_coordinator_sees_every_pending_referral_with_its_age(world: World) -> None:
    reply = await triage.referrals(await world.request(PRIYA), world.deps)
    text = cards.shown(reply)
    assert "Referrals waiting for a decision" in text
    assert "**RF-2026-0049** · Victim Support · medium risk · 2 days · awaiting triage" in text
    assert "Open RF-2026-0049" in text
    assert "RF-2026-0047" not in text  # accepted long ago


async def test_a_coordinator_opens_a_referrals_triage_card_by_its_reference(world: World) -> None:
    reply = await triage.referrals(await world.request(PRIYA, args="rf-2026-0049"), world.deps)
    assert "Triage referral RF-2026-0049" in cards.shown(reply)
    accepted = await triage.referrals(await world.request(PRIYA, args="RF-2026-0047"), world.deps)
    assert "Accepted as CM-2026-014" in cards.shown(accepted)
    referral = await stored_referral(world)
    async with world.storage.unit_of_work() as uow:
        trail = await uow.audit.for_entity(world.panel.id, "referral", referral.id)
    assert [e.verb for e in trail] == [AuditVerb.VIEW]


async def test_a_referrer_sees_their_own_referrals_and_what_became_of_each(
    world: World,
) -> None:
    referral = await stored_referral(world)
    await triage.decline(
        await world.request(
            PRIYA,
            {
                "referral_id": referral.id,
                "version": referral.version,
                "decline_reason": "more_appropriate_meeting",
                "other_meeting": "domestic_abuse_marac",
            },
        ),
        world.deps,
    )
    text = cards.shown(await triage.referrals(await world.request(AISHA), world.deps))
    assert "Your referrals" in text
    assert "**RF-2026-0049**" in text
    assert "declined: A more appropriate meeting exists (Domestic-abuse MARAC)" in text
    assert "accepted as CM-2026-014" in text
    assert "accepted as CM-2026-013" in text
    assert "Open RF-" not in text


async def test_a_member_who_made_no_referral_is_told_so(world: World) -> None:
    text = cards.shown(await triage.referrals(await world.request(GEMMA), world.deps))
    assert "You have not made a referral to this panel yet." in text


def test_the_gallerys_channel_notices_carry_no_personal_data() -> None:
    cards = gallery.triage_cards()
    for name in ("triage-channel-notice", "triage-channel-notice-resubmitted"):
        text = card_text(cards[name])
        for personal in ("Samuel", "Achebe", "Jordan", "Pike", "Aisha", "1972", "RV3"):
            assert personal not in text, (name, personal)
