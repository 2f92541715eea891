"""What a person sees of an agency's actions (the read side): an action as its agency reads
it, its card as a given member may see it (the card, the agreement to accept first, or
nothing), an agency's list, and who receives an agency's cards today. The buttons and
commands (bot.features.actions.usecases) and the reminder job (.reminders) both build on it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.domain.action import Action, ActionStatus, ActionUpdate
from bot.domain.minutes import day_label
from bot.domain.panel import Agency, Member, Panel, Role, agency_contact
from bot.domain.policy import Act, Refusal, Relation
from bot.domain.reminders import due_phrase
from bot.kernel import access
from bot.kernel.localtime import day_text
from cards.actions import (
    CARD_VIEW,
    LIST_LIMIT,
    LIST_VIEW,
    ActionGroup,
    ActionItem,
    ActionListView,
    Buttons,
    UpdateLine,
    action_title,
    actions_title,
    finished_title,
    render_action,
    render_action_list,
)
from cards.verbs import Verb

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from datetime import date

    from bot.domain.case import Case
    from bot.kernel.ports import UnitOfWork
    from cards.kit import Card

# Who answers an agency's actions, and who oversees every agency's.
AGENCY_ROLES = frozenset({Role.SPOC, Role.DEPUTY})
OVERSEERS = frozenset({Role.COORDINATOR, Role.CHAIR})
AGREEMENT_FIRST = (
    "Your agency has an action on this case. Accept the panel's information sharing "
    "agreement to see it and answer it."
)


def command_step(command: str) -> dict[str, str]:
    """What accepting the agreement goes on to do: run `command` as if typed."""
    return {"verb": Verb.COMMAND.value, "command": command}


NEXT_STEP = command_step("actions")


def may_act(member: Member | None, action: Action) -> bool:
    """Only the owner agency's SPOC or deputy answers an action's card."""
    return (
        member is not None
        and member.active
        and member.agency_id == action.owner_agency_id
        and bool(AGENCY_ROLES & member.roles)
    )


def new_token() -> str:
    """A fresh token for one rendering of a card's buttons (one click on it saves once)."""
    return uuid.uuid4().hex


@dataclass
class Lookup:
    """Names a card needs, loaded once per unit of work."""

    panel: Panel
    agencies: dict[str, Agency]
    members: dict[str, Member]
    cases: dict[str, Case] = field(default_factory=dict)

    @classmethod
    async def load(cls, uow: UnitOfWork, panel: Panel, case_ids: Iterable[str] = ()) -> Lookup:
        agencies = {a.id: a for a in await uow.agencies.all(panel.id)}
        members = {m.id: m for m in await uow.members.all(panel.id)}
        found = cls(panel, agencies, members)
        await found.add_cases(uow, case_ids)
        return found

    async def add_cases(self, uow: UnitOfWork, case_ids: Iterable[str]) -> None:
        wanted = sorted(set(case_ids) - set(self.cases))
        for case in await uow.cases.by_ids(self.panel.id, wanted):
            self.cases[case.id] = case

    def agency_name(self, agency_id: str | None) -> str:
        agency = self.agencies.get(agency_id or "")
        return agency.name if agency else "an agency no longer listed"

    def member_name(self, member_id: str | None) -> str:
        member = self.members.get(member_id or "")
        return member.name if member else "the panel"


def state_of(action: Action, panel: Panel) -> str:
    """The action's state in words: "Open", "Done on Fri 20 Nov 2026", "Cancelled: …"."""
    if action.status is ActionStatus.DONE:
        done = action.completed_at
        return f"Done on {day_text(done, panel)}" if done else "Done"
    if action.status is ActionStatus.CANCELLED:
        return f"Cancelled: {action.cancel_reason or 'no reason given'}"
    if action.status is ActionStatus.PASSED_BACK:
        return "Passed back to your agency: the panel closed the case"
    return "Open, escalated" if action.escalated else "Open"


def _update_line(update: ActionUpdate, look: Lookup) -> UpdateLine:
    when = day_text(update.at, look.panel)
    return UpdateLine(when=when, who=look.member_name(update.author_member_id), text=update.note)


def item_of(action: Action, look: Lookup, day: date, *, reminder: str | None = None) -> ActionItem:
    """An action as its agency reads it on `day` (need to know: the case in brief)."""
    case = look.cases.get(action.case_id)
    set_on = day_text(action.created_at, look.panel)
    set_by = f"{look.member_name(action.set_by_member_id)} on {set_on}"
    if action.meeting_id:
        set_by += ", at the panel meeting"
    return ActionItem(
        action_id=action.id,
        case_reference=case.reference if case else "a case",
        risk_level=case.risk_level.value.capitalize() if case else "Unknown",
        lead_agency=(
            look.agency_name(case.lead_agency_id)
            if case and case.lead_agency_id
            else "not nominated"
        ),
        owner=look.agency_name(action.owner_agency_id),
        description=action.description,
        due=day_label(action.due_on),
        due_phrase=due_phrase(action.due_on, day),
        overdue=action.is_overdue(day),
        set_by=set_by,
        state=state_of(action, look.panel),
        is_open=action.status is ActionStatus.OPEN,
        updates=[_update_line(u, look) for u in reversed(action.updates)],
        reminder=reminder,
        version=action.version,
    )


