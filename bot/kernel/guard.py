"""The one place that decides who may run a command or a card verb, where, on what.

Every command and verb declares an `Access`: the policy act it performs, the kinds of chat
it may answer in, and which ids in its arguments or card data name what it concerns (a
case, referral, action, information request, meeting, agency or member). `authorise` runs
before every handler: it finds those things *in the caller's panel* (an id of another panel
is as unknown as a made-up one), works out how the caller stands to each, and asks the
policy table (bot.domain.policy) once per thing. Anything refused is audited and answered
plainly; nothing is run. A command or verb without a declaration cannot be registered.

In a meeting chat (everyone invited reads it) commands act only on that chat's own meeting:
the one the chair started there. Until a meeting is started in a chat, only `start` and the
commands that show nothing of the panel answer there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from bot.domain.delivery import ConversationKind
from bot.domain.errors import InvalidInput, NotFound
from bot.domain.policy import (
    NEEDS_AGREEMENT,
    NOT_A_MEMBER,
    NOT_ACTIVE,
    Act,
    Decision,
    PolicySubject,
    Refusal,
    Relation,
    decide,
    roles_for,
)
from bot.kernel import access
from cards.verbs import (
    ACTION_ID_KEY,
    AGENCY_ID_KEY,
    MEETING_KEY,
    MEMBER_ID_KEY,
    REFERENCE_KEY,
    REFERRAL_ID_KEY,
    REQUEST_ID_KEY,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from bot.domain.meeting import Meeting
    from bot.domain.panel import Member, Panel, Role
    from bot.kernel.ports import UnitOfWork

PRIVATE = frozenset({ConversationKind.PERSONAL})
SHARED = frozenset(
    {ConversationKind.CHANNEL, ConversationKind.GROUP_CHAT, ConversationKind.MEETING}
)
ANYWHERE = PRIVATE | SHARED
MEETING_CHATS = SHARED
# Commands that answer in private or a channel or group chat, but never in a meeting's chat.
NOT_MEETINGS = ANYWHERE - {ConversationKind.MEETING}

_WHERE = {
    ConversationKind.PERSONAL: "our private chat",
    ConversationKind.CHANNEL: "a team channel",
    ConversationKind.GROUP_CHAT: "a group chat",
    ConversationKind.MEETING: "the meeting chat",
}
_CASE_REFERENCE = re.compile(r"^[A-Z]{1,6}-\d{4}-\d{1,6}$")
MAX_ID = 64
# How far back a meeting chat's meeting is looked for: a meeting started there, and the
# few days after it while its minutes are settled.
CHAT_MEETING_DAYS = 14

NOT_THIS_MEETING = (
    "That card belongs to another meeting: in this chat I act only on the meeting that was "
    "started here."
)
NO_MEETING_HERE = (
    "No panel meeting has been started in this chat. The chair types start in the meeting's "
    "own chat; until then I show nothing of the panel here."
)


# Acts done only in a private chat, wherever a command declares it may answer (its
# subcommands included: `schedule move` typed in a channel is refused).
PRIVATE_ONLY: frozenset[Act] = frozenset(
    {
        Act.TRIAGE,
        Act.EDIT_REFERRAL,
        Act.ANSWER_INFO_REQUEST,
        Act.UPDATE_ACTION,
        Act.MANAGE_SCHEDULE,
        Act.MANAGE_MEMBERS,
        Act.APPROVE_MINUTES,
        Act.SIGN_MINUTES,
        Act.EXPORT_SAR,
        Act.ERASE,
        Act.VIEW_STATS,
    }
)
# Acts that show case detail yet belong in the meeting's chat: its cards there carry no
# narrative (bot.features.meetings.meeting_run).
IN_THE_MEETING: frozenset[Act] = frozenset({Act.RUN_MEETING, Act.CAPTURE_ACTION})


def replies_in_private(act: Act | None, kind: ConversationKind) -> bool:
    """Whether a reply for this act, asked in this chat, must go to the person in private:
    anything showing case detail asked in a shared chat, but the meeting's own cards."""
    return (
        kind in SHARED and act is not None and act in NEEDS_AGREEMENT and act not in IN_THE_MEETING
    )


