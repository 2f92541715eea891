"""Setting a panel up and keeping its members and agencies.

`setup` in a team channel makes the team a panel, with the caller as its coordinator.
`members` and `agencies` are the coordinator's cards (private chat) to add and remove
members with the Teams people picker, set each one's agency and roles, add agencies and mark
them core or invited. A CSV file of members is imported whole or not at all: `parse_members_csv`
checks every line first and reports each problem with its line.

Every change is audited; nobody can remove or demote the panel's last coordinator.
"""

from __future__ import annotations

import csv
import dataclasses
import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.domain.audit import AuditVerb
from bot.domain.delivery import INVITATION_KEY, ConversationKind, ConversationRef
from bot.domain.errors import InvalidInput, NotAllowed, NotFound
from bot.domain.events import MeetingsWanted
from bot.domain.panel import AGENCY_ROLES, Agency, Member, Panel, Role
from bot.domain.policy import Act
from bot.features.governance.commands import (
    CHECK_ROLES,
    GUID,
    AddAgency,
    AddMember,
    ChangeAgencyKind,
    ListMembers,
    OpenMember,
    RemoveMember,
    SaveMember,
    SetMyAgency,
    SetUpPanel,
    email_problem,
    parse_roles,
)
from bot.features.governance.views import (
    agencies_view,
    member_view,
    members_view,
    roles_text,
)
from bot.kernel import audit, turns
from bot.kernel.guard import PRIVATE, Access, Target
from bot.kernel.localtime import when_text
from bot.kernel.notify import card_to_member
from bot.kernel.ports import AlreadyExists, UnitOfWork
from bot.kernel.router import CommandSpec, Deps, Reply, Request, Router, VerbSpec
from cards.membership import (
    AGENCY_NAME_ID,
    CSV_AAD,
    CSV_AGENCY,
    CSV_COLUMNS,
    CSV_EMAIL,
    CSV_NAME,
    CSV_ROLES,
    EMAIL_ID,
    MAX_NAME,
    NEW_AGENCY_ID,
    NEW_NAME_ID,
    PICKER_ID,
    ROLES_ID,
    SETUP_AGENCY_ID,
    Choice,
    ImportedView,
    ImportErrorLine,
    ImportRefusedView,
    MembersView,
    MyAgencyView,
    SetupView,
    render_agencies,
    render_import_help,
    render_import_refused,
    render_imported,
    render_member,
    render_members,
    render_my_agency,
    render_setup,
    with_people_picker,
)
from cards.panels import render_invitation
from cards.verbs import AGENCY_ID_KEY, Verb

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from datetime import datetime

DEFAULT_PANEL_NAME = "Community MARAC"
DEFAULT_ISA_TEXT = (
    "Members of this panel share information about the people referred to it under the "
    "Crime and Disorder Act 1998 s.115, UK GDPR Art. 6(1)(e) and the Data Protection Act 2018 "
    "Sch. 1 para 18, only as far as needed to reduce the risk to them, keep it confidential, "
    "share it onward only with those who need to know, and record what they share. "
    "(A starting text: the coordinator replaces it with the panel's signed agreement, isa set.)"
)
LAST_COORDINATOR = "The panel needs at least one coordinator: make someone else coordinator first."
NEEDS_AGENCY = "A SPOC or deputy belongs to an agency: choose one."
NOT_A_MANAGER = "This is for the panel's coordinators."
SET_UP_BY_SOMEONE_ELSE = (
    "Someone else just set this team up as the panel {panel}, at the same moment as you. "
    "Its coordinators keep it from their private chat with me: ask one of them to add you."
)
MAX_IMPORT_ROWS = 500
MAX_IMPORT_CHARS = 256 * 1024


# ---- shared checks ----------------------------------------------------------------------


def _has_other_coordinator(members: Sequence[Member], but: str) -> bool:
    return any(m.id != but and m.has(Role.COORDINATOR) for m in members)


def _roles_text(roles: frozenset[Role]) -> str:
    return ", ".join(sorted(role.value for role in roles)) or "no role"


# ---- setup ------------------------------------------------------------------------------


