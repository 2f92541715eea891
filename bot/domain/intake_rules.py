"""The intake card's rules: its steps, its field ids, and what a referrer may type in each.

A draft keeps what the referrer typed *as typed* (`Referral.draft_inputs`: field id → the
string Teams sent), so nothing is lost while it is not valid yet. The functions here check
one step on Next, every step on Submit, and turn a valid draft into the referral's fields.
They are pure: no I/O, the day and the risk matrix are given.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import phonenumbers

from bot.domain.errors import InvalidInput
from bot.domain.referral import (
    Child,
    Consent,
    Criteria,
    Referral,
    ReferralCategory,
    Subject,
    SubjectRole,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from bot.domain.risk import RiskMatrix


class Step(StrEnum):
    ABOUT = "about"
    SUBJECTS = "subjects"
    HOUSEHOLD = "household"
    CONSENT = "consent"
    RISK = "risk"
    REVIEW = "review"


STEPS: tuple[Step, ...] = tuple(Step)

STEP_TITLES: dict[Step, str] = {
    Step.ABOUT: "About the referral",
    Step.SUBJECTS: "Subjects",
    Step.HOUSEHOLD: "Household and history",
    Step.CONSENT: "Consent",
    Step.RISK: "Risk assessment",
    Step.REVIEW: "Criteria and review",
}


def next_step(step: Step) -> Step:
    """The step after `step` (the last step has none after it: itself)."""
    return STEPS[min(STEPS.index(step) + 1, len(STEPS) - 1)]


def previous_step(step: Step) -> Step:
    """The step before `step` (the first step is its own previous)."""
    return STEPS[max(STEPS.index(step) - 1, 0)]


MAX_NAME = 100
MAX_SHORT = 200
MAX_TEXT = 2000
MAX_ALIASES = 10
MAX_SUBJECTS = 10
MAX_CHILDREN = 10
MAX_INCIDENTS = 999
MIN_JUSTIFICATION = 20
OLDEST_BIRTH_YEAR = 1900
ADULT_AGE = 18
ESCALATION_INCIDENTS = 3
# What is kept of one typed value: twice the field's limit, enough to show a "too long"
# error (the card itself stops at the limit), never unbounded; a choice, date, number or
# toggle is short.
MAX_CHOICE = 100


class F:
    """Field ids of the intake card; Teams sends each input's value under its id."""

    CATEGORY = "category"
    DISCUSSED_WITH = "discussed_with"
    TRIED_ALREADY = "tried_already"
    MEETING_HELD = "meeting_held"
    RELATIONSHIP = "relationship"
    INCIDENTS = "incidents"
    INCIDENTS_RISING = "incidents_rising"
    AGENCIES = "agencies_involved"
    CONSENT_AWARE = "consent_aware"
    CONSENT_GIVEN = "consent_given"
    CONSENT_REASON = "consent_reason"
    ESCALATION = "escalation"
    JUDGEMENT = "judgement"
    JUSTIFICATION = "justification"
    ANSWER = "answer"


SUBJECT_FIELDS = (
    "role",
    "name",
    "aliases",
    "dob",
    "address",
    "postcode",
    "phone",
    "safe_to_call",
    "vulnerabilities",
    "language",
    "interpreter",
)
CHILD_FIELDS = ("name", "dob")

# The draft's own bookkeeping, never an input: which subject and child rows exist.
SUBJECT_KEYS = "subject_keys"
CHILD_KEYS = "child_keys"
NEXT_KEY = "next_key"

_STATIC_FIELDS = frozenset(
    value for name, value in vars(F).items() if not name.startswith("_") and isinstance(value, str)
)
# The longest value each free-text field takes (on the card and in the checks below); any
# other field is a choice, date, number or toggle (MAX_CHOICE).
_TEXT_LIMITS: dict[str, int] = {
    F.DISCUSSED_WITH: MAX_SHORT,
    F.TRIED_ALREADY: MAX_TEXT,
    F.RELATIONSHIP: MAX_TEXT,
    F.AGENCIES: MAX_TEXT,  # the chosen agencies' ids, comma-separated
    F.CONSENT_REASON: MAX_TEXT,
    F.JUSTIFICATION: MAX_TEXT,
    F.ANSWER: MAX_TEXT,
}
_ROW_TEXT_LIMITS: dict[str, int] = {
    "name": MAX_NAME,
    "aliases": MAX_SHORT,
    "address": MAX_SHORT,
    "vulnerabilities": MAX_TEXT,
    "language": MAX_NAME,
}
_BOOKKEEPING = frozenset({SUBJECT_KEYS, CHILD_KEYS, NEXT_KEY})
_ROW_FIELD = re.compile(r"^([sc]\d{1,4})\.([a-z_]{1,20})$")
_RISK_FIELD = re.compile(r"^risk\.([A-Za-z0-9_-]{1,64})$")


