"""A file the bot offered a member through Teams' file consent card (revision 0022).

Teams hands the consent card's `context` back with the member's answer, and anyone can send
the bot any context: the card carries only the offer's id, and the offer says what was
offered (one meeting's approved minutes), to whom, until when, and whether it was used.
An offer is used once: offered → uploading → sent, or offered → declined; an upload that
fails goes back to offered, so that the member may allow it again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from bot.domain.common import new_id

# How long a member has to allow a file: as long as a download link lasted.
OFFER_DAYS = 30


class OfferState(StrEnum):
    OFFERED = "offered"
    UPLOADING = "uploading"
    SENT = "sent"
    DECLINED = "declined"


@dataclass
class FileOffer:
    """One meeting's minutes offered to one member as a Word file."""

    panel_id: str
    meeting_id: str
    member_id: str
    created_at: datetime
    expires_at: datetime
    id: str = field(default_factory=new_id)
    # The outbox row the consent card went out as: the card later put over it says the
    # file was sent (or declined), so that the consent card cannot be answered again.
    delivery_id: str = field(default_factory=new_id)
    state: OfferState = OfferState.OFFERED
    answered_at: datetime | None = None

    @classmethod
    def of(cls, panel_id: str, meeting_id: str, member_id: str, now: datetime) -> FileOffer:
        """A fresh offer, open for OFFER_DAYS."""
        return cls(
            panel_id=panel_id,
            meeting_id=meeting_id,
            member_id=member_id,
            created_at=now,
            expires_at=now + timedelta(days=OFFER_DAYS),
        )

    def open_at(self, now: datetime) -> bool:
        """Whether the member may still allow it."""
        return self.state is OfferState.OFFERED and now < self.expires_at

    @property
    def closed(self) -> bool:
        """Sent or declined: a new offer is needed for another copy."""
        return self.state in (OfferState.SENT, OfferState.DECLINED)
