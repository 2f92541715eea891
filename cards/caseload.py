"""The caseload cards: `cases` (the panel's open cases at a glance, no personal data) and
`find` (the people referred found by name or postcode, in the private chat only)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from adaptive_cards import card as ac

from cards.kit import Card, build, command_button, heading, paragraph
from cards.verbs import Verb

if TYPE_CHECKING:
    from collections.abc import Sequence

CASES_TITLE = "The caseload"
FIND_TITLE = "People referred"
# The "More" button's data: the page it opens and the filter as typed (read back by
# bot.features.caseload.commands).
PAGE_KEY = "page"
FILTER_KEY = "filter"
MORE_BUTTON = "More"


def open_case_title(reference: str) -> str:
    """The title of the button that opens a case (`case CM-…`) or a referral."""
    return f"Open {reference}"


@dataclass(frozen=True)
class CaseLine:
    """One open case: its reference, lead agency, risk, next hearing, overdue actions."""

    reference: str
    lead_agency: str
    risk_level: str
    next_hearing: str
    overdue: int


@dataclass(frozen=True)
class CaseloadView:
    panel_name: str
    lines: Sequence[CaseLine]  # this page's
    # What the list holds, in words ("Open cases", "Open cases with overdue actions", …).
    shows: str
    total: int
    page: int = 1
    pages: int = 1
    filter: str = ""  # as typed, carried by the More button
    empty: str = "The panel has no open case."


def _overdue(count: int) -> str:
    if count == 0:
        return "no overdue action"
    return "1 overdue action" if count == 1 else f"{count} overdue actions"


def _line(line: CaseLine) -> Any:
    text = (
        f"**{line.reference}** · {line.risk_level} risk · lead: {line.lead_agency} · "
        f"next hearing: {line.next_hearing} · {_overdue(line.overdue)}"
    )
    return ac.Container(
        items=[
            paragraph(text, attention=line.overdue > 0),
            ac.ActionSet(
                actions=[command_button(open_case_title(line.reference), f"case {line.reference}")]
            ),
        ],
        separator=True,
    )


def render_caseload(view: CaseloadView) -> Card:
    """One page of open cases, highest risk and soonest hearing first, each with a button to
    open it, and "More" for the next page."""
    counted = f"{view.total} case" if view.total == 1 else f"{view.total} cases"
    page = f" · page {view.page} of {view.pages}" if view.pages > 1 else ""
    body: list[Any] = [*heading(CASES_TITLE, f"{view.panel_name} · {view.shows}: {counted}{page}")]
    if not view.lines:
        body.append(paragraph(view.empty))
    body += [_line(line) for line in view.lines]
    body.append(
        paragraph(
            "Narrow it: `cases overdue`, `cases high`, `cases <agency>`. "
            "Search people: `find <name or postcode>`.",
            subtle=True,
        )
    )
    actions: list[Any] = []
    if view.page < view.pages:
        actions.append(
            ac.ActionExecute(
                title=MORE_BUTTON,
                verb=Verb.CASES_PAGE.value,
                data={PAGE_KEY: view.page + 1, FILTER_KEY: view.filter},
            )
        )
    return build(body, actions, fallback=CASES_TITLE, full_width=True)


@dataclass(frozen=True)
class Hit:
    """A person referred found by a search: the record, their role, the name as recorded,
    why it matched and how strongly."""

    reference: str
    record: str  # e.g. "case, open" or "referral, waiting for a decision"
    role: str
    name: str
    why: str
    strength: int  # percent
    # The command its Open button runs (`case CM-…`, or `referrals RF-…` for the
    # coordinator, who triages); None: no button.
    opens: str | None = None


@dataclass(frozen=True)
class FindView:
    panel_name: str
    searched_by: str  # "name" or "postcode"
    hits: Sequence[Hit]
    more: bool = False  # hits beyond those shown
    limited: bool = False  # the caller sees only the records their agency may


def _hit(hit: Hit) -> Any:
    items: list[Any] = [
        paragraph(
            f"**{hit.reference}** · {hit.record} · {hit.role}: **{hit.name}** · "
            f"{hit.why} · {hit.strength}% alike"
        )
    ]
    if hit.opens:
        items.append(
            ac.ActionSet(actions=[command_button(open_case_title(hit.reference), hit.opens)])
        )
    return ac.Container(items=items, separator=True)


def render_find(view: FindView) -> Card:
    """The search's hits, strongest first; personal data: for the private chat only."""
    counted = "1 found" if len(view.hits) == 1 else f"{len(view.hits)} found"
    body: list[Any] = [
        *heading(FIND_TITLE, f"{view.panel_name} · searched by {view.searched_by} · {counted}")
    ]
    if not view.hits:
        body.append(
            paragraph(
                "Nobody referred to the panel matches. Try the name as another agency may "
                "have written it, or the postcode."
            )
        )
    body += [_hit(hit) for hit in view.hits]
    if view.more:
        body.append(
            paragraph(
                "Only the strongest matches are shown: add more of the name, or search by "
                "postcode.",
                subtle=True,
            )
        )
    if view.limited:
        body.append(
            paragraph(
                "You see only the cases and referrals your agency is involved in.", subtle=True
            )
        )
    body.append(paragraph("Every search is recorded in the panel's audit trail.", subtle=True))
    return build(body, fallback=FIND_TITLE, full_width=True)
