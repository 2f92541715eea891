"""Importing members from a CSV file: every line checked first, then all imported or none."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import pytest

from bot.domain.audit import AuditVerb
from bot.domain.errors import NotAllowed
from bot.domain.panel import Role
from bot.features.governance.membership import (
    IMPORT_ACCESS,
    MAX_IMPORT_ROWS,
    import_members,
    parse_members_csv,
)
from bot.kernel.dispatch import permit
from cards.kit import card_text
from tests.support import governance as g
from tests.support.world import demo_world

if TYPE_CHECKING:
    from bot.kernel.ports import Storage
    from bot.kernel.router import Deps, Request

AGENCIES = {"riverside police": "a-police", "riverside homes (housing)": "a-housing"}
HEADER = "name,email,aad_object_id,agency,roles\n"
NIA = "5a6b7c8d-0000-4000-8000-0000000000e1"
OMAR = "5a6b7c8d-0000-4000-8000-0000000000e2"


def test_a_good_file_gives_one_row_per_member() -> None:
    text = (
        HEADER
        + f"Nia Clarke,nia.clarke@riverside.example,{NIA},Riverside Police,SPOC\n"
        + f'"Omar Said, Jr",,{OMAR.upper()},riverside homes (housing),"deputy; referrer"\n'
        + "\n"
    )
    rows, problems = parse_members_csv(text, AGENCIES)
    assert problems == []
    assert [(r.line, r.name, r.email, r.aad_object_id, r.agency_id, r.roles) for r in rows] == [
        (2, "Nia Clarke", "nia.clarke@riverside.example", NIA, "a-police", frozenset({Role.SPOC})),
        (3, "Omar Said, Jr", None, OMAR, "a-housing", frozenset({Role.DEPUTY, Role.REFERRER})),
    ]


def test_excel_files_with_a_bom_semicolons_and_other_column_orders_are_read() -> None:
    text = (
        "\ufeffRoles;AAD Object ID;Name;Agency;Email\r\nchair|spoc;"
        + NIA
        + ";Nia;Riverside Police;\r\n"
    )
    rows, problems = parse_members_csv(text, AGENCIES)
    assert problems == []
    assert rows[0].roles == frozenset({Role.CHAIR, Role.SPOC})


def test_every_problem_is_reported_with_its_line_and_nothing_is_returned() -> None:
    text = (
        HEADER
        + f"Nia Clarke,not-an-email,{NIA},Riverside Police,spoc\n"
        + ",,not-a-guid,,boss\n"
        + f"Omar Said,,{OMAR},Riverside Fire,referrer\n"
        + f"Omar Again,,{OMAR},,spoc\n"
        + f"Nia Twice,,{NIA.upper()},,\n"
        + "Too,many,values,here,and,more\n"
    )
    rows, problems = parse_members_csv(text, AGENCIES)
    assert rows == []
    assert [(p.line, p.column) for p in problems] == [
        (2, "email"),
        (3, "name"),
        (3, "aad_object_id"),
        (3, "roles"),
        (4, "agency"),
        (5, "aad_object_id"),
        (5, "agency"),
        (6, "aad_object_id"),
        (6, "roles"),
        (7, ""),
    ]
    messages = {(p.line, p.column): p.message for p in problems}
    assert (
        messages[(3, "roles")] == "Use the roles coordinator, chair, spoc, deputy, referrer only."
    )
    assert (
        messages[(4, "agency")]
        == "The panel has no agency of that name: add it first, or check it."
    )
    assert messages[(5, "agency")] == "A SPOC or deputy belongs to an agency: name it."
    assert messages[(5, "aad_object_id")] == "The same person as on line 4."
    assert messages[(6, "aad_object_id")] == "The same person as on line 2."
    assert messages[(6, "roles")] == "Give at least one role."


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "The file is empty."),
        ("name,email,roles\nA,,spoc\n", "Missing: aad_object_id, agency."),
        (HEADER.replace("roles", "roles,shoe size"), "1 column was not recognised."),
        (HEADER, "The file has no members after its first line."),
        (HEADER + f"A,,{NIA},,referrer\n" * (MAX_IMPORT_ROWS + 1), "at most 500 members"),
    ],
    ids=["empty", "missing-columns", "unknown-column", "no-rows", "too-many"],
)
def test_a_file_that_is_wrong_as_a_whole_says_so(text: str, says: str) -> None:
    rows, problems = parse_members_csv(text, AGENCIES)
    assert rows == []
    assert len(problems) == 1 and says in problems[0].message


async def world() -> tuple[Storage, Deps, Request]:
    """The demo panel (tests/support/world.py): its storage, deps, and Priya asking."""
    demo = await demo_world()
    return demo.storage, demo.deps, await demo.request("Priya")


async def test_a_good_import_adds_and_updates_members_and_audits_each() -> None:
    storage, deps, request = await world()
    text = (
        HEADER
        + f"Nia Clarke,,{NIA},Riverside Police,spoc\n"
        + f"Gemma Hartley-Ross,,{g.GEMMA},Riverside Homes (Housing),spoc;chair\n"
    )
    reply = await import_members(request, deps, text, "people.csv")
    assert reply.card is not None
    summary = card_text(reply.card)
    assert "Members imported" in summary
    assert "Added\n1\nUpdated\n1" in summary
    panel = request.panel
    assert panel is not None
    async with storage.unit_of_work() as uow:
        nia = await uow.members.by_aad(panel.id, NIA)
        gemma = await uow.members.by_aad(panel.id, g.GEMMA)
        trail = await uow.audit.recent(panel.id, limit=2)
    assert nia is not None and nia.roles == frozenset({Role.SPOC})
    assert gemma is not None and gemma.name == "Gemma Hartley-Ross"
    assert gemma.roles == frozenset({Role.SPOC, Role.CHAIR})
    assert {(e.verb, e.entity_id) for e in trail} == {
        (AuditVerb.CREATE, nia.id),
        (AuditVerb.UPDATE, gemma.id),
    }
    assert all(e.detail and "people.csv" in e.detail for e in trail)


async def test_a_file_with_one_bad_line_imports_nothing() -> None:
    storage, deps, request = await world()
    text = HEADER + f"Nia Clarke,,{NIA},Riverside Police,spoc\nBad,,nope,,spoc\n"
    reply = await import_members(request, deps, text)
    assert reply.card is not None
    shown = card_text(reply.card)
    assert "Nothing was imported" in shown
    assert "**Line 3, aad_object_id**: Not an Entra object id" in shown
    panel = request.panel
    assert panel is not None
    async with storage.unit_of_work() as uow:
        assert await uow.members.by_aad(panel.id, NIA) is None


async def test_an_import_cannot_leave_the_panel_without_a_coordinator() -> None:
    storage, deps, request = await world()
    reply = await import_members(request, deps, HEADER + f"Priya Raman,,{g.PRIYA},,referrer\n")
    assert reply.card is not None
    assert "After this import the panel would have no coordinator." in card_text(reply.card)
    assert request.panel is not None
    async with storage.unit_of_work() as uow:
        priya = await uow.members.by_aad(request.panel.id, g.PRIYA)
    assert priya is not None and priya.has(Role.COORDINATOR)


async def test_only_the_coordinator_imports() -> None:
    storage, deps, request = await world()
    assert request.panel is not None
    async with storage.unit_of_work() as uow:
        tom = await uow.members.by_aad(request.panel.id, g.TOM)
    # A file sent to the bot passes the guard before it is fetched, as the handler does.
    with pytest.raises(NotAllowed, match="Only the panel's coordinators"):
        await permit(IMPORT_ACCESS, replace(request, member=tom), deps, "members import")
