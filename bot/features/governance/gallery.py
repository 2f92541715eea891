"""The governance cards rendered with invented data, for the card gallery and the card tests:
panels and invitations, set-up, members and agencies, the agreement, the case view and the
audit trail. Every person, agency and case here is invented."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from bot.domain.referral import CATEGORY_LABELS
from bot.features.governance.agreement import CHANGED_MEANWHILE
from bot.features.governance.membership import LAST_COORDINATOR, NEEDS_AGENCY
from bot.features.governance.views import PAGE, fit, role_choices
from cards.audit import AuditLine, AuditView, render_audit
from cards.case import ActionBlock, CaseView, HistoryLine, ReturnLine, SubjectBlock, render_case
from cards.delivery import render_member_unreachable
from cards.isa import (
    TEXT_ID,
    VERSION_ID,
    AcceptedView,
    IsaSavedView,
    IsaSetView,
    IsaView,
    render_isa,
    render_isa_accepted,
    render_isa_saved,
    render_isa_set,
)
from cards.kit import COMMAND_KEY, Card
from cards.membership import (
    AGENCY_KIND_ID,
    AGENCY_NAME_ID,
    CSV_AAD,
    CSV_AGENCY,
    CSV_ROLES,
    NEW_AGENCY_ID,
    NEW_ROLES_ID,
    PICKER_ID,
    ROLES_ID,
    AgenciesView,
    AgencyLine,
    Choice,
    ImportedView,
    ImportErrorLine,
    ImportRefusedView,
    MemberLine,
    MembersView,
    MemberView,
    MyAgencyView,
    SetupView,
    render_agencies,
    render_import_help,
    render_import_refused,
    render_imported,
    render_member,
    render_members,
    render_my_agency,
    render_setup,
)
from cards.panels import InvitationLine, PanelLine, PanelsView, render_invitation, render_panels
from cards.verbs import Verb

if TYPE_CHECKING:
    from collections.abc import Mapping

    from bot.kernel.router import Router


def panels_cards() -> dict[str, Card]:
    """The panels card and an invitation, with invented data."""
    view = PanelsView(
        panels=[
            PanelLine("demo-panel", "Riverside Community MARAC", "spoc", current=True),
            PanelLine("demo-panel-2", "Westbrook Community MARAC", "referrer"),
        ],
        invitations=[InvitationLine("demo-panel-3", "Eastborough Community MARAC", "spoc")],
    )
    return {
        "panels": render_panels(view),
        "panel-invitation": render_invitation(
            "demo-panel-3", "Eastborough Community MARAC", "spoc", "Priya Raman"
        ),
    }


def _gallery_members() -> MembersView:
    agencies = [
        Choice("a-police", "Riverside Police"),
        Choice("a-housing", "Riverside Homes (Housing)"),
        Choice("a-victims", "Victim Support"),
    ]
    return MembersView(
        panel_name="Riverside Community MARAC",
        lines=[
            MemberLine(
                "m1",
                "Priya Raman",
                "Community Safety (Riverside Council)",
                ["coordinator"],
                "v2 accepted",
            ),
            MemberLine("m2", "Tom Okafor", "Riverside Police", ["chair", "spoc"], "v2 accepted"),
            MemberLine("m3", "Gemma Hartley", "Riverside Homes (Housing)", ["spoc"], "v2 accepted"),
            MemberLine(
                "m4",
                "Daniel Reyes",
                "Riverside Homes (Housing)",
                ["deputy"],
                "v1 only (v2 is current)",
            ),
            MemberLine("m5", "Aisha Bello", "Victim Support", ["referrer"], "not accepted"),
            MemberLine("m6", "Lee Former", None, ["referrer"], "not accepted", active=False),
        ],
        agencies=agencies,
        roles=role_choices(),
    )


def membership_cards() -> dict[str, Card]:
    """The set-up, members and agencies cards, with invented data."""
    panel = "Riverside Community MARAC"
    members_view = _gallery_members()
    member = MemberView(
        panel_name=panel,
        member_id="m4",
        name="Daniel Reyes",
        email="daniel.reyes@riverside.example",
        agency_id="a-housing",
        roles=["deputy"],
        agreement="v1 only (v2 is current)",
        active=True,
        agencies=members_view.agencies,
        role_choices=role_choices(),
    )
    agencies_view = AgenciesView(
        panel_name=panel,
        lines=[
            AgencyLine("a-asc", "Adult Social Care", True, 0),
            AgencyLine("a-police", "Riverside Police", True, 1),
            AgencyLine("a-housing", "Riverside Homes (Housing)", True, 2),
            AgencyLine("a-fire", "Riverside Fire and Rescue", False, 0),
        ],
    )
    return {
        "setup-done": render_setup(
            SetupView(
                panel, "Priya Raman", next_meeting="Tue 12 Jan 2027, 10:00", meetings_planned=6
            )
        ),
        "my-agency": render_my_agency(MyAgencyView(panel)),
        "my-agency-refused": render_my_agency(
            MyAgencyView(
                panel,
                agencies=[Choice("a-asc", "Adult Social Care")],
                notice="Check the highlighted fields.",
                errors={AGENCY_NAME_ID: "Choose your agency, or name a new one."},
            )
        ),
        "my-agency-saved": render_my_agency(
            MyAgencyView(
                panel,
                agency="Community Safety (Riverside Council)",
                notice="Your agency is Community Safety (Riverside Council).",
            )
        ),
        "members": render_members(members_view),
        "members-add-errors": render_members(
            dataclasses.replace(
                members_view,
                notice="Check the highlighted fields.",
                open_add=True,
                values={NEW_ROLES_ID: "spoc"},
                errors={
                    PICKER_ID: "Choose the person in the picker.",
                    NEW_AGENCY_ID: NEEDS_AGENCY,
                },
            )
        ),
        "member": render_member(member),
        "member-last-coordinator": render_member(
            dataclasses.replace(
                member,
                name="Priya Raman",
                roles=["referrer"],
                errors={ROLES_ID: LAST_COORDINATOR},
                notice="Check the highlighted fields.",
            )
        ),
        "member-remove-question": render_member(dataclasses.replace(member, confirm_remove=True)),
        "member-removed": render_member(dataclasses.replace(member, active=False)),
        "agencies": render_agencies(agencies_view),
        "agencies-add-error": render_agencies(
            dataclasses.replace(
                agencies_view,
                notice="Check the highlighted fields.",
                open_add=True,
                values={AGENCY_NAME_ID: "riverside police", AGENCY_KIND_ID: "core"},
                errors={AGENCY_NAME_ID: "The panel has an agency of this name already."},
            )
        ),
        "members-import-help": render_import_help(
            panel, ["Riverside Police", "Riverside Homes (Housing)", "Victim Support"]
        ),
        "members-imported": render_imported(ImportedView(panel, 12, 3)),
        "members-import-refused": render_import_refused(
            ImportRefusedView(
                panel,
                "members.csv",
                [
                    ImportErrorLine(
                        3,
                        CSV_AAD,
                        "Not an Entra object id (like 3d9b6c1e-1a2f-4c3b-8d4e-…).",
                    ),
                    ImportErrorLine(
                        5, CSV_AGENCY, "The panel has no agency “Riverside Fire”: add it first."
                    ),
                    ImportErrorLine(6, CSV_ROLES, "Not a role: boss."),
                ],
                14,
            )
        ),
    }


DEMO_TEXT = (
    "Members share information under the Crime and Disorder Act 1998 s.115, UK GDPR "
    "Art. 6(1)(e) and DPA 2018 Sch. 1 para 18, only as far as needed to reduce risk, keep "
    "it confidential, and record what they share. (Invented demo agreement.)"
)


def agreement_cards() -> dict[str, Card]:
    """The agreement's cards, with invented data."""
    panel = "Riverside Community MARAC"
    view = IsaView(
        panel_name=panel, version="2", text=DEMO_TEXT, accepted_version="1", accepted_on=None
    )
    return {
        "isa-outdated": render_isa(view),
        "isa-accepted": render_isa(
            IsaView(panel, "2", DEMO_TEXT, accepted_version="2", accepted_on="3 Nov 2026")
        ),
        "isa-never-accepted": render_isa(
            IsaView(panel, "2", DEMO_TEXT, accepted_version=None, accepted_on=None)
        ),
        "isa-needed-for-case": render_isa(
            IsaView(
                panel,
                "2",
                DEMO_TEXT,
                accepted_version="1",
                accepted_on=None,
                reason="You have not accepted the panel's information sharing agreement "
                "(version 2) yet, so I can't show you case detail. Read it and accept it to "
                "go on.",
                next_step={"verb": Verb.COMMAND.value, COMMAND_KEY: "case CM-2026-014"},
            )
        ),
        "isa-needed-for-info-request": render_isa(
            IsaView(
                panel,
                "2",
                DEMO_TEXT,
                accepted_version="1",
                accepted_on=None,
                reason="Accept the agreement to see the people named and answer.",
                title="Information request for CM-2026-015",
                facts=(
                    ("Agency", "Riverside Homes (Housing)"),
                    ("Risk level", "Medium"),
                    ("Please answer by", "Mon 30 Nov 2026"),
                ),
                next_step={"verb": Verb.INFO_OPEN.value, "request_id": "demo-request"},
            )
        ),
        "isa-changed-meanwhile": render_isa(
            IsaView(panel, "3", DEMO_TEXT, "2", "3 Nov 2026", notice=CHANGED_MEANWHILE)
        ),
        "isa-accepted-now": render_isa_accepted(AcceptedView(panel, "2", "20 Nov 2026")),
        "isa-set": render_isa_set(
            IsaSetView(panel_name=panel, current_version="2", version="3", text=DEMO_TEXT)
        ),
        "isa-set-errors": render_isa_set(
            IsaSetView(
                panel_name=panel,
                current_version="2",
                version="2",
                text="",
                errors={
                    VERSION_ID: "This is the current version: give the new one another name.",
                    TEXT_ID: "Write the agreement.",
                },
            )
        ),
        "isa-saved": render_isa_saved(IsaSavedView(panel, "3", 14)),
    }


