"""Who a coordinator chose in the people picker, from the team's roster.

Teams sends the picker's choice as the person's Entra object id only (the Agents Playground
sends its own user id). The Bot Connector
answers who a member of a team is (GET /v3/conversations/{team id}/members/{object id}),
with the turn's own connector client: the panel's team, whatever chat the coordinator
clicked in (TeamsInfo.get_team_member would ask the turn's conversation instead, which in a
personal chat holds only the caller and the bot).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from botbuilder.core import BotAdapter

from bot.kernel.ports import RosterMember

if TYPE_CHECKING:
    from botbuilder.core import TurnContext

log = logging.getLogger(__name__)

# The click waits this long at most for Teams to answer; then the name is typed instead.
LOOKUP_SECONDS = 5.0
MAX_NAME = 200


class TeamsRoster:
    """bot.kernel.ports.Roster for one turn: its connector client asks the team's roster."""

    def __init__(self, turn_context: TurnContext) -> None:
        self._turn = turn_context

    async def member(self, team_id: str, member_id: str) -> RosterMember | None:
        client = self._turn.turn_state.get(BotAdapter.BOT_CONNECTOR_CLIENT_KEY)
        if client is None or not team_id or not member_id:
            return None
        try:
            found = await asyncio.wait_for(
                client.conversations.get_conversation_member(team_id, member_id),
                LOOKUP_SECONDS,
            )
        except Exception as exc:
            # Any failure (not a member, refused, timed out): the coordinator types the
            # name. Neither id is logged: the team is the panel's, the person the
            # coordinator's choice; the kind of failure is enough to look into it.
            log.info("the team roster did not name the person chosen: %s", type(exc).__name__)
            return None
        extra = getattr(found, "additional_properties", None) or {}
        aad = str(getattr(found, "aad_object_id", None) or extra.get("aadObjectId") or "")
        name = " ".join(str(getattr(found, "name", "") or "").split())[:MAX_NAME]
        if not aad:
            return None
        return RosterMember(aad_object_id=aad.lower(), name=name)
