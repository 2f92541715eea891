"""Building a meeting's agenda: what is on it, in DOMAIN.md's order, and how long it takes.

Pure rules: the services layer loads the meeting, its items, the cases and the unmet
actions, and saves what `build_agenda` returns.

Order: (1) welcome and confidentiality statement; (2) unmet actions from earlier meetings;
(3) new cases, those with children in the household first, then by risk score (highest
first); (4) cases due for review; (5) any other business. Until the coordinator reorders by
hand, every build sorts the case sections again; afterwards their order is kept and new
items join the end of their section.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.domain.case import Case, CaseStatus
from bot.domain.errors import InvalidInput, InvalidTransition
from bot.domain.meeting import (
    SECTION_ORDER,
    AgendaItem,
    AgendaItemKind,
    AgendaItemStatus,
    Meeting,
    MeetingStatus,
)
from bot.domain.risk import RiskLevel

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

CONFIDENTIALITY_TITLE = "Welcome and confidentiality statement"
UNMET_TITLE = "Unmet actions from earlier meetings"
SECTION_NAMES: dict[AgendaItemKind, str] = {
    AgendaItemKind.CONFIDENTIALITY: "Welcome",
    AgendaItemKind.UNMET_ACTIONS: "Unmet actions",
    AgendaItemKind.NEW_CASE: "New cases",
    AgendaItemKind.REVIEW_CASE: "Cases due for review",
    AgendaItemKind.OTHER_BUSINESS: "Any other business",
}
MAX_TITLE = 200
# A meeting that has not ended (or been cancelled) still holds its pending items.
OPEN_MEETINGS = frozenset(
    {MeetingStatus.SCHEDULED, MeetingStatus.AGENDA_PUBLISHED, MeetingStatus.IN_PROGRESS}
)
_RISK_RANK = {RiskLevel.HIGH: 0, RiskLevel.MEDIUM: 1, RiskLevel.STANDARD: 2}


@dataclass(frozen=True)
class AgendaTiming:
    """How long each kind of item is planned for; a panel can configure it.

    DOMAIN.md plans 12 to 15 minutes a case; the default is 15.
    """

    minutes_per_case: int = 15
    confidentiality_minutes: int = 5
    minutes_per_unmet_action: int = 2
    unmet_minimum_minutes: int = 5
    other_business_minutes: int = 5

    def __post_init__(self) -> None:
        for name in (
            "minutes_per_case",
            "confidentiality_minutes",
            "minutes_per_unmet_action",
            "unmet_minimum_minutes",
            "other_business_minutes",
        ):
            value = getattr(self, name)
            if not 1 <= value <= 120:
                raise InvalidInput(f"{name} is 1 to 120 minutes.", {name: "invalid"})

    def unmet_minutes(self, count: int) -> int:
        return max(self.unmet_minimum_minutes, count * self.minutes_per_unmet_action)


@dataclass(frozen=True)
class Timing:
    """The planned length of the running agenda against the meeting's."""

    planned_minutes: int
    meeting_minutes: int

    @property
    def overrun_minutes(self) -> int:
        return max(0, self.planned_minutes - self.meeting_minutes)

    @property
    def fits(self) -> bool:
        return self.overrun_minutes == 0


def running_items(items: Iterable[AgendaItem]) -> list[AgendaItem]:
    """The items the meeting goes through (neither removed nor deferred), in order."""
    return sorted((i for i in items if i.is_active), key=lambda i: (i.position, i.id))


def timing(meeting: Meeting, items: Iterable[AgendaItem]) -> Timing:
    """How long the running agenda is planned to take, and whether it fits the meeting."""
    planned = sum(i.minutes_estimate for i in items if i.is_active)
    return Timing(planned, meeting.length_minutes)


# --- which cases belong on an agenda --------------------------------------------------------


def listed_elsewhere(
    case: Case, meeting: Meeting, items: Iterable[AgendaItem], meetings: Mapping[str, Meeting]
) -> bool:
    """Whether the case waits on another meeting's agenda that has not ended or been
    cancelled (a later meeting it was deferred or listed to)."""
    for item in items:
        if item.case_id != case.id or item.meeting_id == meeting.id:
            continue
        other = meetings.get(item.meeting_id)
        if (
            item.status is AgendaItemStatus.PENDING
            and other is not None
            and other.status in OPEN_MEETINGS
        ):
            return True
    return False


