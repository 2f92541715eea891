"""The shared views kernel on its own (bot.kernel.views), on the demo panel in memory: who a
card's refresh names, the 60-reader cap and its button, and the channel gate's one
exemption, which only a view the kernel made for the very caller, in their own invoke, has.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest

from bot.domain.delivery import ConversationKind, ConversationRef
from bot.domain.panel import IsaAcceptance, Member, Role
from bot.kernel import channel_gate, views
from bot.kernel.router import Reply
from bot.settings import Settings, SettingsError
from cards.kit import MAX_REFRESH_USERS, SHOW_MY_VIEW, build, card_text, heading, paragraph
from cards.verbs import VIEW_KEY, Verb
from cards.welcome import WELCOME_TITLE
from tests.support.world import NOW

if TYPE_CHECKING:
    from collections.abc import Mapping

    from bot.domain.panel import Panel
    from bot.kernel.ports import UnitOfWork
    from cards.kit import Card
    from tests.support.world import World

GROUP = ConversationKind.GROUP_CHAT
MARKER = "ZQK-kernel-case-narrative"


async def _locate(uow: UnitOfWork, panel: Panel, data: Mapping[str, Any]) -> views.Subject | None:
    reference = data.get("reference")
    case = await uow.cases.by_reference(panel.id, reference) if isinstance(reference, str) else None
    return views.Subject(None, [case], {"reference": case.reference}) if case else None


async def _render(
    _uow: UnitOfWork, _panel: Panel, subject: views.Subject, grant: views.Grant, _extras: Any
) -> Card:
    """The welcome card's heading (a kind shared chats may see), and the case's narrative
    only for a reader granted the case."""
    case = subject.cases[0]
    body = [*heading(WELCOME_TITLE), paragraph(case.reference)]
    if case.id in grant.cases:
        body.append(paragraph(MARKER))
    return build(body, fallback=WELCOME_TITLE)


CASE_VIEW = views.SharedView("kernel-test-case", _locate, _render, of_meeting=False)


async def _readers(world: World, count: int) -> list[Member]:
    """`count` SPOCs of a core agency, each with a 1:1 chat in which Teams named them."""
    police = await world.agency("Riverside Police")
    made = []
    async with world.storage.unit_of_work() as uow:
        for n in range(count):
            member = Member(
                panel_id=world.panel.id,
                aad_object_id=f"0000aaaa-0000-4000-8000-{n:012d}",
                name=f"Reader {n:02d}",
                agency_id=police.id,
                roles=frozenset({Role.SPOC}),
            )
            await uow.members.save(member)
            await uow.conversations.save(
                ConversationRef(
                    panel_id=world.panel.id,
                    kind=ConversationKind.PERSONAL,
                    conversation_id=f"a:personal-reader-{n}",
                    member_id=member.id,
                    service_url="https://smba.example.org/",
                    reference={"user": {"id": f"29:reader-{n:02d}"}},
                    updated_at=NOW,
                )
            )
            made.append(member)
        await uow.commit()
    return made


async def _subject(world: World) -> views.Subject:
    case = await world.case("CM-2026-014")
    return views.Subject(None, [case], {"reference": case.reference})


async def test_up_to_60_readers_are_refreshed_by_teams_and_no_button_shows(world: World) -> None:
    await _readers(world, 12)
    async with world.storage.unit_of_work() as uow:
        card = await views.base_card(uow, world.panel, CASE_VIEW, await _subject(world))
    assert card["refresh"]["action"]["verb"] == Verb.VIEW_REFRESH.value
    assert card["refresh"]["action"]["data"] == {
        VIEW_KEY: "kernel-test-case",
        "reference": "CM-2026-014",
    }
    assert card["refresh"]["userIds"] == [f"29:reader-{n:02d}" for n in range(12)]
    assert SHOW_MY_VIEW not in card_text({k: v for k, v in card.items() if k != "refresh"})
    assert MARKER not in card_text(card)


async def test_past_60_readers_the_refresh_names_60_and_the_base_has_a_show_my_view_button(
    world: World,
) -> None:
    await _readers(world, 61)
    async with world.storage.unit_of_work() as uow:
        card = await views.base_card(uow, world.panel, CASE_VIEW, await _subject(world))
    assert len(card["refresh"]["userIds"]) == MAX_REFRESH_USERS == 60
    (button,) = [a for a in card.get("actions", []) if a.get("title") == SHOW_MY_VIEW]
    assert (button["type"], button["verb"]) == ("Action.Execute", Verb.VIEW_REFRESH.value)
    assert button["data"] == card["refresh"]["action"]["data"]


async def test_the_card_names_only_members_who_may_see_more_than_the_base(world: World) -> None:
    """A referrer may see no case in full, and an invited member has not joined: neither is
    named, however Teams knows them."""
    readers = await _readers(world, 3)
    async with world.storage.unit_of_work() as uow:
        readers[0].roles = frozenset({Role.REFERRER})
        readers[1].invited = True
        for reader in readers[:2]:
            await uow.members.save(reader)
        await uow.commit()
    async with world.storage.unit_of_work() as uow:
        card = await views.base_card(uow, world.panel, CASE_VIEW, await _subject(world))
    assert card["refresh"]["userIds"] == ["29:reader-02"]


async def _accepted(world: World, member: Member) -> None:
    async with world.storage.unit_of_work() as uow:
        await uow.isa.save(
            IsaAcceptance(
                panel_id=world.panel.id,
                member_id=member.id,
                version=world.panel.isa_version,
                accepted_at=NOW - timedelta(days=1),
            )
        )
        await uow.commit()


async def test_a_reader_granted_the_case_sees_it_only_in_their_own_invoke(world: World) -> None:
    (reader,) = await _readers(world, 1)
    await _accepted(world, reader)
    data = {VIEW_KEY: CASE_VIEW.kind, "reference": "CM-2026-014"}
    request = await world.request(reader, data, kind=GROUP)
    made = await views.answer(world.deps, request, CASE_VIEW, data, edit=True)
    assert isinstance(made, views.SharedReply)
    assert MARKER in card_text(made.card or {})
    assert made.shared is not None and MARKER not in card_text(made.shared)
    # Their own invoke: their own view, and the base for the message everyone reads.
    own = await channel_gate.guard_reply(world.deps, request, made, invoke=True)
    assert MARKER in card_text(own.card or {})
    assert isinstance(own, views.SharedReply) and own.edit and own.shared is not None
    # Posted as a message, where everyone reads it: the base only.
    posted = await channel_gate.guard_reply(world.deps, request, made)
    assert not isinstance(posted, views.SharedReply)
    assert posted.card == made.shared
    # Someone else's invoke answered with it (nothing does that; the gate holds anyway).
    other = await world.request("Gemma", data, kind=GROUP)
    theirs = await channel_gate.guard_reply(world.deps, other, made, invoke=True)
    assert MARKER not in card_text(theirs.card or {})


async def test_without_the_current_agreement_a_reader_gets_the_base(world: World) -> None:
    (reader,) = await _readers(world, 1)
    data = {VIEW_KEY: CASE_VIEW.kind, "reference": "CM-2026-014"}
    request = await world.request(reader, data, kind=GROUP)
    made = await views.answer(world.deps, request, CASE_VIEW, data)
    assert isinstance(made, views.SharedReply)
    assert made.grant.base
    assert MARKER not in card_text(made.card or {})


async def test_only_the_kernel_makes_a_shared_view(world: World) -> None:
    card = build([paragraph(MARKER)], fallback="Nothing shared")
    with pytest.raises(TypeError, match=r"only bot\.kernel\.views"):
        views.SharedReply(card=card, shared=card)
    # An ordinary reply to an invoke in a shared chat is judged as a post, as before.
    request = await world.request("Gemma", kind=GROUP)
    judged = await channel_gate.guard_reply(world.deps, request, Reply(card=card), invoke=True)
    assert judged.text == channel_gate.SENT_PRIVATELY
    assert judged.card is None


async def test_a_base_the_gate_turns_away_is_not_put_over_the_message(world: World) -> None:
    """Whatever a feature draws, the base everyone reads passes the gate or is not shown."""

    async def leaky(
        uow: UnitOfWork, panel: Panel, subject: views.Subject, grant: views.Grant, extras: Any
    ) -> Card:
        return build([paragraph(MARKER)], fallback="Not a shared kind")

    view = views.SharedView("kernel-test-leaky", _locate, leaky, of_meeting=False)
    (reader,) = await _readers(world, 1)
    data = {VIEW_KEY: view.kind, "reference": "CM-2026-014"}
    request = await world.request(reader, data, kind=GROUP)
    made = await views.answer(world.deps, request, view, data, edit=True)
    own = await channel_gate.guard_reply(world.deps, request, made, invoke=True)
    assert isinstance(own, views.SharedReply)
    assert (own.edit, own.shared) == (False, None)
    posted = await channel_gate.guard_reply(world.deps, request, made)
    assert posted.text == channel_gate.SENT_PRIVATELY


def test_clicks_edit_the_shared_message_in_teams_and_not_in_the_playground() -> None:
    """With an app id (Teams) the clicked message is edited for everyone, whose clients then
    refresh; in local mode (the Agents Playground, which shows no user-specific views) it is
    not, unless SHARED_VIEW_EDITS says so."""
    assert not Settings().edits_shared_views
    teams = Settings(app_id="00000000-0000-4000-8000-000000000001", app_password="x")
    assert teams.edits_shared_views
    assert Settings.from_env({"SHARED_VIEW_EDITS": "on"}, dotenv=None).edits_shared_views
    assert not Settings.from_env({}, dotenv=None).edits_shared_views
    with pytest.raises(SettingsError, match="SHARED_VIEW_EDITS"):
        Settings.from_env({"SHARED_VIEW_EDITS": "sometimes"}, dotenv=None)
