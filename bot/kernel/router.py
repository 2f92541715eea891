"""Framework-free routing: typed requests in, replies out.

The Teams layer turns an activity into a `Request` (who, where, which command or verb and
its arguments) and renders the `Reply`; features register their commands and card verbs
here in one `register(router)` call each.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.domain.errors import NotAllowed, NotFound
from bot.domain.policy import NOT_A_MEMBER
from bot.kernel.jobs import Wakeups

if TYPE_CHECKING:
    from bot.domain.common import Clock
    from bot.domain.delivery import ConversationKind
    from bot.domain.panel import Member, Panel, Role
    from bot.kernel.events import Events
    from bot.kernel.guard import Access
    from bot.kernel.ports import Roster, UnitOfWorkFactory


@dataclass(frozen=True)
class Caller:
    """The person behind an activity, as Teams names them."""

    teams_user_id: str
    aad_object_id: str | None
    name: str


@dataclass(frozen=True)
class Where:
    """The conversation an activity came from."""

    kind: ConversationKind
    conversation_id: str
    team_id: str | None = None
    tenant_id: str | None = None
    # The serialised Bot Framework reference and service URL, so a use case can keep the
    # conversation for later posts (set by the Teams layer; only bot.teams reads it).
    reference: Mapping[str, Any] | None = field(default=None, compare=False)
    service_url: str = field(default="", compare=False)


@dataclass(frozen=True)
class Request:
    """One thing a person asked of the bot, resolved to their panel and membership."""

    caller: Caller
    where: Where
    panel: Panel | None
    member: Member | None
    args: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)
    # Names people chosen in a people picker (set by the Teams layer for the turn).
    roster: Roster | None = field(default=None, compare=False)
    # How many panels the caller belongs to: a card says which one it concerns when several.
    panels: int = 0

    def admitted(self) -> tuple[Panel, Member]:
        """The caller's panel and membership, once the guard let the request through (it
        decides who may do what before any handler runs: handlers do not ask again)."""
        if self.panel is None or self.member is None or not self.member.active:
            raise NotAllowed(NOT_A_MEMBER)
        return self.panel, self.member

    def roles(self) -> frozenset[Role]:
        """The caller's active roles in the resolved panel."""
        if self.member is None or not self.member.active:
            return frozenset()
        return self.member.roles


@dataclass(frozen=True)
class Reply:
    """What the bot answers: text, a card, or both; `card` is an Adaptive Card dict."""

    text: str | None = None
    card: dict[str, Any] | None = None
    # Asked for in a shared chat but for the person alone: it goes to their private chat
    # and the shared chat reads a line saying so (set by dispatch, sent by channel_gate).
    private: bool = False


@dataclass(frozen=True)
class Deps:
    """The collaborators every use case may need, injected per app."""

    uow: UnitOfWorkFactory
    clock: Clock
    # What one feature tells the others (built from FEATURES by bot.app.make_deps).
    events: Events
    # The deployment's administrators (Entra object ids): the only people who may make a
    # team a panel (PANEL_ADMINS).
    admins: frozenset[str] = frozenset()
    # Wakes a periodic job of this process before its time (bot.kernel.jobs), e.g. the
    # Graph sync after a meeting is planned: the turn only rings, the job does the work.
    wakeups: Wakeups = field(default_factory=Wakeups)


Handler = Callable[[Request, Deps], Awaitable[Reply]]


@dataclass(frozen=True)
class CommandSpec:
    """A command people type and what it needs (act, chats, subject: bot.kernel.guard)."""

    name: str
    summary: str
    handler: Handler
    access: Access
    usage: str = ""
    aliases: tuple[str, ...] = ()
    button: str | None = None
    in_manifest: bool = True
    # True only for a command about the caller's own memberships of every panel (`panel`):
    # its card names no one panel (bot.kernel.dispatch.of_panel).
    own_memberships: bool = False

    @property
    def scopes(self) -> frozenset[ConversationKind]:
        """The kinds of chat the command answers in."""
        return self.access.chats

    def available_to(
        self, roles: frozenset[Role], kind: ConversationKind, member: bool = True
    ) -> bool:
        """Whether a caller with these roles may use the command in this kind of chat."""
        return self.access.open_to(roles, kind, member)