async def setup(request: Request, deps: Deps) -> Reply:
    """`setup [panel name]` in a team channel: the team becomes a panel, the caller its
    coordinator."""
    return await set_up_panel(request, deps, SetUpPanel.typed(request.args))


async def set_up_panel(request: Request, deps: Deps, command: SetUpPanel) -> Reply:
    """The team becomes a panel named as asked, the caller its coordinator."""
    where, caller = request.where, request.caller
    if where.kind is not ConversationKind.CHANNEL or not where.team_id:
        raise InvalidInput("Type setup in a channel of the team that is to be the panel.")
    now = deps.clock.now()
    if request.panel is not None:
        async with deps.uow() as uow:
            await audit.record(
                uow, request, AuditVerb.REFUSE, "panel", request.panel.id, "setup again", at=now
            )
            await uow.commit()
        raise NotAllowed(
            f"This team is already the panel {request.panel.name}. Its coordinators keep it "
            "from their private chat with me: members, agencies and isa set.",
            audited=True,
        )
    if not caller.aad_object_id:
        raise NotAllowed("Teams did not tell me who you are, so I cannot make you coordinator.")
    name = command.name or DEFAULT_PANEL_NAME
    try:
        return await _set_up(request, deps, name, now)
    except AlreadyExists:
        # Someone else typed setup in this team at the same moment and their panel was
        # stored first; nothing of this one was.
        async with deps.uow() as uow:
            winner = await uow.panels.by_team(where.team_id)
        if winner is None:
            raise
        return Reply(text=SET_UP_BY_SOMEONE_ELSE.format(panel=winner.name))


async def _set_up(request: Request, deps: Deps, name: str, now: datetime) -> Reply:
    where, caller = request.where, request.caller
    assert where.team_id and caller.aad_object_id  # setup checked both
    async with deps.uow() as uow:
        # The turn found no panel for this team; one made since is someone else's setup.
        existing = await uow.panels.by_team(where.team_id)
        if existing is not None:
            return Reply(text=SET_UP_BY_SOMEONE_ELSE.format(panel=existing.name))
        panel = Panel(
            name=name,
            team_id=where.team_id,
            tenant_id=where.tenant_id or "",
            channel_id=where.conversation_id,
            isa_version="1",
            isa_text=DEFAULT_ISA_TEXT,
            created_at=now,
        )
        await uow.panels.save(panel)
        if where.reference is not None:
            # Kept now: the turn that typed setup found no panel to keep it for, and the
            # channel's referral notices and agenda announcements go here.
            await uow.conversations.save(
                ConversationRef(
                    panel_id=panel.id,
                    kind=ConversationKind.CHANNEL,
                    conversation_id=where.conversation_id,
                    service_url=where.service_url,
                    reference=turns.for_later(where.reference, where),
                    updated_at=now,
                )
            )
        coordinator = Member(
            panel_id=panel.id,
            aad_object_id=caller.aad_object_id,
            name=caller.name[:MAX_NAME],
            roles=frozenset({Role.COORDINATOR}),
        )
        await uow.members.save(coordinator)
        actor = audit.Actor.member(coordinator, where.kind.value)
        await audit.record(uow, actor, AuditVerb.CREATE, "panel", panel.id, "set up", at=now)
        await audit.record(
            uow, actor, AuditVerb.CREATE, "member", coordinator.id, "roles: coordinator", at=now
        )
        # The panel's next meetings, planned now from its schedule (the meetings feature):
        # a referral accepted today has a meeting to be listed on.
        await deps.events.publish(uow, panel, MeetingsWanted(), now)
        meetings = [m for m in await uow.meetings.upcoming(panel.id, now) if m.starts_at > now]
        # Her agency is asked in private, where the coordinator keeps the panel.
        await card_to_member(
            uow,
            panel_id=panel.id,
            member_id=coordinator.id,
            card=render_my_agency(await _my_agency_view(uow, panel, coordinator)),
            key=f"{MY_AGENCY_KEY}{coordinator.id}",
            now=now,
            text=f"Which agency do you work for? ({panel.name})",
        )
        await uow.commit()
    view = SetupView(
        panel.name,
        coordinator.name,
        next_meeting=when_text(meetings[0].starts_at, panel) if meetings else None,
        meetings_planned=len(meetings),
    )
    return Reply(card=render_setup(view))


