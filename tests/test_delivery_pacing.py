"""The dispatcher keeps within Teams' limits by itself: the connector never has to say 429.

The fake connector enforces the same windows on its own count (scaled down so the tests are
short); the proof is its number of 429s, not a stopwatch.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from bot.teams.ratelimit import RateLimits, Window
from tests.support import cards
from tests.support.connector import ConnectorLimits, deliver, delivery_rig

if TYPE_CHECKING:
    from pathlib import Path

    from bot.domain.common import FixedClock

# Teams' shape (a short window and a longer one per chat, one per tenant), made small.
CONNECTOR = ConnectorLimits(
    per_conversation=((3, 0.3), (4, 0.6)),
    per_tenant=((8, 0.4),),
    whole_seconds=False,
)
PACED = RateLimits(
    per_conversation=(Window(3, 0.3), Window(4, 0.6)),
    per_tenant=(Window(8, 0.4),),
)
UNPACED = RateLimits(
    per_conversation=PACED.per_conversation, per_tenant=PACED.per_tenant, pace=False
)


async def fan_out(
    tmp_path: Path, clock: FixedClock, limits: RateLimits
) -> tuple[int, Counter[str], list[list[str]]]:
    """Three SPOCs, seven reminders each; returns the connector's 429s, what arrived, and the
    order it arrived in per chat."""
    async with delivery_rig(tmp_path, clock, spocs=3, coordinators=0, limits=CONNECTOR) as rig:
        for n in range(7):
            for spoc in rig.spocs:
                await rig.queue(spoc, f"{spoc.name}: reminder {n}")
        await deliver(rig.dispatcher(limits=limits))
        arrived = Counter(cards.body_text(activity) for activity in rig.fake.sent)
        orders = [
            [
                cards.body_text(a)
                for a in rig.fake.to_conversation(rig.chat_of(spoc).conversation_id)
            ]
            for spoc in rig.spocs
        ]
        return rig.fake.throttled, arrived, orders


async def test_a_paced_fan_out_never_meets_a_429_and_delivers_everything_once_in_order(
    tmp_path: Path, clock: FixedClock
) -> None:
    throttled, arrived, orders = await fan_out(tmp_path, clock, PACED)

    assert throttled == 0
    assert len(arrived) == 21
    assert set(arrived.values()) == {1}
    for order in orders:
        assert order == sorted(order, key=lambda text: int(text.rsplit(" ", 1)[1]))


async def test_without_pacing_the_connector_answers_429s_and_retry_after_still_delivers_once(
    tmp_path: Path, clock: FixedClock
) -> None:
    throttled, arrived, _ = await fan_out(tmp_path, clock, UNPACED)

    assert throttled > 0
    assert len(arrived) == 21
    assert set(arrived.values()) == {1}
