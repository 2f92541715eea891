"""Turn latency under load: Teams activity JSON posted to a running bot, timed.

Each simulated conversation is one member's personal chat. A phase runs every conversation
at once, each posting its requests one after another (so `conversations` requests are in
flight at any moment), and records each request's round trip: for a message turn that
includes the reply's POST to the connector, which the adapter awaits before answering.
Phases for the targets compared (the bot and its echo baseline, or two databases) alternate
round by round, and which goes first alternates too, so a noisy neighbour on the machine
slows both alike.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import aiohttp

from bot.bench.seed import BENCH_TENANT, BenchMember

if TYPE_CHECKING:
    from collections.abc import Sequence

BOT_ACCOUNT = {"id": "28:bench-bot", "name": "Community MARAC"}
_ids = itertools.count(1)


def message(service_url: str, member: BenchMember, text: str) -> dict[str, Any]:
    """A message typed in the member's personal chat with the bot."""
    return {**_base(service_url, member), "type": "message", "text": text}


def invoke(
    service_url: str, member: BenchMember, verb: str, data: dict[str, Any]
) -> dict[str, Any]:
    """An Action.Execute click on a card in the member's personal chat."""
    return {
        **_base(service_url, member),
        "type": "invoke",
        "name": "adaptiveCard/action",
        "value": {"action": {"type": "Action.Execute", "verb": verb, "data": data}},
    }


def _base(service_url: str, member: BenchMember) -> dict[str, Any]:
    return {
        "id": f"bench-{next(_ids)}-{time.monotonic_ns()}",
        "channelId": "msteams",
        "serviceUrl": service_url,
        "timestamp": "2026-01-01T10:00:00.000Z",
        "from": {
            "id": f"29:{member.aad_object_id}",
            "aadObjectId": member.aad_object_id,
            "name": member.name,
        },
        "recipient": dict(BOT_ACCOUNT),
        "conversation": {
            "id": f"a:bench-{member.aad_object_id}",
            "conversationType": "personal",
            "tenantId": BENCH_TENANT,
        },
        "channelData": {"tenant": {"id": BENCH_TENANT}},
        "locale": "en-GB",
    }


@dataclass(frozen=True)
class Target:
    """Where requests go and what they say: a bot's endpoint and a member list."""

    name: str
    url: str
    members: Sequence[BenchMember]
    text: str = "agenda"
    verb: str = "command"
    data: dict[str, Any] = field(default_factory=lambda: {"command": "agenda"})


@dataclass
class Samples:
    """Round trips in seconds, by kind ("message", "invoke"), and what went wrong."""

    by_kind: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def add(self, kind: str, seconds: float) -> None:
        self.by_kind.setdefault(kind, []).append(seconds)

    def all(self) -> list[float]:
        return [s for values in self.by_kind.values() for s in values]


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank percentile (q in 0..100); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


async def post(
    session: aiohttp.ClientSession, url: str, activity: dict[str, Any]
) -> tuple[float, int, Any]:
    """POST one activity; its round trip in seconds, the status and the JSON body if any."""
    started = time.perf_counter()
    async with session.post(url, json=activity) as response:
        body = await response.read()
        status = response.status
    elapsed = time.perf_counter() - started
    parsed: Any = None
    if body and response.content_type == "application/json":
        parsed = json.loads(body)
    return elapsed, status, parsed


def _ok(kind: str, status: int, body: Any) -> bool:
    if kind == "message":
        return status in (200, 201)
    return status == 200 and isinstance(body, dict) and body.get("statusCode") == 200


async def _conversation(
    session: aiohttp.ClientSession,
    target: Target,
    member: BenchMember,
    service_url: str,
    kinds: Sequence[str],
    samples: Samples,
) -> None:
    for kind in kinds:
        activity = (
            message(service_url, member, target.text)
            if kind == "message"
            else invoke(service_url, member, target.verb, target.data)
        )
        try:
            elapsed, status, body = await post(session, target.url, activity)
        except (aiohttp.ClientError, TimeoutError) as error:
            samples.errors.append(f"{target.name} {kind}: {type(error).__name__}")
            continue
        if _ok(kind, status, body):
            samples.add(kind, elapsed)
        else:
            samples.errors.append(f"{target.name} {kind}: HTTP {status} {str(body)[:120]}")


async def phase(
    session: aiohttp.ClientSession,
    target: Target,
    service_url: str,
    kinds: Sequence[str],
    samples: Samples,
    conversations: int,
) -> None:
    """Every conversation at once, each running through `kinds` in turn."""
    members = list(target.members)[:conversations]
    await asyncio.gather(
        *(_conversation(session, target, member, service_url, kinds, samples) for member in members)
    )


async def interleaved(
    targets: Sequence[Target],
    service_url: str,
    *,
    rounds: int,
    kinds: Sequence[str],
    conversations: int,
    warm_up: Sequence[str] = ("message", "invoke"),
) -> dict[str, Samples]:
    """Alternate phases of each target, `rounds` times; samples by target name.

    A warm-up phase per target first (not recorded): each conversation's first turn stores
    its reference, and the coordinator's first `agenda` builds and saves the agenda.
    """
    samples = {target.name: Samples() for target in targets}
    connector = aiohttp.TCPConnector(limit=conversations * 2, force_close=False)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        for target in targets:
            discard = Samples()
            await phase(session, target, service_url, warm_up, discard, conversations)
            if discard.errors:
                samples[target.name].errors.extend(discard.errors)
        for n in range(rounds):
            order = list(targets) if n % 2 == 0 else list(reversed(targets))
            for target in order:
                await phase(
                    session, target, service_url, kinds, samples[target.name], conversations
                )
    return samples
