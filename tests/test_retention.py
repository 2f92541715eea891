"""Retention: personal data is anonymised six years (configurable) after a case closes,
keeping anonymous statistics; the job is idempotent and audited without personal data.

On the in-memory storage with a fixed clock; the people are invented.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from bot.app import make_deps
from bot.domain.audit import AuditVerb
from bot.domain.common import FixedClock
from bot.domain.delivery import OutgoingDelivery
from bot.domain.referral import Child, Subject, SubjectRole
from bot.domain.retention import (
    ANONYMISED,
    ERASED,
    Person,
    RetentionPolicy,
    SubjectAccessExport,
    anonymise_referral,
    erase_person,
)
from bot.domain.stats import Quarter
from bot.features import records
from bot.features.records import dataprotection
from bot.features.records.views import quarter_figures
from bot.kernel.feature import Setup
from bot.kernel.jobs import JobRunner
from bot.settings import Settings
from storage import MemoryStorage
from tests.support.dataprotection import NOW, History, rosa, seed_history, years_ago

if TYPE_CHECKING:
    from bot.kernel.router import Deps

PERSONAL = (
    "Rosa",
    "Lindqvist",
    "Rosie",
    "Elin",
    "Kyle",
    "Dawson",
    "1986",
    "Canal Street",
    "RV2",
    "07700",
    "Swedish",
    "Leeds",
    "Tom Nobody",
    "Southmoor",
)


@pytest.fixture
def storage() -> MemoryStorage:
    return MemoryStorage()


@pytest.fixture
def deps(storage: MemoryStorage) -> Deps:
    return make_deps(uow=storage.unit_of_work, clock=FixedClock(NOW))


async def everything(storage: MemoryStorage, history: History) -> dict[str, object]:
    """Every record of the panel, to compare before and after."""
    panel = history.panel.id
    async with storage.unit_of_work() as uow:
        cases = await uow.reports.cases(panel)
        return {
            "referrals": await uow.referrals.all(panel),
            "cases": cases,
            "actions": [a for c in cases for a in await uow.actions.for_case(panel, c.id)],
            "requests": [
                r for c in cases for r in await uow.information_requests.for_case(panel, c.id)
            ],
            "items": await uow.meetings.items_for_cases(panel, [c.id for c in cases]),
            "minutes": await uow.meetings.minutes(panel, history.old_meeting.id),
            "audit": await uow.audit.recent(panel, limit=1000),
        }


async def every_quarter(storage: MemoryStorage, history: History) -> list[object]:
    """The figures of every quarter from the panel's start to now."""
    quarter, last = Quarter.of(history.panel.created_at.date()), Quarter.of(NOW.date())
    figures = []
    async with storage.unit_of_work() as uow:
        while quarter <= last:
            figures.append(await quarter_figures(uow, history.panel, quarter, NOW))
            quarter = quarter.next()
    return figures


# ---- the rules --------------------------------------------------------------------------------


def test_the_period_is_six_years_after_closure_by_default_and_configurable() -> None:
    policy = RetentionPolicy()
    assert policy.years == 6
    assert policy.cutoff(NOW) == datetime(2020, 11, 20, 10, 0, tzinfo=UTC)
    assert policy.is_due(years_ago(6, days=1), NOW)
    assert not policy.is_due(years_ago(5), NOW)
    assert not policy.is_due(None, NOW)  # still open
    assert RetentionPolicy(2).is_due(years_ago(2, days=1), NOW)
    with pytest.raises(ValueError, match="between 1 and 100"):
        RetentionPolicy(0)


