"""Subject access: everything held about one person (name and date of birth), as JSON and a
Word document, through links that are the coordinator's alone and expire.

On the in-memory storage with a fixed clock. Jonas Berg (born 4 March 2008) is a child in
his mother Karin's referral and a victim, with an open case, in a later one; everyone else
there is someone else. All invented.
"""

from __future__ import annotations

import io
import json
from datetime import date, timedelta

import pytest
from docx import Document

from bot.domain.audit import AuditVerb
from bot.domain.gate import SubjectNames, judge
from bot.domain.retention import Person
from bot.features.records import dataprotection, views
from bot.features.records import gallery as records_gallery
from bot.features.records.sar_export import document, to_docx, to_json
from bot.kernel.channel_gate import kind_of, shared_post
from bot.kernel.links import Links, Purpose
from cards.kit import card_text, teams_findings
from tests.support.dataprotection import NOW, PUBLIC_URL, SECRET, Setting, open_setting

JONAS = Person("Jonas Berg", date(2008, 3, 4))
OTHERS = ("Karin", "1979-06-01", "Lee Grant", "1999-02-02", "Rosa", "Margaret", "RF-2020")
LINKS = Links.of(PUBLIC_URL, [SECRET])
CONFIG = dataprotection.DataProtectionConfig(links=LINKS)


@pytest.fixture
async def setting() -> Setting:
    return await open_setting()


async def export_of(setting: Setting, person: Person = JONAS) -> dict[str, object]:
    async with setting.storage.unit_of_work() as uow:
        panel = setting.history.panel
        found = await views.holdings(uow, panel, person, NOW)
        names = await views.lookups(uow, panel)
    return document(panel, person, found, names, NOW)


async def test_the_person_is_found_in_two_referrals_once_as_a_child(setting: Setting) -> None:
    async with setting.storage.unit_of_work() as uow:
        found = await views.holdings(uow, setting.history.panel, JONAS, NOW)
    assert [h.referral.reference for h in found] == ["RF-2026-0040", "RF-2026-0051"]
    assert views.found_lines(found, JONAS) == [
        "Child in the household in RF-2026-0040 (declined)",
        "Victim in RF-2026-0051 (accepted): case CM-2026-051, open",
    ]
    by_alias = Person("jonny b", date(2008, 3, 4))
    async with setting.storage.unit_of_work() as uow:
        assert len(await views.holdings(uow, setting.history.panel, by_alias, NOW)) == 1
        wrong_birthday = Person("Jonas Berg", date(2008, 3, 5))
        assert await views.holdings(uow, setting.history.panel, wrong_birthday, NOW) == []


async def test_the_json_has_everything_held_about_them(setting: Setting) -> None:
    export = await export_of(setting)
    assert export["person"] == {"name": "Jonas Berg", "date_of_birth": "2008-03-04"}
    assert export["found"] == {
        "referrals": 2,
        "cases": 1,
        "information_requests": 1,
        "actions": 1,
        "meetings": 1,
    }
    as_child, as_victim = export["referrals"]  # type: ignore[misc]
    assert as_child["the_person"] == [
        {
            "recorded_as": "child in the household",
            "name": "Jonas Berg",
            "date_of_birth": "2008-03-04",
        }
    ]
    assert as_child["other_people"] == {"subjects": 1, "children": 0}
    assert as_child["case"] is None
    (victim,) = as_victim["the_person"]
    assert victim["aliases"] == ["Jonny B"]
    assert (victim["address"], victim["postcode"], victim["phone"]) == (
        "9 Ferry Road",
        "NB3 1AB",
        "020 7946 0456",
    )
    assert as_victim["tried_already"] == "Jonas's school has spoken to the family"
    case = as_victim["case"]
    assert case["reference"] == "CM-2026-051"
    assert case["information_requests"][0]["answer"] == (
        "Tenancy since 2015; a complaint about the stairwell"
    )
    assert case["information_requests"][0]["agency"] == "Northbrook Homes"
    (action,) = case["actions"]
    assert action["description"] == "Speak to Jonas about a safe route home"
    assert [u["note"] for u in action["updates"]] == ["Met Jonas after school"]
    assert case["meetings"][0]["chair_notes"] == "Jonas walks home another way now"
    json.loads(to_json(export))  # it is JSON


