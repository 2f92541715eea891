"""Delivers queued cards (the outbox) through the Bot Connector, within Teams' limits.

Services queue rows in the same unit of work as the change they report; this dispatcher
claims due rows, sends each to its conversation, and records the outcome.

- **Claiming.** A claim marks rows SENDING, stamps `claimed_at` and commits in the very
  transaction that selected them (`FOR UPDATE SKIP LOCKED` on PostgreSQL), so dispatchers in
  several processes share the rows and never take the same one. On SQLite one dispatcher runs.
- **Lease.** A dispatcher finishes, retries or hands back every row within half the lease of
  claiming it. Rows still SENDING after a whole lease belonged to a dispatcher that stopped:
  they go back to the queue (at start, then once per lease) and are counted in the row's
  `resumed` and in `stats.resumed`. Only those among them already on the wire when the
  process died can arrive twice. Outcomes are written only while the row is still ours (same
  `resumed` count), so a late writer cannot undo another dispatcher's work.
- **Pacing.** Before each request the dispatcher waits for room in the conversation's and the
  tenant's sliding windows (bot.teams.ratelimit), which also spreads sends evenly; one
  conversation's rows go out in order, one at a time, and different conversations go
  concurrently, at most `concurrency` requests at once.
- **Failures.** What each answer means is one rule, `bot.domain.delivery.verdict`. 429
  waits Retry-After (seconds or an HTTP date) and holds the conversation; 412, 502, 503,
  504, network errors and timeouts back off exponentially with jitter; a wait that does not
  fit the lease sends the row back to the queue until then. 403 (blocked by the user,
  disabled by the admin) stops: the row is UNREACHABLE and the panel's coordinators are
  told, once a day at most. 404 (conversation not found) forgets the reference; for a
  member it opens a new 1:1 chat and sends again. A member with no chat yet gets one
  (`create_conversation`).
- **Timeouts.** A send that times out may still have reached Teams; it is retried (a post is
  not idempotent), and `stats.timeouts` counts these possible duplicates.
- **Recording.** Outcomes that finish together are written in one transaction (SQLite has one
  writer; group commits keep it from becoming the bottleneck). A row sent but whose outcome
  cannot be written stays SENDING, to be resumed and counted, rather than sent again unseen.
- **Updates.** A sent row remembers the message Teams made of it (`activity_id`, in
  `conversation_id`). A row whose payload says `update_of` (another row's id) puts its card
  over that message (`update_activity`) instead of posting a new one: it waits while the
  earlier row is still to be sent, and is dropped (recorded as sent, status 204) when that
  row never reached anyone or its chat is forgotten. A 404 on an update means the message
  is gone: the row is given up, and the chat is neither forgotten nor opened again.
- **Pacing across instances.** Each dispatcher paces itself: with several instances, give
  each its share of the tenant's limit (TEAMS_RATE_PER_TENANT); the connector's 429s, which
  are honoured, cover the rest.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import math
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import ConversationReference

from bot.domain.delivery import (
    INVITATION_KEY,
    NO_ANSWER,
    NOT_FOUND,
    THROTTLED,
    TIMED_OUT,
    ConversationKind,
    ConversationRef,
    DeliveryState,
    OutgoingDelivery,
    Request,
    Verdict,
    verdict,
)
from bot.domain.panel import Role
from bot.kernel import notify
from bot.kernel.ports import UnitOfWork
from bot.kernel.router import Deps, Reply
from bot.teams.conversations import InstallForUser, PanelEndpoint, PersonalChats, panel_endpoint
from bot.teams.ratelimit import Pacer, RateLimits, Slot, retry_after_seconds
from bot.teams.replies import to_activity
from cards.kit import build, heading, paragraph

log = logging.getLogger(__name__)


def _speed_up_connector_clients() -> None:
    """botbuilder builds a new connector client for every proactive message, and msrest's
    retry policy then computes its status list with 500,000 list look-ups (about 4 ms of CPU
    in the event loop, twice per message). The same list from a set: the result is unchanged.
    """
    retry = importlib.import_module("msrest.universal_http.requests").ClientRetryPolicy
    if not isinstance(retry.safe_codes, frozenset):
        retry.safe_codes = frozenset(retry.safe_codes)


_speed_up_connector_clients()

# What an update row records when there was nothing to replace.
NO_CONTENT = 204
# How long an update waits, after the earlier row's time, before it looks again.
UPDATE_WAIT = timedelta(seconds=5)
# Why a member could not be given a chat at all (no conversation of the panel is known).
NO_SERVICE_URL = "NoServiceUrl"
# Outcomes written in one transaction at most; how long a panel's service URL is trusted.
RECORD_BATCH = 200
ENDPOINT_TTL = 300.0
# How long a stopping dispatcher waits for outcomes already known to be written.
FLUSH_SECONDS = 5.0

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class DeliveryPolicy:
    """How the dispatcher claims, retries and waits; the defaults suit production."""

    # Rows SENDING for longer than this belonged to a dispatcher that stopped.
    lease: timedelta = timedelta(minutes=2)
    # Requests on the wire at once, across conversations.
    concurrency: int = 16
    # Rows claimed per transaction, and claimed but unfinished at most (run_forever).
    batch: int = 50
    max_in_flight: int = 100
    # Sends of one row before it is given up as FAILED.
    max_attempts: int = 8
    backoff_seconds: float = 1.0
    max_backoff_seconds: float = 60.0
    # A longer wait (pacing, Retry-After, back-off) sends the row back to the queue instead.
    max_inline_wait: float = 30.0
    # Longer than this without an answer is a timeout.
    send_timeout: float = 30.0

    @property
    def hold_seconds(self) -> float:
        """How long after its claim a row is sent, retried or handed back at the latest."""
        return self.lease.total_seconds() / 2


@dataclass
class DeliveryStats:
    """What one dispatcher did since it started; for logs, tests and the benchmark."""

    claimed: int = 0
    sent: int = 0
    retries: int = 0
    throttled: int = 0
    timeouts: int = 0
    failed: int = 0
    unreachable: int = 0
    requeued: int = 0
    resumed: int = 0
    chats_created: int = 0
    chats_recreated: int = 0
    lost_lease: int = 0
    unrecorded: int = 0
    updated: int = 0
    updates_dropped: int = 0


@dataclass(frozen=True)
class Answer:
    """The connector's answer to one request."""

    status: int
    code: str | None = None
    retry_after: float | None = None
    timed_out: bool = False
    # The id Teams gave the message it accepted (a send), if it said.
    activity_id: str | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass
class _Target:
    """Where a row goes: a stored conversation, or (ref None) a 1:1 chat still to open."""

    tenant: str
    personal: bool
    ref: ConversationRef | None
    # An update: the message to replace; or, until the earlier row is sent, when to look
    # again; or nothing left to replace (`gone`).
    replaces: str | None = None
    wait_until: datetime | None = None
    gone: bool = False


@dataclass
class _Claimed:
    delivery: OutgoingDelivery
    claimed_at: float  # the dispatcher's monotonic clock
    target: _Target | None  # None: nowhere to send it


@dataclass
class _Outcome:
    """A row's outcome waiting to be written with others in one transaction."""

    delivery: OutgoingDelivery
    apply: Callable[[OutgoingDelivery], None]
    also: Callable[[UnitOfWork, OutgoingDelivery], Awaitable[None]] | None
    recorded: asyncio.Future[bool]


# A row whose conversation could not be looked up (the database failed).
_UNKNOWN = _Target("", personal=False, ref=None)


class OutboxDispatcher:
    """Claims due outbox rows and sends them; one per process (SQLite) or several (PostgreSQL)."""

    def __init__(
        self,
        adapter: CloudAdapter,
        deps: Deps,
        app_id: str,
        *,
        limits: RateLimits | None = None,
        policy: DeliveryPolicy | None = None,
        install_for_user: InstallForUser | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
        batch: int | None = None,
    ) -> None:
        self.policy = policy or DeliveryPolicy()
        if batch is not None:
            self.policy = replace(self.policy, batch=batch)
        self.stats = DeliveryStats()
        self.pacer = Pacer(limits, clock=monotonic, sleep=sleep)
        self._adapter = adapter
        self._deps = deps
        self._app_id = app_id
        self._chats = PersonalChats(adapter, app_id, install_for_user=install_for_user)
        self._monotonic = monotonic
        self._sleep = sleep
        self._rng = rng or random.Random()  # noqa: S311  (jitter, not secrets)
        self._sends = asyncio.Semaphore(self.policy.concurrency)
        self._wake = asyncio.Event()
        self._tenants: dict[str, str] = {}
        self._endpoints: dict[str, tuple[float, PanelEndpoint]] = {}
        # The dispatcher's own writes take turns (SQLite has one writer anyway), and outcomes
        # are written in groups, one transaction for all that finished meanwhile.
        self._writing = asyncio.Lock()
        self._outcomes: list[_Outcome] = []
        self._recorder: asyncio.Task[None] | None = None
        self._lanes: dict[str, deque[_Claimed]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._in_flight = 0
        self._waiting_for_room = False
        self._refill_at = max(1, min(self.policy.batch, self.policy.max_in_flight) // 2)
        self._next_resume: float | None = None

    def kick(self) -> None:
        """Something was queued: look now rather than at the next tick."""
        self._wake.set()

    # The loops

    async def run_once(self) -> int:
        """Claim one batch of due rows and deliver them; returns how many were claimed."""
        await self._resume_when_due()
        claimed = await self._claim(self.policy.batch)
        try:
            while pending := [task for task in self._tasks if not task.done()]:
                await asyncio.gather(*pending)
        except BaseException:
            await self._stop_lanes()
            raise
        return claimed

    async def run_forever(self, idle_seconds: float = 2.0) -> None:
        """Deliver until cancelled: keep up to `max_in_flight` rows moving, sleep when idle.

        Cancelling stops the sends at once: rows not finished stay SENDING and are taken back
        after the lease (outcomes already known are written first, for up to FLUSH_SECONDS).
        """
        try:
            while True:
                room = self.policy.max_in_flight - self._in_flight
                # Claim in worthwhile batches: one transaction per freed row would keep the
                # database busy for nothing.
                want = min(self.policy.batch, room) if room >= self._refill_at else 0
                claimed = 0
                try:
                    await self._resume_when_due()
                    if want > 0:
                        claimed = await self._claim(want)
                except Exception:
                    log.exception("outbox pass failed; trying again shortly")
                if want > 0 and claimed == want:
                    continue  # there may be more due
                self._waiting_for_room = want <= 0
                try:
                    async with asyncio.timeout(idle_seconds):
                        await self._wake.wait()
                except TimeoutError:
                    pass
                self._wake.clear()
                self._waiting_for_room = False
        finally:
            await self._stop_lanes()

    async def _stop_lanes(self) -> None:
        lanes = list(self._tasks)
        for task in lanes:
            task.cancel()
        await asyncio.gather(*lanes, return_exceptions=True)
        # Outcomes already known are facts (a message went out): write them down if that
        # takes a moment, so a restart does not send them again. A killed process cannot.
        recorder = self._recorder
        if recorder is not None and not recorder.done():
            try:
                async with asyncio.timeout(FLUSH_SECONDS):
                    await asyncio.shield(recorder)
            except Exception:
                recorder.cancel()

    # Claiming and taking back

    async def _claim(self, limit: int) -> int:
        """Claim due rows, look up where each goes, and start delivering them."""
        now = self._deps.clock.now()
        async with self._writing, self._deps.uow() as uow:
            claimed = await uow.outbox.due(now, limit)
            for delivery in claimed:
                delivery.claim(now)
                await uow.outbox.save(delivery)
            await uow.commit()
        self.stats.claimed += len(claimed)
        if not claimed:
            return 0
        try:
            async with self._deps.uow() as uow:
                targets = [await self._target(uow, delivery) for delivery in claimed]
        except Exception:
            # They stay ours: handed back below by the lanes, or taken back after the lease.
            log.exception("could not look up where %d deliveries go", len(claimed))
            targets = [_UNKNOWN] * len(claimed)
        for delivery, target in zip(claimed, targets, strict=True):
            self._admit(delivery, target)
        return len(claimed)

    async def _resume_when_due(self) -> None:
        if self._next_resume is not None and self._monotonic() < self._next_resume:
            return
        self._next_resume = self._monotonic() + self.policy.lease.total_seconds()
        await self.resume_abandoned()

    async def resume_abandoned(self) -> int:
        """Put back in the queue the rows a stopped dispatcher left SENDING; returns how many."""
        cutoff = self._deps.clock.now() - self.policy.lease
        total = 0
        while True:
            async with self._writing, self._deps.uow() as uow:
                rows = await uow.outbox.abandoned(cutoff, 100)
                for delivery in rows:
                    delivery.resume()
                    await uow.outbox.save(delivery)
                await uow.commit()
            total += len(rows)
            if len(rows) < 100:
                break
        if total:
            self.stats.resumed += total
            log.warning(
                "resumed %d deliveries a stopped dispatcher left sending; "
                "those it had already sent will arrive twice",
                total,
            )
        return total

    # Lanes: one conversation's rows in order, conversations side by side

    def _admit(self, delivery: OutgoingDelivery, target: _Target | None) -> None:
        if delivery.recipient_member_id is not None:
            key = f"{delivery.panel_id}:member:{delivery.recipient_member_id}"
        else:
            key = f"{delivery.panel_id}:conversation:{delivery.payload.get('conversation_id')}"
        lane = self._lanes.get(key)
        if lane is None:
            lane = self._lanes[key] = deque()
            task = asyncio.create_task(self._run_lane(key, lane))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        lane.append(_Claimed(delivery, self._monotonic(), target))
        self._in_flight += 1

    async def _run_lane(self, key: str, lane: deque[_Claimed]) -> None:
        try:
            while lane:
                claimed = lane[0]
                try:
                    await self._deliver(claimed)
                except Exception:
                    log.exception("delivery %s failed unexpectedly", claimed.delivery.id)
                    await self._hand_back_after_error(claimed.delivery)
                finally:
                    lane.popleft()
                    self._in_flight -= 1
                    room = self.policy.max_in_flight - self._in_flight
                    if self._waiting_for_room and room >= self._refill_at:
                        self._wake.set()
        finally:
            if self._lanes.get(key) is lane:
                del self._lanes[key]

    # One row

    async def _deliver(self, claimed: _Claimed) -> None:
        delivery = claimed.delivery
        deadline = claimed.claimed_at + self.policy.hold_seconds
        target = claimed.target
        if target is _UNKNOWN:
            raise RuntimeError("the delivery's conversation could not be looked up")
        if target is None:
            log.warning("delivery %s has no conversation to go to", delivery.id)
            await self._give_up(delivery, Answer(NOT_FOUND, NO_SERVICE_URL), unreachable=True)
            return
        if delivery.update_of is not None:
            await self._deliver_update(claimed, target)
            return
        reply = Reply(text=delivery.payload.get("text"), card=delivery.payload.get("card"))
        posts = 0
        failures = 0
        recreated = False
        last: Answer | None = None
        while True:
            conversation = target.ref.conversation_id if target.ref is not None else None
            room = await self.pacer.acquire(
                conversation, target.tenant, max_wait=max(0.0, deadline - self._monotonic())
            )
            if not isinstance(room, Slot):
                # The conversation is full for longer than we may hold the row.
                await self._requeue(delivery, last, room, release=posts == 0)
                return
            opening = target.ref is None
            try:
                async with self._sends:
                    if target.ref is None:
                        answer, target.ref = await self._open_chat(delivery)
                    else:
                        if posts:
                            delivery.try_again()
                        posts += 1
                        answer = await self._post(target.ref.reference, reply)
            finally:
                self.pacer.done(room)
            last = answer
            if answer.ok and opening:
                self.stats.chats_created += 1
                continue
            if answer.ok:
                assert target.ref is not None
                await self._mark_sent(delivery, answer, target.ref.conversation_id)
                return
            request = Request.OPEN_CHAT if opening else Request.SEND
            found = verdict(answer.status, request, personal=target.personal, reopened=recreated)
            if found is Verdict.REOPEN_CHAT:
                # Teams forgot the chat: forget it too, open a new one and send again.
                await self._forget(target.ref)
                target.ref = None
                recreated = True
                self.stats.chats_recreated += 1
                continue
            if found is Verdict.CHAT_GONE:
                await self._forget(target.ref)
            if found in (Verdict.CHAT_GONE, Verdict.UNREACHABLE):
                await self._give_up(delivery, answer, unreachable=True)
                return
            failures += 1
            if answer.timed_out:
                self.stats.timeouts += 1
            if found is Verdict.GIVE_UP:
                await self._give_up(delivery, answer, unreachable=False)
                return
            if max(failures, delivery.attempts) >= self.policy.max_attempts:
                await self._give_up(delivery, answer, unreachable=False)
                return
            wait = self._backoff(failures)
            if answer.status == THROTTLED:
                self.stats.throttled += 1
                if answer.retry_after is not None:
                    wait = answer.retry_after
                self.pacer.hold(conversation, target.tenant, wait)
            if wait > self.policy.max_inline_wait or self._monotonic() + wait > deadline:
                await self._requeue(delivery, answer, wait, release=False)
                return
            self.stats.retries += 1
            await self._sleep(wait)

    async def _deliver_update(self, claimed: _Claimed, placeholder: _Target) -> None:
        """Put the row's card over the message an earlier row became."""
        delivery = claimed.delivery
        deadline = claimed.claimed_at + self.policy.hold_seconds
        assert delivery.update_of is not None
        async with self._deps.uow() as uow:
            target = await self._update_target(
                uow, delivery, delivery.update_of, placeholder.tenant
            )
        if target.gone or target.ref is None or target.replaces is None:
            if target.wait_until is not None:
                wait = max(1.0, (target.wait_until - self._now()).total_seconds())
                await self._requeue(delivery, None, wait, release=True)
                return
            self.stats.updates_dropped += 1
            await self._finish(delivery, lambda d: d.sent(NO_CONTENT, self._now()))
            return
        reply = Reply(text=delivery.payload.get("text"), card=delivery.payload.get("card"))
        conversation = target.ref.conversation_id
        puts = 0
        failures = 0
        last: Answer | None = None
        while True:
            room = await self.pacer.acquire(
                conversation, target.tenant, max_wait=max(0.0, deadline - self._monotonic())
            )
            if not isinstance(room, Slot):
                await self._requeue(delivery, last, room, release=puts == 0)
                return
            try:
                async with self._sends:
                    if puts:
                        delivery.try_again()
                    puts += 1
                    answer = await self._put(target.ref.reference, target.replaces, reply)
            finally:
                self.pacer.done(room)
            last = answer
            if answer.ok:
                self.stats.updated += 1
                await self._mark_sent(
                    delivery, replace(answer, activity_id=target.replaces), conversation
                )
                return
            found = verdict(answer.status, Request.UPDATE)
            if found is Verdict.UNREACHABLE:
                await self._give_up(delivery, answer, unreachable=True)
                return
            failures += 1
            if answer.timed_out:
                self.stats.timeouts += 1
            if found is Verdict.GIVE_UP:
                # 404: the message (or its chat) is gone; nothing to replace.
                await self._give_up(delivery, answer, unreachable=False)
                return
            if max(failures, delivery.attempts) >= self.policy.max_attempts:
                await self._give_up(delivery, answer, unreachable=False)
                return
            wait = self._backoff(failures)
            if answer.status == THROTTLED:
                self.stats.throttled += 1
                if answer.retry_after is not None:
                    wait = answer.retry_after
                self.pacer.hold(conversation, target.tenant, wait)
            if wait > self.policy.max_inline_wait or self._monotonic() + wait > deadline:
                await self._requeue(delivery, answer, wait, release=False)
                return
            self.stats.retries += 1
            await self._sleep(wait)

    def _backoff(self, failures: int) -> float:
        """Exponential back-off with jitter: about base, 2 × base, 4 × base, … up to the cap."""
        doubling: float = 2.0 ** (failures - 1)
        ceiling = min(self.policy.max_backoff_seconds, self.policy.backoff_seconds * doubling)
        return ceiling * (0.5 + self._rng.random())

    def _now(self) -> datetime:
        return self._deps.clock.now()

    async def _tenant(self, uow: UnitOfWork, panel_id: str) -> str:
        tenant = self._tenants.get(panel_id)
        if tenant is None:
            panel = await uow.panels.get(panel_id)
            tenant = panel.tenant_id if panel is not None else panel_id
            self._tenants[panel_id] = tenant
        return tenant

    async def _endpoint(self, uow: UnitOfWork, panel_id: str) -> PanelEndpoint | None:
        """The panel's service URL and bot account, looked up at most every few minutes."""
        cached = self._endpoints.get(panel_id)
        if cached is not None and cached[0] > self._monotonic():
            return cached[1]
        panel = await uow.panels.get(panel_id)
        endpoint = await panel_endpoint(uow, panel) if panel is not None else None
        if endpoint is not None:  # none yet may change with the next turn: look again then
            self._endpoints[panel_id] = (self._monotonic() + ENDPOINT_TTL, endpoint)
        return endpoint

    async def _target(self, uow: UnitOfWork, delivery: OutgoingDelivery) -> _Target | None:
        """Where a row goes; None when there is no way to send it."""
        tenant = await self._tenant(uow, delivery.panel_id)
        if delivery.update_of is not None:
            # Looked up again just before the update goes (the earlier row may be ahead of
            # it in the same lane, about to be sent).
            return _Target(tenant, personal=False, ref=None)
        if delivery.recipient_member_id is not None:
            ref = await uow.conversations.personal(delivery.panel_id, delivery.recipient_member_id)
            if ref is None and await self._endpoint(uow, delivery.panel_id) is None:
                return None
            return _Target(tenant, personal=True, ref=ref)
        conversation_id = delivery.payload.get("conversation_id")
        ref = (
            await uow.conversations.by_conversation(delivery.panel_id, conversation_id)
            if isinstance(conversation_id, str)
            else None
        )
        if ref is None:
            return None
        tenant = _tenant_of(ref.reference) or tenant
        return _Target(tenant, personal=ref.kind is ConversationKind.PERSONAL, ref=ref)

    async def _update_target(
        self, uow: UnitOfWork, delivery: OutgoingDelivery, earlier_id: str, tenant: str
    ) -> _Target:
        """Where an update goes: the message the earlier row became, once it is sent."""
        earlier = await uow.outbox.get(delivery.panel_id, earlier_id)
        if earlier is None or earlier.state in (DeliveryState.FAILED, DeliveryState.UNREACHABLE):
            return _Target(tenant, personal=False, ref=None, gone=True)
        if earlier.state is not DeliveryState.SENT:
            later = max(earlier.not_before, self._now()) + UPDATE_WAIT
            return _Target(tenant, personal=False, ref=None, wait_until=later)
        if earlier.activity_id is None or earlier.conversation_id is None:
            return _Target(tenant, personal=False, ref=None, gone=True)  # sent before 0006
        ref = await uow.conversations.by_conversation(delivery.panel_id, earlier.conversation_id)
        if ref is None:
            return _Target(tenant, personal=False, ref=None, gone=True)
        return _Target(
            _tenant_of(ref.reference) or tenant,
            personal=ref.kind is ConversationKind.PERSONAL,
            ref=ref,
            replaces=earlier.activity_id,
        )

    # Requests to the connector

    async def _post(self, reference: dict[str, Any], reply: Reply) -> Answer:
        failures: list[Exception] = []

        names: list[str] = []

        async def send(turn_context: TurnContext) -> None:
            # The adapter hands errors inside the turn to on_turn_error and swallows them,
            # so the outcome is captured here.
            try:
                response = await turn_context.send_activity(to_activity(reply))
            except Exception as error:
                failures.append(error)
            else:
                name = getattr(response, "id", None)
                if isinstance(name, str) and name:
                    names.append(name)

        try:
            async with asyncio.timeout(self.policy.send_timeout):
                await self._adapter.continue_conversation(
                    ConversationReference().deserialize(reference), send, self._app_id
                )
        except TimeoutError:
            return Answer(TIMED_OUT, timed_out=True)
        except Exception as error:
            failures.append(error)
        if failures:
            return self._answer_of(failures[0])
        return Answer(201, activity_id=names[0] if names else None)

    async def _put(self, reference: dict[str, Any], activity_id: str, reply: Reply) -> Answer:
        """Replace the message `activity_id` in the reference's conversation."""
        failures: list[Exception] = []

        async def update(turn_context: TurnContext) -> None:
            activity = to_activity(reply)
            activity.id = activity_id
            try:
                await turn_context.update_activity(activity)
            except Exception as error:
                failures.append(error)

        try:
            async with asyncio.timeout(self.policy.send_timeout):
                await self._adapter.continue_conversation(
                    ConversationReference().deserialize(reference), update, self._app_id
                )
        except TimeoutError:
            return Answer(TIMED_OUT, timed_out=True)
        except Exception as error:
            failures.append(error)
        return self._answer_of(failures[0]) if failures else Answer(200)

    async def _open_chat(self, delivery: OutgoingDelivery) -> tuple[Answer, ConversationRef | None]:
        """Open a 1:1 chat for the row's member and store its reference."""
        assert delivery.recipient_member_id is not None
        async with self._deps.uow() as uow:
            member = await uow.members.get(delivery.panel_id, delivery.recipient_member_id)
            endpoint = await self._endpoint(uow, delivery.panel_id)
        # An invited member gets their invitation and nothing else until they join.
        uninvited = (
            member is not None and member.invited and not delivery.key.startswith(INVITATION_KEY)
        )
        if member is None or not member.active or uninvited or endpoint is None:
            return Answer(NOT_FOUND, NO_SERVICE_URL), None
        try:
            async with asyncio.timeout(self.policy.send_timeout):
                conversation_id = await self._chats.create(endpoint, member)
        except TimeoutError:
            return Answer(TIMED_OUT, timed_out=True), None
        except Exception as error:
            return self._answer_of(error), None
        ref = ConversationRef(
            panel_id=member.panel_id,
            kind=ConversationKind.PERSONAL,
            conversation_id=conversation_id,
            member_id=member.id,
            service_url=endpoint.service_url,
            reference=self._chats.reference(endpoint, member, conversation_id),
            updated_at=self._now(),
        )
        async with self._writing, self._deps.uow() as uow:
            await uow.conversations.save(ref)
            await uow.commit()
        log.info("opened a 1:1 chat with member %s", member.id)
        return Answer(201), ref

    def _answer_of(self, error: Exception) -> Answer:
        """The connector's answer behind an adapter error; NO_ANSWER when there was none."""
        response = getattr(error, "response", None)
        status = getattr(response, "status_code", None) or getattr(response, "status", None)
        if not isinstance(status, int):
            return Answer(NO_ANSWER, code=type(error).__name__)
        headers = getattr(response, "headers", None) or {}
        details = getattr(getattr(error, "error", None), "error", None)
        code = getattr(details, "code", None)
        return Answer(
            status,
            code=code if isinstance(code, str) else None,
            retry_after=retry_after_seconds(headers.get("Retry-After"), self._now()),
        )

    # Recording outcomes (only while the row is still ours)

    async def _finish(
        self,
        delivery: OutgoingDelivery,
        apply: Callable[[OutgoingDelivery], None],
        *,
        also: Callable[[UnitOfWork, OutgoingDelivery], Awaitable[None]] | None = None,
    ) -> bool:
        """Record a row's outcome (with whatever `also` queues alongside); False when the row
        is no longer ours to record. Outcomes that finish together share one transaction."""
        recorded: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._outcomes.append(_Outcome(delivery, apply, also, recorded))
        if self._recorder is None or self._recorder.done():
            self._recorder = asyncio.create_task(self._record_outcomes())
        return await recorded

    async def _record_outcomes(self) -> None:
        while self._outcomes:
            batch = self._outcomes[:RECORD_BATCH]
            del self._outcomes[:RECORD_BATCH]
            try:
                await self._record(batch)
            except Exception as error:
                if len(batch) == 1:
                    _settle(batch[0].recorded, error)
                    continue
                # One bad row must not cost the others their outcome.
                log.warning("recording %d outcomes together failed; one by one now", len(batch))
                for outcome in batch:
                    try:
                        await self._record([outcome])
                    except Exception as single:
                        _settle(outcome.recorded, single)

    async def _record(self, batch: list[_Outcome]) -> None:
        results = []
        async with self._writing, self._deps.uow() as uow:
            for outcome in batch:
                delivery = outcome.delivery
                stored = await uow.outbox.get(delivery.panel_id, delivery.id)
                if (
                    stored is None
                    or stored.state is not DeliveryState.SENDING
                    or stored.resumed != delivery.resumed
                ):
                    # Another dispatcher took it back (we held it past the lease): leave it be.
                    self.stats.lost_lease += 1
                    log.warning("delivery %s is no longer ours; outcome not recorded", delivery.id)
                    results.append(False)
                    continue
                stored.attempts = delivery.attempts
                outcome.apply(stored)
                await uow.outbox.save(stored)
                if outcome.also is not None:
                    await outcome.also(uow, stored)
                results.append(True)
            await uow.commit()
        for outcome, result in zip(batch, results, strict=True):
            _settle(outcome.recorded, result)

    async def _mark_sent(
        self, delivery: OutgoingDelivery, answer: Answer, conversation_id: str | None = None
    ) -> None:
        now = self._now()

        def sent(row: OutgoingDelivery) -> None:
            row.sent(
                answer.status, now, activity_id=answer.activity_id, conversation_id=conversation_id
            )

        try:
            recorded = await self._finish(delivery, sent)
        except Exception:
            # Delivered but not written down: handing it back would send it again unseen.
            # Left SENDING, it is taken back after the lease and counted as resumed.
            self.stats.unrecorded += 1
            log.exception("delivery %s was sent but could not be recorded", delivery.id)
            return
        if recorded:
            self.stats.sent += 1

    async def _give_up(
        self, delivery: OutgoingDelivery, answer: Answer, *, unreachable: bool
    ) -> None:
        also = None
        if (
            unreachable
            and delivery.recipient_member_id is not None
            and answer.code != NO_SERVICE_URL
        ):
            also = self._tell_coordinators
        recorded = await self._finish(
            delivery,
            lambda d: d.give_up(answer.status, unreachable=unreachable),
            also=also,
        )
        if not recorded:
            return
        if unreachable:
            self.stats.unreachable += 1
        else:
            self.stats.failed += 1
        log.warning("delivery %s given up (%s %s)", delivery.id, answer.status, answer.code or "")

    async def _requeue(
        self, delivery: OutgoingDelivery, answer: Answer | None, wait: float, *, release: bool
    ) -> None:
        """Back to the queue for `wait` seconds: untried (release) or after a failure."""
        not_before = self._now() + timedelta(seconds=math.ceil(wait * 1000) / 1000)
        status = answer.status if answer is not None else NO_ANSWER
        if release:
            recorded = await self._finish(delivery, lambda d: d.release(not_before))
        else:
            recorded = await self._finish(delivery, lambda d: d.retry_later(status, not_before))
        if recorded:
            self.stats.requeued += 1

    async def _hand_back_after_error(self, delivery: OutgoingDelivery) -> None:
        try:
            wait = self._backoff(max(1, delivery.attempts))
            await self._requeue(delivery, Answer(NO_ANSWER), wait, release=False)
        except Exception:
            log.exception("delivery %s stays sending until its lease runs out", delivery.id)

    async def _forget(self, ref: ConversationRef | None) -> None:
        if ref is None:
            return
        async with self._writing, self._deps.uow() as uow:
            await uow.conversations.delete(ref.panel_id, ref.id)
            await uow.commit()
        log.info("forgot conversation %s, which Teams no longer knows", ref.id)

    async def _tell_coordinators(self, uow: UnitOfWork, delivery: OutgoingDelivery) -> None:
        """Queue, in the same unit of work, a notice to the panel's coordinators that the
        member cannot be reached: their name only, once a day at most."""
        member_id = delivery.recipient_member_id
        panel = await uow.panels.get(delivery.panel_id)
        if member_id is None or panel is None:
            return
        member = await uow.members.get(panel.id, member_id)
        if member is None:
            return
        now = self._now()
        day = now.astimezone(ZoneInfo(panel.timezone)).date().isoformat()
        card = unreachable_card(member.name)
        for coordinator in await uow.members.all(panel.id):
            if coordinator.id == member.id or not coordinator.has(Role.COORDINATOR):
                continue
            await notify.card_to_member(
                uow,
                panel_id=panel.id,
                member_id=coordinator.id,
                card=card,
                key=f"unreachable:{member.id}:{day}:{coordinator.id}",
                now=now,
            )


def unreachable_card(name: str) -> dict[str, Any]:
    """What the coordinators are told: the member's name and nothing else about them."""
    return build(
        [
            *heading("A member cannot be reached in Teams"),
            paragraph(
                f"I can't send messages to {name}: they have blocked the bot, or it has been "
                "turned off for them. Cards for them are not being delivered; please contact "
                "them another way."
            ),
        ],
        fallback=f"I can't send messages to {name} in Teams.",
    )


def _settle(future: asyncio.Future[bool], result: bool | BaseException) -> None:
    """Hand a recorded outcome to its lane (unless the lane stopped waiting)."""
    if future.done():
        return
    if isinstance(result, BaseException):
        future.set_exception(result)
    else:
        future.set_result(result)


def _tenant_of(reference: dict[str, Any]) -> str | None:
    conversation = reference.get("conversation")
    tenant = conversation.get("tenantId") if isinstance(conversation, dict) else None
    return tenant if isinstance(tenant, str) and tenant else None