def test_anonymising_a_referral_twice_leaves_it_as_once() -> None:
    from tests.support.dataprotection import _referral

    history_free = _referral  # a referral with every narrative filled in
    from bot.domain.panel import Member, Panel

    panel = Panel(name="P", team_id="t", tenant_id="x", created_at=NOW)
    member = Member(panel_id=panel.id, aad_object_id="a", name="M")
    referral = history_free(
        panel,
        "RF-1",
        member,
        NOW,
        subjects=[rosa()],
        children=[Child(name="Elin Lindqvist", date_of_birth=date(2015, 5, 20))],
        decline_note="See Rosa's file",
        more_info_question="Is Elin at school?",
    )
    anonymise_referral(referral)
    once = dataclasses.replace(referral)
    anonymise_referral(referral)
    assert referral == once
    (subject,) = referral.subjects
    assert (subject.name, subject.aliases, subject.date_of_birth, subject.address) == (
        ANONYMISED,
        (),
        None,
        None,
    )
    assert (subject.postcode, subject.phone, subject.vulnerabilities, subject.language) == (
        None,
        None,
        None,
        None,
    )
    assert subject.role is SubjectRole.VICTIM  # kept for the figures
    assert referral.children == [Child(name=ANONYMISED, date_of_birth=None)]
    assert referral.relationship == referral.tried_already == referral.discussed_with == ANONYMISED
    assert referral.consent.without_consent_reason == ANONYMISED
    assert referral.criteria.professional_judgement == ANONYMISED
    assert referral.decline_note == referral.more_info_question == ANONYMISED
    assert referral.draft_inputs == {}
    assert (referral.risk_total, referral.risk_answers) == (34, {"repeat": "significant"})


def test_erasing_one_person_leaves_the_others_in_the_referral() -> None:
    from bot.domain.panel import Member, Panel
    from tests.support.dataprotection import _referral

    panel = Panel(name="P", team_id="t", tenant_id="x", created_at=NOW)
    member = Member(panel_id=panel.id, aad_object_id="a", name="M")
    kyle = Subject(role=SubjectRole.PERPETRATOR, name="Kyle Dawson", date_of_birth=date(1990, 1, 1))
    referral = _referral(
        panel,
        "RF-1",
        member,
        NOW,
        subjects=[rosa(), kyle],
        children=[Child(name="Elin Lindqvist", date_of_birth=date(2015, 5, 20))],
    )
    by_alias = Person("rosie LIND", date(1986, 9, 2))
    erased = erase_person(referral, by_alias)
    assert (erased.subjects, erased.children) == (1, 0)
    assert referral.subjects[0].name == ERASED and referral.subjects[0].date_of_birth is None
    assert referral.subjects[1] == kyle
    assert referral.children == [Child(name="Elin Lindqvist", date_of_birth=date(2015, 5, 20))]
    assert referral.tried_already == ERASED
    assert erase_person(referral, Person("Nobody Else", date(1986, 9, 2))).any is False


# ---- the job ------------------------------------------------------------------------------------


async def test_a_case_closed_six_years_and_a_day_ago_is_anonymised_one_closed_five_years_ago_not(
    storage: MemoryStorage, deps: Deps
) -> None:
    history = await seed_history(storage)
    report = await dataprotection.run_retention(deps, NOW)
    assert (report.cases, report.referrals) == (1, 1)
    panel = history.panel.id
    async with storage.unit_of_work() as uow:
        old = await uow.referrals.get(panel, history.old_referral.id)
        case = await uow.cases.get(panel, history.old_case.id)
        (request,) = await uow.information_requests.for_case(panel, history.old_case.id)
        (action,) = await uow.actions.for_case(panel, history.old_case.id)
        (item,) = await uow.meetings.items_for_cases(panel, [history.old_case.id])
        minutes = await uow.meetings.minutes(panel, history.old_meeting.id)
        follow = await uow.meetings.minutes(panel, history.follow_meeting.id)
        recent = await uow.referrals.get(panel, history.recent_referral.id)
        repeat = await uow.referrals.get(panel, history.repeat_referral.id)
        declined = await uow.referrals.get(panel, history.declined_referral.id)
    assert old is not None and case is not None and minutes is not None
    assert [s.name for s in old.subjects] == [ANONYMISED, ANONYMISED]
    assert [s.role for s in old.subjects] == [SubjectRole.VICTIM, SubjectRole.PERPETRATOR]
    assert all(s.date_of_birth is None and s.address is None for s in old.subjects)
    assert old.children == [Child(name=ANONYMISED)]
    assert old.tried_already == old.relationship == old.discussed_with == ANONYMISED
    assert old.consent.without_consent_reason == old.criteria.professional_judgement == ANONYMISED
    assert old.draft_inputs == {}
    # the non-personal skeleton stays
    assert (old.reference, old.status, old.risk_total) == ("RF-2020-0001", "accepted", 34)
    assert (case.reference, case.risk_level, case.has_children) == ("CM-2020-001", "high", True)
    assert (case.closure_reason, case.closure_note) == ("other", ANONYMISED)
    assert (request.question, request.answer) == (ANONYMISED, ANONYMISED)
    assert action.description == ANONYMISED
    assert [u.note for u in action.updates] == [ANONYMISED, ANONYMISED]
    assert (action.status, action.due_on) == (history.old_action.status, history.old_action.due_on)
    assert item.summary == ANONYMISED
    (entry,) = minutes.cases
    assert (entry.summary, entry.decision) == (ANONYMISED, f"Closed: Other ({ANONYMISED})")
    assert [a.description for a in entry.actions] == [ANONYMISED]
    assert [(u.description, u.outcome) for u in minutes.unmet] == [(ANONYMISED, ANONYMISED)]
    assert minutes.approved
    # a later meeting listed the case's action as unmet: that goes too; the rest stays
    assert follow is not None
    assert [(u.description, u.outcome) for u in follow.unmet] == [(ANONYMISED, ANONYMISED)]
    assert follow.other_business == ["Quarterly figures"]
    # closed five years ago: untouched
    assert recent == history.recent_referral
    assert repeat is not None and repeat.subjects[0].name == "Rosa Lindqvist"
    # declined six years and two days ago, never a case: anonymised too
    assert declined is not None and declined.subjects[0].name == ANONYMISED
    assert declined.decline_note == ANONYMISED
    assert declined.decline_reason == "out_of_area"


