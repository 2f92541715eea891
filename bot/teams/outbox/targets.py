"""Where each outbox row goes: a stored conversation, a member's 1:1 chat still to open, or
(for an update) the message an earlier row became. The panels' tenants and service URLs are
cached, so a batch of rows costs few queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.domain.delivery import ConversationKind, ConversationRef, DeliveryState, OutgoingDelivery
from bot.teams.conversations import PanelEndpoint, panel_endpoint

if TYPE_CHECKING:
    from collections.abc import Callable

    from bot.kernel.ports import UnitOfWork

# How long an update waits, after the earlier row's time, before it looks again.
UPDATE_WAIT = timedelta(seconds=5)
# How long a panel's service URL is trusted.
ENDPOINT_TTL = 300.0


@dataclass
class Target:
    """Where a row goes: a stored conversation, or (ref None) a 1:1 chat still to open."""

    tenant: str
    personal: bool
    ref: ConversationRef | None
    # An update: the message to replace; or, until the earlier row is sent, when to look
    # again; or nothing left to replace (`gone`).
    replaces: str | None = None
    wait_until: datetime | None = None
    gone: bool = False


# A row whose conversation could not be looked up (the database failed).
UNKNOWN = Target("", personal=False, ref=None)


class Targets:
    """Looks up where rows go, with the panels' tenants and service URLs cached."""

    def __init__(self, *, now: Callable[[], datetime], monotonic: Callable[[], float]) -> None:
        self._now = now
        self._monotonic = monotonic
        self._tenants: dict[str, str] = {}
        self._endpoints: dict[str, tuple[float, PanelEndpoint]] = {}

    async def of(self, uow: UnitOfWork, delivery: OutgoingDelivery) -> Target | None:
        """Where a row goes; None when there is no way to send it."""
        tenant = await self._tenant(uow, delivery.panel_id)
        if delivery.update_of is not None:
            # Looked up again just before the update goes (the earlier row may be ahead of
            # it in the same lane, about to be sent).
            return Target(tenant, personal=False, ref=None)
        if delivery.recipient_member_id is not None:
            ref = await uow.conversations.personal(delivery.panel_id, delivery.recipient_member_id)
            if ref is None and await self.endpoint(uow, delivery.panel_id) is None:
                return None
            return Target(tenant, personal=True, ref=ref)
        conversation_id = delivery.payload.get("conversation_id")
        ref = (
            await uow.conversations.by_conversation(delivery.panel_id, conversation_id)
            if isinstance(conversation_id, str)
            else None
        )
        if ref is None:
            return None
        tenant = tenant_of(ref.reference) or tenant
        return Target(tenant, personal=ref.kind is ConversationKind.PERSONAL, ref=ref)

    async def of_update(
        self, uow: UnitOfWork, delivery: OutgoingDelivery, earlier_id: str, tenant: str
    ) -> Target:
        """Where an update goes: the message the earlier row became, once it is sent."""
        earlier = await uow.outbox.get(delivery.panel_id, earlier_id)
        if earlier is None or earlier.state in (DeliveryState.FAILED, DeliveryState.UNREACHABLE):
            return Target(tenant, personal=False, ref=None, gone=True)
        if earlier.state is not DeliveryState.SENT:
            later = max(earlier.not_before, self._now()) + UPDATE_WAIT
            return Target(tenant, personal=False, ref=None, wait_until=later)
        if earlier.activity_id is None or earlier.conversation_id is None:
            return Target(tenant, personal=False, ref=None, gone=True)  # sent before 0006
        ref = await uow.conversations.by_conversation(delivery.panel_id, earlier.conversation_id)
        if ref is None:
            return Target(tenant, personal=False, ref=None, gone=True)
        return Target(
            tenant_of(ref.reference) or tenant,
            personal=ref.kind is ConversationKind.PERSONAL,
            ref=ref,
            replaces=earlier.activity_id,
        )

    async def endpoint(self, uow: UnitOfWork, panel_id: str) -> PanelEndpoint | None:
        """The panel's service URL and bot account, looked up at most every few minutes."""
        cached = self._endpoints.get(panel_id)
        if cached is not None and cached[0] > self._monotonic():
            return cached[1]
        panel = await uow.panels.get(panel_id)
        endpoint = await panel_endpoint(uow, panel) if panel is not None else None
        if endpoint is not None:  # none yet may change with the next turn: look again then
            self._endpoints[panel_id] = (self._monotonic() + ENDPOINT_TTL, endpoint)
        return endpoint

    async def _tenant(self, uow: UnitOfWork, panel_id: str) -> str:
        tenant = self._tenants.get(panel_id)
        if tenant is None:
            panel = await uow.panels.get(panel_id)
            tenant = panel.tenant_id if panel is not None else panel_id
            self._tenants[panel_id] = tenant
        return tenant


def tenant_of(reference: dict[str, Any]) -> str | None:
    """The tenant a stored conversation reference names, if any."""
    conversation = reference.get("conversation")
    tenant = conversation.get("tenantId") if isinstance(conversation, dict) else None
    return tenant if isinstance(tenant, str) and tenant else None