MY_AGENCY_KEY = "setup-agency:"


async def _my_agency_view(
    uow: UnitOfWork,
    panel: Panel,
    coordinator: Member,
    *,
    notice: str | None = None,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
) -> MyAgencyView:
    """The coordinator's agency card: asked until she gives it."""
    agencies = [a for a in await uow.agencies.all(panel.id) if a.active]
    agency = next((a for a in agencies if a.id == coordinator.agency_id), None)
    return MyAgencyView(
        panel.name,
        agency=agency.name if agency else None,
        agencies=[Choice(a.id, a.name) for a in agencies],
        notice=notice,
        values=dict(values or {}),
        errors=dict(errors or {}),
    )


async def my_agency(request: Request, deps: Deps) -> Reply:
    """`agency`: the coordinator's "Your agency" card, as setup sent it (asked until given)."""
    panel, member = request.admitted()  # MANAGE_MEMBERS: checked by the guard (`register`)
    async with deps.uow() as uow:
        return Reply(card=render_my_agency(await _my_agency_view(uow, panel, member)))


async def set_my_agency(request: Request, deps: Deps) -> Reply:
    """The coordinator's "Your agency" card: her agency, one of the panel's or a new one
    (added as the agencies card adds it)."""
    panel, member = request.admitted()  # MANAGE_MEMBERS: checked by the guard (`register`)
    command = SetMyAgency.of(request.data)
    errors = command.errors()
    now = deps.clock.now()
    async with deps.uow() as uow:
        agency: Agency | None = None
        if command.agency_id:
            agency, problem = await _agency_choice(uow, panel, command.agency_id)
            if problem:
                errors[SETUP_AGENCY_ID] = problem
        elif not errors:
            agency = await uow.agencies.by_name(panel.id, command.new.name)
            if agency is not None and not agency.active:
                errors[AGENCY_NAME_ID] = "That agency was removed from the panel: choose another."
        if errors:
            view = await _my_agency_view(
                uow,
                panel,
                member,
                notice="Check the highlighted fields.",
                values=command.values(),
                errors=errors,
            )
            return Reply(card=render_my_agency(view))
        if agency is None:
            kind = command.new.kind
            assert kind is not None  # command.errors() checked it
            agency = Agency(panel_id=panel.id, name=command.new.name, kind=kind)
            await uow.agencies.save(agency)
            await audit.record(
                uow, request, AuditVerb.CREATE, "agency", agency.id, kind.value, at=now
            )
        changed = dataclasses.replace(member, agency_id=agency.id)
        await uow.members.save(changed)
        detail = f"roles: {_roles_text(changed.roles)}; agency: {agency.name}"
        await audit.record(uow, request, AuditVerb.UPDATE, "member", member.id, detail, at=now)
        view = await _my_agency_view(uow, panel, changed, notice=f"Your agency is {agency.name}.")
        await uow.commit()
    return Reply(card=render_my_agency(view))


# ---- members ----------------------------------------------------------------------------


def _members_reply(view: MembersView) -> Reply:
    return Reply(card=with_people_picker(render_members(view)))


async def members(request: Request, deps: Deps) -> Reply:
    """`members`: the panel's members; `members <part of a name>`; `members import`."""
    panel, _ = request.admitted()  # MANAGE_MEMBERS: checked by the guard (`register`)
    command = ListMembers.typed(request.args)
    async with deps.uow() as uow:
        if command.import_help:
            names = [a.name for a in await uow.agencies.all(panel.id) if a.active]
            return Reply(card=render_import_help(panel.name, names))
        return _members_reply(await members_view(uow, panel, search=command.search))


async def list_verb(request: Request, deps: Deps) -> Reply:
    """Back to the members card."""
    panel, _ = request.admitted()  # MANAGE_MEMBERS: checked by the guard (`register`)
    async with deps.uow() as uow:
        return _members_reply(await members_view(uow, panel))


async def _agency_choice(
    uow: UnitOfWork, panel: Panel, agency_id: str
) -> tuple[Agency | None, str | None]:
    if not agency_id:
        return None, None
    agency = await uow.agencies.get(panel.id, agency_id)
    if agency is None or not agency.active:
        return None, "Choose one of the panel's agencies."
    return agency, None


