"""The SPOC's actions: the action card, `actions`, `overdue`, `away` and `back`.

- **Action cards.** When an action is set (or changed at a meeting) its owner agency's
  contact gets a card in private chat: the SPOC, or the deputy while the SPOC is away or
  cannot be reached. Need to know: the card shows the case's reference, risk level and
  lead agency and the action itself, nothing more; someone who has not accepted the
  panel's current agreement gets the agreement instead, and accepting it shows the
  agency's actions.
- **Buttons.** Done (with a note), Add an update, Can't do this (with a reason, which goes
  to the coordinators). Only the owner agency's SPOC or deputy may use them; anyone else is
  refused plainly and the refusal is audited. The answer replaces the clicked card, and
  every other card the bot sent for the action (the SPOC's, the deputy's, an earlier one)
  gets the new state through an "update" row of the outbox. Each rendering carries a
  token, so a click delivered twice, or a second click on the same card, saves once; and
  the action's version, so a click from a card older than the action (another copy clicked
  first, however long ago), or one that loses a race at the save, changes nothing: the
  person gets the action as it is now, a line saying what changed meanwhile and what they
  typed, kept (bot.kernel.versions).
- **Lists.** `actions` shows my agency's open actions (overdue first) with the same
  buttons; the coordinator and chair may name any agency (`actions Housing`) or ask for
  every overdue action (`overdue`).
- **Deputies.** `away until 2026-12-24` (or, for the coordinator, `away Gemma Hartley
  until 2026-12-24`) sends the agency's cards to its deputy until then; `back` ends it.

What a click or a command asked is read first (bot.features.actions.commands); what a
person sees of an action is built in bot.features.actions.views, and the action's cards are
queued and kept up to date by bot.features.actions.copies.

Cards for people go out at once, like every card a person's action causes; the reminder
job (bot.features.actions.reminders) keeps quiet hours.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from bot.domain.action import Action, ActionStatus, ActionUpdate
from bot.domain.audit import AuditVerb
from bot.domain.delivery import ConversationKind
from bot.domain.errors import DomainError, InvalidInput, NotAllowed, NotFound
from bot.domain.minutes import day_label
from bot.domain.panel import Agency, Member, Panel, Role, agency_contact
from bot.domain.policy import Act, Refusal, Relation
from bot.features.actions.commands import ACTIONS_USAGE, AWAY_USAGE, Away, Back, Click, ListActions
from bot.features.actions.copies import refresh_copies
from bot.features.actions.views import (
    AGENCY_ROLES,
    AGREEMENT_FIRST,
    NEXT_STEP,
    OVERSEERS,
    Lookup,
    agency_cases_decision,
    agency_list_card,
    agreement_instead,
    card_for,
    case_detail_decision,
    command_step,
    finished_list_card,
    item_of,
    overdue_first,
    state_of,
)
from bot.kernel import access, audit, versions
from bot.kernel.guard import PRIVATE, Access, Target
from bot.kernel.localtime import day_text, local_day
from bot.kernel.notify import card_to_member
from bot.kernel.ports import StaleVersion, UnitOfWork
from bot.kernel.router import CommandSpec, Deps, Reply, Request, Router, VerbSpec
from cards.actions import (
    CARD_VIEW,
    LIST_LIMIT,
    LIST_VIEW,
    OVERDUE_TITLE,
    REASON_INPUT,
    ActionGroup,
    ActionItem,
    ActionListView,
    CantDoView,
    actions_title,
    cant_title,
    render_action_list,
    render_cant_do,
)
from cards.verbs import Verb

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

PRIVATE_OR_SHARED = frozenset(
    {ConversationKind.PERSONAL, ConversationKind.CHANNEL, ConversationKind.GROUP_CHAT}
)
ALREADY_SAVED = "That was already saved from this card, so nothing was saved twice."


# --- the buttons ------------------------------------------------------------------------------


async def _tell_coordinators(
    uow: UnitOfWork, look: Lookup, action: Action, update: ActionUpdate, reason: str, now: datetime
) -> None:
    """The coordinators hear that an agency can't do an action, one card each."""
    case = look.cases.get(action.case_id)
    reference = case.reference if case else "a case"
    author = look.member_name(update.author_member_id)
    said_on = day_text(now, look.panel)
    view = CantDoView(
        panel_name=look.panel.name,
        agency=look.agency_name(action.owner_agency_id),
        case_reference=reference,
        description=action.description,
        due=day_label(action.due_on),
        said_by=f"{author} on {said_on}",
        reason=reason,
    )
    for coordinator in look.members.values():
        if not coordinator.has(Role.COORDINATOR):
            continue
        card = render_cant_do(view)
        if await case_detail_decision(uow, look.panel, coordinator, case) is Refusal.AGREEMENT:
            card = await agreement_instead(uow, look.panel, coordinator, action, look)
        await card_to_member(
            uow,
            panel_id=look.panel.id,
            member_id=coordinator.id,
            card=card,
            key=f"action-cant:{update.id}:{coordinator.id}",
            now=now,
            text=cant_title(view.agency, reference),
        )


