"""Data protection: how long personal data is kept, what counts as it, and how one person is
found in the panel's records and erased from them.

DOMAIN.md: personal data is anonymised a configurable time after a case closes (six years
by default), keeping anonymous statistics; the coordinator can export everything held about
one person and erase it on a lawful request.

What is personal data here: each subject's name, aliases, date of birth, address, postcode,
phone, vulnerabilities and language; the children's names and dates of birth; the
referral's free text (what was tried, the relationship, who it was discussed with, why it
was shared without consent, the professional judgement, the coordinator's question and
decline note, and whatever the referrer typed on the intake card); the agencies' answers to
information requests and the questions; the text of actions and their updates; the
chair's notes on agenda items; the minutes' summaries, the actions they list and closure
notes. Free text is replaced by a marker, never cut, so a reader sees that something was
there.

What stays, as anonymous statistics: references, dates, statuses, categories, risk levels
and totals, agencies, decisions and their reasons, closure reasons, how many subjects and
children there were and in which roles, and whether each referral was a repeat.

Pure: the services load the records, call these functions, and save them.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.domain.common import new_id, require_aware
from bot.domain.errors import InvalidInput
from bot.domain.intake_rules import child_keys, is_postcode, phone_text, row_field, subject_keys
from bot.domain.matching import months_before
from bot.domain.referral import (
    Child,
    Referral,
    ReferralStatus,
    Subject,
    SubjectRole,
    normalise_name,
    normalise_postcode,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from bot.domain.action import Action, InformationRequest
    from bot.domain.case import Case
    from bot.domain.meeting import AgendaItem
    from bot.domain.minutes import Minutes

ANONYMISED = "[anonymised]"
ERASED = "[erased]"
MARKERS = frozenset({ANONYMISED, ERASED})
DEFAULT_RETENTION_YEARS = 6
DEFAULT_OUTBOX_KEEP_DAYS = 30
DEFAULT_LEDGER_KEEP_DAYS = 7
# Referrals that never became a case are kept as long after their decision.
UNDECIDED_DRAFT = frozenset({ReferralStatus.DRAFT})
ENDED_WITHOUT_CASE = frozenset({ReferralStatus.DECLINED, ReferralStatus.WITHDRAWN})


@dataclass(frozen=True)
class RetentionPolicy:
    """How long personal data is kept after a case closes (or a referral is declined,
    withdrawn or left as a draft), in whole years."""

    years: int = DEFAULT_RETENTION_YEARS
    # Copies kept briefly: delivered outbox rows (their payload is emptied once delivered)
    # and the activity ledger's keys (Teams redelivers within minutes; a card's button
    # clicked again later is caught by its record's state and version).
    outbox_days: int = DEFAULT_OUTBOX_KEEP_DAYS
    ledger_days: int = DEFAULT_LEDGER_KEEP_DAYS

    def __post_init__(self) -> None:
        if not 1 <= self.years <= 100:
            raise ValueError("the retention period is between 1 and 100 years")
        if self.outbox_days < 1 or self.ledger_days < 1:
            raise ValueError("outbox rows and ledger keys are kept at least a day")

    def outbox_cutoff(self, now: datetime) -> datetime:
        """Finished outbox rows queued before this instant are deleted."""
        return now - timedelta(days=self.outbox_days)

    def ledger_cutoff(self, now: datetime) -> datetime:
        """Activity-ledger keys seen before this instant are forgotten."""
        return now - timedelta(days=self.ledger_days)

    def cutoff(self, now: datetime) -> datetime:
        """Records that ended before this instant are anonymised."""
        return months_before(now, 12 * self.years)

    def is_due(self, ended_at: datetime | None, now: datetime) -> bool:
        """Whether a record that ended at `ended_at` (None: still going) is past keeping."""
        return ended_at is not None and ended_at < self.cutoff(now)


def referral_ended_at(referral: Referral) -> datetime | None:
    """When a referral that did not become a case ended: its decline or withdrawal, or, for
    a draft never sent, when it was started. None for one still with the panel or accepted
    (an accepted referral is kept as long as its case)."""
    if referral.status in ENDED_WITHOUT_CASE:
        return referral.decided_at or referral.submitted_at or referral.created_at
    if referral.status in UNDECIDED_DRAFT:
        return referral.created_at
    return None


# ---- one person ---------------------------------------------------------------------------

_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_UK = re.compile(r"^(\d{1,2})[/.](\d{1,2})[/.](\d{4})$")
MAX_NAME = 200


def parse_birth_date(text: str) -> date:
    """A date of birth as people type it: 1986-09-02 or 02/09/1986."""
    raw = text.strip()
    found = _ISO.match(raw)
    if found:
        year, month, day = (int(g) for g in found.groups())
    else:
        found = _UK.match(raw)
        if found is None:
            raise InvalidInput(
                "Write the date of birth as 1980-01-31 or 31/01/1980.", {"date_of_birth": "invalid"}
            )
        day, month, year = (int(g) for g in found.groups())
    try:
        return date(year, month, day)
    except ValueError:
        raise InvalidInput(
            f"{raw} is not a date. Write it as 1980-01-31.", {"date_of_birth": "invalid"}
        ) from None


@dataclass(frozen=True)
class Person:
    """One person as the panel recorded them: a name and a date of birth; for someone
    recorded without a date of birth, the postcode they were recorded at (None: none
    either), which tells two people of one name apart."""

    name: str
    date_of_birth: date | None = None
    postcode: str | None = None

    def __post_init__(self) -> None:
        if not normalise_name(self.name):
            raise InvalidInput("Write the person's name.", {"name": "required"})
        if len(self.name) > MAX_NAME:
            raise InvalidInput("That name is too long.", {"name": "too_long"})
        # With a date of birth the postcode tells nothing more (people move).
        postcode = normalise_postcode(self.postcode or "") or None
        object.__setattr__(self, "postcode", None if self.date_of_birth else postcode)

    @classmethod
    def parse(cls, text: str) -> Person:
        """`Rosa Lindqvist 1986-09-02`: the name, then the date of birth."""
        words = text.split()
        if len(words) < 2:
            raise InvalidInput("Give the person's name and date of birth.")
        return cls(" ".join(words[:-1]), parse_birth_date(words[-1]))

    @property
    def match_name(self) -> str:
        return normalise_name(self.name)

    def is_subject(self, subject: Subject) -> bool:
        """The same person as a referral's subject: the same normalised name (or one of the
        subject's aliases) and the same date of birth, or, both without one, the same
        postcode."""
        if subject.date_of_birth != self.date_of_birth:
            return False
        if self.date_of_birth is None and subject.match_postcode != self.postcode:
            return False
        names = {subject.match_name, *(normalise_name(alias) for alias in subject.aliases)}
        return self.match_name in names

    def is_child(self, child: Child) -> bool:
        """The same person as a child in a referral's household (children have no postcode)."""
        return (
            child.date_of_birth == self.date_of_birth
            and (self.date_of_birth is not None or self.postcode is None)
            and normalise_name(child.name) == self.match_name
        )

    def concerns(self, referral: Referral) -> bool:
        """Whether the referral is about this person (as a subject or a child), in what it
        records or, for a draft, in what the referrer typed."""
        subjects, children = entries(referral)
        return any(self.is_subject(s) for s in subjects) or any(self.is_child(c) for c in children)

    @property
    def key(self) -> tuple[str, date | None, str | None]:
        return (self.match_name, self.date_of_birth, self.postcode)


