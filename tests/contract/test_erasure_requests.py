"""Erasure requests (revision 0014) on the fake, SQLite and PostgreSQL: kept once by id,
ids only, read back oldest first across panels, and refused for a panel that does not
exist."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from bot.domain.common import new_id
from bot.domain.erasures import EntryKind, ErasedEntry, ErasureRequest
from storage.errors import ConstraintViolation

from . import builders as make

if TYPE_CHECKING:
    from bot.domain.panel import Panel
    from bot.kernel.ports import Storage


def request(panel: Panel, days: float, *entries: ErasedEntry) -> ErasureRequest:
    return ErasureRequest(
        id=new_id(),
        panel_id=panel.id,
        requested_at=make.at(days=days),
        requested_by=new_id(),
        reason="Erasure request under UK GDPR Art. 17, letter of 3 Nov",
        entries=entries,
    )


async def test_an_erasure_request_is_kept_once_and_read_back_oldest_first(
    storage: Storage,
) -> None:
    first, second = await make.stored_panels(storage, 2)
    later = request(
        first,
        2,
        ErasedEntry(new_id(), EntryKind.SUBJECT, new_id()),
        ErasedEntry(new_id(), EntryKind.CHILD, "1"),
    )
    earlier = request(second, 1, ErasedEntry(new_id(), EntryKind.DRAFT_SUBJECT, "s2"))
    async with storage.unit_of_work() as uow:
        before = {r.id for r in await uow.data_protection.erasure_requests()}
        assert await uow.data_protection.record_erasure(later)
        assert await uow.data_protection.record_erasure(earlier)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert not await uow.data_protection.record_erasure(later)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        kept = [r for r in await uow.data_protection.erasure_requests() if r.id not in before]
    assert kept == [earlier, later]


async def test_an_erasure_request_of_no_panel_is_refused(storage: Storage) -> None:
    (panel,) = await make.stored_panels(storage)
    stray = request(make.panel(), 0)
    async with storage.unit_of_work() as uow:
        with pytest.raises(ConstraintViolation):
            await uow.data_protection.record_erasure(stray)
    assert panel.id != stray.panel_id
