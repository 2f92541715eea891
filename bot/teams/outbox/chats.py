"""Opening a member's 1:1 chat for a row (the first time, or again when Teams forgot it),
and forgetting a chat Teams no longer knows."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.domain.delivery import (
    INVITATION_KEY,
    NOT_FOUND,
    ConversationKind,
    ConversationRef,
    OutgoingDelivery,
)
from bot.teams.outbox.connector import Answer, Connector

if TYPE_CHECKING:
    import asyncio
    from collections.abc import Callable
    from datetime import datetime

    from bot.kernel.ports import UnitOfWorkFactory
    from bot.teams.outbox.targets import Targets

log = logging.getLogger(__name__)

# Why a member could not be given a chat at all (no conversation of the panel is known).
NO_SERVICE_URL = "NoServiceUrl"


class Chats:
    """Opens and forgets 1:1 chats, storing what it learns."""

    def __init__(
        self,
        connector: Connector,
        targets: Targets,
        uow: UnitOfWorkFactory,
        writing: asyncio.Lock,
        *,
        now: Callable[[], datetime],
    ) -> None:
        self._connector = connector
        self._targets = targets
        self._uow = uow
        self._writing = writing
        self._now = now

    async def open(self, delivery: OutgoingDelivery) -> tuple[Answer, ConversationRef | None]:
        """Open a 1:1 chat for the row's member and store its reference."""
        assert delivery.recipient_member_id is not None
        async with self._uow() as uow:
            member = await uow.members.get(delivery.panel_id, delivery.recipient_member_id)
            endpoint = await self._targets.endpoint(uow, delivery.panel_id)
        # An invited member gets their invitation and nothing else until they join.
        uninvited = (
            member is not None and member.invited and not delivery.key.startswith(INVITATION_KEY)
        )
        if member is None or not member.active or uninvited or endpoint is None:
            return Answer(NOT_FOUND, NO_SERVICE_URL), None
        answer, conversation_id = await self._connector.open_chat(endpoint, member)
        if conversation_id is None:
            return answer, None
        ref = ConversationRef(
            panel_id=member.panel_id,
            kind=ConversationKind.PERSONAL,
            conversation_id=conversation_id,
            member_id=member.id,
            service_url=endpoint.service_url,
            reference=self._connector.chats.reference(endpoint, member, conversation_id),
            updated_at=self._now(),
        )
        async with self._writing, self._uow() as uow:
            await uow.conversations.save(ref)
            await uow.commit()
        log.info("opened a 1:1 chat with member %s", member.id)
        return answer, ref

    async def forget(self, ref: ConversationRef | None) -> None:
        """Delete a stored conversation Teams answered 404 for."""
        if ref is None:
            return
        async with self._writing, self._uow() as uow:
            await uow.conversations.delete(ref.panel_id, ref.id)
            await uow.commit()
        log.info("forgot conversation %s, which Teams no longer knows", ref.id)