async def add(request: Request, deps: Deps) -> Reply:
    """Add the person chosen in the people picker, with their agency and roles."""
    panel, _ = request.admitted()  # MANAGE_MEMBERS: checked by the guard (`register`)
    return await add_member(request, deps, panel, AddMember.of(request.data))


async def add_member(request: Request, deps: Deps, panel: Panel, command: AddMember) -> Reply:
    """Invite the person to the panel (or back to it), with their agency and roles."""
    errors = command.errors()
    aad, roles = command.aad_object_id, command.roles
    now = deps.clock.now()
    # The people picker sends the person's id alone: their name (and, from a picker that
    # sends a Teams user id, their Entra object id) is what the panel's team roster says.
    found = None
    if request.roster is not None and not errors and (command.teams_user_id or not command.name):
        found = await request.roster.member(panel.team_id, aad)
    if command.teams_user_id:
        aad = found.aad_object_id if found is not None and GUID.match(found.aad_object_id) else ""
        if not aad:
            errors[PICKER_ID] = "Teams did not say who this is: choose the person again."
    async with deps.uow() as uow:
        agency, agency_error = await _agency_choice(uow, panel, command.agency_id)
        if agency_error:
            errors[NEW_AGENCY_ID] = agency_error
        elif roles & AGENCY_ROLES and agency is None:
            errors[NEW_AGENCY_ID] = NEEDS_AGENCY
        existing = await uow.members.by_aad(panel.id, aad) if aad and not errors else None
        if existing is not None and existing.active:
            errors[PICKER_ID] = f"{existing.name} is a member already: use Change instead."
        name = command.name[:MAX_NAME] or (found.name[:MAX_NAME] if found else "")
        name = name or (existing.name if existing else "")
        if not name and PICKER_ID not in errors:
            errors[NEW_NAME_ID] = "Teams did not send this person's name: type it."
        if errors:
            view = await members_view(
                uow,
                panel,
                notice="Check the highlighted fields.",
                open_add=True,
                values=command.values(),
                errors=errors,
            )
            return _members_reply(view)
        member = existing or Member(panel_id=panel.id, aad_object_id=aad, name=name)
        member = dataclasses.replace(
            member,
            name=name,
            email=command.email or member.email,
            agency_id=agency.id if agency else None,
            roles=roles,
            active=True,
            # Nobody is placed on a panel without accepting: they are invited until then.
            invited=True,
        )
        await uow.members.save(member)
        detail = f"roles: {_roles_text(roles)}; agency: {agency.name if agency else 'none'}"
        verb = AuditVerb.UPDATE if existing else AuditVerb.CREATE
        back = "added back; " if existing else ""
        await audit.record(
            uow, request, verb, "member", member.id, back + "invited; " + detail, at=now
        )
        await _invite(uow, panel, member, request, now)
        view = await members_view(uow, panel, notice=INVITED.format(name=name))
        await uow.commit()
    return _members_reply(view)


async def _load_member(uow: UnitOfWork, panel: Panel, member_id: str) -> Member:
    member = await uow.members.get(panel.id, member_id) if member_id else None
    if member is None:
        raise NotFound("That person is not a member of this panel. Type members.")
    return member


async def edit(request: Request, deps: Deps) -> Reply:
    """One member's card."""
    panel, _ = request.admitted()  # MANAGE_MEMBERS: checked by the guard (`register`)
    command = OpenMember.of(request.data)
    async with deps.uow() as uow:
        member = await _load_member(uow, panel, command.member_id)
        return Reply(card=render_member(await member_view(uow, panel, member)))


async def save(request: Request, deps: Deps) -> Reply:
    """Save a member's agency, roles and e-mail."""
    panel, _ = request.admitted()  # MANAGE_MEMBERS: checked by the guard (`register`)
    return await save_member(request, deps, panel, SaveMember.of(request.data))