async def _refuse_stale(
    uow: UnitOfWork,
    request: Request,
    look: Lookup,
    action: Action,
    click: Click,
    member: Member,
    now: datetime,
) -> tuple[str, dict[str, str]]:
    """A click from a card older than the action, or one that lost the race to save it:
    nothing changes, the refusal is audited (and committed), and the answer says what
    changed meanwhile; what was typed goes back in its box, or is quoted when the action
    has no boxes any more. Returns the notice and the boxes to fill."""
    text = click.typed  # None when it could not be read
    await versions.record_refusal(
        uow,
        request,
        "action",
        action.id,
        current=action.version,
        at=now,
    )
    line = await versions.changed_meanwhile(
        uow, look.panel, "This action", [("action", action.id)], now=now, me=member.id
    )
    await uow.commit()
    in_the_box = action.status is ActionStatus.OPEN and click.view == CARD_VIEW
    kept = {click.box: text} if text and in_the_box else {}
    return f"{line} {versions.kept(text, in_the_box=in_the_box)}", kept


@dataclass(frozen=True)
class Applied:
    update: ActionUpdate
    notice: str
    reason: str | None = None  # for Can't do this: what the coordinators are told


def _apply(click: Click, action: Action, member: Member, now: datetime) -> Applied:
    """Change the action as the button says. Raises a DomainError for what the person must
    correct (nothing is changed then)."""
    agency_id = member.agency_id or ""
    if click.verb is Verb.ACTION_DONE:
        note = click.text() or ""
        action.complete(by_agency_id=agency_id, at=now, note=note, by_member_id=member.id)
        return Applied(action.updates[-1], "Marked done. Thank you.")
    if click.verb is Verb.ACTION_UPDATE:
        text = click.text() or ""
        update = action.add_update(text, by_agency_id=agency_id, at=now, by_member_id=member.id)
        return Applied(update, "Update saved.")
    reason = click.text()
    if not reason:
        raise InvalidInput("Say why your agency can't do it.", {REASON_INPUT: "required"})
    update = action.add_update(
        f"Can't do this: {reason}", by_agency_id=agency_id, at=now, by_member_id=member.id
    )
    return Applied(
        update, "Sent to the coordinator. The action stays open until the panel decides.", reason
    )