def row_field(key: str, name: str) -> str:
    """The field id of one field of a subject ('s1.name') or child ('c2.dob') row."""
    return f"{key}.{name}"


def risk_field(item_id: str) -> str:
    """The field id of a risk question's answer."""
    return f"risk.{item_id}"


def new_draft_inputs() -> dict[str, Any]:
    """A fresh draft: one subject row (a victim), no children."""
    return {SUBJECT_KEYS: ["s1"], CHILD_KEYS: [], NEXT_KEY: 2, "s1.role": SubjectRole.VICTIM.value}


def subject_keys(inputs: Mapping[str, Any]) -> list[str]:
    """The draft's subject rows, in order."""
    return [str(k) for k in inputs.get(SUBJECT_KEYS) or []]


def child_keys(inputs: Mapping[str, Any]) -> list[str]:
    """The draft's child rows, in order."""
    return [str(k) for k in inputs.get(CHILD_KEYS) or []]


def _raw(value: Any, keep: int) -> str | None:
    """A typed value as the draft keeps it: at most `keep` characters; None for anything
    that is not a string, number or toggle."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)[:keep]
    if isinstance(value, str):
        return value[:keep]
    return None


def _keep(field_id: str, rows: Mapping[str, tuple[str, ...]], risk_items: frozenset[str]) -> int:
    """How much of a value the draft keeps for `field_id`; 0 for an id that is not one of
    the intake card's fields (a row the draft does not have, a question not in the matrix)."""
    if field_id in _STATIC_FIELDS:
        limit = _TEXT_LIMITS.get(field_id)
    else:
        risk = _RISK_FIELD.match(field_id)
        row = _ROW_FIELD.match(field_id)
        if risk is not None and risk.group(1) in risk_items:
            limit = None
        elif row is not None and row.group(2) in rows.get(row.group(1), ()):
            limit = _ROW_TEXT_LIMITS.get(row.group(2))
        else:
            return 0
    return 2 * limit if limit else MAX_CHOICE


def merge_inputs(
    draft: Mapping[str, Any], data: Mapping[str, Any], matrix: RiskMatrix
) -> dict[str, Any]:
    """The draft with the card's input values laid over it, field by field.

    Only the intake card's own field ids are kept (rows must exist in the draft, risk
    questions in `matrix`), each within its length, so the button's data (`verb`,
    `referral_id`, a forged `total`, made-up `risk.*` answers...) never lands in the draft;
    anything else an older draft held is dropped.
    """
    rows = {
        **{key: SUBJECT_FIELDS for key in subject_keys(draft)},
        **{key: CHILD_FIELDS for key in child_keys(draft)},
    }
    risk_items = frozenset(item.id for item in matrix.items)
    merged = {
        field_id: value
        for field_id, value in draft.items()
        if field_id in _BOOKKEEPING or _keep(field_id, rows, risk_items)
    }
    for field_id, value in data.items():
        keep = _keep(field_id, rows, risk_items)
        raw = _raw(value, keep) if keep else None
        if raw is not None:
            merged[field_id] = raw
    return merged


def _with_new_row(inputs: Mapping[str, Any], keys_field: str, prefix: str) -> dict[str, Any]:
    changed = dict(inputs)
    number = int(inputs.get(NEXT_KEY) or 1)
    existing = [str(k) for k in inputs.get(keys_field) or []]
    while f"{prefix}{number}" in existing:
        number += 1
    changed[keys_field] = [*existing, f"{prefix}{number}"]
    changed[NEXT_KEY] = number + 1
    return changed