async def save_member(request: Request, deps: Deps, panel: Panel, command: SaveMember) -> Reply:
    """Change a member's e-mail, agency and roles, unless that leaves no coordinator."""
    email, roles = command.email, command.roles
    now = deps.clock.now()
    async with deps.uow() as uow:
        member = await _load_member(uow, panel, command.member_id)
        errors: dict[str, str] = {}
        agency, agency_error = await _agency_choice(uow, panel, command.agency_id)
        if agency_error:
            errors[AGENCY_ID_KEY] = agency_error
        if command.unknown_roles:
            errors[ROLES_ID] = CHECK_ROLES
        elif roles & AGENCY_ROLES and agency is None and not agency_error:
            errors[AGENCY_ID_KEY] = NEEDS_AGENCY
        email_error = email_problem(email)
        if email_error:
            errors[EMAIL_ID] = email_error
        demoted = member.has(Role.COORDINATOR) and Role.COORDINATOR not in roles
        if demoted and not _has_other_coordinator(await uow.members.all(panel.id), member.id):
            errors[ROLES_ID] = LAST_COORDINATOR
        if not member.active:
            view = await member_view(uow, panel, member, notice="Add them back first.")
            return Reply(card=render_member(view))
        if errors:
            shown = dataclasses.replace(member, roles=roles or member.roles)
            view = await member_view(
                uow, panel, shown, errors=errors, notice="Check the highlighted fields."
            )
            return Reply(card=render_member(view))
        changed = dataclasses.replace(
            member, email=email or None, agency_id=agency.id if agency else None, roles=roles
        )
        await uow.members.save(changed)
        detail = f"roles: {_roles_text(roles)}; agency: {agency.name if agency else 'none'}"
        await audit.record(uow, request, AuditVerb.UPDATE, "member", member.id, detail, at=now)
        view = await member_view(uow, panel, changed, notice="Saved.")
        await uow.commit()
    return Reply(card=render_member(view))


async def remove(request: Request, deps: Deps) -> Reply:
    """Remove a member (after a confirmation): they see nothing of the panel any more."""
    panel, _ = request.admitted()  # MANAGE_MEMBERS: checked by the guard (`register`)
    return await remove_member(request, deps, panel, RemoveMember.of(request.data))


async def remove_member(request: Request, deps: Deps, panel: Panel, command: RemoveMember) -> Reply:
    """Ask first, then remove the member, unless they are the last coordinator."""
    now = deps.clock.now()
    async with deps.uow() as uow:
        member = await _load_member(uow, panel, command.member_id)
        everyone = await uow.members.all(panel.id)
        if member.has(Role.COORDINATOR) and not _has_other_coordinator(everyone, member.id):
            refused = await member_view(
                uow, panel, member, errors={ROLES_ID: LAST_COORDINATOR}, notice=LAST_COORDINATOR
            )
            return Reply(card=render_member(refused))
        if not command.confirmed:
            question = await member_view(uow, panel, member, confirm_remove=True)
            return Reply(card=render_member(question))
        if member.active:
            member.active = False
            await uow.members.save(member)
            await audit.record(
                uow, request, AuditVerb.UPDATE, "member", member.id, "removed", at=now
            )
        view = await members_view(uow, panel, notice=f"{member.name} was removed from the panel.")
        await uow.commit()
    return _members_reply(view)


async def restore(request: Request, deps: Deps) -> Reply:
    """Add a removed member back, with the roles they had."""
    panel, _ = request.admitted()  # MANAGE_MEMBERS: checked by the guard (`register`)
    command = OpenMember.of(request.data)
    now = deps.clock.now()
    async with deps.uow() as uow:
        member = await _load_member(uow, panel, command.member_id)
        if not member.active:
            member.active = True
            await uow.members.save(member)
            await audit.record(
                uow, request, AuditVerb.UPDATE, "member", member.id, "added back", at=now
            )
        view = await member_view(uow, panel, member, notice=f"{member.name} is a member again.")
        await uow.commit()
    return Reply(card=render_member(view))


# ---- agencies ---------------------------------------------------------------------------


async def agencies(request: Request, deps: Deps) -> Reply:
    """`agencies`: the panel's agencies, core or invited."""
    panel, _ = request.admitted()  # MANAGE_MEMBERS: checked by the guard (`register`)
    async with deps.uow() as uow:
        return Reply(card=render_agencies(await agencies_view(uow, panel)))


