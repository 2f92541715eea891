"""The audit trail, a page at a time, newest first."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from adaptive_cards import card as ac

from cards.kit import Card, build, heading, paragraph
from cards.verbs import REFERENCE_KEY, Verb

if TYPE_CHECKING:
    from collections.abc import Sequence

OLDER_BUTTON = "Older events"
# A page is cut to stay under the Teams validator's 28 KB, with room to spare.
MAX_CARD_BYTES = 26 * 1024
# The Older events button's data, read back by bot.features.governance.commands: the
# trail's case or referral reference ("" for the panel's) and the last event shown.
BEFORE_KEY = "before"


@dataclass(frozen=True)
class AuditLine:
    when: str
    who: str
    did: str  # "viewed", "changed", "was refused"
    what: str  # "case CM-2026-014"
    where: str
    detail: str | None = None


@dataclass(frozen=True)
class AuditView:
    title: str
    subtitle: str
    lines: Sequence[AuditLine]
    reference: str  # the trail's case or referral; "" for the whole panel
    event_ids: Sequence[str]  # of the lines, in order: the Older button starts after the last
    more: bool  # older events exist beyond these lines
    continued: bool = False  # this is not the first page


def _text(line: AuditLine) -> str:
    where = f" · {line.where}" if line.where else ""
    detail = f" — {line.detail}" if line.detail else ""
    return f"**{line.when}** · {line.who} {line.did} {line.what}{where}{detail}"


def render_audit(view: AuditView, *, shown: int | None = None) -> Card:
    """The first `shown` lines of the view (all by default), and a button for older ones."""
    count = len(view.lines) if shown is None else max(0, min(shown, len(view.lines)))
    subtitle = view.subtitle + (" · older events" if view.continued else " · newest first")
    body: list[Any] = [*heading(view.title, subtitle)]
    if not view.lines:
        body.append(paragraph("Nothing has been recorded here yet."))
    body += [paragraph(_text(line)) for line in view.lines[:count]]
    actions: list[Any] = []
    if count and (view.more or count < len(view.lines)):
        actions.append(
            ac.ActionExecute(
                title=OLDER_BUTTON,
                verb=Verb.AUDIT_PAGE.value,
                data={REFERENCE_KEY: view.reference, BEFORE_KEY: view.event_ids[count - 1]},
            )
        )
    body.append(
        paragraph(
            "The trail is append-only: nothing in it can be changed or removed. Viewing it is "
            "recorded too.",
            subtle=True,
        )
    )
    return build(body, actions, fallback=view.title, full_width=True)
