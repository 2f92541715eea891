"""The adversarial walk for shared views, as Teams delivers them: every kind of shared card
× every kind of caller × every kind of chat × own / other-agency / other-panel / made-up
ids, each asked as the caller's own automatic refresh (an `adaptiveCard/action` invoke, whose
answer Teams shows to that caller alone).

The walk's own seed (tests/security/test_adversarial_walk.py: two panels, every personal and
narrative field a marker). What the caller's answer may show is what they may see in their
private chat (the gate's one exemption, bot.kernel.channel_gate); whatever would be put over
the shared message for everyone (a base) may show no marker at all; nothing is queued.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

import pytest

from bot.app import build_router, make_deps
from bot.domain.common import FixedClock
from bot.domain.delivery import ConversationKind
from bot.domain.errors import DomainError
from bot.kernel import channel_gate, dispatch, turns, views
from bot.kernel.router import Reply, Request
from cards.verbs import VIEW_KEY, Verb
from tests.conftest import NOW
from tests.security.test_adversarial_walk import (
    A_ALL,
    CALLERS,
    CHATS,
    IDS,
    Seeded,
    forbidden,
    found,
    last_seq,
    outbox_after,
    restore,
    seed,
    where_for,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from bot.kernel.router import Router


@pytest.fixture(scope="module")
def walk_world(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Seeded, asyncio.AbstractEventLoop]]:
    loop = asyncio.new_event_loop()
    seeded = loop.run_until_complete(seed(tmp_path_factory.mktemp("views") / "walk.sqlite3"))
    yield seeded, loop
    loop.run_until_complete(seeded.storage.close())
    loop.close()


async def refresh_one(
    world: Seeded, router: Router, kind: str, who: str, chat: str, ids_of: str
) -> tuple[list[str], bool]:
    """One automatic refresh as the Teams handler runs it; the problems found, and whether
    the answer showed any of panel A's markers (so the walk is known to see something)."""
    await restore(world)
    deps = make_deps(uow=world.storage.unit_of_work, clock=FixedClock(NOW))
    caller = world.people[who]
    where = where_for(chat)
    resolved = await turns.open_turn(deps, caller, where, {"conversation": {"id": "x"}}, "")
    assert resolved is not None
    request = Request(caller, where, resolved.panel, resolved.member, panels=resolved.panels)
    ids = world.ids[ids_of].data if ids_of != "none" else {}
    data: dict[str, Any] = {**ids, VIEW_KEY: kind}
    seq = await last_seq(world)
    try:
        reply = await dispatch.run_verb(router, request, Verb.VIEW_REFRESH.value, data, deps)
    except DomainError as err:
        reply = Reply(text=err.message)
    reply = await channel_gate.guard_reply(deps, request, reply, invoke=True)
    place = f"{kind} refreshed by {who} in {chat} with {ids_of} ids"
    own = json.dumps({"text": reply.text, "card": reply.card}, ensure_ascii=False)
    problems = [
        f"{place}: their own view shows {m}"
        for m in found(own, forbidden(world, who, ConversationKind.PERSONAL))
    ]
    if isinstance(reply, views.SharedReply) and reply.edit:
        shared = json.dumps(reply.shared, ensure_ascii=False)
        everything = forbidden(world, "stranger", ConversationKind.CHANNEL)
        problems += [f"{place}: the base shows {m}" for m in found(shared, everything)]
    if await outbox_after(world, seq):
        problems.append(f"{place}: a refresh queued a message")
    return problems, bool(found(own, world.markers.of(*A_ALL)))


def test_every_shared_view_answers_each_caller_within_what_they_may_see(
    walk_world: tuple[Seeded, asyncio.AbstractEventLoop],
) -> None:
    seeded, loop = walk_world
    router = build_router()
    kinds = views.kinds_of(router)
    assert {"chair", "confidentiality", "action_captured", "meeting_ended"} <= set(kinds)
    assert {"agenda", "agenda_announcement"} <= set(kinds)
    problems: list[str] = []
    shown = 0
    for kind in [*kinds, "no-such-view"]:
        for who in CALLERS:
            for chat in CHATS:
                for ids_of in IDS:
                    found_here, saw = loop.run_until_complete(
                        refresh_one(seeded, router, kind, who, chat, ids_of)
                    )
                    problems += found_here
                    shown += saw
    assert not problems, "\n".join(sorted(set(problems)))
    # Not blind: some answers showed what their reader may see in full.
    assert shown > 0