async def add_agency(request: Request, deps: Deps) -> Reply:
    """Add an agency, core or invited; names are unique whatever their case."""
    panel, _ = request.admitted()  # MANAGE_MEMBERS: checked by the guard (`register`)
    return await add_agency_to(request, deps, panel, AddAgency.of(request.data))


async def add_agency_to(request: Request, deps: Deps, panel: Panel, command: AddAgency) -> Reply:
    """Add the agency to the panel, unless one of that name is there already."""
    name, kind, errors = command.name, command.kind, command.errors()
    now = deps.clock.now()
    async with deps.uow() as uow:
        if name and not errors and await uow.agencies.by_name(panel.id, name) is not None:
            errors[AGENCY_NAME_ID] = "The panel has an agency of this name already."
        if errors or kind is None:
            view = await agencies_view(
                uow,
                panel,
                notice="Check the highlighted fields.",
                open_add=True,
                values=command.values(),
                errors=errors,
            )
            return Reply(card=render_agencies(view))
        agency = Agency(panel_id=panel.id, name=name, kind=kind)
        await uow.agencies.save(agency)
        await audit.record(uow, request, AuditVerb.CREATE, "agency", agency.id, kind.value, at=now)
        article = "an" if kind.value[0] in "aeiou" else "a"
        view = await agencies_view(
            uow, panel, notice=f"{name} was added as {article} {kind.value} agency."
        )
        await uow.commit()
    return Reply(card=render_agencies(view))


async def change_kind(request: Request, deps: Deps) -> Reply:
    """Make an agency core or invited."""
    panel, _ = request.admitted()  # MANAGE_MEMBERS: checked by the guard (`register`)
    command = ChangeAgencyKind.of(request.data)
    agency_id, kind = command.agency_id, command.kind
    now = deps.clock.now()
    async with deps.uow() as uow:
        agency = await uow.agencies.get(panel.id, agency_id) if agency_id else None
        if agency is None or kind is None:
            raise NotFound("That agency is not in this panel. Type agencies.")
        if agency.kind is not kind:
            agency.kind = kind
            await uow.agencies.save(agency)
            await audit.record(
                uow, request, AuditVerb.UPDATE, "agency", agency.id, f"now {kind.value}", at=now
            )
        view = await agencies_view(uow, panel, notice=f"{agency.name} is now {kind.value}.")
        await uow.commit()
    return Reply(card=render_agencies(view))


# ---- CSV import -------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportRow:
    """One valid line of the file."""

    line: int
    name: str
    email: str | None
    aad_object_id: str
    agency_id: str | None
    roles: frozenset[Role]


@dataclass(frozen=True)
class RowProblem:
    """What is wrong, and where: line 0 is the file as a whole."""

    line: int
    column: str
    message: str


def _delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def parse_members_csv(
    text: str, agencies: Mapping[str, str]
) -> tuple[list[ImportRow], list[RowProblem]]:
    """Read and check a members file: the rows, and every problem with its line.

    `agencies` maps each of the panel's agency names, casefolded, to its id. The first line
    names the columns (name, email, aad_object_id, agency, roles, in any order); commas or
    semicolons separate them (Excel writes either).
    """
    text = text.removeprefix("\ufeff")
    if not text.strip():
        return [], [RowProblem(0, "", "The file is empty.")]
    first = text.lstrip().splitlines()[0]
    try:
        table = list(csv.reader(io.StringIO(text), delimiter=_delimiter(first), strict=True))
    except csv.Error:
        return [], [RowProblem(0, "", "The file is not a readable CSV file: check its quotes.")]
    numbered = [(n, row) for n, row in enumerate(table, 1) if any(cell.strip() for cell in row)]
    (header_line, header), body = numbered[0], numbered[1:]
    columns = [cell.strip().casefold().replace(" ", "_") for cell in header]
    problems: list[RowProblem] = []
    missing = [c for c in CSV_COLUMNS if c not in columns]
    unknown = [c for c in columns if c not in CSV_COLUMNS]
    if missing or unknown or len(set(columns)) != len(columns):
        message = "The first line must name the columns " + ", ".join(CSV_COLUMNS) + "."
        if missing:
            message += f" Missing: {', '.join(missing)}."
        if unknown:
            # Counted, never quoted: what a fetched file holds is not repeated back.
            message += f" {len(unknown)} {_columns(len(unknown))} not recognised."
        return [], [RowProblem(header_line, "", message)]
    if not body:
        return [], [RowProblem(0, "", "The file has no members after its first line.")]
    if len(body) > MAX_IMPORT_ROWS:
        return [], [RowProblem(0, "", f"Import at most {MAX_IMPORT_ROWS} members at once.")]
    rows: list[ImportRow] = []
    seen: dict[str, int] = {}
    for line, cells in body:
        if len(cells) != len(columns):
            problems.append(
                RowProblem(line, "", f"It has {len(cells)} values; the first line names 5.")
            )
            continue
        values = {c: cell.strip() for c, cell in zip(columns, cells, strict=True)}
        found = _check_row(line, values, agencies, seen)
        if isinstance(found, ImportRow):
            rows.append(found)
        else:
            problems += found
        person = values[CSV_AAD].casefold()
        if GUID.match(person):
            seen.setdefault(person, line)
    return (rows, problems) if not problems else ([], problems)