def _without_row(inputs: Mapping[str, Any], keys_field: str, key: str) -> dict[str, Any]:
    changed = {k: v for k, v in inputs.items() if not k.startswith(f"{key}.")}
    changed[keys_field] = [k for k in inputs.get(keys_field) or [] if k != key]
    return changed


def add_subject(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """The draft with one more (empty) subject row, a victim unless changed."""
    if len(subject_keys(inputs)) >= MAX_SUBJECTS:
        raise InvalidInput(f"A referral can name at most {MAX_SUBJECTS} subjects.")
    changed = _with_new_row(inputs, SUBJECT_KEYS, "s")
    changed[row_field(subject_keys(changed)[-1], "role")] = SubjectRole.VICTIM.value
    return changed


def remove_subject(inputs: Mapping[str, Any], key: str) -> dict[str, Any]:
    """The draft without subject row `key`; the last subject cannot be removed."""
    keys = subject_keys(inputs)
    if key not in keys:
        return dict(inputs)
    if len(keys) == 1:
        raise InvalidInput("A referral needs at least one subject.")
    return _without_row(inputs, SUBJECT_KEYS, key)


def add_child(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """The draft with one more (empty) child row."""
    if len(child_keys(inputs)) >= MAX_CHILDREN:
        raise InvalidInput(f"A referral can name at most {MAX_CHILDREN} children.")
    return _with_new_row(inputs, CHILD_KEYS, "c")


def remove_child(inputs: Mapping[str, Any], key: str) -> dict[str, Any]:
    """The draft without child row `key`."""
    return _without_row(inputs, CHILD_KEYS, key)


# --- single values ------------------------------------------------------------------------

# The UK Government Data Standards postcode pattern, with GIR 0AA (Girobank) allowed.
_POSTCODE = re.compile(
    r"^(GIR 0AA|[A-PR-UWYZ]([0-9]{1,2}|[A-HK-Y][0-9]([0-9ABEHMNPRV-Y])?|[0-9][A-HJKPS-UW])"
    r" [0-9][ABD-HJLNP-UW-Z]{2})$"
)
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_PHONE = re.compile(r"^\+?[0-9 ]+$")
# Numbers without a country code are read as UK numbers.
PHONE_REGION = "GB"


def uk_postcode(raw: str) -> str:
    """The postcode in its standard form ('SW1A 1AA'), whatever its spacing and case."""
    compact = re.sub(r"\s+", "", raw).upper()
    spaced = f"{compact[:-3]} {compact[-3:]}"
    if len(compact) < 5 or not _POSTCODE.match(spaced):
        raise InvalidInput("Not a UK postcode: write both of its parts, as in AA9 9AA.")
    return spaced


def is_postcode(raw: str) -> bool:
    """Whether `raw` is a UK postcode, however spaced and cased."""
    try:
        uk_postcode(raw)
    except InvalidInput:
        return False
    return True


def phone_number(raw: str) -> str:
    """A phone number as a real one is written (a UK number, or + and the country code),
    checked against the numbering plan (phonenumbers) and kept in E.164: "020 7946 0018"
    becomes "+442079460018". Digits that no number has ("0000000000") are refused."""
    text = " ".join(raw.split())
    if not _PHONE.match(text):
        raise InvalidInput("Use digits and spaces only, with + at the start if needed.")
    try:
        number = phonenumbers.parse(text, PHONE_REGION)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise InvalidInput(
            "That is not a phone number: check the digits (a UK number such as 020 7946 0018, "
            "or + and the country code)."
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_text(stored: str) -> str:
    """A stored phone number as people read it: a UK number in the national format
    ("020 7946 0018"), another country's with its code ("+33 1 23 45 67 89"); a number stored
    before numbers were checked as it was typed."""
    try:
        number = phonenumbers.parse(stored, PHONE_REGION)
    except phonenumbers.NumberParseException:
        return stored
    if not phonenumbers.is_valid_number(number):
        return stored
    national = phonenumbers.region_code_for_number(number) == PHONE_REGION
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if national
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, style)


def date_of_birth(raw: str, today: date, *, child: bool = False) -> date:
    """A date of birth written YYYY-MM-DD: not in the future, not before 1900, and under 18
    on `today` for a child."""
    text = raw.strip()
    if not _ISO_DATE.match(text):
        raise InvalidInput("Write the date as YYYY-MM-DD.")
    try:
        born = date.fromisoformat(text)
    except ValueError:
        raise InvalidInput("This date does not exist.") from None
    if born > today:
        raise InvalidInput("A date of birth cannot be in the future.")
    if born.year < OLDEST_BIRTH_YEAR:
        raise InvalidInput(f"Check the year: before {OLDEST_BIRTH_YEAR} is not plausible.")
    if child and age_on(born, today) >= ADULT_AGE:
        raise InvalidInput(f"A child is under {ADULT_AGE}: check the date.")
    return born


def age_on(born: date, day: date) -> int:
    """Age in whole years on `day`."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def is_on(raw: Any) -> bool:
    """Whether a toggle's value is on."""
    return str(raw).strip().lower() == "true"


def escalation_suggested(inputs: Mapping[str, Any]) -> bool:
    """Incidents at or above the escalation mark and rising: suggest potential escalation."""
    incidents = str(inputs.get(F.INCIDENTS) or "").strip()
    return (
        incidents.isdigit()
        and int(incidents) >= ESCALATION_INCIDENTS
        and is_on(inputs.get(F.INCIDENTS_RISING))
    )


def risk_progress(inputs: Mapping[str, Any], matrix: RiskMatrix) -> tuple[int, int]:
    """(total of the valid answers so far, how many questions they answer)."""
    total = answered = 0
    for item in matrix.items:
        value = inputs.get(risk_field(item.id))
        option = next((o for o in item.options if o.value == value), None)
        if option is not None:
            total += option.score
            answered += 1
    return total, answered


# --- reading a step -------------------------------------------------------------------------


@dataclass(frozen=True)
class IntakeContext:
    """What the rules need besides the inputs: the day, the panel's matrix and agencies."""

    today: date
    matrix: RiskMatrix
    agency_ids: frozenset[str]


class _Reader:
    """Reads typed values, collecting one error per field instead of stopping at the first."""

    def __init__(self, inputs: Mapping[str, Any], ctx: IntakeContext) -> None:
        self.inputs = inputs
        self.ctx = ctx
        self.errors: dict[str, str] = {}

    def raw(self, field_id: str) -> str:
        value = self.inputs.get(field_id)
        return value.strip() if isinstance(value, str) else ""

    def fail(self, field_id: str, message: str) -> None:
        self.errors.setdefault(field_id, message)

    def text(self, field_id: str, *, limit: int, required: str | None = None) -> str | None:
        """A free-text value; `required` is the message when it is missing."""
        value = self.raw(field_id)
        if not value:
            if required:
                self.fail(field_id, required)
            return None
        if len(value) > limit:
            self.fail(field_id, f"At most {limit} characters (now {len(value)}).")
            return None
        return value

    def toggle(self, field_id: str) -> bool:
        return is_on(self.inputs.get(field_id))

    def parsed(self, field_id: str, parse: Callable[[str], Any]) -> Any:
        """An optional value checked by `parse`, which raises InvalidInput."""
        value = self.raw(field_id)
        if not value:
            return None
        try:
            return parse(value)
        except InvalidInput as err:
            self.fail(field_id, err.message)
            return None

    def choice(self, field_id: str, allowed: Mapping[str, Any], required: str) -> Any:
        value = self.raw(field_id)
        if not value:
            self.fail(field_id, required)
            return None
        if value not in allowed:
            self.fail(field_id, "Choose one of the options.")
            return None
        return allowed[value]


def _about(r: _Reader) -> dict[str, Any]:
    return {
        "category": r.choice(
            F.CATEGORY,
            {c.value: c for c in ReferralCategory},
            "Choose the kind of referral.",
        ),
        "discussed_with": r.text(
            F.DISCUSSED_WITH,
            limit=MAX_SHORT,
            required="Say who in your agency you discussed this with.",
        ),
        "tried_already": r.text(
            F.TRIED_ALREADY, limit=MAX_TEXT, required="Say what has been tried already."
        ),
        "meeting_held": r.toggle(F.MEETING_HELD),
    }


def _aliases(raw: str) -> tuple[str, ...]:
    aliases = tuple(a.strip() for a in raw.split(",") if a.strip())
    if len(aliases) > MAX_ALIASES or any(len(a) > MAX_NAME for a in aliases):
        raise InvalidInput(
            f"At most {MAX_ALIASES} aliases, separated by commas, each up to {MAX_NAME} characters."
        )
    return aliases


def _subject(r: _Reader, key: str) -> Subject | None:
    def f(name: str) -> str:
        return row_field(key, name)

    role = r.choice(f("role"), {s.value: s for s in SubjectRole}, "Choose the subject's role.")
    name = r.text(f("name"), limit=MAX_NAME, required="Write the subject's name.")
    aliases = r.parsed(f("aliases"), _aliases)
    born = r.parsed(f("dob"), lambda raw: date_of_birth(raw, r.ctx.today))
    address = r.text(f("address"), limit=MAX_SHORT)
    postcode = r.parsed(f("postcode"), uk_postcode)
    phone = r.parsed(f("phone"), phone_number)
    vulnerabilities = r.text(f("vulnerabilities"), limit=MAX_TEXT)
    language = r.text(f("language"), limit=MAX_NAME)
    if role is None or name is None:
        return None
    return Subject(
        role=role,
        name=name,
        aliases=aliases or (),
        date_of_birth=born,
        address=address,
        postcode=postcode,
        phone=phone,
        safe_to_call=r.toggle(f("safe_to_call")),
        vulnerabilities=vulnerabilities,
        language=language,
        interpreter_needed=r.toggle(f("interpreter")),
    )


def _subjects(r: _Reader) -> dict[str, Any]:
    keys = subject_keys(r.inputs)
    if not keys:
        r.fail("subjects", "Add at least one subject.")
    if len(keys) > MAX_SUBJECTS:
        r.fail("subjects", f"A referral can name at most {MAX_SUBJECTS} subjects.")
    subjects = [_subject(r, key) for key in keys[:MAX_SUBJECTS]]
    return {"subjects": [s for s in subjects if s is not None]}


def _child(r: _Reader, key: str) -> Child | None:
    name = r.text(row_field(key, "name"), limit=MAX_NAME, required="Write the child's name.")
    dob_field = row_field(key, "dob")
    if not r.raw(dob_field):
        r.fail(dob_field, "Give the child's date of birth.")
    born = r.parsed(dob_field, lambda raw: date_of_birth(raw, r.ctx.today, child=True))
    if name is None or born is None:
        return None
    return Child(name=name, date_of_birth=born)


def _incidents(raw: str) -> int:
    if not raw.isdigit() or int(raw) > MAX_INCIDENTS:
        raise InvalidInput(f"Write a whole number from 0 to {MAX_INCIDENTS}.")
    return int(raw)


def _agencies(known: frozenset[str]) -> Callable[[str], tuple[str, ...]]:
    def parse(raw: str) -> tuple[str, ...]:
        chosen = tuple(dict.fromkeys(a.strip() for a in raw.split(",") if a.strip()))
        if any(a not in known for a in chosen):
            raise InvalidInput("Choose agencies from the list.")
        return chosen

    return parse


def _household(r: _Reader) -> dict[str, Any]:
    keys = child_keys(r.inputs)
    if len(keys) > MAX_CHILDREN:
        r.fail("children", f"A referral can name at most {MAX_CHILDREN} children.")
    children = [_child(r, key) for key in keys[:MAX_CHILDREN]]
    if not r.raw(F.INCIDENTS):
        r.fail(F.INCIDENTS, "Say how many incidents there were (0 if none).")
    return {
        "children": [c for c in children if c is not None],
        "relationship": r.text(F.RELATIONSHIP, limit=MAX_TEXT),
        "incidents": r.parsed(F.INCIDENTS, _incidents),
        "incidents_rising": r.toggle(F.INCIDENTS_RISING),
        "agencies_involved": r.parsed(F.AGENCIES, _agencies(r.ctx.agency_ids)) or (),
    }


def _consent(r: _Reader) -> dict[str, Any]:
    aware = r.toggle(F.CONSENT_AWARE)
    consented = r.toggle(F.CONSENT_GIVEN)
    reason = r.text(F.CONSENT_REASON, limit=MAX_TEXT)
    if consented and not aware:
        r.fail(F.CONSENT_AWARE, "Someone who consented knows of the referral: tick this too.")
    if not consented and reason is None and F.CONSENT_REASON not in r.errors:
        r.fail(F.CONSENT_REASON, "Say why you share this without the subject's consent.")
    return {
        "consent": Consent(
            aware=aware,
            consented=consented,
            without_consent_reason=None if consented else reason,
        )
    }


def _risk(r: _Reader) -> dict[str, Any]:
    answers: dict[str, str] = {}
    for item in r.ctx.matrix.items:
        field_id = risk_field(item.id)
        options = {o.value: o.value for o in item.options}
        value = r.choice(field_id, options, "Choose an answer.")
        if value is not None:
            answers[item.id] = value
    total = r.ctx.matrix.score(answers) if len(answers) == len(r.ctx.matrix.items) else None
    return {"risk_answers": answers, "risk_total": total}


def _review(r: _Reader) -> dict[str, Any]:
    judgement = r.toggle(F.JUDGEMENT)
    justification = r.text(F.JUSTIFICATION, limit=MAX_TEXT)
    if (
        judgement
        and F.JUSTIFICATION not in r.errors
        and len(justification or "") < (MIN_JUSTIFICATION)
    ):
        r.fail(
            F.JUSTIFICATION,
            f"Explain your professional judgement in at least {MIN_JUSTIFICATION} characters.",
        )
    r.text(F.ANSWER, limit=MAX_TEXT)
    return {
        "potential_escalation": r.toggle(F.ESCALATION),
        "professional_judgement": justification if judgement else None,
        "explanation": justification or None,
    }


_STEP_READERS: dict[Step, Callable[[_Reader], dict[str, Any]]] = {
    Step.ABOUT: _about,
    Step.SUBJECTS: _subjects,
    Step.HOUSEHOLD: _household,
    Step.CONSENT: _consent,
    Step.RISK: _risk,
    Step.REVIEW: _review,
}


def validate_step(step: Step, inputs: Mapping[str, Any], ctx: IntakeContext) -> dict[str, str]:
    """What is wrong on one step: field id → a message to show next to that field."""
    reader = _Reader(inputs, ctx)
    _STEP_READERS[step](reader)
    return reader.errors


def validate_all(inputs: Mapping[str, Any], ctx: IntakeContext) -> dict[Step, dict[str, str]]:
    """What is wrong on every step that has errors, in the order of the steps."""
    found = {step: validate_step(step, inputs, ctx) for step in STEPS}
    return {step: errors for step, errors in found.items() if errors}


@dataclass(frozen=True)
class IntakeFields:
    """A valid draft read into the referral's structured fields."""

    category: ReferralCategory
    discussed_with: str
    tried_already: str
    meeting_held: bool
    subjects: list[Subject]
    children: list[Child]
    relationship: str | None
    incidents: int
    incidents_rising: bool
    agencies_involved: tuple[str, ...]
    consent: Consent
    risk_answers: dict[str, str]
    risk_matrix_version: str
    risk_total: int
    risk_threshold: int
    criteria: Criteria

    def apply_to(self, referral: Referral) -> None:
        """Store the fields on the referral (its status is not changed here)."""
        referral.category = self.category
        referral.discussed_with = self.discussed_with
        referral.tried_already = self.tried_already
        referral.multi_professional_meeting_held = self.meeting_held
        referral.subjects = list(self.subjects)
        referral.children = list(self.children)
        referral.relationship = self.relationship
        referral.incidents_last_12_months = self.incidents
        referral.incidents_rising = self.incidents_rising
        referral.agencies_involved = self.agencies_involved
        referral.consent = self.consent
        referral.risk_answers = dict(self.risk_answers)
        referral.risk_matrix_version = self.risk_matrix_version
        referral.risk_total = self.risk_total
        referral.risk_threshold = self.risk_threshold
        referral.criteria = self.criteria


def read_referral(inputs: Mapping[str, Any], ctx: IntakeContext) -> IntakeFields:
    """Every step read into the referral's fields; InvalidInput naming every bad field."""
    reader = _Reader(inputs, ctx)
    values: dict[str, Any] = {}
    for step in STEPS:
        values.update(_STEP_READERS[step](reader))
    if reader.errors:
        raise InvalidInput("Some fields need correcting before you submit.", reader.errors)
    total: int = values["risk_total"]
    return IntakeFields(
        category=values["category"],
        discussed_with=values["discussed_with"],
        tried_already=values["tried_already"],
        meeting_held=values["meeting_held"],
        subjects=values["subjects"],
        children=values["children"],
        relationship=values["relationship"],
        incidents=values["incidents"],
        incidents_rising=values["incidents_rising"],
        agencies_involved=values["agencies_involved"],
        consent=values["consent"],
        risk_answers=values["risk_answers"],
        risk_matrix_version=ctx.matrix.version,
        risk_total=total,
        risk_threshold=ctx.matrix.threshold,
        criteria=Criteria(
            high_risk=ctx.matrix.is_high(total),
            potential_escalation=values["potential_escalation"],
            professional_judgement=values["professional_judgement"],
            explanation=values["explanation"],
        ),
    )


def _flag(value: bool) -> str:
    return "true" if value else "false"


def inputs_from_referral(referral: Referral) -> dict[str, Any]:
    """A draft's inputs rebuilt from a referral's stored fields, for a referral that has
    none kept (e.g. one made before drafts were kept) and is sent back for more information."""
    inputs: dict[str, Any] = {
        SUBJECT_KEYS: [f"s{n}" for n in range(1, len(referral.subjects) + 1)] or ["s1"],
        CHILD_KEYS: [f"c{n}" for n in range(1, len(referral.children) + 1)],
        NEXT_KEY: len(referral.subjects) + len(referral.children) + 1,
        F.CATEGORY: referral.category.value,
        F.DISCUSSED_WITH: referral.discussed_with or "",
        F.TRIED_ALREADY: referral.tried_already or "",
        F.MEETING_HELD: _flag(referral.multi_professional_meeting_held),
        F.RELATIONSHIP: referral.relationship or "",
        F.INCIDENTS: str(referral.incidents_last_12_months),
        F.INCIDENTS_RISING: _flag(referral.incidents_rising),
        F.AGENCIES: ",".join(referral.agencies_involved),
        F.CONSENT_AWARE: _flag(referral.consent.aware),
        F.CONSENT_GIVEN: _flag(referral.consent.consented),
        F.CONSENT_REASON: referral.consent.without_consent_reason or "",
        F.ESCALATION: _flag(referral.criteria.potential_escalation),
        F.JUDGEMENT: _flag(bool(referral.criteria.professional_judgement)),
        F.JUSTIFICATION: referral.criteria.explanation
        or referral.criteria.professional_judgement
        or "",
    }
    if not referral.subjects:
        inputs["s1.role"] = SubjectRole.VICTIM.value
    for n, subject in enumerate(referral.subjects, 1):
        key = f"s{n}"
        inputs.update(
            {
                row_field(key, "role"): subject.role.value,
                row_field(key, "name"): subject.name,
                row_field(key, "aliases"): ", ".join(subject.aliases),
                row_field(key, "dob"): (
                    subject.date_of_birth.isoformat() if subject.date_of_birth else ""
                ),
                row_field(key, "address"): subject.address or "",
                row_field(key, "postcode"): subject.postcode or "",
                row_field(key, "phone"): phone_text(subject.phone) if subject.phone else "",
                row_field(key, "safe_to_call"): _flag(subject.safe_to_call),
                row_field(key, "vulnerabilities"): subject.vulnerabilities or "",
                row_field(key, "language"): subject.language or "",
                row_field(key, "interpreter"): _flag(subject.interpreter_needed),
            }
        )
    for n, child in enumerate(referral.children, 1):
        key = f"c{n}"
        inputs[row_field(key, "name")] = child.name
        inputs[row_field(key, "dob")] = (
            child.date_of_birth.isoformat() if child.date_of_birth else ""
        )
    for item_id, value in referral.risk_answers.items():
        inputs[risk_field(item_id)] = value
    return inputs
