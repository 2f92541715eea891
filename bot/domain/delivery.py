"""Where the bot can talk to people, and the outbox of messages it owes them."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from bot.domain.common import move, new_id, require_aware
from bot.domain.errors import InvalidTransition

if TYPE_CHECKING:
    from datetime import datetime

# Outbox keys of invitation cards: the one thing an invited (not yet joined) member is sent.
INVITATION_KEY = "invitation:"


class ConversationKind(StrEnum):
    PERSONAL = "personal"
    CHANNEL = "channel"
    GROUP_CHAT = "groupChat"
    MEETING = "meeting"


@dataclass(kw_only=True)
class ConversationRef:
    """A saved conversation reference, so the bot can post there later.

    `reference` is the serialised Bot Framework reference; only bot.teams reads it.
    """

    id: str = field(default_factory=new_id)
    panel_id: str
    kind: ConversationKind
    conversation_id: str
    member_id: str | None = None
    service_url: str
    reference: dict[str, Any]
    updated_at: datetime

    def __post_init__(self) -> None:
        require_aware(self.updated_at, "updated_at")


class DeliveryState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    UNREACHABLE = "unreachable"


ALLOWED: dict[DeliveryState, frozenset[DeliveryState]] = {
    DeliveryState.PENDING: frozenset(
        {DeliveryState.SENDING, DeliveryState.UNREACHABLE, DeliveryState.FAILED}
    ),
    DeliveryState.SENDING: frozenset(
        {
            DeliveryState.SENT,
            DeliveryState.PENDING,
            DeliveryState.FAILED,
            DeliveryState.UNREACHABLE,
        }
    ),
}

# Nothing more happens to a row in these states: storage empties its payload (the card and
# text) as it records one, keeping only what delivery records need.
FINISHED = frozenset({DeliveryState.SENT, DeliveryState.FAILED, DeliveryState.UNREACHABLE})
# What a row withdrawn before it went out records (HTTP 410 Gone): the person it named was
# erased.
WITHDRAWN = 410


@dataclass(kw_only=True)
class OutgoingDelivery:
    """One message to one recipient; `key` is unique so it can never be queued twice."""

    id: str = field(default_factory=new_id)
    panel_id: str
    key: str
    recipient_member_id: str | None = None
    conversation_ref_id: str | None = None
    payload: dict[str, Any]
    state: DeliveryState = DeliveryState.PENDING
    attempts: int = 0
    last_status: int | None = None
    not_before: datetime
    created_at: datetime
    sent_at: datetime | None = None
    # When a dispatcher last took the row: one left sending longer than the dispatchers'
    # lease belonged to a dispatcher that stopped, and goes back to the queue.
    claimed_at: datetime | None = None
    # How often the row was taken back from a stopped dispatcher; each time it may already
    # have been delivered, so this bounds how often the recipient can have seen it twice.
    resumed: int = 0
    # Where the message landed, as Teams named it: a later "update" row puts a new card over
    # it (the payload's "update_of" names this row).
    activity_id: str | None = None
    conversation_id: str | None = None
    # The conversation whose order the row keeps (the outbox sends one conversation's rows
    # one at a time, in order): the member's 1:1 chat, or the conversation the payload
    # names. Set when the row is made, and kept when a sent row's payload is emptied;
    # instances sharing a database each take whole lanes (revision 0012).
    lane: str = ""

    def __post_init__(self) -> None:
        require_aware(self.not_before, "not_before")
        require_aware(self.created_at, "created_at")
        if self.claimed_at is not None:
            require_aware(self.claimed_at, "claimed_at")
        if not self.lane:
            if self.recipient_member_id is not None:
                self.lane = f"{self.panel_id}:member:{self.recipient_member_id}"
            else:
                conversation = self.payload.get("conversation_id")
                self.lane = f"{self.panel_id}:conversation:{conversation}"

    def claim(self, at: datetime | None = None) -> None:
        """A dispatcher takes the row to send it (the first attempt)."""
        self.state = move(self.state, DeliveryState.SENDING, ALLOWED, "delivery")
        self.attempts += 1
        self.claimed_at = require_aware(at, "claimed_at") if at is not None else None

    def try_again(self) -> None:
        """Send the claimed row once more (after a 429 or a passing failure)."""
        if self.state is not DeliveryState.SENDING:
            raise InvalidTransition(f"A delivery that is {self.state.value} is not being sent.")
        self.attempts += 1

    def release(self, not_before: datetime) -> None:
        """Give a claimed row back untried (its conversation must wait): no attempt counted."""
        self.state = move(self.state, DeliveryState.PENDING, ALLOWED, "delivery")
        self.attempts = max(0, self.attempts - 1)
        self.not_before = require_aware(not_before)

    def resume(self) -> None:
        """Take the row back from a dispatcher that stopped while holding it."""
        self.state = move(self.state, DeliveryState.PENDING, ALLOWED, "delivery")
        self.resumed += 1

    def sent(
        self,
        status: int,
        at: datetime,
        *,
        activity_id: str | None = None,
        conversation_id: str | None = None,
    ) -> None:
        """The connector accepted the message (and named it, so it can be updated later)."""
        self.state = move(self.state, DeliveryState.SENT, ALLOWED, "delivery")
        self.last_status = status
        self.sent_at = require_aware(at)
        if activity_id is not None:
            self.activity_id = activity_id
        if conversation_id is not None:
            self.conversation_id = conversation_id

    @property
    def update_of(self) -> str | None:
        """For an "update" row: the id of the earlier row whose message it replaces."""
        update = self.payload.get("update_of")
        return update if isinstance(update, str) and update else None

    def give_up(self, status: int, *, unreachable: bool) -> None:
        """Stop trying: the recipient cannot be reached, or the failure is not retryable."""
        target = DeliveryState.UNREACHABLE if unreachable else DeliveryState.FAILED
        self.state = move(self.state, target, ALLOWED, "delivery")
        self.last_status = status

    def withdraw(self) -> None:
        """Never send it (its card names someone erased): a row not yet sent is given up
        as FAILED with status 410; one already finished stays as it was."""
        if self.state not in FINISHED:
            self.state = move(self.state, DeliveryState.FAILED, ALLOWED, "delivery")
            self.last_status = WITHDRAWN
        self.payload = {}

    def retry_later(self, status: int, not_before: datetime) -> None:
        """A retryable failure: back to the queue until `not_before`."""
        self.state = move(self.state, DeliveryState.PENDING, ALLOWED, "delivery")
        self.last_status = status
        self.not_before = require_aware(not_before)


# What the Bot Connector's answers mean for a row: HTTP statuses, as rows record them. A
# request that got no answer at all records NO_ANSWER; one whose answer came too late,
# TIMED_OUT (it may still have reached Teams).
BLOCKED = 403
NOT_FOUND = 404
THROTTLED = 429
NO_ANSWER = 503
TIMED_OUT = 504
RETRYABLE = frozenset({412, THROTTLED, 502, NO_ANSWER, TIMED_OUT})


class Request(StrEnum):
    """What the dispatcher asked the connector to do for a row."""

    SEND = "send"  # post a new message into a known chat
    OPEN_CHAT = "open chat"  # create a member's 1:1 chat, to send into next
    UPDATE = "update"  # put a card over a message sent before


class Verdict(StrEnum):
    """What a failed request means for its row."""

    RETRY = "retry"  # a passing failure: the same request again after a wait
    REOPEN_CHAT = "reopen chat"  # Teams forgot the 1:1 chat: forget it, open one, send again
    CHAT_GONE = "chat gone"  # Teams forgot the shared chat: forget it; nobody there is reached
    UNREACHABLE = "unreachable"  # blocked by the person, or the bot turned off for them
    GIVE_UP = "give up"  # sending it again will not help (FAILED)


def verdict(
    status: int, request: Request, *, personal: bool = False, reopened: bool = False
) -> Verdict:
    """What a request's failure (any status but 2xx) means: the outbox's one retry rule.

    `personal`: the row goes to a 1:1 chat; `reopened`: that chat was opened again for this
    row already, so a second 404 means the member cannot be reached.
    """
    if status in RETRYABLE:
        return Verdict.RETRY
    if status == BLOCKED:
        return Verdict.UNREACHABLE
    if status != NOT_FOUND:
        return Verdict.GIVE_UP
    # 404: the conversation, or for an update the message, is gone.
    if request is Request.UPDATE:
        return Verdict.GIVE_UP  # nothing left to replace; the chat itself may be fine
    if request is Request.OPEN_CHAT or (personal and reopened):
        return Verdict.UNREACHABLE
    return Verdict.REOPEN_CHAT if personal else Verdict.CHAT_GONE