@dataclass(frozen=True)
class VerbSpec:
    """A card button's verb, the use case it runs and what it needs (bot.kernel.guard)."""

    verb: str
    handler: Handler
    access: Access
    # True only for a verb that acts on the caller's own memberships alone, found by their
    # Entra object id (choosing a panel, an invitation's Join or Decline): it runs whatever
    # panel its card came from, the invited not being members of it yet, and its card names
    # no one panel. Every other verb answers for its card's panel, or is refused
    # (bot.kernel.turns.acting_for).
    own_memberships: bool = False


@dataclass(frozen=True)
class ParsedCommand:
    name: str
    args: str


_MENTION = re.compile(r"<at>[^<]*</at>", re.IGNORECASE)


def parse_text(text: str) -> ParsedCommand | None:
    """Strip mentions, a leading slash and spacing; None when nothing is left."""
    cleaned = _MENTION.sub(" ", text).replace("\u00a0", " ").strip()
    if not cleaned:
        return None
    cleaned = cleaned.removeprefix("/").strip()
    head, _, rest = cleaned.partition(" ")
    if not head:
        return None
    return ParsedCommand(head.lower(), rest.strip())


class Router:
    """Maps command names and card verbs to their handlers."""

    def __init__(self) -> None:
        self._commands: dict[str, CommandSpec] = {}
        self._names: dict[str, str] = {}
        self._verbs: dict[str, VerbSpec] = {}
        self._otherwise: CommandSpec | None = None

    def command(self, spec: CommandSpec) -> None:
        """Register a command and its aliases; a name may be registered once."""
        for name in (spec.name, *spec.aliases):
            if name in self._names:
                raise ValueError(f"command '{name}' is registered twice")
            self._names[name] = spec.name
        self._commands[spec.name] = spec

    def verb(self, spec: VerbSpec) -> None:
        """Register a card verb; a verb may be registered once."""
        if spec.verb in self._verbs:
            raise ValueError(f"verb '{spec.verb}' is registered twice")
        self._verbs[spec.verb] = spec

    def find_command(self, name: str) -> CommandSpec:
        """The command called `name` (or one of its aliases)."""
        try:
            return self._commands[self._names[name]]
        except KeyError:
            raise NotFound(
                f"I don't know the command '{name[:40]}'. Type help to see what you can do."
            ) from None

    def otherwise(self, spec: CommandSpec) -> None:
        """Register what answers a word that names no command (a greeting, a slip): once."""
        if self._otherwise is not None:
            raise ValueError("what answers an unknown word is registered twice")
        self._otherwise = spec

    def knows(self, name: str) -> bool:
        """Whether `name` is a command or one of its aliases."""
        return name in self._names

    def command_for(self, name: str) -> CommandSpec:
        """The command called `name`, or what answers any other word if it is registered;
        `find_command` is the strict lookup (a button must name a real command)."""
        if not self.knows(name) and self._otherwise is not None:
            return self._otherwise
        return self.find_command(name)

    def find_verb(self, verb: str) -> VerbSpec:
        """The handler of a card verb."""
        try:
            return self._verbs[verb]
        except KeyError:
            raise NotFound("This card's button is no longer supported. Type help.") from None

    def commands(self) -> list[CommandSpec]:
        """Every command, in registration order."""
        return list(self._commands.values())

    def verbs(self) -> list[str]:
        """Every registered verb."""
        return list(self._verbs)

    def verb_specs(self) -> list[VerbSpec]:
        """Every registered verb's spec, in registration order."""
        return list(self._verbs.values())
