"""Data protection: the retention job, subject access (`sar`) and erasure (`erase`).

- **Retention** (`run_retention`, a periodic job: every RETENTION_INTERVAL_HOURS, once
  across instances, bot.kernel.jobs): personal data is anonymised a configured number of
  years after a case closes (or a referral that never became a case was declined,
  withdrawn or left as a draft); see
  bot.domain.retention for what counts as personal data and what stays. Idempotent: each
  case or referral is marked once done; audited ("anonymised by retention").
- **Housekeeping** (`run_housekeeping`, a job of its own every HOUSEKEEPING_INTERVAL_HOURS):
  delivered (or given up) outbox rows after OUTBOX_KEEP_DAYS and the activity ledger's keys
  after ACTIVITY_LEDGER_KEEP_DAYS are deleted.
- **Subject access**: the coordinator names a person (name and date of birth) and receives
  everything held about them as a Word document and as JSON, through two signed links that
  are theirs alone and expire (Teams cards cannot carry files). The search is audited, and
  each download.
- **Erasure**: the coordinator sees what would be removed, gives a reason and confirms;
  the person's entries and the narratives of their referrals and cases become "[erased]".
  One confirmation erases once, however often the button is pressed; audited with the
  reason, which must not name the person (the audit trail is never erased).

The quarterly figures must not change when people are anonymised or erased: the repeat
answers that hang on them are kept first (bot.domain.stats.linked_referrals).

Audit events carry no personal data: references, counts and the coordinator's reason only.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from bot.domain.audit import AuditVerb
from bot.domain.common import new_id
from bot.domain.errors import DomainError, InvalidInput, NotFound
from bot.domain.gate import SubjectNames, personal_data_in
from bot.domain.policy import Act
from bot.domain.referral import Referral, normalise_name
from bot.domain.retention import (
    ANONYMISED,
    ERASED,
    Identifiers,
    Person,
    PersonQuery,
    RetentionPolicy,
    SubjectAccessExport,
    anonymise_referral,
    candidates,
    entries,
    erase_person,
    identifiers,
    scrub_action,
    scrub_agenda_item,
    scrub_case,
    scrub_minutes,
    scrub_request,
)
from bot.domain.stats import linked_referrals, repeat_ids
from bot.features.records.commands import (
    ERASE_USAGE,
    SAR_USAGE,
    AskWho,
    ChosenPerson,
    ConfirmErasure,
    SearchPerson,
    person_asked,
)
from bot.features.records.erasure_ledger import ErasureLedger, record_erasure, requested_by
from bot.features.records.sar_export import (
    DOCX_CONTENT_TYPE,
    JSON_CONTENT_TYPE,
    Holding,
    document,
    to_docx,
    to_json,
)
from bot.features.records.views import (
    born,
    count_facts,
    found_lines,
    found_summary,
    holdings,
    lookups,
    minutes_about,
    shown_postcode,
)
from bot.kernel import access, audit
from bot.kernel.guard import PRIVATE, Access
from bot.kernel.links import Links, Purpose
from bot.kernel.localtime import local_day, when_text
from bot.kernel.router import CommandSpec, Deps, Reply, Request, Router, VerbSpec
from cards.dataprotection import (
    BIRTH_DATE_ID,
    MAX_BIRTH_DATE,
    MAX_NAME,
    MAX_POSTCODE,
    NAME_ID,
    POSTCODE_ID,
    REASON_ID,
    CandidatesView,
    ErasedView,
    ErasePreviewView,
    PersonChoice,
    PersonFormView,
    SarResultView,
    described,
    render_candidates,
    render_erase_form,
    render_erase_preview,
    render_erased,
    render_sar_form,
    render_sar_result,
)
from cards.verbs import Verb

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from bot.domain.case import Case
    from bot.domain.panel import Member, Panel
    from bot.kernel.ports import UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)

REASON_NAMES_PERSON = (
    "Don't name or describe the person in the reason: it is kept in the audit trail, which is "
    "never erased. Say why instead, e.g. “Erasure request under UK GDPR Art. 17, letter of "
    "3 Nov”."
)
REASON_NEEDED = "Give the reason for erasing: it is recorded in the audit trail."
RETENTION_ACTOR = "bot:retention"
RETENTION_DETAIL = "anonymised by retention"
# Where the audit trail says a download was made (a signed link, outside any chat).
DOWNLOAD = "download"
BATCH = 100
FORMATS: Mapping[str, tuple[str, str]] = {
    "docx": (DOCX_CONTENT_TYPE, "subject-access-export.docx"),
    "json": (JSON_CONTENT_TYPE, "subject-access-export.json"),
}


@dataclass(frozen=True)
class DataProtectionConfig:
    """The subject access downloads' signed links (none when unconfigured), the retention
    period (and the outbox's and the ledger's keeping) and how often the jobs run."""

    links: Links = field(default_factory=Links)
    retention: RetentionPolicy = field(default_factory=RetentionPolicy)
    retention_every: timedelta = timedelta(hours=24)
    # The erasure ledger file (ERASURE_LEDGER): every erasure, ids only, outside the
    # database (None: the database's table alone, as in tests without settings).
    ledger: ErasureLedger | None = None
    housekeeping_every: timedelta = timedelta(hours=6)


# ---- signed download links ----------------------------------------------------------------


def sar_route(fmt: str) -> str:
    """Where one format of a subject access export is downloaded: the route the feature
    serves (its {placeholders} the path's parts), and the links' path."""
    return f"/panels/{{panel_id}}/sar/{{export_id}}.{fmt}"


def sar_path(panel_id: str, export_id: str, fmt: str) -> str:
    """The path of one export's download in one format."""
    return sar_route(fmt).format(
        panel_id=quote(panel_id, safe=""), export_id=quote(export_id, safe="")
    )


def sar_url(config: DataProtectionConfig, export: SubjectAccessExport, fmt: str) -> str | None:
    """The coordinator's signed link to one format of the export; None without downloads."""
    return config.links.url(
        Purpose.SAR,
        sar_path(export.panel_id, export.id, fmt),
        (export.panel_id, export.id, fmt),
        export.member_id,
        export.created_at,
    )


# ---- what is held about a person -----------------------------------------------------------


# ---- scrubbing records (retention and erasure) ---------------------------------------------


async def keep_repeats(
    uow: UnitOfWork, panel: Panel, targets: Sequence[Referral], now: datetime
) -> None:
    """Keep the repeat answer of every referral that hangs on `targets`' people, before
    they are anonymised or erased, so the quarterly figures do not change."""
    if not targets:
        return
    referrals = await uow.referrals.all(panel.id)
    cases = {case.id: case for case in await uow.reports.cases(panel.id)}
    live = repeat_ids(referrals, cases)
    for referral_id in sorted(linked_referrals(targets, referrals)):
        await uow.data_protection.freeze_repeat(panel.id, referral_id, referral_id in live, now)


async def scrub_case_records(
    uow: UnitOfWork, panel: Panel, case: Case, marker: str, now: datetime
) -> None:
    """A case's free text and everything written about it: the agencies' answers, the
    actions and their updates, the chair's notes and the minutes."""
    scrub_case(case, marker)
    await uow.cases.save(case)
    for info in await uow.information_requests.for_case(panel.id, case.id):
        scrub_request(info, marker)
        await uow.information_requests.save(info)
    actions = await uow.actions.for_case(panel.id, case.id)
    for action in actions:
        scrub_action(action, marker)
        await uow.data_protection.rewrite_action(action)
    for item in await uow.meetings.items_for_cases(panel.id, [case.id]):
        if scrub_agenda_item(item, marker):
            await uow.meetings.save_agenda_item(item)
    action_ids = [a.id for a in actions]
    for _, minutes in await minutes_about(uow, panel, case, action_ids, now):
        if scrub_minutes(minutes, [case.id], action_ids, marker):
            await uow.meetings.save_minutes(minutes)


# ---- the retention job -----------------------------------------------------------------------


@dataclass(frozen=True)
class RetentionReport:
    """What one run anonymised, and how many expired subject access searches it removed."""

    cases: int = 0
    referrals: int = 0
    exports: int = 0
    # Finished outbox rows deleted, and activity-ledger keys forgotten.
    deliveries: int = 0
    activities: int = 0

    def __add__(self, other: RetentionReport) -> RetentionReport:
        return RetentionReport(
            self.cases + other.cases,
            self.referrals + other.referrals,
            self.exports + other.exports,
            self.deliveries + other.deliveries,
            self.activities + other.activities,
        )


# Rows deleted per transaction by the pruning, so no run holds the database for long.
PRUNE_BATCH = 1000


async def run_housekeeping(
    deps: Deps, now: datetime, *, policy: RetentionPolicy | None = None
) -> RetentionReport:
    """Delete finished outbox rows and activity-ledger keys past their keeping, a batch per
    transaction (should two runs meet, each deletes what is left)."""
    policy = policy or RetentionPolicy()
    report = RetentionReport()
    while True:
        async with deps.uow() as uow:
            deliveries = await uow.data_protection.prune_deliveries(
                policy.outbox_cutoff(now), PRUNE_BATCH
            )
            activities = await uow.data_protection.prune_activities(
                policy.ledger_cutoff(now), PRUNE_BATCH
            )
            await uow.commit()
        report += RetentionReport(deliveries=deliveries, activities=activities)
        if deliveries < PRUNE_BATCH and activities < PRUNE_BATCH:
            break
    if report != RetentionReport():
        log.info(
            "housekeeping: %d delivered messages and %d activity keys deleted",
            report.deliveries,
            report.activities,
        )
    return report


async def _purge_exports(deps: Deps, panel: Panel, now: datetime) -> int:
    async with deps.uow() as uow:
        expired = [e.id for e in await uow.data_protection.exports(panel.id) if e.expires_at <= now]
        gone = await uow.data_protection.delete_exports(panel.id, expired)
        await uow.commit()
    return gone


async def _retain_batch(
    deps: Deps, panel: Panel, cutoff: datetime, now: datetime, batch: int
) -> tuple[RetentionReport, bool]:
    """Anonymise up to `batch` cases and `batch` referrals in one unit of work; whether
    more may be due."""
    async with deps.uow() as uow:
        cases = await uow.data_protection.cases_due(panel.id, cutoff, batch)
        referrals = await uow.data_protection.referrals_due(panel.id, cutoff, batch)
        if not cases and not referrals:
            return RetentionReport(), False
        of_cases: dict[str, Referral] = {}
        for case in cases:
            referral = (
                await uow.referrals.get(panel.id, case.referral_id) if case.referral_id else None
            )
            if referral is not None:
                of_cases[case.id] = referral
        await keep_repeats(uow, panel, [*of_cases.values(), *referrals], now)
        actor = audit.Actor(panel.id, RETENTION_ACTOR, None, "retention")
        done = RetentionReport()
        for case in cases:
            # Marked first: a run elsewhere that got here first makes this one pass over it.
            if not await uow.data_protection.mark_anonymised(panel.id, "case", case.id, now):
                continue
            referral = of_cases.get(case.id)
            if referral is not None:
                anonymise_referral(referral, ANONYMISED)
                await uow.referrals.save(referral)
                await audit.record(
                    uow, actor, AuditVerb.UPDATE, "referral", referral.id, RETENTION_DETAIL, at=now
                )
            await scrub_case_records(uow, panel, case, ANONYMISED, now)
            await audit.record(
                uow, actor, AuditVerb.UPDATE, "case", case.id, RETENTION_DETAIL, at=now
            )
            done += RetentionReport(cases=1)
        for referral in referrals:
            if not await uow.data_protection.mark_anonymised(
                panel.id, "referral", referral.id, now
            ):
                continue
            anonymise_referral(referral, ANONYMISED)
            await uow.referrals.save(referral)
            await audit.record(
                uow, actor, AuditVerb.UPDATE, "referral", referral.id, RETENTION_DETAIL, at=now
            )
            done += RetentionReport(referrals=1)
        await uow.commit()
    return done, len(cases) >= batch or len(referrals) >= batch


async def run_retention(
    deps: Deps, now: datetime, *, policy: RetentionPolicy | None = None, batch: int = BATCH
) -> RetentionReport:
    """Anonymise, in every panel, what has been kept longer than the policy allows, and
    remove expired subject access searches. Running it again changes nothing."""
    policy = policy or RetentionPolicy()
    cutoff = policy.cutoff(now)
    async with deps.uow() as uow:
        panels = await uow.panels.list_all()
    report = RetentionReport()
    for panel in panels:
        report += RetentionReport(exports=await _purge_exports(deps, panel, now))
        more = True
        while more:
            done, more = await _retain_batch(deps, panel, cutoff, now, batch)
            report += done
    if report != RetentionReport():
        log.info(
            "retention: %d cases and %d referrals anonymised, %d expired searches removed",
            report.cases,
            report.referrals,
            report.exports,
        )
    return report


# ---- erasure ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ErasureReport:
    referrals: int
    cases: int
    subjects: int
    children: int
    searches: int
    # Cards not yet sent that named the person (withdrawn) and copies emptied; mentions of
    # them elsewhere in the panel's free text (records rewritten).
    messages: int = 0
    mentions: int = 0

    def facts(self) -> list[tuple[str, str]]:
        return [
            ("Referrals", str(self.referrals)),
            ("Cases", str(self.cases)),
            ("Entries as a subject", str(self.subjects)),
            ("Entries as a child", str(self.children)),
            ("Subject access searches removed", str(self.searches)),
            ("Messages withdrawn or emptied", str(self.messages)),
            ("Other records that named them", str(self.mentions)),
        ]


async def _sweep_needles(
    uow: UnitOfWork, panel: Panel, person: Person, found: Identifiers
) -> list[str]:
    """What the sweep of other records looks for: the person's addresses and phone numbers,
    and their names unless someone else in the panel is recorded under one (a namesake's
    records keep their name)."""
    needles = list(found.contact)
    shared: set[str] = set()
    names = sorted({normalise_name(name) for name in found.names})
    for referral in await uow.data_protection.referrals_naming(panel.id, names):
        subjects, children = entries(referral)
        for subject in subjects:
            if not person.is_subject(subject):
                shared.add(subject.match_name)
                shared.update(normalise_name(alias) for alias in subject.aliases)
        shared.update(normalise_name(c.name) for c in children if not person.is_child(c))
    needles += [name for name in found.names if normalise_name(name) not in shared]
    return needles


def _same_search(export: SubjectAccessExport, person: Person) -> bool:
    """A search that may have been for the person: the same name, and the same date of
    birth unless one of the two has none."""
    same_day = None in (export.date_of_birth, person.date_of_birth) or (
        export.date_of_birth == person.date_of_birth
    )
    return export.person.match_name == person.match_name and same_day


async def erase_from_records(
    uow: UnitOfWork,
    panel: Panel,
    person: Person,
    reason: str,
    who: audit.Actor | Request,
    now: datetime,
) -> ErasureReport:
    """Erase one person's personal data from every place of storage.inventory (in `uow`),
    audited with the reason; the caller commits.

    Their entries and the records about them are overwritten; the cards owed or sent that
    name them are withdrawn or emptied; their subject access searches go; and whatever
    else in the panel's free text carries their name, address or phone number has it
    replaced by "[erased]"."""
    referrals = await uow.data_protection.referrals_concerning(panel.id, person)
    found = identifiers(person, referrals)
    await keep_repeats(uow, panel, referrals, now)
    detail = f"one person's data erased: {reason}"
    subjects = children = cases = 0
    for referral in referrals:
        erased = erase_person(referral, person)
        subjects += erased.subjects
        children += erased.children
        await uow.referrals.save(referral)
        await audit.record(uow, who, AuditVerb.DELETE, "referral", referral.id, detail, at=now)
        case = await uow.cases.get(panel.id, referral.case_id) if referral.case_id else None
        if case is not None:
            await scrub_case_records(uow, panel, case, ERASED, now)
            await audit.record(uow, who, AuditVerb.DELETE, "case", case.id, detail, at=now)
            cases += 1
    searches = [
        e.id for e in await uow.data_protection.exports(panel.id) if _same_search(e, person)
    ]
    removed = await uow.data_protection.delete_exports(panel.id, searches)
    messages = 0
    for delivery in await uow.data_protection.deliveries_naming(panel.id, sorted(found.everything)):
        # A card naming them must not go out: unsent ones are given up, sent ones emptied.
        delivery.withdraw()
        await uow.outbox.save(delivery)
        messages += 1
    needles = await _sweep_needles(uow, panel, person, found)
    mentions = await uow.data_protection.sweep(panel.id, needles, ERASED)
    return ErasureReport(
        len(referrals), cases, subjects, children, removed, messages=messages, mentions=mentions
    )


def check_reason(
    reason: str | None, person: Person, holdings: Sequence[Holding], today: date
) -> str:
    """The reason to record, refused when it is missing or names or describes the person
    (their names and aliases, a date of birth, a postcode or a phone number)."""
    if not reason:
        raise InvalidInput(REASON_NEEDED, {REASON_ID: "required"})
    names = [person.name]
    for holding in holdings:
        for subject in entries(holding.referral)[0]:
            if person.is_subject(subject):
                names += [subject.name, *subject.aliases]
    # A first name alone names them too (the channel gate looks for whole names and surnames).
    names += [word for name in list(names) for word in name.split()]
    if personal_data_in(reason, SubjectNames(names), today):
        raise InvalidInput(REASON_NAMES_PERSON, {REASON_ID: "personal_data"})
    return reason


# ---- the commands -----------------------------------------------------------------------------


def counted_people(count: int) -> str:
    return f"{count} person" if count == 1 else f"{count} people"


def _form_view(panel: Panel, data: Mapping[str, Any], notice: str) -> PersonFormView:
    """The form again, as it was filled in, with what is wrong."""

    def value(key: str, size: int) -> str:
        typed = data.get(key)
        return typed[:size] if isinstance(typed, str) else ""

    return PersonFormView(
        panel.name,
        value(NAME_ID, MAX_NAME),
        value(BIRTH_DATE_ID, MAX_BIRTH_DATE),
        notice=notice,
        postcode=value(POSTCODE_ID, MAX_POSTCODE),
    )


class DataProtectionFeature:
    """`sar` and `erase` and their cards' buttons."""

    def __init__(self, config: DataProtectionConfig | None = None) -> None:
        self.config = config or DataProtectionConfig()

    # -- finding the person --

    async def _search(
        self,
        request: Request,
        deps: Deps,
        panel: Panel,
        query: PersonQuery,
        *,
        erase: bool,
    ) -> Person | Reply:
        """The one person `query` means (a date of birth given, and one match), or the card
        listing everyone it may mean to choose from (audited, naming nobody)."""
        now = deps.clock.now()
        async with deps.uow() as uow:
            named = await uow.data_protection.referrals_naming(panel.id, [query.match_name])
            found = candidates(query, named)
            exact = query.exact
            if exact is not None and [c.person.key for c in found] in ([], [exact.key]):
                return exact
            if not found:
                return Person(query.name, None, query.postcode)
            entity = "erasure" if erase else "subject_access"
            detail = f"search by name: {counted_people(len(found))} listed"
            await audit.record(uow, request, AuditVerb.VIEW, entity, None, detail, at=now)
            await uow.commit()
        view = CandidatesView(
            panel_name=panel.name,
            query=" ".join(query.name.split()),
            people=[
                PersonChoice(
                    name=c.person.name,
                    born=born(c.person.date_of_birth),
                    date_of_birth=(
                        c.person.date_of_birth.isoformat() if c.person.date_of_birth else ""
                    ),
                    postcode=c.postcode,
                    found_in=c.found_in,
                )
                for c in found
            ],
            erase=erase,
        )
        return Reply(card=render_candidates(view))

    async def _person(
        self,
        request: Request,
        deps: Deps,
        panel: Panel,
        asked: SearchPerson | ChosenPerson,
        *,
        erase: bool,
    ) -> Person | Reply:
        """The person a card's button asks for: the one it chose, or the one its search
        means (or the card listing whom it may mean)."""
        if isinstance(asked, ChosenPerson):
            return asked.person
        return await self._search(request, deps, panel, asked.query, erase=erase)

    # -- subject access --

    async def sar(self, request: Request, deps: Deps) -> Reply:
        """`sar <name> [date of birth] [postcode]`; `sar` alone shows the form."""
        panel, member = request.admitted()  # EXPORT_SAR: checked by the guard
        command = SearchPerson.typed(request.args, SAR_USAGE)
        if isinstance(command, AskWho):
            return Reply(card=render_sar_form(PersonFormView(panel.name)))
        chosen = await self._search(request, deps, panel, command.query, erase=False)
        if isinstance(chosen, Reply):
            return chosen
        return await self._find(request, deps, panel, member, chosen)

    async def sar_find(self, request: Request, deps: Deps) -> Reply:
        """The form's Find button, or the button of one person a search listed."""
        panel, member = request.admitted()  # EXPORT_SAR: checked by the guard
        try:
            asked = person_asked(request.data)
            chosen = await self._person(request, deps, panel, asked, erase=False)
        except InvalidInput as err:
            view = _form_view(panel, request.data, err.message)
            return Reply(card=render_sar_form(view))
        if isinstance(chosen, Reply):
            return chosen
        return await self._find(request, deps, panel, member, chosen)

    async def _find(
        self, request: Request, deps: Deps, panel: Panel, member: Member, person: Person
    ) -> Reply:
        now = deps.clock.now()
        async with deps.uow() as uow:
            found = await holdings(uow, panel, person, now, with_access=False)
            export = None
            if found:
                export = SubjectAccessExport(
                    panel_id=panel.id,
                    member_id=member.id,
                    name=" ".join(person.name.split()),
                    date_of_birth=person.date_of_birth,
                    postcode=person.postcode,
                    created_at=now,
                    expires_at=self.config.links.expires(Purpose.SAR, now),
                )
                await uow.data_protection.save_export(export)
            detail = "subject access search: " + (
                found_summary(found) if found else "nothing found"
            )
            entity_id = export.id if export else None
            await audit.record(
                uow, request, AuditVerb.EXPORT, "subject_access", entity_id, detail, at=now
            )
            for holding in found:
                await audit.record(
                    uow,
                    request,
                    AuditVerb.EXPORT,
                    "referral",
                    holding.referral.id,
                    "subject access search",
                    at=now,
                )
                if holding.case is not None:
                    await audit.record(
                        uow,
                        request,
                        AuditVerb.EXPORT,
                        "case",
                        holding.case.id,
                        "subject access search",
                        at=now,
                    )
            await uow.commit()
        view = SarResultView(
            panel_name=panel.name,
            name=person.name,
            born=born(person.date_of_birth),
            found=found_lines(found, person),
            counts=count_facts(found),
            docx_url=sar_url(self.config, export, "docx") if export else None,
            json_url=sar_url(self.config, export, "json") if export else None,
            # The links last a day, so the hour matters.
            expires=when_text(export.expires_at, panel) if export else None,
            postcode=shown_postcode(person, found),
        )
        return Reply(card=render_sar_result(view))

    # -- erasure --

    async def erase(self, request: Request, deps: Deps) -> Reply:
        """`erase <name> [date of birth] [postcode]`: what would be erased, or the people
        the name matches to choose from; `erase` alone: the form."""
        panel, _ = request.admitted()  # ERASE: checked by the guard
        command = SearchPerson.typed(request.args, ERASE_USAGE)
        if isinstance(command, AskWho):
            return Reply(card=render_erase_form(PersonFormView(panel.name)))
        chosen = await self._search(request, deps, panel, command.query, erase=True)
        if isinstance(chosen, Reply):
            return chosen
        return await self._preview(request, deps, panel, chosen)

    async def erase_preview(self, request: Request, deps: Deps) -> Reply:
        """The form's button, or the button of one person a search listed: what would be
        erased."""
        panel, _ = request.admitted()  # ERASE: checked by the guard
        try:
            asked = person_asked(request.data)
            chosen = await self._person(request, deps, panel, asked, erase=True)
        except InvalidInput as err:
            view = _form_view(panel, request.data, err.message)
            return Reply(card=render_erase_form(view))
        if isinstance(chosen, Reply):
            return chosen
        return await self._preview(request, deps, panel, chosen)

    async def _preview(self, request: Request, deps: Deps, panel: Panel, person: Person) -> Reply:
        now = deps.clock.now()
        token = new_id()
        async with deps.uow() as uow:
            found = await holdings(uow, panel, person, now, with_access=False)
            if not found:
                raise NotFound(
                    f"The panel holds nothing about {person.name}, "
                    f"{described(born(person.date_of_birth))}, so there is nothing to erase."
                )
            await audit.record(
                uow,
                request,
                AuditVerb.VIEW,
                "erasure",
                token,
                f"erasure preview: {found_summary(found)}",
                at=now,
            )
            await uow.commit()
        return Reply(card=render_erase_preview(self._preview_view(panel, person, found, token)))

    @staticmethod
    def _preview_view(
        panel: Panel,
        person: Person,
        found: Sequence[Holding],
        token: str,
        *,
        reason: str = "",
        notice: str | None = None,
    ) -> ErasePreviewView:
        return ErasePreviewView(
            panel_name=panel.name,
            name=person.name,
            born=born(person.date_of_birth),
            date_of_birth=person.date_of_birth.isoformat() if person.date_of_birth else "",
            found=found_lines(found, person),
            token=token,
            reason=reason,
            notice=notice,
            postcode=shown_postcode(person, found),
        )

    async def erase_confirm(self, request: Request, deps: Deps) -> Reply:
        """The Erase button: check the reason, then erase once."""
        panel, _ = request.admitted()  # ERASE: checked by the guard
        return await self.erase_once(request, deps, panel, ConfirmErasure.of(request.data))

    async def erase_once(
        self, request: Request, deps: Deps, panel: Panel, command: ConfirmErasure
    ) -> Reply:
        """Erase the person the preview showed, once for its token, if the reason names
        nobody; or the preview again, with what is wrong with the reason."""
        token, person, raw_reason = command.token, command.person, command.reason_typed
        reason = command.reason
        now = deps.clock.now()
        today = local_day(now, panel)
        async with deps.uow() as uow:
            found = await holdings(uow, panel, person, now, with_access=False)
            if found:
                try:
                    reason = check_reason(reason, person, found, today)
                except DomainError as err:
                    view = self._preview_view(
                        panel, person, found, token, reason=raw_reason or "", notice=err.message
                    )
                    return Reply(card=render_erase_preview(view))
            if not await uow.activities.first_time(f"erase:{panel.id}:{token}", now):
                return Reply(card=render_erased(ErasedView(panel.name, (), "", already=True)))
            if not found or reason is None:
                raise NotFound(
                    "The panel holds nothing about this person any more: nothing was erased."
                )
            # Recorded first (ids only, in the table and the ledger file), while the
            # entries still name the person: a restore then cannot take the erasure back.
            by = requested_by(request)
            await record_erasure(uow, self.config.ledger, panel, person, reason, by, now)
            report = await erase_from_records(uow, panel, person, reason, request, now)
            await uow.commit()
        return Reply(card=render_erased(ErasedView(panel.name, report.facts(), reason)))


# ---- downloads --------------------------------------------------------------------------------


async def sar_file(
    uow_factory: UnitOfWorkFactory,
    links: Links,
    panel_id: str,
    export_id: str,
    fmt: str,
    token: str,
    now: datetime,
) -> tuple[bytes, str, str] | None:
    """The export (bytes, content type, file name) for a valid link of the coordinator who
    searched, while the link works and they may still export; None for anything else (the
    same answer for a bad token, an unknown export and a refusal). Each download is
    audited."""
    if fmt not in FORMATS:
        return None
    member_id = links.holder(Purpose.SAR, (panel_id, export_id, fmt), token, now)
    if member_id is None:
        return None
    async with uow_factory() as uow:
        panel = await uow.panels.get(panel_id)
        member = await uow.members.get(panel_id, member_id) if panel else None
        export = await uow.data_protection.export(panel_id, export_id) if panel else None
        if panel is None or member is None or export is None:
            return None
        if export.member_id != member.id or export.expires_at <= now:
            return None
        decision = await access.decide_for(uow, panel, member, Act.EXPORT_SAR)
        if not decision.allowed:
            return None
        found = await holdings(uow, panel, export.person, now)
        names = await lookups(uow, panel)
        content = document(panel, export.person, found, names, now)
        await audit.record(
            uow,
            audit.Actor.member(member, DOWNLOAD),
            AuditVerb.EXPORT,
            "subject_access",
            export.id,
            f"subject access export downloaded ({fmt}): {found_summary(found)}",
            at=now,
        )
        await uow.commit()
    body = to_docx(content, panel.timezone) if fmt == "docx" else to_json(content)
    content_type, file_name = FORMATS[fmt]
    return body, content_type, file_name


# ---- registration and the gallery -------------------------------------------------------------


def register(router: Router, config: DataProtectionConfig | None = None) -> DataProtectionFeature:
    """Register `sar`, `erase` and their buttons."""
    feature = DataProtectionFeature(config)
    router.command(
        CommandSpec(
            name="sar",
            summary="Coordinators: everything held about one person, as Word and JSON.",
            handler=feature.sar,
            usage=SAR_USAGE,
            access=Access(Act.EXPORT_SAR, PRIVATE),
            in_manifest=False,
        )
    )
    router.command(
        CommandSpec(
            name="erase",
            summary="Coordinators: erase one person's data on a lawful request.",
            handler=feature.erase,
            usage=ERASE_USAGE,
            access=Access(Act.ERASE, PRIVATE),
            in_manifest=False,
        )
    )
    sar = Access(Act.EXPORT_SAR, PRIVATE)
    erase = Access(Act.ERASE, PRIVATE)
    router.verb(VerbSpec(Verb.DP_SAR_FIND.value, feature.sar_find, sar))
    router.verb(VerbSpec(Verb.DP_ERASE_PREVIEW.value, feature.erase_preview, erase))
    router.verb(VerbSpec(Verb.DP_ERASE_CONFIRM.value, feature.erase_confirm, erase))
    return feature