def _columns(count: int) -> str:
    return "column was" if count == 1 else "columns were"


def _check_row(
    line: int, values: Mapping[str, str], agencies: Mapping[str, str], seen: Mapping[str, int]
) -> ImportRow | list[RowProblem]:
    problems: list[RowProblem] = []

    def problem(column: str, message: str) -> None:
        problems.append(RowProblem(line, column, message))

    name = " ".join(values[CSV_NAME].split())
    if not name:
        problem(CSV_NAME, "The name is missing.")
    elif len(name) > MAX_NAME:
        problem(CSV_NAME, f"Keep the name under {MAX_NAME} characters.")
    email = values[CSV_EMAIL]
    email_error = email_problem(email)
    if email_error:
        problem(CSV_EMAIL, email_error)
    aad = values[CSV_AAD]
    if not GUID.match(aad):
        problem(CSV_AAD, "Not an Entra object id (like 3d9b6c1e-1a2f-4c3b-8d4e-…).")
    elif aad.casefold() in seen:
        problem(CSV_AAD, f"The same person as on line {seen[aad.casefold()]}.")
    agency_name = " ".join(values[CSV_AGENCY].split())
    agency_id = agencies.get(agency_name.casefold()) if agency_name else None
    # The messages name the line and column, never the value: the file is fetched content.
    if agency_name and agency_id is None:
        problem(CSV_AGENCY, "The panel has no agency of that name: add it first, or check it.")
    roles, unknown = parse_roles(values[CSV_ROLES])
    if unknown:
        problem(CSV_ROLES, f"Use the roles {', '.join(r.value for r in Role)} only.")
    elif not roles:
        problem(CSV_ROLES, "Give at least one role.")
    elif roles & AGENCY_ROLES and not agency_name:
        problem(CSV_AGENCY, "A SPOC or deputy belongs to an agency: name it.")
    if problems:
        return problems
    return ImportRow(line, name, email or None, aad.lower(), agency_id, roles)


