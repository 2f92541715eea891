"""Opening a 1:1 chat with a member the bot has not talked to (or whose chat Teams forgot).

Teams lets a bot start a personal chat through `create_conversation` when the app is
installed for the user; where Graph credentials are configured the bot first installs
itself for that user (an injected `install_for_user`, so this module makes no Graph calls).
The new chat's reference is built here and stored by the caller, so later messages simply
continue it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botbuilder.schema import (
    ChannelAccount,
    ConversationAccount,
    ConversationParameters,
    ConversationReference,
)

from bot.domain.delivery import ConversationKind
from bot.kernel.ports import CalendarError

if TYPE_CHECKING:
    from botbuilder.core import TurnContext
    from botbuilder.integration.aiohttp import CloudAdapter

    from bot.domain.panel import Member, Panel
    from bot.kernel.ports import UnitOfWork

log = logging.getLogger(__name__)

CHANNEL_ID = "msteams"
SEARCH_ORDER = (
    ConversationKind.CHANNEL,
    ConversationKind.GROUP_CHAT,
    ConversationKind.MEETING,
    ConversationKind.PERSONAL,
)

InstallForUser = Callable[[str], Awaitable[None]]


@dataclass(frozen=True)
class PanelEndpoint:
    """Where and as whom the bot talks in a panel's tenant, taken from a stored reference."""

    service_url: str
    bot: dict[str, Any]
    tenant_id: str


async def panel_endpoint(uow: UnitOfWork, panel: Panel) -> PanelEndpoint | None:
    """The service URL and bot account of a stored conversation of the panel (its channel
    first, a personal chat last: there are few of the former and many of the latter); None
    when nobody in the panel has ever talked to the bot, so no service URL is known."""
    for kind in SEARCH_ORDER:
        refs = [ref for ref in await uow.conversations.of_kind(panel.id, kind) if ref.service_url]
        if refs:
            latest = refs[-1]  # of_kind lists the least recently updated first
            bot = latest.reference.get("bot")
            return PanelEndpoint(
                service_url=latest.service_url,
                bot=dict(bot) if isinstance(bot, dict) else {},
                tenant_id=panel.tenant_id,
            )
    return None


class PersonalChats:
    """Creates 1:1 chats through the adapter; the caller paces and stores them."""

    def __init__(
        self,
        adapter: CloudAdapter,
        app_id: str,
        *,
        install_for_user: InstallForUser | None = None,
    ) -> None:
        self._adapter = adapter
        self._app_id = app_id
        self._install_for_user = install_for_user

    def _bot_account(self, endpoint: PanelEndpoint) -> ChannelAccount:
        bot_id = endpoint.bot.get("id") or (f"28:{self._app_id}" if self._app_id else "")
        return ChannelAccount(id=bot_id, name=endpoint.bot.get("name"))

    async def create(self, endpoint: PanelEndpoint, member: Member) -> str:
        """Open the member's 1:1 chat; returns its conversation id.

        The connector's errors are raised as the adapter raises them (the caller reads
        their status); a failed installation is only logged, since the app may well be
        installed already and the creation itself says whether the member can be reached.
        """
        if self._install_for_user is not None:
            try:
                await self._install_for_user(member.aad_object_id)
            except CalendarError as error:
                # Our own message (what Graph answered, never a body or a secret).
                log.warning("could not install the app for member %s: %s", member.id, error)
            except Exception as error:
                log.warning(
                    "could not install the app for member %s: %s", member.id, type(error).__name__
                )
        parameters = ConversationParameters(
            is_group=False,
            bot=self._bot_account(endpoint),
            members=[ChannelAccount(id=member.aad_object_id, aad_object_id=member.aad_object_id)],
            tenant_id=endpoint.tenant_id,
            channel_data={"tenant": {"id": endpoint.tenant_id}},
        )
        created: list[str] = []

        async def remember(turn_context: TurnContext) -> None:
            created.append(str(turn_context.activity.conversation.id))

        await self._adapter.create_conversation(
            self._app_id,
            remember,
            parameters,
            channel_id=CHANNEL_ID,
            service_url=endpoint.service_url,
        )
        if not created:
            raise RuntimeError("the connector created a conversation without an id")
        return created[0]

    def reference(
        self, endpoint: PanelEndpoint, member: Member, conversation_id: str
    ) -> dict[str, Any]:
        """The serialised reference of a chat `create` opened, as a turn in it would save."""
        reference = ConversationReference(
            bot=self._bot_account(endpoint),
            user=ChannelAccount(id=member.aad_object_id, aad_object_id=member.aad_object_id),
            conversation=ConversationAccount(
                id=conversation_id,
                conversation_type="personal",
                tenant_id=endpoint.tenant_id,
            ),
            channel_id=CHANNEL_ID,
            service_url=endpoint.service_url,
        )
        serialised: dict[str, Any] = reference.serialize()
        return serialised
