"""A draft keeps the intake card's own fields only, each within its length: made-up fields
(thousands of `risk.*` answers, once 2.5 MB of them) are dropped, through the real app."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from bot.domain.intake_rules import MAX_CHOICE, MAX_TEXT, F, risk_field
from cards.verbs import Verb
from tests.test_intake_bot import click, start, stored

if TYPE_CHECKING:
    from tests.conftest import BotUnderTest


def _draft_size(inputs: dict[str, Any]) -> int:
    return len(json.dumps(inputs, ensure_ascii=False).encode())


async def test_made_up_risk_answers_are_not_stored(bot: BotUnderTest) -> None:
    referral_id, _ = await start(bot)
    # As many as fit in one request (the endpoint takes 512 KB); each click could add more.
    forged: dict[str, Any] = {risk_field(f"invented_{n}"): "y" * 10 for n in range(10_000)}
    forged[risk_field("weapons")] = "some"  # a real question of the matrix
    await click(bot, Verb.REFER_SAVE, {"referral_id": referral_id, "step": "risk", **forged})
    inputs = dict((await stored(bot, referral_id)).draft_inputs or {})
    assert [k for k in inputs if k.startswith("risk.")] == [risk_field("weapons")]
    assert _draft_size(inputs) < 1024


async def test_every_field_at_any_length_keeps_the_draft_small(bot: BotUnderTest) -> None:
    referral_id, _ = await start(bot)
    huge = "z" * 15_000
    typed = {field: huge for field in vars(F).values() if isinstance(field, str)}
    typed |= {f"s1.{name}": huge for name in ("name", "aliases", "address", "vulnerabilities")}
    typed |= {"s1.dob": huge, "s1.postcode": huge, "colour": huge, "s9.name": huge}
    await click(bot, Verb.REFER_SAVE, {"referral_id": referral_id, "step": "about", **typed})
    inputs = dict((await stored(bot, referral_id)).draft_inputs or {})
    assert len(inputs[F.TRIED_ALREADY]) == 2 * MAX_TEXT  # enough to say "too long"
    assert len(inputs[F.CATEGORY]) == MAX_CHOICE
    assert "colour" not in inputs and "s9.name" not in inputs
    assert _draft_size(inputs) < 64 * 1024


async def test_junk_an_older_draft_holds_is_dropped_at_the_next_click(bot: BotUnderTest) -> None:
    referral_id, _ = await start(bot)
    referral = await stored(bot, referral_id)
    junk = {risk_field(f"old_{n}"): "x" * 100 for n in range(2000)}
    async with bot.storage.unit_of_work() as uow:
        await uow.referrals.save(
            replace(referral, draft_inputs={**(referral.draft_inputs or {}), **junk})
        )
        await uow.commit()
    await click(bot, Verb.REFER_SAVE, {"referral_id": referral_id, "step": "about"})
    inputs = dict((await stored(bot, referral_id)).draft_inputs or {})
    assert not [k for k in inputs if k.startswith("risk.old_")]