class Target(StrEnum):
    """Where a command or verb names what it concerns."""

    CASE_IN_ARGS = "case_in_args"  # the typed argument: a case reference, CM-2026-014
    CASE = "case"  # data["reference"]: a case reference
    RECORD_IN_ARGS = "record_in_args"  # the typed argument: a case or referral reference
    RECORD = "record"  # data["reference"]: a case or referral reference
    REFERRAL = "referral"  # data["referral_id"]
    ACTION = "action"  # data["action_id"]
    INFO_REQUEST = "info_request"  # data["request_id"]
    MEETING = "meeting"  # data["meeting_id"]
    AGENCY = "agency"  # data["agency_id"]
    MEMBER = "member"  # data["member_id"]
    OWN_AGENCY = "own_agency"  # the caller's own agency, when the data names none


DATA_KEYS: Mapping[Target, str] = {
    Target.CASE: REFERENCE_KEY,
    Target.RECORD: REFERENCE_KEY,
    Target.REFERRAL: REFERRAL_ID_KEY,
    Target.ACTION: ACTION_ID_KEY,
    Target.INFO_REQUEST: REQUEST_ID_KEY,
    Target.MEETING: MEETING_KEY,
    Target.AGENCY: AGENCY_ID_KEY,
    Target.MEMBER: MEMBER_ID_KEY,
}


# What someone is told when the thing a card names is another person's or agency's: said
# the same whether it exists or not, and naming nothing of it.
NOT_YOURS: Mapping[Target, str] = {
    Target.REFERRAL: "I can't find that referral among yours. Type refer to see your draft.",
    Target.ACTION: "This action belongs to another agency: only its SPOC or deputy can change it.",
    Target.INFO_REQUEST: "This request was sent to another agency: only its SPOC or deputy can "
    "answer it.",
    Target.AGENCY: "That list belongs to another agency. Type actions for your agency's.",
}


@dataclass(frozen=True)
class Access:
    """What a command or verb needs: its act (None: it shows nothing of any panel), the
    chats it answers in, the ids that name what it concerns (each one present is found in
    the caller's panel and checked; `required` ones must be present), acts for
    subcommands (`schedule move`), and whether it may bind a meeting to the chat."""

    act: Act | None
    chats: frozenset[ConversationKind]
    targets: tuple[Target, ...] = ()
    required: tuple[Target, ...] = ()
    sub_acts: Mapping[str, Act] = field(default_factory=dict)
    starts_meeting: bool = False
    # What accepting the agreement runs next, when that was all that was missing (a card
    # verb is not run again by itself: it may carry what was typed).
    resume: Mapping[str, Any] | None = None

    def act_for(self, args: str) -> Act | None:
        """The act of this use: a subcommand's own act, or the command's."""
        head = args.strip().split(" ", 1)[0].lower() if args.strip() else ""
        return self.sub_acts.get(head, self.act)

    def open_to(self, roles: frozenset[Role], kind: ConversationKind, member: bool) -> bool:
        """Whether someone with these roles may use it in this kind of chat at all (help)."""
        if kind not in self.chats:
            return False
        if self.act is None:
            return True
        return member and bool(set(roles_for(self.act)) & roles)

    def __post_init__(self) -> None:
        if not self.chats:
            raise ValueError("an Access must name the chats it answers in")
        if not set(self.required) <= set(self.targets):
            raise ValueError("a required target must be one of the targets")


def public(chats: frozenset[ConversationKind] = ANYWHERE) -> Access:
    """A command that shows nothing of any panel (help, whoami): anyone may use it."""
    return Access(None, chats)


@dataclass(frozen=True)
class Asked:
    """Who asks, where, and what: what `authorise` needs of a request."""

    panel: Panel | None
    member: Member | None
    kind: ConversationKind
    conversation_id: str
    args: str
    data: Mapping[str, Any]


@dataclass(frozen=True)
class Refused:
    """A refusal, already audited: its message, or (agreement only) the act to show the
    agreement for."""

    message: str
    decision: Decision | None = None
    act: Act | None = None
    entity: str = "panel"
    entity_id: str | None = None
    why: str = ""

    def detail(self) -> str:
        """What the audit trail says of it: the act and the policy's reason, never data."""
        if self.why:
            return self.why
        refusal = self.decision.refusal.value if self.decision and self.decision.refusal else ""
        act = self.act.value if self.act else "command"
        return f"{act}: {refusal or self.message[:80]}"