async def test_the_statistics_are_the_same_before_and_after(
    storage: MemoryStorage, deps: Deps
) -> None:
    history = await seed_history(storage)
    before = await every_quarter(storage, history)
    repeats_before = [f.repeats for f in before]  # type: ignore[attr-defined]
    assert sum(repeats_before) == 1  # Rosa's second referral, a month after her case closed
    await dataprotection.run_retention(deps, NOW)
    after = await every_quarter(storage, history)
    assert after == before


async def test_running_it_again_changes_nothing(storage: MemoryStorage, deps: Deps) -> None:
    history = await seed_history(storage)
    await dataprotection.run_retention(deps, NOW)
    once = await everything(storage, history)
    again = await dataprotection.run_retention(deps, NOW)
    assert again == dataprotection.RetentionReport()
    assert await everything(storage, history) == once


async def test_what_it_did_is_audited_and_the_trail_names_nobody(
    storage: MemoryStorage, deps: Deps
) -> None:
    history = await seed_history(storage)
    await dataprotection.run_retention(deps, NOW)
    async with storage.unit_of_work() as uow:
        case_trail = await uow.audit.for_entity(history.panel.id, "case", history.old_case.id)
        referral_trail = await uow.audit.for_entity(
            history.panel.id, "referral", history.declined_referral.id
        )
        everything_recorded = await uow.audit.recent(history.panel.id, limit=1000)
    (event,) = case_trail
    assert (event.verb, event.detail, event.actor_aad_object_id, event.where) == (
        AuditVerb.UPDATE,
        "anonymised by retention",
        "bot:retention",
        "retention",
    )
    assert [e.detail for e in referral_trail] == ["anonymised by retention"]
    for recorded in everything_recorded:
        for word in PERSONAL:
            assert word not in (recorded.detail or ""), recorded


async def test_a_shorter_period_anonymises_sooner(storage: MemoryStorage, deps: Deps) -> None:
    history = await seed_history(storage)
    report = await dataprotection.run_retention(deps, NOW, policy=RetentionPolicy(years=2))
    assert report.cases == 3  # the old one, the repeat and the recent one; not the open case
    async with storage.unit_of_work() as uow:
        recent = await uow.referrals.get(history.panel.id, history.recent_referral.id)
        later = await uow.referrals.get(history.panel.id, history.later_referral.id)
    assert recent is not None and recent.subjects[0].name == ANONYMISED
    assert later is not None and later.subjects[0].name == "Jonas Berg"


