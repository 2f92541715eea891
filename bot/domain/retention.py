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
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from bot.domain.action import Action, InformationRequest
from bot.domain.case import Case
from bot.domain.common import new_id, require_aware
from bot.domain.errors import InvalidInput
from bot.domain.matching import months_before
from bot.domain.meeting import AgendaItem
from bot.domain.minutes import Minutes
from bot.domain.referral import Child, Referral, ReferralStatus, Subject, normalise_name

ANONYMISED = "[anonymised]"
ERASED = "[erased]"
MARKERS = frozenset({ANONYMISED, ERASED})
DEFAULT_RETENTION_YEARS = 6
# Referrals that never became a case are kept as long after their decision.
UNDECIDED_DRAFT = frozenset({ReferralStatus.DRAFT})
ENDED_WITHOUT_CASE = frozenset({ReferralStatus.DECLINED, ReferralStatus.WITHDRAWN})


@dataclass(frozen=True)
class RetentionPolicy:
    """How long personal data is kept after a case closes (or a referral is declined,
    withdrawn or left as a draft), in whole years."""

    years: int = DEFAULT_RETENTION_YEARS

    def __post_init__(self) -> None:
        if not 1 <= self.years <= 100:
            raise ValueError("the retention period is between 1 and 100 years")

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
    """Someone the coordinator asks about: a name and a date of birth."""

    name: str
    date_of_birth: date

    def __post_init__(self) -> None:
        if not normalise_name(self.name):
            raise InvalidInput("Write the person's name.", {"name": "required"})
        if len(self.name) > MAX_NAME:
            raise InvalidInput("That name is too long.", {"name": "too_long"})

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
        """The same person as a referral's subject: the same date of birth, and the same
        normalised name or one of the subject's aliases."""
        if subject.date_of_birth is None or subject.date_of_birth != self.date_of_birth:
            return False
        names = {subject.match_name, *(normalise_name(alias) for alias in subject.aliases)}
        return self.match_name in names

    def is_child(self, child: Child) -> bool:
        """The same person as a child in a referral's household."""
        return (
            child.date_of_birth is not None
            and child.date_of_birth == self.date_of_birth
            and normalise_name(child.name) == self.match_name
        )

    def concerns(self, referral: Referral) -> bool:
        """Whether the referral is about this person (as a subject or a child)."""
        return any(self.is_subject(s) for s in referral.subjects) or any(
            self.is_child(c) for c in referral.children
        )


@dataclass(kw_only=True)
class SubjectAccessExport:
    """A coordinator's subject access search, kept (name and date of birth included) only
    while its download links work; the retention job removes it after `expires_at`."""

    id: str = field(default_factory=new_id)
    panel_id: str
    member_id: str
    name: str
    date_of_birth: date
    created_at: datetime
    expires_at: datetime

    def __post_init__(self) -> None:
        require_aware(self.created_at, "created_at")
        require_aware(self.expires_at, "expires_at")

    @property
    def person(self) -> Person:
        return Person(self.name, self.date_of_birth)


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
    for subject in subjects:
        scrub_subject(subject, ERASED)
    for child in children:
        scrub_child(child, ERASED)
    if subjects or children:
        scrub_narratives(referral, ERASED)
    return Erased(len(subjects), len(children))


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