def case_cards() -> dict[str, Card]:
    """The case card, with invented data: in full, and so long it must be shortened."""
    view = CaseView(
        reference="CM-2026-014",
        panel_name="Riverside Community MARAC",
        summary="Open · Medium risk",
        facts=[
            ("Risk", "Medium (score 20)"),
            ("Children in the household", "yes"),
            ("Lead agency", "Riverside Homes (Housing), Gemma Hartley"),
            ("Invited agencies", "Riverside Fire and Rescue"),
            ("Opened", "Tue 10 Nov 2026"),
        ],
        subjects=[
            SubjectBlock(
                "Rosa Lindqvist",
                "victim",
                [
                    "born 2 Sep 1986",
                    "Flat 3, 40 Canal Street, Riverside, RV2 7LD",
                    "020 7946 0123 (not safe to call)",
                    "speaks Swedish",
                ],
            )
        ],
        children=["Elin Lindqvist, born 20 May 2015"],
        referral=[
            ("Referral", "RF-2026-0047, Sun 8 Nov 2026"),
            ("Referred by", "Aisha Bello, Victim Support"),
            ("Category", CATEGORY_LABELS[next(iter(CATEGORY_LABELS))]),
            ("Incidents (12 months)", "4, rising"),
            ("Consent", "aware, shared without consent: Risk to children"),
            (
                "Criteria met",
                "potential escalation; professional judgement: “Children "
                "exposed to repeated threats at the door.”",
            ),
            ("Relationship", "Neighbours in the same block"),
        ],
        returns=[
            ReturnLine(
                "Riverside Homes (Housing)",
                "answered on Fri 13 Nov 2026 by Gemma Hartley",
                "Tenant since 2019; two noise complaints logged against the flat above.",
            ),
            ReturnLine("Riverside Police", "awaiting an answer, due Mon 30 Nov 2026"),
        ],
        actions=[
            ActionBlock(
                "Fit a door camera and report on tenancy action.",
                "Riverside Homes (Housing)",
                "Mon 7 Dec 2026",
                "open",
                ["Mon 16 Nov 2026: Camera ordered; fitting booked. (Gemma Hartley)"],
            )
        ],
        decisions=["Lead agency: Riverside Homes (Housing) (lead officer Gemma Hartley)"],
        history=[
            HistoryLine("Sun 8 Nov 2026", "Referral RF-2026-0047 submitted by Aisha Bello"),
            HistoryLine("Tue 10 Nov 2026", "Accepted: case CM-2026-014 opened"),
            HistoryLine("Fri 13 Nov 2026", "Riverside Homes (Housing) answered"),
        ],
    )
    long_note = "Visited; neighbour not at home; left a card and spoke to the caretaker. " * 12
    crowded = CaseView(
        **{
            **view.__dict__,
            "reference": "CM-2026-013",
            "actions": [
                ActionBlock(
                    f"Action {n}: {long_note}",
                    "Riverside Police",
                    "Mon 7 Dec 2026",
                    "open",
                    [f"Mon {n} Nov 2026: {long_note}" for _ in range(6)],
                )
                for n in range(1, 9)
            ],
        }
    )
    return {
        "case": render_case(view),
        "case-for-a-spoc": render_case(view, audit_button=False),
        "case-shortened-to-fit": render_case(crowded),
    }