async def answer(request: Request, deps: Deps, verb: Verb) -> Reply:
    """Done, Add an update or Can't do this, from an action card or a list."""
    # UPDATE_ACTION on this action (its agency's SPOC or deputy, with the agreement) and on
    # the list's agency, if the card names one: checked by the guard.
    panel, member = request.admitted()
    click = Click.parse(request.data, verb)
    now = deps.clock.now()
    day = local_day(now, panel)
    async with deps.uow() as uow:
        action = await uow.actions.get(panel.id, click.action_id)
        if action is None:
            raise NotFound("That action no longer exists.")
        look = await Lookup.load(uow, panel, [action.case_id])
        notice: str
        error = False
        typed: dict[str, str] = {}
        form_key = f"action-form:{click.token}:{action.id}"
        if click.version != action.version:
            if not await uow.activities.first_time(form_key, now):
                notice = ALREADY_SAVED  # this very card saved, and was clicked again
            else:
                await uow.rollback()  # this card saved nothing: its token stays unused
                notice, typed = await _refuse_stale(uow, request, look, action, click, member, now)
                error = True
        elif action.status is not ActionStatus.OPEN:
            notice = f"Nothing changed: this action is {state_of(action, panel).lower()}."
        elif not await uow.activities.first_time(form_key, now):
            notice = ALREADY_SAVED
        else:
            try:
                applied = _apply(click, action, member, now)
                await uow.actions.save(action)
            except StaleVersion:
                # Lost the race: another click saved the action since it was loaded.
                await uow.rollback()
                current = await uow.actions.get(panel.id, action.id)
                if current is None:
                    raise NotFound("That action no longer exists.") from None
                action = current
                notice, typed = await _refuse_stale(uow, request, look, action, click, member, now)
                error = True
            except DomainError as err:
                notice, error = err.message, True  # nothing is committed
                await uow.rollback()
            else:
                notice = applied.notice
                detail = {
                    Verb.ACTION_DONE: "done",
                    Verb.ACTION_UPDATE: "update added",
                    Verb.ACTION_CANT: "can't do this",
                }[verb]
                await audit.record(
                    uow, request, AuditVerb.UPDATE, "action", action.id, detail, at=now
                )
                if applied.reason is not None:
                    await _tell_coordinators(uow, look, action, applied.update, applied.reason, now)
                await refresh_copies(uow, look, action, now, skip=click.copy)
                await uow.commit()
        if click.view == LIST_VIEW:
            agency = look.agencies.get(click.agency_id or action.owner_agency_id)
            if agency is not None:
                listed = await agency_list_card(
                    uow,
                    look,
                    member,
                    agency,
                    day,
                    notice=f"{_ref(look, action)}: {notice}",
                    error=error,
                    clicked=action,
                )
                return Reply(card=listed)
        card = await card_for(
            uow,
            look,
            member,
            action,
            day,
            copy=click.copy,
            notice=notice,
            error=error,
            typed=typed,
        )
    return Reply(card=card) if card is not None else Reply(text=notice)


def _ref(look: Lookup, action: Action) -> str:
    case = look.cases.get(action.case_id)
    return case.reference if case else "The action"


# --- the lists ----------------------------------------------------------------------------------


def match_agency(agencies: Sequence[Agency], text: str) -> Agency:
    """The active agency a person means: its name, the start of its name, or the start of
    a word in it, ignoring case ("Housing" finds "Riverside Homes (Housing)")."""
    wanted = " ".join(text.split()).casefold()
    if not wanted:
        raise InvalidInput(f"Name the agency: {ACTIONS_USAGE}.")
    active = [a for a in agencies if a.active]
    exact = [a for a in active if a.name.casefold() == wanted]
    if exact:
        return exact[0]
    starts = [a for a in active if a.name.casefold().startswith(wanted)]
    if not starts:
        starts = [
            a
            for a in active
            if any(
                word.startswith(wanted) for word in re.split(r"[^\w']+", a.name.casefold()) if word
            )
        ]
    if len(starts) == 1:
        return starts[0]
    if not starts:
        raise NotFound(f"No agency of this panel is called '{text[:60]}'. Type agencies.")
    names = ", ".join(sorted(a.name for a in starts))
    raise InvalidInput(f"'{text[:60]}' could be {names}. Say which.")


async def _audit_views(
    uow: UnitOfWork, request: Request, actions: Iterable[Action], what: str, now: datetime
) -> None:
    for action in actions:
        await audit.record(uow, request, AuditVerb.VIEW, "action", action.id, what, at=now)


