"""Subject access and erasure, for the coordinator in private chat only: the forms, what was
found, the two download links, the erasure's confirmation and its outcome.

None of these cards may be posted where more than one person reads: they are of no kind the
channel gate lets through.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from adaptive_cards import card as ac
from adaptive_cards import types as t

from cards.kit import Card, build, facts, heading, paragraph
from cards.verbs import Verb

if TYPE_CHECKING:
    from collections.abc import Sequence

SAR_FORM_TITLE = "Subject access request"
FIND_BUTTON = "Find what is held"
DOCX_BUTTON = "Download Word document"
JSON_BUTTON = "Download JSON"
ERASE_FORM_TITLE = "Erase a person's data"
PREVIEW_BUTTON = "Show what would be erased"
ERASE_BUTTON = "Erase"
ERASED_TITLE = "Personal data erased"
ALREADY_ERASED_TITLE = "Already erased"
REASON_LABEL = "Reason for erasing (kept in the audit trail: do not name the person)"
MAX_REASON = 400  # the audit event keeps 500 characters, with its prefix
# Input ids and data keys: written by these cards, read back by bot.features.records.commands.
# A button that goes on with one person carries them under the form's own input ids.
NAME_ID = "name"
BIRTH_DATE_ID = "date_of_birth"  # YYYY-MM-DD, or "" when not recorded
POSTCODE_ID = "postcode"
REASON_ID = "reason"
# One erasure's confirmation: a second click of the same card does nothing.
TOKEN_KEY = "token"  # noqa: S105 (the name of a card data key, not a secret)
CHOSEN_KEY = "chosen"  # CHOSEN on the button of one person a search listed
CHOSEN = "1"
MAX_NAME = 200
MAX_BIRTH_DATE = 20
MAX_POSTCODE = 10

REMOVED = (
    "Removed: the person's name, aliases, date of birth, address, postcode, phone, "
    "vulnerabilities and language, and the narratives of these referrals and their cases "
    "(what was tried, consent, judgement, the agencies' answers, the actions' text and "
    "updates, the chair's notes and the minutes' summaries), each replaced by “[erased]”."
)
KEPT = (
    "Kept, as anonymous statistics: references, dates, statuses, risk levels, agencies, "
    "decisions and closure reasons. Other people in these referrals are not touched."
)


def sar_title(name: str) -> str:
    """e.g. "Subject access: Rosa Lindqvist"."""
    return f"Subject access: {name}"


def erase_title(name: str) -> str:
    """e.g. "Erase Rosa Lindqvist's personal data?"."""
    return f"Erase {name}'s personal data?"


CHOOSE_SAR_BUTTON = "Find what is held about this person"
CHOOSE_ERASE_BUTTON = "Show what would be erased for this person"
NOT_RECORDED = "date of birth not recorded"


def described(born: str, postcode: str | None = None) -> str:
    """ "born 2 Sep 1986", or "date of birth not recorded · RV2 7LD"."""
    text = f"born {born}" if born else NOT_RECORDED
    return f"{text} · {postcode}" if postcode else text


def _person_inputs(name: str, date_of_birth: str, postcode: str) -> list[Any]:
    return [
        ac.InputText(
            id=NAME_ID,
            label="Full name",
            value=name or None,
            is_required=True,
            error_message="Write the person's name.",
            max_length=MAX_NAME,
        ),
        ac.InputDate(
            id=BIRTH_DATE_ID,
            label="Date of birth (if you know it)",
            value=date_of_birth or None,
        ),
        ac.InputText(
            id=POSTCODE_ID,
            label="Postcode (if you know it)",
            value=postcode or None,
            max_length=MAX_POSTCODE,
        ),
    ]


@dataclass(frozen=True)
class PersonFormView:
    """The form that asks for a name, and a date of birth or postcode if known (subject
    access, or erasure)."""

    panel_name: str
    name: str = ""
    date_of_birth: str = ""  # YYYY-MM-DD
    notice: str | None = None
    postcode: str = ""


def render_sar_form(view: PersonFormView) -> Card:
    """`sar` without a person: ask who."""
    body: list[Any] = [
        *heading(SAR_FORM_TITLE, view.panel_name),
        paragraph(
            "Find everything the panel holds about one person: the referrals that name them "
            "(as a subject or a child in the household), the cases, the agencies' answers, "
            "the actions and the minutes. You get it as a Word document and as JSON."
        ),
    ]
    if view.notice:
        body.append(paragraph(view.notice, attention=True))
    body += _person_inputs(view.name, view.date_of_birth, view.postcode)
    find = ac.ActionExecute(title=FIND_BUTTON, verb=Verb.DP_SAR_FIND.value, data={})
    return build(body, [find], fallback=SAR_FORM_TITLE)


def render_erase_form(view: PersonFormView) -> Card:
    """`erase` without a person: ask who; nothing is erased before a confirmation."""
    body: list[Any] = [
        *heading(ERASE_FORM_TITLE, view.panel_name),
        paragraph(
            "On a lawful request, remove one person's personal data from the panel's "
            "records. First you see what would be removed; nothing is erased until you "
            "confirm it with a reason."
        ),
    ]
    if view.notice:
        body.append(paragraph(view.notice, attention=True))
    body += _person_inputs(view.name, view.date_of_birth, view.postcode)
    preview = ac.ActionExecute(title=PREVIEW_BUTTON, verb=Verb.DP_ERASE_PREVIEW.value, data={})
    return build(body, [preview], fallback=ERASE_FORM_TITLE)


@dataclass(frozen=True)
class SarResultView:
    panel_name: str
    name: str
    born: str  # "2 Sep 1986"
    found: Sequence[str]  # "Victim in RF-2026-0047 (case CM-2026-014, open)"
    counts: Sequence[tuple[str, str]]
    docx_url: str | None
    json_url: str | None
    expires: str | None = None  # "Fri 27 Nov 2026"
    postcode: str | None = None  # for someone recorded without a date of birth


def render_sar_result(view: SarResultView) -> Card:
    """What was found, and the two downloads (Teams cards cannot carry files)."""
    title = sar_title(view.name)
    body: list[Any] = [
        *heading(title, f"{view.panel_name} · {described(view.born, view.postcode)}")
    ]
    if not view.found:
        body.append(
            paragraph(
                "The panel holds nothing about this person under this name. Try another "
                "spelling or an alias, or leave out the date of birth, if you think it should."
            )
        )
        return build(body, fallback=title)
    body.append(facts(view.counts))
    body += [paragraph(f"• {line}") for line in view.found]
    actions: list[Any] = []
    if view.docx_url and view.json_url:
        actions = [
            ac.ActionOpenUrl(title=DOCX_BUTTON, url=view.docx_url),
            ac.ActionOpenUrl(title=JSON_BUTTON, url=view.json_url),
        ]
        note = "The links are yours alone: do not forward them."
        if view.expires:
            note += f" They work until {view.expires}."
        body.append(paragraph(note, subtle=True))
    else:
        body.append(
            paragraph(
                "Downloads are not set up here (PUBLIC_URL and LINK_SECRETS): ask your "
                "administrator.",
                subtle=True,
            )
        )
    body.append(
        paragraph(
            "Read the export for other people's information before you disclose it. This "
            "search is recorded in the audit trail.",
            subtle=True,
        )
    )
    return build(body, actions, fallback=title)


@dataclass(frozen=True)
class ErasePreviewView:
    panel_name: str
    name: str
    born: str
    date_of_birth: str  # YYYY-MM-DD, carried by the button
    found: Sequence[str]
    token: str  # one confirmation: a second click of the same card does nothing
    reason: str = ""
    notice: str | None = None
    postcode: str | None = None  # for someone recorded without a date of birth


def render_erase_preview(view: ErasePreviewView) -> Card:
    """What erasing would remove, the reason to record, and the destructive button."""
    title = erase_title(view.name)
    body: list[Any] = [
        *heading(title, f"{view.panel_name} · {described(view.born, view.postcode)}")
    ]
    if view.notice:
        body.append(paragraph(view.notice, attention=True))
    body.append(paragraph("**Found**"))
    body += [paragraph(f"• {line}") for line in view.found]
    body += [
        paragraph(REMOVED),
        paragraph(KEPT, subtle=True),
        ac.InputText(
            id=REASON_ID,
            label=REASON_LABEL,
            value=view.reason or None,
            is_multiline=True,
            is_required=True,
            error_message="Give the reason for erasing.",
            max_length=MAX_REASON,
            placeholder="e.g. Erasure request under UK GDPR Art. 17, letter of 3 Nov 2026",
        ),
        paragraph("This cannot be undone.", attention=True),
    ]
    erase = ac.ActionExecute(
        title=ERASE_BUTTON,
        verb=Verb.DP_ERASE_CONFIRM.value,
        data={
            NAME_ID: view.name,
            BIRTH_DATE_ID: view.date_of_birth,
            POSTCODE_ID: view.postcode or "",
            TOKEN_KEY: view.token,
        },
        style=t.ActionStyle.DESTRUCTIVE,
    )
    return build(body, [erase], fallback=title)


@dataclass(frozen=True)
class PersonChoice:
    """One person a search found: "Rosa Lindqvist", "2 Sep 1986", and where."""

    name: str
    born: str  # "2 Sep 1986", or "" when not recorded
    date_of_birth: str  # YYYY-MM-DD or "", carried by the button
    postcode: str | None  # as recorded; carried when there is no date of birth
    found_in: Sequence[str]  # "victim in RF-2026-0047"


@dataclass(frozen=True)
class CandidatesView:
    """Everyone a search by name found, to pick the one meant (subject access or erasure)."""

    panel_name: str
    query: str  # "Rosa Lindqvist", as typed
    people: Sequence[PersonChoice]
    erase: bool = False


def _people(count: int) -> str:
    return "1 person" if count == 1 else f"{count} people"


def render_candidates(view: CandidatesView) -> Card:
    """The people a name matches, each with their date of birth (or postcode) and the
    referrals that name them, and a button to go on with one of them."""
    title = ERASE_FORM_TITLE if view.erase else SAR_FORM_TITLE
    verb = Verb.DP_ERASE_PREVIEW if view.erase else Verb.DP_SAR_FIND
    label = CHOOSE_ERASE_BUTTON if view.erase else CHOOSE_SAR_BUTTON
    body: list[Any] = [
        *heading(title, view.panel_name),
        paragraph(
            f"{_people(len(view.people))} recorded under “{view.query}”. Choose the one the "
            "request is about: entries without a date of birth may be the same person, "
            "or someone else of that name."
        ),
    ]
    for person in view.people:
        body.append(paragraph(f"**{person.name}**, {described(person.born, person.postcode)}"))
        body += [paragraph(f"• {line[:1].upper()}{line[1:]}") for line in person.found_in]
        body.append(
            ac.ActionSet(
                actions=[
                    ac.ActionExecute(
                        title=label,
                        verb=verb.value,
                        data={
                            NAME_ID: person.name,
                            BIRTH_DATE_ID: person.date_of_birth,
                            POSTCODE_ID: "" if person.date_of_birth else person.postcode or "",
                            CHOSEN_KEY: CHOSEN,
                        },
                    )
                ]
            )
        )
    return build(body, fallback=title)


@dataclass(frozen=True)
class ErasedView:
    panel_name: str
    counts: Sequence[tuple[str, str]]
    reason: str
    already: bool = False


def render_erased(view: ErasedView) -> Card:
    """The outcome, naming nobody: the card stays in the chat."""
    title = ALREADY_ERASED_TITLE if view.already else ERASED_TITLE
    body: list[Any] = [*heading(title, view.panel_name)]
    if view.already:
        body.append(paragraph("This erasure was done already; nothing more was changed."))
        return build(body, fallback=title)
    body += [
        facts([*view.counts, ("Reason recorded", view.reason)]),
        paragraph(
            "The person's entries and these records' narratives now read “[erased]”. The "
            "erasure is recorded in the audit trail with its reason.",
            subtle=True,
        ),
    ]
    return build(body, fallback=title)