async def test_other_peoples_data_is_not_included(setting: Setting) -> None:
    export = await export_of(setting)
    text = to_json(export).decode()
    for other in OTHERS:
        assert other not in text
    words = "\n".join(p.text for p in Document(io.BytesIO(to_docx(export))).paragraphs)
    for other in OTHERS:
        assert other not in words


async def test_the_word_document_opens_and_names_what_was_found(setting: Setting) -> None:
    opened = Document(io.BytesIO(to_docx(await export_of(setting))))
    paragraphs = [p.text for p in opened.paragraphs]
    assert paragraphs[0] == "Subject access export: Jonas Berg"
    assert "Date of birth: 2008-03-04" in paragraphs
    (found,) = [p for p in paragraphs if p.startswith("Found:")]
    assert found == (
        "Found: 2 referrals, 1 case, 1 agency's answer, 1 action, 1 meeting "
        "(RF-2026-0040, RF-2026-0051, CM-2026-051)."
    )
    assert "Referral RF-2026-0051" in paragraphs and "Case CM-2026-051" in paragraphs
    cells = {cell.text for table in opened.tables for row in table.rows for cell in row.cells}
    assert "Jonny B" in cells
    assert "Tenancy since 2015; a complaint about the stairwell" in cells
    assert opened.sections[0].header.paragraphs[0].text.startswith("OFFICIAL-SENSITIVE")


async def test_the_search_gives_two_download_links_and_is_audited(setting: Setting) -> None:
    feature = dataprotection.DataProtectionFeature(CONFIG)
    reply = await feature.sar(
        await setting.request("Nadia", args="Jonas Berg 04/03/2008"), setting.deps
    )
    card = reply.card
    assert card is not None and teams_findings(card) == []
    text = card_text(card)
    assert "Subject access: Jonas Berg" in text and "born 4 Mar 2008" in text
    assert "Child in the household in RF-2026-0040 (declined)" in text
    assert "They work until Sat 21 Nov 2026, 10:00." in text  # 24 hours
    docx, json_link = card["actions"]
    assert (docx["type"], json_link["type"]) == ("Action.OpenUrl", "Action.OpenUrl")
    assert docx["url"].startswith(f"{PUBLIC_URL}/panels/{setting.history.panel.id}/sar/")
    assert ".docx?token=" in docx["url"] and ".json?token=" in json_link["url"]
    panel = setting.history.panel.id
    async with setting.storage.unit_of_work() as uow:
        (search, *rest) = await uow.audit.recent(panel, limit=10)
        (export,) = await uow.data_protection.exports(panel)
    assert export.person == JONAS
    assert export.expires_at == NOW + timedelta(hours=24)
    recorded = [search, *rest]
    assert {(e.verb, e.entity) for e in recorded} >= {
        (AuditVerb.EXPORT, "subject_access"),
        (AuditVerb.EXPORT, "referral"),
        (AuditVerb.EXPORT, "case"),
    }
    for event in recorded:
        assert "Jonas" not in (event.detail or "") and "2008" not in (event.detail or "")