async def _detail_allowed(
    uow: UnitOfWork,
    request: Request,
    panel: Panel,
    member: Member,
    relation: Relation,
    now: datetime,
    *,
    resume: str,
) -> Reply | None:
    """None when the member may see case detail standing in `relation`; otherwise the
    refusal's answer (the agreement to accept, then the command `resume`, or NotAllowed
    raised)."""
    decision = await access.decide_for(uow, panel, member, Act.VIEW_CASE_DETAIL, relation)
    if decision.allowed:
        return None
    return await audit.refuse(
        uow,
        request,
        decision,
        act=Act.VIEW_CASE_DETAIL,
        entity="panel",
        entity_id=panel.id,
        at=now,
        next_step=command_step(resume),
    )


async def list_actions(request: Request, deps: Deps) -> Reply:
    """`actions`: my agency's open actions; `actions Housing` for the coordinator and chair."""
    panel, member = request.panel, request.member
    if panel is None or member is None or not member.active:
        raise NotAllowed("`actions` is for panel members. Ask your panel coordinator.")
    asked = ListActions.parse(request.args)
    now = deps.clock.now()
    day = local_day(now, panel)
    async with deps.uow() as uow:
        look = await Lookup.load(uow, panel)
        own = look.agencies.get(member.agency_id or "") if AGENCY_ROLES & member.roles else None
        if asked.agency:
            agency = match_agency(list(look.agencies.values()), asked.agency)
            if agency is not own and not OVERSEERS & member.roles:
                raise NotAllowed(
                    "Only the panel's coordinators and chairs can see another agency's "
                    "actions. Type actions for your agency's."
                )
        elif own is not None:
            agency = own
        elif OVERSEERS & member.roles and not asked.done:
            return Reply(text=await _summary(uow, look, day))
        else:
            raise NotAllowed("`actions` shows an agency's actions to its SPOC and deputy.")
        relation = Relation.ACTION_OWNER if agency is own else Relation.CORE_AGENCY
        refused = await _detail_allowed(
            uow, request, panel, member, relation, now, resume=asked.command
        )
        if refused is not None:
            return refused
        if asked.done:
            card, finished = await finished_list_card(uow, look, agency, day)
            await _audit_views(uow, request, finished, "finished actions", now)
            await uow.commit()
            return Reply(card=card)
        card = await agency_list_card(uow, look, member, agency, day)
        shown = await uow.actions.open_for_agency(panel.id, agency.id)
        await _audit_views(uow, request, overdue_first(shown, day)[:LIST_LIMIT], "actions", now)
        await uow.commit()
    return Reply(card=card)


async def _summary(uow: UnitOfWork, look: Lookup, day: date) -> str:
    """Open actions by agency, in a line each: for the coordinator and chair."""
    every = await uow.actions.open_due_by(look.panel.id, date.max)
    counts: dict[str, tuple[int, int]] = {}
    for action in every:
        total, late = counts.get(action.owner_agency_id, (0, 0))
        counts[action.owner_agency_id] = (total + 1, late + action.is_overdue(day))
    if not counts:
        return "No agency has open actions."
    lines = [
        f"- {look.agency_name(agency_id)}: {total} open, {late} overdue"
        for agency_id, (total, late) in sorted(counts.items(), key=lambda c: look.agency_name(c[0]))
    ]
    return (
        "Open actions by agency:\n\n"
        + "\n".join(lines)
        + "\n\nType actions and an agency's name (e.g. actions Housing), or overdue."
    )


async def list_overdue(request: Request, deps: Deps) -> Reply:
    """`overdue`: every overdue action of the panel, grouped by agency."""
    panel, member = request.panel, request.member
    if panel is None or member is None or not member.active:
        raise NotAllowed("`overdue` is for the panel's coordinators and chairs.")
    now = deps.clock.now()
    day = local_day(now, panel)
    async with deps.uow() as uow:
        # Accepting the agreement from here goes on to `actions` (the summary by agency).
        refused = await _detail_allowed(
            uow, request, panel, member, Relation.CORE_AGENCY, now, resume=ListActions().command
        )
        if refused is not None:
            return refused
        look = await Lookup.load(uow, panel)
        late = await uow.actions.open_due_by(panel.id, day - timedelta(days=1))
        shown = late[: LIST_LIMIT * 2]
        await look.add_cases(uow, [a.case_id for a in shown])
        by_agency: dict[str, list[ActionItem]] = {}
        for action in shown:
            name = look.agency_name(action.owner_agency_id)
            by_agency.setdefault(name, []).append(item_of(action, look, day))
        view = ActionListView(
            panel_name=panel.name,
            title=OVERDUE_TITLE,
            subtitle=panel.name,
            groups=[ActionGroup(name, items) for name, items in sorted(by_agency.items())],
            buttons=None,
            empty="No action is overdue.",
            more=len(late) - len(shown),
        )
        await _audit_views(uow, request, shown, "overdue", now)
        await uow.commit()
    return Reply(card=render_action_list(view))


