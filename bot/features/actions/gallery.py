"""The actions feature's cards rendered with invented data: for `python -m bot cards`, the
card tests and the channel gate's walk. Every person, place and case here is invented."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cards.actions import (
    CARD_VIEW,
    LIST_VIEW,
    OVERDUE_TITLE,
    ActionGroup,
    ActionItem,
    ActionListView,
    Buttons,
    CantDoView,
    UpdateLine,
    actions_title,
    finished_title,
    render_action,
    render_action_list,
    render_cant_do,
)
from cards.chair import action_assigned_title
from cards.reminders import (
    DigestView,
    EscalationView,
    OverdueLine,
    render_digest,
    render_escalation,
)

if TYPE_CHECKING:
    from cards.kit import Card


def gallery_cards() -> dict[str, Card]:
    """The SPOC's and the coordinator's action and reminder cards, with invented data."""
    return {**action_cards(), **reminder_cards()}


DEMO_PANEL = "Riverside Community MARAC"
HOUSING = "Riverside Homes (Housing)"


def demo_item(**changes: Any) -> ActionItem:
    """An invented action, for the gallery and tests."""
    fields: dict[str, Any] = {
        "action_id": "demo-action",
        "case_reference": "CM-2026-013",
        "risk_level": "High",
        "lead_agency": HOUSING,
        "owner": HOUSING,
        "description": "Visit the tenant at 12 Willow Court and fit a door camera.",
        "due": "Mon 7 Dec 2026",
        "due_phrase": "due in 17 days",
        "overdue": False,
        "set_by": "Priya Raman on Tue 10 Nov 2026, at the panel meeting",
        "state": "Open",
        "is_open": True,
        "updates": [UpdateLine("Mon 16 Nov 2026", "Gemma Hartley", "Camera ordered.")],
    }
    fields.update(changes)
    return ActionItem(**fields)


def action_cards() -> dict[str, Card]:
    """The action cards."""
    rendering = "demo-rendering"  # tells one rendering of a card from another
    buttons = Buttons(token=rendering, view=CARD_VIEW, copy="demo-delivery")
    list_buttons = Buttons(token=rendering, view=LIST_VIEW, agency_id="demo-agency")
    open_item = demo_item()
    late = demo_item(
        action_id="demo-late",
        case_reference="CM-2026-011",
        risk_level="Medium",
        description="Review the tenancy and offer a managed move.",
        due="Fri 13 Nov 2026",
        due_phrase="overdue by 7 days",
        overdue=True,
        updates=[],
    )
    done = demo_item(
        state="Done on Fri 20 Nov 2026",
        is_open=False,
        updates=[
            UpdateLine("Fri 20 Nov 2026", "Gemma Hartley", "Camera fitted; tenant reassured."),
            UpdateLine("Mon 16 Nov 2026", "Gemma Hartley", "Camera ordered."),
        ],
    )
    agency_list = ActionListView(
        panel_name=DEMO_PANEL,
        title=actions_title(HOUSING),
        subtitle=DEMO_PANEL,
        groups=[ActionGroup(None, [late, open_item])],
        buttons=list_buttons,
    )
    assigned = render_action(
        open_item,
        panel_name=DEMO_PANEL,
        buttons=buttons,
        title=action_assigned_title("CM-2026-013"),
    )
    return {
        "action-assigned": assigned,
        "action-card": render_action(
            open_item, panel_name=DEMO_PANEL, buttons=buttons, notice="Update saved."
        ),
        "action-card-error": render_action(
            open_item,
            panel_name=DEMO_PANEL,
            buttons=buttons,
            notice="Write the update.",
            error=True,
        ),
        "action-card-done": render_action(
            done, panel_name=DEMO_PANEL, buttons=None, notice="Marked done. Thank you."
        ),
        "action-card-reminder-overdue": render_action(
            ActionItem(**{**late.__dict__, "reminder": "overdue by 7 days"}),
            panel_name=DEMO_PANEL,
            buttons=buttons,
        ),
        "action-list": render_action_list(agency_list),
        "action-list-read-only": render_action_list(
            ActionListView(
                panel_name=DEMO_PANEL,
                title=actions_title(HOUSING),
                subtitle=DEMO_PANEL,
                groups=[ActionGroup(None, [late, open_item])],
                buttons=None,
            )
        ),
        "action-list-finished": render_action_list(
            ActionListView(
                panel_name=DEMO_PANEL,
                title=finished_title(HOUSING),
                subtitle=DEMO_PANEL,
                groups=[ActionGroup(None, [done])],
                buttons=None,
                empty=f"{HOUSING} has no finished actions yet.",
            )
        ),
        "action-list-empty": render_action_list(
            ActionListView(
                panel_name=DEMO_PANEL,
                title=actions_title(HOUSING),
                groups=[ActionGroup(None, [])],
                buttons=list_buttons,
                notice="CM-2026-013: Marked done. Thank you.",
                empty=f"{HOUSING} has no open actions.",
            )
        ),
        "action-list-handover": render_action_list(
            ActionListView(
                panel_name=DEMO_PANEL,
                title=actions_title(HOUSING),
                groups=[ActionGroup(None, [open_item])],
                buttons=list_buttons,
                notice=f"Gemma Hartley is away until Thu 24 Dec 2026: you receive {HOUSING}'s "
                "action cards and reminders meanwhile.",
            )
        ),
        "actions-overdue": render_action_list(
            ActionListView(
                panel_name=DEMO_PANEL,
                title=OVERDUE_TITLE,
                groups=[
                    ActionGroup(
                        "Adult Social Care",
                        [
                            demo_item(
                                action_id="demo-asc",
                                description="Complete a Care Act needs assessment.",
                                owner="Adult Social Care",
                                due="Sun 15 Nov 2026",
                                due_phrase="overdue by 5 days",
                                overdue=True,
                                updates=[],
                            )
                        ],
                    ),
                    ActionGroup(HOUSING, [late]),
                ],
                buttons=None,
            )
        ),
        "action-cant-do": render_cant_do(
            CantDoView(
                panel_name=DEMO_PANEL,
                agency=HOUSING,
                case_reference="CM-2026-013",
                description="Review the tenancy and offer a managed move.",
                due="Fri 13 Nov 2026",
                said_by="Gemma Hartley on Fri 20 Nov 2026",
                reason="No suitable property is free before March; Adult Social Care may help.",
            )
        ),
    }


def reminder_cards() -> dict[str, Card]:
    """The reminder cards."""
    panel, housing = DEMO_PANEL, HOUSING
    rendering = "demo-rendering"  # tells one rendering of a card from another
    buttons = Buttons(token=rendering, view=LIST_VIEW, agency_id="demo-agency")
    soon = demo_item(due_phrase="due in 3 days", reminder="due in 3 days")
    late = demo_item(
        action_id="demo-late",
        case_reference="CM-2026-011",
        description="Review the tenancy and offer a managed move.",
        due="Tue 17 Nov 2026",
        due_phrase="overdue by 6 days",
        overdue=True,
        updates=[],
        reminder="overdue by 6 days",
    )
    return {
        "reminders-digest": render_digest(
            DigestView(
                panel_name=panel,
                agency=housing,
                items=[late, soon],
                buttons=buttons,
                requests=[("CM-2026-014 · answer by Mon 30 Nov 2026 (due today)", "demo-request")],
            )
        ),
        "reminders-status-request": render_digest(
            DigestView(
                panel_name=panel,
                agency=housing,
                items=[late, soon],
                buttons=buttons,
                status_meeting="Tue 8 Dec 2026",
            )
        ),
        "reminders-agency-read-only": render_digest(
            DigestView(panel_name=panel, agency=housing, items=[late], buttons=None)
        ),
        "reminders-overdue-escalation": render_escalation(
            EscalationView(
                panel_name=panel,
                days=14,
                groups=[
                    (
                        "Adult Social Care",
                        [
                            OverdueLine(
                                "CM-2026-013",
                                "Complete a Care Act needs assessment.",
                                "Thu 29 Oct 2026",
                                "overdue by 22 days",
                                "nobody: the agency has no SPOC or deputy",
                            )
                        ],
                    ),
                    (
                        housing,
                        [
                            OverdueLine(
                                "CM-2026-009",
                                "Serve notice of seeking possession.",
                                "Fri 30 Oct 2026",
                                "overdue by 21 days",
                                "Gemma Hartley",
                            )
                        ],
                    ),
                ],
                new=1,
            )
        ),
    }
