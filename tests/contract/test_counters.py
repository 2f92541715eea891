"""Reference numbers from a counter per panel, kind and year (issue 15): never given twice,
never out of order, safe when several are taken at once, on every backend."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from storage import open_storage
from tests.contract import builders as make
from tests.contract.test_migrations import database  # noqa: F401 (fixture)

if TYPE_CHECKING:
    from bot.kernel.ports import Storage
    from tests.contract.test_migrations import Database


async def take(storage: Storage, panel_id: str, kind: str = "case", year: int = 2026) -> int:
    async with storage.unit_of_work() as uow:
        number = await uow.counters.next(panel_id, kind, year)
        await uow.commit()
    return number


async def test_numbers_start_at_one_and_go_up_by_one_per_panel_kind_and_year(
    storage: Storage,
) -> None:
    mine, theirs = await make.stored_panels(storage, 2)
    assert [await take(storage, mine.id) for _ in range(3)] == [1, 2, 3]
    assert await take(storage, theirs.id) == 1
    assert await take(storage, mine.id, kind="referral") == 1
    assert await take(storage, mine.id, year=2027) == 1
    assert await take(storage, mine.id) == 4


async def test_a_number_taken_in_a_unit_that_rolls_back_was_never_given(
    storage: Storage,
) -> None:
    (panel,) = await make.stored_panels(storage)
    assert await take(storage, panel.id) == 1
    async with storage.unit_of_work() as uow:
        assert await uow.counters.next(panel.id, "case", 2026) == 2
        # no commit: nobody saw number 2
    assert await take(storage, panel.id) == 2


async def test_raising_a_counter_never_lowers_it(storage: Storage) -> None:
    (panel,) = await make.stored_panels(storage)
    async with storage.unit_of_work() as uow:
        await uow.counters.raise_to(panel.id, "case", 2026, 14)
        await uow.counters.raise_to(panel.id, "case", 2026, 3)
        await uow.commit()
    assert await take(storage, panel.id) == 15


async def test_numbers_taken_at_the_same_time_are_all_different_and_in_order(
    storage: Storage,
) -> None:
    """Eight units take a number at once and hold it a moment before committing: each waits
    for the one before, so the numbers are 1 to 8, each once, in the order they committed."""
    (panel,) = await make.stored_panels(storage)
    committed: list[int] = []

    async def one(delay: float) -> None:
        await asyncio.sleep(delay)
        async with storage.unit_of_work() as uow:
            number = await uow.counters.next(panel.id, "referral", 2026)
            await asyncio.sleep(0.02)
            await uow.commit()
            committed.append(number)

    await asyncio.wait_for(asyncio.gather(*(one(n * 0.001) for n in range(8))), 30)
    assert committed == list(range(1, 9))


async def test_an_existing_database_counts_on_from_its_highest_references(
    database: Database,  # noqa: F811 (the fixture)
) -> None:
    """Migrating a database that already has references starts each counter at its panel's,
    kind's and year's highest number, not at its count: numbers 1 to 48 are free, yet the
    next referral is RF-2026-0050 and the next case CM-2026-015."""
    await database.migrate()
    storage = open_storage(database.url, schema=database.schema)
    try:
        (panel,) = await make.stored_panels(storage)
        async with storage.unit_of_work() as uow:
            for reference in ("RF-2026-0049", "RF-2026-0007", "RF-2025-0101"):
                await uow.referrals.save(make.referral(panel, reference=reference))
            await uow.cases.save(make.case(panel, reference="CM-2026-014"))
            await uow.commit()
        # Back to before the counters, then forward again: the migration fills them in.
        await database.downgrade("0015-1")
        await database.migrate()
        assert await take(storage, panel.id, kind="referral") == 50
        assert await take(storage, panel.id, kind="referral", year=2025) == 102
        assert await take(storage, panel.id, kind="case") == 15
        assert await take(storage, panel.id, kind="case", year=2025) == 1
    finally:
        await storage.close()