async def contacts(
    uow: UnitOfWork, panel: Panel, members: Iterable[Member], agency_id: str, day: date
) -> list[Member]:
    """Who receives an agency's cards on `day`: its SPOC; the deputy while the SPOC is away
    (bot.domain.panel.agency_contact); and the deputy too when the bot could not reach the
    SPOC last time (the SPOC keeps receiving them, so that a SPOC who can be reached again
    is found again)."""
    everyone = list(members)
    primary = agency_contact(everyone, agency_id, day)
    if primary is None or Role.SPOC not in primary.roles:
        return [primary] if primary is not None else []
    deputies = sorted(
        (
            m
            for m in everyone
            if m.active
            and m.agency_id == agency_id
            and Role.DEPUTY in m.roles
            and m.id != primary.id
            and not m.is_away_on(day)
        ),
        key=lambda m: m.name,
    )
    if deputies and primary.id in await uow.outbox.unreachable(panel.id, [primary.id]):
        return [deputies[0], primary]
    return [primary]


async def case_detail_decision(
    uow: UnitOfWork, panel: Panel, member: Member, case: Case | None
) -> Refusal | None:
    """None when the member may see the action's case detail; otherwise why not."""
    if case is None:
        return Refusal.NEED_TO_KNOW
    relations = await access.relations_to_case(uow, panel, member, case)
    decision = await access.decide_for(uow, panel, member, Act.VIEW_CASE_DETAIL, relations)
    return None if decision.allowed else decision.refusal


async def agency_cases_decision(uow: UnitOfWork, look: Lookup, member: Member) -> Refusal | None:
    """Whether a member of an agency may see its cases' detail in general."""
    if member.agency_id is None:
        return Refusal.NEED_TO_KNOW
    relation = await access.relation_of_agency(uow, look.panel, member.agency_id)
    decision = await access.decide_for(
        uow, look.panel, member, Act.VIEW_CASE_DETAIL, {relation, Relation.ACTION_OWNER}
    )
    return None if decision.allowed else decision.refusal


async def agreement_instead(
    uow: UnitOfWork, panel: Panel, member: Member, action: Action, look: Lookup
) -> Card:
    """For a contact who has not accepted the current agreement: what is asked of the
    agency and by when, no narrative; accepting it shows the agency's actions."""
    case = look.cases.get(action.case_id)
    reference = case.reference if case else "a case"
    return await access.agreement_card(
        uow,
        panel,
        member,
        reason=AGREEMENT_FIRST,
        next_step=NEXT_STEP,
        title=action_title(reference),
        facts=[
            ("Agency", look.agency_name(action.owner_agency_id)),
            ("Risk level", case.risk_level.value.capitalize() if case else "Unknown"),
            ("Due by", day_label(action.due_on)),
        ],
    )


async def card_for(
    uow: UnitOfWork,
    look: Lookup,
    member: Member,
    action: Action,
    day: date,
    *,
    copy: str | None = None,
    notice: str | None = None,
    error: bool = False,
    reminder: str | None = None,
    title: str | None = None,
    typed: Mapping[str, str] | None = None,
) -> Card | None:
    """The action's card as `member` may see it: the card (with buttons if they may act,
    and `typed` again in their boxes), the agreement to accept first, or None when they may
    not see it at all."""
    refusal = await case_detail_decision(uow, look.panel, member, look.cases.get(action.case_id))
    if refusal is Refusal.AGREEMENT:
        return await agreement_instead(uow, look.panel, member, action, look)
    if refusal is not None:
        return None
    buttons = None
    if may_act(member, action):
        buttons = Buttons(
            token=new_token(),
            view=CARD_VIEW,
            copy=copy or None,
            typed=dict(typed or {}),
        )
    return render_action(
        item_of(action, look, day, reminder=reminder),
        panel_name=look.panel.name,
        buttons=buttons,
        notice=notice,
        error=error,
        title=title,
    )


def overdue_first(actions: Iterable[Action], day: date) -> list[Action]:
    return sorted(actions, key=lambda a: (not a.is_overdue(day), a.due_on, a.created_at, a.id))


async def finished_list_card(
    uow: UnitOfWork, look: Lookup, agency: Agency, day: date
) -> tuple[Card, list[Action]]:
    """An agency's finished actions (done, cancelled, passed back), the latest due first, each
    with what became of it; no buttons: they are closed. Returns the card and the actions it
    shows."""
    shown = await uow.actions.finished_for_agency(look.panel.id, agency.id, LIST_LIMIT)
    await look.add_cases(uow, [a.case_id for a in shown])
    view = ActionListView(
        panel_name=look.panel.name,
        title=finished_title(agency.name),
        subtitle=look.panel.name,
        groups=[ActionGroup(None, [item_of(a, look, day) for a in shown])],
        buttons=None,
        empty=f"{agency.name} has no finished actions yet.",
        more_command=None,
    )
    return render_action_list(view), shown


async def agency_list_card(
    uow: UnitOfWork,
    look: Lookup,
    member: Member,
    agency: Agency,
    day: date,
    *,
    notice: str | None = None,
    error: bool = False,
    clicked: Action | None = None,
) -> Card:
    """An agency's open actions, overdue first; with buttons for its own SPOC or deputy.
    An action just closed from the card (`clicked`) is shown first, in its new state."""
    actions = overdue_first(await uow.actions.open_for_agency(look.panel.id, agency.id), day)
    shown = actions[:LIST_LIMIT]
    await look.add_cases(uow, [a.case_id for a in shown])
    own = member.agency_id == agency.id and bool(AGENCY_ROLES & member.roles)
    buttons = Buttons(token=new_token(), view=LIST_VIEW, agency_id=agency.id) if own else None
    view = ActionListView(
        panel_name=look.panel.name,
        title=actions_title(agency.name),
        subtitle=look.panel.name,
        groups=[ActionGroup(None, [item_of(a, look, day) for a in shown])],
        buttons=buttons,
        notice=notice,
        error=error,
        empty=f"{agency.name} has no open actions.",
        more=len(actions) - len(shown),
        more_command=None,
        closed=(
            item_of(clicked, look, day)
            if clicked is not None and clicked.status is not ActionStatus.OPEN
            else None
        ),
    )
    return render_action_list(view)
