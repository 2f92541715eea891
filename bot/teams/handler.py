"""The bot: routes Teams activities to services and renders their replies.

Here lives the error boundary and the redelivery guard; no business rules and no SQL. Every
reply to a team channel or group chat passes the channel gate first.
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.core.teams import TeamsActivityHandler
from botbuilder.schema import (
    Activity,
    ActivityTypes,
)

from bot.domain.delivery import ConversationKind
from bot.domain.errors import DomainError, InvalidInput, NotAllowed
from bot.features.governance import membership
from bot.features.meetings import meeting_run
from bot.kernel import channel_gate, dispatch, notify, turns, views
from bot.kernel.router import Deps, ParsedCommand, Reply, Request, Router, parse_text
from bot.observability import logs, telemetry
from bot.teams import files, upload
from bot.teams.activity import caller_of, dedupe_key, message_text, where_of
from bot.teams.replies import to_activity, to_invoke_response
from bot.teams.roster import TeamsRoster
from cards.verbs import Verb
from cards.welcome import Installer, WelcomeView, render_welcome

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence

log = logging.getLogger(__name__)

UNEXPECTED = (
    "Sorry, something went wrong on my side and nothing was changed. Please try again; "
    "if it happens again, give your coordinator this reference: {ref}"
)
REPEATED = "I have already dealt with that."
NOTHING_TYPED = "Type help to see what I can do."
# Where on_turn leaves who is talking, resolved when the activity was recorded.
OPENED = "marac.opened"
# Where the turn's serialised conversation reference is kept (`_reference`).
REFERENCE = "marac.reference"


def error_reference() -> str:
    """A short id that links what a person saw to the log line."""
    return secrets.token_hex(4)


class MaracBot(TeamsActivityHandler):  # type: ignore[misc]
    """The Community MARAC bot's activity handler."""

    def __init__(
        self,
        router: Router,
        deps: Deps,
        *,
        after_turn: Callable[[], None] | None = None,
        file_hosts: Sequence[str] = files.DEFAULT_FILE_HOSTS,
        edit_shared_views: bool = True,
    ) -> None:
        super().__init__()
        self._edit_shared_views = edit_shared_views
        self._router = router
        self._deps = deps
        self._after_turn = after_turn
        self._file_hosts = tuple(file_hosts)

    async def on_turn(self, turn_context: TurnContext) -> None:
        """Handle the activity with its log context (every line logged during the turn
        carries it), its span and its latency recorded (bot.observability)."""
        activity: Activity = turn_context.activity
        key = dedupe_key(activity)
        turn, token = logs.begin_turn(key)
        started = time.perf_counter()
        try:
            with telemetry.turn_span() as span:
                await self._turn(turn_context, activity, key)
                telemetry.turn_done(turn, activity.type, time.perf_counter() - started, span)
        finally:
            logs.end_turn(token)

    async def _turn(self, turn_context: TurnContext, activity: Activity, key: str | None) -> None:
        """Drop redeliveries, then handle the activity inside the error boundary."""
        try:
            queued = notify.watch()
            opened = await self._open(turn_context, key)
            if opened is None:
                logs.note_outcome("redelivered")
                log.info("redelivered activity ignored")
                if activity.type == "invoke":
                    await self._send_invoke(turn_context, Reply(text=REPEATED))
                return
            turn_context.turn_state[OPENED] = opened
            await super().on_turn(turn_context)
            if self._after_turn is not None and queued():
                self._after_turn()  # cards the turn queued go out now, not at the next tick
        except Exception:  # the last line of defence: the person sees only a reference
            logs.note_outcome("failed")
            ref = error_reference()
            log.exception("turn failed [ref %s] (activity type %s)", ref, activity.type)
            await self._tell_failure(turn_context, ref)

    async def _tell_failure(self, turn_context: TurnContext, ref: str) -> None:
        text = UNEXPECTED.format(ref=ref)
        try:
            if turn_context.activity.type == "invoke":
                # HTTP 200: Teams shows an invoke response's message only then (on a 5xx it
                # shows its own "Something went wrong", without the reference).
                await self._send_invoke(turn_context, Reply(text=text))
            else:
                await turn_context.send_activity(text)
        except Exception:
            log.exception("could not tell the person about failure [ref %s]", ref)

    @staticmethod
    async def _send_invoke(turn_context: TurnContext, reply: Reply, status: int = 200) -> None:
        body = to_invoke_response(reply)
        await turn_context.send_activity(
            Activity(
                type=ActivityTypes.invoke_response,
                value=InvokeResponse(status=status, body=body),
            )
        )

    async def _open(self, turn_context: TurnContext, key: str | None) -> turns.Resolved | None:
        """Record the activity and resolve who is talking, in one unit of work; None for a
        redelivery."""
        activity = turn_context.activity
        reference = _reference(turn_context)
        where = where_of(activity)
        logs.note_where(where.kind.value, None)
        return await turns.open_turn(
            self._deps,
            caller_of(activity),
            where,
            reference,
            str(activity.service_url or ""),
            activity_key=key,
            installing=_installs_bot(activity),
        )

    async def _request(self, turn_context: TurnContext) -> tuple[Request, turns.Resolved]:
        activity = turn_context.activity
        caller = caller_of(activity)
        where = where_of(activity)
        resolved: turns.Resolved | None = turn_context.turn_state.get(OPENED)
        if resolved is None:
            resolved = await self._open(turn_context, None)
            assert resolved is not None  # no activity key, so never a redelivery
        where = replace(
            where,
            reference=_reference(turn_context),
            service_url=str(activity.service_url or ""),
        )
        logs.note_where(where.kind.value, resolved.panel.id if resolved.panel else None)
        request = Request(
            caller=caller,
            where=where,
            panel=resolved.panel,
            member=resolved.member,
            panels=resolved.panels,
            roster=TeamsRoster(turn_context),
        )
        return request, resolved

    async def _answer(self, run: Any) -> Reply:
        """Run a use case, turning a DomainError into its plain message."""
        try:
            reply: Reply = await run
        except DomainError as err:
            logs.note_outcome("refused" if isinstance(err, NotAllowed) else "declined")
            return Reply(text=err.message)
        return reply

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        """A typed command, or an Action.Submit carrying a verb in `value`."""
        request, resolved = await self._request(turn_context)
        value = turn_context.activity.value
        uploads = files.uploads_of(turn_context.activity)
        if uploads and request.where.kind is ConversationKind.PERSONAL:
            run = self._import_members(request, uploads[0])
        elif isinstance(value, dict) and "verb" in value:
            run = dispatch.run_verb(self._router, request, str(value["verb"]), value, self._deps)
        else:
            parsed = parse_text(message_text(turn_context.activity))
            if parsed is None:
                await turn_context.send_activity(NOTHING_TYPED)
                return
            if (
                request.member is None
                and resolved.invitations
                and request.where.kind is ConversationKind.PERSONAL
            ):
                # Someone invited to a panel and on none yet: the invitation comes first.
                parsed = ParsedCommand("panel", "")
            run = dispatch.run_command(self._router, request, parsed.name, parsed.args, self._deps)
        reply = await self._answer(run)
        reply = await channel_gate.guard_reply(self._deps, request, reply)
        await turn_context.send_activity(to_activity(reply))

    async def _import_members(self, request: Request, upload: files.FileUpload) -> Reply:
        """A CSV file sent in private chat: the coordinator's bulk import of members."""
        # The guard first: nobody makes the bot fetch anything without the right to import.
        agreement = await dispatch.permit(
            membership.IMPORT_ACCESS, request, self._deps, "members import"
        )
        if agreement is not None:
            return agreement
        if upload.file_type != "csv":
            raise InvalidInput("Send the members as a CSV file (.csv).")
        # FileRefused is a DomainError: its message never repeats the URL.
        text = await files.fetch_text(upload.download_url, hosts=self._file_hosts)
        reply = await membership.import_members(request, self._deps, text, upload.name)
        return dispatch.of_panel(request, reply)

    async def on_teams_meeting_start_event(
        self,
        meeting: Any,  # noqa: ARG002 (botbuilder's signature; the activity says which meeting)
        turn_context: TurnContext,
    ) -> None:
        """Teams says the panel's meeting started: post the confidentiality card."""
        await self._meeting_event(turn_context, meeting_run.meeting_started)

    async def on_teams_meeting_end_event(
        self,
        meeting: Any,  # noqa: ARG002 (botbuilder's signature; the activity says which meeting)
        turn_context: TurnContext,
    ) -> None:
        """Teams says the meeting ended: draft the minutes."""
        await self._meeting_event(turn_context, meeting_run.meeting_ended)

    async def _meeting_event(
        self,
        turn_context: TurnContext,
        handle: Callable[[Request, Deps], Awaitable[Reply]],
    ) -> None:
        request, _ = await self._request(turn_context)
        reply = await self._answer(handle(request, self._deps))
        reply = await channel_gate.guard_reply(self._deps, request, reply)
        if reply.card is not None or reply.text:
            await turn_context.send_activity(to_activity(reply))

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        """An Action.Execute click: the reply's card replaces the clicked card; or the
        answer to a file consent card (`_file_consent`).

        Handled here rather than in `on_adaptive_card_invoke`, whose response model cannot
        carry a text message. These are the only invokes the bot answers.
        """
        activity = turn_context.activity
        if activity.name == upload.FILE_CONSENT_INVOKE:
            return await self._file_consent(turn_context)
        if activity.name != "adaptiveCard/action":
            # No messaging extension, task module, tab or sign-in here, so
            # every other invoke is refused before botbuilder's dispatch, which would
            # deserialise a value that may not even be an object (a traceback) only to answer
            # 501. It is the request, not the bot, that is wrong: a 4xx says so.
            log.info("invoke refused: %r", str(activity.name)[:60])
            return _bad_invoke("NotSupported", "This bot does not handle that request.")
        value = activity.value if isinstance(activity.value, dict) else {}
        action = value.get("action")
        if not isinstance(action, dict) or action.get("type") != "Action.Execute":
            return _bad_invoke("BadRequest", "Not an Action.Execute")
        request, _ = await self._request(turn_context)
        data = action.get("data")
        data = data if isinstance(data, dict) else {}
        verb = action.get("verb")
        run = dispatch.run_verb(
            self._router, request, verb if isinstance(verb, str) else "", data, self._deps
        )
        reply = await self._answer(run)
        reply = await channel_gate.guard_reply(self._deps, request, reply, invoke=True)
        if (
            self._edit_shared_views
            and isinstance(reply, views.SharedReply)
            and reply.edit
            and reply.shared is not None
        ):
            await _edit_clicked(turn_context, reply.shared)
        return InvokeResponse(status=200, body=to_invoke_response(reply))

    async def _file_consent(self, turn_context: TurnContext) -> InvokeResponse:
        """A member allowed or declined a file the bot offered (Teams' file consent card):
        the feature's declared verb decides and uploads; Teams takes a bare 200, and what
        the member is told goes into their chat."""
        request, _ = await self._request(turn_context)
        data = upload.consent_answer(turn_context.activity.value)
        run = dispatch.run_verb(self._router, request, Verb.MINUTES_FILE.value, data, self._deps)
        reply = await self._answer(run)
        reply = await channel_gate.guard_reply(self._deps, request, reply)
        if reply.card is not None or reply.text:
            await turn_context.send_activity(to_activity(reply))
        return InvokeResponse(status=200)

    async def on_conversation_update_activity(self, turn_context: TurnContext) -> None:
        """Greet when the bot is installed in a chat or team; keep the reference."""
        activity = turn_context.activity
        if not activity.members_added:
            return
        if not _installs_bot(activity) and where_of(activity).kind is not ConversationKind.PERSONAL:
            return  # people joining a team are not greeted in the channel
        await self._greet(turn_context)

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        """Teams' installationUpdate 'add': same greeting as a conversation update."""
        await self._greet(turn_context)

    async def _greet(self, turn_context: TurnContext) -> None:
        request, resolved = await self._request(turn_context)
        once = f"greeted:{request.where.conversation_id}"[:400]
        if not await turns.first_time(self._deps, once):
            return
        in_channel = request.where.kind is not ConversationKind.PERSONAL
        # Whoever added the bot to a team or chat is the activity's `from`: the welcome
        # mentions them, so the others know who brought it in.
        sender = turn_context.activity.from_property
        installer = (
            Installer(str(sender.name or ""), str(sender.id or ""))
            if in_channel and sender is not None and _installs_bot(turn_context.activity)
            else None
        )
        view = WelcomeView(
            person_name=None if in_channel else (resolved.member.name if resolved.member else None),
            panel_name=resolved.panel.name if resolved.panel else None,
            in_channel=in_channel,
            place=PLACES.get(request.where.kind, "chat"),
            installer=installer,
        )
        reply = await channel_gate.guard_reply(
            self._deps, request, Reply(card=render_welcome(view))
        )
        await turn_context.send_activity(to_activity(reply))