async def test_a_link_works_for_its_coordinator_only_and_until_it_expires(
    setting: Setting,
) -> None:
    feature = dataprotection.DataProtectionFeature(CONFIG)
    await feature.sar(await setting.request("Nadia", args="Jonas Berg 2008-03-04"), setting.deps)
    panel = setting.history.panel.id
    async with setting.storage.unit_of_work() as uow:
        (export,) = await uow.data_protection.exports(panel)
    token = LINKS.token(Purpose.SAR, [panel, export.id, "json"], export.member_id, NOW)
    docx_token = LINKS.token(Purpose.SAR, [panel, export.id, "docx"], export.member_id, NOW)

    async def fetch(fmt: str, token: str, when: object = NOW) -> object:
        return await dataprotection.sar_file(
            setting.storage.unit_of_work, LINKS, panel, export.id, fmt, token, when
        )

    found = await fetch("json", token)
    assert isinstance(found, tuple)
    body, content_type, name = found
    assert (content_type, name) == ("application/json", "subject-access-export.json")
    assert json.loads(body)["person"]["name"] == "Jonas Berg"
    docx = await fetch("docx", docx_token)
    assert isinstance(docx, tuple) and docx[2] == "subject-access-export.docx"
    someone_else = LINKS.token(Purpose.SAR, [panel, export.id, "json"], "another-member", NOW)
    stats_token = LINKS.token(Purpose.STATS, [panel, export.id, "json"], export.member_id, NOW)
    assert await fetch("json", someone_else) is None
    assert await fetch("json", stats_token) is None
    assert await fetch("docx", token) is None  # each format has a link of its own
    assert await fetch("json", token[:-2] + "xx") is None
    assert await fetch("pdf", token) is None
    assert await fetch("json", token, NOW + timedelta(hours=24, seconds=1)) is None
    async with setting.storage.unit_of_work() as uow:
        downloads = [
            e
            for e in await uow.audit.recent(panel, limit=50)
            if e.where == "download" and e.entity == "subject_access"
        ]
    assert [e.detail for e in downloads] == [
        "subject access export downloaded (docx): 2 referrals, 1 case",
        "subject access export downloaded (json): 2 referrals, 1 case",
    ]


async def test_nobody_found_is_said_and_still_recorded(setting: Setting) -> None:
    feature = dataprotection.DataProtectionFeature(CONFIG)
    reply = await feature.sar(
        await setting.request("Nadia", args="Nobody Known 1990-01-01"), setting.deps
    )
    assert reply.card is not None
    assert "The panel holds nothing about this person" in card_text(reply.card)
    assert "actions" not in reply.card
    async with setting.storage.unit_of_work() as uow:
        (event, *_) = await uow.audit.recent(setting.history.panel.id)
    assert (event.verb, event.detail) == (AuditVerb.EXPORT, "subject access search: nothing found")


async def test_the_form_asks_again_when_something_is_missing(setting: Setting) -> None:
    feature = dataprotection.DataProtectionFeature(CONFIG)
    form = await feature.sar(await setting.request("Nadia"), setting.deps)
    assert form.card is not None and "Subject access request" in card_text(form.card)
    again = await feature.sar_find(
        await setting.request("Nadia", {"name": "", "date_of_birth": "2008-03-04"}), setting.deps
    )
    assert again.card is not None
    assert "Give the person's name." in card_text(again.card)
    wrong = await feature.sar_find(
        await setting.request("Nadia", {"name": "Jonas Berg", "postcode": "NB3"}), setting.deps
    )
    assert wrong.card is not None and "Not a UK postcode" in card_text(wrong.card)
    found = await feature.sar_find(
        await setting.request("Nadia", {"name": " Jonas  Berg ", "date_of_birth": "2008-03-04"}),
        setting.deps,
    )
    assert found.card is not None and "Subject access: Jonas Berg" in card_text(found.card)


def test_every_card_is_valid_small_and_kept_out_of_shared_chats() -> None:
    for name, card in records_gallery.dataprotection_cards().items():
        assert teams_findings(card) == [], name
        assert len(json.dumps(card).encode()) < 28 * 1024, name
        assert kind_of(card) is None, name
        verdict = judge(shared_post(card, None), SubjectNames(["Rosa Lindqvist"]), NOW.date())
        assert not verdict.allowed, name


async def test_later_minutes_that_list_her_cases_action_as_unmet_are_included(
    setting: Setting,
) -> None:
    rosa = Person("Rosa Lindqvist", date(1986, 9, 2))
    export = await export_of(setting, rosa)
    first, repeat = export["referrals"]  # type: ignore[misc]
    outcomes = [u["outcome"] for u in first["case"]["unmet_actions_in_minutes"]]
    assert outcomes == ["Done", "Carried forward: Rosa was in hospital"]
    assert repeat["case"]["unmet_actions_in_minutes"] == []