def _typed_date(text: str) -> date | None:
    try:
        return parse_birth_date(text) if text.strip() else None
    except InvalidInput:
        return None


def draft_entries(inputs: Mapping[str, Any]) -> tuple[list[Subject], list[Child]]:
    """The people a draft names as the referrer typed them (what does not parse is left
    out: a date that is not one, a row without a name)."""

    def typed(key: str, name: str) -> str:
        value = inputs.get(row_field(key, name))
        return value.strip() if isinstance(value, str) else ""

    subjects: list[Subject] = []
    for key in subject_keys(inputs):
        name = typed(key, "name")
        if not normalise_name(name):
            continue
        aliases = tuple(a.strip() for a in typed(key, "aliases").split(",") if a.strip())
        try:
            role = SubjectRole(typed(key, "role"))
        except ValueError:
            role = SubjectRole.VICTIM
        subjects.append(
            Subject(
                role=role,
                name=name,
                aliases=aliases,
                date_of_birth=_typed_date(typed(key, "dob")),
                address=typed(key, "address") or None,
                postcode=typed(key, "postcode") or None,
                phone=typed(key, "phone") or None,
            )
        )
    children = [
        Child(name=typed(key, "name"), date_of_birth=_typed_date(typed(key, "dob")))
        for key in child_keys(inputs)
        if normalise_name(typed(key, "name"))
    ]
    return subjects, children