# What the welcome calls the shared place it is posted in.
PLACES = {
    ConversationKind.CHANNEL: "channel",
    ConversationKind.MEETING: "meeting chat",
    ConversationKind.GROUP_CHAT: "chat",
}


def _reference(turn_context: TurnContext) -> dict[str, Any]:
    """The activity's conversation reference, serialised once a turn (msrest walks it value
    by value; it was done twice, once to record the turn and once for the request)."""
    kept: dict[str, Any] | None = turn_context.turn_state.get(REFERENCE)
    if kept is None:
        kept = TurnContext.get_conversation_reference(turn_context.activity).serialize()
        turn_context.turn_state[REFERENCE] = kept
    return kept


def _installs_bot(activity: Activity) -> bool:
    """Whether the activity is the bot being added to a team or chat."""
    if activity.type == "installationUpdate":
        return str(activity.action or "").startswith("add")
    if activity.type != "conversationUpdate":
        return False
    bot_id = activity.recipient.id if activity.recipient else None
    return any(member.id == bot_id for member in activity.members_added or [])


async def _edit_clicked(turn_context: TurnContext, card: dict[str, Any]) -> None:
    """Put a shared view's base over the message clicked, for everyone in the chat: their
    clients then ask for their own views again (bot.kernel.views). The clicker's answer does
    not wait on it failing."""
    message_id = turn_context.activity.reply_to_id
    if not message_id:
        return
    update = to_activity(Reply(card=card))
    update.id = message_id
    try:
        await turn_context.update_activity(update)
    except Exception:  # the edit is for the others; the clicker's own view still goes
        log.warning("could not edit the shared message for everyone", exc_info=True)


def _bad_invoke(code: str, message: str) -> InvokeResponse:
    """A 400 answer to an invoke the bot cannot act on."""
    return InvokeResponse(
        status=400,
        body={
            "statusCode": 400,
            "type": "application/vnd.microsoft.error",
            "value": {"code": code, "message": message},
        },
    )
