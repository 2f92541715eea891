"""Erasure survives a restore: an invented person is put everywhere the product keeps
people (the erasure scan's flows), the database is backed up, she is erased through `erase`,
and the backup is restored into a fresh database, where she is back. `python -m bot
reapply-erasures`, run as a command in a process of its own against the restored database
and the erasure ledger file, erases her again: every column of every table scanned, no
trace (the erasure scan's own check). On PostgreSQL (pg_dump, pg_restore into a new
database) and SQLite (the backup API, the copy restored as a new file).

The ledger holds ids only: the scan's needles are not in it. Without the file the restored
database alone knows of no erasure (its table was rolled back too), so nothing is done:
the file is what a restore cannot take back. A second run finds nothing left to do.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import shutil
import sqlite3
import sys
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from bot.domain.erasures import EntryKind, ErasedEntry, ErasureRequest, people_back
from bot.domain.referral import Child
from bot.domain.retention import ERASED
from bot.features.records.erasure_ledger import REAPPLY_ACTOR, ErasureLedger
from storage import migrate_async, open_storage
from tests.contract import builders as make
from tests.security.test_erasure_scan import FOUND, erase, plant, scan
from tests.support import dataprotection as dp
from tests.support.databases import Database, own_database

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from bot.kernel.ports import Storage
    from bot.settings import Settings
    from tests.conftest import BotUnderTest

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Live:
    """The database the bot runs on: its URL, and the PostgreSQL database (None: SQLite)."""

    url: str
    storage: Storage
    database: Database | None
    file: Path | None


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def live(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Live]:
    """A migrated database of the test's own: a SQLite file, or a PostgreSQL database."""
    if request.param == "sqlite":
        file = tmp_path / "live.sqlite3"
        url = f"sqlite+aiosqlite:///{file.as_posix()}"
        await migrate_async(url)
        storage = open_storage(url)
        try:
            yield Live(url, storage, None, file)
        finally:
            await storage.close()
        return
    async with own_database("erasure_live") as database:
        await migrate_async(database.url)
        storage = open_storage(database.url)
        try:
            yield Live(database.url, storage, database, None)
        finally:
            await storage.close()


@pytest.fixture
def bot_storage(live: Live) -> Storage:
    return live.storage


@pytest.fixture
def bot_settings(tmp_path: Path) -> Settings:
    """With download links, and the erasure ledger in a directory of the test's own."""
    return dataclasses.replace(dp.settings(), erasure_ledger=tmp_path / "share" / "erasures.jsonl")


# ---- backing up and restoring, as an operator would -----------------------------------------


async def run(*command: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> str:
    process = await asyncio.create_subprocess_exec(
        *command,
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=180)
    text = output.decode()
    assert process.returncode == 0, f"{' '.join(command)} failed:\n{text}"
    return text


def _sqlite_backup(source: Path, target: Path) -> None:
    with sqlite3.connect(source) as live_db, sqlite3.connect(target) as copy:
        live_db.backup(copy)
    live_db.close()
    copy.close()


async def back_up(live: Live, directory: Path) -> Path:
    """A backup of the live database: pg_dump's custom format, or SQLite's backup API."""
    if live.database is None:
        assert live.file is not None
        target = directory / "backup.sqlite3"
        await asyncio.to_thread(_sqlite_backup, live.file, target)
        return target
    target = directory / "backup.dump"
    await run("pg_dump", *live.database.libpq, "--format=custom", "--file", str(target))
    return target


@asynccontextmanager
async def restored(live: Live, backup: Path, directory: Path) -> AsyncIterator[str]:
    """The backup restored into a fresh database; its URL."""
    if live.database is None:
        file = directory / "restored.sqlite3"
        shutil.copyfile(backup, file)
        yield f"sqlite+aiosqlite:///{file.as_posix()}"
        return
    async with own_database("erasure_restored") as database:
        await run("pg_restore", *database.libpq, "--no-owner", "--exit-on-error", str(backup))
        yield database.url


async def reapply(url: str, ledger: Path, cwd: Path) -> str:
    """`python -m bot reapply-erasures` in a process of its own."""
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "ERASURE_LEDGER": str(ledger),
        "PYTHONPATH": str(REPO),
    }
    return await run(sys.executable, "-m", "bot", "reapply-erasures", env=env, cwd=cwd)


@asynccontextmanager
async def database_at(url: str) -> AsyncIterator[Storage]:
    storage = open_storage(url)
    try:
        yield storage
    finally:
        await storage.close()


async def reapplied_events(storage: Storage, request: ErasureRequest) -> int:
    async with storage.unit_of_work() as uow:
        events = await uow.audit.for_entity(request.panel_id, "erasure", request.id)
    return sum(1 for e in events if e.actor_aad_object_id == REAPPLY_ACTOR)