def entries(referral: Referral) -> tuple[list[Subject], list[Child]]:
    """Everyone a referral names: its subjects and children, and the rows of its draft
    (a draft keeps what was typed before it is sent; a sent one keeps the same again)."""
    typed_subjects, typed_children = draft_entries(referral.draft_inputs)
    return [*referral.subjects, *typed_subjects], [*referral.children, *typed_children]


@dataclass(frozen=True)
class PersonQuery:
    """What the coordinator typed to find someone: a name, and a date of birth or a postcode
    if they have them."""

    name: str
    date_of_birth: date | None = None
    postcode: str | None = None

    def __post_init__(self) -> None:
        if not normalise_name(self.name):
            raise InvalidInput("Write the person's name.", {"name": "required"})
        if len(self.name) > MAX_NAME:
            raise InvalidInput("That name is too long.", {"name": "too_long"})
        object.__setattr__(self, "postcode", normalise_postcode(self.postcode or "") or None)

    @classmethod
    def parse(cls, text: str) -> PersonQuery:
        """`Rosa Lindqvist`, `Rosa Lindqvist 1986-09-02`, `Rosa Lindqvist RV2 7LD` (a date of
        birth and a UK postcode may follow the name, in either order)."""
        words = text.split()
        born: date | None = None
        postcode: str | None = None
        while len(words) > 1:
            if born is None and (_ISO.match(words[-1]) or _UK.match(words[-1])):
                born = parse_birth_date(words.pop())
                continue
            if postcode is None and len(words) > 2 and is_postcode(" ".join(words[-2:])):
                postcode = " ".join(words[-2:])
                del words[-2:]
                continue
            if postcode is None and is_postcode(words[-1]):
                postcode = words.pop()
                continue
            break
        return cls(" ".join(words), born, postcode)

    @property
    def match_name(self) -> str:
        return normalise_name(self.name)

    @property
    def exact(self) -> Person | None:
        """The person itself when the coordinator gave a date of birth."""
        return Person(self.name, self.date_of_birth) if self.date_of_birth else None

    def _names(self, subject: Subject) -> bool:
        names = {subject.match_name, *(normalise_name(alias) for alias in subject.aliases)}
        return self.match_name in names

    def finds_subject(self, subject: Subject) -> bool:
        """A subject this search may mean: the name (or an alias), and no other date of
        birth or postcode than the ones given (one not recorded may still be them)."""
        if not self._names(subject):
            return False
        if self.date_of_birth and subject.date_of_birth not in (None, self.date_of_birth):
            return False
        return not (self.postcode and subject.match_postcode not in (None, self.postcode))

    def finds_child(self, child: Child) -> bool:
        if normalise_name(child.name) != self.match_name:
            return False
        return not (self.date_of_birth and child.date_of_birth not in (None, self.date_of_birth))


@dataclass(frozen=True)
class Candidate:
    """One person a search found, as recorded, and where: "Victim in RF-2026-0047"."""

    person: Person
    postcode: str | None  # as recorded, to tell people apart on the card
    found_in: tuple[str, ...]


def candidates(query: PersonQuery, referrals: Iterable[Referral]) -> list[Candidate]:
    """The people `query` may mean, each once (by name, date of birth, and, without one,
    postcode), with the referrals that name them; in the order first found."""
    found: dict[tuple[str, date | None, str | None], tuple[Person, str | None, list[str]]] = {}

    def add(person: Person, postcode: str | None, line: str) -> None:
        entry = found.setdefault(person.key, (person, postcode, []))
        if line not in entry[2]:
            entry[2].append(line)

    for referral in referrals:
        subjects, children = entries(referral)
        for subject in subjects:
            if query.finds_subject(subject):
                person = Person(subject.name, subject.date_of_birth, subject.postcode)
                add(person, subject.postcode, f"{subject.role.value} in {referral.reference}")
        for child in children:
            if query.finds_child(child):
                person = Person(child.name, child.date_of_birth)
                add(person, None, f"child in the household in {referral.reference}")
    return [Candidate(person, postcode, tuple(lines)) for person, postcode, lines in found.values()]