def removed_by_hand(
    case: Case, items: Iterable[AgendaItem], meetings: Mapping[str, Meeting]
) -> bool:
    """Whether the coordinator took the case off its most recent agenda: it is not listed
    again by itself (the coordinator can add it back)."""
    mine = [i for i in items if i.case_id == case.id and i.meeting_id in meetings]
    if not mine:
        return False
    latest = max(mine, key=lambda i: (meetings[i.meeting_id].starts_at, i.position))
    return latest.status is AgendaItemStatus.REMOVED


def due_at(case: Case, meeting: Meeting, review_meeting: Meeting | None) -> AgendaItemKind | None:
    """Whether an open case is due at `meeting`, and as what.

    A case never heard is a new case. A heard case is reviewed at the meeting the panel set
    for it; with none set, at the next meeting; and when the meeting set for it was
    cancelled, has gone by, or no longer exists, at the next one after. Nothing is due at an
    urgent meeting: it hears only the cases it was called for.
    """
    if meeting.urgent:
        return None
    if case.status is CaseStatus.OPEN:
        return AgendaItemKind.NEW_CASE
    if case.status is not CaseStatus.HEARD:
        return None
    if case.review_meeting_id is None or case.review_meeting_id == meeting.id:
        return AgendaItemKind.REVIEW_CASE
    if review_meeting is None or review_meeting.status is MeetingStatus.CANCELLED:
        return AgendaItemKind.REVIEW_CASE
    if review_meeting.starts_at < meeting.starts_at:
        return AgendaItemKind.REVIEW_CASE
    return None


# --- building ------------------------------------------------------------------------------


def _case_key(item: AgendaItem, cases: Mapping[str, Case]) -> tuple[object, ...]:
    case = cases.get(item.case_id or "")
    if case is None:
        return (2, 0, 0, item.title)
    if item.kind is AgendaItemKind.NEW_CASE:
        # Children in the household first, then the highest risk score.
        return (
            0 if case.has_children else 1,
            -(case.risk_score or 0),
            case.opened_at,
            case.reference,
        )
    return (_RISK_RANK[case.risk_level], -(case.risk_score or 0), case.reference)


def _auto_key(item: AgendaItem, cases: Mapping[str, Case]) -> tuple[object, ...]:
    if item.kind in {AgendaItemKind.NEW_CASE, AgendaItemKind.REVIEW_CASE}:
        return _case_key(item, cases)
    return (item.position,)


def build_agenda(
    meeting: Meeting,
    items: Sequence[AgendaItem],
    cases: Mapping[str, Case],
    *,
    due: Sequence[tuple[Case, AgendaItemKind]],
    unmet_action_ids: Sequence[str],
    timing: AgendaTiming,
) -> list[AgendaItem]:
    """The meeting's whole agenda (kept, changed and new items) in order, positions 1..n.

    `items` is what the meeting holds now (triage lists accepted cases as they come);
    `cases` holds every case those items and `due` name; `due` the open cases that belong on
    this agenda, each as a new or review case; `unmet_action_ids` the actions still open and
    due by the meeting. A case already on this agenda, in any state, is never added again:
    what the coordinator removed or deferred stays so.
    """
    if not meeting.agenda_editable:
        raise InvalidTransition("The agenda of a meeting that has started no longer changes.")
    result = list(items)
    on_agenda = {i.case_id for i in result if i.case_id}

    def add(kind: AgendaItemKind, title: str, case_id: str | None = None) -> AgendaItem:
        item = AgendaItem(
            panel_id=meeting.panel_id,
            meeting_id=meeting.id,
            kind=kind,
            position=len(result) + 1_000,  # after every item kept, until renumbered
            title=title,
            case_id=case_id,
        )
        result.append(item)
        return item

    if not any(i.kind is AgendaItemKind.CONFIDENTIALITY for i in result):
        add(AgendaItemKind.CONFIDENTIALITY, CONFIDENTIALITY_TITLE)
    unmet = next((i for i in result if i.kind is AgendaItemKind.UNMET_ACTIONS), None)
    if unmet_action_ids:
        if unmet is None:
            unmet = add(AgendaItemKind.UNMET_ACTIONS, UNMET_TITLE)
        unmet.action_ids = tuple(unmet_action_ids)
        unmet.status, unmet.note = AgendaItemStatus.PENDING, None
    elif unmet is not None and unmet.status is AgendaItemStatus.PENDING:
        unmet.action_ids = ()
        unmet.status, unmet.note = AgendaItemStatus.REMOVED, "No unmet actions."
    for case, kind in due:
        if case.id not in on_agenda:
            add(kind, case.reference, case_id=case.id)
            on_agenda.add(case.id)

    for item in result:
        if item.status is not AgendaItemStatus.PENDING:
            continue
        heard = cases.get(item.case_id or "")
        if item.kind is AgendaItemKind.NEW_CASE and heard and heard.status is CaseStatus.HEARD:
            # Heard meanwhile (at an urgent meeting): this meeting reviews it.
            item.kind = AgendaItemKind.REVIEW_CASE
        if item.kind is AgendaItemKind.CONFIDENTIALITY:
            item.minutes_estimate = timing.confidentiality_minutes
        elif item.kind is AgendaItemKind.UNMET_ACTIONS:
            item.minutes_estimate = timing.unmet_minutes(len(item.action_ids))
        elif item.is_case:
            item.minutes_estimate = timing.minutes_per_case
    return renumber(result, cases, manual=meeting.agenda_manual)


