"""The append-only audit trail of every view and change of case data."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from bot.domain.common import new_id, require_aware

if TYPE_CHECKING:
    from datetime import datetime


class AuditVerb(StrEnum):
    VIEW = "view"
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    REFUSE = "refuse"
    EXPORT = "export"


@dataclass(frozen=True, kw_only=True)
class AuditEvent:
    """Who did what to which record, when, and where (the conversation kind)."""

    id: str = field(default_factory=new_id)
    panel_id: str
    at: datetime
    actor_aad_object_id: str
    actor_member_id: str | None = None
    verb: AuditVerb
    entity: str
    entity_id: str | None = None
    where: str | None = None
    detail: str | None = None

    def __post_init__(self) -> None:
        require_aware(self.at, "at")
