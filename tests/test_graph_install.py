"""Reaching every SPOC (issue 14, item 2): a member the bot has never talked to gets the
bot installed for them through Graph, then a 1:1 chat and the card.

The real app (bot.app.create_app, configured for Graph) delivers from a SQLite outbox with
the real botbuilder adapter to the fake Bot Connector, and its real GraphClient (msal, client
credentials) installs the app through the fake Graph; both fakes serve on 127.0.0.1. The
members are invented.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import pytest
from aiohttp.test_utils import TestServer

from bot.app import DISPATCHER, create_app
from bot.domain.delivery import DeliveryState
from bot.settings import Settings, SettingsError
from tests.support import cards
from tests.support.connector import Fault, delivery_rig
from tests.support.connector import deliver as deliver_all
from tests.support.fake_graph import (
    CATALOG_APP_ID,
    CLIENT_ID,
    CLIENT_SECRET,
    MANIFEST_APP_ID,
    ORGANIZER,
    TENANT,
    RunningFakeGraph,
    start_fake_graph,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from bot.domain.common import FixedClock
    from bot.domain.panel import Member
    from tests.support.connector import DeliveryRig


@pytest.fixture
async def graph(tmp_path: Path) -> AsyncIterator[RunningFakeGraph]:
    running = await start_fake_graph(tmp_path)
    yield running
    await running.server.close()


def graph_settings(graph: RunningFakeGraph) -> Settings:
    """Local mode (no app id), with Graph configured against the fake."""
    return Settings(
        graph_tenant_id=TENANT,
        graph_client_id=CLIENT_ID,
        graph_client_secret=CLIENT_SECRET,
        graph_organizer_user_id=ORGANIZER,
        graph_authority_host=graph.base_url,
        graph_url=graph.base_url,
        graph_ca_bundle=str(graph.ca_bundle),
        teams_app_id=MANIFEST_APP_ID,
    )


async def forget_chat(rig: DeliveryRig, member: Member) -> None:
    """The member has no stored 1:1 chat: the bot never talked to them."""
    async with rig.storage.unit_of_work() as uow:
        await uow.conversations.delete(rig.fleet.panel.id, rig.chat_of(member).id)
        await uow.commit()


async def deliver_through_the_app(rig: DeliveryRig, settings: Settings) -> None:
    """Deliver what is queued with the dispatcher create_app built (the app started and
    stopped as in production, so its Graph client is closed)."""
    app = create_app(settings, storage=rig.storage, clock=rig.clock, deliver_in_background=False)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        await deliver_all(app[DISPATCHER])
    finally:
        await server.close()


async def test_a_spoc_the_bot_never_talked_to_gets_the_bot_installed_then_the_card(
    tmp_path: Path, clock: FixedClock, graph: RunningFakeGraph
) -> None:
    async with delivery_rig(tmp_path, clock, spocs=2) as rig:
        newcomer, known = rig.spocs
        await forget_chat(rig, newcomer)
        graph.fake.users |= {newcomer.aad_object_id, known.aad_object_id}
        await rig.queue(newcomer, "Welcome, and your first action")
        await rig.queue(known, "A reminder")

        await deliver_through_the_app(rig, graph_settings(graph))

        # Graph: the catalog id looked up by the manifest id, then the app installed for
        # the newcomer only (the other SPOC's chat is known).
        (lookup,) = graph.fake.graph_calls("GET")
        assert lookup.query == {"$filter": f"externalId eq '{MANIFEST_APP_ID}'"}
        (install,) = graph.fake.graph_calls("POST")
        assert install.path == f"/v1.0/users/{newcomer.aad_object_id}/teamwork/installedApps"
        assert graph.fake.user_apps == {newcomer.aad_object_id: {CATALOG_APP_ID}}
        # The connector: a new 1:1 chat with the newcomer, and the card in it.
        (created,) = rig.fake.created
        assert [m["id"] for m in created["members"]] == [newcomer.aad_object_id]
        sent = {cards.body_text(a): a["_conversation"] for a in rig.fake.sent}
        assert sent["A reminder"] == rig.chat_of(known).conversation_id
        new_chat = sent["Welcome, and your first action"]
        async with rig.storage.unit_of_work() as uow:
            chat = await uow.conversations.personal(rig.fleet.panel.id, newcomer.id)
        assert chat is not None and chat.conversation_id == new_chat


async def test_graph_refusing_the_install_is_logged_plainly_and_delivery_goes_on(
    tmp_path: Path,
    clock: FixedClock,
    graph: RunningFakeGraph,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Graph answers 403 (permission not granted): the log says which permission; Teams then
    refuses the chat (the app is not installed for them), so the member is unreachable and
    the coordinator is told, as for any member the bot cannot reach."""
    async with delivery_rig(tmp_path, clock, spocs=1, coordinators=1) as rig:
        (spoc,) = rig.spocs
        await forget_chat(rig, spoc)
        graph.fake.users.add(spoc.aad_object_id)
        graph.fake.fail_next(403, path_contains="/teamwork/installedApps")
        rig.fake.fail_create(Fault(403, "Forbidden"))
        row_id = await rig.queue(spoc, "Your action")

        with caplog.at_level(logging.WARNING):
            await deliver_through_the_app(rig, graph_settings(graph))

        assert "TeamsAppInstallation.ReadWriteSelfForUser.All" in caplog.text
        assert CLIENT_SECRET not in caplog.text
        assert graph.fake.user_apps == {}
        row = await rig.row(row_id)
        assert (row.state, row.last_status) == (DeliveryState.UNREACHABLE, 403)
        (notice,) = rig.fake.sent
        assert notice["_conversation"] == rig.chat_of(rig.coordinators[0]).conversation_id


def test_graph_without_the_teams_apps_id_refuses_to_start_and_names_the_setting() -> None:
    environ = {
        "GRAPH_TENANT_ID": TENANT,
        "GRAPH_CLIENT_ID": CLIENT_ID,
        "GRAPH_CLIENT_SECRET": CLIENT_SECRET,
        "GRAPH_ORGANIZER_USER_ID": ORGANIZER,
    }
    with pytest.raises(SettingsError, match="TEAMS_APP_ID"):
        Settings.from_env(environ, dotenv=None)
    assert Settings.from_env({**environ, "TEAMS_APP_ID": MANIFEST_APP_ID}, dotenv=None)
    with_bot = {
        **environ,
        "APP_ID": MANIFEST_APP_ID,
        "APP_PASSWORD": "x",
        "APP_TENANTID": TENANT,
    }
    assert Settings.from_env(with_bot, dotenv=None).teams_app_id == MANIFEST_APP_ID
