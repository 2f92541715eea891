"""A panel meeting from the published agenda to the approved minutes, each person in their
own Playground.

The demo panel has two actions of CM-…-013 still open from earlier meetings. Gemma Hartley
(Housing's SPOC) marks hers done (`actions` → Done), so one unmet action is left: Adult Social
Care's assessment. (While the bot has no `actions` command, that step is left out with a
warning, and the agenda has both unmet actions.) Priya Raman (coordinator) accepts the
pending referral RF-…-0049 for the next meeting, so the agenda has three cases (CM-…-014 and
the new one as new cases, CM-…-013 for review), and publishes it; the team channel gets the
announcement.

Tom Okafor (chair) runs the meeting in the Playground's group chat, which stands in for the
meeting's chat (the Playground has none): `start`, the confidentiality statement (Priya
acknowledges it in her group chat too), then the chair card item by item. He carries the
unmet action forward, captures four actions, nominates a lead agency, closes CM-…-013 and
ends the meeting. Priya edits a summary in the draft minutes, approves them and downloads the
Word document (kept next to the screenshots), which lists the four actions. Tom, an attending
SPOC, gets the approved minutes in private chat, and Gemma the actions Housing owns.

Every card is photographed. Every person and case in it is invented. The scenario needs the
demo panel as seeded: the harness's own bot (or a freshly seeded one at `E2E_BOT_URL` that
has `PUBLIC_URL` and `ICS_SIGNING_SECRET`, for the download).
"""

from __future__ import annotations

import asyncio
import io
import re
import urllib.request
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from docx import Document
from playwright.async_api import expect

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from .harness import Chat

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

# How long to wait for a card the dispatcher delivers to someone else's chat, and for a reply.
DELIVERY = 25.0
STEP = 25.0
HOUSING = "Riverside Homes (Housing)"
POLICE = "Riverside Police"
CHILDREN = "Children's Services"
ADULTS = "Adult Social Care"
COMMUNITY_SAFETY = "Community Safety (Riverside Council)"
CONCERNS_REDUCED = "Safeguarding concerns reduced"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
SUMMARY = "Threats at the door continue; Housing and the police visit together this month."


def _day(label: str) -> date:
    """ "Tue 8 Dec 2026" as a date."""
    return datetime.strptime(label, "%a %d %b %Y").date()  # noqa: DTZ007 (a date, no time)


def _label(day: date) -> str:
    """A date as the cards write it: "Tue 8 Dec 2026"."""
    return f"{day:%a} {day.day} {day:%b %Y}"


def _section(card: Any, text: str) -> Any:
    """The innermost container of `card` that holds a text block reading `text`: one unmet
    action, or one case of the minutes, with its own buttons and forms."""
    # `has` looks inside each container, so the text block is found from the page, not `card`.
    block = card.page.locator(".ac-textBlock").filter(has_text=re.compile(re.escape(text)))
    return card.locator(".ac-container").filter(has=block).last


async def _capture(chair: Chat, card: Any, description: str, owner: str, due: date) -> None:
    """The chair adds an action on the case the chair card shows. (The bot's notice names
    the owner and the date, so two actions in a row differ in one of them.)"""
    await chair.click_card_button("Add an action…", card)
    await chair.fill(card, "Action", description)
    await chair.choose(card, "Owner agency", owner)
    await chair.fill_date(card, "Due by", due.isoformat())
    await chair.click_card_button("Save action", card)
    await chair.wait_for_text(
        f"Action added for {owner}, due {_label(due)}; the agency has its card.",
        card=card,
        timeout=STEP,
    )
    # The chat is told it was agreed (case, agency, due date: no description), in a card of
    # its own; the next form is opened once it is in, not while the chat moves under it.
    told = await chair.wait_for_card(re.compile(r"^Action agreed for "), timeout=DELIVERY)
    await expect(told).to_contain_text(owner)
    await expect(told).not_to_contain_text(description)


async def _next(chair: Chat, card: Any, heading: str) -> None:
    """The chair clicks Next and the card moves on to `heading` ("Item 3 of 5: …")."""
    await chair.click_card_button("Next", card)
    await chair.wait_for_text(heading, card=card, timeout=STEP)