def audit_cards() -> dict[str, Card]:
    """The audit trail cards, with invented data."""
    lines = [
        AuditLine(
            "Fri 20 Nov 2026, 10:00",
            "Priya Raman",
            "viewed",
            "case CM-2026-014",
            "private chat",
            "audit trail of CM-2026-014",
        ),
        AuditLine(
            "Thu 19 Nov 2026, 16:12",
            "Daniel Reyes",
            "was refused",
            "case CM-2026-014",
            "private chat",
            "view_case_detail: agreement",
        ),
        AuditLine(
            "Thu 19 Nov 2026, 09:30",
            "Gemma Hartley",
            "changed",
            "information request to Riverside Homes (Housing)",
            "private chat",
            "answered",
        ),
        AuditLine(
            "Tue 10 Nov 2026, 11:05",
            "Priya Raman",
            "created",
            "case CM-2026-014",
            "private chat",
            "RF-2026-0047",
        ),
    ]
    view = AuditView(
        title="Audit trail for CM-2026-014",
        subtitle="Riverside Community MARAC",
        lines=lines,
        reference="CM-2026-014",
        event_ids=[f"demo-event-{n}" for n in range(len(lines))],
        more=True,
    )
    many = AuditView(
        title="Audit trail of Riverside Community MARAC",
        subtitle="Riverside Community MARAC",
        lines=[
            AuditLine(
                f"Fri 20 Nov 2026, {9 + n // 60:02d}:{n % 60:02d}",
                "Priya Raman",
                "viewed",
                f"case CM-2026-{n:03d}",
                "private chat",
                "case view",
            )
            for n in range(PAGE)
        ],
        reference="",
        event_ids=[f"demo-event-{n}" for n in range(PAGE)],
        more=True,
        continued=True,
    )
    empty = AuditView(
        title="Audit trail for CM-2026-015",
        subtitle="Riverside Community MARAC",
        lines=[],
        reference="CM-2026-015",
        event_ids=[],
        more=False,
    )
    return {
        "audit-case": fit(view)[0],
        "audit-panel-older-page": fit(many)[0],
        "audit-empty": render_audit(empty, shown=0),
    }


def cards() -> dict[str, Card]:
    """Every governance card, with invented data."""
    return {
        **panels_cards(),
        **membership_cards(),
        **agreement_cards(),
        **case_cards(),
        **audit_cards(),
        # What the coordinators are told when the outbox cannot reach a member.
        "member-unreachable": render_member_unreachable("Daniel Reyes"),
    }


def gallery(_router: Router) -> Mapping[str, Card]:
    """The governance cards for the gallery (none of them needs the router)."""
    return cards()