def birth_date_forms(day: date) -> list[str]:
    """A date of birth as the bot and people write it: 1984-03-12, 12/03/1984, 12 Mar 1984,
    12 March 1984."""
    return [
        day.isoformat(),
        f"{day:%d/%m/%Y}",
        f"{day.day}/{day.month}/{day.year}",
        f"{day.day} {day:%b %Y}",
        f"{day:%d %b %Y}",
        f"{day.day} {day:%B %Y}",
    ]


@dataclass(frozen=True)
class Identifiers:
    """What identifies one person in the records: to find copies of them elsewhere."""

    names: frozenset[str]
    contact: frozenset[str]  # addresses and phone numbers
    postcodes: frozenset[str]
    dates: frozenset[str]

    @property
    def everything(self) -> frozenset[str]:
        return self.names | self.contact | self.postcodes | self.dates


def identifiers(person: Person, referrals: Iterable[Referral]) -> Identifiers:
    """The person's names, aliases, addresses, phone numbers, postcodes and date of birth,
    as recorded in `referrals` (before they are erased)."""
    names = {" ".join(person.name.split())}
    contact: set[str] = set()
    postcodes: set[str] = set()
    for referral in referrals:
        subjects, children = entries(referral)
        for subject in subjects:
            if not person.is_subject(subject):
                continue
            names.add(subject.name)
            names.update(subject.aliases)
            for value in (subject.address, subject.phone):
                if value:
                    contact.add(value)
            if subject.phone:
                # Stored in E.164 (+442079460018); written in free text as people write it
                # (020 7946 0018, 02079460018).
                for written in (subject.phone, phone_text(subject.phone)):
                    contact.add(written)
                    contact.add("".join(ch for ch in written if ch.isdigit()))
            if subject.postcode:
                postcodes.add(subject.postcode)
        names.update(c.name for c in children if person.is_child(c))
    dates = birth_date_forms(person.date_of_birth) if person.date_of_birth else []
    return Identifiers(
        frozenset(n for n in names if not is_scrubbed_name(n)),
        frozenset(contact),
        frozenset(postcodes),
        frozenset(dates),
    )


@dataclass(kw_only=True)
class SubjectAccessExport:
    """A coordinator's subject access search, kept (name and date of birth included) only
    while its download links work; the retention job removes it after `expires_at`."""

    id: str = field(default_factory=new_id)
    panel_id: str
    member_id: str
    name: str
    date_of_birth: date | None
    created_at: datetime
    expires_at: datetime
    # Revision 0010: for someone recorded without a date of birth.
    postcode: str | None = None

    def __post_init__(self) -> None:
        require_aware(self.created_at, "created_at")
        require_aware(self.expires_at, "expires_at")

    @property
    def person(self) -> Person:
        return Person(self.name, self.date_of_birth, self.postcode)


# ---- scrubbing ----------------------------------------------------------------------------


def _marked(text: str | None, marker: str) -> str | None:
    """Free text replaced by the marker; nothing stays nothing."""
    return marker if text is not None and text.strip() else text


def scrub_subject(subject: Subject, marker: str) -> None:
    """Everything that identifies a subject goes; their role stays."""
    subject.name = marker
    subject.aliases = ()
    subject.date_of_birth = None
    subject.address = None
    subject.postcode = None
    subject.phone = None
    subject.safe_to_call = False
    subject.vulnerabilities = None
    subject.language = None
    subject.interpreter_needed = False


def scrub_child(child: Child, marker: str) -> None:
    """A child stays counted, unnamed."""
    child.name = marker
    child.date_of_birth = None


