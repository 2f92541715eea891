"""The Teams menus the app package lists: derived from the router FEATURES build, each
scope's choice explicit, and the build refused when a scope would list more than Teams
allows (rather than cutting the list without a word)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.__main__ import MENU_LEFT_OUT, manifest_commands
from bot.app import build_router
from bot.kernel.guard import PRIVATE, SHARED, public
from bot.kernel.router import CommandSpec, Deps, Reply, Request, Router
from manifest import MAX_COMMANDS_PER_SCOPE, ManifestOptions, build_manifest

APP_ID = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b"


def menus(router: Router | None = None, **left_out: frozenset[str]) -> dict[str, list[str]]:
    """Scope → the command titles its menu lists, as the package would hold them."""
    commands = manifest_commands(router, left_out or MENU_LEFT_OUT)
    manifest: dict[str, Any] = build_manifest(ManifestOptions(app_id=APP_ID), commands)
    return {
        entry["scopes"][0]: [command["title"] for command in entry["commands"]]
        for entry in manifest["bots"][0]["commandLists"]
    }


async def _pause(request: Request, deps: Deps) -> Reply:
    return Reply(text="paused")


def with_pause(chats: frozenset[Any]) -> Router:
    """The app's router and one more command people could type: `pause`."""
    router = build_router()
    router.command(CommandSpec("pause", "Pause reminders for a case.", _pause, public(chats)))
    return router


def test_each_menu_lists_the_chosen_commands_in_features_order() -> None:
    assert menus() == {
        "personal": [
            "help",
            "whoami",
            "panel",
            "isa",
            "case",
            "refer",
            "referrals",
            "schedule",
            "agenda",
            "chair",
            "minutes",
            "actions",
        ],
        "team": [
            "help",
            "whoami",
            "setup",
            "isa",
            "case",
            "refer",
            "schedule",
            "agenda",
            "start",
            "chair",
            "end",
            "actions",
        ],
        "groupChat": [
            "help",
            "whoami",
            "isa",
            "case",
            "refer",
            "schedule",
            "agenda",
            "start",
            "chair",
            "end",
            "actions",
        ],
    }


def test_commands_hidden_from_the_manifest_stay_off_every_menu() -> None:
    router = build_router()
    hidden = {spec.name for spec in router.commands() if not spec.in_manifest}
    listed = {name for names in menus(router).values() for name in names}
    assert {"members", "audit", "sar", "erase", "stats", "overdue"} <= hidden
    assert not hidden & listed


def test_a_thirteenth_command_in_a_full_menu_fails_the_build() -> None:
    assert len(menus()["team"]) == MAX_COMMANDS_PER_SCOPE
    with pytest.raises(ValueError, match="the team command list would hold 13 commands"):
        menus(with_pause(SHARED))


def test_a_new_command_fails_the_build_until_someone_chooses_what_the_menu_lists() -> None:
    with pytest.raises(ValueError, match="the personal command list would hold 13 commands"):
        menus(with_pause(PRIVATE), personal=frozenset({"actions"}))

    chosen = menus(with_pause(PRIVATE), personal=frozenset({"end", "minutes"}))

    assert chosen["personal"][-3:] == ["chair", "actions", "pause"]
    assert len(chosen["personal"]) == MAX_COMMANDS_PER_SCOPE
    assert "end" in chosen["team"]


def test_leaving_out_a_command_the_menu_does_not_offer_is_refused() -> None:
    with pytest.raises(ValueError, match="start is left out of the personal menu"):
        manifest_commands(left_out={"personal": frozenset({"actions", "start"})})
    with pytest.raises(ValueError, match="members is left out of the team menu"):
        manifest_commands(left_out={"team": frozenset({"members"})})