async def import_members(
    request: Request, deps: Deps, csv_text: str, file_name: str = "members.csv"
) -> Reply:
    """Import a CSV file of members, all of it or nothing; each member added or updated."""
    panel, _ = request.admitted()  # MANAGE_MEMBERS: checked by the guard (`register`)
    if len(csv_text) > MAX_IMPORT_CHARS:
        raise InvalidInput(f"The file is too large: import at most {MAX_IMPORT_ROWS} members.")
    now = deps.clock.now()
    async with deps.uow() as uow:
        agencies = {a.name.casefold(): a.id for a in await uow.agencies.all(panel.id) if a.active}
        rows, problems = parse_members_csv(csv_text, agencies)
        everyone = {m.aad_object_id.lower(): m for m in await uow.members.all(panel.id)}
        changed: list[tuple[Member, bool]] = []
        for row in rows:
            existing = everyone.get(row.aad_object_id)
            base = existing or Member(panel_id=panel.id, aad_object_id=row.aad_object_id, name="?")
            member = dataclasses.replace(
                base,
                name=row.name,
                email=row.email or base.email,
                agency_id=row.agency_id,
                roles=row.roles,
                active=True,
                # Someone new (or added back) is invited until they accept.
                invited=base.invited or existing is None or not existing.active,
            )
            everyone[row.aad_object_id] = member
            changed.append((member, existing is None))
        if rows and not any(m.has(Role.COORDINATOR) for m in everyone.values()):
            problems.append(
                RowProblem(0, CSV_ROLES, "After this import the panel would have no coordinator.")
            )
        if problems:
            lines = [ImportErrorLine(p.line, p.column, p.message) for p in problems]
            refused = ImportRefusedView(panel.name, file_name[:100], lines, _rows(csv_text))
            return Reply(card=render_import_refused(refused))
        for member, new in changed:
            await uow.members.save(member)
            if member.invited:
                await _invite(uow, panel, member, request, now)
            await audit.record(
                uow,
                request,
                AuditVerb.CREATE if new else AuditVerb.UPDATE,
                "member",
                member.id,
                f"imported from {file_name[:60]}: roles {_roles_text(member.roles)}",
                at=now,
            )
        await uow.commit()
    added = sum(1 for _, new in changed if new)
    return Reply(card=render_imported(ImportedView(panel.name, added, len(changed) - added)))


INVITED = "{name} is invited: they join the panel when they accept the card I sent them."


async def _invite(
    uow: UnitOfWork, panel: Panel, member: Member, request: Request, now: datetime
) -> None:
    """Queue the invitation card for the person's private chat."""
    inviter = request.member.name if request.member else "A coordinator"
    await card_to_member(
        uow,
        panel_id=panel.id,
        member_id=member.id,
        card=render_invitation(panel.id, panel.name, roles_text(member), inviter),
        key=f"{INVITATION_KEY}{member.id}:{now.isoformat()}",
        now=now,
    )


def _rows(text: str) -> int:
    return max(0, sum(1 for line in text.splitlines() if line.strip()) - 1)


# Sending the members' CSV file: checked by the guard before the file is fetched.
IMPORT_ACCESS = Access(Act.MANAGE_MEMBERS, PRIVATE)


def register(router: Router) -> None:
    """Register setup, members, agencies and their buttons."""
    router.command(
        CommandSpec(
            name="setup",
            summary="Make this team a panel, with you as its coordinator.",
            handler=setup,
            usage="setup [panel name]",
            access=Access(Act.CREATE_PANEL, frozenset({ConversationKind.CHANNEL})),
        )
    )
    managing = Access(Act.MANAGE_MEMBERS, PRIVATE)
    one_member = Access(Act.MANAGE_MEMBERS, PRIVATE, (Target.MEMBER,))
    one_agency = Access(Act.MANAGE_MEMBERS, PRIVATE, (Target.AGENCY,))
    router.command(
        CommandSpec(
            name="members",
            summary="Coordinators: add and remove members, set their agency and roles.",
            handler=members,
            usage="members [part of a name | import]",
            access=managing,
            button="Members",
            in_manifest=False,
        )
    )
    router.command(
        CommandSpec(
            name="agencies",
            summary="Coordinators: add agencies and mark them core or invited.",
            handler=agencies,
            access=managing,
            in_manifest=False,
        )
    )
    router.command(
        CommandSpec(
            name="agency",
            summary="Coordinators: your own agency (asked when the panel was set up).",
            handler=my_agency,
            access=managing,
            in_manifest=False,
        )
    )
    for verb, handler, needs in (
        (Verb.MEMBERS_LIST, list_verb, managing),
        (Verb.MEMBERS_ADD, add, managing),
        (Verb.MEMBERS_EDIT, edit, one_member),
        (Verb.MEMBERS_SAVE, save, one_member),
        (Verb.MEMBERS_REMOVE, remove, one_member),
        (Verb.MEMBERS_RESTORE, restore, one_member),
        (Verb.AGENCIES_ADD, add_agency, managing),
        (Verb.AGENCIES_KIND, change_kind, one_agency),
        (Verb.SETUP_AGENCY, set_my_agency, managing),
    ):
        router.verb(VerbSpec(verb.value, handler, needs))
