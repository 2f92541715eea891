"""Real Teams activity JSON through the real aiohttp server, CloudAdapter and handler."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest
from botbuilder.schema import ConversationReference

from bot.app import DISPATCHER, build_router
from bot.domain.delivery import ConversationKind
from bot.domain.errors import InvalidInput
from bot.kernel.guard import public
from bot.kernel.router import CommandSpec, Deps, Reply, Request
from cards.help import HELP_TITLE
from cards.kit import card_text
from tests.support import activities as acts
from tests.support import cards
from tests.support.world import AAD, serving

if TYPE_CHECKING:
    from tests.conftest import BotUnderTest, Connector


async def test_help_answers_with_the_command_card(bot: BotUnderTest) -> None:
    response = await bot.post(acts.personal_message(bot.service_url, "help"))
    assert response.status in (200, 201)
    text = card_text(bot.last_card())
    assert HELP_TITLE in text
    assert "whoami" in text
    assert "Riverside Community MARAC" in text


@pytest.mark.parametrize("typed", ["/help", "  HELP ", "/help please", "commands"])
async def test_help_is_understood_with_or_without_a_slash(bot: BotUnderTest, typed: str) -> None:
    await bot.post(acts.personal_message(bot.service_url, typed))
    assert HELP_TITLE in card_text(bot.last_card())


async def test_a_mention_in_a_channel_is_stripped_before_routing(bot: BotUnderTest) -> None:
    await bot.post(acts.channel_message(bot.service_url, "/help"))
    assert HELP_TITLE in card_text(bot.last_card())
    # the reply goes to the channel thread it came from
    assert bot.connector.sent[-1]["_conversation"].startswith(acts.TEAM)


async def test_help_lists_only_what_a_newcomer_may_use(bot: BotUnderTest) -> None:
    await bot.post(acts.personal_message(bot.service_url, "help", aad=acts.STRANGER, name="Sam"))
    text = card_text(bot.last_card())
    assert "not a member of a panel" in text
    assert "whoami" in text  # everyone may ask who they are
    assert "Riverside" not in text


async def test_whoami_shows_the_members_roles_agency_and_isa_state(bot: BotUnderTest) -> None:
    await bot.post(
        acts.personal_message(bot.service_url, "whoami", aad=acts.GEMMA, name="Gemma Hartley")
    )
    text = card_text(bot.last_card())
    assert "Gemma Hartley" in text
    assert "Riverside Homes (Housing)" in text
    assert "spoc" in text
    assert "accepted version 2" in text


async def test_an_unknown_command_gets_a_short_help_not_an_error(bot: BotUnderTest) -> None:
    await bot.post(acts.personal_message(bot.service_url, "frobnicate now"))
    assert bot.connector.texts() == []
    assert cards.body_text(bot.last_card()).splitlines()[0] == "I didn't catch that"


async def test_an_empty_message_gets_a_hint(bot: BotUnderTest) -> None:
    await bot.post(acts.personal_message(bot.service_url, "   "))
    assert bot.connector.texts()[-1] == "Type help to see what I can do."


async def test_a_redelivered_activity_is_acted_on_once(bot: BotUnderTest) -> None:
    activity = acts.personal_message(bot.service_url, "help", activity_id="f:redelivered-1")
    first = await bot.post(activity)
    second = await bot.post(activity)
    assert first.status in (200, 201) and second.status in (200, 201)
    assert len(bot.connector.sent) == 1


async def test_a_card_button_runs_its_command(bot: BotUnderTest) -> None:
    value = {"verb": "command", "command": "whoami"}
    await bot.post(acts.personal_message(bot.service_url, "", value=value))
    assert "Your membership" in card_text(bot.last_card())


async def test_a_button_with_an_unknown_verb_is_refused_plainly(bot: BotUnderTest) -> None:
    await bot.post(acts.personal_message(bot.service_url, "", value={"verb": "nuke"}))
    assert bot.connector.texts()[-1] == "This card's button is no longer supported. Type help."


async def test_an_execute_invoke_answers_with_a_card_in_the_invoke_response(
    bot: BotUnderTest,
) -> None:
    response = await bot.post(acts.card_invoke(bot.service_url, "command", {"command": "help"}))
    assert response.status == 200
    body = await response.json()
    assert body["statusCode"] == 200
    assert body["type"] == "application/vnd.microsoft.card.adaptive"
    assert HELP_TITLE in card_text(body["value"])
    assert bot.connector.sent == []  # the card replaces the clicked one; nothing new posted


async def test_an_invoke_refused_by_a_rule_answers_with_its_message(bot: BotUnderTest) -> None:
    response = await bot.post(acts.card_invoke(bot.service_url, "command", {"command": 42}))
    body = await response.json()
    assert body["type"] == "application/vnd.microsoft.activity.message"
    assert body["value"] == "This button names no command. Type help."


async def test_a_redelivered_invoke_is_not_run_twice(bot: BotUnderTest) -> None:
    activity = acts.card_invoke(
        bot.service_url, "command", {"command": "help"}, activity_id="f:invoke-twice"
    )
    first = await (await bot.post(activity)).json()
    second = await (await bot.post(activity)).json()
    assert first["type"] == "application/vnd.microsoft.card.adaptive"
    assert second["value"] == "I have already dealt with that."


async def test_installing_the_bot_greets_and_keeps_the_conversation(bot: BotUnderTest) -> None:
    await bot.post(acts.bot_installed_personal(bot.service_url))
    assert "Community MARAC" in card_text(bot.last_card())
    async with bot.storage.unit_of_work() as uow:
        priya = (await uow.members.memberships(acts.PRIYA))[0]
        ref = await uow.conversations.personal(priya.panel_id, priya.id)
    assert ref is not None
    assert ref.kind is ConversationKind.PERSONAL
    assert ref.service_url == bot.service_url
    assert ref.reference["conversation"]["id"] == f"a:personal-{acts.PRIYA}"


async def test_the_greeting_is_sent_once_per_conversation(bot: BotUnderTest) -> None:
    await bot.post(acts.bot_installed_personal(bot.service_url))
    await bot.post(acts.bot_installed_personal(bot.service_url))
    assert len(bot.connector.cards()) == 1


async def test_adding_the_bot_to_a_team_that_is_no_panel_says_so_without_data(
    bot: BotUnderTest,
) -> None:
    await bot.post(acts.bot_installed_in_team(bot.service_url, team="19:other@thread.tacv2"))
    text = card_text(bot.last_card())
    assert "not a panel yet" in text


@pytest.mark.parametrize(
    ("conversation", "place"),
    [
        ({"id": acts.TEAM, "conversationType": "channel", "isGroup": True}, "channel"),
        ({"id": acts.GROUP_CHAT, "conversationType": "groupChat", "isGroup": True}, "chat"),
    ],
)
async def test_the_greeting_names_the_place_it_is_posted_in(
    bot: BotUnderTest, conversation: dict[str, object], place: str
) -> None:
    activity = acts.bot_installed_in_team(bot.service_url)
    activity["conversation"] = conversation
    if place == "chat":
        activity["channelData"] = {"tenant": {"id": acts.TENANT}}
    await bot.post(activity)
    text = card_text(bot.last_card())
    assert f"In this {place} I post only case references" in text


async def test_adding_the_bot_to_the_panels_team_stores_the_channel(bot: BotUnderTest) -> None:
    await bot.post(acts.bot_installed_in_team(bot.service_url))
    async with bot.storage.unit_of_work() as uow:
        panel = await uow.panels.by_team(acts.TEAM)
        assert panel is not None
        channels = await uow.conversations.of_kind(panel.id, ConversationKind.CHANNEL)
    assert panel.channel_id == acts.TEAM
    assert [c.conversation_id for c in channels] == [acts.TEAM]


async def test_an_unexpected_error_shows_only_a_reference_and_logs_it(
    sqlite_storage: Any,
    connector: Connector,
    clock: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    router = build_router()

    async def explode(request: Request, deps: Deps) -> Reply:
        raise RuntimeError("secret internal detail")

    router.command(CommandSpec(name="explode", summary="fails", handler=explode, access=public()))
    async with serving(sqlite_storage, connector, clock, router=router, demo=False) as bot:
        with caplog.at_level(logging.ERROR):
            response = await bot.post(acts.personal_message(connector.url, "explode"))
        assert response.status in (200, 201)
        said = bot.connector.texts()[-1]
        assert "secret internal detail" not in said
        assert "Traceback" not in said
        ref = said.rsplit("reference: ", 1)[1]
        assert len(ref) == 8
        assert any(ref in record.getMessage() for record in caplog.records)


async def test_a_rule_broken_in_a_command_reaches_the_person_as_its_message(
    sqlite_storage: Any, connector: Connector, clock: Any
) -> None:
    router = build_router()

    async def strict(request: Request, deps: Deps) -> Reply:
        raise InvalidInput("The date of birth cannot be in the future.")

    router.command(CommandSpec(name="strict", summary="refuses", handler=strict, access=public()))
    async with serving(sqlite_storage, connector, clock, router=router, demo=False) as bot:
        await bot.post(acts.personal_message(connector.url, "strict"))
        assert bot.connector.texts()[-1] == "The date of birth cannot be in the future."


async def test_a_command_outside_its_scope_is_refused_with_where_it_works(
    sqlite_storage: Any, connector: Connector, clock: Any
) -> None:
    router = build_router()

    async def private(request: Request, deps: Deps) -> Reply:
        return Reply(text="secret")

    router.command(
        CommandSpec(
            name="private",
            summary="personal only",
            handler=private,
            access=public(frozenset({ConversationKind.PERSONAL})),
        )
    )
    async with serving(sqlite_storage, connector, clock, router=router, demo=False) as bot:
        await bot.post(acts.channel_message(connector.url, "private"))
        assert bot.connector.texts()[-1] == "`private` works in our private chat, not here."


async def test_an_invoke_that_is_not_an_execute_action_is_a_400(bot: BotUnderTest) -> None:
    activity = acts.card_invoke(bot.service_url, "command", {"command": "help"})
    activity["value"] = {"action": {"type": "Action.Submit"}}
    response = await bot.post(activity)
    assert response.status == 400
    assert bot.connector.sent == []


async def test_the_conversation_reference_is_rewritten_only_when_it_changes(
    bot: BotUnderTest, clock: Any
) -> None:
    async def stored() -> Any:
        async with bot.storage.unit_of_work() as uow:
            priya = (await uow.members.memberships(acts.PRIYA))[0]
            return await uow.conversations.personal(priya.panel_id, priya.id)

    await bot.post(acts.personal_message(bot.service_url, "help"))
    first = await stored()
    assert "activityId" not in first.reference
    clock.advance(first.updated_at + timedelta(minutes=5))
    await bot.post(acts.personal_message(bot.service_url, "whoami"))
    assert (await stored()).updated_at == first.updated_at
    moved = bot.service_url.replace("127.0.0.1", "localhost")
    await bot.post(acts.personal_message(moved, "help"))
    again = await stored()
    assert again.service_url == moved
    assert again.updated_at > first.updated_at
    assert again.id == first.id


async def test_another_speaker_in_a_shared_chat_does_not_rewrite_its_reference(
    bot: BotUnderTest, clock: Any
) -> None:
    async def stored() -> Any:
        async with bot.storage.unit_of_work() as uow:
            panel_id = (await uow.members.memberships(acts.PRIYA))[0].panel_id
            return await uow.conversations.by_conversation(panel_id, acts.GROUP_CHAT)

    await bot.post(acts.group_message(bot.service_url, "help", who="Tom"))
    first = await stored()
    assert first.reference["user"]["aadObjectId"] == AAD["Tom"]
    clock.advance(first.updated_at + timedelta(minutes=5))
    await bot.post(acts.group_message(bot.service_url, "help", who="Gemma"))
    await bot.post(acts.group_message(bot.service_url, "whoami", who="Priya"))
    kept = await stored()
    assert kept.updated_at == first.updated_at
    assert kept.reference == first.reference
    moved = bot.service_url.replace("127.0.0.1", "localhost")
    await bot.post(acts.group_message(moved, "help", who="Gemma"))
    again = await stored()
    assert again.service_url == moved
    assert again.updated_at > first.updated_at
    assert again.reference["serviceUrl"] == moved


async def test_a_turn_serialises_its_conversation_reference_once(
    bot: BotUnderTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    serialised: list[object] = []
    serialize = ConversationReference.serialize

    def counted(self: ConversationReference, *args: Any, **kwargs: Any) -> Any:
        serialised.append(self)
        return serialize(self, *args, **kwargs)

    monkeypatch.setattr(ConversationReference, "serialize", counted)
    await bot.post(acts.personal_message(bot.service_url, "help"))
    await bot.invoke(acts.card_invoke(bot.service_url, "command", {"command": "help"}))
    assert len(serialised) == 2  # one a turn
    assert card_text(bot.connector.cards()[-1]).startswith(HELP_TITLE)


async def test_a_turn_wakes_the_delivery_only_when_it_queued_a_card(bot: BotUnderTest) -> None:
    wake = bot.client.app[DISPATCHER]._wake  # what the handler's after-turn kick sets
    await bot.post(acts.bot_installed_in_team(bot.service_url))
    wake.clear()
    await bot.post(acts.personal_message(bot.service_url, "agenda"))
    assert not wake.is_set()  # showed a card, queued nothing
    verb, data = cards.press(bot.connector.cards()[-1], "Publish agenda")
    published = await bot.invoke(acts.card_invoke(bot.service_url, verb, data))
    assert "Published" in card_text(cards.card(published))
    assert wake.is_set()  # the channel's announcement went into the outbox
    assert await bot.deliver() >= 1