async def _housing_marks_its_action_done(gemma: Chat) -> None:
    """Gemma marks Housing's open action done from her `actions` list."""
    await gemma.send("actions")
    housing = await gemma.wait_for_card(f"Open actions of {HOUSING}", timeout=STEP)
    camera = _section(housing, "Visit Mrs Ellison and fit a door camera")
    await gemma.click_card_button("Done", camera)
    await gemma.fill(camera, "Note on what was done", "Camera fitted on the front door.")
    await gemma.shot("housing-marks-its-action-done", housing)
    await gemma.click_card_button("Mark done", camera)
    await gemma.wait_for_text("Marked done. Thank you.", card=housing, timeout=STEP)
    await gemma.shot("housing-action-done", housing)


def _download(url: str) -> bytes:
    """What a link on a card serves (the bot, on 127.0.0.1), as a browser would fetch it."""
    with urllib.request.urlopen(url, timeout=STEP) as response:
        assert response.status == 200, f"{url} answered {response.status}"
        assert response.headers.get_content_type() == DOCX, response.headers
        return bytes(response.read())


def _docx_text(data: bytes) -> str:
    """Every paragraph and table cell of a Word document, one a line."""
    document = Document(io.BytesIO(data))
    lines = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            lines.append(" | ".join(cell.text for cell in row.cells))
    return "\n".join(lines)