# --- away and back ----------------------------------------------------------------------------


def _find_member(members: Iterable[Member], name: str) -> Member:
    wanted = " ".join(name.split()).casefold()
    active = [m for m in members if m.active]
    found = [m for m in active if m.name.casefold() == wanted] or [
        m for m in active if m.name.casefold().startswith(wanted)
    ]
    if len(found) == 1:
        return found[0]
    if not found:
        raise NotFound(f"No member of this panel is called '{name[:60]}'. Type members.")
    raise InvalidInput(
        f"'{name[:60]}' could be {', '.join(sorted(m.name for m in found))}. Say which."
    )


def _whom(request: Request, members: Iterable[Member], name: str | None) -> Member:
    """Whom `away` or `back` is about: the caller (no name, "me" or their own name), or for
    the coordinator, the member named."""
    me = request.member
    assert me is not None
    if name is None or name.casefold() == me.name.casefold():
        if not (AGENCY_ROLES | {Role.COORDINATOR}) & me.roles:
            raise NotAllowed("`away` is for SPOCs and deputies, and the coordinator.")
        return me
    if Role.COORDINATOR not in me.roles:
        raise NotAllowed("Only the panel's coordinators can say someone else is away.")
    return _find_member(members, name)


async def away(request: Request, deps: Deps) -> Reply:
    """`away until 2026-12-24`: the agency's cards go to its deputy until then (inclusive)."""
    panel, me = request.panel, request.member
    if panel is None or me is None or not me.active:
        raise NotAllowed("`away` is for panel members.")
    now = deps.clock.now()
    today = local_day(now, panel)
    asked = Away.parse(request.args, today)
    until = asked.until
    async with deps.uow() as uow:
        look = await Lookup.load(uow, panel)
        member = _whom(request, look.members.values(), asked.who)
        was_contact = (
            agency_contact(look.members.values(), member.agency_id, today)
            if member.agency_id
            else None
        )
        member.away_until = until
        await uow.members.save(member)
        look.members[member.id] = member
        await audit.record(
            uow, request, AuditVerb.UPDATE, "member", member.id, f"away until {until}", at=now
        )
        yourself = member.id == me.id
        message = await _handover(uow, look, member, was_contact, until, now, yourself=yourself)
        await uow.commit()
    return Reply(text=message)


async def _handover(
    uow: UnitOfWork,
    look: Lookup,
    member: Member,
    was_contact: Member | None,
    until: date,
    now: datetime,
    *,
    yourself: bool,
) -> str:
    """Who receives the agency's cards while `member` is away; the deputy gets the
    agency's open actions at once."""
    who = "You are" if yourself else f"{member.name} is"
    day = local_day(now, look.panel)
    label = day_label(until)
    if member.agency_id is None or not AGENCY_ROLES & member.roles:
        return f"{who} away until {label}."
    agency = look.agency_name(member.agency_id)
    standing_in = agency_contact(look.members.values(), member.agency_id, day)
    if standing_in is None or standing_in.id == member.id:
        return (
            f"{who} away until {label}, but {agency} has nobody else to receive its cards: "
            f"they keep coming to {'you' if yourself else 'them'}. Ask the coordinator to name "
            "a deputy."
        )
    if was_contact is not None and was_contact.id == member.id:
        agency_row = look.agencies.get(member.agency_id)
        if agency_row is not None:
            if await agency_cases_decision(uow, look, standing_in) is Refusal.AGREEMENT:
                card = await access.agreement_card(
                    uow,
                    look.panel,
                    standing_in,
                    reason=AGREEMENT_FIRST,
                    next_step=NEXT_STEP,
                    title=actions_title(agency),
                    facts=[("Standing in for", member.name), ("Until", label)],
                )
            else:
                card = await agency_list_card(
                    uow,
                    look,
                    standing_in,
                    agency_row,
                    day,
                    notice=f"{member.name} is away until {label}: you receive {agency}'s "
                    "action cards and reminders meanwhile.",
                )
            await card_to_member(
                uow,
                panel_id=look.panel.id,
                member_id=standing_in.id,
                card=card,
                key=f"handover:{member.id}:{until.isoformat()}:{standing_in.id}",
                now=now,
                text=f"You stand in for {member.name} until {label}",
            )
    return (
        f"{who} away until {label}. {standing_in.name} receives {agency}'s action cards and "
        "reminders until then. Type back to end it sooner."
    )