# ---- the test ---------------------------------------------------------------------------------


async def test_an_erasure_a_restore_took_back_is_applied_again_with_no_trace(
    bot: BotUnderTest, live: Live, bot_settings: Settings, tmp_path: Path
) -> None:
    await plant(bot)
    backup = await back_up(live, tmp_path)
    assert "Personal data erased" in await erase(bot)
    assert await scan(bot.storage) == {}

    assert bot_settings.erasure_ledger is not None
    ledger_file = bot_settings.erasure_ledger
    (request,) = ErasureLedger(ledger_file).read()
    assert FOUND.search(ledger_file.read_text()) is None, "the ledger names her"
    assert EntryKind.SUBJECT in {entry.kind for entry in request.entries}
    async with bot.storage.unit_of_work() as uow:
        assert await uow.data_protection.erasure_requests() == [request]

    async with restored(live, backup, tmp_path) as url:
        async with database_at(url) as again:
            assert await scan(again) != {}, "the restore did not bring her back"
            async with again.unit_of_work() as uow:
                assert await uow.data_protection.erasure_requests() == []

        # The restored database alone knows of no erasure: nothing is done.
        alone = await reapply(url, tmp_path / "no-such-ledger.jsonl", tmp_path)
        assert "0 erasure(s) re-applied" in alone, alone
        async with database_at(url) as again:
            assert await scan(again) != {}

        first = await reapply(url, ledger_file, tmp_path)
        assert "1 erasure(s) re-applied (1 person(s) erased again)" in first, first
        assert "1 request(s) put back" in first, first
        async with database_at(url) as again:
            assert await scan(again) == {}, "still there after reapply-erasures"
            async with again.unit_of_work() as uow:
                assert await uow.data_protection.erasure_requests() == [request]
            assert await reapplied_events(again, request) == 1

        second = await reapply(url, ledger_file, tmp_path)
        assert "0 erasure(s) re-applied" in second and "1 already applied" in second, second
        async with database_at(url) as again:
            assert await scan(again) == {}
            assert await reapplied_events(again, request) == 1


# ---- the ledger file and the entries, alone ---------------------------------------------------


def a_request(*entries: ErasedEntry) -> ErasureRequest:
    return ErasureRequest(
        id="er-1",
        panel_id="panel-1",
        requested_at=datetime(2026, 11, 4, 10, 30, tzinfo=UTC),
        requested_by="member-1",
        reason="Erasure request under UK GDPR Art. 17, letter of 3 Nov",
        entries=entries,
    )


def test_the_ledger_appends_one_line_per_request_and_skips_a_line_cut_short(
    tmp_path: Path,
) -> None:
    ledger = ErasureLedger(tmp_path / "new" / "erasures.jsonl")
    assert ledger.read() == []
    one = a_request(ErasedEntry("ref-1", EntryKind.SUBJECT, "subject-1"))
    two = dataclasses.replace(one, id="er-2", entries=(ErasedEntry("ref-2", EntryKind.CHILD, "0"),))
    ledger.append(one)
    with ledger.path.open("a") as torn:
        torn.write('{"id": "er-3", "panel_')  # a crash in the middle of a write
    ledger.append(two)  # starts on a line of its own
    assert ledger.read() == [one, two]
    assert len(ledger.path.read_text().splitlines()) == 3


def test_a_request_read_back_is_the_request_written() -> None:
    request = a_request(
        ErasedEntry("ref-1", EntryKind.SUBJECT, "subject-1"),
        ErasedEntry("ref-1", EntryKind.DRAFT_CHILD, "c2"),
    )
    assert ErasureRequest.from_json(request.as_json()) == request


def test_entries_still_erased_or_not_restored_give_nobody_back() -> None:
    referral = make.referral(
        make.panel(), children=[Child(name=ERASED), Child(name="Wilfred Ambrose-Kettle")]
    )
    request = a_request(
        ErasedEntry("ref-1", EntryKind.CHILD, "0"),
        ErasedEntry("ref-1", EntryKind.SUBJECT, "gone"),
        ErasedEntry("ref-9", EntryKind.SUBJECT, "older-than-the-backup"),
    )
    assert people_back(request, {"ref-1": referral}) == []
    back = a_request(ErasedEntry("ref-1", EntryKind.CHILD, "1"))
    assert [p.name for p in people_back(back, {"ref-1": referral})] == ["Wilfred Ambrose-Kettle"]
    drafted = make.referral(
        make.panel(),
        draft_inputs={"subject_keys": ["s1"], "s1.name": ERASED, "s1.role": "victim"},
    )
    gone = a_request(ErasedEntry("ref-1", EntryKind.DRAFT_SUBJECT, "s1"))
    assert people_back(gone, {"ref-1": drafted}) == []