async def test_the_chair_runs_the_meeting_and_the_coordinator_approves_the_minutes(
    chat: Chat, chat_as: Callable[[str], Awaitable[Chat]]
) -> None:
    # 1. Priya opens the team's General channel, which adds the bot to the team (it greets
    # the channel), and each of them opens their personal chat, so that the bot can reach them.
    priya = chat
    await priya.open()
    await priya.open_channel("General")
    welcome = await priya.wait_for_card("Community MARAC", timeout=STEP)
    await expect(welcome).to_contain_text("In this channel I post only case references")
    await priya.open_personal_chat()
    gemma = await chat_as("Gemma Hartley")
    await gemma.open()
    await gemma.open_personal_chat()
    tom = await chat_as("Tom Okafor")
    await tom.open()
    await tom.open_personal_chat()

    # 2. Gemma marks Housing's open action (the door camera) done before the meeting.
    await _housing_marks_its_action_done(gemma)

    # 3. Priya accepts the pending referral RF-…-0049 for the next meeting, asking Housing.
    await priya.send("referrals")
    pending = await priya.wait_for_card("Referrals waiting for a decision", timeout=STEP)
    found = re.search(r"RF-\d{4}-0049", await pending.inner_text())
    assert found is not None, "the demo panel's pending referral RF-…-0049 is not listed"
    referral = found.group(0)
    year = referral.split("-")[1]
    await priya.shot("referrals-pending", pending)
    await priya.click_card_button(f"Open {referral}", pending)
    triage = await priya.wait_for_card(f"Triage referral {referral}", timeout=STEP)
    await priya.click_card_button("Accept", triage)
    meeting_box = priya.field(triage, "Meeting")
    await expect(meeting_box).not_to_have_value(re.compile(r"^\s*$"))
    # The first choice is the next meeting. Within its referral deadline (8 days before)
    # the form proposes the one after; Priya lists the case on the next one all the same,
    # as a coordinator does with an urgent case, whatever day the test runs.
    await meeting_box.click()
    next_meeting = priya.page.get_by_role("option").first
    next_label = (await next_meeting.inner_text()).strip()
    await next_meeting.click()
    await expect(meeting_box).to_have_value(next_label)
    for agency in await triage.get_by_role("checkbox").all():
        await agency.set_checked((await agency.get_attribute("aria-label")) == HOUSING)
    await expect(priya.field(triage, HOUSING)).to_be_checked()
    await priya.shot("triage-accept", triage)
    await priya.click_card_button("Accept and send requests", triage)
    await priya.wait_for_text("Accepted as CM-", card=triage, timeout=STEP)
    accepted = re.search(r"CM-\d{4}-\d+", await triage.inner_text())
    assert accepted is not None
    new_case = accepted.group(0)
    children_case, review_case = f"CM-{year}-014", f"CM-{year}-013"
    await priya.shot("triage-accepted", triage)

    # 4. The agenda: the statement, one unmet action, two new cases (children first), a
    # review. Priya publishes it.
    await priya.send("agenda")
    agenda = await priya.wait_for_card(re.compile(r"^\s*Agenda for .+$"), timeout=STEP)
    title = re.search(r"Agenda for (\w{3} \d{1,2} \w{3} \d{4})", await agenda.inner_text())
    assert title is not None
    meeting_day = _day(title.group(1))
    for line in (
        "1. Welcome and confidentiality statement",
        "2. Unmet actions from earlier meetings (1)",
        f"3. {children_case} · new case",
        f"4. {new_case} · new case",
        f"5. {review_case} · review",
    ):
        await expect(agenda).to_contain_text(line)
    await expect(agenda).not_to_contain_text(re.compile(r"\b6\. "))
    await priya.shot("agenda", agenda)
    await priya.click_card_button("Publish agenda", agenda)
    await priya.wait_for_text(
        "Published: the team channel has the announcement.", card=agenda, timeout=STEP
    )
    await priya.shot("agenda-published", agenda)

    # The channel has the announcement: references, risk levels and counts only.
    await priya.open_channel("General")
    announced = await priya.wait_for_card(
        re.compile(r"^\s*Agenda published: .+$"), timeout=DELIVERY
    )
    await expect(announced).to_contain_text(f"{new_case} · new case")
    await expect(announced).not_to_contain_text("Achebe")
    await priya.shot("agenda-announcement-in-the-channel", announced)

    # 5. Tom starts the meeting in the group chat, the meeting chat's stand-in.
    await tom.open_group_chat()
    await tom.send("start")
    statement = await tom.wait_for_card("Confidentiality statement", timeout=STEP)
    await expect(statement).to_contain_text("Acknowledged by: nobody yet")
    await tom.shot("confidentiality", statement)

    # Priya, in her own group chat, is told it is under way and acknowledges the statement.
    await priya.open_group_chat()
    await priya.send("start")
    hers = await priya.wait_for_card("Confidentiality statement", timeout=STEP)
    await expect(hers).to_contain_text("The meeting is under way already.")
    await priya.click_card_button("I acknowledge", hers)
    await priya.wait_for_text(
        f"Thank you, Priya Raman: you are recorded as attending for {COMMUNITY_SAFETY}.",
        card=hers,
        timeout=STEP,
    )
    await priya.shot("confidentiality-acknowledged-by-the-coordinator", hers)

    await tom.click_card_button("I acknowledge", statement)
    await tom.wait_for_text(
        f"Thank you, Tom Okafor: you are recorded as attending for {POLICE}.",
        card=statement,
        timeout=STEP,
    )
    await expect(statement).to_contain_text(f"{COMMUNITY_SAFETY} (1), {POLICE} (1)")
    await tom.shot("confidentiality-acknowledged-by-the-chair", statement)

    # 6. The chair card, item by item; it replaces the statement in place.
    chair = statement
    await tom.click_card_button("Open the chair card", chair)
    await tom.wait_for_text(
        "Item 1 of 5: Welcome and confidentiality statement", card=chair, timeout=STEP
    )
    await tom.shot("chair-1-confidentiality", chair)

    # The unmet action (Adult Social Care's) is carried forward: circumstances changed.
    await _next(tom, chair, "Item 2 of 5: Unmet actions from earlier meetings")
    await expect(chair).to_contain_text(f"{review_case} · {ADULTS}")
    await expect(chair).not_to_contain_text(f"{review_case} · {HOUSING}")
    await tom.shot("chair-2-unmet-action", chair)
    unmet = _section(chair, f"{review_case} · {ADULTS}")
    await tom.click_card_button("Carry forward…", unmet)
    carried_to = meeting_day + timedelta(days=21)
    await tom.fill_date(unmet, "New date", carried_to.isoformat())
    await unmet.get_by_role("radio", name="Circumstances changed", exact=True).check()
    await tom.shot("chair-2-carry-forward", chair)
    await tom.click_card_button("Carry forward", unmet)
    await tom.wait_for_text(f"Carried forward to {_label(carried_to)}.", card=chair, timeout=STEP)
    await expect(_section(chair, f"{review_case} · {ADULTS}")).to_contain_text(
        "Circumstances changed"
    )
    await tom.shot("chair-2-carried-forward", chair)

    # The first new case: two actions and a lead agency.
    due = meeting_day + timedelta(days=28)
    await _next(tom, chair, f"Item 3 of 5: {children_case} (new case)")
    await tom.shot("chair-3-new-case", chair)
    await _capture(tom, chair, "Fit a door camera and a letterbox guard.", HOUSING, due)
    await _capture(tom, chair, "Refer the children to Early Help.", CHILDREN, due)
    await tom.click_card_button("Lead agency…", chair)
    await tom.choose(chair, "Lead agency", HOUSING)
    await tom.fill(chair, "Lead officer", "Gemma Hartley")
    await tom.click_card_button("Save lead agency", chair)
    await tom.wait_for_text(
        f"Lead agency for {children_case}: {HOUSING}.", card=chair, timeout=STEP
    )
    await tom.shot("chair-3-actions-and-lead", chair)

    # The case accepted today: two actions.
    await _next(tom, chair, f"Item 4 of 5: {new_case} (new case)")
    await tom.shot("chair-4-new-case", chair)
    await _capture(tom, chair, "Visit Mr Achebe with a police officer.", POLICE, due)
    await _capture(tom, chair, "Offer a fire safety visit.", HOUSING, due - timedelta(days=7))
    await tom.shot("chair-4-actions", chair)

    # The review: the case is closed.
    await _next(tom, chair, f"Item 5 of 5: {review_case} (review)")
    await tom.shot("chair-5-review", chair)
    await tom.click_card_button("Close case…", chair)
    await chair.get_by_role("radio", name=CONCERNS_REDUCED, exact=True).check()
    await tom.shot("chair-5-close", chair)
    await tom.click_card_button("Close the case", chair)
    await tom.wait_for_text(
        f"{review_case} is closed: {CONCERNS_REDUCED}.", card=chair, timeout=STEP
    )
    await tom.shot("chair-5-closed", chair)

    await tom.click_card_button("End the meeting", chair)
    await tom.wait_for_text("Meeting ended", card=chair, timeout=STEP)
    await expect(chair).to_contain_text("5 of 5")
    await expect(chair).to_contain_text(re.compile(r"Actions agreed\s*4"))
    await tom.shot("meeting-ended", chair)

    # 7. Priya gets the draft minutes in her personal chat, edits a summary and approves.
    await priya.open_personal_chat()
    minutes = await priya.wait_for_card(re.compile(r"^\s*Draft minutes: .+$"), timeout=DELIVERY)
    await priya.shot("minutes-draft", minutes)
    case_part = _section(minutes, f"{children_case} (new case)")
    await priya.click_card_button("Edit summary…", case_part)
    await priya.fill(case_part, "Summary of the discussion", SUMMARY)
    await priya.shot("minutes-edit-summary", minutes)
    await priya.click_card_button("Save the summary", case_part)
    await priya.wait_for_text(f"Summary of {children_case} saved.", card=minutes, timeout=STEP)
    await priya.shot("minutes-summary-saved", minutes)
    await priya.click_card_button("Approve minutes", minutes)
    await priya.wait_for_text("Approved.", card=minutes, timeout=STEP)
    await expect(minutes).to_contain_text(re.compile(r"Minutes: \w{3} \d"))
    await priya.shot("minutes-approved", minutes)

    # She downloads the Word document from the card's link: it lists the four actions.
    await expect(
        minutes.get_by_role("link", name="Download the minutes (.docx)"),
        "no download link: the bot needs PUBLIC_URL and ICS_SIGNING_SECRET",
    ).to_be_visible()
    link = await priya.link_of("Download the minutes (.docx)", minutes)
    data = await asyncio.to_thread(_download, link)
    (priya.shots.folder / "minutes.docx").write_bytes(data)
    document = _docx_text(data)
    for action in (
        "Fit a door camera and a letterbox guard. | Riverside Homes (Housing)",
        "Refer the children to Early Help. | Children's Services",
        "Visit Mr Achebe with a police officer. | Riverside Police",
        "Offer a fire safety visit. | Riverside Homes (Housing)",
    ):
        assert action in document, f"{action!r} is not in the minutes:\n{document}"
    assert SUMMARY in document
    assert f"Carried forward to {_label(carried_to)}. Circumstances changed." in document
    # Closing the review case then passed that action back to its agency: the minutes say both.
    assert f"Then passed back to the agency: the panel closed {review_case}." in document
    assert f"Decision | Closed: {CONCERNS_REDUCED}" in document

    # 8. Tom attended for the police: the approved minutes reach him in private chat.
    await tom.open_personal_chat()
    ready = await tom.wait_for_card(re.compile(r"^\s*Minutes approved: .+$"), timeout=DELIVERY)
    await expect(ready).to_contain_text(re.compile(r"Actions agreed\s*4"))
    await tom.shot("minutes-ready-for-the-chair", ready)

    # Gemma has a card for each action Housing owns.
    owned = await gemma.wait_for_card(
        re.compile(rf"^\s*(New action|Action) for {children_case}\s*$"), timeout=DELIVERY
    )
    await expect(owned).to_contain_text("Fit a door camera and a letterbox guard.")
    await gemma.shot("housing-action", owned)