async def test_many_cases_are_done_a_batch_at_a_time(storage: MemoryStorage, deps: Deps) -> None:
    await seed_history(storage)
    report = await dataprotection.run_retention(deps, NOW, policy=RetentionPolicy(years=2), batch=1)
    assert (report.cases, report.referrals) == (3, 1)


async def test_expired_subject_access_searches_are_removed(
    storage: MemoryStorage, deps: Deps
) -> None:
    history = await seed_history(storage)
    expired, live = (
        SubjectAccessExport(
            panel_id=history.panel.id,
            member_id=history.coordinator.id,
            name="Jonas Berg",
            date_of_birth=date(2008, 3, 4),
            created_at=NOW - timedelta(days=days),
            expires_at=NOW - timedelta(days=days) + timedelta(days=7),
        )
        for days in (8, 1)
    )
    async with storage.unit_of_work() as uow:
        await uow.data_protection.save_export(expired)
        await uow.data_protection.save_export(live)
        await uow.commit()
    report = await dataprotection.run_retention(deps, NOW)
    assert report.exports == 1
    async with storage.unit_of_work() as uow:
        assert await uow.data_protection.exports(history.panel.id) == [live]


async def test_the_retention_job_runs_again_at_its_next_time_after_a_failure(
    storage: MemoryStorage, caplog: pytest.LogCaptureFixture
) -> None:
    history = await seed_history(storage)
    calls = 0
    real = storage.unit_of_work

    def flaky() -> object:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("database away")
        return real()

    clock = FixedClock(NOW)
    deps = make_deps(uow=flaky, clock=clock)  # type: ignore[arg-type]
    (retention, _housekeeping) = records.jobs(Setup(Settings()), deps, lambda: None)
    runner = JobRunner(storage, [retention], clock)
    assert not (await runner.step(retention)).ran  # a new database: a minute after start-up
    clock.advance(NOW + records.RETENTION_FIRST_AFTER)
    with caplog.at_level(logging.ERROR):
        failed = await runner.step(retention)
    assert (failed.ran, failed.outcome) == (True, "failed: RuntimeError")
    (line,) = [r.getMessage() for r in caplog.records if r.name == "bot.kernel.jobs"]
    assert "job retention failed (RuntimeError: database away)" in line
    assert not (await runner.step(retention)).ran  # not before its next time
    clock.advance(NOW + records.RETENTION_FIRST_AFTER + timedelta(hours=24))
    assert (await runner.step(retention)).outcome == "ok"
    async with storage.unit_of_work() as uow:
        old = await uow.referrals.get(history.panel.id, history.old_referral.id)
    assert old is not None
    assert old.subjects[0].name == ANONYMISED


async def test_housekeeping_deletes_delivered_messages_and_ledger_keys_after_their_keeping(
    storage: MemoryStorage, deps: Deps
) -> None:
    history = await seed_history(storage)
    panel = history.panel.id

    def delivery(days_ago: int, key: str) -> OutgoingDelivery:
        at = NOW - timedelta(days=days_ago)
        row = OutgoingDelivery(
            panel_id=panel, key=key, payload={"text": "x"}, not_before=at, created_at=at
        )
        row.claim(at)
        row.sent(201, at)
        return row

    old, recent = delivery(31, "old"), delivery(29, "recent")
    async with storage.unit_of_work() as uow:
        for row in (old, recent):
            await uow.outbox.enqueue(row)
            await uow.outbox.save(row)
        await uow.activities.first_time("msteams:a:chat:old", NOW - timedelta(days=8))
        await uow.activities.first_time("msteams:a:chat:new", NOW - timedelta(days=6))
        await uow.commit()
    report = await dataprotection.run_housekeeping(deps, NOW)
    assert (report.deliveries, report.activities) == (1, 1)
    async with storage.unit_of_work() as uow:
        assert await uow.outbox.get(panel, old.id) is None
        assert await uow.outbox.get(panel, recent.id) is not None
        assert await uow.activities.first_time("msteams:a:chat:old", NOW)
        assert not await uow.activities.first_time("msteams:a:chat:new", NOW)
    longer = RetentionPolicy(outbox_days=60, ledger_days=30)
    assert (await dataprotection.run_housekeeping(deps, NOW, policy=longer)).deliveries == 0
