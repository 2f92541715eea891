"""Erasure requests as a ledger that outlives a database restore.

An erasure overwrites one person's entries; restoring a backup taken before it brings them
back. So each erasure is also recorded as an `ErasureRequest`: which entries of which
referrals were the person's, in which panel, when, why and who asked. Ids only: a referral
id with a subject's id, a child's place in the household, or a draft row's key, never a
name, a date of birth or anything else about them (the reason was checked to name nobody
before the erasure ran). After a restore the request is applied again: each entry still
holding someone (not "[erased]") gives back the person to erase, read from the restored
record itself (`people_back`).

Pure: the records feature writes and reads the ledger; storage keeps a copy.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from bot.domain.common import require_aware
from bot.domain.errors import InvalidInput
from bot.domain.intake_rules import CHILD_KEYS, SUBJECT_KEYS, child_keys, subject_keys
from bot.domain.retention import Person, draft_entries, is_scrubbed_name

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from bot.domain.referral import Child, Referral, Subject


class EntryKind(StrEnum):
    SUBJECT = "subject"  # a referral's subject, by its id
    CHILD = "child"  # a child of the household, by its place in the list
    DRAFT_SUBJECT = "draft_subject"  # a subject row of a draft, by its row key
    DRAFT_CHILD = "draft_child"  # a child row of a draft, by its row key


@dataclass(frozen=True)
class ErasedEntry:
    """One of the person's entries: which referral, which kind of entry, which one."""

    referral_id: str
    kind: EntryKind
    key: str

    def as_json(self) -> dict[str, str]:
        return {"referral_id": self.referral_id, "kind": self.kind.value, "key": self.key}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ErasedEntry:
        return cls(str(data["referral_id"]), EntryKind(data["kind"]), str(data["key"]))


@dataclass(frozen=True)
class ErasureRequest:
    """One confirmed erasure, without personal data."""

    id: str
    panel_id: str
    requested_at: datetime
    requested_by: str  # the coordinator's member id (or the actor's id)
    reason: str  # checked to name nobody; also in the audit trail
    entries: tuple[ErasedEntry, ...]

    def __post_init__(self) -> None:
        require_aware(self.requested_at, "requested_at")

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "panel_id": self.panel_id,
            "requested_at": self.requested_at.isoformat(),
            "requested_by": self.requested_by,
            "reason": self.reason,
            "entries": [entry.as_json() for entry in self.entries],
        }

    def line(self) -> str:
        """The request as one line of the JSON-lines ledger."""
        return json.dumps(self.as_json(), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ErasureRequest:
        return cls(
            id=str(data["id"]),
            panel_id=str(data["panel_id"]),
            requested_at=datetime.fromisoformat(str(data["requested_at"])),
            requested_by=str(data["requested_by"]),
            reason=str(data["reason"]),
            entries=tuple(ErasedEntry.from_json(e) for e in data.get("entries") or ()),
        )

    @property
    def referral_ids(self) -> list[str]:
        return sorted({entry.referral_id for entry in self.entries})


def _draft_subject(inputs: Mapping[str, Any], key: str) -> Subject | None:
    subjects, _ = draft_entries({**inputs, SUBJECT_KEYS: [key], CHILD_KEYS: []})
    return subjects[0] if subjects else None


def _draft_child(inputs: Mapping[str, Any], key: str) -> Child | None:
    _, children = draft_entries({**inputs, SUBJECT_KEYS: [], CHILD_KEYS: [key]})
    return children[0] if children else None


def erased_entries(person: Person, referrals: Iterable[Referral]) -> tuple[ErasedEntry, ...]:
    """The person's entries in `referrals`, read before they are erased."""
    found: list[ErasedEntry] = []
    for referral in referrals:
        for subject in referral.subjects:
            if person.is_subject(subject):
                found.append(ErasedEntry(referral.id, EntryKind.SUBJECT, subject.id))
        for place, child in enumerate(referral.children):
            if person.is_child(child):
                found.append(ErasedEntry(referral.id, EntryKind.CHILD, str(place)))
        inputs = referral.draft_inputs
        for key in subject_keys(inputs):
            typed = _draft_subject(inputs, key)
            if typed is not None and person.is_subject(typed):
                found.append(ErasedEntry(referral.id, EntryKind.DRAFT_SUBJECT, key))
        for key in child_keys(inputs):
            kid = _draft_child(inputs, key)
            if kid is not None and person.is_child(kid):
                found.append(ErasedEntry(referral.id, EntryKind.DRAFT_CHILD, key))
    return tuple(found)


def _person(name: str, born: date | None, postcode: str | None = None) -> Person | None:
    if is_scrubbed_name(name):
        return None
    try:
        return Person(name, born, postcode)
    except InvalidInput:  # a name that is no name (a blank row)
        return None


def _person_of(entry: ErasedEntry, referral: Referral) -> Person | None:
    """Whoever the entry holds in the restored referral; None when it is erased or gone."""
    if entry.kind is EntryKind.SUBJECT:
        subject = next((s for s in referral.subjects if s.id == entry.key), None)
        if subject is None:
            return None
        return _person(subject.name, subject.date_of_birth, subject.postcode)
    if entry.kind is EntryKind.CHILD:
        place = int(entry.key) if entry.key.isdigit() else -1
        if not 0 <= place < len(referral.children):
            return None
        child = referral.children[place]
        return _person(child.name, child.date_of_birth)
    inputs = referral.draft_inputs
    if entry.kind is EntryKind.DRAFT_SUBJECT:
        typed = _draft_subject(inputs, entry.key) if entry.key in subject_keys(inputs) else None
        if typed is None:
            return None
        return _person(typed.name, typed.date_of_birth, typed.postcode)
    kid = _draft_child(inputs, entry.key) if entry.key in child_keys(inputs) else None
    return _person(kid.name, kid.date_of_birth) if kid is not None else None


def people_back(request: ErasureRequest, referrals: Mapping[str, Referral]) -> list[Person]:
    """The people a restore brought back into the request's entries (each once, in the
    ledger's order); empty when every entry is still erased or its referral is not there
    (a backup older than the referral)."""
    people: dict[tuple[str, Any, Any], Person] = {}
    for entry in request.entries:
        referral = referrals.get(entry.referral_id)
        person = _person_of(entry, referral) if referral is not None else None
        if person is not None:
            people.setdefault(person.key, person)
    return list(people.values())