@dataclass(frozen=True)
class Allowed:
    """What the handler runs with: the data, with this chat's meeting filled in."""

    data: Mapping[str, Any]


def _text(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not 0 < len(value) <= MAX_ID:
        raise InvalidInput("This card's button sent nothing I understand. Type help.")
    return value


async def _own_agency_relations(
    uow: UnitOfWork, panel: Panel, member: Member, agency_id: str
) -> frozenset[Relation]:
    """An agency's own SPOC or deputy stands to it as its agency and action owner."""
    if member.agency_id != agency_id:
        return frozenset({Relation.NONE})
    relation = await access.relation_of_agency(uow, panel, agency_id)
    return frozenset({relation, Relation.ACTION_OWNER})


async def _locate(
    uow: UnitOfWork, panel: Panel, member: Member, target: Target, key: str
) -> tuple[str, str, frozenset[Relation]]:
    """Find what `key` names in the caller's panel: (entity, id, the caller's relations).
    NotFound when it is not there (another panel's id is not there either)."""
    if target in (Target.CASE_IN_ARGS, Target.CASE):
        case = await uow.cases.by_reference(panel.id, key.upper())
        if case is None:
            raise NotFound(f"There is no case {key.upper()[:20]} in this panel.")
        return "case", case.id, await access.relations_to_case(uow, panel, member, case)
    if target in (Target.RECORD_IN_ARGS, Target.RECORD):
        case = await uow.cases.by_reference(panel.id, key.upper())
        if case is not None:
            return "case", case.id, await access.relations_to_case(uow, panel, member, case)
        referral = await uow.referrals.by_reference(panel.id, key.upper())
        if referral is None:
            raise NotFound(f"There is no case or referral {key.upper()[:20]} in this panel.")
        relations = await access.relations_to_referral(uow, panel, member, referral)
        return "referral", referral.id, relations
    if target is Target.REFERRAL:
        referral = await uow.referrals.get(panel.id, key)
        if referral is None:
            raise NotFound("That referral is not in this panel any more.")
        relations = await access.relations_to_referral(uow, panel, member, referral)
        return "referral", referral.id, relations
    if target is Target.ACTION:
        action = await uow.actions.get(panel.id, key)
        if action is None:
            raise NotFound("That action no longer exists.")
        case = await uow.cases.get(panel.id, action.case_id)
        found = set(await access.relations_to_case(uow, panel, member, case) if case else ())
        # Owning *an* action on the case is not owning this one.
        found.discard(Relation.ACTION_OWNER)
        if member.agency_id is not None and member.agency_id == action.owner_agency_id:
            found.add(Relation.ACTION_OWNER)
        return "action", action.id, frozenset(found or {Relation.NONE})
    if target is Target.INFO_REQUEST:
        request = await uow.information_requests.get(panel.id, key)
        if request is None:
            raise NotFound("That information request no longer exists.")
        relations = await _own_agency_relations(uow, panel, member, request.agency_id)
        return (
            "information_request",
            request.id,
            relations - {Relation.ACTION_OWNER} or frozenset({Relation.NONE}),
        )
    if target is Target.MEETING:
        meeting = await uow.meetings.get(panel.id, key)
        if meeting is None:
            raise NotFound("That meeting no longer exists.")
        return "meeting", meeting.id, frozenset({Relation.NONE})
    if target in (Target.AGENCY, Target.OWN_AGENCY):
        agency = await uow.agencies.get(panel.id, key)
        if agency is None:
            raise NotFound("That agency is not in this panel.")
        return "agency", agency.id, await _own_agency_relations(uow, panel, member, agency.id)
    if target is Target.MEMBER:
        other = await uow.members.get(panel.id, key)
        if other is None:
            raise NotFound("That person is not a member of this panel.")
        return "member", other.id, frozenset({Relation.NONE})
    raise AssertionError(target)


def _keys(access_: Access, asked: Asked) -> list[tuple[Target, str]]:
    """The ids the request names, per declared target; InvalidInput for a missing one."""
    found: list[tuple[Target, str]] = []
    for target in access_.targets:
        if target in (Target.CASE_IN_ARGS, Target.RECORD_IN_ARGS):
            words = asked.args.split()
            key = words[0][:40].upper() if len(words) == 1 else None
            if key is not None and not _CASE_REFERENCE.match(key):
                what = "case" if target is Target.CASE_IN_ARGS else "case or referral"
                raise NotFound(f"There is no {what} {key[:20]} in this panel.")
        elif target is Target.OWN_AGENCY:
            key = (_text(asked.data, "agency_id") if "agency_id" in asked.data else None) or (
                asked.member.agency_id if asked.member else None
            )
        else:
            key = _text(asked.data, DATA_KEYS[target])
        if key is None:
            if target in access_.required:
                raise InvalidInput("This card is out of date. Type help for the current one.")
            continue
        found.append((target, key))
    return found


async def chat_meeting(
    uow: UnitOfWork, panel: Panel, conversation_id: str, now: datetime
) -> Meeting | None:
    """The meeting started in this chat, if any (recent ones only)."""
    recent = await uow.meetings.upcoming(
        panel.id, now - timedelta(days=CHAT_MEETING_DAYS), limit=24
    )
    bound = [m for m in recent if m.chat_conversation_id == conversation_id]
    return bound[-1] if bound else None


async def authorise(
    uow: UnitOfWork, access_: Access, asked: Asked, *, name: str, now: datetime
) -> Allowed | Refused:
    """Decide, before the handler runs, whether this request may run here; the refusal is
    recorded in the panel's audit trail by the caller (see dispatch)."""
    if asked.kind not in access_.chats:
        places = " or ".join(sorted({_WHERE[kind] for kind in access_.chats}))
        return Refused(
            f"`{name}` works in {places}, not here.",
            entity="command",
            entity_id=name,
            why="not here",
        )
    act = access_.act_for(asked.args)
    if act is None:
        return Allowed(asked.data)
    if act in PRIVATE_ONLY and asked.kind is not ConversationKind.PERSONAL:
        return Refused(
            f"`{name}` works in our private chat, not here.",
            entity="command",
            entity_id=name,
            why="not here",
        )
    panel, member = asked.panel, asked.member
    if act is Act.CREATE_PANEL:
        return Allowed(asked.data)  # decided by the deployment's administrators (dispatch)
    if panel is None or member is None:
        typed = "." not in name  # a command's name, not a card verb's
        message = (
            f"`{name}` is for panel members. Ask your panel coordinator to add you."
            if typed
            else NOT_A_MEMBER
        )
        return Refused(message, act=act, entity="command", entity_id=name)
    if not member.active:
        return Refused(NOT_ACTIVE, act=act, entity="command", entity_id=name)
    data: Mapping[str, Any] = asked.data
    if asked.kind is ConversationKind.MEETING or (
        asked.kind in SHARED and act in (Act.ATTEND_MEETING, Act.RUN_MEETING, Act.CAPTURE_ACTION)
    ):
        meeting = await chat_meeting(uow, panel, asked.conversation_id, now)
        named = _text(data, "meeting_id")
        if meeting is None and not access_.starts_meeting:
            return Refused(NO_MEETING_HERE, act=act, entity="command", entity_id=name)
        if meeting is not None:
            if named is not None and named != meeting.id:
                return Refused(NOT_THIS_MEETING, act=act, entity="meeting", entity_id=named[:64])
            data = {**data, "meeting_id": meeting.id}
    # The agreement is looked up only for an act that needs it (one query less per turn).
    subject = (
        await access.subject_for(uow, panel, member)
        if act in NEEDS_AGREEMENT
        else PolicySubject.of(member, accepted_version=None, current_version=panel.isa_version)
    )
    keys = _keys(access_, replace(asked, data=data))
    checks: list[tuple[str, str | None, frozenset[Relation]]] = []
    for target, key in keys:
        checks.append(await _locate(uow, panel, member, target, key))
    if not checks:
        checks.append(("panel", panel.id, frozenset({Relation.NONE})))
    targets: list[Target | None] = [t for t, _ in keys] or [None]
    for (entity, entity_id, relations), named in zip(checks, targets, strict=True):
        decision = decide(subject, act, relations)
        if not decision.allowed:
            message = decision.reason
            if (
                decision.refusal is Refusal.NEED_TO_KNOW
                and named is not None
                and named in NOT_YOURS
            ):
                message = NOT_YOURS[named]
            return Refused(message, decision, act, entity, entity_id)
    return Allowed(data)