def renumber(
    items: Sequence[AgendaItem], cases: Mapping[str, Case], *, manual: bool
) -> list[AgendaItem]:
    """Sort into sections (set-aside items last in theirs) and number 1..n.

    By hand (`manual`), items keep their relative order within a section; otherwise the
    case sections are sorted by their rule.
    """

    def key(item: AgendaItem) -> tuple[object, ...]:
        section = SECTION_ORDER[item.kind]
        within = (item.position,) if manual else _auto_key(item, cases)
        return (section, not item.is_active, *within, item.id)

    ordered = sorted(items, key=key)
    for position, item in enumerate(ordered, start=1):
        item.position = position
    return ordered


def move_item(items: Sequence[AgendaItem], item_id: str, *, up: bool) -> list[AgendaItem]:
    """Swap an item with its neighbour in its section (by hand); positions stay 1..n."""
    ordered = sorted(items, key=lambda i: (i.position, i.id))
    item = next((i for i in ordered if i.id == item_id), None)
    if item is None:
        raise InvalidInput("That item is no longer on the agenda.")
    if item.kind in {AgendaItemKind.CONFIDENTIALITY, AgendaItemKind.UNMET_ACTIONS}:
        raise InvalidInput(f"“{item.title}” keeps its place on the agenda.")
    if not item.is_active:
        raise InvalidInput(f"“{item.title}” is not on the running agenda.")
    peers = [i for i in ordered if i.kind is item.kind and i.is_active]
    index = peers.index(item)
    other_index = index - 1 if up else index + 1
    if not 0 <= other_index < len(peers):
        where = "first" if up else "last"
        raise InvalidInput(
            f"“{item.title}” is already {where} among {SECTION_NAMES[item.kind].lower()}."
        )
    other = peers[other_index]
    item.position, other.position = other.position, item.position
    return sorted(ordered, key=lambda i: (i.position, i.id))


def other_business(
    meeting: Meeting, items: Sequence[AgendaItem], title: str, *, minutes: int
) -> AgendaItem:
    """A new any-other-business item at the end of the agenda (the caller renumbers)."""
    if not meeting.agenda_editable:
        raise InvalidTransition("The agenda of a meeting that has started no longer changes.")
    title = " ".join(title.split())
    if not title:
        raise InvalidInput("Name the item.", {"title": "required"})
    if len(title) > MAX_TITLE:
        raise InvalidInput(f"Keep the title under {MAX_TITLE} characters.", {"title": "too_long"})
    if not 1 <= minutes <= 120:
        raise InvalidInput("Plan 1 to 120 minutes.", {"minutes": "invalid"})
    return AgendaItem(
        panel_id=meeting.panel_id,
        meeting_id=meeting.id,
        kind=AgendaItemKind.OTHER_BUSINESS,
        position=max((i.position for i in items), default=0) + 1,
        title=title,
        minutes_estimate=minutes,
    )


def neighbour(
    items: Sequence[AgendaItem], current_id: str | None, *, forward: bool
) -> AgendaItem | None:
    """The running item after (or before) the current one; None at either end."""
    running = running_items(items)
    ids = [i.id for i in running]
    if current_id not in ids:
        return running[0] if running else None
    index = ids.index(current_id) + (1 if forward else -1)
    return running[index] if 0 <= index < len(running) else None


def item_number(items: Sequence[AgendaItem], item_id: str | None) -> tuple[int, int]:
    """("item 3 of 9"): the running item's number and how many there are."""
    running = running_items(items)
    ids = [i.id for i in running]
    return (ids.index(item_id) + 1 if item_id in ids else 0, len(running))