async def back(request: Request, deps: Deps) -> Reply:
    """`back`: cards come to me again (the coordinator: `back Gemma Hartley`)."""
    panel, me = request.panel, request.member
    if panel is None or me is None or not me.active:
        raise NotAllowed("`back` is for panel members.")
    asked = Back.parse(request.args)
    now = deps.clock.now()
    async with deps.uow() as uow:
        look = await Lookup.load(uow, panel)
        member = _whom(request, look.members.values(), asked.who)
        if member.away_until is None or member.away_until < local_day(now, panel):
            return Reply(text=f"{member.name} was not away: nothing changed.")
        member.away_until = None
        await uow.members.save(member)
        await audit.record(uow, request, AuditVerb.UPDATE, "member", member.id, "back", at=now)
        await uow.commit()
    return Reply(text=f"Welcome back: {member.name} receives the agency's cards again.")


# --- registration ---------------------------------------------------------------------------


def register(router: Router) -> None:
    """Register `actions`, `overdue`, `away`, `back` and the action card's buttons."""
    router.command(
        CommandSpec(
            name="actions",
            summary="Your agency's open actions, overdue first, to update or mark done.",
            handler=list_actions,
            usage=ACTIONS_USAGE,
            access=Access(Act.VIEW_ACTIONS, PRIVATE_OR_SHARED, targets=(Target.OWN_AGENCY,)),
        )
    )
    router.command(
        CommandSpec(
            name="overdue",
            summary="Coordinators and chairs: every overdue action, by agency.",
            handler=list_overdue,
            access=Access(Act.OVERSEE_ACTIONS, PRIVATE_OR_SHARED),
            in_manifest=False,
        )
    )
    router.command(
        CommandSpec(
            name="away",
            summary="SPOCs: your deputy receives your agency's cards until a date.",
            handler=away,
            usage=AWAY_USAGE,
            access=Access(Act.SET_AWAY, PRIVATE_OR_SHARED),
            in_manifest=False,
        )
    )
    router.command(
        CommandSpec(
            name="back",
            summary="Receive your agency's cards again after `away`.",
            handler=back,
            access=Access(Act.SET_AWAY, PRIVATE_OR_SHARED),
            in_manifest=False,
        )
    )

    async def done(request: Request, deps: Deps) -> Reply:
        return await answer(request, deps, Verb.ACTION_DONE)

    async def update(request: Request, deps: Deps) -> Reply:
        return await answer(request, deps, Verb.ACTION_UPDATE)

    async def cant(request: Request, deps: Deps) -> Reply:
        return await answer(request, deps, Verb.ACTION_CANT)

    # The agency a list button names is checked too: a SPOC sees her own agency's list.
    answering = Access(
        Act.UPDATE_ACTION,
        PRIVATE,
        targets=(Target.ACTION, Target.AGENCY),
        required=(Target.ACTION,),
        resume=NEXT_STEP,
    )
    router.verb(VerbSpec(Verb.ACTION_DONE.value, done, answering))
    router.verb(VerbSpec(Verb.ACTION_UPDATE.value, update, answering))
    router.verb(VerbSpec(Verb.ACTION_CANT.value, cant, answering))