def scrub_narratives(referral: Referral, marker: str) -> None:
    """The referral's free text, and everything typed on the intake card."""
    referral.relationship = _marked(referral.relationship, marker)
    referral.tried_already = _marked(referral.tried_already, marker)
    referral.discussed_with = _marked(referral.discussed_with, marker)
    referral.consent.without_consent_reason = _marked(
        referral.consent.without_consent_reason, marker
    )
    referral.criteria.professional_judgement = _marked(
        referral.criteria.professional_judgement, marker
    )
    referral.criteria.explanation = _marked(referral.criteria.explanation, marker)
    referral.decline_note = _marked(referral.decline_note, marker)
    referral.more_info_question = _marked(referral.more_info_question, marker)
    referral.draft_inputs = {}


def anonymise_referral(referral: Referral, marker: str = ANONYMISED) -> None:
    """Every subject, child and narrative of the referral (retention)."""
    for subject in referral.subjects:
        scrub_subject(subject, marker)
    for child in referral.children:
        scrub_child(child, marker)
    scrub_narratives(referral, marker)


@dataclass(frozen=True)
class Erased:
    """What erasing one person took from one referral."""

    subjects: int
    children: int

    @property
    def any(self) -> bool:
        return bool(self.subjects or self.children)


def erase_person(referral: Referral, person: Person) -> Erased:
    """The person's entries (as a subject or a child) become "[erased]", and so does the
    referral's free text, which is about them; the other subjects and children stay."""
    subjects = [s for s in referral.subjects if person.is_subject(s)]
    children = [c for c in referral.children if person.is_child(c)]
    typed_subjects, typed_children = draft_entries(referral.draft_inputs)
    # A draft names them only in what was typed: counted once, as the entries it holds.
    in_draft = Erased(
        0 if subjects else sum(1 for s in typed_subjects if person.is_subject(s)),
        0 if children else sum(1 for c in typed_children if person.is_child(c)),
    )
    for subject in subjects:
        scrub_subject(subject, ERASED)
    for child in children:
        scrub_child(child, ERASED)
    if subjects or children or in_draft.any:
        scrub_narratives(referral, ERASED)
    return Erased(len(subjects) + in_draft.subjects, len(children) + in_draft.children)


def scrub_case(case: Case, marker: str) -> None:
    """The case's own free text: the closure note (the reason stays)."""
    case.closure_note = _marked(case.closure_note, marker)


def scrub_action(action: Action, marker: str) -> None:
    """An action's description, cancellation reason and the notes of its updates."""
    action.description = marker
    action.cancel_reason = _marked(action.cancel_reason, marker)
    for update in action.updates:
        update.note = marker


def scrub_request(request: InformationRequest, marker: str) -> None:
    """An information request's question and the agency's answer."""
    request.question = marker
    request.answer = _marked(request.answer, marker)


def scrub_agenda_item(item: AgendaItem, marker: str) -> bool:
    """The chair's notes on a case's agenda item; True if anything changed."""
    before = (item.note, item.summary)
    item.note = _marked(item.note, marker)
    item.summary = _marked(item.summary, marker)
    return before != (item.note, item.summary)


def _decision(text: str, marker: str) -> str:
    """ "Closed: Other (moved to Leeds)" keeps its reason and loses its note."""
    if text.startswith("Closed: ") and text.endswith(")") and " (" in text:
        return text[: text.index(" (")] + f" ({marker})"
    return text


def scrub_minutes(
    minutes: Minutes, case_ids: Iterable[str], action_ids: Iterable[str], marker: str
) -> bool:
    """The minutes' text about these cases and actions; True if anything changed."""
    cases, actions = set(case_ids), set(action_ids)
    changed = False
    for entry in minutes.cases:
        if entry.case_id not in cases:
            continue
        before = (entry.summary, entry.decision, list(entry.actions))
        entry.summary = _marked(entry.summary, marker) or ""
        entry.decision = _decision(entry.decision, marker)
        entry.actions = [dataclasses.replace(line, description=marker) for line in entry.actions]
        changed = changed or before != (entry.summary, entry.decision, entry.actions)
    unmet = [
        dataclasses.replace(u, description=marker, outcome=marker) if u.action_id in actions else u
        for u in minutes.unmet
    ]
    if unmet != minutes.unmet:
        minutes.unmet = unmet
        changed = True
    return changed


def is_scrubbed_name(name: str) -> bool:
    """Whether a stored name is a marker rather than a person's name."""
    return name in MARKERS
